"""Node-audit tools (kube-bench, docker-bench-security): a pod made only of their images may
do what their documentation says they need (read-only host paths, hostPID, root) without a
finding. The tools are data in `checks/k8s/_node_audit_tools.toml`; the pod is the few facts
read here, so Kubernetes YAML and Terraform's Kubernetes provider ask the same questions."""

from __future__ import annotations

import posixpath
import sys
from dataclasses import dataclass
from functools import cache

from atlascan.engines.manifests.common import RUNTIME_SOCKETS, image_in
from atlascan.rules import checks_dir

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


@dataclass(frozen=True)
class Tool:
    name: str
    images: tuple[str, ...]
    host_paths: tuple[str, ...]  # normalised (`_clean`)
    host_pid: bool
    root: bool

    def documents(self, path: str) -> bool:
        """The path is one the tool mounts, or lies below one (reading less than it may)."""
        clean = _clean(path)
        return any(clean == p or clean.startswith(p.rstrip("/") + "/") for p in self.host_paths)


@dataclass(frozen=True)
class Container:
    image: str
    mounts: tuple[tuple[str, bool], ...]  # (volume name, readOnly) of each volumeMount


@dataclass(frozen=True)
class Pod:
    containers: tuple[Container, ...]  # every container: init and ephemeral ones too


def _clean(path: str) -> str:
    # normpath: `/usr/bin/../..` is `/`, not a folder below /usr/bin.
    path = path.strip()
    return posixpath.normpath(path) if path.startswith("/") else path


@cache
def tools() -> tuple[Tool, ...]:
    with (checks_dir() / "k8s" / "_node_audit_tools.toml").open("rb") as fh:
        rows = tomllib.load(fh).get("tool", [])
    return tuple(
        Tool(
            name=str(row["name"]),
            images=tuple(row.get("images", ())),
            host_paths=tuple(_clean(p) for p in row.get("host_paths", ())),
            host_pid=bool(row.get("host_pid", False)),
            root=bool(row.get("root", False)),
        )
        for row in rows
    )


def _tool(image: str) -> Tool | None:
    return next((t for t in tools() if image and image_in(image, t.images)), None)


def _pod_tools(pod: Pod) -> list[Tool] | None:
    """The tool of each container, or None when one container (or none at all) runs another
    image: a sidecar or an init container with other code makes the pod's rights its own."""
    found = [_tool(c.image) for c in pod.containers]
    if not found or any(t is None for t in found):
        return None
    return [t for t in found if t is not None]


def documented_mount(pod: Pod, volume: str, path: str) -> bool:
    """Whether host `path`, the pod's volume `volume`, is mounted only read-only and only by
    containers whose tool documents it, in a pod of audit tools alone."""
    if _pod_tools(pod) is None or not volume:
        return False
    if _clean(path).endswith(RUNTIME_SOCKETS):
        return False  # readOnly stops no client connecting to a socket: the runtime's whole API
    mounts = [(c.image, read_only) for c in pod.containers for name, read_only in c.mounts if name == volume]
    return bool(mounts) and all(read_only and _documents(image, path) for image, read_only in mounts)


def _documents(image: str, path: str) -> bool:
    tool = _tool(image)
    return tool is not None and tool.documents(path)


def documented_host_pid(pod: Pod) -> bool:
    found = _pod_tools(pod)
    return found is not None and all(t.host_pid for t in found)


def documented_root(pod: Pod) -> bool:
    found = _pod_tools(pod)
    return found is not None and all(t.root for t in found)
