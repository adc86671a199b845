"""The sink table: which fully qualified callables are dangerous, under which argument
condition, and which rule reports them. The rows are data, in each rule's TOML:

    [[match.sinks]]
    names = ["yaml.load", "yaml.load_all"]   # the callables
    check = "yaml_loader"                    # a condition of conditions.CHECKS ("always")
    data = 0                                 # position of the data argument (0); false: none
    data_kw = "stream"                       # its keyword name
    options = { kw = "allow_pickle", pos = 2, also = "ssl", severity = "medium" }
                                             # max_severity: the ceiling (a format without pickle)
                                             # note: words the message adds for these names
                                             # fold = "repository": one finding for every call
                                             # of the row in the scan (one decision to make)
                                             # practice: why every call of the row is what every
                                             # project of its kind does (held back, one notice)
    references = true                        # also report the callable passed as a value
    receiver = true                          # a method whose data is its object

`row_problems` checks rows against the conditions the code has; `build` turns the enabled
rules' rows into a `SinkIndex`, prefilter words included.

Names are matched after `canonical()` folds re-exports onto one spelling (`tf.keras` ->
`keras`, `_pickle`/`cPickle` -> `pickle`). A `*` in a name matches one or more dotted
segments (`transformers.*.from_pretrained`), `()` marks a call result (`gradio.*().launch`
is the `launch` method of any gradio object).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from atlascan.engines.python.conditions import CHECKS
from atlascan.model import Severity

if TYPE_CHECKING:
    from atlascan.rules import Rule


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


ROW_FIELDS = ("names", "check", "data", "data_kw", "options", "references", "receiver")
OPTION_TYPES: dict[str, type] = {
    "kw": str, "pos": int, "also": str, "severity": str, "max_severity": str, "note": str, "fold": str,
    "practice": str,
}  # fmt: skip
FOLD_SCOPES = frozenset({"repository"})
NEEDS_KW = frozenset({"kw_truthy", "kw_false"})  # conditions that read `options.kw`


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

# Environment switches that turn a safe default off when set in code (ATS-PY-016).
UNSAFE_ENV_SWITCHES: dict[str, str] = {
    "TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD": "makes every `torch.load` use the full unpickler",
    "HF_DATASETS_TRUST_REMOTE_CODE": "lets `datasets` run the loading script of any dataset",
}
# Values of those switches that are harmless.
ENV_SAFE_VALUES = frozenset({"0", "false", "no", "off", ""})

# The rule of shell commands: a function whose parameter reaches one runs its callers' text
# whatever it returns (`def sh(cmd): os.system(cmd)`), so it is summarised for them as a
# loader wrapper is.
SHELL_RULE = "ATS-PY-011"

# Modules whose sinks are reached through very common imports: for these the prefilter
# looks for the callable's own name (`system`, `popen`, `environ`) instead of the module.
BROAD_MODULES = frozenset({"os", "builtins", "numpy", "pandas"})  # numpy/pandas: in nearly every ML file


def canonical(name: str) -> str:
    for prefix, replacement in CANONICAL_PREFIXES:
        if name.startswith(prefix) or name == prefix.rstrip("."):
            return replacement + name[len(prefix):] if name.startswith(prefix) else replacement.rstrip(".")
    return name


class SinkIndex:
    def __init__(
        self,
        exact: Mapping[str, tuple[Sink, ...]],
        patterns: tuple[tuple[re.Pattern[str], Sink], ...],
        roots: frozenset[str],
        words: frozenset[str],
        runner_words: frozenset[str] = frozenset(),
    ) -> None:
        self.exact = exact
        self.patterns = patterns
        self.roots = roots  # first segments of every name (cheap rejection)
        self.words = words  # the prefilter: a file naming none of these is not parsed
        self.runner_words = runner_words  # the words of the shell rule's sinks
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


def build(rules: Mapping[str, Rule]) -> SinkIndex:
    """The sink table of the enabled rules' rows. Rules in id order and rows in file order:
    when one call matches several rows, reports (and a wrapper's rule) follow that order."""
    sinks = [_sink(rid, row) for rid in sorted(rules) for row in rules[rid].match.get("sinks", ())]
    exact: dict[str, list[Sink]] = {}
    patterns: list[tuple[re.Pattern[str], Sink]] = []
    roots: set[str] = set()
    for sink in sinks:
        for name in sink.names:
            roots.add(name.split(".", 1)[0])
            if "*" in name:
                patterns.append((_glob(name), sink))
            else:
                exact.setdefault(name, []).append(sink)
    runners = [sink for sink in sinks if sink.rule == SHELL_RULE]
    return SinkIndex(
        {k: tuple(v) for k, v in exact.items()}, tuple(patterns), frozenset(roots), _prefilter_words(sinks),
        _words(sink.names for sink in runners),
    )  # fmt: skip


def _sink(rule_id: str, row: Mapping[str, Any]) -> Sink:
    data = row.get("data", 0)
    return Sink(
        rule_id,
        tuple(row["names"]),
        check=row.get("check", "always"),
        data=None if data is False else data,
        data_kw=row.get("data_kw"),
        options=dict(row.get("options", {})),
        references=row.get("references", False),
        receiver=row.get("receiver", False),
    )


def _prefilter_words(sinks: list[Sink]) -> frozenset[str]:
    """Identifiers one of which a file must contain before it is parsed at all.

    Derived from the rows, so it cannot fall behind them: calling a sink needs its root
    module's name in the text (an import, `import_module("pickle")`, a star import), or for
    builtins and `os` the callable's own name."""
    words = {"import_module", "__import__", "environ", "putenv", "from_pretrained", *UNSAFE_ENV_SWITCHES}
    return frozenset(words) | _words([*(sink.names for sink in sinks), [p.rstrip(".") for p, _ in CANONICAL_PREFIXES]])


def _words(names: Iterable[Iterable[str]]) -> frozenset[str]:
    """The identifiers a call of one of `names` needs in the text: the root module's name,
    or for builtins and `os` the callable's own."""
    words: set[str] = set()
    for name in (n for group in names for n in group):
        root = name.split(".", 1)[0]
        words.add(name.replace("()", "").rsplit(".", 1)[-1] if root in BROAD_MODULES else root)
    return frozenset(words)


def row_problems(rule: Rule) -> list[str]:
    """What is wrong with a rule's `[[match.sinks]]` rows: unknown fields or condition
    names, values of the wrong type."""
    rows = rule.match.get("sinks")
    if rows is None:
        return []
    if not isinstance(rows, list):
        return ["`match.sinks` must be an array of tables ([[match.sinks]])"]
    problems: list[str] = []
    for number, row in enumerate(rows, start=1):
        where = f"[[match.sinks]] row {number}"
        if not isinstance(row, dict):
            problems.append(f"{where} must be a table")
            continue
        problems += [f"{where}: unknown field `{k}` (known: {', '.join(ROW_FIELDS)})" for k in row if k not in ROW_FIELDS]
        names = row.get("names")
        if not isinstance(names, list) or not names or not all(isinstance(n, str) and n for n in names):
            problems.append(f"{where}: `names` must be a non-empty list of dotted names")
        check = row.get("check", "always")
        if check not in CHECKS:
            problems.append(f"{where}: unknown condition {check!r} (conditions.py has: {', '.join(sorted(CHECKS))})")
        data = row.get("data", 0)
        if data is not False and (not isinstance(data, int) or isinstance(data, bool) or data < 0):
            problems.append(f"{where}: `data` must be an argument position (0, 1, ...) or false")
        if not isinstance(row.get("data_kw", ""), str):
            problems.append(f"{where}: `data_kw` must be a keyword name")
        for flag in ("references", "receiver"):
            if not isinstance(row.get(flag, False), bool):
                problems.append(f"{where}: `{flag}` must be true or false")
        problems += _option_problems(where, row.get("options", {}), check)
    return problems


def _option_problems(where: str, options: Any, check: str) -> list[str]:
    if not isinstance(options, dict):
        return [f"{where}: `options` must be a table"]
    problems: list[str] = []
    for key, value in options.items():
        wanted = OPTION_TYPES.get(key)
        if wanted is None:
            problems.append(f"{where}: unknown option `{key}` (known: {', '.join(OPTION_TYPES)})")
        elif not isinstance(value, wanted) or isinstance(value, bool):
            problems.append(f"{where}: option `{key}` must be a {wanted.__name__}")
    if isinstance(options.get("fold"), str) and options["fold"] not in FOLD_SCOPES:
        problems.append(f"{where}: option `fold` must be one of {', '.join(sorted(FOLD_SCOPES))}")
    for key in ("severity", "max_severity"):
        if isinstance(options.get(key), str):
            try:
                Severity.parse(options[key])
            except ValueError as exc:
                problems.append(f"{where}: {exc}")
    if check in NEEDS_KW and not isinstance(options.get("kw"), str):
        problems.append(f"{where}: condition {check!r} needs `options.kw`, the keyword it reads")
    return problems
