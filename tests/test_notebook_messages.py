"""Notebook findings say which cell (counting every cell, markdown too) and, for secrets,
whether the value sits in the cell's source or in its stored output."""

from __future__ import annotations

import json
from pathlib import Path

from scanning import scan_text


def test_cell_numbers_agree_across_analyzers(tmp_path: Path) -> None:
    nb = {
        "cells": [
            {"cell_type": "markdown", "metadata": {}, "source": ["# Notes"]},
            {"cell_type": "code", "execution_count": 1, "metadata": {}, "outputs": [],
             "source": ["import pickle\n", "obj = pickle.loads(blob)\n"]},
            {"cell_type": "code", "execution_count": 2, "metadata": {},
             "outputs": [{"name": "stdout", "output_type": "stream", "text": ["hf_boxhQGTa3VyR208OzQek3f3W20GSQYFQPP\n"]}],
             "source": ['login(token="hf_T4nWq8RmX2cLp7VzK9bJd3GsY6hFe5AuN1")']},
        ],
        "metadata": {}, "nbformat": 4, "nbformat_minor": 5,
    }
    result = scan_text(tmp_path, "nb.ipynb", json.dumps(nb, indent=1) + "\n")
    messages = {f.rule_id + f.message[-18:] for f in result.findings}
    assert any(m.startswith("ATS-PY-001") and m.endswith("(cell 2).") for m in messages), messages
    secrets = sorted(f.message for f in result.findings if f.rule_id == "ATS-SEC-002")
    assert [m.rsplit(" (", 1)[1] for m in secrets] == ["cell 3 output).", "cell 3)."]
