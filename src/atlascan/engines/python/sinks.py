"""The sink table: which fully qualified callables are dangerous, under which argument
condition, and which rule reports them. Conditions are named here and implemented in
`conditions.py`; everything that data can say lives in this table.

Names are matched after `canonical()` folds re-exports onto one spelling (`tf.keras` ->
`keras`, `_pickle`/`cPickle` -> `pickle`). A `*` in a name matches one or more dotted
segments (`transformers.*.from_pretrained`), `()` marks a call result (`gradio.*().launch`
is the `launch` method of any gradio object).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any


@dataclass(frozen=True)
class Sink:
    rule: str
    names: tuple[str, ...]
    check: str = "always"  # a key of conditions.CHECKS
    data: int | None = 0  # positional index of the data/path argument (origin and severity)
    data_kw: str | None = None  # its keyword name
    options: Mapping[str, Any] = field(default_factory=dict)
    references: bool = False  # also report the callable passed as a value (`map(pk.loads, xs)`)
    receiver: bool = False  # a method whose data is its object (`tar.extractall()`)


# Re-exports and private spellings folded onto one public name before lookup.
CANONICAL_PREFIXES: tuple[tuple[str, str], ...] = (
    ("tensorflow.keras.", "keras."),
    ("tensorflow.python.keras.", "keras."),
    ("tf_keras.", "keras."),
    ("keras.src.saving.saving_api.", "keras.saving."),
    ("keras.api.", "keras."),
    ("_pickle.", "pickle."),
    ("cPickle.", "pickle."),
    ("six.moves.cPickle.", "pickle."),
    ("dill._dill.", "dill."),
    ("sklearn.externals.joblib.", "joblib."),
    ("pandas.io.pickle.", "pandas."),
    ("numpy.lib.npyio.", "numpy."),
    ("torch.serialization.load", "torch.load"),
    ("ruamel_yaml.", "ruamel.yaml."),
    ("langchain.vectorstores.", "langchain_community.vectorstores."),
    ("langchain_community.vectorstores.faiss.", "langchain_community.vectorstores."),
    ("langchain.load.", "langchain_core.load."),
    ("langchain_core.load.load.", "langchain_core.load."),
    ("langchain.prompts.loading.", "langchain.prompts."),
    ("langchain_core.prompts.", "langchain.prompts."),
    ("langchain_core.prompts.loading.", "langchain.prompts."),
    ("tensorflow.compat.v1.", "tensorflow."),
    ("tensorflow.compat.v2.", "tensorflow."),
)

HF_MODEL_LIBRARIES = ("transformers", "diffusers", "peft", "sentence_transformers", "optimum", "timm", "setfit")
HTTP_CALLS = tuple(
    f"{lib}.{verb}"
    for lib in ("requests", "httpx", "requests.api", "requests.Session()", "httpx.Client()", "httpx.AsyncClient()")
    for verb in ("get", "post", "put", "patch", "delete", "head", "options", "request", "stream")
)
GRADIO_LAUNCH = ("gradio.*().launch", "gradio.*().queue().launch")

SINKS: tuple[Sink, ...] = (
    # --- pickle family -------------------------------------------------------------------
    Sink("ATS-PY-001", ("pickle.load", "pickle.loads", "pickle._load", "pickle._loads"), check="not_roundtrip", references=True),
    Sink("ATS-PY-001", ("pickle.Unpickler", "pickle._Unpickler"), check="always"),
    Sink("ATS-PY-001", ("dill.load", "dill.loads", "dill.load_session", "dill.load_module"), check="not_roundtrip", references=True),
    Sink("ATS-PY-001", ("dill.Unpickler",), check="always"),
    Sink("ATS-PY-001", ("cloudpickle.load", "cloudpickle.loads", "cloudpickle.cloudpickle.load"), check="not_roundtrip", references=True),
    Sink("ATS-PY-001", ("pandas.read_pickle",), data_kw="filepath_or_buffer", references=True),
    Sink("ATS-PY-002", ("joblib.load",), data_kw="filename", references=True),
    Sink("ATS-PY-003", ("numpy.load",), check="kw_truthy", options={"kw": "allow_pickle", "pos": 2}, data_kw="file"),
    Sink("ATS-PY-003", ("numpy.lib.format.read_array",), check="kw_truthy", options={"kw": "allow_pickle", "pos": 1}, data_kw="fp"),
    # --- torch -----------------------------------------------------------------------------
    Sink("ATS-PY-004", ("torch.load",), check="torch_load", data_kw="f"),
    Sink("ATS-PY-024", ("torch.serialization.add_safe_globals", "torch.serialization.safe_globals"), check="callable_safe_globals", data=None),
    Sink("ATS-PY-009", ("torch.hub.load", "torch.hub.list", "torch.hub.help"), check="torch_hub", data_kw="repo_or_dir"),
    Sink(
        "ATS-PY-009",
        ("torch.hub.load_state_dict_from_url", "torch.utils.model_zoo.load_url"),
        check="state_dict_from_url",
        data_kw="url",
    ),
    # --- Hugging Face and model hubs -------------------------------------------------------
    Sink(
        "ATS-PY-005",
        (*(f"{lib}.*.from_pretrained" for lib in HF_MODEL_LIBRARIES), "transformers.pipeline",
         "sentence_transformers.SentenceTransformer", "sentence_transformers.CrossEncoder",
         "vllm.LLM", "vllm.EngineArgs", "vllm.AsyncEngineArgs", "datasets.load_dataset",
         "datasets.load_dataset_builder", "transformers.AutoConfig.from_pretrained"),
        check="trust_remote_code",
        data_kw="pretrained_model_name_or_path",
    ),
    Sink(
        "ATS-PY-006",
        (*(f"{lib}.*.from_pretrained" for lib in HF_MODEL_LIBRARIES),
         "huggingface_hub.hf_hub_download", "huggingface_hub.snapshot_download",
         "huggingface_hub.file_download.hf_hub_download", "huggingface_hub._snapshot_download.snapshot_download",
         "sentence_transformers.SentenceTransformer"),
        check="unpinned_revision",
        data_kw="repo_id",
    ),
    Sink(
        "ATS-PY-019",
        tuple(f"{lib}.*.from_pretrained" for lib in HF_MODEL_LIBRARIES),
        check="forces_pickle_format",
    ),
    # --- YAML ------------------------------------------------------------------------------
    Sink("ATS-PY-007", ("yaml.load", "yaml.load_all"), check="yaml_loader", data_kw="stream"),
    Sink("ATS-PY-007", ("yaml.unsafe_load", "yaml.unsafe_load_all"), data_kw="stream", references=True),
    Sink("ATS-PY-007", ("yaml.full_load", "yaml.full_load_all"), data_kw="stream", options={"severity": "medium"}, references=True),
    Sink("ATS-PY-007", ("ruamel.yaml.YAML",), check="ruamel_unsafe", data=None),
    Sink("ATS-PY-007", ("ruamel.yaml.load", "ruamel.yaml.load_all"), check="yaml_loader", data_kw="stream"),
    # --- Keras / TensorFlow ----------------------------------------------------------------
    Sink("ATS-PY-008", ("keras.models.load_model", "keras.saving.load_model"), check="keras_load_model", data_kw="filepath"),
    Sink("ATS-PY-008", ("keras.config.enable_unsafe_deserialization",), data=None),
    Sink(
        "ATS-PY-008",
        ("keras.models.model_from_json", "keras.models.model_from_config", "keras.models.model_from_yaml",
         "keras.saving.deserialize_keras_object"),
        check="non_literal",
    ),
    # --- code execution --------------------------------------------------------------------
    Sink("ATS-PY-010", ("builtins.eval", "builtins.exec", "builtins.compile"), check="non_literal", data_kw="source"),
    Sink("ATS-PY-010", ("hydra.utils.instantiate", "hydra.utils.call", "hydra.utils.get_method", "hydra.utils.get_class"), check="untrusted_only", data_kw="config"),
    Sink("ATS-PY-010", ("mmengine.Config.fromfile", "mmengine.config.Config.fromfile", "mmcv.Config.fromfile"), check="untrusted_only", data_kw="filename"),
    Sink(
        "ATS-PY-011",
        ("subprocess.run", "subprocess.call", "subprocess.check_call", "subprocess.check_output", "subprocess.Popen",
         "subprocess.getoutput", "subprocess.getstatusoutput"),
        check="shell_true",
        data_kw="args",
    ),
    Sink("ATS-PY-011", ("os.system", "os.popen", "commands.getoutput"), check="non_literal", data_kw="command"),
    # --- transport -------------------------------------------------------------------------
    Sink(
        "ATS-PY-012",
        (*HTTP_CALLS, "httpx.Client", "httpx.AsyncClient", "aiohttp.TCPConnector"),
        check="kw_false",
        options={"kw": "verify", "also": "ssl"},
        data=None,
    ),
    Sink("ATS-PY-012", ("ssl._create_unverified_context", "ssl._create_stdlib_context"), data=None, references=True),
    # --- archives --------------------------------------------------------------------------
    Sink(
        "ATS-PY-013",
        ("tarfile.open().extractall", "tarfile.TarFile().extractall", "tarfile.TarFile.open().extractall",
         "tarfile.open().extract", "tarfile.TarFile().extract"),
        check="no_extract_filter",
        data=None,
        receiver=True,
    ),
    Sink("ATS-PY-013", ("shutil.unpack_archive",), check="no_extract_filter", data_kw="filename"),
    # --- exposed services ------------------------------------------------------------------
    Sink("ATS-PY-014", GRADIO_LAUNCH, check="gradio_launch", data=None),
    Sink("ATS-PY-014", ("ray.init",), check="ray_dashboard", data=None),
    Sink("ATS-PY-014", ("tensorboard.program.TensorBoard().configure",), check="tensorboard_bind_all", data=None),
    Sink(
        "ATS-PY-014",
        ("subprocess.run", "subprocess.call", "subprocess.check_call", "subprocess.Popen", "os.system", "os.popen"),
        check="service_command",
        data=None,
    ),
    # --- LangChain -------------------------------------------------------------------------
    Sink(
        "ATS-PY-015",
        ("langchain_community.vectorstores.*.load_local", "langchain_community.vectorstores.*.deserialize_from_bytes",
         "langchain_experimental.agents.*", "langchain_experimental.agents.agent_toolkits.*"),
        check="langchain_dangerous_flag",
        data=None,
    ),
    Sink(
        "ATS-PY-015",
        ("langchain_experimental.tools.PythonREPLTool", "langchain_experimental.tools.python.tool.PythonREPLTool",
         "langchain_experimental.utilities.PythonREPL", "langchain_experimental.tools.PythonAstREPLTool"),
        data=None,
    ),
    Sink("ATS-PY-015", ("langchain_core.load.load", "langchain_core.load.loads"), check="non_literal", data_kw="obj"),
    Sink("ATS-PY-015", ("langchain.prompts.load_prompt", "langchain.chains.load_chain", "langchain.chains.loading.load_chain"), check="non_literal", data_kw="path"),
    # --- other deserializers ---------------------------------------------------------------
    Sink("ATS-PY-020", ("shelve.open", "shelve.DbfilenameShelf", "marshal.load", "marshal.loads"), check="not_roundtrip", data_kw="filename", references=True),
    Sink("ATS-PY-020", ("jsonpickle.decode", "jsonpickle.unpickler.decode"), check="not_roundtrip", data_kw="string", options={"severity": "high"}, references=True),
    Sink("ATS-PY-020", ("jsonpickle.unpickler.Unpickler", "jsonpickle.Unpickler"), options={"severity": "high"}, data=None),
    # --- MLflow ----------------------------------------------------------------------------
    Sink("ATS-PY-021", ("mlflow.*.load_model", "mlflow.models.Model.load"), check="remote_uri", data_kw="model_uri"),
    # --- native code -----------------------------------------------------------------------
    Sink(
        "ATS-PY-022",
        ("tensorflow.load_op_library", "tensorflow.load_library", "tensorflow.saved_model.load",
         "torch.classes.load_library", "torch.ops.load_library", "numpy.ctypeslib.load_library",
         "ctypes.CDLL", "ctypes.cdll.LoadLibrary", "ctypes.PyDLL", "ctypes.WinDLL",
         "onnxruntime.SessionOptions().register_custom_ops_library", "torch.jit.load",
         "torch.package.PackageImporter", "torch.export.load"),
        check="non_literal",
        data_kw="library_filename",
    ),
    Sink("ATS-PY-022", ("onnx.hub.load",), check="kw_truthy", options={"kw": "silent"}, data=None),
    # --- pickle over the network -----------------------------------------------------------
    Sink(
        "ATS-PY-023",
        ("torch.distributed.broadcast_object_list", "torch.distributed.all_gather_object",
         "torch.distributed.gather_object", "torch.distributed.scatter_object_list",
         "torch.distributed.recv_object_list"),
        data=None,
    ),
    Sink("ATS-PY-023", ("multiprocessing.connection.Listener", "multiprocessing.connection.Client", "multiprocessing.managers.BaseManager"), check="no_authkey", data=None),
)

# Environment switches that turn a safe default off when set in code (ATS-PY-016).
UNSAFE_ENV_SWITCHES: dict[str, str] = {
    "TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD": "makes every `torch.load` use the full unpickler",
    "HF_DATASETS_TRUST_REMOTE_CODE": "lets `datasets` run the loading script of any dataset",
}
# Values of those switches that are harmless.
ENV_SAFE_VALUES = frozenset({"0", "false", "no", "off", ""})

# Modules whose sinks are reached through very common imports: for these the prefilter
# looks for the callable's own name (`system`, `popen`, `environ`) instead of the module.
BROAD_MODULES = frozenset({"os", "builtins", "numpy", "pandas"})  # numpy/pandas: in nearly every ML file


def prefilter_words() -> frozenset[str]:
    """Identifiers one of which a file must contain before it is parsed at all.

    Derived from the table, so it cannot fall behind it: calling a sink needs its root
    module's name in the text (an import, `import_module("pickle")`, a star import), or for
    builtins and `os` the callable's own name."""
    words: set[str] = {"import_module", "__import__", "environ", "putenv", "from_pretrained", *UNSAFE_ENV_SWITCHES}
    sources = [name for sink in SINKS for name in sink.names] + [p.rstrip(".") for p, _ in CANONICAL_PREFIXES]
    for name in sources:
        root = name.split(".", 1)[0]
        if root in BROAD_MODULES:
            words.add(name.replace("()", "").rsplit(".", 1)[-1])
        else:
            words.add(root)
    return frozenset(words)


def canonical(name: str) -> str:
    for prefix, replacement in CANONICAL_PREFIXES:
        if name.startswith(prefix) or name == prefix.rstrip("."):
            return replacement + name[len(prefix):] if name.startswith(prefix) else replacement.rstrip(".")
    return name


class SinkIndex:
    def __init__(
        self, exact: Mapping[str, tuple[Sink, ...]], patterns: tuple[tuple[re.Pattern[str], Sink], ...], roots: frozenset[str]
    ) -> None:
        self.exact = exact
        self.patterns = patterns
        self.roots = roots  # first segments of every name (cheap rejection)
        self._memo: dict[str, tuple[Sink, ...]] = {}

    def lookup(self, qualname: str) -> tuple[Sink, ...]:
        found = self._memo.get(qualname)
        if found is None:
            if len(self._memo) > 100_000:  # bound memory on huge scans
                self._memo.clear()
            found = self._memo[qualname] = self._lookup(qualname)
        return found

    def _lookup(self, qualname: str) -> tuple[Sink, ...]:
        name = canonical(qualname)
        if name.split(".", 1)[0] not in self.roots:
            return ()
        found = self.exact.get(name, ())
        matched = tuple(sink for regex, sink in self.patterns if regex.fullmatch(name))
        return found + matched if matched else found

    def knows(self, qualname: str) -> bool:
        return bool(self.lookup(qualname))


def _glob(name: str) -> re.Pattern[str]:
    parts = (re.escape(p) for p in name.split("*"))
    return re.compile(r"[\w.()]+?".join(parts))


@cache
def index() -> SinkIndex:
    exact: dict[str, list[Sink]] = {}
    patterns: list[tuple[re.Pattern[str], Sink]] = []
    roots: set[str] = set()
    for sink in SINKS:
        for name in sink.names:
            roots.add(name.split(".", 1)[0])
            if "*" in name:
                patterns.append((_glob(name), sink))
            else:
                exact.setdefault(name, []).append(sink)
    return SinkIndex({k: tuple(v) for k, v in exact.items()}, tuple(patterns), frozenset(roots))
