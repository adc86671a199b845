"""The one way a finding is made. Every engine writes

    ctx.finding("ATS-PY-004").at(node).args(callee=name, origin=where).related(span, "...").emit()

and the builder renders the rule's message template, masks every credential in the message
and the snippet (one masker for all rules and outputs), attaches the snippet and returns the
Finding. It does not suppress: the flow reads the Document's real comments for that.

With ATLASCAN_STRICT_MESSAGES=1 (set by the test suite) a template placeholder the code did
not pass, or an argument the template does not name, fails loudly instead of rendering.
"""

from __future__ import annotations

import os
import string
from collections.abc import Mapping
from functools import cache
from typing import TYPE_CHECKING, Any, Protocol

from atlascan import masking
from atlascan.model import Finding, Precision, RelatedLocation, Severity, Span
from atlascan.textutil import snippet_at

if TYPE_CHECKING:
    from atlascan.document import Document
    from atlascan.rules import Rule

STRICT = os.environ.get("ATLASCAN_STRICT_MESSAGES") == "1"


class MessageError(ValueError):
    """A check and its rule's message template disagree on the arguments."""


class Located(Protocol):
    """Anything with 1-based positions: YAML nodes, Terraform attributes, Dockerfile words."""

    line: int
    column: int


def span_of(where: Span | Located, last: Located | None = None) -> Span:
    """A Span from a Span, or from a node (through `last`, e.g. a key to its value). A value
    running over several lines is cut to its first line: that is the line to change."""
    if isinstance(where, Span):
        return where
    end = last if last is not None else where
    end_line = getattr(end, "end_line", None)
    end_column = getattr(end, "end_column", None)
    if end_line is None or end_line != where.line:
        return Span(where.line, where.column or None)
    return Span(where.line, where.column or None, end_line, end_column)


@cache
def template_fields(template: str) -> frozenset[str]:
    return frozenset(name.split(".")[0].split("[")[0] for _, name, _, _ in string.Formatter().parse(template) if name)


class FindingBuilder:
    """Collects one finding's parts; `emit()` renders, masks and records it."""

    __slots__ = ("_args", "_doc", "_fix", "_precision", "_properties", "_related", "_rule", "_secrets", "_severity", "_sink", "_snippet", "_span")

    def __init__(self, rule: Rule, doc: Document, sink: list[Finding]) -> None:
        self._rule = rule
        self._doc = doc
        self._sink = sink
        self._span: Span | None = None
        self._args: dict[str, Any] = {}
        self._severity: Severity | None = None
        self._precision: Precision | None = None
        self._related: list[RelatedLocation] = []
        self._properties: dict[str, Any] = {}
        self._secrets: set[str] = set()
        self._snippet: str | None = None
        self._fix: Mapping[str, Any] | None = None

    def at(self, where: Span | Located, last: Located | None = None, *, doc: Document | None = None) -> FindingBuilder:
        """Where the finding is: a Span or a node (to the end of `last`), in this file or in
        `doc` (another file of a group, e.g. a Terraform module)."""
        self._span = span_of(where, last)
        if doc is not None:
            self._doc = doc
        return self

    def args(self, **values: Any) -> FindingBuilder:
        self._args.update(values)
        return self

    def severity(self, severity: Severity | None) -> FindingBuilder:
        """Override the rule's severity (None keeps it)."""
        self._severity = severity
        return self

    def precision(self, precision: Precision | None) -> FindingBuilder:
        self._precision = precision
        return self

    def related(self, where: Span | Located, message: str, *, path: str | None = None) -> FindingBuilder:
        self._related.append(RelatedLocation(path or self._doc.path, span_of(where), message))
        return self

    def secret(self, value: str | None) -> FindingBuilder:
        """A credential the finding is about: masked even where no pattern would know it."""
        if value:
            self._secrets.add(value)
        return self

    def property(self, key: str, value: Any) -> FindingBuilder:
        self._properties[key] = value
        return self

    def snippet(self, text: str) -> FindingBuilder:
        self._snippet = text
        return self

    def fix(self, edit: Mapping[str, Any] | None) -> FindingBuilder:
        """A suggested edit (`{"description", "replacements"}`), applied by `--fix` and
        carried to SARIF `fixes` and editor code actions."""
        self._fix = edit
        return self

    def emit(self) -> Finding | None:
        if self._span is None:
            raise MessageError(f"{self._rule.id}: a finding needs a place (.at(...)) before emit()")
        rule, doc, span = self._rule, self._doc, self._span
        if STRICT:
            wanted = template_fields(rule.message)
            given = frozenset(self._args)
            if wanted != given:
                raise MessageError(
                    f"{rule.id}: message template names {sorted(wanted)}, the check passed {sorted(given)}"
                )
        message = rule.format_message(self._args)
        snippet = self._snippet if self._snippet is not None else snippet_at(doc.lines, span.start_line, span.end_line)
        message = masking.mask(message, doc.kind, self._secrets)
        snippet = masking.mask(snippet, doc.kind, self._secrets)
        properties = dict(self._properties)
        if self._fix is not None:
            properties["fix"] = dict(self._fix)
        finding = Finding(
            rule_id=rule.id,
            path=doc.path,
            region=Span(max(1, span.start_line), span.start_column if span.start_column and span.start_column >= 1 else None,
                        span.end_line, span.end_column),
            message=message,
            severity=self._severity if self._severity is not None else rule.severity,
            precision=self._precision if self._precision is not None else rule.precision,
            snippet=snippet,
            related=self._related,
            properties=properties,
        )
        self._sink.append(finding)
        return finding


class DisabledBuilder:
    """What `ctx.finding` returns for a rule that is not enabled: every call is a no-op."""

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        return self._chain

    def _chain(self, *args: Any, **kwargs: Any) -> DisabledBuilder:
        return self

    def emit(self) -> None:
        return None


DISABLED = DisabledBuilder()
