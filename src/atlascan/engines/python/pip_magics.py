"""`!pip install` / `%pip install` lines of notebooks: extra indexes, trusted hosts and
unpinned packages. Plain tokenising; nothing is run."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

from atlascan.vocabulary import COMMIT_SHA_REF

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
    skip_next = False
    previous = ""
    for token in tokens:
        offset = base + max(rest.find(token), 0)
        if skip_next:
            skip_next = False
            if previous in ("--extra-index-url",):
                problems.append(PipProblem("ATS-PY-017", f"`--extra-index-url {token}` lets a public package shadow a private one", offset))
            elif previous == "--trusted-host":
                problems.append(PipProblem("ATS-PY-017", f"`--trusted-host {token}` accepts the index without TLS verification", offset))
            elif previous in ("-i", "--index-url") and token.startswith("http://"):
                problems.append(PipProblem("ATS-PY-017", f"the index `{token}` is plain HTTP", offset))
            continue
        name, eq, value = token.partition("=")
        if token.startswith("-"):
            if eq and name in TAKES_VALUE:
                previous = name
                skip_next = False
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
        if "==" in token or COMMIT_SHA_REF.search(token):
            continue
        unpinned.append(token)
    if unpinned:
        problems.append(PipProblem("ATS-PY-018", ", ".join(f"`{t}`" for t in unpinned[:5]), base + max(rest.find(unpinned[0]), 0)))
    return problems


def _value_problem(option: str, value: str, offset: int) -> list[PipProblem]:
    if option == "--extra-index-url":
        return [PipProblem("ATS-PY-017", f"`--extra-index-url {value}` lets a public package shadow a private one", offset)]
    if option == "--trusted-host":
        return [PipProblem("ATS-PY-017", f"`--trusted-host {value}` accepts the index without TLS verification", offset)]
    if option in ("-i", "--index-url") and value.startswith("http://"):
        return [PipProblem("ATS-PY-017", f"the index `{value}` is plain HTTP", offset)]
    return []
