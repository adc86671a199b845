"""Checkov results folded into a scan: exact locations, dedupe against native findings, the
scan's filters, suppressions, and one valid SARIF run holding both."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from atlascan.external import ExternalFindings
from atlascan.integrations import checkov
from atlascan.integrations.checkov import CheckovEngine, locate, to_external
from atlascan.integrations.checkov_mapping import POLICY_INDEX
from atlascan.integrations.checkov_output import CheckovRecord, parse_output
from atlascan.integrations.checkov_runner import CheckovError
from atlascan.model import Finding, Notice, Precision, ScanResult, Severity, Span
from atlascan.rules import Rule
from atlascan.scan import ScanOptions, merge_external, run_scan
from sarif_checks import validate_sarif
from test_checkov_output import PROJECT, sample

NATIVE = Rule(
    id="ATS-TST-001",
    name="notebook-direct-internet",
    title="SageMaker notebook with direct internet access",
    severity=Severity.HIGH,
    precision=Precision.HIGH,
    engine="terraform",
    kinds=("terraform",),
    message="Notebook `{name}` has direct internet access",
    guidance="## What it does\nx\n## Why it matters\ny\n## Example\n```hcl\na\n```\n## Use instead\n```hcl\nb\n```\n## References\n- z\n",
    atlas_techniques=("AML.T0049",),
    suggested_mitigations=("Disable it.",),
    peers={"checkov": ("CKV_AWS_122", "CKV_AWS_306")},
)


def native_finding(line: int = 5, path: str = "main.tf") -> Finding:
    return Finding(NATIVE.id, path, Span(line, 3, line, 25), "Notebook `research` has direct internet access.",
                   Severity.HIGH, Precision.HIGH, snippet='direct_internet_access = "Enabled"')  # fmt: skip


def external(report: str = "report-multi.json", root: Path = PROJECT) -> ExternalFindings:
    return to_external(parse_output(report if report.lstrip().startswith(("{", "[")) else sample(report), root), root)


def merged(
    native: list[Finding] | None = None, ext: ExternalFindings | None = None, root: Path = PROJECT, **opts: Any
) -> tuple[list[Finding], dict[str, Rule]]:
    """The flow's merge step over the recorded report, with these scan options."""
    options = ScanOptions(paths=[root], root=root, **opts)
    findings, rules, _ = merge_external(ext or external(), native or [], {NATIVE.id: NATIVE}, options, frozenset())
    return findings, rules


def located(findings: list[Finding]) -> list[tuple[str, str, int, int | None]]:
    return sorted((f.rule_id, f.path, f.region.start_line, f.region.start_column) for f in findings)


def test_failed_checks_become_findings_at_the_line_to_change() -> None:
    findings, rules = merged()
    assert located(findings) == [
        ("checkov/CKV_AWS_122", "main.tf", 5, 3),  # the attribute Checkov evaluated
        ("checkov/CKV_AWS_144", "main.tf", 8, None),  # missing setting: the resource header
        ("checkov/CKV_AWS_20", "main.tf", 10, 3),
        ("checkov/CKV_AWS_20", "main.tf", 16, 3),
        ("checkov/CKV_AWS_21", "main.tf", 8, None),
        ("checkov/CKV_AWS_22", "main.tf", 1, None),
        ("checkov/CKV_DOCKER_2", "Dockerfile", 1, None),
        ("checkov/CKV_DOCKER_7", "Dockerfile", 1, None),
    ]  # vendor/ is dropped like atlascan's own discovery drops it
    first = next(f for f in findings if f.rule_id == "checkov/CKV_AWS_20")
    assert first.region == Span(10, 3, 10, 6)
    assert first.message == (
        "Checkov CKV_AWS_20 failed on `aws_s3_bucket.training_data`: "
        "S3 Bucket has an ACL defined which allows public READ access."
    )
    assert first.snippet.strip() == 'acl    = "public-read"'
    assert first.severity is Severity.HIGH
    assert first.properties["checkov"]["lineRange"] == [8, 11]
    assert rules["checkov/CKV_AWS_20"].atlas_techniques == ("AML.T0036", "AML.T0035")
    messages = {f.rule_id: f.message for f in findings if f.path == "Dockerfile"}
    assert messages == {
        "checkov/CKV_DOCKER_7": "Checkov CKV_DOCKER_7 failed on `Dockerfile FROM`: Ensure the base image uses a non latest version tag.",
        "checkov/CKV_DOCKER_2": "Checkov CKV_DOCKER_2 failed on `Dockerfile`: Ensure that HEALTHCHECK instructions have been added to container images.",
    }
    assert rules["checkov/CKV_AWS_144"].atlas_techniques == ()


def test_inline_ignore_naming_the_checkov_rule_suppresses_it() -> None:
    findings, _ = merged()
    by_line = {f.region.start_line: f for f in findings if f.rule_id == "checkov/CKV_AWS_20"}
    assert by_line[10].suppression is None
    assert by_line[16].suppression is not None
    assert by_line[16].suppression.justification == "published reports are public by design"
    findings, _ = merged(inline_ignores=False)
    assert all(f.suppression is None for f in findings)


def test_native_finding_wins_and_records_the_checkov_id() -> None:
    native = native_finding()
    findings, rules = merged([native])
    assert "checkov/CKV_AWS_122" not in {f.rule_id for f in findings}
    assert "checkov/CKV_AWS_122" not in rules
    assert native.properties["checkovIds"] == ["CKV_AWS_122"]
    assert "checkov/CKV_AWS_22" in {f.rule_id for f in findings}  # not a peer of the native rule


@pytest.mark.parametrize(
    "native",
    [native_finding(line=9), native_finding(path="other.tf")],
    ids=["other-resource", "other-file"],
)
def test_no_dedupe_outside_the_flagged_resource(native: Finding) -> None:
    options = ScanOptions(paths=[PROJECT], root=PROJECT)
    kept, _, run = merge_external(external(), [native], {NATIVE.id: NATIVE}, options, frozenset())
    assert run.deduplicated == 0
    assert "CKV_AWS_122" in {f.properties["peerId"] for f in kept}
    assert "checkovIds" not in native.properties


def test_scan_filters_apply_to_checkov_findings() -> None:
    assert {f.rule_id for f in merged(select=["checkov/CKV_DOCKER"])[0]} == {
        "checkov/CKV_DOCKER_2",
        "checkov/CKV_DOCKER_7",
    }
    assert "checkov/CKV_AWS_20" not in {f.rule_id for f in merged(ignore=["checkov/CKV_AWS_20"])[0]}
    high = merged(severity_threshold=Severity.HIGH)[0]
    assert {f.rule_id for f in high} == {"checkov/CKV_AWS_122", "checkov/CKV_AWS_20"}
    assert "Dockerfile" not in {f.path for f in merged(exclude=["Docker*"])[0]}
    assert "Dockerfile" not in {
        f.path for f in merged(per_path_ignores={"Dockerfile": ["checkov/"]})[0]
    }
    assert "vendor/mod/main.tf" in {f.path for f in merged(include_vendored=True)[0]}


def test_fingerprints_are_stable_and_baseline_hides_known_findings() -> None:
    first, _ = merged()
    again, _ = merged()
    assert [f.fingerprint for f in first] == [f.fingerprint for f in again]
    assert len({f.fingerprint for f in first}) == len(first)
    known = {f.fingerprint for f in first if f.rule_id == "checkov/CKV_AWS_21"}
    later, _ = merged(baseline=known)
    hidden = [f for f in later if f.suppression is not None and f.suppression.kind == "external"]
    assert [f.rule_id for f in hidden] == ["checkov/CKV_AWS_21"]


def scan_with_checkov(monkeypatch: pytest.MonkeyPatch, report: str | None) -> ScanResult:
    """The whole flow over the recorded project, Checkov stood in for by a recorded report
    (None: Checkov fails); the native rule that names CKV_AWS_122 is ATS-TF-001."""
    if report is not None:
        monkeypatch.setattr(checkov, "run_checkov", lambda *a, **k: (sample(report), 1.5))
    options = ScanOptions(paths=[PROJECT], root=PROJECT, select=["ATS-TF-001", "checkov/"], jobs=1)
    return run_scan(options, external=[CheckovEngine()])


def checkov_notices(result: ScanResult | ExternalFindings) -> list[Notice]:
    return [n for n in result.notices if "Checkov" in n.message]


def test_merge_into_one_valid_sarif_run(monkeypatch: pytest.MonkeyPatch) -> None:
    result = scan_with_checkov(monkeypatch, "report-multi.json")
    [run] = result.external
    assert (run.reported, run.added, run.deduplicated, run.filtered) == (9, 7, 1, 1)
    assert run.duration_s == pytest.approx(1.5) and run.ran and run.version == "3.3.30"
    from atlascan.report import sarif

    log = sarif.build_log(result)
    validate_sarif(log)  # the 2.1.0 schema plus GitHub's rules: one run, unique ids, ruleIndex
    run_log = log["runs"][0]
    descriptors = run_log["tool"]["driver"]["rules"]
    ids = [d["id"] for d in descriptors]
    assert len(ids) == len(set(ids))
    for res in run_log["results"]:
        assert descriptors[res["ruleIndex"]]["id"] == res["ruleId"]
        assert res["partialFingerprints"]
    ckv = descriptors[ids.index("checkov/CKV_AWS_20")]
    assert ckv["help"]["text"] and ckv["properties"]["security-severity"] == "8.0"
    assert ckv["helpUri"] == POLICY_INDEX  # no atlascan docs page exists for Checkov's ids
    assert [t["id"] for t in ckv["properties"]["atlas"]["techniques"]] == ["AML.T0036", "AML.T0035"]
    native_result = next(r for r in run_log["results"] if r["ruleId"] == "ATS-TF-001")
    assert native_result["properties"]["checkovIds"] == ["CKV_AWS_122"]


def test_checkov_failure_leaves_native_results_and_adds_a_notice(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(*_: Any, **__: Any) -> tuple[str, float]:
        raise CheckovError("Checkov did not finish within 5 s and was stopped")

    monkeypatch.setattr(checkov, "run_checkov", broken)
    result = scan_with_checkov(monkeypatch, None)
    assert [f.rule_id for f in result.findings] == ["ATS-TF-001"]
    assert not result.external[0].ran
    assert [(n.level, n.message) for n in checkov_notices(result)] == [
        ("warning", "Checkov did not finish within 5 s and was stopped")
    ]


def test_too_old_checkov_is_a_notice(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        checkov, "run_checkov", lambda *a, **k: (sample("report-old-version.json"), 1.0)
    )
    ext = CheckovEngine().run(PROJECT, [PROJECT], frozenset(), ())
    assert ext.findings == []
    assert "Checkov 2.0.1 is older than 3.0.0" in ext.notices[0].message


def test_parsing_errors_are_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    result = scan_with_checkov(monkeypatch, "report-terraform.json")
    assert [n.message for n in checkov_notices(result)] == [
        "Checkov could not parse 1 file(s); its checks skipped them."
    ]
    assert {f.rule_id for f in result.findings if f.rule_id.startswith("checkov/")} == {"checkov/CKV_AWS_22"}
    native = next(f for f in result.findings if f.rule_id == "ATS-TF-001")
    assert native.properties["checkovIds"] == ["CKV_AWS_122"]  # the native finding stands for it


def test_secret_snippets_are_masked(tmp_path: Path) -> None:
    (tmp_path / "provider.tf").write_text(
        'provider "aws" {\n  access_key = "AKIAIOSFODNN7EXAMPLE"\n  secret_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"\n}\n',
        encoding="utf-8",
    )
    report = {"check_type": "secrets", "results": {"failed_checks": [
        {"check_id": "CKV_SECRET_2", "check_name": "AWS Access Key", "file_abs_path": str(tmp_path / "provider.tf"),
         "file_line_range": [2, 3], "resource": "25910f981e85ca04baf359199dd0bd4a3ae738b6"}
    ]}}  # fmt: skip
    findings, _ = merged(ext=external(json.dumps(report), tmp_path), root=tmp_path)
    assert [(f.rule_id, f.region.start_line) for f in findings] == [("checkov/CKV_SECRET_2", 2)]
    assert findings[0].message == "Checkov CKV_SECRET_2 failed on `provider.tf`: AWS Access Key."
    assert "AKIAIOSFODNN7EXAMPLE" not in findings[0].snippet
    assert findings[0].snippet.strip() == 'access_key = "AKIA************LE"'


def test_an_internal_error_is_a_notice_not_a_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_: Any, **__: Any) -> None:
        raise KeyError("surprise")

    monkeypatch.setattr(checkov, "to_external", broken)
    result = scan_with_checkov(monkeypatch, "report-multi.json")
    assert [f.rule_id for f in result.findings] == ["ATS-TF-001"]
    assert [n.level for n in checkov_notices(result)] == ["error"]
    assert "Internal error in the Checkov integration (KeyError" in checkov_notices(result)[0].message


def test_the_engine_returns_every_check_unfiltered_with_its_block_as_scope(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(checkov, "run_checkov", lambda *a, **k: (sample("report-multi.json"), 1.5))
    ext = CheckovEngine().run(PROJECT, [PROJECT], frozenset({"main.tf"}), ["Docker*"])
    assert (ext.peer, ext.ran, ext.version, ext.duration_s) == ("checkov", True, "3.3.30", 1.5)
    assert len(ext.findings) == 9 and "vendor/mod/main.tf" in {f.path for f in ext.findings}
    public = next(f for f in ext.findings if f.properties["peerId"] == "CKV_AWS_20")
    assert (public.rule_id, public.region.start_line, public.scope) == ("checkov/CKV_AWS_20", 10, Span(8, None, 11))
    assert all(f.suppression is None and not f.fingerprint for f in ext.findings)
    assert set(ext.rules) == {f.rule_id for f in ext.findings}


DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: trainer
spec:
  template:
    spec:
      containers:
        - name: trainer
          image: registry.example.com/trainer:1.2
          securityContext:
            privileged: true
""".splitlines()

BUCKET = """resource "aws_s3_bucket" "b" {
  bucket = "models"
  lifecycle_rule {
    enabled = true
  }
  versioning {
    enabled = false
  }
}
""".splitlines()


@pytest.mark.parametrize(
    ("lines", "keys", "expected"),
    [
        (
            DEPLOYMENT,
            ("spec/template/spec/containers/[0]/securityContext/privileged",),
            Span(12, 13, 12, 23),
        ),
        (
            DEPLOYMENT,
            ("spec/template/spec/containers/[0]/securityContext/runAsNonRoot",),
            Span(1, None, 12, None),
        ),
        (
            BUCKET,
            ("versioning_configuration/status", "versioning/enabled", "resource_type"),
            Span(7, 5, 7, 12),
        ),
        (BUCKET, ("logging", "resource_type"), Span(1, None, 9, None)),
    ],
    ids=[
        "k8s-nested-key",
        "k8s-missing-key",
        "tf-nested-block-not-the-first-enabled",
        "tf-missing-block",
    ],
)
def test_locate_narrows_to_the_evaluated_attribute(
    lines: list[str], keys: tuple[str, ...], expected: Span
) -> None:
    record = CheckovRecord("CKV_X_1", "x", "kubernetes", "f", 1, len(lines), "r", keys)
    assert locate(record, lines) == expected


def test_integrations_import_no_scan_module() -> None:
    """The flow calls integrations, never the reverse."""
    import ast

    for path in Path(checkov.__file__).parent.glob("*.py"):
        imported = set()
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                imported |= {node.module, *(f"{node.module}.{a.name}" for a in node.names)}
            elif isinstance(node, ast.Import):
                imported |= {a.name for a in node.names}
        assert not imported & {"atlascan.scan", "atlascan.discover", "atlascan.analysis"}, path.name
