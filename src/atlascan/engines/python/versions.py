"""Pinned versions of the libraries whose safe defaults changed (torch 2.6, datasets 4).

Read from requirements files, pyproject.toml, lock files and Dockerfile `pip install`
lines. Only a lower bound counts (`==`, `>=`, `~=`, `^`, a lock entry); where several files
disagree the lowest version wins, and no bound at all means "unknown".
"""

from __future__ import annotations

import re
from collections.abc import Iterable

Version = tuple[int, ...]

TRACKED = {"torch": "torch", "pytorch": "torch", "datasets": "datasets", "keras": "keras", "tf-keras": "keras"}
_NAMES = "|".join(sorted(TRACKED, key=len, reverse=True))

# `torch==2.6.0`, `torch>=2.6`, `"torch~=2.6"`, `torch = "^2.6"`, `torch = {version = ">=2.6"}`,
# conda `pytorch=2.6`.
SPEC = re.compile(
    rf"""(?<![\w.-])(?P<name>{_NAMES})(?![\w-])\s*(?:\[[^\]\n]*\])?["']?\s*"""
    r"""(?:=\s*(?:\{\s*version\s*=\s*)?["'])?\s*(?P<op>===|==|>=|~=|\^|~|=)\s*v?(?P<ver>\d+(?:\.\d+)*)""",
    re.I,
)
# poetry.lock / uv.lock entries: name = "torch" then version = "2.6.0".
LOCK_ENTRY = re.compile(rf"""name\s*=\s*"(?P<name>{_NAMES})"\s*\n\s*version\s*=\s*"(?P<ver>\d+(?:\.\d+)*)""", re.I)
# Pipfile.lock: "torch": { ... "version": "==2.6.0" }
PIPFILE_ENTRY = re.compile(rf""""(?P<name>{_NAMES})"\s*:\s*\{{[^}}]*?"version"\s*:\s*"==(?P<ver>\d+(?:\.\d+)*)""", re.I)


def parse_version(text: str) -> Version:
    return tuple(int(p) for p in text.split(".")[:3])


def pins(texts: Iterable[str]) -> dict[str, Version]:
    found: dict[str, Version] = {}
    for text in texts:
        if not any(name in text.lower() for name in TRACKED):
            continue
        for regex in (SPEC, LOCK_ENTRY, PIPFILE_ENTRY):
            for m in regex.finditer(text):
                name = TRACKED[m.group("name").lower()]
                version = parse_version(m.group("ver"))
                if name not in found or version < found[name]:
                    found[name] = version
    return found


def show(version: Version) -> str:
    return ".".join(str(p) for p in version)
