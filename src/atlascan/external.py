"""What an external engine (Checkov) and the flow exchange. Integrations import this module,
never the flow: an engine returns everything it found, and the flow applies the scan's path
filters, rule selection, dedupe and suppress steps to it like to native findings."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from atlascan.model import Finding, Notice

if TYPE_CHECKING:
    from atlascan.rules import Rule


@dataclass
class ExternalFindings:
    """Unfiltered findings, the rules they belong to, and notices. `Finding.scope` may widen
    where a suppression comment counts; `properties["peerId"]` is the engine's own id, which
    native rules name in `Rule.peers[peer]`."""

    findings: list[Finding]
    rules: dict[str, Rule]
    notices: list[Notice]
    peer: str  # the engine's name and the key of `Rule.peers` ("checkov")
    ran: bool = False  # False: it could not run (the notices say why)
    version: str = ""
    duration_s: float = 0.0


class ExternalEngine(Protocol):
    def run(
        self, root: Path, paths: Sequence[Path], scanned: frozenset[str], exclude: Sequence[str]
    ) -> ExternalFindings:
        """Never raises: a failure is a notice, and the native results stand."""
        ...
