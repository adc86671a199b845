"""`!pip install` / `%pip install` lines of notebooks: extra indexes, trusted hosts and
unpinned packages. Plain tokenising; nothing is run.

A package is unpinned when nothing stops it taking the newest release: no `==`, `~=`, `<`
or commit. pip, setuptools and wheel are the installer, not the notebook's dependencies."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

from atlascan.model import Severity
from atlascan.vocabulary import (
    COMMIT_SHA_REF,
    OWN_PACKAGES_PRACTICE,
    STABLE_INDEX_PRACTICE,
    installs_own_packages,
    paired_wheel_index,
    stable_wheel_index,
)

PIP_INSTALL = re.compile(r"(?:^|[\s;&|/])(?:pip3?(?:\.\d+)?|-m\s+pip)\s+install\b(?P<rest>.*)$")
TAKES_VALUE = frozenset({
    "-r", "--requirement", "-c", "--constraint", "-i", "--index-url", "--extra-index-url", "--trusted-host",
    "-f", "--find-links", "-t", "--target", "--prefix", "--root", "--src", "--platform", "--python-version",
    "--implementation", "--abi", "--cache-dir", "--progress-bar", "--log", "--upgrade-strategy", "-e", "--editable",
    "--only-binary", "--no-binary", "--config-settings", "-C", "--report", "--proxy", "--timeout", "--retries",
})  # fmt: skip


@dataclass(frozen=True)
class PipProblem:
    rule: str
    detail: str
    offset: int  # character offset of the offending token in the command
    packages: tuple[str, ...] = ()  # ATS-PY-018: the unpinned requirements, as written
    severity: Severity | None = None  # below the rule's, on evidence
    practice: str | None = None  # held back as the repository's practice (why)


# A requirement that does not take the newest release: exact, compatible or capped.
CONSTRAINED = re.compile(r"===?|~=|<")
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*")
# Installers themselves: upgrading them is routine, not a dependency of the notebook's code.
TOOLING = frozenset({"pip", "setuptools", "wheel"})


def name_of(requirement: str) -> str:
    """`Google_Cloud-AIPlatform[tensorboard]>=1.6` -> `google-cloud-aiplatform`."""
    m = NAME.match(requirement.strip("'\""))
    return re.sub(r"[._]+", "-", m.group(0)).lower() if m else ""


def pinned_names(text: str) -> set[str]:
    """Names a text (pip commands, a requirements file) constrains to a version."""
    found: set[str] = set()
    for token in re.split(r"[\s;&|]+", text):
        token = token.strip("'\"")
        if token and not token.startswith("-") and CONSTRAINED.search(token):
            found.add(name_of(token))
    return found - {""}


def check(command: str) -> list[PipProblem]:
    m = PIP_INSTALL.search(command)
    if not m:
        return []
    rest = m.group("rest").split("#", 1)[0]
    base = m.start("rest")
    try:
        tokens = shlex.split(rest, posix=True)
    except ValueError:
        tokens = rest.split()
    problems: list[PipProblem] = []
    unpinned: list[str] = []
    extra: list[tuple[str, int]] = []  # extra index URLs and their offsets
    primary: str | None = None  # the `--index-url`, None for PyPI
    skip_next = False
    previous = ""
    for token in tokens:
        offset = base + max(rest.find(token), 0)
        if skip_next:
            skip_next = False
            if previous in ("--extra-index-url",):
                extra.append((token, offset))
            else:
                primary = token if previous in ("--index-url", "-i") else primary
                problems += _value_problem(previous, token, offset)
            continue
        name, eq, value = token.partition("=")
        if token.startswith("-"):
            if eq and name in TAKES_VALUE:
                previous = name
                if name == "--extra-index-url":
                    extra.append((value, offset))
                else:
                    primary = value if name == "--index-url" else primary
                    problems += _value_problem(name, value, offset)
                continue
            if token in TAKES_VALUE:
                previous = token
                skip_next = True
            continue
        if token.startswith(("{", "$")) or ("/" in token.split("@", 1)[0] and not token.startswith(("git+", "http"))):
            continue  # a variable, a local path or a wheel file
        if token.endswith((".whl", ".tar.gz", ".zip")) or token in (".", ".."):
            continue
        if CONSTRAINED.search(token) or COMMIT_SHA_REF.search(token) or name_of(token) in TOOLING:
            continue
        unpinned.append(token)
    names = None
    if extra:  # imported here: most notebooks add no index, and a run over .py files never does
        from atlascan.parsers.requirements import installed_names

        names = installed_names(["pip", "install", *tokens])
    for url, offset in extra:
        problems.append(_extra_index(url, offset, names, primary))
    if unpinned:
        problems.append(PipProblem("ATS-PY-018", describe(unpinned), base + max(rest.find(unpinned[0]), 0), tuple(unpinned)))
    return problems


def _extra_index(url: str, offset: int, names: frozenset[str] | None, primary: str | None) -> PipProblem:
    """An extra index, graded as ATS-CMD-010 grades it in a Dockerfile: medium for an index
    only its operator publishes to (PyTorch's wheels) beside PyPI, the practice when the
    command installs only packages that operator also owns on PyPI (CPU or CUDA torch) or
    when the index is such an operator's stable channel (NVIDIA's `pypi.nvidia.com` for
    cuVS, as its install guide says)."""
    detail = f"`--extra-index-url {url}` lets a public package shadow a private one"
    wheels = paired_wheel_index(url, primary)
    if wheels is None:
        return PipProblem("ATS-PY-017", detail, offset)
    practice = OWN_PACKAGES_PRACTICE if installs_own_packages(wheels, names) else None
    if practice is None and stable_wheel_index(wheels):
        practice = STABLE_INDEX_PRACTICE
    return PipProblem("ATS-PY-017", detail, offset, severity=Severity.MEDIUM, practice=practice)


# A pip command in a notebook's raw JSON, up to the end of its line (a `\n` escape) or string.
# It starts with a literal so that the engine skips ahead through megabytes of cell outputs
# (`python -m pip install` holds `pip install` too).
RAW_INSTALL = re.compile(r"pip3?(?:\.\d+)?\s+install\b([^\"\\\\]*)")


def install_counts(raw: str) -> tuple[int, int]:
    """(pinned, unpinned) packages of the pip installs in a notebook's raw text: the
    repository's practice, counted without parsing the notebook."""
    pinned = unpinned = 0
    for m in RAW_INSTALL.finditer(raw):
        unpinned += sum(len(p.packages) for p in check("pip install " + m.group(1)) if p.rule == "ATS-PY-018")
        pinned += len(pinned_names(m.group(1)))
    return pinned, unpinned


def describe(packages: list[str]) -> str:
    shown = ", ".join(f"`{t}`" for t in packages[:5])
    return shown + (f" and {len(packages) - 5} more" if len(packages) > 5 else "")


def _value_problem(option: str, value: str, offset: int) -> list[PipProblem]:
    if option == "--trusted-host":
        return [PipProblem("ATS-PY-017", f"`--trusted-host {value}` accepts the index without TLS verification", offset)]
    if option in ("-i", "--index-url") and value.startswith("http://"):
        return [PipProblem("ATS-PY-017", f"the index `{value}` is plain HTTP", offset)]
    return []
