"""Scan time of one wide module: N functions whose parameter reaches a sink, each called once
at module level. Every such parameter asks what its calls hand it, so a per-lookup walk of
the module's calls grows with N squared; the lookups are indexed once per module. Prints
the time per function at two sizes (in process, one worker): a ratio near 1 means linear.

    .venv/bin/python benchmarks/wide_module.py            # 750 and 3000 functions
    .venv/bin/python benchmarks/wide_module.py --sizes 1000 4000
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path


def module(n: int) -> str:
    defs = "".join(f"def load_{i}(path):\n    return pickle.loads(path)\n\n" for i in range(n))
    calls = "".join(f"load_{i}(blobs[{i}])\n" for i in range(n))
    return "import pickle\n\n" + defs + calls


def scan_seconds(n: int) -> float:
    """In process, one worker, no cache: the analysis alone, without interpreter start-up."""
    from atlascan.model import Limits
    from atlascan.scan import ScanOptions, run_scan

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "wide.py").write_text(module(n), "utf-8")
        opts = ScanOptions(paths=[root], root=root, use_ignore_files=False, jobs=1, limits=Limits(file_timeout_s=600))
        started = time.perf_counter()
        found = len(run_scan(opts).findings)
        elapsed = time.perf_counter() - started
    if found != n:
        sys.exit(f"expected {n} findings, got {found}: the generated module no longer measures what it should")
    return elapsed


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs=2, default=(750, 3000))
    args = ap.parse_args()
    small, large = args.sizes
    per = {n: scan_seconds(n) / n for n in (small, large)}
    for n, seconds in per.items():
        print(f"{n:6} functions: {seconds * 1000:.2f} ms per function")
    print(f"per-function time, {large} against {small}: {per[large] / per[small]:.2f}x (1 is linear)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
