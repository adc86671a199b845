"""`atlascan export-checkov DIR`: atlascan's declarative Terraform rules as Checkov YAML graph
policies, for teams that run only Checkov (`checkov --external-checks-dir DIR`).

Only YAML is written, so loading the policies runs no code. A rule row of the Terraform
engine's `[[match.conditions]]` table ("resource T, attribute A must (not) be V, and the
provider uses D when A is absent") becomes one policy whose definition says when the
resource PASSES, as Checkov expects. Rows that a Checkov attribute policy cannot say
(`name_pattern`, keys this exporter does not know) are skipped and listed, never guessed.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from atlascan.rules import Rule

ID_PREFIX = "CKV2_ATLASCAN_"
_KNOWN_KEYS = {
    "resources",
    "attribute",
    "block",
    "safe",
    "unsafe",
    "required",
    "default",
    "default_note",
    "unless",
    "severity",
}
_MISSING = object()
_CATEGORY_WORDS = (
    ("ENCRYPTION", ("encrypt", "customer-managed key", "kms")),
    ("NETWORKING", ("internet", "public", "network", " ip", "vpc")),
    ("IAM", ("auth", "root", "role", "key", "permission")),
)  # fmt: skip


@dataclass
class ExportResult:
    written: list[Path] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # "ATS-TF-0xx row n: reason"


def _attribute(name: str, operator: str, types: list[str], value: Any = _MISSING) -> dict[str, Any]:
    cond: dict[str, Any] = {
        "cond_type": "attribute",
        "resource_types": types,
        "attribute": name,
        "operator": operator,
    }
    if value is not _MISSING:
        cond["value"] = value
    return cond


def _any_of(conds: list[dict[str, Any]]) -> dict[str, Any]:
    return conds[0] if len(conds) == 1 else {"or": conds}


def _all_of(conds: list[dict[str, Any]]) -> dict[str, Any]:
    return conds[0] if len(conds) == 1 else {"and": conds}


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, str) and isinstance(b, str):
        return a.lower() == b.lower()
    return type(a) is type(b) and a == b


def definition_for(row: Mapping[str, Any]) -> dict[str, Any]:
    """The PASS condition of one conditions row, in Checkov's definition language."""
    types = list(row["resources"])
    name = str(row.get("attribute") or row.get("block"))
    safe, unsafe = row.get("safe"), row.get("unsafe")
    if safe is not None:
        value_ok = _any_of([_attribute(name, "equals", types, v) for v in safe])
    elif unsafe is not None:
        value_ok = _all_of([_attribute(name, "not_equals", types, v) for v in unsafe])
    else:
        value_ok = None
    default = row.get("default", _MISSING)
    if row.get("required"):
        absent_ok = False
    elif default is _MISSING:
        absent_ok = True
    elif safe is not None:
        absent_ok = any(_same(default, v) for v in safe)
    else:
        absent_ok = not any(_same(default, v) for v in unsafe or ())
    present = _attribute(name, "exists", types)
    if value_ok is None:
        passes = present
    elif absent_ok:
        passes = {"or": [_attribute(name, "not_exists", types), value_ok]}
    elif safe is not None:
        passes = value_ok  # `equals` already fails where the attribute is absent
    else:
        passes = {"and": [present, value_ok]}
    exceptions = []
    for test in row.get("unless", ()):
        if "block" in test:
            exceptions.append(_attribute(str(test["block"]), "exists", types))
        elif "attribute" in test and "equals" in test:
            exceptions.append(_attribute(str(test["attribute"]), "equals", types, test["equals"]))
        elif "attribute" in test:
            exceptions.append(_attribute(str(test["attribute"]), "exists", types))
        # Other tests (`read`, `granted`, `firewalled`) ask what other resources do with this
        # one, a graph question: left out, the exported policy is stricter.
    return {"or": [*exceptions, passes]} if exceptions else passes


def _unsupported(row: Mapping[str, Any]) -> str | None:
    unknown = set(row) - _KNOWN_KEYS
    if unknown:
        return f"keys {', '.join(sorted(unknown))} have no Checkov attribute-policy equivalent"
    if not row.get("resources") or not (row.get("attribute") or row.get("block")):
        return "names no resource types or attribute"
    if row.get("safe") is None and row.get("unsafe") is None and not row.get("required"):
        return "states no safe or unsafe values"
    return None


def _category(rule: Rule) -> str:
    title = " " + rule.title.lower()
    return next(
        (cat for cat, words in _CATEGORY_WORDS if any(w in title for w in words)),
        "GENERAL_SECURITY",
    )


def policies_for(rule: Rule) -> tuple[list[tuple[str, dict[str, Any]]], list[str]]:
    """(file stem, policy) pairs for one rule's exportable rows, and why other rows were not."""
    from atlascan.report.guidance import help_uri

    rows = list(rule.match.get("conditions", ()))
    policies: list[tuple[str, dict[str, Any]]] = []
    skipped: list[str] = []
    base = rule.id.removeprefix("ATS-").replace("-", "_")
    for number, row in enumerate(rows, start=1):
        reason = _unsupported(row)
        if reason:
            skipped.append(f"{rule.id} row {number}: {reason}")
            continue
        suffix = f"_{number}" if len(rows) > 1 else ""
        severity = str(row.get("severity") or rule.severity.label).upper()
        policy = {
            "metadata": {
                "id": f"{ID_PREFIX}{base}{suffix}",
                "name": f"{rule.title} (atlascan {rule.id})",
                "category": _category(rule),
                "severity": severity,
                "guideline": help_uri(rule),
            },
            "scope": {"provider": row["resources"][0].split("_", 1)[0]},
            "definition": definition_for(row),
        }
        policies.append((f"{rule.id}{'-' + str(number) if suffix else ''}", policy))
    return policies, skipped


def export_policies(rules: Mapping[str, Rule], directory: Path) -> ExportResult:
    from io import StringIO

    from ruamel.yaml import YAML

    yaml = YAML()  # round-trip dumper: keeps metadata first, as Checkov's own policies read
    yaml.default_flow_style = False
    yaml.width = 4096
    yaml.representer.ignore_aliases = lambda *_: True  # shared lists would become &anchors
    result = ExportResult()
    directory.mkdir(parents=True, exist_ok=True)
    for rule in rules.values():
        if (
            rule.engine != "terraform"
            or not rule.match.get("conditions")
            or rule.status == "deprecated"
        ):
            continue
        policies, skipped = policies_for(rule)
        result.skipped += skipped
        for stem, policy in policies:
            buf = StringIO()
            yaml.dump(policy, buf)
            path = directory / f"{stem}.yaml"
            header = f"# Generated by `atlascan export-checkov` from {rule.id} ({rule.name}); change the atlascan rule, not this file.\n"
            path.write_text(header + buf.getvalue(), encoding="utf-8")
            result.written.append(path)
    return result


def export_command(directory: Path) -> int:
    from atlascan.rules import RuleError, default_rules

    if directory.exists() and not directory.is_dir():
        print(f"atlascan: error: {directory} is not a folder", file=sys.stderr)
        return 2
    try:
        rules = default_rules()
    except RuleError as exc:
        print(f"atlascan: error: rule library: {exc}", file=sys.stderr)
        return 2
    result = export_policies(rules, directory)
    for line in result.skipped:
        print(f"atlascan: not exported: {line}", file=sys.stderr)
    print(
        f"atlascan: wrote {len(result.written)} Checkov polic{'y' if len(result.written) == 1 else 'ies'} to {directory}; "
        f"load them with `checkov --external-checks-dir {directory}`",
        file=sys.stderr,
    )
    return 0
