"""The result cache: a warm re-scan reports exactly what a cold one does, and every input of
a result (content, rules, options, version, a cross-file dependency) invalidates it."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from atlascan.cli import main

LIB = "import pickle\n\n\ndef load(p):\n    return pickle.load(open(p, 'rb'))\n"
SAFE_LIB = "import json\n\n\ndef load(p):\n    return json.load(open(p))\n"
MAIN = "from lib import load\n\nload(input())\n"
OTHER = "import yaml\n\nyaml.load(open('x'))\n"


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "lib.py").write_text(LIB, "utf-8")
    (root / "main.py").write_text(MAIN, "utf-8")
    (root / "other.py").write_text(OTHER, "utf-8")
    (root / "values.yaml").write_text("image: python:latest\n", "utf-8")
    monkeypatch.chdir(root)
    return root


def _scan(capsys: pytest.CaptureFixture[str], cache: Path, *extra: str) -> dict[str, Any]:
    capsys.readouterr()
    main(["scan", "--include-unproven", ".", "-f", "json", "--statistics", "--cache-dir", str(cache), *extra])
    data: dict[str, Any] = json.loads(capsys.readouterr().out)
    return data


def _rules(data: dict[str, Any]) -> list[tuple[str, str, int]]:
    return sorted((f["rule_id"], f["path"], f["line"]) for f in data["findings"])


def _units(data: dict[str, Any]) -> tuple[int, int]:
    units = data["statistics"]["units"]
    return units["analysed"], units["cached"]


def test_warm_rescan_gives_byte_identical_sarif(tree: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cold, warm, uncached = tmp_path / "cold.sarif", tmp_path / "warm.sarif", tmp_path / "none.sarif"
    main(["scan", "--include-unproven", ".", "-f", "sarif", "-o", str(cold), "--cache-dir", str(cache)])
    main(["scan", "--include-unproven", ".", "-f", "sarif", "-o", str(warm), "--cache-dir", str(cache)])
    main(["scan", "--include-unproven", ".", "-f", "sarif", "-o", str(uncached), "--no-cache"])
    assert cold.read_bytes() == warm.read_bytes() == uncached.read_bytes()
    assert json.loads(cold.read_text("utf-8"))["runs"][0]["results"]


def test_cache_files_are_private_json(tree: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cache = tmp_path / "cache"
    _scan(capsys, cache)
    assert stat.S_IMODE(cache.stat().st_mode) == 0o700
    files = list(cache.glob("results-*.json"))
    assert len(files) == 1
    assert stat.S_IMODE(files[0].stat().st_mode) == 0o600
    assert json.loads(files[0].read_text("utf-8"))["entries"]


def test_warm_scan_analyses_nothing_and_no_cache_bypasses(tree: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cache = tmp_path / "cache"
    cold = _scan(capsys, cache)
    assert _units(cold) == (4, 0)
    warm = _scan(capsys, cache)
    assert _units(warm) == (0, 4)
    assert _rules(warm) == _rules(cold)
    assert _units(_scan(capsys, cache, "--no-cache")) == (4, 0)


def test_one_edit_reanalyses_only_that_file(tree: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cache = tmp_path / "cache"
    _scan(capsys, cache)
    (tree / "other.py").write_text(OTHER + "# a comment\n", "utf-8")
    data = _scan(capsys, cache)
    assert _units(data) == (1, 3)
    assert ("ATS-PY-007", "other.py", 3) in _rules(data)


def test_content_change_invalidates(tree: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cache = tmp_path / "cache"
    assert any(r[1] == "other.py" for r in _rules(_scan(capsys, cache)))
    (tree / "other.py").write_text("import yaml\n\nyaml.safe_load(open('x'))\n", "utf-8")
    assert not any(r[1] == "other.py" for r in _rules(_scan(capsys, cache)))


def test_a_wrapper_defined_in_another_file_invalidates_its_callers(tree: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cache = tmp_path / "cache"
    assert any(r[1] == "main.py" for r in _rules(_scan(capsys, cache)))
    (tree / "lib.py").write_text(SAFE_LIB, "utf-8")
    data = _scan(capsys, cache)
    assert not any(r[1] in ("main.py", "lib.py") for r in _rules(data))
    assert ("ATS-PY-007", "other.py", 3) in _rules(data)


def test_rule_set_option_and_version_invalidate(tree: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "cache"
    full = _rules(_scan(capsys, cache))
    selected = _scan(capsys, cache, "--select", "ATS-PY-007")
    assert _units(selected)[1] == 0
    assert {r[0] for r in _rules(selected)} == {"ATS-PY-007"}
    assert _rules(_scan(capsys, cache)) == full  # the full rule set's entries are still there
    assert _units(_scan(capsys, cache, "--include-generated"))[1] == 0
    import atlascan

    monkeypatch.setattr(atlascan, "__version__", "999.0")
    assert _units(_scan(capsys, cache))[1] == 0


def test_entries_that_do_not_validate_are_ignored(tree: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cache = tmp_path / "cache"
    expected = _rules(_scan(capsys, cache))
    (path,) = cache.glob("results-*.json")
    data = json.loads(path.read_text("utf-8"))
    for entry in data["entries"].values():
        entry["state"] = {"findings": [{"rule_id": 1}], "notices": "x", "markers": []}
    path.write_text(json.dumps(data), "utf-8")
    broken = _scan(capsys, cache)
    assert _rules(broken) == expected and _units(broken) == (4, 0)
    path.write_text("{not json", "utf-8")
    assert _rules(_scan(capsys, cache)) == expected
    data["schema"] = 0
    path.write_text(json.dumps(data), "utf-8")
    assert _units(_scan(capsys, cache)) == (4, 0)


def test_a_cache_folder_inside_the_tree_is_not_scanned(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cache = tree / ".cache-here"
    first = _scan(capsys, cache)
    assert list(cache.glob("results-*.json"))
    second = _scan(capsys, cache)
    assert first["summary"]["files"] == second["summary"]["files"] == 4
    assert _units(second) == (0, 4)


def test_default_folder_and_clean(tree: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    main(["scan", "--include-unproven", ".", "-q"])
    folder = tmp_path / "xdg" / "atlascan"
    assert list(folder.glob("results-*.json"))
    assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700
    assert main(["cache", "clean"]) == 0
    assert not list(folder.glob("results-*.json"))
    assert "removed 1 cache file" in capsys.readouterr().err


def test_statistics_go_to_stderr_with_text_output(tree: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["scan", "--include-unproven", ".", "--statistics", "--no-cache"])
    captured = capsys.readouterr()
    assert "statistics: 4 unit(s) analysed" in captured.err
    assert "python" in captured.err and "ATS-PY-001" in captured.err
    assert "statistics" not in captured.out


def test_statistics_in_json(tree: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stats = _scan(capsys, tmp_path / "cache")["statistics"]
    python = stats["engines"]["python"]
    assert python["files"] == 3 and python["bytes"] == sum(len(t) for t in (LIB, MAIN, OTHER))
    assert python["parse_s"] >= 0 and python["check_s"] >= 0
    assert stats["rules"] == {"ATS-PY-001": 2, "ATS-PY-007": 1}
    capsys.readouterr()
    main(["scan", "--include-unproven", ".", "-f", "json", "--no-cache"])
    assert "statistics" not in json.loads(capsys.readouterr().out)


def test_the_worker_pool_stores_and_reuses_every_unit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "big"
    root.mkdir()
    for i in range(60):
        (root / f"m{i:02}.py").write_text(f"import yaml\n\nx{i} = yaml.load(open('x'))\n", "utf-8")
    monkeypatch.chdir(root)
    cache = tmp_path / "cache"
    cold = _scan(capsys, cache, "--jobs", "2")
    warm = _scan(capsys, cache, "--jobs", "2")
    assert _units(cold) == (60, 0) and _units(warm) == (0, 60)
    assert _rules(cold) == _rules(warm) and len(_rules(warm)) == 60


def test_a_cache_that_cannot_be_used_costs_nothing_but_time(tree: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("", "utf-8")
    expected = _rules(_scan(capsys, tmp_path / "cache"))
    assert _rules(_scan(capsys, blocker)) == expected
    assert _units(_scan(capsys, blocker / "below")) == (4, 0)


def test_a_whole_root_scan_forgets_deleted_files(tree: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cache = tmp_path / "cache"
    _scan(capsys, cache)
    (path,) = cache.glob("results-*.json")
    assert any("other.py" in k for k in json.loads(path.read_text("utf-8"))["entries"])
    (tree / "other.py").unlink()
    _scan(capsys, cache)
    assert not any("other.py" in k for k in json.loads(path.read_text("utf-8"))["entries"])


ACTION = (
    "name: a\ndescription: d\ninputs:\n  tag:\n    description: t\nruns:\n  using: composite\n  steps:\n"
    "    - shell: bash\n      run: echo \"${{ inputs.tag }}\"\n"
)
CALLER = (
    "on: pull_request\npermissions: {}\njobs:\n  j:\n    runs-on: ubuntu-latest\n    steps:\n"
    "      - uses: ./.github/actions/a\n        with:\n          tag: ${{ %s }}\n"
)


def test_a_local_action_is_rejudged_when_its_caller_changes(tree: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tree / ".github/actions/a").mkdir(parents=True)
    (tree / ".github/workflows").mkdir(parents=True)
    (tree / ".github/actions/a/action.yml").write_text(ACTION, "utf-8")
    (tree / ".github/workflows/ci.yml").write_text(CALLER % "github.sha", "utf-8")
    cache = tmp_path / "cache"
    action = ".github/actions/a/action.yml"
    assert not any(r[:2] == ("ATS-GHA-001", action) for r in _rules(_scan(capsys, cache)))
    (tree / ".github/workflows/ci.yml").write_text(CALLER % "github.event.pull_request.title", "utf-8")
    found = [f for f in _scan(capsys, cache)["findings"] if f["rule_id"] == "ATS-GHA-001" and f["path"] == action]
    assert len(found) == 1 and found[0]["severity"] == "high"


def _age(root: Path, seconds: int = 3600) -> None:
    """Back-date every file, as a checkout's files are by the time they are scanned again."""
    for path in root.rglob("*"):
        st = path.stat()
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns - seconds * 10**9))


def test_a_same_size_edit_that_keeps_the_mtime_is_still_seen(tree: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _age(tree)
    cache = tmp_path / "cache"
    assert any(r[1] == "other.py" for r in _rules(_scan(capsys, cache)))
    (path,) = cache.glob("results-*.json")
    assert "other.py" in json.loads(path.read_text("utf-8"))["files"]
    target = tree / "other.py"
    before = target.stat()
    target.write_text(OTHER.replace("yaml.load(", "yaml.Load("), "utf-8")  # the same size
    os.utime(target, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert target.stat().st_size == before.st_size
    assert not any(r[1] == "other.py" for r in _rules(_scan(capsys, cache)))


def test_a_stored_hash_stands_in_only_for_a_file_hashed_well_after_its_last_change(tree: Path) -> None:
    import time

    from atlascan import cache
    from atlascan.model import SourceFile

    path = tree / "lib.py"
    st = path.stat()
    file = SourceFile("lib.py", str(path), "python", st.st_size)
    signature = [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]
    later = max(st.st_mtime_ns, st.st_ctime_ns) + cache.TRUST_AFTER_NS + 10**9
    assert cache.FileHashes({"lib.py": [*signature, later, "remembered"]}).of(file) == "remembered"
    fresh = cache.FileHashes({"lib.py": [*signature, time.time_ns(), "remembered"]})
    assert fresh.of(file) not in ("remembered", "") and fresh.changed
    moved = cache.FileHashes({"lib.py": [signature[0] + 1, *signature[1:], later, "remembered"]})
    assert moved.of(file) == fresh.of(file)


def test_remembered_wrapper_summaries_are_used_and_validated(tree: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cache = tmp_path / "cache"
    expected = _rules(_scan(capsys, cache))
    assert ("ATS-PY-001", "main.py", 3) in expected  # through lib.load, a wrapper of pickle.load
    (path,) = cache.glob("results-*.json")
    data = json.loads(path.read_text("utf-8"))
    remembered = data["memo"]["python.wrappers"]
    assert remembered["lib.py"]["value"] and remembered["other.py"]["value"] == []
    data["entries"] = {}
    for entry in remembered.values():
        entry["value"] = [["load", 1]]
    path.write_text(json.dumps(data), "utf-8")
    assert _rules(_scan(capsys, cache)) == expected


def test_a_manifest_is_rejudged_when_the_code_or_the_lock_beside_it_changes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """ATS-DEP-004 weighs an advisory by the code in the manifest's folder (does it resume
    a Trainer?) and a pyproject range by the lock beside it."""
    tree = tmp_path / "deps"
    tree.mkdir()
    monkeypatch.chdir(tree)
    (tree / "requirements.txt").write_text("transformers==4.52.1\n", "utf-8")
    (tree / "app.py").write_text("from transformers import pipeline\n", "utf-8")
    (tree / "svc").mkdir()
    (tree / "svc/pyproject.toml").write_text('[project]\nname = "svc"\nversion = "1"\ndependencies = ["torch>=2.0,<2.6"]\n', "utf-8")
    (tree / "svc/uv.lock").write_text('version = 1\n\n[[package]]\nname = "torch"\nversion = "2.10.0"\n', "utf-8")
    cache = tmp_path / "cache"

    def found() -> list[tuple[str, str, int]]:
        return [r for r in _rules(_scan(capsys, cache)) if r[0] == "ATS-DEP-004"]

    assert found() == []
    (tree / "app.py").write_text("from transformers import Trainer\nTrainer(model=m).train(resume_from_checkpoint=True)\n", "utf-8")
    assert found() == [("ATS-DEP-004", "requirements.txt", 1)]
    (tree / "svc/uv.lock").write_text('version = 1\n\n[[package]]\nname = "numpy"\nversion = "2.3.0"\n', "utf-8")
    assert found() == [("ATS-DEP-004", "requirements.txt", 1), ("ATS-DEP-004", "svc/pyproject.toml", 4)]
