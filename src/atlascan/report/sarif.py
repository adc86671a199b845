"""SARIF 2.1.0 for GitHub code scanning and IDE viewers, built with sarif-om's object model.

sarif-om's own serializer drops every value equal to its attrs default (a result's explicit
`level: warning` vanishes under a rule whose default is `error`), so objects are serialized
here by each field's `schema_property_name`, keeping every value that was set explicitly.
"""

from __future__ import annotations

import json
from typing import Any

import attr
import sarif_om as om

from atlascan import __version__
from atlascan.atlas import catalog
from atlascan.model import Finding, Notice, ScanResult, Severity
from atlascan.report.guidance import explain_markdown, help_text, help_uri
from atlascan.rules import SECURITY_SEVERITY, Rule

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/atlascan/atlascan"
FINGERPRINT_KEY = "atlascan/v1"
_LEVEL = {Severity.CRITICAL: "error", Severity.HIGH: "error", Severity.MEDIUM: "warning",
          Severity.LOW: "note", Severity.INFO: "note"}  # fmt: skip
_SET = "_atlascan_set"
# GitHub code scanning rejects a run with more results than this (and shows 5,000).
MAX_RESULTS = 25_000


def _om(cls: type, **kwargs: Any) -> Any:
    """Construct a sarif-om object and remember which fields were given."""
    obj = cls(**kwargs)
    object.__setattr__(obj, _SET, frozenset(k for k, v in kwargs.items() if v is not None))
    return obj


def to_json(value: Any) -> Any:
    if attr.has(type(value)):
        given: frozenset[str] = getattr(value, _SET, frozenset())
        out = {}
        for f in attr.fields(type(value)):
            if f.name in given:
                out[f.metadata.get("schema_property_name", f.name)] = to_json(getattr(value, f.name))
        return out
    if isinstance(value, dict):
        return {k: to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    return value


def _tags(rule: Rule) -> list[str]:
    tags = ["security"]
    if rule.cwe:
        tags.append(f"external/cwe/cwe-{rule.cwe}")
    tags += [f"external/atlas/{t.lower()}" for t in rule.atlas_techniques]
    if rule.match.get("outside-atlas"):  # a Checkov check classified outside MITRE ATLAS
        tags.append("outside-atlas")
    tags.append(rule.kinds[0] if rule.kinds[0] != "*" else "secrets")
    seen: list[str] = []
    for t in tags:
        if t not in seen:
            seen.append(t)
    return seen[:10]


def _rule_descriptor(rule: Rule) -> Any:
    cat = catalog()
    full = rule.section("What it does") or rule.title
    return _om(
        om.ReportingDescriptor,
        id=rule.id,
        name="".join(part.capitalize() for part in rule.name.split("-")),
        short_description=_om(om.MultiformatMessageString, text=rule.title),
        full_description=_om(om.MultiformatMessageString, text=" ".join(full.split())[:1000]),
        help=_om(om.MultiformatMessageString, text=help_text(rule), markdown=explain_markdown(rule)),
        help_uri=help_uri(rule),
        default_configuration=_om(om.ReportingConfiguration, level=_LEVEL[rule.severity]),
        properties={
            "tags": _tags(rule),
            "precision": rule.precision.label,
            "security-severity": SECURITY_SEVERITY[rule.severity],
            "problem.severity": "error" if rule.severity >= Severity.HIGH else "warning",
            "atlas": {
                "version": cat.version,
                "techniques": [{"id": t, "name": cat.technique_label(t), "url": cat.techniques[t].url} for t in rule.atlas_techniques],
                "mitigations": [{"id": m, "name": cat.mitigations[m].name, "url": cat.mitigations[m].url} for m in rule.atlas_mitigations],
                "suggestedMitigations": list(rule.suggested_mitigations),
            },
        },
    )


def _region(f: Finding) -> Any:
    r = f.region
    kwargs: dict[str, Any] = {"start_line": r.start_line}
    if r.start_column:
        kwargs["start_column"] = r.start_column
    if r.end_line and r.end_line >= r.start_line:
        kwargs["end_line"] = r.end_line
    same_line = kwargs.get("end_line", r.start_line) == r.start_line
    if r.end_column and r.start_column and not (same_line and r.end_column <= r.start_column):
        kwargs["end_column"] = r.end_column
    if f.snippet:
        kwargs["snippet"] = _om(om.ArtifactContent, text=f.snippet)
    return _om(om.Region, **kwargs)


def _location(path: str, region: Any, message: str | None = None, loc_id: int | None = None) -> Any:
    return _om(
        om.Location,
        id=loc_id,
        physical_location=_om(
            om.PhysicalLocation,
            artifact_location=_om(om.ArtifactLocation, uri=_uri(path), uri_base_id="%SRCROOT%"),
            region=region,
        ),
        message=_om(om.Message, text=message) if message else None,
    )


def _uri(path: str) -> str:
    from urllib.parse import quote

    return quote(path, safe="/")


def _fix(path: str, fix: dict[str, Any]) -> Any:
    """A suggested edit (engines give 1-based columns, end exclusive) as a SARIF fix, which
    IDE SARIF viewers can apply; an empty deleted region is an insertion."""
    replacements = [
        _om(
            om.Replacement,
            deleted_region=_om(
                om.Region,
                start_line=r["startLine"],
                start_column=r["startColumn"],
                end_line=r["endLine"],
                end_column=r["endColumn"],
            ),
            inserted_content=_om(om.ArtifactContent, text=r["insertedText"]),
        )
        for r in fix["replacements"]
    ]
    return _om(
        om.Fix,
        description=_om(om.Message, text=str(fix.get("description", "Suggested fix"))),
        artifact_changes=[
            _om(
                om.ArtifactChange,
                artifact_location=_om(om.ArtifactLocation, uri=_uri(path), uri_base_id="%SRCROOT%"),
                replacements=replacements,
            )
        ],
    )


def _result(f: Finding, index: int) -> Any:
    related = [
        _location(r.path, _om(om.Region, start_line=r.region.start_line), r.message, i)
        for i, r in enumerate(f.related, start=1)
    ]
    props: dict[str, Any] = {"severity": f.severity.label, "precision": f.precision.label}
    props.update(f.properties)
    fix = props.pop("fix", None)
    return _om(
        om.Result,
        rule_id=f.rule_id,
        rule_index=index,
        level=_LEVEL[f.severity],
        kind="fail",
        message=_om(om.Message, text=f.message if f.message.endswith(".") else f.message + "."),
        locations=[_location(f.path, _region(f))],
        related_locations=related or None,
        partial_fingerprints={FINGERPRINT_KEY: f.fingerprint},
        fixes=[_fix(f.path, fix)] if isinstance(fix, dict) and fix.get("replacements") else None,
        suppressions=[_om(om.Suppression, kind=f.suppression.kind, justification=f.suppression.justification)]
        if f.suppression
        else None,
        properties=props,
    )


def _capped(result: ScanResult, limit: int) -> tuple[list[Finding], Notice | None]:
    """At most `limit` results, most severe first, so an upload is never rejected whole."""
    if len(result.findings) <= limit:
        return result.findings, None
    kept = sorted(result.findings, key=lambda f: (f.suppression is not None, -f.severity, f.sort_key()))[:limit]
    kept.sort(key=Finding.sort_key)
    dropped = len(result.findings) - limit
    return kept, Notice(
        ".",
        f"{dropped} of {len(result.findings)} results were left out of this SARIF file, the least severe "
        f"first: code scanning accepts at most {limit} per run. Narrow the scan or raise --severity-threshold.",
        "warning",
    )


def build_log(result: ScanResult, category: str | None = None, max_results: int = MAX_RESULTS) -> dict[str, Any]:
    findings, cap_notice = _capped(result, max_results)
    notices = [*result.notices, *([cap_notice] if cap_notice else [])]
    used = sorted({f.rule_id for f in findings})
    # All enabled rules are listed so consumers know what was checked, not just what fired.
    rule_ids = sorted(set(result.rules) | set(used))
    index = {rid: i for i, rid in enumerate(rule_ids)}
    driver = _om(
        om.ToolComponent,
        name="atlascan",
        version=__version__,
        semantic_version=__version__,
        information_uri=INFORMATION_URI,
        rules=[_rule_descriptor(result.rules[rid]) for rid in rule_ids],
        properties={"atlasVersion": catalog().version},
    )
    notifications = [
        _om(
            om.Notification,
            level=n.level,
            message=_om(om.Message, text=n.message),
            locations=[_location(n.path, _om(om.Region, start_line=n.line or 1))],
        )
        for n in notices
    ]
    invocation = _om(
        om.Invocation,
        execution_successful=True,
        tool_execution_notifications=notifications or None,
    )
    run_kwargs: dict[str, Any] = {
        "tool": _om(om.Tool, driver=driver),
        "results": [_result(f, index[f.rule_id]) for f in findings],
        "invocations": [invocation],
        "column_kind": "unicodeCodePoints",
    }
    if category:
        run_kwargs["automation_details"] = _om(om.RunAutomationDetails, id=category.rstrip("/") + "/")
    log = _om(om.SarifLog, version="2.1.0", schema_uri=SCHEMA_URI, runs=[_om(om.Run, **run_kwargs)])
    data: dict[str, Any] = to_json(log)
    return data


def render(result: ScanResult, category: str | None = None, **_: Any) -> str:
    return json.dumps(build_log(result, category), indent=2, ensure_ascii=False) + "\n"
