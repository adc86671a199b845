"""ATLAS Navigator layers: layer format 4.5 structure, ATLAS domain, scores and comments."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import jsonschema
import pytest

from atlascan.atlas import catalog
from atlascan.cli import main
from atlascan.model import Finding, Precision, ScanResult, Severity, SourceFile, Span
from atlascan.report import render
from atlascan.report.navigator import coverage_layer
from atlascan.rules import default_rules, rule_from_mapping
from atlascan.scan import select_rules

GUIDANCE = "## What it does\nx\n## Why it matters\nx\n## Example\n```\nx\n```\n## Use instead\n```\ny\n```\n## References\n- z\n"

# The parts of the Navigator's layer format (v4.5) that the Navigator needs to open a layer.
LAYER_SCHEMA = {
    "type": "object",
    "required": ["name", "versions", "domain", "techniques"],
    "properties": {
        "name": {"type": "string", "minLength": 1},
        "versions": {
            "type": "object",
            "required": ["layer", "navigator"],
            "properties": {"layer": {"const": "4.5"}, "navigator": {"type": "string"}},
        },
        "domain": {"const": "atlas-atlas"},
        "description": {"type": "string"},
        "sorting": {"enum": [0, 1, 2, 3]},
        "layout": {
            "type": "object",
            "properties": {
                "layout": {"enum": ["side", "flat", "mini"]},
                "aggregateFunction": {"enum": ["average", "min", "max", "sum"]},
                "expandedSubtechniques": {"enum": ["none", "annotated", "all"]},
            },
        },
        "hideDisabled": {"type": "boolean"},
        "techniques": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["techniqueID"],
                "additionalProperties": False,
                "properties": {
                    "techniqueID": {"type": "string", "pattern": r"^AML\.T\d{4}(\.\d{3})?$"},
                    "tactic": {"type": "string"},
                    "score": {"type": "number"},
                    "color": {"type": "string"},
                    "comment": {"type": "string"},
                    "enabled": {"type": "boolean"},
                    "showSubtechniques": {"type": "boolean"},
                    "metadata": {
                        "type": "array",
                        "items": {"type": "object", "required": ["name", "value"],
                                  "properties": {"name": {"type": "string"}, "value": {"type": "string"}}},
                    },
                },
            },
        },
        "gradient": {
            "type": "object",
            "required": ["colors", "minValue", "maxValue"],
            "properties": {"colors": {"type": "array", "minItems": 2, "items": {"type": "string", "pattern": "^#[0-9a-f]{6}$"}}},
        },
        "legendItems": {"type": "array", "items": {"type": "object", "required": ["label", "color"]}},
        "metadata": {"type": "array"},
    },
}


def _rules() -> dict:
    def rule(rid: str, name: str, techniques: list[str]) -> object:
        return rule_from_mapping(
            {"id": rid, "name": name, "title": "t", "severity": "high", "precision": "high", "engine": "secrets",
             "kinds": ["python"], "message": "m", "guidance": GUIDANCE,
             "atlas": {"techniques": techniques, "mitigations": ["AML.M0013"]}},
            f"{rid}.toml",
        )

    return {"ATS-TST-001": rule("ATS-TST-001", "registry-image-mutable", ["AML.T0010.004"]),
            "ATS-TST-002": rule("ATS-TST-002", "service-exposed", ["AML.T0049", "AML.T0055"])}


def _result(tmp_path: Path) -> ScanResult:
    def f(rid: str, path: str, line: int, sev: Severity) -> Finding:
        return Finding(rule_id=rid, path=path, region=Span(line), message="m.", severity=sev, precision=Precision.HIGH)

    findings = [f("ATS-TST-001", "Dockerfile", 1, Severity.MEDIUM), f("ATS-TST-001", "k8s/app.yaml", 9, Severity.HIGH),
                f("ATS-TST-001", "k8s/app.yaml", 20, Severity.MEDIUM), f("ATS-TST-002", "serve.py", 4, Severity.CRITICAL)]
    files = [SourceFile(p, str(tmp_path / p), "python", 1) for p in ("Dockerfile", "k8s/app.yaml", "serve.py")]
    return ScanResult(root=tmp_path, rules=_rules(), findings=findings, notices=[], files=files,  # type: ignore[arg-type]
                      duration_s=0.0, kinds=Counter())


def test_findings_layer_by_severity(tmp_path: Path) -> None:
    layer = json.loads(render("navigator", _result(tmp_path)))
    jsonschema.validate(layer, LAYER_SCHEMA)
    by_id = {t["techniqueID"]: t for t in layer["techniques"]}
    # Annotated where the rules point; the Navigator rolls sub-techniques up itself.
    assert set(by_id) == {"AML.T0010.004", "AML.T0049", "AML.T0055"}
    assert by_id["AML.T0010.004"]["score"] == int(Severity.HIGH)
    assert by_id["AML.T0049"]["score"] == by_id["AML.T0055"]["score"] == int(Severity.CRITICAL)
    comment = by_id["AML.T0010.004"]["comment"]
    assert comment == "3 finding(s), highest high; rules: ATS-TST-001; files: Dockerfile, k8s/app.yaml"
    assert {"name": "file", "value": "k8s/app.yaml"} in by_id["AML.T0010.004"]["metadata"]
    assert layer["gradient"]["maxValue"] == int(Severity.CRITICAL)
    assert {"name": "atlas_data_version", "value": catalog().version} in layer["metadata"]


def test_findings_layer_by_count(tmp_path: Path) -> None:
    layer = json.loads(render("navigator", _result(tmp_path), navigator_score="count"))
    jsonschema.validate(layer, LAYER_SCHEMA)
    scores = {t["techniqueID"]: t["score"] for t in layer["techniques"]}
    assert scores == {"AML.T0010.004": 3, "AML.T0049": 1, "AML.T0055": 1}
    assert layer["gradient"]["maxValue"] == 3
    with pytest.raises(ValueError):
        render("navigator", _result(tmp_path), navigator_score="loudness")


def test_empty_scan_is_a_valid_layer(tmp_path: Path) -> None:
    result = _result(tmp_path)
    result.findings = []
    layer = json.loads(render("navigator", result))
    jsonschema.validate(layer, LAYER_SCHEMA)
    assert layer["techniques"] == []


def test_coverage_layer_of_the_rule_set() -> None:
    rules = select_rules(default_rules(), [], [])
    layer = json.loads(coverage_layer(rules))
    jsonschema.validate(layer, LAYER_SCHEMA)
    expected = Counter(t for r in rules.values() for t in r.atlas_techniques)
    assert {t["techniqueID"]: t["score"] for t in layer["techniques"]} == dict(expected)
    t55 = next(t for t in layer["techniques"] if t["techniqueID"] == "AML.T0055")
    assert "ATS-SEC-002" in t55["comment"]


def test_cli_rules_navigator(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "layers" / "coverage.json"
    assert main(["rules", "--format", "navigator", "--select", "ATS-SEC", "--output", str(out)]) == 0
    layer = json.loads(out.read_text(encoding="utf-8"))
    assert [t["techniqueID"] for t in layer["techniques"]] == sorted(
        {t for r in select_rules(default_rules(), ["ATS-SEC"], []).values() for t in r.atlas_techniques})
    assert main(["rules", "--format", "navigator", "--select", "ATS-SEC-002"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert [t["techniqueID"] for t in printed["techniques"]] == ["AML.T0055"]
