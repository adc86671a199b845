"""Time the Dockerfile and command-line rules on a few hundred Dockerfiles and shell scripts.

    python benchmarks/pipelines_bench.py               # 300 Dockerfiles + 300 scripts under /tmp
    python benchmarks/pipelines_bench.py --files 1000  # more of each
    python benchmarks/pipelines_bench.py PATH          # time a real checkout

Reports the whole scan (discovery, both engines, all rules) with one and with all workers,
then the two parsers alone: the Dockerfile parser and the shell parser with each back end.
"""

from __future__ import annotations

import argparse
import random
import shutil
import tempfile
import time
from pathlib import Path

DOCKERFILE = """\
# syntax=docker/dockerfile:1
ARG BASE=nvcr.io/nvidia/pytorch:24.05-py3
FROM ${{BASE}} AS build
ENV PIP_NO_CACHE_DIR=1 PYTHONUNBUFFERED=1
RUN apt-get update \\
    # build deps
    && apt-get install -y --no-install-recommends git curl ca-certificates build-essential \\
    && rm -rf /var/lib/apt/lists/*
COPY requirements.txt /tmp/requirements.txt
RUN pip install --index-url https://pypi.internal/simple -r /tmp/requirements.txt{extra}
RUN <<EOF
set -eux
python -m compileall /opt/app
if [[ -d /opt/app/plugins ]]; then
  for p in /opt/app/plugins/*; do echo "plugin $p"; done
fi
EOF
{risky}
FROM python:3.11-slim@sha256:{digest}
COPY --from=build /opt /opt
WORKDIR /opt/app
USER 10001
EXPOSE 8080
CMD ["python", "-m", "serve", "--port", "8080"]
"""

RISKY = [
    "RUN curl -fsSL https://install.example.com/setup.sh | bash",
    'CMD ["jupyter", "lab", "--ip=0.0.0.0", "--NotebookApp.token=\'\'"]',
    "RUN wget http://models.example.com/resnet50.pt -O /models/resnet50.pt",
    "ARG HF_TOKEN\nENV HF_TOKEN=$HF_TOKEN",
    "COPY kaggle.json /root/.kaggle/kaggle.json",
    "CMD mlflow server --host 0.0.0.0 --port 5000",
]

SCRIPT = """\
#!/usr/bin/env bash
set -euo pipefail
readonly ROOT="$(cd "$(dirname "${{BASH_SOURCE[0]}}")" && pwd)"
log() {{ printf '[%s] %s\\n' "$(date +%T)" "$*"; }}
case "${{1:-train}}" in
  train)
    log "training"
    python -m train --config "$ROOT/configs/base.yaml" --epochs $(( EPOCHS * 2 ))
    ;;
  eval)
    [[ -f "$ROOT/ckpt/last.safetensors" ]] || exit 1
    python -m evaluate --ckpt "$ROOT/ckpt/last.safetensors"
    ;;
esac
for shard in $(seq 0 7); do
  aws s3 cp "s3://bucket/shards/$shard.tar" "/data/$shard.tar" --only-show-errors &
done
wait
{risky}
"""

SCRIPT_RISKY = [
    "pip install --extra-index-url https://pypi.internal/simple featurestore",
    "export GIT_SSL_NO_VERIFY=true",
    "ray start --head --dashboard-host=0.0.0.0",
    "huggingface-cli download org/model --local-dir /models",
    "tensorboard --logdir runs --bind_all &",
]


def generate(root: Path, count: int, seed: int = 7) -> int:
    rng = random.Random(seed)
    size = 0
    for i in range(count):
        folder = root / f"svc{i:04d}"
        folder.mkdir(parents=True, exist_ok=True)
        risky = rng.choice(RISKY) if rng.random() < 0.3 else ""
        extra = (
            " \\\n    --extra-index-url https://download.pytorch.org/whl/cu121"
            if rng.random() < 0.1
            else ""
        )
        text = DOCKERFILE.format(risky=risky, extra=extra, digest=f"{rng.getrandbits(256):064x}")
        (folder / "Dockerfile").write_text(text)
        script = SCRIPT.format(risky=rng.choice(SCRIPT_RISKY) if rng.random() < 0.3 else "")
        (folder / "run.sh").write_text(script)
        size += len(text) + len(script)
    return size


def time_scan(path: Path, jobs: int) -> tuple[float, int, int]:
    from atlascan.model import Limits
    from atlascan.scan import ScanOptions, run_scan

    opts = ScanOptions(
        paths=[path], root=path, select=["ATS-DKR", "ATS-CMD"], jobs=jobs, limits=Limits()
    )
    start = time.perf_counter()
    result = run_scan(opts)
    return time.perf_counter() - start, len(result.files), len(result.findings)


def time_parsers(path: Path) -> None:
    from atlascan.parsers.dockerfile import parse as parse_dockerfile
    from atlascan.parsers.shell import parse as parse_shell

    dockerfiles = [p.read_text() for p in path.rglob("Dockerfile")]
    scripts = [p.read_text() for p in path.rglob("*.sh")]
    for label, texts, fn in (
        ("dockerfile parser", dockerfiles, parse_dockerfile),
        ("shell, tree-sitter", scripts, lambda t: parse_shell(t, True)),
        ("shell, tokenizer", scripts, lambda t: parse_shell(t, False)),
    ):
        if not texts:
            continue
        size = sum(len(t.encode()) for t in texts)
        start = time.perf_counter()
        for text in texts:
            fn(text)
        elapsed = time.perf_counter() - start
        print(
            f"  {label:<20} {len(texts):5d} files  {elapsed * 1000:8.1f} ms  {size / elapsed / 1e6:6.2f} MB/s"
        )


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("path", nargs="?", type=Path)
    ap.add_argument(
        "--files", type=int, default=300, help="Dockerfiles (and as many scripts) to generate"
    )
    args = ap.parse_args()
    tmp = None
    if args.path is None:
        tmp = Path(tempfile.mkdtemp(prefix="atlascan-pipelines-"))
        size = generate(tmp, args.files)
        print(
            f"generated {args.files} Dockerfiles + {args.files} scripts, {size / 1e6:.2f} MB in {tmp}"
        )
        path = tmp
    else:
        path = args.path
    try:
        for jobs in (1, 0):
            elapsed, files, findings = time_scan(path, jobs)
            label = "1 worker" if jobs == 1 else "auto workers"
            print(
                f"scan ({label}): {files} files, {findings} findings in {elapsed:.2f} s ({files / elapsed:.0f} files/s)"
            )
        print("parsers alone:")
        time_parsers(path)
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
