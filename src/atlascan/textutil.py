"""Small text helpers shared by engines and reports: snippets and offsets."""

from __future__ import annotations

import bisect

MAX_SNIPPET = 240


def snippet_at(lines: list[str], line: int, end_line: int | None = None) -> str:
    """The source line(s) of a region, trimmed to a readable length."""
    if not 1 <= line <= len(lines):
        return ""
    last = min(end_line or line, line + 2, len(lines))
    text = "\n".join(lines[line - 1 : last]).strip("\n")
    return text if len(text) <= MAX_SNIPPET else text[: MAX_SNIPPET - 1] + "…"


class LineIndex:
    """Map character offsets of a text to 1-based (line, column) pairs."""

    def __init__(self, text: str) -> None:
        self.starts = [0]
        for i, ch in enumerate(text):
            if ch == "\n":
                self.starts.append(i + 1)

    def position(self, offset: int) -> tuple[int, int]:
        idx = bisect.bisect_right(self.starts, offset) - 1
        return idx + 1, offset - self.starts[idx] + 1


def utf8_col_to_char_col(line_text: str, byte_col: int) -> int:
    """Python's ast gives 0-based UTF-8 byte offsets; SARIF wants 1-based characters."""
    return len(line_text.encode("utf-8")[:byte_col].decode("utf-8", "replace")) + 1
