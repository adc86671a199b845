"""Machine-readable JSON: findings, notices and a summary, stable key order."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from atlascan import __version__
from atlascan.atlas import catalog
from atlascan.model import Finding, ScanResult


def finding_dict(f: Finding, result: ScanResult) -> dict[str, Any]:
    rule = result.rules[f.rule_id]
    return {
        "rule_id": f.rule_id,
        "rule_name": rule.name,
        "severity": f.severity.label,
        "precision": f.precision.label,
        "path": f.path,
        "line": f.region.start_line,
        "column": f.region.start_column,
        "end_line": f.region.end_line,
        "end_column": f.region.end_column,
        "message": f.message,
        "snippet": f.snippet,
        "cwe": rule.cwe,
        "atlas": {"techniques": list(rule.atlas_techniques), "mitigations": list(rule.atlas_mitigations)},
        "fingerprint": f.fingerprint,
        "suppressed": None if f.suppression is None else {"kind": f.suppression.kind, "justification": f.suppression.justification},
        "related": [{"path": r.path, "line": r.region.start_line, "message": r.message} for r in f.related],
        "properties": f.properties,
    }


def render(result: ScanResult, *, statistics: bool = False, **_: Any) -> str:
    active = result.active_findings
    data = {
        "tool": {"name": "atlascan", "version": __version__, "atlas_version": catalog().version},
        "summary": {
            "files": len(result.files),
            "findings": len(active),
            "suppressed": len(result.findings) - len(active),
            "by_severity": dict(Counter(f.severity.label for f in active)),
            "notices": len(result.notices),
            "duration_s": round(result.duration_s, 3),
        },
        "findings": [finding_dict(f, result) for f in result.findings],
        "notices": [{"path": n.path, "level": n.level, "line": n.line, "message": n.message} for n in result.notices],
    }
    if statistics:
        data["statistics"] = result.statistics
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
