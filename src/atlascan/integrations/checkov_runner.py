"""Run the `checkov` program (never import it) offline, with a timeout, and return its JSON.

Checkov pins some forty packages, several exactly (boto3, its `hcl2` fork bc-python-hcl2),
so it never shares atlascan's environment: it is a separate program from PATH or
`--checkov-bin`. It runs from an empty working folder with the scan root given as
`--directory=PATH`: Checkov reads `.checkov.yaml` from folders given as `-d` and from its
working folder, and such a file in a scanned repository could name an external checks
folder, i.e. Python code to import. A program whose real path lies inside the scanned tree
or its git repository is never run.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

DEFAULT_FRAMEWORKS = (
    "terraform", "terraform_json", "cloudformation", "kubernetes", "dockerfile",
    "github_actions", "gitlab_ci", "secrets", "arm", "bicep",
)  # fmt: skip
# Frameworks whose Checkov runners only parse files: no helm/kustomize binaries, no plugins,
# no network (sca_*, github_configuration, sast).
SAFE_FRAMEWORKS = frozenset(
    {
        *DEFAULT_FRAMEWORKS, "ansible", "argo_workflows", "azure_pipelines", "bitbucket_pipelines",
        "circleci_pipelines", "json", "yaml", "openapi", "serverless", "terraform_plan",
    }
)  # fmt: skip
DEFAULT_TIMEOUT_S = 600.0
MAX_OUTPUT_BYTES = 256 * 1024 * 1024
# Environment variables that would send the scan to Prisma Cloud; atlascan stays offline.
_PLATFORM_ENV = ("BC_API_KEY", "BC_API_URL", "PRISMA_API_URL", "BC_REPO_ID", "BC_SOURCE")
# Checkov settings that keep it off the network: no PyPI update check, no live validation of
# found secrets, no guideline mapping download, no GitHub/GitLab configuration fetch.
_OFFLINE_ENV = {
    "CKV_SKIP_PACKAGE_UPDATE_CHECK": "true",
    "CKV_VALIDATE_SECRETS": "false",
    "BC_SKIP_MAPPING": "true",
    "CKV_GITHUB_CONFIG_FETCH_DATA": "false",
    "CKV_GITLAB_CONFIG_FETCH_DATA": "false",
    "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false",
}


class CheckovError(Exception):
    """Checkov could not run or its output could not be used; becomes one notice."""


@dataclass(frozen=True)
class CheckovSettings:
    binary: str | None = None  # path or name; None: `checkov` on PATH
    timeout_s: float = DEFAULT_TIMEOUT_S
    frameworks: tuple[str, ...] = DEFAULT_FRAMEWORKS


def find_binary(binary: str | None) -> str | None:
    if binary:
        if os.sep in binary or (os.altsep and os.altsep in binary):
            return binary if os.path.isfile(binary) and os.access(binary, os.X_OK) else None
        return shutil.which(binary)
    return shutil.which("checkov")


def _git_top(folder: Path) -> Path | None:
    """The top of the git repository holding `folder`: the nearest folder with a `.git` entry
    (a folder, or a file in worktrees and submodules). Git itself is never run."""
    for candidate in (folder, *folder.parents):
        if os.path.lexists(candidate / ".git"):
            return candidate
    return None


def outside_repository(binary: str, root: Path, targets: Sequence[Path] = ()) -> str:
    """The binary's real path (links followed), or CheckovError when it lies inside the
    scanned tree or the git repository holding the scan root: whoever wrote the repository
    could have written that program, wherever the scan starts."""
    real = Path(os.path.realpath(binary))
    fences = {Path(os.path.realpath(p)) for p in (root, *targets)}
    fences |= {top for start in (root.absolute(), Path(os.path.realpath(root))) if (top := _git_top(start))}
    for fence in sorted(fences):
        if real.is_relative_to(fence):
            raise CheckovError(
                f"Checkov at {binary} ({real} with links followed) lies inside the scanned folder or its git "
                f"repository ({fence}), so it was not run: atlascan never runs a program the scanned repository "
                "could ship. Install Checkov outside it (`pipx install checkov`) and pass --checkov-bin. "
                "Only atlascan's own rules ran."
            )
    return str(real)


def _skip_path_regexes(root: Path, excludes: Sequence[str]) -> list[str]:
    """Plain-name excludes (`vendor`, `data/raw/`) as Checkov `--skip-path` regexes, anchored
    at the absolute root so a folder name never matches a parent of the root. Glob patterns are
    only enforced afterwards, on the findings (Checkov's regex semantics differ from gitignore)."""
    out = []
    base = re.escape(root.as_posix().rstrip("/"))
    for pattern in excludes:
        plain = pattern.strip().rstrip("/")
        if not plain or plain.startswith("!") or any(ch in plain for ch in "*?[]\\"):
            continue
        if "/" in plain.lstrip("/"):
            out.append(f"^{base}/{re.escape(plain.lstrip('/'))}(?:/|$)")
        else:
            out.append(f"^{base}/(?:.+/)?{re.escape(plain.lstrip('/'))}(?:/|$)")
    return out


def build_command(
    binary: str,
    root: Path,
    targets: Sequence[Path],
    settings: CheckovSettings,
    excludes: Sequence[str],
) -> list[str]:
    cmd = [binary]
    for target in targets or [root]:
        # `--directory=` (not `-d`): Checkov loads `.checkov.yaml` from folders given as `-d`.
        cmd.append(f"--directory={target}" if target.is_dir() else f"--file={target}")
    cmd += [
        "--framework", ",".join(settings.frameworks),
        "--skip-download", "--output", "json", "--compact", "--quiet",
    ]  # fmt: skip
    for regex in _skip_path_regexes(root, excludes):
        cmd += ["--skip-path", regex]
    return cmd


def _environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _PLATFORM_ENV}
    env.setdefault("LOG_LEVEL", "ERROR")
    env.update(_OFFLINE_ENV)
    return env


def run_checkov(
    root: Path, targets: Sequence[Path], settings: CheckovSettings, excludes: Sequence[str] = ()
) -> tuple[str, float]:
    """Run Checkov and return its standard output and wall time; raise CheckovError otherwise."""
    binary = find_binary(settings.binary)
    if binary is None:
        wanted = settings.binary or "checkov"
        raise CheckovError(
            f"Checkov was requested but `{wanted}` was not found; install it apart from atlascan "
            "(`pipx install checkov` or `uv tool install checkov`) or pass --checkov-bin. "
            "Only atlascan's own rules ran."
        )
    # The resolved path is what runs, so a link swapped after the check changes nothing.
    cmd = build_command(outside_repository(binary, root, targets), root, targets, settings, excludes)
    started = time.perf_counter()
    with (
        tempfile.TemporaryDirectory(prefix="atlascan-checkov-") as workdir,
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
    ):
        try:
            proc = subprocess.Popen(
                cmd,
                cwd=workdir,
                env=_environment(),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                start_new_session=True,  # its worker processes die with it on a timeout
            )
        except OSError as exc:
            raise CheckovError(
                f"Checkov could not be started ({binary}): {exc.strerror or exc}. Only atlascan's own rules ran."
            ) from None
        try:
            code = proc.wait(timeout=settings.timeout_s)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            raise CheckovError(
                f"Checkov did not finish within {settings.timeout_s:.0f} s and was stopped "
                "(raise --checkov-timeout). Only atlascan's own rules ran."
            ) from None
        elapsed = time.perf_counter() - started
        out.seek(0)
        stdout = out.read(MAX_OUTPUT_BYTES + 1)
        err.seek(0)
        stderr = err.read()[-4000:].decode("utf-8", "replace")
    if len(stdout) > MAX_OUTPUT_BYTES:
        raise CheckovError(
            f"Checkov's report is larger than {MAX_OUTPUT_BYTES // 2**20} MiB; ignored."
        )
    if code not in (0, 1):  # 1 means "some checks failed"
        last = last_line(stderr) or last_line(stdout.decode("utf-8", "replace"))
        raise CheckovError(
            f"Checkov exited with status {code}"
            + (f": {last}" if last else "")
            + ". Only atlascan's own rules ran."
        )
    return stdout.decode("utf-8", "replace"), elapsed


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    """Checkov runs its framework runners in worker processes: stop the whole session."""
    try:
        if hasattr(os, "killpg"):
            os.killpg(proc.pid, signal.SIGKILL)
        else:  # pragma: no cover - Windows has no process groups here
            proc.kill()
    except (ProcessLookupError, PermissionError):
        proc.kill()
    proc.wait()


def last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else ""
