"""Comment lexers: the real comments of a file, by its kind's syntax. Text that only looks
like a comment (a `#` inside a string literal, a Python docstring, a YAML block scalar, a
heredoc body) is not a comment, so it can never suppress a finding."""

from __future__ import annotations

import io
import json
import re
import tokenize
from collections.abc import Iterable

from atlascan.document import Comment, Document

# Line-comment markers by kind; kinds not listed use DEFAULT_MARKERS.
MARKERS: dict[str, tuple[str, ...]] = {
    "terraform": ("#", "//", "/*"),
    "json": ("//",),
    "yaml": ("#",),
    "gha-workflow": ("#",),
    "gha-action": ("#",),
    "gitlab-ci": ("#",),
    "compose": ("#",),
    "mlproject": ("#",),
    "dvc": ("#",),
    "shell": ("#",),
    "dockerfile": ("#",),
    "dotenv": ("#",),
    "requirements": ("#",),
    "pyproject": ("#",),
}
DEFAULT_MARKERS = ("#", "//", "/*", "<!--", "--", ";")
HEREDOC = re.compile(r"<<-?\s*(['\"]?)(?P<word>[A-Za-z_][A-Za-z0-9_]*)\1")


def python(doc: Document) -> list[Comment]:
    """COMMENT tokens of Python source (docstrings and other strings are never comments)."""
    return _python_tokens(doc.text, 0)


def _python_tokens(source: str, line_offset: int) -> list[Comment]:
    out: list[Comment] = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type == tokenize.COMMENT:
                out.append(Comment(tok.start[0] + line_offset, tok.start[1] + 1, tok.string[1:]))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        pass  # comments before the error are kept; the rest of the file cannot be trusted
    return out


def notebook(doc: Document) -> list[Comment]:
    """Comments of code-cell sources: each source line is a JSON string on its own line of
    the notebook file; it is decoded and tokenized as Python, one cell at a time."""
    out: list[Comment] = []
    for number, raw in enumerate(doc.lines, start=1):
        stripped = raw.strip().rstrip(",")
        if "#" not in stripped or not stripped.startswith('"'):
            continue
        try:
            value = json.loads(stripped)
        except ValueError:
            continue
        if not isinstance(value, str):
            continue
        for comment in _python_tokens(value.rstrip("\n") + "\n", 0):
            out.append(Comment(number, raw.find("#") + 1, comment.text))
    return out


def yaml(doc: Document) -> list[Comment]:
    """`#` comments outside scalars: lines inside a block or multi-line scalar are content."""
    inside: set[int] = set()
    try:
        from atlascan.parsers.yaml import Scalar, walk

        for root in doc.tree.roots():
            for node in walk(root):
                if isinstance(node, Scalar) and node.end_line > node.line:
                    # A block scalar's content starts on the line after its indicator.
                    inside.update(range(node.line + 1, node.end_line + 1))
    except Exception:  # an unparsable file: fall back to the lines alone
        inside = set()
    return list(_line_comments(doc.lines, ("#",), skip=inside, require_space=True))


def heredoc_aware(doc: Document) -> list[Comment]:
    """Shell, Dockerfiles and Terraform: line comments, heredoc bodies excluded."""
    markers = MARKERS.get(doc.kind, ("#",))
    return list(_line_comments(doc.lines, markers, skip=_heredoc_lines(doc.lines), require_space=doc.kind != "terraform"))


def generic(doc: Document) -> list[Comment]:
    return list(_line_comments(doc.lines, MARKERS.get(doc.kind, DEFAULT_MARKERS), skip=set(), require_space=False))


def _heredoc_lines(lines: list[str]) -> set[int]:
    inside: set[int] = set()
    terminator: str | None = None
    for number, text in enumerate(lines, start=1):
        if terminator is not None:
            inside.add(number)
            if text.strip() == terminator:
                terminator = None
            continue
        if "<<" in text:
            m = HEREDOC.search(text)
            if m:
                terminator = m.group("word")
    return inside


def _line_comments(
    lines: list[str], markers: tuple[str, ...], skip: set[int], require_space: bool
) -> Iterable[Comment]:
    for number, text in enumerate(lines, start=1):
        if number in skip:
            continue
        pos = _comment_start(text, markers, require_space)
        if pos is not None:
            marker = next(m for m in markers if text.startswith(m, pos))
            yield Comment(number, pos + 1, text[pos + len(marker) :])


def _comment_start(text: str, markers: tuple[str, ...], require_space: bool) -> int | None:
    """Offset of the first comment marker outside quotes; `#` must follow a blank (or start
    the line) where the syntax says so (YAML, shell: `a#b` is one word)."""
    quote = ""
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if quote:
            if ch == "\\" and quote == '"':
                i += 2
                continue
            if ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        else:
            for marker in markers:
                if text.startswith(marker, i) and (not require_space or i == 0 or text[i - 1] in " \t"):
                    return i
        i += 1
    return None
