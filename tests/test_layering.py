"""The layers stay apart: parsers know nothing of rules, engines or the scan; reporters see a
ScanResult and import no scan module; integrations are called by the flow and never call
into it; engines parse nothing themselves (artifact byte readers aside)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "atlascan"
FLOW = ("atlascan.scan", "atlascan.analysis", "atlascan.discover")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text("utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{a.name}" for a in node.names)
    return names


def _files(folder: str) -> list[Path]:
    return sorted((SRC / folder).rglob("*.py"))


def _banned(path: Path, prefixes: tuple[str, ...]) -> list[str]:
    return sorted(n for n in _imports(path) if n.startswith(prefixes))


@pytest.mark.parametrize("path", _files("parsers"), ids=lambda p: str(p.relative_to(SRC)))
def test_parsers_import_no_scan_engine_or_report(path: Path) -> None:
    assert _banned(path, (*FLOW, "atlascan.engines", "atlascan.report", "atlascan.rules", "atlascan.findings")) == []


@pytest.mark.parametrize("path", _files("report"), ids=lambda p: str(p.relative_to(SRC)))
def test_reporters_import_no_scan_module(path: Path) -> None:
    assert _banned(path, (*FLOW, "atlascan.engines")) == []


@pytest.mark.parametrize("path", _files("integrations"), ids=lambda p: str(p.relative_to(SRC)))
def test_integrations_import_no_scan_module(path: Path) -> None:
    assert _banned(path, FLOW) == []


PARSING_CALLS = {("ast", "parse"), ("json", "loads"), ("json", "load"), ("yaml", "safe_load"), ("tomllib", "loads")}


@pytest.mark.parametrize(
    "path",
    [p for p in _files("engines") if "artifacts" not in p.parts],
    ids=lambda p: str(p.relative_to(SRC)),
)
def test_engines_parse_nothing_themselves(path: Path) -> None:
    calls = [
        f"{node.func.value.id}.{node.func.attr}:{node.lineno}"
        for node in ast.walk(ast.parse(path.read_text("utf-8")))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Name)
        and (node.func.value.id, node.func.attr) in PARSING_CALLS
    ]
    assert calls == []
