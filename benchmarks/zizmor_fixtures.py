"""How much of zizmor's labeled test data atlascan reports with its own rules.

    .venv/bin/python benchmarks/zizmor_fixtures.py --git-dir /work/.mirror/zizmorcore+zizmor/repo [--verbose]

zizmor's integration tests (`crates/zizmor/tests/integration/audit/<audit>.rs`) run zizmor
on a file of `crates/zizmor/tests/integration/test-data/` and compare the output with an
inline snapshot, which names each expected finding by audit and `--> @@INPUT@@:line:col`.
This script reads those tests from a git checkout (a bare git dir is enough), keeps the
ones run with zizmor's default persona on one input file and no configuration, writes that
file into a scratch tree (workflows under `.github/workflows/`, `action.yml` as an
action), scans the tree with atlascan and prints:

* the share of zizmor's expected findings that atlascan reports with the mapped rule on
  the same file, with a finding (or a folded "also here" site) whose lines overlap the
  lines zizmor's snippet shows for it;
* the share of expected-clean files ("No findings to report") on which the mapped rules
  stay silent.

Nothing is copied into the project: the fixtures are read from the peer's repository at
run time and deleted afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

AUDITS = {
    "template-injection": "ATS-GHA-001",
    "excessive-permissions": "ATS-GHA-003",
    "dangerous-triggers": "ATS-GHA-002",
    "artipacked": "ATS-GHA-008",
    "unpinned-uses": "ATS-GHA-004",
    "secrets-inherit": "ATS-GHA-006",
}
# Further rules that report part of what one of zizmor's audits does (none yet).
EXTRA_RULES: dict[str, tuple[str, ...]] = {}
TESTS = "crates/zizmor/tests/integration/audit/{}.rs"
DATA = "crates/zizmor/tests/integration/test-data/"
FINDING = re.compile(r"^\s*(error|warning|help|info)\[([a-z-]+)\]:.*\n\s*--> @@INPUT@@:(\d+):\d+", re.M)
REGION = 5  # lines after the start of zizmor's span that a finding may start on
NUMBERED = re.compile(r"^\s*(\d+) \|", re.M)


@dataclass
class Case:
    audit: str
    test: str
    input: str
    expected: list[tuple[str, int, int]] = field(default_factory=list)  # (audit, first, last line)
    clean: bool = False


def git(git_dir: str, *args: str) -> str:
    return subprocess.run(["git", "--git-dir", git_dir, *args], check=True, capture_output=True, text=True).stdout


def cases(git_dir: str) -> tuple[list[Case], int]:
    out: list[Case] = []
    skipped = 0
    for audit in AUDITS:
        source = git(git_dir, "show", f"HEAD:{TESTS.format(audit.replace('-', '_'))}")
        for body in re.split(r"#\[test\]", source)[1:]:
            name = re.search(r"fn (\w+)", body)
            inputs = re.findall(r'input_under_test\(\s*"([^"]+)"\s*,?\s*\)', body)
            options = re.findall(r"\.args\(\[([^\]]*)\]\)", body)
            if (
                len(inputs) != 1
                or "WorkspaceBuilder" in body
                or ".config(" in body
                or any("persona" in o or "pedantic" in o or "--fix" in o or "--min" in o for o in options)
                or body.count("assert_snapshot!") != 1
            ):
                skipped += 1
                continue
            case = Case(audit, name.group(1) if name else "?", inputs[0])
            for m in FINDING.finditer(body):
                if m.group(2) not in AUDITS:
                    continue
                first = int(m.group(3))
                block = body[m.end() : body.find("= note", m.end()) if "= note" in body[m.end() :] else len(body)]
                block = block.split("\n\n", 1)[0]
                lines = [int(n) for n in NUMBERED.findall(block)] or [first]
                # A span over a whole job or file counts from its first lines only.
                case.expected.append((m.group(2), first, min(max(max(lines), first), first + REGION)))
            case.clean = "No findings to report" in body
            if case.expected or case.clean:
                out.append(case)
            else:
                skipped += 1
    return out, skipped


def materialise(git_dir: str, case_list: list[Case], root: Path) -> dict[str, str]:
    """Write each distinct input once; return input -> path relative to the scanned root."""
    where: dict[str, str] = {}
    for i, name in enumerate(sorted({c.input for c in case_list})):
        try:
            text = git(git_dir, "show", f"HEAD:{DATA}{name}")
        except subprocess.CalledProcessError:
            continue  # a folder input, or a file that moved
        base = Path(name).name
        rel = f"{i:03d}/{base}" if base in ("action.yml", "action.yaml") else f"{i:03d}/.github/workflows/{base}"
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
        where[name] = rel
    return where


def scan(root: Path) -> dict[str, dict[str, list[tuple[int, int]]]]:
    env = dict(os.environ)
    cmd = [sys.executable, "-m", "atlascan", "scan", str(root), "--format", "json", "--select", "ATS-GHA",
           "--no-ignore-files", "--include-generated", "--include-vendored", "--include-tests", "--include-docs", "--fail-on", "critical"]  # fmt: skip
    result = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=root)
    report = json.loads(result.stdout)
    sites: dict[str, dict[str, list[tuple[int, int]]]] = defaultdict(lambda: defaultdict(list))
    for f in report["findings"]:
        sites[f["path"]][f["rule_id"]].append((f["line"], f.get("end_line") or f["line"]))
        # A folded finding's other sites ("also here"), in their own files: a fold for the
        # repository gathers the fixtures' files, which are separate repositories to zizmor.
        for r in f.get("related") or []:
            if str(r.get("message", "")).startswith("also here"):
                sites[r.get("path") or f["path"]][f["rule_id"]].append((r["line"], r["line"]))
    return sites


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--git-dir", default="/work/.mirror/zizmorcore+zizmor/repo")
    parser.add_argument("--verbose", "-v", action="store_true")
    args = parser.parse_args()
    case_list, skipped = cases(args.git_dir)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        where = materialise(args.git_dir, case_list, root)
        sites = scan(root)
    per_audit: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    clean = [0, 0]
    seen: set[tuple[str, str, int]] = set()
    misses: list[str] = []
    for case in case_list:
        rel = where.get(case.input)
        if rel is None:
            continue
        for audit, first, last in case.expected:
            if (case.input, audit, first) in seen:
                continue  # the same finding asserted by two tests
            seen.add((case.input, audit, first))
            rules = (AUDITS[audit], *EXTRA_RULES.get(audit, ()))
            hit = any(a <= last and b >= first for rule in rules for a, b in sites.get(rel, {}).get(rule, []))
            per_audit[audit][1] += 1
            per_audit[audit][0] += hit
            if not hit:
                misses.append(f"  miss {audit:22} {case.input}:{first}")
        if case.clean and not case.expected:
            rules = {AUDITS[case.audit], *EXTRA_RULES.get(case.audit, ())}
            noisy = [r for r in rules if sites.get(rel, {}).get(r)]
            clean[1] += 1
            clean[0] += not noisy
            if noisy:
                misses.append(f"  noisy {case.audit:21} {case.input} ({', '.join(noisy)})")
    found = sum(v[0] for v in per_audit.values())
    total = sum(v[1] for v in per_audit.values())
    print(f"zizmor test cases used: {len(case_list)} (skipped {skipped}: other personas, configs, several inputs)")
    for audit, (hit, n) in sorted(per_audit.items()):
        print(f"  {audit:22} {hit:3}/{n:<3} -> {AUDITS[audit]}")
    print(f"expected findings reported natively: {found}/{total} ({100 * found / max(total, 1):.0f}%)")
    print(f"expected-clean files silent:         {clean[0]}/{clean[1]}")
    if args.verbose:
        print("\n".join(misses))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
