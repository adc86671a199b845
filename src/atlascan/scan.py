"""The flow of one scan, step by step:

    discover (path classes) -> plan -> prepare -> parse + check (per work unit, in-process
    or in a pool)
    -> dedupe (across engines, knowing which rules are enabled)
    -> grade (path class on every finding; hardening rules low, info in tests and docs;
       nothing critical in tests and docs)
    -> suppress (real comments, per-path ignores, severity threshold, baseline)
    -> fold (folding.py: one finding per hardening rule and file; copies of a file and a
       long line repeated across files, one finding)
    -> merge external engines (Checkov: the same dedupe and suppress steps)
    -> ScanResult

Reports and exit codes are the CLI's business; integrations are called from here and never
call back into the flow.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from atlascan import dedupe, folding, suppress
from atlascan.analysis import PrepareContext, ScanState, UnitConfig, WorkUnit, run_units
from atlascan.discover import QUIET_DIRS, VENDORED_DIRS, discover
from atlascan.external import ExternalEngine, ExternalFindings
from atlascan.identity import github_repository
from atlascan.kinds import TEXT_KINDS, classify
from atlascan.model import (
    ExternalRun,
    Finding,
    Limits,
    Notice,
    Precision,
    ScanResult,
    Severity,
    SourceFile,
)
from atlascan.pathclass import (
    DOCS,
    PEDANTIC,
    PRACTICE,
    PRODUCT,
    TESTS,
    UNPROVEN,
    PathClasses,
    retired,
    tooling_scripts,
    tree_of,
)
from atlascan.rules import Rule, default_rules, id_matches

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
    path_classes: Mapping[str, Sequence[str]] = field(default_factory=dict)  # class -> extra globs
    report_classes: frozenset[str] = frozenset()  # tests/docs whose held-back findings are reported
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
    # Root-relative path -> text to analyse instead of the file on disk (an editor's unsaved
    # buffer); the file must still be discovered, so excludes and config apply as on disk.
    overrides: Mapping[str, str] = field(default_factory=dict)
    # The result cache's folder (atlascan.cache); None: every unit is analysed.
    cache_dir: Path | None = None


def select_rules(rules: Mapping[str, Rule], select: Sequence[str], ignore: Sequence[str]) -> dict[str, Rule]:
    def hit(rule_id: str, patterns: Sequence[str]) -> bool:
        return any(id_matches(rule_id, p) for p in patterns)

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


@dataclass
class Plan:
    units: list[WorkUnit]
    rules_by_key: dict[str, dict[str, Rule]]  # "engine:kind" -> rules
    engines_by_kind: dict[str, tuple[str, ...]]
    engine_files: dict[str, list[SourceFile]]


def plan(files: Sequence[SourceFile], rules: Mapping[str, Rule]) -> Plan:
    """One work unit per file, or per group (a Terraform module) of a grouping engine; every
    engine that wants a file's kind checks it inside that one unit."""
    from atlascan.engines import GROUPING, load_engine

    rules_by_key: dict[str, dict[str, Rule]] = {}
    kinds_present = {f.kind for f in files}
    for rule in rules.values():
        for kind in kinds_present:
            if _rule_applies(rule, kind):
                rules_by_key.setdefault(f"{rule.engine}:{kind}", {})[rule.id] = rule
    engines_by_kind: dict[str, list[str]] = {}
    for key in sorted(rules_by_key):
        name, kind = key.split(":", 1)
        engines_by_kind.setdefault(kind, []).append(name)
    engine_files: dict[str, list[SourceFile]] = {}
    groups: dict[tuple[str, str], list[SourceFile]] = {}
    grouped: set[str] = set()
    grouping: dict[str, Any] = {}
    for name in sorted({n for names in engines_by_kind.values() for n in names}):
        try:
            grouping[name] = load_engine(name) if name in GROUPING else None
        except Exception:
            grouping[name] = None  # reported per file by the runner
    for f in files:
        for name in engines_by_kind.get(f.kind, ()):
            engine_files.setdefault(name, []).append(f)
            engine = grouping[name]
            group = engine.group_key(f) if engine is not None else None
            if group is not None and f.path not in grouped:
                groups.setdefault((name, group), []).append(f)
                grouped.add(f.path)
    units = [WorkUnit((f,)) for f in files if f.path not in grouped and f.kind in engines_by_kind]
    units += [WorkUnit(tuple(members), name) for (name, _), members in groups.items()]
    return Plan(units, rules_by_key, {k: tuple(v) for k, v in engines_by_kind.items()}, engine_files)


_WORKER_CONFIG: UnitConfig | None = None


def _init_worker(config: UnitConfig) -> None:
    global _WORKER_CONFIG
    _WORKER_CONFIG = config


def _run_chunk(units: list[WorkUnit]) -> list[ScanState]:
    """Each unit's own state, so that the result cache can store it per unit."""
    assert _WORKER_CONFIG is not None
    return [run_units([unit], _WORKER_CONFIG) for unit in units]


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


def run_scan(
    opts: ScanOptions,
    all_rules: Mapping[str, Rule] | None = None,
    external: Sequence[ExternalEngine] = (),
) -> ScanResult:
    started = time.perf_counter()
    rules = select_rules(all_rules if all_rules is not None else default_rules(), opts.select, opts.ignore)
    repository = github_repository(opts.root)  # read once: path classes and the engines' prepare passes
    found = discover(
        opts.paths,
        opts.root,
        exclude=opts.exclude,
        use_ignore_files=opts.use_ignore_files,
        include_vendored=opts.include_vendored,
        include_generated=opts.limits.include_generated,
        force_exclude=opts.force_exclude,
        classes=PathClasses(opts.path_classes, repository),
    )
    work = plan(found.files, rules)
    all_paths = frozenset(f.path for f in found.files)

    state = ScanState(notices=list(found.notices))
    analysed = cached = 0
    if work.units:
        store = _open_cache(opts, rules, packaged=all_rules is None) if opts.cache_dir is not None else None
        config = UnitConfig(
            rules_by_key=work.rules_by_key,
            engines_by_kind=work.engines_by_kind,
            facts=_prepare(work, opts, all_paths, state, store, found.files, repository),
            options=dict(opts.engine_options),
            limits=opts.limits,
            all_paths=all_paths,
            inline_ignores=opts.inline_ignores,
            debug=opts.debug,
            overrides=dict(opts.overrides),
        )
        todo, put = work.units, None
        if store is not None:
            todo, put = _from_cache(work, found.files, config, opts, state, store)
        _execute(todo, config, opts, state, put)
        analysed, cached = len(todo), len(work.units) - len(todo)

    findings = dedupe.deferred(state.findings, rules)
    classes = {f.path: f.path_class for f in found.files}
    # A script that only CI tooling launches is tooling too (read only for scripts with findings).
    with_findings = {f.path for f in findings}
    for path in tooling_scripts((f for f in found.files if f.path in with_findings), found.files):
        classes[path] = TESTS
    # A pedantic rule the user names by its id is asked for.
    named = frozenset({PEDANTIC}) if any(rules[r].pedantic for r in opts.select if r in rules) else frozenset()
    findings, held = _grade(findings, rules, classes, opts.report_classes | named)
    findings = folding.fold_all(_suppress(findings, state.markers, opts), rules, {f.path: f.size for f in found.files})
    notices = _per_tree(state.notices) + held
    all_enabled = dict(rules)
    runs: list[ExternalRun] = []
    for engine in external:
        ext = _run_external(engine, opts, all_paths)
        extra, used, run = merge_external(ext, findings, rules, opts, all_paths)
        notices += ext.notices
        findings += extra
        all_enabled.update(used)
        runs.append(run)
    findings.sort(key=Finding.sort_key)
    return ScanResult(
        root=opts.root,
        rules=all_enabled,
        findings=findings,
        notices=sorted(set(notices), key=lambda n: (n.path, n.line or 0, n.message)),
        files=found.files,
        duration_s=time.perf_counter() - started,
        kinds=Counter(f.kind for f in found.files),
        external=runs,
        statistics=_statistics(state, findings, analysed, cached),
    )


def _statistics(state: ScanState, findings: list[Finding], analysed: int, cached: int) -> dict[str, Any]:
    """`--statistics`: where the time went per engine, what each rule found."""
    engines = {
        name: {"files": int(row[0]), "bytes": int(row[1]), "parse_s": round(row[2], 4), "check_s": round(row[3], 4)}
        for name, row in sorted(state.stats.items())
    }
    rules = Counter(f.rule_id for f in findings if f.suppression is None)
    return {
        "units": {"analysed": analysed, "cached": cached},
        "engines": engines,
        "rules": dict(sorted(rules.items(), key=lambda kv: (-kv[1], kv[0]))),
    }


def _open_cache(opts: ScanOptions, rules: Mapping[str, Rule], packaged: bool) -> Any:
    from atlascan import cache

    assert opts.cache_dir is not None
    limits = opts.limits
    settings = cache.settings_of(
        rules.values(),
        {"limits": [limits.max_text_bytes, limits.max_artifact_bytes, limits.file_timeout_s, limits.include_generated],
         "inline_ignores": opts.inline_ignores, "engine_options": opts.engine_options, "debug": opts.debug},
        packaged,
    )  # fmt: skip
    return cache.ResultCache(opts.cache_dir, opts.root, settings)


def _from_cache(
    work: Plan, files: Sequence[SourceFile], config: UnitConfig, opts: ScanOptions, state: ScanState, store: Any
) -> tuple[list[WorkUnit], Any]:
    """Merge the cached results of unchanged units into `state`; the units left to analyse,
    and a callback that stores each analysed unit's results (then saves the cache)."""
    from atlascan import cache

    keys = cache.UnitKeys(config, files, opts.overrides, store.files)
    todo = []
    unit_keys: dict[str, str] = {}
    for unit in work.units:
        uid, key = cache.unit_id(unit), keys.key(unit)
        hit = store.get(uid, key)
        if hit is None:
            todo.append(unit)
            unit_keys[uid] = key
        else:
            _merge(state, hit)

    whole_root = [p.resolve() for p in opts.paths] == [opts.root.resolve()]
    seen = {cache.unit_id(u) for u in work.units} if whole_root else None
    paths = config.all_paths if whole_root else None

    def put(unit: WorkUnit | None, partial: ScanState | None) -> None:
        if unit is None or partial is None:
            store.save(seen, paths)
        else:
            store.put(cache.unit_id(unit), unit_keys[cache.unit_id(unit)], partial)

    return todo, put


def _grade(
    findings: list[Finding], rules: Mapping[str, Rule], classes: Mapping[str, str], report: frozenset[str] = frozenset()
) -> tuple[list[Finding], list[Notice]]:
    """Each finding carries its path's class; hardening and pinning findings are low (unless
    the check raised one above its rule's default on evidence, e.g. a third-party action on a
    branch, or kept it there naming the evidence in `raisedBy`), and info in tests and docs.
    In tests and docs, what does not stand on its own is held back (counted in one notice per
    folder) unless the user asked for that class. Elsewhere the repository's practice, sinks
    with no outside input shown and pedantic rules' findings are held back in one notice per
    rule unless asked for. Runs before the severity threshold applies."""
    kept: list[Finding] = []
    held: list[Finding] = []
    practice: dict[str, list[Finding]] = {}
    unproven: dict[str, list[Finding]] = {}
    pedantic: dict[str, list[Finding]] = {}
    for f in findings:
        cls = classes.get(f.path, PRODUCT)
        f.properties["pathClass"] = cls
        rule = rules.get(f.rule_id)
        if cls in (TESTS, DOCS) and cls not in report and not _stands_alone(f, rule, cls):
            held.append(f)
            continue
        if f.properties.get("practice") and PRACTICE not in report:
            practice.setdefault(f.rule_id, []).append(f)
            continue
        if f.properties.get(UNPROVEN) and UNPROVEN not in report:
            unproven.setdefault(f.rule_id, []).append(f)
            continue
        if rule is not None and rule.pedantic and PEDANTIC not in report:
            pedantic.setdefault(f.rule_id, []).append(f)
            continue
        if rule is not None and rule.fold:
            if cls in (TESTS, DOCS):
                f.severity = Severity.INFO
            elif f.severity <= rule.severity and not f.properties.get("raisedBy"):
                f.severity = min(f.severity, Severity.LOW)
        elif cls in (TESTS, DOCS):
            # Critical means the code shows how an attacker gets into what ships; a test or a
            # tutorial shows a weakness to fix, not a way into a deployment.
            f.severity = min(f.severity, Severity.LOW if rule is not None and rule.demote_in_tests else Severity.HIGH)
        kept.append(f)
    # Counted as --include-tests/--include-docs would report them: folded.
    trees = Counter((tree_of(f.path, f.properties["pathClass"]), f.properties["pathClass"]) for f in folding.fold(held, rules))
    notices = [
        Notice(tree, f"{count} finding{'s' if count > 1 else ''} in {_CLASS_WORDS[cls]} held back: hardening, "
               f"pinning and sinks with no outside input shown (--include-{cls} reports them).", "note",
               held=count, held_as=cls)
        for (tree, cls), count in sorted(trees.items())
    ]  # fmt: skip
    for rule_id, sites in sorted(practice.items()):
        sites.sort(key=Finding.sort_key)
        n = len(sites)
        notices.append(Notice(sites[0].path, f"{rule_id}: {n} site{'s' if n > 1 else ''} held back as the repository's "
                              f"practice ({sites[0].properties['practice']}); --include-practice reports them.", "note",
                              held=n, held_as=PRACTICE))
    for rule_id, sites in sorted(unproven.items()):
        sites.sort(key=Finding.sort_key)
        n = len(sites)
        notices.append(Notice(sites[0].path, f"{rule_id}: {n} site{'s' if n > 1 else ''} held back with "
                              f"{sites[0].properties[UNPROVEN]}; --include-unproven reports them.", "note", held=n, held_as=UNPROVEN))
    for rule_id, sites in sorted(pedantic.items()):
        sites.sort(key=Finding.sort_key)
        n = len(sites)
        notices.append(Notice(sites[0].path, f"{rule_id}: {n} site{'s' if n > 1 else ''} held back: a pedantic pinning rule, "
                              "seldom worth acting on where it stands; --include-pedantic reports them.", "note",
                              held=n, held_as=PEDANTIC))
    return kept, notices


_CLASS_WORDS = {TESTS: "tests and developer tooling", DOCS: "docs and samples"}


def _stands_alone(f: Finding, rule: Rule | None, cls: str) -> bool:
    """Worth reporting from a test or a sample as it stands: outside input shown reaching a
    sink (the check graded it critical), a credential that looks real (the secrets family's
    precise patterns; heuristic assignments, stand-ins the check marked low precision and
    known default values are held), or in a sample what its readers copy as written (the
    check marked it `standsAlone`: a `trust_remote_code` flag a built-in architecture makes
    needless), unless the sample is retired (`archived/`)."""
    if f.severity >= Severity.CRITICAL or (cls == DOCS and f.properties.get("standsAlone") == "samples" and not retired(f.path)):
        return True
    return rule is not None and rule.cwe == 798 and f.precision == Precision.HIGH and not (rule.fold or rule.demote_in_tests)


# Per-file notes that say the same thing about many files of one folder become one notice.
_TREE_NOTES_MIN = 3


def _per_tree(notices: list[Notice]) -> list[Notice]:
    by_folder: dict[tuple[str, str], list[Notice]] = {}
    out = []
    for n in notices:
        if n.level == "note" and n.line is None and "/" in n.path and not n.held:
            by_folder.setdefault((n.path.rsplit("/", 1)[0], n.message), []).append(n)
        else:
            out.append(n)
    for (folder, message), group in by_folder.items():
        if len(group) >= _TREE_NOTES_MIN:
            out.append(Notice(folder + "/", f"{len(group)} files: {message}", "note"))
        else:
            out += group
    return out


def _run_external(engine: ExternalEngine, opts: ScanOptions, scanned: frozenset[str]) -> ExternalFindings:
    try:
        return engine.run(opts.root, opts.paths, scanned, opts.exclude)
    except Exception as exc:  # engines promise not to raise; a broken one still costs no native result
        name = type(engine).__name__
        notice = Notice(".", f"Internal error in {name} ({type(exc).__name__}: {exc}); its results were not merged.", "error")
        return ExternalFindings([], {}, [notice], name)


def merge_external(
    ext: ExternalFindings, native: list[Finding], rules: Mapping[str, Rule], opts: ScanOptions, scanned: frozenset[str]
) -> tuple[list[Finding], dict[str, Rule], ExternalRun]:
    """The merge step: an external engine's findings through the scan's path filters, rule
    selection, dedupe against the native findings and the suppress step. Returns the kept
    findings, the rules they use, and the counts for the CLI."""
    kept = _kept_paths({f.path for f in ext.findings}, opts, scanned)
    enabled = select_rules(ext.rules, opts.select, opts.ignore)
    extra = [f for f in ext.findings if f.path in kept and f.rule_id in enabled]
    selected = len(extra)
    extra = dedupe.external(extra, native, rules, ext.peer)
    deduplicated = selected - len(extra)
    markers = suppress.read_markers({f.path for f in extra}, opts.root, opts.limits) if opts.inline_ignores else {}
    extra = _suppress(extra, markers, opts)
    used = {f.rule_id for f in extra}
    run = ExternalRun(
        engine=ext.peer,
        ran=ext.ran,
        version=ext.version,
        duration_s=ext.duration_s,
        reported=len(ext.findings),
        added=len(extra),
        deduplicated=deduplicated,
        filtered=len(ext.findings) - len(extra) - deduplicated,
    )
    return extra, {rid: r for rid, r in enabled.items() if rid in used}, run


def _kept_paths(paths: set[str], opts: ScanOptions, scanned: frozenset[str]) -> set[str]:
    """An external engine walks the tree itself: hold its paths to the same excludes, ignore
    files and vendored-folder rule as discovery."""
    spec = None
    if opts.exclude:
        import pathspec

        spec = pathspec.GitIgnoreSpec.from_lines(list(opts.exclude))
    kept = set()
    for path in paths:
        parts = path.split("/")[:-1]
        if any(p in QUIET_DIRS for p in parts):
            continue
        if not opts.include_vendored and any(p in VENDORED_DIRS for p in parts):
            continue
        if spec is not None and spec.match_file(path):
            continue
        # A file atlascan classifies but did not discover was left out by .gitignore or excludes.
        if scanned and path not in scanned and classify(path) is not None:
            continue
        kept.add(path)
    return kept


def _prepare(
    work: Plan, opts: ScanOptions, all_paths: frozenset[str], state: ScanState, memo: Any = None, found: Sequence[SourceFile] = (),
    repository: str | None = None,
) -> dict[str, Any]:
    """Each engine's cheap whole-scan pass in the main process (before any worker forks);
    `memo` (the result cache) remembers per-file parts of it between scans. `found`: every
    file of the scan, whatever rules are selected (`--select ATS-DKR-003` still reads the
    manifests that run an image)."""
    from atlascan.engines import PREPARING, load_engine, passes_path_gate
    facts: dict[str, Any] = {}
    scanned = list(found) or list({f.path: f for files in work.engine_files.values() for f in files}.values())
    for name, files in work.engine_files.items():
        if name not in PREPARING or not any(passes_path_gate(name, f) for f in files):
            continue  # an engine with no file to check needs no facts (nor its import)
        try:
            engine = load_engine(name)
        except Exception:
            continue  # each of its files gets an "engine unavailable" notice from the runner
        try:
            engine_rules = {r.id: r for key, rs in work.rules_by_key.items() if key.startswith(name + ":") for r in rs.values()}
            facts[name] = engine.prepare(files, PrepareContext(engine_rules, opts.engine_options, all_paths, memo, scanned, opts.root, repository))
        except Exception as exc:
            state.notices.append(Notice(".", f"The {name} analyzer could not prepare: {type(exc).__name__}: {exc}.", "error"))
    return facts


def _suppress(findings: list[Finding], markers: Mapping[str, list[tuple[int, str]]], opts: ScanOptions) -> list[Finding]:
    """The suppress step: threshold and per-path ignores drop; inline comments and the
    baseline mark (suppressed findings stay in SARIF)."""
    findings = [f for f in findings if f.severity >= opts.severity_threshold]
    findings = suppress.drop_per_path(findings, opts.per_path_ignores)
    if opts.inline_ignores:
        suppress.apply_inline(findings, markers)
    suppress.assign_fingerprints(findings)
    if opts.baseline:
        suppress.apply_baseline(findings, opts.baseline)
    return findings


def _execute(units: list[WorkUnit], config: UnitConfig, opts: ScanOptions, state: ScanState, store: Any = None) -> None:
    """Analyse `units`; `store(unit, state)` receives each unit's results, then `store(None, None)`."""
    _analyse(units, config, opts, state, store)
    if store is not None:
        store(None, None)


def _analyse(units: list[WorkUnit], config: UnitConfig, opts: ScanOptions, state: ScanState, store: Any) -> None:
    total_bytes = sum(f.size for u in units for f in u.files)
    jobs = opts.jobs or min(os.cpu_count() or 1, 8)
    use_pool = jobs > 1 and (len(units) >= POOL_MIN_FILES or total_bytes >= POOL_MIN_BYTES)
    if not use_pool:
        for done, unit in enumerate(units, start=1):
            partial = run_units([unit], config)
            _merge(state, partial)
            if store is not None:
                store(unit, partial)
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
        for chunk, partials in zip(chunks, pool.imap(_run_chunk, chunks), strict=True):
            for unit, partial in zip(chunk, partials, strict=True):
                _merge(state, partial)
                if store is not None:
                    store(unit, partial)
            done += len(chunk)
            if opts.progress:
                opts.progress(done, len(units))


def _merge(state: ScanState, partial: ScanState) -> None:
    state.findings.extend(partial.findings)
    state.notices.extend(partial.notices)
    state.markers.update(partial.markers)
    for name, row in partial.stats.items():
        mine = state.stats.setdefault(name, [0, 0, 0.0, 0.0])
        for i, value in enumerate(row):
            mine[i] += value
