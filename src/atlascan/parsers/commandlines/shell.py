"""Command lines of a shell script: the whole file is one shell text."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from atlascan.parsers.commandlines import CommandText

if TYPE_CHECKING:
    from atlascan.document import Document


def extract(doc: Document) -> Iterator[CommandText]:
    if doc.text.strip():
        yield CommandText.single(doc.text, "shell", 1, 1)
