"""Terraform configuration as plain data: blocks, attributes and normalised values.

Both readers (native HCL and `.tf.json`) produce these types, so rules never see the parser.
Literal values are ordinary Python values (str, int, float, bool, None, list, dict);
anything Terraform would compute is kept as an expression object for the resolver.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from atlascan.model import SourceFile, Span


@dataclass(frozen=True)
class Ref:
    """A reference such as `var.env`, `local.tags` or `aws_s3_bucket.data.id`."""

    parts: tuple[str | int, ...]

    @property
    def text(self) -> str:
        out = ""
        for part in self.parts:
            out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
        return out


@dataclass(frozen=True)
class Call:
    """A function call such as `jsonencode({...})` or `file("policy.json")`."""

    name: str
    args: tuple[Any, ...]


@dataclass(frozen=True)
class Template:
    """A quoted string with interpolations: literal str parts and expressions."""

    parts: tuple[Any, ...]


@dataclass(frozen=True)
class Expr:
    """Any other expression (conditionals, operators, for-expressions, splats): never evaluated."""

    text: str


@dataclass
class Attribute:
    name: str
    value: Any
    line: int
    column: int
    end_line: int
    end_column: int

    @property
    def span(self) -> Span:
        """Where a finding about this attribute points; a value running over several lines
        is cut to the attribute's first line, the line to change."""
        return Span(self.line, self.column, self.line, self.end_column if self.end_line == self.line else None)


@dataclass
class Block:
    """A block (`resource "t" "n" {...}`, `ingress {...}`) with its attributes and sub-blocks."""

    type: str
    labels: tuple[str, ...]
    attributes: dict[str, Attribute]
    blocks: list[Block]
    line: int
    column: int
    end_column: int  # of the header line, exclusive
    file: SourceFile
    end_line: int = 0

    @property
    def header(self) -> Span:
        """The header line (`resource "t" "n"`): where a missing attribute is reported."""
        return Span(self.line, self.column, self.line, self.end_column)

    def sub(self, name: str) -> list[Block]:
        return [b for b in self.blocks if b.type == name]

    def first(self, name: str) -> Block | None:
        for b in self.blocks:
            if b.type == name:
                return b
        return None


@dataclass
class ParsedFile:
    file: SourceFile
    blocks: list[Block] = field(default_factory=list)
    attributes: dict[str, Attribute] = field(default_factory=dict)  # .tfvars top level
