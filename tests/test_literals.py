"""Required literals of a regex: the substring gate of the secrets engine."""

from __future__ import annotations

import re

import pytest

from atlascan.engines.secrets import _candidate_lines, _gate
from atlascan.literals import required_literals
from atlascan.secretpatterns import library_patterns


def test_literals_of_fixed_text_and_alternations() -> None:
    assert required_literals(r"(?<![A-Z0-9])(?P<s>(?:AKIA|ASIA)[A-Z2-7]{16})") == (False, ("AKIA", "ASIA"))
    assert required_literals(r"(?i)\b(?:https?|ftp)://[^\s]+") == (True, ("ftp://", "http://", "https://"))
    assert required_literals(r"(?i)(?:api_?key|token)") == (True, ("api_key", "apikey", "token"))
    assert required_literals(r"x(?i:Secret)") == (True, ("xsecret",))


@pytest.mark.parametrize("pattern", [r"[0-9a-f]{40}", r"(?:ab)?c?", r"a|[0-9]+", r"(?:local-)?[0-9a-f]{40}"])
def test_no_literals_when_a_match_needs_none(pattern: str) -> None:
    assert required_literals(pattern) is None


@pytest.mark.parametrize(
    "text",
    [
        "key = AKIAABCDEFGHIJKLMNOP\n",
        "x\r\npassword = 'Zq8!rT2#wLk9'\n",
        "url: postgres://u:Pa55w0rd@db.internal\n",
        "\u017fecret = 'abc'\napi_key: 'abcdef123456'\n",  # long s folds to s in re, not in lower()
        "wandb.login(key='0123456789abcdef0123456789abcdef01234567')\n",
    ],
)
def test_candidate_lines_equal_a_regex_pass_per_line(text: str) -> None:
    patterns = library_patterns()
    gates = [_gate(p, named=False) for p in patterns]
    expected = [
        n for n, line in enumerate(text.split("\n"), start=1) if any(g.regex.search(line) for g in gates)
    ]
    assert _candidate_lines(text, text.lower(), gates) == expected
    assert all(re.compile(g.regex.pattern) for g in gates)
