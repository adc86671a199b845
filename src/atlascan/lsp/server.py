"""The language server: diagnostics on open, change (debounced) and save, quick fixes,
"suppress with a reason" actions and hover guidance, over stdio with pygls 2.

Analysis runs on the event loop's thread, which is the main thread, so the per-file time
budget of the flow (SIGALRM) applies; a debounced change costs tens of milliseconds.
"""

from __future__ import annotations

import asyncio
import logging
import re
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.workspace import TextDocument
from pygls.workspace.position_codec import ServerTextPosition, ServerTextRange

from atlascan import __version__
from atlascan.atlas import catalog
from atlascan.lsp.analyse import BufferAnalysis, analyse_buffer, comment_syntax
from atlascan.model import Finding, Severity
from atlascan.report.guidance import help_uri
from atlascan.rules import Rule

log = logging.getLogger("atlascan.lsp")

DEBOUNCE_S = 0.3
TIME_BUDGET_S = 10.0
CONFIG_FILES = (".atlascan.toml", "pyproject.toml")
SUPPRESS_REASON = "TODO: say why this is safe"
_SEVERITY = {
    Severity.CRITICAL: types.DiagnosticSeverity.Error,
    Severity.HIGH: types.DiagnosticSeverity.Error,
    Severity.MEDIUM: types.DiagnosticSeverity.Warning,
    Severity.LOW: types.DiagnosticSeverity.Information,
    Severity.INFO: types.DiagnosticSeverity.Hint,
}

_LOG_LEVEL = {"error": types.MessageType.Error, "warning": types.MessageType.Warning}


def uri_to_path(uri: str) -> Path | None:
    parsed = urlparse(uri)
    if parsed.scheme != "file":
        return None
    return Path(unquote(parsed.path))


class AtlascanServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("atlascan", __version__, text_document_sync_kind=types.TextDocumentSyncKind.Incremental)
        self.debounce_s = DEBOUNCE_S
        self.time_budget_s = TIME_BUDGET_S
        self.analyses: dict[str, BufferAnalysis] = {}  # uri -> the analysis last published
        self._pending: dict[str, asyncio.TimerHandle] = {}

    # ---- analysis ------------------------------------------------------------------------
    def root_for(self, path: Path) -> Path:
        """The innermost workspace folder holding the file; else the workspace root; else
        the file's own folder."""
        roots = [p for f in self.workspace.folders.values() if (p := uri_to_path(f.uri)) is not None]
        if self.workspace.root_path:
            roots.append(Path(self.workspace.root_path))
        inside = [r for r in roots if path.is_relative_to(r)]
        return max(inside, key=lambda r: len(r.parts)) if inside else path.parent

    def schedule(self, uri: str) -> None:
        """Analyse `uri` once the user has paused typing for `debounce_s`."""
        self.cancel(uri)
        loop = asyncio.get_running_loop()
        self._pending[uri] = loop.call_later(self.debounce_s, self.analyse, uri)

    def cancel(self, uri: str) -> None:
        handle = self._pending.pop(uri, None)
        if handle is not None:
            handle.cancel()

    def analyse(self, uri: str) -> None:
        """Analyse the open document and publish its diagnostics. Never raises: a failure is
        logged and nothing is published for the file."""
        self._pending.pop(uri, None)
        try:
            doc = self.workspace.get_text_document(uri)
            path = uri_to_path(uri)
            if path is None:
                return
            result = analyse_buffer(path, doc.source, self.root_for(path), self.time_budget_s)
            if result is None:
                return
            for notice in result.notices:
                self.log(f"{notice.path}: {notice.message}", _LOG_LEVEL.get(notice.level, types.MessageType.Info))
            if result.failed:
                return  # keep the previous diagnostics until the buffer analyses again
            self.analyses[uri] = result
            diagnostics = [diagnostic(f, result, doc, self.root_for(path)) for f in result.findings]
            self.text_document_publish_diagnostics(
                types.PublishDiagnosticsParams(uri=uri, version=doc.version, diagnostics=diagnostics)
            )
            log.debug("%s: %d finding(s) in %.0f ms", result.path, len(diagnostics), result.duration_s * 1000)
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:  # the server outlives any analysis (even a stray timeout)
            log.exception("analysis of %s failed", uri)
            self.log(f"atlascan could not analyse {uri}: {type(exc).__name__}: {exc}", types.MessageType.Error)

    def log(self, message: str, level: types.MessageType = types.MessageType.Info) -> None:
        self.window_log_message(types.LogMessageParams(type=level, message=message))

    def findings_at(self, uri: str, doc: TextDocument, rng: types.Range) -> list[tuple[Finding, types.Range]]:
        """Findings of the current analysis whose range meets `rng`, if the analysis is of the
        document's current text (an edit made since then would shift every position)."""
        analysis = self.analyses.get(uri)
        if analysis is None or analysis.text != doc.source:
            return []
        out = []
        for f in analysis.findings:
            frange = finding_range(f, doc)
            if _meets(frange, rng):
                out.append((f, frange))
        return out


# ---- conversions ---------------------------------------------------------------------------


def _position(doc: TextDocument, line: int, column: int) -> types.Position:
    """A 1-based line and code-point column as a position in the client's units."""
    return doc.position_to_client_units(ServerTextPosition(max(line - 1, 0), max(column - 1, 0)))


def finding_range(f: Finding, doc: TextDocument) -> types.Range:
    lines = doc.lines
    r = f.region
    start_col = r.start_column or 1
    end_line = r.end_line if r.end_line and r.end_line >= r.start_line else r.start_line
    if r.end_column and not (end_line == r.start_line and r.end_column <= start_col):
        end_col = r.end_column
    else:  # no column: the whole line, without its line break
        text = lines[end_line - 1] if 0 < end_line <= len(lines) else ""
        end_col = len(text.rstrip("\r\n")) + 1
        if not r.start_column:
            start_col = len(text) - len(text.lstrip()) + 1 if end_line == r.start_line else 1
    start = ServerTextPosition(r.start_line - 1, start_col - 1)
    end = ServerTextPosition(end_line - 1, max(end_col - 1, 0))
    return doc.range_to_client_units(ServerTextRange(start, end))


def _meets(a: types.Range, b: types.Range) -> bool:
    def key(p: types.Position) -> tuple[int, int]:
        return (p.line, p.character)

    return key(a.start) <= key(b.end) and key(b.start) <= key(a.end)


def diagnostic(f: Finding, analysis: BufferAnalysis, doc: TextDocument, root: Path) -> types.Diagnostic:
    rule = analysis.rules[f.rule_id]
    related = [
        types.DiagnosticRelatedInformation(
            location=types.Location(
                uri=(root / r.path).as_uri(),
                range=types.Range(
                    start=types.Position(line=max(r.region.start_line - 1, 0), character=0),
                    end=types.Position(line=max(r.region.start_line - 1, 0), character=0),
                ),
            ),
            message=r.message,
        )
        for r in f.related
    ]
    message = f.message
    if rule.atlas_techniques:
        message += f" (ATLAS {', '.join(rule.atlas_techniques)})"
    return types.Diagnostic(
        range=finding_range(f, doc),
        severity=_SEVERITY[f.severity],
        code=f.rule_id,
        code_description=types.CodeDescription(href=help_uri(rule)),
        source="atlascan",
        message=message,
        related_information=related or None,
        data={
            "atlas": list(rule.atlas_techniques),
            "cwe": rule.cwe,
            "fingerprint": f.fingerprint,
        },
    )


def fix_action(f: Finding, uri: str, doc: TextDocument, diag: types.Diagnostic | None) -> types.CodeAction | None:
    fix = f.properties.get("fix")
    if not isinstance(fix, dict) or not fix.get("replacements"):
        return None
    try:
        edits = [
            types.TextEdit(
                range=types.Range(
                    start=_position(doc, int(r["startLine"]), int(r["startColumn"])),
                    end=_position(doc, int(r["endLine"]), int(r["endColumn"])),
                ),
                new_text=str(r["insertedText"]),
            )
            for r in fix["replacements"]
        ]
    except (KeyError, TypeError, ValueError):
        return None
    return types.CodeAction(
        title=f"{fix.get('description') or 'Apply the suggested fix'} ({f.rule_id})",
        kind=types.CodeActionKind.QuickFix,
        diagnostics=[diag] if diag else None,
        is_preferred=True,
        edit=types.WorkspaceEdit(changes={uri: edits}),
    )


def suppress_action(
    f: Finding, analysis: BufferAnalysis, uri: str, doc: TextDocument, diag: types.Diagnostic | None
) -> types.CodeAction | None:
    """Insert `atlascan: ignore[ID] reason` as a comment on its own line above the finding,
    indented like it; the reason is a placeholder the user replaces."""
    syntax = comment_syntax(analysis.kind, analysis.path)
    if syntax is None:
        return None
    opening, closing = syntax
    lines = doc.lines
    line = f.region.start_line
    current = lines[line - 1] if 0 < line <= len(lines) else ""
    indent = re.match(r"[ \t]*", current).group(0)  # type: ignore[union-attr]
    text = f"{indent}{opening} atlascan: ignore[{f.rule_id}] {SUPPRESS_REASON}{closing}\n"
    at = types.Position(line=line - 1, character=0)
    return types.CodeAction(
        title=f"Suppress {f.rule_id} here (with a reason)",
        kind=types.CodeActionKind.QuickFix,
        diagnostics=[diag] if diag else None,
        edit=types.WorkspaceEdit(changes={uri: [types.TextEdit(range=types.Range(start=at, end=at), new_text=text)]}),
    )


def hover_markdown(rule: Rule) -> str:
    cat = catalog()
    parts = [f"**{rule.id}** {rule.title} ({rule.severity.label})"]
    for heading in ("What it does", "Why it matters", "Use instead"):
        body = rule.section(heading)
        if body:
            parts.append(f"#### {heading}\n\n{body}")
    refs = [
        f"[{tid} {cat.technique_label(tid) if tid in cat.techniques else ''}](https://atlas.mitre.org/techniques/{tid})"
        for tid in rule.atlas_techniques
    ]
    if refs:
        parts.append("MITRE ATLAS: " + ", ".join(refs))
    if rule.cwe:
        parts.append(f"[CWE-{rule.cwe}](https://cwe.mitre.org/data/definitions/{rule.cwe}.html)")
    parts.append(f"[Rule documentation]({help_uri(rule)})")
    return "\n\n".join(parts)


# ---- wiring --------------------------------------------------------------------------------


def build_server() -> AtlascanServer:
    server = AtlascanServer()

    @server.feature(types.INITIALIZE)
    def initialize(ls: AtlascanServer, params: types.InitializeParams) -> None:
        options = params.initialization_options if isinstance(params.initialization_options, dict) else {}
        try:
            ls.debounce_s = float(options.get("debounceMs", DEBOUNCE_S * 1000)) / 1000
            ls.time_budget_s = float(options.get("timeBudgetSeconds", TIME_BUDGET_S))
        except (TypeError, ValueError):
            pass

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: AtlascanServer, params: types.DidOpenTextDocumentParams) -> None:
        ls.analyse(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: AtlascanServer, params: types.DidChangeTextDocumentParams) -> None:
        ls.schedule(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE, types.SaveOptions(include_text=False))
    def did_save(ls: AtlascanServer, params: types.DidSaveTextDocumentParams) -> None:
        uri = params.text_document.uri
        ls.cancel(uri)
        path = uri_to_path(uri)
        if path is not None and path.name in CONFIG_FILES:
            for open_uri in list(ls.analyses):  # the configuration may have changed
                if open_uri != uri:
                    ls.analyse(open_uri)
        ls.analyse(uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: AtlascanServer, params: types.DidCloseTextDocumentParams) -> None:
        uri = params.text_document.uri
        ls.cancel(uri)
        ls.analyses.pop(uri, None)
        ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))

    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix]),
    )
    def code_action(ls: AtlascanServer, params: types.CodeActionParams) -> list[types.CodeAction]:
        uri = params.text_document.uri
        analysis = ls.analyses.get(uri)
        if analysis is None:
            return []
        doc = ls.workspace.get_text_document(uri)
        ours = [d for d in params.context.diagnostics if d.source == "atlascan"]
        actions: list[types.CodeAction] = []
        for f, frange in ls.findings_at(uri, doc, params.range):
            diag = next((d for d in ours if d.code == f.rule_id and d.range == frange), None)
            for action in (fix_action(f, uri, doc, diag), suppress_action(f, analysis, uri, doc, diag)):
                if action is not None:
                    actions.append(action)
        return actions

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    def hover(ls: AtlascanServer, params: types.HoverParams) -> types.Hover | None:
        uri = params.text_document.uri
        doc = ls.workspace.get_text_document(uri)
        at = types.Range(start=params.position, end=params.position)
        hits = ls.findings_at(uri, doc, at)
        analysis = ls.analyses.get(uri)
        if not hits or analysis is None:
            return None
        seen: list[str] = []
        for f, _ in hits:
            if f.rule_id not in seen:
                seen.append(f.rule_id)
        text = "\n\n---\n\n".join(hover_markdown(analysis.rules[rid]) for rid in seen)
        return types.Hover(
            contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=text),
            range=hits[0][1],
        )

    return server


def main() -> Any:
    logging.basicConfig(level=logging.WARNING, format="atlascan-lsp %(levelname)s %(message)s")
    build_server().start_io()
