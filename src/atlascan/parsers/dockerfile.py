"""A Dockerfile parser that follows BuildKit's line rules and keeps every position.

BuildKit's own rules, implemented here: parser directives only at the top of the file
(`# syntax=`, `# escape=`, `# check=`); the escape character (backslash or backtick) ending
a line continues the instruction, and comment or blank lines inside a continuation are
dropped; heredocs `<<[-]["']?WORD` on RUN, COPY and ADD take the following lines as their
body; JSON (exec) form is used when the arguments are a JSON list of strings, shell form
otherwise; leading `--flag[=value]` tokens are split off; ARG before the first FROM is global
and stages start at each FROM. Every instruction keeps a map from offsets in its joined
argument text back to file line and column, so findings land on the token to change.
Nothing is executed or expanded beyond `${VAR}` substitution of ARG defaults.
"""

from __future__ import annotations

import bisect
import json
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from atlascan.model import ParseError

if TYPE_CHECKING:
    from atlascan.document import Document

DIRECTIVE = re.compile(r"^#\s*([A-Za-z][A-Za-z0-9]*)\s*=\s*(.*?)\s*$")
KNOWN_DIRECTIVES = frozenset({"syntax", "escape", "check"})
INSTRUCTION = re.compile(r"^(\s*)([A-Za-z][A-Za-z0-9]*)(?=\s|$)")
HEREDOC_KEYWORDS = frozenset({"RUN", "COPY", "ADD"})
JSON_FORM_KEYWORDS = frozenset(
    {"RUN", "CMD", "ENTRYPOINT", "SHELL", "COPY", "ADD", "VOLUME", "HEALTHCHECK"}
)
# `<<EOF`, `<<-EOF`, `<<"EOF"`, `<<'EOF'`, optionally after a file descriptor (`3<<EOF`).
HEREDOC = re.compile(
    r"""(?:(?<=\s)|^)\d*<<(?P<dash>-?)(?P<q>["']?)(?P<name>[A-Za-z_][A-Za-z0-9_.-]*)(?P=q)"""
)
JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
VARIABLE = re.compile(
    r"\$(?:\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-+])(?P<word>[^}]*))?\}|(?P<plain>[A-Za-z_][A-Za-z0-9_]*))"
)
PLAIN_WORD = re.compile(r"[^ \t\r\n]+")
MAX_LINES = 200_000


@dataclass(frozen=True)
class Word:
    """One argument token: its value with quotes and escapes removed, and where it sits
    in the instruction's argument text (end exclusive)."""

    value: str
    start: int
    end: int
    raw: str


@dataclass(frozen=True)
class Heredoc:
    name: str
    strip_tabs: bool
    quoted: bool
    body: str
    body_line: int  # file line of the first body line
    end_line: int  # file line of the terminator (or the last line when unterminated)


@dataclass
class Instruction:
    keyword: str  # upper case
    line: int  # file line of the keyword
    column: int  # 1-based column of the keyword
    end_line: int  # last file line of the instruction, heredoc bodies included
    text: str  # the arguments after the keyword, continuations joined
    anchors: tuple[tuple[int, int, int], ...]  # (offset in text, file line, file column)
    flags: list[tuple[str, Word]] = field(
        default_factory=list
    )  # ("mount", Word("--mount=...")) in order
    body_start: int = 0  # offset in `text` after the flags
    json_args: list[Word] | None = None  # exec form, element positions point inside the quotes
    heredocs: list[Heredoc] = field(default_factory=list)
    stage: int = -1  # index of the stage it belongs to; -1 before the first FROM

    def position(self, offset: int) -> tuple[int, int]:
        """1-based (line, column) of an offset in `text`."""
        starts = [a[0] for a in self.anchors]
        i = max(0, bisect.bisect_right(starts, offset) - 1)
        start, line, col = self.anchors[i]
        return line, col + (offset - start)

    @property
    def body(self) -> str:
        return self.text[self.body_start :]

    def words(self, escape: str = "\\") -> list[Word]:
        """The arguments after the flags, split like BuildKit splits words."""
        return split_words(self.text, self.body_start, escape)

    def assignments(self, escape: str = "\\") -> list[tuple[Word, Word | None]]:
        """ENV/ARG `NAME=value` pairs (value None for `ARG NAME`); legacy `ENV NAME value`
        takes the rest of the line as the value."""
        words = self.words(escape)
        if self.keyword == "ENV" and words and "=" not in words[0].value:
            rest = words[1:]
            if not rest:
                return [(words[0], None)]
            joined = " ".join(w.value for w in rest)
            return [
                (
                    words[0],
                    Word(
                        joined, rest[0].start, rest[-1].end, self.text[rest[0].start : rest[-1].end]
                    ),
                )
            ]
        out: list[tuple[Word, Word | None]] = []
        for w in words:
            name, eq, text = w.value.partition("=")
            name_word = Word(name, w.start, w.start + len(name), name)
            if not eq:
                out.append((name_word, None))
                continue
            cut = w.raw.find("=") + 1
            out.append((name_word, Word(text, w.start + cut, w.end, w.raw[cut:])))
        return out

    def flag(self, name: str) -> Word | None:
        for flag_name, word in self.flags:
            if flag_name == name:
                return word
        return None


@dataclass
class Stage:
    index: int
    from_instruction: Instruction
    image: Word | None  # the image reference as written
    resolved_image: str  # after substituting ARG defaults; "" when unknown
    name: str  # the `AS name`, lower case, or ""
    instructions: list[Instruction] = field(default_factory=list)


@dataclass
class Dockerfile:
    escape: str
    directives: dict[str, tuple[str, int]]  # name -> (value, line)
    instructions: list[Instruction]
    stages: list[Stage]
    global_args: dict[str, str | None]  # ARG before the first FROM -> default
    comments: list[tuple[int, str]]  # (line, text) for suppressions and pragmas
    problems: list[tuple[int, str]]  # (line, message): what BuildKit would reject


def split_words(text: str, start: int = 0, escape: str = "\\") -> list[Word]:
    """Whitespace-separated words with shell-like quoting; values are unquoted."""
    if not any(ch in text for ch in ("'", '"', escape)):  # the common case: no quoting at all
        return [
            Word(m.group(0), m.start(), m.end(), m.group(0))
            for m in PLAIN_WORD.finditer(text, start)
        ]
    words: list[Word] = []
    i, n = start, len(text)
    while i < n:
        while i < n and text[i] in " \t\r\n":
            i += 1
        if i >= n:
            break
        begin = i
        value: list[str] = []
        quote = ""
        while i < n:
            ch = text[i]
            if quote:
                if ch == quote:
                    quote = ""
                elif (
                    ch == escape
                    and quote == '"'
                    and i + 1 < n
                    and text[i + 1] in (quote, escape, "$")
                ):
                    i += 1
                    value.append(text[i])
                else:
                    value.append(ch)
            elif ch in "\"'":
                quote = ch
            elif ch == escape and i + 1 < n:
                i += 1
                value.append(text[i])
            elif ch in " \t\r\n":
                break
            else:
                value.append(ch)
            i += 1
        words.append(Word("".join(value), begin, i, text[begin:i]))
    return words


def substitute(value: str, variables: dict[str, str | None]) -> tuple[str, bool]:
    """`${VAR}`, `$VAR`, `${VAR:-default}`, `${VAR:+alt}` from known values; the flag says
    whether every variable could be resolved."""
    complete = True

    def repl(m: re.Match[str]) -> str:
        nonlocal complete
        name = m.group("braced") or m.group("plain")
        current = variables.get(name)
        op, word = m.group("op"), m.group("word") or ""
        if op in ("-", ":-"):
            return current if current else word
        if op in ("+", ":+"):
            return word if current else ""
        if current is None:
            complete = False
            return m.group(0)
        return current

    return VARIABLE.sub(repl, value), complete


def tree(doc: Document) -> Dockerfile:
    """The parse stage's entry (`Document.tree` of a Dockerfile)."""
    try:
        return parse(doc.text)
    except (ValueError, RecursionError) as exc:
        raise ParseError(f"Dockerfile could not be parsed: {exc}; skipped.") from None


def parse(text: str) -> Dockerfile:
    lines = text.split("\n")
    if len(lines) > MAX_LINES:
        raise ValueError(f"Dockerfile has {len(lines)} lines, over the {MAX_LINES} line limit")
    lines = [line[:-1] if line.endswith("\r") else line for line in lines]
    parser = _Parser(lines)
    parser.run()
    return parser.result()


class _Parser:
    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self.escape = "\\"
        self.directives: dict[str, tuple[str, int]] = {}
        self.instructions: list[Instruction] = []
        self.comments: list[tuple[int, str]] = []
        self.problems: list[tuple[int, str]] = []

    def run(self) -> None:
        i = self._directives()
        n = len(self.lines)
        while i < n:
            raw = self.lines[i]
            stripped = raw.strip()
            if not stripped:
                i += 1
                continue
            if stripped.startswith("#"):
                self.comments.append((i + 1, raw))
                i += 1
                continue
            i = self._instruction(i)

    def _directives(self) -> int:
        i = 0
        for i, raw in enumerate(self.lines):
            m = DIRECTIVE.match(raw.strip()) if raw.strip().startswith("#") else None
            if not m or m.group(1).lower() not in KNOWN_DIRECTIVES:
                return i
            name, value = m.group(1).lower(), m.group(2)
            if name in self.directives:
                self.problems.append((i + 1, f"parser directive `{name}` is given twice"))
            self.directives[name] = (value, i + 1)
            self.comments.append((i + 1, raw))
            if name == "escape":
                if value in ("\\", "`"):
                    self.escape = value
                else:
                    self.problems.append(
                        (i + 1, f"invalid escape character {value!r} (use \\ or `)")
                    )
        return len(self.lines)

    def _continues(self, content: str) -> tuple[bool, str]:
        trimmed = content.rstrip(" \t")
        if trimmed.endswith(self.escape):
            return True, trimmed[: -len(self.escape)]
        return False, content

    def _instruction(self, i: int) -> int:
        raw = self.lines[i]
        m = INSTRUCTION.match(raw)
        if m is None:
            self.problems.append(
                (i + 1, f"line does not start with an instruction: {raw.strip()[:40]!r}")
            )
            return i + 1
        keyword = m.group(2).upper()
        col = len(m.group(1)) + 1
        args_begin = m.end()
        while args_begin < len(raw) and raw[args_begin] in " \t":
            args_begin += 1
        parts: list[str] = []
        anchors: list[tuple[int, int, int]] = []
        offset = 0
        line_index = i
        content = raw[args_begin:]
        content_col = args_begin + 1
        while True:
            more, kept = self._continues(content)
            anchors.append((offset, line_index + 1, content_col))
            parts.append(kept)
            offset += len(kept)
            line_index += 1
            if not more:
                break
            # skip comment and blank lines inside the continuation, as BuildKit does
            while line_index < len(self.lines) and (
                not self.lines[line_index].strip()
                or self.lines[line_index].lstrip().startswith("#")
            ):
                if self.lines[line_index].strip():
                    self.comments.append((line_index + 1, self.lines[line_index]))
                line_index += 1
            if line_index >= len(self.lines):
                break
            content, content_col = self.lines[line_index], 1
        joined = "".join(parts)
        instr = Instruction(keyword, i + 1, col, line_index, joined, tuple(anchors))
        self._flags(instr)
        if keyword in HEREDOC_KEYWORDS:
            line_index = self._heredocs(instr, line_index)
        if keyword in JSON_FORM_KEYWORDS and not instr.heredocs:
            instr.json_args = _json_form(instr.text, instr.body_start)
        self.instructions.append(instr)
        return line_index

    def _flags(self, instr: Instruction) -> None:
        pos = 0
        if not instr.text.lstrip(" \t").startswith("--"):
            instr.body_start = _skip_space(instr.text, 0)
            return
        for word in split_words(instr.text, 0, self.escape):
            if not word.raw.startswith("--") or len(word.raw) == 2:
                break
            name = word.value[2:].split("=", 1)[0].lower()
            instr.flags.append((name, word))
            pos = word.end
        while pos < len(instr.text) and instr.text[pos] in " \t":
            pos += 1
        instr.body_start = pos if instr.flags else _skip_space(instr.text, 0)

    def _heredocs(self, instr: Instruction, line_index: int) -> int:
        for m in HEREDOC.finditer(instr.text, instr.body_start):
            if _inside_quotes(instr.text, instr.body_start, m.start()):
                continue
            name, strip = m.group("name"), bool(m.group("dash"))
            body_line = line_index + 1
            body: list[str] = []
            terminated = False
            while line_index < len(self.lines):
                current = self.lines[line_index]
                line_index += 1
                candidate = current.lstrip("\t") if strip else current
                if candidate == name:
                    terminated = True
                    break
                body.append(current)  # tabs are kept so columns stay true
            if not terminated:
                self.problems.append(
                    (instr.line, f"heredoc `{name}` of {instr.keyword} is never terminated")
                )
            text = "\n".join(body) + ("\n" if body else "")
            instr.heredocs.append(
                Heredoc(name, strip, bool(m.group("q")), text, body_line, line_index)
            )
            instr.end_line = line_index
        return line_index

    def result(self) -> Dockerfile:
        global_args: dict[str, str | None] = {}
        stages: list[Stage] = []
        for instr in self.instructions:
            if instr.keyword == "FROM":
                stages.append(self._stage(instr, len(stages), global_args))
            elif not stages:
                if instr.keyword == "ARG":
                    for word in instr.words(self.escape):
                        name, eq, default = word.value.partition("=")
                        global_args[name] = default if eq else None
                else:
                    self.problems.append((instr.line, f"{instr.keyword} before the first FROM"))
            if stages:
                instr.stage = stages[-1].index
                stages[-1].instructions.append(instr)
        return Dockerfile(
            self.escape,
            self.directives,
            self.instructions,
            stages,
            global_args,
            self.comments,
            self.problems,
        )

    def _stage(self, instr: Instruction, index: int, global_args: dict[str, str | None]) -> Stage:
        words = instr.words(self.escape)
        image = words[0] if words else None
        name = ""
        if len(words) >= 3 and words[1].value.lower() == "as":
            name = words[2].value.lower()
        resolved = ""
        if image is not None:
            value, complete = substitute(image.value, global_args)
            resolved = value if complete else ""
        else:
            self.problems.append((instr.line, "FROM without an image"))
        return Stage(index, instr, image, resolved, name)


def _skip_space(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t":
        pos += 1
    return pos


def _inside_quotes(text: str, start: int, pos: int) -> bool:
    quote = ""
    for ch in text[start:pos]:
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
    return bool(quote)


def _json_form(text: str, start: int) -> list[Word] | None:
    body = text[start:].strip()
    if not body.startswith("[") or not body.endswith("]"):
        return None
    try:
        values = json.loads(body)
    except ValueError:
        return None  # BuildKit falls back to shell form
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        return None
    words = []
    pos = start
    for value, m in zip(values, JSON_STRING.finditer(text, pos), strict=False):
        words.append(Word(value, m.start() + 1, m.end() - 1, m.group(0)))
    return words if len(words) == len(values) else None
