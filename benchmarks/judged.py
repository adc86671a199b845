"""Share of findings worth acting on, against verdicts a reviewer wrote by reading the code.

    python benchmarks/judged.py CORPUS benchmarks/judged/issue13.tsv          # scan, then tally
    python benchmarks/judged.py CORPUS benchmarks/judged/issue13.tsv -v       # list every finding
    python benchmarks/judged.py CORPUS a.tsv b.tsv                           # several samples at once

CORPUS is laid out as for real_repos.py (one folder per repository, at the commits the
verdicts file names in its header). A verdict row is keyed on (repository, rule, path, line):
ACT (worth acting on where it stands), NOISE (true but worthless there) or FALSE (wrong). A
finding no row matches is NEW: judge it before quoting a share. Issue 13's target is 80% ACT
overall and among criticals.
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections import Counter
from pathlib import Path

from real_repos import DELIBERATELY_VULNERABLE, scan

VERDICTS = ("ACT", "NOISE", "FALSE")


def load(path: Path) -> dict[tuple[str, str, str, int], dict[str, str]]:
    rows = (line for line in path.read_text(encoding="utf-8").splitlines() if not line.startswith("#"))
    return {(r["repo"], r["rule"], r["path"], int(r["line"])): r for r in csv.DictReader(rows, delimiter="\t")}


def share(counts: Counter[str]) -> str:
    judged = sum(counts[v] for v in VERDICTS)
    act = f"{100 * counts['ACT'] / judged:.1f}%" if judged else "-"
    return f"{judged + counts['NEW']:4} findings  ACT {counts['ACT']:3} NOISE {counts['NOISE']:3} FALSE {counts['FALSE']:3} NEW {counts['NEW']:3}  ACT share {act}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("corpus", type=Path)
    ap.add_argument("verdicts", type=Path, nargs="+", help="verdict files; a later file's row wins for the same finding")
    ap.add_argument("-v", "--verbose", action="store_true", help="print every finding with its verdict")
    ap.add_argument("--atlascan", default=f"{sys.executable} -m atlascan", help="command that runs atlascan")
    args = ap.parse_args()
    verdicts = {key: row for path in args.verdicts for key, row in load(path).items()}
    overall: Counter[str] = Counter()
    outside: Counter[str] = Counter()
    critical: Counter[str] = Counter()
    for repo in sorted(p for p in args.corpus.iterdir() if p.is_dir()):
        data, _ = scan(repo, args.atlascan.split())
        mine: Counter[str] = Counter()
        for f in data["findings"]:
            if f.get("suppressed"):
                continue
            row = verdicts.get((repo.name, f["rule_id"], f["path"], f["line"]))
            verdict = row["verdict"] if row else "NEW"
            mine[verdict] += 1
            if f["severity"] == "critical":
                critical[verdict] += 1
            if args.verbose or verdict == "NEW":
                print(f"  {verdict:5} {f['severity']:8} {f['rule_id']} {f['path']}:{f['line']}  {f['message'][:100]}")
        overall.update(mine)
        if repo.name not in DELIBERATELY_VULNERABLE:
            outside.update(mine)
        print(f"{repo.name:36} {share(mine)}")
    print(f"{'all':36} {share(overall)}")
    print(f"{'outside the goats':36} {share(outside)}")
    print(f"{'criticals':36} {share(critical)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
