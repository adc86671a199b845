"""Computation graphs read as protobuf bytes: TensorFlow SavedModels (`saved_model.pb`), frozen
GraphDefs, Keras `keras_metadata.pb`, and ONNX models. TensorFlow and ONNX are never imported.

SavedModel      2 meta_graphs -> MetaGraphDef 2 graph_def -> GraphDef
GraphDef        1 node (NodeDef), 2 library -> FunctionDefLibrary 1 function -> FunctionDef 3 node_def
NodeDef         1 name, 2 op, 3 input, 5 attr (map entry 1 key, 2 AttrValue 8 tensor -> TensorProto 8 string_val)
SavedMetadata   1 nodes -> SavedObject 5 metadata (Keras JSON)
ModelProto      7 graph, 8 opset_import (1 domain), 25 functions (FunctionProto 10 domain, 7 node)
GraphProto      1 node (NodeProto 4 op_type, 7 domain), 5 initializer, 15 sparse_initializer
"""

from __future__ import annotations

import re

from atlascan.engines.artifacts import keras_config
from atlascan.engines.artifacts.hits import Job
from atlascan.engines.artifacts.protowire import RandomSource, Wire, WireError
from atlascan.model import Severity

# Ops that run Python chosen by whoever built the graph (py_function, numpy_function).
PYTHON_OPS = frozenset({"PyFunc", "PyFuncStateless", "EagerPyFunc"})
FILE_OPS = frozenset({"ReadFile", "WriteFile", "MatchingFiles", "ImmutableConst"})
# Checkpoint ops whose first input names the file: fine with the loader's own prefix
# argument, not with a constant absolute or climbing path.
SAVE_OPS = frozenset({"Save", "SaveV2", "SaveSlices", "Restore", "RestoreV2", "RestoreSlice", "MergeV2Checkpoints"})
MAX_NODES = 1_000_000


def _escapes(path: str) -> bool:
    p = path.replace("\\", "/")
    return p.startswith(("/", "~")) or bool(re.match(r"[A-Za-z]:/", p)) or ".." in p.split("/")


# ---- TensorFlow ---------------------------------------------------------------------------
def saved_model(job: Job, src: RandomSource, length: int, label: str, hint: str) -> None:
    """`saved_model.pb` or any other `.pb` holding a GraphDef; `keras_metadata.pb`."""
    wire = Wire(src)
    try:
        if hint.endswith("keras_metadata.pb"):
            _keras_metadata(job, wire, length, label)
            return
        top = list(wire.fields(0, length))
        if any(f == 1 and w == 0 for f, w, _, _ in top):  # saved_model_schema_version: a SavedModel
            for f, w, off, n in top:
                if f == 2 and w == 2:
                    for g_start, g_end in wire.messages(off, off + n, 2):
                        _graph(job, wire, g_start, g_end, label)
        else:
            _graph(job, wire, 0, length, label)
    except WireError as exc:
        if hint.endswith("saved_model.pb"):
            job.hit("ATS-ART-004", (label, "protobuf"), member=label, reason=f"its protobuf does not parse ({exc})")


def _graph(job: Job, wire: Wire, start: int, end: int, label: str) -> None:
    nodes: list[tuple[int, int]] = []
    for f, w, off, n in wire.fields(start, end):
        if w != 2:
            continue
        if f == 1:
            nodes.append((off, off + n))
        elif f == 2:  # FunctionDefLibrary
            for fn_start, fn_end in wire.messages(off, off + n, 1):
                fn_nodes = list(wire.messages(fn_start, fn_end, 3))
                _nodes(job, wire, fn_nodes, label)
        if len(nodes) > MAX_NODES:
            break
    _nodes(job, wire, nodes, label)


def _nodes(job: Job, wire: Wire, nodes: list[tuple[int, int]], label: str) -> None:
    consts: dict[str, list[str]] = {}
    saves: list[tuple[str, str, str]] = []  # op, node name, first input
    for start, end in nodes:
        name = op = first_input = ""
        value_strings: list[str] = []
        for f, w, off, n in wire.fields(start, end):
            if w != 2:
                continue
            if f == 1:
                name = wire.text(off, n)
            elif f == 2:
                op = wire.text(off, n, 256)
            elif f == 3 and not first_input:
                first_input = wire.text(off, n)
            elif f == 5 and n < 1 << 16:
                value_strings += _const_strings(wire, off, off + n)
        if op in PYTHON_OPS:
            job.hit("ATS-ART-011", (label, op, name), severity=Severity.CRITICAL, member=label,
                    detail=f"graph node `{name}` is a `{op}` op, which runs Python code when the graph executes")  # fmt: skip
        elif op in FILE_OPS:
            job.hit("ATS-ART-011", (label, op, name), member=label,
                    detail=f"graph node `{name}` is a `{op}` op, which touches the file system when the graph executes")  # fmt: skip
        elif op in SAVE_OPS:
            saves.append((op, name, first_input))
        elif op == "Const" and value_strings:
            consts[name] = value_strings
    for op, name, first_input in saves:
        source = first_input.lstrip("^").split(":", 1)[0]
        for path in consts.get(source, []):
            if _escapes(path):
                job.hit("ATS-ART-011", (label, op, name), member=label,
                        detail=f"graph node `{name}` ({op}) reads or writes the checkpoint path `{path}` outside the model folder")  # fmt: skip


def _const_strings(wire: Wire, start: int, end: int) -> list[str]:
    """String values of a NodeDef attr entry named `value` (a Const's tensor)."""
    key = ""
    out: list[str] = []
    for f, w, off, n in wire.fields(start, end):
        if f == 1 and w == 2:
            key = wire.text(off, n, 64)
        elif f == 2 and w == 2 and key == "value":
            for t_start, t_end in wire.messages(off, off + n, 8):
                out += wire.strings(t_start, t_end, 8)
    return out if key == "value" else []


def _keras_metadata(job: Job, wire: Wire, length: int, label: str) -> None:
    """keras_metadata.pb keeps each layer's Keras JSON in SavedObject.metadata."""
    from atlascan.engines.artifacts.formats import keras_text

    for n_start, n_end in wire.messages(0, length, 1):
        for f, w, off, n in wire.fields(n_start, n_end):
            if f == 5 and w == 2 and n <= 8 << 20:
                text = wire.read(off, n).decode("utf-8", "replace")
                if keras_config.looks_like_keras(text):
                    keras_text(job, text, label)


# ---- ONNX -----------------------------------------------------------------------------------
# Domains whose operators ship with ONNX Runtime itself; any other needs a custom-op library
# (a native shared object) registered by whoever loads the model.
STANDARD_DOMAINS = frozenset({
    "", "ai.onnx", "ai.onnx.ml", "ai.onnx.training", "ai.onnx.preview.training", "com.microsoft",
    "com.microsoft.nchwc", "com.microsoft.experimental", "com.microsoft.dml", "com.ms.internal.nhwc",
    "org.pytorch.aten", "com.microsoft.mlfeaturizers",
})  # fmt: skip


MAX_GRAPH_DEPTH = 8  # If/Loop/Scan bodies nest graphs inside node attributes


def onnx_graph(job: Job, src: RandomSource, length: int, label: str) -> bool:
    """Nodes from custom operator domains and external-data locations leaving the model's
    folder, in the main graph, local functions and every subgraph. Tensor bytes are skipped by
    their length, never read. False when the bytes are not a ModelProto."""
    wire = Wire(src)
    try:
        local: set[str] = set()  # model-local functions are ONNX, not native code
        graphs: list[tuple[int, int, int]] = []  # start, end, field of its nodes
        for f, w, off, n in wire.fields(0, length):
            if w != 2:
                continue
            if f == 7:
                graphs.append((off, off + n, 1))
            elif f == 25:
                local.update(wire.strings(off, off + n, 10, 256))
                graphs.append((off, off + n, 7))
        for g_start, g_end, node_field in graphs:
            _onnx_graph(job, wire, g_start, g_end, node_field, label, local, 0)
    except WireError:
        return False
    return True


def _onnx_graph(job: Job, wire: Wire, start: int, end: int, node_field: int, label: str, local: set[str], depth: int) -> None:
    if depth > MAX_GRAPH_DEPTH:
        return
    for f, w, off, n in wire.fields(start, end):
        if w != 2:
            continue
        if f == node_field:
            _onnx_node(job, wire, off, off + n, label, local, depth)
        elif node_field == 1 and f == 5:  # initializer
            _onnx_tensor(job, wire, off, off + n, label)
        elif node_field == 1 and f == 15:  # sparse_initializer: values 1, indices 2
            for t_field in (1, 2):
                for t_start, t_end in wire.messages(off, off + n, t_field):
                    _onnx_tensor(job, wire, t_start, t_end, label)


def _onnx_node(job: Job, wire: Wire, start: int, end: int, label: str, local: set[str], depth: int) -> None:
    op = domain = ""
    for f, w, off, n in wire.fields(start, end):
        if w != 2:
            continue
        if f == 4:
            op = wire.text(off, n, 256)
        elif f == 7:
            domain = wire.text(off, n, 256)
        elif f == 5:  # AttributeProto: t 5, g 6, tensors 10, graphs 11
            for a, aw, a_off, a_n in wire.fields(off, off + n):
                if aw != 2:
                    continue
                if a in (5, 10):
                    _onnx_tensor(job, wire, a_off, a_off + a_n, label)
                elif a in (6, 11):
                    _onnx_graph(job, wire, a_off, a_off + a_n, 1, label, local, depth + 1)
    if domain not in STANDARD_DOMAINS and domain not in local:
        job.hit("ATS-ART-011", (label, "domain", domain), member=label,
                detail=f"node `{op}` comes from the custom operator domain `{domain}`, which runs a native custom-op library")  # fmt: skip


def _onnx_tensor(job: Job, wire: Wire, start: int, end: int, label: str) -> None:
    """TensorProto.external_data (13): key/value entries; `location` is relative to the model."""
    for e_start, e_end in wire.messages(start, end, 13):
        key = value = ""
        for f, w, off, n in wire.fields(e_start, e_end):
            if w == 2 and f == 1:
                key = wire.text(off, n, 64)
            elif w == 2 and f == 2:
                value = wire.text(off, n)
        if key == "location" and _escapes(value):
            job.hit("ATS-ART-010", (label, value), member=label, location=value)
