"""The rule library is complete: metadata, ATLAS ids, guidance, and fixtures for each rule."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from annotations import read_annotations
from atlascan.atlas import catalog
from atlascan.engines import ENGINES
from atlascan.rules import RuleError, default_rules, load_rules, rule_from_mapping, validate_rule
from conftest import FIXTURES, ROOT

RULES = default_rules()
ATLAS_YAML = ROOT.parent / "shared" / "atlas" / "ATLAS.yaml"


def test_rules_load_and_are_unique() -> None:
    assert RULES, "no rules found under checks/"
    names = [r.name for r in RULES.values()]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("rule_id", sorted(RULES))
def test_rule_metadata_is_complete(rule_id: str) -> None:
    assert validate_rule(RULES[rule_id], ENGINES) == []


def _coverage() -> dict[str, list[int]]:
    """(expects, oks) per rule from fixture annotations and binary-fixture case tables."""
    counts: dict[str, list[int]] = {}
    if FIXTURES.is_dir():
        for path in FIXTURES.rglob("*"):
            if path.is_file():
                notes = read_annotations(path)
                for rid, _ in notes.expect:
                    counts.setdefault(rid, [0, 0])[0] += 1
                for rid, _ in notes.ok:
                    counts.setdefault(rid, [0, 0])[1] += 1
    try:
        cases = importlib.import_module("artifact_cases")
    except ModuleNotFoundError:
        cases = None
    for rid, (bad, good) in getattr(cases, "COVERAGE", {}).items():
        entry = counts.setdefault(rid, [0, 0])
        entry[0] += bad
        entry[1] += good
    return counts


@pytest.mark.parametrize("rule_id", sorted(RULES))
def test_rule_has_vulnerable_and_safe_fixtures(rule_id: str) -> None:
    expects, oks = _coverage().get(rule_id, [0, 0])
    assert expects >= 1, f"{rule_id}: add a vulnerable fixture (`expect: {rule_id}`) under fixtures/{rule_id}/"
    assert oks >= 1, f"{rule_id}: add a safe look-alike (`ok: {rule_id}`) under fixtures/{rule_id}/"


def test_fixture_folders_name_existing_rules() -> None:
    for folder in FIXTURES.iterdir():
        if folder.is_dir() and folder.name.startswith("ATS-"):
            assert folder.name in RULES, f"fixtures/{folder.name} names no rule"


def test_atlas_ids_in_catalog() -> None:
    cat = catalog()
    for rule in RULES.values():
        for tid in rule.atlas_techniques:
            assert tid in cat.techniques, (rule.id, tid)
        for mid in rule.atlas_mitigations:
            assert mid in cat.mitigations, (rule.id, mid)


def test_catalog_shape() -> None:
    cat = catalog()
    assert cat.version == "5.6.0"
    assert len(cat.tactics) == 16
    assert cat.technique_label("AML.T0010.003") == "AI Supply Chain Compromise: Model"
    linked = {m.id for m in cat.mitigations_for("AML.T0011.000")}
    assert {"AML.M0011", "AML.M0014", "AML.M0016"} <= linked
    assert cat.mitigations_for("AML.T0055") == []  # why rules there carry suggested_mitigations


@pytest.mark.skipif(not ATLAS_YAML.is_file(), reason="ATLAS release not present beside the repository")
def test_catalog_agrees_with_atlas_release() -> None:
    from ruamel.yaml import YAML

    data = YAML(typ="safe").load(ATLAS_YAML.read_text("utf-8"))
    matrix = data["matrices"][0]
    cat = catalog()
    assert cat.version == str(data["version"])
    assert [t.id for t in cat.tactics] == [t["id"] for t in matrix["tactics"]]
    release = {t["id"]: t for t in matrix["techniques"]}
    assert set(cat.techniques) == set(release)
    for tid, tech in cat.techniques.items():
        assert tech.name == release[tid]["name"], tid
        parent = release[tid].get("subtechnique-of")
        assert tech.parent == parent
        assert list(tech.tactics) == list(release[tid].get("tactics") or release[parent]["tactics"])
    assert {m.id: m.name for m in cat.mitigations.values()} == {m["id"]: m["name"] for m in matrix["mitigations"]}


def test_invalid_rule_files_explain_what_to_fix(tmp_path: Path) -> None:
    with pytest.raises(RuleError, match="add `severity`"):
        rule_from_mapping({"id": "ATS-X-001", "name": "x-y"}, "x.toml")
    with pytest.raises(RuleError, match="must look like"):
        rule_from_mapping({"id": "BAD"}, "x.toml")
    (tmp_path / "fam").mkdir()
    (tmp_path / "fam" / "ATS-X-002.toml").write_text('id = "ATS-X-001"\n', "utf-8")
    with pytest.raises(RuleError):
        load_rules(tmp_path)


def test_guidance_lacking_sections_is_reported() -> None:
    rule = rule_from_mapping(
        {
            "id": "ATS-X-001", "name": "some-hazard", "title": "t", "severity": "low", "precision": "low",
            "engine": "secrets", "kinds": ["python"], "message": "m", "guidance": "## What it does\nx",
            "atlas": {"techniques": ["AML.T9999"]},
        },
        "x.toml",
    )
    problems = validate_rule(rule, ENGINES)
    assert "unknown ATLAS technique AML.T9999" in problems
    assert "guidance lacks a '## Why it matters' section" in problems


def test_secret_patterns_have_literal_anchors() -> None:
    """Without anchors a pattern is regex-searched in every text file: keep scans fast."""
    for rule in RULES.values():
        if rule.engine != "secrets":
            continue
        for row in rule.match.get("patterns", []):
            anchors = row.get("anchors")
            assert anchors and all(a == a.lower() for a in anchors), f"{rule.id}: add lowercase `anchors`"


def test_every_rule_has_an_implementation_and_every_implementation_a_rule() -> None:
    from atlascan.registry import problems

    assert problems(load_rules()) == []


def test_the_registry_names_a_rule_without_implementation_and_an_unknown_id(monkeypatch: pytest.MonkeyPatch) -> None:
    import dataclasses

    from atlascan.engines import load_engine
    from atlascan.registry import problems

    rules = load_rules()
    orphan = dataclasses.replace(rules["ATS-K8S-001"], id="ATS-K8S-999", name="orphan-rule", source="checks/k8s/ATS-K8S-999.toml")
    engine = load_engine("manifests")
    monkeypatch.setattr(type(engine), "implements", engine.implements | {"ATS-K8S-998"})
    found = problems({**rules, orphan.id: orphan})
    assert any("ATS-K8S-999" in p and "no implementation" in p for p in found)
    assert any("ATS-K8S-998" in p and "no rule file" in p for p in found)


def test_a_secret_pattern_that_does_not_compile_is_a_registry_problem() -> None:
    """Scans compile a pattern only when its anchors occur; the registry compiles them all."""
    import dataclasses

    from atlascan.registry import problems

    rules = load_rules()
    rule = rules["ATS-SEC-001"]
    rows = [{**rule.match["patterns"][0], "regex": "(unclosed"}]
    broken = dataclasses.replace(rule, match={**rule.match, "patterns": rows})
    assert any("ATS-SEC-001" in p and "`regex` does not compile" in p for p in problems({**rules, broken.id: broken}))
