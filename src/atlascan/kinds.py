"""Classify a file into a kind by its name and, for binaries, by a few magic bytes.

Kinds are the vocabulary rules use in their `kinds` list. YAML files are classified by
name where the name is conventional (workflows, compose, GitLab CI); other YAML is `yaml`
and the YAML engines recognise Kubernetes and ML manifests by their content.
"""

from __future__ import annotations

import fnmatch
import os

PYTHON = "python"
NOTEBOOK = "notebook"
TERRAFORM = "terraform"
DOCKERFILE = "dockerfile"
GHA_WORKFLOW = "gha-workflow"
GHA_ACTION = "gha-action"
GITLAB_CI = "gitlab-ci"
COMPOSE = "compose"
YAML = "yaml"
MLPROJECT = "mlproject"
MLMODEL = "mlmodel"
DVC = "dvc"
SHELL = "shell"
REQUIREMENTS = "requirements"
PYPROJECT = "pyproject"
SETUP_CFG = "setup-cfg"
DOTENV = "dotenv"
JSON = "json"
TEXT = "text"
ARTIFACT = "artifact"

ALL_KINDS = (
    PYTHON, NOTEBOOK, TERRAFORM, DOCKERFILE, GHA_WORKFLOW, GHA_ACTION, GITLAB_CI, COMPOSE,
    YAML, MLPROJECT, MLMODEL, DVC, SHELL, REQUIREMENTS, PYPROJECT, SETUP_CFG, DOTENV, JSON, TEXT, ARTIFACT,
)  # fmt: skip
TEXT_KINDS = frozenset(k for k in ALL_KINDS if k != ARTIFACT)
# The kinds that declare dependencies (the requirements model's manifests); a setup.py, which
# is Python, declares them too (`declares_dependencies`).
MANIFEST_KINDS = frozenset({REQUIREMENTS, PYPROJECT, SETUP_CFG})
# The kinds that define CI jobs: what a job installs and starts is thrown away with it.
CI_KINDS = frozenset({GHA_WORKFLOW, GITLAB_CI})


def declares_dependencies(kind: str, path: str) -> bool:
    """Whether the file is one the requirements model reads (`parsers.requirements.manifest`)."""
    return kind in MANIFEST_KINDS or path.rsplit("/", 1)[-1].lower() == "setup.py"


ARTIFACT_SUFFIXES = (
    ".pkl", ".pickle", ".pkl.gz", ".pkl.bz2", ".pkl.xz", ".pkl.lz4", ".pt", ".pth", ".bin",
    ".ckpt", ".joblib", ".jbl", ".npy", ".npz", ".h5", ".hdf5", ".keras", ".safetensors",
    ".gguf", ".onnx", ".mar", ".dill", ".sav", ".model", ".pb", ".tflite", ".msgpack",
    ".cloudpickle", ".dat", ".nemo", ".7z", ".llamafile", ".pt2", ".pth.tar",
)  # fmt: skip

# Magic bytes of model/serialization formats: sniffed for files whose name says nothing.
ARTIFACT_MAGIC = (
    b"\x80\x02", b"\x80\x03", b"\x80\x04", b"\x80\x05",  # pickle protocols 2-5
    b"PK\x03\x04",  # zip (torch, .keras, .npz)
    b"\x93NUMPY",
    b"\x1f\x8b",  # gzip (joblib, .pkl.gz)
    b"\x89HDF\r\n\x1a\n",
    b"GGUF",
    b"BZh",
    b"\xfd7zXZ\x00",
    b"7z\xbc\xaf\x27\x1c",  # 7z (model bundles)
)  # fmt: skip

TEXT_SUFFIXES = {
    ".py": PYTHON, ".pyw": PYTHON, ".ipynb": NOTEBOOK,
    ".tf": TERRAFORM, ".tfvars": TERRAFORM, ".tf.json": TERRAFORM,
    ".yml": YAML, ".yaml": YAML,
    ".sh": SHELL, ".bash": SHELL,
    ".env": DOTENV,
    ".json": JSON,
    ".cfg": TEXT, ".ini": TEXT, ".conf": TEXT, ".toml": TEXT, ".properties": TEXT,
    ".txt": TEXT, ".md": TEXT, ".rst": TEXT, ".xml": TEXT, ".j2": TEXT, ".jinja": TEXT,
    ".js": TEXT, ".ts": TEXT, ".go": TEXT, ".java": TEXT, ".scala": TEXT, ".r": TEXT,
    ".sql": TEXT, ".ps1": TEXT, ".hcl": TEXT, ".tpl": TEXT,
}  # fmt: skip

# Suffixes that make `dockerfile.<suffix>` a source or binary file, not a Dockerfile variant.
CODE_SUFFIXES = frozenset({"h", "c", "cc", "cpp", "hpp", "so", "dll", "dylib", "pyi", "pyc", "rs", "rb", "html", "css", "lock", "o", "a"})

LOCK_FILES = {"poetry.lock": REQUIREMENTS, "uv.lock": REQUIREMENTS, "pdm.lock": REQUIREMENTS, "pipfile.lock": REQUIREMENTS,
              "pipfile": REQUIREMENTS, "environment.yml": REQUIREMENTS,
              "environment.yaml": REQUIREMENTS, "conda.yaml": REQUIREMENTS}  # fmt: skip


def _yaml_kind(rel: str, name: str) -> str:
    lower = name.lower()
    parts = rel.lower().split("/")
    if len(parts) >= 3 and parts[-3] == ".github" and parts[-2] == "workflows":
        return GHA_WORKFLOW
    if lower in ("action.yml", "action.yaml"):
        return GHA_ACTION
    if lower.endswith(".gitlab-ci.yml") or lower == ".gitlab-ci.yml" or lower == ".gitlab-ci.yaml":
        return GITLAB_CI
    if "/.gitlab/ci/" in f"/{rel.lower()}" or (len(parts) >= 2 and parts[-2] == "ci" and ".gitlab" in parts):
        return GITLAB_CI
    if fnmatch.fnmatch(lower, "docker-compose*.y*ml") or fnmatch.fnmatch(lower, "compose*.y*ml"):
        return COMPOSE
    if lower in LOCK_FILES:
        return LOCK_FILES[lower]
    if lower == "dvc.yaml":
        return DVC
    return YAML


def _is_requirements(rel: str, lower: str) -> bool:
    """requirements*.txt, dev-requirements.txt, constraints*.txt, their pip-tools `.in`
    inputs, and the .txt/.in files of a `requirements/` folder (`MANIFEST.in` and other
    `.in` build templates are not requirements)."""
    if fnmatch.fnmatch(lower, "*requirements*.txt") or fnmatch.fnmatch(lower, "*requirements*.in"):
        return True
    if fnmatch.fnmatch(lower, "constraints*.txt") or fnmatch.fnmatch(lower, "constraints*.in"):
        return True
    return "/requirements/" in f"/{rel}" and lower.endswith((".txt", ".in"))


def classify(rel: str) -> str | None:
    """The kind of a file from its scan-relative path, or None when only a sniff can tell."""
    name = rel.rsplit("/", 1)[-1]
    lower = name.lower()
    if lower in ("dockerfile", "containerfile") or lower.endswith((".dockerfile", ".containerfile")):
        return DOCKERFILE
    variant = lower.partition(".")[2]
    if lower.startswith(("dockerfile.", "containerfile.")) and "." not in variant and f".{variant}" not in TEXT_SUFFIXES and variant not in CODE_SUFFIXES:
        return DOCKERFILE  # Dockerfile.gpu, Dockerfile.dev; not dockerfile.py or dockerfile.abi3.so
    if name == "MLproject":
        return MLPROJECT
    if name == "MLmodel":
        return MLMODEL
    if rel.endswith(".dvc/config") or rel == ".dvc/config" or lower.endswith(".dvc"):
        return DVC
    if _is_requirements(rel.lower(), lower):
        return REQUIREMENTS
    if lower == "pyproject.toml":
        return PYPROJECT
    if lower == "setup.cfg":
        return SETUP_CFG
    if lower in LOCK_FILES:
        return LOCK_FILES[lower]
    if lower == ".env" or lower.startswith(".env.") or lower.endswith(".env"):
        return DOTENV
    if lower in (".netrc", "_netrc", ".pypirc", "kaggle.json", ".npmrc"):
        return TEXT
    if lower.endswith(".tf.json"):
        return TERRAFORM
    for suffix in ARTIFACT_SUFFIXES:
        if lower.endswith(suffix):
            return ARTIFACT
    _, ext = os.path.splitext(lower)
    kind = TEXT_SUFFIXES.get(ext)
    if kind == YAML:
        return _yaml_kind(rel, name)
    return kind


def sniff(head: bytes) -> str | None:
    """Kind from the first bytes of a file the name could not classify."""
    if head.startswith(ARTIFACT_MAGIC):
        return ARTIFACT
    if head.startswith(b"#!") and b"python" in head.split(b"\n", 1)[0]:
        return PYTHON
    if head.startswith(b"#!") and any(sh in head.split(b"\n", 1)[0] for sh in (b"bash", b"/sh")):
        return SHELL
    return None
