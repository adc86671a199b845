"""Human-readable terminal output, grouped by file, rendered with rich."""

from __future__ import annotations

import io
from collections import Counter
from typing import Any

from atlascan.model import ScanResult, Severity
from atlascan.textutil import display_path, printable

_STYLE = {Severity.CRITICAL: "bold white on red", Severity.HIGH: "bold red", Severity.MEDIUM: "yellow",
          Severity.LOW: "cyan", Severity.INFO: "dim"}  # fmt: skip


def render(result: ScanResult, *, color: bool = False, quiet: bool = False, show_suppressed: bool = False, **_: Any) -> str:
    from rich.console import Console
    from rich.markup import escape

    buf = io.StringIO()
    console = Console(file=buf, force_terminal=color, no_color=not color, width=120, highlight=False, soft_wrap=True)
    shown = [f for f in result.findings if f.suppression is None or show_suppressed]
    folding = {rid for rid, rule in result.rules.items() if rule.fold}
    # Top-down: what an attacker can use first, then the rest; hardening and pinning rules
    # (folded one per file) end the report as one summary line per rule.
    urgent = [f for f in shown if f.severity >= Severity.HIGH]
    rest = [f for f in shown if f.severity < Severity.HIGH and f.rule_id not in folding]
    folded = [f for f in shown if f.severity < Severity.HIGH and f.rule_id in folding]
    for title, group in (("Critical and high", urgent), ("Medium and low", rest)):
        if not group:
            continue
        if urgent and rest:
            console.print(f"[bold]{title}[/]")
        _by_file(console, group, result, quiet)
        if group is urgent and (rest or folded):
            console.print()
    if folded:
        console.print("[bold]Hardening and pinning (folded per file, per folder in tests and docs; every site in JSON and SARIF)[/]")
        per_rule: dict[str, list[int]] = {}
        for f in folded:
            per_rule.setdefault(f.rule_id, []).append(int(f.properties.get("folded", 1)))
        for rid, sites in sorted(per_rule.items(), key=lambda kv: -sum(kv[1])):
            rule = result.rules[rid]
            console.print(f"  [bold]{rid}[/] {escape(rule.title)}: {sum(sites)} site(s), folded into {len(sites)} finding(s)")
    if not quiet:
        notices = [n for n in result.notices if n.level != "note"]
        if notices:
            console.print()
            console.print("[bold]Files not fully scanned:[/]")
            for n in notices:
                line = f":{n.line}" if n.line else ""
                console.print(f"  {escape(display_path(n.path))}{line} [dim]{escape(printable(n.message))}[/]")
        skipped = len(result.notices) - len(notices)
        active = result.active_findings
        counts = Counter(f.severity for f in active)
        parts = [f"{counts[s]} {s.label}" for s in sorted(counts, reverse=True)]
        console.print()
        summary = f"{len(active)} finding(s)" + (f" ({', '.join(parts)})" if parts else "")
        suppressed = len(result.findings) - len(active)
        if suppressed:
            summary += f", {suppressed} suppressed"
        summary += f" in {len(result.files)} file(s), {result.duration_s:.2f} s"
        if skipped:
            summary += f"; {skipped} path(s) skipped (vendored, generated or links)"
        console.print(f"[bold]{summary}[/]")
        if active:
            first = min(active, key=lambda f: (-f.severity, f.sort_key())).rule_id
            console.print(f"[dim]How to fix: `atlascan explain {first}` (or any rule id above).[/]")
    return buf.getvalue()


def _by_file(console: Any, findings: list[Any], result: ScanResult, quiet: bool) -> None:
    from rich.markup import escape

    current = None
    for f in sorted(findings, key=lambda f: f.sort_key()):
        if f.path != current:
            if current is not None:
                console.print()
            console.print(f"[bold underline]{escape(display_path(f.path))}[/]")
            current = f.path
        rule = result.rules[f.rule_id]
        col = f":{f.region.start_column}" if f.region.start_column else ""
        tag = " [dim](suppressed)[/]" if f.suppression else ""
        console.print(
            f"  {f.region.start_line}{col} [{_STYLE[f.severity]}]{f.severity.label.upper()}[/] "
            f"[bold]{f.rule_id}[/] {escape(printable(f.message))} [dim]{rule.name}; {', '.join(rule.atlas_techniques)}[/]{tag}"
        )
        if f.snippet and not quiet:
            first = f.snippet.splitlines()[0].strip()
            console.print(f"      [dim]{escape(printable(first))}[/]")
