"""A scanned file as the parse stage hands it to every engine: its text, a line index, the
kind's syntax tree (parsed on first use, at most once per scan), views derived from it, and
the file's real comment tokens (what inline suppressions are read from)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from atlascan.model import ParseError, SourceFile
from atlascan.textutil import LineIndex

T = TypeVar("T")


@dataclass(frozen=True)
class Comment:
    """One comment token: 1-based line and column of its marker, and its text after it."""

    line: int
    column: int
    text: str


# A parser turns a Document's text into the kind's tree; a comment lexer finds the real
# comments, using the tree where the syntax needs it (block scalars, string literals).
Parser = Callable[["Document"], Any]
CommentLexer = Callable[["Document"], list[Comment]]


# CPU seconds spent reading and building trees, views and comment tokens in this process
# (the parse column of `--statistics`; CPU, not wall, so that a loaded machine does not
# inflate it); nested builds (a view reading the tree) count once.
PARSE_CLOCK = [0.0]
_depth = [0]


def timed_parse(make: Callable[..., T], *args: Any) -> T:
    """`make(*args)`, its time added to PARSE_CLOCK unless an outer build is already timing."""
    if _depth[0]:
        return make(*args)
    _depth[0] += 1
    start = time.process_time()
    try:
        return make(*args)
    finally:
        PARSE_CLOCK[0] += time.process_time() - start
        _depth[0] -= 1


class Document:
    """One file, read and decoded once; everything else is computed on first use and kept
    here (never in module-level caches), so every engine of a scan shares one parse."""

    __slots__ = ("_comments", "_index", "_lines", "_views", "abspath", "file", "kind", "notes", "path", "text")

    def __init__(
        self,
        file: SourceFile,
        text: str,
        parser: Parser | None = None,
        comments: CommentLexer | None = None,
    ) -> None:
        self.file = file
        self.path = file.path
        self.abspath = file.abspath
        self.kind = file.kind
        self.text = text
        self._lines: list[str] | None = None
        self._index: LineIndex | None = None
        self._views: dict[Any, Any] = {}
        if parser is not None:
            self._views["tree"] = parser
        self._comments: CommentLexer | list[Comment] | None = comments
        # (message, line) warnings a parser met (duplicate keys...): notices of the scan.
        self.notes: list[tuple[str, int | None]] = []

    # ---- text --------------------------------------------------------------------------------
    @property
    def lines(self) -> list[str]:
        if self._lines is None:
            self._lines = self.text.splitlines()
        return self._lines

    def position(self, offset: int) -> tuple[int, int]:
        """1-based (line, column) of a character offset in the text."""
        if self._index is None:
            self._index = LineIndex(self.text)
        return self._index.position(offset)

    # ---- trees and views ---------------------------------------------------------------------
    @property
    def tree(self) -> Any:
        """The kind's syntax tree. Raises ParseError (every time it is asked, once parsed)."""
        return self._view("tree")

    def view(self, make: Callable[[Document], T]) -> T:
        """A model derived from this document (a job graph, a notebook's program), built by a
        parser function once and shared by every engine that asks for the same function."""
        if make not in self._views:
            self._views[make] = make
        built: T = self._view(make)
        return built

    def _view(self, key: Any) -> Any:
        value = self._views.get(key)
        if value is None:
            raise ParseError(f"no parser for files of kind {self.kind!r}")
        if isinstance(value, _Built):
            if isinstance(value.value, ParseError):
                raise value.value
            return value.value
        try:
            built = timed_parse(value, self)
        except ParseError as exc:
            self._views[key] = _Built(exc)
            raise
        self._views[key] = _Built(built)
        return built

    # ---- comments ----------------------------------------------------------------------------
    @property
    def comments(self) -> list[Comment]:
        """Real comment tokens (never text inside a string or a block scalar)."""
        lexer = self._comments
        if lexer is None:
            return []
        if not isinstance(lexer, list):
            try:
                lexer = timed_parse(lexer, self)
            except ParseError:
                lexer = []
            self._comments = lexer
        return lexer

    def comments_mentioning(self, word: str) -> list[Comment]:
        """Comments containing `word`; free when the text does not contain it at all."""
        if word not in self.text:
            return []
        return [c for c in self.comments if word in c.text]


class _Built:
    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value
