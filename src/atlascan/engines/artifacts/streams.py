"""Bounded byte sources: a window of a real file, bytes in memory, and a decompressing wrapper.

Every source reads forward in bounded chunks and can skip ahead (seeking where it can), so a
200 MB tensor region costs a seek, never a read into memory.
"""

from __future__ import annotations

import io
from typing import Any, BinaryIO, Protocol

CHUNK = 1 << 16


class TooLarge(Exception):
    """Decompressed output passed its cap (a decompression bomb or a huge member)."""


class CorruptData(Exception):
    """A compressed stream does not decompress."""


class Source(Protocol):
    def read(self, n: int) -> bytes: ...

    def skip(self, n: int) -> int: ...

    def tell(self) -> int: ...

    @property
    def length(self) -> int | None: ...


class FileWindow:
    """Bytes [start, start+length) of an open file; seeks to skip."""

    def __init__(self, fh: BinaryIO, start: int, length: int) -> None:
        self._fh = fh
        self._start = start
        self._len = max(0, length)
        self._pos = 0

    @property
    def length(self) -> int | None:
        return self._len

    def tell(self) -> int:
        return self._pos

    def read(self, n: int) -> bytes:
        n = max(0, min(n, self._len - self._pos))
        if n == 0:
            return b""
        self._fh.seek(self._start + self._pos)
        data = self._fh.read(n)
        self._pos += len(data)
        return data

    def skip(self, n: int) -> int:
        n = max(0, min(n, self._len - self._pos))
        self._pos += n
        return n

    def pread(self, offset: int, n: int) -> bytes:
        n = max(0, min(n, self._len - offset))
        if n == 0 or offset < 0:
            return b""
        self._fh.seek(self._start + offset)
        return self._fh.read(n)

    def sub(self, offset: int, length: int) -> FileWindow:
        offset = max(0, min(offset, self._len))
        return FileWindow(self._fh, self._start + offset, min(length, self._len - offset))

    def window(self, length: int) -> FileWindow:
        """A sub-window from the current position (for nested payloads)."""
        return FileWindow(self._fh, self._start + self._pos, min(length, self._len - self._pos))


class MemorySource:
    def __init__(self, data: bytes) -> None:
        self._data = data
        self._pos = 0

    @property
    def length(self) -> int | None:
        return len(self._data)

    def tell(self) -> int:
        return self._pos

    def read(self, n: int) -> bytes:
        out = self._data[self._pos : self._pos + max(0, n)]
        self._pos += len(out)
        return out

    def skip(self, n: int) -> int:
        n = max(0, min(n, len(self._data) - self._pos))
        self._pos += n
        return n

    def pread(self, offset: int, n: int) -> bytes:
        return self._data[offset : offset + n] if offset >= 0 else b""

    def sub(self, offset: int, length: int) -> MemorySource:
        return MemorySource(self._data[offset : offset + max(0, length)])


class Decompressing:
    """Decompress `inner` on the fly; the total output is capped (bomb-proof)."""

    def __init__(self, inner: Source, decompressor: Any, cap: int) -> None:
        self._inner = inner
        self._d = decompressor
        self._cap = cap
        self._buf = b""
        self._out = 0  # bytes handed out or skipped
        self._eof = False

    @property
    def length(self) -> int | None:
        return None

    def tell(self) -> int:
        return self._out

    def _fill(self, want: int) -> None:
        while len(self._buf) < want and not self._eof:
            room = self._cap - self._out - len(self._buf)
            if room <= 0:
                raise TooLarge(f"decompressed data passes {self._cap // (1 << 20)} MiB")
            # zlib keeps unread input in `unconsumed_tail`; bz2/lzma/lz4 buffer it and say
            # `needs_input` is False until they have handed out what they hold.
            if getattr(self._d, "unconsumed_tail", b""):
                chunk = self._d.unconsumed_tail
            elif getattr(self._d, "needs_input", True) is False:
                chunk = b""
            else:
                chunk = self._inner.read(CHUNK)
                if not chunk:
                    # All input is in, but zlib may still hold output it could not hand out
                    # under the max_length bound: drain that before calling the stream short.
                    pending = self._drain(room)
                    if pending:
                        self._buf += pending
                        continue
                    self._eof = True
                    if getattr(self._d, "eof", True) is False:
                        raise CorruptData("the compressed stream ends early")
                    break
            try:
                self._buf += self._d.decompress(chunk, min(room, CHUNK * 4))
            except Exception as exc:  # zlib.error, OSError (bz2), LZMAError, lz4 RuntimeError
                raise CorruptData(f"{type(exc).__name__}: {exc}") from None
            if getattr(self._d, "eof", False):
                self._eof = True

    def _drain(self, room: int) -> bytes:
        try:
            return bytes(self._d.decompress(b"", min(room, CHUNK * 4)))
        except Exception:  # a decompressor that takes no empty input has nothing pending
            return b""

    def read(self, n: int) -> bytes:
        self._fill(n)
        out, self._buf = self._buf[:n], self._buf[n:]
        self._out += len(out)
        return out

    def skip(self, n: int) -> int:
        done = 0
        while done < n:
            step = len(self.read(min(CHUNK * 4, n - done)))
            if step == 0:
                break
            done += step
        return done


class Prefixed:
    """Replay bytes already read from a forward-only source, then continue with it."""

    def __init__(self, head: bytes, inner: Source) -> None:
        self._head = head
        self._inner = inner
        self._pos = 0

    @property
    def length(self) -> int | None:
        return None

    def tell(self) -> int:
        return self._pos

    def read(self, n: int) -> bytes:
        out = b""
        if self._pos < len(self._head):
            out = self._head[self._pos : self._pos + n]
        if len(out) < n:
            out += self._inner.read(n - len(out))
        self._pos += len(out)
        return out

    def skip(self, n: int) -> int:
        done = 0
        if self._pos < len(self._head):
            done = min(n, len(self._head) - self._pos)
            self._pos += done
        if done < n:
            more = self._inner.skip(n - done)
            self._pos += more
            done += more
        return done


class Reader:
    """Buffered forward reader with absolute offsets, used by the opcode walker."""

    def __init__(self, source: Source) -> None:
        self.source = source
        self._buf = b""
        self._i = 0
        self._base = source.tell()  # source offset of _buf[0]

    def tell(self) -> int:
        return self._base + self._i

    def _more(self, need: int) -> bool:
        if len(self._buf) - self._i >= need:
            return True
        rest = self._buf[self._i :]
        self._base += self._i
        self._i = 0
        chunk = self.source.read(max(CHUNK, need - len(rest)))
        self._buf = rest + chunk
        return len(self._buf) >= need

    def read(self, n: int) -> bytes:
        self._more(n)
        out = self._buf[self._i : self._i + n]
        self._i += len(out)
        return out

    def byte(self) -> int:
        if self._i >= len(self._buf) and not self._more(1):
            return -1
        b = self._buf[self._i]
        self._i += 1
        return b

    def readline(self, limit: int) -> bytes | None:
        """Up to and excluding b'\\n'; None when no newline comes within `limit` bytes."""
        while True:
            j = self._buf.find(b"\n", self._i, self._i + limit)
            if j >= 0:
                out = self._buf[self._i : j]
                self._i = j + 1
                return out
            have = len(self._buf) - self._i
            if have >= limit or not self._more(have + 1):
                return None

    def peek(self, n: int) -> bytes:
        self._more(n)
        return self._buf[self._i : self._i + n]

    def skip(self, n: int) -> int:
        have = len(self._buf) - self._i
        if n <= have:
            self._i += n
            return n
        self._base += len(self._buf)
        self._buf = b""
        self._i = 0
        done = have + self.source.skip(n - have)
        self._base = self.source.tell()
        return done

    def at_end(self) -> bool:
        return not self._more(1)


def read_all(source: Source, cap: int) -> bytes:
    """Read a whole (small) source; TooLarge past `cap`."""
    buf = io.BytesIO()
    while True:
        chunk = source.read(CHUNK * 4)
        if not chunk:
            return buf.getvalue()
        buf.write(chunk)
        if buf.tell() > cap:
            raise TooLarge(f"member passes {cap // (1 << 20)} MiB")
