"""Wall time of the commands a pre-commit hook and an IDE run most: `atlascan --version` and
a scan of one small file of each common kind. Usage: python benchmarks/startup.py [runs]"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FILES = {
    "train.py": "import torch\nmodel = torch.load('ckpt.pt')\n",
    "values.yaml": "replicas: 2\nimage: repo/app:1.0\n",
    "main.tf": 'resource "aws_s3_bucket" "b" {\n  bucket = "b"\n}\n',
    "Dockerfile": "FROM python:3.12-slim\nRUN pip install torch\n",
}


def _time(cmd: list[str], cwd: Path, runs: int) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, cwd=cwd, capture_output=True, check=False)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    exe = [sys.executable, "-m", "atlascan"]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for name, text in FILES.items():
            (root / name).write_text(text, encoding="utf-8")
        print(f"atlascan --version: {_time([*exe, '--version'], root, runs) * 1000:.0f} ms (median of {runs})")
        for name in FILES:
            ms = _time([*exe, "scan", name, "-q"], root, runs) * 1000
            print(f"atlascan scan {name}: {ms:.0f} ms")


if __name__ == "__main__":
    main()
