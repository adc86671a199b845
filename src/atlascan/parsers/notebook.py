"""Jupyter notebooks as one Python program, with every line mapped back to the `.ipynb`.

Code cells are joined in order (an import in cell 1 resolves a call in cell 9). IPython
magics (`!cmd`, `%pip`, `x = !ls`, `%%bash` cells) are blanked out of the program and kept
as shell lines for the pip checks. Each source line is located in the notebook file by
decoding the JSON string literals of the file's lines, so findings carry the notebook's
own line numbers.

`tree(doc)` is the program (`Document.tree` of a notebook); `python_ast(doc)`, a view, is
its Python syntax tree, with cells that are not valid Python left out (each one a note).
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
ASSIGNED_SHELL = re.compile(r"^\s*[\w.,\s]+=\s*!(?P<cmd>.*)$")


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
    source_lines: list[str] = []
    file_lines: list[int] = []
    cells: list[int] = []
    shell: list[ShellLine] = []
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
        first = lines[0][0].lstrip() if lines else ""
        shell_cell = first.startswith(SHELL_CELL_MAGICS)
        for number, (part, file_line) in enumerate(lines):
            stripped = part.lstrip()
            code = part
            if shell_cell:
                if number > 0:
                    shell.append(ShellLine(part, file_line, cell_index))
                code = ""
            elif stripped.startswith("%%"):
                code = ""  # the cell magic line itself; the body is handled below
            elif stripped.startswith(("!", "%")):
                shell.append(ShellLine(stripped[1:].lstrip(), file_line, cell_index))
                code = part[: len(part) - len(stripped)] + "pass"
            else:
                m = ASSIGNED_SHELL.match(part)
                if m:
                    shell.append(ShellLine(m.group("cmd"), file_line, cell_index))
                    code = part[: len(part) - len(stripped)] + "pass"
            source_lines.append(code)
            file_lines.append(file_line)
            cells.append(cell_index)
        if lines and stripped_cell_magic_non_python(first):
            # `%%writefile`, `%%html`, ...: the rest of the cell is not Python
            start = len(source_lines) - len(lines)
            for i in range(start, len(source_lines)):
                source_lines[i] = ""
    return NotebookProgram("\n".join(source_lines) + "\n", file_lines, cells, shell)


def stripped_cell_magic_non_python(first: str) -> bool:
    return first.startswith("%%") and not first.startswith(PYTHON_CELL_MAGICS)


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
