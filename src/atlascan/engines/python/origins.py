"""Where the data reaching a sink comes from, to grade severity (never to suppress).

Intraprocedural and flow-insensitive: a name's origin is the strongest origin of any value
assigned to it in its scope, following a few hops. Ranks: remote (downloaded or a remote
URL) > untrusted (parameter, command line, environment, web request, user input) >
unknown > literal (a string constant in the code).

Only some origins prove that data from outside reaches a sink (`Origin.proof`): a download,
a remote location read from, the command line, the environment, a web request, or a
parameter of a public entry point (a web route, or documented as user input). A bare
parameter or `input()` typed by whoever runs the script is untrusted but not proof.
Each origin keeps the expression and line it came from, the evidence a message names.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import cached_property

from atlascan.engines.python.scopes import LOCAL_DEF, Resolver, Scope
from atlascan.vocabulary import loopback_url

MLFLOW_URI = re.compile(r"^(?:runs|models):/", re.I)  # the tracking server's runs and registry
BUCKET_URL = re.compile(r"^(?:s3a?|gs|gcs|az|abfss?|wasbs?|hdfs|dbfs)://", re.I)
REMOTE_URL = re.compile(r"^(?:https?|s3a?|gs|gcs|hf|az|abfss?|wasbs?|ftp|dbfs|hdfs)://|^(?:runs|models|dbfs):/", re.I)
# A service on this machine (`http://localhost:8080/predictions/...`, the model server a
# client or test just started): what it answers is not data from outside (`loopback_url`).
SERVICE_URL = re.compile(r"^(?:https?|grpc)://", re.I)

# Callables whose result is downloaded data or a path to a downloaded file.
DOWNLOAD_PREFIXES = (
    "huggingface_hub.", "requests.", "httpx.", "urllib.request.", "urllib3.", "urllib.urlopen",
    "urllib2.", "wget.", "gdown.", "boto3.", "botocore.", "google.cloud.storage.", "azure.storage.",
    "aiohttp.", "mlflow.artifacts.", "fsspec.", "smart_open.", "s3fs.", "gcsfs.",
)  # fmt: skip
# Of those, the calls that open a client, session or handle (`boto3.session.Session()`,
# `storage.Client().bucket(name)`): nothing is fetched until a method of it is called, and
# what it carries (`session.region_name`) is the machine's configuration.
HANDLE_CALLS = frozenset({
    "client", "resource", "Session", "session", "get_session", "Client", "AsyncClient", "ClientSession",
    "PoolManager", "bucket", "get_bucket", "Bucket", "blob", "Blob", "Object", "BlobServiceClient",
    "ContainerClient", "BlobClient", "from_connection_string", "get_blob_client", "get_container_client",
    "filesystem", "S3FileSystem", "GCSFileSystem",
})  # fmt: skip
DOWNLOAD_NAMES = frozenset({
    "torch.hub.download_url_to_file", "keras.utils.get_file", "tensorflow.keras.utils.get_file",
    "datasets.utils.file_utils.cached_path", "transformers.utils.cached_file", "transformers.utils.hub.cached_file",
    "mlflow.tracking.MlflowClient().download_artifacts", "mlflow.MlflowClient().download_artifacts",
})  # fmt: skip
UNTRUSTED_NAMES = {
    "sys.argv": "a command-line argument",
    "os.environ": "an environment variable",
    "os.getenv": "an environment variable",
    "os.environ.get": "an environment variable",
    "builtins.input": "user input",
    "flask.request": "a web request",
    "fastapi.UploadFile": "a web upload",
    "streamlit.file_uploader": "a web upload",
}
# Set by the operating system or the login to the machine's own folders (Windows' program and
# system folders, the user's home and temporary folders): the machine's layout, which no
# outsider sets, as `os.path.expanduser("~")` is.
MACHINE_FOLDER_ENV = frozenset(name.lower() for name in (
    "ProgramFiles", "ProgramFiles(x86)", "ProgramW6432", "CommonProgramFiles", "CommonProgramFiles(x86)",
    "CommonProgramW6432", "ProgramData", "SystemRoot", "windir", "SystemDrive", "APPDATA", "LOCALAPPDATA",
    "USERPROFILE", "HOMEDRIVE", "HOMEPATH", "HOME", "TMPDIR", "TEMP", "TMP",
))  # fmt: skip
# Calls whose result is a number: it may pick a shard (`int(os.environ["LOCAL_RANK"])`), never
# a location or code.
NUMBER_CALLS = frozenset({"builtins.int", "builtins.float", "builtins.bool", "builtins.len", "builtins.round", "builtins.abs", "os.getpid", "os.getppid"})
# A `%` format whose every conversion is numeric (`"kill -9 %d" % pid`) makes fixed text and
# digits of whatever it is handed, or raises.
PERCENT_CONVERSION = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[hlL]?([a-zA-Z%])")
NUMERIC_CONVERSIONS = frozenset("diouxXeEfFgG%")
# Set by ML platforms to the job's or deployment's own model, data and output locations.
PLATFORM_ENV = frozenset({
    "AZUREML_MODEL_DIR", "AIP_STORAGE_URI", "AIP_MODEL_DIR", "AIP_CHECKPOINT_DIR", "AIP_TENSORBOARD_LOG_DIR",
    "AIP_TRAINING_DATA_URI", "AIP_VALIDATION_DATA_URI", "AIP_TEST_DATA_URI", "CLUSTER_SPEC", "TF_CONFIG",
    "MLFLOW_MODEL_FOLDER",  # Azure ML's MLflow deployments: the model's folder under AZUREML_MODEL_DIR
})  # fmt: skip
# Of these, the ones that hold a dataset the job is handed, not the deployment's own model or
# the job's own output: loading from them is not the platform's contract to load a model.
PLATFORM_DATA_ENV = frozenset({
    "AIP_TRAINING_DATA_URI", "AIP_VALIDATION_DATA_URI", "AIP_TEST_DATA_URI", "CLUSTER_SPEC", "TF_CONFIG", "AIP_TENSORBOARD_LOG_DIR",
})  # fmt: skip
# The rest of SageMaker's training toolkit variables: the job's definition (`SM_HPS`, its
# hyperparameters; `SM_HOSTS`, its cluster, as CLUSTER_SPEC; `SM_NUM_GPUS`), set by whoever
# created the job, not by an outsider; its folders are locations (PLATFORM_ENV_PREFIXES).
# Slurm's `SLURM_*` (`SLURM_JOB_ID`, `SLURM_NODELIST`) are the same for a batch job: set by
# the scheduler from the job its owner submitted.
PLATFORM_DATA_ENV_PREFIXES = ("SM_", "SLURM_")
# SageMaker's containers get `SAGEMAKER_*` from the platform (`SAGEMAKER_INFERENCE_CODE_DIRECTORY`,
# `SAGEMAKER_SUBMIT_DIRECTORY`): the deployment's own code and model, set by its deployer.
PLATFORM_ENV_PREFIXES = ("SM_MODEL_DIR", "SM_CHANNEL_", "SM_OUTPUT_", "SM_INPUT_", "AZUREML_DATAREFERENCE_", "SAGEMAKER_")
# Typed by the person running the script: untrusted in kind, but no outsider controls it.
NOT_PROOF = frozenset({"builtins.input"})
# Decorators (their last name) that make a function a web entry point: its parameters are the request's.
ROUTE_DECORATORS = frozenset({"route", "get", "post", "put", "patch", "delete", "websocket", "api_route"})
# Docstring words that say a parameter is user input. "Uploaded" counts, but not after "be"
# or "to": data "to be uploaded" is what the function sends away (TorchServe's
# `s3_upload_local_folder(local_folder_path)`); nor does "upload" alone, a storage API's noun
# (aibrix's "upload_id: Upload ID from create_multipart_upload").
USER_INPUT_WORDS = re.compile(r"\b(?:user|users|request|(?<!\bbe )(?<!\bto )uploaded|untrusted|client|caller-supplied|external)\b", re.I)
ARGPARSE_METHODS = frozenset({"parse_args", "parse_known_args", "parse_intermixed_args"})
# Wrappers that pass their first argument's origin through.
PATH_HELPERS = frozenset({
    "builtins.open", "io.open", "io.BytesIO", "io.StringIO", "pathlib.Path", "pathlib.PurePath",
    "os.path.join", "os.path.abspath", "os.path.expanduser", "gzip.open", "bz2.open", "lzma.open", "builtins.str",
    "os.path.dirname", "os.path.realpath", "os.path.normpath", "pathlib.Path.resolve", "tarfile.open", "zipfile.ZipFile",
})  # fmt: skip
# Methods that return the contents of the file (or path) they are called on.
READ_METHODS = frozenset({"read", "read_text", "read_bytes", "readlines", "resolve"})
# Path methods whose result stays where the receiver is when their arguments are fixed
# (`Path(__file__).parent.joinpath("serve.pkl")`: a file next to the code).
PATH_METHODS = frozenset({"joinpath", "with_name", "with_suffix", "with_stem", "absolute", "expanduser"})
# Of these, the ones whose later arguments are a mode or an encoding, not part of the path.
FIRST_ARG_HELPERS = frozenset({
    "builtins.open", "io.open", "gzip.open", "bz2.open", "lzma.open", "builtins.str", "tarfile.open", "zipfile.ZipFile",
})  # fmt: skip
# SageMaker mounts a job's inputs and model there (`/opt/ml/model`, `/opt/ml/processing/model`):
# what an earlier step of the same pipeline wrote, like a serving platform's model location.
PLATFORM_FOLDERS = ("/opt/ml/",)
# Calls that return where the platform put a model registered for the deployment.
PLATFORM_MODEL_CALLS = frozenset({"azureml.core.model.Model.get_model_path", "azureml.core.Model.get_model_path"})
# KServe's storage initializer: handed the model server's own command line (`--storage_uri`,
# which the InferenceService sets), it fetches the deployment's model. Handed anything else
# (a request's field), it downloads what that names.
PLATFORM_STORAGE_DOWNLOADS = frozenset({
    "kserve.Storage.download", "kserve.storage.Storage.download", "kserve_storage.Storage.download",
    "kserve_storage.storage.Storage.download",
})  # fmt: skip

# Pipeline frameworks that make a function a component: the pipeline binds its parameters
# (an earlier step's output, a run parameter), as a launched step's command line.
COMPONENT_DECORATORS = frozenset({
    "kfp.dsl.component", "kfp.v2.dsl.component", "kfp.dsl.container_component", "kfp.components.component",
    "mldesigner.command_component", "zenml.step",
})  # fmt: skip
COMPONENT_CALLS = frozenset({"create_component_from_func", "func_to_container_op", "build_python_component"})

MAX_DEPTH = 8  # hops; `exec(f.read())` of `open(os.path.join(here, ...))` needs seven


@dataclass(frozen=True)
class Origin:
    rank: int  # 0 literal, 1 unknown, 2 untrusted, 3 remote
    label: str
    path: str | None = None  # the literal path, for a single string constant
    param: str | None = None  # the parameter it comes from ...
    param_scope: int | None = None  # ... and id() of that function's scope
    proof: bool = False  # the code shows data from outside (see the module docstring)
    source: str | None = None  # the expression it comes from ...
    line: int | None = None  # ... and its (program) line
    platform: bool = False  # the serving platform's own model location (PLATFORM_MODEL_LOCATIONS)
    step: bool = False  # an input a pipeline hands one of its components (COMPONENT_DECORATORS, COMPONENT_CALLS)
    fixed: bool = False  # a remote location spelled out in the code, not one it is handed
    local: bool = False  # an address on this machine (`loopback_url`)
    spelled: bool = False  # a remote location written as a string constant in the code

    @property
    def raises(self) -> bool:
        return self.rank >= 2


LITERAL = Origin(0, "a fixed path in the code")
# The labels of the command line's origins (`sys.argv`, argparse), for a check that asks.
COMMAND_LINE = ("a command-line argument", "the command-line argument", "the command line")
WHOLE_COMMAND_LINE = "the command line"  # `parse_args()`'s namespace, not one of its arguments


def from_command_line(origin: Origin) -> bool:
    return origin.label.startswith(COMMAND_LINE)


# What whoever runs the program chooses: its command line, its environment, what is typed
# at its prompt. Outside the code, but the operator's own choice: no way in for an attacker.
OPERATOR_LABELS = (*COMMAND_LINE, "an environment variable", "user input")


def operators_choice(origin: Origin) -> bool:
    return origin.label.startswith(OPERATOR_LABELS)

# Hooks whose parameter is where the serving platform put the deployment's own model:
# SageMaker's `model_fn(model_dir)`, a Vertex AI custom predictor's `load(artifacts_uri)`.
# Whoever can write there already controls the serving code.
PLATFORM_MODEL_LOCATIONS = frozenset({("model_fn", "model_dir"), ("load", "artifacts_uri")})
HERE = Origin(0, "a path next to this file")  # `__file__`, `os.path.dirname(__file__)`
UNKNOWN = Origin(1, "data of unknown origin")
NUMBER = Origin(0, "a number")
# A name met again while its own value is worked out (`x = x.replace(...)`): unknown, unless
# the name's other values say more (compared by identity).
CYCLE = Origin(1, "data of unknown origin")
SWITCH = Origin(0, "a switch")  # a parameter annotated `bool` or defaulting to True or False


def _fixed_text(origin: Origin) -> bool:
    """Text the code fixes, or the name being worked out itself (`x = x.replace(...)`)."""
    return origin.rank == 0 or origin is CYCLE


def _strongest(origins: list[Origin]) -> Origin:
    if not origins:
        return UNKNOWN
    # Of equal rank, data the platform did not put in place: a command built from the job's
    # data folder and its hyperparameters is as open as the hyperparameters.
    strongest = max(origins, key=lambda o: (o.rank, o.proof, not o.platform))
    if strongest.rank < 2:
        # The platform's model folder, or a fallback no outsider sets (`os.getcwd()`, a
        # name joined to it): still the deployment's own files.
        return next((o for o in origins if o.platform), strongest)
    if (strongest.fixed or strongest.spelled) and any(o.raises and not (o.fixed or o.spelled) for o in origins):
        # a location spelled out, which the environment or a caller may replace: not fixed
        return replace(strongest, fixed=False, spelled=False)
    return strongest


def _text(node: ast.AST) -> str:
    text = ast.unparse(node)
    return text if len(text) <= 60 else text[:57] + "..."


def _found(rank: int, label: str, node: ast.AST, proof: bool = True) -> Origin:
    source = node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else _text(node)
    return Origin(rank, label, proof=proof, source=source, line=getattr(node, "lineno", None))


# Methods of text (and bytes) whose result is made of the receiver and the arguments only.
TEXT_METHODS = frozenset({
    "replace", "strip", "lstrip", "rstrip", "decode", "encode", "lower", "upper", "split", "splitlines",
    "format", "removeprefix", "removesuffix", "join", "partition", "rpartition", "expandtabs", "title",
})  # fmt: skip
# Functions of the same kind: `re.sub(pattern, repl, text)`, `textwrap.dedent(text)`.
TEXT_FUNCTIONS = frozenset({"re.sub", "re.subn", "textwrap.dedent", "textwrap.indent"})
# The source code of an object already imported: installed code, as fixed as the code that
# reads it (unsloth and axolotl patch transformers by rewriting `inspect.getsource(...)` with
# `.replace()` and exec-ing it).
SOURCE_CALLS = frozenset({
    "inspect.getsource", "inspect.getsourcelines", "dill.source.getsource", "inspect.signature", "inspect.getdoc",
})  # fmt: skip
INSTALLED_SOURCE = Origin(0, "the source of code already installed")
# The names loaded code carries (`cls.__module__`, `fn.__qualname__`, `dir(module)`): text of
# installed code, whoever chose the object (axolotl imports `from {cls.__module__} import ...`
# before exec-ing the class's rewritten source).
CODE_NAMES = frozenset({"__module__", "__name__", "__qualname__", "__doc__"})
INSTALLED_NAME = Origin(0, "a name of code already installed")
# What a download's answer is read and reworked with (`r.text`, `.replace(...)`): the download
# is the call before them.
ANSWER_PARTS = frozenset({"text", "content", "body"}) | TEXT_METHODS


def _fetching_call(qualname: str) -> str:
    """`requests.get().text.replace().strip` names the download `requests.get`."""
    parts = qualname.split(".")
    for i, part in enumerate(parts):
        if i > 1 and part.removesuffix("()") in ANSWER_PARTS and any(p.endswith("()") for p in parts[:i]):
            return ".".join(parts[:i]).removesuffix("()")
    return qualname


def _local(url: str, node: ast.AST) -> Origin:
    return Origin(0, f"the service on this machine at `{url[:80]}`", source=_text(node), line=getattr(node, "lineno", None), local=True)


def _numeric_format(node: ast.expr) -> bool:
    if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
        return False
    conversions = PERCENT_CONVERSION.findall(node.value)
    return bool(conversions) and set(conversions) <= NUMERIC_CONVERSIONS and conversions != ["%"]


def named_inside(origin: Origin) -> Origin:
    """A remote location named in the middle of a string (`f"gcloud ... {BUCKET}"`) is
    not a location the data is read from: it proves nothing."""
    if origin.rank == 3 and origin.source is not None and not origin.label.startswith("a download"):
        return Origin(1, "data of unknown origin")
    return origin


class Origins:
    def __init__(self, resolver: Resolver, fixed_calls: bool = True, own_env: Mapping[str, str] | None = None) -> None:
        self.resolver = resolver
        # Environment variables the repository sets to literals itself, and where: a channel
        # inside the program, untrusted in kind but no proof of outside input.
        self.own_env = own_env or {}
        # Whether a parameter every in-file call hands a fixed value is that value. Off for a
        # cross-file wrapper summary: callers in other files hand it theirs.
        self.fixed_calls = fixed_calls
        self._names: dict[tuple[str, int, int], Origin] = {}  # (name, scope, use line or 0)
        self._digest_checks: dict[str, bool] = {}  # module functions by name: raise on a digest mismatch?
        self._cut = False  # the current name's lookup hit MAX_DEPTH somewhere below it

    def _own(self, key: ast.AST | None, node: ast.AST) -> Origin | None:
        name = key.value if isinstance(key, ast.Constant) and isinstance(key.value, str) else None
        where = self.own_env.get(name) if name else None
        return _found(2, f"the environment variable `{name}` this repository sets itself (`{where}`)", node, proof=False) if where else None

    def of(self, node: ast.expr, scope: Scope, depth: int = 0) -> Origin:
        if isinstance(node, ast.Name) and node.id == "__file__":
            return HERE
        if depth > MAX_DEPTH:
            self._cut = True
            return UNKNOWN
        if isinstance(node, ast.Constant):
            if isinstance(node.value, str):
                if SERVICE_URL.match(node.value) and loopback_url(node.value):
                    return _local(node.value, node)
                if REMOTE_URL.match(node.value):
                    # a bucket the code names is its project's storage; a web URL may be anyone's
                    return replace(_found(3, f"the remote location `{node.value[:80]}`", node), fixed=bool(BUCKET_URL.match(node.value)), spelled=True)
                if node.value.startswith(PLATFORM_FOLDERS):
                    return Origin(0, f"the platform's job folder `{node.value[:80]}`", node.value, platform=True)
                return Origin(0, f"`{node.value[:80]}`", node.value)
            return LITERAL
        if isinstance(node, ast.JoinedStr):
            first = node.values[0] if node.values else None
            if isinstance(first, ast.Constant) and isinstance(first.value, str) and SERVICE_URL.match(first.value) and loopback_url(first.value):
                return _local(first.value, node)
            if isinstance(first, ast.Constant) and isinstance(first.value, str) and REMOTE_URL.match(first.value):
                found = _found(3, "an MLflow run or registry URI" if MLFLOW_URI.match(first.value) else "a remote URL", node)
                parts = [self.of(v.value, scope, depth + 1) for v in node.values if isinstance(v, ast.FormattedValue)]
                # `f"gs://{BUCKET}/{PATH}"` of names fixed in the code: the project's storage,
                # as a bucket URL written out is; `f"http://{args.host}:{args.port}"`: a
                # server the operator names, no way in.
                spelled = all(p.rank == 0 for p in parts)  # `f"https://host/{PATH}"` of names fixed in the code
                fixed = BUCKET_URL.match(first.value) is not None and spelled
                chosen = any(operators_choice(p) for p in parts) and all(p.rank == 0 or operators_choice(p) for p in parts)
                return replace(found, fixed=fixed, proof=not chosen, spelled=spelled)
            parts = [
                self.of(v.value, scope, depth + 1) if i == 0 else named_inside(self.of(v.value, scope, depth + 1))
                for i, v in enumerate(node.values)
                if isinstance(v, ast.FormattedValue)
            ]
            return _strongest(parts) if parts else LITERAL
        if isinstance(node, ast.Name):
            # A name assigned more than once in its own scope (`response = requests.get(a)`
            # ... `response = requests.get(b)`) is judged from each use: the assignment
            # nearest before it leads among equals, so the evidence names that line.
            use = node.lineno if len(scope.assigns.get(node.id, ())) > 1 else 0
            key = (node.id, id(scope), use)
            if key in self._names:
                return self._names[key]
            self._names[key] = CYCLE  # breaks `x = f(x)` cycles
            outer, self._cut = self._cut, False
            found = self._name(node.id, scope, depth, use)
            if self._cut:
                # Cut short by the hop limit (reached deep, through what a function's calls
                # hand it): a lookup from nearer the name may see further, so not remembered.
                del self._names[key]
            else:
                self._names[key] = found
            self._cut = outer or self._cut
            return found
        if isinstance(node, (ast.Attribute, ast.Subscript)):
            qualname = self.resolver.expr(node.value if isinstance(node, ast.Subscript) else node, scope)
            label = _untrusted_label(qualname)
            if label:
                env_key = node.slice if isinstance(node, ast.Subscript) else None
                return _machine(env_key) or _platform(env_key, node) or self._own(env_key, node) or _found(2, label, node, _proves(qualname))
            if isinstance(node, ast.Attribute) and self._is_argparse(node.value, scope):
                return self._argument(node)
            if isinstance(node, ast.Attribute) and node.attr in CODE_NAMES:
                return INSTALLED_NAME  # `cls.__module__`: where loaded code lives, whoever chose the class
            if isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"):
                return UNKNOWN  # an attribute of the object, set who knows where
            inner = self.of(node.value, scope, depth + 1)
            if isinstance(node, ast.Attribute) and inner.label.startswith(WHOLE_COMMAND_LINE):
                return self._argument(node)  # `args.model` of a handed `args`
            return inner
        if isinstance(node, ast.Call):
            qualname = self.resolver.expr(node.func, scope)
            if qualname:
                if qualname in PLATFORM_MODEL_CALLS:
                    return Origin(0, f"the registered model's path from `{qualname.rsplit('.', 2)[-2]}.get_model_path`", platform=True)
                if qualname in PLATFORM_STORAGE_DOWNLOADS and node.args and isinstance(node.args[0], (ast.Name, ast.Attribute)):
                    # the argument itself, not a string built from it and a request's field
                    given = self.of(node.args[0], scope, depth + 1)
                    if given.platform or from_command_line(given):
                        return Origin(0, "the model KServe's `Storage.download` fetched for the server's own `--storage_uri`", platform=True)
                if qualname.startswith(DOWNLOAD_PREFIXES) and qualname.rsplit(".", 1)[-1] in HANDLE_CALLS:
                    return UNKNOWN
                if qualname in DOWNLOAD_NAMES or qualname.startswith(DOWNLOAD_PREFIXES):
                    where = node.args[0] if node.args else next((k.value for k in node.keywords if k.arg in ("url", "Bucket")), None)
                    if where is None and isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Call) and node.func.value.args:
                        where = node.func.value.args[0]  # `urlopen(url).read()`: the URL of the call it reads
                    opened = self.of(where, scope, depth + 1) if where is not None else None
                    if opened is not None and not node.args and opened.rank < 2 and any(k.arg == "Bucket" for k in node.keywords):
                        opened = replace(opened, fixed=True)  # `get_object(Bucket=f"...-{region}")`: a bucket the code names
                    if opened is not None and opened.platform:
                        return opened  # `smart_open.open(artifacts_uri + "/model.pt")`: still the deployment's model
                    if opened is not None and opened.local:
                        return replace(opened, label=f"the answer of {opened.label}")
                    # from a server the operator names (`urlopen(f"http://{args.host}/state")`): their choice
                    chosen = opened is not None and (operators_choice(opened) or (opened.rank == 3 and not opened.proof))
                    found = _found(3, f"a download by `{_fetching_call(qualname)}`", node, proof=not chosen)
                    return replace(found, fixed=opened is not None and opened.fixed, spelled=opened is not None and opened.spelled)
                if qualname in NUMBER_CALLS:
                    return NUMBER
                if qualname in SOURCE_CALLS:
                    return INSTALLED_SOURCE
                if qualname == "builtins.dir":
                    return INSTALLED_NAME  # the names of a loaded object
                label = _untrusted_label(qualname)
                if label:
                    env_key = node.args[0] if node.args else None
                    return _machine(env_key) or _platform(env_key, node) or self._own(env_key, node) or _found(2, label, node, _proves(qualname))
            if isinstance(node.func, ast.Attribute) and node.func.attr in ARGPARSE_METHODS:
                return _found(2, WHOLE_COMMAND_LINE, node)
            if isinstance(node.func, ast.Name) and qualname == LOCAL_DEF + node.func.id and self._returns_command_line(node.func.id, depth):
                return _found(2, WHOLE_COMMAND_LINE, node)  # `args = parse_args()`, the script's own helper
            if isinstance(node.func, ast.Name) and qualname == LOCAL_DEF + node.func.id and self._checks_digest(node.func.id):
                # Whisper's `_download(url, root)`: the helper raises unless the file's SHA-256
                # is the one the URL names. Handed a URL the code spells out (and no other
                # remote location), what it returns is the file whose digest the code pins.
                remote = [g for a in node.args[:3] if (g := self.of(a, scope, depth + 1)).rank == 3]
                if remote and all(g.spelled for g in remote):
                    return Origin(0, f"a download `{node.func.id}` checks against the digest the code names")
            template = node.func.value if isinstance(node.func, ast.Attribute) and node.func.attr == "format" else None
            if isinstance(template, ast.Constant) and isinstance(template.value, str):
                # `"{}/model.pth".format(model_dir)`: a template, read as an f-string is
                values = [*node.args[:4], *(k.value for k in node.keywords[:4])]
                parts = [
                    self.of(v, scope, depth + 1) if i == 0 and template.value.startswith("{") else named_inside(self.of(v, scope, depth + 1))
                    for i, v in enumerate(values)
                ]
                return _strongest(parts) if parts else self.of(template, scope, depth + 1)
            parts = [self.of(a, scope, depth + 1) for a in node.args[:3]]
            parts += [self.of(k.value, scope, depth + 1) for k in node.keywords[:4]]
            if qualname in PATH_HELPERS and node.args:  # a function of a module: no receiver
                return parts[0] if len(parts) == 1 or qualname in FIRST_ARG_HELPERS else _strongest([parts[0], *map(named_inside, parts[1:])])
            if qualname in TEXT_FUNCTIONS and parts and all(map(_fixed_text, parts)):
                return parts[-1] if qualname.startswith("re.") else parts[0]  # the text argument
            if isinstance(node.func, ast.Attribute):  # `resp.read()`, `path.open()`
                receiver = self.of(node.func.value, scope, depth + 1)
                if node.func.attr in READ_METHODS and not node.args and receiver.rank == 0:
                    return receiver  # `open("VERSION").read()`: a file that ships with the code
                if node.func.attr in PATH_METHODS and receiver.rank == 0 and all(p.rank == 0 for p in parts):
                    return receiver
                if node.func.attr in TEXT_METHODS and all(map(_fixed_text, (receiver, *parts))):
                    return receiver  # `source.replace("a", "b")`: text made of fixed text
                parts.append(receiver)
            strongest = _strongest(parts)
            return strongest if strongest.rank >= 2 else UNKNOWN
        if isinstance(node, ast.BinOp):
            if isinstance(node.op, ast.Mod) and _numeric_format(node.left):
                return LITERAL
            left, right = self.of(node.left, scope, depth + 1), named_inside(self.of(node.right, scope, depth + 1))
            return _strongest([left, right]) if max(left.rank, right.rank) >= 2 else (LITERAL if left.rank == right.rank == 0 else UNKNOWN)
        if isinstance(node, (ast.Dict, ast.List, ast.Tuple, ast.Set)):
            items = [v for v in (node.values if isinstance(node, ast.Dict) else node.elts) if v is not None]
            parts = [self.of(v, scope, depth + 1) for v in items[:8]]
            strongest = _strongest(parts)
            # An empty `[]` or `{}` is filled later (`files.append(...)`): not a fixed value.
            return strongest if strongest.rank >= 2 else (LITERAL if parts and all(p.rank == 0 for p in parts) else UNKNOWN)
        if isinstance(node, ast.IfExp):
            return _strongest([self.of(node.body, scope, depth + 1), self.of(node.orelse, scope, depth + 1)])
        if isinstance(node, ast.Await):  # `await request.body()`
            return self.of(node.value, scope, depth + 1)
        return UNKNOWN

    def _name(self, ident: str, scope: Scope, depth: int, use: int = 0) -> Origin:
        current: Scope | None = scope
        while current is not None:
            if current.kind in ("function", "lambda") and ident in current.params:
                func = current.node
                fname = getattr(func, "name", "lambda")
                if ident in ("self", "cls"):
                    return UNKNOWN
                if _switch(func, ident):
                    return SWITCH  # `force_download=False` handed on to a download helper
                if (fname, ident) in PLATFORM_MODEL_LOCATIONS:
                    return Origin(0, f"the platform's model location `{ident}` of `{fname}`", param=ident, platform=True)
                if fname.startswith("test_") and current.parent is not None and current.parent.kind in ("module", "class"):
                    # A pytest test kept beside the code (h2ogpt's create_data.py): its
                    # parameters are fixtures and parametrized values, the test's own data.
                    return Origin(0, f"the test data `{ident}` of `{fname}`")
                entry = self._web_request(func, ident, current) or (_entry_point(func, ident) if func is not None else None)
                handed = None if entry else self._handed(func, ident, current, depth)
                if handed is not None:
                    return handed
                if not entry and self._component(func, current):
                    return Origin(2, f"the pipeline input `{ident}` of component `{fname}`", step=True, line=getattr(func, "lineno", None))
                named = f"the parameter `{ident}` of `{fname}`" + (f" ({entry})" if entry else "")
                return Origin(2, named, param=ident, param_scope=id(current), proof=bool(entry), line=getattr(func, "lineno", None))
            if ident in current.imports:
                label = _untrusted_label(current.imports[ident])
                return Origin(2, label, proof=_proves(current.imports[ident])) if label else UNKNOWN
            if ident in current.assigns:
                values = current.assigns[ident]
                if not values:
                    return UNKNOWN
                if use and current is scope:
                    before = [v for v in values if getattr(v[0], "lineno", use) < use]
                    nearest = max(before, key=lambda v: getattr(v[0], "lineno", 0), default=None)
                    values = [nearest, *(v for v in values if v is not nearest)] if nearest is not None else values
                origins = [self.of(value, current, depth + 1) for value, _ in values[:4]]
                # `x = x.replace(...)` reworks what the other assignments give; it adds nothing
                return _strongest([o for o in origins if o is not CYCLE] or origins)
            if ident in current.defs:
                return UNKNOWN
            current = current.parent
        return UNKNOWN

    def _handed(self, func: ast.AST | None, ident: str, scope: Scope, depth: int) -> Origin | None:
        """What every call of a function in this file hands the parameter, when that says more
        than "a parameter": the command line (`main(parser.parse_args())`, `train(args.data)`:
        a script's `main(args)` reads its own command line), or a fixed value
        (`download("titanic", "/data")`: the path is the code's own). A function also passed
        around as a value has callers this cannot see."""
        if not isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)) or scope.parent is None or scope.parent.kind not in ("module", "function"):
            return None
        local = LOCAL_DEF + func.name
        uses = self._uses(func.name)
        if any(isinstance(n, ast.Name) and self.resolver.expr(n, s) == local for n, s in uses):
            return None
        positional = [a.arg for a in (*func.args.posonlyargs, *func.args.args)]
        index = positional.index(ident) if ident in positional else None
        found: list[tuple[ast.Call, Origin]] = []
        for call, site in uses:
            if not isinstance(call, ast.Call) or self.resolver.expr(call.func, site) != local:
                continue
            data = next((k.value for k in call.keywords if k.arg == ident), None)
            if data is None and index is not None and index < len(call.args) and not any(isinstance(a, ast.Starred) for a in call.args[: index + 1]):
                data = call.args[index]
            given = self.of(data, site, depth + 1) if data is not None else None
            if given is None or not (from_command_line(given) or given.rank == 0) or given.platform:
                return None
            found.append((call, given))
        if not found:
            return None
        call, given = found[0]
        if all(from_command_line(g) for _, g in found):
            label = given.label.split(" (handed to ", 1)[0]
            return Origin(2, f"{label} (handed to `{func.name}` at line {call.lineno})", proof=True, source=_text(call), line=call.lineno)
        if self.fixed_calls and all(g.rank == 0 for _, g in found):
            paths = {g.path for _, g in found}
            shown = given.label if len(found) == 1 else f"fixed values ({given.label}, ...)"
            return Origin(0, f"{shown} (what every call of `{func.name}` hands it)", next(iter(paths)) if len(paths) == 1 else None, line=call.lineno)
        return None

    def _uses(self, name: str) -> list[tuple[ast.Call | ast.Name, Scope]]:
        """The calls of a bare `name(...)` and the bare `name`s passed as arguments."""
        return self._uses_by_name.get(name, [])

    @cached_property
    def _uses_by_name(self) -> dict[str, list[tuple[ast.Call | ast.Name, Scope]]]:
        """`_uses`, indexed once per module: a parameter's lookup would otherwise walk every
        call of the file."""
        index: dict[str, list[tuple[ast.Call | ast.Name, Scope]]] = {}
        for call, site in self.resolver.program.calls:
            if isinstance(call.func, ast.Name):
                index.setdefault(call.func.id, []).append((call, site))
        for node, site in self.resolver.program.references:
            if isinstance(node, ast.Name):
                index.setdefault(node.id, []).append((node, site))
        return index

    def _component(self, func: ast.AST | None, scope: Scope) -> bool:
        """Whether a module-level function is a pipeline component (`@dsl.component`, or handed
        to `create_component_from_func`): its parameters are the pipeline's to bind."""
        if not isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)) or scope.parent is None or scope.parent.kind != "module":
            return False
        for decorator in func.decorator_list:
            target = decorator.func if isinstance(decorator, ast.Call) else decorator
            if self.resolver.expr(target, scope.parent) in COMPONENT_DECORATORS:
                return True
        return func.name in self._made_components

    @cached_property
    def _made_components(self) -> frozenset[str]:
        """The names of the functions the module hands to COMPONENT_CALLS."""
        made: set[str] = set()
        for call, _ in self.resolver.program.calls:
            callee = call.func.attr if isinstance(call.func, ast.Attribute) else call.func.id if isinstance(call.func, ast.Name) else ""
            if callee not in COMPONENT_CALLS:
                continue
            first = call.args[0] if call.args else next((k.value for k in call.keywords if k.arg == "func"), None)
            if isinstance(first, ast.Name):
                made.add(first.id)
        return frozenset(made)

    def _checks_digest(self, name: str) -> bool:
        """Whether the module-level function `name` raises when a digest it computes differs
        (`if hashlib.sha256(data).hexdigest() != expected: raise ...`, or an `assert`); each
        function is read once."""
        if name not in self._digest_checks:
            found = self._module_functions.get(name)
            self._digest_checks[name] = found is not None and _raises_on_digest(found[0])
        return self._digest_checks[name]

    def _returns_command_line(self, name: str, depth: int) -> bool:
        """Whether the module-level function `name` returns `parse_args()`'s result on every path
        that returns a value (`def parse_args(): ...; return parser.parse_args()`)."""
        found = self._module_functions.get(name)
        if found is None:
            return False
        func, scope = found
        returns = [n.value for n in _own_nodes(func) if isinstance(n, ast.Return) and n.value is not None]
        return bool(returns) and all(self.of(v, scope, depth + 1).label.startswith(WHOLE_COMMAND_LINE) for v in returns[:4])

    def _argument(self, node: ast.Attribute) -> Origin:
        """`args.name`: a command-line argument, or one of the fixed values its `choices=` allow."""
        if node.attr in self._chosen_arguments:
            return Origin(0, f"the command-line argument `{node.attr}`, one of its fixed `choices`")
        return _found(2, f"the command-line argument `{node.attr}`", node)

    @cached_property
    def _chosen_arguments(self) -> frozenset[str]:
        """The argparse destinations this module restricts to literal `choices=` wherever it
        adds them (`add_argument("--down", choices=["all", "worker"])`)."""
        chosen: set[str] = set()
        free: set[str] = set()
        for call, _ in self.resolver.program.calls:
            if not (isinstance(call.func, ast.Attribute) and call.func.attr == "add_argument"):
                continue
            dest = _argument_dest(call)
            if dest is None:
                continue
            choices = next((k.value for k in call.keywords if k.arg == "choices"), None)
            literal = isinstance(choices, (ast.List, ast.Tuple, ast.Set)) and bool(choices.elts) and all(
                isinstance(e, ast.Constant) and isinstance(e.value, (str, int)) for e in choices.elts
            )
            (chosen if literal else free).add(dest)
        return frozenset(chosen - free)

    @cached_property
    def _module_functions(self) -> dict[str, tuple[ast.FunctionDef | ast.AsyncFunctionDef, Scope]]:
        """The module-level functions by name (the first of a name)."""
        found: dict[str, tuple[ast.FunctionDef | ast.AsyncFunctionDef, Scope]] = {}
        for func, scope in self.resolver.program.functions:
            if scope.parent is not None and scope.parent.kind == "module":
                found.setdefault(func.name, (func, scope))
        return found

    def _web_request(self, func: ast.AST | None, ident: str, scope: Scope) -> str | None:
        """"a web request" for a parameter annotated with a web framework's request type, or
        the request (or request stream) a gRPC servicer's method is handed."""
        args = getattr(func, "args", None)
        if not isinstance(args, ast.arguments):
            return None
        owner = scope.parent.node if scope.parent is not None and scope.parent.kind == "class" else None
        if isinstance(owner, ast.ClassDef) and len(args.args) >= 2 and args.args[1].arg == ident and any(_grpc_servicer(b) for b in owner.bases):
            return "a gRPC request"
        for arg in (*args.posonlyargs, *args.args, *args.kwonlyargs):
            if arg.arg == ident and arg.annotation is not None:
                annotation: ast.expr | None = arg.annotation
                if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
                    annotation = _dotted(annotation.value)  # `request: "web.Request"`
                if annotation is None:
                    return None
                qualname = self.resolver.expr(annotation, scope.parent or scope)
                return "a web request" if qualname in WEB_REQUEST_TYPES else None
        return None

    def _is_argparse(self, node: ast.expr, scope: Scope) -> bool:
        if not isinstance(node, ast.Name):
            return False
        current: Scope | None = scope
        while current is not None:
            if node.id in current.assigns:
                return any(
                    isinstance(v, ast.Call) and isinstance(v.func, ast.Attribute) and v.func.attr in ARGPARSE_METHODS
                    for v, _ in current.assigns[node.id]
                )
            if current.has(node.id):
                return False
            current = current.parent
        return False


def _raises_on_digest(func: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    for n in _own_nodes(func):
        if isinstance(n, ast.Assert):
            raises, test = True, n.test
        elif isinstance(n, ast.If):
            raises, test = any(isinstance(b, ast.Raise) for b in n.body), n.test
        else:
            continue
        if raises and any(isinstance(c, ast.Compare) and _digest_call(c) for c in ast.walk(test)):
            return True
    return False


def _digest_call(compare: ast.Compare) -> bool:
    return any(
        isinstance(side, ast.Call) and isinstance(side.func, ast.Attribute) and side.func.attr in ("hexdigest", "digest")
        for side in (compare.left, *compare.comparators)
    )


def _own_nodes(func: ast.FunctionDef | ast.AsyncFunctionDef) -> list[ast.AST]:
    """The nodes of a function's body, not those of functions and classes nested in it."""
    out: list[ast.AST] = []
    stack: list[ast.AST] = list(func.body)
    while stack:
        node = stack.pop()
        out.append(node)
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            stack.extend(ast.iter_child_nodes(node))
    return out


def _dotted(text: str) -> ast.expr | None:
    """`web.Request` as the expression it names, or None for anything but a dotted name."""
    parts = text.strip().split(".")
    if not all(p.isidentifier() for p in parts):
        return None
    node: ast.expr = ast.Name(parts[0], ast.Load())
    for part in parts[1:]:
        node = ast.Attribute(node, part, ast.Load())
    return node


def _switch(func: ast.AST | None, param: str) -> bool:
    """Whether `param` defaults to True or False, or is annotated `bool`: a switch, which
    names no data."""
    args = getattr(func, "args", None)
    if not isinstance(args, ast.arguments):
        return False
    for arg in (*args.posonlyargs, *args.args, *args.kwonlyargs):
        if arg.arg == param and isinstance(arg.annotation, ast.Name) and arg.annotation.id == "bool":
            return True
    positional = [*args.posonlyargs, *args.args]
    pairs = list(zip(positional[len(positional) - len(args.defaults) :], args.defaults, strict=True))
    pairs += [(a, d) for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True) if d is not None]
    return any(a.arg == param and isinstance(d, ast.Constant) and isinstance(d.value, bool) for a, d in pairs)


def _machine(key: ast.AST | None) -> Origin | None:
    """An environment variable the system sets to one of the machine's folders
    (`os.getenv("ProgramFiles")`): a fixed location, as `~` is."""
    if isinstance(key, ast.Constant) and isinstance(key.value, str) and key.value.lower() in MACHINE_FOLDER_ENV:
        return Origin(0, f"a path in the machine's `{key.value}` folder")
    return None


def _platform(key: ast.AST | None, node: ast.AST) -> Origin | None:
    """An environment variable the ML platform sets to the job's own model or output folder
    (`AZUREML_MODEL_DIR`, `AIP_STORAGE_URI`, `SM_MODEL_DIR`): the model the project deployed,
    where its platform put it, like a SageMaker `model_fn`'s `model_dir`. A dataset location
    the job is handed (`AIP_TRAINING_DATA_URI`) or the job's definition (`SM_HPS`) is
    untrusted in kind, without proof."""
    name = key.value if isinstance(key, ast.Constant) and isinstance(key.value, str) else None
    if name is None:
        return None
    location = (name in PLATFORM_ENV or name.startswith(PLATFORM_ENV_PREFIXES)) and name not in PLATFORM_DATA_ENV
    if not (location or name in PLATFORM_DATA_ENV or name.startswith(PLATFORM_DATA_ENV_PREFIXES)):
        return None
    return replace(_found(2, f"the platform's `{name}`", node, proof=False), platform=location)


def _proves(qualname: str | None) -> bool:
    while qualname:
        if qualname in NOT_PROOF:
            return False
        qualname, dot, _ = qualname.rpartition(".")
        if not dot:
            break
    return True


# A parameter annotated with one of these is the web request a handler is given
# (`async def handle(request: Request)`: `await request.body()` is the client's bytes).
WEB_REQUEST_TYPES = frozenset({
    "starlette.requests.Request", "starlette.requests.HTTPConnection", "starlette.websockets.WebSocket",
    "fastapi.Request", "fastapi.requests.Request", "fastapi.WebSocket", "aiohttp.web.Request",
    "aiohttp.web.BaseRequest", "aiohttp.web_request.Request", "flask.Request", "werkzeug.wrappers.Request",
    "django.http.HttpRequest", "tornado.httputil.HTTPServerRequest",
})  # fmt: skip
# Hooks whose first parameter is a client's request body: SageMaker's `input_fn`.
PLATFORM_REQUEST_HOOKS = frozenset({("input_fn", "request_body"), ("input_fn", "body"), ("input_fn", "data"), ("input_fn", "serialized_input_data")})


def _argument_dest(call: ast.Call) -> str | None:
    """The attribute `add_argument` stores to: `dest=`, else the first long option's name."""
    for k in call.keywords:
        if k.arg == "dest":
            return k.value.value if isinstance(k.value, ast.Constant) and isinstance(k.value.value, str) else None
    names = [a.value for a in call.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
    name = next((n for n in names if n.startswith("--")), names[0] if names else None)
    return name.lstrip("-").replace("-", "_") if name else None


def _grpc_servicer(base: ast.expr) -> bool:
    """A base class generated by grpc_tools (`pb2_grpc.InferenceServicer`): its methods are
    the server's remote procedures, their second parameter a client's message."""
    name = base.attr if isinstance(base, ast.Attribute) else base.id if isinstance(base, ast.Name) else ""
    return name.endswith("Servicer") and len(name) > len("Servicer")


def _first_param(func: ast.AST) -> str | None:
    args = getattr(func, "args", None)
    return args.args[0].arg if args is not None and args.args else None


def _entry_point(func: ast.AST, param: str) -> str | None:
    """Why a parameter is user input: the function is a web route, or its docstring says so."""
    for deco in getattr(func, "decorator_list", []):
        target = deco.func if isinstance(deco, ast.Call) else deco
        if isinstance(target, ast.Attribute) and target.attr in ROUTE_DECORATORS:
            return "a web route"
    if (getattr(func, "name", None), _first_param(func)) in PLATFORM_REQUEST_HOOKS and param == _first_param(func):
        return "the request body a serving platform passes"
    doc = ast.get_docstring(func) if isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)) else None
    named = re.compile(rf"\b{re.escape(param)}\b", re.I)
    for line in _param_entry(doc or "", param):
        # The parameter's own name is no word about it (`client: the API client.`, `user: User string`).
        if USER_INPUT_WORDS.search(named.sub("", line)):
            return "documented as user input"
    return None


def _param_entry(doc: str, param: str) -> list[str]:
    """The lines of a docstring that describe `param`: a line naming it first (`param: ...`,
    `param (str): ...`, `:param param: ...`, numpy's `param : str`) and the lines indented
    under it; else, for a docstring with no such entries, every line that names it. Another
    parameter's entry that uses the word (`global_args: user arguments for the command`) says
    nothing of `param`."""
    lines = doc.splitlines()
    start = re.compile(rf"^\s*(?::param\s+(?:[\w\[\], .]+\s+)?)?\*{{0,2}}{re.escape(param)}\s*(?:\([^)]*\))?\s*:")
    for i, line in enumerate(lines):
        if start.match(line):
            indent = len(line) - len(line.lstrip())
            entry = [line]
            for more in lines[i + 1 :]:
                if not more.strip() or len(more) - len(more.lstrip()) <= indent:
                    break
                entry.append(more)
            return entry
    if any(re.match(r"^(?:\s+\*{0,2}\w+\s*(?:\([^)]*\))?\s*:|:param\s)", line) for line in lines):
        return []  # entries for other parameters only (indented, or `:param`): this one is undocumented
    named = re.compile(rf"\b{re.escape(param)}\b")
    return [line for line in lines if named.search(line)]


def _untrusted_label(qualname: str | None) -> str | None:
    """The label of the untrusted source `qualname` is, or is an attribute of."""
    while qualname:
        label = UNTRUSTED_NAMES.get(qualname)
        if label:
            return label
        qualname, dot, _ = qualname.rpartition(".")
        if not dot:
            return None
    return None


def literal_path(node: ast.expr) -> str | None:
    """The path a literal argument names: `"m.pkl"`, `open("m.pkl", "rb")`, `Path("a") / "b"`."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Call) and node.args:
        first = literal_path(node.args[0])
        if first is None:
            return None
        rest = [literal_path(a) for a in node.args[1:]] if _is_join(node) else []
        if any(part is None for part in rest):
            return None
        return "/".join([first, *[p for p in rest if p]])
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
        left, right = literal_path(node.left), literal_path(node.right)
        return f"{left}/{right}" if left is not None and right is not None else None
    return None


def _is_join(call: ast.Call) -> bool:
    func = call.func
    return (isinstance(func, ast.Attribute) and func.attr == "join") or (isinstance(func, ast.Name) and func.id in ("Path", "join"))
