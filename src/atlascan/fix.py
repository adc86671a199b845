"""`atlascan scan --fix`: apply the mechanical edits analyzers suggest (`weights_only=True`,
`yaml.safe_load`, `allow_pickle=False`, `filter="data"`, a `revision=` placeholder).

Edits are text replacements with 1-based line/column positions (end column exclusive),
applied bottom-up so earlier positions stay valid. A file is written only if it still
parses afterwards; overlapping edits and files that would break are left for a human.
"""

from __future__ import annotations

import ast
import warnings
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from atlascan.model import Finding, Notice, ScanResult

FIXABLE_KINDS = frozenset({"python"})


@dataclass
class FixReport:
    fixed: list[Finding] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)


@dataclass(frozen=True)
class _Replacement:
    line: int
    column: int
    end_line: int
    end_column: int
    text: str


def _replacements(fix: Any) -> list[_Replacement] | None:
    try:
        return [
            _Replacement(int(r["startLine"]), int(r["startColumn"]), int(r["endLine"]), int(r["endColumn"]), str(r["insertedText"]))
            for r in fix["replacements"]
        ]
    except (KeyError, TypeError, ValueError):
        return None


def _offset(starts: list[int], line: int, column: int) -> int:
    return starts[line - 1] + column - 1


def _apply(text: str, edits: list[_Replacement]) -> str | None:
    """The text with every edit applied, or None when two edits overlap or fall outside it."""
    starts = [0]
    for i, ch in enumerate(text):
        if ch == "\n":
            starts.append(i + 1)
    spans = []
    for e in edits:
        if not (1 <= e.line <= len(starts) and 1 <= e.end_line <= len(starts)):
            return None
        spans.append((_offset(starts, e.line, e.column), _offset(starts, e.end_line, e.end_column), e.text))
    spans.sort(reverse=True)
    for (_, end, _), (next_start, _, _) in zip(spans[1:], spans, strict=False):  # earlier, later
        if end > next_start:
            return None  # overlapping edits
    for start, end, new in spans:
        if not 0 <= start <= end <= len(text):
            return None
        text = text[:start] + new + text[end:]
    return text


def _parses(text: str) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.parse(text)
        return True
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False


def apply_fixes(result: ScanResult) -> FixReport:
    """Apply the suggested edits of active findings in place; fixed findings leave `result`."""
    report = FixReport()
    kinds = {f.path: f.kind for f in result.files}
    by_file: dict[str, list[Finding]] = defaultdict(list)
    for f in result.findings:
        fix = f.properties.get("fix")
        if f.suppression is None and isinstance(fix, dict) and kinds.get(f.path) in FIXABLE_KINDS:
            by_file[f.path].append(f)
    root = result.root.resolve()
    for path, findings in sorted(by_file.items()):
        target = (root / path).resolve()
        if not target.is_relative_to(root) or target.is_symlink():
            continue
        edits: list[_Replacement] = []
        usable: list[Finding] = []
        for f in findings:
            replacements = _replacements(f.properties["fix"])
            if replacements:
                edits.extend(replacements)
                usable.append(f)
        try:
            with target.open(encoding="utf-8", newline="") as fh:  # keep \r\n as written
                original = fh.read()
        except (OSError, UnicodeDecodeError):
            continue
        updated = _apply(original, edits)
        if updated is None or updated == original or not _parses(updated):
            report.notices.append(Notice(path, "Suggested fixes were not applied: they overlap or would break the file.", "note"))
            continue
        target.write_text(updated, encoding="utf-8", newline="")
        report.fixed.extend(usable)
        report.files.append(path)
    fixed_ids = {id(f) for f in report.fixed}
    result.findings = [f for f in result.findings if id(f) not in fixed_ids]
    result.notices = [*result.notices, *report.notices]
    return report
