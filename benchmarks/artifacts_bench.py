"""Artifact scanner benchmark: builds the opcode corpus of tests/artifact_cases.py (copied
N times) plus one large benign PyTorch ZIP, then times atlascan's artifact engine in-process
(files/s, MB/s) and, when given, peer scanners' CLIs on the same tree.

    .venv/bin/python benchmarks/artifacts_bench.py --copies 5 --big-mb 200
    .venv/bin/python benchmarks/artifacts_bench.py --peers /tmp/peers/bin   # picklescan, modelscan, fickling

Nothing in the corpus is ever loaded; peers are run as separate processes from their own venv.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "src"))

import artifact_builder as ab  # noqa: E402
from artifact_builder import Member  # noqa: E402
from artifact_cases import BENIGN_VALUES, BYPASSES, CASES, FORMATS, Case  # noqa: E402

# Format of each new-format case, by the first word of its name (issue 18 closing table).
FORMAT_GROUPS = {
    "joblib": "joblib lzma/xz", "savedmodel": "TF SavedModel", "frozen": "TF SavedModel",
    "keras": "Keras metadata", "torchscript": "TorchScript", "mar": "TorchServe .mar", "onnx": "ONNX",
    "elf": "executables", "llamafile": "executables", "weights": "executables", "nemo": "NeMo",
    "seven": "7z", "pt2": "torch.export .pt2",
}  # fmt: skip


def group_of(case: Case) -> str:
    if case in BYPASSES:
        return "bypasses"
    if case in BENIGN_VALUES:
        return "benign values"
    if case in FORMATS:
        return FORMAT_GROUPS.get(case.name.split("-")[0], "other formats")
    return "pickle/zip base"


GROUPS: dict[str, str] = {}  # corpus path -> group


def build_corpus(root: Path, copies: int) -> dict[str, frozenset[str]]:
    expected = {}
    for n in range(copies):
        for case in CASES:
            folder = root / f"c{n}" / case.name
            folder.mkdir(parents=True)
            (folder / case.filename).write_bytes(case.build())
            expected[f"c{n}/{case.name}/{case.filename}"] = case.expect
            GROUPS[f"c{n}/{case.name}/{case.filename}"] = group_of(case)
    return expected


def per_group(expected: dict[str, frozenset[str]], flagged: set[str]) -> dict[str, tuple[int, int, int, int]]:
    """(malicious flagged, malicious, benign flagged, benign) per group."""
    out: dict[str, list[int]] = {}
    for path, expect in expected.items():
        row = out.setdefault(GROUPS.get(path, "?"), [0, 0, 0, 0])
        if expect:
            row[0] += path in flagged
            row[1] += 1
        else:
            row[2] += path in flagged
            row[3] += 1
    return {g: (a, b, c, d) for g, (a, b, c, d) in sorted(out.items())}


def print_groups(results: dict[str, dict[str, tuple[int, int, int, int]]]) -> None:
    tools = list(results)
    groups = sorted({g for r in results.values() for g in r})
    print("| group | " + " | ".join(f"{t} caught / benign flagged" for t in tools) + " |")
    print("|---|" + "---|" * len(tools))
    for g in groups:
        cells = []
        for t in tools:
            a, b, c, d = results[t].get(g, (0, 0, 0, 0))
            cells.append(f"{a}/{b}, {c}/{d}")
        print(f"| {g} | " + " | ".join(cells) + " |")


def build_big(path: Path, megabytes: int) -> None:
    """A benign torch.save layout whose one storage member is `megabytes` large."""
    with path.open("wb") as fh:
        fh.write(ab.torch_zip(ab.torch_state_dict_pickle(), [Member("archive/data/1", b"\0" * (megabytes << 20))]))


def time_atlascan(root: Path, rounds: int) -> tuple[float, int, int, dict[str, set[str]]]:
    from scanning import scan_path

    runs = []
    result = None
    for _ in range(rounds):
        start = time.perf_counter()
        result = scan_path(root)
        runs.append(time.perf_counter() - start)
    assert result is not None
    found: dict[str, set[str]] = {}
    for f in result.findings:
        found.setdefault(f.path, set()).add(f.rule_id)
    files = sum(1 for f in result.files if f.kind == "artifact")
    size = sum(f.size for f in result.files if f.kind == "artifact")
    return statistics.median(runs), files, size, found


def time_engine(root: Path, rounds: int) -> float:
    """The artifact engine alone, in-process (what peers' "in-process per file" measures)."""
    from atlascan.engines.artifacts.containers import dispatch
    from atlascan.engines.artifacts.hits import Collector, Job
    from atlascan.engines.artifacts.policy import policy
    from atlascan.engines.artifacts.streams import FileWindow

    files = [p for p in root.rglob("*") if p.is_file()]
    pol = policy({})
    runs = []
    for _ in range(rounds):
        start = time.perf_counter()
        for path in files:
            job = Job(Collector(), pol, None)
            job.dispatch = lambda src, label, depth, hint, job=job: dispatch(job, src, label, depth, hint)
            with path.open("rb") as fh:
                dispatch(job, FileWindow(fh, 0, path.stat().st_size), path.name, 0, path.name.lower())
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def detection(expected: dict[str, frozenset[str]], flagged: set[str]) -> tuple[int, int, int, int]:
    bad = [p for p, e in expected.items() if e]
    good = [p for p, e in expected.items() if not e]
    return sum(p in flagged for p in bad), len(bad), sum(p in flagged for p in good), len(good)


PEER_SCRIPTS = {
    # each prints JSON: [flagged paths, seconds spent scanning (imports excluded)]
    "picklescan": (
        "from picklescan.scanner import scan_file_path\n"
        "def flag(p):\n"
        "    return scan_file_path(p).issues_count > 0\n"
    ),
    "modelscan": (
        "from modelscan.modelscan import ModelScan\n"
        "def flag(p):\n"
        "    return ModelScan().scan(p)['summary']['total_issues'] > 0\n"
    ),
    "modelaudit": (
        "from modelaudit.core import scan_model_directory_or_file\n"
        "def flag(p):\n"
        "    r = scan_model_directory_or_file(p)\n"
        "    issues = r.get('issues', []) if isinstance(r, dict) else getattr(r, 'issues', [])\n"
        "    def sev(i):\n"
        "        s = i.get('severity') if isinstance(i, dict) else getattr(i, 'severity', '')\n"
        "        return str(getattr(s, 'value', s)).lower()\n"
        "    return any(sev(i) in ('critical', 'warning', 'error', 'high', 'medium') for i in issues)\n"
    ),
    "fickling": (
        "import fickling\n"
        "from fickling.analysis import Severity\n"
        "def flag(p):\n"
        "    zipped = open(p, 'rb').read(4) == b'PK\\x03\\x04'\n"
        "    r = fickling.scan_zip_archive(p) if zipped else fickling.scan_file(p)\n"
        "    return getattr(r, 'severity', Severity.LIKELY_SAFE) > Severity.LIKELY_SAFE\n"
    ),
}
PEER_LOOP = (
    "import sys, json, time, io, contextlib\n"
    "out, spent = [], 0.0\n"
    "for p in sys.argv[1:]:\n"
    "    t = time.perf_counter()\n"
    "    try:\n"
    "        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):\n"
    "            hit = flag(p)\n"
    "    except Exception:\n"
    "        hit = False  # a scan error is not a detection\n"
    "    spent += time.perf_counter() - t\n"
    "    if hit:\n"
    "        out.append(p)\n"
    "print(json.dumps([out, spent]))\n"
)


def run_peer(name: str, bindir: Path, root: Path, paths: list[str]) -> tuple[float, set[str]]:
    """One peer over every file in one process through its Python API; returns
    (seconds spent scanning, flagged relative paths)."""
    script = PEER_SCRIPTS[name] + PEER_LOOP
    env = {**os.environ, "PROMPTFOO_DISABLE_TELEMETRY": "1"}  # ModelAudit phones home otherwise
    out = subprocess.run([str(bindir / "python"), "-c", script, *[str(root / p) for p in paths]],
                         capture_output=True, text=True, cwd=tempfile.gettempdir(), env=env)  # fmt: skip
    try:
        flagged, spent = json.loads(out.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        print(f"{name} failed: {out.stderr[-400:]}", file=sys.stderr)
        return 0.0, set()
    return spent, {str(Path(p).relative_to(root)) for p in flagged}


def run_peer_cli(name: str, bindir: Path, target: Path) -> float:
    """Wall time of the peer's CLI over a whole tree or file (cold process)."""
    args = {"picklescan": ["picklescan", "-p"], "modelscan": ["modelscan", "-p"]}[name]
    start = time.perf_counter()
    subprocess.run([str(bindir / args[0]), *args[1:], str(target)], capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--copies", type=int, default=5)
    parser.add_argument("--big-mb", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--peers", type=Path, help="bin folder of a venv with picklescan, modelscan, fickling, modelaudit")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="atlascan-art-bench-"))
    try:
        expected = build_corpus(root / "corpus", args.copies)
        seconds, files, size, found = time_atlascan(root / "corpus", args.rounds)
        bad, nbad, fp, ngood = detection(expected, set(found))
        groups = {"atlascan": per_group(expected, set(found))}
        print(f"corpus: {files} files, {size / 1e6:.2f} MB ({nbad} malicious, {ngood} benign)")
        print(f"atlascan: flagged {bad}/{nbad} malicious, {fp}/{ngood} benign; "
              f"{seconds * 1000:.0f} ms, {files / seconds:.0f} files/s, {size / 1e6 / seconds:.2f} MB/s")  # fmt: skip
        engine_s = time_engine(root / "corpus", args.rounds)
        print(f"atlascan engine only (in-process): {engine_s / files * 1000:.3f} ms/file, "
              f"{files / engine_s:.0f} files/s, {size / 1e6 / engine_s:.2f} MB/s")  # fmt: skip
        big_dir = root / "big"
        big_dir.mkdir()
        build_big(big_dir / "big.pt", args.big_mb)
        big_s, _, big_size, big_found = time_atlascan(big_dir, args.rounds)
        print(f"atlascan: {big_size / 1e6:.0f} MB benign torch zip in {big_s * 1000:.1f} ms "
              f"({big_size / 1e6 / big_s:.0f} MB/s), findings: {sorted(big_found)}")  # fmt: skip
        if args.peers:
            paths = sorted(expected)
            for name in ("picklescan", "modelscan", "fickling", "modelaudit"):
                secs, flagged = run_peer(name, args.peers, root / "corpus", paths)
                if not secs and not flagged:
                    continue
                groups[name] = per_group(expected, flagged)
                pb, pn, pf, pg = detection(expected, flagged)
                rate = f"{secs / len(paths) * 1000:.3f} ms/file, {len(paths) / secs:.0f} files/s" if secs else "n/a"
                print(f"{name}: flagged {pb}/{pn} malicious, {pf}/{pg} benign; in-process {rate}")
            for name in ("picklescan", "modelscan"):
                if not (args.peers / name).exists():
                    continue
                tree = run_peer_cli(name, args.peers, root / "corpus")
                big = run_peer_cli(name, args.peers, big_dir / "big.pt")
                print(f"{name} CLI: corpus tree {tree * 1000:.0f} ms; {big_size / 1e6:.0f} MB torch zip {big * 1000:.0f} ms (cold)")
            cli = ROOT / ".venv" / "bin" / "atlascan"
            for target in (root / "corpus", big_dir / "big.pt") if cli.exists() else ():
                start = time.perf_counter()
                subprocess.run([str(cli), "scan", "-q", "--no-ignore-files", str(target)], capture_output=True, cwd=root)
                print(f"atlascan CLI: {target.name} {(time.perf_counter() - start) * 1000:.0f} ms (cold)")
        print_groups(groups)
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
