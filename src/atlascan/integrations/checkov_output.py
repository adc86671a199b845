"""Parse Checkov's `-o json` report into plain records with scan-root relative paths.

The report is one object per framework (`check_type`, `results.failed_checks`, `summary`), a
list of them when several frameworks ran, or a bare summary when nothing was scanned.
"""

from __future__ import annotations

import json
import os
import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from atlascan.integrations.checkov_runner import CheckovError, last_line


@dataclass(frozen=True)
class CheckovRecord:
    """One failed Checkov check, with its path made relative to the scan root."""

    check_id: str
    check_name: str
    framework: str
    path: str
    start_line: int
    end_line: int
    resource: str
    evaluated_keys: tuple[str, ...] = ()


@dataclass
class CheckovOutput:
    records: list[CheckovRecord] = field(default_factory=list)
    version: str = ""
    parsing_errors: int = 0
    outside_root: int = 0


def _json_start(text: str) -> int:
    """Checkov prints only JSON with `-o json --quiet`, but a plugin warning may precede it."""
    for match in re.finditer(r"^[\[{]", text, re.M):
        return match.start()
    return -1


def _documents(text: str) -> list[Any]:
    """Every JSON value in the text: Checkov prints one report per `--directory`/`--file`."""
    decoder = json.JSONDecoder()
    docs: list[Any] = []
    pos = 0
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos >= len(text):
            return docs
        doc, pos = decoder.raw_decode(text, pos)
        docs.append(doc)


def parse_output(text: str, root: Path) -> CheckovOutput:
    """Checkov's `-o json` report: one object per framework (a list when several ran), or a
    bare summary when nothing was scanned, once per scanned target. Raises CheckovError when
    it is not that shape."""
    start = _json_start(text)
    if start < 0:
        raise CheckovError(
            "Checkov printed no JSON report"
            + (f" ({last_line(text)})" if text.strip() else "")
            + "."
        )
    try:
        docs = _documents(text[start:])
    except (ValueError, RecursionError) as exc:
        raise CheckovError(f"Checkov's report is not valid JSON ({str(exc)[:120]}).") from None
    reports = [r for doc in docs for r in (doc if isinstance(doc, list) else [doc])]
    out = CheckovOutput()
    seen: set[CheckovRecord] = set()
    for report in reports:
        if not isinstance(report, dict):
            raise CheckovError(
                "Checkov's report has an unexpected shape (not an object per framework)."
            )
        summary = report.get("summary", report)
        if isinstance(summary, dict):
            out.version = out.version or str(summary.get("checkov_version") or "")
            errors = summary.get("parsing_errors", 0)
            out.parsing_errors += errors if isinstance(errors, int) else 0
        results = report.get("results")
        if results is None:
            continue
        failed = results.get("failed_checks", []) if isinstance(results, dict) else None
        if not isinstance(failed, list):
            raise CheckovError(
                "Checkov's report has an unexpected shape (`results.failed_checks` is not a list)."
            )
        framework = str(report.get("check_type") or "")
        for raw in failed:
            record = _record(raw, framework, root)
            if record is None:
                out.outside_root += 1
            elif record not in seen:  # overlapping targets report a resource twice
                seen.add(record)
                out.records.append(record)
    return out


def _record(raw: Any, framework: str, root: Path) -> CheckovRecord | None:
    if not isinstance(raw, dict) or not isinstance(raw.get("check_id"), str):
        raise CheckovError("Checkov's report has a failed check without a `check_id`.")
    path = _relative(raw, root)
    if path is None:
        return None
    lines = raw.get("file_line_range")
    start, end = 1, 1
    if isinstance(lines, list) and len(lines) == 2 and all(isinstance(n, int) for n in lines):
        start = max(1, lines[0])
        end = max(start, lines[1])
    result = raw.get("check_result") if isinstance(raw.get("check_result"), dict) else {}
    keys = result.get("evaluated_keys") if isinstance(result, dict) else None
    return CheckovRecord(
        check_id=raw["check_id"],
        check_name=str(raw.get("check_name") or raw["check_id"]),
        framework=framework,
        path=path,
        start_line=start,
        end_line=end,
        resource=str(raw.get("resource") or ""),
        evaluated_keys=tuple(k for k in keys if isinstance(k, str))
        if isinstance(keys, list)
        else (),
    )


def _relative(raw: Mapping[str, Any], root: Path) -> str | None:
    """The scan-root relative path, from `file_abs_path`; None for files outside the root.
    Without it, `file_path` (relative to the folder given to Checkov) is the fallback;
    `repo_file_path` is relative to Checkov's working folder and never used."""
    absolute = raw.get("file_abs_path")
    if isinstance(absolute, str) and os.path.isabs(absolute):
        return _under(absolute, str(root))
    rel = raw.get("file_path")
    if not isinstance(rel, str) or not rel.strip("/"):
        return None
    rel = posixpath.normpath(rel.lstrip("/"))
    return None if rel == ".." or rel.startswith("../") else rel


@lru_cache(maxsize=4096)
def _under(absolute: str, root: str) -> str | None:
    """Many failed checks share a file: resolve each path once."""
    try:
        return Path(absolute).resolve().relative_to(Path(root).resolve()).as_posix()
    except ValueError:
        return None
