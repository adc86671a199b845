"""Native HCL (.tf, .tfvars) to `syntax` objects, from python-hcl2's Lark parse tree.

We walk the raw Lark tree ourselves because it carries `meta.line`/`meta.column` on every
block and attribute, while python-hcl2's dict output drops positions. Values are
normalised here, once: quoted strings lose their quotes and escapes, numbers become
numbers, and nothing is wrapped in Checkov-style one-element lists.
"""

from __future__ import annotations

import re
import textwrap
from typing import TYPE_CHECKING, Any

from atlascan.model import ParseError, SourceFile
from atlascan.parsers.terraform.grammar import hcl_parser
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
    from atlascan.document import Document

_ESCAPES = re.compile(r'\\(u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[nrt"\\])')
_HEREDOC = re.compile(r"^<<-?(?P<marker>[A-Za-z][A-Za-z0-9._-]*)\r?\n(?P<body>.*?)\r?\n?[ \t]*(?P=marker)\r?\n?$", re.S)


def read_hcl(doc: Document) -> ParsedFile:
    from lark.exceptions import LarkError, UnexpectedInput

    text = doc.text
    try:
        tree = hcl_parser().parse(text + "\n")  # the grammar needs a final newline
    except UnexpectedInput as exc:
        line = getattr(exc, "line", None)
        raise ParseError(f"Not valid HCL at line {line}, column {getattr(exc, 'column', '?')}; skipped.", line if isinstance(line, int) and line > 0 else None) from None
    except LarkError as exc:
        raise ParseError(f"Not valid HCL ({type(exc).__name__}); skipped.") from None
    return _Reader(text, doc.file).start(tree)


def _unescape(chars: str) -> str:
    def sub(m: re.Match[str]) -> str:
        code = m.group(1)
        if code[0] in "uU":
            return chr(int(code[1:], 16))
        return {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\"}[code]

    return _ESCAPES.sub(sub, chars) if "\\" in chars else chars


def _is_token(node: Any) -> bool:
    return not hasattr(node, "data")


class _Reader:
    def __init__(self, text: str, file: SourceFile) -> None:
        self.text = text + "\n"
        self.file = file

    def start(self, tree: Any) -> ParsedFile:
        body = tree.children[0]
        attrs, blocks = self.body(body)
        return ParsedFile(self.file, blocks, attrs)

    def body(self, body: Any) -> tuple[dict[str, Attribute], list[Block]]:
        attrs: dict[str, Attribute] = {}
        blocks: list[Block] = []
        for child in body.children:
            if _is_token(child):
                continue
            if child.data == "attribute":
                attr = self.attribute(child)
                attrs[attr.name] = attr
            elif child.data == "block":
                blocks.append(self.block(child))
        return attrs, blocks

    def attribute(self, node: Any) -> Attribute:
        name = self.name(node.children[0])
        value = self.value(node.children[-1])
        meta = node.meta
        return Attribute(name, value, meta.line, meta.column, meta.end_line, meta.end_column)

    def block(self, node: Any) -> Block:
        names: list[str] = []
        header_end = node.meta.column
        body = None
        for child in node.children:
            if _is_token(child):
                if child.type == "LBRACE":
                    continue
                continue
            if child.data == "body":
                body = child
            elif child.data != "new_line_or_comment":
                names.append(self.name(child))
                if child.meta.line == node.meta.line:
                    header_end = child.meta.end_column
        attrs, blocks = self.body(body) if body is not None else ({}, [])
        return Block(
            type=names[0],
            labels=tuple(names[1:]),
            attributes=attrs,
            blocks=blocks,
            line=node.meta.line,
            column=node.meta.column,
            end_column=header_end,
            file=self.file,
            end_line=node.meta.end_line,
        )

    def name(self, node: Any) -> str:
        """A block type, label or attribute name: identifier, keyword or quoted string."""
        if node.data == "string":
            value = self.string(node)
            return value if isinstance(value, str) else self.source(node)
        return str(node.children[0])

    def source(self, node: Any) -> str:
        meta = node.meta
        if getattr(meta, "empty", False):
            return ""
        return self.text[meta.start_pos : meta.end_pos]

    # ---- values ----------------------------------------------------------------------
    def value(self, node: Any) -> Any:
        if _is_token(node):
            return Expr(str(node))
        kind = node.data
        handler = getattr(self, f"v_{kind}", None)
        if handler is not None:
            return handler(node)
        return Expr(self.source(node))

    def v_expr_term(self, node: Any) -> Any:
        inner = [c for c in node.children if not _is_token(c) and c.data != "new_line_or_comment"]
        return self.value(inner[0]) if len(inner) == 1 else Expr(self.source(node))

    def v_string(self, node: Any) -> Any:
        return self.string(node)

    def string(self, node: Any) -> Any:
        parts: list[Any] = []
        for part in node.children:
            if _is_token(part):
                continue  # the quotes
            for piece in part.children:
                if _is_token(piece):
                    if piece.type == "ESCAPED_INTERPOLATION" or piece.type == "ESCAPED_DIRECTIVE":
                        parts.append(str(piece)[1:])
                    else:
                        parts.append(_unescape(str(piece)))
                elif piece.data == "interpolation":
                    inner = [c for c in piece.children if not _is_token(c)]
                    parts.append(self.value(inner[0]) if inner else Expr(""))
                else:  # template directives (%{ if }): never evaluated
                    parts.append(Expr(self.source(piece)))
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

    def v_int_lit(self, node: Any) -> Any:
        return int(str(node.children[0]))

    def v_float_lit(self, node: Any) -> Any:
        return float(str(node.children[0]))

    def v_literal_value(self, node: Any) -> Any:
        return {"true": True, "false": False, "null": None}[str(node.children[0])]

    def v_identifier(self, node: Any) -> Any:
        return Ref((str(node.children[0]),))

    def v_tuple(self, node: Any) -> Any:
        return [self.value(c) for c in node.children if not _is_token(c) and c.data != "new_line_or_comment"]

    def v_object(self, node: Any) -> Any:
        out: dict[str, Any] = {}
        for elem in node.children:
            if _is_token(elem) or elem.data != "object_elem":
                continue
            key_node = elem.children[0].children[0]
            key = self.object_key(key_node)
            out[key] = self.value(elem.children[-1])
        return out

    def object_key(self, node: Any) -> str:
        if _is_token(node):
            return str(node)
        if node.data == "keyword":
            return str(node.children[0])
        value = self.value(node)
        if isinstance(value, Ref) and len(value.parts) == 1:
            return str(value.parts[0])  # a bare word key
        if isinstance(value, str):
            return value
        return self.source(node)

    def v_function_call(self, node: Any) -> Any:
        names = [str(c.children[0]) for c in node.children if not _is_token(c) and c.data == "identifier"]
        args: tuple[Any, ...] = ()
        for c in node.children:
            if not _is_token(c) and c.data == "arguments":
                args = tuple(self.value(a) for a in c.children if not _is_token(a) and a.data != "new_line_or_comment")
        return Call("::".join(names), args)

    def v_heredoc_template(self, node: Any) -> Any:
        return self.heredoc(str(node.children[0]), trim=False)

    def v_heredoc_template_trim(self, node: Any) -> Any:
        return self.heredoc(str(node.children[0]), trim=True)

    def heredoc(self, raw: str, trim: bool) -> Any:
        m = _HEREDOC.match(raw)
        if not m:
            return Expr(raw)
        body = m.group("body")
        return textwrap.dedent(body) if trim else body

    def v_get_attr_expr_term(self, node: Any) -> Any:
        base = self.value(node.children[0])
        attr = node.children[1]
        name = str(next(c for c in attr.children if not _is_token(c)).children[0])
        if isinstance(base, Ref):
            return Ref((*base.parts, name))
        return Expr(self.source(node))

    def v_index_expr_term(self, node: Any) -> Any:
        base = self.value(node.children[0])
        index = node.children[1]
        key: Any = None
        if index.data == "short_index":
            key = int(str(index.children[-1]))
        else:
            inner = [c for c in index.children if not _is_token(c) and c.data != "new_line_or_comment"]
            key = self.value(inner[0]) if inner else None
        if isinstance(base, Ref) and isinstance(key, (int, str)) and not isinstance(key, bool):
            return Ref((*base.parts, key))
        return Expr(self.source(node))

    def v_unary_op(self, node: Any) -> Any:
        op = str(node.children[0])
        operand = self.value(node.children[1])
        if op == "-" and isinstance(operand, (int, float)) and not isinstance(operand, bool):
            return -operand
        if op == "!" and isinstance(operand, bool):
            return not operand
        return Expr(self.source(node))
