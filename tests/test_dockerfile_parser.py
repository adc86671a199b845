"""The Dockerfile parser: BuildKit's line rules, exact positions, hostile input; and a
differential test against BuildKit's own parser (the `dockerfile` package) when present."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from atlascan.parsers.dockerfile import parse, split_words, substitute

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"

SAMPLE = textwrap.dedent(
    """\
    # syntax=docker/dockerfile:1
    # escape=\\
    ARG BASE=python:3.11-slim
    FROM ${BASE} AS builder
    RUN apt-get update \\
        # a comment inside the continuation
        && apt-get install -y curl \\

        && rm -rf /var/lib/apt/lists/*
    RUN --mount=type=secret,id=hf,env=HF_TOKEN <<EOF bash
    set -e
    FROM evil
    EOF
    COPY <<-EOT /app/x.txt
    \thello
    \tEOT
    CMD ["jupyter", "lab", "--ip=0.0.0.0"]
    FROM builder
    USER 1000
    """
)


def test_instructions_lines_and_stages() -> None:
    df = parse(SAMPLE)
    assert [(i.keyword, i.line, i.end_line) for i in df.instructions] == [
        ("ARG", 3, 3),
        ("FROM", 4, 4),
        ("RUN", 5, 9),
        ("RUN", 10, 13),
        ("COPY", 14, 16),
        ("CMD", 17, 17),
        ("FROM", 18, 18),
        ("USER", 19, 19),
    ]
    assert [(s.index, s.name, s.resolved_image) for s in df.stages] == [
        (0, "builder", "python:3.11-slim"),
        (1, "", "builder"),
    ]
    assert df.global_args == {"BASE": "python:3.11-slim"}
    assert df.directives["syntax"] == ("docker/dockerfile:1", 1)
    assert (6, "    # a comment inside the continuation") in df.comments
    assert df.problems == []


def test_heredoc_body_is_not_an_instruction() -> None:
    df = parse(SAMPLE)
    run = df.instructions[3]
    assert run.flags[0][0] == "mount"
    assert [(h.name, h.body, h.body_line, h.strip_tabs) for h in run.heredocs] == [
        ("EOF", "set -e\nFROM evil\n", 11, False)
    ]
    copy = df.instructions[4]
    assert copy.heredocs[0].name == "EOT" and copy.heredocs[0].strip_tabs
    assert len(df.stages) == 2  # the FROM inside the heredoc made no stage


def test_continuation_offsets_map_back_to_physical_lines() -> None:
    df = parse(SAMPLE)
    run = df.instructions[2]
    at = run.text.index("&& apt-get install")
    assert run.position(at) == (7, 5)
    at = run.text.index("rm -rf")
    assert run.position(at) == (9, 8)
    assert run.position(0) == (5, 5)


def test_json_form_positions_point_inside_the_quotes() -> None:
    df = parse(SAMPLE)
    cmd = df.instructions[5]
    assert cmd.json_args is not None
    assert [w.value for w in cmd.json_args] == ["jupyter", "lab", "--ip=0.0.0.0"]
    assert cmd.position(cmd.json_args[2].start) == (17, 25)


def test_invalid_json_falls_back_to_shell_form() -> None:
    df = parse('FROM x\nCMD ["jupyter", lab]\n')
    assert df.instructions[1].json_args is None
    assert df.instructions[1].body == '["jupyter", lab]'


def test_backtick_escape_directive() -> None:
    df = parse(
        "# escape=`\nFROM mcr.microsoft.com/windows/servercore:ltsc2022\nRUN dir C:\\ `\n    && echo done\n"
    )
    assert df.escape == "`"
    run = df.instructions[1]
    assert run.text == "dir C:\\     && echo done"
    assert (run.line, run.end_line) == (3, 4)


def test_directive_after_a_comment_is_a_comment() -> None:
    df = parse("# hello\n# escape=`\nFROM x\nRUN echo \\\n  hi\n")
    assert df.escape == "\\"
    assert df.instructions[1].end_line == 5


def test_env_and_arg_assignments() -> None:
    df = parse('FROM x\nENV A=1 B="two words" C=\nENV LEGACY some value\nARG ONLY\n')
    env = [(n.value, v.value if v else None) for n, v in df.instructions[1].assignments()]
    assert env == [("A", "1"), ("B", "two words"), ("C", "")]
    assert [(n.value, v.value if v else None) for n, v in df.instructions[2].assignments()] == [
        ("LEGACY", "some value")
    ]
    assert [(n.value, v) for n, v in df.instructions[3].assignments()] == [("ONLY", None)]


def test_split_words_and_substitute() -> None:
    words = split_words('a \'b c\' "d\\"e" f\\ g')
    assert [w.value for w in words] == ["a", "b c", 'd"e', "f g"]
    assert substitute("${A}:${B:-x}-$C", {"A": "img", "C": None}) == ("img:x-$C", False)
    assert substitute("${A}", {"A": "img"}) == ("img", True)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "\n\n",
        "RUN echo before from\n",
        "FROM\n",
        "FROM x\nRUN <<EOF\nnever terminated\n",
        "FROM x\nRUN echo \\",
        "!!! not an instruction\nFROM x\n",
        "FROM x\n" + "RUN echo \\\n" * 5000 + "done\n",
        "FROM x\r\nRUN echo hi\r\n",
        "# escape=?\nFROM x\n",
    ],
)
def test_hostile_input_never_raises(text: str) -> None:
    df = parse(text)
    assert isinstance(df.problems, list)


def test_unterminated_heredoc_is_a_problem() -> None:
    df = parse("FROM x\nRUN <<EOF\nnever terminated\n")
    assert df.problems == [(2, "heredoc `EOF` of RUN is never terminated")]


# ---- differential test against BuildKit's parser --------------------------------------------


def _dockerfiles() -> list[Path]:
    return sorted(
        p for p in FIXTURES.rglob("*") if p.is_file() and p.name.lower().startswith("dockerfile")
    )


@pytest.mark.parametrize("path", _dockerfiles(), ids=lambda p: str(p.relative_to(FIXTURES)))
def test_matches_buildkit(path: Path) -> None:
    oracle = pytest.importorskip("dockerfile")
    text = path.read_text("utf-8")
    try:
        expected = oracle.parse_string(text)
    except oracle.GoParseError:
        pytest.skip("BuildKit rejects this file")
    ours = parse(text)
    assert [(i.keyword, i.line, i.end_line) for i in ours.instructions] == [
        (c.cmd.upper(), c.start_line, c.end_line) for c in expected
    ]
    for mine, theirs in zip(ours.instructions, expected, strict=True):
        assert [h.name for h in mine.heredocs] == [h.name for h in theirs.heredocs]
        assert [h.body for h in mine.heredocs] == [h.content for h in theirs.heredocs]
        assert tuple(w.raw for _, w in mine.flags) == theirs.flags
        if theirs.json and mine.keyword != "FROM":
            assert mine.json_args is not None
            assert tuple(w.value for w in mine.json_args) == theirs.value


def test_buildkit_agrees_on_sample() -> None:
    oracle = pytest.importorskip("dockerfile")
    expected = oracle.parse_string(SAMPLE)
    ours = parse(SAMPLE)
    assert [(i.keyword, i.line, i.end_line) for i in ours.instructions] == [
        (c.cmd.upper(), c.start_line, c.end_line) for c in expected
    ]
