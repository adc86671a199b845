"""Report a Terraform finding at the attribute to change, or at the block header when the
attribute is missing: one place that turns syntax positions into `ctx.report` regions."""

from __future__ import annotations

from typing import Any

from atlascan.analysis import GroupContext
from atlascan.engines.terraform.syntax import Attribute, Block
from atlascan.model import Precision, Severity, SourceFile


def report_attribute(
    ctx: GroupContext,
    rule_id: str,
    attr: Attribute,
    file: SourceFile,
    args: dict[str, Any],
    *,
    line: int | None = None,
    severity: Severity | None = None,
    precision: Precision | None = None,
) -> None:
    """At the attribute (or at `line` inside a multi-line attribute value)."""
    if line is not None and line != attr.line:
        ctx.report(rule_id, line, args=args, file=file, severity=severity, precision=precision)
        return
    end_column = attr.end_column if attr.end_line == attr.line else None
    ctx.report(
        rule_id, attr.line, attr.column, attr.line, end_column,
        args=args, file=file, severity=severity, precision=precision,
    )  # fmt: skip


def report_block(
    ctx: GroupContext,
    rule_id: str,
    block: Block,
    args: dict[str, Any],
    *,
    severity: Severity | None = None,
    precision: Precision | None = None,
) -> None:
    """At the block header (`resource "t" "n"`), the place to add a missing attribute."""
    ctx.report(
        rule_id, block.line, block.column, block.line, block.end_column,
        args=args, file=block.file, severity=severity, precision=precision,
    )  # fmt: skip
