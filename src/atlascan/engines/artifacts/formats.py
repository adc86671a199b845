"""Cheap checks of formats that hold no pickle but can still carry code or lie about their
layout: Keras configs inside archives and HDF5, safetensors headers, GGUF chat templates and
ONNX external-data paths. Each reads a bounded prefix, never the tensor data."""

from __future__ import annotations

import json
import re
import struct
from itertools import pairwise

from atlascan.engines.artifacts import keras_config
from atlascan.engines.artifacts.hits import Job
from atlascan.engines.artifacts.streams import Reader, Source

MAX_CONFIG = 8 << 20
CONFIG_START = re.compile(rb'\{\s*"(?:class_name|module)"\s*:')


# ---- Keras ----------------------------------------------------------------------------------
def keras_member(job: Job, src: Source, label: str) -> None:
    text = src.read(MAX_CONFIG).decode("utf-8", "replace")
    keras_text(job, text, label)


def keras_text(job: Job, text: str, label: str) -> None:
    if not keras_config.looks_like_keras(text):
        return
    for hit in keras_config.scan(text, job.keras_allow):
        job.hit("ATS-ART-006", (label, hit.line, hit.column), member=label, detail=hit.detail,
                extra={"layer": hit.layer, "config_line": hit.line})  # fmt: skip


def hdf5_keras(job: Job, src: Source, label: str) -> None:
    """Legacy Keras .h5 keeps its config as a JSON string attribute near the file start."""
    blob = src.read(MAX_CONFIG)
    m = CONFIG_START.search(blob)
    if m is None:
        return
    start = m.start()
    end = _json_end(blob, start)
    keras_text(job, blob[start:end].decode("utf-8", "replace"), f"{label}!model_config")


def _json_end(blob: bytes, start: int) -> int:
    depth = 0
    in_str = False
    i = start
    while i < len(blob):
        c = blob[i]
        if in_str:
            if c == 0x5C:
                i += 1
            elif c == 0x22:
                in_str = False
        elif c == 0x22:
            in_str = True
        elif c == 0x7B:
            depth += 1
        elif c == 0x7D:
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return len(blob)


# ---- safetensors ----------------------------------------------------------------------------
DTYPE_SIZES = {
    "BOOL": 1, "U8": 1, "I8": 1, "F8_E4M3": 1, "F8_E5M2": 1, "F8_E8M0": 1, "I16": 2, "U16": 2,
    "F16": 2, "BF16": 2, "I32": 4, "U32": 4, "F32": 4, "I64": 8, "U64": 8, "F64": 8, "C64": 8,
}  # fmt: skip
MAX_HEADER = 100 << 20


def looks_like_safetensors(head: bytes, length: int | None) -> bool:
    if len(head) < 10 or head[8:9] != b"{":
        return False
    n = struct.unpack("<Q", head[:8])[0]
    return length is not None and 2 <= n <= length - 8


def safetensors(job: Job, src: Source, label: str) -> None:
    raw = src.read(8)
    length = src.length
    if len(raw) < 8 or length is None:
        return
    n = struct.unpack("<Q", raw)[0]
    problem = _safetensors_problem(src, n, length)
    if problem:
        job.hit("ATS-ART-004", (label, "safetensors"), member=label, extra={"offset": 8}, reason=f"its safetensors header {problem}")


def _safetensors_problem(src: Source, n: int, length: int) -> str | None:
    if n > MAX_HEADER or n > length - 8:
        return f"declares {n} bytes, more than the file holds"
    try:
        header = json.loads(src.read(n).decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return "is not valid JSON"
    if not isinstance(header, dict):
        return "is not a JSON object"
    data_len = length - 8 - n
    spans = []
    for name, spec in header.items():
        if name == "__metadata__":
            if not isinstance(spec, dict) or not all(isinstance(v, str) for v in spec.values()):
                return "has __metadata__ values that are not strings"
            continue
        if not isinstance(spec, dict):
            return f"describes tensor {name!r} with a non-object"
        dtype, shape, offsets = spec.get("dtype"), spec.get("shape"), spec.get("data_offsets")
        if dtype not in DTYPE_SIZES:
            return f"gives tensor {name!r} the unknown dtype {dtype!r}"
        if not isinstance(shape, list) or not all(isinstance(d, int) and d >= 0 for d in shape):
            return f"gives tensor {name!r} an invalid shape"
        if not (isinstance(offsets, list) and len(offsets) == 2 and all(isinstance(o, int) for o in offsets)):
            return f"gives tensor {name!r} invalid data_offsets"
        begin, end = offsets
        count = 1
        for d in shape:
            count *= d
        if not 0 <= begin <= end <= data_len:
            return f"places tensor {name!r} outside the data region"
        if end - begin != count * DTYPE_SIZES[dtype]:
            return f"gives tensor {name!r} {end - begin} bytes for a shape that needs {count * DTYPE_SIZES[dtype]}"
        spans.append((begin, end, name))
    spans.sort()
    for (_, end_a, a), (begin_b, _, b) in pairwise(spans):
        if begin_b < end_a:
            return f"lets tensors {a!r} and {b!r} overlap"
    return None


# ---- GGUF ---------------------------------------------------------------------------------
# Jinja that reaches Python internals: dunder attributes, the attr filter, os/subprocess.
TEMPLATE_CODE = re.compile(
    r"__[a-z]+__|\|\s*attr\s*\(|\bos\s*\.\s*(?:popen|system)|\bsubprocess\b|\bimport_module\b|\beval\s*\(|\bexec\s*\("
)
_FIXED = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}
MAX_KV = 1 << 16


class _Truncated(Exception):
    pass


def gguf(job: Job, source: Source, label: str) -> None:
    src = Reader(source)  # buffered: vocabularies hold hundreds of thousands of short strings
    head = src.read(8)
    version = struct.unpack("<I", head[4:8])[0] if len(head) == 8 else 0
    if version not in (1, 2, 3):
        job.hit("ATS-ART-004", (label, "gguf"), member=label, extra={"offset": 4}, reason=f"unknown GGUF version {version}")
        return
    wide = version >= 2
    try:
        kv_raw = _read(src, 16 if wide else 8)  # tensor count, kv count
        kv_count = struct.unpack("<Q", kv_raw[8:16])[0] if wide else struct.unpack("<I", kv_raw[4:8])[0]
        for _ in range(min(kv_count, MAX_KV)):
            key = _string(src, wide)
            vtype = struct.unpack("<I", _read(src, 4))[0]
            if vtype == 8 and key.startswith("tokenizer.chat_template"):
                template = _string(src, wide, keep=True)
                m = TEMPLATE_CODE.search(template)
                if m:
                    job.hit("ATS-ART-009", (label, key), member=label, key=key, pattern=m.group(0))
            else:
                _skip_value(src, vtype, wide)
    except _Truncated:
        job.hit("ATS-ART-004", (label, "gguf"), member=label, extra={"offset": src.tell()}, reason="its GGUF metadata runs past the end of the file")
    except (struct.error, ValueError) as exc:
        job.hit("ATS-ART-004", (label, "gguf"), member=label, extra={"offset": src.tell()}, reason=f"its GGUF metadata is malformed ({exc})")


def _read(src: Reader, n: int) -> bytes:
    data = src.read(n)
    if len(data) != n:
        raise _Truncated
    return data


def _string(src: Reader, wide: bool, keep: bool = False) -> str:
    n = struct.unpack("<Q", _read(src, 8))[0] if wide else struct.unpack("<I", _read(src, 4))[0]
    if keep or n <= 4096:
        if n > MAX_CONFIG:
            raise ValueError(f"a string of {n} bytes")
        return _read(src, n).decode("utf-8", "replace")
    if src.skip(n) != n:
        raise _Truncated
    return ""


def _skip_value(src: Reader, vtype: int, wide: bool) -> None:
    if vtype in _FIXED:
        _read(src, _FIXED[vtype])
    elif vtype == 8:
        _string(src, wide)
    elif vtype == 9:
        item = struct.unpack("<I", _read(src, 4))[0]
        count = struct.unpack("<Q", _read(src, 8))[0] if wide else struct.unpack("<I", _read(src, 4))[0]
        if item in _FIXED:
            if src.skip(count * _FIXED[item]) != count * _FIXED[item]:
                raise _Truncated
        elif item == 8:
            for _ in range(count):
                _string(src, wide)
        else:
            raise ValueError(f"array of type {item}")
    else:
        raise ValueError(f"value type {vtype}")


# ---- ONNX -----------------------------------------------------------------------------------
# TensorProto.external_data is a StringStringEntryProto: key (field 1) = "location", then value
# (field 2, length-delimited) = the path, relative to the model's folder.
LOCATION = re.compile(rb"\n\x08location\x12")
MAX_ONNX_SCAN = 256 << 20


def onnx(job: Job, src: Source, label: str) -> None:
    pread = getattr(src, "pread", None)
    if pread is not None and src.length is not None:
        from atlascan.engines.artifacts.graphs import onnx_graph

        if onnx_graph(job, src, src.length, label):  # type: ignore[arg-type]
            return
    # a stream without random access, or bytes that do not parse: search for the entries
    carry = b""
    seen = 0
    while seen < MAX_ONNX_SCAN:
        chunk = src.read(1 << 20)
        if not chunk:
            break
        seen += len(chunk)
        buf = carry + chunk
        for m in LOCATION.finditer(buf):
            path = _varint_string(buf, m.end())
            if path is not None and _escapes(path):
                job.hit("ATS-ART-010", (label, path), member=label, location=path)
        carry = buf[-4096:]


def _varint_string(buf: bytes, i: int) -> str | None:
    n = shift = 0
    while i < len(buf) and shift < 35:
        b = buf[i]
        n |= (b & 0x7F) << shift
        i += 1
        shift += 7
        if not b & 0x80:
            break
    if n > 4096 or i + n > len(buf):
        return None
    return buf[i : i + n].decode("utf-8", "replace")


def _escapes(path: str) -> bool:
    p = path.replace("\\", "/")
    return p.startswith("/") or bool(re.match(r"[A-Za-z]:/", p)) or ".." in p.split("/") or p.startswith("~")
