"""GitLab CI checks over `.gitlab-ci.yml` and its local includes (`.gitlab/ci/*.yml`).

Jobs come from the job model (`atlascan.parsers.gitlab`, a Document view) with `extends:`,
anchors and `<<:` merges applied, so a job inherits what its templates set; every finding
is reported once at the node a human edits (a template's line, not each job that extends
it). Literal secrets under `variables:` are left to the secrets engine, which already
reports them in any YAML.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from atlascan.engines.workflows.common import (
    image_of,
    image_unpinned,
    in_scalar,
    scalars,
    sensitive_paths,
)
from atlascan.model import Severity
from atlascan.parsers.gitlab import SCRIPT_KEYS, Job, Pipeline, script_lines
from atlascan.parsers.yaml import Mapping, Scalar, Sequence, YNode
from atlascan.vocabulary import COMMIT_SHA, SECRET_NAME

if TYPE_CHECKING:
    from atlascan.analysis import FileContext

# ---- script text ------------------------------------------------------------------------

# One simple command of a script line: up to a separator, a pipe or a redirection.
ECHO = re.compile(r"(?:^|(?<=[;&|(\s]))(?:echo|printf)\b(?P<args>[^\n;&|>]*)(?P<next>\|\|?|>|)")
VARIABLE = re.compile(r"\$\{?(?P<name>[A-Za-z_][A-Za-z0-9_]*)\}?")
# A whole-environment dump, alone or piped into something that prints it all (`| sort`);
# piped into a filter (`| grep CUDA`, `| wc -l`) it prints only what the filter keeps.
DUMP_ENV = re.compile(
    r"(?:^|(?<=[;&(]))\s*(?P<cmd>printenv|env|export\s+-p|declare\s+-x|set)\s*(?=$|[;&)\n]|\|\s*(?:sort|tee|cat|less|more)\b)",
    re.M,
)
JOB_TOKEN = re.compile(r"\$\{?CI_JOB_TOKEN\}?")
TRANSFER = re.compile(r"\b(?:curl|wget|http|httpie|Invoke-WebRequest)\b[^\n;&]*")
URL_HOST = re.compile(r"\bhttps?://(?P<host>[^/\s\"':]+)")
GITLAB_HOST_VARS = ("$CI_SERVER", "${CI_SERVER", "$CI_API", "${CI_API", "$CI_REGISTRY", "${CI_REGISTRY", "$CI_PROJECT_URL", "${CI_PROJECT_URL")


def _script_nodes(model: Pipeline, root: Mapping) -> Iterator[Scalar]:
    """Every script line of the file, once (templates and defaults included)."""
    seen: set[int] = set()
    holders: list[YNode | None] = [root, root.get("default")]
    for job in model.jobs:
        for key in SCRIPT_KEYS:
            for line in script_lines(job.get(key)):
                if id(line) not in seen:
                    seen.add(id(line))
                    yield line
    for holder in holders:
        if isinstance(holder, Mapping):
            for key in ("before_script", "after_script"):
                for line in script_lines(holder.get(key)):
                    if id(line) not in seen:
                        seen.add(id(line))
                        yield line


def check_printed_secrets(model: Pipeline, ctx: FileContext) -> None:
    """ATS-GL-001: `echo $TOKEN` or a whole-environment dump in a job log."""
    for line in _script_nodes(model, model.root):
        text = line.value
        if "echo" in text or "printf" in text:
            for m in ECHO.finditer(text):
                if m.group("next"):
                    continue  # piped into a command (`--password-stdin`) or redirected
                for var in VARIABLE.finditer(m.group("args")):
                    name = var.group("name")
                    if name != "CI_JOB_TOKEN" and SECRET_NAME.search(name):
                        start = m.start("args") + var.start()
                        ctx.finding("ATS-GL-001").at(in_scalar(ctx, line, start, start + len(var.group(0)))).args(what=f"echo ${name}").emit()
        for m in DUMP_ENV.finditer(text):
            ctx.finding("ATS-GL-001").at(in_scalar(ctx, line, m.start("cmd"), m.end("cmd"))).args(what=m.group("cmd")).severity(Severity.MEDIUM).emit()


def check_job_token(model: Pipeline, ctx: FileContext) -> None:
    """ATS-GL-005: `$CI_JOB_TOKEN` printed, written to a file, or sent to a foreign host."""
    for line in _script_nodes(model, model.root):
        text = line.value
        if "CI_JOB_TOKEN" not in text:
            continue
        for m in ECHO.finditer(text):
            token = JOB_TOKEN.search(m.group("args"))
            if token and m.group("next") != "|" and m.group("next") != "||":
                start = m.start("args") + token.start()
                what = "written to a file" if m.group("next") == ">" else "printed to the job log"
                ctx.finding("ATS-GL-005").at(in_scalar(ctx, line, start, start + len(token.group(0)))).args(what=what).emit()
        for m in TRANSFER.finditer(text):
            command = m.group(0)
            token = JOB_TOKEN.search(command)
            if not token or any(v in command for v in GITLAB_HOST_VARS):
                continue
            hosts = [h.group("host").lower() for h in URL_HOST.finditer(command)]
            if hosts and not any("gitlab" in h for h in hosts):
                start = m.start() + token.start()
                ctx.finding("ATS-GL-005").at(in_scalar(ctx, line, start, start + len(token.group(0)))).args(what=f"sent to {hosts[0]}").emit()


def check_debug_trace(model: Pipeline, ctx: FileContext) -> None:
    """ATS-GL-002: CI_DEBUG_TRACE / CI_DEBUG_SERVICES print every variable to the log."""
    seen: set[int] = set()
    tables = [model.variables] + [job.variables for job in model.jobs]
    for table in tables:
        for name in ("CI_DEBUG_TRACE", "CI_DEBUG_SERVICES"):
            pair = table.get(name)
            if pair is None or id(pair[1]) in seen:
                continue
            seen.add(id(pair[1]))
            value = pair[1]
            if isinstance(value, Scalar) and value.value.strip().lower() in ("true", "1", "yes"):
                ctx.finding("ATS-GL-002").at(value).args(name=name).emit()


def check_images(model: Pipeline, ctx: FileContext) -> None:
    """ATS-GL-003: job, default and service images without a digest."""
    seen: set[int] = set()
    candidates: list[YNode | None] = [model.root.get("image")]
    default = model.root.get("default")
    services: list[YNode | None] = [model.root.get("services")]
    if isinstance(default, Mapping):
        candidates.append(default.get("image"))
        services.append(default.get("services"))
    for job in model.jobs:
        candidates.append(job.get("image"))
        services.append(job.get("services"))
    for node in services:
        if isinstance(node, Sequence):
            candidates.extend(node.items)
    for node in candidates:
        image = image_of(node)
        if image is None or id(image) in seen:
            continue
        seen.add(id(image))
        value = image.value.strip()
        if image_unpinned(value):
            tag = value.rsplit("/", 1)[-1].partition(":")[2]
            severity = Severity.MEDIUM if tag in ("", "latest") else None
            ctx.finding("ATS-GL-003").at(image).args(image=value).severity(severity).emit()


VERSION_REF = re.compile(r"^v?\d+(?:\.\d+){1,3}(?:[-+][\w.]+)?$")


def check_includes(model: Pipeline, ctx: FileContext) -> None:
    """ATS-GL-004: remote, project and component includes that can change under you."""
    include = model.root.get("include")
    items: list[YNode] = include.items if isinstance(include, Sequence) else [include] if include is not None else []
    for item in items:
        if isinstance(item, Scalar):
            if item.value.startswith(("http://", "https://")):
                ctx.finding("ATS-GL-004").at(item).args(include=item.value, why="a remote URL without `integrity:`").severity(Severity.HIGH).emit()
            continue
        if not isinstance(item, Mapping):
            continue
        remote = item.get("remote")
        if isinstance(remote, Scalar) and "integrity" not in item:
            ctx.finding("ATS-GL-004").at(remote).args(include=remote.value, why="a remote URL without `integrity:`").severity(Severity.HIGH).emit()
        project = item.get("project")
        if isinstance(project, Scalar):
            ref = item.get("ref")
            if not isinstance(ref, Scalar):
                ctx.finding("ATS-GL-004").at(project).args(include=project.value, why="no `ref:` (the default branch)").severity(Severity.HIGH).emit()
            else:
                _ref(ctx, ref, ref.value.strip(), project.value)
        component = item.get("component")
        if isinstance(component, Scalar):
            name, at, version = component.value.rpartition("@")
            if not at:
                ctx.finding("ATS-GL-004").at(component).args(include=component.value, why="no version").severity(Severity.HIGH).emit()
            else:
                _ref(ctx, component, version.strip(), name)


def _ref(ctx: FileContext, node: Scalar, ref: str, what: str) -> None:
    if COMMIT_SHA.match(ref) or "$" in ref:
        return
    if VERSION_REF.match(ref):
        ctx.finding("ATS-GL-004").at(node).args(include=what, why=f"tag `{ref}` (tags can be moved)").severity(Severity.LOW).emit()
    else:
        why = "`~latest` (whatever is released next)" if ref.startswith("~latest") else f"branch-like ref `{ref}`"
        ctx.finding("ATS-GL-004").at(node).args(include=what, why=why).severity(Severity.HIGH).emit()


MODEL_FILE = re.compile(r"[\w*.-]*\.(?:pt|pth|bin|ckpt|safetensors|onnx|pkl|pickle|joblib|h5|keras|gguf|mar)\b|(?:^|/)models?/?$")


def check_artifacts(model: Pipeline, ctx: FileContext) -> None:
    """ATS-GL-006: artifacts that carry credentials or the Hub token cache (high), or
    model weights (medium: the trained model itself leaks)."""
    seen: set[int] = set()
    for job in model.jobs:
        artifacts = job.get("artifacts")
        if not isinstance(artifacts, Mapping) or (artifacts.text("access") or "").strip() in ("none", "developer"):
            continue
        for path in scalars(artifacts.get("paths")):
            if id(path) in seen:
                continue
            seen.add(id(path))
            hits = sensitive_paths(path.value)
            for start, end in hits:
                ctx.finding("ATS-GL-006").at(in_scalar(ctx, path, start, end)).args(path=path.value[start:end]).emit()
            weights = None if hits else MODEL_FILE.search(path.value.strip())
            if weights:
                ctx.finding("ATS-GL-006").at(path).args(path=path.value.strip()).severity(Severity.MEDIUM).emit()


# Commands that execute code from the checked-out merge request.
RUNS_REPO_CODE = re.compile(
    r"(?:^|[;&|(]\s*|\n\s*)(?:pip3?\s+install\s+(?:-e\s+|--editable\s+|-r\s+|\.)|python3?\s+(?:setup\.py|-m\s+(?:pytest|build|tox|nox)|[\w./-]+\.py)|"
    r"pytest|tox|nox|make|npm\s+(?:install|ci|run|test)|yarn|poetry\s+install|uv\s+(?:sync|run)|docker\s+build|bash\s+[\w./-]+\.sh|sh\s+[\w./-]+\.sh|\./[\w./-]+)\b"
)
MR_SOURCE = re.compile(r"\$CI_PIPELINE_SOURCE\s*==\s*[\"']merge_request_event[\"']|\$CI_MERGE_REQUEST_(?:IID|ID)\b")


def _runs_for_merge_requests(job_node: YNode | None, only: YNode | None) -> bool:
    if isinstance(only, (Scalar, Sequence)) and any(s.value == "merge_requests" for s in scalars(only)):
        return True
    if isinstance(only, Mapping) and any(s.value == "merge_requests" for s in scalars(only.get("refs"))):
        return True
    if isinstance(job_node, Sequence):
        for rule in job_node.items:
            cond = rule.text("if") if isinstance(rule, Mapping) else None
            when = rule.text("when") if isinstance(rule, Mapping) else None
            if cond and MR_SOURCE.search(cond) and when != "never":
                return True
    return False


def check_mr_secrets(model: Pipeline, ctx: FileContext) -> None:
    """ATS-GL-007: a merge-request job runs the request's code next to deploy secrets."""
    workflow = model.root.get("workflow")
    workflow_rules = workflow.get("rules") if isinstance(workflow, Mapping) else None
    for job in model.jobs:
        if job.hidden:
            continue
        rules, only = job.get("rules"), job.get("only")
        # A job's own rules decide; a job without any follows the pipeline's workflow rules.
        own = rules is not None or only is not None
        if not _runs_for_merge_requests(rules, only) if own else not _runs_for_merge_requests(workflow_rules, None):
            continue
        lines = [line for key in SCRIPT_KEYS for line in script_lines(job.get(key))]
        if not any(RUNS_REPO_CODE.search(line.value) for line in lines):
            continue
        secret = _first_secret(job, lines)
        if secret is not None:
            node, start, end, name = secret
            if isinstance(node, Scalar) and end:
                ctx.finding("ATS-GL-007").at(in_scalar(ctx, node, start, end)).args(job=job.name, secret=name).emit()
            else:
                ctx.finding("ATS-GL-007").at(node).args(job=job.name, secret=name).emit()


def _first_secret(job: Job, lines: list[Scalar]) -> tuple[YNode, int, int, str] | None:
    for key in ("id_tokens", "secrets"):
        node = job.key_node(key)
        if node is not None:
            return node, 0, 0, f"`{key}:`"
    for line in lines:
        for var in VARIABLE.finditer(line.value):
            name = var.group("name")
            if not name.startswith("CI_") and SECRET_NAME.search(name):
                return line, var.start(), var.end(), f"`${name}`"
    return None


# ---- ATS-GL-008: outsider-written predefined variables run as code -----------------------

# Text the author of a merge request (or of a pushed commit) writes.
OUTSIDER_TEXT = ("CI_MERGE_REQUEST_TITLE", "CI_MERGE_REQUEST_DESCRIPTION", "CI_COMMIT_MESSAGE", "CI_COMMIT_TITLE",
                 "CI_COMMIT_DESCRIPTION", "CI_COMMIT_AUTHOR", "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME",
                 "CI_EXTERNAL_PULL_REQUEST_SOURCE_BRANCH_NAME")  # fmt: skip
# Branch names: the merge request's source branch when the pipeline runs for one.
BRANCH_TEXT = ("CI_COMMIT_BRANCH", "CI_COMMIT_REF_NAME")
OUTSIDER_VAR = re.compile(r"\$\{?(" + "|".join(OUTSIDER_TEXT + BRANCH_TEXT) + r")\b\}?")
EVALUATORS = re.compile(r"(?:^|\s)(?:eval|(?:ba|z|da|k)?sh\s+(?:-\w+\s+)*-\w*c|python3?\s+-c|node\s+-e|perl\s+-e|ruby\s+-e)(?:\s|$)")


def _code_position(text: str, pos: int) -> str | None:
    """How the shell treats the variable at `pos` as code: inside `eval` / `sh -c` (not
    in single quotes), or as the command word itself (also in backticks or `$(...)`)."""
    quote = ""
    start = 0
    i = 0
    while i < pos:
        c = text[i]
        if quote == "'":
            quote = "" if c == "'" else quote
        elif c == "\\":
            i += 1
        elif c == "'" and not quote:
            quote = "'"
        elif c == '"':
            quote = "" if quote else '"'
        elif (c in ";|&\n" and not quote) or c == "`" or text.startswith("$(", i):
            start = i + (2 if text.startswith("$(", i) else 1)
        i += 1
    if quote == "'":
        return None
    command = text[start:pos]
    evaluator = EVALUATORS.search(command)
    if evaluator:
        words = evaluator.group(0).split()
        return "inside `" + " ".join(words[:1] + words[1:][-1:]) + "`"
    words = [w for w in command.split() if "=" not in w]
    if not words and not quote:
        return "as the command name"
    return None


def check_variable_injection(model: Pipeline, ctx: FileContext) -> None:
    workflow = model.root.get("workflow")
    workflow_rules = workflow.get("rules") if isinstance(workflow, Mapping) else None
    seen: set[tuple[int, int]] = set()
    for job in model.jobs:
        rules, only = job.get("rules"), job.get("only")
        own = rules is not None or only is not None
        mr = _runs_for_merge_requests(rules, only) if own else _runs_for_merge_requests(workflow_rules, None)
        # `variables:` entries set from an outsider-written variable carry its text.
        aliases = {}
        for alias, (_, value) in job.variables.items():
            found = OUTSIDER_VAR.search(value.value) if isinstance(value, Scalar) else None
            if found and (found.group(1) not in BRANCH_TEXT or mr):
                aliases[alias] = found.group(1)
        pattern = OUTSIDER_VAR
        if aliases:
            names = "|".join(re.escape(a) for a in aliases)
            pattern = re.compile(OUTSIDER_VAR.pattern[: -len(r")\b\}?")] + "|" + names + r")\b\}?")
        for key in SCRIPT_KEYS:
            for line in script_lines(job.get(key)):
                if "$" not in line.value:
                    continue
                for m in pattern.finditer(line.value):
                    name = m.group(1)
                    if (name in BRANCH_TEXT and not mr) or (id(line), m.start()) in seen:
                        continue
                    how = _code_position(line.value, m.start())
                    if how is None:
                        continue
                    seen.add((id(line), m.start()))
                    site = in_scalar(ctx, line, m.start(), m.end())
                    variable = f"{name}` set from `${aliases[name]}" if name in aliases else name
                    ctx.finding("ATS-GL-008").at(site).args(variable=variable, how=how).emit()


CHECKS = (
    (("ATS-GL-001",), check_printed_secrets),
    (("ATS-GL-002",), check_debug_trace),
    (("ATS-GL-003",), check_images),
    (("ATS-GL-004",), check_includes),
    (("ATS-GL-005",), check_job_token),
    (("ATS-GL-006",), check_artifacts),
    (("ATS-GL-007",), check_mr_secrets),
    (("ATS-GL-008",), check_variable_injection),
)


def check(model: Pipeline, ctx: FileContext) -> None:
    for rule_ids, fn in CHECKS:
        if ctx.any_enabled(rule_ids):
            fn(model, ctx)
