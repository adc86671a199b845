"""Artifact engine behaviour beyond the case table: the import policy, user allowlists, size
and decompression bounds, streaming of large members, and robustness on mangled input."""

from __future__ import annotations

import gzip
import random
import time
from pathlib import Path

import pytest

import artifact_builder as ab
from artifact_builder import Member
from artifact_cases import CASES
from atlascan.engines.artifacts import pickle_vm, streams
from atlascan.engines.artifacts.containers import dispatch
from atlascan.engines.artifacts.hits import Collector, Job
from atlascan.engines.artifacts.policy import Verdict, policy
from atlascan.engines.artifacts.streams import MemorySource
from atlascan.model import Limits
from atlascan.pathclass import report_classes
from atlascan.scan import ScanOptions, run_scan
from scanning import scan_path


def _scan_bytes(data: bytes, hint: str = "model.pkl", **job_args: object) -> Collector:
    collector = Collector()
    job = Job(collector, policy({}), None, **job_args)  # type: ignore[arg-type]
    job.dispatch = lambda src, label, depth, h: dispatch(job, src, label, depth, h)
    dispatch(job, MemorySource(data), hint, 0, hint)
    return collector


@pytest.mark.parametrize(
    ("module", "name", "verdict"),
    [
        ("os", "system", Verdict.DANGEROUS),
        ("nt", "system", Verdict.DANGEROUS),
        ("builtins", "getattr", Verdict.DANGEROUS),
        ("__builtin__", "eval", Verdict.DANGEROUS),
        ("builtins", "print.__self__", Verdict.DANGEROUS),
        ("collections", "OrderedDict.__init__", Verdict.DANGEROUS),
        ("pathlib", "os.system", Verdict.DANGEROUS),
        ("torch", "hub.load", Verdict.DANGEROUS),
        ("torch.serialization", "load", Verdict.DANGEROUS),
        ("sklearn.datasets", "fetch_openml", Verdict.DANGEROUS),
        ("numpy.testing._private.utils", "runstring", Verdict.DANGEROUS),
        ("torch.jit", "load", Verdict.DANGEROUS),
        ("torch", "jit.load", Verdict.DANGEROUS),
        ("torch.jit.unsupported_tensor_ops", "execWrapper", Verdict.DANGEROUS),
        ("__torch__.models", "Net", Verdict.SAFE),
        ("torch.jit._pickle", "build_intlist", Verdict.SAFE),
        ("collections", "OrderedDict", Verdict.SAFE),
        ("__builtin__", "set", Verdict.SAFE),
        ("torch._utils", "_rebuild_tensor_v2", Verdict.SAFE),
        ("sklearn.tree._classes", "DecisionTreeClassifier", Verdict.SAFE),
        ("joblib.numpy_pickle", "NumpyArrayWrapper", Verdict.SAFE),
        ("sklearn.tree._classes", "DecisionTreeClassifier.fit", Verdict.UNKNOWN),
        ("mypkg.models", "Net", Verdict.UNKNOWN),
        ("builtins", "str.lower", Verdict.UNKNOWN),
        ("__main__", "Net", Verdict.UNKNOWN),
        # reviewed value classes inside denied packages; their siblings stay denied
        ("uuid", "UUID", Verdict.SAFE),
        ("requests.models", "Response", Verdict.SAFE),  # lm-evaluation-harness's recorded replies
        ("http.cookiejar", "DefaultCookiePolicy", Verdict.SAFE),
        ("requests", "get", Verdict.DANGEROUS),
        ("requests.sessions", "Session", Verdict.DANGEROUS),
        ("http.client", "HTTPSConnection", Verdict.DANGEROUS),
        ("uuid", "_popen", Verdict.DANGEROUS),
        ("uuid", "UUID.__init__", Verdict.DANGEROUS),
        ("argparse", "Namespace", Verdict.SAFE),
        ("pathlib._local", "PosixPath", Verdict.SAFE),
        ("transformers.trainer_utils", "IntervalStrategy", Verdict.SAFE),
        ("transformers", "AutoModel.from_pretrained", Verdict.DANGEROUS),
        ("tensorflow.python.ops.resource_variable_ops", "ResourceVariable", Verdict.SAFE),  # determined's fixtures
        ("tensorflow.python.framework.dtypes", "as_dtype", Verdict.SAFE),
        ("tensorflow.python.framework.ops", "convert_to_tensor", Verdict.SAFE),
        ("tensorflow.python.ops.io_ops", "write_file", Verdict.DANGEROUS),
        ("tensorflow", "py_function", Verdict.DANGEROUS),
        ("functools", "partial", Verdict.WRAPPER),
        ("transformers.training_args", "TrainingArguments", Verdict.INSTANCE),
        ("functools", "reduce", Verdict.DANGEROUS),
        ("functools", "partial.__call__", Verdict.DANGEROUS),
    ],
)
def test_policy_verdicts(module: str, name: str, verdict: Verdict) -> None:
    assert policy({}).verdict(module, name) is verdict


def test_user_allowlist_silences_own_classes_but_never_the_denylist(tmp_path: Path) -> None:
    (tmp_path / "net.pkl").write_bytes(ab.evil(2, "mypkg.models", "Net"))
    (tmp_path / "layer.pkl").write_bytes(ab.evil(4, "mypkg.layers", "Block"))
    (tmp_path / "evil.pkl").write_bytes(ab.evil(2, "os", "system"))
    options = {"artifacts": {"allow": ["mypkg.models.Net", "mypkg.layers.*", "os.system"]}}
    result = scan_path(tmp_path, engine_options=options)
    assert {(f.path, f.rule_id) for f in result.findings} == {("evil.pkl", "ATS-ART-001")}
    plain = scan_path(tmp_path)
    assert {(f.path, f.rule_id) for f in plain.findings} == {
        ("net.pkl", "ATS-ART-002"), ("layer.pkl", "ATS-ART-002"), ("evil.pkl", "ATS-ART-001"),
    }  # fmt: skip


def test_user_allowlist_covers_keras_modules(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(ab.keras_config([{"module": "mypkg.layers", "class_name": "Block", "config": {}}]).decode())
    assert [(f.rule_id, f.region.start_line) for f in scan_path(tmp_path).findings] == [("ATS-ART-006", 8)]
    assert scan_path(tmp_path, engine_options={"artifacts": {"allow": ["mypkg.layers.*"]}}).findings == []


def test_decompression_bomb_is_bounded() -> None:
    bomb = gzip.compress(b"\x80\x02" + b"N" * (8 << 20))
    hits = _scan_bytes(bomb, "bomb.pkl.gz", max_decompressed=1 << 20).hits
    assert [h.rule_id for h in hits] == ["ATS-ART-007"]
    assert "decompressed data passes 1 MiB" in hits[0].args["reason"]


def test_endless_stream_stops_as_not_scanned(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pickle_vm, "MAX_OPS", 10_000)
    hits = _scan_bytes(b"\x80\x02" + b"N0" * 50_000 + b"N.").hits
    assert [h.rule_id for h in hits] == ["ATS-ART-007"]


def test_mark_flood_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pickle_vm, "MAX_STACK", 1000)
    assert [h.rule_id for h in _scan_bytes(b"\x80\x02" + b"(" * 100_000).hits] == ["ATS-ART-007"]


def test_file_over_the_artifact_limit_is_reported_not_skipped(tmp_path: Path) -> None:
    (tmp_path / "big.pt").write_bytes(ab.plain_dict() + b"\x00" * 4096)
    options = ScanOptions(paths=[tmp_path], root=tmp_path, use_ignore_files=False, jobs=1, limits=Limits(max_artifact_bytes=1024))
    result = run_scan(options)
    assert [f.rule_id for f in result.findings] == ["ATS-ART-007"]


def test_large_tensor_members_are_skipped_not_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    big = 64 << 20
    path = tmp_path / "big.pt"
    path.write_bytes(ab.torch_zip(ab.torch_state_dict_pickle(), [Member("archive/data/1", b"\x00" * big)]))
    read = 0
    original = streams.FileWindow.read

    def counting(self: streams.FileWindow, n: int) -> bytes:
        nonlocal read
        data = original(self, n)
        read += len(data)
        return data

    monkeypatch.setattr(streams.FileWindow, "read", counting)
    start = time.perf_counter()
    result = scan_path(tmp_path)
    assert result.findings == []
    assert read < 1 << 20, read
    assert time.perf_counter() - start < 2.0


def test_large_plain_pickle_skips_its_byte_constants(tmp_path: Path) -> None:
    body = b"\x80\x04" + b"\x8e" + (32 << 20).to_bytes(8, "little") + b"\x00" * (32 << 20) + b"."
    (tmp_path / "weights.pkl").write_bytes(body + ab.evil(2))
    start = time.perf_counter()
    result = scan_path(tmp_path)
    assert [(f.rule_id, f.properties["offset"]) for f in result.findings] == [("ATS-ART-001", len(body) + 2)]
    assert time.perf_counter() - start < 2.0


def test_mangled_inputs_never_raise() -> None:
    rng = random.Random(1234)
    for case in CASES:
        base = case.build()
        for _ in range(15):
            data = bytearray(base)
            for _ in range(rng.randint(1, 4)):
                if not data:
                    break
                pos = rng.randrange(len(data))
                if rng.random() < 0.6:
                    data[pos] = rng.randrange(256)
                else:
                    del data[pos:]
            _scan_bytes(bytes(data), case.filename)  # must not raise


def test_sarif_location_is_the_artifact_at_line_one(tmp_path: Path) -> None:
    (tmp_path / "model.pt").write_bytes(ab.torch_zip(ab.evil(2)))
    [finding] = scan_path(tmp_path).findings
    assert (finding.path, finding.region.start_line, finding.region.start_column) == ("model.pt", 1, None)
    assert finding.message == "Pickle data in model.pt!archive/data.pkl imports `os.system` (byte 2); loading this file runs it."


def test_one_model_file_is_one_finding_per_rule_and_its_copies_fold(tmp_path: Path) -> None:
    two = ab.evil(2, "os", "system") + ab.evil(2, "subprocess", "check_output")  # two stacked streams
    for folder in ("docs/examples", "docs-gb/examples"):
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / "model.pkl").write_bytes(two)
    (tmp_path / "other.pkl").write_bytes(ab.evil(2, "os", "system"))
    found = {f.path: f for f in scan_path(tmp_path, report_classes=report_classes(tests=True, docs=True)).findings}
    assert sorted(found) == ["docs-gb/examples/model.pkl", "other.pkl"]
    lead = found["docs-gb/examples/model.pkl"]
    assert lead.message == ("Pickle data in docs-gb/examples/model.pkl imports `os.system` (byte 2); loading this file runs it "
                            "(and 1 more in this file) (the same in 1 other copy of this file).")  # fmt: skip
    assert [(r.path, r.region.start_line) for r in lead.related] == [
        ("docs-gb/examples/model.pkl", 1), ("docs/examples/model.pkl", 1)]  # fmt: skip
    assert "subprocess.check_output" in lead.related[0].message
    assert found["other.pkl"].related == []


def test_gguf_vocabulary_is_read_quickly() -> None:
    def string(text: str) -> bytes:
        return len(text.encode()).to_bytes(8, "little") + text.encode()

    tokens = b"".join(string(f"tok{i}") for i in range(200_000))
    vocab = string("tokenizer.ggml.tokens") + (9).to_bytes(4, "little") + (8).to_bytes(4, "little") + (200_000).to_bytes(8, "little") + tokens
    template = string("tokenizer.chat_template") + (8).to_bytes(4, "little") + string("{{ ''.__class__ }}")
    data = b"GGUF" + (3).to_bytes(4, "little") + (0).to_bytes(8, "little") + (2).to_bytes(8, "little") + vocab + template
    start = time.perf_counter()
    hits = _scan_bytes(data, "big.gguf").hits
    assert [(h.rule_id, h.args["pattern"]) for h in hits] == [("ATS-ART-009", "__class__")]
    assert time.perf_counter() - start < 1.5


def test_single_line_keras_config_is_scanned_not_skipped_as_minified(tmp_path: Path) -> None:
    layers = [dict(ab.DENSE, config={"name": f"dense_{i}", "units": 4}) for i in range(2000)] + [ab.LAMBDA]
    (tmp_path / "config.json").write_bytes(ab.keras_config(layers).replace(b"\n", b""))
    found = scan_path(tmp_path).findings
    assert [(f.rule_id, f.region.start_line) for f in found] == [("ATS-ART-006", 1)]
    assert found[0].region.start_column is not None and found[0].region.start_column > 50_000


def test_highly_compressed_member_is_not_called_corrupt(tmp_path: Path) -> None:
    """zlib can hold output after the last input byte; draining it is not a short stream."""
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("archive/data.pkl", b"\x80\x02" + b"(" * (64 * 1024 * 1024))
    (tmp_path / "bomb.pt").write_bytes(buf.getvalue())
    result = scan_path(tmp_path)
    assert [f.rule_id for f in result.findings] == ["ATS-ART-007"]


def test_engine_declares_every_artifact_rule() -> None:
    import atlascan.rules
    from atlascan import registry

    problems = [p for p in registry.problems(atlascan.rules.load_rules()) if "ATS-ART" in p]
    assert problems == []


HOSTILE_CHILD = """
import gzip, resource, sys, time
sys.path[:0] = sys.argv[1:3]
from test_artifacts_engine import _scan_bytes
data = gzip.compress(b"\\x80\\x02N" + b"2\\x86" * 15_000_000 + b".", 9)  # about 30 KB
start = time.perf_counter()
hits = _scan_bytes(data, "bomb.pkl.gz").hits
spent = time.perf_counter() - start
print(len(data), spent, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, [(h.rule_id, h.args["reason"]) for h in hits])
"""


def test_nested_tuple_bomb_is_bounded_in_memory_and_time(repo_root: Path) -> None:
    """30 KB of gzip expanding into a chain of 15M nested tuples (DUP, TUPLE2): each tuple
    keeps the one before alive while the stack stays one deep. Before the object budget this
    took 1 GB and 30 s and came back clean; now it stops with "resource limit reached"."""
    import resource
    import subprocess
    import sys

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))

    out = subprocess.run([sys.executable, "-c", HOSTILE_CHILD, str(repo_root / "src"), str(repo_root / "tests")],
                         capture_output=True, text=True, preexec_fn=limit, timeout=120)  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    size, spent, maxrss_kib, hits = out.stdout.strip().rsplit("\n", 1)[-1].split(" ", 3)
    assert int(size) < 50_000
    assert "ATS-ART-007" in hits and "resource limit reached" in hits and "objects" in hits
    assert int(maxrss_kib) < 400_000, maxrss_kib  # peak RSS of the whole child, interpreter included
    assert float(spent) < 30.0


def test_memo_reuse_bomb_stops_at_the_object_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    import tracemalloc

    monkeypatch.setattr(pickle_vm, "MAX_OBJECTS", 60_000)
    body = b"\x80\x02Nq\x00" + b"h\x00h\x00\x86q\x00" * 40_000 + b"."
    tracemalloc.start()
    try:
        hits = _scan_bytes(gzip.compress(body), "memo.pkl.gz").hits
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert [h.rule_id for h in hits] == ["ATS-ART-007"]
    assert "resource limit reached" in hits[0].args["reason"]
    assert peak < 16 << 20, peak


def test_constant_flood_stops_at_the_byte_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pickle_vm, "MAX_HELD_BYTES", 8 << 20)
    blob = b"B" + (1 << 20).to_bytes(4, "little") + b"\x00" * (1 << 20)
    hits = _scan_bytes(gzip.compress(b"\x80\x02" + blob * 10 + b"."), "flood.pkl.gz").hits
    assert [h.rule_id for h in hits] == ["ATS-ART-007"]
    assert "MiB of constants" in hits[0].args["reason"]


def test_mlmodel_flavor_is_followed_to_a_model_file_discovery_skips(tmp_path: Path) -> None:
    """`model.statsmodels` at pickle protocol 0 is neither named nor sniffed as a model: the
    MLmodel that names it leads the scan there, and the finding sits on that line."""
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "MLmodel").write_text("flavors:\n  statsmodels:\n    data: model.statsmodels\n    statsmodels_version: 0.14.1\n")
    (bad / "model.statsmodels").write_bytes(ab.evil(0))
    good = tmp_path / "good"
    good.mkdir()
    (good / "MLmodel").write_text("flavors:\n  statsmodels:\n    data: model.statsmodels\n")
    (good / "model.statsmodels").write_bytes(b"(dp0\nS'lr'\np1\nF0.001\ns.")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "MLmodel").write_text("flavors:\n  python_function:\n    data: link.bin2\n")
    (tmp_path.parent / f"{tmp_path.name}-secret.p0").write_bytes(ab.evil(0))
    (outside / "link.bin2").symlink_to(tmp_path.parent / f"{tmp_path.name}-secret.p0")
    found = [(f.path, f.rule_id, f.region.start_line, f.properties.get("callable")) for f in scan_path(tmp_path).findings]
    assert found == [("bad/MLmodel", "ATS-ART-001", 3, "os.system")]
    [finding] = scan_path(tmp_path).findings
    assert "bad/model.statsmodels" in finding.message


@pytest.mark.parametrize("proto", range(6))
def test_values_pickled_by_python_itself_stay_silent(proto: int) -> None:
    """What pickle.dumps writes for run metadata and hyper-parameters (the real byte shapes of
    every protocol, not hand-built ones) raises nothing."""
    import argparse
    import collections
    import datetime
    import decimal
    import fractions
    import functools
    import pathlib
    import pickle
    import re
    import uuid

    values = {
        "hparams": argparse.Namespace(lr=0.1, layers=[1, 2], name="x"),
        "when": datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone(datetime.timedelta(hours=2))),
        "day": datetime.date(2024, 1, 2), "span": datetime.timedelta(3), "cost": decimal.Decimal("1.25"),
        "id": uuid.UUID(int=12345), "dd": collections.defaultdict(list, a=[1]), "od": collections.OrderedDict(a=1),
        "counts": collections.Counter("abca"), "queue": collections.deque([1, 2]), "pure": pathlib.PurePosixPath("/a/b"),
        "path": pathlib.Path("/x/y"), "ratio": fractions.Fraction(1, 3), "flag": re.IGNORECASE, "steps": range(3),
        "sets": ({1, 2}, frozenset({3})), "raw": (b"abc", bytearray(b"x"), 1 + 2j, slice(1, 2)),
        "factory": functools.partial(collections.OrderedDict, a=1),
    }  # fmt: skip
    hits = _scan_bytes(pickle.dumps(values, protocol=proto), "meta.pkl").hits
    assert hits == [], [(h.rule_id, h.args) for h in hits]


def test_large_onnx_is_walked_without_reading_tensor_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    big = ab.pb(5, ab.pb(1, 2) + ab.pb(2, 1) + ab.pb(8, "w") + ab.pb(9, b"\x00" * (64 << 20)))
    escaping = ab.pb(5, ab.pb(8, "x") + ab.pb(13, ab.pb(1, "location") + ab.pb(2, "../../secret.bin")) + ab.pb(14, 1))
    (tmp_path / "big.onnx").write_bytes(ab.pb(1, 8) + ab.pb(7, ab.pb(1, ab.pb(4, "Relu")) + big + escaping))
    read = 0
    original = streams.FileWindow.pread

    def counting(self: streams.FileWindow, offset: int, n: int) -> bytes:
        nonlocal read
        data = original(self, offset, n)
        read += len(data)
        return data

    monkeypatch.setattr(streams.FileWindow, "pread", counting)
    found = scan_path(tmp_path).findings
    assert [(f.rule_id, f.properties["location"]) for f in found] == [("ATS-ART-010", "../../secret.bin")]
    assert read < 1 << 20, read


def test_7z_without_py7zr_is_not_scanned_never_clean(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "py7zr", None)  # as if not installed
    hits = _scan_bytes(b"7z\xbc\xaf\x27\x1c\x00\x04" + b"\x00" * 64, "model.7z").hits
    assert [(h.rule_id, "py7zr" in h.args["reason"]) for h in hits] == [("ATS-ART-007", True)]


def test_7z_members_are_scanned_with_py7zr() -> None:
    """Runs where the optional py7zr is installed (checked by hand with py7zr 1.1.4)."""
    import io

    py7zr = pytest.importorskip("py7zr")

    def archive(files: dict[str, bytes]) -> bytes:
        buf = io.BytesIO()
        with py7zr.SevenZipFile(buf, "w") as z:
            for name, data in files.items():
                z.writestr(data, name)
        return buf.getvalue()

    evil = _scan_bytes(archive({"model/data.pkl": ab.evil(2), "readme.txt": b"hi"}), "m.7z").hits
    assert [(h.rule_id, h.args["member"]) for h in evil] == [("ATS-ART-001", "m.7z!model/data.pkl")]
    assert _scan_bytes(archive({"model.pt": ab.torch_zip(ab.torch_state_dict_pickle())}), "m.7z").hits == []
    bomb = _scan_bytes(archive({"a.pkl": b"\x80\x02" + b"N" * (16 << 20) + b"."}), "m.7z", max_decompressed=1 << 20).hits
    assert [h.rule_id for h in bomb] == ["ATS-ART-007"]


def test_fuzz_findings_stay_fixed() -> None:
    """Two crashes a mutation campaign found: a .npy shape with U+0085 (matched by the
    regex's \\s) and a ZIP64 extra field declaring more bytes than it holds."""
    from atlascan.engines.artifacts import containers

    data = ab.npy("<f8", (100,), b"\x00" * 16).replace(b"(100,)", b"(10\x85,)")
    assert [h.rule_id for h in _scan_bytes(data, "x.npy").hits] == ["ATS-ART-004"]
    assert containers._zip64(b"\x01\x00\x18\x00" + b"\x00" * 8, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF) == (0, 0xFFFFFFFF, 0xFFFFFFFF)
