"""The artifact case table: each case builds one file from opcodes and says which ATS-ART rules
must report it (benign look-alikes expect none and name the rules they guard against).

Binary artifacts cannot carry `# expect:` annotations, so this table plays that part;
`COVERAGE` gives the catalog test (vulnerable cases, safe cases) per rule.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass

import artifact_builder as ab
from artifact_builder import Member, P

ALL_PICKLE = frozenset({"ATS-ART-001", "ATS-ART-002", "ATS-ART-003", "ATS-ART-004"})


@dataclass(frozen=True)
class Case:
    name: str
    filename: str
    build: Callable[[], bytes]
    expect: frozenset[str] = frozenset()
    guards: frozenset[str] = frozenset()  # for benign cases: the rules that must stay silent


def _c(name: str, filename: str, build: Callable[[], bytes], *expect: str, guards: frozenset[str] = frozenset()) -> Case:
    return Case(name, filename, build, frozenset(expect), guards)


def _memo_desync() -> bytes:
    # 'os' and 'system' reach STACK_GLOBAL only through memo slots written by MEMOIZE after BINGET
    p = P(4).s("os").memoize().pop().s("system").memoize().pop()
    p.binget(0).memoize().binget(1).memoize().pop().pop().binget(2).binget(3).raw(b"\x93")
    return p.s("echo atlascan-test").tuple1().reduce().stop().data()


def _computed_module() -> bytes:
    # STACK_GLOBAL(str.lower("OS"), "system"): the module is a call result
    p = P(4).sglob("builtins", "str.lower").s("OS").tuple1().reduce().s("system").raw(b"\x93")
    return p.s("echo atlascan-test").tuple1().reduce().stop().data()


def _inst() -> bytes:
    return b"(S'echo atlascan-test'\nios\nsystem\n."


def _obj() -> bytes:
    return P(2).mark().glob("os", "system").s("echo atlascan-test").raw(b"o").stop().data()


def _newobj_ex() -> bytes:
    p = P(4).sglob("subprocess", "Popen").mark().s("echo").s("atlascan-test").raw(b"l\x85").empty_dict()
    return p.raw(b"\x92").stop().data()


def _nested_load_from_bytes() -> bytes:
    p = P(2).glob("torch.storage", "_load_from_bytes").b(ab.evil(2)).tuple1().reduce()
    return p.stop().data()


def _nested_pickle_loads_proto0() -> bytes:
    return P(2).glob("pickle", "loads").b(ab.evil(0)).tuple1().reduce().stop().data()


def _nested_benign_bytes() -> bytes:
    return P(2).glob("torch.storage", "_load_from_bytes").b(ab.plain_dict(2)).tuple1().reduce().stop().data()


def _corrupt_tail() -> bytes:
    return ab.evil(2)[:-1] + b"\xff"


def _truncated() -> bytes:
    return ab.evil(4)[:-3]


def _huge_length() -> bytes:
    return P(4).raw(b"\x8e" + struct.pack("<Q", 1 << 62) + b"abc").data()


def _ext1() -> bytes:
    return P(2).raw(b"\x82\x07").empty_tuple().reduce().stop().data()


def _dunder_chain() -> bytes:
    return P(4).call1("builtins", "print.__self__.__import__", "os", stack_global=True).stop().data()


def _joblib_evil_after_arrays() -> bytes:
    tail = P(None).glob("os", "system").s("echo atlascan-test").tuple1().reduce().data()
    return ab.joblib_pickle(arrays=2, tail=tail)


def _nested_zip() -> bytes:
    inner = ab.torch_zip(ab.evil(2))
    return ab.zip_bytes([Member("MAR-INF/MANIFEST.json", b"{}"), Member("model.pt", inner)])


def _deep_zip() -> bytes:
    data = ab.plain_dict(2)
    for level in range(9):
        data = ab.zip_bytes([Member(f"level{level}.pkl" if level == 0 else f"level{level}.zip", data)])
    return data


def _keras(layers: list[dict[str, object]]) -> bytes:
    return ab.zip_bytes([
        Member("metadata.json", b'{"keras_version": "3.4.1"}'),
        Member("config.json", ab.keras_config(layers), deflate=True),
        Member("model.weights.h5", b"\x89HDF\r\n\x1a\n" + b"\x00" * 64),
    ])  # fmt: skip


def _h5(layers: list[dict[str, object]]) -> bytes:
    config = ab.keras_config(layers).replace(b"\n", b"")
    return b"\x89HDF\r\n\x1a\n" + b"\x00" * 200 + config + b"\x00" * 64


def _torchscript() -> bytes:
    data = P(2).glob("__torch__", "Net").empty_tuple().raw(b"\x81").empty_dict().s("sizes")
    data.glob("torch.jit._pickle", "build_intlist").mark().int1(1).int1(2).raw(b"l").tuple1().reduce().setitem().build()
    code = b"class Net(Module):\n  __parameters__ = []\n  def forward(self: __torch__.Net, x: Tensor) -> Tensor:\n    return x\n"
    return ab.zip_bytes([
        Member("net/data.pkl", data.stop().data()),
        Member("net/code/__torch__.py", code),
        Member("net/constants.pkl", P(2).empty_tuple().stop().data()),
        Member("net/version", b"3\n"),
    ])


def _torchscript_exec() -> bytes:
    data = P(2).glob("torch.jit.unsupported_tensor_ops", "execWrapper").s("print(1)").tuple1().reduce()
    return ab.zip_bytes([Member("net/data.pkl", data.stop().data()), Member("net/version", b"3\n")])


def _npz(member: bytes) -> bytes:
    return ab.zip_bytes([Member("weights.npy", ab.npy("<f4", (2,), struct.pack("<2f", 1, 2))), Member("meta.npy", member)])


def _obj_npy() -> bytes:
    return ab.npy("|O", (1,), ab.evil(3))


def _lz4() -> bytes:
    return b"\x04\x22\x4d\x18\x64\x40\xa7" + b"\x00" * 32


def _safetensors_ok() -> bytes:
    return ab.safetensors({"w": ("F32", [2, 2], (0, 16)), "b": ("F16", [2], (16, 20))}, 20)


def _safetensors_bad() -> bytes:
    return ab.safetensors({"w": ("F32", [2, 2], (0, 16)), "b": ("F32", [2], (8, 16))}, 16)


SSTI = "{% for c in [].__class__.__base__.__subclasses__() %}{{ c }}{% endfor %}"
CHAT = "{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}{% endfor %}"

CASES: list[Case] = [
    # ---- pickle protocols and opcode tricks
    _c("proto0-os-system", "evil0.pkl", lambda: ab.evil(0), "ATS-ART-001"),
    _c("proto1-posix-system", "evil1.pkl", lambda: ab.evil(1, "posix"), "ATS-ART-001"),
    _c("proto2-builtins-eval", "evil2.pkl", lambda: ab.evil(2, "builtins", "eval", "print(1)"), "ATS-ART-001"),
    _c("proto3-subprocess", "evil3.pickle", lambda: ab.evil(3, "subprocess", "check_output"), "ATS-ART-001"),
    _c("proto4-stack-global", "evil4.pkl", lambda: ab.evil(4, "posix"), "ATS-ART-001"),
    _c("proto5-exec", "evil5.pkl", lambda: ab.evil(5, "builtins", "exec", "print(1)"), "ATS-ART-001"),
    _c("dotted-name-through-pathlib", "dotted.pkl", lambda: ab.evil(4, "pathlib", "os.system"), "ATS-ART-001"),
    _c("dunder-chain-under-builtins", "dunder.pkl", _dunder_chain, "ATS-ART-001"),
    _c("torch-hub-dotted", "hub.pkl", lambda: ab.evil(4, "torch", "hub.load", "attacker/repo"), "ATS-ART-001"),
    _c("pip-main", "pip.pkl", lambda: ab.evil(2, "pip", "main", "install"), "ATS-ART-001"),
    _c("asyncio-submodule", "aio.pkl", lambda: ab.evil(2, "asyncio.unix_events", "_UnixSubprocessTransport"), "ATS-ART-001"),
    _c("memo-desync", "memo.pkl", _memo_desync, "ATS-ART-001"),
    _c("computed-stack-global", "computed.pkl", _computed_module, "ATS-ART-002", "ATS-ART-003"),
    _c("inst-call", "inst.pkl", _inst, "ATS-ART-001"),
    _c("obj-call", "obj.pkl", _obj, "ATS-ART-001"),
    _c("newobj-ex-popen", "newobj.pkl", _newobj_ex, "ATS-ART-001"),
    _c("nested-load-from-bytes", "nested.pt", _nested_load_from_bytes, "ATS-ART-001"),
    _c("nested-pickle-loads-proto0", "loads.pkl", _nested_pickle_loads_proto0, "ATS-ART-001"),
    _c("second-stream", "stacked.pkl", lambda: ab.plain_dict(2) + ab.evil(2), "ATS-ART-001"),
    _c("corrupt-tail", "tail.pkl", _corrupt_tail, "ATS-ART-001", "ATS-ART-004"),
    _c("truncated-stream", "cut.pkl", _truncated, "ATS-ART-001", "ATS-ART-004"),
    _c("huge-declared-length", "huge.pkl", _huge_length, "ATS-ART-004"),
    _c("unknown-class", "custom.pkl", lambda: ab.evil(2, "mypkg.models", "Net"), "ATS-ART-002"),
    _c("extension-registry", "ext.pkl", _ext1, "ATS-ART-002"),
    _c("cloudpickle-function", "fn.pkl", lambda: ab.evil(2, "cloudpickle.cloudpickle", "_make_function"), "ATS-ART-001"),
    _c("transformers-indirect-load", "tok.pkl", lambda: ab.evil(4, "transformers", "AutoTokenizer.from_pretrained"), "ATS-ART-001"),
    # ---- plain pickles under other names, and sniffed without a name
    _c("pickle-named-bin", "pytorch_model.bin", lambda: ab.evil(2), "ATS-ART-001"),
    _c("proto0-named-pt", "weights.pt", lambda: ab.evil(0), "ATS-ART-001"),
    _c("pickle-named-model", "clf.model", lambda: ab.evil(2), "ATS-ART-001"),
    _c("pickle-without-extension", "model_weights", lambda: ab.evil(4), "ATS-ART-001"),
    # ---- PyTorch containers
    _c("torch-zip", "model.pt", lambda: ab.torch_zip(ab.evil(2)), "ATS-ART-001"),
    _c("torch-zip-renamed-proto0-member", "renamed.pt",
       lambda: ab.torch_zip(ab.torch_state_dict_pickle(), [Member("archive/data.txt", ab.evil(0))]), "ATS-ART-001"),
    _c("torch-zip-encrypted-flag", "flag.pt", lambda: ab.torch_zip(ab.evil(2), encrypted_flag=True), "ATS-ART-001", "ATS-ART-005"),
    _c("torch-zip-bad-crc", "crc.pt", lambda: ab.torch_zip(ab.evil(2), bad_crc=True), "ATS-ART-001", "ATS-ART-005"),
    _c("torch-zip-name-mismatch", "names.pt",
       lambda: ab.torch_zip(ab.evil(2), local_name="archive/data.pkx"), "ATS-ART-001", "ATS-ART-005"),
    _c("torch-zip-deflated", "deflated.pth", lambda: ab.torch_zip(ab.evil(4), deflate=True), "ATS-ART-001"),
    _c("zip-without-central-directory", "nocd.pt",
       lambda: ab.zip_bytes([Member("archive/data.pkl", ab.evil(2))], central=False), "ATS-ART-001", "ATS-ART-004"),
    _c("legacy-torch-stacked", "legacy.pt", lambda: ab.legacy_torch(ab.evil(2)), "ATS-ART-001"),
    _c("legacy-torch-tar", "legacy_tar.pt",
       lambda: ab.tar_bytes({"sys_info": ab.plain_dict(2), "pickle": ab.evil(2), "storages": ab.plain_dict(2)}), "ATS-ART-001"),
    _c("nested-torch-zip-in-mar", "handler.mar", _nested_zip, "ATS-ART-001"),
    _c("torchscript-exec-wrapper", "scripted_evil.pt", _torchscript_exec, "ATS-ART-001"),
    _c("nesting-too-deep", "deep.zip", _deep_zip, "ATS-ART-007"),
    # ---- joblib and compressed wrappers
    _c("joblib-zlib", "model.joblib", lambda: zlib.compress(ab.evil(4), 3), "ATS-ART-001"),
    _c("joblib-arrays-then-payload", "arrays.joblib", _joblib_evil_after_arrays, "ATS-ART-001"),
    _c("joblib-object-array", "objarr.joblib", lambda: ab.joblib_pickle(1, object_array=ab.evil(2)), "ATS-ART-001"),
    _c("pkl-gz", "model.pkl.gz", lambda: gzip.compress(ab.evil(2)), "ATS-ART-001"),
    _c("pkl-bz2", "model.pkl.bz2", lambda: bz2.compress(ab.evil(2)), "ATS-ART-001"),
    _c("pkl-xz", "model.pkl.xz", lambda: lzma.compress(ab.evil(2)), "ATS-ART-001"),
    _c("corrupt-gzip", "broken.pkl.gz", lambda: gzip.compress(ab.evil(2))[:12] + b"\xff" * 40, "ATS-ART-004"),
    _c("lz4-without-package", "model.pkl.lz4", _lz4, "ATS-ART-007"),
    # ---- NumPy
    _c("npy-object-array", "obj.npy", _obj_npy, "ATS-ART-001"),
    _c("npz-object-array", "arrays.npz", lambda: _npz(_obj_npy()), "ATS-ART-001"),
    _c("npy-truncated", "short.npy", lambda: ab.npy("<f8", (100,), b"\x00" * 16), "ATS-ART-004"),
    # ---- Keras, safetensors, GGUF, ONNX
    _c("keras-lambda", "model.keras", lambda: _keras([ab.DENSE, ab.LAMBDA]), "ATS-ART-006"),
    _c("keras-nested-foreign-module", "nested.keras",
       lambda: _keras([{"module": "keras", "class_name": "Sequential", "config": {"layers": [
           {"module": "os", "class_name": "system", "config": {}}]}}]), "ATS-ART-006"),
    _c("h5-lambda", "legacy.h5", lambda: _h5([ab.DENSE, ab.LAMBDA]), "ATS-ART-006"),
    _c("safetensors-overlap", "bad.safetensors", _safetensors_bad, "ATS-ART-004"),
    _c("gguf-ssti", "model.gguf", lambda: ab.gguf(SSTI), "ATS-ART-009"),
    _c("onnx-external-escape", "model.onnx", lambda: ab.onnx_with_external("../../../../etc/passwd"), "ATS-ART-010"),
    # ---- benign look-alikes: must stay silent
    _c("plain-dict-proto0", "cfg0.pkl", lambda: b"(dp0\nS'lr'\np1\nF0.001\nsS'n'\np2\nI10\ns.", guards=ALL_PICKLE),
    _c("plain-dict-proto2", "cfg2.pkl", lambda: ab.plain_dict(2), guards=ALL_PICKLE),
    _c("plain-dict-proto5", "cfg5.pkl", lambda: ab.plain_dict(5), guards=ALL_PICKLE),
    _c("ordered-dict-proto0", "od.pkl", lambda: b"ccollections\nOrderedDict\np0\n((lp1\ntRp2\n.", guards=ALL_PICKLE),
    _c("numpy-array-pickle", "arr.pkl", lambda: ab.numpy_array_pickle(2), guards=ALL_PICKLE),
    _c("sklearn-estimator", "clf.pkl", ab.sklearn_estimator_pickle, guards=ALL_PICKLE),
    _c("torch-state-dict-zip", "good.pt", lambda: ab.torch_zip(ab.torch_state_dict_pickle(3)),
       guards=ALL_PICKLE | {"ATS-ART-005"}),
    _c("torch-state-dict-legacy", "good_legacy.pt", lambda: ab.legacy_torch(ab.torch_state_dict_pickle()), guards=ALL_PICKLE),
    _c("torchscript-archive", "scripted.pt", _torchscript, guards=ALL_PICKLE | {"ATS-ART-005"}),
    _c("nested-benign-bytes", "nested_ok.pt", _nested_benign_bytes, guards=ALL_PICKLE),
    _c("joblib-numpy-arrays", "good.joblib", lambda: ab.joblib_pickle(3), guards=ALL_PICKLE),
    _c("joblib-zlib-benign", "goodz.joblib", lambda: zlib.compress(ab.joblib_pickle(2), 3), guards=ALL_PICKLE),
    _c("pkl-gz-benign", "good.pkl.gz", lambda: gzip.compress(ab.sklearn_estimator_pickle()), guards=ALL_PICKLE),
    _c("numeric-npy", "good.npy", lambda: ab.npy("<f4", (2, 2), struct.pack("<4f", 1, 2, 3, 4)),
       guards=ALL_PICKLE),
    _c("numeric-npy-v2", "good2.npy", lambda: ab.npy("<i8", (2,), struct.pack("<2q", 1, 2), version=2), guards=ALL_PICKLE),
    _c("numeric-npz", "good.npz", lambda: _npz(ab.npy("<f8", (1,), struct.pack("<d", 1))), guards=ALL_PICKLE | {"ATS-ART-005"}),
    _c("keras-dense", "good.keras", lambda: _keras([ab.DENSE]), guards=frozenset({"ATS-ART-006", "ATS-ART-005"})),
    _c("h5-dense", "good.h5", lambda: _h5([ab.DENSE]), guards=frozenset({"ATS-ART-006"})),
    _c("safetensors-valid", "good.safetensors", _safetensors_ok, guards=frozenset({"ATS-ART-004"})),
    _c("gguf-plain-template", "good.gguf", lambda: ab.gguf(CHAT), guards=frozenset({"ATS-ART-009", "ATS-ART-004"})),
    _c("onnx-local-external", "good.onnx", lambda: ab.onnx_with_external("weights/model.onnx.data"),
       guards=frozenset({"ATS-ART-010"})),
    _c("empty-pkl", "empty.pkl", lambda: b"", guards=ALL_PICKLE | {"ATS-ART-007"}),
    _c("lfs-pointer", "lfs.pt", lambda: b"version https://git-lfs.github.com/spec/v1\noid sha256:00\nsize 1\n",
       guards=ALL_PICKLE),
    _c("raw-weights-bin", "raw.bin", lambda: b"(\x00\x01\x02" * 64, guards=ALL_PICKLE),
    _c("shallow-zip", "shallow.zip", lambda: ab.zip_bytes([Member("a.zip", ab.zip_bytes([Member("b.pkl", ab.plain_dict())]))]),
       guards=frozenset({"ATS-ART-007"})),
]

RULES = tuple(f"ATS-ART-{n:03d}" for n in range(1, 11))


def _coverage() -> dict[str, tuple[int, int]]:
    out = {}
    for rule in RULES:
        bad = sum(1 for c in CASES if rule in c.expect)
        good = sum(1 for c in CASES if rule in c.guards and rule not in c.expect)
        out[rule] = (bad, good)
    return out


# ATS-ART-008 reads MLflow `MLmodel` text files: its cases are annotated fixtures.
TEXT_ONLY = frozenset({"ATS-ART-008"})
COVERAGE: dict[str, tuple[int, int]] = _coverage()
