"""The Checkov → ATLAS mapping table: valid ATLAS ids, the ML families the issue names, and
the Rule objects synthesized for reports."""

from __future__ import annotations

from pathlib import Path

import pytest

from atlascan.atlas import catalog
from atlascan.integrations.checkov_mapping import (
    default_mapping,
    load_mapping,
    parse_version,
    synthesize_rule,
)
from atlascan.model import Severity
from atlascan.report.sarif import _rule_descriptor, to_json
from atlascan.rules import GUIDANCE_HEADINGS, RuleError

# Ids the issue requires the table to cover (SageMaker, Vertex AI, Azure ML/Cognitive).
REQUIRED = [
    "CKV_AWS_122", "CKV_AWS_306", "CKV_AWS_307", "CKV_AWS_371", "CKV_AWS_22", "CKV_AWS_187",
    "CKV_AWS_98", "CKV_AWS_370", "CKV_AWS_367", "CKV_AWS_368", "CKV_AWS_369", "CKV_AWS_372",
    "CKV2_AWS_68", "CKV_AWS_373", "CKV_AWS_383", "CKV_AWS_267", "CKV_AWS_268", "CKV_AWS_262",
    "CKV_GCP_89", "CKV_GCP_126", "CKV_GCP_127", "CKV_GCP_92", "CKV_GCP_96", "CKV2_GCP_21",
    "CKV2_GCP_24", "CKV2_GCP_25", "CKV2_GCP_26", "CKV2_GCP_27", "CKV2_GCP_28", "CKV2_GCP_33",
    "CKV2_GCP_34", "CKV2_GCP_35", "CKV2_GCP_36",
    "CKV_AZURE_144", "CKV_AZURE_243", "CKV_AZURE_142", "CKV_AZURE_150", "CKV_AZURE_134",
    "CKV_AZURE_236", "CKV_AZURE_238", "CKV_AZURE_247", "CKV2_AZURE_49", "CKV2_AZURE_50",
    "CKV2_AZURE_22",
    # storage, registries, IAM, Kubernetes, Dockerfile, GitHub Actions, secrets
    "CKV_AWS_20", "CKV_AWS_57", "CKV2_AWS_6", "CKV_GCP_28", "CKV_AZURE_34", "CKV_AWS_21",
    "CKV_AWS_143", "CKV_GCP_78", "CKV_AWS_51", "CKV_AWS_163", "CKV_GCP_101", "CKV_AWS_62",
    "CKV_AWS_286", "CKV_AWS_288", "CKV_K8S_16", "CKV_K8S_14", "CKV_DOCKER_7", "CKV2_DOCKER_4",
    "CKV_GHA_2", "CKV2_GHA_1", "CKV_SECRET_2", "CKV_SECRET_6", "CKV_AWS_41",
]  # fmt: skip


@pytest.mark.parametrize("check_id", REQUIRED)
def test_required_ids_are_mapped_to_atlas(check_id: str) -> None:
    family = default_mapping().family_of(check_id)
    assert family is not None, f"{check_id} is not in checks/_checkov/mapping.toml"
    assert family.techniques


def test_every_family_uses_real_atlas_ids_and_linked_mitigations() -> None:
    cat = catalog()
    for fam in default_mapping().families.values():
        assert fam.why and fam.fix
        if fam.outside_atlas:
            assert not fam.techniques and not fam.mitigations, fam.key
            assert fam.severity in (Severity.INFO, Severity.LOW), fam.key
            continue
        assert fam.techniques, f"{fam.key}: add ATLAS techniques or an `outside-atlas` reason"
        for tid in fam.techniques:
            assert tid in cat.techniques, (fam.key, tid)
        for mid in fam.mitigations:
            assert mid in cat.mitigations, (fam.key, mid)
            linked = set(cat.mitigations[mid].techniques)
            assert linked & set(fam.techniques), (
                f"{fam.key}: ATLAS links {mid} to none of {fam.techniques}"
            )
        assert fam.mitigations or fam.suggested, f"{fam.key}: add mitigations or suggested advice"
        assert fam.why and fam.fix


def test_prefix_patterns_and_exact_ids() -> None:
    table = default_mapping()
    assert table.family_of("CKV_SECRET_17") is table.families["hardcoded-credentials"]
    assert table.family_of("CKV_AWS_57") is table.families["public-storage-write"]
    replication = table.family_of("CKV_AWS_144")
    assert replication is not None and replication.outside_atlas  # availability, not ATLAS
    assert table.family_of("CKV_AWS_99999") is None  # an id Checkov adds later


def test_synthesized_rule_for_a_mapped_check() -> None:
    rule = synthesize_rule(
        "CKV_AWS_122",
        "Ensure that direct internet access is disabled",
        "terraform",
        default_mapping(),
    )
    assert rule.id == "checkov/CKV_AWS_122"
    assert rule.name == "checkov-ckv-aws-122"
    assert rule.severity is Severity.HIGH
    assert rule.atlas_techniques == ("AML.T0049", "AML.T0025")
    assert rule.kinds == ("terraform",)
    assert rule.peers == {"checkov": ("CKV_AWS_122",)}
    for heading in GUIDANCE_HEADINGS:
        assert rule.section(heading), heading
    assert "```hcl" in rule.section("Use instead")
    assert rule.format_message(
        {"check_id": "CKV_AWS_122", "resource": "a.b", "check_name": "Ensure x"}
    ) == ("Checkov CKV_AWS_122 failed on `a.b`: Ensure x.")


def test_unmapped_check_keeps_its_result_with_default_severity() -> None:
    table = default_mapping()
    rule = synthesize_rule("CKV_AWS_99999", "Ensure a check newer than the table", "terraform", table)
    assert rule.severity is table.unmapped.severity is Severity.LOW
    assert rule.atlas_techniques == ()
    assert "not mapped" in rule.section("What it does")


def test_versions_compare_numerically() -> None:
    assert parse_version("3.3.30") > parse_version("3.3.9")
    assert parse_version("2.5.0rc1") < default_mapping().min_version <= parse_version("3.3.30")


def test_outside_atlas_check_keeps_a_rule_tagged_outside_atlas_at_level_note() -> None:
    table = default_mapping()
    rule = synthesize_rule(
        "CKV_AWS_157", "Ensure that RDS instances have Multi-AZ enabled", "terraform", table
    )
    family = table.family_of("CKV_AWS_157")
    assert family is not None and family.outside_atlas
    assert rule.atlas_techniques == () and rule.atlas_mitigations == ()
    assert rule.severity in (Severity.INFO, Severity.LOW)
    assert rule.match["outside-atlas"] == family.outside_atlas
    assert "outside MITRE ATLAS" in rule.section("What it does")
    descriptor = to_json(_rule_descriptor(rule))
    assert "outside-atlas" in descriptor["properties"]["tags"]
    assert descriptor["defaultConfiguration"]["level"] == "note"
    mapped = to_json(_rule_descriptor(synthesize_rule("CKV_AWS_122", "x", "terraform", table)))
    assert "outside-atlas" not in mapped["properties"]["tags"]


def test_outside_atlas_families_are_rejected_with_atlas_ids_or_high_severity(tmp_path: Path) -> None:
    base = 'severity = "{sev}"\nprecision = "high"\nwhy = "w"\nfix = "f"\nids = ["CKV_X_1"]\n'
    cases = {
        "with ATLAS ids": base.format(sev="low") + 'outside-atlas = "r"\ntechniques = ["AML.T0035"]\n',
        "above low": base.format(sev="medium") + 'outside-atlas = "r"\n',
        "neither": base.format(sev="low"),
    }
    for name, body in cases.items():
        path = tmp_path / f"{name}.toml"
        path.write_text('[unmapped]\nseverity = "low"\nprecision = "medium"\nwhy = "w"\nfix = "f"\n'
                        f'[[family]]\nkey = "k"\n{body}', "utf-8")  # fmt: skip
        with pytest.raises(RuleError):
            load_mapping(path)
