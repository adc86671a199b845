"""Command lines found in any kind of file, with positions: the parse stage's view of a
Document that the `commands` engine reads.

The same risk (Jupyter without a token on 0.0.0.0, `pip install --extra-index-url`,
`curl | sh`) shows up in a Dockerfile RUN, a compose `command`, a Kubernetes `args`, a
GitHub Actions `run:`, an MLproject `command` or a shell script. Each kind has one extractor,
a function of the Document (reading its tree) that yields `CommandText`s; the concept rules
read those and never the file format.
"""

from __future__ import annotations

import bisect
import importlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from atlascan.document import Document


@dataclass(frozen=True)
class CommandText:
    """Shell text (or an exec-form argv joined by spaces) and where each line of it sits."""

    text: str
    origin: str  # e.g. "dockerfile RUN", "compose command", "k8s args", "gha run", "shell"
    # (offset in text, file line, file column) for each line of `text`, sorted by offset;
    # maps any offset back into the file, also for YAML block scalars and continuations.
    anchors: tuple[tuple[int, int, int], ...]
    argv: tuple[str, ...] | None = None  # set when the source gave an argument list
    env: dict[str, str] = field(default_factory=dict)  # environment set next to the command

    def position(self, offset: int) -> tuple[int, int]:
        """1-based (line, column) in the file of a character offset in `text`."""
        starts = [a[0] for a in self.anchors]
        i = max(0, bisect.bisect_right(starts, offset) - 1)
        start, line, col = self.anchors[i]
        return line, col + (offset - start)

    @classmethod
    def single(cls, text: str, origin: str, line: int, column: int, **kw: object) -> CommandText:
        """Text whose lines follow each other in the file at the same column."""
        anchors = []
        offset = 0
        for i, part in enumerate(text.split("\n")):
            anchors.append((offset, line + i, column if i == 0 else 1))
            offset += len(part) + 1
        return cls(text, origin, tuple(anchors), **kw)  # type: ignore[arg-type]


Extractor = Callable[["Document"], Iterator[CommandText]]

# kind -> "module:function". One line per kind; extractors are imported only when needed.
EXTRACTORS: dict[str, str] = {
    "dockerfile": "atlascan.parsers.commandlines.dockerfile:extract",
    "shell": "atlascan.parsers.commandlines.shell:extract",
    "compose": "atlascan.parsers.commandlines.yaml_kinds:extract",
    "yaml": "atlascan.parsers.commandlines.yaml_kinds:extract",
    "gha-workflow": "atlascan.parsers.commandlines.yaml_kinds:extract",
    "gha-action": "atlascan.parsers.commandlines.yaml_kinds:extract",
    "gitlab-ci": "atlascan.parsers.commandlines.yaml_kinds:extract",
    "mlproject": "atlascan.parsers.commandlines.yaml_kinds:extract",
    "python": "atlascan.parsers.commandlines.configfiles:extract",
    "text": "atlascan.parsers.commandlines.configfiles:extract",
}

# Kinds where only files of certain names carry server settings: Jupyter's traitlets config
# (`c.ServerApp.token = ''` is the flag `--ServerApp.token=''`) and TorchServe's
# config.properties (its keys are the `TS_*` environment settings).
NAME_FILTERS: dict[str, re.Pattern[str]] = {
    "python": re.compile(r"(?:^|/)jupyter_(?:notebook|server|lab)_config\.py$"),
    "text": re.compile(r"(?:^|/)config\.properties$"),
}


def handles(kind: str, path: str) -> bool:
    """Whether files of this kind and name can hold command lines (decided without reading)."""
    name_filter = NAME_FILTERS.get(kind)
    return kind in EXTRACTORS and (name_filter is None or name_filter.search(path) is not None)


def commands(doc: Document) -> list[CommandText]:
    """Every command line of the document (a view: `doc.view(commands)` extracts once)."""
    extract = _extractor(doc.kind) if handles(doc.kind, doc.path) else None
    return list(extract(doc)) if extract is not None else []


def _extractor(kind: str) -> Extractor | None:
    module_name, _, func = EXTRACTORS[kind].partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError:
        return None
    fn: Extractor = getattr(module, func)
    return fn
