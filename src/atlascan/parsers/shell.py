"""Shell text -> simple commands with word positions (`Document.tree` of a shell script, and
the parse of every command line the command-line extractors find in other kinds).

tree-sitter with the bash grammar does the parsing (MIT, error-tolerant, handles `[[ ]]`,
`case`, `$(( ))` and heredocs); when it is not installed a plain tokenizer gives the same
shape with less precision. Either way the result is a flat list of `SimpleCommand`s whose
words carry offsets into the parsed text, plus every `NAME=value` assignment (prefix,
`export`, bare). Commands inside `$(...)` and `<(...)` point to the command whose argument
holds them; `sh -c '...'` scripts are parsed too. Nothing here runs or expands anything.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from atlascan.document import Document

SHELLS = frozenset({"sh", "bash", "dash", "zsh", "ksh", "ash"})
MAX_NESTING = 4  # `sh -c` inside `sh -c` ...
MAX_SUBSTITUTION_DEPTH = 32  # `$(` inside `$(` for the tokenizer
ASSIGNMENT = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\+?=")
DECLARATIONS = frozenset({"export", "declare", "typeset", "local", "readonly"})
QUOTING = re.compile(r"['\"\\\\$]")
REDIRECTS = frozenset({"file_redirect", "heredoc_redirect", "herestring_redirect"})


@dataclass(frozen=True)
class Word:
    """A shell word with quotes removed (expansions kept as written) and its span."""

    value: str
    start: int
    end: int  # exclusive


@dataclass(frozen=True)
class Assignment:
    name: Word
    value: Word


@dataclass
class SimpleCommand:
    words: list[Word]  # the command name first; prefix assignments are not words
    assignments: list[Assignment] = field(default_factory=list)
    pipeline: int = -1  # id of the pipeline it is a stage of, -1 when it stands alone
    stage: int = 0
    parent: int | None = None  # index of the command whose argument substitutes this one

    @property
    def name(self) -> str:
        return self.words[0].value.rsplit("/", 1)[-1] if self.words else ""


@dataclass
class Script:
    commands: list[SimpleCommand] = field(default_factory=list)
    assignments: list[Assignment] = field(default_factory=list)
    has_errors: bool = False
    backend: str = "tree-sitter"
    pipelines: int = 0  # pipeline ids handed out so far (shared by nested `sh -c` parses)

    def new_pipeline(self) -> int:
        self.pipelines += 1
        return self.pipelines - 1


def tree(doc: Document) -> Script:
    """The parse stage's entry (`Document.tree` of a shell script). Both back ends tolerate
    any text; what tree-sitter could not parse only sets `has_errors`."""
    return parse(doc.text)


def parse(text: str, use_tree_sitter: bool = True) -> Script:
    script = Script()
    parser = _tree_sitter_parser() if use_tree_sitter else None
    if parser is None:
        script.backend = "tokenizer"
    _parse_into(script, text, 0, parser, 0)
    return script


def parse_argv(argv: Sequence[str], text: str, use_tree_sitter: bool = True) -> Script:
    """An argument list (exec form, a YAML list) as one command: each element is one word,
    located in `text` (the elements joined by spaces); an `sh -c` script among them is
    parsed as shell."""
    words: list[Word] = []
    pos = 0
    for arg in argv:
        at = text.find(arg, pos) if arg else pos
        at = pos if at < 0 else at
        words.append(Word(arg, at, at + len(arg)))
        pos = at + len(arg)
    script = Script(backend="argv")
    script.commands.append(SimpleCommand(words))
    inner = _dash_c_script(script.commands[0])
    if inner is not None:
        parser = _tree_sitter_parser() if use_tree_sitter else None
        _parse_into(script, inner.value, inner.start, parser, 1)
    return script


def _parse_into(script: Script, text: str, base: int, parser: Any, depth: int) -> None:
    first = len(script.commands)
    if parser is not None:
        _TreeWalker(script, text, base).walk(parser)
    else:
        _Tokenizer(script, text, base).run()
    if depth >= MAX_NESTING:
        return
    seen = {c.words[0].start for c in script.commands if c.words}
    for cmd in list(script.commands[first:]):
        inner = _dash_c_script(cmd)
        if inner is None or (inner.value.startswith("$(") and inner.value.endswith(")")):
            continue
        before = len(script.commands)
        _parse_into(script, inner.value, inner.start, parser, depth + 1)
        # `sh -c "$(curl ...)"`: the substitution was found already; keep the first copy
        fresh = [c for c in script.commands[before:] if not c.words or c.words[0].start not in seen]
        del script.commands[before:]
        script.commands.extend(fresh)
        seen.update(c.words[0].start for c in fresh if c.words)


def _dash_c_script(cmd: SimpleCommand) -> Word | None:
    """The script word of `sh -c 'script'` (also `bash -ec`, `sudo sh -c`)."""
    words = cmd.words
    i = 0
    while i < len(words) and words[i].value.rsplit("/", 1)[-1] in ("sudo", "env", "exec", "nohup"):
        i += 1
        while i < len(words) and (words[i].value.startswith("-") or "=" in words[i].value):
            i += 1
    if i >= len(words) or words[i].value.rsplit("/", 1)[-1] not in SHELLS:
        return None
    for j in range(i + 1, len(words) - 1):
        value = words[j].value
        if value.startswith("-") and not value.startswith("--") and "c" in value[1:]:
            return words[j + 1]
        if not value.startswith("-"):
            return None
    return None


def unquote(raw: str) -> str:
    """Remove shell quoting: `'a'"b"\\c` -> `abc`; `$VAR` and `$(...)` stay as written."""
    if not QUOTING.search(raw):
        return raw
    out: list[str] = []
    i, n = 0, len(raw)
    quote = ""
    while i < n:
        ch = raw[i]
        if quote == "'":
            if ch == "'":
                quote = ""
            else:
                out.append(ch)
        elif quote == '"':
            if ch == '"':
                quote = ""
            elif ch == "\\" and i + 1 < n and raw[i + 1] in '$`"\\\n':
                i += 1
                if raw[i] != "\n":
                    out.append(raw[i])
            else:
                out.append(ch)
        elif ch == "'" or ch == '"':
            quote = ch
        elif ch == "$" and i + 1 < n and raw[i + 1] in "'\"":
            pass  # $'..' and $".." quoting: drop the dollar, keep the quoted text
        elif ch == "\\" and i + 1 < n:
            i += 1
            if raw[i] != "\n":
                out.append(raw[i])
        else:
            out.append(ch)
        i += 1
    return "".join(out)


def _content_start(raw: str) -> int:
    """Offset of a word's content: after an opening quote, if any."""
    return 1 if raw[:1] in ("'", '"') else 2 if raw[:2] in ("$'", '$"') else 0


@cache
def _tree_sitter_parser() -> Any:
    try:
        import tree_sitter_bash
        from tree_sitter import Language, Parser
    except ImportError:
        return None
    return Parser(Language(tree_sitter_bash.language()))


class _TreeWalker:
    def __init__(self, script: Script, text: str, base: int) -> None:
        self.script = script
        self.text = text
        self.base = base
        self.data = text.encode("utf-8")
        # tree-sitter speaks bytes; map byte offsets to characters only when they differ
        self.char_at: list[int] | None = None
        if len(self.data) != len(text):
            self.char_at = [0] * (len(self.data) + 1)
            pos = 0
            for index, ch in enumerate(text):
                width = len(ch.encode("utf-8"))
                for k in range(width):
                    self.char_at[pos + k] = index
                pos += width
            self.char_at[pos] = len(text)

    def _span(self, node: Any) -> tuple[int, int]:
        s, e = node.start_byte, node.end_byte
        if self.char_at is not None:
            s, e = self.char_at[s], self.char_at[e]
        return s, e

    def _word(self, node: Any) -> Word:
        s, e = self._span(node)
        raw = self.text[s:e]
        return Word(unquote(raw), self.base + s + _content_start(raw), self.base + e)

    def _assignment(self, node: Any) -> Assignment | None:
        s, e = self._span(node)
        raw = self.text[s:e]
        m = ASSIGNMENT.match(raw)
        if not m:
            return None
        name = Word(m.group(1), self.base + s, self.base + s + len(m.group(1)))
        value_raw = raw[m.end() :]
        vstart = self.base + s + m.end()
        return Assignment(
            name, Word(unquote(value_raw), vstart + _content_start(value_raw), self.base + e)
        )

    def walk(self, parser: Any) -> None:
        tree = parser.parse(self.data)
        root = tree.root_node
        if root.has_error:
            self.script.has_errors = True
        # (node, pipeline id, stage, parent command index); explicit stack, no recursion
        stack: list[tuple[Any, int, int, int | None]] = [(root, -1, 0, None)]
        while stack:
            node, pipeline, stage, parent = stack.pop()
            kind = node.type
            if kind == "command":
                self._command(node, pipeline, stage, parent, stack)
            elif kind == "pipeline":
                pid = self.script.new_pipeline()
                stages = [c for c in node.children if c.type not in ("|", "|&")]
                for k, child in reversed(list(enumerate(stages))):
                    stack.append((child, pid, k, parent))
            elif kind == "variable_assignment":
                assignment = self._assignment(node)
                if assignment is not None:
                    self.script.assignments.append(assignment)
                stack.extend((c, -1, 0, parent) for c in reversed(node.children) if c.child_count)
            else:
                keep = kind in ("redirected_statement",)
                stack.extend(
                    (c, pipeline if keep else -1, stage if keep else 0, parent)
                    for c in reversed(node.children)
                    if c.child_count  # leaves (words, operators) hold no commands
                )

    def _command(
        self, node: Any, pipeline: int, stage: int, parent: int | None, stack: list[Any]
    ) -> None:
        cmd = SimpleCommand([], pipeline=pipeline, stage=stage, parent=parent)
        index = len(self.script.commands)
        self.script.commands.append(cmd)
        nested = []
        for child in node.children:
            kind = child.type
            if kind == "variable_assignment":
                assignment = self._assignment(child)
                if assignment is not None:
                    cmd.assignments.append(assignment)
                    self.script.assignments.append(assignment)
                nested.extend(child.children)  # a `$(...)` in the value still runs
                continue
            elif kind == "command_name":
                cmd.words.append(self._word(child))
            elif kind in REDIRECTS or kind == "comment":
                pass
            else:
                cmd.words.append(self._word(child))
            nested.append(child)
        stack.extend((c, -1, 0, index) for c in reversed(nested) if c.child_count)


class _Tokenizer:
    """Fallback: split on operators outside quotes; good enough for flags and pipelines."""

    def __init__(self, script: Script, text: str, base: int) -> None:
        self.script = script
        self.text = text
        self.base = base

    def run(
        self, start: int = 0, end: int | None = None, parent: int | None = None, depth: int = 0
    ) -> None:
        text = self.text
        end = len(text) if end is None else end
        words: list[Word] = []
        pipeline_open = False
        pipeline = -1
        stage = 0
        heredocs: list[tuple[str, bool]] = []
        i = start

        def flush() -> int | None:
            nonlocal words
            if not words:
                return None
            cmd = SimpleCommand(
                [], pipeline=pipeline if pipeline_open else -1, stage=stage, parent=parent
            )
            at_name = True
            for w in words:
                m = ASSIGNMENT.match(w.value)
                if m and (at_name or (cmd.words and cmd.words[0].value in DECLARATIONS)):
                    offset = m.end()
                    value = Assignment(
                        Word(m.group(1), w.start, w.start + len(m.group(1))),
                        Word(w.value[offset:], w.start + offset, w.end),
                    )
                    self.script.assignments.append(value)
                    if at_name:
                        cmd.assignments.append(value)
                        continue
                at_name = False
                cmd.words.append(w)
            words = []
            if not cmd.words:
                return None
            self.script.commands.append(cmd)
            return len(self.script.commands) - 1

        pending_inner: list[tuple[int, int]] = []
        while i < end:
            ch = text[i]
            if ch in " \t":
                i += 1
                continue
            if ch == "\n":
                self._attach(flush(), pending_inner, depth)
                pipeline_open, stage = False, 0
                i = self._skip_heredocs(i + 1, end, heredocs)
                continue
            if ch == "#":
                while i < end and text[i] != "\n":
                    i += 1
                continue
            if text.startswith(("&&", "||"), i) or ch in ";&()":
                self._attach(flush(), pending_inner, depth)
                pipeline_open, stage = False, 0
                i += 2 if text.startswith(("&&", "||"), i) else 1
                continue
            if ch == "|":
                if not pipeline_open:
                    pipeline = self.script.new_pipeline()
                    pipeline_open = True
                    stage = 0
                self._attach(flush(), pending_inner, depth)
                stage += 1
                i += 1
                continue
            j, inner = self._word_end(i, end)
            raw = text[i:j]
            pending_inner.extend(inner)
            m = re.match(r"^\d*<<(-?)([\"']?)([A-Za-z_][A-Za-z0-9_.-]*)\2$", raw)
            if m:
                heredocs.append((m.group(3), bool(m.group(1))))
            else:
                words.append(Word(unquote(raw), self.base + i + _content_start(raw), self.base + j))
            i = j
        self._attach(flush(), pending_inner, depth)

    def _attach(self, index: int | None, pending: list[tuple[int, int]], depth: int) -> None:
        """Parse `$(...)`/`<(...)` bodies found in the words of command `index`."""
        spans = list(pending)
        pending.clear()
        for s, e in spans:
            if depth < MAX_SUBSTITUTION_DEPTH:  # `$($($(...)))` bombs stop here
                self.run(s, e, index, depth + 1)

    def _word_end(self, i: int, end: int) -> tuple[int, list[tuple[int, int]]]:
        text = self.text
        inner: list[tuple[int, int]] = []
        quote = ""
        while i < end:
            ch = text[i]
            if quote == "'":
                if ch == "'":
                    quote = ""
            elif ch == "\\":
                i += 1
            elif (
                ch in ("$", "<")
                and text.startswith("(", i + 1)
                and not text.startswith("((", i + 1)
            ):
                close = self._matching(i + 2, end)
                inner.append((i + 2, close))
                i = close
            elif quote == '"':
                if ch == '"':
                    quote = ""
            elif ch in "'\"":
                quote = ch
            elif ch in " \t\n;&|()":
                break
            i += 1
        return min(i, end), inner

    def _matching(self, i: int, end: int) -> int:
        depth = 1
        quote = ""
        while i < end:
            ch = self.text[i]
            if quote:
                if ch == quote:
                    quote = ""
            elif ch in "'\"":
                quote = ch
            elif ch == "(":
                depth += 1
            elif ch == ")":
                depth -= 1
                if depth == 0:
                    return i
            i += 1
        return end

    def _skip_heredocs(self, i: int, end: int, heredocs: list[tuple[str, bool]]) -> int:
        text = self.text
        while heredocs and i < end:
            name, strip = heredocs[0]
            nl = text.find("\n", i, end)
            line = text[i : nl if nl >= 0 else end]
            i = nl + 1 if nl >= 0 else end
            if (line.lstrip("\t") if strip else line) == name:
                heredocs.pop(0)
        heredocs.clear()
        return i
