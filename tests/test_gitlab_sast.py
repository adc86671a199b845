"""`--format gitlab-sast`: validates against GitLab's SAST report schema 15.2.4 (a copy in
../shared/gitlab beside the checkout), stable ids, ATLAS identifiers, no suppressed findings."""

from __future__ import annotations

import json
import os
import re
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from atlascan import __version__
from atlascan.atlas import catalog
from atlascan.cli import main
from atlascan.report import render
from atlascan.report.gitlab_sast import build_report
from conftest import ROOT
from scanning import scan_path, scan_text

SCHEMA_PATH = Path(__file__).parents[2] / "shared" / "gitlab" / "sast-report-format.json"
EXAMPLE = ROOT / "examples" / "ml-platform"
SNAPSHOT = ROOT / "tests" / "snapshots" / "secrets.gitlab-sast.snap"


@pytest.fixture(scope="module")
def validator() -> Any:
    if not SCHEMA_PATH.is_file():
        pytest.skip(f"GitLab's SAST report schema is not at {SCHEMA_PATH} (shared/ is beside the checkout in CI)")
    from jsonschema import Draft7Validator

    schema = json.loads(SCHEMA_PATH.read_text("utf-8"))
    assert schema["self"]["version"] == "15.2.4"
    return Draft7Validator(schema)


def _valid(validator: Any, report: dict[str, Any]) -> None:
    errors = sorted(validator.iter_errors(report), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:10])


@pytest.fixture(scope="module")
def example_report() -> tuple[Any, dict[str, Any]]:
    result = scan_path(EXAMPLE)
    return result, json.loads(render("gitlab-sast", result))


def test_example_validates(validator: Any, example_report: tuple[Any, dict[str, Any]]) -> None:
    result, report = example_report
    _valid(validator, report)
    assert report["version"] == "15.2.4"
    assert len(report["vulnerabilities"]) == len(result.active_findings) > 0
    scan = report["scan"]
    assert scan["status"] == "success" and scan["type"] == "sast"
    assert scan["analyzer"]["id"] == scan["scanner"]["id"] == "atlascan"
    for key in ("start_time", "end_time"):
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", scan[key])


def test_empty_scan_validates(validator: Any, tmp_path: Path) -> None:
    empty = json.loads(render("gitlab-sast", scan_path(tmp_path)))  # no files at all
    _valid(validator, empty)
    assert empty["vulnerabilities"] == [] and "messages" not in empty["scan"]
    clean = json.loads(render("gitlab-sast", scan_text(tmp_path, "clean.py", "print('hello')\n")))
    _valid(validator, clean)
    assert clean["vulnerabilities"] == []


def test_vulnerability_fields(example_report: tuple[Any, dict[str, Any]]) -> None:
    result, report = example_report
    by_id = {v["id"]: v for v in report["vulnerabilities"]}
    assert len(by_id) == len(report["vulnerabilities"])  # ids are unique
    cat = catalog()
    for f in result.active_findings:
        vuln = by_id[str(uuid.UUID(hex=f.fingerprint))]
        rule = result.rules[f.rule_id]
        assert vuln["location"]["file"] == f.path
        assert vuln["location"]["start_line"] == f.region.start_line
        assert vuln["severity"] == f.severity.label.capitalize()
        assert vuln["name"] == rule.title
        assert f.message in vuln["description"]
        assert rule.section("What it does").split("\n")[0] in vuln["description"]
        ids = vuln["identifiers"]
        assert ids[0]["value"] == rule.id
        if rule.cwe:
            assert {"type": "cwe", "value": str(rule.cwe)}.items() <= next(i for i in ids if i["type"] == "cwe").items()
        atlas = [i for i in ids if i["type"] == "mitre_atlas"]
        assert [i["value"] for i in atlas] == list(rule.atlas_techniques)
        for ident in atlas:
            assert ident["url"] == f"https://atlas.mitre.org/techniques/{ident['value']}"
            assert ident["name"] == cat.technique_label(ident["value"])


def test_ids_are_stable_across_runs(example_report: tuple[Any, dict[str, Any]]) -> None:
    _, first = example_report
    again = build_report(scan_path(EXAMPLE), now=datetime(2026, 1, 1, tzinfo=timezone.utc))
    assert [v["id"] for v in first["vulnerabilities"]] == [v["id"] for v in again["vulnerabilities"]]
    assert again["scan"]["end_time"] == "2026-01-01T00:00:00"


def test_suppressed_left_out_and_secrets_masked(validator: Any, tmp_path: Path) -> None:
    token = "hf_Kq3vT8mZ2xR7nW4pL9sY6bD1cF5hJ0gA3eU8"
    text = (
        "import torch\n"
        "# atlascan: ignore[ATS-PY-004] trusted checkpoint from our own training job\n"
        "a = torch.load('a.pt')\n"
        "b = torch.load('b.pt')\n"
        f'HF_TOKEN = "{token}"\n'
    )
    result = scan_text(tmp_path, "train.py", text)
    assert any(f.suppression for f in result.findings)
    out = render("gitlab-sast", result)
    report = json.loads(out)
    _valid(validator, report)
    lines = sorted((v["identifiers"][0]["value"], v["location"]["start_line"]) for v in report["vulnerabilities"])
    assert ("ATS-PY-004", 3) not in lines
    assert ("ATS-PY-004", 4) in lines
    assert any(rid.startswith("ATS-SEC") for rid, _ in lines)
    assert token not in out


def test_cli_writes_gitlab_sast(validator: Any, tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text("import torch\nm = torch.load('m.pt')\n", "utf-8")
    out = tmp_path / "gl-sast-report.json"
    code = main(["scan", "--include-unproven", str(tmp_path), "--root", str(tmp_path), "--format", "gitlab-sast", "--output", str(out), "-q"])
    assert code == 1
    report = json.loads(out.read_text("utf-8"))
    _valid(validator, report)
    assert report["vulnerabilities"][0]["location"]["file"] == "train.py"


def test_snapshot() -> None:
    """Whole output on the renderers' snapshot fixture (test_renderers.py); refresh with
    ATLASCAN_UPDATE_SNAPSHOTS=1 after an intended change and review the diff."""
    report = build_report(scan_path(ROOT / "tests" / "data" / "snapshot", select=["ATS-SEC"]),
                          now=datetime(2026, 1, 1, tzinfo=timezone.utc))
    report["scan"]["start_time"] = report["scan"]["end_time"]  # the scan's duration varies
    text = json.dumps(report, indent=2, ensure_ascii=False).replace(__version__, "<version>") + "\n"
    if os.environ.get("ATLASCAN_UPDATE_SNAPSHOTS") or not SNAPSHOT.exists():
        SNAPSHOT.write_text(text, "utf-8")
    assert text == SNAPSHOT.read_text("utf-8")
