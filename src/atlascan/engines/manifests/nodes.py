"""Small read-only helpers over the shared YAML node tree (`atlascan.parsers.yaml`), so the
manifest checks read every scalar raw (YAML 1.1 would turn `on` into True and `0755` into a
number) and find keys through `<<:` merges the same way everywhere."""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from collections.abc import Mapping as MappingType
from typing import TYPE_CHECKING

from atlascan.parsers.yaml import Mapping, Scalar, Sequence, YNode

if TYPE_CHECKING:
    from atlascan.analysis import FileContext
    from atlascan.model import Severity

Node = YNode | None


def entries(node: Node) -> Iterator[tuple[str, YNode, YNode]]:
    """(key text, key node, value node) of a mapping; nothing for other nodes."""
    if isinstance(node, Mapping):
        yield from node.entries()


def get(node: Node, *path: str) -> Node:
    """The node at a path of mapping keys, or None."""
    for name in path:
        if not isinstance(node, Mapping):
            return None
        node = node.get(name)
    return node


def key_node(node: Node, name: str) -> Node:
    return node.key_node(name) if isinstance(node, Mapping) else None


def items(node: Node) -> list[YNode]:
    return node.items if isinstance(node, Sequence) else []


def text(node: Node) -> str | None:
    """The raw text of a scalar node (None for anything else)."""
    return node.value if isinstance(node, Scalar) else None


def is_true(node: Node) -> bool:
    return (text(node) or "").strip().lower() in ("true", "yes", "on", "y")


def is_false(node: Node) -> bool:
    return (text(node) or "").strip().lower() in ("false", "no", "off", "n")


def span(first: YNode, last: Node = None) -> tuple[int, int, int, int | None]:
    """(line, column, end line, end column) from `first` to the end of `last` (or `first`),
    cut to the first line when the value runs over several lines."""
    end = last if last is not None else first
    if end.end_line != first.line:
        return first.line, first.column, first.line, None
    return first.line, first.column, end.end_line, end.end_column


_REPORTED: weakref.WeakKeyDictionary[FileContext, set[tuple[str, int, int]]] = (
    weakref.WeakKeyDictionary()
)


def emit(
    ctx: FileContext,
    rule_id: str,
    first: Node,
    last: Node = None,
    *,
    args: MappingType[str, object],
    severity: Severity | None = None,
    secret: str | None = None,
) -> None:
    """Report `rule_id` over the region of `first` .. `last` (usually a key and its value)."""
    if first is None or not ctx.enabled(rule_id):
        return
    line, column, end_line, end_column = span(first, last)
    # A key merged (`<<: *anchor`) into several mappings is one line to change: report it once.
    done = _REPORTED.setdefault(ctx, set())
    if (rule_id, line, column) in done:
        return
    done.add((rule_id, line, column))
    ctx.report(
        rule_id, line, column, end_line, end_column, args=args, severity=severity, secret=secret
    )
