"""Argument conditions of the sink table: each decides whether one call is unsafe and
which node a human must change. Named by `Sink.check`; `always` needs no code."""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, TypeGuard

from atlascan.engines.python.versions import show
from atlascan.model import Precision, Severity
from atlascan.vocabulary import ALL_INTERFACES, COMMIT_SHA

if TYPE_CHECKING:
    from atlascan.engines.python.analyzer import Site
    from atlascan.engines.python.scopes import Scope

# Hosts a Python server call binds every interface with. The shared set's `*`, `0` and
# `::0` are server-flag spellings these rules never matched; leaving them out keeps findings.
BIND_ALL = ALL_INTERFACES - {"*", "0", "::0"}
SAFE_YAML_LOADERS = frozenset({"SafeLoader", "CSafeLoader", "BaseLoader", "CBaseLoader"})
UNSAFE_YAML_LOADERS = frozenset({"Loader", "UnsafeLoader", "CLoader", "CUnsafeLoader", "FullLoader", "CFullLoader"})
TORCH_SAFE_DEFAULT = (2, 6)
DATASETS_NO_SCRIPTS = (4,)
HF_ID_ARGS = ("pretrained_model_name_or_path", "repo_id", "model_name_or_path", "model_id", "model")


@dataclass(frozen=True)
class Hit:
    node: ast.AST  # where the fix goes: the offending keyword, argument or callee
    detail: str
    severity: Severity | None = None
    precision: Precision | None = None
    remote_code: bool = False  # code fetched at a moving revision, from whoever publishes the model
    needless: bool = False  # ... for a model transformers implements itself: worth reading even in a sample
    practice: str | None = None  # what every project of its kind does here: held back, one notice


def keyword(call: ast.Call, name: str) -> ast.keyword | None:
    for kw in call.keywords:
        if kw.arg == name:
            return kw
    return None


def argument(call: ast.Call, pos: int | None, name: str | None) -> ast.expr | None:
    if name:
        kw = keyword(call, name)
        if kw is not None:
            return kw.value
    if pos is not None and len(call.args) > pos and not isinstance(call.args[pos], ast.Starred):
        return call.args[pos]
    return None


def is_const(node: ast.AST | None, value: Any) -> bool:
    return isinstance(node, ast.Constant) and node.value is value


def literal_str(node: ast.AST | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def is_literal(node: ast.AST | None) -> bool:
    """A constant, or a container/f-string built only of constants."""
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        return all(is_literal(e) for e in node.elts)
    if isinstance(node, ast.JoinedStr):
        return all(isinstance(v, ast.Constant) for v in node.values)
    if isinstance(node, ast.BinOp):
        return is_literal(node.left) and is_literal(node.right)
    return False


def _falsy_literal(node: ast.AST) -> bool:
    if isinstance(node, ast.Constant):
        return not node.value
    return isinstance(node, (ast.List, ast.Tuple, ast.Dict)) and not getattr(node, "elts", getattr(node, "keys", None))


def _off_by_default(value: ast.AST, scope: Scope | None) -> bool:
    """A switch its caller turns on, off unless it does: a parameter of the enclosing function
    with a falsy default (`def load(path, allow_pickle=False)`), or an attribute that the
    class's `__init__` sets from one and nothing in the class sets otherwise (sagemaker's
    `NumpyDeserializer(allow_pickle=False)` passing `allow_pickle=self.allow_pickle`), as
    numpy's own `allow_pickle=False` is."""
    func = scope
    while func is not None and func.kind != "function":
        func = func.parent
    if func is None or not isinstance(func.node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return False
    if isinstance(value, ast.Name):
        return value.id not in func.assigns and _falsy_default(func.node, value.id)
    owner = func.parent
    if not (_instance_setting(value) and owner is not None and isinstance(owner.node, ast.ClassDef)):
        return False
    seen = False
    for method in owner.node.body:
        if not isinstance(method, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for node in ast.walk(method):
            if not isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)) or node.value is None:
                continue
            if not any(_instance_setting(t) and t.attr == value.attr for t in _targets(node)):
                continue
            from_init = method.name == "__init__" and isinstance(node.value, ast.Name) and _falsy_default(method, node.value.id)
            if not (from_init or (isinstance(node, ast.Assign) and _falsy_literal(node.value))):
                return False  # set elsewhere, or to something else: the code may turn it on
            seen = seen or from_init
    return seen


def _falsy_default(func: ast.FunctionDef | ast.AsyncFunctionDef, name: str) -> bool:
    args = func.args
    positional = [*args.posonlyargs, *args.args]
    defaults = dict(zip([a.arg for a in positional[len(positional) - len(args.defaults):]], args.defaults, strict=False))
    defaults.update({a.arg: d for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=False) if d is not None})
    return name in defaults and _falsy_literal(defaults[name])


def _targets(node: ast.Assign | ast.AnnAssign | ast.AugAssign) -> list[ast.expr]:
    return list(node.targets) if isinstance(node, ast.Assign) else [node.target]


def _callee(site: Site) -> ast.AST:
    return site.call.func


# ---- the checks ---------------------------------------------------------------------------


def always(site: Site) -> Hit | None:
    severity = site.sink.options.get("severity")
    return Hit(_callee(site), "", Severity.parse(severity) if severity else None)


SERIALIZERS = ("dumps", "encode", "dump")


def not_roundtrip(site: Site) -> Hit | None:
    """`pickle.loads(pickle.dumps(obj))` (a deep copy) reads only what the process wrote."""
    data = argument(site.call, 0, None)
    if isinstance(data, ast.Call):
        qualname = site.analysis.resolver.expr(data.func, site.scope) or ""
        if qualname.rsplit(".", 1)[-1] in SERIALIZERS and qualname.split(".", 1)[0] == site.qualname.split(".", 1)[0]:
            return None
    return always(site)


def kw_truthy(site: Site) -> Hit | None:
    opts = site.sink.options
    kw = keyword(site.call, opts["kw"])
    value = kw.value if kw is not None else argument(site.call, opts.get("pos"), None)
    if value is None or _falsy_literal(value) or _off_by_default(value, site.scope):
        return None
    if not isinstance(value, ast.Constant):
        # A variable (`allow_pickle=self.allow_pickle`): the caller may enable it, the code
        # does not show that it does. One step below the rule's level.
        shown = ast.unparse(value)[:60]
        return Hit(kw if kw is not None else value, f"`{opts['kw']}` is set from `{shown}`", Severity.MEDIUM)
    return Hit(kw if kw is not None else value, f"`{opts['kw']}` is enabled")


def kw_false(site: Site) -> Hit | None:
    for name in (site.sink.options["kw"], site.sink.options.get("also")):
        kw = keyword(site.call, name) if name else None
        if kw is not None and is_const(kw.value, False):
            return Hit(kw, f"`{name}=False`")
    return None


def _pinned_in(site: Site, library: str) -> str:
    source = site.analysis.pin_sources.get(library)
    return f" in {source}" if source else ""


def torch_load(site: Site) -> Hit | None:
    call = site.call
    weights_only = keyword(call, "weights_only")
    pickle_module = keyword(call, "pickle_module")
    torch = site.analysis.versions.get("torch")
    if weights_only is not None and is_const(weights_only.value, False):
        return Hit(weights_only, "`weights_only=False` turns the full unpickler back on")
    if pickle_module is not None:
        return Hit(pickle_module, "a custom `pickle_module` bypasses the weights-only unpickler")
    if weights_only is None:
        if site.analysis.env_switches.get("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD"):
            return Hit(_callee(site), "this file sets `TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD`, so the default is the full unpickler")
        if torch is None:
            return Hit(_callee(site), "`weights_only` is not set and no torch >= 2.6 pin was found", precision=Precision.MEDIUM)
        if torch < TORCH_SAFE_DEFAULT:
            return Hit(_callee(site), f"`weights_only` is not set and torch {show(torch)} is pinned{_pinned_in(site, 'torch')} (full unpickler by default before 2.6)")
        return None
    if is_const(weights_only.value, True) and torch is not None and torch < TORCH_SAFE_DEFAULT:
        return Hit(
            weights_only,
            f"torch {show(torch)} is pinned{_pinned_in(site, 'torch')}, whose weights-only unpickler can be bypassed (CVE-2025-32434)",
            Severity.MEDIUM,
        )
    return None


# Callables that turn an allowlisted unpickler back into a code runner.
DANGEROUS_GLOBAL_MODULES = frozenset({
    "os", "posix", "nt", "subprocess", "sys", "importlib", "pickle", "_pickle", "runpy", "shutil", "socket",
    "pty", "webbrowser", "code", "ctypes", "types", "marshal", "dill", "cloudpickle", "operator", "functools",
})  # fmt: skip
DANGEROUS_BUILTINS = frozenset({
    "eval", "exec", "compile", "getattr", "setattr", "delattr", "__import__", "open", "breakpoint", "input",
    "globals", "locals", "vars",
})  # fmt: skip


def callable_safe_globals(site: Site) -> Hit | None:
    items = argument(site.call, 0, "safe_globals")
    if not isinstance(items, (ast.List, ast.Tuple, ast.Set)):
        return None
    for item in items.elts:
        target = item.elts[0] if isinstance(item, ast.Tuple) and item.elts else item
        qualname = site.analysis.resolver.expr(target, site.scope) or ""
        module, _, name = qualname.rpartition(".")
        root = module.split(".", 1)[0]
        if (root == "builtins" and name in DANGEROUS_BUILTINS) or root in DANGEROUS_GLOBAL_MODULES:
            return Hit(target, f"`{qualname}` becomes callable from any checkpoint")
    return None


def _revision(site: Site) -> tuple[ast.keyword | None, str | None, bool]:
    """The `revision=` keyword, its literal value, and whether it pins a full commit hash.
    A revision computed at run time counts as pinned: nothing here can tell."""
    kw = keyword(site.call, "revision")
    if kw is None:
        return None, None, False
    value = site.analysis.constant(kw.value, site.scope)
    if isinstance(value, str):
        return kw, value, bool(COMMIT_SHA.match(value))
    return kw, None, not is_const(kw.value, None)


# Spellings of Transformers' flag in other libraries and helpers (vLLM, SGLang, TGI, Vertex).
TRUST_SPELLINGS = frozenset({"trust_remote_code", "enable_trust_remote_code", "trust_remote_code_enabled"})


def trusted_flag(call: ast.Call) -> tuple[ast.AST, str] | None:
    """Where a call turns remote code on, and how it is spelled: `trust_remote_code=True`,
    `enable_trust_remote_code=True`, `model_kwargs={"trust_remote_code": True}`."""
    for kw in call.keywords:
        if kw.arg in TRUST_SPELLINGS and is_const(kw.value, True):
            return kw, f"{kw.arg}=True"
        if kw.arg is not None and isinstance(kw.value, ast.Dict):
            for key, value in zip(kw.value.keys, kw.value.values, strict=True):
                name = literal_str(key)
                if name in TRUST_SPELLINGS and key is not None and is_const(value, True):
                    return key, f"{kw.arg}={{{name!r}: True}}"
    return None


def trust_remote_code(site: Site) -> Hit | None:
    call = site.call
    custom = keyword(call, "custom_pipeline")
    flag = trusted_flag(call)
    target: ast.AST | None = None
    detail = ""
    if flag is not None:
        target, detail = flag[0], f"`{flag[1]}` runs Python code shipped with the model"
    elif custom is not None and not is_const(custom.value, None) and site.qualname.startswith("diffusers."):
        target, detail = custom, "`custom_pipeline` downloads and runs pipeline code"
    if target is None:
        return None
    if site.qualname.startswith("datasets."):
        datasets = site.analysis.versions.get("datasets")
        if datasets is not None and datasets >= DATASETS_NO_SCRIPTS:
            return None  # datasets >= 4 ignores loading scripts
    elif _concrete_class(site.qualname):
        return None  # a concrete class builds its own architecture: transformers ignores the flag
    elif _peft_adapter(site.qualname):
        return None  # PEFT loads an adapter's config and weights: it ignores the flag
    _, _, pinned = _revision(site)
    if not pinned and not _local_model(site):
        # The code can change after review. Critical needs more: a model id from outside
        # (a request, the command line), which the grading of the id's origin decides.
        detail += ", from an unpinned revision"
        family = _native_family(site)
        if family:
            detail += f"; transformers implements {family} itself, so the flag only lets the publisher's code in"
        return Hit(target, detail, remote_code=True, needless=bool(family))
    return Hit(target, detail)


def _peft_adapter(qualname: str) -> bool:
    """`peft.PeftModel.from_pretrained` (and its task classes): an adapter loaded onto a model
    already built; PEFT reads no code from it. Its `AutoPeftModel*` classes build the base
    model through transformers, which honours the flag."""
    parts = qualname.split(".")
    return parts[0] == "peft" and len(parts) >= 3 and parts[-1] == "from_pretrained" and parts[-2].startswith("PeftModel")


def _concrete_class(qualname: str) -> bool:
    """`transformers.LlamaForCausalLM.from_pretrained`: a class of the library, not an Auto
    class that looks the architecture up in the downloaded config."""
    parts = qualname.split(".")
    return parts[0] == "transformers" and len(parts) >= 3 and parts[-1] == "from_pretrained" and not parts[-2].startswith("Auto")


# Model families whose architecture transformers has implemented itself since 4.45 (Hub
# repository names, lower-cased, by prefix): for these `trust_remote_code=True` adds nothing
# but the publisher's modelling code. Qwen-7B (the first Qwen) and the like still need theirs.
NATIVE_FAMILIES = {
    "llama": "Llama", "meta-llama": "Llama", "codellama": "Llama", "vicuna": "Llama", "tinyllama": "Llama",
    "mistral": "Mistral", "mixtral": "Mixtral", "falcon": "Falcon", "gemma": "Gemma", "qwen2": "Qwen2",
    "qwen3": "Qwen3", "phi-2": "Phi", "phi-3": "Phi-3", "gpt2": "GPT-2", "opt-": "OPT", "bloom": "BLOOM",
    "pythia": "GPT-NeoX", "gpt-neox": "GPT-NeoX", "starcoder2": "Starcoder2", "t5-": "T5", "flan-t5": "T5",
    "bert-": "BERT", "roberta-": "RoBERTa",
}  # fmt: skip
# ... but not these members, whose architecture ships as the repository's code (Phi-3's and
# Phi-3.5's vision models: transformers has only the text Phi-3).
NOT_NATIVE = ("phi-3-vision", "phi-3.5-vision")


def _native_family(site: Site) -> str | None:
    """The family of a fixed Hub id the code names, when transformers implements it."""
    if not site.qualname.startswith(("transformers.", "vllm.", "sentence_transformers.")):
        return None
    target = _model_id(site)
    if target is None:
        return None
    value = site.analysis.origins.of(target, site.scope).path
    if not value or value.count("/") != 1:
        return None
    name = value.split("/")[1].lower()
    if name.startswith(NOT_NATIVE):
        return None
    return next((family for prefix, family in NATIVE_FAMILIES.items() if name.startswith(prefix)), None)


def _model_id(site: Site) -> ast.expr | None:
    """The argument naming the model: the first, but the second of `PeftModel.from_pretrained(base, id)`
    and of `pipeline(task, model)`."""
    position = 1 if "Peft" in site.qualname or site.qualname == "transformers.pipeline" else 0
    target = argument(site.call, position, None)
    for name in HF_ID_ARGS:
        target = target or argument(site.call, None, name)
    return target


def _local_model(site: Site) -> bool:
    """The model argument is a local folder (code already on disk, not fetched from the Hub)."""
    target = _model_id(site)
    if target is None:
        return False
    constant = site.analysis.constant(target, site.scope)
    if isinstance(constant, str):
        return _looks_local(constant, site)
    return _local_expr(target, site) or site.analysis.written_at(target, site.scope) is not None


def _looks_local(value: str, site: Site) -> bool:
    if value.startswith((".", "/", "~")) or "\\" in value or value.count("/") > 1 or ":" in value:
        return True
    return site.analysis.is_scanned_dir(value)


# Names that say a variable holds a local folder or file: `model_dir`, `ckpt_path`,
# `output_folder`, `local_model`. Not `model_name_or_path`, which is either.
LOCAL_NAME = re.compile(r"(?:^|_)(?:dir|directory|folder)$|(?<!name_or)_path$|^path$|^local_|_local$", re.I)
# Calls whose result is a local path.
LOCAL_PATH_CALLS = ("os.path.", "pathlib.", "tempfile.", "os.getcwd", "os.fspath")


def _local_expr(node: ast.expr, site: Site, depth: int = 0) -> bool:
    """Whether a non-literal model argument names a local folder: a path built by `os.path`
    or `pathlib`, a TorchServe `properties.get("model_dir")`, a variable named like a folder,
    or one assigned a local path."""
    if depth > 4:
        return False
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str) and _looks_local(node.value, site)
    if isinstance(node, ast.Name):
        if LOCAL_NAME.search(node.id):
            return True
        value = site.analysis.single_value(node.id, site.scope)
        return value is not None and _local_expr(value, site, depth + 1)
    if isinstance(node, ast.Attribute):
        return bool(LOCAL_NAME.search(node.attr))
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
        return True  # `Path(root) / "model"`
    if isinstance(node, ast.JoinedStr):
        first = node.values[0] if node.values else None
        return isinstance(first, ast.FormattedValue) and _local_expr(first.value, site, depth + 1) and any(
            isinstance(v, ast.Constant) and "/" in str(v.value) for v in node.values
        )
    if isinstance(node, ast.Call):
        qualname = site.analysis.resolver.expr(node.func, site.scope) or ""
        if qualname.startswith(LOCAL_PATH_CALLS):
            return True
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr == "get" and node.args:
            key = literal_str(node.args[0])
            return key is not None and bool(LOCAL_NAME.search(key))
    return False


def _instance_setting(node: ast.AST) -> TypeGuard[ast.Attribute]:
    """`self.model_id`: a serving handler's configured model, pinned (or not) where it is
    configured, not at this call."""
    return isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")


# Classes whose `from_pretrained` reads only data (vocabularies, JSON configs, preprocessing
# settings): no weights and no code unless `trust_remote_code=True` imports the repository's
# Python. A moving revision of them changes no behaviour worth pinning for security.
CODE_FREE_LOADERS = re.compile(r"(?:Tokenizer(?:Fast)?|Processor|FeatureExtractor|Config)$")


def unpinned_revision(site: Site) -> Hit | None:
    call = site.call
    if is_const(getattr(keyword(call, "local_files_only"), "value", None), True):
        return None
    parts = site.qualname.split(".")
    if len(parts) >= 2 and parts[-1] == "from_pretrained" and CODE_FREE_LOADERS.search(parts[-2]):
        trust = keyword(call, "trust_remote_code")
        if trust is None or is_const(trust.value, False):
            return None  # a tokenizer, processor or config without remote code
    kw, value, pinned = _revision(site)
    if kw is not None:
        if pinned or value is None:
            return None
        return Hit(kw, f"`revision={value!r}` names a branch or tag that can move")
    target = _model_id(site)
    if target is None:
        return None
    constant = site.analysis.constant(target, site.scope)
    literal = constant if isinstance(constant, str) else None
    if site.analysis.written_at(target, site.scope) is not None:
        return None  # a folder this code saved itself (`save_pretrained(out)`)
    if literal is not None:
        if _looks_local(literal, site):
            return None
        return Hit(_callee(site), f"`{literal}` is fetched without `revision=` pinned to a commit")
    if _local_expr(target, site) or _instance_setting(target):
        return None
    origin = site.analysis.origins.of(target, site.scope)
    if origin.rank == 0:
        return None
    if origin.param and not origin.proof:
        return None  # a generic utility's parameter, or a field of one (`args.repo_id`): no hub id here to pin
    return Hit(_callee(site), "the model is fetched without `revision=` pinned to a commit", precision=Precision.MEDIUM)


def torch_hub(site: Site) -> Hit | None:
    call = site.call
    source = keyword(call, "source")
    if source is not None and literal_str(source.value) == "local":
        return None
    repo = argument(call, 0, "repo_or_dir")
    literal = literal_str(repo)
    trust = keyword(call, "trust_repo")
    trusted = trust is not None and is_const(trust.value, True)
    where: ast.AST = trust if trust is not None and trusted else _callee(site)
    if literal is not None:
        ref = literal.partition(":")[2]
        if COMMIT_SHA.match(ref):
            return None
        detail = f"`{literal}` runs the repository's hubconf.py from a ref that can move"
        return Hit(where, detail + (" and `trust_repo=True` skips the prompt" if trusted else ""))
    if repo is None:
        return None
    return Hit(where, "runs hubconf.py from a repository chosen at run time", precision=Precision.MEDIUM)


def state_dict_from_url(site: Site) -> Hit | None:
    kw = keyword(site.call, "weights_only")
    if kw is not None and is_const(kw.value, True):
        return None
    if kw is not None and is_const(kw.value, False):
        return Hit(kw, "`weights_only=False` unpickles the downloaded file")
    if kw is not None:
        return None
    return Hit(_callee(site), "without `weights_only=True` the downloaded file is fully unpickled")


def forces_pickle_format(site: Site) -> Hit | None:
    # `from_tf=True` is not reported: TensorFlow weights are read as HDF5 arrays or a TF
    # checkpoint, neither of which runs code.
    call = site.call
    kw = keyword(call, "use_safetensors")
    if kw is None or not is_const(kw.value, False):
        return None
    owner = site.qualname.rsplit(".", 2)[-2] if site.qualname.count(".") >= 2 else ""
    if owner.startswith(("TF", "Flax")):
        # TensorFlow and Flax classes then read `tf_model.h5` / `flax_model.msgpack`; only
        # `from_pt=True` sends them to the PyTorch pickle.
        from_pt = keyword(call, "from_pt")
        if from_pt is None or not is_const(from_pt.value, True):
            return None
    return Hit(kw, "`use_safetensors=False` loads pickle-based weights")


def yaml_loader(site: Site) -> Hit | None:
    call = site.call
    kw = keyword(call, "Loader")
    loader = kw.value if kw is not None else argument(call, 1, None)
    if loader is None:
        return Hit(_callee(site), "no `Loader` is given (the full loader on old PyYAML and ruamel)")
    qualname = site.analysis.resolver.expr(loader, site.scope) or ""
    last = qualname.rsplit(".", 1)[-1]
    if not qualname.startswith(("yaml.", "ruamel.")) or last in SAFE_YAML_LOADERS or last not in UNSAFE_YAML_LOADERS:
        return None  # a safe or project-defined loader
    node = kw if kw is not None else loader
    if "Full" in last:
        return _old_full_loader(site, node, f"`{last}`")
    return Hit(node, f"`{last}` constructs arbitrary Python objects")


# PyYAML 5.4 took the object-building tags out of the full loader (CVE-2020-14343).
PYYAML_SAFE_FULL_LOADER = (5, 4)


def _old_full_loader(site: Site, node: ast.AST, what: str) -> Hit | None:
    """The full loader builds arbitrary objects only before PyYAML 5.4: reported where the
    scan pins an older PyYAML."""
    pyyaml = site.analysis.versions.get("pyyaml")
    if pyyaml is None or pyyaml >= PYYAML_SAFE_FULL_LOADER:
        return None
    return Hit(node, f"{what} constructs arbitrary Python objects with PyYAML {show(pyyaml)} pinned{_pinned_in(site, 'pyyaml')} (before 5.4)", Severity.MEDIUM)


def old_full_load(site: Site) -> Hit | None:
    """`yaml.full_load`: the full loader, unsafe before PyYAML 5.4."""
    return _old_full_loader(site, _callee(site), f"`{site.qualname.rsplit('.', 1)[-1]}`")


def ruamel_unsafe(site: Site) -> Hit | None:
    kw = keyword(site.call, "typ")
    if kw is not None and literal_str(kw.value) == "unsafe":
        return Hit(kw, "`typ='unsafe'`")
    return None


def keras_load_model(site: Site) -> Hit | None:
    call = site.call
    kw = keyword(call, "safe_mode")
    if kw is not None and is_const(kw.value, False):
        return Hit(kw, "`safe_mode=False` lets Lambda layers run their bytecode")
    path = argument(call, 0, "filepath")
    literal = literal_str(path)
    if path is not None and literal is not None and literal.lower().endswith((".h5", ".hdf5")):
        return Hit(path, "a legacy HDF5 model ignores `safe_mode`")
    return None


def _fixed(node: ast.expr, site: Site) -> bool:
    """A literal, a name bound once to a literal (`CMD = "nvidia-smi"`), or text built only
    from literals and files next to the code (`exec(open(os.path.join(here, "__version__.py")).read())`)."""
    if is_literal(node) or isinstance(site.analysis.constant(node, site.scope), str):
        return True
    return site.analysis.origins.of(node, site.scope).rank == 0


def non_literal(site: Site) -> Hit | None:
    data = argument(site.call, site.sink.data, site.sink.data_kw)
    if data is None or _fixed(data, site):
        return None
    return Hit(_callee(site), "")


# OpenAI's human-eval harness (`execution.py`, copied into opencompass, bigcode's harness,
# evalplus): the code under test runs inside `with swallow_io():` (and a time limit), after
# `reliability_guard()` disabled what could harm the machine. A time limit alone is no
# harness: a parser's eval of a slow expression gets one too.
HARNESS_WITH = "swallow_io"
HARNESS_CALL = "reliability_guard"
HARNESS_PRACTICE = "a code benchmark's harness running the code under test (`with swallow_io():`, `reliability_guard()`), what it exists to do"


def evaluated(site: Site) -> Hit | None:
    """`eval`/`exec` of a value the code does not spell out; inside a code benchmark's
    execution harness running model-written code is the harness's purpose: held back as
    practice."""
    hit = non_literal(site)
    if hit is None:
        return None
    tree = site.scope.node if site.scope.node is not None else site.analysis.tree
    line = site.call.lineno
    for n in ast.walk(tree):
        if isinstance(n, ast.Call) and last_name(n.func) == HARNESS_CALL:
            return replace(hit, practice=HARNESS_PRACTICE)
        if (
            isinstance(n, (ast.With, ast.AsyncWith)) and n.lineno < line <= (n.end_lineno or n.lineno)
            and any(isinstance(i.context_expr, ast.Call) and last_name(i.context_expr.func) == HARNESS_WITH for i in n.items)
        ):  # fmt: skip
            return replace(hit, practice=HARNESS_PRACTICE)
    return hit


def last_name(func: ast.expr) -> str:
    """The last name of what a call calls (`guard()`, `utils.guard()`: `guard`)."""
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""


def compiled_to_run(site: Site) -> Hit | None:
    """`compile()` whose code object is kept: compiling alone runs nothing, and a call whose
    result is thrown away (`compile(generated, path, "exec")` in a `try`) checks the syntax.
    One handed straight to `eval`/`exec` (`eval(compile(node, ...))`, NeMo-Run's CLI parser)
    is that call's finding: one line, one weakness."""
    tree = site.scope.node if site.scope.node is not None else site.analysis.tree
    for n in ast.walk(tree):
        if isinstance(n, ast.Expr) and n.value is site.call:
            return None
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in ("eval", "exec") and site.call in n.args:
            return None
    return non_literal(site)


def untrusted_only(site: Site) -> Hit | None:
    data = argument(site.call, site.sink.data, site.sink.data_kw)
    if data is None:
        return None
    origin = site.analysis.origins.of(data, site.scope)
    if origin.rank < 2 or origin.label.startswith("the parameter"):
        return None
    return Hit(_callee(site), "")


def shell_true(site: Site) -> Hit | None:
    call = site.call
    kw = keyword(call, "shell")
    if kw is None or _falsy_literal(kw.value):
        return None
    data = argument(call, 0, "args")
    if data is None or _fixed(data, site):
        return None
    return Hit(_callee(site), "with `shell=True`")


def no_extract_filter(site: Site) -> Hit | None:
    call = site.call
    kw = keyword(call, "filter")
    if kw is None:
        if site.sink.data_kw == "filename" and _zip_archive(site):
            return None  # shutil's zip unpacker drops absolute and `..` names; `filter=` is tar's
        if _members_vetted(site):
            return None
        return Hit(_callee(site), "without `filter=`")
    if literal_str(kw.value) == "fully_trusted":
        return Hit(kw, "with `filter='fully_trusted'`")
    return None


# A function whose name says it checks an archive's members (`_validate_tar`, `safe_members`,
# `check_archive`): the CVE-2007-4559 fixes projects wrote before tarfile had `filter=`.
_VETTING = re.compile(r"valid|safe|check|verify|sanitiz", re.I)


def _members_vetted(site: Site) -> bool:
    """Whether the code chose which members `extractall` writes, as its own traversal check:
    `members=` given by a call other than `getmembers()` (`members=safemembers(tar, out)`), or
    the archive object handed to a vetting function earlier in the same function
    (`_validate_tar(tf, dest)` before `tf.extractall(dest)`)."""
    call = site.call
    members = keyword(call, "members")
    if members is not None and isinstance(members.value, (ast.Call, ast.GeneratorExp, ast.ListComp)):
        inner = members.value
        getter = isinstance(inner, ast.Call) and isinstance(inner.func, ast.Attribute) and inner.func.attr == "getmembers"
        if not getter:
            return True
    if not (isinstance(call.func, ast.Attribute) and isinstance(call.func.value, ast.Name)):
        return False
    archive = call.func.value.id
    tree = site.scope.node if site.scope.node is not None else site.analysis.tree
    for n in ast.walk(tree):
        if not (isinstance(n, ast.Call) and n.lineno < call.lineno):
            continue
        if _VETTING.search(last_name(n.func)) and any(isinstance(a, ast.Name) and a.id == archive for a in n.args):
            return True
    return False


def _zip_archive(site: Site) -> bool:
    """`shutil.unpack_archive` of a zip: `format="zip"`, or a file name ending in `.zip` as a
    literal, the last part of `os.path.join(...)` or an f-string, through one assignment."""
    call = site.call
    fmt = argument(call, 2, "format")
    if fmt is not None:
        return literal_str(fmt) == "zip"
    node = argument(call, 0, "filename")
    for _ in range(3):
        if isinstance(node, ast.Name):
            node = site.analysis.single_value(node.id, site.scope)
        elif isinstance(node, ast.Call) and node.args:
            node = node.args[-1]
        elif isinstance(node, ast.JoinedStr) and node.values:
            node = node.values[-1]
        elif isinstance(node, ast.BinOp):
            node = node.right
        else:
            break
    name = literal_str(node)
    return name is not None and name.lower().endswith(".zip")


def gradio_launch(site: Site) -> Hit | None:
    call = site.call
    share = keyword(call, "share")
    if share is not None and is_const(share.value, True):
        return Hit(share, "`share=True` publishes the app on a public gradio.live URL")
    host = keyword(call, "server_name")
    auth = keyword(call, "auth")
    if host is not None and literal_str(host.value) in BIND_ALL and (auth is None or is_const(auth.value, None)):
        return Hit(host, "the app listens on all interfaces without `auth=`")
    return None


def ray_dashboard(site: Site) -> Hit | None:
    kw = keyword(site.call, "dashboard_host")
    if kw is not None and literal_str(kw.value) in BIND_ALL:
        return Hit(kw, "the Ray dashboard (job submission API, no authentication) listens on all interfaces")
    return None


def tensorboard_bind_all(site: Site) -> Hit | None:
    call = site.call
    kw = keyword(call, "bind_all")
    if kw is not None and is_const(kw.value, True):
        return Hit(kw, "TensorBoard listens on all interfaces without authentication")
    for node in ast.walk(call):
        if literal_str(node) in ("--bind_all", "0.0.0.0"):
            return Hit(node, "TensorBoard listens on all interfaces without authentication")
    return None


_JUPYTER_NO_TOKEN = re.compile(r"(?:token|password)\s*=\s*(?:''|\"\"|\s|$)", re.I)


def service_command(site: Site) -> Hit | None:
    data = argument(site.call, 0, "args")
    if data is None or not is_literal(data):
        return None
    parts = [n.value for n in ast.walk(data) if isinstance(n, ast.Constant) and isinstance(n.value, str)]
    text = " ".join(parts)
    everywhere = "0.0.0.0" in text or "--bind_all" in text or "--host ::" in text
    if not everywhere:
        return None
    lowered = text.lower()
    if "tensorboard" in lowered:
        return Hit(_callee(site), "TensorBoard is started on all interfaces without authentication")
    if re.search(r"mlflow\s+(?:server|ui)", lowered) and "basic-auth" not in lowered:
        return Hit(_callee(site), "an MLflow server is started on all interfaces without authentication")
    if ("jupyter" in lowered or "notebook" in lowered or "lab" in lowered) and _JUPYTER_NO_TOKEN.search(text + " "):
        return Hit(_callee(site), "Jupyter is started on all interfaces with an empty token or password")
    return None


def langchain_dangerous_flag(site: Site) -> Hit | None:
    for name in ("allow_dangerous_deserialization", "allow_dangerous_code"):
        kw = keyword(site.call, name)
        if kw is not None and is_const(kw.value, True):
            return Hit(kw, f"`{name}=True`")
    return None


REMOTE_MODEL_URI = re.compile(r"^(?:runs|models):/|^(?:https?|s3a?|gs|wasbs?|abfss?|dbfs|hdfs)://", re.I)


def remote_uri(site: Site) -> Hit | None:
    data = argument(site.call, 0, "model_uri")
    if data is None:
        return None
    literal = literal_str(data)
    if literal is not None:
        return Hit(_callee(site), "") if REMOTE_MODEL_URI.match(literal) else None
    origin = site.analysis.origins.of(data, site.scope)
    return Hit(_callee(site), "", precision=Precision.MEDIUM) if origin.rank >= 2 else None


def no_authkey(site: Site) -> Hit | None:
    kw = keyword(site.call, "authkey")
    positional = argument(site.call, 3 if site.qualname.endswith("Listener") else 2, None)
    if (kw is None and positional is None) or (kw is not None and is_const(kw.value, None)):
        return Hit(_callee(site), "without `authkey`")
    return None


CHECKS: dict[str, Callable[[Site], Hit | None]] = {
    "always": always,
    "not_roundtrip": not_roundtrip,
    "kw_truthy": kw_truthy,
    "kw_false": kw_false,
    "torch_load": torch_load,
    "trust_remote_code": trust_remote_code,
    "compiled_to_run": compiled_to_run,
    "unpinned_revision": unpinned_revision,
    "forces_pickle_format": forces_pickle_format,
    "torch_hub": torch_hub,
    "callable_safe_globals": callable_safe_globals,
    "state_dict_from_url": state_dict_from_url,
    "yaml_loader": yaml_loader,
    "old_full_load": old_full_load,
    "ruamel_unsafe": ruamel_unsafe,
    "keras_load_model": keras_load_model,
    "non_literal": non_literal,
    "evaluated": evaluated,
    "untrusted_only": untrusted_only,
    "shell_true": shell_true,
    "no_extract_filter": no_extract_filter,
    "gradio_launch": gradio_launch,
    "ray_dashboard": ray_dashboard,
    "tensorboard_bind_all": tensorboard_bind_all,
    "service_command": service_command,
    "langchain_dangerous_flag": langchain_dangerous_flag,
    "remote_uri": remote_uri,
    "no_authkey": no_authkey,
}
