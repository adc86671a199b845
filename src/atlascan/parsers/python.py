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


# ---- skeletons: the few top-level functions of a module that could wrap a sink ---------------
_TOP_LEVEL = re.compile(r"^(?=[^\s#])", re.M)
_CONTINUES = ("else", "elif", "except", "finally", ")", "]", "}")


def skeleton(
    text: str, path: str, sink_word: re.Pattern[str], body_word: re.Pattern[str] | None = None
) -> tuple[ast.Module, str] | None:
    """The tree of `skeleton_text` and the text it was parsed from (the whole module when
    the cheap split was fooled), or None when no top-level function names a sink word.
    Raises ParseError when the module does not parse."""
    source = skeleton_text(text, sink_word, body_word)
    if source is None:
        return None
    try:
        return parse(source, path), source
    except ParseError:  # the text split was fooled (e.g. by a column-0 string line)
        return parse(text, path), text


def skeleton_text(text: str, sink_word: re.Pattern[str], body_word: re.Pattern[str] | None = None) -> str | None:
    """The module with class bodies and the top-level functions that cannot be wrappers
    blanked out (newlines kept, so line numbers stay true), or None when no top-level
    function returning something names a sink word (or names a `body_word`, returning or
    not). Parsing a library file whole in the serial prepare pass cost most of a large
    scan; the skeleton is usually a few imports and functions."""
    starts = [m.start() for m in _TOP_LEVEL.finditer(text)]
    segments: list[str] = []
    if starts and starts[0] > 0:
        segments.append(text[: starts[0]])
    decorating = False  # the last segment is decorators still waiting for their def/class
    for i, start in enumerate(starts):
        piece = text[start : starts[i + 1] if i + 1 < len(starts) else len(text)]
        if segments and (piece.startswith(_CONTINUES) or decorating):
            segments[-1] += piece  # a clause, a closing bracket, or the target of a decorator
        else:
            segments.append(piece)
        decorating = piece.startswith("@")
    kept: list[str] = []
    functions = 0
    for piece in segments:
        head = piece.lstrip("@").split("\n", 1)[0] if not piece.startswith("@") else _decorated(piece)
        if head.startswith(("def ", "async def ")):
            if ("return" in piece and sink_word.search(piece)) or (body_word is not None and body_word.search(piece)):
                kept.append(piece)
                functions += 1
                continue
        elif not head.startswith("class "):
            kept.append(piece)
            continue
        kept.append("\n" * piece.count("\n"))
    return "".join(kept) if functions else None


def _decorated(piece: str) -> str:
    """The first line of a decorated segment that is not a decorator."""
    for line in piece.split("\n"):
        if line and not line.startswith(("@", " ", "\t", ")")):
            return line
    return ""
