"""Checkov as an optional second engine: its failed checks become atlascan findings mapped
to MITRE ATLAS (table: `checks/_checkov/mapping.toml`), deduplicated against native findings
and folded into the scan's one result, so every report (SARIF included) holds both."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from atlascan import suppress
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
    find_binary,
    run_checkov,
)
from atlascan.masking import mask_secret
from atlascan.model import Finding, Limits, Notice, Severity, Span
from atlascan.rules import Rule, RuleError
from atlascan.textutil import snippet_at

if TYPE_CHECKING:  # the scan module pulls in discovery and engines; only the CLI path needs it
    from atlascan.scan import ScanOptions, ScanResult

MAX_SOURCE_BYTES = 5 * 1024 * 1024
_NOTICE_PATH = "."


@dataclass
class MergeSummary:
    """What the Checkov pass contributed, for the CLI's closing line and the tests."""

    ran: bool = False
    version: str = ""
    duration_s: float = 0.0
    reported: int = 0  # failed checks Checkov reported
    added: int = 0  # findings added to the report
    deduplicated: int = 0  # folded into a native finding
    filtered: int = 0  # dropped by excludes, --select/--ignore or the severity threshold


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
    """Lines and inline ignores of the files Checkov reported, each read once."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._lines: dict[str, list[str]] = {}
        self._ignores: dict[str, dict[int, list[suppress.InlineIgnore]]] = {}

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

    def ignores(self, rel: str) -> dict[int, list[suppress.InlineIgnore]]:
        if rel not in self._ignores:
            markers = suppress.read_markers([rel], self.root, Limits(max_text_bytes=MAX_SOURCE_BYTES))
            self._ignores[rel] = suppress.parse_markers(markers.get(rel, ()))
        return self._ignores[rel]


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


def to_finding(
    record: CheckovRecord, rule: Rule, sources: _Sources, inline_ignores: bool
) -> Finding:
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
    finding = Finding(
        rule_id=rule.id,
        path=record.path,
        region=region,
        message=rule.format_message(args),
        severity=rule.severity,
        precision=rule.precision,
        snippet=snippet,
        properties={
            "engine": "checkov",
            "checkov": {
                "checkId": record.check_id,
                "checkName": record.check_name,
                "framework": record.framework,
                "resource": record.resource,
                "lineRange": [record.start_line, record.end_line],
            },
        },
    )
    if inline_ignores:
        # An `atlascan: ignore[checkov/CKV_...]` anywhere in the flagged block applies.
        block = Span(record.start_line, None, record.end_line)
        finding.suppression = suppress.match_inline(sources.ignores(record.path), rule.id, block)
    return finding


def deduplicate(
    records: Iterable[CheckovRecord], native: Iterable[Finding], rules: Mapping[str, Rule]
) -> tuple[list[CheckovRecord], int]:
    """Drop Checkov results that a native rule already reports: same file, the native finding
    inside Checkov's resource block, and the native rule naming that Checkov id in
    `peers.checkov`. The native finding keeps the Checkov id in `properties.checkovIds`."""
    by_key: dict[tuple[str, str], list[Finding]] = {}
    for f in native:
        rule = rules.get(f.rule_id)
        for cid in rule.peers.get("checkov", ()) if rule else ():
            by_key.setdefault((f.path, cid), []).append(f)
    kept: list[CheckovRecord] = []
    folded = 0
    for rec in records:
        twins = [
            f
            for f in by_key.get((rec.path, rec.check_id), ())
            if rec.start_line <= f.region.start_line <= rec.end_line
        ]
        if not twins:
            kept.append(rec)
            continue
        folded += 1
        for f in twins:
            ids = f.properties.setdefault("checkovIds", [])
            if rec.check_id not in ids:
                ids.append(rec.check_id)
    return kept, folded


# ---- merging into a scan --------------------------------------------------------------------


@dataclass
class MergeOptions:
    select: Sequence[str] = ()
    ignore: Sequence[str] = ()
    exclude: Sequence[str] = ()
    per_path_ignores: Mapping[str, Sequence[str]] = field(default_factory=dict)
    severity_threshold: Severity = Severity.INFO
    inline_ignores: bool = True
    baseline: set[str] | None = None
    scanned_paths: frozenset[str] = frozenset()  # what atlascan's own discovery kept
    include_vendored: bool = False


def _kept_paths(paths: Iterable[str], opts: MergeOptions) -> set[str]:
    """Apply atlascan's excludes, ignore files and vendored-folder rule to Checkov's paths."""
    from atlascan.discover import QUIET_DIRS, VENDORED_DIRS
    from atlascan.kinds import classify

    spec = None
    if opts.exclude:
        import pathspec

        spec = pathspec.GitIgnoreSpec.from_lines(list(opts.exclude))
    kept = set()
    for path in set(paths):
        parts = path.split("/")[:-1]
        if any(p in QUIET_DIRS for p in parts):
            continue
        if not opts.include_vendored and any(p in VENDORED_DIRS for p in parts):
            continue
        if spec is not None and spec.match_file(path):
            continue
        # A file atlascan classifies but did not discover was left out by .gitignore/excludes.
        if opts.scanned_paths and path not in opts.scanned_paths and classify(path) is not None:
            continue
        kept.add(path)
    return kept


def findings_from(
    output: CheckovOutput,
    native: list[Finding],
    native_rules: Mapping[str, Rule],
    root: Path,
    opts: MergeOptions,
    table: MappingTable | None = None,
) -> tuple[list[Finding], dict[str, Rule], MergeSummary]:
    """Checkov records → atlascan findings and their rules, after dedupe and the scan's filters."""
    from atlascan.scan import select_rules
    from atlascan.suppress import drop_per_path as _drop_per_path

    table = table or default_mapping()
    summary = MergeSummary(ran=True, version=output.version, reported=len(output.records))
    kept = _kept_paths((r.path for r in output.records), opts)
    records = [r for r in output.records if r.path in kept]
    summary.filtered += len(output.records) - len(records)
    records, summary.deduplicated = deduplicate(records, native, native_rules)
    rules: dict[str, Rule] = {}
    for rec in records:
        rid = rule_id_for(rec.check_id)
        if rid not in rules:
            rules[rid] = synthesize_rule(rec.check_id, rec.check_name, rec.framework, table)
    enabled = select_rules(rules, opts.select, opts.ignore)
    sources = _Sources(root)
    findings = [
        to_finding(rec, enabled[rule_id_for(rec.check_id)], sources, opts.inline_ignores)
        for rec in records
        if rule_id_for(rec.check_id) in enabled
    ]
    findings = [f for f in findings if f.severity >= opts.severity_threshold]
    findings = _drop_per_path(findings, opts.per_path_ignores)
    summary.filtered += len(records) - len(findings)
    suppress.assign_fingerprints(findings)
    if opts.baseline:
        suppress.apply_baseline(findings, opts.baseline)
    used = {f.rule_id for f in findings}
    summary.added = len(findings)
    return findings, {rid: r for rid, r in enabled.items() if rid in used}, summary


def merge_checkov(
    result: ScanResult, settings: CheckovSettings, opts: MergeOptions, targets: Sequence[Path] = ()
) -> MergeSummary:
    """Run Checkov over a finished scan's root and fold its results into `result`.
    Never raises for Checkov's sake: every failure becomes a notice."""
    notices: list[Notice] = []
    summary = MergeSummary()
    findings: list[Finding] = []
    rules: dict[str, Rule] = {}
    try:
        table = default_mapping()
        text, elapsed = run_checkov(result.root, targets, settings, opts.exclude)
        output = parse_output(text, result.root)
        if output.version and parse_version(output.version) < table.min_version:
            wanted = ".".join(map(str, table.min_version))
            raise CheckovError(
                f"Checkov {output.version} is older than {wanted}, the oldest version atlascan reads; its results were ignored."
            )
        opts.scanned_paths = opts.scanned_paths or frozenset(f.path for f in result.files)
        findings, rules, summary = findings_from(
            output, result.findings, result.rules, result.root, opts, table
        )
        summary.duration_s = elapsed
        if output.parsing_errors:
            notices.append(
                Notice(
                    _NOTICE_PATH,
                    f"Checkov could not parse {output.parsing_errors} file(s); its checks skipped them.",
                    "warning",
                )
            )
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
    result.findings = sorted([*result.findings, *findings], key=Finding.sort_key)
    result.rules.update(rules)
    result.notices = sorted(
        set(result.notices) | set(notices), key=lambda n: (n.path, n.line or 0, n.message)
    )
    result.duration_s += summary.duration_s
    return summary


def run_for_scan(
    result: ScanResult,
    options: ScanOptions,
    *,
    binary: str | None,
    config_binary: str | None = None,
    timeout_s: float | None = None,
    frameworks: Sequence[str] = (),
    quiet: bool = False,
) -> MergeSummary:
    """The CLI's `--with-checkov` step: Checkov over the same paths, root and filters as the
    finished native scan (`options` is its ScanOptions), merged into `result`.

    A configuration file may sit in the scanned repository, so what it says is held to data:
    its `checkov-bin` must lie outside the scan root and its frameworks must be ones whose
    Checkov runners execute nothing from the repository."""
    import sys

    root = Path(options.root)
    problems: list[str] = []
    if binary is None and config_binary:
        resolved = find_binary(config_binary)
        if resolved and _inside(Path(resolved), root):
            problems.append(
                f"The configuration's checkov-bin ({config_binary}) lies inside the scanned folder; it was not run. Pass --checkov-bin to run it."
            )
            config_binary = None
        binary = config_binary
    unsafe = [f for f in frameworks if f not in SAFE_FRAMEWORKS]
    if unsafe:
        problems.append(
            f"Checkov framework(s) {', '.join(unsafe)} are not run by atlascan (they run external programs or reach the network)."
        )
    chosen = tuple(f for f in frameworks if f in SAFE_FRAMEWORKS) or DEFAULT_FRAMEWORKS
    settings = CheckovSettings(
        binary=binary,
        timeout_s=float(timeout_s) if timeout_s else DEFAULT_TIMEOUT_S,
        frameworks=chosen,
    )
    targets = [Path(p) for p in options.paths if Path(p).resolve() != root.resolve()]
    merge = MergeOptions(
        select=list(options.select),
        ignore=list(options.ignore),
        exclude=list(options.exclude),
        per_path_ignores=dict(options.per_path_ignores),
        severity_threshold=options.severity_threshold,
        inline_ignores=options.inline_ignores,
        baseline=options.baseline,
        include_vendored=options.include_vendored,
    )
    summary = merge_checkov(result, settings, merge, targets)
    result.notices = sorted(
        set(result.notices) | {Notice(_NOTICE_PATH, p, "warning") for p in problems},
        key=lambda n: (n.path, n.line or 0, n.message),
    )
    if summary.ran and not quiet:
        print(
            f"atlascan: checkov {summary.version or '?'} ran in {summary.duration_s:.1f} s: {summary.reported} failed check(s), "
            f"{summary.added} reported, {summary.deduplicated} folded into atlascan findings, {summary.filtered} filtered",
            file=sys.stderr,
        )
    return summary


def _inside(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
        return True
    except ValueError:
        return False
