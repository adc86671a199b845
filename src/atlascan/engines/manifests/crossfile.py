"""What one manifest's checks need to know of the others, read once in the engine's
`prepare` pass: the images kustomizations rewrite (`kustomize.rewritten_images`) and the
Roles whose service account runs in a DaemonSet (a node agent: every node holds its token).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from atlascan import parsers
from atlascan.engines.manifests.nodes import get, items, text
from atlascan.parsers.yaml import Mapping

if TYPE_CHECKING:
    from atlascan.model import SourceFile
    from atlascan.parsers.yaml import YNode

# Files worth parsing for the RBAC index: those that declare a DaemonSet or a binding.
RBAC_HINT = re.compile(r"^\s*kind:\s*[\"']?(?:DaemonSet|ClusterRoleBinding|RoleBinding)\b", re.M)
READ_LIMIT = 4 * 1024 * 1024  # larger YAML is data, not a hand-written manifest


@dataclass(frozen=True)
class Facts:
    # image name -> folders and files whose manifests a kustomization rewrites it in
    images: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # `Kind/name` (name lower-cased) of the Roles and ClusterRoles bound to a service
    # account that a DaemonSet of the scan runs as
    node_agent_roles: frozenset[str] = frozenset()


def node_agent(facts: object, kind: str, name: str) -> bool:
    """Whether a DaemonSet's service account holds this Role or ClusterRole."""
    return isinstance(facts, Facts) and f"{kind}/{name.strip().lower()}" in facts.node_agent_roles


def _roots(file: SourceFile) -> list[YNode]:
    from atlascan import parsers
    from atlascan.model import Limits, ParseError, SkipFile

    try:
        return list(parsers.read(file, Limits()).tree.roots())
    except (OSError, ParseError, SkipFile, RecursionError):
        return []


def node_agent_roles(files: list[SourceFile]) -> frozenset[str]:
    """Roles bound (through a RoleBinding or ClusterRoleBinding of the scan) to a service
    account that a DaemonSet of the scan names. Namespaces are not compared: kustomize and
    Helm set them at install time."""
    accounts: set[str] = set()
    bindings: list[tuple[str, set[str]]] = []  # (`Kind/name` of the role, service accounts)
    for file in files:
        if file.kind != "yaml" or file.size > READ_LIMIT:
            continue
        raw = parsers.head(file, READ_LIMIT)
        if raw is None or not RBAC_HINT.search(raw):
            continue
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
    return frozenset(role for role, subjects in bindings if subjects & accounts)
