"""`atlascan export-checkov`: Terraform condition rows as declarative Checkov YAML policies."""

from __future__ import annotations

from pathlib import Path

import pytest
from ruamel.yaml import YAML

from atlascan.cli import main
from atlascan.integrations.checkov_export import definition_for, export_policies
from atlascan.rules import checks_dir, load_rules

TYPES = ["aws_sagemaker_notebook_instance"]


def attr(name: str, operator: str, value: object = None) -> dict[str, object]:
    cond: dict[str, object] = {
        "cond_type": "attribute",
        "resource_types": TYPES,
        "attribute": name,
        "operator": operator,
    }
    if value is not None:
        cond["value"] = value
    return cond


def test_safe_value_with_a_failing_default_must_be_set() -> None:
    row = {
        "resources": TYPES,
        "attribute": "direct_internet_access",
        "safe": ["Disabled"],
        "default": "Enabled",
    }
    assert definition_for(row) == attr("direct_internet_access", "equals", "Disabled")


def test_safe_default_lets_the_attribute_be_absent() -> None:
    row = {"resources": TYPES, "attribute": "enabled", "safe": [True, "yes"], "default": True}
    assert definition_for(row) == {
        "or": [
            attr("enabled", "not_exists"),
            {"or": [attr("enabled", "equals", True), attr("enabled", "equals", "yes")]},
        ]
    }


def test_unsafe_values_and_required_attributes() -> None:
    row = {"resources": TYPES, "attribute": "authorization", "unsafe": ["NONE"]}
    assert definition_for(row) == {
        "or": [attr("authorization", "not_exists"), attr("authorization", "not_equals", "NONE")]
    }
    row = {"resources": TYPES, "attribute": "authorization", "unsafe": ["NONE"], "default": "NONE"}
    assert definition_for(row) == {
        "and": [attr("authorization", "exists"), attr("authorization", "not_equals", "NONE")]
    }
    assert definition_for(
        {"resources": TYPES, "block": "encryption_spec", "required": True}
    ) == attr("encryption_spec", "exists")


def test_unless_exceptions_pass_the_resource() -> None:
    row = {
        "resources": TYPES,
        "attribute": "kms_key_id",
        "required": True,
        "unless": [{"block": "vpc_config"}, {"attribute": "kind", "equals": "TextAnalytics"}],
    }
    assert definition_for(row) == {
        "or": [
            attr("vpc_config", "exists"),
            attr("kind", "equals", "TextAnalytics"),
            attr("kms_key_id", "exists"),
        ]
    }


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    out = tmp_path_factory.mktemp("policies")
    result = export_policies(load_rules(checks_dir() / "terraform"), out)
    return out, result.skipped


def test_export_writes_only_yaml_policies_with_unique_ids(exported: tuple[Path, list[str]]) -> None:
    out, _ = exported
    files = sorted(out.iterdir())
    assert files and all(f.suffix == ".yaml" for f in files)  # no Python: loading runs nothing
    yaml = YAML(typ="safe", pure=True)
    ids = []
    for f in files:
        policy = yaml.load(f.read_text("utf-8"))
        meta = policy["metadata"]
        ids.append(meta["id"])
        assert meta["id"].startswith("CKV2_ATLASCAN_TF_")
        assert meta["severity"] in {"CRITICAL", "HIGH", "MEDIUM", "LOW", "INFO"}
        assert meta["guideline"].endswith(f"/{f.stem[:10]}.md")
        assert meta["category"] and meta["name"] and policy["definition"]
    assert len(ids) == len(set(ids))


def test_notebook_internet_rule_is_exported_as_its_pass_condition(
    exported: tuple[Path, list[str]],
) -> None:
    out, _ = exported
    policy = YAML(typ="safe", pure=True).load((out / "ATS-TF-001.yaml").read_text("utf-8"))
    assert policy["metadata"]["id"] == "CKV2_ATLASCAN_TF_001"
    assert policy["metadata"]["severity"] == "HIGH"
    assert policy["definition"] == attr("direct_internet_access", "equals", "Disabled")


def test_rows_checkov_cannot_say_are_listed_not_guessed(exported: tuple[Path, list[str]]) -> None:
    _, skipped = exported
    assert all(
        "have no Checkov attribute-policy equivalent" in s or "states no" in s for s in skipped
    )


def test_export_command_refuses_a_file(tmp_path: Path) -> None:
    target = tmp_path / "file.yaml"
    target.write_text("x", encoding="utf-8")
    assert main(["export-checkov", str(target)]) == 2


def test_unless_tests_about_other_resources_are_left_out() -> None:
    row = {
        "resources": TYPES,
        "attribute": "public_access_prevention",
        "safe": ["enforced"],
        "unless": [{"read": ["primary_access_key"]}, {"granted": ["allUsers"]}, {"firewalled": True}],
    }
    assert definition_for(row) == {
        "or": [attr("public_access_prevention", "not_exists"), attr("public_access_prevention", "equals", "enforced")]
    }
