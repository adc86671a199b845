"""Suppressions: inline `atlascan: ignore[ID,...] reason` comments and baseline files.

An inline ignore must name rule ids (or a family prefix such as `ATS-SEC`); a bare `ignore`
is not honoured. It applies to findings on its own line or the line below it. Only comments
count: the marker must follow the comment syntax of the file's kind.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from atlascan.model import Finding, Region, Suppression

_COMMENT_BY_KIND = {
    "terraform": r"(?:#|//|/\*)",
    "json": r"(?://)",
    "notebook": r"(?:#|//)",
}
_DEFAULT_COMMENT = r"(?:#|//|/\*|<!--|--|;)"
_IGNORE = r"\s*atlascan:\s*ignore\[(?P<ids>[A-Za-z0-9_,\s/-]+)\](?P<reason>[^\n]*)"
_PATTERNS: dict[str, re.Pattern[str]] = {}


@dataclass(frozen=True)
class InlineIgnore:
    ids: tuple[str, ...]
    reason: str
    line: int

    def covers(self, rule_id: str) -> bool:
        return any(rule_id == i or rule_id.startswith(i + "-") for i in self.ids)


def _pattern(kind: str) -> re.Pattern[str]:
    if kind not in _PATTERNS:
        _PATTERNS[kind] = re.compile(_COMMENT_BY_KIND.get(kind, _DEFAULT_COMMENT) + _IGNORE)
    return _PATTERNS[kind]


def parse_inline(lines: list[str], kind: str) -> dict[int, list[InlineIgnore]]:
    out: dict[int, list[InlineIgnore]] = {}
    pattern = _pattern(kind)
    for number, text in enumerate(lines, start=1):
        if "atlascan:" not in text:
            continue
        m = pattern.search(text)
        if not m:
            continue
        if not _outside_string(text, m.start(), kind == "notebook"):
            continue
        ids = tuple(i.strip() for i in m.group("ids").split(",") if i.strip())
        reason = m.group("reason").strip().rstrip("*/->").strip().strip('",')
        out.setdefault(number, []).append(InlineIgnore(ids, reason, number))
    return out


def _outside_string(text: str, pos: int, json_line: bool) -> bool:
    """Cheap guard: a marker preceded by an unclosed quote sits inside a string literal.
    Notebook sources are JSON strings, so there the line's own opening quote is discounted."""
    before = text[:pos]
    if json_line:
        before = before.lstrip()[1:].replace('\\"', "")
    return before.count('"') % 2 == 0 and before.count("'") % 2 == 0


def match_inline(ignores: dict[int, list[InlineIgnore]], rule_id: str, region: Region) -> Suppression | None:
    if not ignores:
        return None
    last = region.end_line or region.start_line
    for line in range(region.start_line - 1, last + 1):
        for ignore in ignores.get(line, ()):
            if ignore.covers(rule_id):
                return Suppression("inSource", ignore.reason or "suppressed by an inline comment")
    return None


# ---- fingerprints and baselines ------------------------------------------------------------


def _normalise(snippet: str) -> str:
    return " ".join(snippet.split())


def assign_fingerprints(findings: Iterable[Finding]) -> None:
    """Stable across moved code: rule, file and the content of the flagged line, plus an
    occurrence counter for identical lines. Line numbers are deliberately left out."""
    seen: Counter[str] = Counter()
    for finding in sorted(findings, key=Finding.sort_key):
        base = f"{finding.rule_id}\0{finding.path}\0{_normalise(finding.snippet) or finding.message}"
        seen[base] += 1
        digest = hashlib.sha256(f"{base}\0{seen[base]}".encode()).hexdigest()[:32]
        finding.fingerprint = digest


BASELINE_VERSION = 1


def write_baseline(path: Path, findings: Iterable[Finding]) -> int:
    entries = [
        {"rule": f.rule_id, "path": f.path, "fingerprint": f.fingerprint, "message": f.message}
        for f in sorted(findings, key=Finding.sort_key)
        if f.suppression is None
    ]
    path.write_text(json.dumps({"version": BASELINE_VERSION, "findings": entries}, indent=1) + "\n", "utf-8")
    return len(entries)


class BaselineError(ValueError):
    pass


def read_baseline(path: Path) -> set[str]:
    try:
        data = json.loads(path.read_text("utf-8"))
        return {str(e["fingerprint"]) for e in data["findings"]}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise BaselineError(f"baseline {path} could not be read: {exc}") from None


def apply_baseline(findings: Iterable[Finding], fingerprints: set[str]) -> int:
    count = 0
    for f in findings:
        if f.suppression is None and f.fingerprint in fingerprints:
            f.suppression = Suppression("external", "in baseline")
            count += 1
    return count
