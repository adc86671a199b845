"""The result cache: what the check step found in a work unit (findings, notices, suppression
markers), remembered between runs the way ruff remembers lint results.

A unit's entry is valid while its key is: the content hashes of its files, the rules its
engines run there, and, for engines that look beyond the unit, what they looked at (the
`prepare` facts; the contents of the files the dependency model and Terraform modules read).
Everything that changes results for every unit (atlascan's version and code, the enabled
rules, the options) names the cache file itself. Entries are JSON, never pickle; one that
does not validate is a miss. Files are written atomically and readable by the owner only.

Beside the entries, the file keeps each file's content hash with the stat signature it was
computed at (an unchanged file is not read again), and per-file results of engines' prepare
passes (`recall`/`remember`), keyed by the content hash and what else they depend on.
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import hashlib
import json
import os
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from atlascan.analysis import ScanState, UnitConfig, WorkUnit
from atlascan.kinds import MANIFEST_KINDS
from atlascan.model import Finding, Notice, Precision, RelatedLocation, Severity, SourceFile, Span

SCHEMA = 1
PREFIX = "results-"
# Larger files (model artifacts) are keyed by size and modification time, not read whole.
HASH_LIMIT = 32 * 1024 * 1024
# A file's stored hash stands while its (size, mtime, ctime, inode) stay those it was hashed
# at, unless it was modified within this long before the hashing: timestamps are coarse on
# some file systems, so a second write in the same tick would leave the signature as it was.
TRUST_AFTER_NS = 2_000_000_000
# Engines whose checks read more than their unit: their units are keyed by these inputs too.
# python: the prepare facts (wrapper summaries, pins) and the set of paths (committed files);
# dependencies: a manifest's `-r`/`-c` includes, the lock beside it and the code in its folder
# (whether it uses the feature an advisory is reached through), and the set of paths;
# terraform: every Terraform file of the scan, and the module folder
# (sibling files, `file()` reads); workflows: every GitHub workflow and action of the scan.
USES_PATHS = frozenset({"python", "dependencies"})
# engine -> (kinds of unit files whose checks read other files, or None for all; which of
# the scan's files they may read)
READS_OTHER_FILES: dict[str, tuple[frozenset[str] | None, Callable[[SourceFile], bool]]] = {
    "dependencies": (MANIFEST_KINDS, lambda f: f.kind != "artifact"),
    "terraform": (None, lambda f: f.kind == "terraform"),
    # GHA-001 judges an action's or reusable workflow's inputs at its local callers.
    "workflows": (frozenset({"gha-workflow", "gha-action"}), lambda f: f.kind in ("gha-workflow", "gha-action")),
}


def default_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "atlascan"


def clean(directory: Path) -> int:
    """Remove the result files from `directory` (never anything else); returns how many."""
    removed = 0
    try:
        names = os.listdir(directory)
    except OSError:
        return 0
    for name in names:
        if name.startswith(PREFIX) and (name.endswith(".json") or name.endswith(".tmp")):
            try:
                os.unlink(directory / name)
                removed += 1
            except OSError:
                pass
    return removed


def _digest(*parts: str | bytes) -> str:
    h = hashlib.blake2b(digest_size=16)
    for part in parts:
        h.update(part.encode("utf-8", "surrogatepass") if isinstance(part, str) else part)
        h.update(b"\0")
    return h.hexdigest()


def canonical(value: Any, depth: int = 0) -> Any:
    """A JSON-able, order-independent rendering of prepare facts for hashing. An object it
    cannot render stably renders as its type and id, which simply never hits."""
    if depth > 40:
        return "<deep>"
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, enum.Enum):
        return f"{type(value).__name__}.{value.name}"
    if isinstance(value, re.Pattern):
        return ["re", value.pattern, value.flags]
    if isinstance(value, (list, tuple)):
        return [canonical(v, depth + 1) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted((canonical(v, depth + 1) for v in value), key=lambda v: json.dumps(v, sort_keys=True))
    if isinstance(value, Mapping):
        items = [[canonical(k, depth + 1), canonical(v, depth + 1)] for k, v in value.items()]
        return sorted(items, key=lambda kv: json.dumps(kv[0], sort_keys=True))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [type(value).__name__] + [[f.name, canonical(getattr(value, f.name), depth + 1)] for f in dataclasses.fields(value)]
    attrs = getattr(value, "__dict__", None)
    if isinstance(attrs, dict):
        # Private attributes are memos filled while checking, not inputs.
        return [type(value).__name__, canonical({k: v for k, v in attrs.items() if not k.startswith("_")}, depth + 1)]
    return f"<{type(value).__name__} {id(value)}>"


def _code_signature() -> str:
    """atlascan's own code and data: a changed engine must not reuse its old results even
    when the version number stayed (a development install)."""
    package = Path(__file__).resolve().parent
    h = hashlib.blake2b(digest_size=16)
    for dirpath, dirnames, filenames in os.walk(package):
        dirnames.sort()
        for name in sorted(filenames):
            if name.endswith((".py", ".toml", ".json")):
                try:
                    st = os.stat(os.path.join(dirpath, name))
                except OSError:
                    continue
                h.update(f"{dirpath}/{name}\0{st.st_size}\0{st.st_mtime_ns}\n".encode("utf-8", "surrogatepass"))
    return h.hexdigest()


class FileHashes:
    """Content hashes of the scan's files, read from disk only when a file's stat signature
    is not the one stored with its hash (see TRUST_AFTER_NS)."""

    def __init__(self, rows: Mapping[str, Any]) -> None:
        self.rows: dict[str, Any] = dict(rows)  # path -> [size, mtime_ns, ctime_ns, inode, hashed at ns, hash]
        self.stamp = time.time_ns()  # before any file is read: "hashed at" errs early
        self.changed = False
        self._memo: dict[str, str] = {}

    def of(self, file: SourceFile) -> str:
        found = self._memo.get(file.path)
        if found is None:
            found = self._memo[file.path] = self._hash(file)
        return found

    def _hash(self, file: SourceFile) -> str:
        try:
            st = os.stat(file.abspath)
        except OSError as exc:
            return f"error:{exc.errno}"
        if st.st_size > HASH_LIMIT:
            return f"stat:{st.st_size}:{st.st_mtime_ns}"
        signature = [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]
        row = self.rows.get(file.path)
        if (
            isinstance(row, list) and len(row) == 6 and row[:4] == signature and isinstance(row[4], int)
            and max(st.st_mtime_ns, st.st_ctime_ns) < row[4] - TRUST_AFTER_NS and isinstance(row[5], str)
        ):  # fmt: skip
            return row[5]
        h = hashlib.blake2b(digest_size=16)
        try:
            with open(file.abspath, "rb") as fh:
                while chunk := fh.read(1 << 20):
                    h.update(chunk)
        except OSError as exc:
            return f"error:{exc.errno}"
        self.rows[file.path] = [*signature, self.stamp, h.hexdigest()]
        self.changed = True
        return h.hexdigest()


class ResultCache:
    """The cached results of one scan root under one set of settings; also the memo the
    engines' prepare passes read through `PrepareContext.memo`."""

    def __init__(self, directory: Path, root: Path, settings: Mapping[str, Any]) -> None:
        from atlascan import __version__

        self.directory = directory
        self.settings = _digest(str(SCHEMA), __version__, _code_signature(), json.dumps(settings, sort_keys=True, default=str))
        self.path = directory / f"{PREFIX}{_digest(str(root.resolve()), self.settings)}.json"
        self.entries: dict[str, dict[str, Any]] = {}
        self.memo: dict[str, dict[str, Any]] = {}  # table -> path -> {"key", "value"}
        self.files = FileHashes({})
        self.hits = 0
        self.stored = 0
        self._memo_stored = False
        self._load()

    def _load(self) -> None:
        try:
            with open(self.path, encoding="utf-8") as fh:
                data = json.load(fh)
        except (OSError, ValueError):
            return
        if isinstance(data, dict) and data.get("schema") == SCHEMA and data.get("settings") == self.settings:
            entries = data.get("entries")
            if isinstance(entries, dict):
                self.entries = {k: v for k, v in entries.items() if isinstance(v, dict)}
            files = data.get("files")
            if isinstance(files, dict):
                self.files = FileHashes(files)
            memo = data.get("memo")
            if isinstance(memo, dict):
                self.memo = {k: v for k, v in memo.items() if isinstance(v, dict)}

    def get(self, unit_id: str, key: str) -> ScanState | None:
        entry = self.entries.get(unit_id)
        if entry is None or entry.get("key") != key:
            return None
        try:
            state = decode_state(entry["state"])
        except (KeyError, TypeError, ValueError, AttributeError):
            return None
        self.hits += 1
        return state

    def put(self, unit_id: str, key: str, state: ScanState) -> None:
        try:
            encoded = encode_state(state)
            json.dumps(encoded)  # a property JSON cannot carry: not cached, analysed next time
        except (TypeError, ValueError):
            self.entries.pop(unit_id, None)
            return
        self.entries[unit_id] = {"key": key, "state": encoded}
        self.stored += 1

    # ---- the prepare memo (atlascan.analysis.PrepareMemo) ---------------------------------
    def content(self, file: SourceFile) -> str:
        """The content hash of `file` on disk."""
        return self.files.of(file)

    def recall(self, table: str, path: str, key: str) -> Any:
        """What was remembered for `path` under `key`, or None; the caller validates it."""
        entry = self.memo.get(table, {}).get(path)
        return entry.get("value") if isinstance(entry, dict) and entry.get("key") == key else None

    def remember(self, table: str, path: str, key: str, value: Any) -> None:
        try:
            json.dumps(value)
        except (TypeError, ValueError):
            return
        self.memo.setdefault(table, {})[path] = {"key": key, "value": value}
        self._memo_stored = True

    def save(self, keep: set[str] | None = None, paths: frozenset[str] | None = None) -> None:
        """Write the entries (only those of `keep` when given: a scan of the whole root
        drops the files that are gone; `paths`, the scan's files, then prunes the hashes
        and the memo)."""
        entries = self.entries if keep is None else {k: v for k, v in self.entries.items() if k in keep}
        files, memo = self.files.rows, self.memo
        if paths is not None:
            files = {k: v for k, v in files.items() if k in paths}
            memo = {t: {k: v for k, v in rows.items() if k in paths} for t, rows in memo.items()}
        pruned = len(entries) < len(self.entries) or len(files) < len(self.files.rows)
        if not (self.stored or self.files.changed or self._memo_stored or pruned):
            return
        data = {"schema": SCHEMA, "settings": self.settings, "entries": entries, "files": files, "memo": memo}
        try:
            _private_dir(self.directory)
            tmp = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
            # A new file of our own, never through a link someone left in the folder.
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
        except OSError:
            return  # a cache that cannot be written costs the next run time, nothing else
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(data, fh, separators=(",", ":"))
            os.replace(tmp, self.path)
        except (OSError, TypeError, ValueError):
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def _private_dir(directory: Path) -> None:
    if directory == default_dir() and directory.is_dir() and not (directory / "CACHEDIR.TAG").exists():
        os.chmod(directory, 0o700)  # our own folder, made earlier by the rule catalog's cache
        _tag(directory)
    elif not directory.is_dir():
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(directory, 0o700)
        _tag(directory)


def _tag(directory: Path) -> None:
    # Backup and indexing tools skip a folder carrying this tag; git ignores it.
    (directory / "CACHEDIR.TAG").write_text("Signature: 8a477f597d28d172789f06886806bc55\n# atlascan result cache\n")
    (directory / ".gitignore").write_text("*\n")


class UnitKeys:
    """Computes each work unit's cache key for one scan."""

    def __init__(self, config: UnitConfig, files: Sequence[SourceFile], overrides: Mapping[str, str], hashes: FileHashes) -> None:
        self.config = config
        self.overrides = overrides
        self.hashes = hashes
        self._files = sorted(files, key=lambda f: f.path)
        self._folders: dict[str, str] = {}
        self._engine_inputs: dict[str, str] = {}
        self._other_files: dict[str, str] = {}
        paths = _digest("\n".join(sorted(config.all_paths)))
        for name in {n for names in config.engines_by_kind.values() for n in names}:
            parts = [name]
            if name in USES_PATHS:
                parts.append(paths)
            facts = config.facts.get(name)
            if facts is not None:
                parts.append(json.dumps(canonical(facts), sort_keys=True, default=str))
            self._engine_inputs[name] = _digest(*parts)

    def _other(self, name: str) -> str:
        """The contents of the scan's files an engine's check may open besides its unit."""
        found = self._other_files.get(name)
        if found is None:
            wanted = READS_OTHER_FILES[name][1]
            found = self._other_files[name] = _digest(*(f"{f.path}:{self.content(f)}" for f in self._files if wanted(f)))
        return found

    def content(self, file: SourceFile) -> str:
        if file.path in self.overrides:
            return "buffer:" + _digest(self.overrides[file.path])
        return self.hashes.of(file)

    def key(self, unit: WorkUnit) -> str:
        parts: list[str] = [unit.group_engine or ""]
        engines: set[str] = set()
        for f in unit.files:
            parts.append(f"{f.path}\0{f.kind}\0{f.path_class}\0{self.content(f)}")
            for name in self.config.engines_by_kind.get(f.kind, ()):
                engines.add(name)
                parts.append(f"{name}:{','.join(sorted(self.config.rules_by_key.get(f'{name}:{f.kind}', {})))}")
                reads = READS_OTHER_FILES.get(name)
                if reads is not None and (reads[0] is None or f.kind in reads[0]):
                    parts.append(self._other(name))
        for name in sorted(engines):
            parts.append(self._engine_inputs.get(name, ""))
            if name == "terraform":
                parts += [self._folder(os.path.dirname(f.abspath)) for f in unit.files]
        return _digest(*parts)

    def _folder(self, folder: str) -> str:
        """A module folder's entries by name, size and time (its checks may read any of them)."""
        found = self._folders.get(folder)
        if found is None:
            try:
                with os.scandir(folder) as it:
                    rows = sorted(f"{e.name}\0{e.stat().st_size}\0{e.stat().st_mtime_ns}" for e in it)
            except OSError:
                rows = ["<unreadable>"]
            found = self._folders[folder] = _digest(*rows)
        return found


def unit_id(unit: WorkUnit) -> str:
    return (unit.group_engine or "") + "|" + "|".join(f.path for f in unit.files)


# ---- encoding ------------------------------------------------------------------------------
def _span(span: Span | None) -> list[int | None] | None:
    return None if span is None else [span.start_line, span.start_column, span.end_line, span.end_column]


def _unspan(data: Any) -> Span:
    start, column, end, end_column = data
    for v in (start, column, end, end_column):
        if v is not None and not isinstance(v, int):
            raise TypeError("span")
    return Span(start, column, end, end_column)


def encode_state(state: ScanState) -> dict[str, Any]:
    return {
        "findings": [_finding(f) for f in state.findings],
        "notices": [[n.path, n.message, n.level, n.line] for n in state.notices],
        "markers": {path: [[line, text] for line, text in rows] for path, rows in state.markers.items()},
    }


def _finding(f: Finding) -> dict[str, Any]:
    if f.suppression is not None or f.fingerprint:
        raise ValueError("findings are cached before the suppress step")
    return {
        "rule_id": f.rule_id, "path": f.path, "region": _span(f.region), "message": f.message,
        "severity": int(f.severity), "precision": int(f.precision), "snippet": f.snippet,
        "related": [[r.path, _span(r.region), r.message] for r in f.related],
        "properties": f.properties, "scope": _span(f.scope),
    }  # fmt: skip


def decode_state(data: Any) -> ScanState:
    state = ScanState()
    for f in data["findings"]:
        props = f["properties"]
        strings = (f["rule_id"], f["path"], f["message"], f["snippet"])
        if not isinstance(props, dict) or not all(isinstance(s, str) for s in strings):
            raise TypeError("finding")
        related = [RelatedLocation(_str(p), _unspan(r), _str(m)) for p, r, m in f["related"]]
        scope = None if f["scope"] is None else _unspan(f["scope"])
        region = _unspan(f["region"])
        severity, precision = Severity(f["severity"]), Precision(f["precision"])
        state.findings.append(
            Finding(f["rule_id"], f["path"], region, f["message"], severity, precision, f["snippet"], related, props, scope=scope)
        )
    for path, message, level, line in data["notices"]:
        if line is not None and not isinstance(line, int):
            raise TypeError("notice")
        state.notices.append(Notice(_str(path), _str(message), _str(level), line))
    for path, rows in data["markers"].items():
        state.markers[_str(path)] = [(_int(line), _str(text)) for line, text in rows]
    return state


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError("expected a string")
    return value


def _int(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError("expected a whole number")
    return value


def settings_of(rules: Iterable[Any], options: Mapping[str, Any], packaged: bool) -> dict[str, Any]:
    """What changes every unit's results: the enabled rules and the options. Rules of the
    packaged catalog count by id and the catalog files' sizes and times (cheap); rules given
    by a caller count by their whole definitions."""
    from atlascan import rules as catalog

    if packaged:
        listed: list[str] = sorted(r.id for r in rules)
        return {"rules": listed, "catalog": catalog._signature(catalog.checks_dir()), **options}
    return {"rules": sorted(json.dumps(catalog._to_record(r), sort_keys=True, default=str) for r in rules), **options}
