"""Scripts the repository launches itself as pipeline or training steps, with a command line
it writes: Azure ML's `PythonScriptStep(script_name=...)`, `ScriptRunConfig(script=...)`
and `Estimator(entry_script=...)`, SageMaker's `entry_point=` and a processor's `code=`,
and `python train.py --model ...` in a pipeline's YAML `command:`, a workflow's or shell
script's line, a Dockerfile, a notebook's `!python` or an SDK's `command="python ..."`.
Such a script's arguments come from that step, in this repository, not from an outsider
(issue 13: a pipeline author's own parameters). Prose (README.md) is not a launcher: a
documented command line is the reader's to fill."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from atlascan.analysis import PrepareMemo
    from atlascan.model import SourceFile

# The keyword before a literal script name: `script_name="cleanse.py"`, also inside a
# notebook's JSON (`script_name=\"cleanse.py\"`). Matched backwards from each `.py` quote,
# which is much faster over a tree of notebooks than a forward search for the keywords.
# A launcher's flag naming the script it runs (`python startDask.py --script prep.py`,
# `deepspeed --entry_point=train.py`) counts the same way.
KEYWORD = re.compile(
    r"""(?:(?:script_name|script|entry_script|entry_point|code)["']?\s*[=:]\s*|--(?:script|entry[-_]?point|entry[-_]?script)[ \t=]+)\\?["']?$"""
)
NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./-")
# `python train.py`, `python3.11 -u src/score.py`: the interpreter given a script. Searched
# from each `python`, whose preceding character must not continue a word or path.
COMMAND = re.compile(r"python(?:3(?:\.\d+)?)?(?:[ \t]+-[a-zA-Z]+)*[ \t]+[\"']?([\w./-]+\.py)\b")
# The exec form of the same: a Dockerfile's `ENTRYPOINT ["python3", "train.py"]`, a YAML
# `command: [python, -u, train.py]`.
EXEC_FORM = re.compile(r"""python(?:3(?:\.\d+)?)?["']?(?:[ \t]*,[ \t]*["']?-[a-zA-Z]+["']?)*[ \t]*,[ \t]*["']?([\w./-]+\.py)\b""")
# `python -m metaflow.plugins.uv.bootstrap "$TYPE"`: the module's file under the launcher.
MODULE_FORM = re.compile(r"python(?:3(?:\.\d+)?)?(?:[ \t]+-[a-zA-Z]+)*?[ \t]+-m[ \t]+([A-Za-z_][\w]*(?:\.[A-Za-z_]\w*)*)\b")
# A training job handed a module of the repository's package: gcloud's
# `--python-module=trainer.task`, the Vertex AI SDK's `python_module_name="trainer.task"`
# (also inside a notebook's JSON, quotes escaped).
JOB_MODULE = re.compile(r"""(?:--python-module|python_module_name)\\?["']?[ \t]*[= ][ \t]*\\?["']?([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+)""")
FORWARDS = re.compile(r"\$(?:[@*1-9]|\{[@*1-9])")
KEYWORD_KINDS = frozenset({"python", "notebook", "yaml"})  # `entry_script: score.py` in a pipeline YAML
COMMAND_KINDS = frozenset({"python", "notebook", "yaml", "gha-workflow", "gitlab-ci", "shell", "dockerfile"})


@dataclass(frozen=True)
class Launch:
    folder: str  # the launcher's folder: the script is found there, below, or in a sibling
    name: str  # as written (`cleanse.py`, `steps/train.py`)
    path: str  # the launcher
    line: int


def collect_launches(files: Iterable[SourceFile], read: Callable[[str], str], memo: PrepareMemo | None = None) -> tuple[Launch, ...]:
    """Every literal script a file of the scan launches as a step. Per file, what it
    launches is remembered under the file's content hash: a warm scan reads none again."""
    found: list[Launch] = []
    for file in files:
        if file.kind not in COMMAND_KINDS:
            continue
        key = memo.content(file) if memo is not None else ""
        sites = _valid(memo.recall("python.launches", file.path, key)) if memo is not None else None
        if sites is None:
            sites = _launched(read(file.abspath), file.kind)
            if memo is not None:
                memo.remember("python.launches", file.path, key, sites)
        found += [Launch(posixpath.dirname(file.path), name, file.path, line) for name, line in sites]
    return tuple(found)


def _valid(remembered: object) -> list[tuple[str, int]] | None:
    """A remembered [[script, line], ...], or None when it is not one (a corrupt cache)."""
    if not isinstance(remembered, list):
        return None
    sites = [(s[0], s[1]) for s in remembered if isinstance(s, (list, tuple)) and len(s) == 2 and isinstance(s[0], str) and isinstance(s[1], int)]
    return sites if len(sites) == len(remembered) else None


def _launched(text: str, kind: str) -> list[tuple[str, int]]:
    """(script, line) of each launch in one file's text."""
    sites = _script_names(text) if kind in KEYWORD_KINDS else []
    sites += _commands(text)
    if "python" in text and "module" in text:  # cheap prefilter for the job form below
        sites += [(m.start(1), _module_file(m.group(1))) for m in JOB_MODULE.finditer(text)]
    return [(_clean(name), text.count("\n", 0, start) + 1) for start, name in sites]


def _clean(name: str) -> str:
    """`./src/train.py` -> `src/train.py`; a path in the image (`/app/train.py`) stays absolute."""
    name = posixpath.normpath(name)
    return name if name.startswith("/") else name.lstrip("./")


def _commands(text: str) -> list[tuple[int, str]]:
    """(offset, script) of each `python <script>.py` command line."""
    out = []
    at = text.find("python")
    while at != -1:
        before = text[at - 1] if at else " "
        m = (COMMAND.match(text, at) or EXEC_FORM.match(text, at) or MODULE_FORM.match(text, at)) if not (before.isalnum() or before in "_./-") else None
        # A wrapper that forwards its own arguments (`python convert.py "$@"`) passes the
        # caller's command line on: not one the repository writes.
        eol = text.find("\n", m.end()) if m else -1
        if m and not FORWARDS.search(text, m.end(), len(text) if eol == -1 else eol):
            name = m.group(1)
            out.append((m.start(1), name if name.endswith(".py") else _module_file(name)))
        at = text.find("python", at + 6)
    return out


def _module_file(module: str) -> str:
    """`pkg.train` -> `pkg/train.py`."""
    return module.replace(".", "/") + ".py"


def _script_names(text: str) -> list[tuple[int, str]]:
    """(offset, name) of each quoted `*.py` that a launch keyword assigns."""
    out = []
    end = text.find(".py")
    while end != -1:
        after = text[end + 3 : end + 5]
        if after[:1] in ("'", '"', "\n", "\r", " ", "") or after in ("\\'", '\\"'):
            start = end
            while start > 0 and text[start - 1] in NAME_CHARS:
                start -= 1
            if start < end and KEYWORD.search(text, max(0, start - 40), start):
                out.append((start, text[start : end + 3]))
        end = text.find(".py", end + 3)
    return out


def launcher(launches: Iterable[Launch], path: str) -> Launch | None:
    """The step that launches the script at `path`: one naming it from the script's folder,
    a folder above, or a sibling of the launcher's folder (an Azure ML pipeline in
    `pipelines/` runs `code: ../src`). A launcher at the root names the script's own path.
    A path inside the image (`command: [python3, /pipelines/component/src/train.py]`) names
    the script of that file name in the launcher's folder or below (the component's source)."""
    for launch in launches:
        if launch.name.startswith("/"):
            below = path.startswith(launch.folder + "/") if launch.folder else "/" not in path
            if launch.path != path and below and posixpath.basename(path) == posixpath.basename(launch.name):
                return launch
            continue
        if launch.path == path or not (path == launch.name or path.endswith("/" + launch.name)):
            continue
        parent = posixpath.dirname(launch.folder)
        if not launch.folder:
            if path == launch.name:
                return launch
        elif path.startswith(launch.folder + "/") or (parent and path.startswith(parent + "/")):
            return launch
    return None
