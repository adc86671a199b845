"""GitHub Actions workflow commands: findings become annotations on the pull request."""

from __future__ import annotations

from typing import Any

from atlascan.model import ScanResult, Severity
from atlascan.textutil import printable

_LEVEL = {Severity.CRITICAL: "error", Severity.HIGH: "error", Severity.MEDIUM: "warning",
          Severity.LOW: "notice", Severity.INFO: "notice"}  # fmt: skip


def _escape_data(text: str) -> str:
    """Workflow-command data: control characters shown escaped first (an ESC or a bidi
    override in a scanned name must not reach the log raw), then GitHub's own escapes."""
    return printable(text).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_prop(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render(result: ScanResult, **_: Any) -> str:
    lines = []
    for f in result.active_findings:
        props = [f"file={_escape_prop(f.path)}", f"line={f.region.start_line}"]
        if f.region.start_column:
            props.append(f"col={f.region.start_column}")
        if f.region.end_line:
            props.append(f"endLine={f.region.end_line}")
        rule = result.rules[f.rule_id]
        props.append(f"title={_escape_prop(f'{f.rule_id} {rule.name} ({f.severity.label})')}")
        lines.append(f"::{_LEVEL[f.severity]} {','.join(props)}::{_escape_data(f.message)}")
    for n in result.notices:
        if n.level in ("error", "warning"):
            line = f",line={n.line}" if n.line else ""
            lines.append(f"::warning file={_escape_prop(n.path)}{line},title=atlascan could not scan::{_escape_data(n.message)}")
    return "\n".join(lines) + ("\n" if lines else "")
