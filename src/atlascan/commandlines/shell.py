"""Command lines of a shell script: the whole file is one shell text."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from atlascan.commandlines import CommandText

if TYPE_CHECKING:
    from atlascan.analysis import FileContext
    from atlascan.model import SourceFile


def extract(file: SourceFile, ctx: FileContext) -> Iterator[CommandText]:
    text = ctx.text()
    if text.strip():
        yield CommandText.single(text, "shell", 1, 1)
