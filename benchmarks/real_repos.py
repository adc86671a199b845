"""Scan real repositories and print what a maintainer would see: findings per repository by
severity, notices, wall time, and the rules that speak most. Used to judge signal over noise.

    python benchmarks/real_repos.py CORPUS            # every folder of CORPUS is one repository
    python benchmarks/real_repos.py CORPUS --rules 15 # the 15 loudest rules per repository
    python benchmarks/real_repos.py CORPUS --json out.json

CORPUS holds checkouts (or exported snapshots) of e.g. bridgecrewio/terragoat,
madhuakula/kubernetes-goat, aws-samples/sagemaker-custom-project-templates, kubeflow/pipelines,
ray-project/kuberay, Azure/MachineLearningNotebooks, kserve/kserve and
GoogleCloudPlatform/vertex-ai-samples. Nothing is downloaded.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

SEVERITIES = ("critical", "high", "medium", "low", "info")
DELIBERATELY_VULNERABLE = ("terragoat", "kubernetes-goat")


def scan(repo: Path, atlascan: list[str]) -> tuple[dict, float]:
    started = time.perf_counter()
    done = subprocess.run(
        [*atlascan, "scan", str(repo), "--root", str(repo), "-f", "json", "-q", "--fail-on", "critical"],
        capture_output=True, text=True, check=False,
    )
    elapsed = time.perf_counter() - started
    if done.returncode not in (0, 1):
        sys.exit(f"{repo.name}: atlascan exited {done.returncode}: {done.stderr.strip()[-400:]}")
    return json.loads(done.stdout), elapsed


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("corpus", type=Path)
    ap.add_argument("--rules", type=int, default=8, help="loudest rules listed per repository")
    ap.add_argument("--atlascan", default=f"{sys.executable} -m atlascan", help="command that runs atlascan")
    ap.add_argument("--json", type=Path, help="also write every count here")
    args = ap.parse_args()
    command = args.atlascan.split()
    totals: Counter[str] = Counter()
    report: dict[str, dict] = {}
    header = f"{'repository':36} {'files':>6} " + " ".join(f"{s[:4]:>5}" for s in SEVERITIES) + f" {'total':>6} {'notes':>6} {'time':>7}"
    print(header)
    for repo in sorted(p for p in args.corpus.iterdir() if p.is_dir()):
        data, elapsed = scan(repo, command)
        active = [f for f in data["findings"] if not f.get("suppressed")]
        by_sev = Counter(f["severity"] for f in active)
        by_rule = Counter(f["rule_id"] for f in active)
        totals.update(by_sev)
        if repo.name not in DELIBERATELY_VULNERABLE:
            totals["critical outside the goats"] += by_sev["critical"]
        report[repo.name] = {"severity": dict(by_sev), "rules": dict(by_rule), "notices": len(data["notices"]),
                             "files": data["summary"]["files"], "seconds": round(elapsed, 2)}
        print(f"{repo.name:36} {data['summary']['files']:>6} " + " ".join(f"{by_sev[s]:>5}" for s in SEVERITIES)
              + f" {len(active):>6} {len(data['notices']):>6} {elapsed:>6.1f}s")
        for rule, count in by_rule.most_common(args.rules):
            print(f"    {rule:28} {count:>5}")
    print(f"\nall: {sum(totals[s] for s in SEVERITIES)} findings (" + ", ".join(f"{totals[s]} {s}" for s in SEVERITIES)
          + f"); criticals outside {' and '.join(DELIBERATELY_VULNERABLE)}: {totals['critical outside the goats']}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=1), "utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
