"""JSON in the parse stage: a file's tree, notebooks that are not JSON becoming one notice per
analyzer instead of findings, and the string-literal lines notebook secrets are read from."""

from __future__ import annotations

from pathlib import Path

import pytest

from atlascan import parsers
from atlascan.document import Document
from atlascan.model import ParseError, SourceFile
from atlascan.parsers import jsondoc
from scanning import scan_text


def _doc(kind: str, text: str) -> Document:
    return parsers.document(SourceFile("f", "f", kind, len(text)), text)


def test_tree_of_a_json_file() -> None:
    assert _doc("json", '{"a": [1, 2]}').tree == {"a": [1, 2]}
    with pytest.raises(ParseError, match="JSON file is not valid JSON"):
        _ = _doc("json", '{"a": ').tree


def test_notebook_that_is_not_json_is_skipped_by_the_secrets_engine(tmp_path: Path) -> None:
    token = "hf_" + "QwErTyUiOpAsDfGhJkLzXcVbNm12345678"
    result = scan_text(tmp_path, "nb.ipynb", '{"cells": [\n "token = \\"' + token + '\\""\n', select=["ATS-SEC"])
    assert not result.findings
    assert [n.message.split(" (")[0] for n in result.notices] == ["Notebook is not valid JSON"]


@pytest.mark.parametrize(
    ("line", "value"),
    [
        ('    "x = \\"a\\"\\n",', 'x = "a"\n'),
        ('  "",', ""),
        ('  "cell_type": "code",', None),
        ("  [1, 2],", None),
        ('  "unterminated \\",', None),
    ],
)
def test_string_literal_lines(line: str, value: str | None) -> None:
    assert jsondoc.string_literal(line) == value
