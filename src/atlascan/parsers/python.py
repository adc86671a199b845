"""Python source with the stdlib `ast`: parsed, never imported or executed."""

from __future__ import annotations

import ast
import re
import warnings
from typing import TYPE_CHECKING

from atlascan.model import ParseError

if TYPE_CHECKING:
    from atlascan.document import Document

PY2_HINTS = re.compile(r"^\s*(?:print\s+[\"'\w]|exec\s+[\"'\w]|except\s+[\w.]+\s*,\s*\w+\s*:)", re.M)


def tree(doc: Document) -> ast.Module:
    return parse(doc.text, doc.path)


def parse(source: str, path: str) -> ast.Module:
    """Parse without executing; every failure becomes a ParseError with a clear reason."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ast.parse(source, filename=path)
    except SyntaxError as exc:
        if "Missing parentheses" in (exc.msg or "") or PY2_HINTS.search(source):
            raise ParseError("Python 2 source is not supported; skipped.", exc.lineno) from None
        raise ParseError(f"Python syntax error ({exc.msg}, line {exc.lineno}); skipped.", exc.lineno) from None
    except (RecursionError, MemoryError):
        raise ParseError("Python source is too deeply nested to parse; skipped.") from None
    except ValueError as exc:  # NUL bytes and similar
        raise ParseError(f"Python source could not be parsed ({exc}); skipped.") from None
