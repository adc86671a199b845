"""Published default credentials (ATS-SEC-012) against the leak rules and the masker."""

from __future__ import annotations

from pathlib import Path

from atlascan.masking import mask
from atlascan.rules import default_rules
from atlascan.secretpatterns import compile_rows, matches

AZURITE = (
    "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey="
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;"
)


def _rules(*ids: str) -> tuple:
    rules = default_rules()
    return compile_rows(tuple(rules[i] for i in ids))


def test_leak_rules_stay_silent_on_published_values_when_selected_alone() -> None:
    # ATS-SEC-012 is not enabled here: the leak rules must still know the published values.
    leak = _rules("ATS-SEC-001", "ATS-SEC-006", "ATS-SEC-010")
    assert list(matches(leak, f'CONN = "{AZURITE}"', "python")) == []
    assert list(matches(leak, "  password: NTI0MTU5MDAwMDAwMDAwMA==", "yaml")) == []
    assert list(matches(leak, "  AWS_SECRET_ACCESS_KEY: bWluaW8xMjM=", "yaml")) == []
    assert list(matches(leak, 'secret_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"', "terraform")) == []


def test_default_rule_reports_each_published_value() -> None:
    rows = _rules("ATS-SEC-012")
    found = [s for line in (f'"{AZURITE}"', "value: minioadmin", 'key = "AKIAIOSFODNN7EXAMPLE"')
             for _, s, _ in matches(rows, line, "yaml")]
    assert found == [AZURITE.split("AccountKey=")[1].rstrip(";"), "minioadmin", "AKIAIOSFODNN7EXAMPLE"]
    # a longer value that merely starts with a default is someone's own credential
    assert list(matches(rows, 'MINIO_SECRET_KEY = "minioadmin-rotated-7Qx2"', "python")) == []


def test_weak_real_password_is_a_leak_not_a_default() -> None:
    hits = list(matches(_rules("ATS-SEC-010", "ATS-SEC-012"), 'admin_password = "AdminPassword123!"', "python"))
    assert [(p.rule_id, s) for p, s, _ in hits] == [("ATS-SEC-010", "AdminPassword123!")]


def test_masker_still_masks_published_values() -> None:
    out = mask(f"conn={AZURITE} pw=minioadmin")
    assert "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50u" not in out
    assert "minioadmin" not in out


def test_self_describing_stand_ins_are_whole_words() -> None:
    from atlascan.secretpatterns import self_describing

    assert all(map(self_describing, ("awsSecret123", "SessionToken2", "SecretAccessKey2")))
    assert not any(map(self_describing, ("Monkey123", "compass2024", "s3admin123", "AdminPassword123!")))


def test_read_only_single_blob_sas_is_a_shared_link(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from scanning import scan_text

    sig = "sig=Qk9HVVMtU0lHTkFUVVJFLU5PVC1BLVJFQUwtT05FLXRlc3Q%3D"
    text = (
        f'A = "https://a.blob.core.windows.net/c/x.png?sv=2023-11-03&se=2030-01-01&sr=b&sp=r&{sig}"\n'
        f'B = "https://a.blob.core.windows.net/c?sv=2023-11-03&se=2030-01-01&sr=c&sp=rwl&{sig}"\n'
    )
    result = scan_text(tmp_path, "links.py", text)
    assert [(f.region.start_line, f.severity.label) for f in result.findings if f.rule_id.startswith("ATS-SEC")] == [
        (2, "high"),
    ]


def test_gcloud_client_secret_is_published_and_the_refresh_token_is_not(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from scanning import scan_text

    text = (
        '{\n    "client_id": "760518506408-6qr4p6gpi6hn506pt8ejuq83di341hur.apps.googleusercontent.com",\n'
        '    "client_secret": "d-FL95Q19q7MQmHD0TyFpd7h",\n'
        '    "refresh_token": "1/bqYmkxnDbxEstG12XcmOZrN0-eyI3beanJbRd4kqs6g",\n'
        '    "type": "authorized_user"\n}\n'
    )
    result = scan_text(tmp_path, "gcp_credentials.json", text)
    assert sorted((f.rule_id, f.region.start_line) for f in result.findings) == [
        ("ATS-SEC-010", 4),
        ("ATS-SEC-012", 3),
    ]


def test_an_assignment_beside_a_long_data_line_is_still_found(tmp_path: Path) -> None:
    # A notebook output line of base64 is read only around credential words (quadratic
    # otherwise); an assignment inside such a line is still reported.
    blob = "A" * 1_500  # the line is over LONG_LINE, under the minified-file limit
    (tmp_path / "conf.py").write_text(f'x = "{blob}"; db_password = "Zq8#rT2!vLp9wQ"; y = "{blob}"\n', "utf-8")
    from scanning import scan_path

    found = [f for f in scan_path(tmp_path).findings if f.rule_id == "ATS-SEC-010"]
    assert [f.region.start_line for f in found] == [1]
    assert "Zq8#rT2!vLp9wQ" not in found[0].snippet


def test_one_value_written_again_in_a_file_is_one_finding(tmp_path: Path) -> None:
    (tmp_path / "db.tf").write_text(
        'resource "a" "x" {\n  password = "Feat-St0re-Pw!2024"\n}\n'
        'resource "a" "y" {\n  password = "Feat-St0re-Pw!2024"\n}\n'
        'resource "a" "z" {\n  password = "Feat-St0re-Pw!2024"\n}\n'
    )
    from scanning import scan_path

    found = [f for f in scan_path(tmp_path).findings if f.rule_id == "ATS-SEC-010"]
    assert [(f.region.start_line, [r.region.start_line for r in f.related]) for f in found] == [(2, [5, 8])]
    assert "the same value again at lines 5, 8" in found[0].message
    assert "Feat-St0re-Pw!2024" not in found[0].message


def test_a_word_alone_on_its_line_sets_no_credential(tmp_path: Path) -> None:
    # TorchServe's spell checker's word list names MinIO (`minioadmin` on a line of its own),
    # judged FALSE; a setting of the same value is reported.
    from scanning import scan_path, write_tree

    files = {"spellcheck/wordlist.txt": "fsspec\nminioadmin\npythonic\n", "deploy/minio.env": "MINIO_ROOT_PASSWORD=minioadmin\n"}
    result = scan_path(write_tree(tmp_path, files), select=["ATS-SEC-012"])
    assert [(f.path, f.region.start_line) for f in result.findings] == [("deploy/minio.env", 1)]


def test_self_hosted_defaults_are_held_back_and_the_aws_example_keys_are_not(tmp_path: Path) -> None:
    """MinIO's and SQL Server's defaults in charts and samples were judged NOISE in every one
    of 16 repositories' files; terragoat's AWS example keys in a provider were ACT."""
    from scanning import scan_path, write_tree

    files = {
        "helm/values.yaml": "minio:\n  rootUser: minioadmin\n  rootPassword: minioadmin\n",
        "infra/providers.tf": 'provider "aws" {\n  access_key = "AKIAIOSFODNN7EXAMPLE"\n}\n',
    }
    result = scan_path(write_tree(tmp_path, files), select=["ATS-SEC-012"], report_classes=frozenset())
    assert [(f.path, f.region.start_line) for f in result.findings] == [("infra/providers.tf", 2)]
    assert [n.held for n in result.notices if n.held_as == "unproven"] == [1]
    shown = scan_path(tmp_path, select=["ATS-SEC-012"], report_classes=frozenset({"unproven"}))
    assert sorted(f.path for f in shown.findings) == ["helm/values.yaml", "infra/providers.tf"]
