"""Checkov as an optional external engine of the flow: its failed checks become atlascan
findings mapped to MITRE ATLAS (table: `checks/_checkov/mapping.toml`); the flow dedupes them
against native findings and folds them into the scan's one result, so every report (SARIF
included) holds both."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path

from atlascan.external import ExternalFindings
from atlascan.integrations.checkov_mapping import (
    MappingTable,
    default_mapping,
    parse_version,
    rule_id_for,
    synthesize_rule,
)
from atlascan.integrations.checkov_output import CheckovOutput, CheckovRecord, parse_output
from atlascan.integrations.checkov_runner import (
    DEFAULT_FRAMEWORKS,
    DEFAULT_TIMEOUT_S,
    SAFE_FRAMEWORKS,
    CheckovError,
    CheckovSettings,
    run_checkov,
)
from atlascan.masking import mask_secret
from atlascan.model import Finding, Notice, Span
from atlascan.rules import Rule, RuleError
from atlascan.textutil import snippet_at

MAX_SOURCE_BYTES = 5 * 1024 * 1024
PEER = "checkov"  # the engine's name and the key of `Rule.peers` that lists Checkov ids
_NOTICE_PATH = "."

_INDEX_SEGMENT = re.compile(r"^\[.*\]$|[*?@]")
# Credential-looking tokens; Checkov does not say which part of a line is the secret.
_TOKEN = re.compile(r"[A-Za-z0-9+/=_.~-]{12,}")
_CREDENTIAL_FAMILY = "hardcoded-credentials"


def _key_paths(keys: Iterable[str]) -> list[list[str]]:
    """The attribute paths a check evaluated, without list indexes and query segments."""
    paths: list[list[str]] = []
    for key in keys:
        segments = [s for s in key.split("/") if s and not _INDEX_SEGMENT.search(s)]
        if segments and segments[-1] != "resource_type" and segments not in paths:
            paths.append(segments)
    return paths


@lru_cache(maxsize=1024)
def _key_pattern(name: str) -> re.Pattern[str]:
    return re.compile(rf"^\s*(?:-\s+)?[\"']?({re.escape(name)})[\"']?\s*(?:=|:|\{{)")


def _find_path(
    segments: list[str], lines: list[str], first: int, last: int
) -> tuple[int, re.Match[str]] | None:
    """Each segment as a key (`name =`, `name:`, `name {`) below the previous one's line."""
    line = first
    found: tuple[int, re.Match[str]] | None = None
    for name in segments:
        pattern = _key_pattern(name)
        found = next(
            ((n, m) for n in range(line, last + 1) if (m := pattern.match(lines[n - 1]))), None
        )
        if found is None:
            return None
        line = found[0] + 1
    return found


def locate(record: CheckovRecord, lines: list[str]) -> Span:
    """Narrow Checkov's block range to the attribute line it evaluated when that attribute is
    written in the block; otherwise the block's first line (a missing attribute goes there)."""
    last = min(record.end_line, len(lines))
    for segments in _key_paths(record.evaluated_keys):
        hit = _find_path(segments, lines, record.start_line + 1, last)
        if hit is not None:
            number, match = hit
            return Span(number, match.start(1) + 1, number, match.end(1) + 1)
    return Span(
        record.start_line,
        None,
        record.end_line if record.end_line > record.start_line else None,
        None,
    )


class _Sources:
    """Lines of the files Checkov reported, each read once."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._lines: dict[str, list[str]] = {}

    def lines(self, rel: str) -> list[str]:
        if rel not in self._lines:
            self._lines[rel] = []
            path = (self.root / rel).resolve()
            if path.is_relative_to(self.root.resolve()):  # never quote a file outside the scan
                try:
                    with open(path, "rb") as fh:
                        self._lines[rel] = (
                            fh.read(MAX_SOURCE_BYTES).decode("utf-8", "replace").splitlines()
                        )
                except OSError:
                    pass
        return self._lines[rel]


def _display_resource(record: CheckovRecord) -> str:
    """What the message names: Checkov's resource address, except where that is not one
    (Dockerfile results are `/path.INSTRUCTION`, secrets results a hash of the secret)."""
    if record.framework == "dockerfile":
        instruction = record.resource.rsplit(".", 1)[-1] if "." in record.resource else ""
        return f"{record.path} {instruction}" if instruction.isalpha() else record.path
    if record.framework == "secrets" or not record.resource:
        return record.path
    return record.resource


def _is_credential(record: CheckovRecord, rule: Rule) -> bool:
    return record.framework == "secrets" or rule.match.get("family") == _CREDENTIAL_FAMILY


def _masked(snippet: str) -> str:
    """Reports never carry a secret: mask every token long enough to be one."""
    return _TOKEN.sub(lambda m: mask_secret(m.group(0)), snippet)


def to_finding(record: CheckovRecord, rule: Rule, sources: _Sources) -> Finding:
    lines = sources.lines(record.path)
    region = locate(record, lines)
    args = {
        "check_id": record.check_id,
        "resource": _display_resource(record),
        "check_name": record.check_name.rstrip("."),
    }
    snippet = snippet_at(lines, region.start_line)
    if _is_credential(record, rule):
        snippet = _masked(snippet)
    return Finding(
        rule_id=rule.id,
        path=record.path,
        region=region,
        message=rule.format_message(args),
        severity=rule.severity,
        precision=rule.precision,
        snippet=snippet,
        properties={
            "engine": PEER,
            "peerId": record.check_id,
            "checkov": {
                "checkId": record.check_id,
                "checkName": record.check_name,
                "framework": record.framework,
                "resource": record.resource,
                "lineRange": [record.start_line, record.end_line],
            },
        },
        # An `atlascan: ignore[checkov/CKV_...]` anywhere in the flagged block applies, and
        # a native finding inside the block may stand for this one.
        scope=Span(record.start_line, None, record.end_line),
    )


def to_external(output: CheckovOutput, root: Path, table: MappingTable | None = None) -> ExternalFindings:
    """Every failed check as a finding of its synthesized `checkov/CKV_...` rule, unfiltered:
    the flow's merge step applies the scan's paths, selection, dedupe and suppressions."""
    table = table or default_mapping()
    rules: dict[str, Rule] = {}
    for rec in output.records:
        rid = rule_id_for(rec.check_id)
        if rid not in rules:
            rules[rid] = synthesize_rule(rec.check_id, rec.check_name, rec.framework, table)
    sources = _Sources(root)
    findings = [to_finding(rec, rules[rule_id_for(rec.check_id)], sources) for rec in output.records]
    notices = []
    if output.parsing_errors:
        notices.append(
            Notice(
                _NOTICE_PATH,
                f"Checkov could not parse {output.parsing_errors} file(s); its checks skipped them.",
                "warning",
            )
        )
    return ExternalFindings(findings, rules, notices, PEER, ran=True, version=output.version)


class CheckovEngine:
    """Checkov as an external engine of the flow: `run_scan(options, external=[CheckovEngine(...)])`.

    Frameworks are held to those whose Checkov runners execute nothing from the repository
    (no helm/kustomize binaries, no network); the others are dropped with a notice."""

    def __init__(
        self, binary: str | None = None, timeout_s: float | None = None, frameworks: Sequence[str] = ()
    ) -> None:
        self.notices: list[Notice] = []
        unsafe = [f for f in frameworks if f not in SAFE_FRAMEWORKS]
        if unsafe:
            self.notices.append(
                Notice(
                    _NOTICE_PATH,
                    f"Checkov framework(s) {', '.join(unsafe)} are not run by atlascan (they run external programs or reach the network).",
                    "warning",
                )
            )
        self.settings = CheckovSettings(
            binary=binary,
            timeout_s=float(timeout_s) if timeout_s else DEFAULT_TIMEOUT_S,
            frameworks=tuple(f for f in frameworks if f in SAFE_FRAMEWORKS) or DEFAULT_FRAMEWORKS,
        )

    def run(
        self, root: Path, paths: Sequence[Path], scanned: frozenset[str], exclude: Sequence[str]
    ) -> ExternalFindings:
        """Checkov over the scan's paths (`scanned` is the flow's to use: it filters the paths
        afterwards); never raises: every failure becomes a notice and the native results stand."""
        notices = list(self.notices)
        try:
            table = default_mapping()
            targets = [Path(p) for p in paths if Path(p).resolve() != root.resolve()]
            text, elapsed = run_checkov(root, targets, self.settings, exclude)
            output = parse_output(text, root)
            if output.version and parse_version(output.version) < table.min_version:
                wanted = ".".join(map(str, table.min_version))
                raise CheckovError(
                    f"Checkov {output.version} is older than {wanted}, the oldest version atlascan reads; its results were ignored."
                )
            found = to_external(output, root, table)
            found.duration_s = elapsed
            found.notices[:0] = notices
            return found
        except CheckovError as exc:
            notices.append(Notice(_NOTICE_PATH, str(exc), "warning"))
        except RuleError as exc:
            notices.append(
                Notice(
                    _NOTICE_PATH,
                    f"Checkov mapping table: {exc}; Checkov's results were not merged.",
                    "error",
                )
            )
        except Exception as exc:  # a bug here must not cost the user the native results
            notices.append(
                Notice(
                    _NOTICE_PATH,
                    f"Internal error in the Checkov integration ({type(exc).__name__}: {exc}); Checkov's results were not merged.",
                    "error",
                )
            )
        return ExternalFindings([], {}, notices, PEER)
