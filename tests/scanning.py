"""Test helpers: scan a folder or a snippet in-process and get findings back."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from atlascan.model import Limits, ScanResult
from atlascan.pathclass import PEDANTIC, UNPROVEN
from atlascan.scan import ScanOptions, run_scan


def scan_path(path: Path, root: Path | None = None, **kwargs: object) -> ScanResult:
    """Scan as the engines see it: sinks with no outside input shown and pedantic rules are
    reported unless a test passes its own `report_classes` (the default hold-back has tests of
    its own)."""
    root = root or (path if path.is_dir() else path.parent)
    kwargs.setdefault("report_classes", frozenset({UNPROVEN, PEDANTIC}))
    opts = ScanOptions(paths=[path], root=root, use_ignore_files=False, jobs=1, limits=Limits(file_timeout_s=120), **kwargs)  # type: ignore[arg-type]
    return run_scan(opts)


def scan_text(tmp_path: Path, name: str, text: str, **kwargs: object) -> ScanResult:
    target = tmp_path / name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    return scan_path(tmp_path, **kwargs)


def pairs(result: ScanResult, rule_prefix: str = "") -> set[tuple[str, int]]:
    return {(f.rule_id, f.region.start_line) for f in result.findings if f.rule_id.startswith(rule_prefix)}


def write_tree(root: Path, files: Mapping[str, str | bytes]) -> Path:
    """Write {relative path: text or bytes} below root and return root."""
    for name, content in files.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content, encoding="utf-8")
    return root


def located(result: ScanResult, prefix: str) -> list[tuple[str, int, int | None, int | None, str]]:
    """(rule, line, column, end column, severity) of the findings whose rule id starts with prefix."""
    return sorted(
        (f.rule_id, f.region.start_line, f.region.start_column, f.region.end_column, f.severity.label)
        for f in result.findings
        if f.rule_id.startswith(prefix)
    )
