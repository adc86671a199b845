"""What the artifact scanners find before it becomes a `Finding`: rule id, message arguments
and SARIF properties, collected per file with de-duplication."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from atlascan.model import Severity


@dataclass
class Hit:
    rule_id: str
    args: dict[str, Any]
    properties: dict[str, Any]
    severity: Severity | None = None
    line: int = 1
    column: int | None = None
    end_column: int | None = None


@dataclass
class Collector:
    """Hits of one file. The same callable in the same member is reported once."""

    hits: list[Hit] = field(default_factory=list)
    _seen: set[tuple[Any, ...]] = field(default_factory=set)

    def add(self, rule_id: str, key: tuple[Any, ...], hit_args: dict[str, Any], severity: Severity | None = None,
            extra: dict[str, Any] | None = None) -> None:
        """`hit_args` are exactly the placeholders of the rule's message; `extra` are
        properties only (byte offsets, layer names) that the message does not show."""
        ident = (rule_id, *key)
        if ident in self._seen:
            return
        self._seen.add(ident)
        props = {k: v for k, v in {**hit_args, **(extra or {})}.items() if v is not None}
        self.hits.append(Hit(rule_id, hit_args, props, severity))

    def rule_ids(self) -> set[str]:
        return {h.rule_id for h in self.hits}


# Bounds that keep hostile files cheap.
MAX_DEPTH = 6  # nested archives / payloads
MAX_INLINE_BLOB = 1 << 20  # byte constants kept in memory for nested-payload checks
MAX_MEMBER_IN_MEMORY = 64 << 20  # nested ZIPs need random access
MAX_DECOMPRESSED = 1 << 30  # per compressed stream (decompression bombs)
MAX_STACK = 5_000_000  # objects on the unpickler stack plus memo
# Everything the symbolic unpickler builds in one stream, members included (a tuple of n
# items costs 1 + n, a placeholder object 4): nested tuples from DUP/TUPLE2 or memo reuse keep
# every earlier object alive while the stack stays one deep. About 64 bytes per unit.
MAX_OBJECTS = 4_000_000
MAX_HELD_BYTES = 256 << 20  # text and byte constants kept in memory in one stream
MAX_STREAMS = 64  # pickles stacked in one file
MAX_OPS = 30_000_000  # opcodes per stream (about 10 s); endless streams stop here


@dataclass
class Job:
    """One artifact file being scanned: where hits go, the import policy, and the
    dispatcher containers use to scan what they hold (set by `containers`)."""

    collector: Collector
    policy: Any  # policy.ImportPolicy
    dispatch: Any  # Callable[[Source, str, int, str], None]
    max_decompressed: int = MAX_DECOMPRESSED
    keras_allow: tuple[str, ...] = ()  # user allowlist entries, also trusted as Keras modules

    def hit(self, rule_id: str, ident: tuple[Any, ...], /, severity: Severity | None = None,
            extra: dict[str, Any] | None = None, **args: Any) -> None:
        self.collector.add(rule_id, ident, dict(args), severity, extra)
