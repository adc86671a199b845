"""Words every family shares, defined once: what a pinned commit and an image digest look
like, which bind addresses mean "every interface", which names hold credentials, which
ports ML servers listen on, and which package indexes only their operator publishes to.
Engines import these; none keeps its own copy."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

# A full git commit SHA (an action `uses:` ref, a pip VCS ref, a Hub revision).
COMMIT_SHA = re.compile(r"^[0-9a-f]{40}$")
COMMIT_SHA_REF = re.compile(r"@[0-9a-f]{40}(?:#|$)")  # `git+https://...@<sha>` in a requirement
# A value the build fills in: a shell or Dockerfile variable (`$REF`, `${REF}`), a command
# substitution (`$(cat REF)`) or a GitHub expression (`${{ inputs.ref }}`).
VARIABLE_VALUE = re.compile(r"\$(?:\{\{[^}]*\}\}|\{[^}]*\}|\([^)]*\)|[A-Za-z_]\w*)")


def revision_unknown(url: str, ref: str | None) -> bool:
    """Whether a git URL's revision is set where the scan cannot read it: the ref is a
    variable (`@${TAG}`, a build argument or a workflow input: it may be a commit), or no
    `@ref` is written and the URL ends in a variable that may hold one (`git+${REPO}`, the
    whole URL a build argument). `@v${VERSION}` is a tag whatever the version."""
    if ref:
        return VARIABLE_VALUE.fullmatch(ref.strip("'\"")) is not None
    base = url.split("#", 1)[0].strip("'\"")
    return any(m.end() == len(base) for m in VARIABLE_VALUE.finditer(base))


# An OCI image reference pinned by content.
IMAGE_DIGEST = re.compile(r"@sha256:[0-9a-fA-F]{64}$")
# An image field a build step fills in before anything runs: an all-caps name, tagged or not
# (`IMAGE_URL` in kubebuilder's manager patch, `REPLACE_IMAGE`, `CONTROLLER_IMAGE:TAG`), or an
# angle-bracket placeholder (`<your-image>`, `<registry>/trainer:1.0`). Docker repository
# names are lower case and never hold `<`: no registry serves such a reference, so there is
# nothing to pin.
PLACEHOLDER_IMAGE = re.compile(r"[A-Z][A-Z0-9_]*(?::[\w.-]+)?|.*<[^<>]*>.*")


def placeholder_image(image: str) -> bool:
    """Whether an image reference is a placeholder for a build step to substitute."""
    return PLACEHOLDER_IMAGE.fullmatch(image.strip().strip("'\"")) is not None


# Bind addresses that listen on every interface. An empty host (`:8888` in compose ports,
# `host=""` in Python servers) binds every interface as well; `*` and `0` do in server flags.
ALL_INTERFACES = frozenset({"0.0.0.0", "::", "[::]", "::0", "*", "0", ""})

# The user names that are root: a Dockerfile `USER`, a compose service's `user:` (before
# any `:group`).
ROOT_USERS = frozenset({"root", "0"})

# A command line that only starts an interactive shell (`bash`, `/bin/sh -l`), not a script
# (`bash -c ...`, `sh start.sh`) or a wrapper (`/entrypoint.sh bash`): an image or compose
# service that runs it serves nothing until someone starts a server by hand inside
# (ATS-DKR-003, ATS-CMP-001). Matched in full against ENTRYPOINT and CMD joined by a space.
INTERACTIVE_SHELL = re.compile(r"(\S*/)?(bash|sh|ash|dash|zsh|ksh|fish)(\s+(-[il]+|--login|--norc|--noprofile))*", re.I)


def interactive_shell(line: str) -> bool:
    """Whether a command line only starts an interactive shell (`INTERACTIVE_SHELL`)."""
    return INTERACTIVE_SHELL.fullmatch(line.strip()) is not None


# OpenAI-compatible model servers one runs oneself (vLLM, SGLang, llama.cpp, LMDeploy, TGI),
# as a command line names them, and the flag that sets the token their clients must present:
# its value is that server's own key, whatever shape its author gave it.
SELF_HOSTED_LLM_SERVER = re.compile(
    r"\bvllm\s+serve\b|\bvllm\.entrypoints\.openai\b|\bsglang\.launch_server\b|\bllama-server\b"
    r"|\bllama_cpp\.server\b|\blmdeploy\s+serve\b|\btext-generation-launcher\b"
)
SERVER_KEY_FLAGS = ("--api-key", "--api_key", "--api-keys")

# Names of variables and settings that hold credentials (hadolint DL3064's stems plus the ML
# platforms' own names): `WANDB_API_KEY`, `db_password`, `hf-token`, `client_secret`. The
# credential word ends the name: `TOKEN_URL`, `PASSWORD_FILE` and `AUTH_TYPE` name no secret,
# and a bare `PWD` is the shell's working directory.
SECRET_NAME = re.compile(
    r"(?i)(?:^|[_\-.])(?:password|passwd|pass|secret|secret_?key|secret_?access_?key|api_?key|apikey|"
    r"access_?key|auth|auth_?token|access_?token|api_?token|token|private_?key|client_?secret|credentials?|"
    r"account_?key|sas_?token|connection_?string)$|[_\-.]pwd$|"
    r"^(?:HF_TOKEN|HUGGING_FACE_HUB_TOKEN|WANDB_API_KEY|KAGGLE_KEY|NEPTUNE_API_TOKEN|DATABRICKS_TOKEN|"
    r"NPM_TOKEN|PYPI_TOKEN|TWINE_PASSWORD|DOCKER_AUTH_CONFIG)$"
)


@dataclass(frozen=True)
class ServerPort:
    server: str
    hints: tuple[str, ...] = ()  # words near the port that confirm the server (shared ports)
    auth: tuple[str, ...] = ()  # regexes whose presence shows authentication is on
    # For a server that authenticates by default: regexes one of which must show it turned
    # off (Jupyter's random token); empty for one that serves anyone unless told otherwise.
    open: tuple[str, ...] = ()


# Hosts that are this machine: the loopback, `0.0.0.0` as a destination, and Docker's name for
# the machine running the container. What a service there answers comes from no network.
_LOOPBACK_NAMES = frozenset({"localhost", "::1", "0.0.0.0", "host.docker.internal"})
_IPV4_LOOPBACK = re.compile(r"^127(?:\.\d{1,3}){3}$")


def _bare_host(host: str) -> str:
    """`[::1]:8888` -> `::1`, `Host:8080` -> `host`."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    return host.split(":", 1)[0] if host.count(":") == 1 else host


def loopback_host(host: str) -> bool:
    """Whether a host (`localhost`, `127.0.0.2`, `[::1]`; a `:port` may follow) is this machine."""
    host = _bare_host(host)
    return host in _LOOPBACK_NAMES or host.endswith(".localhost") or bool(_IPV4_LOOPBACK.match(host))


def _url_host(url: str) -> str:
    """A URL's host, empty when it has none or cannot be split."""
    try:
        return urlsplit(url.strip()).hostname or ""
    except ValueError:
        return ""


def loopback_url(url: str) -> bool:
    """Whether a URL's host is this machine (`http://user@localhost:8080/x`)."""
    return loopback_host(_url_host(url))


# Kubernetes' DNS names for a service of the cluster a pod runs in (`name.ns.svc`,
# `name.ns.svc.cluster.local`): resolvable only inside it, so the traffic to one (a CI
# runner's package cache, an in-cluster model store) never leaves the cluster's network.
_IN_CLUSTER = re.compile(r"\.(?:svc|svc\.cluster\.local|cluster\.local)\.?$")


def in_cluster_host(host: str) -> bool:
    """Whether a host (a `:port` may follow) is a Kubernetes in-cluster service name."""
    return bool(_IN_CLUSTER.search(_bare_host(host)))


def internal_host(host: str) -> bool:
    """Whether a host is this machine or a service inside its cluster: plain http or TLS
    checks turned off toward it expose nothing to the networks beyond."""
    return loopback_host(host) or in_cluster_host(host)


def internal_url(url: str) -> bool:
    """Whether a URL's host is this machine or a service inside its cluster (`internal_host`)."""
    return internal_host(_url_host(url))


# Names reserved for documentation and tests (RFC 2606, RFC 6761): the top-level domains
# `.test`, `.example`, `.invalid` and `.localhost`, and `example.com`/`.net`/`.org`. A name
# under one (`db.example.invalid`) is no system anyone runs, so a credential for it is a
# sample's. The bare `localhost` is this machine, a database someone does run.
_RESERVED_DOMAIN = re.compile(r"\.(?:test|example|invalid|localhost)\.?$|(?:^|\.)example\.(?:com|net|org)\.?$")


def reserved_host(host: str) -> bool:
    """Whether a host (a `:port` may follow) is a name reserved for documentation and tests."""
    return bool(_RESERVED_DOMAIN.search(_bare_host(host)))


# Regexes over lower-cased server text; an empty token (`JUPYTER_TOKEN: ""`) is no auth.
JUPYTER_AUTH = (
    r"jupyter_token\s*[=:]\s*[\"']?[^\s\"']",
    r"\.token\s*=\s*[\"']?\$",
    r"hashed_password\s*=\s*[\"']?[^\s\"']",
    r"\.password\s*=\s*[\"']?[^\s\"']",
)
# Jupyter makes a random token unless its token is set empty: `--NotebookApp.token=''`,
# `c.ServerApp.token = ""`, `JUPYTER_TOKEN: ""`.
JUPYTER_OPEN = (
    r"\.token[ \t]*=[ \t]*(?:''|\"\"|\\'\\')",
    r"(?m)\.token=(?=\s|$)",
    r"(?m)jupyter_token[ \t]*[=:][ \t]*(?:''|\"\"|$)",
)
RAY_AUTH = (r"ray_auth_mode\s*[=:]\s*[\"']?token",)
ML_PORTS: dict[int, ServerPort] = {
    8265: ServerPort("Ray dashboard and Jobs API", auth=RAY_AUTH),
    10001: ServerPort("Ray client server", ("ray",), RAY_AUTH),
    6379: ServerPort("Ray GCS", ("ray",), RAY_AUTH),
    8888: ServerPort("Jupyter", ("jupyter", "notebook"), JUPYTER_AUTH, JUPYTER_OPEN),  # also the KubeRay API server's
    5000: ServerPort("MLflow tracking server", ("mlflow",), (r"--app-name[= ]+[\"']?basic-auth",)),
    6006: ServerPort("TensorBoard"),
    7860: ServerPort("Gradio", auth=(r"gradio_auth\w*\s*[=:]\s*[\"']?[^\s\"']", r"\bauth\s*=")),
    8080: ServerPort("TorchServe inference API", ("torchserve",)),
    8081: ServerPort("TorchServe management API", ("torchserve",)),
    8000: ServerPort("Triton HTTP", ("triton",)),
    8001: ServerPort("Triton gRPC", ("triton",)),
}


# Package indexes only their operator publishes to (host and path prefix, no scheme): an
# extra index among them cannot serve a stranger's package under a private name. Never list
# an index anyone can upload to (pypi.org, test.pypi.org, an anaconda.org user index).
PUBLIC_WHEEL_INDEXES = (
    "download.pytorch.org/whl",  # PyTorch
    "pypi.nvidia.com",  # NVIDIA
    "pypi.ngc.nvidia.com",  # NVIDIA NGC
    "developer.download.nvidia.com/compute/redist",  # NVIDIA DALI
    "data.pyg.org/whl",  # PyTorch Geometric
    "storage.googleapis.com/jax-releases",  # JAX (jaxlib CUDA and TPU wheels)
    "huggingface.github.io/autogptq-index/whl",  # Hugging Face AutoGPTQ
    "download.openmmlab.com/mmcv/dist",  # OpenMMLab mmcv
    "dl.fbaipublicfiles.com/detectron2/wheels",  # Meta detectron2
    "flashinfer.ai/whl",  # FlashInfer
    "pip.repos.neuron.amazonaws.com",  # AWS Neuron (torch-neuronx, neuronx-cc)
    "wheels.vllm.ai",  # vLLM (per-release CUDA builds)
    "pypi.jetson-ai-lab.io",  # NVIDIA Jetson AI Lab (JetPack builds of torch, vllm, ...)
)


# The packages a public wheel index's operator also owns on PyPI: a command installing only
# these from its stable index gets each name, and its dependencies, from their owners
# whichever index wins. Not its nightly and test indexes: their torch depends on a name the
# index alone served (`torchtriton`, claimed on PyPI by an attacker in December 2022).
WHEEL_INDEX_OWN_PACKAGES = {
    "download.pytorch.org/whl": frozenset({"torch", "torchvision", "torchaudio", "torchtext", "torchdata"}),
}
PRERELEASE_WHEEL_INDEXES = ("download.pytorch.org/whl/nightly", "download.pytorch.org/whl/test", "wheels.vllm.ai/nightly")
# Why such an install is held back as the repository's practice (ATS-CMD-010, ATS-PY-017).
OWN_PACKAGES_PRACTICE = "the index operator's own packages, which it also owns on PyPI"
# Why any install beside a public wheel index's stable channel is (ATS-CMD-010): its vendor's
# documented install, which reviewers judged NOISE in every one of 18 sampled images and CI
# jobs (accelerate's and ludwig's CPU torch, NVIDIA's tensorrt_llm); only the operator
# publishes there.
STABLE_INDEX_PRACTICE = "a well-known public wheel index's stable channel beside PyPI, its vendor's documented install"


def stable_wheel_index(url: str) -> bool:
    """Whether an index URL is a public wheel index (`PUBLIC_WHEEL_INDEXES`) other than a
    nightly or test channel (`PRERELEASE_WHEEL_INDEXES`)."""
    where = _index_place(url)
    return public_wheel_index(url) and not any(where is not None and where.startswith(p + "/") for p in PRERELEASE_WHEEL_INDEXES)


def _index_place(url: str) -> str | None:
    """`host/path/` of an index URL, or None when it is not one."""
    url = url.strip().strip("'\"")
    if "://" not in url:
        return None
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
    except ValueError:
        return None
    return f"{host}{parts.path}".rstrip("/") + "/"


def public_wheel_index(url: str) -> bool:
    """Whether an index URL is under one of `PUBLIC_WHEEL_INDEXES` (host and path)."""
    where = _index_place(url)
    return where is not None and any(where.startswith(prefix.rstrip("/") + "/") for prefix in PUBLIC_WHEEL_INDEXES)


# PyPI's own index, as a command or file names it.
PYPI_INDEXES = ("pypi.org/simple/", "pypi.python.org/simple/")


def paired_wheel_index(extra: str, primary: str | None) -> str | None:
    """The public wheel index an extra index pairs with PyPI, or None when the extra index
    competes with something else: the extra index itself when it is one, or the primary index
    (`primary`, None for PyPI) when it is one and the extra index is PyPI: `--index-url
    https://download.pytorch.org/whl/cpu --extra-index-url https://pypi.org/simple` puts the
    same two indexes side by side as the other way round."""
    if public_wheel_index(extra):
        return extra
    if primary is not None and _index_place(extra) in PYPI_INDEXES and public_wheel_index(primary):
        return primary
    return None


def installs_own_packages(url: str, names: frozenset[str] | None) -> bool:
    """Whether a command installing `names` with the extra index at `url` takes only packages
    that index's operator also owns on PyPI (`WHEEL_INDEX_OWN_PACKAGES`, stable indexes)."""
    where = _index_place(url)
    if not names or where is None or any(where.startswith(prefix + "/") for prefix in PRERELEASE_WHEEL_INDEXES):
        return False
    own = next((n for prefix, n in WHEEL_INDEX_OWN_PACKAGES.items() if where.startswith(prefix.rstrip("/") + "/")), frozenset())
    return names <= own
