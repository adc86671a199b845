"""Walk the scan paths: honour ignore files and excludes, never follow links, classify files."""

from __future__ import annotations

import os
import re
import stat
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from atlascan import kinds
from atlascan.model import Notice, SourceFile
from atlascan.pathclass import (
    GENERATED,
    MLFLOW_MODEL_ENV_FILES,
    MLFLOW_MODEL_FILE,
    VENDORED,
    PathClasses,
)
from atlascan.textutil import printable

# Folders that hold other people's code or tool state; skipped with one notice each unless
# `--include-vendored` is given. `upstream` is the kustomize distributions' copy of another
# project's release manifests (kubeflow/manifests' `applications/*/upstream/`), synced by
# script: its findings are that project's to fix. `_vendor` and `vendored` are Python's
# spelling of the same (pip's and metaflow's `_vendor/click`, botocore's `vendored/`).
VENDORED_DIRS = frozenset(
    {
        "node_modules", "vendor", "_vendor", "vendored", "third_party", "third-party", "site-packages",
        ".venv", "venv", "bower_components", ".terraform", "dist-packages", "upstream",
    }
)  # fmt: skip
# Tool state that is never worth a notice.
QUIET_DIRS = frozenset(
    {
        ".git", ".hg", ".svn", "__pycache__", ".tox", ".nox", ".mypy_cache", ".pytest_cache",
        ".ruff_cache", ".ipynb_checkpoints", ".atlascan-cache", ".eggs",
    }
)  # fmt: skip


# Real ignore files hold tens of lines; more is hostile or generated, and pathspec matches
# every pattern against every path. Past these caps the rest is not used (the scan then
# covers more files, never fewer), with a notice.
MAX_IGNORE_BYTES = 256 * 1024
MAX_IGNORE_PATTERNS = 5_000
DISCOVERY_BUDGET_S = 120.0


@dataclass
class Discovery:
    files: list[SourceFile] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)


class _IgnoreStack:
    """Nested .gitignore files, each matched relative to its own folder (git semantics)."""

    def __init__(self, out: Discovery) -> None:
        self._specs: list[tuple[str, Any, Any]] = []
        self._out = out

    def push_file(self, rel_dir: str, path: str) -> None:
        """Read an ignore file that is a regular file of the tree (never through a link)."""
        try:
            if not stat.S_ISREG(os.lstat(path).st_mode):
                return
            with open(path, "rb") as fh:
                raw = fh.read(MAX_IGNORE_BYTES + 1)
        except OSError:
            return
        lines = [line for line in raw[:MAX_IGNORE_BYTES].decode("utf-8", "replace").splitlines() if line.strip() and not line.startswith("#")]
        where = f"{rel_dir}/.gitignore" if rel_dir else ".gitignore"
        if len(raw) > MAX_IGNORE_BYTES or len(lines) > MAX_IGNORE_PATTERNS:
            self._out.notices.append(Notice(printable(where), f"Ignore file is too large; only its first {MAX_IGNORE_PATTERNS} patterns are used.", "warning"))
            lines = lines[:MAX_IGNORE_PATTERNS]
        self.push(rel_dir, lines)

    def push(self, rel_dir: str, lines: list[str]) -> None:
        import pathspec  # only repositories that have ignore files pay for the import

        spec = pathspec.GitIgnoreSpec.from_lines(lines)
        self._specs.append((rel_dir, spec, _any_pattern(spec)))

    def pop_to(self, depth: int) -> None:
        del self._specs[depth:]

    def __len__(self) -> int:
        return len(self._specs)

    def ignored(self, rel: str, is_dir: bool) -> bool:
        for base, spec, anything in self._specs:
            sub = rel[len(base) + 1 :] if base else rel
            if base and not rel.startswith(base + "/"):
                continue
            target = sub + "/" if is_dir else sub
            if anything is not None and not anything.match(target):
                continue  # no pattern matches at all: not ignored by this file
            if spec.match_file(target):
                return True
        return False


def _any_pattern(spec: Any) -> re.Pattern[str] | None:
    """One regex matching what any of the spec's patterns matches: most paths match none,
    and pathspec would try each pattern in turn (a third of a large scan's discovery)."""
    regexes = [p.regex for p in spec.patterns if getattr(p, "regex", None) is not None]
    if not regexes or any(r.flags & ~re.UNICODE for r in regexes):
        return None
    parts = [r.pattern.replace("(?P<ps_d>", "(?:") for r in regexes]
    if not parts:
        return None
    try:
        return re.compile("|".join(f"(?:{part})" for part in parts))
    except (re.error, RecursionError, OverflowError):
        return None  # every path goes through pathspec itself


VENDORED_NOTE = "Vendored or tool folder skipped (use --include-vendored to scan it)."
GENERATED_NOTE = "Generated release or build tree skipped (use --include-generated to scan it)."
MLFLOW_MODEL_NOTE = "Saved MLflow model: the environment MLflow recorded ({files}) skipped (use --include-generated to scan it)."


class Skips:
    """Which folders discovery skips whole: vendored code and generated trees."""

    def __init__(self, include_vendored: bool, include_generated: bool, classes: PathClasses) -> None:
        self.include_vendored = include_vendored
        self.include_generated = include_generated
        self.classes = classes

    def folder(self, name: str, rel: str) -> str | None:
        """Why the folder is skipped, or None."""
        if not self.include_vendored and name in VENDORED_DIRS:
            return VENDORED_NOTE
        cls = self.classes.of_dir(rel)
        if cls == VENDORED and not self.include_vendored:
            return VENDORED_NOTE
        if cls == GENERATED and not self.include_generated:
            return GENERATED_NOTE
        return None

    def copied_packages(self, entries: list[os.DirEntry[str]]) -> bool:
        """A folder holding installed distributions (`*.dist-info`, or several `*.egg-info`)
        is a copied site-packages, e.g. a Lambda bundle's dependencies."""
        if self.include_vendored:
            return False
        dist = sum(1 for e in entries if e.name.endswith(".dist-info"))
        eggs = sum(1 for e in entries if e.name.endswith(".egg-info"))
        return dist >= 1 or eggs >= 2

    def recorded_environment(self, entries: list[os.DirEntry[str]]) -> list[str]:
        """In a saved MLflow model's folder (it holds an `MLmodel` file), the files that record
        the environment MLflow saved it in: generated, skipped."""
        if self.include_generated or not any(e.name == MLFLOW_MODEL_FILE and _saved_model(e) for e in entries):
            return []
        return [e.name for e in entries if e.name in MLFLOW_MODEL_ENV_FILES and _regular(e)]


def _regular(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_file(follow_symlinks=False)
    except OSError:
        return False


# MLflow writes a top-level `flavors:` mapping into every MLmodel file; a file without one is
# not what MLflow saved, and hides nothing beside it.
MLMODEL_FLAVORS = re.compile(rb"^flavors:", re.M)


def _saved_model(entry: os.DirEntry[str]) -> bool:
    if not _regular(entry):
        return False
    try:
        with open(entry.path, "rb") as fh:
            return MLMODEL_FLAVORS.search(fh.read(64 * 1024)) is not None
    except OSError:
        return False


def _excludes(patterns: Sequence[str]) -> Any:
    if not patterns:
        return None
    import pathspec

    return pathspec.GitIgnoreSpec.from_lines(patterns)


class _Rebased:
    """An exclude spec matched against paths relative to `base` instead of the root."""

    def __init__(self, spec: Any, base: str) -> None:
        self.spec = spec
        self.base = base

    def match_file(self, rel: str) -> bool:
        return bool(self.spec.match_file(rel[len(self.base) :].lstrip("/") if self.base else rel))


def relpath(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix()


def _classify_file(abspath: str, rel: str) -> str | None:
    kind = kinds.classify(rel)
    if kind is not None:
        return kind
    try:
        with open(abspath, "rb") as fh:
            head = fh.read(16)
    except OSError:
        return None
    return kinds.sniff(head)


def discover(
    paths: Iterable[Path],
    root: Path,
    *,
    exclude: Sequence[str] = (),
    use_ignore_files: bool = True,
    include_vendored: bool = False,
    include_generated: bool = False,
    force_exclude: bool = False,
    classes: PathClasses | None = None,
) -> Discovery:
    """Files under `paths` (absolute, inside `root`), sorted by relative path."""
    out = Discovery()
    classes = classes or PathClasses()
    skip = Skips(include_vendored, include_generated, classes)
    excluded = _excludes(exclude)
    seen: set[str] = set()
    root = root.resolve()

    def add(abspath: str, rel: str, size: int, base: str = "", honour_excludes: bool = True, named: str = "") -> None:
        if rel in seen:
            return
        if honour_excludes and excluded is not None and excluded.match_file(rel[len(base) :].lstrip("/")):
            return
        kind = _classify_file(abspath, rel)
        if kind is None:
            return
        seen.add(rel)
        # A name that is not valid UTF-8 or holds control characters is reported escaped in
        # every output; the file itself is still read through its real path.
        # The class comes from the path below a folder the user named: `atlascan scan
        # examples/ml-platform` examines that platform, whatever the folder above it is called.
        below = rel[len(named) :].lstrip("/") if named and rel.startswith(named + "/") else rel
        out.files.append(SourceFile(path=printable(rel), abspath=abspath, kind=kind, size=size, path_class=classes.of_file(below)))

    def link_notice(abspath: str, rel: str) -> None:
        target = os.path.realpath(abspath)
        try:
            inside = Path(target).is_relative_to(root) and os.path.exists(target)
        except OSError:
            inside = False
        if not inside:
            out.notices.append(
                Notice(printable(rel), "Symbolic link leads outside the scan root or nowhere; not followed.", "note")
            )

    for given in paths:
        given_abs = Path(os.path.abspath(given))
        try:
            rel_given = relpath(given_abs, root) if given_abs != root else ""
        except ValueError:
            out.notices.append(Notice(str(given), "Path is outside the scan root; skipped.", "error"))
            continue
        if given_abs.is_symlink():
            link_notice(str(given_abs), rel_given)
            continue
        if given_abs.is_file():
            # A file named on the command line is scanned even if excluded, unless
            # --force-exclude (what the pre-commit hook passes, since it names every file).
            add(str(given_abs), rel_given, given_abs.stat().st_size, honour_excludes=force_exclude)
            continue
        if not given_abs.is_dir():
            out.notices.append(Notice(rel_given or str(given), "No such file or folder.", "error"))
            continue
        # A folder the user names explicitly is scanned even when an exclude covers it
        # (`atlascan scan examples/demo` with `exclude = ["examples/"]`); excludes then
        # apply to paths below it, relative to it.
        base = rel_given if excluded is not None and rel_given and excluded.match_file(rel_given + "/") else ""
        _walk(given_abs, rel_given, root, out, lambda a, r, z, b=base, n=rel_given: add(a, r, z, b, named=n), link_notice,
              _Rebased(excluded, base) if excluded is not None else None, use_ignore_files, skip)
    out.files.sort(key=lambda f: f.path)
    return out


def _walk(
    top: Path,
    rel_top: str,
    root: Path,
    out: Discovery,
    add: Any,
    link_notice: Any,
    excluded: Any,
    use_ignore_files: bool,
    skip: Skips,
) -> None:
    ignores = _IgnoreStack(out)
    if use_ignore_files:
        # Ignore files of the folders above the given one still apply (as git would).
        parts = rel_top.split("/") if rel_top else []
        for i in range(len(parts)):  # root, then each folder above the given one
            folder_rel = "/".join(parts[:i])
            ignores.push_file(folder_rel, str(root / folder_rel / ".gitignore"))
    deadline = time.monotonic() + DISCOVERY_BUDGET_S
    # Depth-first with an explicit stack: (folder, rel, ignore depth to restore).
    stack: list[tuple[str, str]] = [(str(top), rel_top)]
    depth_of: dict[str, int] = {}
    while stack:
        if time.monotonic() > deadline:
            out.notices.append(Notice(printable(rel_top or "."), f"Listing the files took longer than {DISCOVERY_BUDGET_S:.0f} s; the rest of the folder was not scanned.", "error"))
            return
        folder, rel_folder = stack.pop()
        if use_ignore_files:
            # Drop ignore files of folders we have left.
            parent_depth = depth_of.get(rel_folder, len(ignores))
            ignores.pop_to(parent_depth)
            ignores.push_file(rel_folder, os.path.join(folder, ".gitignore"))
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            out.notices.append(Notice(rel_folder or ".", f"Folder could not be read: {exc.strerror}.", "warning"))
            continue
        if rel_folder != rel_top and skip.copied_packages(entries):
            out.notices.append(Notice(printable(rel_folder), VENDORED_NOTE, "note"))
            continue
        recorded = skip.recorded_environment(entries)
        if recorded:
            out.notices.append(Notice(printable(rel_folder or "."), MLFLOW_MODEL_NOTE.format(files=", ".join(recorded)), "note"))
        subdirs = []
        for entry in entries:
            rel = f"{rel_folder}/{entry.name}" if rel_folder else entry.name
            if entry.name in recorded:
                continue
            if entry.is_symlink():
                link_notice(entry.path, rel)
                continue
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError:
                continue
            if is_dir:
                if entry.name in QUIET_DIRS:
                    continue
                if ignores and ignores.ignored(rel, True):
                    continue
                if excluded is not None and excluded.match_file(rel + "/"):
                    continue
                why = skip.folder(entry.name, rel)
                if why:
                    out.notices.append(Notice(printable(rel), why, "note"))
                    continue
                subdirs.append((entry.path, rel))
            elif entry.is_file(follow_symlinks=False):
                if ignores and ignores.ignored(rel, False):
                    continue
                try:
                    size = entry.stat(follow_symlinks=False).st_size
                except OSError:
                    continue
                add(entry.path, rel, size)
        for sub_path, sub_rel in reversed(subdirs):
            depth_of[sub_rel] = len(ignores)
            stack.append((sub_path, sub_rel))
