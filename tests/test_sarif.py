"""SARIF output: schema-valid, what GitHub code scanning needs, levels never lost."""

from __future__ import annotations

import json
from pathlib import Path

from atlascan.model import Severity
from atlascan.report.sarif import build_log, to_json
from conftest import FIXTURES
from sarif_checks import validate_sarif
from scanning import scan_path, scan_text


def test_fixture_tree_sarif_is_valid() -> None:
    result = scan_path(FIXTURES)
    assert result.findings
    log = build_log(result)
    validate_sarif(log)
    run = log["runs"][0]
    assert "automationDetails" not in run
    rule = next(r for r in run["tool"]["driver"]["rules"] if r["id"] == "ATS-SEC-002")
    assert "external/atlas/aml.t0055" in rule["properties"]["tags"]
    assert "external/cwe/cwe-798" in rule["properties"]["tags"]
    assert rule["properties"]["security-severity"] == "8.0"
    assert "## Use instead" in rule["help"]["markdown"]
    assert "Suggested mitigations" in rule["help"]["markdown"]
    assert rule["properties"]["atlas"]["techniques"][0]["id"] == "AML.T0055"


def test_result_level_survives_when_it_differs_from_rule_default(tmp_path: Path) -> None:
    result = scan_text(tmp_path, "a.py", 'HF = "hf_9jYg7SjjPvttfbfMLZuPjII4OoaQmzBinn"\n')
    finding = result.findings[0]
    finding.severity = Severity.MEDIUM  # e.g. lowered by data flow
    log = build_log(result)
    res = log["runs"][0]["results"][0]
    rule = log["runs"][0]["tool"]["driver"]["rules"][res["ruleIndex"]]
    assert rule["defaultConfiguration"]["level"] == "error"
    assert res["level"] == "warning"
    assert res["kind"] == "fail"
    validate_sarif(log)


def test_locations_are_relative_and_one_based(tmp_path: Path) -> None:
    result = scan_text(tmp_path, "sub dir/conf.py", 'X = 1\nTOKEN = "hf_9jYg7SjjPvttfbfMLZuPjII4OoaQmzBinn"\n')
    log = build_log(result)
    loc = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"] == {"uri": "sub%20dir/conf.py", "uriBaseId": "%SRCROOT%"}
    assert loc["region"]["startLine"] == 2
    assert loc["region"]["startColumn"] == 10
    assert loc["region"]["endColumn"] == 10 + len("hf_9jYg7SjjPvttfbfMLZuPjII4OoaQmzBinn")
    assert "hf_9jYg7SjjPvttfbfMLZuPjII4OoaQmzBinn" not in json.dumps(log)  # masked


def test_empty_scan_still_has_results_and_notices(tmp_path: Path) -> None:
    (tmp_path / "bad.ipynb").write_text("{ not json", "utf-8")
    (tmp_path / "latin.py").write_bytes(b"x = '\xe9\xff'\n")
    result = scan_path(tmp_path)
    log = build_log(result)
    validate_sarif(log)
    run = log["runs"][0]
    assert run["results"] == []
    notes = run["invocations"][0]["toolExecutionNotifications"]
    paths = {n["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for n in notes}
    assert {"bad.ipynb", "latin.py"} <= paths


def test_category_sets_automation_details(tmp_path: Path) -> None:
    result = scan_text(tmp_path, "a.py", "x = 1\n")
    log = build_log(result, category="ml/terraform")
    assert log["runs"][0]["automationDetails"] == {"id": "ml/terraform/"}
    validate_sarif(log)


def test_suppressed_findings_carry_a_suppression(tmp_path: Path) -> None:
    text = 'T = "hf_9jYg7SjjPvttfbfMLZuPjII4OoaQmzBinn"  # atlascan: ignore[ATS-SEC-002] test token\n'
    log = build_log(scan_text(tmp_path, "a.py", text))
    res = log["runs"][0]["results"][0]
    assert res["suppressions"] == [{"kind": "inSource", "justification": "test token"}]
    validate_sarif(log)


def test_serializer_keeps_explicit_defaults_and_drops_unset() -> None:
    import sarif_om as om

    from atlascan.report.sarif import _om

    cfg = _om(om.ReportingConfiguration, level="warning")
    assert to_json(cfg) == {"level": "warning"}
    region = _om(om.Region, start_line=3)
    assert to_json(region) == {"startLine": 3}


def test_bundled_example_yields_valid_sarif_with_atlas_guidance() -> None:
    from conftest import ROOT

    result = scan_path(ROOT / "examples" / "ml-platform")
    log = build_log(result)
    validate_sarif(log)
    run = log["runs"][0]
    fired = {r["ruleId"] for r in run["results"]}
    assert {"ATS-SEC-001", "ATS-SEC-002", "ATS-SEC-004", "ATS-SEC-008", "ATS-DEP-001", "ATS-DEP-004"} <= fired
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    for rid in fired:
        assert rules[rid]["properties"]["atlas"]["techniques"], rid
        assert "## Use instead" in rules[rid]["help"]["markdown"], rid


def test_suggested_fixes_become_sarif_fixes(tmp_path: Path) -> None:
    text = "import torch\nimport yaml\nmodel = torch.load(path)\ncfg = yaml.load(fh, Loader=yaml.Loader)\n"
    (tmp_path / "requirements.txt").write_text("torch==2.1.0\n", "utf-8")
    log = build_log(scan_text(tmp_path, "train.py", text))
    validate_sarif(log)
    fixed = [r for r in log["runs"][0]["results"] if r.get("fixes")]
    assert fixed, "the Python analyzer suggests fixes for torch.load and yaml.load"
    torch_fix = next(r for r in fixed if r["ruleId"] == "ATS-PY-004")["fixes"][0]
    change = torch_fix["artifactChanges"][0]
    assert change["artifactLocation"]["uri"] == "train.py"
    replacement = change["replacements"][0]
    assert replacement["insertedContent"]["text"] == ", weights_only=True"
    assert replacement["deletedRegion"]["startLine"] == 3
    assert "fix" not in next(r for r in fixed if r["ruleId"] == "ATS-PY-004")["properties"]


def test_results_are_capped_for_code_scanning_most_severe_first(tmp_path: Path) -> None:
    lines = [f'K{i} = "hf_{i:04d}Kq3vT8mZ2xR7nW4pL9sY6bD1cF5hJ0"\n' for i in range(6)]
    lines.append('PASSWORD = "Zx9kQ2mR7vL4pT8w"\n')  # medium; the others are high
    result = scan_text(tmp_path, "many.py", "".join(lines))
    assert len(result.findings) == 7
    log = build_log(result, max_results=6)
    validate_sarif(log)
    run = log["runs"][0]
    assert len(run["results"]) == 6
    assert {r["ruleId"] for r in run["results"]} == {"ATS-SEC-002"}
    notes = [n["message"]["text"] for n in run["invocations"][0]["toolExecutionNotifications"]]
    assert any("1 of 7 results were left out" in n for n in notes)
