"""The dependency analyzer (rules ATS-DEP-*): package indexes that invite dependency
confusion or tampering, VCS/URL dependencies that can change under the same name, and
declared versions with known advisories.

Every declaration format is read into one model by `parsers.requirements.manifest`
(requirements and constraints files, pyproject.toml, Pipfile, conda environment files,
setup.cfg, a literal setup.py); this engine only asks that model questions. `-r` includes
are followed inside the scan root (never outside it) so that an extra index in one file is
weighed against the requirements it will resolve.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, ClassVar
from urllib.parse import urlsplit

from packaging.version import InvalidVersion, Version

from atlascan import advisories
from atlascan.engines import Engine
from atlascan.model import ParseError, Precision, Severity, SkipFile, SourceFile, Span
from atlascan.parsers.requirements import (
    CHANNEL,
    EXTRA,
    PRIMARY,
    TRUSTED_HOST,
    Manifest,
    Requirement,
    Source,
    manifest,
    pip_install_arguments,
    requirement_line,
)
from atlascan.vocabulary import COMMIT_SHA, public_wheel_index

if TYPE_CHECKING:
    from atlascan.analysis import FileContext

EXTRA_INDEX = "ATS-DEP-001"
INSECURE_SOURCE = "ATS-DEP-002"
MUTABLE_URL = "ATS-DEP-003"
VULNERABLE = "ATS-DEP-004"
UNPINNED = "ATS-DEP-005"
# The manifests whose requirements make a lock file's entry a direct dependency.
MANIFEST_NAME = re.compile(r"^(?:pyproject\.toml|Pipfile|requirements[\w.-]*\.(?:txt|in)|setup\.cfg)$")
MAX_LOCK_MANIFESTS = 50
# `name==${VERSION}` / `name==$VERSION` in an install command: pinned by a build argument.
VARIABLE_PIN = re.compile(r"""^["']?([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==\$\{?\w+\}?""")
# Packages each of whose releases requires one exact torch release: pinning torch pins them.
TORCH_COMPANIONS = frozenset({"torchvision", "torchaudio", "torchtext"})

LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1", "[::1]")
MAX_INCLUDE_DEPTH = 8
MAX_LISTED_ADVISORIES = 3


class DependenciesEngine(Engine):
    name = "dependencies"
    implements: ClassVar[frozenset[str]] = frozenset({EXTRA_INDEX, INSECURE_SOURCE, MUTABLE_URL, VULNERABLE, UNPINNED})

    def check_file(self, file: SourceFile, ctx: FileContext) -> None:
        if file.kind == "notebook":
            m = _notebook(ctx)
        elif file.kind == "python" and file.path.rsplit("/", 1)[-1] != "setup.py":
            m = _kfp_components(ctx)  # Kubeflow components declare their own packages
        else:
            m = _pip_installs(file, ctx) if file.kind in COMMAND_KINDS else ctx.doc.view(manifest)
        if not m.requirements and not m.sources:
            return
        if ctx.enabled(EXTRA_INDEX):
            self._extra_indexes(m, ctx)
        if ctx.enabled(INSECURE_SOURCE):
            self._insecure_sources(m, ctx)
        if ctx.enabled(MUTABLE_URL):
            self._mutable_urls(m, ctx)
        if ctx.enabled(VULNERABLE):
            self._vulnerable(m, ctx)
        if ctx.enabled(UNPINNED):
            self._unpinned(m, ctx)

    # ---- ATS-DEP-001 ------------------------------------------------------------------------
    def _extra_indexes(self, m: Manifest, ctx: FileContext) -> None:
        """One finding per file: at the first extra index an attacker could stand behind (or
        the first extra index), the others as related locations."""
        extras = [s for s in m.sources if s.role == EXTRA]
        if not extras or m.no_index:
            return
        public = {id(s) for s in extras if public_wheel_index(s.url)}
        extras.sort(key=lambda s: id(s) in public)  # stable: an unknown index first
        primary = next((s.url for s in m.sources if s.role == PRIMARY), "PyPI")
        reqs = m.requirements + self._included(m, ctx)
        # Conda packages, local paths, direct URLs and packages bound to a named source never
        # come from the extra index; a hash-pinned line fails on a substituted file; a pin to
        # a local version (`torch==2.2.2+cu118`) cannot be uploaded to PyPI.
        exposed = [
            r for r in reqs
            if r.ecosystem == "pypi" and not r.local and not r.url and not r.source
            and not (r.pinned and r.hashes) and "+" not in (r.pinned or "")
        ]  # fmt: skip
        all_public = len(public) == len(extras)
        unpinned = [r for r in exposed if not r.pinned]
        names = sorted({r.name for r in (unpinned if all_public else exposed)})
        listed = ", ".join(names[:4]) + (", ..." if len(names) > 4 else "")
        if m.require_hashes or not exposed:
            exposure = "no requirement here is exposed (all hash-pinned or local versions)" if reqs else "no requirement is declared in this file"
            severity = Severity.LOW if all_public else Severity.HIGH
        elif all_public and not unpinned:
            # Only the index's operator publishes to a well-known public wheel index, and
            # PyPI refuses a second upload of a version its owner already published.
            severity = Severity.LOW
            exposure = (
                f"every requirement is pinned with `==` ({len(exposed)} unhashed) and the extra index is a well-known "
                "public wheel index; only an unpinned transitive dependency, or a pinned name nobody registered on PyPI, "
                "could still be substituted"
            )
        elif all_public:
            severity = Severity.MEDIUM
            exposure = (
                f"{len(unpinned)} unpinned requirement(s) ({listed}) resolve across both; a well-known public wheel index "
                "is not attacker-writable, but a name it serves that is unregistered on PyPI can be claimed there "
                "(the torchtriton case)"
            )
        else:
            severity = Severity.CRITICAL
            counts = " and ".join(p for p in (f"{len(unpinned)} unpinned" if unpinned else "", f"{len(exposed) - len(unpinned)} unhashed" if len(exposed) > len(unpinned) else "") if p)
            exposure = f"{counts} requirement(s) ({listed}) can come from either"
        first, others = extras[0], extras[1:]
        shown = f"the extra index {_display(first.url)}" + (f" and {len(others)} more" if others else "")
        builder = (
            ctx.finding(EXTRA_INDEX)
            .at(first.span)
            .args(option=first.option, extra=shown, primary=_display(primary), exposure=exposure)
            .severity(severity)
        )
        for other in others:
            builder.related(other.span, f"another extra index: {_display(other.url)}")
        builder.emit()

    def _included(
        self, m: Manifest, ctx: FileContext, depth: int = 0, seen: set[str] | None = None, *, constraints: bool = False
    ) -> list[Requirement]:
        """Requirements of the `-r` files (or, with `constraints`, the `-c` files) a
        requirements file pulls in, read only inside the scan root."""
        seen = seen if seen is not None else {m.path}
        out: list[Requirement] = []
        root = ctx.root
        for inc in m.includes:
            if inc.constraint != constraints or not inc.path or inc.path in seen or inc.path not in ctx.all_paths or depth >= MAX_INCLUDE_DEPTH:
                continue
            seen.add(inc.path)
            abspath = root + inc.path
            try:
                doc = ctx.document(SourceFile(inc.path, abspath, "requirements", os.path.getsize(abspath)))
                sub = doc.view(manifest)
            except (OSError, SkipFile, ParseError):
                continue
            out += sub.requirements + self._included(sub, ctx, depth + 1, seen, constraints=constraints)
        return out

    def _asked_for(self, m: Manifest, ctx: FileContext) -> set[str]:
        """Package names the manifests in a lock file's folder and below ask for (a uv
        workspace's members included): the lock's direct dependencies."""
        folder = m.path.rpartition("/")[0]
        prefix = f"{folder}/" if folder else ""
        root = ctx.root
        names: set[str] = set()
        candidates = sorted(
            p for p in ctx.all_paths
            if p.startswith(prefix) and MANIFEST_NAME.match(p.rpartition("/")[2]) and p.count("/") - prefix.count("/") <= 3
        )  # fmt: skip
        for path in candidates[:MAX_LOCK_MANIFESTS]:
            kind = "pyproject" if path.endswith("pyproject.toml") else "requirements"
            try:
                doc = ctx.document(SourceFile(path, root + path, kind, os.path.getsize(root + path)))
                names |= {r.name for r in doc.view(manifest).requirements}
            except (OSError, SkipFile, ParseError):
                continue
        return names

    # ---- ATS-DEP-005 ------------------------------------------------------------------------
    def _unpinned(self, m: Manifest, ctx: FileContext) -> None:
        if m.format not in ("requirements", "conda", "pipfile", "commands") or not _deployable(m.path, ctx.all_paths):
            return
        watched = frozenset(ctx.rules[UNPINNED].match.get("packages", ()))
        pinned = {r.name for r in self._included(m, ctx, constraints=True) if r.pinned}
        pinned |= {r.name for r in m.requirements if _pinned_enough(r)} | m.pinned_by_variable
        if "torch" in pinned:
            pinned |= TORCH_COMPANIONS  # each of their releases requires one exact torch
        held = frozenset(pinned)
        loose: list[Requirement] = []
        for r in m.requirements:
            if r.name in watched and not r.local and not r.url and r.name not in pinned:
                loose.append(r)
                pinned.add(r.name)  # named once, at its first install
        if not loose:
            return
        shown = ", ".join(f"{r.name}{r.specifier or ' (any version)'}" for r in loose[:6]) + (", ..." if len(loose) > 6 else "")
        builder = ctx.finding(UNPINNED).at(loose[0].span).args(count=len(loose), packages=shown)
        for r in loose[1:]:
            builder.related(r.span, f"{r.name} is not pinned either")
        named = [r for r in m.requirements if not r.local and not r.url]
        if 2 * sum(r.name in held for r in named) < len(named):
            # Most of what this manifest installs floats: that is its practice, and the ML
            # packages among them are not the exception to point at (held back, one notice).
            builder.property("practice", "fewer than half of a manifest's requirements are pinned to one version")
        builder.emit()

    # ---- ATS-DEP-002 ------------------------------------------------------------------------
    def _insecure_sources(self, m: Manifest, ctx: FileContext) -> None:
        for source in m.sources:
            if source.role == TRUSTED_HOST:
                if _local(source.url):
                    continue
                what, how = "Host", f"`{source.option}` turns off certificate checks for it"
            elif not source.verify_ssl:
                what, how = "Package source", "`verify_ssl = false` turns off certificate checks"
            elif source.url.lower().startswith("http://") and not _local(source.url):
                what = "Conda channel" if source.role == CHANNEL else "Package index" if source.role != "find-links" else "Find-links page"
                how = "plain http lets anyone on the path swap the packages"
            else:
                continue
            ctx.finding(INSECURE_SOURCE).at(source.span).args(what=what, target=_display(source.url), how=how).emit()

    # ---- ATS-DEP-003 ------------------------------------------------------------------------
    def _mutable_urls(self, m: Manifest, ctx: FileContext) -> None:
        for req in m.requirements:
            if req.local or not req.url:
                continue
            if req.vcs:
                if COMMIT_SHA.match(req.ref):
                    continue
                why = f"the moving ref `{req.ref}`, not a full commit SHA" if req.ref else "no ref at all (the default branch)"
            elif req.hashes or m.require_hashes:
                continue
            else:
                why = "an archive URL with no hash to check it against"
            name = req.name or _display(req.url)
            ctx.finding(MUTABLE_URL).at(req.span).args(package=name, why=why).emit()

    # ---- ATS-DEP-004 ------------------------------------------------------------------------
    def _vulnerable(self, m: Manifest, ctx: FileContext) -> None:
        table = advisories.load()
        asked: set[str] | None = None  # for a lock file: what the manifests beside it name
        for req in m.requirements:
            if not req.specifier or req.name not in table:
                continue
            found = _verdict(req.name, req.specifier)
            if found is None:
                continue
            # A vulnerable pin is an exposure, not the code showing an attacker's way in: at
            # most high, whatever the advisory rates the flaw itself; a lock's transitive
            # entry (no manifest of its folder asks for it) is low: the code may never
            # reach it, and the fix is the parent package's upgrade.
            severity, remedy = min(found.severity, Severity.HIGH), found.remedy
            if m.format == "lock":
                asked = self._asked_for(m, ctx) if asked is None else asked
                if req.name not in asked:
                    severity, remedy = Severity.LOW, f"{remedy} (a transitive dependency: no manifest of this folder names it)"
            (
                ctx.finding(VULNERABLE)
                .at(req.span)
                .args(package=req.name, specifier=req.specifier, count=found.count, advisories=found.listed, remedy=remedy)
                .severity(severity)
                .precision(None if found.exact else Precision.LOW)
                .property("advisories", list(found.ids))
                .emit()
            )


@dataclass(frozen=True)
class _Verdict:
    count: int
    listed: str
    remedy: str
    severity: Severity
    exact: bool
    ids: tuple[str, ...]


@lru_cache(maxsize=4096)
def _verdict(package: str, specifier: str) -> _Verdict | None:
    """What ATS-DEP-004 says of one declared package and specifier (the same pins recur
    across a repository's manifests, and TensorFlow alone has hundreds of rows)."""
    found = advisories.matches(advisories.load(), package, specifier)
    if not found:
        return None
    found.sort(key=lambda f: (-f.advisory.severity, f.advisory.label))
    listed = "; ".join(
        f"{f.advisory.label} ({f.advisory.summary[:90].rstrip()}{'...' if len(f.advisory.summary) > 90 else ''}; "
        f"affected {f.range.affected}, fixed in {f.range.fixed or 'no release yet'})"
        for f in found[:MAX_LISTED_ADVISORIES]
    )
    if len(found) > MAX_LISTED_ADVISORIES:
        listed += f"; and {len(found) - MAX_LISTED_ADVISORIES} more"
    fixes = [f.range.fixed for f in found]
    remedy = "No release fixes all of them yet" if "" in fixes else f"Upgrade to {max(fixes, key=_version)} or later"
    return _Verdict(
        count=len(found),
        listed=listed,
        remedy=remedy,
        severity=max(f.advisory.severity for f in found),
        exact=all(f.exact for f in found),
        ids=tuple(f.advisory.ids[0] for f in found),
    )


# Kinds whose dependencies are `pip install` command lines (ATS-DEP-004/005 only: indexes and
# git refs on command lines are the ATS-CMD rules' business).
COMMAND_KINDS = frozenset({"dockerfile", "shell", "gha-workflow", "gitlab-ci"})


def _pip_installs(file: SourceFile, ctx: FileContext) -> Manifest:
    """The requirements `pip install` command lines of a Dockerfile, script or CI file name."""
    from atlascan.parsers import commandlines
    from atlascan.parsers.shell import Word, parse

    out = Manifest(file.path, "commands")
    if not commandlines.handles(file.kind, file.path) or "install" not in ctx.doc.text:
        return out
    for ct in ctx.doc.view(commandlines.commands):
        if "install" not in ct.text or "pip" not in ct.text:
            continue
        if ct.argv is not None:  # exec form: each element is one word, found in the joined text
            words, pos = [], 0
            for arg in ct.argv:
                at = max(ct.text.find(arg, pos), pos) if arg else pos
                words.append(Word(arg, at, at + len(arg)))
                pos = at + len(arg)
            commands = [words]
        else:
            commands = [cmd.words for cmd in parse(ct.text).commands]
        for words in commands:
            for i in pip_install_arguments([w.value for w in words]):
                word = words[i]
                line, col = ct.position(word.start)
                end_line, end_col = ct.position(max(word.start, word.end - 1))
                span = Span(line, col, line, end_col + 1) if end_line == line else Span(line, col)
                req = requirement_line(word.value, span)
                if req is not None:
                    out.requirements.append(req)
                elif m := VARIABLE_PIN.match(word.value):
                    out.pinned_by_variable.add(m.group(1).lower().replace("_", "-"))
    return out


KFP_CALLS = frozenset({"component", "create_component_from_func", "build_python_component", "func_to_container_op"})


def _notebook(ctx: FileContext) -> Manifest:
    """A notebook's `%pip install` / `!pip install` requirements (at the magic's line; their
    indexes and trusted hosts are ATS-PY-017's) and the Kubeflow components its cells define."""
    from atlascan.parsers import notebook as nb
    from atlascan.parsers.shell import parse

    text = ctx.doc.text
    out = Manifest(ctx.file.path, "notebook")
    if "install" not in text and "pip_index_urls" not in text:
        return out  # cheap prefilter
    program: nb.NotebookProgram = ctx.doc.tree
    for shell in program.shell:
        if "install" not in shell.text or "pip" not in shell.text:
            continue
        command = shell.text.lstrip().lstrip("%!")
        for cmd in parse(command).commands:
            words = [w.value for w in cmd.words]
            for i in pip_install_arguments(words):
                req = requirement_line(words[i], Span(shell.line))
                if req is not None:
                    out.requirements.append(req)
    if "packages_to_install" in text or "pip_index_urls" in text:
        kfp = _kfp_components(ctx, ctx.doc.view(nb.python_ast), program.file_line)
        out.requirements += kfp.requirements
        out.sources += kfp.sources
    return out


def _kfp_components(ctx: FileContext, tree: object = None, to_file: Callable[[int], int] | None = None) -> Manifest:
    """The `packages_to_install=[...]` and `pip_index_urls=[...]` literals of Kubeflow
    `@dsl.component(...)` / `create_component_from_func(...)` calls: KFP installs them with
    the first index as `--index-url` and the others as `--extra-index-url`."""
    import ast

    out = Manifest(ctx.file.path, "kfp")
    text = ctx.doc.text
    if "packages_to_install" not in text and "pip_index_urls" not in text:
        return out  # cheap prefilter: most Python files declare nothing
    tree = ctx.doc.tree if tree is None else tree
    if not isinstance(tree, ast.Module):
        return out
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        callee = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
        if callee not in KFP_CALLS:
            continue
        for kw in node.keywords:
            if kw.arg not in ("packages_to_install", "pip_index_urls") or not isinstance(kw.value, (ast.List, ast.Tuple)):
                continue
            for i, item in enumerate(kw.value.elts):
                if not (isinstance(item, ast.Constant) and isinstance(item.value, str)):
                    continue
                same_line = item.end_lineno == item.lineno and item.end_col_offset is not None
                if to_file is not None:  # a notebook: file lines, no columns
                    span = Span(to_file(item.lineno))
                elif same_line and item.end_col_offset is not None:
                    span = Span(item.lineno, item.col_offset + 1, item.lineno, item.end_col_offset + 1)
                else:
                    span = Span(item.lineno, item.col_offset + 1)
                if kw.arg == "pip_index_urls":
                    role, option = (PRIMARY, "pip_index_urls (first, --index-url)") if i == 0 else (EXTRA, "pip_index_urls (--extra-index-url)")
                    out.sources.append(Source(role, item.value.strip(), span, option))
                else:
                    req = requirement_line(item.value, span)
                    if req is not None:
                        out.requirements.append(req)
    return out


# Path words that mark a manifest as development-only (docs builds, test and lint tools).
NOT_DEPLOYED = frozenset({"dev", "develop", "development", "test", "tests", "testing", "lint", "docs", "doc", "ci", "typing"})


def _deployable(path: str, all_paths: frozenset[str]) -> bool:
    name = path.rsplit("/", 1)[-1].lower()
    if name.endswith(".in"):
        return False  # pip-tools input: ranges by design, compiled into the pinned .txt
    if name == "pipfile" and f"{path}.lock" in all_paths:
        return False  # the lock pins what is installed
    words = {w for part in path.lower().split("/") for w in part.replace("_", "-").replace(".", "-").split("-")}
    return not (words & NOT_DEPLOYED)


def _pinned_enough(r: Requirement) -> bool:
    """One version: `==X`, or conda's `pkg=1.2.3` (any build of that release)."""
    if r.pinned:
        return True
    spec = r.specifier
    return r.ecosystem == "conda" and spec.startswith("==") and "," not in spec and spec.count(".") >= 3


def _local(url: str) -> bool:
    host = (urlsplit(url).hostname or url.split("/")[0].split(":")[0]).lower() if "://" in url else url.split(":")[0].lower()
    return host in LOCAL_HOSTS or host.startswith("127.")


def _display(url: str) -> str:
    """A URL without its userinfo: credentials in an index URL are the secrets rules' to
    report, never to repeat in another message."""
    parts = urlsplit(url) if "://" in url else None
    if parts is None or "@" not in parts.netloc:
        return url
    return url.replace(parts.netloc, parts.netloc.rsplit("@", 1)[1], 1)


def _version(text: str) -> Version:
    try:
        return Version(text)
    except InvalidVersion:
        return Version("0")
