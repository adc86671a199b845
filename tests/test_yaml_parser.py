"""The YAML layer: raw scalars, positions, merges, scalar offsets and hostile input."""

from __future__ import annotations

import time

import pytest

from atlascan.model import ParseError
from atlascan.parsers.yaml import (
    Mapping,
    Scalar,
    Sequence,
    parse,
    scalar_anchors,
    scalar_position,
    walk,
)

WORKFLOW = """\
on:
  push:
jobs:
  build:
    steps:
      - run: |
          echo one

            indented ${{ github.event.issue.title }}
          last
      - run: >-
          folded one
          two
      - run: "quoted ${{ x }}"
"""


def _root(text: str) -> Mapping:
    root = parse(text).documents[0].root
    assert isinstance(root, Mapping)
    return root


def test_scalars_stay_raw_and_keys_keep_positions() -> None:
    root = _root("on: yes\nversion: 01\nflag: off\n")
    key = root.key_node("on")
    assert isinstance(key, Scalar) and key.value == "on" and (key.line, key.column) == (1, 1)
    assert root.text("on") == "yes"
    assert root.text("version") == "01"
    value = root.get("flag")
    assert isinstance(value, Scalar) and (value.line, value.column, value.end_column) == (3, 7, 10)


def test_literal_block_offsets_map_to_file_lines() -> None:
    lines = WORKFLOW.splitlines()
    steps = _root(WORKFLOW).get("jobs").get("build").get("steps")  # type: ignore[union-attr]
    assert isinstance(steps, Sequence)
    run = steps.items[0].get("run")  # type: ignore[union-attr]
    assert isinstance(run, Scalar) and run.style == "|"
    offset = run.value.index("${{")
    assert scalar_position(run, offset, lines) == (9, lines[8].index("${{") + 1)
    assert scalar_position(run, run.value.index("last"), lines) == (10, 11)
    assert scalar_anchors(run, lines)[0] == (0, 7, 11)


def test_folded_and_quoted_offsets() -> None:
    lines = WORKFLOW.splitlines()
    steps = _root(WORKFLOW).get("jobs").get("build").get("steps")  # type: ignore[union-attr]
    folded = steps.items[1].get("run")  # type: ignore[union-attr]
    assert folded.value == "folded one two"  # type: ignore[union-attr]
    assert scalar_position(folded, folded.value.index("two"), lines) == (13, 11)  # type: ignore[union-attr, arg-type]
    quoted = steps.items[2].get("run")  # type: ignore[union-attr]
    assert scalar_position(quoted, quoted.value.index("${{"), lines) == (14, lines[13].index("${{") + 1)  # type: ignore[union-attr, arg-type]


def test_merge_keys_and_aliases() -> None:
    root = _root("base: &b {x: 1, y: 2}\nd:\n  <<: *b\n  y: 3\nlist: [*b]\n")
    d = root.get("d")
    assert isinstance(d, Mapping)
    assert d.text("x") == "1" and d.text("y") == "3"
    assert sorted(d.keys()) == ["x", "y"]
    seq = root.get("list")
    assert isinstance(seq, Sequence) and seq.items[0] is root.get("base")


def test_multi_document_and_duplicates() -> None:
    result = parse("a: 1\na: 2\n---\nkind: Pod\n---\n")
    assert [d.index for d in result.documents] == [0, 1, 2]
    assert result.documents[2].root is None
    assert result.warnings and result.warnings[0][1] == 2
    assert _root("a: 1\na: 2\n").text("a") == "2"


def test_walk_visits_shared_nodes_once() -> None:
    root = _root("a: &x [1, 2]\nb: *x\nc: *x\n")
    assert sum(1 for n in walk(root) if isinstance(n, Sequence)) == 1


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("a: [1\n", "Invalid YAML"),
        ("\t- a\n", "Invalid YAML"),
        ("- &a [x]\n- *b\n", "names no anchor"),
        ("{{- if .Values.enabled }}\na: 1\n{{- end }}\n", "Helm"),
        ("image: {{ .Values.image }}\n", "Helm"),
        ("[" * 100_000 + "]" * 100_000, "nested"),
        ("- " * 5000 + "x\n", "nested"),
        ("a: \x07\n", "Invalid YAML"),
    ],
)
def test_bad_input_is_a_parse_error(text: str, needle: str) -> None:
    start = time.perf_counter()
    with pytest.raises(ParseError, match=needle):
        parse(text)
    assert time.perf_counter() - start < 2


def test_alias_bomb_is_bounded() -> None:
    lines = ["a: &a [1,1,1,1,1,1,1,1,1,1]"]
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 10) + "]")
    start = time.perf_counter()
    with pytest.raises(ParseError, match="alias bomb"):
        parse("\n".join(lines) + "\n")
    assert time.perf_counter() - start < 2


def test_github_expressions_parse() -> None:
    root = _root("if: ${{ github.event_name == 'push' }}\nrun: echo ${{ github.sha }}\n")
    assert root.text("run") == "echo ${{ github.sha }}"
