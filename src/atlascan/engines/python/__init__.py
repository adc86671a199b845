"""The Python and notebook analyzer (rules ATS-PY-*).

`prepare` reads pinned library versions from the scan's dependency files and summarises
project wrappers of unsafe sinks across files; `check_file` parses one `.py` file or the
code cells of one notebook with the stdlib `ast` (after a cheap, exact text prefilter)
and reports what `analyzer.Analysis` finds. Nothing scanned is ever imported or executed.
"""

from __future__ import annotations

import ast
import bisect
import os
import posixpath
import re
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from atlascan.engines import Engine
from atlascan.engines.python import fixes, pip_magics
from atlascan.engines.python import notebook as nb
from atlascan.engines.python.analyzer import (
    Analysis,
    Report,
    Wrapper,
    module_key_for_path,
    returns_call,
)
from atlascan.engines.python.sinks import UNSAFE_ENV_SWITCHES, prefilter_words
from atlascan.engines.python.versions import Version, pins
from atlascan.model import ParseError, Precision, RelatedLocation, Severity, Span
from atlascan.textutil import utf8_col_to_char_col

if TYPE_CHECKING:
    from atlascan.analysis import FileContext, PrepareContext
    from atlascan.model import SourceFile

CODE_KINDS = frozenset({"python", "notebook"})
DEPENDENCY_KINDS = frozenset({"requirements", "pyproject", "dockerfile"})
MAX_PREPARE_BYTES = 2 * 1024 * 1024
# Trees parsed by `prepare`, reused once by `check_file` (in-process, or inherited by forked
# workers) so a file with sinks is parsed once per scan. Bounded by source size.
TREE_CACHE_BYTES = 64 * 1024 * 1024
_TREES: dict[str, tuple[str, ast.Module]] = {}
MAX_NOTEBOOK_RETRIES = 25
PY2_HINTS = re.compile(r"^\s*(?:print\s+[\"'\w]|exec\s+[\"'\w]|except\s+[\w.]+\s*,\s*\w+\s*:)", re.M)
ENV_MAGIC = re.compile(r"^env\s+(?P<name>\w+)\s*[= ]\s*(?P<value>\S*)")


# The exact prefilter: a file is parsed only if one of its identifiers is a sink word (or
# the name of a project wrapper). Tokenising once and intersecting sets is about three
# times faster than one alternation regex and stays fast however many wrappers there are.
IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
SINK_WORDS = prefilter_words()


def mentions(text: str, words: frozenset[str] = SINK_WORDS) -> bool:
    return not words.isdisjoint(IDENTIFIER.findall(text))


# Where in a file the sink words are (prepare only): one scan, few matches.
SINK_WORD_AT = re.compile(r"(?<!\w)(?:" + "|".join(sorted(map(re.escape, SINK_WORDS), key=len, reverse=True)) + r")(?!\w)")


@dataclass
class Facts:
    versions: dict[str, Version] = field(default_factory=dict)
    wrappers: dict[str, Wrapper] = field(default_factory=dict)  # "module.func" -> wrapper
    dirs: frozenset[str] = frozenset()
    words: frozenset[str] = SINK_WORDS  # prefilter words, wrapper names included


def parse(source: str, path: str) -> ast.Module:
    """Parse without executing; every failure becomes a ParseError with a clear reason."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ast.parse(source, filename=path)
    except SyntaxError as exc:
        if "Missing parentheses" in (exc.msg or "") or PY2_HINTS.search(source):
            raise ParseError("Python 2 source is not supported; skipped.", exc.lineno) from None
        raise ParseError(f"Python syntax error ({exc.msg}, line {exc.lineno}); skipped.", exc.lineno) from None
    except (RecursionError, MemoryError):
        raise ParseError("Python source is too deeply nested to parse; skipped.") from None
    except ValueError as exc:  # NUL bytes and similar
        raise ParseError(f"Python source could not be parsed ({exc}); skipped.") from None


class PythonEngine(Engine):
    name = "python"

    # ---- whole-scan pass --------------------------------------------------------------------
    def prepare(self, files: list[SourceFile], ctx: PrepareContext) -> Facts:
        texts = [_read(f.abspath) for f in files if f.kind in DEPENDENCY_KINDS]
        facts = Facts(versions=pins(t for t in texts if t))
        dirs: set[str] = set()
        for path in ctx.all_paths:
            parent = posixpath.dirname(path)
            while parent and parent not in dirs:
                dirs.add(parent)
                parent = posixpath.dirname(parent)
        facts.dirs = frozenset(dirs)
        if len([f for f in files if f.kind == "python"]) > 1:
            facts.wrappers = _wrappers(files, facts, ctx)
            facts.words = SINK_WORDS | {w.name for w in facts.wrappers.values()}
        return facts

    # ---- one file ---------------------------------------------------------------------------
    def check_file(self, file: SourceFile, ctx: FileContext) -> None:
        if file.kind not in CODE_KINDS:
            return  # dependency files only feed `prepare`
        facts: Facts = ctx.facts if isinstance(ctx.facts, Facts) else Facts()
        text = ctx.text()
        program: nb.NotebookProgram | None = None
        if file.kind == "notebook":
            program = nb.load(text)
            self._shell_lines(program, ctx)
            source = program.source
        else:
            source = text
        if not mentions(source, facts.words):
            return
        cached = _TREES.pop(file.abspath, None) if program is None else None
        tree = cached[1] if cached is not None and cached[0] == source else self._parse_program(source, file, program, ctx)
        analysis = Analysis(
            tree,
            facts.versions,
            is_scanned_dir=lambda p: p.strip("/").removeprefix("./") in facts.dirs,
            wrappers=facts.wrappers,
            path=file.path,
            enabled=ctx.enabled,
        )
        lines = source.splitlines()
        for report in analysis.run():
            self._emit(report, file, ctx, lines, program)

    def _parse_program(self, source: str, file: SourceFile, program: nb.NotebookProgram | None, ctx: FileContext) -> ast.Module:
        if program is None:
            return parse(source, file.path)
        for _ in range(MAX_NOTEBOOK_RETRIES):
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    return ast.parse(program.source, filename=file.path)
            except SyntaxError as exc:
                cell = program.cell(exc.lineno or 1)
                ctx.notice(
                    f"Notebook cell {cell} is not valid Python ({exc.msg}); the other cells were scanned.",
                    line=program.file_line(exc.lineno or 1),
                )
                nb.blank_cell(program, cell)
            except (RecursionError, MemoryError, ValueError):
                raise ParseError("Notebook code is too deeply nested or malformed to parse; skipped.") from None
        raise ParseError("Notebook has too many cells that are not valid Python; skipped.")

    def _emit(self, report: Report, file: SourceFile, ctx: FileContext, lines: list[str], program: nb.NotebookProgram | None) -> None:
        rule = ctx.rules.get(report.rule)
        if rule is None:
            return
        node = report.node
        line = getattr(node, "lineno", 1)
        end_line = getattr(node, "end_lineno", None) or line
        column = end_column = None
        where = ""
        if program is not None:
            where = f" (cell {program.cell(line)})"
            line, end_line = program.file_line(line), program.file_line(end_line)
        elif 1 <= line <= len(lines):
            column = utf8_col_to_char_col(lines[line - 1], getattr(node, "col_offset", 0))
            if 1 <= end_line <= len(lines) and getattr(node, "end_col_offset", None) is not None:
                end_column = utf8_col_to_char_col(lines[end_line - 1], node.end_col_offset)  # type: ignore[attr-defined]
        severity = report.severity or rule.severity
        related: list[RelatedLocation] = []
        origin = report.origin
        if origin is not None and origin.raises:
            severity = Severity(min(Severity.CRITICAL, severity + 1))
        elif origin is not None and origin.rank == 0 and origin.path:
            committed = _committed(origin.path, file.path, ctx.all_paths)
            if committed:
                severity = Severity(max(Severity.LOW, severity - 1))
                related.append(RelatedLocation(committed, Span(1), "The committed file this call loads; see its artifact findings."))
        detail = f" ({report.detail})" if report.detail else ""
        properties = {"fix": _fix_property(fix, lines)} if program is None and (fix := fixes.suggest(report.check, report.call)) else None
        ctx.report(
            report.rule,
            line,
            column,
            end_line,
            end_column,
            args={"callee": report.callee, "detail": detail, "origin": origin.label if origin else "its input", "where": where},
            severity=severity,
            precision=report.precision,
            related=related,
            properties=properties,
        )

    # ---- notebook shell lines -----------------------------------------------------------------
    def _shell_lines(self, program: nb.NotebookProgram, ctx: FileContext) -> None:
        for shell in program.shell:
            where = f" (cell {shell.cell})"
            for problem in pip_magics.check(shell.text):
                ctx.report(problem.rule, shell.line, args={"callee": "pip install", "detail": problem.detail, "origin": "", "where": where})
            m = ENV_MAGIC.match(shell.text)
            if m and m.group("name") in UNSAFE_ENV_SWITCHES and m.group("value").strip("'\"").lower() not in ("", "0", "false", "no", "off"):
                name = m.group("name")
                ctx.report(
                    "ATS-PY-016", shell.line,
                    args={"callee": name, "detail": f" ({UNSAFE_ENV_SWITCHES[name]})", "origin": "", "where": where},
                )  # fmt: skip


def _fix_property(fix: fixes.Fix, lines: list[str]) -> dict[str, object]:
    """The suggested edit in report coordinates (1-based character columns, end exclusive)."""

    def column(line: int, byte_col: int) -> int:
        return utf8_col_to_char_col(lines[line - 1], byte_col) if 1 <= line <= len(lines) else byte_col + 1

    return {
        "description": fix.description,
        "replacements": [
            {
                "startLine": e.line,
                "startColumn": column(e.line, e.col),
                "endLine": e.end_line,
                "endColumn": column(e.end_line, e.end_col),
                "insertedText": e.text,
            }
            for e in fix.edits
        ],
    }


def _committed(path: str, source_path: str, all_paths: frozenset[str]) -> str | None:
    if path.startswith(("/", "~")) or "://" in path:
        return None
    for candidate in (posixpath.normpath(posixpath.join(posixpath.dirname(source_path), path)), posixpath.normpath(path)):
        if candidate in all_paths:
            return candidate
    return None


def _read(path: str) -> str:
    try:
        if os.path.getsize(path) > MAX_PREPARE_BYTES:
            return ""
        with open(path, "rb") as fh:
            return fh.read().decode("utf-8", "replace")
    except OSError:
        return ""


def _wrappers(files: list[SourceFile], facts: Facts, ctx: PrepareContext) -> dict[str, Wrapper]:
    """One-level summaries of project functions that pass a parameter to a sink."""
    found: dict[str, Wrapper] = {}
    _TREES.clear()
    cached_bytes = 0
    for file in files:
        if file.kind != "python":
            continue
        text = _read(file.abspath)
        if "def " not in text or not mentions(text):
            continue
        skeleton = _skeleton(text)
        if skeleton is None:
            continue  # no top-level function names a sink: nothing here can be a wrapper
        try:
            try:
                full = parse(skeleton, file.path)
            except ParseError:  # the text split was fooled (e.g. by a column-0 string line)
                full = parse(text, file.path)
                skeleton = text
                if cached_bytes + len(text) <= TREE_CACHE_BYTES:
                    _TREES[file.abspath] = (text, full)
                    cached_bytes += len(text)
            tree = _functions_with_sinks(full, skeleton)
            if tree is None:
                continue
            analysis = Analysis(tree, facts.versions, enabled=ctx.enabled)
            reports = [r for r in analysis.run() if r.precision != Precision.LOW]
            for wrapper in analysis.summarize(reports, file.path):
                found.setdefault(f"{module_key_for_path(file.path)}.{wrapper.name}", wrapper)
        except (ParseError, RecursionError, MemoryError, ValueError):
            continue  # check_file reports the problem for this file
    return found


_TOP_LEVEL = re.compile(r"^(?=[^\s#])", re.M)
_CONTINUES = ("else", "elif", "except", "finally", ")", "]", "}")


def _skeleton(text: str) -> str | None:
    """The module with class bodies and the top-level functions that cannot be wrappers
    blanked out (newlines kept, so line numbers stay true), or None when no top-level
    function names a sink. Parsing a library file whole in the serial prepare pass cost
    most of a large scan; the skeleton is usually a few imports and functions."""
    starts = [m.start() for m in _TOP_LEVEL.finditer(text)]
    segments: list[str] = []
    if starts and starts[0] > 0:
        segments.append(text[: starts[0]])
    decorating = False  # the last segment is decorators still waiting for their def/class
    for i, start in enumerate(starts):
        piece = text[start : starts[i + 1] if i + 1 < len(starts) else len(text)]
        if segments and (piece.startswith(_CONTINUES) or decorating):
            segments[-1] += piece  # a clause, a closing bracket, or the target of a decorator
        else:
            segments.append(piece)
        decorating = piece.startswith("@")
    kept: list[str] = []
    functions = 0
    for piece in segments:
        head = piece.lstrip("@").split("\n", 1)[0] if not piece.startswith("@") else _decorated(piece)
        if head.startswith(("def ", "async def ")):
            if "return" in piece and SINK_WORD_AT.search(piece):
                kept.append(piece)
                functions += 1
                continue
        elif not head.startswith("class "):
            kept.append(piece)
            continue
        kept.append("\n" * piece.count("\n"))
    return "".join(kept) if functions else None


def _decorated(piece: str) -> str:
    """The first line of a decorated segment that is not a decorator."""
    for line in piece.split("\n"):
        if line and not line.startswith(("@", " ", "\t", ")")):
            return line
    return ""


def _functions_with_sinks(tree: ast.Module, text: str) -> ast.Module | None:
    """The module-level statements plus only the top-level functions that could be wrappers
    (they return a call and their text names a sink word): all a summary needs, at a
    fraction of the cost of the whole file."""
    sink_lines: list[int] = []
    line, position = 1, 0
    for m in SINK_WORD_AT.finditer(text):
        line += text.count("\n", position, m.start())
        position = m.start()
        if not sink_lines or sink_lines[-1] != line:
            sink_lines.append(line)
    keep: list[ast.stmt] = []
    functions = 0
    for stmt in tree.body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            first = bisect.bisect_left(sink_lines, stmt.lineno)
            if first < len(sink_lines) and sink_lines[first] <= (stmt.end_lineno or stmt.lineno) and returns_call(stmt):
                keep.append(stmt)
                functions += 1
        elif not isinstance(stmt, ast.ClassDef):
            keep.append(stmt)
    return ast.Module(body=keep, type_ignores=[]) if functions else None
