"""Small text helpers shared by engines and reports: snippets and offsets."""

from __future__ import annotations

import bisect
import re

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
        find = text.find
        i = find("\n")
        while i >= 0:
            self.starts.append(i + 1)
            i = find("\n", i + 1)

    def position(self, offset: int) -> tuple[int, int]:
        idx = bisect.bisect_right(self.starts, offset) - 1
        return idx + 1, offset - self.starts[idx] + 1


def utf8_col_to_char_col(line_text: str, byte_col: int) -> int:
    """Python's ast gives 0-based UTF-8 byte offsets; SARIF wants 1-based characters."""
    return len(line_text.encode("utf-8")[:byte_col].decode("utf-8", "replace")) + 1


# Characters a terminal or a CI log acts on: C0/C1 controls (ESC starts colour and OSC
# sequences, CR rewrites a line), DEL, bidi overrides and isolates (Trojan Source), line and
# paragraph separators, and lone surrogates (file names that were not valid UTF-8).
_UNSAFE = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def _escape_char(m: re.Match[str]) -> str:
    ch = m.group(0)
    code = ord(ch)
    if ch == "\n":
        return "\\n"
    if ch == "\r":
        return "\\r"
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8, kept by surrogateescape
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def printable(text: str) -> str:
    """`text` with every control, bidi and undecodable character shown escaped (`\\x1b`,
    `\\n`, `\\u202e`): scanned names and content can then never drive the reader's terminal
    or start a CI workflow command."""
    return _UNSAFE.sub(_escape_char, text) if _UNSAFE.search(text) else text


def display_path(path: str) -> str:
    """A scan-relative path as it may start an output line: escaped, and never beginning
    with `:` (a line starting `::` is a GitHub Actions workflow command)."""
    shown = printable(path)
    return "./" + shown if shown.startswith(":") else shown


def canonical_name(name: str) -> str:
    """A package name normalised as PEP 503 says (packaging.utils.canonicalize_name's rule;
    importing that module also loads packaging.tags, platform and logging)."""
    value = name.lower().replace("_", "-").replace(".", "-")
    while "--" in value:
        value = value.replace("--", "-")
    return value
