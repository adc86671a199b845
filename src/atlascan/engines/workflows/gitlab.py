"""GitLab CI checks over `.gitlab-ci.yml` and its local includes (`.gitlab/ci/*.yml`).

Jobs come from `gitlab_jobs.pipeline` with `extends:`, anchors and `<<:` merges applied, so
a job inherits what its templates set; every finding is reported once at the node a human
edits (a template's line, not each job that extends it). Literal secrets under
`variables:` are left to the secrets engine, which already reports them in any YAML.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from atlascan.engines.workflows.common import (
    SECRET_NAME,
    image_of,
    image_unpinned,
    report_in_scalar,
    report_node,
    scalars,
    sensitive_paths,
)
from atlascan.model import Severity
from atlascan.parsers.gitlab import (
    SCRIPT_KEYS,
    Job,
    Pipeline,
    pipeline,
    script_lines,
)
from atlascan.parsers.yaml import Mapping, Scalar, Sequence, YNode

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
                        report_in_scalar(ctx, "ATS-GL-001", line, start, start + len(var.group(0)), {"what": f"echo ${name}"})
        for m in DUMP_ENV.finditer(text):
            report_in_scalar(ctx, "ATS-GL-001", line, m.start("cmd"), m.end("cmd"), {"what": m.group("cmd")}, Severity.MEDIUM)


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
                report_in_scalar(ctx, "ATS-GL-005", line, start, start + len(token.group(0)), {"what": what})
        for m in TRANSFER.finditer(text):
            command = m.group(0)
            token = JOB_TOKEN.search(command)
            if not token or any(v in command for v in GITLAB_HOST_VARS):
                continue
            hosts = [h.group("host").lower() for h in URL_HOST.finditer(command)]
            if hosts and not any("gitlab" in h for h in hosts):
                start = m.start() + token.start()
                report_in_scalar(ctx, "ATS-GL-005", line, start, start + len(token.group(0)), {"what": f"sent to {hosts[0]}"})


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
                report_node(ctx, "ATS-GL-002", value, {"name": name})


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
            report_node(ctx, "ATS-GL-003", image, {"image": value}, severity)


SHA_REF = re.compile(r"^[0-9a-f]{40}$")
VERSION_REF = re.compile(r"^v?\d+(?:\.\d+){1,3}(?:[-+][\w.]+)?$")


def check_includes(model: Pipeline, ctx: FileContext) -> None:
    """ATS-GL-004: remote, project and component includes that can change under you."""
    include = model.root.get("include")
    items: list[YNode] = include.items if isinstance(include, Sequence) else [include] if include is not None else []
    for item in items:
        if isinstance(item, Scalar):
            if item.value.startswith(("http://", "https://")):
                report_node(ctx, "ATS-GL-004", item, {"include": item.value, "why": "a remote URL without `integrity:`"}, Severity.HIGH)
            continue
        if not isinstance(item, Mapping):
            continue
        remote = item.get("remote")
        if isinstance(remote, Scalar) and "integrity" not in item:
            report_node(ctx, "ATS-GL-004", remote, {"include": remote.value, "why": "a remote URL without `integrity:`"}, Severity.HIGH)
        project = item.get("project")
        if isinstance(project, Scalar):
            ref = item.get("ref")
            if not isinstance(ref, Scalar):
                report_node(ctx, "ATS-GL-004", project, {"include": project.value, "why": "no `ref:` (the default branch)"}, Severity.HIGH)
            else:
                _ref(ctx, ref, ref.value.strip(), project.value)
        component = item.get("component")
        if isinstance(component, Scalar):
            name, at, version = component.value.rpartition("@")
            if not at:
                report_node(ctx, "ATS-GL-004", component, {"include": component.value, "why": "no version"}, Severity.HIGH)
            else:
                _ref(ctx, component, version.strip(), name)


def _ref(ctx: FileContext, node: Scalar, ref: str, what: str) -> None:
    if SHA_REF.match(ref) or "$" in ref:
        return
    if VERSION_REF.match(ref):
        report_node(ctx, "ATS-GL-004", node, {"include": what, "why": f"tag `{ref}` (tags can be moved)"}, Severity.LOW)
    else:
        why = "`~latest` (whatever is released next)" if ref.startswith("~latest") else f"branch-like ref `{ref}`"
        report_node(ctx, "ATS-GL-004", node, {"include": what, "why": why}, Severity.HIGH)


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
                report_in_scalar(ctx, "ATS-GL-006", path, start, end, {"path": path.value[start:end]})
            weights = None if hits else MODEL_FILE.search(path.value.strip())
            if weights:
                report_node(ctx, "ATS-GL-006", path, {"path": path.value.strip()}, Severity.MEDIUM)


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
                report_in_scalar(ctx, "ATS-GL-007", node, start, end, {"job": job.name, "secret": name})
            else:
                report_node(ctx, "ATS-GL-007", node, {"job": job.name, "secret": name})


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


CHECKS = (
    (("ATS-GL-001",), check_printed_secrets),
    (("ATS-GL-002",), check_debug_trace),
    (("ATS-GL-003",), check_images),
    (("ATS-GL-004",), check_includes),
    (("ATS-GL-005",), check_job_token),
    (("ATS-GL-006",), check_artifacts),
    (("ATS-GL-007",), check_mr_secrets),
)


def check(root: Mapping, ctx: FileContext) -> None:
    model = pipeline(root)
    for rule_ids, fn in CHECKS:
        if ctx.any_enabled(rule_ids):
            fn(model, ctx)
