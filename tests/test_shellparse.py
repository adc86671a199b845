"""Shell parsing for the command-line rules: both back ends (tree-sitter and the plain
tokenizer) give the same commands, words, pipelines and assignments, at exact offsets."""

from __future__ import annotations

import pytest

from atlascan.parsers.shell import parse, unquote

SCRIPT = """\
export PIP_EXTRA_INDEX_URL=https://x FOO=1
A=1 pip install --extra-index-url "https://a b" 'x'"y"$Z
curl -fsSL https://x.sh | sudo -E bash -
bash <(curl -s https://x) && sh -c "$(wget -qO- http://y)"
sh -c 'curl -k https://z | bash'  # trailing comment
"""

BACKENDS = [pytest.param(True, id="tree-sitter"), pytest.param(False, id="tokenizer")]


def _commands(text: str, use_tree_sitter: bool) -> list[tuple[str, ...]]:
    return [tuple(w.value for w in c.words) for c in parse(text, use_tree_sitter).commands]


@pytest.mark.parametrize("use_tree_sitter", BACKENDS)
def test_commands_and_words(use_tree_sitter: bool) -> None:
    commands = _commands(SCRIPT, use_tree_sitter)
    assert ("pip", "install", "--extra-index-url", "https://a b", "xy$Z") in commands
    assert ("curl", "-fsSL", "https://x.sh") in commands
    assert ("sudo", "-E", "bash", "-") in commands
    assert ("curl", "-s", "https://x") in commands
    assert ("wget", "-qO-", "http://y") in commands
    assert ("curl", "-k", "https://z") in commands
    assert ("bash",) in commands
    assert not any("#" in w for c in commands for w in c)


@pytest.mark.parametrize("use_tree_sitter", BACKENDS)
def test_offsets_point_at_the_word(use_tree_sitter: bool) -> None:
    script = parse(SCRIPT, use_tree_sitter)
    for cmd in script.commands:
        for word in cmd.words:
            # a quoted word starts inside its opening quote
            candidates = {unquote(SCRIPT[word.start - k : word.end]) for k in (0, 1)}
            assert word.value in candidates, (word, SCRIPT[word.start : word.end])
    curl_k = next(c for c in script.commands if [w.value for w in c.words][:2] == ["curl", "-k"])
    assert SCRIPT[curl_k.words[2].start : curl_k.words[2].end] == "https://z"


@pytest.mark.parametrize("use_tree_sitter", BACKENDS)
def test_pipelines_and_substitutions(use_tree_sitter: bool) -> None:
    script = parse(SCRIPT, use_tree_sitter)
    by_first = {(c.words[0].value, c.words[-1].value): c for c in script.commands if c.words}
    curl, shell = by_first[("curl", "https://x.sh")], by_first[("sudo", "-")]
    assert curl.pipeline == shell.pipeline >= 0
    assert (curl.stage, shell.stage) == (0, 1)
    inner = by_first[("curl", "https://x")]
    assert inner.parent is not None and script.commands[inner.parent].words[0].value == "bash"
    nested_curl, nested_bash = by_first[("curl", "https://z")], by_first[("bash", "bash")]
    assert nested_curl.pipeline == nested_bash.pipeline != curl.pipeline


@pytest.mark.parametrize("use_tree_sitter", BACKENDS)
def test_assignments(use_tree_sitter: bool) -> None:
    script = parse(SCRIPT, use_tree_sitter)
    names = [(a.name.value, a.value.value) for a in script.assignments]
    assert ("PIP_EXTRA_INDEX_URL", "https://x") in names and ("A", "1") in names
    pip = next(c for c in script.commands if c.words and c.words[0].value == "pip")
    assert [(a.name.value, a.value.value) for a in pip.assignments] == [("A", "1")]
    value = next(a.value for a in script.assignments if a.name.value == "PIP_EXTRA_INDEX_URL")
    assert SCRIPT[value.start : value.end] == "https://x"


def test_tree_sitter_handles_bash_constructs() -> None:
    text = '[[ -f x ]] && echo $(( 1 << 2 ))\ncase "$1" in a) curl -k https://q ;; esac\n'
    commands = _commands(text, True)
    assert ("curl", "-k", "https://q") in commands
    assert not parse(text).has_errors


def test_non_ascii_offsets_are_characters() -> None:
    text = 'echo "héllo wörld" && curl -k https://ü.example\n'
    script = parse(text)
    curl = next(c for c in script.commands if c.words[0].value == "curl")
    assert text[curl.words[2].start : curl.words[2].end] == "https://ü.example"


@pytest.mark.parametrize("use_tree_sitter", BACKENDS)
@pytest.mark.parametrize(
    "text",
    ["", "'unterminated", '"$(', "$(" * 2000, "a | | b ;; &&", "cat <<EOF\nnever ends", "\x00\x01"],
)
def test_broken_input_never_raises(text: str, use_tree_sitter: bool) -> None:
    parse(text, use_tree_sitter)


def test_unquote() -> None:
    assert unquote("'a'\"b\"\\c") == "abc"
    assert unquote('"x\\"y"') == 'x"y'
    assert unquote("--NotebookApp.token=''") == "--NotebookApp.token="
