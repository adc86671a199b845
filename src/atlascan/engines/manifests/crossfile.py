"""What one manifest's checks need to know of the others, read once in the engine's
`prepare` pass: the images kustomizations rewrite (`kustomize.rewritten_images`), the
Roles whose service account runs in a DaemonSet (a node agent: every node holds its token),
whether the repository's manifests pin images by tag as their practice, and what compose
services run (`service_commands`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from atlascan import parsers
from atlascan.engines.manifests.nodes import get, items, text
from atlascan.parsers.yaml import Mapping
from atlascan.pathclass import PRACTICE_MIN_REFERENCES
from atlascan.vocabulary import interactive_shell, placeholder_image

if TYPE_CHECKING:
    from collections.abc import Sequence

    from atlascan.model import SourceFile
    from atlascan.parsers.yaml import YNode

# The service account a workload runs as (`serviceAccountName: runner`); a templated name
# (`{{ ... }}`) is not read.
SERVICE_ACCOUNT_LINE = re.compile(r"^[ \t-]*serviceAccount(?:Name)?:[ \t]*[\"']?([\w.-]+)", re.M)
# Files worth parsing for the RBAC index: those that declare a DaemonSet or a binding.
RBAC_HINT = re.compile(r"^\s*kind:\s*[\"']?(?:DaemonSet|ClusterRoleBinding|RoleBinding)\b", re.M)
# Image references of manifests and kustomizations, and those of them pinned by digest.
IMAGE_LINE = re.compile(r"^[ \t-]*(?:image|newTag|digest):[ \t]*[\"']?([^\s\"'#]+)", re.M)
READ_LIMIT = 4 * 1024 * 1024  # larger YAML is data, not a hand-written manifest


@dataclass(frozen=True)
class Facts:
    # image name -> folders and files whose manifests a kustomization rewrites it in
    images: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # `Kind/name` (name lower-cased) of the Roles and ClusterRoles bound to a service
    # account that a DaemonSet of the scan runs as
    node_agent_roles: frozenset[str] = frozenset()
    # Fewer than half of the manifests' image references are pinned by digest: tags are the
    # repository's practice, one change to make, so ATS-K8S-008 speaks once for the scan.
    tag_practice: bool = False
    # Fewer image references than a practice needs: `latest` or no tag is then reported.
    few_images: bool = False
    # The same for the compose files' `image:` references (ATS-CMP-005), counted apart.
    compose_tag_practice: bool = False
    few_compose_images: bool = False
    # service accounts a RoleBinding or ClusterRoleBinding of the scan names: their pods
    # call the API server, so they need the token
    bound_accounts: frozenset[str] = frozenset()
    # service accounts a workload of the scan runs as (`serviceAccountName:`); None when
    # not surveyed
    workload_accounts: frozenset[str] | None = None
    # `Kind/name` (name lower-cased) of every Role and ClusterRole a binding of the scan names;
    # None when the scan has no binding at all (nothing to tell an unbound role by)
    bound_roles: frozenset[str] | None = None
    # (compose file, service) -> the ENTRYPOINT and CMD it runs, where the scan shows them
    # (`service_commands`): what listens on its ports, if anything (ATS-CMP-001)
    service_commands: dict[tuple[str, str], str] = field(default_factory=dict)


def bound_account(facts: object, name: str) -> bool:
    """Whether a binding of the scan grants this service account a role."""
    return isinstance(facts, Facts) and name.strip() in facts.bound_accounts


def runs_as(facts: object, account: str) -> bool:
    """Whether a workload of the scan runs as this service account (true when unknown)."""
    known = facts.workload_accounts if isinstance(facts, Facts) else None
    return known is None or account in known


def unbound_role(facts: object, kind: str, name: str) -> bool:
    """Whether no binding of a scan that has bindings names this role, also under a
    kustomize `namePrefix`/`nameSuffix` (a kubebuilder `*_admin_role` that the cluster
    admin may bind to people: a template, not a workload's rights)."""
    bound = facts.bound_roles if isinstance(facts, Facts) else None
    if not bound:
        return False
    name = name.strip().lower()
    return not any(
        role == f"{kind}/{name}" or (role.startswith(f"{kind}/") and (role.endswith("-" + name) or role.startswith(f"{kind}/{name}-")))
        for role in bound
    )


def node_agent(facts: object, kind: str, name: str) -> bool:
    """Whether a DaemonSet's service account holds this Role or ClusterRole."""
    return isinstance(facts, Facts) and f"{kind}/{name.strip().lower()}" in facts.node_agent_roles


# Where tags are the practice, every tag follows it (held back by the flow, one notice):
# `latest` and no tag move as a version tag does, and a digest is what protects against both.
TAG_PRACTICE: dict[str, object] = {
    "foldScope": "repository", "practice": "fewer than half of the manifests' image references are pinned by digest",
}
COMPOSE_TAG_PRACTICE: dict[str, object] = {
    "foldScope": "repository", "practice": "fewer than half of the compose files' image references are pinned by digest",
}
REPOSITORY_FOLD: dict[str, object] = {"foldScope": "repository"}


def pin_properties(facts: object, ref: str) -> dict[str, object] | None:
    """Properties of an ATS-K8S-008 finding whose reference is `ref` (`tag v1`, `the mutable
    tag latest`, `no tag (latest)`): held back as the practice where tags are the
    repository's practice (`latest` too, unless there are too few references for a
    practice: then one finding for the repository), else none (each one reported)."""
    if not (isinstance(facts, Facts) and facts.tag_practice):
        return None
    return REPOSITORY_FOLD if "latest" in ref and facts.few_images else TAG_PRACTICE


def compose_pin_properties(facts: object, ref: str) -> dict[str, object] | None:
    """`pin_properties` for ATS-CMP-005, by the compose files' own practice."""
    if not (isinstance(facts, Facts) and facts.compose_tag_practice):
        return None
    return REPOSITORY_FOLD if "latest" in ref and facts.few_compose_images else COMPOSE_TAG_PRACTICE


def service_command(facts: object, path: str, service: str) -> str | None:
    """The ENTRYPOINT and CMD this compose service runs, as one line; None when unknown."""
    return facts.service_commands.get((path, service)) if isinstance(facts, Facts) else None


def shell_service(facts: object, path: str, service: str) -> bool:
    """Whether this compose service's command only starts an interactive shell
    (`vocabulary.interactive_shell`)."""
    command = service_command(facts, path, service)
    return command is not None and interactive_shell(command)


def service_commands(files: Sequence[SourceFile]) -> dict[tuple[str, str], str]:
    """(compose file, service) -> the ENTRYPOINT and CMD each compose service of the scan
    runs, as one line: its `entrypoint:` and `command:`, or its `command:` over the
    ENTRYPOINT and CMD of the scanned Dockerfile it builds (as ATS-DKR-003 reads them,
    `image_links`). A service with only a `command:` that runs an image the scan does not
    build keeps that image's ENTRYPOINT, unknown here: left out."""
    from atlascan.engines.dockerfile import image_commands
    from atlascan.engines.image_links import compose_commands, compose_runs

    dockerfiles = {f.path: f for f in files if f.kind == "dockerfile"}
    images: dict[str, dict[str, str] | None] = {}
    out: dict[tuple[str, str], str] = {}
    for run in compose_runs(files, dockerfiles):
        if run.dockerfile:
            if run.dockerfile not in images:
                images[run.dockerfile] = image_commands(dockerfiles[run.dockerfile])
            own = images[run.dockerfile]
        else:
            own = {} if run.entrypoint is not None else None
        if own is None:
            continue
        commands = compose_commands(own, run)
        out[(run.file, run.service)] = " ".join(commands[k] for k in ("ENTRYPOINT", "CMD") if k in commands)
    return out


def _roots(file: SourceFile) -> list[YNode]:
    from atlascan import parsers
    from atlascan.model import Limits, ParseError, SkipFile

    try:
        return list(parsers.read(file, Limits()).tree.roots())
    except (OSError, ParseError, SkipFile, RecursionError):
        return []


def image_pins(raw: str) -> tuple[int, int]:
    """(image references, of them pinned by digest) in one manifest's text
    (`image: x@sha256:...`, a kustomization's `digest:`)."""
    refs = [m.group(1) for m in IMAGE_LINE.finditer(raw) if not placeholder_image(m.group(1))]
    return len(refs), sum("sha256:" in r for r in refs)


def survey(files: list[SourceFile], *, roles: bool, images: bool, accounts: bool = False) -> Facts:
    """One read of the scan's YAML, a file at a time, for the RBAC index, the service
    accounts workloads run as, and whether tags are the repository's practice (fewer than
    half of its image references by digest)."""
    rbac: list[SourceFile] = []
    used: set[str] = set()
    total = pinned = 0
    compose_total = compose_pinned = 0
    for file in files:
        if file.kind not in ("yaml", "compose") or file.size > READ_LIMIT:
            continue
        raw = parsers.head(file, READ_LIMIT)
        if raw is None:
            continue
        if file.kind == "compose":
            if images:
                refs, digests = image_pins(raw)
                compose_total, compose_pinned = compose_total + refs, compose_pinned + digests
            continue
        if roles and RBAC_HINT.search(raw):
            rbac.append(file)
        if accounts:
            used.update(SERVICE_ACCOUNT_LINE.findall(raw))
        if images:
            refs, digests = image_pins(raw)
            total, pinned = total + refs, pinned + digests
    agent_roles, bound, roles_bound = rbac_index(rbac)
    return Facts(
        node_agent_roles=agent_roles, bound_accounts=bound, tag_practice=pinned * 2 < total, few_images=total < PRACTICE_MIN_REFERENCES,
        compose_tag_practice=compose_pinned * 2 < compose_total, few_compose_images=compose_total < PRACTICE_MIN_REFERENCES,
        workload_accounts=frozenset(used) if accounts else None, bound_roles=roles_bound or None,
    )


def rbac_index(files: list[SourceFile]) -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    """Roles bound (through a RoleBinding or ClusterRoleBinding of the scan) to a service
    account that a DaemonSet of the scan names, every service account a binding of the scan
    names, and every role a binding names. Namespaces are not compared: kustomize and Helm
    set them at install time. `files`: the scan's YAML files that declare a DaemonSet or a
    binding."""
    accounts: set[str] = set()
    bindings: list[tuple[str, set[str]]] = []  # (`Kind/name` of the role, service accounts)
    for file in files:
        for root in _roots(file):
            if not isinstance(root, Mapping):
                continue
            kind = (root.text("kind") or "").strip()
            if kind == "DaemonSet":
                spec = get(root, "spec", "template", "spec")
                account = text(get(spec, "serviceAccountName")) or text(get(spec, "serviceAccount"))
                if account and account.strip():
                    accounts.add(account.strip())
            elif kind in ("ClusterRoleBinding", "RoleBinding"):
                role_kind = (text(get(root, "roleRef", "kind")) or "").strip()
                role = (text(get(root, "roleRef", "name")) or "").strip().lower()
                subjects = {
                    (text(get(s, "name")) or "").strip()
                    for s in items(root.get("subjects"))
                    if (text(get(s, "kind")) or "").strip() == "ServiceAccount"
                }
                if role_kind and role:
                    bindings.append((f"{role_kind}/{role}", subjects))
    return (
        frozenset(role for role, subjects in bindings if subjects & accounts),
        frozenset().union(*(subjects for _, subjects in bindings)),
        frozenset(role for role, _ in bindings),
    )
