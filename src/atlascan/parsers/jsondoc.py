"""JSON text (`Document.tree` of a .json file; notebooks are JSON too): parsed with the
stdlib, every failure a ParseError."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from atlascan.model import ParseError

if TYPE_CHECKING:
    from atlascan.document import Document


def tree(doc: Document) -> Any:
    what = "Notebook" if doc.kind == "notebook" else "JSON file"
    try:
        return json.loads(doc.text)
    except RecursionError:
        raise ParseError(f"{what} is too deeply nested to parse; skipped.") from None
    except ValueError as exc:
        raise ParseError(f"{what} is not valid JSON ({exc}); skipped.") from None


def string_literal(line: str) -> str | None:
    """The value of a line that holds one JSON string literal (a notebook's source and
    output lines: `"x = \\"a\\"\\n",`), escapes decoded; None for any other line."""
    stripped = line.strip().rstrip(",")
    if len(stripped) >= 2 and stripped.startswith('"') and stripped.endswith('"'):
        try:
            value = json.loads(stripped)
        except ValueError:
            return None
        if isinstance(value, str):
            return value
    return None
