"""Hostile repositories (issue 12): output that cannot be turned against its reader, secrets
masked in every output, and user mistakes that are exit 2 with one line. Every hostile case
is built by the test in a temporary folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from atlascan.cli import main

SECRETS = (
    "Vq7rZt2Lm9xw",
    "ghp_py3MPNZEPFqzi0OZUrNsPqPdQ1Og7YN8gKkg",
    "hf_9jYg7SjjPvttfbfMLZuPjII4OoaQmzBinn",
    "AKIAZ7QW3RT5YU2PLM4K",
)
FORMATS = ("text", "json", "sarif", "github", "html", "navigator")


def _leaky_repo(root: Path) -> Path:
    root.mkdir()
    (root / "a.py").write_text(
        "import pickle, torch\n"
        'AWS = "AKIAZ7QW3RT5YU2PLM4K"; HF = "hf_9jYg7SjjPvttfbfMLZuPjII4OoaQmzBinn"\n'
        'data = pickle.loads(open("x").read() + "token ghp_py3MPNZEPFqzi0OZUrNsPqPdQ1Og7YN8gKkg")\n'
        'm = torch.load("https://admin:Vq7rZt2Lm9xw@models.example.com/m.pt")\n',
        "utf-8",
    )
    (root / "Dockerfile").write_text(
        "FROM python:3.11\nRUN curl -sSL https://admin:Vq7rZt2Lm9xw@files.example.com/i.sh | sh\n", "utf-8"
    )
    return root


@pytest.mark.parametrize("fmt", FORMATS)
def test_no_output_carries_a_full_credential(tmp_path: Path, fmt: str) -> None:
    repo = _leaky_repo(tmp_path / "repo")
    out = tmp_path / f"out.{fmt}"
    assert main(["scan", "--include-unproven", str(repo), "--root", str(repo), "-f", fmt, "-o", str(out), "-q"]) == 1
    text = out.read_text("utf-8")
    assert not [s for s in SECRETS if s in text]


def test_baseline_and_suppressed_findings_carry_no_credential(tmp_path: Path) -> None:
    repo = _leaky_repo(tmp_path / "repo")
    (repo / "b.py").write_text(
        "import torch\n# atlascan: ignore[ATS-PY-004] vetted mirror\n"
        'm = torch.load("https://admin:Vq7rZt2Lm9xw@models.example.com/m.pt")\n', "utf-8")
    base = tmp_path / "base.json"
    assert main(["scan", "--include-unproven", str(repo), "--root", str(repo), "--write-baseline", str(base)]) == 0
    sarif = tmp_path / "out.sarif"
    main(["scan", "--include-unproven", str(repo), "--root", str(repo), "-f", "sarif", "-o", str(sarif)])
    for path in (base, sarif):
        assert not [s for s in SECRETS if s in path.read_text("utf-8")]
    assert any("suppressions" in r for r in json.loads(sarif.read_text("utf-8"))["runs"][0]["results"])


def _hostile_names(root: Path) -> Path:
    root.mkdir()
    body = b"import pickle\npickle.loads(x)\n"
    for name in (b"bad\xff.py", b"gh\n::error title=X::y\n.py", b"\x1b]0;pwn\x07.py", b"\xe2\x80\xaecod.py", b"::warning::x.py"):
        with open(os.path.join(os.fsencode(root), name), "wb") as fh:
            fh.write(body)
    (root / "snip.py").write_text('import pickle\npickle.loads("\x1b[31mred\x1b[0m")\n', "utf-8")
    return root


@pytest.mark.parametrize("fmt", ("text", "github"))
def test_names_and_snippets_never_drive_the_terminal_or_the_ci_log(tmp_path: Path, fmt: str) -> None:
    repo = _hostile_names(tmp_path / "repo")
    out = tmp_path / "out"
    assert main(["scan", "--include-unproven", str(repo), "--root", str(repo), "-f", fmt, "-o", str(out)]) == 1
    text = out.read_text("utf-8")
    assert "\x1b" not in text and "\u202e" not in text and "\r" not in text
    lines = text.splitlines()
    commands = [line for line in lines if line.lstrip().startswith("::")]
    if fmt == "text":
        assert not commands
        assert "bad\\xff.py" in text and "gh\\n::error" in text
    else:  # our own annotations only: one per finding, none started by a file name
        assert all(line.startswith(("::error file=", "::warning file=", "::notice file=")) for line in commands)
        assert len(commands) == 6


@pytest.mark.parametrize("fmt", ("json", "sarif", "html"))
def test_a_name_that_is_not_utf8_is_scanned_and_reported_escaped(tmp_path: Path, fmt: str) -> None:
    repo = _hostile_names(tmp_path / "repo")
    out = tmp_path / "out"
    assert main(["scan", "--include-unproven", str(repo), "--root", str(repo), "-f", fmt, "-o", str(out)]) == 1
    text = out.read_text("utf-8")
    assert "xff.py" in text  # escaped (`bad\\xff.py`, percent-encoded in SARIF URIs)
    assert "\udcff" not in text and "\\udcff" not in text


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "atlascan", *args], cwd=cwd, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize(
    "args",
    [
        ("scan", "missing-folder"),
        ("scan", ".", "--select", "ATS-PY-01"),
        ("scan", ".", "--ignore", "ATS-NOPE"),
        ("scan", ".", "--jobs", "0"),
        ("scan", ".", "--max-file-size", "-1"),
        ("scan", ".", "-f", "json", "-o", "."),
        ("scan", ".", "-f", "json", "-o", "a.py/out.json"),
        ("scan", ".", "--write-baseline", "a.py/base.json"),
        ("scan", ".", "--baseline", "/dev/zero"),
    ],
)
def test_mistakes_are_exit_2_with_one_line(tmp_path: Path, args: tuple[str, ...]) -> None:
    (tmp_path / "a.py").write_text("x = 1\n", "utf-8")
    done = _run(*args, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith(("atlascan: error:", "atlascan scan: error:"))


@pytest.mark.parametrize("content", [b"[" * 100_000, b"\xff\xfe\x00", b'{"findings": 3}'])
def test_a_hostile_baseline_is_exit_2(tmp_path: Path, content: bytes) -> None:
    (tmp_path / "a.py").write_text("x = 1\n", "utf-8")
    (tmp_path / "base.json").write_bytes(content)
    done = _run("scan", ".", "--baseline", "base.json", cwd=tmp_path)
    assert done.returncode == 2 and "baseline" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_baseline_is_refused_without_blocking(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("x = 1\n", "utf-8")
    os.mkfifo(tmp_path / "base.json")
    done = _run("scan", ".", "--baseline", "base.json", cwd=tmp_path)
    assert done.returncode == 2 and "not a regular file" in done.stderr


def test_an_ignore_file_is_never_read_through_a_link(tmp_path: Path) -> None:
    from atlascan.discover import discover

    outside = tmp_path / "outside.txt"
    outside.write_text("*.py\n", "utf-8")
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "a.py").write_text("x = 1\n", "utf-8")
    (repo / ".gitignore").symlink_to(outside)
    found = discover([repo], repo)
    assert [f.path for f in found.files] == ["a.py"]


def test_a_huge_ignore_file_is_capped_with_a_notice(tmp_path: Path) -> None:
    from atlascan.discover import MAX_IGNORE_PATTERNS, discover

    (tmp_path / ".gitignore").write_text("\n".join(f"d{i}/f{i}_*.txt" for i in range(50_000)) + "\nlast.py\n", "utf-8")
    for i in range(20):
        (tmp_path / f"m{i}.py").write_text("x = 1\n", "utf-8")
    (tmp_path / "last.py").write_text("x = 1\n", "utf-8")
    found = discover([tmp_path], tmp_path)
    assert any(str(MAX_IGNORE_PATTERNS) in n.message and n.path == ".gitignore" for n in found.notices)
    assert "last.py" in {f.path for f in found.files}  # past the cap: scanned, never hidden


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("pyproject.toml", b'[tool.atlascan]\nselect = ["\xff"]\n'),
        (".atlascan.toml", b"x = " + b"{a=" * 5000 + b"1" + b"}" * 5000 + b"\n"),
        (".atlascan.toml", b"x = " + b"[" * 100_000 + b"]" * 100_000 + b"\n"),
    ],
)
def test_a_hostile_configuration_is_exit_2_with_one_line(tmp_path: Path, name: str, content: bytes) -> None:
    (tmp_path / "a.py").write_text("x = 1\n", "utf-8")
    (tmp_path / name).write_bytes(content)
    done = _run("scan", ".", cwd=tmp_path)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith("atlascan: error:")
