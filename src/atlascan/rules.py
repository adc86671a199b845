"""The rule catalog: one TOML file per rule under `checks/`, loaded as typed, validated data.

Layout: `checks/<family>/<RULE-ID>.toml`, plus an optional `checks/<family>/_family.toml`
whose keys are defaults for every rule of the family (engine, kinds, cwe, ...). Loading a rule
never runs code: a rule names an engine from the fixed table in `atlascan.engines`, and its
declarative matcher tables are data that engine interprets.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from atlascan.model import Precision, Severity

RULE_ID = re.compile(r"^ATS-[A-Z0-9]+-\d{3}$")
RULE_NAME = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
GUIDANCE_HEADINGS = ("What it does", "Why it matters", "Example", "Use instead", "References")
STATUSES = ("stable", "preview", "deprecated")

# SARIF / GitHub code scanning numbers for each severity (GitHub buckets: >9 critical,
# 7-8.9 high, 4-6.9 medium, 0.1-3.9 low).
SECURITY_SEVERITY = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
    Severity.INFO: "1.0",
}


def id_matches(rule_id: str, pattern: str) -> bool:
    """`pattern` names the rule: its whole id, or whole leading segments (`ATS-PY`, `ATS-PY-`);
    `ATS-PY-01` names nothing. Checkov's ids are matched as plain prefixes (`checkov/CKV_AWS`)."""
    if rule_id == pattern:
        return True
    if pattern.endswith(("-", "/")) or pattern.startswith("checkov/"):
        return rule_id.startswith(pattern)
    return rule_id.startswith((pattern + "-", pattern + "/"))


class RuleError(ValueError):
    """A rule file is malformed; the message says what to add or change."""


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    title: str
    severity: Severity
    precision: Precision
    engine: str
    kinds: tuple[str, ...]
    message: str  # str.format template; engines pass its arguments
    guidance: str  # Markdown with the GUIDANCE_HEADINGS sections
    atlas_techniques: tuple[str, ...]
    atlas_mitigations: tuple[str, ...] = ()
    suggested_mitigations: tuple[str, ...] = ()  # our own advice where ATLAS links none
    cwe: int | None = None
    status: str = "stable"
    references: tuple[str, ...] = ()
    peers: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # checkov/bandit/... ids
    match: Mapping[str, Any] = field(default_factory=dict)  # engine-specific matcher tables
    # Rule ids or prefixes whose finding on the same line makes this one redundant (a literal
    # token in a Pod's env is the secrets rule's to report, when that rule is enabled).
    defers_to: tuple[str, ...] = ()
    # A hardening or pinning rule: the flow folds its findings to one per file (every other
    # site a related location), reports it as low, and as info in tests and docs.
    fold: bool = False
    # A heuristic whose hits in tests and docs are mostly stand-ins (mock tokens, demo
    # passwords): reported there at low.
    demote_in_tests: bool = False
    # A pinning rule whose findings reviewers nearly never found worth acting on in real
    # repositories: held back by default, counted in one notice (`--include-pedantic`).
    pedantic: bool = False
    source: str = ""  # the rule file, for error messages

    @property
    def family(self) -> str:
        return self.id.split("-")[1]

    def section(self, heading: str) -> str:
        """The Markdown body under one `## heading` of the guidance."""
        pattern = re.compile(rf"^##\s+{re.escape(heading)}\s*$", re.M)
        m = pattern.search(self.guidance)
        if not m:
            return ""
        rest = self.guidance[m.end() :]
        nxt = re.search(r"^##\s+", rest, re.M)
        return (rest[: nxt.start()] if nxt else rest).strip()

    def format_message(self, args: Mapping[str, Any]) -> str:
        try:
            text = self.message.format_map(dict(args))
        except (KeyError, IndexError, ValueError) as exc:
            raise RuleError(f"{self.id}: message template needs {exc}") from None
        return text if text.endswith((".", "!", "?")) else text + "."


def _tuple(value: Any, key: str, source: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise RuleError(f"{source}: `{key}` must be a list of strings")


def rule_from_mapping(data: Mapping[str, Any], source: str) -> Rule:
    def need(key: str) -> Any:
        if key not in data or data[key] in ("", None, []):
            raise RuleError(f"{source}: add `{key}`")
        return data[key]

    rid = need("id")
    if not RULE_ID.match(rid):
        raise RuleError(f"{source}: id {rid!r} must look like ATS-FAMILY-001")
    name = need("name")
    if not RULE_NAME.match(name):
        raise RuleError(f"{source}: name {name!r} must be kebab-case, naming the hazard")
    atlas = data.get("atlas") or {}
    try:
        severity = Severity.parse(need("severity"))
        precision = Precision.parse(need("precision"))
    except ValueError as exc:
        raise RuleError(f"{source}: {exc}") from None
    status = data.get("status", "stable")
    if status not in STATUSES:
        raise RuleError(f"{source}: status must be one of {STATUSES}")
    cwe = data.get("cwe")
    if cwe is not None and not isinstance(cwe, int):
        raise RuleError(f"{source}: `cwe` is a number, e.g. cwe = 502")
    peers = {k: _tuple(v, f"peers.{k}", source) for k, v in (data.get("peers") or {}).items()}
    return Rule(
        id=rid,
        name=name,
        title=need("title"),
        severity=severity,
        precision=precision,
        engine=need("engine"),
        kinds=_tuple(need("kinds"), "kinds", source),
        message=need("message"),
        guidance=need("guidance").strip() + "\n",
        atlas_techniques=_tuple(atlas.get("techniques"), "atlas.techniques", source),
        atlas_mitigations=_tuple(atlas.get("mitigations"), "atlas.mitigations", source),
        suggested_mitigations=_tuple(
            data.get("suggested_mitigations"), "suggested_mitigations", source
        ),
        cwe=cwe,
        status=status,
        references=_tuple(data.get("references"), "references", source),
        peers=peers,
        match=data.get("match") or {},
        defers_to=_tuple(data.get("defers_to"), "defers_to", source),
        fold=bool(data.get("fold", False)),
        demote_in_tests=bool(data.get("demote_in_tests", False)),
        pedantic=bool(data.get("pedantic", False)),
        source=source,
    )


def checks_dir() -> Path:
    """The rule library: packaged inside the wheel, or `checks/` of a source checkout."""
    packaged = Path(__file__).parent / "_checks"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "checks"


def _read_toml(path: Path) -> dict[str, Any]:
    # Imported here: a scan reads the compact catalog index, not the TOML, on every run but the first.
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on 3.10 only
        import tomli as tomllib
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise RuleError(f"{path}: {exc}") from None


def load_rules(directory: Path | None = None) -> dict[str, Rule]:
    directory = directory or checks_dir()
    rules: dict[str, Rule] = {}
    names: dict[str, str] = {}
    defaults_cache: dict[Path, dict[str, Any]] = {}
    for path in sorted(directory.rglob("*.toml")):
        # `_family.toml`, `_allowlist.toml`, `_checkov/...`: data for engines, not rules.
        if any(part.startswith("_") for part in path.relative_to(directory).parts):
            continue
        family_file = path.parent / "_family.toml"
        if path.parent not in defaults_cache:
            defaults_cache[path.parent] = _read_toml(family_file) if family_file.exists() else {}
        data = {**defaults_cache[path.parent], **_read_toml(path)}
        rel = str(path.relative_to(directory.parent)) if directory.parent in path.parents else str(path)
        rule = rule_from_mapping(data, rel)
        if path.stem != rule.id:
            raise RuleError(f"{rel}: file name must be the rule id ({rule.id}.toml)")
        if rule.id in rules:
            raise RuleError(f"{rel}: duplicate rule id {rule.id}")
        if rule.name in names:
            raise RuleError(f"{rel}: rule name {rule.name!r} is already used by {names[rule.name]}")
        rules[rule.id] = rule
        names[rule.name] = rule.id
    return rules


def _signature(directory: Path) -> str:
    import hashlib

    from atlascan import __version__

    h = hashlib.sha256(f"{__version__}\0{directory.resolve()}".encode())
    # os.walk and DirEntry.stat, not Path.rglob: this runs on every scan, and pathlib's
    # per-file overhead was a tenth of a one-file run.
    for folder, dirs, names in os.walk(directory):
        dirs.sort()
        for name in sorted(names):
            if name.endswith(".toml"):
                st = os.stat(os.path.join(folder, name))
                h.update(f"{folder}/{name}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()[:24]


def _cache_file(signature: str) -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "atlascan" / f"rules-{signature}.json"


def _to_record(rule: Rule) -> dict[str, Any]:
    record = dataclasses.asdict(rule)
    record["severity"] = rule.severity.label
    record["precision"] = rule.precision.label
    return record


def _from_record(record: dict[str, Any]) -> Rule:
    fields = dict(record)
    fields["severity"] = Severity.parse(fields["severity"])
    fields["precision"] = Precision.parse(fields["precision"])
    for key in ("kinds", "atlas_techniques", "atlas_mitigations", "suggested_mitigations", "references", "defers_to"):
        fields[key] = tuple(fields[key])
    fields["peers"] = {k: tuple(v) for k, v in fields["peers"].items()}
    return Rule(**fields)


@cache
def default_rules() -> dict[str, Rule]:
    """The packaged rule library. Parsing ~100 TOML files costs more than a whole one-file
    scan, so the parsed library is cached as JSON (keyed by file sizes and times) in the
    user's cache folder; any problem with the cache falls back to parsing."""
    directory = checks_dir()
    try:
        cache_path = _cache_file(_signature(directory))
        if cache_path.is_file():
            return {r["id"]: _from_record(r) for r in json.loads(cache_path.read_text("utf-8"))}
    except (OSError, ValueError, KeyError, TypeError):
        cache_path = None
    rules = load_rules(directory)
    # Rebuilding the cache (a rule file changed): every rule must have an implementation and
    # every implementation a rule; the engines are imported for that check only here.
    from atlascan.registry import problems

    found = problems(rules)
    if found:
        raise RuleError("; ".join(found[:5]))
    if cache_path is not None:
        try:
            cache_path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            tmp = cache_path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps([_to_record(r) for r in rules.values()]), "utf-8")
            os.replace(tmp, cache_path)
        except (OSError, TypeError, ValueError):
            pass
    return rules


def validate_rule(rule: Rule, known_engines: Iterable[str]) -> list[str]:
    """Problems that make a rule incomplete; empty when the rule is publishable."""
    from atlascan.atlas import catalog

    problems = []
    cat = catalog()
    for tid in rule.atlas_techniques:
        if tid not in cat.techniques:
            problems.append(f"unknown ATLAS technique {tid}")
    for mid in rule.atlas_mitigations:
        if mid not in cat.mitigations:
            problems.append(f"unknown ATLAS mitigation {mid}")
    if not rule.atlas_techniques:
        problems.append("add at least one ATLAS technique under [atlas] techniques")
    if not rule.atlas_mitigations and not rule.suggested_mitigations:
        problems.append("add ATLAS mitigations or, where ATLAS links none, suggested_mitigations")
    for heading in GUIDANCE_HEADINGS:
        if not rule.section(heading):
            problems.append(f"guidance lacks a '## {heading}' section")
    for heading in ("Example", "Use instead"):
        if "```" not in rule.section(heading):
            problems.append(f"guidance '## {heading}' needs a fenced code example")
    if rule.engine not in set(known_engines):
        problems.append(f"unknown engine {rule.engine!r}")
    return problems
