"""`atlascan server` end to end: a real LSP client (pytest-lsp) drives the server over stdio
through open, change, quick fix, clear, suppress, hover and shutdown, for Python,
Dockerfile and Terraform buffers; the workspace's configuration applies as in the CLI."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("pygls", reason="the language server needs the [lsp] extra (pygls)")
pytest_lsp = pytest.importorskip("pytest_lsp", reason="end-to-end LSP tests need pytest-lsp")

from lsprotocol import types  # noqa: E402
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities  # noqa: E402

from scanning import write_tree  # noqa: E402

pytestmark = pytest.mark.asyncio(loop_scope="module")

PYTHON = """import torch
import yaml


def load(path):
    cfg = yaml.load(open(path + ".yml"))
    return torch.load(path)
"""
DOCKERFILE = """FROM python:3.11
RUN curl -sSL https://example.com/install.sh | bash
USER root
CMD ["uvicorn", "serve:app", "--host", "0.0.0.0"]
"""
TERRAFORM = """resource "aws_s3_bucket" "models" {
  bucket = "ml-models"
  acl    = "public-read"
}
"""
# The workspace's own configuration: the language server must honour it like the CLI.
CONFIG = """ignore = ["ATS-DKR-004"]
per-path-ignores = { "ignored/**" = ["ATS-PY"] }
include-unproven = true
"""


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("ws")
    return write_tree(root, {
        ".atlascan.toml": CONFIG,
        "train.py": PYTHON,
        "Dockerfile": DOCKERFILE,
        "infra/main.tf": TERRAFORM,
        "ignored/train.py": PYTHON,
    })


@pytest_lsp.fixture(
    scope="module",
    config=ClientServerConfig(server_command=[sys.executable, "-m", "atlascan", "server"]),
)
async def client(lsp_client: LanguageClient, workspace: Path) -> AsyncIterator[None]:
    await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities("visual-studio-code"),
            root_uri=workspace.as_uri(),
            workspace_folders=[types.WorkspaceFolder(uri=workspace.as_uri(), name="ws")],
            initialization_options={"debounceMs": 100},
        )
    )
    yield
    await lsp_client.shutdown_session()


class Buffer:
    """One open document on the client side, tracking its version and text."""

    def __init__(self, client: LanguageClient, path: Path, language: str) -> None:
        self.client = client
        self.uri = path.as_uri()
        self.text = path.read_text("utf-8")
        self.version = 1
        self.language = language

    async def published(self, action: Any) -> list[types.Diagnostic]:
        """Run `action` and wait for this document's next diagnostics."""
        self.client.diagnostics.pop(self.uri, None)
        action()
        for _ in range(200):
            if self.uri in self.client.diagnostics:
                return list(self.client.diagnostics[self.uri])
            await asyncio.sleep(0.05)
        raise AssertionError(f"no diagnostics for {self.uri}")

    async def open(self) -> list[types.Diagnostic]:
        item = types.TextDocumentItem(uri=self.uri, language_id=self.language, version=self.version, text=self.text)
        return await self.published(
            lambda: self.client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=item))
        )

    async def replace(self, text: str) -> list[types.Diagnostic]:
        self.text = text
        self.version += 1
        params = types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=self.uri, version=self.version),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
        )
        return await self.published(lambda: self.client.text_document_did_change(params))

    async def apply(self, edit: types.WorkspaceEdit) -> list[types.Diagnostic]:
        assert edit.changes is not None
        return await self.replace(apply_edits(self.text, edit.changes[self.uri]))

    async def actions(self, diag: types.Diagnostic) -> list[types.CodeAction]:
        result = await self.client.text_document_code_action_async(
            types.CodeActionParams(
                text_document=types.TextDocumentIdentifier(uri=self.uri),
                range=diag.range,
                context=types.CodeActionContext(diagnostics=[diag]),
            )
        )
        return [a for a in result or [] if isinstance(a, types.CodeAction)]

    async def hover(self, diag: types.Diagnostic) -> str:
        result = await self.client.text_document_hover_async(
            types.HoverParams(text_document=types.TextDocumentIdentifier(uri=self.uri), position=diag.range.start)
        )
        assert result is not None and isinstance(result.contents, types.MarkupContent)
        return result.contents.value

    async def close(self) -> None:
        """Close the document; the server clears its diagnostics (awaited, so that a late
        clearing never answers the next test's open)."""
        params = types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=self.uri))
        assert await self.published(lambda: self.client.text_document_did_close(params)) == []


def apply_edits(text: str, edits: list[types.TextEdit]) -> str:
    """Apply LSP text edits (ASCII test buffers: UTF-16 units are characters)."""
    lines = text.splitlines(keepends=True)

    def offset(p: types.Position) -> int:
        return sum(len(line) for line in lines[: p.line]) + p.character

    for e in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True):
        text = text[: offset(e.range.start)] + e.new_text + text[offset(e.range.end) :]
    return text


def by_code(diags: list[types.Diagnostic]) -> dict[str, types.Diagnostic]:
    return {str(d.code): d for d in diags}


async def suppress(buf: Buffer, diag: types.Diagnostic, comment: str) -> list[types.Diagnostic]:
    action = next(a for a in await buf.actions(diag) if a.title.startswith("Suppress"))
    assert action.edit is not None and action.edit.changes is not None
    (edit,) = action.edit.changes[buf.uri]
    assert edit.range.start == types.Position(line=diag.range.start.line, character=0)
    assert f"{comment} atlascan: ignore[{diag.code}] " in edit.new_text
    return await buf.apply(action.edit)


async def test_python_open_change_fix_clear_suppress_hover(client: LanguageClient, workspace: Path) -> None:
    buf = Buffer(client, workspace / "train.py", "python")
    diags = by_code(await buf.open())
    assert set(diags) == {"ATS-PY-004", "ATS-PY-007"}
    torch_load = diags["ATS-PY-004"]
    assert torch_load.source == "atlascan"
    assert torch_load.severity == types.DiagnosticSeverity.Error
    assert torch_load.range.start == types.Position(line=6, character=11)
    assert torch_load.code_description is not None
    assert torch_load.code_description.href.endswith("/ATS-PY-004.md")
    assert "AML.T0011.000" in torch_load.message
    assert torch_load.data["atlas"] and torch_load.data["cwe"] == 502

    # Hover shows the rule's guidance.
    text = await buf.hover(torch_load)
    assert "ATS-PY-004" in text and "What it does" in text and "Use instead" in text

    # An unsaved edit is analysed (debounced): a second unsafe load appears.
    changed = await buf.replace(buf.text + "\n\ndef again(p):\n    return torch.load(p)\n")
    assert sorted(d.range.start.line for d in changed if d.code == "ATS-PY-004") == [6, 10]
    diags = {str(d.code): d for d in changed if d.range.start.line == 6 or d.code != "ATS-PY-004"}

    # The quick fix (weights_only=True) clears the finding it was offered for.
    fix = next(a for a in await buf.actions(diags["ATS-PY-004"]) if a.is_preferred)
    assert fix.edit is not None
    after = await buf.apply(fix.edit)
    assert "weights_only=True" in buf.text.splitlines()[6]
    assert sorted(d.range.start.line for d in after if d.code == "ATS-PY-004") == [10]

    # Suppress with a reason: a `#` comment above the finding.
    after = await suppress(buf, by_code(after)["ATS-PY-007"], "#")
    assert buf.text.splitlines()[5].startswith("    # atlascan: ignore[ATS-PY-007] ")
    assert "ATS-PY-007" not in by_code(after)

    # Clearing the rest leaves no diagnostics.
    assert await buf.replace("print('clean')\n") == []
    await buf.close()


async def test_dockerfile_config_applies_and_suppress(client: LanguageClient, workspace: Path) -> None:
    buf = Buffer(client, workspace / "Dockerfile", "dockerfile")
    diags = by_code(await buf.open())
    # ATS-DKR-004 is ignored by the workspace's .atlascan.toml.
    assert set(diags) == {"ATS-CMD-013", "ATS-DKR-003"}
    assert diags["ATS-DKR-003"].severity == types.DiagnosticSeverity.Information  # hardening: low
    assert "Why it matters" in await buf.hover(diags["ATS-CMD-013"])
    # No mechanical fix for a Dockerfile rule: suppressing is the only action.
    assert [a.title for a in await buf.actions(diags["ATS-DKR-003"])] == ["Suppress ATS-DKR-003 here (with a reason)"]
    after = await suppress(buf, diags["ATS-DKR-003"], "#")
    assert set(by_code(after)) == {"ATS-CMD-013"}
    assert await buf.replace("FROM python:3.11@sha256:" + "a" * 64 + "\nUSER app\n") == []
    await buf.close()


async def test_terraform_change_and_suppress(client: LanguageClient, workspace: Path) -> None:
    buf = Buffer(client, workspace / "infra" / "main.tf", "terraform")
    diags = by_code(await buf.open())
    assert {"ATS-TF-012", "ATS-TF-014", "ATS-TF-015"} <= set(diags)
    public = diags["ATS-TF-012"]
    assert public.severity == types.DiagnosticSeverity.Error
    assert public.range.start == types.Position(line=2, character=2)
    assert "Use instead" in await buf.hover(public)
    after = await suppress(buf, public, "#")
    assert "ATS-TF-012" not in by_code(after)
    assert buf.text.splitlines()[2].startswith("  # atlascan: ignore[ATS-TF-012] ")
    # The public ACL removed from the buffer: its finding is gone without saving.
    after = await buf.replace(TERRAFORM.replace('  acl    = "public-read"\n', ""))
    assert "ATS-TF-012" not in by_code(after) and "ATS-TF-015" in by_code(after)
    assert await buf.replace('variable "region" {\n  default = "eu-west-1"\n}\n') == []
    await buf.close()


async def test_per_path_ignores_and_save(client: LanguageClient, workspace: Path) -> None:
    buf = Buffer(client, workspace / "ignored" / "train.py", "python")
    assert await buf.open() == []
    diags = await buf.published(
        lambda: client.text_document_did_save(
            types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=buf.uri))
        )
    )
    assert diags == []
    await buf.close()


async def test_broken_buffer_keeps_server_alive(client: LanguageClient, workspace: Path) -> None:
    buf = Buffer(client, workspace / "train.py", "python")
    assert set(by_code(await buf.open())) == {"ATS-PY-004", "ATS-PY-007"}
    # A syntax error while typing: nothing is published (the last diagnostics stay), and
    # the server keeps answering.
    broken = "import torch\ntorch.load(p\n"
    buf.version += 1
    client.diagnostics.pop(buf.uri, None)
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=buf.uri, version=buf.version),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=broken)],
        )
    )
    await asyncio.sleep(0.6)
    assert buf.uri not in client.diagnostics
    buf.text = broken
    assert set(by_code(await buf.replace(PYTHON))) == {"ATS-PY-004", "ATS-PY-007"}
    await buf.close()


async def test_shutdown_exits_cleanly(workspace: Path) -> None:
    config = ClientServerConfig(server_command=[sys.executable, "-m", "atlascan", "server"])
    other = await config.start()
    assert isinstance(other, LanguageClient)
    result = await other.initialize_session(
        types.InitializeParams(capabilities=types.ClientCapabilities(), root_uri=workspace.as_uri())
    )
    assert result.server_info is not None and result.server_info.name == "atlascan"
    caps = result.capabilities
    assert caps.hover_provider and caps.code_action_provider
    await other.shutdown_session()
    assert other._server is not None and other._server.returncode == 0
    await other.stop()
