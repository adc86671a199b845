"""`--fix` applies the analyzers' mechanical edits, keeps files valid, and leaves the rest."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from atlascan.cli import main

TRAIN = """import tarfile

import torch
import yaml
from transformers import AutoModel


def load(path, fh, archive):
    state = torch.load(path,)
    cfg = yaml.load(fh)
    model = AutoModel.from_pretrained("org/model")
    tarfile.open(archive).extractall("data")
    ok = torch.load(path)  # atlascan: ignore[ATS-PY-004] trusted, verified by hash
    return state, cfg, model, ok
"""


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    # no torch pin: bare torch.load is reported and weights_only=True is then accepted
    # (with torch < 2.6 pinned even weights_only=True is reported, CVE-2025-32434)
    (tmp_path / "train.py").write_bytes(TRAIN.replace("\n", "\r\n").encode())
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_fix_applies_suggested_edits(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["scan", "--fix", "--include-unproven", "--select", "ATS-PY", "-q"])  # the library's own loads too
    fixed = (repo / "train.py").read_bytes().decode()
    assert "\r\n" in fixed and "\n" not in fixed.replace("\r\n", "")  # line endings kept
    assert "torch.load(path, weights_only=True,)" in fixed  # after the last argument, trailing comma kept
    assert "yaml.safe_load(fh)" in fixed
    assert 'AutoModel.from_pretrained("org/model", revision="<40-hex commit>")' in fixed
    assert 'extractall("data", filter="data")' in fixed
    assert "ok = torch.load(path)  # atlascan: ignore" in fixed  # suppressed findings are left alone
    assert "fixed" in capsys.readouterr().err
    # what was fixed is gone (the revision placeholder is still no pin: ATS-PY-006 is not rechecked)
    main(["scan", "-f", "json", "--include-unproven", "--select", "ATS-PY-004,ATS-PY-007,ATS-PY-013"])
    assert json.loads(capsys.readouterr().out)["summary"]["findings"] == 0  # only the suppressed one is left


def test_fix_never_writes_a_file_that_would_not_parse(tmp_path: Path) -> None:
    from atlascan.fix import _apply, _parses, _Replacement

    text = "x = f(a)\n"
    assert _apply(text, [_Replacement(1, 8, 1, 8, ", b")]) == "x = f(a, b)\n"
    assert _apply(text, [_Replacement(1, 5, 1, 9, "g"), _Replacement(1, 7, 1, 8, "c")]) is None  # overlap
    assert not _parses("x = f(a,, b)\n")
