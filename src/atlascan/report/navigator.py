"""ATLAS Navigator layers (Navigator layer format 4.5, ATLAS domain `atlas-atlas`).

Two layers: the techniques a scan found (`atlascan scan --format navigator`), scored by the
highest severity or by the number of findings, with comments naming rules and files; and the
coverage of the rule set itself (`atlascan rules --format navigator`), scored by the number of
rules that look for each technique. Annotations carry no `tactic`, so the Navigator shows
them under every tactic the technique belongs to.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from atlascan import __version__
from atlascan.atlas import catalog
from atlascan.model import ScanResult, Severity
from atlascan.report.atlas_matrix import exposures
from atlascan.rules import Rule

DOMAIN = "atlas-atlas"
LAYER_VERSION = "4.5"
NAVIGATOR_VERSION = "4.9.1"
SCORES = ("severity", "count")
# Navigator colours: a gradient for scores, plus the legend of what the score means.
_SEVERITY_COLOURS = {Severity.INFO: "#90a4ae", Severity.LOW: "#f9a825", Severity.MEDIUM: "#ef6c00",
                     Severity.HIGH: "#c62828", Severity.CRITICAL: "#7a0b0b"}  # fmt: skip
_MAX_FILES_IN_COMMENT = 10


def _layer(name: str, description: str, techniques: list[dict[str, Any]], gradient: dict[str, Any],
           legend: list[dict[str, str]]) -> dict[str, Any]:
    cat = catalog()
    return {
        "name": name,
        "versions": {"layer": LAYER_VERSION, "navigator": NAVIGATOR_VERSION},
        "domain": DOMAIN,
        "description": description,
        "sorting": 3,  # descending score: the worst techniques first in each tactic
        "layout": {"layout": "side", "showID": True, "showName": True, "aggregateFunction": "max",
                   "showAggregateScores": True, "countUnscored": False, "expandedSubtechniques": "annotated"},
        "hideDisabled": False,
        "techniques": techniques,
        "gradient": gradient,
        "legendItems": legend,
        "showTacticRowBackground": False,
        "selectTechniquesAcrossTactics": True,
        "selectSubtechniquesWithParent": False,
        "selectVisibleTechniques": False,
        "metadata": [
            {"name": "generator", "value": f"atlascan {__version__}"},
            {"name": "atlas_data_version", "value": cat.version},
        ],
    }


def render(result: ScanResult, *, navigator_score: str = "severity", **_: Any) -> str:
    """The techniques this scan found. Only techniques with findings are annotated."""
    if navigator_score not in SCORES:
        raise ValueError(f"navigator score must be one of {SCORES}")
    cat = catalog()
    table = exposures(cat, result.rules, result.active_findings)
    entries = []
    max_count = 1
    for tid, exp in sorted(table.items()):
        # A parent's exposure rolls up its sub-techniques; annotate only where the rule points,
        # so the Navigator's own aggregation does the rolling up.
        own = [f for f in exp.findings if tid in result.rules[f.rule_id].atlas_techniques]  # exposures() kept only known rules
        if not own:
            continue
        worst = max(f.severity for f in own)
        rules = sorted({f.rule_id for f in own})
        files = sorted({f.path for f in own})
        shown = ", ".join(files[:_MAX_FILES_IN_COMMENT])
        more = f" and {len(files) - _MAX_FILES_IN_COMMENT} more" if len(files) > _MAX_FILES_IN_COMMENT else ""
        score = int(worst) if navigator_score == "severity" else len(own)
        max_count = max(max_count, len(own))
        entries.append({
            "techniqueID": tid,
            "score": score,
            "color": _SEVERITY_COLOURS[worst] if navigator_score == "severity" else "",
            "comment": f"{len(own)} finding(s), highest {worst.label}; rules: {', '.join(rules)}; files: {shown}{more}",
            "enabled": True,
            "showSubtechniques": any(t.parent == tid for t in cat.techniques.values()),
            "metadata": [{"name": "rule", "value": rid} for rid in rules]
            + [{"name": "file", "value": f} for f in files[:_MAX_FILES_IN_COMMENT]],
        })
    if navigator_score == "severity":
        gradient = {"colors": ["#ffffff", _SEVERITY_COLOURS[Severity.CRITICAL]], "minValue": 0,
                    "maxValue": int(Severity.CRITICAL)}
        legend = [{"label": f"{sev.label} (score {int(sev)})", "color": colour}
                  for sev, colour in sorted(_SEVERITY_COLOURS.items(), reverse=True)]
    else:
        gradient = {"colors": ["#fff3e0", "#c62828"], "minValue": 0, "maxValue": max_count}
        legend = [{"label": "score = number of findings", "color": "#c62828"}]
    name = f"atlascan findings: {result.root.name or 'scan'}"
    description = (f"{len(result.active_findings)} finding(s) in {len(result.files)} file(s); "
                   f"score = {'highest severity (0 info to 4 critical)' if navigator_score == 'severity' else 'number of findings'}.")
    layer = _layer(name, description, entries, gradient, legend)
    return json.dumps(layer, indent=2, ensure_ascii=False) + "\n"


def coverage_layer(rules: Mapping[str, Rule]) -> str:
    """What the rule set looks for: each technique a rule names, scored by the number of rules."""
    cat = catalog()
    per_technique: dict[str, list[str]] = {}
    for rule in rules.values():
        for tid in rule.atlas_techniques:
            if tid in cat.techniques:
                per_technique.setdefault(tid, []).append(rule.id)
    entries = [
        {
            "techniqueID": tid,
            "score": len(ids),
            "color": "",
            "comment": f"{len(ids)} rule(s): {', '.join(sorted(ids))}",
            "enabled": True,
            "showSubtechniques": any(t.parent == tid for t in cat.techniques.values()),
            "metadata": [{"name": "rule", "value": f"{rid} {rules[rid].name}"} for rid in sorted(ids)],
        }
        for tid, ids in sorted(per_technique.items())
    ]
    top = max((len(ids) for ids in per_technique.values()), default=1)
    layer = _layer(
        "atlascan rule coverage",
        f"{len(rules)} atlascan rule(s) covering {len(entries)} ATLAS technique(s); score = number of rules.",
        entries,
        {"colors": ["#e3f2fd", "#0d47a1"], "minValue": 0, "maxValue": top},
        [{"label": "covered by atlascan rules (darker = more rules)", "color": "#1565c0"}],
    )
    return json.dumps(layer, indent=2, ensure_ascii=False) + "\n"
