"""One Python module (or notebook program) from tree to findings, without any I/O.

`Analysis.run` resolves every call and every callable passed as a value, runs the sink table's
conditions, grades severity by where the data comes from, follows project wrappers
(`def load_ckpt(p): return torch.load(p)`) one level deep, and reports environment
switches and TLS settings made by assignment. The engine turns the resulting `Report`s
into findings; the prepare pass uses the same code to summarise wrappers across files.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace

from atlascan.engines.python import conditions as cond
from atlascan.engines.python.origins import UNKNOWN, Origin, Origins, named_inside
from atlascan.engines.python.scopes import LOCAL_DEF, Program, Resolver, Scope, collect
from atlascan.engines.python.sinks import (
    ENV_SAFE_VALUES,
    SHELL_RULE,
    UNSAFE_ENV_SWITCHES,
    Sink,
    SinkIndex,
    canonical,
)
from atlascan.engines.python.versions import Version
from atlascan.model import Precision, Severity

ENV_SETTERS = frozenset({"os.environ.setdefault", "os.putenv", "os.environ.update", "os.environ.__setitem__"})
# Conditions that hold only for data chosen at run time: a wrapper called with a literal is fine.
DATA_DEPENDENT_CHECKS = frozenset({"non_literal", "untrusted_only", "remote_uri", "shell_true"})
TRUST_REMOTE_CODE_FALLBACK = Sink("ATS-PY-005", ("*.from_pretrained",), check="trust_remote_code")
# Calls (by their last name) that write a file the same code may load again: a model it
# trained, a checkpoint, a cache. What the code wrote itself is not evidence of an attack.
WRITER_NAMES = frozenset({
    "dump", "save", "save_model", "save_pretrained", "to_pickle", "save_weights", "save_state_dict",
    "export_saved_model", "save_checkpoint", "export", "savez", "save_npz",
})  # fmt: skip
# Moves that finish an atomic write (`os.replace(path + ".tmp", path)`): the destination is written.
MOVERS = frozenset({"os.replace", "os.rename", "shutil.move"})
MOVER_NAMES = frozenset(m.rsplit(".", 1)[1] for m in MOVERS)
# The calls by which this code puts a model on the MLflow tracking server: a `runs:/` URI
# then names the run it logged, a `models:/` URI the model it registered. A run this code
# opens itself (`with mlflow.start_run(): train_and_log(data)`) holds what its own helper logged.
MLFLOW_WRITERS = {"runs": frozenset({"log_model", "autolog"}), "models": frozenset({"register_model"})}
# A training job's output folder, as a flag or an argument of the call that starts it.
OUTPUT_FLAG = re.compile(r"--(?:model|job|output|export|checkpoint|save)[-_]?(?:dir|path|uri)=?$")
OUTPUT_KEYWORDS = frozenset({"base_output_dir", "output_uri_prefix", "model_dir", "output_dir", "job_dir"})
PATH_CALLS = frozenset({"open", "Path", "join", "str", "abspath", "expanduser", "fspath", "PurePath"})


@dataclass(frozen=True)
class Wrapper:
    """A project function that hands one of its parameters to an unsafe sink."""

    name: str
    param: str
    position: int | None  # positional index of the parameter, None for keyword-only
    rule: str
    sink: str
    detail: str
    path: str
    line: int
    check: str = "always"  # the sink's condition; some are met only by non-literal data


@dataclass
class Report:
    rule: str
    node: ast.AST
    callee: str
    detail: str
    origin: Origin | None
    severity: Severity | None = None
    precision: Precision | None = None
    scope: Scope | None = None
    call: ast.Call | None = None  # the sink call, for suggested fixes
    check: str = ""
    written: int | None = None  # line where this code itself writes the file it loads
    max_severity: Severity | None = None  # the sink's ceiling (a loader of a format without pickle)
    again: tuple[tuple[ast.AST, str], ...] = ()  # (node, callee) of the same load repeated in this scope
    fold: str | None = None  # the sink row's `options.fold`: one finding per row for that scope
    row: str = ""  # the sink row's first name, which names the row for the fold
    practice: str | None = None  # the sink row's `options.practice` or the check's: held back as practice
    remote_code: bool = False  # the check's `Hit.remote_code` ...
    needless: bool = False  # ... and `Hit.needless`


@dataclass
class Site:
    """One call to a sink, as the conditions see it."""

    call: ast.Call
    scope: Scope
    qualname: str
    sink: Sink
    analysis: Analysis


@dataclass
class Analysis:
    tree: ast.Module
    versions: Mapping[str, Version]
    sinks: SinkIndex  # the enabled rules' sink rows
    is_scanned_dir: Callable[[str], bool] = lambda _path: False
    wrappers: Mapping[str, Wrapper] = field(default_factory=dict)  # "module.func" -> wrapper
    enabled: Callable[[str], bool] = lambda _rule: True
    path: str = ""  # this module's scan path: its own wrappers come from `summarize`, not `wrappers`
    env_switches: dict[str, ast.AST] = field(default_factory=dict)
    pin_sources: Mapping[str, str] = field(default_factory=dict)  # library -> where it is pinned ("`requirements.txt`")
    for_summary: bool = False  # run for cross-file wrapper summaries (`Origins.fixed_calls` off)
    own_env: Mapping[str, str] = field(default_factory=dict)  # `Facts.own_env`

    def __post_init__(self) -> None:
        self.program: Program = collect(self.tree)
        self.resolver = Resolver(self.program, self.sinks.knows)
        self.origins = Origins(self.resolver, fixed_calls=not self.for_summary, own_env=self.own_env)
        self._written: dict[str, int] | None = None

    def constant(self, node: ast.expr | None, scope: Scope) -> object | None:
        """The value of a literal, or of a name assigned exactly one literal (`SHA = "..."`)."""
        if isinstance(node, ast.Constant):
            return node.value
        if not isinstance(node, ast.Name):
            return None
        current: Scope | None = scope
        while current is not None:
            if current.has(node.id):
                values = current.assigns.get(node.id, [])
                if len(values) == 1 and isinstance(values[0][0], ast.Constant) and not current.imports.get(node.id):
                    return values[0][0].value
                return None
            current = current.parent
        return None

    # ---- driver -----------------------------------------------------------------------------
    def run(self) -> list[Report]:
        reports: list[Report] = list(self._environment())
        seen: set[tuple[str, int]] = set()
        local_calls: list[tuple[ast.Call, Scope, str]] = []
        for call, scope in self.program.calls:
            qualname = self.resolver.expr(call.func, scope)
            if qualname is None:
                if isinstance(call.func, ast.Attribute) and call.func.attr == "from_pretrained":
                    reports.extend(self._sink(call, scope, _source(call.func), TRUST_REMOTE_CODE_FALLBACK, seen))
                continue
            if qualname.startswith(LOCAL_DEF):
                local_calls.append((call, scope, qualname[len(LOCAL_DEF):]))
                continue
            sinks = self.sinks.lookup(qualname)
            for sink in sinks:
                reports.extend(self._sink(call, scope, qualname, sink, seen))
            if not sinks and self.wrappers:
                wrapper = self.wrappers.get(_module_key(qualname))
                if wrapper is not None and wrapper.path != self.path:
                    reports.extend(self._wrapped(call, scope, wrapper))
        if self.enabled(TRUST_REMOTE_CODE_FALLBACK.rule):
            reports.extend(self._trust_spellings(seen))
        reports.extend(self._references(seen))
        reports.extend(self._stores())
        local = {w.name: w for w in self.summarize(reports)}
        for call, scope, name in local_calls:
            if name in local:
                reports.extend(self._wrapped(call, scope, local[name]))
        reports = [self._model_server_load(r) for r in reports]
        unpacked = {id(r.scope): r for r in reports if r.rule == "ATS-PY-013" and r.origin is not None and r.origin.platform}
        if unpacked:
            reports = [_from_platform_archive(r, unpacked) for r in reports]
        reports = _one_per_model(reports)
        if any(r.rule == "ATS-PY-012" for r in reports):
            switched = self._verification_switches()
            reports = [r for r in reports if r.rule != "ATS-PY-012" or not _inside(r.node, switched)]
        return reports

    def _model_server_load(self, report: Report) -> Report:
        """A load of unshown origin inside `load()` of a model server's model class
        (`MODEL_SERVER_BASES`) reads the model the platform downloaded for the deployment."""
        origin = report.origin
        if origin is not None and (origin.rank >= 2 or origin.platform or origin.path):
            return report
        scope = report.scope
        while scope is not None and scope.kind != "function":
            scope = scope.parent
        if scope is None or getattr(scope.node, "name", None) != "load" or scope.parent is None:
            return report
        owner = scope.parent
        if owner.kind != "class" or not isinstance(owner.node, ast.ClassDef) or owner.parent is None:
            return report
        bases = {self.resolver.expr(base, owner.parent) for base in owner.node.bases}
        if not bases & MODEL_SERVER_BASES:
            return report
        return replace(report, origin=Origin(0, f"the model the serving platform fetched for `{owner.node.name}.load()`", platform=True))

    def _verification_switches(self) -> list[tuple[int, int]]:
        """Line ranges of `if` bodies whose test is about certificate checks
        (`if config["TLS_SKIP_VERIFY"] == "true":`, `if args.insecure:`): turning the check
        off there is the user's opt-in for a self-signed server, not the code's default."""
        ranges = []
        for node in ast.walk(self.program.module.node or ast.Module(body=[], type_ignores=[])):
            if isinstance(node, ast.If) and node.body and VERIFICATION_SWITCH.search(ast.unparse(node.test)):
                ranges.append((node.body[0].lineno, node.body[-1].end_lineno or node.body[-1].lineno))
        return ranges

    def summarize(self, reports: list[Report], path: str = "") -> Iterator[Wrapper]:
        """Functions of this module whose parameter reaches a sink unchanged in kind."""
        by_scope = {id(scope): node for node, scope in self.program.functions}
        done: set[str] = set()
        shaped: dict[int, bool] = {}
        for report in reports:
            origin = report.origin
            if origin is None or origin.param is None or origin.param_scope not in by_scope:
                continue
            func = by_scope[origin.param_scope]
            if func.name in done or func.name.startswith("__"):
                continue
            if id(func) not in shaped:
                shaped[id(func)] = returns_call(func)
            if not shaped[id(func)] and report.rule != SHELL_RULE:
                continue
            done.add(func.name)
            positional = [a.arg for a in (*func.args.posonlyargs, *func.args.args)]
            position = positional.index(origin.param) if origin.param in positional else None
            yield Wrapper(func.name, origin.param, position, report.rule, report.callee, report.detail, path, func.lineno, report.check or "always")

    # ---- sinks ----------------------------------------------------------------------------
    def _sink(self, call: ast.Call, scope: Scope, qualname: str, sink: Sink, seen: set[tuple[str, int]]) -> Iterator[Report]:
        if not self.enabled(sink.rule) or (sink.rule, id(call)) in seen:
            return
        hit = cond.CHECKS[sink.check](Site(call, scope, qualname, sink, self))
        if hit is None:
            return
        seen.add((sink.rule, id(call)))
        data = cond.argument(call, sink.data, sink.data_kw) if (sink.data is not None or sink.data_kw) else None
        if data is None and sink.receiver and isinstance(call.func, ast.Attribute):
            data = call.func.value  # `tar.extractall()`: the data is the object's own source
        origin = self.origins.of(data, scope) if data is not None else None
        written = self.written_at(data, scope) if data is not None else None
        ceiling = sink.options.get("max_severity")
        detail = "; ".join(d for d in (hit.detail, sink.options.get("note", "")) if d)
        yield Report(
            sink.rule, hit.node, _display(qualname), detail, origin, hit.severity, hit.precision, scope, call, sink.check,
            written, Severity.parse(ceiling) if ceiling else None, fold=sink.options.get("fold"), row=sink.names[0],
            practice=sink.options.get("practice") or hit.practice, remote_code=hit.remote_code, needless=hit.needless,
        )  # fmt: skip

    def single_value(self, ident: str, scope: Scope) -> ast.expr | None:
        """The one value a name is assigned in its scope, if exactly one."""
        return _single_value(ident, scope)

    # ---- files the code writes itself ----------------------------------------------------
    def written_at(self, data: ast.expr, scope: Scope) -> int | None:
        """The line of a save/dump call of this module whose path is spelled like `data`, or
        of the MLflow call that logged (or registered) the model a `runs:/` (`models:/`) URI
        names: a notebook loading the model it just trained."""
        scheme = _mlflow_scheme(data if not isinstance(data, ast.Name) else self.single_value(data.id, scope) or data)
        if scheme is not None:
            return self._mlflow_written(scheme)
        if self._written is None:
            self._written = {}
            for call, where in self.program.calls:
                name = cond.last_name(call.func)
                if name in MOVER_NAMES and len(call.args) == 2 and self.resolver.expr(call.func, where) in MOVERS:
                    # an atomic write: the file is written under a temporary name, then moved
                    key = self._path_key(call.args[1], where)
                    if key is not None:
                        self._written.setdefault(key, call.lineno)
                    continue
                if name not in WRITER_NAMES:
                    continue
                for arg in (*call.args, *(k.value for k in call.keywords)):
                    key = self._path_key(arg, where)
                    if key is not None:
                        self._written.setdefault(key, call.lineno)
            for target, where in self._output_args():
                key = self._path_key(target, where)
                if key is not None:
                    self._written.setdefault(key, getattr(target, "lineno", 1))
        key = self._path_key(data, scope)
        return self._written.get(key) if key is not None else None

    def _mlflow_written(self, scheme: str) -> int | None:
        for call, _ in self.program.calls:
            name = cond.last_name(call.func)
            registers = scheme == "models" and any(k.arg == "registered_model_name" for k in call.keywords)
            if name in MLFLOW_WRITERS[scheme] or registers:
                return call.lineno
        return self._own_run() if scheme == "runs" else None

    def _own_run(self) -> int | None:
        """The line of a `with mlflow.start_run():` whose body calls code other than MLflow's
        (the project's training helper), or None."""
        for node in ast.walk(self.tree):
            if not isinstance(node, (ast.With, ast.AsyncWith)):
                continue
            opens = any(
                isinstance(item.context_expr, ast.Call) and cond.last_name(item.context_expr.func) == "start_run" for item in node.items
            )
            if opens and any(_trains(call, self.resolver.expr(call.func, self.program.module)) for call in _calls_in(node.body)):
                return node.lineno
        return None

    def _output_args(self) -> Iterator[tuple[ast.expr, Scope]]:
        """Where a notebook tells the job it starts to write its model: `"--model-dir=" + MODEL_DIR`,
        `f"--job-dir={JOB_DIR}"`, `base_output_dir=MODEL_DIR`, `{"output_uri_prefix": MODEL_DIR}`.
        The model it loads from there afterwards is the one it just trained. Names are looked
        up from the module: notebooks and job launchers build these at the top level."""
        module = self.program.module
        for item in ast.walk(self.tree):
            if isinstance(item, ast.keyword) and item.arg in OUTPUT_KEYWORDS:
                yield item.value, module
            elif isinstance(item, ast.BinOp) and isinstance(item.op, ast.Add) and OUTPUT_FLAG.search(cond.literal_str(item.left) or ""):
                yield item.right, module
            elif isinstance(item, ast.JoinedStr):
                for before, value in zip(item.values, item.values[1:], strict=False):
                    if isinstance(value, ast.FormattedValue) and OUTPUT_FLAG.search(cond.literal_str(before) or ""):
                        yield value.value, module
            elif isinstance(item, ast.Dict):
                for key, value in zip(item.keys, item.values, strict=True):
                    if cond.literal_str(key) in OUTPUT_KEYWORDS:
                        yield value, module

    def _path_key(self, node: ast.expr, scope: Scope, depth: int = 0) -> str | None:
        """How a path is spelled, with names bound to `open(p, "wb")` or a literal seen through."""
        if depth > 4:
            return None
        if isinstance(node, ast.Constant):
            return f"s:{node.value}" if isinstance(node.value, str) and node.value else None
        if isinstance(node, ast.Name):
            value = self.constant(node, scope)
            if isinstance(value, str):
                return f"s:{value}"
            bound = _single_value(node.id, scope, skip_none=True)
            if isinstance(bound, ast.Name) and bound.id != node.id:  # `to_deploy = MODEL_DIR`
                return self._path_key(bound, scope, depth + 1)
            if isinstance(bound, ast.Call):
                inner = self._path_key(bound, scope, depth + 1)
                if inner is not None:
                    return inner
            return f"n:{node.id}"
        if isinstance(node, ast.Call):
            name = cond.last_name(node.func)
            if name in PATH_CALLS and node.args:
                parts = [self._path_key(a, scope, depth + 1) for a in (node.args if name in ("join", "Path", "PurePath") else node.args[:1])]
                return None if None in parts else "|".join(p for p in parts if p)
            return None
        if isinstance(node, (ast.Attribute, ast.JoinedStr, ast.BinOp, ast.Subscript)):
            return "e:" + ast.unparse(node)
        return None

    def _trust_spellings(self, seen: set[tuple[str, int]]) -> Iterator[Report]:
        """The flag under other names and on calls the table does not list: a deploy helper's
        `enable_trust_remote_code=True` (it starts vLLM with `--trust-remote-code`),
        `model_kwargs={"trust_remote_code": True}`, `trust_remote_code=True` on any call."""
        rule = TRUST_REMOTE_CODE_FALLBACK.rule
        for call, scope in self.program.calls:
            if (rule, id(call)) in seen or not call.keywords:
                continue
            callee = self.resolver.expr(call.func, scope)
            if callee is not None and any(s.rule == rule for s in self.sinks.lookup(callee)):
                continue  # a listed loader: its row's condition decided (e.g. datasets >= 4)
            if callee is None and isinstance(call.func, ast.Attribute) and call.func.attr == "from_pretrained":
                continue  # the fallback row decided
            flag = cond.trusted_flag(call)
            if flag is not None:
                seen.add((rule, id(call)))
                name = _display(callee) if callee and not callee.startswith(LOCAL_DEF) else _source(call.func)
                yield Report(rule, flag[0], name, f"`{flag[1]}` runs Python code shipped with the model", None, scope=scope, call=call)

    def _wrapped(self, call: ast.Call, scope: Scope, wrapper: Wrapper) -> Iterator[Report]:
        if not self.enabled(wrapper.rule):
            return
        data = cond.argument(call, wrapper.position, wrapper.param)
        if wrapper.check in DATA_DEPENDENT_CHECKS and (data is None or cond.is_literal(data)):
            return
        origin = self.origins.of(data, scope) if data is not None else None
        if origin is not None and wrapper.rule == SHELL_RULE:
            origin = named_inside(origin)  # `sync(f"s3://{bucket}/data")`: a place the command names
        written = self.written_at(data, scope) if data is not None else None
        bare = origin is not None and origin.param is not None and not origin.proof and not origin.platform
        if (origin is None or origin.rank == UNKNOWN.rank or bare) and written is None:
            # Data of unknown origin, or a bare parameter, says no more than the wrapper's own
            # finding at its sink (a parameter reaching it): that one is the place to look.
            return
        detail = f"it passes `{wrapper.param}` to `{wrapper.sink}`" + (f", where {wrapper.detail}" if wrapper.detail else "")
        yield Report(wrapper.rule, call.func, wrapper.name, detail, origin, scope=scope, written=written)

    def _references(self, seen: set[tuple[str, int]]) -> Iterator[Report]:
        """`map(pk.loads, blobs)`, `executor.submit(joblib.load, p)`: the sink as a value."""
        for node, scope in self.program.references:
            qualname = self.resolver.expr(node, scope)
            if qualname is None or qualname.startswith(LOCAL_DEF):
                continue
            for sink in self.sinks.lookup(qualname):
                if sink.references and self.enabled(sink.rule) and (sink.rule, id(node)) not in seen:
                    seen.add((sink.rule, id(node)))
                    yield Report(sink.rule, node, _display(qualname), "passed as a value and called later", None, scope=scope)

    # ---- assignments --------------------------------------------------------------------
    def _environment(self) -> Iterator[Report]:
        """`os.environ["TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD"] = "1"` and the setter calls."""
        for target, value, scope in self.program.stores:
            if isinstance(target, ast.Subscript) and self.resolver.expr(target.value, scope) == "os.environ":
                name = cond.literal_str(target.slice)
                yield from self._switch(name, value, target)
        for call, scope in self.program.calls:
            if not isinstance(call.func, ast.Attribute) or call.func.attr not in ("setdefault", "putenv", "update", "__setitem__"):
                continue
            qualname = self.resolver.expr(call.func, scope)
            if qualname not in ENV_SETTERS:
                continue
            if qualname == "os.environ.update":
                for arg in call.args:
                    if isinstance(arg, ast.Dict):
                        for key, val in zip(arg.keys, arg.values, strict=True):
                            if key is not None:
                                yield from self._switch(cond.literal_str(key), val, key)
                for kw in call.keywords:
                    yield from self._switch(kw.arg, kw.value, kw)
            elif len(call.args) >= 2:
                yield from self._switch(cond.literal_str(call.args[0]), call.args[1], call)

    def _switch(self, name: str | None, value: ast.expr, node: ast.AST) -> Iterator[Report]:
        if name not in UNSAFE_ENV_SWITCHES:
            return
        literal = value.value if isinstance(value, ast.Constant) else None
        if literal is None or str(literal).strip().lower() in ENV_SAFE_VALUES:
            return
        self.env_switches[name] = node
        if self.enabled("ATS-PY-016"):
            yield Report("ATS-PY-016", node, name, UNSAFE_ENV_SWITCHES[name], None)

    def _stores(self) -> Iterator[Report]:
        """`session.verify = False`; `ssl._create_default_https_context = ssl._create_unverified_context`."""
        if not self.enabled("ATS-PY-012"):
            return
        for target, value, scope in self.program.stores:
            if not isinstance(target, ast.Attribute):
                continue
            if target.attr == "verify" and cond.is_const(value, False):
                base = self.resolver.expr(target.value, scope) or ""
                if base.startswith(("requests.", "httpx.")):
                    yield Report("ATS-PY-012", target, f"{_display(base)}.verify", "`verify = False`", None)
            elif self.resolver.expr(target, scope) == "ssl._create_default_https_context":
                replacement = self.resolver.expr(value, scope) or ""
                if replacement in ("ssl._create_unverified_context", "ssl._create_stdlib_context"):
                    yield Report("ATS-PY-012", target, "ssl._create_default_https_context", "patched to the unverified context", None)


_BLOCK_FIELDS = ("body", "orelse", "finalbody", "handlers", "cases")
# Model classes whose `load()` reads the model the serving platform fetched for the
# deployment (KServe's `storage_uri`, MLServer's model-settings `uri`): the deployment's own
# artifact, as SageMaker's model_fn.
MODEL_SERVER_BASES = frozenset({
    "kserve.Model", "kserve.model.Model", "kserve.model.model.Model",
    "mlserver.MLModel", "mlserver.model.MLModel",
})  # fmt: skip
# A condition that names certificate checking: a switch the user sets to turn it off.
VERIFICATION_SWITCH = re.compile(r"(?i)insecure|verif|ssl|tls|cert")


# Rules about what a model's own repository runs: the tokenizer and the model of one id,
# loaded one after the other, are one repository to trust (one flag to drop).
PER_MODEL_RULES = frozenset({"ATS-PY-005"})


def _one_per_model(reports: list[Report]) -> list[Report]:
    """Reports of a per-model rule in one scope that load the same model expression and say
    the same (both from an unpinned revision) fold into the first, the others its repeats."""
    firsts: dict[tuple[str, int, str, str], int] = {}
    out: list[Report] = []
    for r in reports:
        model = _model_argument(r) if r.rule in PER_MODEL_RULES else None
        if model is None or r.scope is None:
            out.append(r)
            continue
        key = (r.rule, id(r.scope), ast.dump(model), r.detail)
        if key in firsts:
            first = out[firsts[key]]
            if _line(r.node) < _line(first.node):  # the earlier call leads
                first, r = replace(r, again=first.again), replace(first, again=())
            out[firsts[key]] = replace(first, again=tuple(sorted((*first.again, (r.node, r.callee)), key=lambda a: _line(a[0]))))
            continue
        firsts[key] = len(out)
        out.append(r)
    return out


def _line(node: ast.AST) -> int:
    return getattr(node, "lineno", 0)


def _model_argument(report: Report) -> ast.AST | None:
    """The model id of a `from_pretrained` call (other loaders' first argument may be a task:
    `pipeline("text-generation", model=...)`)."""
    if report.call is None or not report.callee.endswith(".from_pretrained"):
        return None
    return cond.argument(report.call, 0, "pretrained_model_name_or_path")


def _from_platform_archive(report: Report, unpacked: Mapping[int, Report]) -> Report:
    """A fixed relative name loaded where the same code unpacks the platform's archive
    (`tarfile.open("/opt/ml/processing/model/model.tar.gz").extractall(".")`, then
    `pickle.load(open("xgboost-model", "rb"))`): the file an earlier step of the pipeline
    wrote, like the archive itself."""
    origin, archive = report.origin, unpacked.get(id(report.scope))
    if archive is None or report is archive or origin is None or origin.platform or origin.rank != 0:
        return report
    if not origin.path or origin.path.startswith("/") or "://" in origin.path:
        return report
    line = getattr(archive.node, "lineno", None)
    label = f"`{origin.path}`, unpacked from the platform's archive" + (f" at line {line}" if line else "")
    return replace(report, origin=Origin(0, label, platform=True))


def _inside(node: ast.AST, ranges: list[tuple[int, int]]) -> bool:
    line = getattr(node, "lineno", 0)
    return any(start <= line <= end for start, end in ranges)


def returns_call(func: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """Whether the function returns the result of a call: the shape of a loader wrapper.
    Walks statements only (not expressions, not nested functions)."""
    stack: list[ast.AST] = list(func.body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Return):
            if node.value is not None and any(isinstance(n, ast.Call) for n in ast.walk(node.value)):
                return True
        elif not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            for name in _BLOCK_FIELDS:
                block = getattr(node, name, None)
                if block:
                    stack.extend(block)
    return False


def _single_value(ident: str, scope: Scope, skip_none: bool = False) -> ast.expr | None:
    current: Scope | None = scope
    while current is not None:
        if current.has(ident):
            values = [v for v, _ in current.assigns.get(ident, []) if not (skip_none and cond.is_const(v, None))]
            return values[0] if len(values) == 1 else None
        current = current.parent
    return None


def _display(qualname: str) -> str:
    if qualname.startswith("builtins."):
        return qualname[len("builtins."):]
    return canonical(qualname) if qualname.startswith(("_pickle", "cPickle")) else qualname


def _source(node: ast.expr) -> str:
    text = ast.unparse(node)
    return text if len(text) <= 60 else text[:57] + "..."


def module_key_for_path(path: str) -> str:
    """`src/pkg/utils.py` -> `utils`, `src/pkg/__init__.py` -> `pkg`."""
    parts = path[:-3].split("/") if path.endswith(".py") else path.split("/")
    if parts[-1] == "__init__" and len(parts) > 1:
        return parts[-2]
    return parts[-1]


def _module_key(qualname: str) -> str:
    parts = qualname.replace("()", "").lstrip(".").split(".")
    return ".".join(parts[-2:])


def _calls_in(body: list[ast.stmt]) -> Iterator[ast.Call]:
    for statement in body:
        yield from (node for node in ast.walk(statement) if isinstance(node, ast.Call))


def _trains(call: ast.Call, qualname: str | None) -> bool:
    """A call that can log a model: not MLflow's own API and not a builtin (`print`)."""
    return qualname is not None and not qualname.startswith(("mlflow.", "builtins."))


def _mlflow_scheme(node: ast.expr) -> str | None:
    """`runs` or `models` for a literal or f-string MLflow URI (`f"runs:/{run_id}/model"`), and
    `runs` for `mlflow.artifacts.download_artifacts(run_id=...)`, a download of a run's files."""
    if isinstance(node, ast.Call) and cond.last_name(node.func) == "download_artifacts":
        if any(k.arg == "run_id" for k in node.keywords):
            return "runs"
        uri = next((k.value for k in node.keywords if k.arg == "artifact_uri"), node.args[0] if node.args else None)
        return _mlflow_scheme(uri) if uri is not None and not isinstance(uri, ast.Call) else None
    first = node.values[0] if isinstance(node, ast.JoinedStr) and node.values else node
    if isinstance(first, ast.Constant) and isinstance(first.value, str):
        head = first.value.split(":/", 1)[0].lower() if ":/" in first.value else ""
        return head if head in MLFLOW_WRITERS else None
    return None
