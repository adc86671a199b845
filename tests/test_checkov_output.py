"""Parsing Checkov's JSON report: shapes, paths relative to the scan root, clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from atlascan.integrations.checkov_output import parse_output
from atlascan.integrations.checkov_runner import CheckovError

DATA = Path(__file__).parent / "data" / "checkov"
PROJECT = DATA / "project"


def sample(name: str, root: Path = PROJECT) -> str:
    return (DATA / name).read_text("utf-8").replace("{ROOT}", root.as_posix())


def test_list_of_framework_reports() -> None:
    out = parse_output(sample("report-multi.json"), PROJECT)
    assert out.version == "3.3.30"
    assert [(r.check_id, r.path, r.start_line, r.end_line) for r in out.records[:3]] == [
        ("CKV_AWS_122", "main.tf", 1, 6),
        ("CKV_AWS_22", "main.tf", 1, 6),
        ("CKV_AWS_20", "main.tf", 8, 11),
    ]
    assert {r.framework for r in out.records} == {"terraform", "dockerfile"}
    docker = [r for r in out.records if r.framework == "dockerfile"]
    assert [(r.check_id, r.path, r.resource) for r in docker] == [
        ("CKV_DOCKER_7", "Dockerfile", "Dockerfile.FROM"),
        ("CKV_DOCKER_2", "Dockerfile", "Dockerfile."),
    ]
    assert out.records[0].evaluated_keys == ("direct_internet_access",)


def test_single_report_counts_parsing_errors() -> None:
    out = parse_output(sample("report-terraform.json"), PROJECT)
    assert len(out.records) == 2
    assert out.parsing_errors == 1


def test_summary_only_report_means_nothing_scanned() -> None:
    out = parse_output(sample("report-empty.json"), PROJECT)
    assert out.records == []
    assert out.version == "3.3.30"


def test_paths_outside_the_root_are_counted_not_reported(tmp_path: Path) -> None:
    out = parse_output(sample("report-multi.json", root=Path("/elsewhere")), tmp_path)
    assert out.records == []
    assert out.outside_root == 9


def test_relative_file_path_is_the_fallback() -> None:
    report = {"check_type": "terraform", "results": {"failed_checks": [
        {"check_id": "CKV_AWS_20", "check_name": "x", "file_path": "/infra/s3.tf", "file_line_range": [3, 9], "resource": "aws_s3_bucket.b"}
    ]}}  # fmt: skip
    out = parse_output(json.dumps(report), PROJECT)
    assert [(r.path, r.start_line, r.end_line) for r in out.records] == [("infra/s3.tf", 3, 9)]


def test_one_report_per_target_is_read_and_repeats_dropped() -> None:
    terraform = sample("report-terraform.json")
    out = parse_output(terraform + "\n" + sample("report-multi.json") + "\n", PROJECT)
    assert [r.check_id for r in out.records[:2]] == ["CKV_AWS_122", "CKV_AWS_22"]
    assert len(out.records) == 9  # the multi report repeats the terraform report's two records


def test_text_before_the_json_is_skipped() -> None:
    out = parse_output(
        "2026-01-01 WARNING plugin noise\n" + sample("report-terraform.json"), PROJECT
    )
    assert len(out.records) == 2


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("", "no JSON report"),
        ("Traceback (most recent call last):\nImportError: START_LINE\n", "START_LINE"),
        ("{ not json", "not valid JSON"),
        ("[1, 2]", "unexpected shape"),
        ('{"check_type": "terraform", "results": {"failed_checks": {}}}', "failed_checks"),
        (
            '{"check_type": "terraform", "results": {"failed_checks": [{"resource": "x"}]}}',
            "check_id",
        ),
        ("[" * 100_000 + "]" * 100_000, "not valid JSON"),
    ],
)
def test_unusable_output_raises_a_clear_error(text: str, needle: str) -> None:
    with pytest.raises(CheckovError, match=needle):
        parse_output(text, PROJECT)


def test_relative_paths_never_leave_the_root() -> None:
    report = {"check_type": "terraform", "results": {"failed_checks": [
        {"check_id": "CKV_AWS_20", "check_name": "x", "file_path": p, "file_line_range": [1, 2]}
        for p in ("/a/../../etc/passwd", "/..", "/a/./b/../main.tf")
    ]}}  # fmt: skip
    out = parse_output(json.dumps(report), PROJECT)
    assert [r.path for r in out.records] == ["a/main.tf"]
    assert out.outside_root == 2
