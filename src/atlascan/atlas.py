"""The project's compact MITRE ATLAS catalog: ids, names, tactics and links (no prose)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources


@dataclass(frozen=True)
class Tactic:
    id: str
    name: str
    url: str


@dataclass(frozen=True)
class Technique:
    id: str
    name: str
    tactics: tuple[str, ...]
    url: str
    parent: str | None = None
    attack: str | None = None  # the ATT&CK technique ATLAS points to, if any


@dataclass(frozen=True)
class Mitigation:
    id: str
    name: str
    techniques: tuple[str, ...]
    url: str


@dataclass(frozen=True)
class AtlasCatalog:
    version: str
    tactics: tuple[Tactic, ...]  # matrix column order
    techniques: dict[str, Technique]
    mitigations: dict[str, Mitigation]

    def technique_label(self, tid: str) -> str:
        """Sub-techniques carry a short name; show them as 'Parent: Child'."""
        tech = self.techniques[tid]
        if tech.parent and tech.parent in self.techniques:
            return f"{self.techniques[tech.parent].name}: {tech.name}"
        return tech.name

    def mitigations_for(self, tid: str) -> list[Mitigation]:
        return [m for m in self.mitigations.values() if tid in m.techniques]


@cache
def catalog() -> AtlasCatalog:
    raw = json.loads(resources.files("atlascan").joinpath("data/atlas.json").read_text("utf-8"))
    return AtlasCatalog(
        version=raw["version"],
        tactics=tuple(Tactic(**t) for t in raw["tactics"]),
        techniques={
            t["id"]: Technique(
                id=t["id"],
                name=t["name"],
                tactics=tuple(t["tactics"]),
                url=t["url"],
                parent=t.get("parent"),
                attack=t.get("attack"),
            )
            for t in raw["techniques"]
        },
        mitigations={
            m["id"]: Mitigation(
                id=m["id"], name=m["name"], techniques=tuple(m["techniques"]), url=m["url"]
            )
            for m in raw["mitigations"]
        },
    )
