"""Scripts the repository launches itself as pipeline or training steps: Azure ML's
`PythonScriptStep(script_name=...)`, `ScriptRunConfig(script=...)` and
`Estimator(entry_script=...)`, SageMaker's `entry_point=` and a processor's `code=`. Such a
script's command line is written by the step that launches it, in this repository, not by
an outsider, so its arguments are not outside input (issue 13: a pipeline author's own
parameters)."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from atlascan.model import SourceFile

# The keyword before a literal script name: `script_name="cleanse.py"`, also inside a
# notebook's JSON (`script_name=\"cleanse.py\"`). Matched backwards from each `.py` quote,
# which is much faster over a tree of notebooks than a forward search for the keywords.
KEYWORD = re.compile(r"""(?:script_name|script|entry_script|entry_point|code)\s*=\s*\\?["']$""")
NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./-")


@dataclass(frozen=True)
class Launch:
    folder: str  # the launcher's folder: the script is found there or below
    name: str  # as written (`cleanse.py`, `steps/train.py`)
    path: str  # the launcher
    line: int


def collect_launches(files: Iterable[SourceFile], read: Callable[[str], str]) -> tuple[Launch, ...]:
    """Every literal script a Python file or notebook of the scan launches as a step."""
    found: list[Launch] = []
    for file in files:
        if file.kind not in ("python", "notebook"):
            continue
        text = read(file.abspath)
        for start, name in _script_names(text):
            name = posixpath.normpath(name).lstrip("./")
            found.append(Launch(posixpath.dirname(file.path), name, file.path, text.count("\n", 0, start) + 1))
    return tuple(found)


def _script_names(text: str) -> list[tuple[int, str]]:
    """(offset, name) of each quoted `*.py` that a launch keyword assigns."""
    out = []
    end = text.find(".py")
    while end != -1:
        after = text[end + 3 : end + 5]
        if after[:1] in ("'", '"') or after in ("\\'", '\\"'):
            start = end
            while start > 0 and text[start - 1] in NAME_CHARS:
                start -= 1
            if start < end and KEYWORD.search(text, max(0, start - 40), start):
                out.append((start, text[start : end + 3]))
        end = text.find(".py", end + 3)
    return out


def launcher(launches: Iterable[Launch], path: str) -> Launch | None:
    """The step that launches the script at `path`: one naming it from the script's folder
    or a folder above (`source_directory` is a folder below the launcher)."""
    for launch in launches:
        inside = not launch.folder or path.startswith(launch.folder + "/")
        if inside and launch.path != path and (path == launch.name or path.endswith("/" + launch.name)):
            return launch
    return None
