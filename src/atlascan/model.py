"""Core data types shared by every stage of a scan: plain dataclasses, no behaviour beyond
ordering. Parsers, engines, the flow, reporters and integrations all speak these; none of
them imports another stage to get them."""

from __future__ import annotations

import enum
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from atlascan.rules import Rule


class Severity(enum.IntEnum):
    """Harm if the finding is true. Ordered so that comparisons read naturally."""

    INFO = 0
    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4

    @classmethod
    def parse(cls, value: str) -> Severity:
        try:
            return cls[value.strip().upper()]
        except KeyError:
            names = ", ".join(s.label for s in cls)
            raise ValueError(f"unknown severity {value!r} (expected one of: {names})") from None

    @property
    def label(self) -> str:
        return self.name.lower()


class Precision(enum.IntEnum):
    """How often a finding of the rule is true; the SARIF/GitHub scale."""

    LOW = 0
    MEDIUM = 1
    HIGH = 2
    VERY_HIGH = 3

    @classmethod
    def parse(cls, value: str) -> Precision:
        try:
            return cls[value.strip().upper().replace("-", "_")]
        except KeyError:
            raise ValueError(f"unknown precision {value!r}") from None

    @property
    def label(self) -> str:
        return self.name.lower().replace("_", "-")


@dataclass(frozen=True)
class Span:
    """A place in a file: 1-based lines and columns, end_column exclusive (SARIF's region)."""

    start_line: int
    start_column: int | None = None
    end_line: int | None = None
    end_column: int | None = None


@dataclass(frozen=True)
class RelatedLocation:
    path: str
    region: Span
    message: str


@dataclass(frozen=True)
class Suppression:
    kind: str  # "inSource" (inline comment) or "external" (config or baseline)
    justification: str


@dataclass
class Finding:
    """One reported weakness. Engines build it with `ctx.finding(...)...emit()`, never by hand."""

    rule_id: str
    path: str  # scan-root relative, "/"-separated
    region: Span
    message: str
    severity: Severity
    precision: Precision
    snippet: str = ""  # the source line(s), secrets already masked
    related: list[RelatedLocation] = field(default_factory=list)
    properties: dict[str, Any] = field(default_factory=dict)
    fingerprint: str = ""
    suppression: Suppression | None = None
    # Lines where a suppression comment also counts, when wider than the region (an
    # external engine's whole resource block); never reported.
    scope: Span | None = None

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.path, self.region.start_line, self.region.start_column or 0, self.rule_id)


@dataclass(frozen=True)
class Notice:
    """A file that could not be read, parsed or fully analyzed, and why. The scan goes on."""

    path: str
    message: str
    level: str = "warning"  # "error" | "warning" | "note"
    line: int | None = None
    # A note that counts findings held back rather than a file: how many, and as what
    # (a path class such as "tests", or "practice"), so reports can say so apart from skips.
    held: int = 0
    held_as: str | None = None


@dataclass(frozen=True)
class SourceFile:
    """A discovered file: where it is and what kind of file it is. Content is read lazily."""

    path: str  # scan-root relative, "/"-separated
    abspath: str
    kind: str
    size: int
    path_class: str = "product"  # atlascan.pathclass: product, tests, docs (skipped: generated, vendored)


class ParseError(Exception):
    """A parser could not read a file; becomes a notice and the scan goes on."""

    def __init__(self, message: str, line: int | None = None, level: str = "warning") -> None:
        super().__init__(message)
        self.line = line
        self.level = level  # "note": a known format left alone, not broken input


class SkipFile(Exception):
    """The file is not worth analyzing (generated, minified, too large); becomes a notice."""

    def __init__(self, message: str, level: str = "note") -> None:
        super().__init__(message)
        self.level = level


@dataclass(frozen=True)
class Limits:
    max_text_bytes: int = 5 * 1024 * 1024
    max_artifact_bytes: int = 4 * 1024 * 1024 * 1024
    file_timeout_s: float = 60.0
    include_generated: bool = False


@dataclass(frozen=True)
class ExternalRun:
    """What one external engine (Checkov) contributed to a scan, for the CLI's closing line."""

    engine: str
    ran: bool
    version: str
    duration_s: float
    reported: int  # findings the engine returned
    added: int  # kept in the result (suppressed ones included)
    deduplicated: int  # folded into a native finding
    filtered: int  # dropped by paths, --select/--ignore, per-path ignores or the threshold


@dataclass
class ScanResult:
    """What a scan hands to reporters: the enabled rules, findings (suppressed ones marked),
    notices and the files that were looked at."""

    root: Path
    rules: dict[str, Rule]
    findings: list[Finding]
    notices: list[Notice]
    files: list[SourceFile]
    duration_s: float
    kinds: Counter[str] = field(default_factory=Counter)
    external: list[ExternalRun] = field(default_factory=list)
    # `--statistics`: units analysed and cached, per engine files, bytes, parse and check
    # seconds, per rule findings (atlascan.scan._statistics).
    statistics: dict[str, Any] = field(default_factory=dict)

    @property
    def active_findings(self) -> list[Finding]:
        return [f for f in self.findings if f.suppression is None]
