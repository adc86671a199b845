"""Human-readable terminal output, grouped by file: rendered with rich for a color terminal,
and as the same text without importing rich otherwise (a pre-commit hook or CI log pays
nothing for styles it would strip)."""

from __future__ import annotations

import io
from collections import Counter
from typing import Any

from atlascan.model import ScanResult, Severity
from atlascan.pathclass import PEDANTIC, PRACTICE, UNPROVEN
from atlascan.textutil import display_path, printable

_STYLE = {Severity.CRITICAL: "bold white on red", Severity.HIGH: "bold red", Severity.MEDIUM: "yellow",
          Severity.LOW: "cyan", Severity.INFO: "dim"}  # fmt: skip


class _Plain:
    """The part of rich's Console this renderer uses, for markup-free output: the same lines
    rich prints with color off."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def print(self, text: str = "") -> None:
        self.lines.append(text)

    def getvalue(self) -> str:
        return "".join(line + "\n" for line in self.lines)


def _markup(color: bool) -> tuple[Any, Any]:
    """(console, escape): rich's when coloring; otherwise a plain console whose `[style]`
    tags are never written, so nothing needs escaping."""
    if color:
        from rich.console import Console
        from rich.markup import escape

        console = Console(file=io.StringIO(), force_terminal=True, no_color=False, width=120, highlight=False, soft_wrap=True)
        return console, escape
    return _Plain(), str


def _s(console: Any, style: str, text: str) -> str:
    """`text` in `style`: rich markup for a rich console, the text alone otherwise."""
    return text if isinstance(console, _Plain) else f"[{style}]{text}[/]"


def render(result: ScanResult, *, color: bool = False, quiet: bool = False, show_suppressed: bool = False, **_: Any) -> str:
    console, escape = _markup(color)
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
            console.print(_s(console, "bold", title))
        _by_file(console, escape, group, result, quiet)
        if group is urgent and (rest or folded):
            console.print()
    if folded:
        console.print(_s(console, "bold", "Hardening and pinning (folded per file, or per repository where it is the practice; every site in JSON and SARIF)"))
        per_rule: dict[str, list[int]] = {}
        for f in folded:
            per_rule.setdefault(f.rule_id, []).append(int(f.properties.get("folded", 1)))
        for rid, sites in sorted(per_rule.items(), key=lambda kv: -sum(kv[1])):
            rule = result.rules[rid]
            console.print(f"  {_s(console, 'bold', rid)} {escape(rule.title)}: {sum(sites)} site(s), folded into {len(sites)} finding(s)")
    if not quiet:
        notices = [n for n in result.notices if n.level != "note"]
        if notices:
            console.print()
            console.print(_s(console, "bold", "Files not fully scanned:"))
            for n in notices:
                line = f":{n.line}" if n.line else ""
                console.print(f"  {escape(display_path(n.path))}{line} {_s(console, 'dim', escape(printable(n.message)))}")
        held = [n for n in result.notices if n.held]
        listed = (PRACTICE, UNPROVEN, PEDANTIC)  # one notice per rule, each printed
        practice = sorted((n for n in held if n.held_as in listed), key=lambda n: n.message)
        if held:
            # Counted, not reported: the user learns what is there and which flag shows it.
            console.print()
            console.print(_s(console, "bold", "Held back (counted, not reported):"))
            for n in practice:
                console.print(f"  {escape(printable(n.message))}")
            elsewhere = [n for n in held if n.held_as not in listed]
            if elsewhere:
                count = sum(n.held for n in elsewhere)
                flags = ", ".join(f"--include-{c}" for c in sorted({n.held_as for n in elsewhere if n.held_as}))
                console.print(f"  {count} finding(s) in tests, docs and samples, in {len(elsewhere)} folder(s) "
                              f"(hardening, pinning and sinks with no outside input shown; {flags} report them).")
        skipped = len(result.notices) - len(notices) - len(held)
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
        console.print(_s(console, "bold", summary))
        if active:
            first = min(active, key=lambda f: (-f.severity, f.sort_key())).rule_id
            console.print(_s(console, "dim", f"How to fix: `atlascan explain {first}` (or any rule id above)."))
    return console.getvalue() if isinstance(console, _Plain) else console.file.getvalue()


def _by_file(console: Any, escape: Any, findings: list[Any], result: ScanResult, quiet: bool) -> None:
    current = None
    for f in sorted(findings, key=lambda f: f.sort_key()):
        if f.path != current:
            if current is not None:
                console.print()
            console.print(_s(console, "bold underline", escape(display_path(f.path))))
            current = f.path
        rule = result.rules[f.rule_id]
        col = f":{f.region.start_column}" if f.region.start_column else ""
        tag = " " + _s(console, "dim", "(suppressed)") if f.suppression else ""
        console.print(
            f"  {f.region.start_line}{col} {_s(console, _STYLE[f.severity], f.severity.label.upper())} "
            f"{_s(console, 'bold', f.rule_id)} {escape(printable(f.message))} "
            f"{_s(console, 'dim', f'{rule.name}; ' + ', '.join(rule.atlas_techniques))}{tag}"
        )
        if f.snippet and not quiet:
            first = f.snippet.splitlines()[0].strip()
            console.print("      " + _s(console, "dim", escape(printable(first))))
