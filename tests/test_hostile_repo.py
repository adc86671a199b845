"""A hostile repository, every analyzer at once: each bad file costs a notice, never a
traceback, an internal error or a hang, and the good files are still reported."""

from __future__ import annotations

import io
import json
import os
import time
import zipfile
from pathlib import Path

import pytest

from atlascan.model import Limits
from atlascan.scan import ScanOptions, run_scan
from scanning import write_tree

TOKEN = 'HF_TOKEN = "hf_9jYg7SjjPvttfbfMLZuPjII4OoaQmzBinn"\n'


def _zip_bomb() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("archive/data.pkl", b"\x80\x02" + b"(" * (64 * 1024 * 1024))  # 64 MiB of MARKs
    return buf.getvalue()


def _hostile_tree(root: Path) -> None:
    deep = 5000
    files: dict[str, str | bytes] = {
        "ok.py": TOKEN,
        "deep_expr.py": "import pickle\nx = " + "(" * deep + "pickle.loads(b)" + ")" * deep + "\n",
        "py2.py": "print 'hello'\nexec 'x'\n",
        "bad_utf8.py": b"x = '\xff\xfe'\n",
        "nul.py": b"import os\x00\n",
        "deep.ipynb": '{"cells": ' + "[" * deep + "]" * deep + "}",
        "broken.ipynb": '{"cells": [{"cell_type": "code", "source": ',
        # manifests (apiVersion/kind), so the YAML engines really parse them
        "deep.yaml": "apiVersion: v1\nkind: Pod\nspec: " + "[" * deep + "]" * deep + "\n",
        "bomb.yaml": "apiVersion: v1\nkind: ConfigMap\na: &a [x, x, x, x, x, x, x, x, x]\n"
        + "".join(f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n" for i in range(9)),
        "helm/deployment.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Values.name }}\n{{- if .Values.x }}\nspec: {}\n{{- end }}\n",
        "dup.yaml": "a: 1\na: 2\n",
        "tf/main.tf": 'resource "aws_s3_bucket" "b" {\n  bucket = "x"\n' + "  tags = " + "{ a = " * 2000 + "1" + " }" * 2000 + "\n}\n",
        "tf/broken.tf": 'resource "aws_s3_bucket" "b" {\n  acl = \n',
        "Dockerfile": "FROM python:3.11\nRUN echo \\\n" + "  a \\\n" * 20000 + "  done\n",
        "Dockerfile.heredoc": "FROM alpine\nRUN <<EOF\n" + "echo hi\n" * 1000 + "\n",  # never closed
        ".github/workflows/ci.yml": "on: [push]\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: " + "$(" * 3000 + "\n",
        "script.sh": "echo " + "$(" * 20000 + "\n",
        "long_line.json": "[" + "1," * 2_000_000 + "1]",
        "models/bomb.pt": _zip_bomb(),
        "models/empty.pkl": b"",
        "models/truncated.pkl": b"\x80\x04\x95\xff\xff\xff\x00\x00\x00\x00\x00",
        "models/endless.pkl": b"\x80\x02" + b"N" * 2_000_000,
        "models/junk.npy": b"\x93NUMPY\x01\x00\xff\xff{'descr': '|O', " + b"x" * 100,
    }
    write_tree(root, files)
    os.symlink(root, root / "loop")
    os.symlink("/etc/passwd", root / "passwd.py")


@pytest.mark.parametrize("jobs", [1, 2])
def test_hostile_repository_is_scanned_safely(tmp_path: Path, jobs: int) -> None:
    _hostile_tree(tmp_path)
    started = time.monotonic()
    result = run_scan(ScanOptions(paths=[tmp_path], root=tmp_path, jobs=jobs, limits=Limits(file_timeout_s=60)))
    elapsed = time.monotonic() - started
    internal = [n for n in result.notices if "Internal error" in n.message or "took longer" in n.message]
    assert not internal, internal
    assert ("ATS-SEC-002", "ok.py") in {(f.rule_id, f.path) for f in result.findings}
    noticed = {n.path for n in result.notices}
    # (deep.ipynb is valid JSON to some Python versions' decoders: no notice is owed there)
    for bad in ("bad_utf8.py", "broken.ipynb", "tf/broken.tf", "passwd.py", "deep.yaml", "bomb.yaml",
                "deep_expr.py", "py2.py", "helm/deployment.yaml", "Dockerfile.heredoc"):
        assert bad in noticed, f"{bad}: expected a notice; notices: {sorted(noticed)}"
    assert elapsed < 120, f"hostile tree took {elapsed:.0f} s"
    json.dumps([n.message for n in result.notices])  # notices are plain text
