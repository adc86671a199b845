"""Pinned versions of the libraries whose safe defaults changed (torch 2.6, datasets 4,
PyYAML 5.4).

Read from the dependency model of `parsers.requirements` (requirements and constraints
files, pyproject.toml, Pipfile, conda files, lock files, setup.cfg and setup.py:
`read_manifests`, the same model the ATS-DEP rules read) and, for Dockerfile `pip install`
lines and any file that model cannot read, from the text. Only a lower bound counts (`==`,
`>=`, `~=`, `^`, a lock entry); no bound at all means "unknown". A file gets the pins
nearest to it (`PinIndex`), a notebook its own `%pip install` pins first.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from atlascan.parsers.requirements import Manifest, Requirement

Version = tuple[int, ...]

TRACKED = {"torch": "torch", "pytorch": "torch", "datasets": "datasets", "keras": "keras", "tf-keras": "keras", "pyyaml": "pyyaml"}
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


# The lower bound of a PEP 440 specifier set (what `parsers.requirements` gives every
# manifest format, Poetry carets and conda pins included): `==X`, `===X`, `>=X`, `~=X`, `>X`.
LOWER_BOUND = re.compile(r"(?:===|==|>=|~=|>)\s*v?(?P<ver>\d+(?:\.\d+)*)(?![\w*])")


def manifest_pins(requirements: Iterable[Requirement]) -> dict[str, Version]:
    """The lowest lower bound per tracked library in a manifest read by
    `parsers.requirements` (the one dependency model of the ATS-DEP rules)."""
    found: dict[str, Version] = {}
    for req in requirements:
        name = TRACKED.get(req.name)
        if name is None or not req.specifier:
            continue
        bounds = [parse_version(m.group("ver")) for m in LOWER_BOUND.finditer(req.specifier)]
        if bounds:
            version = min(bounds)
            if name not in found or version < found[name]:
                found[name] = version
    return found


def show(version: Version) -> str:
    return ".".join(str(p) for p in version)


@dataclass
class PinIndex:
    """Pins per folder, so a file gets the pins that apply to it: per library, those of the
    dependency files nearest to it (its own folder, then each parent; within one folder the
    lowest), never the lowest pin anywhere in the repository."""

    by_dir: dict[str, list[tuple[str, dict[str, Version]]]] = field(default_factory=dict)
    locks: set[str] = field(default_factory=set)  # the lock files among the sources
    _memo: dict[str, tuple[dict[str, Version], dict[str, str]]] = field(default_factory=dict)

    def add(self, path: str, text: str) -> None:
        self.add_found(path, pins([text]))

    def add_manifest(self, m: Manifest) -> None:
        if m.format == "lock":
            self.locks.add(m.path)
        self.add_found(m.path, manifest_pins(m.requirements))

    def add_found(self, path: str, found: dict[str, Version]) -> None:
        if found:
            self.by_dir.setdefault(posixpath.dirname(path), []).append((path, found))

    def for_file(self, path: str) -> tuple[dict[str, Version], dict[str, str]]:
        """The versions that apply to `path` and, per library, where it is pinned (for messages).
        In one folder a lock file's entry wins over the manifests' lower bounds: it says what
        is installed (helm's uv.lock resolves `torch>=1.13.1,<3.0.0` to 2.11.0)."""
        folder = posixpath.dirname(path)
        if folder not in self._memo:
            versions: dict[str, Version] = {}
            sources: dict[str, str] = {}
            current: str | None = folder
            while current is not None:
                entries = sorted(self.by_dir.get(current, ()))
                locked = {name for source, found in entries if source in self.locks for name in found}
                for source, found in entries:
                    for name, version in found.items():
                        nearer = name in sources and posixpath.dirname(sources[name]) != current
                        if name in locked and source not in self.locks:
                            continue
                        if not nearer and (name not in versions or version < versions[name]):
                            versions[name], sources[name] = version, f"`{source}`"
                current = posixpath.dirname(current) if current else None
            self._memo[folder] = (versions, sources)
        return self._memo[folder]


def overlay(base: tuple[dict[str, Version], dict[str, str]], texts: Iterable[str], where: str) -> tuple[dict[str, Version], dict[str, str]]:
    """`base` with the pins found in `texts` (a notebook's own `%pip install` lines) on top;
    `where` says where they are, for messages."""
    own = pins(texts)
    if not own:
        return base
    return {**base[0], **own}, {**base[1], **dict.fromkeys(own, where)}
