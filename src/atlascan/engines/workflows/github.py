"""GitHub Actions checks over workflows (`.github/workflows/*.yml`) and actions (`action.yml`).

`Workflow` is the small model every check reads: triggers, jobs and steps (for an action,
its composite steps form one job). Each check is one function in `CHECKS`, run only when
one of its rules is enabled.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING

from atlascan.engines.workflows import GITHUB_OWNED, Facts, remote_uses, sha_practice
from atlascan.engines.workflows.common import (
    image_of,
    image_unpinned,
    in_scalar,
    sensitive_paths,
)
from atlascan.identity import owners_account, owners_image
from atlascan.model import Severity, Span
from atlascan.parsers.yaml import Mapping, Scalar, Sequence, YNode, walk
from atlascan.pathclass import UNPROVEN
from atlascan.vocabulary import COMMIT_SHA

if TYPE_CHECKING:
    from atlascan.analysis import FileContext

# ---- the model --------------------------------------------------------------------------


@dataclass
class Job:
    name: str
    node: Mapping
    steps: list[Mapping]

    @property
    def needs(self) -> list[str]:
        """The jobs this one waits for (`needs:`, one name or a list)."""
        value = self.node.get("needs")
        items = value.items if isinstance(value, Sequence) else [value]
        return [n.value.strip() for n in items if isinstance(n, Scalar)]


@dataclass
class Workflow:
    root: Mapping
    triggers: set[str]
    jobs: list[Job] = field(default_factory=list)
    action: bool = False

    @property
    def privileged_trigger(self) -> str | None:
        """A trigger that runs with the base repository's secrets and a write token while
        reacting to something an outsider controls."""
        for name in ("pull_request_target", "workflow_run", "issue_comment"):
            if name in self.triggers:
                return name
        return None


def _triggers(node: YNode | None) -> set[str]:
    if isinstance(node, Scalar):
        return {node.value}
    if isinstance(node, Sequence):
        return {i.value for i in node.items if isinstance(i, Scalar)}
    if isinstance(node, Mapping):
        return set(node.keys())
    return set()


def _steps(node: YNode | None) -> list[Mapping]:
    return [s for s in node.items if isinstance(s, Mapping)] if isinstance(node, Sequence) else []


def workflow(root: Mapping, action: bool) -> Workflow:
    if action:
        runs = root.get("runs")
        steps = _steps(runs.get("steps")) if isinstance(runs, Mapping) else []
        return Workflow(root, set(), [Job("(composite)", runs if isinstance(runs, Mapping) else root, steps)], action=True)
    flow = Workflow(root, _triggers(root.get("on")))
    jobs = root.get("jobs")
    if isinstance(jobs, Mapping):
        for name, _, job in jobs.entries():
            if isinstance(job, Mapping):
                flow.jobs.append(Job(name, job, _steps(job.get("steps"))))
    return flow


def _uses(step: Mapping) -> str:
    return (step.text("uses") or "").strip()


def _is_action(step: Mapping, name: str) -> bool:
    return _uses(step).lower().split("@", 1)[0] == name


def _with(step: Mapping) -> Mapping | None:
    value = step.get("with")
    return value if isinstance(value, Mapping) else None


# ---- ATS-GHA-001: expression injection into scripts -------------------------------------

EXPRESSION = re.compile(r"\$\{\{(.*?)\}\}", re.S)
# Contexts whose text an outsider writes (titles, bodies, branch names, commit messages).
ATTACKER_CONTEXT = re.compile(
    r"\bgithub\.head_ref\b|"
    r"\bgithub\.event\.(?:"
    r"(?:issue|pull_request|discussion)\.(?:title|body)|"
    r"pull_request\.head\.(?:ref|label|repo\.default_branch)|"
    r"(?:comment|review|review_comment|discussion_comment)\.body|"
    r"(?:head_commit|workflow_run\.head_commit)\.(?:message|(?:author|committer)\.(?:email|name))|"
    r"workflow_run\.(?:head_repository\.description|pull_requests(?:\[[^\]]*\]|\.\*)\.head\.ref)|"
    r"commits(?:\[[^\]]*\]|\.\*)\.(?:message|author\.(?:email|name))|"
    r"workflow_run\.(?:head_branch|display_title)|"
    r"pages(?:\[[^\]]*\]|\.\*)\.page_name"
    r")\b"
)


# Action inputs that hold code the action runs: `script:` of github-script, pwsh-script,
# run-python-script and the like, Azure's `inlineScript:`, yq's expression.
CODE_INPUTS = frozenset({"script", "inlinescript", "inline-script"})
CODE_INPUTS_BY_ACTION = {"mikefarah/yq": "cmd"}


def _script_scalars(step: Mapping) -> Iterator[tuple[Scalar, str]]:
    run = step.get("run")
    if isinstance(run, Scalar):
        shell = (step.text("shell") or "").strip().split(" ", 1)[0]
        yield run, f"`{shell}`" if shell and shell not in ("bash", "sh") else "run"
    with_ = _with(step)
    if with_ is None:
        return
    action = _uses(step).lower().split("@", 1)[0]
    for key, _, value in with_.entries():
        if isinstance(value, Scalar) and (key.lower() in CODE_INPUTS or CODE_INPUTS_BY_ACTION.get(action) == key):
            yield value, "github-script" if action == "actions/github-script" else f"`{action.rsplit('/', 1)[-1]}`"


# Events an outsider can cause; on other triggers (push, schedule, dispatch) the contexts
# above are written by people who can already push, so the finding is graded low.
OUTSIDER_TRIGGERS = frozenset(
    {"pull_request", "pull_request_target", "issues", "issue_comment", "discussion", "discussion_comment",
     "pull_request_review", "pull_request_review_comment", "workflow_run", "fork", "watch", "gollum"}
)  # fmt: skip
# Context references inside an expression; `github.event` alone (`toJSON(github.event)`)
# carries every attacker-written field of the payload. A context starts the reference:
# `github.event.inputs.x` (a dispatch's inputs, typed by someone with write access) is no
# `inputs.x`.
CONTEXT_REF = re.compile(r"(?<![.\w-])(?:env|inputs|matrix|steps|needs)(?:\.[\w-]+|\[[^\]]*\])+|\bgithub\.event\b(?![.\w\[])")
# Grades, most controllable first. UNCALLED: an input of a reusable workflow or an action
# kept under `.github/` that no workflow of the repository calls; what it holds does not
# show, the finding is held back as unproven (`pathclass.UNPROVEN`).
# OPAQUE: what an action outputs from an outsider's input (held back as unproven too): its
# code, not a script's variable, makes the output.
ATTACKER, UNKNOWN, OPAQUE, UNCALLED = "attacker", "unknown", "opaque", "uncalled"
GRADE_ORDER = (UNCALLED, OPAQUE, UNKNOWN, ATTACKER)
# What the unproven notices say is missing (see pathclass.UNPROVEN).
TRUSTED_UNKNOWN = (
    "no outside input shown (a value of unknown origin in a workflow only people with push access start, "
    "through every caller of a reusable one, or that no workflow here calls)"
)
UNCALLED_INPUT = (
    "no caller in the repository to show what a reusable workflow's or a `.github/` action's input holds "
    "(called from elsewhere, if at all)"
)
ACTION_OUTPUT = "no outside input shown (what an action outputs from an outsider's input: its code's, not theirs, unless known to echo it)"
FORK_RUN = (
    "nothing gained by the injection (a fork's `pull_request` run holds a read-only token and no secrets, "
    "on a GitHub runner it leaves)"
)


def _stronger(a: tuple[str, str] | None, b: tuple[str, str] | None) -> tuple[str, str] | None:
    """The more controllable of two grades (the first on a tie)."""
    if a is None or (b is not None and GRADE_ORDER.index(b[0]) > GRADE_ORDER.index(a[0])):
        return b
    return a


@dataclass
class _Scope:
    """What an expression in one step can read: the env blocks around it, the job's matrix,
    the inputs of the action or reusable workflow."""

    flow: Workflow
    job: Job
    step: Mapping
    ctx: FileContext | None = None
    path: str = ""
    # The reusable workflows and actions whose inputs led to this caller (cycles, nesting).
    chain: tuple[str, ...] = ()


def _env_value(scope: _Scope, name: str) -> Scalar | None:
    for node in (scope.step, scope.job.node, scope.flow.root):
        env = node.get("env")
        if isinstance(env, Mapping) and name in env:
            value = env.get(name)
            return value if isinstance(value, Scalar) else None
    return None


def _input_typed_safe(flow: Workflow, name: str) -> bool:
    """True for a `workflow_call` input declared boolean or number (no text to inject)."""
    on = flow.root.get("on")
    call = on.get("workflow_call") if isinstance(on, Mapping) else None
    inputs = call.get("inputs") if isinstance(call, Mapping) else None
    spec = inputs.get(name) if isinstance(inputs, Mapping) else None
    return isinstance(spec, Mapping) and (spec.text("type") or "").strip() in ("boolean", "number")


def _matrix_values(job: Job, key: str) -> list[Scalar]:
    """The scalars `matrix.<key>` may take that are expressions (a matrix built by
    `fromJSON(...)`, or values that are themselves expressions)."""
    strategy = job.node.get("strategy")
    matrix = strategy.get("matrix") if isinstance(strategy, Mapping) else None
    if isinstance(matrix, Scalar):
        return [matrix] if "${{" in matrix.value else []
    if not isinstance(matrix, Mapping):
        return []
    from atlascan.parsers.yaml import walk

    candidates: list[YNode | None] = [matrix.get(key)]
    entries = matrix.get("include")
    if isinstance(entries, Scalar):
        candidates.append(entries)
    elif isinstance(entries, Sequence):
        candidates.extend(e.get(key) for e in entries.items if isinstance(e, Mapping))
    return [n for c in candidates if c is not None for n in walk(c) if isinstance(n, Scalar) and "${{" in n.value]


# Parts of an expression that yield a boolean, never the text they read: a comparison's
# operands and the arguments of contains/startsWith/endsWith (`matrix.x == 'helm' && '...'`
# expands to a constant).
BOOLEAN_USE = re.compile(
    r"\b(?:contains|startsWith|endsWith)\s*\([^()]*\)"
    r"|[\w.\-\[\]'*]+\s*(?:==|!=|<=|>=|<|>)\s*[\w.\-\[\]'*]+"
)


def _classify(expression: str, scope: _Scope, depth: int = 0) -> tuple[str, str] | None:
    """The most controllable context an expression reads: (ATTACKER, UNKNOWN, OPAQUE or UNCALLED,
    the context), or None when only maintainers write what it reads."""
    expression = BOOLEAN_USE.sub(" ", expression)
    found = ATTACKER_CONTEXT.search(expression)
    if found:
        return ATTACKER, found.group(0)
    unknown: tuple[str, str] | None = None
    for m in CONTEXT_REF.finditer(expression):
        ref = m.group(0)
        head, _, rest = ref.partition(".")
        name = re.split(r"[.\[]", rest, maxsplit=1)[0] if rest else ""
        if ref == "github.event":
            return ATTACKER, ref
        if head == "env" and depth < 3:
            value = _env_value(scope, name)
            if value is not None and "${{" in value.value:
                for inner in EXPRESSION.finditer(value.value):
                    grade = _classify(inner.group(1), scope, depth + 1)
                    if grade and grade[0] == ATTACKER:
                        return ATTACKER, f"{ref}` set from `{grade[1]}"
                    unknown = _stronger(unknown, grade and (grade[0], f"{ref}` set from `{grade[1]}"))
        elif head == "inputs":
            if (scope.flow.action or "workflow_call" in scope.flow.triggers) and not _input_typed_safe(scope.flow, name):
                grade = _resolve_input(scope, name, depth)
                if grade is not None and grade[0] == ATTACKER:
                    return ATTACKER, f"{ref}` passed by `{grade[1]}"
                unknown = _stronger(unknown, grade and (grade[0], ref))
        elif head in ("steps", "needs"):
            if ".outputs." in ref:
                grade = _resolve_output(scope, head, name, ref.rpartition(".")[2], depth)
                if grade is not None and grade[0] == ATTACKER:
                    return ATTACKER, f"{ref}` set from `{grade[1]}"
                unknown = _stronger(unknown, grade and (grade[0], ref))
        elif head == "matrix" and depth < 3:
            for value in _matrix_values(scope.job, name):
                for inner in EXPRESSION.finditer(value.value):
                    grade = _classify(inner.group(1), scope, depth + 1)
                    if grade and grade[0] == ATTACKER:
                        return ATTACKER, f"{ref}` set from `{grade[1]}"
                    unknown = _stronger(unknown, grade and (grade[0], ref))
    return unknown


# Outputs well-known actions write from maintainer-controlled data (versions, digests,
# artifact addresses, paths-filter's true/false per filter).
TRUSTED_OUTPUTS = {
    "actions/setup-python": {"python-version", "python-path", "cache-hit"},
    "actions/setup-go": {"go-version", "cache-hit"},
    "actions/setup-node": {"node-version", "cache-hit"},
    "actions/upload-artifact": {"artifact-id", "artifact-url", "artifact-digest"},
    "docker/build-push-action": {"digest", "imageid"},
    "depot/build-push-action": {"digest", "imageid", "build-id", "project-id"},  # Depot's drop-in
}
# Outputs of well-known actions that are text an outsider writes on pull-request events:
# tj-actions/branch-names hands over the head branch's name as it is (CVE-2023-49291).
ATTACKER_OUTPUTS = {
    "tj-actions/branch-names": {"current_branch", "head_ref_branch", "ref_branch", "tag"},
}
GITHUB_OUTPUT_WRITE = re.compile(r"""^\s*echo\s+["']?([\w-]+)=(.*?)["']?\s*>>\s*["']?\$\{?GITHUB_OUTPUT\}?["']?\s*$""", re.M)


def _resolve_output(scope: _Scope, head: str, owner: str, name: str, depth: int) -> tuple[str, str] | None:
    """What `steps.<owner>.outputs.<name>` or `needs.<owner>.outputs.<name>` holds: None
    when a well-known action or a `run:` step of this job writes it from constants (or
    a job output is set from such a step), else the grade of what it is set from."""
    ref = f"{head}.{owner}.outputs.{name}"
    if depth >= 3:
        return UNKNOWN, ref
    if head == "needs":
        job = next((j for j in scope.flow.jobs if j.name == owner), None)
        outputs = job.node.get("outputs") if job is not None else None
        value = outputs.get(name) if isinstance(outputs, Mapping) else None
        if job is None or not isinstance(value, Scalar):
            return UNKNOWN, ref
        inner_scope = _Scope(scope.flow, job, job.node, scope.ctx, scope.path, scope.chain)
        grade: tuple[str, str] | None = None
        for m in EXPRESSION.finditer(value.value):
            grade = _stronger(grade, _classify(m.group(1), inner_scope, depth + 1))
        return grade
    # Contexts are case-insensitive. No step of the job has that id (a typo, a removed
    # step): the expression expands to the empty string, nothing anyone writes.
    step = next((s for s in scope.job.steps if (s.text("id") or "").strip().lower() == owner.lower()), None)
    if step is None:
        return None
    action = _uses(step).lower().split("@", 1)[0]
    if name in ATTACKER_OUTPUTS.get(action, ()):
        return ATTACKER, action
    if name in TRUSTED_OUTPUTS.get(action, ()) or (action == "dorny/paths-filter" and not name.endswith("_files")):
        return None
    if action == "actions/github-script" and _script_output_constant(step, name):
        return None
    inner_scope = _Scope(scope.flow, scope.job, step, scope.ctx, scope.path, scope.chain)
    run = step.get("run")
    if isinstance(run, Scalar):
        writes = [m.group(2) for m in GITHUB_OUTPUT_WRITE.finditer(run.value) if m.group(1) == name]
        other = "GITHUB_OUTPUT" in run.value.replace("$GITHUB_OUTPUT", "", len(writes)).replace("${GITHUB_OUTPUT}", "")
        if writes and not other and not any("$" in w.replace("${{", "") for w in writes):
            for written in writes:
                for m in EXPRESSION.finditer(written):
                    grade = _classify(m.group(1), inner_scope, depth + 1)
                    if grade:
                        return grade
            return None
    return _producer_reads(step, inner_scope, ref, depth)


# A step that fetches pull-request or issue text through the API or the CLI: what it
# outputs may be an outsider's words though no expression in it names them. The CLI's
# writes (`gh pr create`, `gh issue comment`) print a URL or a status, not such text.
API_TEXT_READ = re.compile(
    r"\bgh\s+(?:pr|issue)\b(?!\s+(?:create|merge|close|reopen|edit|comment|ready|lock|unlock|delete|pin|unpin)\b)|"
    r"\bgh\s+(?:api|run)\b|\bgithub\.(?:rest|request|graphql)\b|\bcontext\.payload\b|api\.github\.com"
)
API_ACTIONS = frozenset({"octokit/request-action", "octokit/graphql-action"})
# Reads of a repository's releases and tags (`repos/<owner>/<name>/releases/latest` through
# curl or `gh api`, Octokit's release and tag calls): tag names and release notes are
# written by people with release rights, not by whoever opened a pull request or an issue.
RELEASE_READ = re.compile(
    r"\brepos/(?:\$\{\{\s*github\.repository\s*\}\}|\$\{?GITHUB_REPOSITORY\}?|[\w.{}$-]+/[\w.{}$-]+)/(?:releases|tags)\b"
)
RELEASE_CALL = re.compile(r"\bgithub\.rest\.repos\.(?:getLatestRelease|getReleaseByTag|getRelease|listReleases|listTags)\b")


def _without_release_reads(text: str) -> str:
    """`text` without the commands that read a repository's releases or tags, so that
    only reads of pull-request, issue or run text remain for `API_TEXT_READ`."""
    segments = COMMAND_SPLIT.split(RELEASE_CALL.sub(" ", text).replace("\\\n", " "))
    return "\n".join(s for s in segments if not RELEASE_READ.search(s))


# `core.setOutput(name, value)` in `actions/github-script`, and the values that are
# constants whatever the script read: literals, numbers, numeric fields, booleans.
SET_OUTPUT = re.compile(r"\bcore\.setOutput\s*\(")
JS_STRING = re.compile(r"""'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"|`[^`$\\]*`""")
JS_LITERAL = re.compile(r"-?\d+(?:\.\d+)?|true|false|null|undefined")
# Fields that hold numbers (`pr.number`, `labels.size`), calls that return one (read on the
# masked expression: `Number(_____)`), and `String(...)`/`.toString()` of a constant.
JS_NUMBER = re.compile(r"[\w$.?]*\.(?:number|id|length|size|count|total_count|run_number|run_id|run_attempt)")
JS_NUMBER_CALL = re.compile(r"(?:Number|parseInt|parseFloat|Math\.\w+)\(_*\)")
JS_TO_STRING = re.compile(r"String\(_*\)|(.+)\.toString\(\)")


def _js_mask(code: str) -> str:
    """`code` with the insides of strings and brackets replaced by `_` (same length): what
    is left is its top level, where operators and commas can be read."""
    out: list[str] = []
    depth = i = 0
    while i < len(code):
        c = code[i]
        if c in "'\"`":
            end = i + 1
            while end < len(code) and code[end] != c:
                end += 2 if code[end] == "\\" else 1
            end = min(end, len(code) - 1)
            inside = "_" * max(end - i - 1, 0)
            out.append("_" * (end - i + 1) if depth else c + inside + (code[end] if end > i else ""))
            i = end + 1
            continue
        if c in "([{":
            out.append("_" if depth else c)
            depth += 1
        elif c in ")]}" and depth:
            depth -= 1
            out.append("_" if depth else c)
        else:
            out.append("_" if depth else c)
        i += 1
    return "".join(out)


def _ternary_mark(masked: str, i: int) -> bool:
    """A top-level `?` of `cond ? a : b` (not `?.` or `??`)."""
    return masked[i] == "?" and masked[i + 1 : i + 2] not in (".", "?") and masked[i - 1 : i] != "?"


def _js_args(code: str, start: int) -> list[str] | None:
    """The arguments of the call whose `(` ends at `start` (top-level commas), or None
    when the call is not closed."""
    end = _js_mask(code[start - 1 :]).find(")")  # inside the call all is masked: its `)`
    if end < 0:
        return None
    inner = code[start : start - 1 + end]
    args, last = [], 0
    for i, c in enumerate(_js_mask(inner)):
        if c == ",":
            args.append(inner[last:i].strip())
            last = i + 1
    args.append(inner[last:].strip())
    return [a for a in args if a]


def _js_constant(expr: str, depth: int = 0) -> bool:
    """True when a JavaScript expression's value is one a maintainer wrote or a number or
    boolean, whatever the data it reads: `"false"`, `String(pr.number)`,
    `eligible && ok ? "true" : "false"`, `labels.size`, `a === b`."""
    expr = expr.strip()
    if not expr or depth > 8:
        return False
    masked = _js_mask(expr)
    if masked[0] == "(" and masked[-1] == ")" and masked.count("(") == 1:
        return _js_constant(expr[1:-1], depth + 1)
    if JS_STRING.fullmatch(expr) or JS_LITERAL.fullmatch(expr) or JS_NUMBER.fullmatch(expr) or JS_NUMBER_CALL.fullmatch(masked):
        return True
    m = JS_TO_STRING.fullmatch(masked)
    if m:
        return _js_constant(expr[7:-1] if m.group(1) is None else expr[: m.end(1)], depth + 1)
    question = next((i for i in range(1, len(masked)) if _ternary_mark(masked, i)), -1)
    if question > 0:
        nested = 0
        for i in range(question + 1, len(masked)):
            if _ternary_mark(masked, i):
                nested += 1
            elif masked[i] == ":":
                if nested == 0:
                    return _js_constant(expr[question + 1 : i], depth + 1) and _js_constant(expr[i + 1 :], depth + 1)
                nested -= 1
        return False
    if re.search(r"\|\||&&|\?\?|=>", masked):
        return False  # `a || "x"` is `a` when it is set
    return bool(re.search(r"[=!]==?|[<>]=?", masked) or masked.startswith("!"))


def _script_output_constant(step: Mapping, name: str) -> bool:
    """True when an `actions/github-script` step sets output `name` only to constants
    (`core.setOutput("eligible", ok ? "true" : "false")`), whatever its script reads: an
    expression expanded into a value, or an output named by a variable, counts as
    unknown."""
    with_ = _with(step)
    script = with_.get("script") if with_ is not None else None
    if not isinstance(script, Scalar):
        return False
    found = False
    for m in SET_OUTPUT.finditer(script.value):
        args = _js_args(script.value, m.end())
        if args is None or len(args) != 2 or not JS_STRING.fullmatch(args[0]) or "${" in args[0]:
            return False
        if args[0][1:-1] != name:
            continue
        if "${{" in args[1] or not _js_constant(args[1]):
            return False
        found = True
    return found


def _producer_reads(step: Mapping, scope: _Scope, ref: str, depth: int) -> tuple[str, str] | None:
    """The grade of an output its step computes (shell variables, command output, an
    action's logic): the most controllable data the step reads (its script, `env:` and
    `with:` expressions), UNKNOWN when it fetches pull-request or issue text itself, None
    when it reads only what maintainers wrote (the checkout, git, constants): an output
    is an outsider's only if something the step consumed was."""
    texts: list[str] = []
    for key in ("run", "env", "with"):
        node = step.get(key)
        if isinstance(node, Scalar):
            texts.append(node.value)
        elif isinstance(node, Mapping):
            texts.extend(v.value for _, _, v in node.entries() if isinstance(v, Scalar))
    unknown: tuple[str, str] | None = (UNKNOWN, ref) if _uses(step).lower().split("@", 1)[0] in API_ACTIONS else None
    # A script's variables carry what it reads into its outputs (a `run:`, github-script's
    # `script:`); an action's outputs are what its code makes of its inputs (horovod's
    # Buildkite trigger is handed the head branch and outputs the build's URL): opaque,
    # unless the action is known to echo them (`ATTACKER_OUTPUTS`) or fetches pull-request
    # text itself (`API_ACTIONS`).
    action = next(_script_scalars(step), None) is None
    for text in texts:
        for m in EXPRESSION.finditer(text):
            grade = _classify(m.group(1), scope, depth + 1)
            if grade and grade[0] == ATTACKER and not action:
                return grade
            unknown = _stronger(unknown, grade and (OPAQUE if action else grade[0], ref))
        if API_TEXT_READ.search(_without_release_reads(text)):
            unknown = _stronger(unknown, (UNKNOWN, ref))
    return unknown


# ---- callers of local actions and reusable workflows -------------------------------------

MAX_CALLER_FILES = 300


@lru_cache(maxsize=4)
def _repo_roots(all_paths: frozenset[str]) -> tuple[str, ...]:
    """The folders (relative to the scan root, with a trailing slash; "" for the root) that
    hold a `.github/workflows/` folder: the repositories of the scan, longest first. A scan
    of `checkouts/repo` from its parent sees `repo/.github/workflows/x.yml`, and `uses:
    ./.github/...` in it means `repo/.github/...`."""
    roots = set()
    for path in all_paths:
        at = path.find(".github/workflows/")
        if at == 0 or (at > 0 and path[at - 1] == "/"):
            roots.add(path[:at])
    return tuple(sorted(roots, key=len, reverse=True))


def _repo_of(path: str, all_paths: frozenset[str]) -> str:
    """The repository folder (`repo/`, or "") a path of the scan belongs to."""
    return next((r for r in _repo_roots(all_paths) if path.startswith(r)), "")


def _local_target(path: str, action: bool, repo: str = "") -> str | None:
    """What a caller in this repository writes in `uses:` to call the file at `path`
    (`./.github/actions/foo`, `./.github/workflows/x.yml`); None for an action at the
    repository root, which other repositories call."""
    path = path[len(repo) :]
    if action:
        folder = path.rpartition("/")[0]
        return "./" + folder if folder else None
    return "./" + path


def _gha_paths(ctx: FileContext, repo: str = "") -> list[tuple[str, bool]]:
    """The actions and workflows of the repository at `repo`."""
    out = []
    for path in sorted(ctx.all_paths):
        if not path.startswith(repo) or _repo_of(path, ctx.all_paths) != repo:
            continue
        name = path.rpartition("/")[2]
        if name in ("action.yml", "action.yaml"):
            out.append((path, True))
        elif path.startswith(repo + ".github/workflows/") and path.endswith((".yml", ".yaml")):
            out.append((path, False))
    return out[:MAX_CALLER_FILES]


def _callers(
    ctx: FileContext, path: str, action: bool, chain: tuple[str, ...] = ()
) -> list[tuple[_Scope, Mapping | None, str]]:
    """Every call of the local action or reusable workflow at `path` in the scan: the
    caller's scope (its `chain` the callees that led there, `path` last), its `with:`
    mapping, the caller's path. Files are read through the parse stage (`ctx.document`),
    never executed."""
    from atlascan.model import ParseError, SkipFile, SourceFile

    repo = _repo_of(path, ctx.all_paths)
    target = _local_target(path, action, repo)
    if target is None:
        return []
    root, repository = ctx.root, _repository(ctx)
    out: list[tuple[_Scope, Mapping | None, str]] = []
    for other, other_action in _gha_paths(ctx, repo):
        abspath = root + other
        try:
            doc = ctx.document(SourceFile(other, abspath, "gha-action" if other_action else "gha-workflow", 0))
        except (OSError, ParseError, SkipFile):
            continue
        for tree in doc.tree.roots():
            if not isinstance(tree, Mapping):
                continue
            flow = workflow(tree, other_action)
            for job in flow.jobs:
                uses = _uses(job.node)
                if uses.rstrip("/") == target or (not action and _call_target(uses, other, ctx.all_paths, repository) == path):
                    out.append((_Scope(flow, job, job.node, ctx, other, (*chain, path)), _with(job.node), other))
                for step in job.steps:
                    if _uses(step).rstrip("/") == target:
                        out.append((_Scope(flow, job, step, ctx, other, (*chain, path)), _with(step), other))
    return out


def _resolve_input(scope: _Scope, name: str, depth: int) -> tuple[str, str] | None:
    """What `inputs.<name>` of a local action or reusable workflow may hold, judged at
    every caller in the repository: None when each passes maintainer-written values (or
    leaves a constant default), ATTACKER naming the caller (`path:line` as `context`) when
    one passes outsider text, UNKNOWN when a caller's value is of unknown origin or there
    is no caller to judge a published action by (one outside `.github/`, called from other
    repositories), UNCALLED when nothing in the repository calls one kept under `.github/`.
    A caller's expression is judged afresh (`depth` 0): the call chain is bounded apart, by
    GitHub's nesting limit, and a cycle (which GitHub refuses to run) is of unknown origin."""
    path = scope.path or (scope.ctx.file.path if scope.ctx is not None else "")
    if scope.ctx is None or path in scope.chain or len(scope.chain) >= MAX_CALL_DEPTH:
        return UNKNOWN, f"inputs.{name}"
    calls = _callers(scope.ctx, path, scope.flow.action, scope.chain)
    if not calls:
        internal = path[len(_repo_of(path, scope.ctx.all_paths)) :].startswith(".github/")
        return (UNCALLED if internal else UNKNOWN), f"inputs.{name}"
    default = _input_default(scope.flow, name)
    unknown: tuple[str, str] | None = None
    for caller, with_, caller_path in calls:
        value = with_.get(name) if with_ is not None else None
        if value is None:
            if default is not None and "${{" in default:
                unknown = _stronger(unknown, (UNKNOWN, f"inputs.{name}"))
            continue
        if not isinstance(value, Scalar):
            continue
        for m in EXPRESSION.finditer(value.value):
            grade = _classify(m.group(1), caller)
            if grade and grade[0] == ATTACKER:
                return ATTACKER, f"{caller_path}:{value.line}` as `{grade[1]}"
            unknown = _stronger(unknown, grade)
    return unknown


def _input_default(flow: Workflow, name: str) -> str | None:
    if flow.action:
        inputs = flow.root.get("inputs")
    else:
        on = flow.root.get("on")
        call = on.get("workflow_call") if isinstance(on, Mapping) else None
        inputs = call.get("inputs") if isinstance(call, Mapping) else None
    spec = inputs.get(name) if isinstance(inputs, Mapping) else None
    return spec.text("default") if isinstance(spec, Mapping) else None


def check_injection(flow: Workflow, ctx: FileContext) -> None:
    # Actions and reusable workflows (`workflow_call`) inherit their callers' triggers.
    unknown = flow.action or "workflow_call" in flow.triggers
    severity = None if unknown or flow.triggers & OUTSIDER_TRIGGERS else Severity.LOW
    trusted: bool | None = None  # only people with push access start it (read at the first unknown value)
    # Outsiders start it only as pull requests: a fork's run is sandboxed by GitHub itself.
    forks_only = not unknown and bool(flow.triggers & PULL_REQUEST_TRIGGERS) and _maintainers_or_pull_requests(flow)
    for job in flow.jobs:
        sandboxed = forks_only and not _self_hosted(job)
        for step in job.steps:
            scope = _Scope(flow, job, step, ctx, ctx.file.path)
            for script, where in _script_scalars(step):
                if "${{" not in script.value:
                    continue
                for m in EXPRESSION.finditer(script.value):
                    grade = _classify(m.group(1), scope)
                    if grade is None:
                        continue
                    kind, context = grade
                    finding = ctx.finding("ATS-GHA-001").at(in_scalar(ctx, script, m.start(), m.end()))
                    level = severity if kind == ATTACKER else Severity.MEDIUM if severity is None else Severity.LOW
                    if kind == UNCALLED:
                        finding.property(UNPROVEN, UNCALLED_INPUT)
                    elif kind == OPAQUE:
                        # horovod's Buildkite build URLs, judged FALSE.
                        finding.property(UNPROVEN, ACTION_OUTPUT)
                    elif kind == UNKNOWN:
                        trusted = _started_by_maintainers(ctx, flow, ctx.file.path) if trusted is None else trusted
                        if trusted:
                            # mlrun's version strings and dispatch choices, judged NOISE: no
                            # outsider starts the run, and none of its text is shown as theirs.
                            finding.property(UNPROVEN, TRUSTED_UNKNOWN)
                    elif sandboxed:
                        # kedro's and horovod's head branch names on `pull_request`, judged NOISE.
                        finding.property(UNPROVEN, FORK_RUN)
                    finding.args(context=context, where=where).severity(level).emit()


def _started_by_maintainers(ctx: FileContext, flow: Workflow, path: str) -> bool:
    """Whether no outsider's event starts the workflow at `path` here: its triggers (through
    every caller of a reusable one) are maintainers' (`_trusted_triggers`), or they are and
    `workflow_call`, and no workflow of the repository calls it (djl-serving's dispatch-only
    integration tests). Then its inputs are held back as uncalled, and a value of unknown
    origin is the run's own."""
    if _trusted_triggers(ctx, flow, path):
        return True
    return (
        "workflow_call" in flow.triggers and flow.triggers <= TRUSTED_TRIGGERS | {"workflow_call"}
        and path[len(_repo_of(path, ctx.all_paths)) :].startswith(".github/")
        and not _callers(ctx, path, False)
    )  # fmt: skip


# ---- ATS-GHA-002: privileged trigger checks out the untrusted head, then runs it ---------

HEAD_REF = re.compile(
    r"github\.event\.pull_request\.head\.(?:sha|ref)|github\.head_ref|github\.event\.workflow_run\.head_(?:sha|branch)|"
    r"refs/pull/|github\.event\.pull_request\.merge_commit_sha|github\.event\.pull_request\.head\.repo\.full_name"
)
# Commands that put the head in the working tree. A bare `git fetch` of `pull/N/head` only
# stores commits (a cherry-pick of a merged pull request starts that way); it counts when
# the same script then checks the fetched ref out.
PR_CHECKOUT_CMD = re.compile(r"\bgh\s+pr\s+checkout\b|\bgit\s+pull\b[^\n;&|]*\bpull/")
PR_FETCH_CMD = re.compile(r"\bgit\s+fetch\b[^\n;&|]*\bpull/")
GIT_CHECKOUT = re.compile(r"\bgit\s+(?:checkout|switch|reset\s+--hard|merge|worktree\s+add)\b")
COMMAND_SPLIT = re.compile(r"\n|;|&&|\|\||\||\$\(|`|\bthen\b|\bdo\b")
# Programs that build, test, install or interpret what the working tree holds.
RUNNERS = frozenset(
    {"make", "cmake", "ninja", "bazel", "bazelisk", "gradle", "mvn", "ant", "sbt", "cargo", "npm", "npx", "yarn",
     "pnpm", "bun", "node", "deno", "python", "python3", "pytest", "tox", "nox", "pre-commit", "poetry", "uv",
     "hatch", "pdm", "pipenv", "bundle", "rake", "ruby", "perl", "php", "composer", "dotnet", "docker-compose",
     "terraform", "source", "."}
)  # fmt: skip
SHELLS = frozenset({"bash", "sh", "zsh", "dash", "ksh"})
PYTHON = re.compile(r"python(?:\d(?:\.\d+)?)?")  # `python`, `python3`, `python3.11`
# Marketplace actions that run the checked-out tree (hooks, build files, linters' plugins).
EXECUTING_ACTIONS = (
    "docker/build-push-action", "pre-commit/action", "golangci/golangci-lint-action", "goreleaser/goreleaser-action",
    "github/codeql-action/autobuild", "ruby/setup-ruby", "bridgecrewio/checkov-action", "oxsecurity/megalinter",
)  # fmt: skip


def check_untrusted_checkout(flow: Workflow, ctx: FileContext) -> None:
    trigger = flow.privileged_trigger
    if trigger is None:
        return
    for job in flow.jobs:
        for i, step in enumerate(job.steps):
            site: Span | Scalar | None = None
            folder = ""
            if _is_action(step, "actions/checkout"):
                with_ = _with(step)
                for key in ("ref", "repository"):
                    value = with_.get(key) if with_ else None
                    if isinstance(value, Scalar) and HEAD_REF.search(value.value):
                        site = value
                        folder = (_relative_dir(with_.text("path") or "") or "") if with_ else ""
                        break
                rest = ""
            else:
                run = step.get("run")
                if not isinstance(run, Scalar):
                    continue
                m = PR_CHECKOUT_CMD.search(run.value)
                fetch = PR_FETCH_CMD.search(run.value)
                if m is None and fetch is not None and GIT_CHECKOUT.search(run.value, fetch.end()):
                    m = fetch
                if m is None:
                    continue
                site = in_scalar(ctx, run, m.start(), m.end())
                rest = run.value[m.end() :]
            if site is None:
                continue
            runs = _runs_tree(rest, step, folder) or next(
                (r for s in job.steps[i + 1 :] if (r := _runs_step(s, folder))), None
            )
            if runs is not None:
                gate = _approval_gate(flow, job)
                bare = _holds_nothing(flow, job)
                exposure = BARE_JOB if bare else FULL_JOB
                finding = ctx.finding("ATS-GHA-002").at(site).args(trigger=trigger, runs=runs, exposure=exposure,
                                                                   gate=gate[0] if gate else "")  # fmt: skip
                if gate is not None:  # one approval away, not open to every fork
                    finding.severity(Severity.HIGH).related(gate[1], gate[2])
                if bare:  # what stays within reach: the base branch's caches, the runner
                    finding.severity(Severity.MEDIUM)
                finding.emit()


FULL_JOB = "code from a fork runs with this repository's secrets and write token"
BARE_JOB = (
    "code from a fork runs in this repository's context, with a read-only token and no secret, where it can still "
    "poison the base branch's caches and reach what the runner holds"
)
# A secret handed to a job, other than its own token (read-only where its permissions say so).
SECRET_USE = re.compile(r"\bsecrets\.(?!GITHUB_TOKEN\b)[\w-]+|\bsecrets\[|toJSON\(\s*secrets\s*\)", re.I)


def _holds_nothing(flow: Workflow, job: Job) -> bool:
    """Whether the job that runs the head holds neither a write token nor a secret: its own
    `permissions:` (else the workflow's) grant no write scope, and no secret but its token
    reaches it (its keys and steps, or the workflow's `env:`). Without `permissions:` the
    token's scopes are the repository's default, which may write."""
    permissions = job.node.get("permissions")
    if permissions is None:
        permissions = flow.root.get("permissions")
    if isinstance(permissions, Scalar):  # `{}` is a mapping: the branch below
        if permissions.value.strip() != "read-all":
            return False
    elif isinstance(permissions, Mapping):
        if any(isinstance(v, Scalar) and v.value.strip() == "write" for _, _, v in permissions.entries()):
            return False
    else:
        return False
    for node in (job.node, flow.root.get("env")):
        if node is not None and any(isinstance(n, Scalar) and SECRET_USE.search(n.value) for n in walk(node)):
            return False
    return True


def _approval_gate(flow: Workflow, job: Job) -> tuple[str, Scalar | Mapping, str] | None:
    """The gate before the head runs, in this job or a job it needs (directly or through
    others): a deployment environment, whose required reviewers are set in the repository's
    settings and not visible here, or an `if:` that needs a label on the pull request.
    (message words, the node, the related location's words)"""
    jobs = {j.name: j for j in flow.jobs}
    todo, seen = [job.name], set()
    while todo:
        name = todo.pop()
        current = jobs.get(name)
        if current is None or name in seen:
            continue
        seen.add(name)
        env = current.node.get("environment")
        if isinstance(env, (Scalar, Mapping)):
            shown = env.value if isinstance(env, Scalar) else (env.text("name") or "")
            return (f", once a reviewer of environment `{shown[:80]}` (job `{name}`) approves it, if its settings ask for one", env,
                    "The deployment environment whose reviewers gate this job.")
        checked = _permission_check(current)
        if checked is not None:
            return (f", once a user with write access asks for it (job `{name}` checks their permission); the head runs "
                    "as it is then, not as it was reviewed", checked, "The step that checks the user's permission.")
        condition = current.node.get("if")
        if isinstance(condition, Scalar) and _label_gated(condition.value):
            label = LABEL_TEST.search(condition.value)
            name_of = (label.group("label") or label.group("label2")) if label else None
            shown = f" (`{name_of[:40]}`)" if name_of else ""
            return (f", once someone with triage rights labels the pull request{shown} (job `{name}`); "
                    "the head runs as it is then, not as it was reviewed", condition, "The label test that gates this job.")
        todo += current.needs
    return None


# A step that asks GitHub for the triggering user's permission on the repository: the REST
# endpoint (`gh api repos/{repo}/collaborators/{user}/permission`), github-script's
# `getCollaboratorPermissionLevel`, or an action made for it.
PERMISSION_CALL = re.compile(r"/collaborators/[^\n]{1,100}?/permission\b|getCollaboratorPermissionLevel")
PERMISSION_ACTIONS = (
    "prince-chrismc/check-actor-permissions-action", "actions-cool/check-user-permission",
    "sushichop/action-repository-permission", "lannonbr/repo-permission-check-action",
)  # fmt: skip


def _permission_check(job: Job) -> Mapping | None:
    """The step of a job that checks the triggering user's permission, if any."""
    for step in job.steps:
        if _uses(step).lower().split("@", 1)[0] in PERMISSION_ACTIONS:
            return step
        if any(isinstance(n, Scalar) and PERMISSION_CALL.search(n.value) for n in walk(step)):
            return step
    return None


# A test that the pull request carries a label: only users with triage rights apply one.
LABEL_TEST = re.compile(
    r"github\.event\.label\.name\s*==\s*'(?P<label>[^']*)'|"
    r"contains\(\s*github\.event\.pull_request\.labels\.\*\.name\s*,\s*'(?P<label2>[^']*)'\s*\)"
)


def _label_gated(expression: str) -> bool:
    """Whether every way through a job's `if:` requires a label on the pull request: each
    `||` branch needs one, an `&&` needs one of its parts; a negated test gates nothing."""
    text = expression.strip()
    if text.startswith("${{") and text.endswith("}}"):
        text = text[3:-2]
    return _gated(text, 0)


def _gated(text: str, depth: int) -> bool:
    if depth > 20:
        return False
    branches = _split(text, "||")
    if len(branches) > 1:
        return all(_gated(b, depth + 1) for b in branches)
    parts = _split(text, "&&")
    if len(parts) > 1:
        return any(_gated(p, depth + 1) for p in parts)
    atom = text.strip()
    if atom.startswith("(") and atom.endswith(")") and _split(atom[1:-1], "") == [atom[1:-1]]:
        return _gated(atom[1:-1], depth + 1)
    return not atom.startswith("!") and LABEL_TEST.fullmatch(atom) is not None


def _split(text: str, operator: str) -> list[str]:
    """`text` split at `operator` outside parentheses and quotes (`""`: only check that
    the parentheses balance, returning [text] when they do)."""
    parts, depth, quoted, start, i = [], 0, False, 0, 0
    while i < len(text):
        ch = text[i]
        if ch == "'":
            quoted = not quoted
        elif not quoted and ch == "(":
            depth += 1
        elif not quoted and ch == ")":
            depth -= 1
            if depth < 0:
                return []
        elif not quoted and depth == 0 and operator and text.startswith(operator, i):
            parts.append(text[start:i])
            i += len(operator)
            start = i
            continue
        i += 1
    return [*parts, text[start:]] if depth == 0 else []


def _runs_step(step: Mapping, folder: str) -> str | None:
    """What in this step runs code of the checked-out tree (in `folder`), or None."""
    uses = _uses(step)
    local = folder.rstrip("/") + "/" if folder else ""
    if uses.startswith("./" + local):
        return f"local action `{uses}`"
    if uses.lower().split("@", 1)[0] in EXECUTING_ACTIONS:
        return f"`{uses.split('@', 1)[0]}`"
    run = step.get("run")
    return _runs_tree(run.value, step, folder) if isinstance(run, Scalar) else None


def _runs_tree(script: str, step: Mapping, folder: str) -> str | None:
    """The first command of `script` that runs code from the tree, or None. With the head
    checked out into `folder`, only commands in that folder (or naming it) count."""
    inside = False
    if folder:
        workdir = _relative_dir(step.text("working-directory") or "") or ""
        inside = workdir == folder or workdir.startswith(folder + "/")
        if not inside and not re.search(rf"(?<![\w./-]){re.escape(folder)}(?:/|\b)", script):
            return None
    for command in COMMAND_SPLIT.split(script):
        words = [w for w in command.split() if "=" not in w or w.startswith(("-", "./"))]
        while words and words[0] in ("sudo", "env", "exec", "time", "nohup", "timeout"):
            words = words[1:]
        if not words or words[0].startswith("#"):
            continue
        program, args = words[0], words[1:]
        name = program.rsplit("/", 1)[-1]
        script_arg = next((a for a in args if not a.startswith("-")), "")
        if inside and (program.startswith("../") or script_arg.startswith("../")):
            continue  # the base's own script run over the head's folder (kubeflow's "trusted" checkout)
        repo_file = program.startswith("./") or ("/" in program and not program.startswith(("/", "~", "$")))
        interpreter = bool(PYTHON.fullmatch(name))
        if interpreter:
            if args[:1] in (["-c"], ["--version"], ["-V"]) or args[:2] in (["-m", "venv"], ["-m", "ensurepip"]):
                continue  # inline code or the interpreter's own tools: nothing of the tree
            if args[:2] == ["-m", "pip"]:  # `python -m pip install ...` is pip
                name, args, interpreter = "pip", args[2:], False
        if (
            repo_file
            or name in RUNNERS
            or interpreter
            or (name in SHELLS and args and not args[0].startswith("-"))
            or (name in ("pip", "pip3") and any(a in (".", "-e", "--editable", "-r") or a.startswith("./") for a in args))
            or (name == "go" and args[:1] and args[0] in ("build", "test", "run", "generate", "install", "vet"))
            or (name in ("docker", "podman") and args[:1] and args[0] in ("build", "buildx", "compose"))
        ):
            return f"`{' '.join(words)[:60]}`"
    return None


# ---- ATS-GHA-003: write-all or workflow-wide write permissions ---------------------------


WRITES = "every step and action of these jobs gets a token that can write"
READS_ALL = "every step and action of these jobs gets a token that reads every scope (private code, packages, security alerts), not the one or two it needs"
CALLED = "the called workflow receives this token; set `permissions:` on the calling job"
MINTS = "every step and action of these jobs can mint OIDC tokens for the cloud roles and package indexes that trust this workflow"


def check_permissions(flow: Workflow, ctx: FileContext) -> None:
    if flow.action:
        return
    top = flow.root.get("permissions")
    shared = _shared(ctx, flow, ctx.file.path)
    # A workflow-level `read-all` that every job replaces with its own `permissions:` reaches
    # no token (OpenSSF Scorecard's template); `write-all` stays: a job added later inherits it.
    if not (isinstance(top, Scalar) and top.value.strip() == "read-all" and flow.jobs and all("permissions" in job.node for job in flow.jobs)):
        _permissions(ctx, top, "workflow", shared)
    for job in flow.jobs:
        _permissions(ctx, job.node.get("permissions"), f"job {job.name}")
        if "permissions" not in job.node and isinstance(job.node.get("uses"), Scalar):
            _called_with_broad_token(ctx, flow, job)
    if "workflow_call" in flow.triggers:
        _called_by_broad_tokens(ctx, flow)


def _owners_call(ctx: FileContext, job: Job, local: bool = True) -> bool:
    """Whether a job calls a reusable workflow of another repository of this one's owner
    (`pytorch/test-infra/...` from `pytorch/torchtitan`), or with `local`, of this
    repository (`./...`)."""
    uses = _uses(job.node).strip().lower()
    owner = ctx.facts.owner if isinstance(ctx.facts, Facts) else None
    return (local and uses.startswith("./")) or bool(owner and uses.startswith(owner + "/"))


def _shared(ctx: FileContext, flow: Workflow, path: str) -> bool:
    """Whether the workflow-level `permissions:` of the workflow at `path` is reported as
    shared by its jobs. Jobs with their own `permissions:` replace the workflow's. A
    workflow-level write scope in a one-job workflow is that job's own grant, the recommended
    form; with more jobs it reaches every job that does not set its own (and every job added
    later)."""
    inheriting = [job for job in flow.jobs if "permissions" not in job.node]
    top = flow.root.get("permissions")
    return (
        bool(inheriting) and len(flow.jobs) > 1
        and not (len(inheriting) == len(flow.jobs) and _one_action_only(inheriting))
        # ... unless they run only their own steps; a grant that mints OIDC tokens is never theirs alone
        and not (_own_steps_only(inheriting) and not _grants(top, "id-token"))
        # ... unless it grants only `id-token: write` and the jobs that sign in with it need it
        and not (_only_oidc(top) and _oidc_needed(ctx, flow, path, inheriting))
        # ... unless no outsider's event starts it and its jobs call the owner's reusable
        # workflows (torchtitan's of pytorch/test-infra), besides this repository's own
        and not (
            not flow.privileged_trigger and all(_owners_call(ctx, job) for job in inheriting)
            and any(_owners_call(ctx, job, local=False) for job in inheriting)
        )
        # ... unless only people with push access start it, no job checks out a pull request
        # and it mints no OIDC tokens (those reach cloud roles and indexes, whoever started it)
        and not (
            _trusted_triggers(ctx, flow, path) and not _grants(top, "id-token")
            and not any(_checks_out_pr(job) for job in inheriting)
        )
    )  # fmt: skip


# Events only people with push access cause (a push, a release, a manual or API dispatch,
# the schedule they committed): a workflow-wide grant there hands the token to no outsider.
TRUSTED_TRIGGERS = frozenset({"push", "schedule", "workflow_dispatch", "release", "repository_dispatch"})


def _trusted_triggers(ctx: FileContext, flow: Workflow, path: str) -> bool:
    """Whether every trigger of the workflow at `path` is in `TRUSTED_TRIGGERS`; a reusable
    workflow (`workflow_call`) takes its callers' triggers, judged over the repository by the
    prepare pass (`trusted_calls`)."""
    if "workflow_call" in flow.triggers:
        return isinstance(ctx.facts, Facts) and path in ctx.facts.trusted_calls
    return bool(flow.triggers) and flow.triggers <= TRUSTED_TRIGGERS


# How far callers of callers are followed; a deeper chain is of unknown start.
MAX_CALL_DEPTH = 4


def trusted_calls(workflows: dict[str, Mapping], all_paths: frozenset[str], repository: str | None, own: bool = True) -> frozenset[str]:
    """The reusable workflows among `workflows` (path -> parsed root) that only people with
    push access start: each has a caller in the repository, and what starts each caller
    (its own triggers, and its callers' when it is reusable too, to `MAX_CALL_DEPTH`) is in
    `TRUSTED_TRIGGERS`. A call is a job's `uses: ./.github/workflows/x.yml`, or the same file
    named as `owner/name/.github/workflows/x.yml@ref` of the scanned `repository`. A workflow
    called by none is called from elsewhere: not trusted. Further up, a reusable caller with
    no caller of its own adds nothing: a run from another repository holds that repository's
    token, not this one's. Without `own`, what starts each reusable workflow on its own is
    left out: only its callers count (the tokens they hand it)."""
    triggers = {path: _triggers(root.get("on")) for path, root in workflows.items()}
    callers: dict[str, set[str]] = {}
    for path, root in workflows.items():
        jobs = root.get("jobs")
        for _, _, job in jobs.entries() if isinstance(jobs, Mapping) else ():
            target = _call_target(job.text("uses") or "", path, all_paths, repository) if isinstance(job, Mapping) else None
            if target in workflows:
                callers.setdefault(target, set()).add(path)

    def starts(path: str) -> set[str] | None:
        """What starts a run of `path` in this repository, callers followed level by level
        (a cycle adds nothing: GitHub refuses to run one); None when unknown."""
        found: set[str] = set()
        level, seen = ({path}, {path}) if own else (callers[path], callers[path] | {path})
        for _ in range(MAX_CALL_DEPTH + 1):
            above: set[str] = set()
            for each in level:
                if not triggers[each]:
                    return None
                found |= triggers[each] - {"workflow_call"}
                if "workflow_call" in triggers[each]:
                    above |= callers.get(each, set()) - seen
            if not above:
                return found
            level, seen = above, seen | above
        return None

    trusted = set()
    for path, on in triggers.items():
        if "workflow_call" in on and callers.get(path):
            found = starts(path)
            if found and found <= TRUSTED_TRIGGERS:
                trusted.add(path)
    return frozenset(trusted)


def _call_target(uses: str, path: str, all_paths: frozenset[str], repository: str | None) -> str | None:
    """The path (in the scan) of the reusable workflow a job of `path` calls, when it is one
    of the repository's own."""
    uses = uses.strip()
    if uses.startswith("./.github/workflows/"):
        return _repo_of(path, all_paths) + uses[2:].rstrip("/")
    name, at, _ = uses.partition("@")
    prefix = f"{repository}/.github/workflows/" if repository else None
    if at and prefix and name.lower().startswith(prefix):
        return name[len(repository or "") + 1 :]
    return None


def _checks_out_pr(job: Job) -> bool:
    """Whether a job puts a pull request's head in its working tree (`actions/checkout` of
    `refs/pull/...` or the head's ref, `gh pr checkout`, `git fetch` of `pull/N`)."""
    for step in job.steps:
        if _is_action(step, "actions/checkout"):
            with_ = _with(step)
            if with_ is not None and any(
                isinstance(v, Scalar) and HEAD_REF.search(v.value) for v in (with_.get("ref"), with_.get("repository"))
            ):
                return True
        run = step.get("run")
        if isinstance(run, Scalar) and (PR_CHECKOUT_CMD.search(run.value) or PR_FETCH_CMD.search(run.value)):
            return True
    return False


# Actions that sign in with the job's OIDC token, unless given a static credential instead.
OIDC_SIGN_INS = {
    "aws-actions/configure-aws-credentials": "aws-access-key-id",
    "google-github-actions/auth": "credentials_json",
    "azure/login": "creds",
    "pypa/gh-action-pypi-publish": "password",
    "sigstore/gh-action-sigstore-python": None,
    "actions/attest-build-provenance": None,
    "actions/attest": None,
}


def _oidc_needed(ctx: FileContext, flow: Workflow, path: str, inheriting: list[Job]) -> bool:
    """Whether a workflow-wide `id-token: write` is what the inheriting jobs need: each signs
    in with it or runs only its own steps (sagemaker-python-sdk's github-script gates beside
    its AWS-signed test jobs); or one signs in, only maintainers' events and pull requests
    start the workflow (a fork's pull request is given no OIDC token; a reusable workflow
    whose every caller here is a maintainers' workflow, `trusted_calls`), and no job checks
    out a pull request or hands the token to a reusable workflow other than the repository's
    or its owner's own (djl-serving's nightly, dispatch and called build workflows). None of
    the 30 OIDC-only grants judged on held-out repositories was worth acting on: the steps
    mint tokens where the role's trust policy expects them."""
    if all(_mints(job) or _own_steps_only([job]) for job in inheriting):
        return True
    return (
        (_maintainers_or_pull_requests(flow) or _trusted_triggers(ctx, flow, path))
        and any(_mints(job) for job in inheriting)
        and not any(("uses" in job.node and not _owners_call(ctx, job)) or _checks_out_pr(job) for job in inheriting)
    )  # fmt: skip


def _only_oidc(permissions: YNode | None) -> bool:
    """Whether a `permissions:` mapping's only write scope is `id-token`."""
    if not isinstance(permissions, Mapping):
        return False
    writes = [name for name, _, value in permissions.entries() if isinstance(value, Scalar) and value.value.strip() == "write"]
    return writes == ["id-token"]


def _mints(job: Job) -> bool:
    """Whether a job signs in to a cloud or an index with its OIDC token (a step of
    `aws-actions/configure-aws-credentials` given a role, not keys): such a job needs the
    workflow's `id-token: write`, so granting it at workflow level gives no job more."""
    for step in job.steps:
        uses = step.get("uses")
        name = uses.value.strip().split("@", 1)[0].lower() if isinstance(uses, Scalar) else ""
        if name in OIDC_SIGN_INS:
            static, given = OIDC_SIGN_INS[name], step.get("with")
            if static is None or not (isinstance(given, Mapping) and static in given):
                return True
    return False


def _one_action_only(jobs: list[Job]) -> bool:
    """Whether these jobs (all of the workflow's) run nothing but steps of one and the same
    action (a stale bot's warning, second warning and close): a workflow-level grant is then
    exactly what each job would be given on its own."""
    names = set()
    for job in jobs:
        if "uses" in job.node or not job.steps:
            return False
        for step in job.steps:
            uses = step.get("uses")
            if "run" in step or not isinstance(uses, Scalar):
                return False
            names.add(uses.value.strip().split("@", 1)[0].lower())
    return len(names) == 1


# A `run:` line that fetches, installs or runs code beyond the script itself: a package
# manager, an interpreter or shell given a file, a download, a checkout of other code.
RUNS_CODE = re.compile(
    r"(?:^|[\s;&|(`])(?:pip3?|uvx?|pipx|poetry|conda|mamba|npm|npx|yarn|pnpm|bun|deno|node|python[\d.]*|ruby|perl|php|"
    r"java|go|cargo|mvn|gradle|make|docker|podman|curl|wget|bash|sh|zsh|source|eval|apt(?:-get)?|yum|dnf|apk|brew)(?=\s|$)"
    r"|(?:^|[\s;&|(`])\.{1,2}/|\bgh\s+(?:pr\s+checkout|run\s+download|release\s+download|repo\s+clone)"
    r"|\bgit\s+(?:clone|fetch|checkout|pull|submodule)",
    re.M,
)
# GitHub's own actions that bring in code or files a job may then run.
CODE_ACTIONS = ("actions/checkout", "actions/download-artifact", "actions/cache", "actions/setup-")


def _grants(permissions: YNode | None, scope: str) -> bool:
    """Whether a `permissions:` value grants `scope: write` (or writes everything)."""
    if isinstance(permissions, Scalar):
        return permissions.value.strip() == "write-all"
    value = permissions.get(scope) if isinstance(permissions, Mapping) else None
    return isinstance(value, Scalar) and value.value.strip() == "write"


def _own_steps_only(jobs: list[Job]) -> bool:
    """Whether these jobs run nothing the workflow file does not show: `run:` steps that
    install, download and run nothing beyond their own text (`gh pr edit`, `echo`), and
    GitHub's own actions that bring in no code (`actions/github-script`, not checkout, a
    downloaded artifact or a cache), in no container of their own. A write token handed to
    them reaches only this file's text (a label bot), so a workflow-level grant gives no
    code more than a job-level one would."""
    for job in jobs:
        if "uses" in job.node or "container" in job.node or "services" in job.node or not job.steps:
            return False
        for step in job.steps:
            uses, run = step.get("uses"), step.get("run")
            if uses is not None:
                name = uses.value.strip().lower() if isinstance(uses, Scalar) else ""
                if not name.startswith(GITHUB_OWNED) or name.startswith(CODE_ACTIONS):
                    return False
            if run is not None and (not isinstance(run, Scalar) or RUNS_CODE.search(run.value)):
                return False
    return True


DEFAULT_TOKEN = "default token permissions"
# Events of pull requests that run with the pull request's own token: read-only for a fork's
# (GitHub enforces it whatever the workflow asks), and a branch of the repository is pushed
# by someone who can write anyway. The repository's default token reaches no outsider there.
PULL_REQUEST_TRIGGERS = frozenset({"pull_request", "merge_group"})


def _maintainers_or_pull_requests(flow: Workflow) -> bool:
    """Whether only people with push access and pull requests (and the merge queue) start
    the workflow: a fork's run gets a read-only token, no secrets and no OIDC token."""
    return flow.triggers <= TRUSTED_TRIGGERS | PULL_REQUEST_TRIGGERS


def _pull_request_only(flow: Workflow) -> bool:
    """Whether only pull requests (and the merge queue) start the workflow."""
    return "pull_request" in flow.triggers and flow.triggers <= PULL_REQUEST_TRIGGERS


WORKFLOW_SCOPES = "workflow-level write scopes"


def _caller_grant(flow: Workflow, job: Job) -> tuple[str, Severity | None] | None:
    """What a job that calls a reusable workflow without its own `permissions:` hands it:
    the workflow's token, the repository default when the workflow sets none; None when
    that token is read-only by its scopes. The repository default is read-only for
    repositories created since 2023 (a setting no file shows): low; `read-all`: low;
    write scopes the workflow grants outright: the rule's medium."""
    if "permissions" in job.node:
        return None
    top = flow.root.get("permissions")
    if top is None:
        return DEFAULT_TOKEN, Severity.LOW
    if isinstance(top, Scalar) and top.value.strip() in ("write-all", "read-all"):
        grant = top.value.strip()
        return grant, Severity.LOW if grant == "read-all" else None
    if isinstance(top, Mapping) and any(isinstance(v, Scalar) and v.value.strip() == "write" for _, _, v in top.entries()):
        return WORKFLOW_SCOPES, None
    return None


def _called_with_broad_token(ctx: FileContext, flow: Workflow, job: Job) -> None:
    """A reusable-workflow call without its own `permissions:` hands the called workflow
    the workflow's token. A workflow of this repository that the scan holds is judged
    where it is defined (`_called_by_broad_tokens`): one finding for all its callers. As
    for a workflow-wide block, silent in a workflow only people with push access start
    whose token mints no OIDC tokens: the called workflow's code is another action run with
    a token no outsider's event started (huggingface's build_main_documentation calls)."""
    grant = _caller_grant(flow, job)
    if grant is None or _local_callee(ctx, _uses(job.node)) is not None:
        return
    if grant[0] == WORKFLOW_SCOPES and len(flow.jobs) == 1:
        # The one job's own grant (huggingface's style bots, judged NOISE): moving the block
        # onto the calling job changes nothing. A reusable workflow of this repository is
        # still judged where it is defined: its jobs may each need less than the call.
        return
    if _owners_call(ctx, job, local=False) and not flow.privileged_trigger:
        # torchtitan's calls of pytorch/test-infra's jobs, which sign in to the owner's cloud
        # with the OIDC token they are handed (judged NOISE): the owner's own code. Not where
        # an outsider's event starts the run (huggingface's doc-builder called on workflow_run
        # with fork-built artifacts, judged ACT).
        return
    if grant[0] == DEFAULT_TOKEN and _pull_request_only(flow):
        return  # reviewers judged every such doc-build call NOISE (trl, huggingface_hub)
    if _trusted_triggers(ctx, flow, ctx.file.path) and not _grants(flow.root.get("permissions"), "id-token"):
        return
    jobs = flow.root.get("jobs")
    key = jobs.key_node(job.name) if isinstance(jobs, Mapping) else None
    finding = ctx.finding("ATS-GHA-003").at(key if key is not None else job.node)
    finding.args(grant=grant[0], scope=f"job {job.name}", effect=CALLED).severity(grant[1]).emit()


def _local_callee(ctx: FileContext, target: str) -> Workflow | None:
    """The reusable workflow of this repository that `uses: ./.github/workflows/x.yml` (or
    this repository by name) calls, when the scan holds it and it parses; None for a
    workflow of another repository, or one the scan cannot see."""
    from atlascan.model import ParseError, SkipFile, SourceFile

    rel = _call_target(target, ctx.file.path, ctx.all_paths, _repository(ctx))
    if rel is None or not rel.endswith((".yml", ".yaml")) or rel not in ctx.all_paths:
        return None
    root = ctx.root
    try:
        doc = ctx.document(SourceFile(rel, root + rel, "gha-workflow", 0))
    except (OSError, ParseError, SkipFile):
        return None
    tree = next((t for t in doc.tree.roots() if isinstance(t, Mapping)), None)
    return workflow(tree, False) if tree is not None else None


def _called_by_broad_tokens(ctx: FileContext, flow: Workflow) -> None:
    """A reusable workflow of this repository whose jobs run without `permissions:` runs
    with whatever token each caller hands it; when callers in the scan hand it the default
    token or write scopes, one finding here (the fix is one `permissions:` block in this
    file), each such call a related location. A called workflow's grants can only narrow
    the caller's token, so one that sets `permissions:` at the top or on every job is
    silent."""
    unscoped = [job for job in flow.jobs if "permissions" not in job.node]
    if "permissions" in flow.root or not unscoped:
        return
    calls: list[tuple[str, Job, YNode, tuple[str, Severity | None]]] = []
    mints = False
    callers = _callers(ctx, ctx.file.path, False)
    for caller, _, path in callers:
        if caller.step is not caller.job.node:
            continue  # a step cannot call a workflow
        grant = _caller_grant(caller.flow, caller.job)
        jobs = caller.flow.root.get("jobs")
        key = jobs.key_node(caller.job.name) if isinstance(jobs, Mapping) else None
        if grant is not None:
            calls.append((path, caller.job, key if key is not None else caller.job.node, grant))
            # A caller's OIDC grant reported where it is made (`write-all`, a shared block) is that finding's.
            top = caller.flow.root.get("permissions")
            mints = mints or (_grants(top, "id-token") and not (isinstance(top, Scalar) or _shared(ctx, caller.flow, path)))
    if not calls:
        return
    if all(grant[0] == DEFAULT_TOKEN for *_, grant in calls) and all(_pull_request_only(caller.flow) for caller, _, _ in callers):
        return  # the default token of pull-request runs only: no outsider's token writes
    # As for a workflow-wide block: silent when only people with push access start its
    # callers (`trusted_callers`), no job checks out a pull request and no caller's token
    # mints OIDC tokens unreported. The workflow's own triggers start runs with its own
    # token, not a caller's (NeMo-Run's lint workflow, on pull_request too, that its nightly
    # calls: judged NOISE).
    trusted = isinstance(ctx.facts, Facts) and ctx.file.path in ctx.facts.trusted_callers
    if trusted and not mints and not any(_checks_out_pr(job) for job in unscoped):
        return
    # Write scopes from any caller make it the rule's medium; the default token alone, low.
    worst = next((grant for *_, grant in calls if grant[1] is None), calls[0][3])
    on = flow.root.get("on")
    site = on.key_node("workflow_call") if isinstance(on, Mapping) else on
    names = ", ".join(f"`{job.name}`" for job in unscoped)
    noun, sets, runs = ("jobs", "set", "run") if len(unscoped) > 1 else ("job", "sets", "runs")
    calls_text = f"{len(calls)} call{'s' if len(calls) > 1 else ''} in this repository"
    effect = f"{noun} {names} of this reusable workflow {sets} no `permissions:` and {runs} with each caller's token ({calls_text}); set `permissions:` here"
    finding = ctx.finding("ATS-GHA-003").at(site if site is not None else flow.root)
    finding.args(grant=worst[0], scope="calling job", effect=effect).severity(worst[1])
    for path, job, key, grant in calls:
        finding.related(key, f"job {job.name} calls this workflow with `{grant[0]}`", path=path)
    finding.emit()


def _permissions(ctx: FileContext, node: YNode | None, scope: str, shared: bool = False) -> None:
    if isinstance(node, Scalar) and node.value.strip() == "write-all":
        ctx.finding("ATS-GHA-003").at(node).args(grant="write-all", scope=scope, effect=WRITES).severity(Severity.HIGH).emit()
    elif isinstance(node, Scalar) and node.value.strip() == "read-all":
        grant = "read-all"
        # No write scope (OpenSSF Scorecard's own template sets it): narrowing it to the
        # scopes read is a nit reviewers passed over in every sampled case (metaflow).
        finding = ctx.finding("ATS-GHA-003").at(node).args(grant=grant, scope=scope, effect=READS_ALL).severity(Severity.LOW)
        finding.property("practice", "`read-all` grants no write scope").emit()
    elif isinstance(node, Mapping) and shared:
        # Job-level write scopes are the recommended least-privilege form; only the
        # workflow-wide ones hand every job (and every action it runs) a write token. One
        # block to move: one finding at its first write scope, the others related.
        writes = [(name, value) for name, _, value in node.entries() if isinstance(value, Scalar) and value.value.strip() == "write"]
        if writes:
            grant = ", ".join(f"{name}: write" for name, _ in writes)
            # `id-token: write` writes nothing: it lets a job ask for an OIDC token.
            effect = MINTS if all(name == "id-token" for name, _ in writes) else WRITES
            finding = ctx.finding("ATS-GHA-003").at(writes[0][1]).args(grant=grant, scope=scope, effect=effect)
            for name, value in writes[1:]:
                finding.related(value, f"also here: `{name}: write` in the same block")
            if len(writes) > 1:
                finding.property("folded", len(writes))
            finding.emit()


# ---- ATS-GHA-004: actions not pinned to a commit SHA -------------------------------------

BRANCH_REFS = frozenset({"main", "master", "develop", "dev", "trunk", "latest", "head", "stable", "release"})
# A publisher's sliding release branch (`pypa/gh-action-pypi-publish@release/v1`, as its README
# says to use it; `releases/v4`): moved at each release of that major version, as a major tag is.
RELEASE_BRANCH = re.compile(r"releases?/v\d+(?:\.\d+)*", re.I)
# An expression that hands the step a credential: a repository secret or the job's token.
CREDENTIAL_EXPR = re.compile(r"\$\{\{[^}]*\b(secrets\.[\w-]+|github\.token)\b")


def check_unpinned_uses(flow: Workflow, ctx: FileContext) -> None:
    # Whether this file pins most of its third parties' actions by SHA (metaflow's UX tests,
    # in a repository that mostly does not): a vendor's tag there breaks the file's practice.
    third = [sha for ref, sha in remote_uses(ctx.doc.text) if not ref.lower().startswith(GITHUB_OWNED)]
    file_pins = bool(third) and 2 * sum(third) > len(third)
    for job in flow.jobs:
        # A job's own `permissions:` replaces the workflow's.
        oidc = _grants_oidc(job.node.get("permissions") if "permissions" in job.node else flow.root.get("permissions"))
        node = job.node.get("uses")
        if isinstance(node, Scalar):  # a reusable workflow: given the caller's secrets or not
            _unpinned_use(ctx, node, _credential(job.node) or oidc, flow.privileged_trigger, file_pins)
        for step in job.steps:
            node = step.get("uses")
            if isinstance(node, Scalar):
                _unpinned_use(ctx, node, _credential(step) or oidc, flow.privileged_trigger, file_pins)


def _grants_oidc(node: YNode | None) -> str | None:
    """`id-token: write` (or write-all): any step of the job can mint a cloud or PyPI token."""
    if isinstance(node, Scalar):
        return "the job may mint OIDC tokens (`write-all`)" if node.value.strip() == "write-all" else None
    value = node.get("id-token") if isinstance(node, Mapping) else None
    return "the job may mint OIDC tokens (`id-token: write`)" if isinstance(value, Scalar) and value.value.strip() == "write" else None


def _credential(node: Mapping) -> str | None:
    """The credential a step's (or a reusable workflow call's) inputs or environment hand over."""
    for key in ("with", "env", "secrets"):
        block = node.get(key)
        if isinstance(block, Scalar) and key == "secrets" and block.value.strip() == "inherit":
            return "it is given every secret (`secrets: inherit`)"
        if isinstance(block, Mapping):
            for _, _, value in block.entries():
                m = CREDENTIAL_EXPR.search(value.value) if isinstance(value, Scalar) else None
                if m:  # said without the name, so one pin handed different secrets folds as one
                    return "it is handed the job's token" if m.group(1) in ("github.token", "secrets.GITHUB_TOKEN") else "it is handed a secret"
    return None


def _unpinned_use(
    ctx: FileContext, node: Scalar, credential: str | None, privileged: str | None = None, file_pins: bool = False
) -> None:
    """A branch (or no reference) is reported wherever it is. A tag is the repository's
    practice, held back, where fewer than half of its references are SHAs (`ctx.facts`
    False), unless the action holds a credential or its publisher's tags were once
    repointed (the rule's `retagged` rows); where SHAs are the practice every tag is
    reported. A third party's tag handed a credential in a workflow an outsider starts
    with the base repository's secrets (`privileged`) stays medium."""
    value = node.value.strip()
    if not value or value.startswith(("./", "docker://")) or "${{" in value:
        return
    name, at, ref = value.rpartition("@")
    if not at:
        name, ref = value, ""
    if COMMIT_SHA.match(ref):
        return
    github_owned = name.lower().startswith(GITHUB_OWNED)
    tags_practice = sha_practice(ctx.facts) is False
    owner = ctx.facts.owner if isinstance(ctx.facts, Facts) else None
    why = ""
    practice = raised = None
    sliding = bool(RELEASE_BRANCH.fullmatch(ref))
    # tags rarely hold a slash: `feature/x` is a branch, `release/v1` a release ref
    if not ref or ref.lower() in BRANCH_REFS or ("/" in ref and not sliding):
        severity = Severity.HIGH
    else:
        # A tag, or a sliding release branch graded as one: moved at releases as a tag is,
        # but no tag, so never the tag practice and reported wherever it is, as a branch is.
        severity = Severity.LOW if github_owned else Severity.MEDIUM
        tag_practice = tags_practice and not sliding
        rows = ctx.rules["ATS-GHA-004"].match
        retagged = not sliding and any(name.lower().startswith(p) for p in rows.get("retagged", ()))
        # The platform's own action, handed its credential where tags are the practice (of the
        # repository and of this file), is it.
        vendor_in_practice = tag_practice and not file_pins and any(name.lower().startswith(p) for p in rows.get("vendors", ()))
        if retagged:
            why = "; this publisher's tags were once repointed to malicious code"
        elif credential and not github_owned and not vendor_in_practice:
            why = f"; {credential}"
            if privileged:
                why += f" in a workflow started by `{privileged}`"
                raised = privileged
        elif tag_practice:
            practice = "fewer than half of the repository's action references are pinned by SHA"
        elif github_owned and not sliding and isinstance(ctx.facts, Facts) and ctx.facts.github_tags:
            practice = "the repository pins none of GitHub's own actions (`actions/*`, `github/*`) by SHA"
    if "/" in name and owners_account(name.split("/", 1)[0], owner):
        # The repository owner's own action: a moved reference is a change by the same owner.
        practice = "the repository owner's own actions"
    start = value.rfind("@") if at else 0
    finding = ctx.finding("ATS-GHA-004").at(in_scalar(ctx, node, start, len(value))).args(action=name, ref=ref or "(none)", why=why)
    if practice:
        finding.property("foldScope", "repository").property("practice", practice)
    if raised and not practice:  # the fold's grading keeps it medium
        finding.property("raisedBy", raised)
    finding.severity(severity).emit()


# ---- ATS-GHA-005: container and service images without a digest --------------------------


def check_unpinned_images(flow: Workflow, ctx: FileContext) -> None:
    runs = flow.root.get("runs") if flow.action else None
    image = runs.get("image") if isinstance(runs, Mapping) else None
    if isinstance(image, Scalar) and image.value.startswith("docker://") and image_unpinned(image.value[9:]):
        _unpinned_image(ctx, image, image.value[9:])  # a Docker container action
    for job in flow.jobs:
        images = [image_of(job.node.get("container"))]
        services = job.node.get("services")
        if isinstance(services, Mapping):
            images.extend(image_of(s) for _, _, s in services.entries())
        for image in images:
            if image is not None and image_unpinned(image.value):
                _unpinned_image(ctx, image, image.value)
        for step in job.steps:
            uses = step.get("uses")
            if isinstance(uses, Scalar) and uses.value.startswith("docker://") and image_unpinned(uses.value[9:]):
                _unpinned_image(ctx, uses, uses.value[9:])


def _unpinned_image(ctx: FileContext, node: Scalar, image: str) -> None:
    """Where tags are the practice for the repository's actions (ATS-GHA-004) and it pins no
    CI image by digest, an image's tag is its practice too, held back (`latest` or no tag as
    well: a version tag moves as they do, only a digest protects against either)."""
    finding = ctx.finding("ATS-GHA-005").at(node).args(image=image)
    if isinstance(ctx.facts, Facts) and ctx.facts.image_tags:
        practice = "fewer than half of the repository's action references are pinned by SHA, none of its CI images by digest"
        finding.property("foldScope", "repository").property("practice", practice)
    elif isinstance(ctx.facts, Facts) and owners_image(image, ctx.facts.owner):
        # accelerate's tests of its own nightly image, built by its own workflow: a digest
        # would pin the run to one night's build, which defeats the test (judged NOISE).
        finding.property("practice", "an image of the repository's own owner")
    finding.emit()


# ---- ATS-GHA-006 / 007: secrets handed over wholesale ------------------------------------

TO_JSON_SECRETS = re.compile(r"toJSON\(\s*secrets\s*\)", re.I)


def _repository(ctx: FileContext) -> str | None:
    """The scanned GitHub repository (`owner/name`, lower-case), when the checkout says."""
    return ctx.facts.repository if isinstance(ctx.facts, Facts) else None


def _own_workflow(ctx: FileContext, uses: str | None) -> bool:
    """Whether a reusable workflow call names code of this repository's owner: a local
    workflow (`./.github/workflows/x.yml`), this repository by name, or another repository of
    the owner or a namesake organisation (`pytorch/test-infra` for `pytorch/torchchat`: the
    shared CI built around `secrets: inherit`). Its maintainers could as well change a
    workflow here to read every secret: inheriting hands no one else anything. Reviewers
    judged all four same-owner calls they read NOISE."""
    value = (uses or "").strip().lower()
    if value.startswith("./"):
        return True
    repository = _repository(ctx)
    if not repository:
        return False
    return value.startswith(repository + "/") or ("/" in value and owners_account(value.split("/", 1)[0], repository.split("/", 1)[0]))


def check_secrets_wholesale(flow: Workflow, ctx: FileContext) -> None:
    for job in flow.jobs:
        secrets = job.node.get("secrets")
        if isinstance(secrets, Scalar) and secrets.value.strip() == "inherit" and not _own_workflow(ctx, job.node.text("uses")):
            ctx.finding("ATS-GHA-006").at(secrets).args(job=job.name).emit()
    if ctx.enabled("ATS-GHA-007"):
        from atlascan.parsers.yaml import walk

        for node in walk(flow.root):
            if isinstance(node, Scalar) and "${{" in node.value:
                for m in TO_JSON_SECRETS.finditer(node.value):
                    ctx.finding("ATS-GHA-007").at(in_scalar(ctx, node, m.start(), m.end())).emit()


# ---- ATS-GHA-008: persisted checkout credentials end up in an artifact --------------------

# `actions/upload-artifact` from v4.4.0 leaves hidden files (so `.git/`) out unless
# `include-hidden-files: true`; a major-only tag (`@v4`) follows the newest 4.x release.
VERSION = re.compile(r"\bv?(\d+)(?:\.(\d+))?(?:\.\d+)?\b")
GLOB_CHARS = re.compile(r"[*?\[]")
WORKSPACE = re.compile(r"^(?:\$\{\{\s*github\.workspace\s*\}\}|\$\{?GITHUB_WORKSPACE\}?)(?=/|$)")


def check_artipacked(flow: Workflow, ctx: FileContext) -> None:
    for job in flow.jobs:
        for i, step in enumerate(job.steps):
            if not _is_action(step, "actions/checkout"):
                continue
            with_ = _with(step)
            persist = with_.text("persist-credentials") if with_ else None
            if persist is not None and persist.strip().lower() == "false":
                continue
            checkout_dir = _relative_dir((with_.text("path") if with_ else None) or "")
            node = step.get("uses")
            if checkout_dir is None or not isinstance(node, Scalar):
                continue  # checked out where no upload path can be compared with
            for upload in job.steps[i + 1 :]:
                carried = _carries_git_config(ctx, upload, checkout_dir)
                if carried is None:
                    continue
                path, entry, why = carried
                finding = ctx.finding("ATS-GHA-008").at(node).args(job=job.name, path=entry, why=why)
                finding.related(path, "the upload that carries `.git/config`").emit()
                break


def _relative_dir(path: str) -> str | None:
    """A workspace-relative folder without `./` or trailing `/`; None when the text cannot
    be read as one (an expression, an absolute path, `..`)."""
    value = WORKSPACE.sub(".", path.strip())
    if "${{" in value or value.startswith(("/", "~", "$")) or ".." in value.split("/"):
        return None
    parts = [p for p in value.split("/") if p not in ("", ".")]
    return "/".join(parts)


def _hidden_files_uploaded(ctx: FileContext, step: Mapping) -> str | None:
    """Why this upload includes hidden files, or None when it leaves them out."""
    with_ = _with(step)
    if with_ is not None and (with_.text("include-hidden-files") or "").strip().lower() == "true":
        return " (`include-hidden-files: true`)"
    uses = step.get("uses")
    ref = _uses(step).rpartition("@")[2]
    if COMMIT_SHA.match(ref) and isinstance(uses, Scalar):
        # A pinned SHA names its version in the trailing comment (`# v4.6.2`), if anywhere.
        ref = ctx.doc.lines[uses.line - 1].partition("#")[2]
    m = VERSION.search(ref)
    if m is None:
        return " (upload-artifact of unknown version, which may include hidden files)"
    major, minor = int(m.group(1)), m.group(2)
    if major > 4 or (major == 4 and (minor is None or int(minor) >= 4)):
        return None
    return f" (upload-artifact {ref.strip()} includes hidden files)"


def _carries_git_config(ctx: FileContext, step: Mapping, checkout_dir: str) -> tuple[Scalar, str, str] | None:
    """The `path:` of an upload that takes `<checkout_dir>/.git/config` along, the entry of
    it that does, and why."""
    if not _is_action(step, "actions/upload-artifact"):
        return None
    with_ = _with(step)
    path = with_.get("path") if with_ else None
    if not isinstance(path, Scalar):
        return None
    hidden = _hidden_files_uploaded(ctx, step)
    target = f"{checkout_dir}/.git/config" if checkout_dir else ".git/config"
    for line in path.value.splitlines():
        entry = line.strip()
        if not entry or entry.startswith(("!", "#")):
            continue
        folder = _relative_dir(entry)
        if folder is None:
            continue  # outside the workspace, or not known before the run
        names_git = ".git" in folder.split("/")
        if names_git and (target.startswith(folder + "/") or target == folder):
            return path, entry, ""  # `.git` named outright: the hidden-files filter is no guard
        if hidden is not None and _covers(folder, target):
            return path, entry, hidden
    return None


def _covers(pattern: str, target: str) -> bool:
    """True when an upload path (a folder or a glob) includes the file `target`."""
    if not GLOB_CHARS.search(pattern):
        return pattern == "" or target == pattern or target.startswith(pattern + "/")
    # `*` in fnmatch crosses `/` like `**` does: a glob that matches the file or a folder
    # above it takes the file along.
    parts = target.split("/")
    candidates = ["/".join(parts[:n]) for n in range(1, len(parts) + 1)]
    return any(fnmatch.fnmatchcase(c, pattern.replace("**", "*")) for c in candidates)


# ---- ATS-GHA-009: uploads of credential stores and tracking data --------------------------

def check_sensitive_uploads(flow: Workflow, ctx: FileContext) -> None:
    for job in flow.jobs:
        for step in job.steps:
            if not _is_action(step, "actions/upload-artifact"):
                continue
            with_ = _with(step)
            path = with_.get("path") if with_ else None
            if not isinstance(path, Scalar):
                continue
            for start, end in sensitive_paths(path.value):
                ctx.finding("ATS-GHA-009").at(in_scalar(ctx, path, start, end)).args(path=path.value[start:end]).emit()


# ---- ATS-GHA-010: Hub write access in jobs a fork can trigger ----------------------------

HUB_TOKEN = re.compile(r"\bsecrets\.(HF_TOKEN|HUGGING_FACE_HUB_TOKEN|HUGGINGFACE_TOKEN|HF_WRITE_TOKEN|HF_API_TOKEN)\b")
HUB_WRITE = re.compile(r"\bpush_to_hub\b|\b(?:huggingface-cli|hf)\s+upload\b|\bupload_(?:folder|file)\s*\(")


def check_hub_write(flow: Workflow, ctx: FileContext) -> None:
    trigger = flow.privileged_trigger
    if trigger is None:
        return
    from atlascan.parsers.yaml import walk

    for job in flow.jobs:
        for node in walk(job.node):
            if not isinstance(node, Scalar):
                continue
            for pattern in (HUB_TOKEN, HUB_WRITE):
                m = pattern.search(node.value)
                if m:
                    ctx.finding("ATS-GHA-010").at(in_scalar(ctx, node, m.start(), m.end())).args(trigger=trigger, what=m.group(0)).emit()
                    break


# ---- ATS-GHA-011: pull requests run on self-hosted runners -------------------------------

PR_TRIGGERS = ("pull_request", "pull_request_target")
# A job condition that keeps fork pull requests off the runner.
SAME_REPO_ONLY = re.compile(r"head\.repo\.full_name\s*==\s*github\.repository|head\.repo\.fork\s*==\s*false|github\.repository\s*==\s*github\.event\.pull_request\.head\.repo\.full_name")


# A job condition on a label of the pull request: only people with triage access or more
# can add one (axolotl's `run-gpu-tests`), a maintainer's approval for each PR.
LABEL_GATE = re.compile(r"github\.event\.pull_request\.labels|github\.event\.label\.name")


def _runner_labels(job: Job) -> list[Scalar]:
    """The labels of a job's `runs-on:` (a label, a list, or a group's `labels:`)."""
    runs_on = job.node.get("runs-on")
    if isinstance(runs_on, Scalar):
        return [runs_on]
    if isinstance(runs_on, Sequence):
        return [i for i in runs_on.items if isinstance(i, Scalar)]
    if isinstance(runs_on, Mapping):
        group_labels = runs_on.get("labels")
        return [group_labels] if isinstance(group_labels, Scalar) else [i for i in getattr(group_labels, "items", []) if isinstance(i, Scalar)]
    return []


def _self_hosted(job: Job) -> bool:
    """Whether the job runs on a self-hosted runner, or on one an expression picks."""
    return any(label.value.strip().lower() == "self-hosted" or "${{" in label.value for label in _runner_labels(job))


def check_self_hosted(flow: Workflow, ctx: FileContext) -> None:
    trigger = next((t for t in PR_TRIGGERS if t in flow.triggers), None)
    if trigger is None:
        return
    for job in flow.jobs:
        condition = job.node.text("if") or ""
        if SAME_REPO_ONLY.search(condition) or LABEL_GATE.search(condition):
            continue
        for label in _runner_labels(job):
            if label.value.strip().lower() == "self-hosted":
                # One trigger puts every such job of the workflow on the runner: one decision
                # (gate the workflow, or move it off the runner), its other jobs related.
                ctx.finding("ATS-GHA-011").at(label).args(trigger=trigger, job=job.name).property("foldObject", "workflow:1").emit()


# ---- ATS-GHA-012: untrusted text written to $GITHUB_ENV / $GITHUB_PATH --------------------

RUNNER_FILE = re.compile(r"\$\{?(?:env:)?(GITHUB_ENV|GITHUB_PATH)\b\}?")
SHELL_VAR = re.compile(r"\$\{?([A-Za-z_]\w*)\}?|\$env:([A-Za-z_]\w*)")


# Branch names: git refuses control characters in a ref, so a branch name holds no newline
# and cannot start a line of its own in $GITHUB_ENV.
BRANCH_CONTEXT = re.compile(r"head_ref|head\.ref|head_branch|head\.label")
# A line that writes `NAME=` before the value: the variable it sets is the workflow's choice.
NAMED_ASSIGNMENT = re.compile(r"""^\s*(?:echo|printf)\s+(?:-[a-z]+\s+)*["']?[A-Za-z_]\w*=""")


def _attacker_texts(text: str, scope: _Scope) -> list[str]:
    """The attacker-controlled contexts the expressions and `$VAR`s of this line read."""
    found = []
    for m in EXPRESSION.finditer(text):
        grade = _classify(m.group(1), scope)
        if grade and grade[0] == ATTACKER:
            found.append(grade[1])
    for m in SHELL_VAR.finditer(text):
        value = _env_value(scope, m.group(1) or m.group(2))
        if value is not None:
            for inner in EXPRESSION.finditer(value.value):
                grade = _classify(inner.group(1), scope)
                if grade and grade[0] == ATTACKER:
                    found.append(f"${m.group(1) or m.group(2)}` set from `{grade[1]}")
    return found


def _sets_other_variables(line: str, target: re.Match[str], contexts: list[str]) -> bool:
    """Whether the outsider's text can set a variable of its own choosing in $GITHUB_ENV (any
    text in $GITHUB_PATH adds a folder): not when every context is a branch name and the line
    writes a fixed `NAME=` before it (`echo "BRANCH=$branch" >> $GITHUB_ENV`)."""
    if target.group(1) != "GITHUB_ENV" or not all(BRANCH_CONTEXT.search(c) for c in contexts):
        return True
    return NAMED_ASSIGNMENT.match(line) is None


def check_runner_file_writes(flow: Workflow, ctx: FileContext) -> None:
    privileged = flow.privileged_trigger
    outsider = flow.action or "workflow_call" in flow.triggers or bool(flow.triggers & OUTSIDER_TRIGGERS)
    severity = Severity.HIGH if privileged else None if outsider else Severity.LOW
    for job in flow.jobs:
        for step in job.steps:
            run = step.get("run")
            if not isinstance(run, Scalar) or "GITHUB_" not in run.value:
                continue
            scope = _Scope(flow, job, step)
            offset = 0
            for line in run.value.splitlines(keepends=True):
                target = RUNNER_FILE.search(line)
                contexts = _attacker_texts(line[: target.start()], scope) if target else []
                if target and contexts and _sets_other_variables(line, target, contexts):
                    site = in_scalar(ctx, run, offset + target.start(), offset + target.end())
                    ctx.finding("ATS-GHA-012").at(site).args(context=contexts[0], file=target.group(1)).severity(severity).emit()
                offset += len(line)


# ---- ATS-GHA-013: bot checks on a spoofable actor -----------------------------------------

BOT_CONDITION = re.compile(
    r"github\.(?:actor|triggering_actor)\s*==\s*['\"][\w.-]+\[bot\]['\"]|['\"][\w.-]+\[bot\]['\"]\s*==\s*github\.(?:actor|triggering_actor)"
)


def check_bot_conditions(flow: Workflow, ctx: FileContext) -> None:
    if flow.action or not flow.triggers & OUTSIDER_TRIGGERS:
        return
    severity = Severity.HIGH if flow.privileged_trigger else None
    trigger = flow.privileged_trigger or next(iter(sorted(flow.triggers & OUTSIDER_TRIGGERS)))
    for job in flow.jobs:
        for node in [job.node, *job.steps]:
            condition = node.get("if")
            if isinstance(condition, Scalar):
                m = BOT_CONDITION.search(condition.value)
                if m:
                    site = in_scalar(ctx, condition, m.start(), m.end())
                    ctx.finding("ATS-GHA-013").at(site).args(condition=m.group(0), trigger=trigger).severity(severity).emit()


# ---- ATS-GHA-014: workflow commands re-enabled --------------------------------------------


def check_unsecure_commands(flow: Workflow, ctx: FileContext) -> None:
    for node in [flow.root, *(j.node for j in flow.jobs), *(s for j in flow.jobs for s in j.steps)]:
        env = node.get("env")
        value = env.get("ACTIONS_ALLOW_UNSECURE_COMMANDS") if isinstance(env, Mapping) else None
        if isinstance(value, Scalar) and value.value.strip().strip("'\"").lower() in ("true", "1", "yes"):
            ctx.finding("ATS-GHA-014").at(value).emit()


# ---- ATS-GHA-015: secrets printed to the log ----------------------------------------------

SECRET_EXPR = re.compile(r"\$\{\{\s*secrets\.([\w-]+)\s*\}\}")
PRINT = re.compile(r"^\s*(?:echo|printf|cat\s+<<<|Write-(?:Host|Output))\b")
TRACE = re.compile(r"^\s*set\s+-[a-wyz]*x|^\s*set\s+-o\s+xtrace\b|^\s*(?:bash|sh)\s+-[a-wyz]*x\b", re.M)


def _secret_vars(scope: _Scope) -> set[str]:
    names = set()
    for node in (scope.step, scope.job.node, scope.flow.root):
        env = node.get("env")
        if isinstance(env, Mapping):
            for name, _, value in env.entries():
                if isinstance(value, Scalar) and SECRET_EXPR.search(value.value) and name != "GITHUB_TOKEN":
                    names.add(name)
    return names


def _secret_in(text: str, secret_vars: set[str]) -> tuple[int, int, str] | None:
    """[start, end) and name of the first secret a piece of script reads: a
    `${{ secrets.X }}` expression or a `$VAR` whose env entry is one."""
    m = SECRET_EXPR.search(text)
    if m:
        return m.start(), m.end(), m.group(1)
    for v in SHELL_VAR.finditer(text):
        name = v.group(1) or v.group(2)
        if name in secret_vars:
            return v.start(), v.end(), name
    return None


def check_secret_printing(flow: Workflow, ctx: FileContext) -> None:
    for job in flow.jobs:
        for step in job.steps:
            run = step.get("run")
            if not isinstance(run, Scalar):
                continue
            secret_vars = _secret_vars(_Scope(flow, job, step))
            offset = 0
            for line in run.value.splitlines(keepends=True):
                code = line.split(" #", 1)[0]
                # Piped or redirected output goes to a program or a file, not the log.
                if PRINT.match(code) and not re.search(r"\||>|--password-stdin", code):
                    hit = _secret_in(code, secret_vars)
                    if hit:
                        site = in_scalar(ctx, run, offset + hit[0], offset + hit[1])
                        ctx.finding("ATS-GHA-015").at(site).args(secret=hit[2], how=f"printed with `{code.split()[0]}`").emit()
                offset += len(line)
            trace = TRACE.search(run.value)
            traced = _secret_in(run.value[trace.end() :], secret_vars) if trace else None
            if trace and traced:
                site = in_scalar(ctx, run, trace.start(), trace.end())
                ctx.finding("ATS-GHA-015").at(site).args(secret=traced[2], how="traced by `set -x`").emit()


# ---- ATS-GHA-016: release jobs restore a cache other workflows write ---------------------

CACHE_ACTIONS = ("actions/cache", "actions/cache/restore", "swatinem/rust-cache", "mozilla-actions/sccache-action")
CACHE_INPUTS = {"cache": None, "enable-cache": "true", "cache-dependency-path": None}
PUBLISH_ACTIONS = ("pypa/gh-action-pypi-publish", "softprops/action-gh-release", "ncipollo/release-action",
                   "goreleaser/goreleaser-action", "docker/build-push-action")  # fmt: skip
PUBLISH_CMD = re.compile(r"\btwine\s+upload\b|\b(?:npm|cargo|pnpm|yarn)\s+publish\b|\b(?:uv|poetry|hatch|flit|pdm)\s+publish\b|"
                         r"\b(?:huggingface-cli|hf)\s+upload\b|\bpush_to_hub\b|\bgh\s+release\s+(?:create|upload)\b")  # fmt: skip


def _tag_push(flow: Workflow) -> bool:
    on = flow.root.get("on")
    push = on.get("push") if isinstance(on, Mapping) else None
    return isinstance(push, Mapping) and "tags" in push and "branches" not in push


def _publishes(job: Job) -> str | None:
    for step in job.steps:
        name = _uses(step).lower().split("@", 1)[0]
        if name in PUBLISH_ACTIONS and (name != "docker/build-push-action" or _pushes_image(step)):
            return f"`{name}`"
        run = step.get("run")
        m = PUBLISH_CMD.search(run.value) if isinstance(run, Scalar) else None
        if m:
            return f"`{m.group(0)}`"
    return None


LOCAL_REGISTRY = re.compile(r"^(?:localhost|127\.0\.0\.1|kind-registry|registry\.local)(?::\d+)?/")


def _pushes_image(step: Mapping) -> bool:
    """Whether a `docker/build-push-action` step pushes its image somewhere others pull from:
    `push:` true or an expression (`outputs:` to a registry likewise), and some tag not
    in a registry on the runner itself (flytekit's `localhost:30000` sandbox). The action
    pushes nothing by default (gpt-neox's step with no `with:`)."""
    with_ = _with(step)
    if with_ is None:
        return False
    push, outputs, tags = (with_.get(k) for k in ("push", "outputs", "tags"))
    pushed = isinstance(push, Scalar) and push.value.strip().lower() not in ("", "false")
    if isinstance(outputs, Scalar) and re.search(r"type=registry|push=true", outputs.value):
        pushed = True
    if not pushed or not isinstance(tags, Scalar):
        return pushed
    names = [t for t in re.split(r"[\s,]+", tags.value) if t]
    return not names or not all(LOCAL_REGISTRY.match(t) for t in names)


def _needed_by(flow: Workflow, names: set[str]) -> set[str]:
    """The jobs that the jobs `names` need, directly or through others (`needs:`)."""
    needs = {job.name: job.needs for job in flow.jobs}
    found: set[str] = set()
    todo = [n for name in names for n in needs.get(name, ())]
    while todo:
        name = todo.pop()
        if name not in found:
            found.add(name)
            todo.extend(needs.get(name, ()))
    return found


def _cache_site(step: Mapping) -> YNode | None:
    """The node that turns caching on in this step, or None."""
    name = _uses(step).lower().split("@", 1)[0]
    if name in CACHE_ACTIONS:
        return step.get("uses")
    with_ = _with(step)
    if with_ is None or not name.startswith(("actions/setup-", "astral-sh/setup-uv")):
        return None
    for key, wanted in CACHE_INPUTS.items():
        value = with_.get(key)
        text = value.value.strip().lower() if isinstance(value, Scalar) else ""
        if text and text != "false" and (wanted is None or text == wanted):
            return value
    return None


def check_release_cache(flow: Workflow, ctx: FileContext) -> None:
    if flow.action:
        return
    release_trigger = "release" in flow.triggers or _tag_push(flow)
    # Where a job of a release workflow visibly publishes, another job feeds the release only
    # if a publishing job needs it: one that runs after (whylogs' version-bump pull request)
    # publishes nothing (judged FALSE).
    published = {job.name: _publishes(job) for job in flow.jobs}
    publishers = {name for name, how in published.items() if how}
    feeding = _needed_by(flow, publishers) if publishers else None
    for job in flow.jobs:
        publishes = published[job.name]
        if not publishes and (not release_trigger or (feeding is not None and job.name not in feeding)):
            continue
        if not publishes:
            publishes = "a release" if "release" in flow.triggers else "a tag push"
        for step in job.steps:
            site = _cache_site(step)
            if site is not None:
                ctx.finding("ATS-GHA-016").at(site).args(job=job.name, publishes=publishes).emit()
                break


CHECKS: tuple[tuple[tuple[str, ...], Callable[[Workflow, FileContext], None]], ...] = (
    (("ATS-GHA-001",), check_injection),
    (("ATS-GHA-002",), check_untrusted_checkout),
    (("ATS-GHA-003",), check_permissions),
    (("ATS-GHA-004",), check_unpinned_uses),
    (("ATS-GHA-005",), check_unpinned_images),
    (("ATS-GHA-006", "ATS-GHA-007"), check_secrets_wholesale),
    (("ATS-GHA-008",), check_artipacked),
    (("ATS-GHA-009",), check_sensitive_uploads),
    (("ATS-GHA-010",), check_hub_write),
    (("ATS-GHA-011",), check_self_hosted),
    (("ATS-GHA-012",), check_runner_file_writes),
    (("ATS-GHA-013",), check_bot_conditions),
    (("ATS-GHA-014",), check_unsecure_commands),
    (("ATS-GHA-015",), check_secret_printing),
    (("ATS-GHA-016",), check_release_cache),
)


def check(root: Mapping, action: bool, ctx: FileContext) -> None:
    flow = workflow(root, action)
    for rule_ids, fn in CHECKS:
        if ctx.any_enabled(rule_ids):
            fn(flow, ctx)
