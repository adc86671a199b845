"""The check step of the flow: each work unit's files are read and parsed once into
Documents, every engine that wants their kind checks them, and what an engine sees is a
context: the enabled rules, the Document, and the one way findings and notices leave a check
(`ctx.finding(...)...emit()` / `ctx.notice`). Every failure becomes a notice."""

from __future__ import annotations

import os
import signal
import sys
import time
import traceback
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from atlascan import document as _document
from atlascan import parsers, suppress
from atlascan.document import Document
from atlascan.findings import DISABLED, FindingBuilder
from atlascan.model import (
    Finding,
    Limits,
    Notice,
    ParseError,
    SkipFile,
    SourceFile,
)
from atlascan.rules import Rule


@dataclass
class ScanState:
    """Per-unit accumulation of results; picklable so workers can return it."""

    findings: list[Finding] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    # path -> inline suppression comments ((line, text) of comments naming `atlascan:`),
    # for the files that have findings; the suppress step of the flow reads them.
    markers: dict[str, list[tuple[int, str]]] = field(default_factory=dict)
    # engine -> [files, bytes, parse CPU seconds, check CPU seconds] (`--statistics`); parse
    # time is charged to the engine whose call first read a Document or built its tree or
    # views (an engine that parses by itself, like Terraform's HCL, shows it as check time).
    stats: dict[str, list[float]] = field(default_factory=dict)


class PrepareMemo(Protocol):
    """Per-file results of a prepare pass remembered between scans (the result cache): an
    engine keys each by the file's content hash and whatever else the result depends on
    (the rules and options are the cache's own key), and validates what it gets back."""

    def content(self, file: SourceFile) -> str: ...

    def recall(self, table: str, path: str, key: str) -> Any: ...

    def remember(self, table: str, path: str, key: str, value: Any) -> None: ...


UNREAD = object()  # PrepareContext's repository before anyone read it


class PrepareContext:
    def __init__(
        self,
        rules: Mapping[str, Rule],
        options: Mapping[str, Any],
        all_paths: frozenset[str],
        memo: PrepareMemo | None = None,
        scanned: Sequence[SourceFile] = (),
        root: Path | None = None,
        repository: str | object | None = UNREAD,
    ) -> None:
        self.rules = rules
        self.options = options
        self.all_paths = all_paths
        self.memo = memo  # None: no result cache
        # Every file of the scan, of any kind: for facts one engine reads from another's files
        # (a pipeline YAML's `command:` that launches a Python script).
        self.scanned = scanned
        self.root = root
        self._repository = repository  # the scan's reading, or UNREAD

    @property
    def repository(self) -> str | None:
        """The hosted repository the scan root checks out (`owner/name`, `atlascan.identity`):
        the scan's own reading (it classes paths with it), else read on first use."""
        if self._repository is UNREAD:
            from atlascan.identity import github_repository

            self._repository = github_repository(self.root) if self.root is not None else None
        return self._repository if isinstance(self._repository, str) else None

    def enabled(self, rule_id: str) -> bool:
        return rule_id in self.rules


class Documents:
    """The Documents of one work unit, read once; files outside the unit (a Terraform
    module's parent tfvars) are read on demand through the same parse stage. `overrides`
    (path -> text) stand in for the files on disk: an editor's unsaved buffers."""

    def __init__(self, limits: Limits, overrides: Mapping[str, str] | None = None) -> None:
        self.limits = limits
        self.overrides = overrides or {}
        self._docs: dict[str, Document | BaseException] = {}

    def get(self, file: SourceFile) -> Document:
        found = self._docs.get(file.path)
        if found is None:
            try:
                if file.kind == "artifact":
                    found = Document(file, "")
                elif file.path in self.overrides:
                    found = self._buffer(file, self.overrides[file.path])
                else:
                    found = _document.timed_parse(parsers.read, file, self.limits)
            except (SkipFile, ParseError, OSError) as exc:
                found = exc
            self._docs[file.path] = found
        if isinstance(found, BaseException):
            raise found
        return found

    def _buffer(self, file: SourceFile, text: str) -> Document:
        """An unsaved buffer, held to the limits a file on disk is held to."""
        size = len(text.encode("utf-8", "surrogatepass"))
        if size > self.limits.max_text_bytes and not self.limits.include_generated:
            raise SkipFile(f"File is {size // 1024} KiB, over the {self.limits.max_text_bytes // 1024} KiB limit for text files; skipped.")
        parsers.check_text(file, text, self.limits)
        return parsers.document(file, text)

    def loaded(self) -> list[Document]:
        return [d for d in self._docs.values() if isinstance(d, Document)]


class FileContext:
    """Context for checking one file (also handed out per file by a GroupContext)."""

    def __init__(
        self,
        file: SourceFile,
        rules: Mapping[str, Rule],
        facts: Any,
        options: Mapping[str, Any],
        state: ScanState,
        docs: Documents,
        all_paths: frozenset[str],
    ) -> None:
        self.file = file
        self.rules = rules
        self.facts = facts
        self.options = options
        self.state = state
        self._docs = docs
        self.all_paths = all_paths

    # ---- reading -------------------------------------------------------------------------
    def enabled(self, rule_id: str) -> bool:
        return rule_id in self.rules

    def any_enabled(self, rule_ids: Iterable[str]) -> bool:
        return any(r in self.rules for r in rule_ids)

    @property
    def doc(self) -> Document:
        """This file's Document, read on first use (an engine that reads bytes never pays).
        Raises SkipFile or ParseError when the file is not text worth reading."""
        return self._docs.get(self.file)

    def document(self, file: SourceFile) -> Document:
        """Another file's Document (read and parsed once per unit)."""
        return self._docs.get(file)

    @property
    def root(self) -> str:
        """The scan root as a prefix of absolute paths: `root + rel` opens another file."""
        return self.file.abspath[: len(self.file.abspath) - len(self.file.path)]

    @property
    def limits(self) -> Limits:
        return self._docs.limits

    # ---- reporting -----------------------------------------------------------------------
    def finding(self, rule_id: str, *, file: SourceFile | None = None) -> FindingBuilder:
        """Start a finding of `rule_id` in this file (or in `file`, another file of the
        unit); a no-op chain when the rule is off."""
        rule = self.rules.get(rule_id)
        if rule is None:
            return DISABLED  # type: ignore[return-value]
        target = file or self.file
        try:
            doc = self._docs.get(target)
        except (SkipFile, ParseError, OSError):
            doc = Document(target, "")  # a binary artifact: no snippet to quote
        return FindingBuilder(rule, doc, self.state.findings)

    def notice(self, message: str, level: str = "warning", line: int | None = None, file: SourceFile | None = None) -> None:
        self.state.notices.append(Notice((file or self.file).path, message, level, line))


class GroupContext(FileContext):
    """Context for a group of files checked together (e.g. one Terraform module)."""

    def __init__(self, files: list[SourceFile], **kwargs: Any) -> None:
        super().__init__(file=files[0], **kwargs)
        self.files = files

    def for_file(self, file: SourceFile) -> FileContext:
        return FileContext(file, self.rules, self.facts, self.options, self.state, self._docs, self.all_paths)


@dataclass(frozen=True)
class WorkUnit:
    """The files of one check: one file, or a group (a Terraform module) that `group_engine`
    checks together. Every other engine that wants a file's kind checks it in the same unit,
    so each file is read and parsed once."""

    files: tuple[SourceFile, ...]
    group_engine: str | None = None


@dataclass
class UnitConfig:
    """Everything a worker needs besides the unit itself (sent once per worker)."""

    rules_by_key: dict[str, dict[str, Rule]]  # "engine:kind" -> the rules it runs there
    engines_by_kind: dict[str, tuple[str, ...]]
    facts: dict[str, Any]
    options: dict[str, Any]
    limits: Limits
    all_paths: frozenset[str]
    inline_ignores: bool
    debug: bool = False
    overrides: dict[str, str] = field(default_factory=dict)  # path -> unsaved buffer text


class _Timeout(BaseException):
    """A BaseException so that an engine's broad `except Exception` cannot swallow it."""


def _alarm(signum: int, frame: Any) -> None:
    raise _Timeout


def run_units(units: Iterable[WorkUnit], config: UnitConfig) -> ScanState:
    """Run work units in this process. Every failure becomes a notice; nothing escapes."""
    state = ScanState()
    use_alarm = hasattr(signal, "setitimer") and _in_main_thread()
    for unit in units:
        docs = Documents(config.limits, config.overrides)
        if unit.group_engine:
            _check_group(unit.group_engine, list(unit.files), docs, state, config, use_alarm)
        for file in unit.files:
            for name in config.engines_by_kind.get(file.kind, ()):
                if name != unit.group_engine and _passes_gate(name, file, docs):
                    _check_file(name, file, docs, state, config, use_alarm)
        _collect(docs, state, config)
    return state


def _passes_gate(name: str, file: SourceFile, docs: Documents) -> bool:
    from atlascan.engines import TEXT_GATES, passes_path_gate

    if not passes_path_gate(name, file):
        return False
    words = TEXT_GATES.get((name, file.kind))
    if words is None:
        return True
    try:
        text = docs.get(file).text
    except (SkipFile, ParseError, OSError):
        return True  # the engine's own run reports why the file could not be read
    return any(w in text for w in words)


def _check_group(name: str, files: list[SourceFile], docs: Documents, state: ScanState, config: UnitConfig, use_alarm: bool) -> None:
    rules: dict[str, Rule] = {}
    for f in files:
        rules.update(config.rules_by_key.get(f"{name}:{f.kind}", {}))
    ctx = GroupContext(files, **_common(rules, name, config, state, docs))
    _run(name, files, state, config, use_alarm, lambda engine: engine.check_group(files, ctx))


def _check_file(name: str, file: SourceFile, docs: Documents, state: ScanState, config: UnitConfig, use_alarm: bool) -> None:
    ctx = FileContext(file, **_common(config.rules_by_key[f"{name}:{file.kind}"], name, config, state, docs))
    _run(name, [file], state, config, use_alarm, lambda engine: engine.check_file(file, ctx))


def _common(rules: Mapping[str, Rule], engine: str, config: UnitConfig, state: ScanState, docs: Documents) -> dict[str, Any]:
    return dict(rules=rules, facts=config.facts.get(engine), options=config.options, state=state, docs=docs, all_paths=config.all_paths)


def _collect(docs: Documents, state: ScanState, config: UnitConfig) -> None:
    """Parser warnings become notices; files with findings hand their real suppression
    comments to the flow's suppress step."""
    with_findings = {f.path for f in state.findings}
    for doc in docs.loaded():
        for message, line in doc.notes:
            state.notices.append(Notice(doc.path, message, "warning", line))
        if config.inline_ignores and doc.path in with_findings and doc.kind != "artifact":
            markers = suppress.marker_comments(doc)
            if markers:
                state.markers[doc.path] = markers


def _run(name: str, files: list[SourceFile], state: ScanState, config: UnitConfig, use_alarm: bool, call: Any) -> None:
    parse_before = _document.PARSE_CLOCK[0]
    start = time.process_time()
    try:
        _call(name, len(files), state, config, use_alarm, files[0].path, call)
    finally:
        elapsed = time.process_time() - start
        parsed = _document.PARSE_CLOCK[0] - parse_before
        row = state.stats.setdefault(name, [0, 0, 0.0, 0.0])
        row[0] += len(files)
        row[1] += sum(f.size for f in files)
        row[2] += parsed
        row[3] += max(0.0, elapsed - parsed)


def _call(name: str, weight: int, state: ScanState, config: UnitConfig, use_alarm: bool, path: str, call: Any) -> None:
    from atlascan.engines import load_engine

    try:
        engine = load_engine(name)
    except Exception as exc:  # a missing optional dependency, never the user's fault
        state.notices.append(Notice(path, f"Engine {name!r} unavailable: {exc}; not scanned.", "error"))
        return
    old_handler = signal.signal(signal.SIGALRM, _alarm) if use_alarm else None
    try:
        try:
            if use_alarm:
                signal.setitimer(signal.ITIMER_REAL, config.limits.file_timeout_s * max(1, weight**0.5))
            call(engine)
        finally:
            # Disarm inside the outer try: an alarm landing here is still caught below.
            if use_alarm:
                signal.setitimer(signal.ITIMER_REAL, 0)
    except SkipFile as exc:
        state.notices.append(Notice(path, str(exc), exc.level))
    except ParseError as exc:
        state.notices.append(Notice(path, str(exc), exc.level, exc.line))
    except _Timeout:
        state.notices.append(Notice(path, f"Analysis ({name}) took longer than {config.limits.file_timeout_s:.0f} s; stopped.", "error"))
    except RecursionError:
        state.notices.append(Notice(path, f"File is too deeply nested for the {name} analyzer; skipped.", "warning"))
    except MemoryError:
        state.notices.append(Notice(path, f"File is too large for the {name} analyzer; skipped.", "error"))
    except OSError as exc:
        state.notices.append(Notice(path, f"File could not be read: {exc.strerror or exc}.", "warning"))
    except Exception as exc:
        detail = traceback.format_exc() if config.debug else f"{type(exc).__name__}: {exc}"
        state.notices.append(Notice(path, f"Internal error in the {name} analyzer ({detail}); file partly scanned.", "error"))
    finally:
        if use_alarm:
            signal.signal(signal.SIGALRM, old_handler)


def _in_main_thread() -> bool:
    # Without `threading` imported no thread was started through it: this is the main one
    # (a one-file run spares the import).
    threading = sys.modules.get("threading")
    return os.name == "posix" and (threading is None or threading.current_thread() is threading.main_thread())
