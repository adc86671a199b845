"""Keras model configs (`config.json` in a .keras archive, a `model.to_json()` file, the
`model_config` attribute of a legacy .h5): layers that carry code and objects from modules
outside Keras. Matched on the text so every hit has an exact line and column, and a config
with comments (a fixture) still scans."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from atlascan.textutil import LineIndex

CODE_LAYER = re.compile(r'"class_name"\s*:\s*(?P<v>"(?:Lambda|TFOpLambda|TorchModuleWrapper)")')
MODULE = re.compile(r'"module"\s*:\s*(?P<v>"(?P<m>[^"\\]*)")')
UNSAFE = re.compile(r'(?P<v>enable_unsafe_deserialization)|"safe_mode"\s*:\s*(?P<f>false)')
KERAS_MODULES = ("keras", "tf_keras", "keras_hub", "keras_nlp", "keras_cv", "keras_rs", "tensorflow.keras")


@dataclass(frozen=True)
class KerasHit:
    line: int
    column: int
    end_column: int
    layer: str
    detail: str


def looks_like_keras(text: str) -> bool:
    return '"class_name"' in text and '"config"' in text


def scan(text: str, allowed: Iterable[str] = ()) -> Iterator[KerasHit]:
    index = LineIndex(text)
    allow = tuple(KERAS_MODULES) + tuple(a.rstrip("*").rstrip(".") for a in allowed)
    for m in CODE_LAYER.finditer(text):
        layer = m.group("v").strip('"')
        what = "runs Python code stored in the model" if layer != "TorchModuleWrapper" else "holds a torch.save pickle"
        yield _hit(index, m.start("v"), m.end("v"), layer, f"a `{layer}` layer {what}")
    for m in MODULE.finditer(text):
        module = m.group("m")
        if not module or any(module == a or module.startswith(a + ".") for a in allow):
            continue
        yield _hit(index, m.start("v"), m.end("v"), module, f"an object is imported from module `{module}`, outside Keras")
    for m in UNSAFE.finditer(text):
        group = "v" if m.group("v") else "f"
        yield _hit(index, m.start(group), m.end(group), "safe_mode", "the config turns off Keras safe mode")


def _hit(index: LineIndex, start: int, end: int, layer: str, detail: str) -> KerasHit:
    line, col = index.position(start)
    end_line, end_col = index.position(end)
    return KerasHit(line, col, end_col if end_line == line else col + 1, layer, detail)
