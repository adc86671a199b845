"""MLflow `MLmodel` files: flavors whose loader unpickles a file or runs custom code, and
model paths that leave the model folder. Read line by line so each hit has its exact line."""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass

from atlascan import kinds
from atlascan.model import SourceFile

KEY = re.compile(r"^(?P<indent>\s*)(?P<key>[A-Za-z_]+)\s*:\s*(?P<value>[^#\s][^#]*?)\s*(?:#.*)?$")
PATH_KEYS = frozenset({"pickled_model", "model_path", "python_model", "data", "model_data", "code"})


@dataclass(frozen=True)
class MLmodelHit:
    line: int
    column: int
    end_column: int
    key: str
    value: str
    detail: str


def scan(lines: list[str]) -> Iterator[MLmodelHit]:
    for number, raw in enumerate(lines, start=1):
        m = KEY.match(raw)
        if not m:
            continue
        key, value = m.group("key"), m.group("value").strip("'\"")
        col, end = m.start("value") + 1, m.end("value") + 1
        detail = _detail(key, value)
        if detail:
            yield MLmodelHit(number, col, end, key, value, detail)


def _detail(key: str, value: str) -> str | None:
    if key == "serialization_format" and value in ("pickle", "cloudpickle"):
        return f"the model is stored with {value}, which runs code when loaded"
    if key == "python_model":
        if _escapes(value):
            return f"the python_model path `{value}` leaves the model folder"
        return "a cloudpickled PythonModel runs code when loaded"
    if key == "pickle_module_name":
        return f"the PyTorch flavor unpickles its weights with `{value}`"
    if key == "loader_module" and not value.startswith("mlflow."):
        return f"loading runs the custom module `{value}`"
    if key in PATH_KEYS and _escapes(value):
        return f"the {key} path `{value}` leaves the model folder"
    return None


def _escapes(value: str) -> bool:
    p = value.replace("\\", "/")
    return p.startswith(("/", "~")) or ".." in p.split("/") or bool(re.match(r"[A-Za-z]:/", p))


# Flavor keys that name the serialized model file, relative to the MLmodel's folder.
MODEL_FILE_KEYS = frozenset({"pickled_model", "python_model", "model_path", "data", "model_data", "model_file", "saved_model_dir"})


def model_files(lines: list[str]) -> Iterator[MLmodelHit]:
    for number, raw in enumerate(lines, start=1):
        m = KEY.match(raw)
        if m and m.group("key") in MODEL_FILE_KEYS:
            value = m.group("value").strip("'\"")
            if value and not _escapes(value):
                yield MLmodelHit(number, m.start("value") + 1, m.end("value") + 1, m.group("key"), value, "")


def resolve(mlmodel: SourceFile, value: str, max_bytes: int) -> tuple[str, str, int] | None:
    """(absolute path, scan-relative path, size) of a model file the MLmodel names, when it is
    a regular file inside the scan root that discovery would not scan as a model itself."""
    root = mlmodel.abspath[: len(mlmodel.abspath) - len(mlmodel.path)].rstrip("/\\") or "/"
    folder = os.path.dirname(mlmodel.abspath)
    target = os.path.normpath(os.path.join(folder, value))
    real_root = os.path.realpath(root)
    real = os.path.realpath(target)
    if not real.startswith(real_root + os.sep):
        return None  # a symlink or path leaving the scanned tree is never read
    try:
        st = os.stat(real)
    except OSError:
        return None
    if not stat.S_ISREG(st.st_mode) or st.st_size == 0 or st.st_size > max_bytes:
        return None
    rel = os.path.relpath(target, root).replace(os.sep, "/")
    if kinds.classify(rel) == kinds.ARTIFACT:
        return None  # scanned on its own
    with open(real, "rb") as fh:
        if kinds.sniff(fh.read(16)) == kinds.ARTIFACT:
            return None
    return real, rel, st.st_size
