"""One rule's guidance, rendered for `atlascan explain`, SARIF help and the docs."""

from __future__ import annotations

import os

from atlascan.atlas import catalog
from atlascan.rules import Rule

DOCS_BASE = "https://github.com/atlascan/atlascan/blob/main/docs/rules"
DOCS_BASE_ENV = "ATLASCAN_DOCS_BASE_URL"  # e.g. an internal mirror of docs/rules/


def help_uri(rule: Rule) -> str:
    if rule.engine == "checkov" and rule.references:  # Checkov results have no atlascan page
        return rule.references[0]
    base = os.environ.get(DOCS_BASE_ENV, "").strip() or DOCS_BASE
    return f"{base.rstrip('/')}/{rule.id}.md"


def atlas_block(rule: Rule) -> str:
    cat = catalog()
    lines = ["## MITRE ATLAS"]
    for tid in rule.atlas_techniques:
        tech = cat.techniques[tid]
        tactics = ", ".join(t.name for t in cat.tactics if t.id in tech.tactics)
        lines.append(f"- Technique [{tid} {cat.technique_label(tid)}]({tech.url}) ({tactics})")
    for mid in rule.atlas_mitigations:
        mit = cat.mitigations[mid]
        lines.append(f"- Mitigation [{mid} {mit.name}]({mit.url})")
    if rule.suggested_mitigations:
        lines.append("")
        lines.append("Suggested mitigations (atlascan's own advice; ATLAS links none for this weakness):")
        lines.extend(f"- {s}" for s in rule.suggested_mitigations)
    return "\n".join(lines)


def explain_markdown(rule: Rule) -> str:
    head = [
        f"# {rule.id} {rule.name}",
        "",
        f"**{rule.title}**",
        "",
        f"Severity: {rule.severity.label} · Precision: {rule.precision.label}"
        + (f" · CWE-{rule.cwe}" if rule.cwe else "")
        + f" · Applies to: {', '.join(rule.kinds)}",
        "",
        "",
    ]
    peers = [f"{tool}: {', '.join(ids)}" for tool, ids in rule.peers.items() if ids]
    tail = [atlas_block(rule)]
    if peers:
        tail += ["", "## Nearest checks in other tools", *(f"- {p}" for p in peers)]
    if rule.references:
        tail += ["", "## Links", *(f"- <{u}>" for u in rule.references)]
    return "\n".join(head) + rule.guidance.rstrip() + "\n\n" + "\n".join(tail) + "\n"


def help_text(rule: Rule) -> str:
    """Plain-text help for SARIF consumers that cannot render Markdown."""
    parts = [rule.title + "."]
    for heading in ("What it does", "Why it matters", "Use instead"):
        body = rule.section(heading)
        if body:
            parts.append(f"{heading}: {body}")
    return "\n\n".join(parts)
