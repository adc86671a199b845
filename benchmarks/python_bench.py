"""Throughput of the Python analyzer on a generated tree, optionally next to Bandit's.

    .venv/bin/python benchmarks/python_bench.py --files 3000 --jobs 1
    .venv/bin/python benchmarks/python_bench.py --files 3000 --bandit /tmp/bandit-venv/bin/bandit

The tree mimics an ML repository: most modules are ordinary code (data classes, helpers,
loops) that names no sink module, and a share (`--sink-share`, default 0.2) are training
or serving scripts with pickle/torch/yaml/transformers calls, some through wrappers. File
sizes vary from about 60 to 900 lines. Nothing generated is ever imported or run.
"""

from __future__ import annotations

import argparse
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PLAIN_BLOCK = '''

@dataclass
class Record{n}:
    name: str
    values: list[float] = field(default_factory=list)

    def total(self) -> float:
        return sum(v * {n} for v in self.values if v > 0)


def transform_{n}(rows: list[dict[str, float]], scale: float = 1.0) -> list[float]:
    out = []
    for row in rows:
        if "x" in row and row["x"] is not None:
            out.append(row["x"] * scale + {n})
        else:
            out.append(math.sqrt(abs(row.get("y", 0.0))))
    return sorted(out)
'''

SINK_BLOCK = '''

def load_checkpoint_{n}(path):
    return torch.load(path, map_location="cpu")


def restore_{n}(args):
    with open(args.cache, "rb") as fh:
        cache = pk.load(fh)
    cfg = yaml.load(open(args.config), Loader=yaml.Loader)
    model = AutoModel.from_pretrained(cfg["model"], trust_remote_code=True)
    state = load_checkpoint_{n}(args.ckpt)
    safe = yaml.safe_load(open("defaults.yaml"))
    return cache, model, state, safe
'''

PLAIN_HEADER = "import math\nfrom dataclasses import dataclass, field\n"
SINK_HEADER = "import pickle as pk\nimport torch\nimport yaml\nfrom transformers import AutoModel\n" + PLAIN_HEADER


def generate(root: Path, files: int, sink_share: float, seed: int = 7) -> int:
    rng = random.Random(seed)
    total = 0
    for i in range(files):
        folder = root / f"pkg{i // 200}" / f"mod{(i // 20) % 10}"
        folder.mkdir(parents=True, exist_ok=True)
        sinks = rng.random() < sink_share
        blocks = rng.randint(3, 45)
        parts = [SINK_HEADER if sinks else PLAIN_HEADER]
        for n in range(blocks):
            parts.append((SINK_BLOCK if sinks and n % 4 == 0 else PLAIN_BLOCK).format(n=n))
        text = "".join(parts)
        (folder / f"file_{i}.py").write_text(text, encoding="utf-8")
        total += len(text.encode("utf-8"))
    return total


def _cpu() -> float:
    """CPU seconds of this process and its finished children: steadier than wall time on a
    shared machine."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def run_atlascan(root: Path, jobs: int) -> tuple[float, float, int]:
    from atlascan.model import Limits
    from atlascan.scan import ScanOptions, run_scan

    started, cpu = time.perf_counter(), _cpu()
    result = run_scan(ScanOptions(paths=[root], root=root, select=["ATS-PY"], jobs=jobs, limits=Limits()))
    return time.perf_counter() - started, _cpu() - cpu, len(result.findings)


def run_bandit(bandit: str, root: Path) -> tuple[float, float, int]:
    started, cpu = time.perf_counter(), _cpu()
    proc = subprocess.run([bandit, "-r", "-q", "-f", "csv", str(root)], capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    issues = max(0, len(proc.stdout.strip().splitlines()) - 1)
    return elapsed, _cpu() - cpu, issues


def _line(name: str, files: int, mb: float, wall: float, cpu: float, count: int, unit: str) -> str:
    return (
        f"{name}: wall {wall:.2f} s ({files / wall:.0f} files/s, {mb / wall:.2f} MB/s); "
        f"cpu {cpu:.2f} s ({files / cpu:.0f} files/s, {mb / cpu:.2f} MB/s); {count} {unit}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=3000)
    parser.add_argument("--sink-share", type=float, default=0.2)
    parser.add_argument("--jobs", type=int, default=1, help="atlascan worker processes (0: automatic)")
    parser.add_argument("--bandit", help="path of a bandit executable to compare with (installed outside the project)")
    parser.add_argument("--keep", help="generate into this folder and keep it")
    opts = parser.parse_args()

    root = Path(opts.keep) if opts.keep else Path(tempfile.mkdtemp(prefix="atlascan-pybench-"))
    try:
        size = generate(root, opts.files, opts.sink_share)
        mb = size / 1e6
        print(f"tree: {opts.files} files, {mb:.1f} MB, {opts.sink_share:.0%} with sinks ({root})")
        wall, cpu, count = run_atlascan(root, opts.jobs)
        print(_line(f"atlascan ATS-PY (jobs={opts.jobs})", opts.files, mb, wall, cpu, count, "findings"))
        if opts.bandit:
            wall, cpu, count = run_bandit(opts.bandit, root)
            print(_line("bandit", opts.files, mb, wall, cpu, count, "issues"))
    finally:
        if not opts.keep:
            shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
