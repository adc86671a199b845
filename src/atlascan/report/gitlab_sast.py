"""GitLab SAST report (security report schema 15.2.4) for `artifacts: reports: sast:`.

GitLab rejects a report whose `version` it does not know, so the version is pinned to the
schema we validate against in tests. Suppressed findings are left out: GitLab has no notion
of a suppressed vulnerability and would list them as open.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

from atlascan import __version__
from atlascan.atlas import catalog
from atlascan.model import Finding, ScanResult, Severity
from atlascan.report.guidance import help_uri
from atlascan.rules import Rule

SCHEMA_VERSION = "15.2.4"
SCHEMA_URI = (
    "https://gitlab.com/gitlab-org/security-products/security-report-schemas/-/raw/"
    f"v{SCHEMA_VERSION}/dist/sast-report-format.json"
)
INFORMATION_URI = "https://github.com/atlascan/atlascan"
ATLAS_TECHNIQUE_URL = "https://atlas.mitre.org/techniques/{}"
_SEVERITY = {Severity.CRITICAL: "Critical", Severity.HIGH: "High", Severity.MEDIUM: "Medium",
             Severity.LOW: "Low", Severity.INFO: "Info"}  # fmt: skip
_MESSAGE_LEVEL = {"error": "warn", "warning": "warn", "note": "info"}
_URL = re.compile(r"^(https?|ftp)://.+")
# Schema limits (characters).
_NAME_MAX = 255
_SOLUTION_MAX = 7000
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S"
# Findings without a fingerprint (never passed the suppress step) still need a stable id.
_ID_NAMESPACE = uuid.UUID("0b6f1f4e-52a8-4d0c-9a64-4a1f3c6e2d17")


def _vulnerability_id(f: Finding) -> str:
    """A UUID from the finding's fingerprint (32 hex digits), so the same weakness keeps its
    id across pipelines and GitLab can track it."""
    try:
        return str(uuid.UUID(hex=f.fingerprint))
    except ValueError:
        key = f.fingerprint or f"{f.rule_id}\0{f.path}\0{f.region.start_line}\0{f.message}"
        return str(uuid.uuid5(_ID_NAMESPACE, key))


def _identifiers(rule: Rule) -> list[dict[str, str]]:
    """The rule id first (GitLab's primary identifier), then the CWE, then ATLAS techniques."""
    primary: dict[str, str] = {"type": "atlascan_rule_id", "name": f"atlascan {rule.id} {rule.name}", "value": rule.id}
    uri = help_uri(rule)
    if _URL.match(uri):
        primary["url"] = uri
    out = [primary]
    if rule.cwe:
        out.append({
            "type": "cwe",
            "name": f"CWE-{rule.cwe}",
            "value": str(rule.cwe),
            "url": f"https://cwe.mitre.org/data/definitions/{rule.cwe}.html",
        })
    cat = catalog()
    for tid in rule.atlas_techniques:
        name = cat.technique_label(tid) if tid in cat.techniques else tid
        out.append({"type": "mitre_atlas", "name": name, "value": tid, "url": ATLAS_TECHNIQUE_URL.format(tid)})
    return out


def _description(f: Finding, rule: Rule) -> str:
    parts = [f.message]
    if f.snippet:
        parts.append("```\n" + f.snippet.rstrip("\n") + "\n```")  # already masked by the builder
    for heading in ("What it does", "Why it matters"):
        body = rule.section(heading)
        if body:
            parts.append(f"**{heading}**\n\n{body}")
    if rule.atlas_techniques:
        parts.append("MITRE ATLAS: " + ", ".join(rule.atlas_techniques))
    return "\n\n".join(parts)


def _vulnerability(f: Finding, rule: Rule) -> dict[str, Any]:
    end_line = f.region.end_line if f.region.end_line and f.region.end_line >= f.region.start_line else f.region.start_line
    vuln: dict[str, Any] = {
        "id": _vulnerability_id(f),
        "name": rule.title[:_NAME_MAX],
        "description": _description(f, rule),
        "severity": _SEVERITY[f.severity],
        "location": {"file": f.path, "start_line": f.region.start_line, "end_line": end_line},
        "identifiers": _identifiers(rule),
    }
    solution = rule.section("Use instead")
    if solution:
        vuln["solution"] = solution[:_SOLUTION_MAX]
    links = [{"url": u} for u in rule.references if _URL.match(u)]
    if links:
        vuln["links"] = links
    return vuln


def build_report(result: ScanResult, now: datetime | None = None) -> dict[str, Any]:
    end = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    start = end - timedelta(seconds=max(result.duration_s, 0.0))
    tool = {"id": "atlascan", "name": "atlascan", "version": __version__, "vendor": {"name": "atlascan"}}
    scan: dict[str, Any] = {
        "analyzer": {**tool, "url": INFORMATION_URI},
        "scanner": {**tool, "url": INFORMATION_URI},
        "type": "sast",
        "start_time": start.strftime(_TIME_FORMAT),
        "end_time": end.strftime(_TIME_FORMAT),
        "status": "success",
    }
    messages = [{"level": _MESSAGE_LEVEL.get(n.level, "info"), "value": f"{n.path}: {n.message}"} for n in result.notices]
    if messages:
        scan["messages"] = messages
    return {
        "version": SCHEMA_VERSION,
        "schema": SCHEMA_URI,
        "scan": scan,
        "vulnerabilities": [_vulnerability(f, result.rules[f.rule_id]) for f in result.active_findings],
    }


def render(result: ScanResult, **_: Any) -> str:
    return json.dumps(build_report(result), indent=2, ensure_ascii=False) + "\n"
