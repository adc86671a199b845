"""Small read-only helpers over the shared YAML node tree (`atlascan.parsers.yaml`), so the
manifest checks read every scalar raw (YAML 1.1 would turn `on` into True and `0755` into a
number) and find keys through `<<:` merges the same way everywhere."""

from __future__ import annotations

from collections.abc import Iterator
from collections.abc import Mapping as MappingType
from collections.abc import Sequence as SequenceType
from typing import TYPE_CHECKING

from atlascan.parsers.yaml import Mapping, Scalar, Sequence, YNode

if TYPE_CHECKING:
    from atlascan.analysis import FileContext
    from atlascan.document import Document
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


def _reported(doc: Document) -> set[tuple[str, int, int]]:
    """(rule, line, column) of each manifest finding made in this file: per-file state kept
    as a Document view, so it lives exactly as long as the scan's Document."""
    return set()


def emit(
    ctx: FileContext,
    rule_id: str,
    first: Node,
    last: Node = None,
    *,
    args: MappingType[str, object],
    severity: Severity | None = None,
    secret: str | None = None,
    related: SequenceType[tuple[Node, str]] = (),
    properties: MappingType[str, object] | None = None,
) -> None:
    """Report `rule_id` over the region of `first` .. `last` (usually a key and its value)."""
    if first is None or not ctx.enabled(rule_id):
        return
    # A key merged (`<<: *anchor`) into several mappings is one line to change: report it once.
    reported = ctx.doc.view(_reported)
    if (rule_id, first.line, first.column) in reported:
        return
    reported.add((rule_id, first.line, first.column))
    finding = ctx.finding(rule_id).at(first, last).args(**args).severity(severity).secret(secret)
    for where, message in related:
        if where is not None:
            finding.related(where, message)
    for key, value in (properties or {}).items():
        finding.property(key, value)
    finding.emit()
