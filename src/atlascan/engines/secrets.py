"""Hardcoded credentials in any text file (AML.T0055), driven by the rules' pattern tables.

Each rule's `[[match.patterns]]` rows give a regex (group `secret` marks the credential,
else the whole match), optionally a `name` regex the assigned-to name must match (for
formats too generic to trust alone, e.g. 40 hex digits), a severity override and the kinds
it is limited to. Placeholders, references and masked values stay silent.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

from atlascan.analysis import FileContext, ParseError
from atlascan.engines import Engine
from atlascan.model import Severity, SourceFile
from atlascan.rules import Rule

PLACEHOLDER_WORDS = (
    "changeme", "change_me", "change-me", "example", "placeholder", "dummy", "redacted",
    "your_", "your-", "yourkey", "xxxx", "****", "....", "<", "${", "{{", "$(", "%(", "secrets.",
    "os.environ", "getenv", "var.", "local.", "data.", "env(", "fake", "sample", "replace",
    "insert", "todo", "tbd", "none", "null", "test", "secret_value", "password123", "notasecret",
    "mysecret", "supersecret", "hunter2", "foobar", "<token>", "...",
)  # fmt: skip
# The word itself as a value means "fill me in" (`password: password`).
PLACEHOLDER_VALUES = frozenset(
    {"password", "passwd", "secret", "token", "apikey", "api_key", "key", "true", "false",
     "required", "optional", "string", "str", "bool", "default", "empty", "hidden", "masked"}
)  # fmt: skip

# Generic assignments: NAME <op> VALUE on one line.
ASSIGNMENT = re.compile(
    r"""(?P<name>[A-Za-z_][A-Za-z0-9_.\-]*)["']?\s*(?::=|=>|=|:)\s*(?:(?P<q>["'])(?P<qv>[^"'\n]*)(?P=q)|(?P<uv>[^\s"'#,;()\[\]{}=]+))"""
)
DOCKER_ENV_SPACE = re.compile(r"^\s*(?:ENV|ARG)\s+(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s+(?P<uv>\S+)\s*$", re.I)
TF_VARIABLE = re.compile(r'^\s*variable\s+"(?P<name>[^"]+)"')
TF_DEFAULT = re.compile(r"^\s*default\s*=")
# Kinds where a secret is only ever a quoted literal (an unquoted value is code).
QUOTED_ONLY = frozenset({"python", "notebook", "terraform", "json", "text"})


@dataclass(frozen=True)
class Pattern:
    rule_id: str
    regex: re.Pattern[str]
    name: re.Pattern[str] | None
    severity: Severity | None
    kinds: frozenset[str]
    min_entropy: float
    generic: bool  # an assignment rule: the regex tests the name, the value is found by ASSIGNMENT
    prefilter: str | None  # a cheap regex a line must match first (generic rules)
    not_name: re.Pattern[str] | None  # generic rules: names that hold no credential
    anchors: tuple[str, ...]  # lowercase literals, one of which a file must contain


_COMPILED: dict[tuple[str, ...], tuple[Pattern, ...]] = {}


def _compile(rules: tuple[Rule, ...]) -> tuple[Pattern, ...]:
    key = tuple(r.id for r in rules)
    if key not in _COMPILED:
        _COMPILED[key] = tuple(_rows(rules))
    return _COMPILED[key]


def _rows(rules: tuple[Rule, ...]) -> Iterator[Pattern]:
    for rule in rules:
        for row in rule.match.get("patterns", []):
            yield Pattern(
                    rule_id=rule.id,
                    regex=re.compile(row["regex"]),
                    name=re.compile(row["name"], re.I) if row.get("name") else None,
                    severity=Severity.parse(row["severity"]) if row.get("severity") else None,
                    kinds=frozenset(row.get("kinds", [])),
                    min_entropy=float(row.get("min_entropy", 0.0)),
                    generic=bool(row.get("generic", False)),
                    prefilter=row.get("prefilter"),
                    not_name=re.compile(row["not_name"], re.I) if row.get("not_name") else None,
                    anchors=tuple(a.lower() for a in row.get("anchors", ())),
                )


def entropy(value: str) -> float:
    if not value:
        return 0.0
    counts: dict[str, int] = {}
    for ch in value:
        counts[ch] = counts.get(ch, 0) + 1
    return -sum(c / len(value) * math.log2(c / len(value)) for c in counts.values())


def is_placeholder(value: str) -> bool:
    lower = value.lower()
    if lower.strip("'\"") in PLACEHOLDER_VALUES:
        return True
    if any(word in lower for word in PLACEHOLDER_WORDS):
        return True
    stripped = value.strip("*xX0._-")
    return len(set(value)) <= 2 or not stripped


def _looks_like_reference(value: str, kind: str) -> bool:
    """Values that name a secret rather than hold it: paths, URLs without credentials,
    identifiers, environment references, numbers, booleans."""
    if value.startswith(("$", "/", "./", "../", "~", "@", "&", "*", "arn:", "projects/", "http://", "https://", "file:")):
        return True  # references, paths, YAML anchors and aliases
    if re.fullmatch(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+", value):
        return True  # the name of an environment variable (`KEY_ENV = "OPENAI_API_KEY"`)
    if re.fullmatch(r"[0-9.]+|true|false|yes|no|on|off", value, re.I):
        return True
    if " " in value.strip():
        return True
    # dotted identifiers are attribute paths; lowercase hyphenated words name a secret
    # object (`existingSecret: minio-credentials`) rather than hold one
    # object (`existingSecret: minio-credentials`) rather than hold one; short letters-only
    # camelCase is a field name (`'access_token': 'accessToken'` in generated API models)
    return bool(
        re.fullmatch(r"[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)+", value)
        or re.fullmatch(r"[a-z]+([-_][a-z]+)*", value)
        or (len(value) < 24 and re.fullmatch(r"[A-Za-z]+", value))
    )


class SecretsEngine(Engine):
    name = "secrets"

    def check_file(self, file: SourceFile, ctx: FileContext) -> None:
        rules = tuple(sorted(ctx.rules.values(), key=lambda r: r.id))
        text = ctx.text()
        if file.kind == "notebook":
            _validate_notebook(text)
        # Substring tests run at memory speed; only patterns whose literal anchors occur in
        # the file are searched with regexes (an alternation of every pattern at every
        # position cost ~0.3 us/byte).
        lower = text.lower()
        patterns = tuple(p for p in _compile(rules) if not p.anchors or any(a in lower for a in p.anchors))
        if not patterns:
            return
        prefilter = _prefilter(patterns)
        lines = text.splitlines()
        if file.kind == "terraform":
            candidates: Iterator[tuple[int, str, str | None]] = _terraform_lines(lines, prefilter)
        else:
            candidates = ((n, lines[n - 1], None) for n in _candidate_lines(text, prefilter))
        cells = _NotebookCells(lines) if file.kind == "notebook" else None
        reported: set[tuple[int, str]] = set()
        for number, raw, tf_variable in candidates:
            line = _unwrap_json_string(raw) if file.kind == "notebook" else raw
            for pattern, secret, col_hint in self._matches(patterns, line, file.kind, tf_variable):
                if (number, secret) in reported:
                    continue
                reported.add((number, secret))
                col = raw.find(secret)
                start = col + 1 if col >= 0 else col_hint
                ctx.report(
                    pattern.rule_id,
                    number,
                    start,
                    number,
                    (col + len(secret) + 1) if col >= 0 else None,
                    args={"kind": file.kind, "where": cells.where(number) if cells else ""},
                    severity=pattern.severity,
                    secret=secret,
                )

    def _matches(
        self, patterns: tuple[Pattern, ...], line: str, kind: str, tf_variable: str | None
    ) -> Iterator[tuple[Pattern, str, int | None]]:
        specific_hit = False
        for pattern in patterns:
            if pattern.kinds and kind not in pattern.kinds:
                continue
            if pattern.generic:
                continue
            for m in pattern.regex.finditer(line):
                secret = m.group("secret") if "secret" in pattern.regex.groupindex else m.group(0)
                if not secret or is_placeholder(secret):
                    continue
                if pattern.min_entropy and entropy(secret) < pattern.min_entropy:
                    continue
                if pattern.name is not None and not _name_matches(pattern.name, line, m.start(), tf_variable):
                    continue
                specific_hit = True
                yield pattern, secret, m.start() + 1
        if specific_hit:
            return  # a specific credential format wins over the generic assignment rule
        generic = [p for p in patterns if p.generic and (not p.kinds or kind in p.kinds)]
        if not generic:
            return
        for name, value, start in _assignments(line, kind, tf_variable):
            for pattern in generic:
                if not pattern.regex.search(name) or (pattern.not_name and pattern.not_name.search(name)):
                    continue
                if len(value) < 8 or is_placeholder(value) or _looks_like_reference(value, kind):
                    continue
                if entropy(value) < pattern.min_entropy:
                    continue
                yield pattern, value, start
                break


def _assignments(line: str, kind: str, tf_variable: str | None) -> Iterator[tuple[str, str, int]]:
    if kind == "dockerfile":
        m = DOCKER_ENV_SPACE.match(line)
        if m:
            yield m.group("name"), m.group("uv"), m.start("uv") + 1
            return
    if kind == "terraform" and tf_variable and TF_DEFAULT.match(line):
        m = re.search(r'=\s*"([^"\n]*)"', line)
        if m:
            yield tf_variable, m.group(1), m.start(1) + 1
        return
    for m in ASSIGNMENT.finditer(line):
        quoted = m.group("qv")
        if quoted is None and kind in QUOTED_ONLY:
            continue
        value = quoted if quoted is not None else m.group("uv")
        if value is None:
            continue
        yield m.group("name").rsplit(".", 1)[-1], value, m.start("qv" if quoted is not None else "uv") + 1


def _name_matches(name_re: re.Pattern[str], line: str, pos: int, tf_variable: str | None) -> bool:
    """Generic formats count only where the text before them names the service
    (`WANDB_API_KEY=`, `wandb.login(key=`), or inside a Terraform variable so named."""
    return bool(name_re.search(line[:pos])) or bool(tf_variable and name_re.search(tf_variable))


def _candidate_lines(text: str, prefilter: re.Pattern[str]) -> Iterator[int]:
    """Line numbers where the combined prefilter matches: one pass over the whole text
    instead of a regex search per line (most files have no candidate at all)."""
    line, position = 1, 0
    last = 0
    for m in prefilter.finditer(text):
        line += text.count("\n", position, m.start())
        position = m.start()
        if line != last:
            last = line
            yield line


def _terraform_lines(lines: list[str], prefilter: re.Pattern[str]) -> Iterator[tuple[int, str, str | None]]:
    """Terraform lines worth a look, with the variable block they sit in: a `default`
    inside `variable "db_password"` is named by the block, not by its own line."""
    tf_variable: str | None = None
    for number, raw in enumerate(lines, start=1):
        m = TF_VARIABLE.match(raw)
        if m:
            tf_variable = m.group("name")
        if prefilter.search(raw) or (tf_variable and TF_DEFAULT.match(raw)):
            yield number, raw, tf_variable


_PREFILTERS: dict[tuple[int, ...], re.Pattern[str]] = {}


def _prefilter(patterns: tuple[Pattern, ...]) -> re.Pattern[str]:
    """One combined regex that a line must match before the per-rule work is done."""
    key = tuple(id(p) for p in patterns)  # Pattern objects live as long as _COMPILED
    if key not in _PREFILTERS:
        _PREFILTERS[key] = _build_prefilter(patterns)
    return _PREFILTERS[key]


def _build_prefilter(patterns: tuple[Pattern, ...]) -> re.Pattern[str]:
    sources = []
    for p in patterns:
        if p.generic:
            sources.append(_scoped(p.prefilter or r"[=:]"))
            continue
        src = re.sub(r"\(\?P<\w+>", "(?:", p.regex.pattern)
        sources.append(_scoped(src))
    return re.compile("|".join(f"(?:{s})" for s in sorted(set(sources))))


def _scoped(src: str) -> str:
    """Global inline flags must become a scoped group inside an alternation."""
    return f"(?i:{src[4:]})" if src.startswith("(?i)") else src


def _unwrap_json_string(raw: str) -> str:
    """Notebook lines are JSON string literals; decode escapes so `\\"` reads as `"`."""
    stripped = raw.strip().rstrip(",")
    if len(stripped) >= 2 and stripped.startswith('"') and stripped.endswith('"'):
        try:
            value: Any = json.loads(stripped)
            if isinstance(value, str):
                return value
        except ValueError:
            pass
    return raw


class _NotebookCells:
    """Which cell, and whether its source or its stored output, a raw notebook line is in.
    nbformat writes each cell's keys sorted, so `"cell_type"` opens every cell and
    `"outputs"` / `"source"` open its two text parts; an unusual layout just says less."""

    _KEY = re.compile(r'^\s*"(cell_type|outputs|source)"\s*:')

    def __init__(self, lines: list[str]) -> None:
        self._marks: list[tuple[int, int, str]] = []  # (line, cell number, part)
        cell = 0
        for number, line in enumerate(lines, start=1):
            m = self._KEY.match(line)
            if not m:
                continue
            if m.group(1) == "cell_type":
                cell += 1
            self._marks.append((number, cell, m.group(1)))

    def where(self, line: int) -> str:
        last = None
        for mark in self._marks:
            if mark[0] > line:
                break
            last = mark
        if last is None or last[1] == 0:
            return ""
        part = {"outputs": " output", "source": ""}.get(last[2], "")
        return f" (cell {last[1]}{part})"


def _validate_notebook(text: str) -> None:
    try:
        json.loads(text)
    except ValueError as exc:
        raise ParseError(f"Notebook is not valid JSON ({exc}); skipped.") from None


@cache
def _library_patterns() -> tuple[Pattern, ...]:
    from atlascan.rules import default_rules

    rules = tuple(sorted((r for r in default_rules().values() if r.engine == "secrets"), key=lambda r: r.id))
    return _compile(rules)


def reports_credential(line: str, kind: str) -> bool:
    """Whether the secrets rules find a credential on this line. Other engines ask before
    reporting a literal themselves, so one committed secret gives one finding."""
    return any(True for _ in SecretsEngine()._matches(_library_patterns(), line, kind, None))
