"""Command line: `atlascan scan`, `atlascan rules`, `atlascan explain`.

Exit codes: 0 clean, 1 findings at or above --fail-on (or notices with --strict),
2 usage or configuration error. Heavy modules are imported only by the command that needs them.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from atlascan import __version__

FORMATS = ("text", "json", "sarif", "github", "html", "navigator", "gitlab-sast")
SEVERITIES = ("info", "low", "medium", "high", "critical")


class UsageError(Exception):
    pass


class _Formatter(argparse.HelpFormatter):
    """argparse builds a formatter for every `add_argument` (to check its metavar), and each
    asks shutil for the terminal width: importing shutil for that was a tenth of a one-file
    scan's start. The width comes from the terminal, as shutil would find it."""

    def __init__(self, prog: str) -> None:
        try:
            width = int(os.environ.get("COLUMNS", "0")) or os.get_terminal_size(1).columns
        except (AttributeError, OSError, ValueError):
            width = 80
        super().__init__(prog, width=width - 2)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        formatter_class=_Formatter,
        prog="atlascan",
        description="Find security weaknesses of ML pipelines and name them in MITRE ATLAS terms.",
    )
    parser.add_argument("--version", action="version", version=f"atlascan {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    scan = sub.add_parser("scan", formatter_class=_Formatter, help="scan files and folders (default: .)")
    scan.add_argument("paths", nargs="*", type=Path, help="files or folders to scan")
    scan.add_argument("--format", "-f", action="append", choices=FORMATS, dest="formats",
                      help="output format; repeat together with --output for several reports")
    scan.add_argument("--output", "-o", action="append", dest="outputs", type=Path,
                      help="write the report of the matching --format to FILE")
    scan.add_argument("--select", action="append", default=[], metavar="RULE",
                      help="only these rule ids or prefixes (e.g. ATS-SEC); repeatable, comma-separated")
    scan.add_argument("--ignore", action="append", default=[], metavar="RULE",
                      help="skip these rule ids or prefixes; repeatable, comma-separated")
    scan.add_argument("--severity-threshold", choices=SEVERITIES,
                      help="do not report findings below this severity")
    scan.add_argument("--fail-on", choices=SEVERITIES,
                      help="exit 1 when a finding of this severity or above remains (default: low)")
    scan.add_argument("--baseline", type=Path, help="hide findings recorded in this baseline file")
    scan.add_argument("--fix", action="store_true",
                      help="apply suggested fixes (weights_only=True, yaml.safe_load, ...) to Python files")
    scan.add_argument("--write-baseline", type=Path, metavar="FILE",
                      help="record the current findings as the baseline and exit 0")
    scan.add_argument("--exclude", action="append", default=[], metavar="GLOB",
                      help="skip paths matching this gitignore-style glob; repeatable")
    scan.add_argument("--no-ignore-files", action="store_true", help="do not honour .gitignore files")
    scan.add_argument("--force-exclude", action="store_true",
                      help="apply excludes also to files named on the command line (for pre-commit)")
    scan.add_argument("--no-inline-ignores", action="store_true",
                      help="report findings even where an `atlascan: ignore[...]` comment suppresses them")
    scan.add_argument("--include-vendored", action="store_true",
                      help="also scan node_modules, vendor, third_party, virtualenvs")
    scan.add_argument("--include-generated", action="store_true",
                      help="also scan generated, minified and oversized text files")
    scan.add_argument("--include-tests", action="store_true",
                      help="report everything found in tests (by default hardening, pinning and findings without "
                           "outside input are held back there and counted in one notice per folder)")
    scan.add_argument("--include-docs", action="store_true",
                      help="report everything found in docs, examples, samples and notebooks folders (held back like tests)")
    scan.add_argument("--include-practice", action="store_true",
                      help="report what follows the repository's own practice (image and action tags where it pins "
                           "few by digest or SHA; loads of the model a serving platform put in place); by default counted "
                           "in one notice per rule")
    scan.add_argument("--include-unproven", action="store_true",
                      help="report sinks the code shows no outside input reaching (a script's own command line or "
                           "environment, a file or bucket the code names, data of unknown origin, what a loader or "
                           "runner function is handed); by default counted in one notice per rule")
    scan.add_argument("--include-pedantic", action="store_true",
                      help="report the rules marked pedantic (pinning by digest or version beyond the repository's "
                           "practice: images, base images, remote ADD, ML package versions); by default counted in one "
                           "notice per rule, and reported when a rule is selected by its id")
    scan.add_argument("--max-file-size", type=_positive_int, metavar="KIB", help="largest text file to scan (default 5120 KiB)")
    scan.add_argument("--root", type=Path, help="folder that reported paths are relative to (default: current folder)")
    scan.add_argument("--config", type=Path, metavar="FILE",
                      help="configuration file, trusted like these flags (default: .atlascan.toml or pyproject.toml "
                           "in the root, which may only narrow what is reported)")
    scan.add_argument("--category", help="SARIF automationDetails category (for several uploads per commit)")
    scan.add_argument("--jobs", "-j", type=_positive_int, default=None, help="worker processes (default: number of cores)")
    scan.add_argument("--quiet", "-q", action="store_true", help="print only findings, no summary or notices")
    scan.add_argument("--strict", action="store_true", help="files that could not be parsed fail the run")
    scan.add_argument("--no-color", action="store_true", help="plain text output")
    scan.add_argument("--show-suppressed", action="store_true", help="list suppressed findings in text output")
    scan.add_argument("--debug", action="store_true", help="include tracebacks of internal errors in notices")
    scan.add_argument("--statistics", action="store_true",
                      help="after the scan, print per engine files, bytes, parse and check time, and findings per rule "
                           "(to standard error; JSON output gets a `statistics` key)")
    scan.add_argument("--cache-dir", type=Path, metavar="DIR",
                      help="where the result cache lives (default: $XDG_CACHE_HOME/atlascan or ~/.cache/atlascan)")
    scan.add_argument("--no-cache", action="store_true", help="analyse every file, neither reading nor writing the result cache")
    scan.add_argument("--with-checkov", action="store_true",
                      help="also run Checkov (installed apart) and report its checks mapped to MITRE ATLAS")
    scan.add_argument("--checkov-bin", metavar="PATH",
                      help="the checkov program (default: checkov on PATH); never one inside the scanned repository")
    scan.add_argument("--checkov-timeout", type=int, metavar="SECONDS", help="stop Checkov after this long (default 600)")

    rules = sub.add_parser("rules", formatter_class=_Formatter, help="list the rules")
    rules.add_argument("--format", choices=("text", "json", "markdown", "navigator"), default="text",
                       help="markdown: one page per rule plus an index, written to the --output folder")
    rules.add_argument("--output", "-o", type=Path, help="folder (markdown) or file (navigator) to write")
    rules.add_argument("--select", action="append", default=[], metavar="RULE")

    explain = sub.add_parser("explain", formatter_class=_Formatter, help="print a rule's guidance")
    explain.add_argument("rule", help="rule id or name")

    cache = sub.add_parser("cache", formatter_class=_Formatter, help="manage the result cache")
    cache_sub = cache.add_subparsers(dest="cache_command", metavar="ACTION", required=True)
    clean = cache_sub.add_parser("clean", formatter_class=_Formatter, help="remove the cached scan results")
    clean.add_argument("--cache-dir", type=Path, metavar="DIR", help="the cache folder (default: the user's cache folder)")

    sub.add_parser("server", formatter_class=_Formatter, help="run the language server on stdio, for editors (needs the [lsp] extra)")

    export = sub.add_parser("export-checkov", formatter_class=_Formatter, help="write atlascan's declarative IaC rules as Checkov YAML policies")
    export.add_argument("directory", type=Path, help="folder for the policies (for checkov --external-checks-dir)")
    return parser


def _split(values: Sequence[str]) -> list[str]:
    return [v.strip() for item in values for v in item.split(",") if v.strip()]


def _positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if number <= 0:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {number}")
    return number


def _check_inputs(args: argparse.Namespace, paths: list[Path]) -> None:
    """Mistakes that would otherwise scan nothing, or fail only after the scan: exit 2."""
    for path in paths:
        if not os.path.lexists(path):
            raise UsageError(f"{path}: no such file or folder")
    from atlascan.rules import default_rules
    from atlascan.scan import select_rules

    known = default_rules()
    for flag, values in (("--select", _split(args.select)), ("--ignore", _split(args.ignore))):
        for value in values:
            if value.startswith("checkov") or select_rules(known, [value], []):
                continue
            raise UsageError(f"{flag} {value}: no rule id or prefix matches it (`atlascan rules` lists them)")
    for flag, target in [("--output", o) for o in args.outputs or []] + [("--write-baseline", args.write_baseline)]:
        if target is not None:
            _check_writable(flag, target)


def _check_writable(flag: str, target: Path) -> None:
    if target.is_dir():
        raise UsageError(f"{flag} {target}: is a folder, not a file")
    parent = target.absolute().parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise UsageError(f"{flag} {target}: {parent} is a file, not a folder")
    if not os.access(parent, os.W_OK) or (target.exists() and not os.access(target, os.W_OK)):
        raise UsageError(f"{flag} {target}: cannot be written")


def main(argv: Sequence[str] | None = None) -> int:
    # Young-generation collections while imports build classes and the AST is walked cost a
    # tenth of a one-file run and find no cycles worth freeing; mypy raises them the same way.
    gc.set_threshold(100_000, 20, 20)
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "scan":
            return _scan(args)
        if args.command == "rules":
            return _rules(args)
        if args.command == "explain":
            return _explain(args)
        if args.command == "server":
            return _server()
        if args.command == "cache":
            return _cache_clean(args.cache_dir)
        if args.command == "export-checkov":
            from atlascan.integrations.checkov_export import export_command

            return export_command(args.directory)
    except UsageError as exc:
        print(f"atlascan: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # e.g. `atlascan scan | head`
        return 0
    parser.print_help()
    return 2


def _scan(args: argparse.Namespace) -> int:
    from atlascan import config as configuration
    from atlascan.model import Limits, Severity
    from atlascan.pathclass import report_classes
    from atlascan.rules import RuleError
    from atlascan.scan import ScanOptions, run_scan
    from atlascan.suppress import BaselineError, read_baseline, write_baseline

    paths = [p.absolute() for p in (args.paths or [Path(".")])]
    _check_inputs(args, paths)
    root = _root(args.root, paths)
    try:
        config = configuration.load(root, paths, args.config)
    except configuration.ConfigError as exc:
        raise UsageError(str(exc)) from None

    formats = args.formats or ["text"]
    outputs = args.outputs or []
    if len(outputs) > len(formats):
        raise UsageError("more --output files than --format options")
    to_stdout = formats[len(outputs):]
    if len(to_stdout) > 1:
        raise UsageError("only one report can go to standard output; give the others an --output file")

    baseline_path = args.baseline or (Path(config.baseline) if config.baseline else None)
    baseline = None
    if baseline_path is not None and args.write_baseline is None:
        if not baseline_path.is_absolute():
            baseline_path = (root / baseline_path) if args.baseline is None else baseline_path
        try:
            baseline = read_baseline(baseline_path)
        except BaselineError as exc:
            raise UsageError(str(exc)) from None

    threshold = Severity.parse(args.severity_threshold) if args.severity_threshold else config.severity_threshold
    fail_on = Severity.parse(args.fail_on) if args.fail_on else config.fail_on
    max_kb = args.max_file_size or config.max_file_size_kb
    interactive = sys.stderr.isatty() and not args.quiet and "CI" not in os.environ

    progress_cb, progress_done = _progress(interactive)
    # The cache folder comes from the command line or the user's environment, never from the
    # scanned repository's configuration; a folder inside the scanned tree is not scanned.
    cache_dir = None if args.no_cache else (args.cache_dir.absolute() if args.cache_dir else None)
    if not args.no_cache and cache_dir is None:
        from atlascan.cache import default_dir

        cache_dir = default_dir()
    cache_exclude = []
    if cache_dir is not None and _inside(cache_dir, root) and cache_dir != root:
        cache_exclude.append("/" + cache_dir.relative_to(root).as_posix() + "/")
    options = ScanOptions(
        paths=paths,
        root=root,
        select=_split(args.select) or config.select,
        ignore=_split(args.ignore) + config.ignore,
        exclude=list(args.exclude) + config.exclude + cache_exclude,
        per_path_ignores=config.per_path_ignores,
        use_ignore_files=config.respect_ignore_files and not args.no_ignore_files,
        include_vendored=args.include_vendored or config.include_vendored,
        path_classes=config.path_classes,
        report_classes=report_classes(
            args.include_tests or config.include_tests,
            args.include_docs or config.include_docs,
            args.include_practice or config.include_practice,
            args.include_unproven or config.include_unproven,
            args.include_pedantic or config.include_pedantic,
        ),
        force_exclude=args.force_exclude,
        limits=Limits(
            max_text_bytes=max_kb * 1024,
            include_generated=args.include_generated or config.include_generated,
        ),
        inline_ignores=config.inline_ignores and not args.no_inline_ignores,
        baseline=baseline,
        severity_threshold=threshold,
        jobs=args.jobs if args.jobs is not None else config.jobs,
        engine_options=config.options,
        debug=args.debug,
        progress=progress_cb,
        cache_dir=cache_dir,
    )
    external = []
    if args.with_checkov or config.with_checkov:
        from atlascan.integrations.checkov import CheckovEngine

        external.append(CheckovEngine(binary=args.checkov_bin or config.checkov_bin,
                                      timeout_s=args.checkov_timeout or config.checkov_timeout,
                                      frameworks=config.checkov_frameworks))
    try:
        result = run_scan(options, external=external)
    except RuleError as exc:
        raise UsageError(f"rule library: {exc}") from None
    finally:
        progress_done()
    if config.notices:
        result.notices = sorted({*result.notices, *config.notices}, key=lambda n: (n.path, n.line or 0, n.message))
    for run in result.external:
        if run.ran and not args.quiet:
            print(f"atlascan: {run.engine} {run.version or '?'} ran in {run.duration_s:.1f} s: {run.reported} failed check(s), "
                  f"{run.added} reported, {run.deduplicated} folded into atlascan findings, {run.filtered} filtered",
                  file=sys.stderr)

    if args.fix:
        from atlascan.fix import apply_fixes

        fixed = apply_fixes(result)
        if fixed.fixed:
            print(f"atlascan: fixed {len(fixed.fixed)} finding(s) in {len(fixed.files)} file(s)", file=sys.stderr)

    if args.write_baseline is not None:
        count = write_baseline(args.write_baseline, result.findings)
        print(f"atlascan: wrote {count} finding(s) to baseline {args.write_baseline}", file=sys.stderr)
        return 0

    from atlascan.report import render

    color = not args.no_color and "NO_COLOR" not in os.environ and sys.stdout.isatty()
    for fmt, out in zip(formats, outputs + [None] * len(to_stdout), strict=True):
        text = render(fmt, result, color=color, quiet=args.quiet, category=args.category,
                      show_suppressed=args.show_suppressed, statistics=args.statistics)
        if out is None:
            sys.stdout.write(text)
            sys.stdout.flush()
        else:
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(text, encoding="utf-8")
    if args.statistics:
        sys.stderr.write(statistics_text(result.statistics))
    if "text" not in to_stdout and not args.quiet and outputs:
        failing = sum(1 for f in result.active_findings if f.severity >= fail_on)
        print(f"atlascan: {len(result.active_findings)} finding(s), {failing} at or above {fail_on.label}; "
              f"{len(result.files)} file(s) in {result.duration_s:.2f} s", file=sys.stderr)

    if any(f.severity >= fail_on for f in result.active_findings):
        return 1
    if (args.strict or config.strict) and any(n.level in ("error", "warning") for n in result.notices):
        return 1
    return 0


def statistics_text(stats: dict) -> str:
    """`--statistics` as plain text: where the time went, per engine, and findings per rule."""
    units = stats.get("units", {})
    lines = [f"statistics: {units.get('analysed', 0)} unit(s) analysed, {units.get('cached', 0)} from the cache"]
    lines.append(f"  {'engine':<14}{'files':>8}{'KiB':>10}{'parse s':>10}{'check s':>10}  (CPU seconds, all workers)")
    for name, row in stats.get("engines", {}).items():
        lines.append(f"  {name:<14}{row['files']:>8}{row['bytes'] // 1024:>10}{row['parse_s']:>10.3f}{row['check_s']:>10.3f}")
    rules = stats.get("rules", {})
    if rules:
        lines.append(f"  {'rule':<14}{'findings':>8}")
        lines += [f"  {rid:<14}{count:>8}" for rid, count in rules.items()]
    return "\n".join(lines) + "\n"


def _cache_clean(given: Path | None) -> int:
    from atlascan.cache import clean, default_dir

    directory = given.absolute() if given else default_dir()
    removed = clean(directory)
    print(f"atlascan: removed {removed} cache file(s) from {directory}", file=sys.stderr)
    return 0


def _server() -> int:
    try:
        from atlascan.lsp.server import main as serve
    except ImportError as exc:
        if exc.name and exc.name.split(".")[0] in ("pygls", "lsprotocol"):
            raise UsageError("the language server needs pygls: pip install 'atlascan[lsp]'") from None
        raise
    serve()
    return 0


def _root(given: Path | None, paths: list[Path]) -> Path:
    if given is not None:
        root = given.absolute()
        for p in paths:
            if not _inside(p, root):
                raise UsageError(f"{p} is not inside --root {root}")
        return root
    cwd = Path.cwd()
    if all(_inside(p, cwd) for p in paths):
        return cwd
    common = Path(os.path.commonpath([str(p) for p in paths]))
    return common if common.is_dir() else common.parent


def _inside(path: Path, root: Path) -> bool:
    try:
        path.relative_to(root)
        return True
    except ValueError:
        return False


def _progress(interactive: bool) -> tuple[Callable[[int, int], None] | None, Callable[[], None]]:
    """A rich progress bar for long scans on a terminal; nothing otherwise."""
    if not interactive:
        return None, lambda: None
    from rich.progress import Progress, TaskID

    bars: list[tuple[Progress, TaskID]] = []

    def update(done: int, total: int) -> None:
        if not bars:
            if total < 200:
                return
            bar = Progress(transient=True)
            bar.start()
            bars.append((bar, bar.add_task("scanning", total=total)))
        bar, task = bars[0]
        bar.update(task, completed=done)

    def finish() -> None:
        for bar, _ in bars:
            bar.stop()

    return update, finish


def _rules(args: argparse.Namespace) -> int:
    import json

    from atlascan.atlas import catalog
    from atlascan.rules import default_rules
    from atlascan.scan import select_rules

    rules = select_rules(default_rules(), _split(args.select), [])
    if args.format in ("markdown", "navigator"):
        return _rules_export(args, rules)
    cat = catalog()
    if args.format == "json":
        data = [
            {
                "id": r.id, "name": r.name, "title": r.title, "severity": r.severity.label,
                "precision": r.precision.label, "cwe": r.cwe, "kinds": list(r.kinds),
                "atlas_techniques": [{"id": t, "name": cat.technique_label(t)} for t in r.atlas_techniques],
                "atlas_mitigations": [{"id": m, "name": cat.mitigations[m].name} for m in r.atlas_mitigations],
                "status": r.status,
            }
            for r in rules.values()
        ]
        print(json.dumps(data, indent=2))
        return 0
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"atlascan rules ({len(rules)}), MITRE ATLAS {cat.version}")
    for col in ("id", "name", "severity", "ATLAS techniques"):
        table.add_column(col)
    for r in rules.values():
        table.add_row(r.id, r.name, r.severity.label, ", ".join(r.atlas_techniques))
    Console(no_color="NO_COLOR" in os.environ).print(table)
    return 0


def _rules_export(args: argparse.Namespace, rules: dict) -> int:
    if args.format == "markdown":
        from atlascan.report.markdown_docs import write_docs

        if args.output is None:
            raise UsageError("--format markdown writes one page per rule: give the folder with --output")
        written = write_docs(rules, args.output)
        print(f"atlascan: wrote {len(written)} page(s) to {args.output}", file=sys.stderr)
        return 0
    from atlascan.report.navigator import coverage_layer

    text = coverage_layer(rules)
    if args.output is None:
        sys.stdout.write(text)
    else:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text, encoding="utf-8")
    return 0


def _explain(args: argparse.Namespace) -> int:
    from atlascan.report.guidance import explain_markdown
    from atlascan.rules import default_rules

    rules = default_rules()
    wanted = args.rule.strip()
    rule = rules.get(wanted.upper()) or next((r for r in rules.values() if r.name == wanted), None)
    if rule is None:
        raise UsageError(f"no rule {wanted!r}; `atlascan rules` lists them")
    text = explain_markdown(rule)
    if sys.stdout.isatty():
        from rich.console import Console
        from rich.markdown import Markdown

        Console().print(Markdown(text))
    else:
        sys.stdout.write(text)
    return 0
