"""Native HCL (.tf, .tfvars) to `syntax` objects, from tree-sitter-hcl's concrete syntax tree.

Values are normalised here, once: quoted strings lose their quotes and escapes, numbers
become numbers, and nothing is wrapped in Checkov-style one-element lists. tree-sitter
tolerates errors, so a tree holding an ERROR or MISSING node is refused as a whole, as
Terraform would refuse the file.
"""

from __future__ import annotations

import re
import textwrap
from functools import cache
from typing import TYPE_CHECKING, Any

from atlascan.model import ParseError, SourceFile
from atlascan.parsers.terraform.syntax import (
    Attribute,
    Block,
    Call,
    Expr,
    ParsedFile,
    Ref,
    Template,
)

if TYPE_CHECKING:
    from tree_sitter import Node, Parser

    from atlascan.document import Document

# A template literal's escapes, and `$${` and `%%{`: a literal `${` and `%{`.
_LITERAL = re.compile(r'\\(u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[nrt"\\])|([$%])\2(?=\{)')
_SIMPLE_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\"}
_HEREDOC = re.compile(r"^<<-?(?P<marker>[A-Za-z][A-Za-z0-9._-]*)\r?\n(?P<body>.*?)\r?\n?[ \t]*(?P=marker)\r?\n?$", re.S)
# The parts of a quoted template or of a directive (`%{ if }...%{ endif }`) that are not literal text.
_ESCAPE_CHAR = {"template_interpolation": b"$", "template_directive": b"%"}
_TEMPLATE_PARTS = frozenset({*_ESCAPE_CHAR, "template_if_intro", "template_else_intro", "template_if_end", "template_for_start", "template_for_end"})


@cache
def _parser() -> Parser:
    import tree_sitter_hcl
    from tree_sitter import Language, Parser

    return Parser(Language(tree_sitter_hcl.language()))


def read_hcl(doc: Document) -> ParsedFile:
    data = doc.text.encode("utf-8", "surrogatepass")
    root = _parser().parse(data).root_node
    reader = _Reader(data, doc.file)
    if root.has_error:
        line, column = reader.position(*_first_error(root, len(data.rstrip())))
        raise ParseError(f"Not valid HCL at line {line}, column {column}; skipped.", line)
    return reader.config(root)


def _first_error(node: Node, size: int) -> tuple[int, int]:
    """Where the first ERROR or MISSING node is, in source order, as a (byte, byte column)
    point. An ERROR node that runs to the end of the file means the input stopped short
    (an unclosed block): the end of its last token is then where it went wrong."""
    while (inner := next((c for c in node.children if c.has_error), None)) is not None:
        node = inner
    last = node.children[-1] if node.children else node
    if node.is_error and node.end_byte >= size and last.end_byte < node.end_byte:
        return last.end_byte, last.end_point[1]
    return node.start_byte, node.start_point[1]


def _unescape(chars: str) -> str:
    def sub(m: re.Match[str]) -> str:
        code = m.group(1)
        if code is None:
            return m.group(2)
        if code[0] in "uU":
            return chr(int(code[1:], 16))
        return _SIMPLE_ESCAPES[code]

    return _LITERAL.sub(sub, chars) if "\\" in chars or "{" in chars else chars


class _Reader:
    def __init__(self, data: bytes, file: SourceFile) -> None:
        self.data = data
        self.file = file
        self.ascii = data.isascii()

    # ---- positions: 1-based lines, 1-based character columns ---------------------------
    def column(self, byte: int, byte_column: int) -> int:
        if self.ascii:
            return byte_column + 1
        return len(self.data[byte - byte_column : byte].decode("utf-8", "replace")) + 1

    def position(self, byte: int, byte_column: int) -> tuple[int, int]:
        return self.data.count(b"\n", 0, byte) + 1, self.column(byte, byte_column)

    def start_of(self, node: Node) -> tuple[int, int]:
        return node.start_point[0] + 1, self.column(node.start_byte, node.start_point[1])

    def end_of(self, node: Node) -> tuple[int, int]:
        return node.end_point[0] + 1, self.column(node.end_byte, node.end_point[1])

    def source(self, node: Node) -> str:
        return self.data[node.start_byte : node.end_byte].decode("utf-8", "surrogatepass")

    # ---- structure -----------------------------------------------------------------------
    def config(self, root: Node) -> ParsedFile:
        body = next((c for c in root.children if c.type == "body"), None)
        attrs, blocks = self.body(body) if body is not None else ({}, [])
        return ParsedFile(self.file, blocks, attrs)

    def body(self, body: Node) -> tuple[dict[str, Attribute], list[Block]]:
        attrs: dict[str, Attribute] = {}
        blocks: list[Block] = []
        for child in body.children:
            if child.type == "attribute":
                attr = self.attribute(child)
                attrs[attr.name] = attr
            elif child.type == "block":
                blocks.append(self.block(child))
        return attrs, blocks

    def attribute(self, node: Node) -> Attribute:
        name = value = None
        for child in node.children:
            if child.type == "identifier":
                name = self.source(child)
            elif child.type == "expression":
                value = child
        assert name is not None and value is not None  # an error-free tree has both
        line, column = self.start_of(node)
        end_line, end_column = self.end_of(node)
        return Attribute(name, self.expression(value), line, column, end_line, end_column)

    def block(self, node: Node) -> Block:
        names: list[str] = []
        line, column = self.start_of(node)
        header_end = column
        attrs: dict[str, Attribute] = {}
        blocks: list[Block] = []
        for child in node.children:
            if child.type == "body":
                attrs, blocks = self.body(child)
            elif child.type in ("identifier", "string_lit"):
                names.append(self.source(child) if child.type == "identifier" else self.name(child))
                if child.start_point[0] == node.start_point[0]:
                    header_end = self.end_of(child)[1]
        return Block(
            type=names[0],
            labels=tuple(names[1:]),
            attributes=attrs,
            blocks=blocks,
            line=line,
            column=column,
            end_column=header_end,
            file=self.file,
            end_line=node.end_point[0] + 1,
        )

    def name(self, node: Node) -> str:
        """A quoted block label."""
        value = self.string(node)
        return value if isinstance(value, str) else self.source(node)

    # ---- values ----------------------------------------------------------------------
    def expression(self, node: Node) -> Any:
        return self.term(node, [c for c in node.children if c.type != "comment"])

    def term(self, node: Node, parts: list[Node]) -> Any:
        """A value and the attribute, index and splat steps after it (tree-sitter lists them
        as siblings); a chain of steps on a reference stays a reference."""
        if parts[0].type == "(":
            value, steps = self.expression(parts[1]), parts[3:]
        else:
            value, steps = self.value(parts[0]), parts[1:]
        for step in steps:
            key = self.step(step) if isinstance(value, Ref) else None
            if key is None:
                return Expr(self.source(node))
            value = Ref((*value.parts, key))
        return value

    def step(self, node: Node) -> str | int | None:
        if node.type == "get_attr":
            return self.source(node.children[-1])
        if node.type == "index":
            index = node.children[0]
            if index.type == "legacy_index":
                return int(self.source(index)[1:])
            inner = next((c for c in index.children if c.type == "expression"), None)
            key = self.expression(inner) if inner is not None else None
            if isinstance(key, (int, str)) and not isinstance(key, bool):
                return key
        return None  # a splat or a computed index

    def value(self, node: Node) -> Any:
        kind = node.type
        if kind == "expression":
            return self.expression(node)
        if kind == "literal_value":
            return self.literal(node.children[0])
        if kind == "variable_expr":
            return Ref((self.source(node.children[0]),))
        if kind == "template_expr":
            inner = node.children[0]
            if inner.type == "heredoc_template":
                return self.heredoc(self.source(inner))
            return self.string(inner)
        if kind == "collection_value":
            inner = node.children[0]
            return self.tuple(inner) if inner.type == "tuple" else self.object(inner)
        if kind == "function_call":
            return self.call(node)
        if kind == "operation" and node.children[0].type == "unary_operation":
            return self.unary(node.children[0])
        return Expr(self.source(node))  # conditionals, binary operators, for-expressions

    def literal(self, node: Node) -> Any:
        kind = node.type
        if kind == "numeric_lit":
            text = self.source(node)
            return float(text) if any(c in text for c in ".eE") else int(text)
        if kind == "bool_lit":
            return self.source(node) == "true"
        if kind == "null_lit":
            return None
        return self.string(node)

    def unary(self, node: Node) -> Any:
        op, *operand = (c for c in node.children if c.type != "comment")
        value = self.term(node, operand)
        if op.type == "-" and isinstance(value, (int, float)) and not isinstance(value, bool):
            return -value
        if op.type == "!" and isinstance(value, bool):
            return not value
        return Expr(self.source(node))

    def string(self, node: Node) -> Any:
        parts: list[Any] = []
        children = node.children  # the quotes, then the parts
        self.template_parts(children[1:-1], children[0].end_byte, children[-1].start_byte, parts)
        merged: list[Any] = []
        for p in parts:
            if isinstance(p, str) and merged and isinstance(merged[-1], str):
                merged[-1] += p
            else:
                merged.append(p)
        if not merged:
            return ""
        if len(merged) == 1 and isinstance(merged[0], str):
            return merged[0]
        return Template(tuple(merged))

    def template_parts(self, children: list[Node], start: int, end: int, parts: list[Any]) -> None:
        """Literal text is read from between the interpolations and directives: tree-sitter-hcl
        leaves spaces at the edges of a literal out of its `template_literal` nodes."""
        pos = start
        for part in children:
            kind = part.type
            if kind not in _TEMPLATE_PARTS or self.data[part.start_byte - 1 : part.start_byte] == _ESCAPE_CHAR.get(kind):
                continue  # literal text, or `$${`/`%%{` that tree-sitter-hcl read as `$` + `${`
            if pos < part.start_byte:
                parts.append(_unescape(self.data[pos : part.start_byte].decode("utf-8", "surrogatepass")))
            if kind == "template_interpolation":
                inner = next((c for c in part.children if c.type == "expression"), None)
                parts.append(self.expression(inner) if inner is not None else Expr(""))
            elif kind == "template_directive":
                self.template_parts(part.children[0].children, part.start_byte, part.end_byte, parts)
            else:  # `%{ if }`, `%{ else }`, `%{ endfor }`...: never evaluated
                parts.append(Expr(self.source(part)))
            pos = part.end_byte
        if pos < end:
            parts.append(_unescape(self.data[pos:end].decode("utf-8", "surrogatepass")))

    def heredoc(self, raw: str) -> Any:
        m = _HEREDOC.match(raw)
        if not m:
            return Expr(raw)
        body = m.group("body")
        return textwrap.dedent(body) if raw.startswith("<<-") else body

    def tuple(self, node: Node) -> list[Any]:
        return [self.expression(c) for c in node.children if c.type == "expression"]

    def object(self, node: Node) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for elem in node.children:
            if elem.type == "object_elem":
                key, val = elem.child_by_field_name("key"), elem.child_by_field_name("val")
                assert key is not None and val is not None
                out[self.object_key(key)] = self.expression(val)
        return out

    def object_key(self, node: Node) -> str:
        value = self.expression(node)
        if isinstance(value, Ref) and len(value.parts) == 1:
            return str(value.parts[0])  # a bare word key
        if isinstance(value, str):
            return value
        return self.source(node)

    def call(self, node: Node) -> Call:
        name = ""
        args: tuple[Any, ...] = ()
        for child in node.children:
            if child.type == "identifier":
                name = self.source(child)  # `provider::aws::arn_parse` is one identifier
            elif child.type == "function_arguments":
                args = tuple(self.expression(a) for a in child.children if a.type == "expression")
        return Call(name, args)
