"""Findings and rules laid onto the MITRE ATLAS matrix: one cell per (tactic, technique).

Shared by the HTML report and the ATLAS Navigator layer. A finding counts for every technique
its rule names; a parent technique's cell also rolls up the findings of its sub-techniques, so
a security lead sees "Supply Chain Compromise" light up when only the container-registry
sub-technique was hit.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from atlascan.atlas import AtlasCatalog, Technique
from atlascan.model import Finding, Severity
from atlascan.rules import Rule


@dataclass
class Exposure:
    """What one technique looks like in this scan."""

    technique: Technique
    rules: set[str] = field(default_factory=set)  # enabled rules that look for it (coverage)
    findings: list[Finding] = field(default_factory=list)  # its own and its sub-techniques'

    @property
    def covered(self) -> bool:
        return bool(self.rules)

    @property
    def count(self) -> int:
        return len(self.findings)

    @property
    def worst(self) -> Severity | None:
        return max((f.severity for f in self.findings), default=None)

    @property
    def found_rules(self) -> list[str]:
        return sorted({f.rule_id for f in self.findings})

    @property
    def files(self) -> list[str]:
        return sorted({f.path for f in self.findings})


@dataclass(frozen=True)
class Column:
    """One tactic and its techniques, each followed by its sub-techniques, in catalog order."""

    tactic_id: str
    tactic_name: str
    techniques: tuple[tuple[Technique, tuple[Technique, ...]], ...]


def columns(cat: AtlasCatalog) -> list[Column]:
    children: dict[str, list[Technique]] = {}
    for tech in cat.techniques.values():
        if tech.parent:
            children.setdefault(tech.parent, []).append(tech)
    out = []
    for tactic in cat.tactics:
        rows = tuple(
            (tech, tuple(sorted(children.get(tech.id, ()), key=lambda t: t.id)))
            for tech in sorted(cat.techniques.values(), key=lambda t: t.id)
            if tech.parent is None and tactic.id in tech.tactics
        )
        out.append(Column(tactic.id, tactic.name, rows))
    return out


def exposures(cat: AtlasCatalog, rules: Mapping[str, Rule], findings: Iterable[Finding]) -> dict[str, Exposure]:
    """Technique id -> exposure, for every technique in the catalog."""
    table = {tid: Exposure(tech) for tid, tech in cat.techniques.items()}

    def lineage(tid: str) -> list[str]:
        tech = cat.techniques.get(tid)
        if tech is None:  # a rule naming an id this catalog lacks: validate_rule reports it
            return []
        return [tid, tech.parent] if tech.parent in table else [tid]

    for rule in rules.values():
        for tid in rule.atlas_techniques:
            for target in lineage(tid):
                table[target].rules.add(rule.id)
    for finding in findings:
        fired = rules.get(finding.rule_id)
        if fired is None:
            continue
        hit: set[str] = set()
        for tid in fired.atlas_techniques:
            hit.update(lineage(tid))
        for target in hit:  # a finding counts once per cell even if two of its ids roll up
            table[target].findings.append(finding)
    return table


def techniques_of(finding: Finding, rules: Mapping[str, Rule], cat: AtlasCatalog) -> list[str]:
    """The technique ids a finding is filed under, parents included (for click-filtering)."""
    rule = rules.get(finding.rule_id)
    if rule is None:
        return []
    out: list[str] = []
    for tid in rule.atlas_techniques:
        tech = cat.techniques.get(tid)
        if tech is None:
            continue
        for target in (tid, tech.parent):
            if target and target not in out:
                out.append(target)
    return out
