"""MLflow `MLmodel` files: flavors whose loader unpickles a file or runs custom code, and
model paths that leave the model folder. Read line by line so each hit has its exact line."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

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
