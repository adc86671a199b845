"""Whole-output snapshots of the text, JSON, SARIF and GitHub renderers on one small fixture.
Refresh with ATLASCAN_UPDATE_SNAPSHOTS=1 after an intended change, and review the diff."""

from __future__ import annotations

import json
import os
import re

import pytest

from atlascan import __version__
from atlascan.report import render
from conftest import ROOT
from scanning import scan_path

DATA = ROOT / "tests" / "data" / "snapshot"
SNAPSHOTS = ROOT / "tests" / "snapshots"


def _normalise(fmt: str, text: str) -> str:
    text = re.sub(r"\d+\.\d+ s\b", "0.00 s", text)
    if fmt in ("json", "sarif"):
        data = json.loads(text)
        if fmt == "json":
            data["summary"]["duration_s"] = 0
        text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    return text.replace(__version__, "<version>")


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "github"])
def test_renderer_snapshot(fmt: str) -> None:
    result = scan_path(DATA, select=["ATS-SEC"])
    text = _normalise(fmt, render(fmt, result, color=False, quiet=False, category=None, show_suppressed=True))
    snapshot = SNAPSHOTS / f"secrets.{fmt}.snap"
    if os.environ.get("ATLASCAN_UPDATE_SNAPSHOTS") or not snapshot.exists():
        snapshot.write_text(text, "utf-8")
    assert text == snapshot.read_text("utf-8")


def test_snapshot_shows_suppression_and_masks_secrets() -> None:
    text = (SNAPSHOTS / "secrets.text.snap").read_text("utf-8")
    assert "(suppressed)" in text
    for raw in ("hf_Kq3vT8mZ2xR7nW4pL9sY6bD1cF5hJ0gA3eU8", "5b2d8046a9e1f3c5b7d90a2e4c6f8b1d3f9a1c7e", "f3a5t-Pr0d-2024"):
        for snap in SNAPSHOTS.glob("secrets.*.snap"):
            assert raw not in snap.read_text("utf-8"), snap.name


def test_plain_text_is_the_color_text_without_its_styles() -> None:
    """Without color the text renderer skips rich; it must still print what rich would."""
    result = scan_path(ROOT / "fixtures")
    assert result.findings
    for options in ({}, {"quiet": True}, {"show_suppressed": True}):
        colored = render("text", result, color=True, **options)
        assert "\x1b[" in colored
        assert re.sub(r"\x1b\[[0-9;]*m", "", colored) == render("text", result, color=False, **options)


def test_text_says_what_is_held_back_apart_from_skipped_paths(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from scanning import write_tree

    files = {
        "serve/Dockerfile": "FROM python:3.11-slim\nUSER app\n",  # a tag where none is pinned: practice
        "train/Dockerfile": "FROM pytorch/pytorch:2.4.0-runtime\nUSER app\n",
        "tests/Dockerfile": "FROM python\nUSER app\n",  # a test's untagged image: its hardening
        "node_modules/x/Dockerfile": "FROM python\n",  # vendored: skipped
    }
    result = scan_path(write_tree(tmp_path, files), select=["ATS-DKR-004"], include_vendored=False)
    text = render("text", result, color=False, quiet=False, category=None, show_suppressed=False)
    assert "Held back (counted, not reported):\n  ATS-DKR-004: 2 sites held back as the repository's practice" in text
    assert "  1 finding(s) in tests, docs and samples, in 1 folder(s) (hardening, pinning and sinks with no outside " \
           "input shown; --include-tests report them)." in text
    assert "0 finding(s) in " in text and "held back" not in text.rsplit("\n\n", 1)[-1]
