"""One generic test: every fixture file reports exactly what its annotations say.

Each folder `fixtures/<RULE-ID>/` is scanned as one scan root (so cross-file analyzers see a
whole module). For the folder's rule and every id a file's annotations name, the reported
(rule id, line) pairs of that file must equal its `expect` plus `todo-ok` lines.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from annotations import read_annotations
from atlascan.model import ScanResult
from atlascan.rules import RULE_ID
from conftest import FIXTURES
from scanning import scan_path

FOLDERS = sorted(p for p in FIXTURES.iterdir() if p.is_dir() and RULE_ID.match(p.name)) if FIXTURES.is_dir() else []


@cache
def _scan(folder: Path) -> ScanResult:
    return scan_path(folder)


def _fixture_files() -> list[tuple[Path, Path]]:
    out = []
    for folder in FOLDERS:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and not path.name.startswith("_"):
                out.append((folder, path))
    return out


CASES = _fixture_files()


@pytest.mark.parametrize(("folder", "path"), CASES, ids=[str(p.relative_to(FIXTURES)) for _, p in CASES])
def test_fixture(folder: Path, path: Path) -> None:
    notes = read_annotations(path)
    assert not notes.problems, notes.problems
    under_test = {folder.name} | notes.ids
    result = _scan(folder)
    rel = path.relative_to(folder).as_posix()
    # A folded finding (hardening rules: one per file, or per folder in tests and docs)
    # reports every site: its own place and each related location, wherever they are.
    reported = {
        (f.rule_id, line)
        for f in result.findings
        if f.rule_id in under_test
        for path, line in [(f.path, f.region.start_line)]
        + [(r.path, r.region.start_line) for r in f.related if f.properties.get("folded")]
        if path == rel
    }
    expected = notes.expect | notes.todo_ok
    missing = sorted(expected - reported)
    unexpected = sorted(reported - expected)
    detail = {(f.rule_id, f.region.start_line): f.message for f in result.findings if f.path == rel}
    file_notices = [n.message for n in result.notices if n.path == rel and n.level == "error"]
    assert not missing and not unexpected, (
        f"{rel}: missing {missing}, unexpected {[(u, detail.get(u)) for u in unexpected]}; notices {file_notices}"
    )
    stale = sorted(notes.todo_expect & reported)
    assert not stale, f"{rel}: now reported, turn todo-expect into expect: {stale}"
