"""A fast, position-keeping YAML layer for the YAML engines (workflows, manifests, commands).

ruamel.yaml's C parser (libyaml through ruamel.yaml.clib, pure Python when the clib is
missing) produces events; a small iterative composer here turns them into a node tree. It
never constructs Python objects from tags, so nothing scanned is ever evaluated, and scalars
stay RAW strings: `on:` is the string "on", `01` stays "01".

API (stable; other engines build on it):

- `parse(text) -> YamlFile`: every document of a stream. Raises `ParseError` (with a line)
  for invalid YAML, Helm/Go templates, nesting deeper than `MAX_DEPTH` and alias expansion
  larger than `MAX_EXPANDED_NODES` (billion laughs). Duplicate keys do not raise: they are
  listed in `YamlFile.warnings` as (message, line) and the last value wins.
- `tree(doc) -> YamlFile`: the parse stage's entry (`Document.tree` of every YAML kind);
  its warnings become the document's notes.
- Nodes: `Scalar(value, style)`, `Mapping(pairs)`, `Sequence(items)`, all with 1-based
  `line`/`column` of their first character and `end_line`/`end_column` (exclusive), the
  explicit `tag` (or None) and `anchor`. `style` is "" (plain), "'", '"', "|" or ">".
  Aliases are the anchored node object itself (shared, never copied).
- `Mapping.get(key)`, `.key_node(key)`, `.text(key)`, `.entries()` see `<<:` merge keys
  (own keys win over merged ones, earlier merges over later ones, as in YAML 1.1).
- `scalar_anchors(node, lines)`: (offset in value, file line, file column) for each piece
  of a scalar, so an offset inside a block or multi-line flow scalar maps back into the
  file (the format of `CommandText.anchors`); `scalar_position(node, offset, lines)` for one
  offset.
- `walk(node)`: every node below and including `node`, depth first, each shared node once.
"""

from __future__ import annotations

import gc
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from atlascan.model import ParseError

if TYPE_CHECKING:
    from atlascan.document import Document

MAX_DEPTH = 200  # real manifests nest < 30 levels; deeper input is hostile or generated
MAX_EXPANDED_NODES = 1_000_000  # node count with every alias expanded
MAX_NODES = 2_000_000  # distinct nodes

# A line that is a Go template action (`{{- if .Values.x }}`, `{{ include ... }}`): Helm.
_TEMPLATE_LINE = re.compile(r"^[ \t]*\{\{-?[ \t]*(?:[.$]|if\b|end\b|range\b|with\b|include\b|template\b|define\b|toYaml\b|else\b|-)|^[^#\n]*:[ \t]+\{\{-?[ \t]*\.", re.M)
_TEMPLATE_ANY = re.compile(r"(?<![$\w])\{\{-?\s*(?:\.Values|\.Release|\.Chart|include\b|toYaml\b|template\b)")


class Node:
    __slots__ = ("anchor", "column", "end_column", "end_line", "line", "size", "tag")

    def __init__(self, line: int, column: int, tag: str | None, anchor: str | None) -> None:
        self.line = line
        self.column = column
        self.end_line = line
        self.end_column = column
        self.tag = tag
        self.anchor = anchor
        self.size = 1  # nodes below and including this one, aliases expanded


class Scalar(Node):
    __slots__ = ("style", "value")

    def __init__(self, value: str, style: str, line: int, column: int, tag: str | None, anchor: str | None) -> None:
        # Attributes set inline (no super() call): scalars are most of the nodes.
        self.line = line
        self.column = column
        self.end_line = line
        self.end_column = column
        self.tag = tag
        self.anchor = anchor
        self.size = 1
        self.value = value
        self.style = style

    @property
    def quoted(self) -> bool:
        return self.style in ("'", '"')

    def __repr__(self) -> str:
        return f"Scalar({self.value!r}@{self.line}:{self.column})"


class Sequence(Node):
    __slots__ = ("flow", "items")

    def __init__(self, line: int, column: int, tag: str | None, anchor: str | None, flow: bool) -> None:
        super().__init__(line, column, tag, anchor)
        self.items: list[YNode] = []
        self.flow = flow

    def __repr__(self) -> str:
        return f"Sequence({len(self.items)}@{self.line}:{self.column})"


class Mapping(Node):
    __slots__ = ("_index", "flow", "merges", "pairs")

    def __init__(self, line: int, column: int, tag: str | None, anchor: str | None, flow: bool) -> None:
        super().__init__(line, column, tag, anchor)
        self.pairs: list[tuple[YNode, YNode]] = []
        self.merges: list[Mapping] = []  # `<<:` sources, in priority order
        self.flow = flow
        self._index: dict[str, int] = {}  # scalar key -> index of its last pair

    def _find(self, key: str, depth: int = 0) -> tuple[YNode, YNode] | None:
        i = self._index.get(key)
        if i is not None:
            return self.pairs[i]
        if depth < MAX_DEPTH:
            for source in self.merges:
                found = source._find(key, depth + 1)
                if found is not None:
                    return found
        return None

    def get(self, key: str) -> YNode | None:
        found = self._find(key)
        return found[1] if found else None

    def key_node(self, key: str) -> YNode | None:
        found = self._find(key)
        return found[0] if found else None

    def text(self, key: str) -> str | None:
        """The raw value of a scalar entry; None when absent or not a scalar."""
        value = self.get(key)
        return value.value if isinstance(value, Scalar) else None

    def __contains__(self, key: str) -> bool:
        return self._find(key) is not None

    def entries(self) -> Iterator[tuple[str, YNode, YNode]]:
        """(key text, key node, value node) of every effective entry, merged ones included.
        Non-scalar keys are skipped."""
        seen: set[str] = set()
        yield from self._entries(seen, 0)

    def _entries(self, seen: set[str], depth: int) -> Iterator[tuple[str, YNode, YNode]]:
        for key, i in self._index.items():
            if key not in seen:
                seen.add(key)
                k, v = self.pairs[i]
                yield key, k, v
        if depth < MAX_DEPTH:
            for source in self.merges:
                yield from source._entries(seen, depth + 1)

    def keys(self) -> list[str]:
        return [k for k, _, _ in self.entries()]

    def __repr__(self) -> str:
        return f"Mapping({list(self._index)}@{self.line}:{self.column})"


YNode = Scalar | Sequence | Mapping


class YamlDocument:
    __slots__ = ("index", "root")

    def __init__(self, root: YNode | None, index: int) -> None:
        self.root = root
        self.index = index


class YamlFile:
    __slots__ = ("documents", "warnings")

    def __init__(self, documents: list[YamlDocument], warnings: list[tuple[str, int | None]]) -> None:
        self.documents = documents
        self.warnings = warnings

    def roots(self) -> Iterator[YNode]:
        for doc in self.documents:
            if doc.root is not None:
                yield doc.root


def _yaml() -> Any:
    from ruamel.yaml import YAML

    try:
        return YAML(typ="safe", pure=False)
    except Exception:  # pragma: no cover - clib missing or broken
        return YAML(typ="safe", pure=True)


_PARSER: Any = None


def parse(text: str) -> YamlFile:
    """All documents of `text` as node trees; see the module docstring for the errors."""
    global _PARSER
    template = _TEMPLATE_LINE.search(text)
    if template:
        # A chart's templates are a known format atlascan does not render, not broken input:
        # a note, one per folder of them (render with `helm template` and scan the output).
        raise ParseError("Helm/Go template ({{ ... }} actions) skipped: render it (`helm template`) and scan the output.", level="note")
    from ruamel.yaml import events as ev
    from ruamel.yaml.error import YAMLError

    if _PARSER is None:
        _PARSER = _yaml()
    composer = _Composer()
    handlers = composer.handlers(ev)
    # The tree has no reference cycles; the cyclic GC pausing on every allocation burst
    # costs ~40% of the parse time on large files.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for event in _PARSER.parse(text):
            handlers.get(event.__class__, _ignore)(event)
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        hint = " (it looks like a Helm/Go template)" if _TEMPLATE_ANY.search(text) else ""
        raise ParseError(f"Invalid YAML{hint}: {problem} (line {line}).", line) from None
    except (ValueError, UnicodeError) as exc:  # e.g. control characters libyaml refuses
        raise ParseError(f"Invalid YAML: {exc}.") from None
    finally:
        if gc_was_enabled:
            gc.enable()
    return YamlFile(composer.documents, composer.warnings)


class _Composer:
    """Builds nodes from parser events without recursion (libyaml nests without limit, so a
    recursive composer can exhaust the C stack on `[[[[...`)."""

    def __init__(self) -> None:
        self.documents: list[YamlDocument] = []
        self.warnings: list[tuple[str, int | None]] = []
        self.anchors: dict[str, YNode] = {}
        self.stack: list[Mapping | Sequence] = []
        self.pending_key: list[YNode | None] = []  # per open mapping: key waiting for its value
        self.open: set[int] = set()  # ids of unfinished nodes (aliases to them recurse)
        self.root: YNode | None = None
        self.nodes = 0
        self.doc_size = 0

    def handlers(self, ev: Any) -> dict[type, Any]:
        """Event class -> method; a dict lookup per event instead of an isinstance chain."""
        return {
            ev.ScalarEvent: self._scalar,
            ev.MappingStartEvent: self._start_mapping,
            ev.SequenceStartEvent: self._start_sequence,
            ev.MappingEndEvent: self._end,
            ev.SequenceEndEvent: self._end,
            ev.AliasEvent: self._alias,
            ev.DocumentStartEvent: self._start_document,
            ev.DocumentEndEvent: self._end_document,
        }

    def _scalar(self, event: Any) -> None:
        m = event.start_mark
        e = event.end_mark
        tag = event.tag
        node = Scalar(event.value, event.style or "", m.line + 1, m.column + 1, tag if tag and tag != "!" else None, event.anchor)
        node.end_line = e.line + 1
        node.end_column = e.column + 1
        self.nodes += 1
        if node.anchor or self.nodes > MAX_NODES:
            self._register(node)
        self._add(node)

    def _start_mapping(self, event: Any) -> None:
        self._start(Mapping, event)

    def _start_sequence(self, event: Any) -> None:
        self._start(Sequence, event)

    def _start(self, cls: type[Mapping] | type[Sequence], event: Any) -> None:
        m = event.start_mark
        if len(self.stack) >= MAX_DEPTH:
            raise ParseError(f"YAML is nested more than {MAX_DEPTH} levels deep; skipped.", m.line + 1)
        coll = cls(m.line + 1, m.column + 1, _tag(event), event.anchor, bool(event.flow_style))
        self.nodes += 1
        self._register(coll)
        self.open.add(id(coll))
        self.stack.append(coll)
        self.pending_key.append(None)

    def _end(self, event: Any) -> None:
        done = self.stack.pop()
        self.pending_key.pop()
        self.open.discard(id(done))
        e = event.end_mark
        done.end_line, done.end_column = e.line + 1, e.column + 1
        self._add(done)

    def _alias(self, event: Any) -> None:
        target = self.anchors.get(event.anchor)
        line = event.start_mark.line + 1
        if target is None:
            raise ParseError(f"Invalid YAML: alias *{event.anchor} names no anchor (line {line}).", line)
        if id(target) in self.open:
            raise ParseError(f"Invalid YAML: alias *{event.anchor} refers to its own ancestor (line {line}).", line)
        self._add(target, alias_line=line)

    def _start_document(self, event: Any) -> None:
        self.anchors = {}
        self.root = None
        self.doc_size = 0

    def _end_document(self, event: Any) -> None:
        root = self.root
        if isinstance(root, Scalar) and root.value == "" and root.style == "" and root.tag is None:
            root = None  # an empty document (`---` alone)
        self.documents.append(YamlDocument(root, len(self.documents)))

    def _register(self, node: YNode) -> None:
        if self.nodes > MAX_NODES:
            raise ParseError(f"YAML has more than {MAX_NODES} nodes; skipped.", node.line)
        if node.anchor:
            self.anchors[node.anchor] = node

    def _add(self, node: YNode, alias_line: int | None = None) -> None:
        """Attach a finished node (or an alias to one) to the open collection."""
        if not self.stack:
            self.root = node
            return
        parent = self.stack[-1]
        parent.size += node.size
        # The expanded size of a document bounds every walk over it (billion laughs).
        self.doc_size += node.size if alias_line is not None else 1
        if self.doc_size > MAX_EXPANDED_NODES:
            raise ParseError(
                f"YAML aliases expand to more than {MAX_EXPANDED_NODES} nodes (an alias bomb?); skipped.",
                alias_line or node.line,
            )
        if isinstance(parent, Sequence):
            parent.items.append(node)
            return
        key = self.pending_key[-1]
        if key is None:
            self.pending_key[-1] = node
            return
        self.pending_key[-1] = None
        if isinstance(key, Scalar) and key.value == "<<" and key.style == "" and key.tag is None:
            sources = node.items if isinstance(node, Sequence) else [node]
            parent.merges.extend(s for s in sources if isinstance(s, Mapping))
            return
        parent.pairs.append((key, node))
        if isinstance(key, Scalar):
            if key.value in parent._index:
                first = parent.pairs[parent._index[key.value]][0]
                self.warnings.append(
                    (f"Duplicate YAML key {key.value!r} (line {key.line}, first on line {first.line}); the last one is used.", key.line)
                )
            parent._index[key.value] = len(parent.pairs) - 1


def _ignore(event: Any) -> None:
    """Stream start/end events carry nothing."""


def _tag(event: Any) -> str | None:
    tag = event.tag
    return tag if tag and tag != "!" else None


def walk(node: YNode) -> Iterator[YNode]:
    """Every node under `node` (itself included), depth first; shared (aliased) nodes once."""
    seen: set[int] = set()
    todo: list[YNode] = [node]
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        if isinstance(current, Mapping):
            for k, v in reversed(current.pairs):
                todo.append(v)
                todo.append(k)
        elif isinstance(current, Sequence):
            todo.extend(reversed(current.items))


# ---- offsets inside scalars -------------------------------------------------------------

Anchor = tuple[int, int, int]


def scalar_anchors(node: Scalar, lines: list[str]) -> tuple[Anchor, ...]:
    """(offset in `node.value`, file line, file column) for each piece of the scalar's text,
    sorted by offset. Exact for literal (`|`) blocks and plain/quoted lines without escapes;
    folded and escaped text maps each file line's piece to its place in the value."""
    if node.style in ("|", ">"):
        return _block_anchors(node, lines)
    quote = 1 if node.quoted else 0
    if node.end_line <= node.line or ("\n" not in node.value and node.line == node.end_line):
        return ((0, node.line, node.column + quote),)
    anchors: list[Anchor] = []
    cursor = 0
    for number in range(node.line, min(node.end_line, len(lines)) + 1):
        raw = lines[number - 1]
        if number == node.line:
            start = node.column - 1 + quote
        else:
            start = len(raw) - len(raw.lstrip(" \t"))
        piece = raw[start:].rstrip()
        if number == node.end_line and quote:
            piece = piece[: max(0, node.end_column - 2 - start)]
        if not piece:
            continue
        at = node.value.find(piece, cursor)
        if at >= 0:
            anchors.append((at, number, start + 1))
            cursor = at + len(piece)
    return _with_origin(anchors, node.line, node.column + quote)


def _block_anchors(node: Scalar, lines: list[str]) -> tuple[Anchor, ...]:
    header = lines[node.line - 1][node.column - 1 :] if node.line <= len(lines) else ""
    explicit = re.match(r"[|>][+-]?([1-9])|[|>][+-]?", header)
    parent_indent = _indent(lines[node.line - 1]) if node.line <= len(lines) else 0
    indent: int | None = None
    if explicit and explicit.group(1):
        indent = parent_indent + int(explicit.group(1))
    anchors: list[Anchor] = []
    cursor = 0
    last = min(len(lines), max(node.end_line, node.line + 1))
    for number in range(node.line + 1, last + 1):
        raw = lines[number - 1]
        if not raw.strip():
            continue
        here = _indent(raw)
        if indent is None:
            indent = here
        if here < indent:
            break
        piece = raw[indent:].rstrip("\r")
        at = node.value.find(piece, cursor)
        if at < 0:
            piece = piece.rstrip()
            at = node.value.find(piece, cursor)
        if at >= 0:
            anchors.append((at, number, indent + 1))
            cursor = at + len(piece)
    return _with_origin(anchors, node.line + 1, (indent or 0) + 1)


def _indent(raw: str) -> int:
    return len(raw) - len(raw.lstrip(" "))


def _with_origin(anchors: list[Anchor], line: int, column: int) -> tuple[Anchor, ...]:
    if not anchors or anchors[0][0] != 0:
        first_line, first_col = (anchors[0][1], anchors[0][2]) if anchors else (line, column)
        anchors.insert(0, (0, first_line, first_col))
    return tuple(anchors)


def scalar_position(node: Scalar, offset: int, lines: list[str]) -> tuple[int, int]:
    """1-based (line, column) in the file of character `offset` in `node.value`."""
    best = (0, node.line, node.column)
    for anchor in scalar_anchors(node, lines):
        if anchor[0] <= offset:
            best = anchor
    return best[1], best[2] + (offset - best[0])


# ---- the parse stage ----------------------------------------------------------------------

def tree(doc: Document) -> YamlFile:
    """The parse stage's entry: every document of the file, parsed once per scan; duplicate
    keys and similar warnings become the document's notes (notices of the scan)."""
    try:
        parsed = parse(doc.text)
    except RecursionError:
        raise ParseError("YAML is too deeply nested; skipped.") from None
    doc.notes.extend(parsed.warnings)
    return parsed
