"""Language server latency: from a didChange to the diagnostics of that version, for a
generated 200-line Python file and a 300-line Terraform file, through a real LSP client
over stdio (pygls). Run once with the default 300 ms debounce and once without it, so the
analysis cost shows apart from the wait for the user to stop typing.

    python benchmarks/lsp_latency.py                 # 20 edits of each file
    python benchmarks/lsp_latency.py --edits 50
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

from lsprotocol import types
from pygls.lsp.client import LanguageClient

ROOT = Path(__file__).resolve().parents[1]


def python_file(lines: int) -> str:
    """Realistic-looking training code with a few findings (unsafe loads, a yaml.load)."""
    out = ["import os", "import torch", "import yaml", "import numpy as np", ""]
    i = 0
    while len(out) < lines - 1:
        out += [
            f"def step_{i}(batch, path_{i}):",
            f"    cfg = yaml.safe_load(open('cfg_{i}.yml'))",
            f"    weights = torch.load(path_{i}, weights_only=True)",
            f"    x = np.asarray(batch) * cfg.get('scale', {i})",
            "    return weights, x" if i % 7 else f"    return torch.load(os.environ['CKPT_{i}'])",
            "",
        ]
        i += 1
    return "\n".join(out[: lines - 1]) + "\nmodel = yaml.load(open('m.yml'))\n"


def terraform_file(lines: int) -> str:
    out: list[str] = []
    i = 0
    while len(out) + 8 <= lines:
        out += [
            f'resource "aws_s3_bucket" "models_{i}" {{',
            f'  bucket = "ml-models-{i}"',
            '  acl    = "public-read"' if i % 5 == 0 else '  acl    = "private"',
            "  tags = {",
            '    team = "ml"',
            "  }",
            "}",
            "",
        ]
        i += 1
    out += ["# padding"] * (lines - len(out))
    return "\n".join(out) + "\n"


async def measure(path: Path, language: str, edits: int, debounce_ms: int) -> list[float]:
    client = LanguageClient("lsp-latency", "1")
    published: asyncio.Queue[types.PublishDiagnosticsParams] = asyncio.Queue()

    @client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def on_diagnostics(params: types.PublishDiagnosticsParams) -> None:
        published.put_nowait(params)

    await client.start_io(sys.executable, "-m", "atlascan", "server")
    await client.initialize_async(
        types.InitializeParams(
            capabilities=types.ClientCapabilities(),
            root_uri=path.parent.as_uri(),
            workspace_folders=[types.WorkspaceFolder(uri=path.parent.as_uri(), name="bench")],
            initialization_options={"debounceMs": debounce_ms},
        )
    )
    client.initialized(types.InitializedParams())
    uri = path.as_uri()
    text = path.read_text("utf-8")
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(uri=uri, language_id=language, version=1, text=text))
    )
    first = await asyncio.wait_for(published.get(), 30)
    print(f"  {path.name}: {len(first.diagnostics)} diagnostics on open")
    timings = []
    for version in range(2, edits + 2):
        edit = types.TextDocumentContentChangePartial(
            range=types.Range(start=types.Position(line=0, character=0), end=types.Position(line=0, character=0)),
            text=f"# edit {version}\n",
        )
        started = time.perf_counter()
        client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version), content_changes=[edit]
            )
        )
        # A buffer that fails to analyse publishes nothing: give up rather than wait forever.
        while (await asyncio.wait_for(published.get(), 30)).version != version:
            pass
        timings.append((time.perf_counter() - started) * 1000)
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()
    return timings


def report(label: str, timings: list[float]) -> None:
    timings = sorted(timings)
    p95 = timings[min(len(timings) - 1, int(len(timings) * 0.95))]
    print(f"  {label}: median {statistics.median(timings):.0f} ms, p95 {p95:.0f} ms, min {timings[0]:.0f} ms")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--edits", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "train.py").write_text(python_file(200), "utf-8")
        (folder / "main.tf").write_text(terraform_file(300), "utf-8")
        for name, language in (("train.py", "python"), ("main.tf", "terraform")):
            for debounce in (300, 0):
                timings = await measure(folder / name, language, args.edits, debounce)
                report(f"{name} ({len((folder / name).read_text().splitlines())} lines), debounce {debounce} ms", timings)


if __name__ == "__main__":
    asyncio.run(main())
