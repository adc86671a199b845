"""Which hosted repository the scan root is (`owner/name` on GitHub), read from files as
data: the checkout's `.git/config` remote, else a Go module path, else the links of the
root's Markdown files to `github.com/<owner>/<the root folder's name>` when they name one
owner only. Checks use it to
tell the repository's own actions from third parties' (a branch of the owner's action is
the owner's own code)."""

from __future__ import annotations

import re
import stat
from functools import cache
from pathlib import Path

READ_LIMIT = 256 * 1024  # a config, go.mod or README larger than this is not read for a name
GITHUB_URL = re.compile(r"github\.com[:/]+([A-Za-z0-9][A-Za-z0-9-]{0,38})/([A-Za-z0-9._-]+?)(?:\.git)?(?=[\s/\"')\]>#?;,]|\.(?:\s|$)|$)", re.M)
GITHUB_OWNER = re.compile(r"github\.com[:/]+([A-Za-z0-9][A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]")
ORIGIN = re.compile(r'^\[remote "origin"\]\s*$(?P<body>(?:\n(?!\[).*)*)', re.M)
GO_MODULE = re.compile(r"^module\s+github\.com/([A-Za-z0-9-]+)/([A-Za-z0-9._-]+)", re.M)
DOCS = ("README.md", "README.rst", "README", "CONTRIBUTING.md", "SECURITY.md")


def github_repository(root: Path) -> str | None:
    """`owner/name` (lower-case) of the GitHub repository checked out at `root`, or None."""
    config = _read(root / ".git" / "config")
    origin = ORIGIN.search(config)
    m = GITHUB_URL.search(origin.group("body")) if origin else None
    if m:
        return f"{m.group(1)}/{m.group(2)}".lower()
    m = GO_MODULE.search(_read(root / "go.mod"))
    if m:
        return f"{m.group(1)}/{m.group(2)}".lower()
    try:
        name = root.resolve().name.lower()
    except (OSError, RuntimeError):  # a symlink loop above the root
        return None
    owners = {m.group(1).lower() for doc in DOCS for m in GITHUB_URL.finditer(_read(root / doc)) if m.group(2).lower() == name}
    # One owner only: a fork's README that still links upstream names two, or the wrong one.
    return f"{owners.pop()}/{name}" if len(owners) == 1 else None


@cache
def owner_of(root: str) -> str | None:
    """The (lower-case) owner of the repository checked out at `root`, read once per process:
    for checks that meet a URL only now and then (a git install of the owner's own code)."""
    repository = github_repository(Path(root or "."))
    return repository.split("/", 1)[0] if repository else None


def github_owner(url: str) -> str | None:
    """The (lower-case) owner of the GitHub repository a URL names, or None."""
    m = GITHUB_OWNER.search(url)
    return m.group(1).lower() if m else None


# A storage bucket in a download URL: `https://<bucket>.s3[.<region>].amazonaws.com/...`,
# `https://s3[.<region>].amazonaws.com/<bucket>/...`, `https://storage.googleapis.com/<bucket>/...`.
BUCKET_HOST = re.compile(r"^https?://(?P<bucket>[a-z0-9][a-z0-9.-]*?)\.s3(?:[.-][a-z0-9-]+)?\.amazonaws\.com/", re.I)
BUCKET_PATH = re.compile(r"^https?://(?:s3(?:[.-][a-z0-9-]+)?\.amazonaws\.com|storage\.googleapis\.com)/(?P<bucket>[a-z0-9][a-z0-9._-]*)/", re.I)


def owners_bucket(url: str, owner: str | None) -> bool:
    """Whether a download URL is in a storage bucket the owner's name leads
    (`h2o-release.s3.amazonaws.com` for h2oai): the owner's own release bucket, as its
    GitHub releases are. The bucket's first word (three characters or more) must begin the
    owner's name."""
    m = BUCKET_HOST.match(url) or BUCKET_PATH.match(url)
    if m is None or not owner:
        return False
    word = re.split(r"[-_.]", m.group("bucket").lower(), maxsplit=1)[0]
    return len(word) >= 3 and owner.lower().startswith(word)


# Registries whose image names lead with the publishing account (`ghcr.io/<owner>/x`);
# an image with no registry host is Docker Hub's (`<owner>/x`).
ACCOUNT_REGISTRIES = frozenset({"docker.io", "registry.hub.docker.com", "ghcr.io", "quay.io"})


def owners_image(image: str, owner: str | None) -> bool:
    """Whether an image reference is published under the owner's name
    (`huggingface/accelerate:gpu-nightly` for huggingface/accelerate): the owner's own build,
    as its own actions are."""
    parts = image.lower().split("/")
    if not owner or len(parts) < 2:
        return False
    if "." in parts[0] or ":" in parts[0] or parts[0] == "localhost":
        if parts[0] not in ACCOUNT_REGISTRIES or len(parts) < 3:
            return False
        parts = parts[1:]
    return parts[0] == owner.lower()


def owners_account(account: str, owner: str | None) -> bool:
    """Whether a GitHub account is the owner or one of its namesake organisations
    (`nvidia-nemo` for `nvidia`, `aws-actions` for `aws`): where a company keeps its shared
    CI templates and actions, and where a renamed repository's old owner still points."""
    account, owner = account.lower(), (owner or "").lower()
    return bool(owner) and (account == owner or (len(owner) >= 3 and account.startswith(owner + "-")))


def _read(path: Path) -> str:
    """A regular file's first READ_LIMIT bytes ("" for anything else: a FIFO or a device
    would block the scan, a link may point anywhere)."""
    try:
        if not stat.S_ISREG(path.lstat().st_mode):
            return ""
        with path.open("rb") as fh:
            return fh.read(READ_LIMIT).decode("utf-8", "replace")
    except OSError:
        return ""
