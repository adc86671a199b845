"""Orchestrate one scan: discover, plan work units, run them (in-process or in a pool),
then suppress, fingerprint and sort. Reports and exit codes are the CLI's business."""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from atlascan import suppress
from atlascan.analysis import Limits, PrepareContext, ScanState, UnitConfig, WorkUnit, run_units
from atlascan.discover import discover
from atlascan.kinds import TEXT_KINDS
from atlascan.model import Finding, Notice, Severity, SourceFile
from atlascan.rules import Rule, default_rules

# Below these, a pool costs more than it saves (fork + pickling ~50 ms).
POOL_MIN_FILES = 48
POOL_MIN_BYTES = 4 * 1024 * 1024


@dataclass
class ScanOptions:
    paths: Sequence[Path]
    root: Path
    select: Sequence[str] = ()
    ignore: Sequence[str] = ()
    exclude: Sequence[str] = ()
    per_path_ignores: Mapping[str, Sequence[str]] = field(default_factory=dict)
    use_ignore_files: bool = True
    include_vendored: bool = False
    force_exclude: bool = False
    limits: Limits = field(default_factory=Limits)
    inline_ignores: bool = True
    baseline: set[str] | None = None
    severity_threshold: Severity = Severity.INFO
    jobs: int = 0  # 0: decide from the machine and the size of the scan
    engine_options: Mapping[str, Any] = field(default_factory=dict)
    debug: bool = False
    progress: Callable[[int, int], None] | None = None


@dataclass
class ScanResult:
    root: Path
    rules: dict[str, Rule]  # the rules that were enabled
    findings: list[Finding]
    notices: list[Notice]
    files: list[SourceFile]
    duration_s: float
    kinds: Counter[str] = field(default_factory=Counter)

    @property
    def active_findings(self) -> list[Finding]:
        return [f for f in self.findings if f.suppression is None]


def select_rules(rules: Mapping[str, Rule], select: Sequence[str], ignore: Sequence[str]) -> dict[str, Rule]:
    def hit(rule_id: str, prefixes: Sequence[str]) -> bool:
        return any(rule_id.startswith(p) for p in prefixes)  # an id is its own prefix

    out = {}
    for rid, rule in rules.items():
        if rule.status == "deprecated":
            continue
        if select and not hit(rid, select):
            continue
        if ignore and hit(rid, ignore):
            continue
        out[rid] = rule
    return out


def _rule_applies(rule: Rule, kind: str) -> bool:
    return kind in rule.kinds or ("*" in rule.kinds and kind in TEXT_KINDS)


def plan(files: Sequence[SourceFile], rules: Mapping[str, Rule]) -> tuple[list[WorkUnit], dict[str, dict[str, Rule]], dict[str, list[SourceFile]]]:
    """Work units, the rules each (engine, kind) pair runs, and each engine's files."""
    from atlascan.engines import load_engine

    rules_by_key: dict[str, dict[str, Rule]] = {}
    engine_files: dict[str, list[SourceFile]] = {}
    kinds_present = {f.kind for f in files}
    for rule in rules.values():
        for kind in kinds_present:
            if _rule_applies(rule, kind):
                rules_by_key.setdefault(f"{rule.engine}:{kind}", {})[rule.id] = rule
    units: list[WorkUnit] = []
    groups: dict[tuple[str, str], list[SourceFile]] = {}
    engines = sorted({key.split(":", 1)[0] for key in rules_by_key})
    for name in engines:
        try:
            engine = load_engine(name)
        except Exception:
            engine = None  # reported per file by the runner
        for f in files:
            if f"{name}:{f.kind}" not in rules_by_key:
                continue
            engine_files.setdefault(name, []).append(f)
            key = engine.group_key(f) if engine is not None else None
            if key is None:
                units.append(WorkUnit(name, (f,), False))
            else:
                groups.setdefault((name, key), []).append(f)
    for (name, _), members in groups.items():
        units.append(WorkUnit(name, tuple(members), True))
    return units, rules_by_key, engine_files


_WORKER_CONFIG: UnitConfig | None = None


def _init_worker(config: UnitConfig) -> None:
    global _WORKER_CONFIG
    _WORKER_CONFIG = config


def _run_chunk(units: list[WorkUnit]) -> ScanState:
    assert _WORKER_CONFIG is not None
    return run_units(units, _WORKER_CONFIG)


def _chunks(units: list[WorkUnit], count: int) -> list[list[WorkUnit]]:
    """Balance by bytes, biggest first, so one large file does not stall the pool's tail."""
    ordered = sorted(units, key=lambda u: -sum(f.size for f in u.files))
    buckets: list[list[WorkUnit]] = [[] for _ in range(count)]
    loads = [0] * count
    for unit in ordered:
        i = loads.index(min(loads))
        buckets[i].append(unit)
        loads[i] += sum(f.size for f in unit.files) + 2048  # a per-file fixed cost
    return [b for b in buckets if b]


def run_scan(opts: ScanOptions, all_rules: Mapping[str, Rule] | None = None) -> ScanResult:
    started = time.perf_counter()
    rules = select_rules(all_rules if all_rules is not None else default_rules(), opts.select, opts.ignore)
    found = discover(
        opts.paths,
        opts.root,
        exclude=opts.exclude,
        use_ignore_files=opts.use_ignore_files,
        include_vendored=opts.include_vendored,
        force_exclude=opts.force_exclude,
    )
    units, rules_by_key, engine_files = plan(found.files, rules)
    all_paths = frozenset(f.path for f in found.files)

    facts: dict[str, Any] = {}
    state = ScanState(notices=list(found.notices))
    if units:
        from atlascan.engines import load_engine

        for name, files in engine_files.items():
            try:
                engine = load_engine(name)
            except Exception:
                continue  # each of its files gets an "engine unavailable" notice from the runner
            try:
                engine_rules = {r.id: r for key, rs in rules_by_key.items() if key.startswith(name + ":") for r in rs.values()}
                facts[name] = engine.prepare(files, PrepareContext(engine_rules, opts.engine_options, all_paths))
            except Exception as exc:
                state.notices.append(Notice(".", f"The {name} analyzer could not prepare: {type(exc).__name__}: {exc}.", "error"))
        config = UnitConfig(
            rules_by_engine={},
            facts=facts,
            options=dict(opts.engine_options),
            limits=opts.limits,
            all_paths=all_paths,
            inline_ignores=opts.inline_ignores,
            debug=opts.debug,
        )
        keyed_units = _rekey(units, rules_by_key, config)
        _execute(keyed_units, config, opts, state)

    findings = [f for f in state.findings if f.severity >= opts.severity_threshold]
    findings = _drop_per_path(findings, opts.per_path_ignores)
    suppress.assign_fingerprints(findings)
    if opts.baseline:
        suppress.apply_baseline(findings, opts.baseline)
    findings.sort(key=Finding.sort_key)
    notices = sorted(set(state.notices), key=lambda n: (n.path, n.line or 0, n.message))
    return ScanResult(
        root=opts.root,
        rules=rules,
        findings=findings,
        notices=notices,
        files=found.files,
        duration_s=time.perf_counter() - started,
        kinds=Counter(f.kind for f in found.files),
    )


def _rekey(units: list[WorkUnit], rules_by_key: dict[str, dict[str, Rule]], config: UnitConfig) -> list[WorkUnit]:
    """Units carry an `engine:kind` key so a worker hands each check only its kind's rules."""
    out = []
    for unit in units:
        key = f"{unit.engine}:{unit.files[0].kind}"
        if unit.grouped:
            merged: dict[str, Rule] = {}
            for f in unit.files:
                merged.update(rules_by_key.get(f"{unit.engine}:{f.kind}", {}))
            key = f"{unit.engine}:group:{'+'.join(sorted({f.kind for f in unit.files}))}"
            rules_by_key.setdefault(key, merged)
        config.rules_by_engine[key] = rules_by_key[key]
        out.append(WorkUnit(unit.engine, unit.files, unit.grouped, key))
    return out


def _execute(units: list[WorkUnit], config: UnitConfig, opts: ScanOptions, state: ScanState) -> None:
    total_bytes = sum(f.size for u in units for f in u.files)
    jobs = opts.jobs or min(os.cpu_count() or 1, 8)
    use_pool = jobs > 1 and (len(units) >= POOL_MIN_FILES or total_bytes >= POOL_MIN_BYTES)
    if not use_pool:
        for done, unit in enumerate(units, start=1):
            partial = run_units([unit], config)
            state.findings.extend(partial.findings)
            state.notices.extend(partial.notices)
            if opts.progress:
                opts.progress(done, len(units))
        return
    import multiprocessing  # only big scans pay for the pool

    # multiprocessing.Pool forks its workers before it starts its own helper threads (unlike
    # ProcessPoolExecutor, whose manager thread exists at fork time, which Python 3.12+
    # warns may deadlock). Fork keeps the parsed rules and facts without pickling them.
    ctx = multiprocessing.get_context("fork") if hasattr(os, "fork") else multiprocessing.get_context()
    chunks = _chunks(units, max(jobs * 4, 1))
    with ctx.Pool(processes=jobs, initializer=_init_worker, initargs=(config,)) as pool:
        done = 0
        for chunk, partial in zip(chunks, pool.imap(_run_chunk, chunks), strict=True):
            state.findings.extend(partial.findings)
            state.notices.extend(partial.notices)
            done += len(chunk)
            if opts.progress:
                opts.progress(done, len(units))


def _drop_per_path(findings: list[Finding], per_path: Mapping[str, Sequence[str]]) -> list[Finding]:
    if not per_path:
        return findings
    import pathspec

    specs = [(pathspec.GitIgnoreSpec.from_lines([glob]), tuple(ids)) for glob, ids in per_path.items()]
    kept = []
    for f in findings:
        if any(spec.match_file(f.path) and any(f.rule_id == i or f.rule_id.startswith(i) for i in ids) for spec, ids in specs):
            continue
        kept.append(f)
    return kept
