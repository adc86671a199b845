"""The Python and notebook analyzer (rules ATS-PY-*).

`prepare` builds the sink table from the enabled rules' `[[match.sinks]]` rows, reads pinned
library versions from the scan's dependency files and summarises project wrappers of unsafe
sinks across files; `check_file` takes one `.py` file's tree, or a notebook's program and its
tree, from the parse stage (after a cheap, exact text prefilter) and reports what
`analyzer.Analysis` finds. Nothing scanned is ever imported or executed.
"""

from __future__ import annotations

import ast
import bisect
import os
import posixpath
import re
from dataclasses import astuple, dataclass, field, fields
from typing import TYPE_CHECKING, Any, TypeGuard

from atlascan.engines import Engine
from atlascan.engines.python import fixes, pip_magics, sinks
from atlascan.engines.python.analyzer import (
    Analysis,
    Report,
    Wrapper,
    module_key_for_path,
)
from atlascan.engines.python.launches import Launch, collect_launches, launcher
from atlascan.engines.python.origins import from_command_line, operators_choice
from atlascan.engines.python.sinks import (
    ENV_SAFE_VALUES,
    SHELL_RULE,
    UNSAFE_ENV_SWITCHES,
    SinkIndex,
)
from atlascan.engines.python.versions import PinIndex, overlay
from atlascan.findings import template_fields
from atlascan.kinds import declares_dependencies
from atlascan.model import ParseError, Precision, Severity, Span
from atlascan.parsers import python as py
from atlascan.pathclass import PRACTICE_MIN_REFERENCES, TEST_FILE, UNIT_TEST_DIRS, UNPROVEN
from atlascan.textutil import utf8_col_to_char_col

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

    from atlascan.analysis import FileContext, PrepareContext
    from atlascan.engines.python.origins import Origin
    from atlascan.engines.python.versions import Version
    from atlascan.findings import FindingBuilder
    from atlascan.model import SourceFile
    from atlascan.parsers import notebook as nb
    from atlascan.parsers.requirements import Manifest
    from atlascan.rules import Rule

# What the unproven notice says is missing (see pathclass.UNPROVEN).
UNPROVEN_SINK = (
    "no outside input shown (a script's own command line or environment, a file, bucket or web address the code names, "
    "data of unknown origin, what a loader or runner is handed)"
)

CODE_KINDS = frozenset({"python", "notebook"})
DEPENDENCY_KINDS = frozenset({"requirements", "pyproject", "dockerfile"})
MAX_PREPARE_BYTES = 2 * 1024 * 1024
# The ATLAS technique of rules whose sink loads an artifact (User Execution: Unsafe AI Artifacts).
ARTIFACT_LOAD = "AML.T0011.000"
ENV_MAGIC = re.compile(r"^env\s+(?P<name>\w+)\s*[= ]\s*(?P<value>\S*)")


# The exact prefilter: a file is parsed only if one of its identifiers is a sink word (or
# the name of a project wrapper). Tokenising once and intersecting sets is about three
# times faster than one alternation regex and stays fast however many wrappers there are.
IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def mentions(text: str, words: frozenset[str]) -> bool:
    return not words.isdisjoint(IDENTIFIER.findall(text))


@dataclass
class Facts:
    sinks: SinkIndex
    words: frozenset[str]  # prefilter words, wrapper names included
    pins: PinIndex = field(default_factory=PinIndex)
    wrappers: dict[str, Wrapper] = field(default_factory=dict)  # "module.func" -> wrapper
    dirs: frozenset[str] = frozenset()
    launches: tuple[Launch, ...] = ()  # scripts the repository runs as pipeline steps
    # Fewer than half of the packages the repository's notebooks pip-install are pinned:
    # unpinned installs are its practice (ATS-PY-018 held back, one notice).
    unpinned_notebooks: bool = False
    # Fewer than half of the repository's files that download from the Hub pin a revision:
    # unpinned downloads are its practice (ATS-PY-006 held back, one notice), like image tags.
    unpinned_hub: bool = False
    # Environment variables the repository's own code sets to a string literal, and where
    # (`os.environ["X"] = "..."`): a channel inside the program, not input from outside.
    own_env: dict[str, str] = field(default_factory=dict)
    # Files that turn `trust_remote_code` on: from three, loading models that ship code is
    # the repository's design (a fine-tuning framework's loaders), held back like its pins.
    trusting_files: int = 0


def _facts(rules: Mapping[str, Rule]) -> Facts:
    table = sinks.build(rules)
    return Facts(table, table.words)


class PythonEngine(Engine):
    name = "python"
    # Reported by code, not (only) by sink rows: the `.from_pretrained` fallback of an
    # unresolved class, TLS switches set by assignment, environment switches, notebook pip.
    implements = frozenset({"ATS-PY-005", "ATS-PY-012", "ATS-PY-016", "ATS-PY-017", "ATS-PY-018"})
    tables = frozenset({"sinks"})

    def validate(self, rule: Rule) -> list[str]:
        return sinks.row_problems(rule)

    # ---- whole-scan pass --------------------------------------------------------------------
    def prepare(self, files: list[SourceFile], ctx: PrepareContext) -> Facts:
        facts = _facts(ctx.rules)
        # One source of truth for "which version is pinned here": the manifests of the
        # requirements model (nearest folder wins, see `PinIndex.for_file`); Dockerfiles and
        # anything that model cannot read fall back to the text.
        declared = [f for f in files if declares_dependencies(f.kind, f.path)]
        manifests: dict[str, Manifest] = {}
        if declared:  # the requirements model is a costly import for a run with none
            from atlascan.parsers.requirements import read_manifests

            manifests = {m.path: m for m in read_manifests(declared)}
        for f in files:
            if f.path in manifests:
                facts.pins.add_manifest(manifests[f.path])
            elif f.kind in DEPENDENCY_KINDS:
                facts.pins.add(f.path, _read(f.abspath))
        dirs: set[str] = set()
        for path in ctx.all_paths:
            parent = posixpath.dirname(path)
            while parent and parent not in dirs:
                dirs.add(parent)
                parent = posixpath.dirname(parent)
        facts.dirs = frozenset(dirs)
        facts.launches = collect_launches(ctx.scanned or files, _read, ctx.memo)
        _practices(files, ctx, facts)
        if len([f for f in files if f.kind == "python"]) > 1:
            facts.wrappers = _wrappers(files, facts, ctx)
            facts.words = facts.sinks.words | {w.name for w in facts.wrappers.values()}
        return facts

    # ---- one file ---------------------------------------------------------------------------
    def check_file(self, file: SourceFile, ctx: FileContext) -> None:
        if file.kind not in CODE_KINDS:
            return  # dependency files only feed `prepare`
        facts: Facts = ctx.facts if isinstance(ctx.facts, Facts) else _facts(ctx.rules)
        doc = ctx.doc
        if file.kind == "notebook":
            from atlascan.parsers import notebook as nb  # here: a run over .py files never needs it

            program: nb.NotebookProgram = doc.tree
            self._shell_lines(program, ctx)
            # The notebook's own `%pip install` pins come first; the files its cells write run
            # with the requirements file or Dockerfile the notebook writes, if any.
            installs = [s.text for s in program.shell if "install" in s.text]
            pinned = overlay(facts.pins.for_file(file.path), installs, "this notebook's `pip install`")
            shipped = pinned
            for dependency in program.written:
                if posixpath.basename(dependency.name or "").startswith(("requirements", "Dockerfile")):
                    shipped = overlay(shipped, [dependency.source], f"the `{dependency.name}` this notebook writes")
            made = _made_by(program)
            if mentions(program.source, facts.words):
                self._analyse(doc.view(nb.python_ast), file, ctx, facts, program, pinned, made)
            # `%%writefile train.py` cells: the code that ships in the container, on its own.
            if any(mentions(w.source, facts.words) for w in program.written):
                for written, tree in doc.view(nb.written_asts):
                    if mentions(written.source, facts.words):
                        self._analyse(tree, file, ctx, facts, written, shipped, made)
        elif mentions(doc.text, facts.words):
            main = MAIN_GUARD.search(doc.text) is not None and ARGV_PARSER.search(doc.text) is not None
            self._analyse(doc.tree, file, ctx, facts, None, facts.pins.for_file(file.path), main=main)

    def _analyse(
        self, tree: ast.Module, file: SourceFile, ctx: FileContext, facts: Facts, program: nb.NotebookProgram | None,
        pinned: tuple[dict[str, Version], dict[str, str]], made: frozenset[str] = frozenset(), main: bool = False,
    ) -> None:  # fmt: skip
        analysis = Analysis(
            tree,
            pinned[0],
            facts.sinks,
            pin_sources=pinned[1],
            own_env=facts.own_env,
            is_scanned_dir=lambda p: (p := p.strip("/").removeprefix("./")) in facts.dirs or p in made,
            wrappers=facts.wrappers,
            path=file.path,
            enabled=ctx.enabled,
        )
        for report in analysis.run():
            self._emit(report, ctx, program, main)

    def _emit(self, report: Report, ctx: FileContext, program: nb.NotebookProgram | None, main: bool = False) -> None:
        """`main`: the file is a command-line program (see `MAIN_GUARD`)."""
        rule = ctx.rules.get(report.rule)
        # A notebook's `os.system(f"aws s3 cp {src} {dst}")` is its `!aws s3 cp {src} {dst}`
        # written in Python: the author running a command of their own variables. Only data
        # from outside (the environment, a download, a request) makes it an injection there.
        if rule is None or (report.rule == SHELL_RULE and program is not None and not program.name and not _outside(report.origin)):
            return
        lines = ctx.doc.lines if program is None else []  # notebooks: file lines, no columns
        node = report.node
        line = getattr(node, "lineno", 1)
        end_line = getattr(node, "end_lineno", None) or line
        column = end_column = None
        where = ""
        if program is not None:
            where = f" (cell {program.cell(line)}" + (f", written to `{program.name}`)" if program.name else ")")
            line, end_line = program.file_line(line), program.file_line(end_line)
        elif 1 <= line <= len(lines):
            column = utf8_col_to_char_col(lines[line - 1], getattr(node, "col_offset", 0))
            if 1 <= end_line <= len(lines) and getattr(node, "end_col_offset", None) is not None:
                end_column = utf8_col_to_char_col(lines[end_line - 1], node.end_col_offset)  # type: ignore[attr-defined]
        builder = ctx.finding(report.rule).at(Span(line, column or None, end_line, end_column))
        to_file = program.file_line if program is not None else (lambda n: n)
        script = ctx.file.path
        if program is not None and program.name:
            script = posixpath.normpath(posixpath.join(posixpath.dirname(ctx.file.path), program.name))
        severity, details = _grade(report, rule, ctx, builder, to_file, script)
        fields = template_fields(rule.message)
        origin = report.origin
        # Messages about what data a call reads name `{origin}` and the `{evidence}` for it;
        # the others (a download flag, a TLS switch) describe the call alone.
        if "origin" in fields:
            builder.args(origin=origin.label if origin else "its input")
        if "evidence" in fields:
            builder.args(evidence=_evidence(origin, to_file))
        elif origin is not None and _outside(origin) and (
            severity == Severity.CRITICAL or (origin.proof and operators_choice(origin) and not rule.fold)
        ):
            # What made it critical, or would have but for being the operator's own choice.
            details.append(_named_by(origin, to_file))
        fix = fixes.suggest(report.check, report.call) if program is None else None
        detail = "; ".join(details)
        builder.args(callee=report.callee, detail=f" ({detail})" if detail else "", where=where)
        if report.fold:
            builder.property("foldScope", report.fold).property("foldObject", f"calls:{report.row}")
        if report.practice:
            builder.property("practice", report.practice)
        if report.needless:
            builder.property("standsAlone", "samples")  # a flag to drop from what a sample's readers copy
        if report.rule == HUB_RULE and isinstance(ctx.facts, Facts) and ctx.facts.unpinned_hub:
            builder.property("practice", "fewer than half of the files that download from the Hub pin a revision")
        trusting = ctx.facts.trusting_files if isinstance(ctx.facts, Facts) else 0
        designed = trusting >= PRACTICE_MIN_REFERENCES and severity < Severity.CRITICAL and not report.needless
        if report.rule == REMOTE_CODE_RULE and designed:
            builder.property("practice", f"{trusting} files turn `trust_remote_code` on: loading models that ship code is its design")
        if "origin" in fields and not rule.fold and severity < Severity.CRITICAL and _unproven(report, main):
            builder.property(UNPROVEN, UNPROVEN_SINK)
        builder.severity(severity).precision(report.precision).fix(_fix_property(fix, lines) if fix else None).emit()

    # ---- notebook shell lines -----------------------------------------------------------------
    def _shell_lines(self, program: nb.NotebookProgram, ctx: FileContext) -> None:
        # One ATS-PY-018 per install command, naming each package once per notebook and not
        # at all when the notebook pins it elsewhere (another install, a requirements file
        # it writes): that is what a maintainer changes.
        pinned = set().union(*(pip_magics.pinned_names(s.text) for s in program.shell if "install" in s.text))
        for written in program.written:
            if posixpath.basename(written.name or "").startswith(("requirements", "constraints")):
                pinned |= pip_magics.pinned_names(written.source)
        named: set[str] = set()
        unpinned_practice = isinstance(ctx.facts, Facts) and ctx.facts.unpinned_notebooks
        for shell in program.shell:
            where = f" (cell {shell.cell})"
            for problem in pip_magics.check(shell.text):
                detail = problem.detail
                if problem.rule == "ATS-PY-018":
                    fresh = [p for p in problem.packages if pip_magics.name_of(p) not in pinned | named]
                    named.update(pip_magics.name_of(p) for p in fresh)
                    if not fresh:
                        continue
                    detail = pip_magics.describe(fresh)
                finding = ctx.finding(problem.rule).at(Span(shell.line)).args(detail=detail, where=where)
                if problem.rule == "ATS-PY-018" and unpinned_practice:
                    finding.property("practice", "fewer than half of the packages the notebooks install are pinned")
                if problem.severity is not None:
                    finding.severity(problem.severity)
                if problem.practice is not None:
                    finding.property("practice", problem.practice)
                finding.emit()
            m = ENV_MAGIC.match(shell.text)
            if m and m.group("name") in UNSAFE_ENV_SWITCHES and m.group("value").strip("'\"").lower() not in ENV_SAFE_VALUES:
                name = m.group("name")
                ctx.finding("ATS-PY-016").at(Span(shell.line)).args(
                    callee=name, detail=f" ({UNSAFE_ENV_SWITCHES[name]})", where=where
                ).emit()


def _outside(origin: Origin | None) -> bool:
    """Data from outside the code: the command line, the environment, a download, a request,
    a pipeline's input; not data of unknown origin, nor a parameter its own calls hand it."""
    return origin is not None and origin.rank >= 2 and (origin.param is None or origin.proof)


# A command-line program, its functions handed what its own main reads: a file that runs as
# a program and reads a command line (a library module's `if __name__ == "__main__": pass`
# reads none).
MAIN_GUARD = re.compile(r"""^if\s+__name__\s*==\s*["']__main__["']\s*:""", re.M)
ARGV_PARSER = re.compile(r"\b(?:argparse|sys\.argv|fire\.Fire|HfArgumentParser|typer)\b|@click\.|^import fire\b", re.M)


# Loaders of formats that are pickle by design (pickle, joblib, torch checkpoints, MLflow
# models, TorchScript and native libraries): a function handed the path or bytes loads its
# caller's own artifact, as the library's feature intends; the way in is where its callers
# get the path, and a caller handing it outside input is reported there (critical).
FORMAT_LOADERS = frozenset({"ATS-PY-001", "ATS-PY-002", "ATS-PY-004", "ATS-PY-021", "ATS-PY-022"})
# A helper whose parameter is the whole command or code it runs (`def run_cmd(cmd):
# os.system(cmd)`) is a runner: its callers decide what runs, and one handing it outside input
# is reported at the call.
RUNNERS = frozenset({"ATS-PY-010", SHELL_RULE})


def _unproven(report: Report, main: bool) -> bool:
    """A sink the code shows no outside input reaching: what whoever runs it chooses (its
    command line, environment, prompt; in a script, what its main hands its functions), a
    file or bucket or local server the code names, a file it wrote itself, data of unknown
    origin; a parameter of a loader of a pickle-by-design format (`FORMAT_LOADERS`), or one a
    runner executes as it is handed (`RUNNERS`), or a shell command built from a parameter.
    Read by reviewers on real repositories, nearly all such sites were the operator's own
    files, and none of the shell commands built from a parameter was worth acting on (their
    callers hand the author's own paths and options; a caller handing outside input is
    reported at the call, through the wrapper summaries). Another library parameter stays
    reported (text built into an eval, an archive extracted: the fix is cheap and its callers
    may be anyone's), as do a pipeline's and a platform's inputs (graded apart)."""
    origin = report.origin
    if origin is None or report.written is not None:
        return True
    if origin.step or origin.platform:
        return False
    if operators_choice(origin) or origin.fixed or origin.local:
        return True
    if origin.spelled and origin.raises and origin.proof:
        # A web address written in the code (deepchecks' demo models on figshare): as with a
        # bucket it names, whoever controls that host already ships the code's data; the code
        # shows no one else a way in. Reviewers judged all seven such findings NOISE.
        return True
    if origin.param is not None:
        if report.rule == SHELL_RULE and not origin.proof:
            return True
        return main or report.rule in FORMAT_LOADERS or (report.rule in RUNNERS and _passed_through(report, origin.param))
    return origin.rank <= 1 or not origin.proof


def _passed_through(report: Report, param: str) -> bool:
    """Whether the sink's first argument is the parameter itself (`os.system(cmd)`,
    `subprocess.run([cmd], shell=True)`), not text built from it."""
    args = report.call.args if report.call is not None else []
    first = args[0] if args else None
    if isinstance(first, ast.List) and len(first.elts) == 1:
        first = first.elts[0]
    return isinstance(first, ast.Name) and first.id == param


def _a_test(path: str) -> bool:
    """A test by its name or folder (`tests/`, `test_x.py`), not other developer tooling (a
    CI script runs with the pipeline's secrets)."""
    parts = path.lower().split("/")
    return bool(TEST_FILE.match(parts[-1])) or any(p in UNIT_TEST_DIRS for p in parts[:-1])


COMPONENT_INPUT = "the pipeline binds this component's inputs"


def _grade(
    report: Report, rule: Rule, ctx: FileContext, builder: FindingBuilder, to_file: Callable[[int], int], script: str
) -> tuple[Severity, list[str]]:
    """Severity from what the code shows (issue 13, "critical needs proof"): critical only
    when data from outside reaches the sink; a bare parameter stays at the rule's level; a
    file the same code wrote is low; a loader of a format without pickle has a ceiling.
    `script` is the path the code runs as (a `%%writefile` cell's file, for a notebook)."""
    severity = report.severity or rule.severity
    details = [report.detail] if report.detail else []
    origin = report.origin
    if origin is not None and origin.step and ARTIFACT_LOAD in rule.atlas_techniques:
        # An earlier step's output or a run's parameter, bound by whoever runs the pipeline:
        # the practice of every component, as for a launched step's script.
        severity = Severity.LOW
        details.append(COMPONENT_INPUT)
        builder.property("practice", "the pipeline's own artifact, handed to a component as its input")
    elif report.written is not None:
        severity = Severity.LOW
        details.append(f"this code writes that file itself at line {to_file(report.written)}")
        # A notebook reloading the files it saved does so once per file: one finding says it.
        builder.property("foldObject", "file:written")
    elif origin is not None and origin.platform:
        # The deployment's own model where its platform put it (a SageMaker `model_fn`, a
        # KServe model's `load()`): the platform's contract is to load it, so this is the
        # practice of every such script, held back like the repository's pins.
        severity = Severity.LOW
        builder.property("practice", "the deployment's own model, where its serving platform put it")
    elif origin is not None and origin.step:
        details.append(COMPONENT_INPUT)
    elif origin is not None and origin.raises and origin.proof and origin.fixed and _a_test(ctx.file.path):
        # A test's fixture at a location written in the test: its author chose it, and
        # nothing that ships reads it; held back with the tests' other findings.
        details.append("a location this test names itself")
    elif origin is not None and origin.raises and origin.proof and origin.fixed:
        # A storage bucket the code names is its project's (or its vendor's sample data):
        # whoever can write there already ships the code; worth fixing, no way in.
        details.append("a storage bucket this code names itself")
    elif origin is not None and origin.raises and origin.proof and origin.spelled:
        # A web address written in the code (deepchecks' demo models on figshare, unsloth's
        # mapper on its own GitHub branch): whoever controls that host chooses the data, but
        # the code shows no way for anyone else in. The rule's level, not critical (reviewers
        # judged all three such criticals high at most).
        details.append("a web address this code names itself")
    elif origin is not None and origin.raises and origin.proof:
        known = ctx.facts.launches if isinstance(ctx.facts, Facts) else ()
        step = launcher(known, script) if from_command_line(origin) else None
        if step is None:
            # Critical means the code shows how an attacker gets in: a pin is one to add,
            # whoever names the model, and the operator's command line, environment or prompt
            # is no way in (a checkpoint they pass is theirs to vet).
            if not rule.fold and not operators_choice(origin):
                severity = Severity(min(Severity.CRITICAL, severity + 1))
        else:  # the repository's own pipeline step writes this command line: not outside input
            # Said the same way for every copy of the script (copies fold); the related
            # location names the step.
            details.append("a pipeline step of this repository writes that command line")
            builder.related(Span(step.line), "The pipeline step that launches this script and writes its arguments.", path=step.path)
            if ARTIFACT_LOAD in rule.atlas_techniques:
                # The model or data a step is handed is the pipeline's own artifact, bound
                # by whoever runs the pipeline, as a platform's model folder is by whoever
                # deploys: the practice of every such step, held back the same way.
                severity = Severity.LOW
                builder.property("practice", "the pipeline's own artifact, handed over by the step that launches the script")
    elif origin is not None and origin.rank == 0 and (report.remote_code or not (origin.path and HUB_ID.fullmatch(origin.path))):
        # A fixed name (or a path next to this file): the file is the deployment's own
        # artifact (committed, or put there by the pipeline step before), not data an
        # outsider chooses; worth fixing, not urgent. So is remote code of a model the
        # code names: it trusts that publisher.
        severity = Severity(max(Severity.LOW, severity - 1))
        committed = _committed(origin.path, ctx.file.path, ctx.all_paths) if origin.path else None
        if committed:
            builder.related(Span(1), "The committed file this call loads; see its artifact findings.", path=committed)
    for node, callee in report.again:
        line = to_file(getattr(node, "lineno", 1))
        details.append(f"`{callee}` loads the same model at line {line}")
        builder.related(Span(line), f"`{callee}` loads the same model again.")
    if report.max_severity is not None:
        severity = Severity(min(severity, report.max_severity))
    return severity, details


def _evidence(origin: Origin | None, to_file: Callable[[int], int]) -> str:
    """Where the data that makes a finding critical comes from: " (from `sys.argv[1]` at line 12)"."""
    if origin is None or not origin.proof or origin.line is None:
        return ""
    if origin.source is None or origin.source in origin.label:
        return f" (line {to_file(origin.line)})"
    return f" (from `{origin.source}` at line {to_file(origin.line)})"


def _named_by(origin: Origin, to_file: Callable[[int], int]) -> str:
    """The evidence for a rule whose message names no data: "the model is named by a
    command-line argument, `sys.argv[1]` at line 3"."""
    where = f" at line {to_file(origin.line)}" if origin.line is not None else ""
    source = f", `{origin.source}`" if origin.source and origin.source not in origin.label else ""
    return f"the model is named by {origin.label}{source}{where}"


HUB_RULE = "ATS-PY-006"
REMOTE_CODE_RULE = "ATS-PY-005"  # held back as practice where the repository trusts remote code by design
HUB_DOWNLOADERS = ("from_pretrained", "snapshot_download", "hf_hub_download")
# `revision=` a full commit, or a name set elsewhere; not a branch or tag written in place.
HUB_PIN = re.compile(r"""\brevision\s*=\s*(?:\\?["'][0-9a-f]{40}\\?["']|[A-Za-z_])""")
CALL_OPEN = re.compile(r"\s*\(")
MAX_CALL_CHARS = 2000  # a call's arguments longer than this are cut short


def hub_pinning(text: str) -> tuple[int, int]:
    """(1, 0) for a file's raw text (a notebook's JSON too) that pins one of its Hub downloads
    to a revision, (0, 1) for one that downloads without pinning any, (0, 0) for neither:
    the repository's practice, by file (a file of tokenizers is no habit), without parsing.
    Found by substring, not by one pattern: over megabytes of notebooks that is far faster."""
    downloads = False
    for name in HUB_DOWNLOADERS:
        at = text.find(name)
        while at >= 0:
            opened = CALL_OPEN.match(text, at + len(name))
            before = text[at - 1] if at else " "
            # not `my_from_pretrained(` nor the definition `def from_pretrained(cls, ...)`
            if opened and not (before.isalnum() or before == "_") and not text.endswith("def ", 0, at):
                downloads = True
                depth, i, stop = 1, opened.end(), min(len(text), opened.end() + MAX_CALL_CHARS)
                while i < stop and depth:
                    depth += {"(": 1, ")": -1}.get(text[i], 0)
                    i += 1
                if HUB_PIN.search(text, opened.end(), i):
                    return 1, 0
            at = text.find(name, at + len(name))
    return (0, 1) if downloads else (0, 0)


ARCHIVE_SUFFIXES = (".zip", ".tar.gz", ".tgz", ".tar")
# `org/name` without a file suffix: a Hub repository, which its owner can change, not a file.
HUB_ID = re.compile(r"[A-Za-z0-9][\w.-]*/[\w-]+(?:\.[\w-]+)*(?<!\.pt)(?<!\.pkl)(?<!\.bin)(?<!\.pth)(?<!\.joblib)")
HUB_COMMANDS = re.compile(r"huggingface-cli|(?:^|\s)hf\s|\bpip3?\s+install\b|\bconda\s+install\b")


def _made_by(program: nb.NotebookProgram) -> frozenset[str]:
    """Folders and files a notebook's shell commands and `%%writefile` cells name
    (`!unzip model_artifacts.zip`, `%%writefile model_artifacts/handler.py`): a model id
    spelled like one of them is a local folder, not a Hub repository."""
    names: set[str] = set()
    for shell in program.shell:
        if HUB_COMMANDS.search(shell.text):
            continue  # `huggingface-cli download org/model`, `pip install x`: names of the Hub or PyPI
        for token in shell.text.split():
            token = token.strip("'\"").rstrip("/")
            if token and not token.startswith("-") and "://" not in token and "{" not in token and "$" not in token:
                for suffix in ARCHIVE_SUFFIXES:
                    token = token.removesuffix(suffix)
                names.add(token.removeprefix("./"))
    for written in program.written:
        # `%%writefile /your/path/model.py`: an absolute path's folders too, but not `/`
        # (its own dirname: the walk up would never end).
        parent = posixpath.dirname((written.name or "").removeprefix("./")).strip("/")
        while parent:
            names.add(parent)
            parent = posixpath.dirname(parent)
    return frozenset(names)


def _fix_property(fix: fixes.Fix, lines: list[str]) -> dict[str, object]:
    """The suggested edit in report coordinates (1-based character columns, end exclusive)."""

    def column(line: int, byte_col: int) -> int:
        return utf8_col_to_char_col(lines[line - 1], byte_col) if 1 <= line <= len(lines) else byte_col + 1

    return {
        "description": fix.description,
        "replacements": [
            {
                "startLine": e.line,
                "startColumn": column(e.line, e.col),
                "endLine": e.end_line,
                "endColumn": column(e.end_line, e.end_col),
                "insertedText": e.text,
            }
            for e in fix.edits
        ],
    }


def _committed(path: str, source_path: str, all_paths: frozenset[str]) -> str | None:
    if path.startswith(("/", "~")) or "://" in path:
        return None
    for candidate in (posixpath.normpath(posixpath.join(posixpath.dirname(source_path), path)), posixpath.normpath(path)):
        if candidate in all_paths:
            return candidate
    return None


def _read(path: str) -> str:
    try:
        if os.path.getsize(path) > MAX_PREPARE_BYTES:
            return ""
        with open(path, "rb") as fh:
            return fh.read().decode("utf-8", "replace")
    except OSError:
        return ""


def _practices(files: list[SourceFile], ctx: PrepareContext, facts: Facts) -> None:
    """The repository's practices, set on `facts`: leaving notebook `pip install`s unpinned
    (at least three notebooks install packages, fewer than half of the packages pinned), Hub
    downloads unpinned (at least three files download, fewer than half of them pin one),
    turning remote code on (`trust_remote_code=True` in at least three files); and the
    environment variables its code sets to literals (`Facts.own_env`). Counted on each code
    file's raw text, read once, remembered per content."""
    memo = ctx.memo
    totals = [0, 0, 0, 0, 0]  # pinned and unpinned packages, pinning and unpinned files, trusting files
    installing = downloading = 0
    for file in files:
        if file.kind not in CODE_KINDS:
            continue
        key = memo.content(file) if memo is not None else ""
        remembered = memo.recall("python.practice", file.path, key) if memo is not None else None
        if _practice_counts(remembered):
            counts, env = remembered[:5], remembered[5]
        else:
            text = _read(file.abspath)
            pip = pip_magics.install_counts(text) if file.kind == "notebook" else (0, 0)
            counts = [*pip, *hub_pinning(text), 1 if "trust_remote_code" in text and TRUSTING.search(text) else 0]
            sets = OWN_ENV_SET.finditer(text) if "environ" in text else ()
            env = [[m.group("name") or m.group("default"), text.count("\n", 0, m.start()) + 1] for m in sets]
            if memo is not None:
                memo.remember("python.practice", file.path, key, [*counts, env])
        for name, line in env:
            facts.own_env.setdefault(name, f"{file.path}:{line}")
        totals = [a + b for a, b in zip(totals, counts, strict=True)]
        installing += 1 if counts[0] or counts[1] else 0
        downloading += 1 if counts[2] or counts[3] else 0
    pip_pinned, pip_unpinned, hub_pinned, hub_unpinned, trusting = totals
    facts.unpinned_notebooks = installing >= PRACTICE_MIN_REFERENCES and pip_pinned * 2 < pip_pinned + pip_unpinned
    facts.unpinned_hub = downloading >= PRACTICE_MIN_REFERENCES and hub_pinned * 2 < hub_pinned + hub_unpinned
    facts.trusting_files = trusting


# `os.environ["NAME"] = "literal"` (or `setdefault("NAME", "literal")`), in a .py file or a
# notebook's JSON (quotes escaped); an f-string or a name on the right is not a literal.
OWN_ENV_SET = re.compile(
    r"""environ(?:\[\s*\\?['"](?P<name>\w+)\\?['"]\s*\]\s*=(?!=)\s*\(?\s*|\.setdefault\(\s*\\?['"](?P<default>\w+)\\?['"]\s*,\s*)[rRbB]?\\?['"]"""
)
# `trust_remote_code=True`, as a keyword or a dict entry (`{"trust_remote_code": True}`).
TRUSTING = re.compile(r"""trust_remote_code\\?['"]?\s*[=:]\s*True\b""")


def _practice_counts(value: object) -> TypeGuard[list[Any]]:
    """A remembered `_practices` entry: five counts, then the [name, line] pairs of `OWN_ENV_SET`."""
    return (
        isinstance(value, list) and len(value) == 6 and all(isinstance(n, int) for n in value[:5])
        and isinstance(value[5], list) and all(isinstance(p, list) and len(p) == 2 for p in value[5])
    )  # fmt: skip


def _wrappers(files: list[SourceFile], facts: Facts, ctx: PrepareContext) -> dict[str, Wrapper]:
    """One-level summaries of project functions that pass a parameter to a sink; with a
    result cache, each file's summaries are remembered by its content and pins."""
    found: dict[str, Wrapper] = {}
    word_at = _any_word(facts.sinks.words)
    # Called or reached into (`os.system(`, `subprocess.`): "system" alone is in every
    # prompt of an LLM repository, and each function naming it would be parsed.
    runner_at = _any_word(facts.sinks.runner_words, r"\s*[.(]") if facts.sinks.runner_words else None
    memo = ctx.memo
    pins_keys: dict[str, str] = {}
    for file in files:
        if file.kind != "python":
            continue
        key = None
        if memo is not None:
            folder = posixpath.dirname(file.path)
            if folder not in pins_keys:
                versions, sources = facts.pins.for_file(file.path)
                pins_keys[folder] = repr(sorted((name, str(v), sources.get(name, "")) for name, v in versions.items()))
            key = f"{memo.content(file)}\0{pins_keys[folder]}"
            remembered = _decode_wrappers(memo.recall("python.wrappers", file.path, key))
            if remembered is not None:
                for wrapper in remembered:
                    found.setdefault(f"{module_key_for_path(file.path)}.{wrapper.name}", wrapper)
                continue
        summaries = _summaries(file, facts, ctx, word_at, runner_at)
        if summaries is None:
            continue  # check_file reports the problem; not remembered, so it is tried again
        for wrapper in summaries:
            found.setdefault(f"{module_key_for_path(file.path)}.{wrapper.name}", wrapper)
        if memo is not None and key is not None:
            memo.remember("python.wrappers", file.path, key, [list(astuple(w)) for w in summaries])
    return found


def _any_word(words: Iterable[str], then: str = "") -> re.Pattern[str]:
    """Where in a text one of `words` stands as an identifier (followed by `then`): one
    scan, few matches."""
    return re.compile(r"(?<!\w)(?:" + "|".join(sorted(map(re.escape, words), key=len, reverse=True)) + r")(?!\w)" + then)


def _summaries(
    file: SourceFile, facts: Facts, ctx: PrepareContext, word_at: re.Pattern[str], runner_at: re.Pattern[str] | None
) -> list[Wrapper] | None:
    """The wrappers one file defines; None when it cannot be parsed. A function returning
    nothing can only wrap a shell command (`SHELL_RULE`)."""
    text = _read(file.abspath)
    if "def " not in text or not mentions(text, facts.sinks.words):
        return []
    try:
        parsed = py.skeleton(text, file.path, word_at, runner_at)
        if parsed is None:
            return []  # no top-level function names a sink: nothing here can be a wrapper
        tree = _functions_with_sinks(*parsed, word_at)
        if tree is None:
            return []
        versions, sources = facts.pins.for_file(file.path)
        analysis = Analysis(tree, versions, facts.sinks, enabled=ctx.enabled, pin_sources=sources, for_summary=True)
        reports = [r for r in analysis.run() if r.precision != Precision.LOW]
        return list(analysis.summarize(reports, file.path))
    except (ParseError, RecursionError, MemoryError, ValueError):
        return None


_WRAPPER_FIELDS = len(fields(Wrapper))


def _decode_wrappers(value: object) -> list[Wrapper] | None:
    """Remembered summaries back into Wrappers; None for anything not of their shape."""
    if not isinstance(value, list):
        return None
    out = []
    for row in value:
        if not isinstance(row, list) or len(row) != _WRAPPER_FIELDS:
            return None
        name, param, position, rule, sink, detail, path, line, check = row
        if not all(isinstance(v, str) for v in (name, param, rule, sink, detail, path, check)):
            return None
        if not (position is None or type(position) is int) or type(line) is not int:
            return None
        out.append(Wrapper(name, param, position, rule, sink, detail, path, line, check))
    return out


def _functions_with_sinks(tree: ast.Module, text: str, word_at: re.Pattern[str]) -> ast.Module | None:
    """The module-level statements plus only the top-level functions that could be wrappers
    (their text names a sink word): all a summary needs, at a fraction of the cost of the
    whole file."""
    sink_lines: list[int] = []
    line, position = 1, 0
    for m in word_at.finditer(text):
        line += text.count("\n", position, m.start())
        position = m.start()
        if not sink_lines or sink_lines[-1] != line:
            sink_lines.append(line)
    keep: list[ast.stmt] = []
    functions = 0
    for stmt in tree.body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            first = bisect.bisect_left(sink_lines, stmt.lineno)
            if first < len(sink_lines) and sink_lines[first] <= (stmt.end_lineno or stmt.lineno):
                keep.append(stmt)
                functions += 1
        elif not isinstance(stmt, ast.ClassDef):
            keep.append(stmt)
    return ast.Module(body=keep, type_ignores=[]) if functions else None
