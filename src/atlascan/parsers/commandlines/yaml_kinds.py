"""Command lines of the YAML kinds, with every offset mapped back into the file.

- gha-workflow: `jobs.*.steps[*].run` (shell steps only), env of workflow, job and step;
- gha-action: composite `runs.steps[*].run`, docker `runs.entrypoint` + `runs.args`;
- gitlab-ci: `before_script` / `script` / `after_script` of every job, `default:` and the
  globals, with the job's variables after `extends:` and anchors are resolved; each script
  line is yielded once even when several jobs share it;
- compose: `services.*.entrypoint` + `command`, with `environment`;
- yaml: every container-like mapping (an `image` next to `command`/`args`) anywhere in a
  document, so Pod specs of any workload kind or CRD (Deployments, Jobs, Kubeflow Notebooks,
  PyTorchJob, KServe, Argo templates) are covered; Argo `script.source`; KubeRay
  `rayStartParams` as the `ray start` argv they become;
- mlproject: `entry_points.*.command`.

Parse errors are left to the engine that owns the format (workflows, manifests), which
reports them once; here an unparsable file simply has no command lines.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from atlascan.model import ParseError
from atlascan.parsers import yaml as y
from atlascan.parsers.commandlines import CommandText

if TYPE_CHECKING:
    from atlascan.document import Document

NON_SHELLS = ("pwsh", "powershell", "cmd", "python")  # GitHub `shell:` values that are not sh
SHELLS = frozenset({"sh", "bash", "/bin/sh", "/bin/bash", "/usr/bin/env bash", "ash", "dash", "zsh"})


def extract(doc: Document) -> Iterator[CommandText]:
    walker = _EXTRACTORS.get(doc.kind)
    if walker is None:
        return
    try:
        tree = doc.tree
    except ParseError:
        return
    lines = doc.lines
    for root in tree.roots():
        if isinstance(root, y.Mapping):
            yield from walker(root, lines)


# ---- building CommandTexts --------------------------------------------------------------


def shell_text(node: y.Scalar, origin: str, lines: list[str], env: dict[str, str]) -> CommandText:
    """A scalar holding shell text (a `run:` block, a compose command string)."""
    return CommandText(node.value, origin, y.scalar_anchors(node, lines), env=env)


def argv_text(items: list[y.Scalar], origin: str, lines: list[str], env: dict[str, str]) -> CommandText:
    """An argument list; each element is anchored where it is written (block scalars too)."""
    argv: list[str] = []
    anchors: list[tuple[int, int, int]] = []
    offset = 0
    for item in items:
        anchors.extend((offset + o, line, col) for o, line, col in y.scalar_anchors(item, lines))
        argv.append(item.value)
        offset += len(item.value) + 1
    return CommandText(" ".join(argv), origin, tuple(anchors), argv=tuple(argv), env=env)


def _scalars(node: y.YNode | None) -> list[y.Scalar] | None:
    """The elements of a list of scalars, or None when `node` is not one."""
    if isinstance(node, y.Sequence) and all(isinstance(i, y.Scalar) for i in node.items):
        return list(node.items)  # type: ignore[arg-type]
    return None


def _command(parts: list[y.YNode | None], origin: str, lines: list[str], env: dict[str, str]) -> Iterator[CommandText]:
    """`entrypoint`/`command` style pairs: lists are joined into one argv, a string is shell."""
    argv: list[y.Scalar] = []
    for part in parts:
        items = _scalars(part)
        if items is not None:
            argv.extend(items)
        elif isinstance(part, y.Scalar) and part.value.strip():
            yield shell_text(part, origin, lines, env)
    if argv:
        yield argv_text(argv, origin, lines, env)


def _env_mapping(node: y.YNode | None) -> dict[str, str]:
    """`KEY: value` mappings and `- KEY=value` lists (compose) as plain strings."""
    out: dict[str, str] = {}
    if isinstance(node, y.Mapping):
        for name, _, value in node.entries():
            if isinstance(value, y.Scalar):
                out[name] = value.value
    elif isinstance(node, y.Sequence):
        for item in node.items:
            if isinstance(item, y.Scalar) and "=" in item.value:
                key, _, text = item.value.partition("=")
                out[key.strip()] = text
    return out


# ---- GitHub Actions ---------------------------------------------------------------------


def _is_shell(shell: str | None) -> bool:
    return shell is None or not shell.strip().lower().startswith(NON_SHELLS)


def _run_steps(steps: y.YNode | None, origin: str, lines: list[str], env: dict[str, str], shell: str | None) -> Iterator[CommandText]:
    if not isinstance(steps, y.Sequence):
        return
    for step in steps.items:
        if not isinstance(step, y.Mapping):
            continue
        run = step.get("run")
        if isinstance(run, y.Scalar) and _is_shell(step.text("shell") or shell):
            yield shell_text(run, origin, lines, {**env, **_env_mapping(step.get("env"))})


def _default_shell(node: y.YNode | None) -> str | None:
    defaults = node.get("defaults") if isinstance(node, y.Mapping) else None
    run = defaults.get("run") if isinstance(defaults, y.Mapping) else None
    return run.text("shell") if isinstance(run, y.Mapping) else None


def gha_workflow(root: y.Mapping, lines: list[str]) -> Iterator[CommandText]:
    env = _env_mapping(root.get("env"))
    jobs = root.get("jobs")
    if not isinstance(jobs, y.Mapping):
        return
    for _, _, job in jobs.entries():
        if isinstance(job, y.Mapping):
            shell = _default_shell(job) or _default_shell(root)
            yield from _run_steps(job.get("steps"), "gha run", lines, {**env, **_env_mapping(job.get("env"))}, shell)


def gha_action(root: y.Mapping, lines: list[str]) -> Iterator[CommandText]:
    runs = root.get("runs")
    if not isinstance(runs, y.Mapping):
        return
    yield from _run_steps(runs.get("steps"), "gha action run", lines, {}, None)
    if (runs.text("using") or "").lower() == "docker":
        yield from _command([runs.get("entrypoint"), runs.get("args")], "gha action docker", lines, _env_mapping(runs.get("env")))


# ---- GitLab CI --------------------------------------------------------------------------


def gitlab_ci(root: y.Mapping, lines: list[str]) -> Iterator[CommandText]:
    from atlascan.parsers.gitlab import (
        SCRIPT_KEYS,
        pipeline,
        script_lines,
        variable_values,
    )

    model = pipeline(root)
    done: set[int] = set()
    # Concrete jobs first so a template's lines carry the variables of a job that runs them.
    for job in sorted(model.jobs, key=lambda j: j.hidden):
        env = variable_values(job.variables)
        for key in SCRIPT_KEYS:
            for line in script_lines(job.get(key)):
                if id(line) not in done:
                    done.add(id(line))
                    yield shell_text(line, f"gitlab {key}", lines, env)
    env = variable_values(model.variables)
    default = root.get("default")
    for holder in (root, default):
        if isinstance(holder, y.Mapping):
            for key in ("before_script", "after_script"):
                for line in script_lines(holder.get(key)):
                    if id(line) not in done:
                        done.add(id(line))
                        yield shell_text(line, f"gitlab {key}", lines, env)


# ---- compose, MLproject -----------------------------------------------------------------


def compose(root: y.Mapping, lines: list[str]) -> Iterator[CommandText]:
    services = root.get("services")
    if not isinstance(services, y.Mapping):
        return
    for _, _, service in services.entries():
        if isinstance(service, y.Mapping):
            env = _env_mapping(service.get("environment"))
            yield from _command([service.get("entrypoint"), service.get("command")], "compose command", lines, env)


def mlproject(root: y.Mapping, lines: list[str]) -> Iterator[CommandText]:
    entry_points = root.get("entry_points")
    if not isinstance(entry_points, y.Mapping):
        return
    for _, _, entry in entry_points.entries():
        command = entry.get("command") if isinstance(entry, y.Mapping) else None
        if isinstance(command, y.Scalar) and command.value.strip():
            yield shell_text(command, "mlproject command", lines, {})


# ---- Kubernetes and ML manifests --------------------------------------------------------


def manifests(root: y.Mapping, lines: list[str]) -> Iterator[CommandText]:
    head_env: dict[int, dict[str, str]] = {}  # id(headGroupSpec) -> what KubeRay sets on it
    for node, parent_key in _mappings_with_parent_key(root):
        # `image` marks a container; KServe's `model:` blocks carry args without one.
        if ("image" in node or "modelFormat" in node) and ("command" in node or "args" in node or "source" in node):
            yield from _container(node, parent_key, lines)
        head = node.get("headGroupSpec")
        if isinstance(head, y.Mapping):
            head_env[id(head)] = _kuberay_head_env(node, head)
        params = node.get("rayStartParams")
        if isinstance(params, y.Mapping):
            yield _ray_start(node, params, parent_key == "headGroupSpec", lines, head_env.get(id(node), {}))


def _kuberay_head_env(cluster: y.Mapping, head: y.Mapping) -> dict[str, str]:
    """The ray container's literal env, plus what the operator adds to it: RAY_AUTH_MODE
    for `authOptions.mode: token`, RAY_USE_TLS for `tlsOptions.enabled`."""
    env: dict[str, str] = {}
    template = head.get("template")
    spec = template.get("spec") if isinstance(template, y.Mapping) else None
    containers = spec.get("containers") if isinstance(spec, y.Mapping) else None
    if isinstance(containers, y.Sequence) and containers.items and isinstance(containers.items[0], y.Mapping):
        env.update(_env_list(containers.items[0].get("env")))
    auth = cluster.get("authOptions")
    if isinstance(auth, y.Mapping) and (auth.text("mode") or "").strip().lower() == "token":
        env["RAY_AUTH_MODE"] = "token"
    tls = cluster.get("tlsOptions")
    if isinstance(tls, y.Mapping) and (tls.text("enabled") or "").strip().lower() == "true":
        env["RAY_USE_TLS"] = "1"
    return env


def _container(node: y.Mapping, parent_key: str, lines: list[str]) -> Iterator[CommandText]:
    env = _env_list(node.get("env"))
    origin = "argo script" if parent_key == "script" else "k8s command"
    yield from _command([node.get("command"), node.get("args")], origin, lines, env)
    source = node.get("source")
    interpreter = _scalars(node.get("command"))
    program = interpreter[0].value.rsplit("/", 1)[-1] if interpreter else "sh"
    if isinstance(source, y.Scalar) and source.value.strip() and (program in SHELLS or program in ("sh", "bash")):
        yield shell_text(source, "argo script source", lines, env)


def _env_list(node: y.YNode | None) -> dict[str, str]:
    """Kubernetes `env: [{name, value}]`: literal values only (`valueFrom` stays out)."""
    out: dict[str, str] = {}
    if isinstance(node, y.Sequence):
        for item in node.items:
            if isinstance(item, y.Mapping):
                name, value = item.text("name"), item.text("value")
                if name is not None and value is not None:
                    out[name] = value
    return out


def _ray_start(group: y.Mapping, params: y.Mapping, head: bool, lines: list[str], env: dict[str, str]) -> CommandText:
    """KubeRay turns `rayStartParams` into `ray start --key=value ...`; each argument is
    anchored at its key and its value so findings land where the parameter is written."""
    key = group.key_node("rayStartParams") or params
    words = ["ray", "start"] + (["--head"] if head else [])
    text = " ".join(words)
    anchors: list[tuple[int, int, int]] = [(0, key.line, key.column)]
    argv = list(words)
    for name, name_node, value in params.entries():
        if not isinstance(value, y.Scalar):
            continue
        text += " "
        # "--" has no place in the file: it and the name both start at the key.
        anchors.append((len(text), name_node.line, name_node.column))
        anchors.append((len(text) + 2, name_node.line, name_node.column))
        flag = f"--{name}"
        text += flag + "="
        quote = 1 if value.quoted else 0
        anchors.append((len(text), value.line, value.column + quote))
        text += value.value
        argv.append(f"{flag}={value.value}")
    return CommandText(text, "kuberay rayStartParams", tuple(anchors), argv=tuple(argv), env=env)


def _mappings_with_parent_key(root: y.Mapping) -> Iterator[tuple[y.Mapping, str]]:
    """Every mapping under `root` with the key it sits under (list items inherit the key of
    their list), each shared node once."""
    seen: set[int] = set()
    todo: list[tuple[y.YNode, str]] = [(root, "")]
    while todo:
        node, key = todo.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, y.Mapping):
            yield node, key
            for name, _, value in node.entries():
                if not isinstance(value, y.Scalar):
                    todo.append((value, name))
        elif isinstance(node, y.Sequence):
            todo.extend((item, key) for item in node.items if not isinstance(item, y.Scalar))


_EXTRACTORS = {
    "gha-workflow": gha_workflow,
    "gha-action": gha_action,
    "gitlab-ci": gitlab_ci,
    "compose": compose,
    "mlproject": mlproject,
    "yaml": manifests,
}
