"""A small protobuf wire-format reader, enough to walk TensorFlow graphs and ONNX models by field
number without their schemas or the `protobuf` package. It reads through `pread`, so a field of
gigabytes (inline tensor data) costs a seek; only the messages asked for are read."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

WINDOW = 1 << 16


class WireError(Exception):
    """The bytes are not a well-formed protobuf message."""


class RandomSource(Protocol):
    def pread(self, offset: int, n: int) -> bytes: ...


class Wire:
    """Fields of messages in a random-access source. Messages nest as (offset, length)."""

    def __init__(self, src: RandomSource) -> None:
        self._src = src
        self._buf = b""
        self._at = 0

    def _window(self, pos: int, n: int) -> bytes:
        if not (self._at <= pos and pos + n <= self._at + len(self._buf)):
            self._buf = self._src.pread(pos, max(n, WINDOW))
            self._at = pos
        return self._buf[pos - self._at : pos - self._at + n]

    def _varint(self, pos: int, end: int) -> tuple[int, int]:
        raw = self._window(pos, min(10, max(0, end - pos)))
        value = shift = 0
        for i, b in enumerate(raw):
            value |= (b & 0x7F) << shift
            if not b & 0x80:
                return value, pos + i + 1
            shift += 7
        raise WireError(f"varint at byte {pos} runs past its message")

    def fields(self, start: int, end: int) -> Iterator[tuple[int, int, int, int]]:
        """(field number, wire type, value, length) per field in [start, end): a varint's
        value with length 0, or a length-delimited field's offset and length."""
        pos = start
        while pos < end:
            key, pos = self._varint(pos, end)
            field, wire = key >> 3, key & 7
            if field == 0:
                raise WireError(f"field number 0 at byte {pos}")
            if wire == 0:
                value, pos = self._varint(pos, end)
                yield field, wire, value, 0
            elif wire == 2:
                n, pos = self._varint(pos, end)
                if pos + n > end:
                    raise WireError(f"field {field} of {n} bytes runs past its message at byte {pos}")
                yield field, wire, pos, n
                pos += n
            elif wire in (1, 5):
                pos += 8 if wire == 1 else 4
                if pos > end:
                    raise WireError(f"fixed field {field} runs past its message")
            else:
                raise WireError(f"wire type {wire} at byte {pos}")

    def read(self, offset: int, n: int) -> bytes:
        return self._window(offset, n) if n <= WINDOW else self._src.pread(offset, n)

    def text(self, offset: int, n: int, limit: int = 4096) -> str:
        return self.read(offset, min(n, limit)).decode("utf-8", "replace")

    def strings(self, start: int, end: int, field: int, limit: int = 4096) -> list[str]:
        return [self.text(off, n, limit) for f, w, off, n in self.fields(start, end) if f == field and w == 2]

    def messages(self, start: int, end: int, field: int) -> Iterator[tuple[int, int]]:
        for f, w, off, n in self.fields(start, end):
            if f == field and w == 2:
                yield off, off + n
