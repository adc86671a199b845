"""The suppress step: inline `atlascan: ignore[ID,...] reason` comments, per-path ignores,
fingerprints and baseline files.

An inline ignore must name rule ids (or a family prefix such as `ATS-SEC`); a bare `ignore`
is not honoured. It applies to findings on its own line or the line below it. Only real
comment tokens count (the parse stage's lexers): a marker inside a string literal, a
docstring or a YAML block scalar is text, never a suppression.

The allowlist comments of the secret scanners a repository already runs (detect-secrets'
`pragma: allowlist secret` and `pragma: allowlist nextline secret`, `gitleaks:allow`,
`trufflehog:ignore`) suppress the secret rules (ATS-SEC) on the line they name, as those
tools read them: the owner has reviewed that value once already.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from atlascan.document import Document
from atlascan.model import Finding, Limits, Span, Suppression
from atlascan.rules import id_matches

# At the start of a comment, or after another tool's directive in the same comment.
_IGNORE = re.compile(r"(?:^|#|//|;)\s*atlascan:\s*ignore\[(?P<ids>[A-Za-z0-9_,\s/-]+)\](?P<reason>[^\n]*)")
_SECRET_ALLOW = re.compile(r"pragma:\s*allowlist\s+(?P<next>nextline\s+)?secret|gitleaks:allow|trufflehog:ignore")
SECRET_RULES = "ATS-SEC"
# Words a comment must contain to be kept for this step (cheap: most files have none).
MARKER_WORDS = ("atlascan:", "allowlist", "gitleaks:allow", "trufflehog:ignore")


@dataclass(frozen=True)
class InlineIgnore:
    ids: tuple[str, ...]
    reason: str
    line: int
    exact: bool = False  # covers only its own line, not the line below (the secret scanners')

    def covers(self, rule_id: str) -> bool:
        return any(id_matches(rule_id, i) for i in self.ids)


def marker_comments(doc: Document) -> list[tuple[int, str]]:
    """(line, text) of the comments this step reads."""
    return list(dict.fromkeys((c.line, c.text) for word in MARKER_WORDS for c in doc.comments_mentioning(word)))


def parse_markers(markers: Iterable[tuple[int, str]]) -> dict[int, list[InlineIgnore]]:
    """Inline ignores from real comment tokens ((line, text after the comment marker))."""
    out: dict[int, list[InlineIgnore]] = {}
    for number, text in markers:
        m = _IGNORE.search(text)
        if m:
            ids = tuple(i.strip() for i in m.group("ids").split(",") if i.strip())
            reason = m.group("reason").strip().rstrip("*/->").strip().strip('",')
            out.setdefault(number, []).append(InlineIgnore(ids, reason, number))
        allow = _SECRET_ALLOW.search(text)
        if allow:
            line = number + 1 if allow.group("next") else number
            reason = f"allowed by the secret scanner comment `{' '.join(allow.group(0).split())}`"
            out.setdefault(line, []).append(InlineIgnore((SECRET_RULES,), reason, line, exact=True))
    return out


def match_inline(ignores: dict[int, list[InlineIgnore]], rule_id: str, region: Span) -> Suppression | None:
    if not ignores:
        return None
    last = region.end_line or region.start_line
    for line in range(region.start_line - 1, last + 1):
        for ignore in ignores.get(line, ()):
            if ignore.covers(rule_id) and (not ignore.exact or line >= region.start_line):
                return Suppression("inSource", ignore.reason or "suppressed by an inline comment")
    return None


def apply_inline(findings: Iterable[Finding], markers: Mapping[str, list[tuple[int, str]]]) -> None:
    """Mark findings covered by an inline ignore on their line or the line above (or, for a
    finding with a wider `scope`, anywhere in it)."""
    parsed: dict[str, dict[int, list[InlineIgnore]]] = {}
    for f in findings:
        if f.suppression is not None or f.path not in markers:
            continue
        if f.path not in parsed:
            parsed[f.path] = parse_markers(markers[f.path])
        f.suppression = match_inline(parsed[f.path], f.rule_id, f.scope or f.region)


def read_markers(paths: Iterable[str], root: Path, limits: Limits) -> dict[str, list[tuple[int, str]]]:
    """Suppression comments of files read outside the check step (an external engine's
    findings), through the same parse stage; files outside the root are never read."""
    from atlascan import parsers
    from atlascan.kinds import classify
    from atlascan.model import SourceFile

    out: dict[str, list[tuple[int, str]]] = {}
    real_root = root.resolve()
    for rel in paths:
        path = (root / rel).resolve()
        if not path.is_relative_to(real_root) or not path.is_file():
            continue
        file = SourceFile(rel, str(path), classify(rel) or "text", path.stat().st_size)
        try:
            doc = parsers.read(file, limits)
        except (OSError, ValueError):
            continue
        found = marker_comments(doc)
        if found:
            out[rel] = found
    return out


def drop_per_path(findings: list[Finding], per_path: Mapping[str, Sequence[str]]) -> list[Finding]:
    """`per-path-ignores`: findings of the listed rule ids or prefixes under a glob."""
    if not per_path:
        return findings
    import pathspec

    specs = [(pathspec.GitIgnoreSpec.from_lines([glob]), tuple(ids)) for glob, ids in per_path.items()]
    kept = []
    for f in findings:
        if any(spec.match_file(f.path) and any(id_matches(f.rule_id, i) for i in ids) for spec, ids in specs):
            continue
        kept.append(f)
    return kept


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


MAX_BASELINE_BYTES = 64 * 1024 * 1024


def read_baseline(path: Path) -> set[str]:
    """Fingerprints of a baseline file. Only a regular file under the size cap is read (never
    a FIFO, a device or /dev/stdin), as strict UTF-8 JSON of the shape we write."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise BaselineError(f"baseline {path} could not be read: {exc.strerror or exc}") from None
    with os.fdopen(fd, "rb") as fh:
        info = os.fstat(fh.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise BaselineError(f"baseline {path} is not a regular file")
        if info.st_size > MAX_BASELINE_BYTES:
            raise BaselineError(f"baseline {path} is over {MAX_BASELINE_BYTES >> 20} MiB")
        raw = fh.read(MAX_BASELINE_BYTES + 1)
    try:
        data = json.loads(raw.decode("utf-8"))
        return {str(e["fingerprint"]) for e in data["findings"]}
    except RecursionError:
        raise BaselineError(f"baseline {path} is nested too deeply to be a baseline") from None
    except UnicodeDecodeError:
        raise BaselineError(f"baseline {path} is not UTF-8 text") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise BaselineError(f"baseline {path} could not be read: {exc}") from None


def apply_baseline(findings: Iterable[Finding], fingerprints: set[str]) -> int:
    count = 0
    for f in findings:
        if f.suppression is None and f.fingerprint in fingerprints:
            f.suppression = Suppression("external", "in baseline")
            count += 1
    return count
