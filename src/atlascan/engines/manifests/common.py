"""Facts shared by the manifest checks: which ML server a published port belongs to (the
ports are `atlascan.vocabulary.ML_PORTS`), sensitive host paths, image references, literal
credentials and plain-http URLs."""

from __future__ import annotations

import posixpath
import re

from atlascan.vocabulary import IMAGE_DIGEST, ML_PORTS, internal_url, placeholder_image


def ml_server(port: int, context: str, check_auth: bool = False) -> str | None:
    """The ML server a published port belongs to, given lower-cased surrounding text; with
    `check_auth`, None when that text shows the server's authentication is on."""
    known = ML_PORTS.get(port)
    if known is None:
        return None
    if known.hints and not any(h in context for h in known.hints):
        return None
    if check_auth and any(re.search(a, context) for a in known.auth):
        return None
    if check_auth and known.open and not any(re.search(o, context) for o in known.open):
        return None  # on by default, and nothing here turns it off
    return known.server


def region_text(lines: list[str], first: int, last: int) -> str:
    """Lower-cased lines first..last without comment lines: where server hints are looked for
    (a comment saying "not MLflow" must not make port 5000 MLflow)."""
    return "\n".join(
        ln for ln in lines[first - 1 : last] if not ln.lstrip().startswith("#")
    ).lower()


def port_number(value: str | None) -> int | None:
    if value is None:
        return None
    value = value.strip().strip("\"'")
    return int(value) if value.isdigit() and len(value) <= 5 else None


# Host paths whose mount hands over the node: exact paths, or anything below the prefixes.
SENSITIVE_EXACT = frozenset(
    {"/", "/etc", "/root", "/var/run", "/run", "/dev", "/var", "/home", "/boot", "/usr", "/lib"}
)
SENSITIVE_PREFIXES = (
    "/proc",
    "/sys",
    "/var/lib/kubelet",
    "/var/lib/docker",
    "/var/lib/containerd",
    "/etc/kubernetes",
)
RUNTIME_SOCKETS = ("docker.sock", "containerd.sock", "crio.sock", "cri-dockerd.sock", "podman.sock")


# Host folders that hold cluster credentials: reading them is enough (etcd's data holds every
# Secret; the scheduler's and controller manager's folders and /srv/kubernetes hold kubeconfigs
# and keys), so even a read-only mount of them, or of a folder above them, is reported.
SECRET_BEARING = ("/var/lib/etcd", "/var/lib/kube-scheduler", "/var/lib/kube-controller-manager", "/srv/kubernetes", "/etc/shadow", "/etc/ssl/private")


def readable_without_harm(path: str) -> bool:
    """Whether a read-only mount of this host path hands over nothing: not a sensitive path
    (`sensitive_host_path`), no credential folder and no folder above one."""
    clean = "/" + path.strip().strip("/") if path.strip().startswith("/") else path.strip()
    if not clean.startswith("/") or sensitive_host_path(clean):
        return False
    return not any(s == clean or s.startswith(clean.rstrip("/") + "/") or clean.startswith(s + "/") for s in SECRET_BEARING)


def sensitive_host_path(path: str) -> str | None:
    """Why mounting this host path hands over the node, or None for an ordinary directory."""
    clean = "/" + path.strip().strip("/") if path.strip().startswith("/") else path.strip()
    if clean.endswith(RUNTIME_SOCKETS):
        return "container runtime socket: root on the host"
    if clean in SENSITIVE_EXACT:
        return "system directory" if clean != "/" else "root file system"
    for prefix in SENSITIVE_PREFIXES:
        if clean == prefix or clean.startswith(prefix + "/"):
            return "node runtime or kernel directory"
    return None


# Host directories a node agent plugs into the node through: the kubelet's device-plugin and
# plugin-registration sockets and its pod-resources API, the CNI binary and configuration
# directories (GKE's binaries in /home/kubernetes/bin) and the network-namespace and mesh-CNI
# run directories. A DaemonSet (one pod per node: a device plugin, a CNI or mesh agent)
# mounts them because that is its job; the kubelet's own directory, runtime sockets and
# system directories are not among them, and the same mount in any other workload is reported.
NODE_AGENT_PATHS = (
    "/var/lib/kubelet/device-plugins",
    "/var/lib/kubelet/plugins_registry",
    "/var/lib/kubelet/pod-resources",
    "/opt/cni/bin",
    "/etc/cni/net.d",
    "/home/kubernetes/bin",
    "/run/netns",
    "/run/istio-cni",
    "/run/ztunnel",
)
# Why such a mount in a DaemonSet is held back as the repository's practice (ATS-K8S-003).
NODE_AGENT_PRACTICE = "a node agent (DaemonSet) mounting the kubelet, CNI or mesh directory it plugs into the node through"


def node_agent_path(path: str) -> bool:
    """Whether a host path is, or is below, a node agent's integration directory
    (`NODE_AGENT_PATHS`; /var/run is /run)."""
    if not path.strip().startswith("/"):
        return False
    clean = posixpath.normpath(path.strip())  # `device-plugins/../..` is the kubelet's own
    if clean.startswith("/var/run/"):
        clean = clean.removeprefix("/var")
    return any(clean == p or clean.startswith(p + "/") for p in NODE_AGENT_PATHS)


IMAGE_REF = re.compile(r"^[a-z0-9][a-z0-9._\-/:@]*$", re.I)


def unpinned_image(image: str) -> str | None:
    """How an image is referenced when it is not pinned by digest ('tag 1.2', 'no tag'),
    or None when it is pinned or is not a literal image reference (`IMAGE_URL`, a placeholder)."""
    image = image.strip()
    if not image or not IMAGE_REF.match(image) or IMAGE_DIGEST.search(image) or placeholder_image(image):
        return None
    if "@" in image:  # a digest of another algorithm or a malformed one: leave it alone
        return None
    last = image.rsplit("/", 1)[-1]
    if ":" in last:
        tag = last.split(":", 1)[1]
        return "the mutable tag latest" if tag == "latest" else f"tag {tag}"
    return "no tag (latest)"


def image_repository(image: str) -> str:
    """An image reference's repository path without registry, tag and digest, lower case
    (`docker.io/library/postgres:16` -> `postgres`, `quay.io/minio/minio@sha256:...` ->
    `minio/minio`)."""
    ref = image.strip().lower().split("@", 1)[0]
    parts = ref.split("/")
    if ":" in parts[-1]:
        parts[-1] = parts[-1].split(":", 1)[0]
    if len(parts) > 1 and ("." in parts[0] or ":" in parts[0] or parts[0] == "localhost"):
        parts = parts[1:]
    if len(parts) > 1 and parts[0] == "library":
        parts = parts[1:]
    return "/".join(parts)


def image_tag(image: str) -> str:
    """An image reference's tag, "" when it has none (`repo/name:tag` -> `tag`; a registry's
    port, `host:5000/x`, is not a tag, and a digest is dropped)."""
    last = image.strip().split("@", 1)[0].rsplit("/", 1)[-1]
    return last.partition(":")[2]


def image_in(image: str, repositories: tuple[str, ...] | list[str]) -> bool:
    """Whether the image is one of these repositories (`minio/minio`), also behind a mirror
    that adds path segments in front (`registry.acme.io/dockerhub/minio/minio`)."""
    repo = image_repository(image)
    return bool(repo) and any(repo == r or repo.endswith("/" + r) for r in repositories)


# A whole value that names an environment variable, for `envsubst` to fill in before the
# manifest is applied (`hf-token: $HUGGING_FACE_HUB_TOKEN`).
ENV_REFERENCE = re.compile(r"\$[A-Z_][A-Z0-9_]*")


def is_template(value: str) -> bool:
    return any(mark in value for mark in ("${", "{{", "$(", "<%")) or bool(ENV_REFERENCE.fullmatch(value.strip()))


NOT_SECRET_VALUES = frozenset(
    {"true", "false", "yes", "no", "on", "off", "null", "none", "disabled", "enabled"}
)


def literal_secret(value: str) -> bool:
    """A value that is itself a credential: not empty, a reference, a path or a placeholder."""
    value = value.strip()
    if len(value) < 6 or value.lower() in NOT_SECRET_VALUES or is_template(value):
        return False
    if value.startswith(("/", "./", "~", "$", "file:", "http://", "https://")) or " " in value:
        return False
    if re.fullmatch(r"[0-9.]+", value):
        return False
    try:
        from atlascan.secretpatterns import holds_published_default, is_placeholder
    except ImportError:  # pragma: no cover - the core secrets engine always ships
        return True
    # A published default (`minioadmin`, the Azurite key) is ATS-SEC-012's, which knows
    # whether it is a local emulator's, whichever rules a scan selects.
    return not is_placeholder(value) and not holds_published_default(value)


def plain_http_url(value: str) -> bool:
    """An http:// URL to a host other than this machine or a service inside its cluster."""
    value = value.strip()
    return value.lower().startswith("http://") and not internal_url(value)
