"""Property-based fuzzing of the symbolic pickle interpreter (issue 12 §6), through the public
scan entry the artifacts engine calls (`containers.dispatch`, which documents no exception:
size and budget overruns, broken streams and corrupt compression all become hits), and of
`PickleMachine.run` itself, which may only raise `Unfinished` (its documented "too big to
follow to the end", which dispatch reports as not scanned).

Inputs: arbitrary bytes behind a pickle header, opcode programs generated from
`pickletools.opcodes` with well-formed or broken operands (nesting, DUP/TUPLE expansion
and memo reuse included), and mutations of real pickles (`pickle.dumps` of generated plain
data; nothing is ever loaded), of the artifact case table and of the fixture artifact.
"""

from __future__ import annotations

import contextlib
import pickle
import pickletools
import struct

from hypothesis import given, note
from hypothesis import strategies as st

from artifact_cases import CASES
from atlascan.engines.artifacts.containers import dispatch
from atlascan.engines.artifacts.hits import Collector, Job
from atlascan.engines.artifacts.pickle_vm import PickleMachine, Unfinished
from atlascan.engines.artifacts.policy import policy
from atlascan.engines.artifacts.streams import MemorySource
from fuzz_support import FIXTURES, LONG, fuzz, mutated

POLICY = policy({})
NAMES = ("model.pkl", "model.pt", "x.joblib", "data.pkl", "w.bin", "m.ckpt", "a.npy", "m.safetensors", "m.gguf",
         "m.onnx", "model.pkl.gz", "m.keras", "config.json", "m.h5", "m.mar", "nested")  # fmt: skip


def scan(data: bytes, hint: str = "model.pkl") -> Collector:
    """What the engine does with an artifact's bytes: must never raise."""
    note(f"hint={hint} size={len(data)} head={data[:200]!r}")
    collector = Collector()
    job = Job(collector, POLICY, None)
    job.dispatch = lambda src, label, depth, h: dispatch(job, src, label, depth, h)
    dispatch(job, MemorySource(data), hint, 0, hint)
    for hit in collector.hits:
        assert hit.rule_id.startswith("ATS-ART-")
    return collector


def run_machine(data: bytes) -> None:
    collector = Collector()
    job = Job(collector, POLICY, None)
    job.dispatch = lambda src, label, depth, h: dispatch(job, src, label, depth, h)
    with contextlib.suppress(Unfinished):
        PickleMachine(job, "model.pkl", 0).run(MemorySource(data))


# ---- opcode programs --------------------------------------------------------------------

IDENTS = st.sampled_from(["os", "system", "builtins", "eval", "collections", "OrderedDict", "torch._utils",
                          "_rebuild_tensor_v2", "__builtin__", "getattr", "a.b", "x", "numpy.core.multiarray",
                          "_reconstruct", "functools", "partial", "pickle", "loads"])  # fmt: skip


def _operand(name: str | None) -> st.SearchStrategy[bytes]:
    """A well-formed operand of this pickletools argument kind (lengths kept small)."""
    if name is None:
        return st.just(b"")
    fixed = {"uint1": 1, "uint2": 2, "int4": 4, "uint4": 4, "uint8": 8, "float8": 8}
    if name in fixed:
        return st.one_of(st.binary(min_size=fixed[name], max_size=fixed[name]), st.integers(0, 12).map(lambda i: i.to_bytes(fixed[name], "little")))
    if name in ("string1", "bytes1", "unicodestring1", "long1"):
        return st.binary(max_size=20).map(lambda b: bytes([len(b)]) + b)
    if name in ("string4", "bytes4", "unicodestring4", "long4"):
        return st.binary(max_size=20).map(lambda b: struct.pack("<i" if name == "long4" else "<I", len(b)) + b)
    if name in ("bytes8", "bytearray8", "unicodestring8"):
        return st.binary(max_size=20).map(lambda b: struct.pack("<Q", len(b)) + b)
    if name == "stringnl":
        return st.sampled_from([b"'abc'\n", b'"x"\n', b"'\\x00'\n", b"abc\n", b"'\n"])
    if name == "stringnl_noescape":
        return IDENTS.map(lambda s: s.encode() + b"\n")
    if name == "stringnl_noescape_pair":
        return st.tuples(IDENTS, IDENTS).map(lambda p: f"{p[0]}\n{p[1]}\n".encode())
    if name in ("decimalnl_short", "decimalnl_long"):
        return st.sampled_from([b"0\n", b"1\n", b"00\n", b"01\n", b"-5\n", b"99999999999999999999L\n", b"x\n", b"1L\n"])
    if name == "floatnl":
        return st.sampled_from([b"1.5\n", b"nan\n", b"1e999\n", b"x\n"])
    if name == "unicodestringnl":
        return st.sampled_from([b"abc\n", b"\\u1234\n", b"\\\n", b"os\n"])
    return st.binary(max_size=8)


OPCODES = {op.code.encode("latin-1"): op for op in pickletools.opcodes}


@st.composite
def instruction(draw: st.DrawFn) -> bytes:
    op = OPCODES[draw(st.sampled_from(sorted(OPCODES)))]
    operand = draw(_operand(op.arg.name if op.arg else None))
    if operand and draw(st.integers(0, 9)) == 0:  # now and then a broken operand
        operand = operand[: draw(st.integers(0, len(operand)))] + draw(st.binary(max_size=3))
    return op.code.encode("latin-1") + operand


# Sequences that make the machine build a lot from few bytes: nested tuples kept alive by
# DUP and memo reuse, marks without ends, lists appended in a loop, deep calls.
AMPLIFIERS = (
    b"N", b"(", b"]", b"}", b")", b"2\x86", b"2\x87", b"\x85", b"\x94", b"h\x00", b"q\x00", b"(N2t",
    b"]N\x85e", b"cos\nsystem\n)R", b"\x8c\x01a\x8c\x01b\x93", b"\x8c\x01x\x94", b"(l", b"(d", b"0", b"1",
)  # fmt: skip


@st.composite
def program(draw: st.DrawFn) -> bytes:
    proto = draw(st.sampled_from([b"", b"\x80\x02", b"\x80\x04", b"\x80\x05", b"\x80\x06", b"\x80\x00"]))
    body = draw(st.lists(instruction(), max_size=40))
    if draw(st.booleans()):
        amp = draw(st.lists(st.sampled_from(AMPLIFIERS), min_size=1, max_size=4))
        count = draw(st.sampled_from([10, 1_000, 30_000] if LONG else [10, 300, 3_000]))
        body.insert(draw(st.integers(0, len(body))), b"".join(amp) * count)
    tail = draw(st.sampled_from([b".", b"", b".\x80\x02N.", b".(", b"." * 3]))
    return proto + b"".join(body) + tail


# ---- real pickles of plain data ---------------------------------------------------------

PLAIN = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10) | st.binary(max_size=10),
    lambda inner: st.lists(inner, max_size=4)
    | st.tuples(inner, inner)
    | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    | st.frozensets(st.integers(), max_size=3),
    max_leaves=20,
)
BASES = [(case.filename, case.build()) for case in CASES]
JOBLIB = (FIXTURES / "ATS-PY-002/models/encoder.joblib").read_bytes()


@st.composite
def plain_pickle(draw: st.DrawFn) -> bytes:
    return pickle.dumps(draw(PLAIN), protocol=draw(st.integers(0, pickle.HIGHEST_PROTOCOL)))


@fuzz(300)
@given(data=st.binary(max_size=800), proto=st.sampled_from([b"\x80\x02", b"\x80\x03", b"\x80\x04", b"\x80\x05", b""]),
       hint=st.sampled_from(NAMES))  # fmt: skip
def test_arbitrary_bytes(data: bytes, proto: bytes, hint: str) -> None:
    scan(proto + data, hint)


@fuzz(200)
@given(data=program(), hint=st.sampled_from(["model.pkl", "x.joblib", "data.pkl", "nested"]))
def test_opcode_programs(data: bytes, hint: str) -> None:
    scan(data, hint)
    run_machine(data)


@fuzz(200)
@given(data=plain_pickle().flatmap(lambda p: st.one_of(st.just(p), mutated(p, tuple(AMPLIFIERS)))))
def test_mutated_plain_pickles(data: bytes) -> None:
    scan(data)
    run_machine(data)


@fuzz(300)
@given(case=st.sampled_from([*BASES, ("encoder.joblib", JOBLIB)]).flatmap(
    lambda c: mutated(c[1], tuple(AMPLIFIERS), max_steps=4).map(lambda data: (c[0], data))))  # fmt: skip
def test_mutated_artifact_cases(case: tuple[str, bytes]) -> None:
    """Every case of the artifact table (ZIP, tar, compressed, npy, safetensors, GGUF, ONNX
    wrappers around pickles) and the fixture joblib file, mutated."""
    name, data = case
    scan(data, name.lower())

