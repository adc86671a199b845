"""Core data types shared by every stage of a scan: plain dataclasses, no behaviour beyond ordering."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any


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
class Region:
    """1-based lines and columns; end_column is exclusive (SARIF convention)."""

    start_line: int
    start_column: int | None = None
    end_line: int | None = None
    end_column: int | None = None


@dataclass(frozen=True)
class RelatedLocation:
    path: str
    region: Region
    message: str


@dataclass(frozen=True)
class Suppression:
    kind: str  # "inSource" (inline comment) or "external" (config or baseline)
    justification: str


@dataclass
class Finding:
    """One reported weakness. Built through `Reporter.report`, never by hand in a check."""

    rule_id: str
    path: str  # scan-root relative, "/"-separated
    region: Region
    message: str
    severity: Severity
    precision: Precision
    snippet: str = ""  # the source line(s), secrets already masked
    related: list[RelatedLocation] = field(default_factory=list)
    properties: dict[str, Any] = field(default_factory=dict)
    fingerprint: str = ""
    suppression: Suppression | None = None

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.path, self.region.start_line, self.region.start_column or 0, self.rule_id)


@dataclass(frozen=True)
class Notice:
    """A file that could not be read, parsed or fully analyzed, and why. The scan goes on."""

    path: str
    message: str
    level: str = "warning"  # "error" | "warning" | "note"
    line: int | None = None


@dataclass(frozen=True)
class SourceFile:
    """A discovered file: where it is and what kind of file it is. Content is read lazily."""

    path: str  # scan-root relative, "/"-separated
    abspath: str
    kind: str
    size: int
