"""Test helpers: scan a folder or a snippet in-process and get findings back."""

from __future__ import annotations

from pathlib import Path

from atlascan.analysis import Limits
from atlascan.scan import ScanOptions, ScanResult, run_scan


def scan_path(path: Path, root: Path | None = None, **kwargs: object) -> ScanResult:
    root = root or (path if path.is_dir() else path.parent)
    opts = ScanOptions(paths=[path], root=root, use_ignore_files=False, jobs=1, limits=Limits(file_timeout_s=120), **kwargs)  # type: ignore[arg-type]
    return run_scan(opts)


def scan_text(tmp_path: Path, name: str, text: str, **kwargs: object) -> ScanResult:
    target = tmp_path / name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    return scan_path(tmp_path, **kwargs)


def pairs(result: ScanResult, rule_prefix: str = "") -> set[tuple[str, int]]:
    return {(f.rule_id, f.region.start_line) for f in result.findings if f.rule_id.startswith(rule_prefix)}
