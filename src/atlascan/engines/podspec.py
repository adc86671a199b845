"""Pod specs written with the Terraform Kubernetes provider (`kubernetes_pod`,
`kubernetes_deployment`, ... and their `_v1` forms), checked by the same detectors and under
the same rule ids as Kubernetes YAML (ATS-K8S-001/002/003/004/006/020).

The HCL schema is the YAML one in snake_case with blocks for objects: `spec { container {
security_context { privileged = true } } host_pid = true volume { host_path { path = ...
} } }`, nested under `template { spec {...} }` for controllers and `job_template { spec {
template { spec {...} } } }` for cron jobs. A `dynamic "container" { content {...} }` reads
as the blocks it generates. Values are taken literally: a variable or expression is not
evaluated (nothing is reported for it). A pod of node-audit tools alone (kube-bench) is
judged as in YAML, by `manifests/audit_tools.py`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from atlascan import vocabulary
from atlascan.engines.manifests import audit_tools, common
from atlascan.model import Severity
from atlascan.parsers.terraform.syntax import Attribute, Block, ParsedFile

if TYPE_CHECKING:
    from atlascan.analysis import FileContext

WORKLOADS = frozenset(
    f"kubernetes_{kind}{suffix}"
    for kind in ("pod", "deployment", "daemonset", "daemon_set", "stateful_set", "job", "cron_job", "replication_controller", "replica_set")
    for suffix in ("", "_v1")
)
DAEMONSETS = frozenset(w for w in WORKLOADS if "daemon" in w)
CONTAINER_BLOCKS = frozenset({"container", "init_container", "ephemeral_container"})
# YAML field -> HCL attribute of the pod spec, and the namespace it shares.
HOST_NAMESPACES = {"host_network": "network", "host_pid": "PID", "host_ipc": "IPC"}
ESCAPE_CAPABILITIES = frozenset({"SYS_ADMIN", "CAP_SYS_ADMIN", "ALL"})
RULES = ("ATS-K8S-001", "ATS-K8S-002", "ATS-K8S-003", "ATS-K8S-004", "ATS-K8S-006", "ATS-K8S-020")


def check_terraform(ctx: FileContext) -> None:
    if not any(w in ctx.doc.text for w in ("kubernetes_",)) or not ctx.any_enabled(RULES):
        return
    parsed = ctx.doc.tree
    if not isinstance(parsed, ParsedFile):
        return
    for block in parsed.blocks:
        if block.type == "resource" and len(block.labels) == 2 and block.labels[0] in WORKLOADS:
            _walk(block, ctx)


def _children(block: Block) -> Iterator[Block]:
    """Sub-blocks, with a `dynamic "x"` block read as the `x` blocks its `content` makes."""
    for sub in block.blocks:
        if sub.type == "dynamic" and sub.labels:
            for content in sub.sub("content"):
                yield Block(sub.labels[0], (), content.attributes, content.blocks, content.line, content.column, content.end_column, content.file, content.end_line)
        else:
            yield sub


def _walk(resource: Block, ctx: FileContext) -> None:
    todo: list[tuple[Block, str | None]] = [(resource, None)]
    while todo:
        block, container = todo.pop()
        for sub in _children(block):
            if sub.type in CONTAINER_BLOCKS:
                name = _text(sub.attributes.get("name"))
                _secret_env(sub, f"`{name or sub.type}`", ctx)
                todo.append((sub, name or sub.type))
                continue
            if sub.type == "security_context":
                _security_context(sub, container, ctx)
            elif sub.type == "volume":
                _volume(sub, block, ctx, resource.labels[0] in DAEMONSETS)
            elif sub.type == "env" and container is not None:
                _env(sub, ctx)
            todo.append((sub, container))
        if block.type == "spec" and container is None:
            for field, namespace in HOST_NAMESPACES.items():
                attr = block.attributes.get(field)
                if attr is None or not _true(attr.value):
                    continue
                if field == "host_pid" and audit_tools.documented_host_pid(_audit_pod(block)):
                    continue  # a node-audit tool reading the node's processes, as documented
                finding = ctx.finding("ATS-K8S-004").at(attr.span).args(field=field, namespace=namespace)
                finding.property("foldObject", f"pod:{block.line}").emit()


def _security_context(sc: Block, container: str | None, ctx: FileContext) -> None:
    label = f"`{container or '(pod level)'}`"
    privileged = sc.attributes.get("privileged")
    escalation = sc.attributes.get("allow_privilege_escalation")
    if privileged is not None and _true(privileged.value):
        # ATS-K8S-002 is not said separately (below): the one fix names both attributes.
        finding = ctx.finding("ATS-K8S-001").at(privileged.span)
        if escalation is not None and _true(escalation.value):
            finding.related(escalation.span, "allow_privilege_escalation = true; set it to false when privileged goes.")
            finding.args(container=label, what="runs privileged and allows privilege escalation").emit()
        else:
            finding.args(container=label, what="runs privileged").emit()
    for caps in _children(sc):
        if caps.type != "capabilities":
            continue
        add = caps.attributes.get("add")
        names = add.value if add is not None and isinstance(add.value, list) else []
        for cap in names:
            name = (cap if isinstance(cap, str) else "").strip().upper()
            if add is not None and name in ESCAPE_CAPABILITIES:
                ctx.finding("ATS-K8S-001").at(add.span).args(container=label, what=f"adds the {name} capability").emit()
    # A privileged container holds every privilege already: ATS-K8S-001's finding is the one.
    if escalation is not None and _true(escalation.value) and not (_set(privileged) and ctx.enabled("ATS-K8S-001")):
        ctx.finding("ATS-K8S-002").at(escalation.span).args(container=label).emit()


def _audit_pod(spec: Block) -> audit_tools.Pod:
    """What `audit_tools` reads of a pod spec: each container's image and volume mounts."""
    containers = [
        audit_tools.Container(
            _text(sub.attributes.get("image")) or "",
            tuple(
                (_text(m.attributes.get("name")) or "", _set(m.attributes.get("read_only")))
                for m in _children(sub)
                if m.type == "volume_mount"
            ),
        )
        for sub in _children(spec)
        if sub.type in CONTAINER_BLOCKS
    ]
    return audit_tools.Pod(tuple(containers))


def _volume(volume: Block, spec: Block, ctx: FileContext, daemonset: bool) -> None:
    name = _text(volume.attributes.get("name")) or ""
    for host in _children(volume):
        if host.type != "host_path":
            continue
        attr = host.attributes.get("path")
        path = _text(attr)
        if attr is None or path is None:
            continue
        if audit_tools.documented_mount(_audit_pod(spec), name, path):
            continue  # a node-audit tool reading, read-only, a host path its documentation mounts
        why = common.sensitive_host_path(path)
        finding = ctx.finding("ATS-K8S-003").at(attr.span).args(
            volume=f"`{name or '?'}`",
            path=path.strip(),
            why=f" ({why})" if why else "",
        )
        if daemonset and common.node_agent_path(path):
            finding.property("practice", common.NODE_AGENT_PRACTICE)  # as in YAML
        finding.severity(Severity.HIGH if why else None).property("foldObject", f"pod:{spec.line}").emit()


def _env(env: Block, ctx: FileContext) -> None:
    name = _text(env.attributes.get("name")) or ""
    value = env.attributes.get("value")
    secret = _text(value)
    if value is None or secret is None or not vocabulary.SECRET_NAME.search(name):
        return
    if common.literal_secret(secret):
        ctx.finding("ATS-K8S-006").at(value.span).args(name=name).secret(secret).emit()


def _secret_env(container: Block, label: str, ctx: FileContext) -> None:
    """ATS-K8S-020: `env { value_from { secret_key_ref {...} } }` or `env_from { secret_ref
    {...} }`, reported at the reference's block, unless the image only takes its settings
    from the environment (the rule's `env_only_images`)."""
    rule = ctx.rules.get("ATS-K8S-020")
    if rule is None:
        return
    image = _text(container.attributes.get("image")) or ""
    if image and common.image_in(image, rule.match.get("env_only_images", ())):
        return
    for entry in _children(container):
        if entry.type == "env":
            name = _text(entry.attributes.get("name")) or "?"
            refs = [(ref, f"sets environment variable `{name}`") for source in _children(entry) if source.type == "value_from"
                    for ref in _children(source) if ref.type == "secret_key_ref"]  # fmt: skip
        elif entry.type == "env_from":
            refs = [(ref, "loads every key as environment variables") for ref in _children(entry) if ref.type == "secret_ref"]
        else:
            continue
        for ref, what in refs:
            secret = f"`{_text(ref.attributes.get('name')) or '?'}`"
            finding = ctx.finding("ATS-K8S-020").at(ref.header).args(container=label, what=what, secret=secret)
            finding.property("foldScope", "repository").emit()  # the repository's practice, as in YAML


def _text(attr: Attribute | None) -> str | None:
    return attr.value if attr is not None and isinstance(attr.value, str) else None


def _set(attr: Attribute | None) -> bool:
    return attr is not None and _true(attr.value)


def _true(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")
