"""End-to-end fuzz property (issue 12 §6): a scan over a folder holding one fuzzed file of
every kind (mutated fixtures, arbitrary bytes, a mutated pickle) returns a ScanResult and
no notice says "Internal error" (an exception that escaped a parser or an engine) or that
an analysis ran out of time."""

from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path

from hypothesis import given, note
from hypothesis import strategies as st

from artifact_cases import CASES
from atlascan.model import ScanResult
from fuzz_support import (
    COMMON_TOKENS,
    FIXTURE_FILES,
    fuzz,
    mutated,
    nest,
    tokenizer_only_in_short_runs,  # noqa: F401 (autouse)
)
from scanning import scan_path

NESTERS = (nest([b"["], [b"]"]), nest([b"{"], [b"}"]), nest([b"("], [b")"]), nest([b"- "]), nest([b"$("], [b")"]))
PICKLES = [(case.filename, case.build()) for case in CASES]


def _one_of_kind(entries: list[tuple[str, bytes]]) -> st.SearchStrategy[tuple[str, bytes]]:
    def body(entry: tuple[str, bytes]) -> st.SearchStrategy[tuple[str, bytes]]:
        rel, data = entry
        return st.one_of(mutated(data, COMMON_TOKENS, NESTERS), mutated(data), st.binary(max_size=300)).map(lambda b: (rel, b))

    return st.sampled_from(entries).flatmap(body)


FILES = st.tuples(
    *(_one_of_kind(entries) for _, entries in sorted(FIXTURE_FILES.items())),
    st.sampled_from(PICKLES).flatmap(lambda c: mutated(c[1], max_steps=3).map(lambda b: (c[0], b))),
)


@fuzz(8, deadline=timedelta(seconds=60))
@given(files=FILES)
def test_scan_of_fuzzed_files_has_no_internal_error(files: tuple[tuple[str, bytes], ...]) -> None:
    with tempfile.TemporaryDirectory(prefix="atlascan-fuzz-") as folder:
        root = Path(folder)
        for i, (rel, data) in enumerate(files):
            note(f"f{i}/{rel}: {len(data)} bytes, head {data[:120]!r}")
            target = root / f"f{i}" / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        result = scan_path(root)
    assert isinstance(result, ScanResult)
    bad = [n for n in result.notices if "Internal error" in n.message or "took longer than" in n.message]
    assert not bad, bad
