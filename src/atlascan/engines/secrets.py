"""Hardcoded credentials in any text file (AML.T0055), driven by the rules' pattern tables.

Each rule's `[[match.patterns]]` rows give a regex (group `secret` marks the credential,
else the whole match), optionally a `name` regex the assigned-to name must match (for
formats too generic to trust alone, e.g. 40 hex digits), a severity override and the kinds
it is limited to. Placeholders, references and masked values stay silent.
"""

from __future__ import annotations

import ast
import posixpath
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from atlascan import parsers
from atlascan.analysis import FileContext
from atlascan.engines import Engine
from atlascan.kinds import CI_KINDS
from atlascan.literals import required_literals
from atlascan.model import ParseError, Precision, SkipFile, SourceFile, Span
from atlascan.parsers import jsondoc
from atlascan.pathclass import UNPROVEN
from atlascan.secretpatterns import (
    COMMENT_LINE,
    TF_DEFAULT,
    TF_VARIABLE,
    Pattern,
    anchored,
    compile_rows,
    matches,
    pem_body_elided,
)
from atlascan.vocabulary import SELF_HOSTED_LLM_SERVER, SERVER_KEY_FLAGS, internal_host

if TYPE_CHECKING:
    from atlascan.analysis import PrepareContext
    from atlascan.document import Document
    from atlascan.model import Severity
    from atlascan.rules import Rule


class SecretsEngine(Engine):
    name = "secrets"
    tables = frozenset({"patterns"})

    def validate(self, rule: Rule) -> list[str]:
        """Regexes that do not compile (a scan compiles each only when its anchors occur)."""
        problems = []
        for number, row in enumerate(rule.match.get("patterns", []), start=1):
            for name in ("regex", "name", "not_name", "not_match", "prefilter"):
                if isinstance(row, dict) and row.get(name):
                    try:
                        re.compile(row[name])
                    except (re.error, TypeError) as exc:
                        problems.append(f"[[match.patterns]] row {number}: `{name}` does not compile: {exc}")
        return problems

    def prepare(self, files: list[SourceFile], ctx: PrepareContext) -> frozenset[tuple[str, str]]:
        """(folder, image repository) of the emulator images (ATS-SEC-012's
        `emulator_images`) that a manifest or compose file deploys, outside Helm charts."""
        rule = ctx.rules.get("ATS-SEC-012")
        wanted = tuple(i for row in (rule.match.get("patterns", []) if rule else []) for i in row.get("emulator_images", ()))
        return _emulator_folders(files, wanted) if wanted else frozenset()

    def check_file(self, file: SourceFile, ctx: FileContext) -> None:
        rules = tuple(sorted(ctx.rules.values(), key=lambda r: r.id))
        doc = ctx.doc
        text = doc.text
        if file.kind == "notebook":
            doc.view(jsondoc.tree)  # a notebook that is not JSON is skipped with a notice
        # Substring tests run at memory speed; only patterns whose literal anchors occur in
        # the file are searched with regexes (an alternation of every pattern at every
        # position cost ~0.3 us/byte).
        lower = text.lower()
        patterns = anchored(compile_rows(rules), lower)
        if not patterns:
            return
        lines = doc.lines
        if file.kind == "terraform":
            candidates: Iterator[tuple[int, str, str | None]] = _terraform_lines(lines, _prefilter(patterns))
        else:
            gates = [_gate(p, named=file.kind != "notebook") for p in patterns]
            candidates = ((n, lines[n - 1], None) for n in _candidate_lines(text, lower, gates))
        cells: _NotebookCells | None = None  # built at the first finding of a notebook
        reported: set[tuple[int, str]] = set()
        hits: dict[tuple[str, str], list[tuple[Span, Severity | None]]] = {}  # (rule, value) -> its sites, in line order
        stand_ins: set[str] = set()  # values that repeat their user name (`feast:feast@`)
        sandboxed: dict[str, str] = {}  # token -> the sandbox host the file names
        unproven: dict[str, str] = {}  # published default -> why it is held back (its row's `unproven`)
        local: bool | None = None  # every storage endpoint of the file is local (read once)
        documented: frozenset[int] | None = None  # a Python file's docstring lines (read at need)
        for number, raw, tf_variable in candidates:
            decoded = jsondoc.string_literal(raw) if file.kind == "notebook" else None
            line = raw if decoded is None else decoded
            for pattern, secret, col_hint in matches(patterns, line, file.kind, tf_variable):
                if (number, secret) in reported:
                    continue
                if pem_body_elided(lines, number, secret):
                    continue  # a block that shows where a key goes (`...` for its body)
                if pattern.known and (COMMENT_LINE.match(line) or file.kind in CI_KINDS):
                    continue  # a comment deploys nothing; CI sets up a throwaway service (still masked)
                if pattern.rule_id == NAMED_LITERAL and COMMENT_LINE.match(line):
                    continue  # a comment assigns nothing: dvc's commented config example
                if pattern.rule_id == NAMED_LITERAL and len(line) > MINIFIED_LINE and file.path.endswith(BUNDLE_SUFFIXES):
                    continue  # a minified bundle: the Monaco editor's tokenizer tables in Yatai's dashboard
                if pattern.rule_id == NAMED_LITERAL and file.kind == "python":
                    documented = _docstring_lines(doc) if documented is None else documented
                    if number in documented:
                        continue  # an `Example::` of a docstring (mlrun's, clearml's) sets nothing
                if pattern.known and line.strip().strip("'\"") == secret:
                    continue  # a word alone on its line sets nothing (a spell checker's word list)
                if pattern.known and ENV_FALLBACK.search(line[: max(line.find(secret), 0)]):
                    continue  # the fallback of a setting the deployment supplies, not a login
                if pattern.emulator_images:
                    if _emulator_deployed(ctx.facts, file.path, pattern.emulator_images):
                        continue  # the folder deploys the emulator this key is the default of
                    if local is None:
                        local = _endpoints_local(text)
                    if local:
                        continue  # paired with an in-cluster or loopback emulator only
                reported.add((number, secret))
                col = raw.find(secret)
                start = col + 1 if col >= 0 else col_hint
                end = col + len(secret) + 1 if col >= 0 else None
                if cells is None and file.kind == "notebook":
                    cells = _NotebookCells(lines)
                hits.setdefault((pattern.rule_id, secret), []).append((Span(number, start, number, end), pattern.severity))
                if f":{secret}:{secret}@" in line or f"/{secret}:{secret}@" in line:
                    stand_ins.add(secret)
                host = next((h for h in pattern.sandbox_hosts if h in lower), None)
                if host:
                    sandboxed[secret] = host
                if pattern.unproven:
                    unproven[secret] = pattern.unproven
        server_keys = _server_keys(doc) if any(rule_id == LLM_PROVIDER_KEY for rule_id, _ in hits) else frozenset()
        # One value written again in the same file (seven servers given the same password) is
        # one rotation: one finding at its first line, the others related.
        for (rule_id, secret), sites in hits.items():
            if secret in stand_ins and file.kind in CI_KINDS:
                continue  # `postgres:postgres@` of the throwaway database a CI job starts
            (span, severity), again = sites[0], [s for s, _ in sites[1:]]
            where = cells.where(span.start_line) if cells else ""
            if again:
                where += f" (the same value again at line{'s' if len(again) > 1 else ''} {', '.join(str(s.start_line) for s in again)})"
            # The token a self-hosted server (`vllm serve --api-key ...`) asks its clients for,
            # in a provider key's shape: that server's own key more often than the provider's.
            server_key = rule_id == LLM_PROVIDER_KEY and secret in server_keys
            if server_key:
                where += "; it is given to a self-hosted model server's `--api-key`: most likely that server's own token, a provider's only if one was reused"
            if secret in sandboxed:
                where += f"; the file names `{sandboxed[secret]}`, a sandbox whose test users' tokens are published"
            builder = ctx.finding(rule_id).at(span).args(kind=file.kind, where=where).severity(severity).secret(secret)
            if secret in stand_ins or server_key or secret in sandboxed:
                # A password that repeats its user name, a server's own token, a sandbox's test
                # user's token: a sample's or a dev setup's stand-in more often than a
                # credential. Kept in product files, held in docs and tests.
                builder.precision(Precision.LOW)
            if rule_id == NAMED_LITERAL and file.kind in CI_KINDS:
                # metaflow's MinIO `rootpass123`, unsloth's probe user's password: what a CI job
                # starts on its own runner (judged NOISE); a real credential there is a secret.
                builder.property("practice", "a CI job's literal for what it starts on its own runner; its real credentials come from `secrets`")
            if secret in unproven:
                builder.property(UNPROVEN, unproven[secret])
            for s in again:
                builder.related(s, "The same value again.")
            builder.emit()


def _docstring_lines(doc: Document) -> frozenset[int]:
    """The lines of a Python file's module, class and function docstrings; none when it does
    not parse (its lines are then read as code)."""
    # Imported here: only a Python file with a hit pays for the parser.
    from atlascan.parsers.python import tree as python_tree

    try:
        module = doc.view(python_tree)
    except (ParseError, SkipFile):
        return frozenset()
    lines: set[int] = set()
    for node in ast.walk(module):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
                lines.update(range(first.lineno, (first.end_lineno or first.lineno) + 1))
    return frozenset(lines)


# ---- ATS-SEC-003: an LLM provider's key shape given to a self-hosted server --------------
LLM_PROVIDER_KEY = "ATS-SEC-003"
# A literal assigned to a secret-named setting, shaped like no provider's key.
NAMED_LITERAL = "ATS-SEC-010"
# A script or stylesheet line this long is a minified bundle's (a vendored editor, a built
# frontend): its names say nothing of what they hold. Provider-shaped keys are still found.
MINIFIED_LINE = 1000
BUNDLE_SUFFIXES = (".js", ".mjs", ".cjs", ".css")


def _server_keys(doc: Document) -> frozenset[str]:
    """The values the file's command lines give to a self-hosted OpenAI-compatible server's
    `--api-key` (`vllm serve m --api-key X`, `--api-key=X`, a manifest's `command:` list)."""
    from atlascan.parsers.commandlines import commands, handles
    from atlascan.parsers.shell import parse, parse_argv

    if not handles(doc.kind, doc.path):
        return frozenset()
    found: set[str] = set()
    for ct in doc.view(commands):
        if not SELF_HOSTED_LLM_SERVER.search(ct.text):
            continue
        script = parse(ct.text) if ct.argv is None else parse_argv(ct.argv, ct.text)
        for cmd in script.commands:
            words = [w.value for w in cmd.words]
            if not SELF_HOSTED_LLM_SERVER.search(" ".join(words)):
                continue
            for k, word in enumerate(words):
                flag, eq, value = word.partition("=")
                if flag in SERVER_KEY_FLAGS:
                    found.add(value if eq else words[k + 1] if k + 1 < len(words) else "")
    return frozenset(found)


# ---- ATS-SEC-012: a default credential of an emulator deployed alongside ----------------
# A default that only stands in for an environment variable the deployment sets:
# `os.environ.get("K", "minio123")`, `getenv("K", ...)`, `process.env.K || 'minio123'`,
# `${K:-minio123}`.
ENV_FALLBACK = re.compile(r"""(?:environ\.get|getenv|Getenv)\(\s*["'][\w.-]+["']\s*,\s*["']?$|process\.env\.\w+\s*(?:\|\||\?\?)\s*["'`]$|\$\{\w+:?-$""")

IMAGE_LINE = re.compile(r"""^\s*-?\s*image:\s*["']?([^\s"'#]+)""", re.M)
EMULATOR_KINDS = frozenset({"yaml", "compose"})
READ_LIMIT = 1024 * 1024


def _emulator_folders(files: list[SourceFile], repositories: tuple[str, ...]) -> frozenset[tuple[str, str]]:
    charts = {posixpath.dirname(f.path) for f in files if posixpath.basename(f.path) == "Chart.yaml"}
    words = tuple(r.rsplit("/", 1)[-1] for r in repositories)
    found: set[tuple[str, str]] = set()
    for file in files:
        if file.kind not in EMULATOR_KINDS or file.size > READ_LIMIT or _in_chart(file.path, charts):
            continue
        raw = parsers.head(file, READ_LIMIT)
        if raw is None or not any(w in raw for w in words):
            continue
        for m in IMAGE_LINE.finditer(raw):
            path = _image_path(m.group(1))
            for repository in repositories:
                if path == repository or path.endswith("/" + repository):
                    found.add((posixpath.dirname(file.path), repository))
    return frozenset(found)


def _image_path(image: str) -> str:
    """An image reference without tag and digest, lower case (`quay.io/minio/minio`); the
    registry stays, so repositories are compared by their ending."""
    head, _, last = image.strip().lower().split("@", 1)[0].rpartition("/")
    last = last.split(":", 1)[0]
    return f"{head}/{last}" if head else last


def _in_chart(path: str, charts: set[str]) -> bool:
    folder = posixpath.dirname(path)
    while True:
        if folder in charts:
            return True
        if not folder:
            return False
        folder = posixpath.dirname(folder)


def _emulator_deployed(facts: object, path: str, repositories: tuple[str, ...]) -> bool:
    folder = posixpath.dirname(path)
    return isinstance(facts, frozenset) and any((folder, r) in facts for r in repositories)


# A storage endpoint a file names: `S3_ENDPOINT: host:9000`, `endpoint_url="http://..."`,
# a connection string's `BlobEndpoint=http://...`, `MINIO_HOST`, or a Kubernetes env entry's
# name and value. Other URLs (`MLFLOW_TRACKING_URI`, a collector's) say nothing of storage.
_ENDPOINT_WORDS = r"[\w.-]*(?:endpoint|url|uri|host|address)[\w.-]*"
ENDPOINT_KEY = re.compile(rf"""(?i)\b({_ENDPOINT_WORDS})["']?\s*[:=]\s*["']?([^\s"',;]+)""")
ENDPOINT_ENV = re.compile(rf"""(?i)name:\s*["']?({_ENDPOINT_WORDS})["']?\s*\n\s*value:\s*["']?([^\s"',;]*)""")
STORAGE_KEY = re.compile(r"(?i)endpoint|s3|minio|blob|storage|azurite|bucket")
HOST_PORT = re.compile(r"^([A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?):\d{2,5}(?:/.*)?$")
HOST_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$")


def _endpoints_local(text: str) -> bool:
    """Whether the file names at least one storage endpoint and every one is the loopback,
    a bare service name (`azurite:10000`) or a cluster-internal DNS name (`*.svc`); an
    external or templated endpoint makes the credential's target unknown."""
    hosts: list[str | None] = []
    for regex in (ENDPOINT_KEY, ENDPOINT_ENV):
        for m in regex.finditer(text):
            if STORAGE_KEY.search(m.group(1)):
                host = _endpoint_host(m.group(2))
                if host == "" and m.group(1).lower().endswith("host") and HOST_NAME.match(m.group(2)):
                    host = m.group(2).lower()  # `MINIO_HOST = 'seaweedfs'`: a host without a port
                hosts.append(host)
    found = [h for h in hosts if h != ""]
    return bool(found) and all(h is not None and _local_host(h) for h in found)


def _endpoint_host(value: str) -> str | None:
    """The host of an endpoint value; "" for a value that is no endpoint (`http`, `true`),
    None for one whose host is unknown (a template)."""
    value = value.strip()
    if not value or any(mark in value for mark in ("${", "{{", "$(", "<")):
        return None if value else ""
    if "://" in value:
        try:
            return (urlsplit(value).hostname or "").lower() or None
        except ValueError:
            return None
    m = HOST_PORT.match(value)
    return m.group(1).lower() if m else ""


def _local_host(host: str) -> bool:
    return internal_host(host) or "." not in host


@dataclass(frozen=True)
class _Gate:
    """What a line needs before a pattern can match on it: its regex (for a generic rule, the
    rule's prefilter) and, when known, literals one of which the line must contain: those the
    regex needs, or for a format that counts only when named (`wandb` before 40 hex digits)
    those the name needs."""

    regex: re.Pattern[str]
    fold: bool  # the literals are lowercase, to be found in the lowercased text
    literals: tuple[str, ...] | None


_GATES: dict[tuple[int, bool], _Gate] = {}


def _gate(p: Pattern, named: bool) -> _Gate:
    key = (id(p), named)  # Pattern objects live as long as _COMPILED
    if key not in _GATES:
        regex = re.compile(p.prefilter or r"[=:]") if p.generic else p.regex
        found = required_literals(regex.pattern, regex.flags)
        if named and p.name is not None and not p.generic:
            # The name is looked for before the match on the same line (outside Terraform,
            # whose variable blocks name their defaults, and notebooks, whose lines are
            # decoded first): its literals are a gate too, and usually the rarer one.
            found = required_literals(p.name.pattern, p.name.flags) or found
        fold, literals = found if found else (False, None)
        _GATES[key] = _Gate(regex, fold, literals)
    return _GATES[key]


# re's IGNORECASE also matches these to ASCII letters, which str.lower() does not map there
# (U+0130 even lowercases to two characters): a text holding one is searched by regex.
_FOLD_UNSAFE = ("\u0130", "\u0131", "\u017f")


def _candidate_lines(text: str, lower: str, gates: list[_Gate]) -> list[int]:
    """Line numbers (counting newlines) where some gate's regex matches within the line.
    Substring searches for each gate's literals find the few lines worth a regex; a gate
    without literals runs its regex over the whole text (most files have no candidate)."""
    fold_safe = text.isascii() or (len(lower) == len(text) and not any(c in text for c in _FOLD_UNSAFE))
    starts: set[int] = set()
    size = len(text)
    for gate in gates:
        if gate.literals is None or (gate.fold and not fold_safe):
            for m in gate.regex.finditer(text):
                starts.add(text.rfind("\n", 0, m.start()) + 1)
            continue
        haystack = lower if gate.fold else text
        search = gate.regex.search
        for literal in gate.literals:
            find = haystack.find
            i = find(literal)
            while i >= 0:
                start = text.rfind("\n", 0, i) + 1
                end = text.find("\n", i)
                if end < 0:
                    end = size
                if start not in starts and search(text[start:end]):
                    starts.add(start)
                i = find(literal, end)
    numbers = []
    line, position = 1, 0
    for start in sorted(starts):
        line += text.count("\n", position, start)
        position = start
        numbers.append(line)
    return numbers


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
        src = re.sub(r"\(\?P<\w+>", "(?:", p.source)
        sources.append(_scoped(src))
    return re.compile("|".join(f"(?:{s})" for s in sorted(set(sources))))


def _scoped(src: str) -> str:
    """Global inline flags must become a scoped group inside an alternation."""
    return f"(?i:{src[4:]})" if src.startswith("(?i)") else src


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

