"""Build model artifacts byte by byte for the tests: pickle streams from opcodes, ZIP archives
(with header tampering on request), tar, .npy, safetensors, GGUF and ONNX fragments.

Nothing here is ever unpickled or executed. Payloads only name harmless commands (`echo`).
"""

from __future__ import annotations

import io
import json
import struct
import tarfile
import zlib
from dataclasses import dataclass
from typing import Any


class P:
    """A pickle assembler: each method appends one opcode (with its operand)."""

    def __init__(self, proto: int | None = 2) -> None:
        self.buf = bytearray()
        if proto is not None and proto >= 2:
            self.buf += bytes([0x80, proto])

    def raw(self, data: bytes) -> P:
        self.buf += data
        return self

    def data(self) -> bytes:
        return bytes(self.buf)

    # constants
    def s(self, text: str) -> P:  # SHORT_BINUNICODE / BINUNICODE
        enc = text.encode()
        return self.raw(b"\x8c" + bytes([len(enc)]) + enc if len(enc) < 256 else b"X" + struct.pack("<I", len(enc)) + enc)

    def x(self, text: str) -> P:  # BINUNICODE (protocol 1+)
        enc = text.encode()
        return self.raw(b"X" + struct.pack("<I", len(enc)) + enc)

    def string0(self, text: str) -> P:  # STRING, protocol 0
        return self.raw(b"S'" + text.encode() + b"'\n")

    def b(self, data: bytes) -> P:  # SHORT_BINBYTES / BINBYTES
        return self.raw(b"C" + bytes([len(data)]) + data if len(data) < 256 else b"B" + struct.pack("<I", len(data)) + data)

    def int1(self, n: int) -> P:
        return self.raw(b"K" + bytes([n]))

    def long1(self, n: int) -> P:
        enc = n.to_bytes((n.bit_length() + 8) // 8, "little", signed=True)
        return self.raw(b"\x8a" + bytes([len(enc)]) + enc)

    def none(self) -> P:
        return self.raw(b"N")

    # imports and calls
    def glob(self, module: str, name: str) -> P:  # GLOBAL
        return self.raw(b"c" + module.encode() + b"\n" + name.encode() + b"\n")

    def sglob(self, module: str, name: str) -> P:  # STACK_GLOBAL from two constants
        return self.s(module).s(name).raw(b"\x93")

    def call1(self, module: str, name: str, arg: str, stack_global: bool = False) -> P:
        (self.sglob(module, name) if stack_global else self.glob(module, name))
        return self.s(arg).raw(b"\x85R")

    def mark(self) -> P:
        return self.raw(b"(")

    def tuple(self) -> P:
        return self.raw(b"t")

    def tuple1(self) -> P:
        return self.raw(b"\x85")

    def tuple2(self) -> P:
        return self.raw(b"\x86")

    def empty_tuple(self) -> P:
        return self.raw(b")")

    def reduce(self) -> P:
        return self.raw(b"R")

    def newobj(self) -> P:
        return self.raw(b"\x81")

    def build(self) -> P:
        return self.raw(b"b")

    def empty_dict(self) -> P:
        return self.raw(b"}")

    def setitem(self) -> P:
        return self.raw(b"s")

    def setitems(self) -> P:
        return self.raw(b"u")

    def memoize(self) -> P:
        return self.raw(b"\x94")

    def binput(self, n: int) -> P:
        return self.raw(b"q" + bytes([n]))

    def binget(self, n: int) -> P:
        return self.raw(b"h" + bytes([n]))

    def pop(self) -> P:
        return self.raw(b"0")

    def binpersid(self) -> P:
        return self.raw(b"Q")

    def stop(self) -> P:
        return self.raw(b".")


def evil(proto: int = 2, module: str = "os", name: str = "system", command: str = "echo atlascan-test") -> bytes:
    """A stream that would call module.name(command) if anyone unpickled it."""
    p = P(proto)
    if proto >= 4:
        return p.call1(module, name, command, stack_global=True).stop().data()
    if proto >= 2:
        return p.call1(module, name, command).stop().data()
    body = P(None).glob(module, name).mark()
    body = body.string0(command) if proto == 0 else body.x(command)
    return body.tuple().reduce().stop().data()


def plain_dict(proto: int = 2) -> bytes:
    p = P(proto).empty_dict()
    if proto >= 2:
        p.binput(0)
    return p.mark().s("lr").raw(b"G" + struct.pack(">d", 0.001)).s("epochs").int1(10).setitems().stop().data()


def torch_state_dict_pickle(tensors: int = 2) -> bytes:
    """What torch.save(model.state_dict()) writes as archive/data.pkl (protocol 2)."""
    p = P(2).glob("collections", "OrderedDict").empty_tuple().reduce().binput(0).mark()
    for i in range(tensors):
        p.s(f"layer{i}.weight")
        p.glob("torch._utils", "_rebuild_tensor_v2").mark()
        p.mark().s("storage").glob("torch", "FloatStorage").s(str(i)).s("cpu").int1(4).tuple().binpersid()
        p.int1(0).int1(2).int1(2).tuple2().int1(2).int1(1).tuple2().raw(b"\x89")
        p.glob("collections", "OrderedDict").empty_tuple().reduce().tuple()
        p.reduce()
    return p.setitems().stop().data()


def numpy_array_pickle(proto: int = 2) -> bytes:
    """numpy.ndarray.__reduce__: _reconstruct(ndarray, (0,), b'b') then BUILD with raw data."""
    p = P(proto).glob("numpy.core.multiarray", "_reconstruct").glob("numpy", "ndarray")
    p.int1(0).tuple1().b(b"b").raw(b"\x87").reduce()
    p.mark().int1(1).int1(3).tuple1()
    p.glob("numpy", "dtype").s("f8").raw(b"\x89\x88").raw(b"\x87").reduce()
    p.mark().int1(3).s("<").none().none().none().raw(b"J\xff\xff\xff\xffJ\xff\xff\xff\xff").int1(0).tuple().build()
    p.raw(b"\x89").b(struct.pack("<3d", 1.0, 2.0, 3.0)).tuple().build()
    return p.stop().data()


def sklearn_estimator_pickle() -> bytes:
    p = P(4).sglob("sklearn.linear_model._logistic", "LogisticRegression").empty_tuple().newobj()
    p.empty_dict().mark().s("C").raw(b"G" + struct.pack(">d", 1.0)).s("penalty").s("l2")
    p.s("coef_")
    inner = numpy_array_pickle(4)[2:-1]  # the array expression without PROTO/STOP
    p.raw(inner).setitems().build()
    return p.stop().data()


def joblib_pickle(arrays: int = 2, tail: bytes = b"", object_array: bytes | None = None) -> bytes:
    """A joblib.dump file: NumpyArrayWrapper objects each followed by raw array bytes."""
    out = bytearray()
    p = P(4).mark()
    out += p.data()
    for i in range(arrays):
        q = P(None).sglob("joblib.numpy_pickle", "NumpyArrayWrapper").empty_tuple().newobj()
        q.empty_dict().mark().s("subclass").sglob("numpy", "ndarray").s("shape").int1(4).tuple1()
        q.s("order").s("C").s("dtype").sglob("numpy", "dtype").s("f8").raw(b"\x89\x88\x87").reduce()
        q.mark().int1(3).s("<").none().none().none().raw(b"J\xff\xff\xff\xffJ\xff\xff\xff\xff").int1(0).tuple().build()
        q.s("allow_mmap").raw(b"\x88").s("numpy_array_alignment_bytes").int1(16).setitems().build()
        out += q.data()
        pos = len(out) + 1
        pad = 16 - pos % 16
        out += bytes([pad]) + b"\xff" * pad
        out += struct.pack("<4d", 1.0, 2.0, 3.0, float(i))
    if object_array is not None:
        q = P(None).sglob("joblib.numpy_pickle", "NumpyArrayWrapper").empty_tuple().newobj()
        q.empty_dict().mark().s("subclass").sglob("numpy", "ndarray").s("shape").int1(1).tuple1()
        q.s("order").s("C").s("dtype").sglob("numpy", "dtype").s("O8").raw(b"\x89\x88\x87").reduce()
        q.mark().int1(3).s("|").none().none().none().raw(b"J\xff\xff\xff\xffJ\xff\xff\xff\xff").int1(63).tuple().build()
        q.s("allow_mmap").raw(b"\x89").setitems().build()
        out += q.data() + object_array
    out += P(None).raw(b"l").data() + tail + b"."
    return bytes(out)


# ---- containers -------------------------------------------------------------------------------
@dataclass
class Member:
    name: str
    data: bytes
    deflate: bool = False
    encrypted_flag: bool = False
    bad_crc: bool = False
    local_name: str | None = None
    local_crc: int | None = None  # a CRC for the local header that differs from the directory's


def zip_bytes(members: list[Member], central: bool = True) -> bytes:
    out = bytearray()
    directory = bytearray()
    for m in members:
        body = m.data
        if m.deflate:
            c = zlib.compressobj(6, zlib.DEFLATED, -15)
            body = c.compress(m.data) + c.flush()
        crc = zlib.crc32(m.data) ^ (0xDEADBEEF if m.bad_crc else 0)
        flags = 0x1 if m.encrypted_flag else 0
        method = 8 if m.deflate else 0
        lname = (m.local_name or m.name).encode()
        offset = len(out)
        lcrc = crc if m.local_crc is None else m.local_crc
        out += struct.pack("<4s5H3I2H", b"PK\x03\x04", 20, flags, method, 0, 0x21, lcrc, len(body), len(m.data), len(lname), 0)
        out += lname + body
        name = m.name.encode()
        directory += struct.pack("<4s6H3I5H2I", b"PK\x01\x02", 20, 20, flags, method, 0, 0x21, crc, len(body),
                                 len(m.data), len(name), 0, 0, 0, 0, 0, offset) + name  # fmt: skip
    if central:
        cd_offset = len(out)
        out += directory
        out += struct.pack("<4s4H2IH", b"PK\x05\x06", 0, 0, len(members), len(members), len(directory), cd_offset, 0)
    return bytes(out)


def torch_zip(data_pkl: bytes, extra: list[Member] | None = None, **flags: Any) -> bytes:
    members = [
        Member("archive/data.pkl", data_pkl, **flags),
        Member("archive/byteorder", b"little"),
        Member("archive/data/0", b"\x80\x02" + b"\x00" * 62),  # raw storage that happens to start like a pickle
        Member("archive/version", b"3\n"),
        Member("archive/.data/serialization_id", b"1234567890"),
    ]
    return zip_bytes(members + (extra or []))


def legacy_torch(model_pickle: bytes) -> bytes:
    magic = P(2).long1(0x1950A86A20F9469CFC6C).stop().data()
    version = P(2).raw(b"M\xe9\x03").stop().data()
    sys_info = plain_dict(2)
    keys = P(2).raw(b"]").stop().data()
    return magic + version + sys_info + model_pickle + keys + struct.pack("<q", 16) + b"\x00" * 64


def tar_bytes(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def npy(descr: str, shape: tuple[int, ...], body: bytes, version: int = 1) -> bytes:
    header = f"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape!r}, }}"
    pad = 64 - (10 + len(header) + 1) % 64
    text = (header + " " * pad + "\n").encode("latin-1")
    if version == 1:
        return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text)) + text + body
    return b"\x93NUMPY\x02\x00" + struct.pack("<I", len(text)) + text + body


def safetensors(tensors: dict[str, tuple[str, list[int], tuple[int, int]]], data_len: int) -> bytes:
    header = {name: {"dtype": d, "shape": s, "data_offsets": list(o)} for name, (d, s, o) in tensors.items()}
    header["__metadata__"] = {"format": "pt"}  # type: ignore[dict-item]
    raw = json.dumps(header).encode()
    return struct.pack("<Q", len(raw)) + raw + b"\x00" * data_len


def gguf(template: str) -> bytes:
    def string(text: str) -> bytes:
        enc = text.encode()
        return struct.pack("<Q", len(enc)) + enc

    kvs = [
        string("general.architecture") + struct.pack("<I", 8) + string("llama"),
        string("llama.context_length") + struct.pack("<I", 4) + struct.pack("<I", 4096),
        string("tokenizer.ggml.tokens") + struct.pack("<I", 9) + struct.pack("<I", 8) + struct.pack("<Q", 3)
        + string("<s>") + string("</s>") + string("hi"),
        string("tokenizer.chat_template") + struct.pack("<I", 8) + string(template),
    ]
    return b"GGUF" + struct.pack("<I", 3) + struct.pack("<QQ", 0, len(kvs)) + b"".join(kvs)


def onnx_with_external(location: str) -> bytes:
    """An ONNX ModelProto fragment whose initializer keeps its data in an external file."""
    def field(tag: int, payload: bytes) -> bytes:
        return bytes([tag]) + _varint(len(payload)) + payload

    entry = field(0x0A, b"location") + field(0x12, location.encode())
    tensor = field(0x42, b"w") + field(0x6A, entry) + b"\x70\x01"  # name, external_data, data_location
    graph = field(0x2A, tensor)
    return b"\x08\x07" + field(0x3A, graph)


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def keras_config(layers: list[dict[str, object]]) -> bytes:
    return json.dumps({"module": "keras", "class_name": "Sequential", "config": {"name": "seq", "layers": layers}}, indent=1).encode()


DENSE = {"module": "keras.layers", "class_name": "Dense", "config": {"units": 4, "activation": "relu"}, "registered_name": None}
LAMBDA = {"module": "keras.layers", "class_name": "Lambda", "config": {"function": {"class_name": "__lambda__", "config": {"code": "4wEAAAAA"}}}}


# ---- benign values real checkpoints carry ---------------------------------------------------
def _float(p: P, value: float) -> P:
    return p.raw(b"G" + struct.pack(">d", value))


def namespace_newobj(p: P, **values: object) -> P:
    """argparse.Namespace as protocol 2+ writes it: NEWOBJ, then BUILD with its __dict__."""
    p.glob("argparse", "Namespace").empty_tuple().newobj().empty_dict().mark()
    for key, value in values.items():
        p.s(key)
        if isinstance(value, float):
            _float(p, value)
        elif isinstance(value, int):
            p.int1(value)
        else:
            p.s(str(value))
    return p.setitems().build()


def namespace_proto0() -> bytes:
    """argparse.Namespace at protocol 0: copy_reg._reconstructor(Namespace, object, None)."""
    return (b"ccopy_reg\n_reconstructor\np0\n(cargparse\nNamespace\np1\nc__builtin__\nobject\np2\nNtp3\nRp4\n"
            b"(dp5\nS'lr'\np6\nF0.001\nsS'batch_size'\np7\nI32\nsb.")  # fmt: skip


def lightning_checkpoint(hparams: str = "namespace") -> bytes:
    """data.pkl of a PyTorch Lightning checkpoint: state dict, loops, callbacks and the
    hyper-parameters as argparse.Namespace or AttributeDict."""
    p = P(2).empty_dict().mark()
    p.s("epoch").int1(3).s("global_step").int1(120).s("pytorch-lightning_version").s("2.2.1")
    p.s("state_dict").raw(torch_state_dict_pickle(2)[2:-1])
    p.s("loops").empty_dict().mark().s("fit_loop").empty_dict().mark().s("state_dict").empty_dict().setitems().setitems()
    p.s("callbacks").empty_dict().mark().s("ModelCheckpoint{'monitor': 'val_loss'}").empty_dict().mark()
    p.s("dirpath").glob("pathlib", "PosixPath").s("/runs").s("ckpt").tuple2().reduce()
    p.s("best_model_path").s("/runs/ckpt/epoch=3.ckpt").setitems().setitems()
    p.s("optimizer_states").raw(b"]").s("lr_schedulers").raw(b"]")
    if hparams == "namespace":
        p.s("hparams_name").s("hparams").s("hyper_parameters")
        namespace_newobj(p, lr=0.001, batch_size=32, optimizer="adam")
    else:
        p.s("hparams_name").s("kwargs").s("hyper_parameters")
        p.glob("lightning_fabric.utilities.data", "AttributeDict").empty_tuple().newobj()
        p.mark().s("lr").raw(b"G" + struct.pack(">d", 0.01)).s("hidden").int1(64).setitems()
    p.s("datamodule_hparams_name").s("kwargs")
    p.s("datamodule_hyper_parameters").glob("collections", "defaultdict").glob("builtins", "list").tuple1().reduce()
    p.mark().s("folds").raw(b"]").setitems()
    return p.setitems().stop().data()


def run_metadata(proto: int = 2) -> bytes:
    """Run metadata values: datetime, Decimal, UUID, Counter, defaultdict, paths, an enum."""
    p = P(proto).empty_dict().mark()
    p.s("started").glob("datetime", "datetime").b(b"\x07\xea\x0c\x04\x10\x2a\x00\x00\x00\x00").tuple1().reduce()
    p.s("tz").glob("datetime", "timezone").glob("datetime", "timedelta").int1(0).raw(b"M\x10\x0e").int1(0).raw(b"\x87").reduce()
    p.tuple1().reduce()
    p.s("elapsed").glob("datetime", "timedelta").int1(0).int1(42).int1(0).raw(b"\x87").reduce()
    p.s("cost").glob("decimal", "Decimal").s("12.50").tuple1().reduce()
    p.s("run_id").glob("uuid", "UUID").empty_tuple().newobj().empty_dict().s("int")
    p.long1(0x1234567812345678123456781234567).setitem().build()
    p.s("labels").glob("collections", "Counter").empty_dict().s("cat").int1(3).setitem().tuple1().reduce()
    p.s("by_split").glob("collections", "defaultdict").glob("builtins", "int").tuple1().reduce()
    p.s("train").int1(9).setitem()
    p.s("out_dir").glob("pathlib._local", "PosixPath").s("/data").s("out").tuple2().reduce()
    p.s("strategy").glob("transformers.trainer_utils", "IntervalStrategy").s("steps").tuple1().reduce()
    p.s("flags").glob("re", "RegexFlag").int1(2).tuple1().reduce()
    p.s("torch_version").glob("torch.torch_version", "TorchVersion").s("2.4.0").tuple1().reduce()
    p.s("lib_version").glob("packaging.version", "Version").s("1.5.2").tuple1().reduce()
    return p.setitems().stop().data()


def training_args() -> bytes:
    """transformers' training_args.bin: TrainingArguments with enum fields (a torch zip)."""
    p = P(2).glob("transformers.training_args", "TrainingArguments").empty_tuple().newobj().empty_dict().mark()
    p.s("output_dir").s("out").s("eval_strategy")
    p.glob("transformers.trainer_utils", "IntervalStrategy").s("epoch").tuple1().reduce()
    p.s("lr_scheduler_type").glob("transformers.trainer_utils", "SchedulerType").s("linear").tuple1().reduce()
    p.s("optim").glob("transformers.training_args", "OptimizerNames").s("adamw_torch").tuple1().reduce()
    p.s("distributed_state").glob("accelerate.utils.dataclasses", "DistributedType").s("NO").tuple1().reduce()
    return torch_zip(p.setitems().build().stop().data())


def partial_of(module: str, name: str, *, state_func: tuple[str, str] | None = None) -> bytes:
    """FunctionTransformer(func=functools.partial(module.name, beta=2)) as pickle writes it:
    partial is REDUCE with (func,), then BUILD with (func, args, kwargs, dict)."""
    p = P(2).glob("sklearn.preprocessing._function_transformer", "FunctionTransformer").empty_tuple().newobj()
    p.empty_dict().mark().s("func").glob("functools", "partial").glob(module, name).tuple1().reduce()
    p.mark().glob(*(state_func or (module, name))).empty_tuple().empty_dict().s("beta").int1(2).setitem().none().tuple()
    p.build().s("validate").raw(b"\x89").setitems().build()
    return p.stop().data()


# ---- protobuf-based formats (TensorFlow, ONNX) ------------------------------------------------
def pb(field: int, value: bytes | str | int) -> bytes:
    """One protobuf field: an int as a varint, bytes or text as length-delimited."""
    if isinstance(value, int):
        return _varint(field << 3) + _varint(value)
    raw = value.encode() if isinstance(value, str) else value
    return _varint(field << 3 | 2) + _varint(len(raw)) + raw


def tf_node(name: str, op: str, inputs: tuple[str, ...] = (), const: str | None = None) -> bytes:
    out = pb(1, name) + pb(2, op) + b"".join(pb(3, i) for i in inputs)
    if const is not None:
        tensor = pb(1, 7) + pb(8, const)  # dtype DT_STRING, string_val
        out += pb(5, pb(1, "value") + pb(2, pb(8, tensor)))
    out += pb(5, pb(1, "dtype") + pb(2, pb(6, 1)))
    return out


def saved_model(nodes: list[bytes], functions: list[list[bytes]] | None = None) -> bytes:
    """saved_model.pb: SavedModel{1 schema version, 2 MetaGraphDef{2 GraphDef{1 node, 2 library}}}."""
    library = b"".join(pb(1, pb(1, pb(1, f"fn_{i}")) + b"".join(pb(3, n) for n in fn)) for i, fn in enumerate(functions or []))
    graph = b"".join(pb(1, n) for n in nodes) + (pb(2, library) if library else b"") + pb(4, pb(1, 1994))
    meta = pb(1, pb(1, "serve")) + pb(2, graph)
    return pb(1, 1) + pb(2, meta)


def math_saved_model() -> bytes:
    nodes = [tf_node("x", "Placeholder"), tf_node("w", "Const"), tf_node("y", "MatMul", ("x", "w")),
             tf_node("out", "Relu", ("y",)), tf_node("saver_filename", "Placeholder"),
             tf_node("save/SaveV2", "SaveV2", ("saver_filename", "save/tensor_names"))]  # fmt: skip
    fn = [tf_node("add", "AddV2", ("a", "b")), tf_node("sig", "Sigmoid", ("add:z:0",))]
    return saved_model(nodes, [fn])


def keras_metadata(layers: list[dict[str, object]]) -> bytes:
    objects = [pb(1, pb(2, i) + pb(3, f"root.layer-{i}") + pb(4, "_tf_keras_layer") + pb(5, json.dumps(layer)))
               for i, layer in enumerate(layers)]  # fmt: skip
    return b"".join(objects)


def onnx_model(nodes: list[tuple[str, str]], functions: list[tuple[str, list[tuple[str, str]]]] | None = None) -> bytes:
    """ModelProto with opset imports, a graph of (op_type, domain) nodes and local functions."""
    def node(op: str, domain: str) -> bytes:
        return pb(1, "in") + pb(2, "out") + pb(3, f"{op}_0") + pb(4, op) + (pb(7, domain) if domain else b"")

    graph = b"".join(pb(1, node(op, d)) for op, d in nodes) + pb(2, "main")
    graph += pb(5, pb(1, 2) + pb(2, 1) + pb(8, "w") + pb(9, b"\x00" * 64))  # initializer with raw data
    out = pb(1, 8) + pb(2, "pytorch") + pb(7, graph)
    for domain in sorted({d for _, d in nodes} | {""}):
        out += pb(8, pb(1, domain) + pb(2, 1))
    for fdomain, fnodes in functions or []:
        out += pb(25, pb(1, "LocalFn") + b"".join(pb(7, node(op, d)) for op, d in fnodes) + pb(10, fdomain))
    return out


# ---- code-carrying archives -------------------------------------------------------------------
TS_CODE = (b"op_version_set = 8\nclass Net(Module):\n  __parameters__ = [\"weight\", ]\n  weight : Tensor\n"
           b"  def forward(self: __torch__.Net,\n    x: Tensor) -> Tensor:\n    _0 = getattr(self.layers, \"0\")\n"
           b"    y = torch.matmul(x, self.weight)\n    z = ops.prim.NumToTensor(torch.size(y, 0))\n"
           b"    return torch.relu(torch.add(y, z))\n")  # fmt: skip


def torchscript_archive(code: bytes = TS_CODE, constants: bytes | None = None) -> bytes:
    data = P(2).glob("__torch__", "Net").empty_tuple().newobj().empty_dict().s("training").raw(b"\x88").setitem().build()
    return zip_bytes([
        Member("net/data.pkl", data.stop().data()),
        Member("net/code/__torch__.py", code),
        Member("net/code/__torch__.py.debug_pkl", P(2).empty_tuple().stop().data()),
        Member("net/constants.pkl", constants if constants is not None else P(2).empty_tuple().stop().data()),
        Member("net/version", b"3\n"),
    ])  # fmt: skip


HANDLER_OK = b'''import logging
import torch
from ts.torch_handler.base_handler import BaseHandler

logger = logging.getLogger(__name__)


class Classifier(BaseHandler):
    def preprocess(self, data):
        return torch.stack([torch.tensor(row.get("body")) for row in data])

    def postprocess(self, output):
        return output.argmax(1).tolist()
'''
HANDLER_SHELL = b'''import os as _o
import subprocess
from ts.torch_handler.base_handler import BaseHandler

_o.system("echo atlascan-test")


class Handler(BaseHandler):
    def handle(self, data, context):
        return subprocess.check_output(["echo", "atlascan-test"])
'''


def mar(handler: bytes, model: bytes | None = None) -> bytes:
    manifest = json.dumps({"runtime": "python", "model": {"modelName": "clf", "serializedFile": "model.pt",
                                                          "handler": "handler.py", "modelVersion": "1.0"},
                           "archiverVersion": "0.9.0"}).encode()  # fmt: skip
    return zip_bytes([Member("MAR-INF/MANIFEST.json", manifest), Member("handler.py", handler, deflate=True),
                      Member("model.pt", model if model is not None else torch_zip(torch_state_dict_pickle()))])  # fmt: skip


def nemo(config: str, weights: bytes) -> bytes:
    """A .nemo file: a gzipped tar of model_config.yaml and model_weights.ckpt."""
    import gzip

    return gzip.compress(tar_bytes({"./model_config.yaml": config.encode(), "./model_weights.ckpt": weights}))


NEMO_CONFIG_OK = """sample_rate: 16000
target: nemo.collections.asr.models.ctc_bpe_models.EncDecCTCModelBPE
preprocessor:
  _target_: nemo.collections.asr.modules.AudioToMelSpectrogramPreprocessor
  window_size: 0.025
optim:
  name: adamw
"""
NEMO_CONFIG_EVIL = NEMO_CONFIG_OK + """decoder:
  _target_: subprocess.check_output
  args: [["echo", "atlascan-test"]]
"""


def elf_header() -> bytes:
    return b"\x7fELF\x02\x01\x01" + b"\x00" * 9 + b"\x03\x00\x3e\x00" + b"\x00" * 200


def llamafile_header() -> bytes:
    return b"MZqFpD='\n\x00\x00\x00\x00" + b"\x00" * 64 + b"GGUF" + b"\x00" * 100
