"""The speed targets of issue 16, each pair measured side by side in one run:

    python benchmarks/speed_bench.py [--corpus /work/corpus] [--repeat 3]

- one Python file: atlascan (no cache, and warm) against Bandit on the same file;
- kubeflow/pipelines: atlascan, every kind, against Bandit's Python-only scan;
- the whole corpus (every folder of CORPUS a repository): the same pair, with peak RSS;
- kubeflow/pipelines again: a warm re-scan against a `--no-cache` scan;
- terragoat: atlascan against Checkov.

Bandit and Checkov are installed from PyPI into their own virtualenvs under
~/.cache/atlascan-bench when missing (an existing ~/.cache/atlascan/checkov-* venv is reused).
Times are wall seconds (the median of --repeat runs for the short pairs, one run for the
long ones) with the CPU seconds (user + system, children included) beside them; peak RSS is
the largest single process of the run. Nothing is asserted: these are figures for a person.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import venv
from pathlib import Path

BENCH_HOME = Path.home() / ".cache" / "atlascan-bench"
TARGETS = {"one file": 0.6, "pipelines": 0.5, "corpus": 0.5, "warm re-scan": 0.25, "terragoat": 0.1}


def tool(name: str, package: str) -> str:
    """The path of `name` in its own venv, installed from PyPI on first use."""
    if name == "checkov":
        for existing in sorted((Path.home() / ".cache" / "atlascan").glob("checkov-*/bin/checkov")):
            return str(existing)
    home = BENCH_HOME / name
    binary = home / "bin" / name
    if not binary.exists():
        print(f"installing {package} into {home} ...", file=sys.stderr)
        venv.create(home, with_pip=True)
        subprocess.run([str(home / "bin" / "python"), "-m", "pip", "install", "-q", package], check=True)
    return str(binary)


def run(command: list[str], cwd: Path | None = None, env: dict[str, str] | None = None) -> tuple[float, float, int]:
    """(wall s, CPU s, peak RSS MiB) of one run of `command`; its output is discarded."""
    started = time.perf_counter()
    with subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) as proc:
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    if proc.returncode not in (0, 1):
        print(f"warning: {command[0]} exited {proc.returncode}: {' '.join(command)}", file=sys.stderr)
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss // 1024


def median(runs: list[tuple[float, float, int]]) -> tuple[float, float, int]:
    return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs), max(r[2] for r in runs)


def pair(label: str, ours: list[str], theirs: list[str], repeat: int, env: dict[str, str], peer: str, cwd: Path | None = None) -> None:
    """Alternate the two commands so both see the same load; print both and their ratio."""
    a, b = [], []
    for _ in range(repeat):
        a.append(run(ours, cwd, env))
        b.append(run(theirs, cwd, env))
    (wa, ca, ra), (wb, cb, rb) = median(a), median(b)
    target = TARGETS[label]
    verdict = "meets" if wa / wb <= target else "misses"
    print(f"{label:14} atlascan {wa:7.2f} s wall {ca:7.2f} s CPU {ra:5d} MiB | {peer:9} {wb:7.2f} s wall {cb:7.2f} s CPU {rb:5d} MiB"
          f" | ratio {wa / wb:5.2f} wall {ca / cb:5.2f} CPU (target {target}: {verdict})", flush=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, default=Path("/work/corpus"))
    ap.add_argument("--repeat", type=int, default=3, help="runs of the short pairs (one file, terragoat)")
    ap.add_argument("--file", type=Path, help="the one Python file (default: a mid-sized one of kubeflow/pipelines)")
    ap.add_argument("--skip", action="append", default=[], choices=sorted(TARGETS), help="leave out a pair")
    args = ap.parse_args()
    corpus = args.corpus.resolve()
    pipelines, terragoat = corpus / "pipelines", corpus / "terragoat"
    bandit = tool("bandit", "bandit")
    checkov = tool("checkov", "checkov")
    atlascan = [sys.executable, "-m", "atlascan", "scan", "-q", "--fail-on", "critical"]
    bandit_cmd = [bandit, "-q", "-f", "json", "-o", os.devnull]
    # Result caches of our own; the rule catalog cache stays the user's (warm, as a user's is
    # after the first run).
    cache = Path(tempfile.mkdtemp(prefix="atlascan-bench-cache-"))
    # Bytecode as a regular install has it, for every program alike (a development checkout
    # run with PYTHONDONTWRITEBYTECODE would compile all of atlascan on every run).
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(BENCH_HOME / "pycache")
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} at start", flush=True)

    if "one file" not in args.skip:
        one = args.file or pipelines / "sdk" / "python" / "kfp" / "compiler" / "compiler_utils.py"
        one = one.resolve()
        run([*atlascan, "--no-cache", str(one)], one.parent, env)  # bytecode, rule catalog cache
        run([bandit, "-q", str(one)], one.parent, env)
        pair("one file", [*atlascan, "--no-cache", str(one)], [bandit, "-q", str(one)], max(args.repeat, 5), env, "Bandit", one.parent)
        run([*atlascan, "--cache-dir", str(cache / "one"), str(one)], one.parent, env)
        warm = median([run([*atlascan, "--cache-dir", str(cache / "one"), str(one)], one.parent, env) for _ in range(5)])
        print(f"{'':14} atlascan warm {warm[0]:.3f} s wall, {warm[1]:.3f} s CPU", flush=True)
    if "pipelines" not in args.skip:
        pair("pipelines", [*atlascan, "--no-cache", str(pipelines)], [*bandit_cmd, "-r", str(pipelines)], 1, env, "Bandit")
    if "corpus" not in args.skip:
        pair("corpus", [*atlascan, "--no-cache", str(corpus)], [*bandit_cmd, "-r", str(corpus)], 1, env, "Bandit")
    if "warm re-scan" not in args.skip:
        warm_cmd = [*atlascan, "--cache-dir", str(cache / "pipelines"), str(pipelines)]
        run(warm_cmd, None, env)  # fill the cache
        pair("warm re-scan", warm_cmd, [*atlascan, "--no-cache", str(pipelines)], 1, env, "no cache")
    if "terragoat" not in args.skip:
        run([*atlascan, "--no-cache", str(terragoat)], None, env)  # bytecode, warm file system
        pair("terragoat", [*atlascan, "--no-cache", str(terragoat)],
             [checkov, "-d", str(terragoat), "-o", "json", "--quiet", "--skip-download"], args.repeat, env, "Checkov")
    print(f"load average {os.getloadavg()[0]:.2f} at the end; cache folder {cache}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
