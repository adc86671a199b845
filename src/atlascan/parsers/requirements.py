"""Dependency declarations as one model, whatever file declares them.

`manifest(doc)` (a `Document.view`) reads requirements files (`requirements*.txt`,
`constraints*.txt`, pip-tools `*.in`), `pyproject.toml` (PEP 621, Poetry, uv, PDM),
`Pipfile`, conda `environment.yml`, `setup.cfg` and a literal `setup.py` (through the
Python parser's `ast`, never run) into a `Manifest`: the `Requirement`s with their line,
the package `Source`s (indexes, find-links pages, trusted hosts, conda channels) with the
role each plays in resolution, and `-r`/`-c` includes. Every format's resolution rules are
settled here, so a rule asks one question ("is this an extra index?") of every format.

Names and specifiers go through `packaging` (PEP 508/440); Poetry's `^`/`~` and conda's
`=` are converted to PEP 440 so that version checks are written once.
"""

from __future__ import annotations

import ast
import posixpath
import re
import sys
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet

from atlascan.kinds import declares_dependencies
from atlascan.model import Limits, ParseError, SkipFile, SourceFile, Span
from atlascan.textutil import canonical_name as canonicalize_name

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

if TYPE_CHECKING:
    from atlascan.document import Document

# Roles of a package source in resolution.
PRIMARY = "primary"  # replaces the default index (PyPI)
EXTRA = "extra"  # searched with the others for every package: the best version wins anywhere
ORDERED = "ordered"  # searched in order, the first index that has the name wins (uv, pipenv)
EXPLICIT = "explicit"  # used only for the packages that name it
FIND_LINKS = "find-links"
TRUSTED_HOST = "trusted-host"
CHANNEL = "channel"  # a conda channel

VCS_PREFIXES = ("git+", "hg+", "svn+", "bzr+")
ARCHIVE_SUFFIXES = (".whl", ".tar.gz", ".zip", ".tar.bz2", ".tgz", ".tar.xz")
# Conda packages whose PyPI name differs.
CONDA_TO_PYPI = {"pytorch": "torch", "pytorch-cpu": "torch", "pytorch-gpu": "torch", "tensorflow-base": "tensorflow"}


@dataclass(frozen=True)
class Requirement:
    """One declared dependency, at the line that declares it."""

    name: str  # PEP 503 normalized
    specifier: str  # PEP 440 specifier set, "" for any version
    span: Span
    text: str = ""  # as written (the requirement, without options or comments)
    extras: tuple[str, ...] = ()
    marker: str = ""
    url: str = ""  # direct reference: `name @ url`, a bare URL or VCS line, Poetry `git`/`url`
    ref: str = ""  # the VCS revision named (branch, tag or commit), "" when none
    hashes: tuple[str, ...] = ()  # `--hash` values and `#sha256=` fragments
    source: str = ""  # the named index it must come from (Poetry/uv/Pipfile), "" = any
    ecosystem: str = "pypi"  # "conda" for a conda package
    editable: bool = False
    local: bool = False  # a path on disk (`-e .`, `{path = ...}`, `file:`)
    group: str = ""  # the extra or dependency group that declares it ("" for the main list)

    @property
    def vcs(self) -> bool:
        return self.url.startswith(VCS_PREFIXES)

    @property
    def pinned(self) -> str | None:
        """The one version allowed (`==X` without a wildcard, `===X`), else None."""
        spec = self.specifier.strip()
        for op in ("===", "=="):
            if spec.startswith(op) and "," not in spec and "*" not in spec:
                return spec[len(op) :].strip()
        return None


@dataclass(frozen=True)
class Source:
    """A place packages come from, and its role in resolution (PRIMARY, EXTRA, ...)."""

    role: str
    url: str
    span: Span
    option: str  # how it is declared: "--extra-index-url", "[[tool.poetry.source]]", ...
    name: str = ""
    verify_ssl: bool = True


@dataclass(frozen=True)
class Include:
    """`-r file` or `-c file` in a requirements file; `path` resolved against its folder."""

    target: str
    path: str  # scan-relative, normalized; "" when it leaves the scan root or is a URL
    constraint: bool
    span: Span


@dataclass
class Manifest:
    path: str
    format: str  # "requirements", "pyproject", "pipfile", "conda", "setup.cfg", "setup.py", "lock"
    requirements: list[Requirement] = field(default_factory=list)
    sources: list[Source] = field(default_factory=list)
    includes: list[Include] = field(default_factory=list)
    pre: bool = False  # `--pre`: pre-releases (nightlies) are candidates
    require_hashes: bool = False
    no_index: bool = False
    # names pinned to a build argument (`torch==${TORCH_VERSION}`): one version, not known here
    pinned_by_variable: set[str] = field(default_factory=set)


# ---- the parse stage's entry -------------------------------------------------------------

def manifest(doc: Document) -> Manifest:
    """The dependency model of one file (dispatched on its name)."""
    name = doc.path.rsplit("/", 1)[-1].lower()
    if name == "pyproject.toml":
        return _pyproject(doc)
    if name == "pipfile":
        return _pipfile(doc)
    if name in ("environment.yml", "environment.yaml", "conda.yaml", "conda.yml"):
        return _conda(doc)
    if name == "setup.cfg":
        return _setup_cfg(doc)
    if name == "setup.py":
        return _setup_py(doc)
    if name == "pipfile.lock":
        return _pipfile_lock(doc)
    if name.endswith(".lock"):
        return _toml_lock(doc)
    return requirements_text(doc.path, doc.lines)


def format_of(path: str) -> str:
    """The manifest format a file name implies, without reading it."""
    name = path.rsplit("/", 1)[-1].lower()
    return {"pyproject.toml": "pyproject", "pipfile": "pipfile", "setup.cfg": "setup.cfg", "setup.py": "setup.py"}.get(
        name, "conda" if name.endswith((".yml", ".yaml")) else "lock" if name.endswith(".lock") else "requirements"
    )


# ---- requirements files ------------------------------------------------------------------

_COMMENT = re.compile(r"(^|\s+)#.*$")
_OPTION = re.compile(r"^(?P<opt>-[a-zA-Z]|--[a-z][a-z-]*)(?:\s*=\s*|\s+|$)(?P<value>.*)$")
_HASH = re.compile(r"\s--hash(?:=|\s+)(?P<value>\S+)")
_URL_HASH = re.compile(r"#(?:.*&)?(?P<algo>sha256|sha384|sha512|md5)=(?P<digest>[0-9a-fA-F]+)")
_EGG = re.compile(r"[#&]egg=(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)")
_LOCAL = re.compile(r"^(?:\.{1,2}(?:/|$)|/|~|file:|[A-Za-z]:\\)")
_URL = re.compile(r"^[a-z][a-z0-9+.-]*://", re.I)

INDEX_OPTIONS = {"-i": PRIMARY, "--index-url": PRIMARY, "--extra-index-url": EXTRA, "-f": FIND_LINKS, "--find-links": FIND_LINKS}
NAMES = {"-i": "--index-url", "-f": "--find-links", "-r": "--requirement", "-c": "--constraint", "-e": "--editable"}


def logical_lines(lines: list[str]) -> Iterator[tuple[Span, str]]:
    """The place (on its first line) and text of each logical line: comments cut, `\\`
    continuations joined."""
    buf: list[str] = []
    start = 0
    for number, raw in enumerate(lines, 1):
        text = _COMMENT.sub("", raw)
        if not buf:
            start = number
        if text.endswith("\\"):
            buf.append(text[:-1])
            continue
        buf.append(text)
        joined = " ".join(buf)
        buf = []
        if joined.strip():
            yield _first_line_span(lines, start), joined.strip()
    if buf and " ".join(buf).strip():
        yield _first_line_span(lines, start), " ".join(buf).strip()


def _first_line_span(lines: list[str], number: int) -> Span:
    raw = _COMMENT.sub("", lines[number - 1]).rstrip().rstrip("\\").rstrip()
    indent = len(raw) - len(raw.lstrip())
    return Span(number, indent + 1, number, len(raw) + 1)


def requirements_text(path: str, lines: list[str], fmt: str = "requirements", spans: list[Span] | None = None) -> Manifest:
    """A pip requirements file (also the `pip:` list of a conda file, one entry per line:
    `spans` then gives each entry's place)."""
    out = Manifest(path, fmt)
    folder = posixpath.dirname(path)
    entries: Iterable[tuple[Span, str]]
    if spans is None:
        entries = logical_lines(lines)
    else:
        entries = ((span, _COMMENT.sub("", text).strip()) for span, text in zip(spans, lines, strict=True))
    for span, text in entries:
        if not text:
            continue
        m = _OPTION.match(text)
        if m and not text.startswith("--hash"):
            _option(out, NAMES.get(m.group("opt"), m.group("opt")), m.group("value").strip(), span, folder)
            continue
        req = requirement_line(text, span)
        if req is not None:
            out.requirements.append(req)
    return out


def _option(out: Manifest, opt: str, value: str, span: Span, folder: str) -> None:
    first = value.split()[0] if value.split() else ""
    role = INDEX_OPTIONS.get(opt)
    if role is not None and first:
        out.sources.append(Source(role, first, span, opt))
    elif opt == "--trusted-host" and first:
        out.sources.append(Source(TRUSTED_HOST, first, span, opt))
    elif opt in ("--requirement", "--constraint") and first:
        out.includes.append(Include(first, _within(folder, first), opt == "--constraint", span))
    elif opt == "--editable" and first:
        req = requirement_line(value, span, editable=True)
        if req is not None:
            out.requirements.append(req)
    elif opt == "--pre":
        out.pre = True
    elif opt == "--require-hashes":
        out.require_hashes = True
    elif opt == "--no-index":
        out.no_index = True


def _within(folder: str, target: str) -> str:
    """The scan-relative path of an include, or "" when it is a URL or leaves the root."""
    if _URL.match(target) or target.startswith(("/", "~")) or "$" in target:
        return ""
    joined = posixpath.normpath(posixpath.join(folder, target))
    return "" if joined == ".." or joined.startswith("../") else joined


def requirement_line(text: str, span: Span, *, editable: bool = False) -> Requirement | None:
    """One requirement as pip reads it: PEP 508, a bare URL or VCS URL (`#egg=` names it),
    or a local path; per-line `--hash` options kept. None for what is not a requirement."""
    hashes = tuple(m.group("value") for m in _HASH.finditer(" " + text))
    body = re.split(r"\s--?[a-z]", " " + text, maxsplit=1)[0].strip()
    if not body:
        return None
    if _LOCAL.match(body) or (editable and not _URL.match(body) and not body.startswith(VCS_PREFIXES)):
        return Requirement("", "", span, body, editable=editable, local=True)
    if _URL.match(body) or body.startswith(VCS_PREFIXES):
        url = body.split(";", 1)[0].strip()
        egg = _EGG.search(url)
        name = canonicalize_name(egg.group("name")) if egg else ""
        return _direct(name, url, span, body, hashes, editable=editable)
    # Imported on first use: packaging.requirements loads packaging.tags, platform and
    # logging, which a scan of a Python file without requirement lines never needs.
    from packaging.requirements import InvalidRequirement
    from packaging.requirements import Requirement as PepRequirement

    try:
        pep = PepRequirement(body)
    except InvalidRequirement:
        return None
    name = canonicalize_name(pep.name)
    if pep.url:
        return _direct(name, pep.url, span, body, hashes, extras=tuple(sorted(pep.extras)), marker=str(pep.marker or ""), editable=editable)
    return Requirement(
        name, str(pep.specifier), span, body, tuple(sorted(pep.extras)), str(pep.marker or ""), hashes=hashes, editable=editable
    )


def _direct(
    name: str, url: str, span: Span, text: str, hashes: tuple[str, ...], *, extras: tuple[str, ...] = (),
    marker: str = "", editable: bool = False, ref: str | None = None,
) -> Requirement:
    fragment = _URL_HASH.search(url)
    if fragment:
        hashes = (*hashes, f"{fragment.group('algo')}:{fragment.group('digest')}")
    if url.startswith("file:"):
        return Requirement(name, "", span, text, extras, marker, url=url, local=True, editable=editable)
    return Requirement(name, "", span, text, extras, marker, url=url, ref=vcs_ref(url) if ref is None else ref, hashes=hashes, editable=editable)


def vcs_ref(url: str) -> str:
    """The revision a VCS URL names (`git+https://host/r.git@v1.2#egg=x` -> `v1.2`)."""
    if not url.startswith(VCS_PREFIXES):
        return ""
    rest = url.split("#", 1)[0]
    path = rest.split("://", 1)[-1]
    host_path = path.split("/", 1)[1] if "/" in path else ""
    return host_path.rsplit("@", 1)[1] if "@" in host_path else ""


# ---- `pip install` command lines ---------------------------------------------------------

PIP_PROGRAMS = re.compile(r"^pip(?:3(?:\.\d+)?)?$")
PYTHON_PROGRAMS = re.compile(r"^python(?:\d(?:\.\d+)?)?$")
# `pip install` / `uv pip install` options that take a separate value.
# `name==${VERSION}` / `name==$VERSION` in an install command: pinned by a build argument
# (its version is not known here).
VARIABLE_PIN = re.compile(r"""^["']?([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==\$\{?\w+\}?""")

PIP_VALUE_OPTIONS = frozenset({
    "-r", "--requirement", "-c", "--constraint", "-i", "--index-url", "--extra-index-url", "-f",
    "--find-links", "--trusted-host", "-t", "--target", "--prefix", "--root", "--platform",
    "--python-version", "--implementation", "--abi", "--only-binary", "--no-binary", "--progress-bar",
    "--cache-dir", "--log", "--src", "--upgrade-strategy", "-C", "--config-settings", "--global-option",
    "--python", "-p", "--report", "--index-strategy", "--index", "--default-index", "--extra", "--group",
    "--torch-backend", "--exclude-newer", "--resolution", "--prerelease",
})  # fmt: skip


# Commands that run the next word as the program (`sudo -H pip install`, `env A=1 pip ...`).
PREFIX_COMMANDS = frozenset({"sudo", "doas", "env", "nohup", "time", "nice", "exec", "stdbuf", "command"})


def pip_install_arguments(words: list[str]) -> list[int]:
    """Indexes of the requirement arguments of a `pip install` / `python -m pip install` /
    `uv pip install` command (after wrappers such as `sudo`), `-e` values included."""
    start = None
    for i, word in enumerate(words):
        name = word.rsplit("/", 1)[-1]
        rest = words[i + 1 : i + 4]
        if PIP_PROGRAMS.match(name) and rest[:1] == ["install"]:
            start = i + 2
        elif name == "uv" and rest[:2] == ["pip", "install"]:
            start = i + 3
        elif PYTHON_PROGRAMS.match(name) and rest[:3] == ["-m", "pip", "install"]:
            start = i + 4
        if start is not None:
            break
        if name not in PREFIX_COMMANDS and not word.startswith("-") and "=" not in word:
            return []  # `echo pip install x` is not an install
    if start is None:
        return []
    out: list[int] = []
    i = start
    while i < len(words):
        word = words[i]
        if word in ("-e", "--editable"):
            if i + 1 < len(words):
                out.append(i + 1)
            i += 2
        elif word in PIP_VALUE_OPTIONS:
            i += 2
        elif word.startswith("-") or word in ("&&", "||", ";", "|"):
            if word in ("&&", "||", ";", "|"):
                break
            i += 1
        else:
            out.append(i)
            i += 1
    return out


def installed_names(words: list[str]) -> frozenset[str] | None:
    """The package names a `pip install` command (its words, the program first) names, or
    None when it installs what cannot be named here (a `-r` file, a path, a URL, an
    editable project) or names nothing."""
    if any(w in ("-r", "--requirement", "-e", "--editable") or w.startswith(("-r", "--requirement=")) for w in words):
        return None
    names: set[str] = set()
    for i in pip_install_arguments(words):
        word = words[i].strip("'\"")
        req = requirement_line(word, Span(1))
        if req is None and (pinned := VARIABLE_PIN.match(word)):
            names.add(pinned.group(1).lower().replace("_", "-"))  # `torch==${TORCH_VERSION}+cpu`
        elif req is None or req.url or req.local:
            return None
        else:
            names.add(req.name)
    return frozenset(names) or None


# ---- TOML files (pyproject.toml, Pipfile) ------------------------------------------------

class _TomlLines:
    """Where things are in a TOML text (tomllib keeps no positions): table headers, keys and
    string values, found line by line inside their table."""

    HEADER = re.compile(r"^\s*\[\[?\s*(?P<name>[^\]]+?)\s*\]\]?\s*(?:#.*)?$")

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self.tables: list[tuple[str, int, int]] = []  # (dotted name, first line, last line)
        current, start = "", 1
        for number, raw in enumerate(lines, 1):
            m = self.HEADER.match(raw)
            if m and not raw.lstrip().startswith(("#", '"', "'")):
                self.tables.append((current, start, number - 1))
                current, start = re.sub(r"\s*\.\s*", ".", m.group("name")).replace('"', ""), number
        self.tables.append((current, start, len(lines)))
        self._used: set[tuple[int, int]] = set()

    def ranges(self, table: str) -> list[tuple[int, int]]:
        return [(a, b) for name, a, b in self.tables if name == table]

    def find(self, table: str, needle: str, index: int = 0, *, key: bool = False) -> Span:
        """The first unused place of `needle` (a string value, or a key with `key=True`)
        within the `index`-th table of that name (the whole file when it has no header)."""
        ranges = self.ranges(table)
        first, last = ranges[index] if index < len(ranges) else (1, len(self.lines))
        if key:
            pattern = re.compile(rf"""^\s*["']?{re.escape(needle)}["']?\s*=""", re.I)
        else:
            pattern = re.compile(rf"""(["']){re.escape(needle)}\1""")
        for number in range(first, last + 1):
            raw = self.lines[number - 1]
            for m in pattern.finditer(raw):
                start = m.start() if not key else len(raw) - len(raw.lstrip())
                if (number, start) in self._used:
                    continue
                self._used.add((number, start))
                end = m.end() if not key else len(raw.rstrip())
                return Span(number, start + 1, number, end + 1)
        return self._line_span(first)

    def _line_span(self, line: int) -> Span:
        raw = self.lines[line - 1] if 0 < line <= len(self.lines) else ""
        indent = len(raw) - len(raw.lstrip())
        return Span(line, indent + 1, line, len(raw.rstrip()) + 1)


def _toml(doc: Document) -> dict[str, Any]:
    try:
        return tomllib.loads(doc.text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"line (\d+)", str(exc))
        raise ParseError(f"TOML syntax error ({exc}); skipped.", int(m.group(1)) if m else None) from None
    except RecursionError:  # tomllib recurses once per nested array or inline table
        raise ParseError("TOML is too deeply nested to parse; skipped.") from None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _pep508_list(out: Manifest, where: _TomlLines, table: str, items: Iterable[Any], group: str = "") -> None:
    for item in items:
        if isinstance(item, str):
            span = where.find(table, item)
            req = requirement_line(item, span)
            if req is not None:
                out.requirements.append(replace(req, group=group) if group else req)


def _pyproject(doc: Document) -> Manifest:
    data = _toml(doc)
    where = _TomlLines(doc.lines)
    out = Manifest(doc.path, "pyproject")
    project = _dict(data.get("project"))
    _pep508_list(out, where, "project", _list(project.get("dependencies")))
    for extra, items in _dict(project.get("optional-dependencies")).items():
        _pep508_list(out, where, "project.optional-dependencies", _list(items), str(extra))
    for group, items in _dict(data.get("dependency-groups")).items():
        _pep508_list(out, where, "dependency-groups", (i for i in _list(items) if isinstance(i, str)), str(group))
    tool = _dict(data.get("tool"))
    _poetry(out, where, _dict(tool.get("poetry")))
    _uv(out, where, _dict(tool.get("uv")))
    _pdm(out, where, _dict(tool.get("pdm")))
    return out


def _poetry(out: Manifest, where: _TomlLines, poetry: dict[str, Any]) -> None:
    tables: list[tuple[str, dict[str, Any], str]] = [
        ("tool.poetry.dependencies", _dict(poetry.get("dependencies")), ""),
        ("tool.poetry.dev-dependencies", _dict(poetry.get("dev-dependencies")), "dev"),
    ]
    for group, body in _dict(poetry.get("group")).items():
        tables.append((f"tool.poetry.group.{group}.dependencies", _dict(_dict(body).get("dependencies")), str(group)))
    for table, deps, group in tables:
        for name, spec in deps.items():
            if name.lower() == "python":
                continue
            span = where.find(table, name, key=True)
            for one in spec if isinstance(spec, list) else [spec]:  # multiple-constraint form
                req = _table_requirement(name, one, span, "poetry")
                if req is not None:
                    out.requirements.append(replace(req, group=group) if group else req)
    for i, source in enumerate(_list(poetry.get("source"))):
        source = _dict(source)
        url = str(source.get("url") or "")
        priority = str(source.get("priority") or "").lower()
        if source.get("default") is True:
            priority = "default"
        elif source.get("secondary") is True:
            priority = "secondary"
        # Poetry 1.5+: a source without priority is primary (PyPI is then off); a supplemental
        # or secondary one is searched besides PyPI, so a public name can win.
        role = {"explicit": EXPLICIT, "supplemental": EXTRA, "secondary": EXTRA}.get(priority, PRIMARY)
        if url:
            out.sources.append(Source(role, url, where.find("tool.poetry.source", url, i), "[[tool.poetry.source]]", str(source.get("name") or "")))


def _uv(out: Manifest, where: _TomlLines, uv: dict[str, Any]) -> None:
    # uv's default index strategy takes a name from the first index that has it; only the
    # "unsafe" strategies merge versions across indexes as pip does.
    unsafe = str(uv.get("index-strategy") or "").startswith("unsafe")
    for i, index in enumerate(_list(uv.get("index"))):
        index = _dict(index)
        url = str(index.get("url") or "")
        if not url:
            continue
        role = EXPLICIT if index.get("explicit") else PRIMARY if index.get("default") else EXTRA if unsafe else ORDERED
        if index.get("format") == "flat":
            role = FIND_LINKS
        out.sources.append(Source(role, url, where.find("tool.uv.index", url, i), "[[tool.uv.index]]", str(index.get("name") or "")))
    if isinstance(uv.get("index-url"), str):
        out.sources.append(Source(PRIMARY, uv["index-url"], where.find("tool.uv", uv["index-url"]), "index-url"))
    for url in _list(uv.get("extra-index-url")):
        if isinstance(url, str):
            out.sources.append(Source(EXTRA if unsafe else ORDERED, url, where.find("tool.uv", url), "extra-index-url"))
    for url in _list(uv.get("find-links")):
        if isinstance(url, str):
            out.sources.append(Source(FIND_LINKS, url, where.find("tool.uv", url), "find-links"))
    _pep508_list(out, where, "tool.uv", _list(uv.get("dev-dependencies")))
    for name, spec in _dict(uv.get("sources")).items():
        span = where.find("tool.uv.sources", name, key=True)
        for one in spec if isinstance(spec, list) else [spec]:
            req = _table_requirement(name, one, span, "uv")
            if req is not None and (req.url or req.source):
                out.requirements.append(req)


def _pdm(out: Manifest, where: _TomlLines, pdm: dict[str, Any]) -> None:
    ordered = bool(_dict(pdm.get("resolution")).get("respect-source-order"))
    for i, source in enumerate(_list(pdm.get("source"))):
        source = _dict(source)
        url = str(source.get("url") or "")
        if not url:
            continue
        name = str(source.get("name") or "")
        if source.get("type") == "find_links":
            role = FIND_LINKS
        elif name.lower() == "pypi":
            role = PRIMARY
        elif source.get("include_packages"):
            role = EXPLICIT
        else:
            role = ORDERED if ordered else EXTRA
        verify = source.get("verify_ssl") is not False
        out.sources.append(Source(role, url, where.find("tool.pdm.source", url, i), "[[tool.pdm.source]]", name, verify))
    for group, items in _dict(pdm.get("dev-dependencies")).items():
        del group
        _pep508_list(out, where, "tool.pdm.dev-dependencies", _list(items))


def _table_requirement(name: str, spec: Any, span: Span, dialect: str) -> Requirement | None:
    """A Poetry/uv/Pipfile dependency given as a version string or a table."""
    key = canonicalize_name(name)
    text = f"{name} = {spec!r}" if not isinstance(spec, str) else f"{name} = {spec}"
    if isinstance(spec, str):
        return Requirement(key, convert_specifier(spec, dialect), span, text)
    table = _dict(spec)
    if not table:
        return None
    extras = tuple(sorted(str(e) for e in _list(table.get("extras"))))
    marker = str(table.get("markers") or table.get("marker") or "")
    source = str(table.get("source") or table.get("index") or "")
    for vcs in ("git", "hg", "svn", "bzr"):
        if isinstance(table.get(vcs), str):
            url = table[vcs]
            url = url if url.startswith(VCS_PREFIXES) else f"{vcs}+{url}"
            ref = str(table.get("rev") or table.get("ref") or table.get("tag") or table.get("branch") or "")
            return _direct(key, url, span, text, (), extras=extras, marker=marker, editable=bool(table.get("editable")), ref=ref)
    if isinstance(table.get("url"), str):
        return _direct(key, table["url"], span, text, (), extras=extras, marker=marker)
    if isinstance(table.get("path"), str) or table.get("workspace") or isinstance(table.get("file"), str):
        return Requirement(key, "", span, text, extras, marker, local=True, editable=bool(table.get("editable")))
    version = table.get("version")
    return Requirement(key, convert_specifier(str(version), dialect) if isinstance(version, str) else "", span, text, extras, marker, source=source)


_CARET = re.compile(r"^\^\s*(?P<v>\d+(?:\.\d+)*)")
_TILDE = re.compile(r"^~(?!=)\s*(?P<v>\d+(?:\.\d+)*)")
_BARE = re.compile(r"^v?\d+(?:\.\d+)*(?:[a-z]+\d*)?(?:\.post\d+)?$", re.I)


def convert_specifier(spec: str, dialect: str = "pep440") -> str:
    """PEP 440 for a Poetry (`^1.2`, `~1.2`, `1.2.3`, `*`), Pipfile (`*`) or conda (`=1.2`,
    `1.2.*`) constraint; "" when it cannot be expressed (an `||` union)."""
    spec = spec.strip()
    if spec in ("", "*"):
        return ""
    if "||" in spec or "|" in spec:
        return ""
    parts = [p.strip() for p in re.split(r",|\s+(?=[<>=!~^])", spec) if p.strip()]
    out: list[str] = []
    for part in parts:
        caret, tilde = _CARET.match(part), _TILDE.match(part)
        if caret:
            nums = [int(n) for n in caret.group("v").split(".")]
            idx = next((i for i, n in enumerate(nums) if n), len(nums) - 1)
            upper = [*nums[:idx], nums[idx] + 1]
            out += [f">={caret.group('v')}", "<" + ".".join(map(str, upper))]
        elif tilde:
            nums = [int(n) for n in tilde.group("v").split(".")]
            upper = [nums[0] + 1] if len(nums) == 1 else [nums[0], nums[1] + 1]
            out += [f">={tilde.group('v')}", "<" + ".".join(map(str, upper))]
        elif _BARE.match(part):
            out.append(f"=={part.lstrip('v')}")
        elif dialect == "conda" and re.match(r"^=[^=]", part):
            version = part[1:]
            out.append(f"=={version}" if version.endswith("*") else f"=={version}.*")
        elif dialect == "conda" and re.match(r"^\d[\w.]*\*$", part):
            out.append(f"=={part if part.endswith('.*') else part[:-1] + '.*'}")
        else:
            out.append(part.replace(" ", ""))
    joined = ",".join(out)
    try:
        SpecifierSet(joined)
    except InvalidSpecifier:
        return ""
    return joined


def _pipfile(doc: Document) -> Manifest:
    data = _toml(doc)
    where = _TomlLines(doc.lines)
    out = Manifest(doc.path, "pipfile")
    # pipenv (2022.3.23+) takes every package from the first source unless the package
    # names another with `index=`, or `install_search_all_sources` restores the old merge.
    search_all = bool(_dict(data.get("pipenv")).get("install_search_all_sources"))
    for i, source in enumerate(_list(data.get("source"))):
        source = _dict(source)
        url = str(source.get("url") or "")
        if not url:
            continue
        role = PRIMARY if i == 0 else EXTRA if search_all else EXPLICIT
        verify = source.get("verify_ssl") is not False
        out.sources.append(Source(role, url, where.find("source", url, i), "[[source]]", str(source.get("name") or ""), verify))
    for table in ("packages", "dev-packages"):
        for name, spec in _dict(data.get(table)).items():
            req = _table_requirement(name, spec, where.find(table, name, key=True), "pipfile")
            if req is not None:
                out.requirements.append(req)
    return out


# ---- lock files: what a resolver chose -----------------------------------------------------

_PIPFILE_LOCK_ENTRY = re.compile(r"""^\s*"(?P<name>[^"]+)"\s*:\s*\{""")


# The lock writers put one top-level key per line at its start: `name = "torch"`.
_LOCK_KEY = re.compile(r"""^(?P<key>name|version)\s*=\s*"(?P<value>[^"\\]*)"\s*(?:#.*)?$""")
_LOCK_HASHED = re.compile(r"^(?:files|wheels|sdist|hashes)\s*=\s*(?P<value>.*)")


def _toml_lock(doc: Document) -> Manifest:
    """poetry.lock, uv.lock, pdm.lock: every `[[package]]` as an exact pin at its `name`
    line (hashes, when the lock records them, make it a hash-checked pin).

    Read line by line, not with tomllib: the tools write these files in one fixed layout,
    and a full TOML parse of uv.lock's per-wheel tables cost a quarter of kserve's scan."""
    out = Manifest(doc.path, "lock")
    package: dict[str, Any] | None = None
    top = False  # in the package's own keys, not in one of its [package.*] sub-tables

    def flush() -> None:
        if package and package.get("name") and package.get("version"):
            name = package["name"]
            out.requirements.append(
                Requirement(canonicalize_name(name), f"=={package['version']}", _line_of(doc.lines, package["line"]),
                            f"{name} {package['version']}", hashes=("lock",) if package.get("hashed") else ())
            )

    for number, raw in enumerate(doc.lines, 1):
        if raw.startswith("["):
            if raw.strip() == "[[package]]":
                flush()
                package, top = {}, True
            else:
                top = False
            continue
        if package is None or not top:
            continue
        m = _LOCK_KEY.match(raw)
        if m and m.group("key") not in package:
            package[m.group("key")] = m.group("value")
            if m.group("key") == "name":
                package["line"] = number
        elif (h := _LOCK_HASHED.match(raw)) and h.group("value").replace(" ", "") not in ("[]", "{}"):
            package["hashed"] = True
    flush()
    return out


def _pipfile_lock(doc: Document) -> Manifest:
    import json

    out = Manifest(doc.path, "lock")
    try:
        data = json.loads(doc.text)
    except ValueError as exc:
        raise ParseError(f"Pipfile.lock is not valid JSON ({exc}); skipped.") from None
    except RecursionError:
        raise ParseError("Pipfile.lock is too deeply nested to parse; skipped.") from None
    places: dict[str, list[int]] = {}
    for number, raw in enumerate(doc.lines, 1):
        m = _PIPFILE_LOCK_ENTRY.match(raw)
        if m:
            places.setdefault(canonicalize_name(m.group("name")), []).append(number)
    for section in ("default", "develop"):
        for name, entry in _dict(_dict(data).get(section)).items():
            version = str(_dict(entry).get("version") or "")
            if not version.startswith("=="):
                continue
            key = canonicalize_name(name)
            found = places.get(key) or [1]
            line = found.pop(0) if len(found) > 1 else found[0]
            hashes = tuple(str(h) for h in _list(_dict(entry).get("hashes")))
            out.requirements.append(Requirement(key, version, _line_of(doc.lines, line), f"{name}{version}", hashes=hashes))
    return out


def _line_of(lines: list[str], number: int) -> Span:
    raw = lines[number - 1] if 0 < number <= len(lines) else ""
    indent = len(raw) - len(raw.lstrip())
    return Span(number, indent + 1, number, len(raw.rstrip()) + 1)


# ---- conda environment files -------------------------------------------------------------

_CONDA_SPEC = re.compile(r"^(?:(?P<channel>[\w.-]+)::)?(?P<name>[A-Za-z0-9_][\w.-]*)\s*(?P<spec>[^\s#]*)")


def _conda(doc: Document) -> Manifest:
    from atlascan.parsers import yaml as y

    out = Manifest(doc.path, "conda")
    try:
        parsed = y.parse(doc.text)
    except RecursionError:
        raise ParseError("YAML is too deeply nested; skipped.") from None
    for root in parsed.roots():
        if not isinstance(root, y.Mapping):
            continue
        channels = root.get("channels")
        for node in channels.items if isinstance(channels, y.Sequence) else []:
            if isinstance(node, y.Scalar) and node.value:
                out.sources.append(Source(CHANNEL, node.value, _node_span(node), "channels"))
        deps = root.get("dependencies")
        for node in deps.items if isinstance(deps, y.Sequence) else []:
            if isinstance(node, y.Scalar):
                req = _conda_requirement(node.value, _node_span(node))
                if req is not None:
                    out.requirements.append(req)
            elif isinstance(node, y.Mapping) and isinstance(node.get("pip"), y.Sequence):
                pip = node.get("pip")
                assert isinstance(pip, y.Sequence)
                items = [n for n in pip.items if isinstance(n, y.Scalar)]
                inner = requirements_text(doc.path, [n.value for n in items], "conda", [_node_span(n) for n in items])
                out.requirements += inner.requirements
                out.sources += inner.sources
                out.includes += inner.includes
                out.pre |= inner.pre
                out.require_hashes |= inner.require_hashes
    return out


def _node_span(node: Any) -> Span:
    end = node.end_column if node.end_line == node.line else None
    return Span(node.line, node.column, node.line if end else None, end)


def _conda_requirement(text: str, span: Span) -> Requirement | None:
    m = _CONDA_SPEC.match(text.strip())
    if not m:
        return None
    raw_name = m.group("name").lower()
    name = CONDA_TO_PYPI.get(raw_name, raw_name)
    version = m.group("spec")
    # `pkg=1.2=build`: the build string after the second `=` says nothing about the version.
    if version.startswith("=") and not version.startswith("=="):
        version = "=" + version[1:].split("=", 1)[0]
    return Requirement(canonicalize_name(name), convert_specifier(version, "conda"), span, text.strip(), ecosystem="conda")


# ---- setup.cfg and setup.py ---------------------------------------------------------------

def _setup_cfg(doc: Document) -> Manifest:
    out = Manifest(doc.path, "setup.cfg")
    import configparser  # setup.cfg only

    parser = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        parser.read_string(doc.text)
    except configparser.Error as exc:
        raise ParseError(f"setup.cfg could not be read ({exc.__class__.__name__}); skipped.") from None
    where = _TomlLines(doc.lines)
    values: list[tuple[str, str, str]] = []
    if parser.has_option("options", "install_requires"):
        values.append(("options", parser.get("options", "install_requires"), ""))
    if parser.has_section("options.extras_require"):
        values += [("options.extras_require", v, k) for k, v in parser.items("options.extras_require")]
    for table, value, group in values:
        for item in value.replace(";", "\0").splitlines():
            item = item.replace("\0", ";").strip()
            if not item or item.startswith("#"):
                continue
            req = requirement_line(item, _find_line(doc.lines, where, table, item))
            if req is not None:
                out.requirements.append(replace(req, group=group) if group else req)
    return out


def _find_line(lines: list[str], where: _TomlLines, table: str, item: str) -> Span:
    for first, last in where.ranges(table):
        for number in range(first, last + 1):
            raw = lines[number - 1]
            at = raw.find(item)
            if at >= 0 and (number, at) not in where._used:
                where._used.add((number, at))
                return Span(number, at + 1, number, at + len(item) + 1)
    return Span(1)


def _setup_py(doc: Document) -> Manifest:
    """`install_requires=[...]` / `extras_require={...}` literals of a `setup()` call, read
    from the syntax tree, and the literal lists of module-level names those arguments draw
    on: `install_requires=REQUIRED`, or a dependency table (`_deps = ["torch>=2.6", ...]`)
    that a comprehension or helper turns into them. Nothing is evaluated: what is not a
    literal requirement string is not followed."""
    out = Manifest(doc.path, "setup.py")
    tree = doc.tree if doc.kind == "python" else None
    if not isinstance(tree, ast.Module) or "setup" not in doc.text:
        return out
    wanted = [
        kw.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and _callee(node.func) == "setup"
        for kw in node.keywords
        if kw.arg in ("install_requires", "extras_require")
    ]
    for root in [*wanted, *_module_values(tree, wanted)]:
        if isinstance(root, ast.Constant):
            _literal_requirements(out, root, doc)  # `install_requires="numpy>=1.20"`
        for node in ast.walk(root):
            if isinstance(node, (ast.List, ast.Tuple)):
                _literal_requirements(out, node, doc)
            elif isinstance(node, ast.Dict):  # `{"gpu": "cupy>=12"}`: a value that is one requirement
                for value in node.values:
                    if isinstance(value, ast.Constant):
                        _literal_requirements(out, value, doc)
    grouped = _extras_only(tree, wanted)
    out.requirements[:] = [replace(r, group=grouped[r.span.start_line]) if r.span.start_line in grouped else r for r in out.requirements]
    return out


def _extras_only(tree: ast.Module, wanted: list[ast.expr]) -> dict[int, str]:
    """The lines of requirement strings that only one extra of `extras_require={...}` reaches
    (`{"dev": dev_require_list}`, names followed as `_setup_py` follows them), with that
    extra's name: what `install_requires` or another extra also reaches stays unnamed."""
    wanted = [_one_table(v, tree) for v in wanted]
    extras = [v for v in wanted if isinstance(v, ast.Dict)]
    named = [(k.value, v) for d in extras for k, v in zip(d.keys, d.values, strict=False) if isinstance(k, ast.Constant) and isinstance(k.value, str)]
    if not named:
        return {}  # no literal table (`extras_require=make_extras()`): its keys are unknown
    others = [v for v in wanted if not isinstance(v, ast.Dict)]
    reach: dict[int, set[str]] = {}
    for name, value in named:
        for line in _strings_of([value], tree):
            reach.setdefault(line, set()).add(name)
    common = _strings_of(others, tree) if others else set()
    return {line: next(iter(names)) for line, names in reach.items() if len(names) == 1 and line not in common}


def _one_table(value: ast.expr, tree: ast.Module) -> ast.expr:
    """`extras_require=EXTRAS` where the module binds EXTRAS once, to a literal dict, and
    never adds to it: that dict (datasets' `EXTRAS_REQUIRE = {...}`). Else `value` itself."""
    if not isinstance(value, ast.Name):
        return value
    bound: list[ast.AST] = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                while isinstance(target, (ast.Subscript, ast.Attribute)):
                    target = target.value
                if isinstance(target, ast.Name) and target.id == value.id:
                    bound.append(node)
        elif (
            isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name)
            and node.func.value.id == value.id and node.func.attr in ("update", "setdefault")
        ):  # fmt: skip
            return value  # keys added by a call
    if len(bound) == 1 and isinstance(bound[0], ast.Assign) and len(bound[0].targets) == 1:
        table = bound[0].value
        if isinstance(bound[0].targets[0], ast.Name) and isinstance(table, ast.Dict):
            return table
    return value


def _strings_of(roots: list[ast.expr], tree: ast.Module) -> set[int]:
    """Lines of the string constants `roots` and the module-level values they name hold."""
    return {
        node.lineno
        for root in [*roots, *_module_values(tree, roots)]
        for node in ast.walk(root)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    }


def _module_values(tree: ast.Module, roots: list[ast.expr]) -> list[ast.expr]:
    """The values of the module-level assignments (and bodies of module-level functions)
    that `roots` reach by name, transitively: `extras["torch"] = deps_list("torch")` reaches
    `deps_list`, whose body reaches `deps`, built from `_deps`."""
    defined: dict[str, list[ast.AST]] = {}
    for stmt in tree.body:
        if isinstance(stmt, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            for target in targets:
                while isinstance(target, ast.Subscript):
                    target = target.value
                if isinstance(target, ast.Name) and stmt.value is not None:
                    defined.setdefault(target.id, []).append(stmt.value)
        elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            defined.setdefault(stmt.name, []).append(stmt)
    seen: set[str] = set()
    values: list[ast.expr] = []
    todo: deque[ast.AST] = deque(roots)
    while todo:
        for node in ast.walk(todo.popleft()):
            if isinstance(node, ast.Name) and node.id in defined and node.id not in seen:
                seen.add(node.id)
                for value in defined[node.id]:
                    todo.append(value)
                    if isinstance(value, ast.expr):
                        values.append(value)
    return values


def _callee(func: ast.expr) -> str:
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""


def _literal_requirements(out: Manifest, value: ast.expr, doc: Document) -> None:
    items = value.elts if isinstance(value, (ast.List, ast.Tuple)) else [value]
    for item in items:
        if isinstance(item, ast.Constant) and isinstance(item.value, str):
            end_col = item.end_col_offset if item.end_lineno == item.lineno else None
            span = Span(item.lineno, item.col_offset + 1, item.lineno if end_col is not None else None, end_col + 1 if end_col is not None else None)
            req = requirement_line(item.value, span)
            if req is not None:
                out.requirements.append(req)


# ---- "which version is pinned here" -------------------------------------------------------

def read_manifests(files: Iterable[SourceFile], limits: Limits | None = None) -> list[Manifest]:
    """The manifests of a scan's dependency files (requirements kind, pyproject.toml,
    setup.cfg, setup.py), read through the parse stage; unreadable files are left out. For
    a whole-scan pass such as `Engine.prepare`, which has no Documents of its own."""
    from atlascan import parsers

    out: list[Manifest] = []
    for file in files:
        if not declares_dependencies(file.kind, file.path):
            continue
        try:
            out.append(parsers.read(file, limits or Limits()).view(manifest))
        except (ParseError, SkipFile, OSError):
            continue
    return out


def pinned_for(manifests: Iterable[Manifest], package: str, path: str) -> str | None:
    """The version of `package` pinned for the file at `path`: the nearest manifest wins
    (the deepest folder on the way from `path` up to the root that pins it); within one
    folder the lowest pinned version, as the riskiest one that may be installed."""
    key = canonicalize_name(package)
    by_folder: dict[str, list[str]] = {}
    for m in manifests:
        for req in m.requirements:
            version = req.pinned
            if req.name == key and version:
                by_folder.setdefault(posixpath.dirname(m.path), []).append(version)
    folder = posixpath.dirname(path)
    while True:
        found = by_folder.get(folder)
        if found:
            return min(found, key=_version_key)
        if not folder:
            return None
        folder = posixpath.dirname(folder)


def _version_key(text: str) -> Any:
    from packaging.version import InvalidVersion, Version

    try:
        return (0, Version(text), "")
    except InvalidVersion:
        return (1, None, text)
