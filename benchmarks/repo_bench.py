"""Scan a large synthetic ML repository (or a real one) and report files/s and MB/s.

    python benchmarks/repo_bench.py                 # generate ~3,000 mixed files under /tmp
    python benchmarks/repo_bench.py PATH            # time a real checkout
    python benchmarks/repo_bench.py --files 6000    # bigger synthetic tree

The synthetic tree mixes the kinds atlascan reads (Python, notebooks, Terraform, YAML,
Dockerfiles, shell, configs), most of them benign, with a sprinkle of real problems, so
prefilters and parsers are both exercised. Peers are timed only when they are on PATH.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PY_BENIGN = '''import numpy as np
import pandas as pd


def featurize(frame: pd.DataFrame) -> np.ndarray:
    """Scale numeric columns."""
    values = frame.select_dtypes("number").to_numpy()
    return (values - values.mean(axis=0)) / (values.std(axis=0) + 1e-9)


class Trainer:
    def __init__(self, lr: float = 1e-3) -> None:
        self.lr = lr

    def step(self, batch):
        return {k: v * self.lr for k, v in batch.items()}
'''
PY_RISKY = '''import pickle
import torch
from transformers import AutoModel


def load(path):
    with open(path, "rb") as fh:
        return pickle.load(fh)


model = AutoModel.from_pretrained("org/model", trust_remote_code=True)
state = torch.load("checkpoints/last.pt")
'''
TF = '''resource "aws_s3_bucket" "data_{i}" {{
  bucket = "acme-data-{i}"
}}

resource "aws_sagemaker_notebook_instance" "nb_{i}" {{
  name          = "nb-{i}"
  role_arn      = "arn:aws:iam::123456789012:role/sm"
  instance_type = "ml.t3.medium"
}}
'''
K8S = '''apiVersion: apps/v1
kind: Deployment
metadata:
  name: svc-{i}
spec:
  replicas: 2
  template:
    spec:
      containers:
        - name: app
          image: registry.example.com/app:{i}
          args: ["--port", "8080"]
          env:
            - name: LOG_LEVEL
              value: info
'''
DOCKER = '''FROM python:3.11-slim
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
USER 1000
CMD ["python", "serve.py"]
'''
WORKFLOW = '''name: ci-{i}
on: [push]
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: pip install -r requirements.txt && pytest
'''


def notebook(i: int) -> str:
    cells = [
        {"cell_type": "code", "execution_count": j, "metadata": {}, "outputs": [],
         "source": [f"x_{j} = {j} * 2\n", f"print(x_{j})\n"]}
        for j in range(20)
    ]
    return json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}, indent=1)


def generate(root: Path, files: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    makers = [
        (0.45, "src/pkg{d}/mod{i}.py", lambda i: PY_RISKY if rng.random() < 0.05 else PY_BENIGN * 3),
        (0.10, "notebooks/{d}/nb{i}.ipynb", notebook),
        (0.15, "infra/mod{d}/res{i}.tf", lambda i: TF.format(i=i)),
        (0.15, "deploy/{d}/svc{i}.yaml", lambda i: K8S.format(i=i)),
        (0.05, "images/{d}/{i}/Dockerfile", lambda i: DOCKER),
        (0.05, ".github/workflows/wf{i}.yml", lambda i: WORKFLOW.format(i=i)),
        (0.05, "scripts/{d}/run{i}.sh", lambda i: "#!/bin/sh\nset -e\npython -m pkg.train --epochs 3\n"),
    ]
    weights = [m[0] for m in makers]
    for i in range(files):
        _, pattern, make = rng.choices(makers, weights)[0]
        path = root / pattern.format(d=i % 25, i=i)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(make(i), encoding="utf-8")


def _time(cmd: list[str], cwd: Path) -> tuple[float, int]:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False)
    return time.perf_counter() - start, proc.returncode


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("path", nargs="?", type=Path)
    ap.add_argument("--files", type=int, default=3000)
    args = ap.parse_args()
    tmp = None
    if args.path is None:
        tmp = Path(tempfile.mkdtemp(prefix="atlascan-bench-"))
        generate(tmp, args.files)
        root = tmp
    else:
        root = args.path.resolve()
    paths = [p for p in root.rglob("*") if p.is_file() and ".git" not in p.parts]
    size_mb = sum(p.stat().st_size for p in paths) / 1e6
    print(f"tree: {root} ({len(paths)} files, {size_mb:.1f} MB)")
    exe = [sys.executable, "-m", "atlascan", "scan", ".", "-q", "-f", "json", "-o", str(Path(tempfile.gettempdir()) / "atlascan-bench.json")]
    for jobs in ("1", "2"):
        secs, _ = _time([*exe, "-j", jobs], root)
        print(f"atlascan -j{jobs}: {secs:.2f} s  {len(paths) / secs:.0f} files/s  {size_mb / secs:.2f} MB/s")
    report = json.loads((Path(tempfile.gettempdir()) / "atlascan-bench.json").read_text("utf-8"))
    print(f"  findings: {report['summary']['findings']}, notices: {report['summary']['notices']}")
    for name, cmd in {
        "bandit": ["bandit", "-r", ".", "-q", "-f", "json", "-o", "/dev/null"],
        "checkov": ["checkov", "-d", ".", "--quiet", "--compact", "-o", "json", "--skip-download"],
        "detect-secrets": ["detect-secrets", "scan", "--all-files"],
    }.items():
        if shutil.which(cmd[0]):
            secs, _ = _time(cmd, root)
            print(f"{name}: {secs:.2f} s  {len(paths) / secs:.0f} files/s")
    if tmp is not None:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
