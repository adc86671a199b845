"""The dedupe step: one weakness, one finding, whichever engines saw it. It runs after every
engine has checked, so it knows which rules were enabled: a rule defers to another only when
that other rule actually reported."""

from __future__ import annotations

from collections.abc import Mapping

from atlascan.model import Finding
from atlascan.rules import Rule


def deferred(findings: list[Finding], rules: Mapping[str, Rule]) -> list[Finding]:
    """Drop a finding whose rule `defers_to` a rule that reported on the same line (or, for a
    finding about several values listed as related locations, on every one of their lines)."""
    deferring = {rid for rid, r in rules.items() if r.defers_to}
    if not deferring or not any(f.rule_id in deferring for f in findings):
        return findings
    lines: dict[tuple[str, int], list[str]] = {}
    for f in findings:
        for line in range(f.region.start_line, (f.region.end_line or f.region.start_line) + 1):
            lines.setdefault((f.path, line), []).append(f.rule_id)
    kept = []
    for f in findings:
        if f.rule_id in deferring:
            prefixes = rules[f.rule_id].defers_to
            about = [r.region.start_line for r in f.related if r.path == f.path] or [f.region.start_line]
            if all(
                any(o != f.rule_id and o.startswith(p) for o in lines.get((f.path, line), ()) for p in prefixes)
                for line in about
            ):
                continue
        kept.append(f)
    return kept


def external(extra: list[Finding], native: list[Finding], rules: Mapping[str, Rule], peer: str) -> list[Finding]:
    """Drop an external engine's finding that a native rule already reports: same file, the
    native finding inside the external one's scope (its resource block), and the native rule
    naming the external id in `peers.<peer>`. The native finding keeps the id in
    `properties.<peer>Ids`."""
    by_key: dict[tuple[str, str], list[Finding]] = {}
    for f in native:
        rule = rules.get(f.rule_id)
        for pid in rule.peers.get(peer, ()) if rule else ():
            by_key.setdefault((f.path, pid), []).append(f)
    kept = []
    for f in extra:
        peer_id = str(f.properties.get("peerId", ""))
        scope = f.scope or f.region
        last = scope.end_line or scope.start_line
        twins = [n for n in by_key.get((f.path, peer_id), ()) if scope.start_line <= n.region.start_line <= last]
        if not twins:
            kept.append(f)
            continue
        for n in twins:
            ids = n.properties.setdefault(f"{peer}Ids", [])
            if peer_id not in ids:
                ids.append(peer_id)
    return kept
