"""Every case of the artifact table (tests/artifact_cases.py) reports exactly its rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from artifact_cases import CASES, COVERAGE, RULES, TEXT_ONLY, Case
from atlascan.model import ScanResult
from scanning import scan_path


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> ScanResult:
    root = tmp_path_factory.mktemp("artifacts")
    for case in CASES:
        folder = root / case.name
        folder.mkdir()
        (folder / case.filename).write_bytes(case.build())
    return scan_path(root)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_case(case: Case, corpus: ScanResult) -> None:
    path = f"{case.name}/{case.filename}"
    found = [f for f in corpus.findings if f.path == path and f.rule_id.startswith("ATS-ART")]
    reported = {f.rule_id for f in found}
    # a file's findings of one rule fold into one: the other callables are its related locations
    messages = [f"{f.rule_id}: {m}" for f in found for m in (f.message, *(r.message for r in f.related))]
    notices = [n.message for n in corpus.notices if n.path == path]
    assert reported == case.expect, (messages, notices)
    if case.names:
        assert any(case.names in m for m in messages), messages
    assert all(f.region.start_line == 1 for f in found)
    assert not [n for n in notices if "Internal error" in n], notices
    if not case.expect:
        assert case.guards, f"{case.name}: a benign case must name the rules it guards"


def test_findings_name_member_and_offset(corpus: ScanResult) -> None:
    [hit] = [f for f in corpus.findings if f.path == "torch-zip/model.pt" and f.rule_id == "ATS-ART-001"]
    assert "torch-zip/model.pt!archive/data.pkl" in hit.message
    assert hit.properties == {"member": "torch-zip/model.pt!archive/data.pkl", "offset": 2, "callable": "os.system", "pathClass": "product",
                              "foldObject": "file:1"}  # fmt: skip
    [nested] = [f for f in corpus.findings if f.path == "nested-load-from-bytes/nested.pt" and f.rule_id == "ATS-ART-001"]
    assert nested.properties["member"] == "nested-load-from-bytes/nested.pt!bytes@36"
    assert nested.properties["callable"] == "os.system"


def test_every_rule_has_vulnerable_and_safe_cases() -> None:
    assert set(COVERAGE) == set(RULES)
    for rule, (bad, good) in COVERAGE.items():
        if rule not in TEXT_ONLY:
            assert bad >= 1 and good >= 1, (rule, bad, good)


def test_case_names_are_unique() -> None:
    assert len({c.name for c in CASES}) == len(CASES)


def test_builder_files_are_not_checked_in(repo_root: Path) -> None:
    # binary payloads live only in tmp folders built by the tests
    fixtures = repo_root / "fixtures"
    binaries = [p for p in fixtures.glob("ATS-ART-*/**/*") if p.suffix in (".pkl", ".pt", ".joblib", ".npy", ".bin")]
    assert binaries == []
