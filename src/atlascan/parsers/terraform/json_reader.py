"""Terraform JSON syntax (.tf.json, .tfvars.json) to `syntax` objects.

Positions come from a cheap text search for each key after its parent's position (stdlib
`json` keeps none); good enough to point at the right line. `"${...}"` strings become
references or templates like their HCL equivalents.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from atlascan.model import ParseError
from atlascan.parsers.terraform.syntax import Attribute, Block, Expr, ParsedFile, Ref, Template

if TYPE_CHECKING:
    from atlascan.document import Document

_SIMPLE_REF = re.compile(r"^\$\{\s*([A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*|\[\d+\])*)\s*\}$")
_LABELS = {"resource": 2, "data": 2, "variable": 1, "output": 1, "provider": 1, "module": 1, "locals": 0, "terraform": 0}


def read_json(doc: Document) -> ParsedFile:
    try:
        data = json.loads(doc.text)
    except ValueError as exc:
        raise ParseError(f"Not valid JSON ({exc}); skipped.", getattr(exc, "lineno", None)) from None
    if not isinstance(data, dict):
        raise ParseError("Terraform JSON must be an object at the top level; skipped.")
    return _JsonReader(doc).read(data)


def _value(value: Any) -> Any:
    if isinstance(value, str) and "${" in value:
        m = _SIMPLE_REF.match(value)
        if m:
            parts: list[str | int] = []
            for piece in re.findall(r"[A-Za-z_][\w-]*|\[\d+\]", m.group(1)):
                parts.append(int(piece[1:-1]) if piece.startswith("[") else piece)
            return Ref(tuple(parts))
        return Template((Expr(value),))
    if isinstance(value, list):
        return [_value(v) for v in value]
    if isinstance(value, dict):
        return {k: _value(v) for k, v in value.items()}
    return value


class _JsonReader:
    def __init__(self, doc: Document) -> None:
        self.text = doc.text
        self.file = doc.file
        self.position = doc.position

    def find(self, key: str, start: int) -> int:
        pos = self.text.find(json.dumps(key), start)
        return pos if pos >= 0 else start

    def read(self, doc: dict[str, Any]) -> ParsedFile:
        out = ParsedFile(self.file)
        if self.file.path.endswith(".tfvars.json"):
            for key, value in doc.items():
                out.attributes[key] = self.attribute(key, value, 0)
            return out
        for kind, body in doc.items():
            depth = _LABELS.get(kind)
            if depth is None:
                continue
            pos = self.find(kind, 0)
            for item in body if isinstance(body, list) else [body]:
                if isinstance(item, dict):
                    out.blocks.extend(self.labelled(kind, (), item, depth, pos))
        return out

    def labelled(self, kind: str, labels: tuple[str, ...], body: dict[str, Any], depth: int, pos: int) -> list[Block]:
        if depth == 0:
            return [self.block(kind, labels, body, pos, pos)]
        blocks = []
        for key, value in body.items():
            at = self.find(key, pos)
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, dict):
                    blocks.extend(self.labelled(kind, (*labels, key), item, depth - 1, at))
        return blocks

    def block(self, kind: str, labels: tuple[str, ...], body: dict[str, Any], header_pos: int, pos: int) -> Block:
        line, col = self.position(header_pos)
        attrs: dict[str, Attribute] = {}
        sub: list[Block] = []
        for key, value in body.items():
            at = self.find(key, pos)
            items = value if isinstance(value, list) else [value]
            if items and all(isinstance(i, dict) for i in items) and kind not in ("locals", "variable", "output"):
                sub.extend(self.block(key, (), i, at, at) for i in items)
            attrs[key] = self.attribute(key, value, at)
        end_col = col + (len(json.dumps(labels[-1])) if labels else len(kind) + 2)
        return Block(kind, labels, attrs, sub, line, col, end_col, self.file, line)

    def attribute(self, key: str, value: Any, at: int) -> Attribute:
        line, col = self.position(at)
        return Attribute(key, _value(value), line, col, line, col + len(json.dumps(key)))
