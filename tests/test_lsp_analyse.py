"""The language server's analysis of an unsaved buffer (no pygls needed): the flow reads the
buffer instead of the file on disk, with the workspace's configuration and suppressions."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from atlascan.cli import main
from atlascan.lsp.analyse import analyse_buffer, comment_syntax
from atlascan.pathclass import UNPROVEN
from atlascan.scan import ScanOptions, run_scan
from scanning import write_tree

UNSAFE = "import torch\nm = torch.load('m.pt')\n"
# A load of a file the code names is held back by default (no outside input shown); these
# tests are about the buffer, so the workspace asks for it.
ASK = "include-unproven = true\n"
SAFE = "import torch\nm = torch.load('m.pt', weights_only=True)\n"


def test_flow_reads_overrides_instead_of_disk(tmp_path: Path) -> None:
    write_tree(tmp_path, {"train.py": SAFE})
    asked = frozenset({UNPROVEN})
    opts = ScanOptions(paths=[tmp_path], root=tmp_path, jobs=1, overrides={"train.py": UNSAFE}, report_classes=asked)
    assert {f.rule_id for f in run_scan(opts).findings} == {"ATS-PY-004"}
    opts = ScanOptions(paths=[tmp_path], root=tmp_path, jobs=1, report_classes=asked)
    assert run_scan(opts).findings == []


def test_buffer_uses_workspace_config_and_inline_ignores(tmp_path: Path) -> None:
    write_tree(tmp_path, {
        ".atlascan.toml": 'exclude = ["vendored/"]\nseverity-threshold = "medium"\n' + ASK,
        "train.py": SAFE,
        "vendored/x.py": SAFE,
        "low.py": "",
    })
    got = analyse_buffer(tmp_path / "train.py", UNSAFE, tmp_path)
    assert got is not None and got.path == "train.py" and got.kind == "python"
    assert [(f.rule_id, f.region.start_line) for f in got.findings] == [("ATS-PY-004", 2)]
    suppressed = analyse_buffer(tmp_path / "train.py", "import torch\n# atlascan: ignore[ATS-PY-004] ours\n" + UNSAFE.split("\n", 1)[1], tmp_path)
    assert suppressed is not None and suppressed.findings == []
    excluded = analyse_buffer(tmp_path / "vendored" / "x.py", UNSAFE, tmp_path)
    assert excluded is not None and excluded.findings == [] and excluded.kind is None
    # Below the configured threshold (an unpinned image is low): not reported.
    low = analyse_buffer(tmp_path / "low.py", "", tmp_path)
    assert low is not None and low.findings == []


def test_buffer_outside_root_or_unsaved(tmp_path: Path) -> None:
    write_tree(tmp_path, {"a/train.py": SAFE})
    assert analyse_buffer(tmp_path / "a" / "train.py", UNSAFE, tmp_path / "b") is None
    assert analyse_buffer(tmp_path / "a" / "new.py", UNSAFE, tmp_path) is None


def test_syntax_error_marks_failed(tmp_path: Path) -> None:
    write_tree(tmp_path, {"train.py": SAFE})
    got = analyse_buffer(tmp_path / "train.py", "import torch\ntorch.load(p\n", tmp_path)
    assert got is not None and got.failed


def test_comment_syntax() -> None:
    assert comment_syntax("python", "a.py") == ("#", "")
    assert comment_syntax("terraform", "main.tf") == ("#", "")
    assert comment_syntax("gha-workflow", ".github/workflows/x.yml") == ("#", "")
    assert comment_syntax("text", "app.js") == ("//", "")
    assert comment_syntax("text", "README.md") == ("<!--", " -->")
    assert comment_syntax("json", "x.json") is None
    assert comment_syntax("notebook", "x.ipynb") is None


def test_server_without_pygls_is_a_one_line_error(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setitem(sys.modules, "pygls", None)
    monkeypatch.setitem(sys.modules, "pygls.lsp.server", None)
    monkeypatch.delitem(sys.modules, "atlascan.lsp.server", raising=False)
    assert main(["server"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "pip install 'atlascan[lsp]'" in err


def test_time_budget_stops_analysis(tmp_path: Path) -> None:
    write_tree(tmp_path, {"train.py": SAFE})
    got = analyse_buffer(tmp_path / "train.py", UNSAFE * 200, tmp_path, time_budget_s=1e-6)
    assert got is not None and got.failed
    assert any("took longer" in n.message for n in got.notices)


def test_dependency_pins_of_enclosing_folders_count(tmp_path: Path) -> None:
    """As in a scan of the folder, a torch >= 2.6 pin makes `torch.load` safe by default."""
    write_tree(tmp_path, {"requirements.txt": "torch>=2.6\n", "src/pkg/train.py": SAFE, "other/train.py": SAFE, ".atlascan.toml": ASK})
    pinned = analyse_buffer(tmp_path / "src" / "pkg" / "train.py", UNSAFE, tmp_path)
    assert pinned is not None and pinned.findings == []
    write_tree(tmp_path, {"requirements.txt": "torch\n"})
    unpinned = analyse_buffer(tmp_path / "src" / "pkg" / "train.py", UNSAFE, tmp_path)
    assert unpinned is not None and [f.rule_id for f in unpinned.findings] == ["ATS-PY-004"]


def test_positions_are_in_the_clients_units(tmp_path: Path) -> None:
    """Findings count code points; LSP clients count UTF-16 units by default."""
    pytest.importorskip("pygls", reason="the language server needs the [lsp] extra (pygls)")
    from pygls.workspace import TextDocument

    from atlascan.lsp.server import diagnostic, fix_action

    text = "import torch\nname = '😀'; m = torch.load('m.pt')\n"
    write_tree(tmp_path, {"train.py": SAFE, ".atlascan.toml": ASK})
    got = analyse_buffer(tmp_path / "train.py", text, tmp_path)
    assert got is not None
    (finding,) = got.findings
    assert finding.region.start_column == 17  # 1-based code points
    uri = (tmp_path / "train.py").as_uri()
    doc = TextDocument(uri, text)
    diag = diagnostic(finding, got, doc, tmp_path)
    assert (diag.range.start.line, diag.range.start.character) == (1, 17)  # 0-based; the emoji is 2 units
    action = fix_action(finding, uri, doc, diag)
    assert action is not None and action.edit is not None and action.edit.changes is not None
    (edit,) = action.edit.changes[uri]
    assert "weights_only=True" in edit.new_text and edit.range.start.line == 1
    line = text.splitlines()[1]
    assert edit.range.start.character == len(line[: line.rindex(")")].encode("utf-16-le")) // 2


def test_buffer_held_to_the_limits_of_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A limit comes from the user's own configuration (a workspace's may only narrow).
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    user = tmp_path / "xdg" / "atlascan" / "config.toml"
    user.parent.mkdir(parents=True)
    tmp_path = tmp_path / "ws"
    user.write_text("max-file-size-kb = 1\n", "utf-8")
    write_tree(tmp_path, {"gen.py": SAFE, "big.py": SAFE})
    generated = analyse_buffer(tmp_path / "gen.py", "# Code generated by protoc. DO NOT EDIT.\n" + UNSAFE, tmp_path)
    assert generated is not None and generated.findings == [] and not generated.failed
    assert any("Generated file skipped" in n.message for n in generated.notices)
    big = analyse_buffer(tmp_path / "big.py", UNSAFE + "#" * 2048 + "\n", tmp_path)
    assert big is not None and big.findings == []
    assert any("over the 1 KiB limit" in n.message for n in big.notices)
