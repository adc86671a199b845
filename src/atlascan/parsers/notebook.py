"""Jupyter notebooks as one Python program, with every line mapped back to the `.ipynb`.

Code cells are joined in order (an import in cell 1 resolves a call in cell 9). IPython
syntax is translated as IPython does it, so the Python around it is still analysed: `!cmd`,
`%pip`, indented magics and `\\`-continued commands become `pass`, `x = !ls` keeps its
assignment, `%%bash` bodies are shell; the commands are kept as shell lines for the pip
checks. A `%%writefile train.py` cell is the file it writes (it ships in the container) and
becomes a program of its own. Each source line is located in the notebook file by decoding
the JSON string literals of the file's lines, so findings carry the notebook's own lines.

`tree(doc)` is the program (`Document.tree` of a notebook); `python_ast(doc)`, a view, is
its Python syntax tree, with cells that are not valid Python left out (each one a note);
`written_asts(doc)`, another view, the trees of the Python files its cells write.
"""

from __future__ import annotations

import ast
import bisect
import json
import re
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from atlascan.model import ParseError

if TYPE_CHECKING:
    from atlascan.document import Document

SHELL_CELL_MAGICS = ("%%bash", "%%sh", "%%script", "%%system", "%%!")
PYTHON_CELL_MAGICS = ("%%time", "%%timeit", "%%capture", "%%prun", "%%memit")
# `files = !ls`, `out = %sx cmd`: the target keeps its assignment, the command is shell.
ASSIGNED_MAGIC = re.compile(r"^(?P<target>\s*[\w.,\s]+=)\s*(?:!|%(?P<magic>\w+)\b)(?P<cmd>.*)$")
SHELL_LINE_MAGICS = frozenset({"sx", "system"})  # `x = %sx cmd` runs a shell; `x = %timeit -o f()` does not
WRITEFILE = ("%%writefile", "%%file")
HELP = re.compile(r"^(?:\?{1,2}[\w.]+|[\w.]+\?{1,2})\s*(?:#.*)?$")
# Magics IPython runs without `%` (automagic): `cd src`, `pip install x`. Not `cd = 1`, `ls(x)`.
AUTOMAGIC = re.compile(r"^(?:cd|pwd|ls|pip|conda|mkdir|rmdir|cat|cp|mv|rm)(?:\s+[^\s=(\[.,:+\-*/%<>!&|^][^=]*|\s+-\S.*)?$")


@dataclass(frozen=True)
class ShellLine:
    """A shell command from a notebook: `!pip install x`, `%pip install x`, a %%bash line."""

    text: str
    line: int  # notebook file line
    cell: int  # 1-based index among all cells


@dataclass
class NotebookProgram:
    source: str
    file_lines: list[int]  # program line i (0-based) -> notebook file line
    cells: list[int]  # program line i -> 1-based index among all cells
    shell: list[ShellLine] = field(default_factory=list)
    written: list[NotebookProgram] = field(default_factory=list)  # `%%writefile` cells, in order
    name: str | None = None  # for a written file: the path the cell writes

    def file_line(self, program_line: int) -> int:
        index = min(max(program_line - 1, 0), len(self.file_lines) - 1)
        return self.file_lines[index] if self.file_lines else 1

    def cell(self, program_line: int) -> int:
        index = min(max(program_line - 1, 0), len(self.cells) - 1)
        return self.cells[index] if self.cells else 1


class _LineLocator:
    """Finds, in order, the file line holding each decoded JSON string."""

    def __init__(self, text: str) -> None:
        self.by_value: dict[str, list[int]] = {}
        for number, raw in enumerate(text.splitlines(), start=1):
            stripped = raw.strip().rstrip(",")
            if stripped.startswith('"source":'):  # a cell source given as one string
                stripped = stripped[len('"source":') :].strip()
            if len(stripped) < 2 or stripped[0] != '"' or stripped[-1] != '"':
                continue
            try:
                value = json.loads(stripped)
            except ValueError:
                continue
            if isinstance(value, str):
                self.by_value.setdefault(value, []).append(number)
        self.cursor = 0

    def find(self, value: str) -> int | None:
        numbers = self.by_value.get(value)
        if not numbers:
            return None
        i = bisect.bisect_right(numbers, self.cursor)
        if i == len(numbers):
            return None
        self.cursor = numbers[i]
        return self.cursor


def _cell_source(cell: dict[str, Any]) -> list[str]:
    source = cell.get("source", [])
    if isinstance(source, str):
        return [source]
    if isinstance(source, list) and all(isinstance(s, str) for s in source):
        return source
    raise ParseError("Notebook cell `source` is neither a string nor a list of strings; skipped.")


def tree(doc: Document) -> NotebookProgram:
    return load(doc.text)


def load(text: str) -> NotebookProgram:
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ParseError(f"Notebook is not valid JSON ({exc}); skipped.") from None
    except RecursionError:
        raise ParseError("Notebook is too deeply nested to parse; skipped.") from None
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        raise ParseError("Notebook has no `cells` list (nbformat 4 expected); skipped.")
    language = (data.get("metadata") or {}).get("kernelspec", {}) if isinstance(data.get("metadata"), dict) else {}
    if isinstance(language, dict) and language.get("language") not in (None, "python"):
        raise ParseError(f"Notebook kernel language is {language.get('language')!r}, not Python; skipped.")
    locator = _LineLocator(text)
    out = _Builder()
    cell_index = 0
    last_line = 1
    for cell in data["cells"]:
        cell_index += 1  # every cell counts, markdown too: "cell 3" is the third cell in the file
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        entries = _cell_source(cell)
        # A single-string source sits on one file line; a list has one file line per entry.
        lines: list[tuple[str, int]] = []
        for entry in entries:
            found = locator.find(entry)
            last_line = found or last_line
            for part in entry.splitlines() or [""]:
                lines.append((part, last_line))
        out.cell(lines, cell_index)
    return NotebookProgram("\n".join(out.source) + "\n", out.file_lines, out.cells, out.shell, out.written)


class _Builder:
    """Translates cells the way IPython does before running them: shell escapes and magics
    at the start of a statement (not inside brackets or strings) become `pass` or a call,
    `\\`-continued shell commands are joined, `%%bash` bodies are shell, `%%writefile`
    bodies are the files they write. Every cell keeps its line count."""

    def __init__(self) -> None:
        self.source: list[str] = []
        self.file_lines: list[int] = []
        self.cells: list[int] = []
        self.shell: list[ShellLine] = []
        self.written: list[NotebookProgram] = []

    def _add(self, code: str, file_line: int, cell: int) -> None:
        self.source.append(code)
        self.file_lines.append(file_line)
        self.cells.append(cell)

    def cell(self, lines: list[tuple[str, int]], cell: int) -> None:
        first = lines[0][0].strip() if lines else ""
        if first.startswith("%%"):
            self._add("", lines[0][1], cell)
            body = lines[1:]
            if first.startswith(SHELL_CELL_MAGICS):
                self._shell_body(body, cell)
                return
            if not first.startswith(PYTHON_CELL_MAGICS):
                if first.startswith(WRITEFILE):
                    self._writefile(first, body, cell)
                for _, file_line in body:
                    self._add("", file_line, cell)  # `%%html`, `%%writefile`, ...: not this program's Python
                return
            lines = body
        self._python(lines, cell)

    def _python(self, lines: list[tuple[str, int]], cell: int) -> None:
        lines = _dedent(lines)
        state = _PyState()
        pending: tuple[list[str], int] | None = None  # a shell command continued with `\`
        for part, file_line in lines:
            if pending is not None:
                pending[0].append(part.rstrip().removesuffix("\\").strip())
                self._add("", file_line, cell)
                if not part.rstrip().endswith("\\"):
                    self.shell.append(ShellLine(" ".join(pending[0]), pending[1], cell))
                    pending = None
                continue
            stripped = part.lstrip()
            indent = part[: len(part) - len(stripped)]
            command: str | None = None
            code = part
            if state.at_statement_start():
                if stripped.startswith(("!", "%")) and not stripped.startswith("%%"):
                    command, code = stripped[1:].lstrip(), indent + "pass"
                elif AUTOMAGIC.match(stripped):
                    command, code = stripped, indent + "pass"
                elif HELP.match(stripped):
                    code = indent + "pass"  # `model.fit?`: IPython help, no command
                else:
                    m = ASSIGNED_MAGIC.match(part)
                    if m and m.group("magic") in (None, *SHELL_LINE_MAGICS):
                        command, code = m.group("cmd").strip(), f"{m.group('target')} get_ipython().getoutput()"
                    elif m:
                        code = f"{m.group('target')} get_ipython().run_line_magic()"
            if command is None:
                state.feed(part)
            elif command.rstrip().endswith("\\"):
                pending = ([command.rstrip().removesuffix("\\").strip()], file_line)
            else:
                self.shell.append(ShellLine(command, file_line, cell))
            self._add(code, file_line, cell)
        if pending is not None:
            self.shell.append(ShellLine(" ".join(pending[0]), pending[1], cell))

    def _shell_body(self, body: list[tuple[str, int]], cell: int) -> None:
        pending: list[str] = []
        start = 0
        for part, file_line in body:
            self._add("", file_line, cell)
            if not pending:
                start = file_line
            pending.append(part.rstrip().removesuffix("\\").strip())
            if not part.rstrip().endswith("\\"):
                self.shell.append(ShellLine(" ".join(pending), start, cell))
                pending = []
        if pending:
            self.shell.append(ShellLine(" ".join(pending), start, cell))

    def _writefile(self, first: str, body: list[tuple[str, int]], cell: int) -> None:
        args = first.split()[1:]
        append = "-a" in args or "--append" in args
        names = [a for a in args if not a.startswith("-")]
        if not names:
            return
        name = names[0].strip("'\"")
        program = NotebookProgram(
            "\n".join(p for p, _ in body) + "\n", [n for _, n in body], [cell] * len(body), name=name
        )  # fmt: skip
        previous = next((w for w in reversed(self.written) if w.name == name), None)
        if append and previous is not None:
            previous.source += program.source
            previous.file_lines += program.file_lines
            previous.cells += program.cells
        else:
            self.written.append(program)


def _dedent(lines: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """IPython removes the indentation of a cell's first line from every line."""
    first = next((part for part, _ in lines if part.strip()), "")
    indent = first[: len(first) - len(first.lstrip())]
    if not indent or not all(part.startswith(indent) or not part.strip() for part, _ in lines):
        return lines
    return [(part[len(indent) :], line) for part, line in lines]


class _PyState:
    """Whether the next line starts a Python statement: not inside brackets, a triple-quoted
    string or after a backslash. A cheap scan, enough to tell `% (a, b)` from a magic."""

    def __init__(self) -> None:
        self.depth = 0
        self.quote: str | None = None
        self.backslash = False

    def at_statement_start(self) -> bool:
        return self.depth == 0 and self.quote is None and not self.backslash

    def feed(self, line: str) -> None:
        i, n = 0, len(line)
        while i < n:
            if self.quote is not None:
                if line.startswith(self.quote, i):
                    i += len(self.quote)
                    self.quote = None
                else:
                    i += 2 if line[i] == "\\" else 1
                continue
            ch = line[i]
            if ch == "#":
                break
            if ch in "\"'":
                if line[i : i + 3] in ('"""', "'''"):
                    self.quote = line[i : i + 3]
                    i += 3
                    continue
                j = i + 1
                while j < n and line[j] != ch:
                    j += 2 if line[j] == "\\" else 1
                i = j + 1
                continue
            if ch in "([{":
                self.depth += 1
            elif ch in ")]}":
                self.depth = max(0, self.depth - 1)
            i += 1
        self.backslash = self.quote is None and line.rstrip().endswith("\\")


MAX_BAD_CELLS = 25


def python_ast(doc: Document) -> ast.Module:
    """The program's syntax tree. A cell that does not parse is blanked (line numbers stay
    true) and noted on the document; the other cells are still analyzed."""
    program: NotebookProgram = doc.tree
    lines = program.source.split("\n")
    for _ in range(MAX_BAD_CELLS):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return ast.parse("\n".join(lines), filename=doc.path)
        except SyntaxError as exc:
            cell = program.cell(exc.lineno or 1)
            doc.notes.append(
                (f"Notebook cell {cell} is not valid Python ({exc.msg}); the other cells were scanned.",
                 program.file_line(exc.lineno or 1))
            )  # fmt: skip
            for i, owner in enumerate(program.cells):
                if owner == cell and i < len(lines):
                    lines[i] = ""
        except (RecursionError, MemoryError, ValueError):
            raise ParseError("Notebook code is too deeply nested or malformed to parse; skipped.") from None
    raise ParseError("Notebook has too many cells that are not valid Python; skipped.")


def written_asts(doc: Document) -> list[tuple[NotebookProgram, ast.Module]]:
    """The `.py` files `%%writefile` cells write, each parsed on its own (a note when one
    does not parse: it would fail in the container too)."""
    program: NotebookProgram = doc.tree
    found: list[tuple[NotebookProgram, ast.Module]] = []
    for written in program.written:
        if not (written.name or "").endswith(".py"):
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                found.append((written, ast.parse(written.source, filename=f"{doc.path}:{written.name}")))
        except SyntaxError as exc:
            doc.notes.append(
                (f"Notebook cell {written.cell(exc.lineno or 1)} writes `{written.name}`, which is not valid Python ({exc.msg}); not scanned.",
                 written.file_line(exc.lineno or 1))
            )  # fmt: skip
        except (RecursionError, MemoryError, ValueError):
            continue
    return found
