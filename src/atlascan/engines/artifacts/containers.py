"""Sniff what a byte source holds by its magic bytes and scan it: pickles, ZIP archives
(PyTorch, .keras, .npz), legacy torch tar, compressed wrappers, .npy, and the cheap format
checks in `formats`. Each container hands its members back to `dispatch`, depth-bounded."""

from __future__ import annotations

import re
import struct
import zlib
from typing import Any

from atlascan.engines.artifacts import formats
from atlascan.engines.artifacts.hits import MAX_DEPTH, MAX_MEMBER_IN_MEMORY, Job
from atlascan.engines.artifacts.pickle_vm import LOOSE_STARTS, PickleMachine, Unfinished
from atlascan.engines.artifacts.policy import Verdict
from atlascan.engines.artifacts.streams import (
    CorruptData,
    Decompressing,
    FileWindow,
    MemorySource,
    Prefixed,
    Source,
    TooLarge,
    read_all,
)

HEAD = 512
# Names under which a file without a PROTO header is still read as a (protocol 0/1) pickle.
PICKLE_NAMES = re.compile(
    r"(\.(pkl|pickle|p|dill|joblib|jbl|pt|pth|bin|ckpt|model|sav|dat|data|cloudpickle|mar)$"
    r"|(^|/)(data\.pkl|pickle|sys_info|storages|tensors|constants\.pkl)$)"
)
COMPRESSED_SUFFIX = re.compile(r"\.(gz|bz2|xz|lzma|lz4|z)$")
Random = FileWindow | MemorySource


def dispatch(job: Job, source: Source, label: str, depth: int, hint: str) -> None:
    """Scan whatever `source` holds; `hint` is the lower-case file or member name."""
    if depth > MAX_DEPTH:
        job.hit("ATS-ART-007", (label, "depth"), member=label, reason=f"it is nested more than {MAX_DEPTH} levels deep")
        return
    try:
        head = source.read(HEAD)
        if not head or head.startswith(b"version https://git-lfs"):
            return  # empty files and LFS pointers are placeholders, not models
        _route(job, _rewind(source, head), head, label, depth, hint)
    except (TooLarge, Unfinished) as exc:
        job.hit("ATS-ART-007", (label, "size"), member=label, reason=str(exc))
    except CorruptData as exc:
        job.hit("ATS-ART-004", (label, "compressed"), member=label, reason=f"its compressed data is corrupt ({exc})")


def _rewind(source: Source, head: bytes) -> Source:
    if isinstance(source, (FileWindow, MemorySource)):
        return source.sub(source.tell() - len(head), (source.length or 0) - source.tell() + len(head))
    return Prefixed(head, source)


def _route(job: Job, src: Source, head: bytes, label: str, depth: int, hint: str) -> None:
    if head[:1] == b"\x80" and len(head) > 1 and head[1] <= 5:
        PickleMachine(job, label, depth).run(src)
    elif (binary := _executable(head)) is not None:
        job.hit("ATS-ART-011", (label, "executable"), member=label, detail=f"it is {binary}, not model data")
    elif head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        _zip(job, src, label, depth)
    elif head.startswith(b"\x93NUMPY"):
        _npy(job, src, label, depth)
    elif len(head) >= 262 and head[257:262] == b"ustar":
        _tar(job, src, label, depth)
    elif head.startswith(b"\x1f\x8b"):
        _decompress(job, src, zlib.decompressobj(31), label, depth, hint)
    elif head.startswith(b"BZh") and head[3:4].isdigit():
        import bz2

        _decompress(job, src, bz2.BZ2Decompressor(), label, depth, hint)
    elif head.startswith(b"\xfd7zXZ\x00"):
        import lzma

        _decompress(job, src, lzma.LZMADecompressor(), label, depth, hint)
    elif head.startswith(b"\x5d\x00\x00") and _pickleish(hint):
        import lzma

        _decompress(job, src, lzma.LZMADecompressor(lzma.FORMAT_ALONE), label, depth, hint)  # joblib compress="lzma"
    elif head.startswith(b"7z\xbc\xaf\x27\x1c"):
        _seven_zip(job, src, label, depth)
    elif head.startswith(b"\x04\x22\x4d\x18"):
        try:
            import lz4.frame
        except ImportError:
            job.hit("ATS-ART-007", (label, "lz4"), member=label, reason="it is lz4-compressed and the optional `lz4` package is not installed")
            return
        _decompress(job, src, lz4.frame.LZ4FrameDecompressor(), label, depth, hint)
    elif head[:1] == b"\x78" and head[1:2] in (b"\x01", b"\x5e", b"\x9c", b"\xda") and _pickleish(hint):
        _decompress(job, src, zlib.decompressobj(15), label, depth, hint)  # joblib compress=N
    elif head.startswith(b"\x89HDF\r\n\x1a\n"):
        if not hint.endswith(".weights.h5"):  # a .keras archive keeps its config in config.json
            formats.hdf5_keras(job, src, label)
    elif head.startswith(b"GGUF"):
        formats.gguf(job, src, label)
    elif hint.endswith(".safetensors") or formats.looks_like_safetensors(head, src.length):
        formats.safetensors(job, src, label)
    elif hint.endswith(".onnx"):
        formats.onnx(job, src, label)
    elif hint.endswith(".pb"):
        arc = _random(job, src, label)
        if arc is not None:
            from atlascan.engines.artifacts.graphs import saved_model

            saved_model(job, arc, arc.length or 0, label, hint)
    elif hint.endswith((".json", "config.json")) and b'"class_name"' in head:
        formats.keras_member(job, src, label)
    elif head[0] in LOOSE_STARTS and _pickleish(hint):
        PickleMachine(job, label, depth).run(src)


def _executable(head: bytes) -> str | None:
    """Programs posing as model files: a model loader never needs one, a user may run it."""
    if head.startswith(b"MZqFpD"):
        return "a llamafile (an Actually Portable Executable: a program that runs the model it carries)"
    if head.startswith(b"\x7fELF") and head[4:5] in (b"\x01", b"\x02"):
        return "an ELF executable or shared library"
    if head.startswith(b"MZ") and len(head) >= 64:
        pe = int.from_bytes(head[60:64], "little")
        if pe + 4 <= len(head) and head[pe : pe + 4] == b"PE\0\0":
            return "a Windows PE executable or DLL"
    if head[:4] in (b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf", b"\xce\xfa\xed\xfe", b"\xcf\xfa\xed\xfe"):
        return "a Mach-O executable or library"
    return None


def _seven_zip(job: Job, src: Source, label: str, depth: int) -> None:
    """7z keeps its member table in an LZMA-compressed header, so members are read through the
    optional py7zr (pure Python) under the same caps as every other container; without it the
    archive is reported as not scanned, never as clean."""
    try:
        import py7zr
        from py7zr.io import Py7zIO, WriterFactory
    except ImportError:
        job.hit("ATS-ART-007", (label, "7z"), member=label,
                reason="it is a 7z archive and the optional `py7zr` package (1.0 or later) is not installed (members not scanned)")  # fmt: skip
        return
    import io

    try:
        data = read_all(src, MAX_MEMBER_IN_MEMORY)
    except TooLarge:
        job.hit("ATS-ART-007", (label, "7z"), member=label, reason=f"it is a 7z archive over {MAX_MEMBER_IN_MEMORY >> 20} MiB")
        return
    budget = [job.max_decompressed]

    class Capped(Py7zIO):
        """One member in memory; the budget is shared by all members (bomb-proof)."""

        def __init__(self) -> None:
            self.buf = io.BytesIO()

        def write(self, s: bytes | bytearray) -> int:
            budget[0] -= len(s)
            if budget[0] < 0:
                raise TooLarge(f"decompressed data passes {job.max_decompressed >> 20} MiB")
            return self.buf.write(s)

        def read(self, size: int | None = None) -> bytes:
            return self.buf.read(size)

        def seek(self, offset: int, whence: int = 0) -> int:
            return self.buf.seek(offset, whence)

        def flush(self) -> None:
            return None

        def size(self) -> int:
            return len(self.buf.getbuffer())

    class Factory(WriterFactory):
        def __init__(self) -> None:
            self.products: dict[str, Capped] = {}

        def create(self, filename: str) -> Capped:
            self.products[filename] = Capped()
            return self.products[filename]

    factory = Factory()
    try:
        with py7zr.SevenZipFile(io.BytesIO(data), "r", max_extract_size=job.max_decompressed) as archive:
            if archive.needs_password():
                job.hit("ATS-ART-007", (label, "7z"), member=label, reason="it is an encrypted 7z archive (members not scanned)")
                return
            archive.extract(factory=factory)
    except TooLarge:
        raise
    except Exception as exc:  # py7zr raises its own and lzma/bz2 errors on damaged archives
        if type(exc).__name__ == "DecompressionBombError":  # declared sizes over the cap
            raise TooLarge(f"its 7z members declare more than {job.max_decompressed >> 20} MiB") from None
        job.hit("ATS-ART-004", (label, "7z"), member=label, reason=f"its 7z archive does not unpack ({type(exc).__name__}: {exc})")
        return
    for name, product in factory.products.items():
        dispatch(job, MemorySource(product.buf.getvalue()), f"{label}!{name}", depth + 1, name.lower())


def _pickleish(hint: str) -> bool:
    return hint == "nested" or bool(PICKLE_NAMES.search(COMPRESSED_SUFFIX.sub("", hint)))


def _decompress(job: Job, src: Source, decompressor: Any, label: str, depth: int, hint: str) -> None:
    inner = Decompressing(src, decompressor, job.max_decompressed)
    dispatch(job, inner, label, depth + 1, COMPRESSED_SUFFIX.sub("", hint) or "nested")


def _random(job: Job, src: Source, label: str) -> Random | None:
    """Random access for formats that need it (a central directory at the end)."""
    if isinstance(src, (FileWindow, MemorySource)):
        return src
    try:
        return MemorySource(read_all(src, MAX_MEMBER_IN_MEMORY))
    except TooLarge:
        job.hit("ATS-ART-007", (label, "size"), member=label,
                reason=f"it is a nested archive over {MAX_MEMBER_IN_MEMORY >> 20} MiB inside a compressed stream")  # fmt: skip
        return None


# ---- ZIP ------------------------------------------------------------------------------------
_CENTRAL = struct.Struct("<4s6H3I5H2I")
_LOCAL = struct.Struct("<4s5H3I2H")
_EOCD = struct.Struct("<4s4H2IH")
TORCH_DATA = re.compile(r"(^|/)data/\d+$")
TORCHSCRIPT_CODE = re.compile(r"(^|/)code/(.+/)?[^/]+\.py$")
MAX_MEMBERS = 100_000


def _zip(job: Job, src: Source, label: str, depth: int) -> None:
    """A tolerant reader: flags, CRCs and names are checked and reported, never trusted."""
    arc = _random(job, src, label)
    if arc is None:
        return
    entries = _central_directory(arc)
    if entries is None:
        job.hit("ATS-ART-004", (label, "zip"), member=label, reason="the ZIP archive has no readable central directory")
        entries = _local_walk(arc)
    names = [e[0] for e in entries]
    torch_layout = any(n.endswith("data.pkl") for n in names)
    torchserve = any(n == "MAR-INF/MANIFEST.json" for n in names)
    if len(set(names)) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        job.hit("ATS-ART-005", (label, "dup"), member=f"{label}!{dup}", reason="two members share this name; loaders pick different ones")
    for name, flags, method, crc, csize, _usize, offset in entries:
        member = f"{label}!{name}"
        local = arc.pread(offset, _LOCAL.size)
        if len(local) < _LOCAL.size or local[:4] != b"PK\x03\x04":
            job.hit("ATS-ART-005", (member, "local"), member=member, reason="its local header is missing or damaged")
            continue
        fields = _LOCAL.unpack(local)
        lflags, lcrc, nlen, elen = fields[2], fields[6], fields[9], fields[10]
        lname = arc.pread(offset + _LOCAL.size, nlen).decode("utf-8", "replace")
        if lname != name:
            job.hit("ATS-ART-005", (member, "name"), member=member, reason=f"its local header names it {lname!r}")
        if not lflags & 0x8 and lcrc != crc:  # without a data descriptor both headers carry the CRC
            job.hit("ATS-ART-005", (member, "lcrc"), member=member,
                    reason=f"its local header and the central directory disagree on its CRC ({lcrc:08x} vs {crc:08x})")  # fmt: skip
        if (flags | lflags) & 0x1:
            job.hit("ATS-ART-005", (member, "flag"), member=member, reason="it is flagged as encrypted, which no model writer does")
        if (name.endswith("/") and csize == 0) or (torch_layout and TORCH_DATA.search(name)):
            continue  # folders, and raw tensor storages that no unpickler reads
        start = offset + _LOCAL.size + nlen + elen
        body = arc.sub(start, csize)
        # in a torch archive any member may be named in torch.load(pickle_file=...)
        hint = "nested" if torch_layout else name.lower()
        if method == 0:
            member_src: Source = body
        elif method == 8:
            member_src = Decompressing(body, zlib.decompressobj(-15), job.max_decompressed)
        elif method == 12:
            import bz2

            member_src = Decompressing(body, bz2.BZ2Decompressor(), job.max_decompressed)
        else:
            job.hit("ATS-ART-007", (member, "method"), member=member, reason=f"it uses ZIP compression method {method}")
            continue
        if name.endswith(".py") and (torchserve or TORCHSCRIPT_CODE.search(name)):
            _source(job, member_src, member, torchserve)
            continue
        head = member_src.read(16)
        if head[:1] == b"\x80" or PICKLE_NAMES.search(name.lower()):
            # members an unpickler reads: check the CRC that loaders ignore
            try:
                data = head + read_all(member_src, MAX_MEMBER_IN_MEMORY)
            except TooLarge:
                data = None
            except CorruptData as exc:
                job.hit("ATS-ART-004", (member, "inflate"), member=member, reason=f"its compressed data is corrupt ({exc})")
                continue
            if data is not None:
                if zlib.crc32(data) != crc:
                    job.hit("ATS-ART-005", (member, "crc"), member=member, reason="its CRC does not match its content")
                dispatch(job, MemorySource(data), member, depth + 1, hint)
                continue
        dispatch(job, _rewind(member_src, head) if isinstance(member_src, FileWindow) else Prefixed(head, member_src), member, depth + 1, hint)


def _source(job: Job, src: Source, member: str, handler: bool) -> None:
    from atlascan.engines.artifacts import codecheck

    try:
        raw = read_all(src, codecheck.MAX_SOURCE)
    except (TooLarge, CorruptData) as exc:
        job.hit("ATS-ART-007", (member, "source"), member=member, reason=f"its source code was not read ({exc})")
        return
    text = raw.decode("utf-8", "replace")
    if handler:
        codecheck.handler_source(job, text, member)
    else:
        codecheck.torchscript_source(job, text, member)


Entry = tuple[str, int, int, int, int, int, int]  # name, flags, method, crc, csize, usize, offset


def _central_directory(arc: Random) -> list[Entry] | None:
    size = arc.length or 0
    tail_len = min(size, 65536 + _EOCD.size)
    tail = arc.pread(size - tail_len, tail_len)
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < _EOCD.size:
        return None
    eocd_pos = size - tail_len + at
    _, _, _, _, total, cd_size, cd_offset, _ = _EOCD.unpack(tail[at : at + _EOCD.size])
    if total == 0xFFFF or cd_offset == 0xFFFFFFFF or cd_size == 0xFFFFFFFF:
        loc = arc.pread(eocd_pos - 20, 20)
        if loc[:4] == b"PK\x06\x07":
            rec = arc.pread(struct.unpack("<Q", loc[8:16])[0], 56)
            if rec[:4] == b"PK\x06\x06":
                total, cd_size, cd_offset = struct.unpack("<QQQ", rec[32:56])
    shift = max(0, eocd_pos - cd_size - cd_offset)  # data prepended to the archive
    cd = arc.pread(cd_offset + shift, min(cd_size, 256 << 20))
    out: list[Entry] = []
    pos = 0
    while pos + _CENTRAL.size <= len(cd) and len(out) < MAX_MEMBERS:
        fields = _CENTRAL.unpack_from(cd, pos)
        if fields[0] != b"PK\x01\x02":
            break
        _, _, _, flags, method, _, _, crc, csize, usize, nlen, elen, clen, _, _, _, offset = fields
        name = cd[pos + 46 : pos + 46 + nlen].decode("utf-8", "replace")
        extra = cd[pos + 46 + nlen : pos + 46 + nlen + elen]
        usize, csize, offset = _zip64(extra, usize, csize, offset)
        out.append((name, flags, method, crc, csize, usize, offset + shift))
        pos += 46 + nlen + elen + clen
    return out


def _zip64(extra: bytes, usize: int, csize: int, offset: int) -> tuple[int, int, int]:
    i = 0
    while i + 4 <= len(extra):
        tag, size = struct.unpack_from("<HH", extra, i)
        if tag == 1:
            # a field may declare more bytes than the extra block holds
            vals = list(struct.unpack_from(f"<{min(size, len(extra) - i - 4, 24) // 8}Q", extra, i + 4))
            if usize == 0xFFFFFFFF and vals:
                usize = vals.pop(0)
            if csize == 0xFFFFFFFF and vals:
                csize = vals.pop(0)
            if offset == 0xFFFFFFFF and vals:
                offset = vals.pop(0)
        i += 4 + size
    return usize, csize, offset


def _local_walk(arc: Random) -> list[Entry]:
    out: list[Entry] = []
    pos = 0
    while len(out) < MAX_MEMBERS:
        raw = arc.pread(pos, _LOCAL.size)
        if len(raw) < _LOCAL.size or raw[:4] != b"PK\x03\x04":
            break
        _, _, flags, method, _, _, crc, csize, usize, nlen, elen = _LOCAL.unpack(raw)
        name = arc.pread(pos + _LOCAL.size, nlen).decode("utf-8", "replace")
        out.append((name, flags, method, crc, csize, usize, pos))
        if csize == 0 and flags & 0x8:
            break  # size only in a data descriptor we cannot find without the directory
        pos += _LOCAL.size + nlen + elen + csize
    return out


# ---- tar (legacy torch.save) ------------------------------------------------------------------
def _tar(job: Job, src: Source, label: str, depth: int) -> None:
    arc = _random(job, src, label)
    if arc is None:
        return
    pos = 0
    size = arc.length or 0
    long_name = ""
    for _ in range(MAX_MEMBERS):
        block = arc.pread(pos, 512)
        if len(block) < 512 or block == b"\0" * 512:
            return
        name = long_name or block[:100].split(b"\0", 1)[0].decode("utf-8", "replace")
        long_name = ""
        prefix = block[345:500].split(b"\0", 1)[0].decode("utf-8", "replace") if block[257:262] == b"ustar" else ""
        try:
            length = int(block[124:136].split(b"\0", 1)[0].strip() or b"0", 8)
        except ValueError:
            job.hit("ATS-ART-004", (label, "tar"), member=label, extra={"offset": pos}, reason=f"a tar header at byte {pos} is damaged")
            return
        kind = block[156:157]
        body = arc.sub(pos + 512, length)
        if kind == b"L":
            long_name = body.read(min(length, 4096)).split(b"\0", 1)[0].decode("utf-8", "replace")
        elif kind in (b"0", b"\0", b"7"):
            full = f"{prefix}/{name}" if prefix else name
            if full.lower().endswith((".yaml", ".yml")):
                _hydra_targets(job, body, f"{label}!{full}")
            else:
                dispatch(job, body, f"{label}!{full}", depth + 1, full.lower())
        pos += 512 + (length + 511) // 512 * 512
        if pos >= size:
            return


HYDRA_TARGET = re.compile(r"""^[ \t-]*_target_[ \t]*:[ \t]*['"]?([A-Za-z_][\w.]*)""", re.M)


def _hydra_targets(job: Job, src: Source, member: str) -> None:
    """NeMo restores a .nemo by instantiating each `_target_` of model_config.yaml (Hydra):
    a target on the denylist runs when the model loads."""
    text = src.read(1 << 20).decode("utf-8", "replace")
    for m in HYDRA_TARGET.finditer(text):
        module, _, name = m.group(1).rpartition(".")
        if module and job.policy.verdict(module, name) is Verdict.DANGEROUS:
            line = text.count("\n", 0, m.start()) + 1
            job.hit("ATS-ART-011", (member, m.group(1)), member=member,
                    detail=f"its config instantiates `{m.group(1)}` through Hydra `_target_` (line {line}) when the model is restored")  # fmt: skip


# ---- .npy -----------------------------------------------------------------------------------
_DESCR = re.compile(r"""['"]descr['"]\s*:\s*(?P<d>'[^']*'|"[^"]*"|\[.*\])\s*,""", re.S)
_SHAPE = re.compile(r"""['"]shape['"]\s*:\s*\((?P<s>[\d,\sL]*)\)""")
_OBJECT = re.compile(r"""['"][<>|=]?O\d*['"]""")


def _npy(job: Job, src: Source, label: str, depth: int) -> None:
    """NumPy's format, parsed here: an object dtype means a pickle follows the header."""
    pre = src.read(10)
    major = pre[6] if len(pre) == 10 else 0
    if major == 1:
        hlen = struct.unpack("<H", pre[8:10])[0]
    elif major in (2, 3) and len(more := src.read(2)) == 2:
        hlen = struct.unpack("<I", pre[8:10] + more)[0]
    else:
        job.hit("ATS-ART-004", (label, "npy"), member=label, extra={"offset": 6}, reason="its .npy preamble is truncated or has an unknown version")
        return
    start = src.tell()
    header = src.read(min(hlen, 1 << 20)).decode("latin-1")
    descr = _DESCR.search(header)
    shape = _SHAPE.search(header)
    if len(header) != hlen or descr is None or shape is None:
        job.hit("ATS-ART-004", (label, "npy"), member=label, extra={"offset": start}, reason="its .npy header is malformed")
        return
    if _OBJECT.search(descr.group("d")):
        PickleMachine(job, label, depth).run(src)
        return
    itemsize = _npy_itemsize(descr.group("d"))
    if itemsize is None or src.length is None:
        return
    count = 1
    for part in shape.group("s").replace("L", "").split(","):
        digits = part.strip(" \t\r\n")
        if not digits:
            continue
        if not (digits.isascii() and digits.isdigit()):  # the regex's \s also matches U+0085, U+001C
            job.hit("ATS-ART-004", (label, "npy"), member=label, extra={"offset": start}, reason="its .npy header is malformed")
            return
        count *= int(digits)
    left = src.length - src.tell()
    if left < count * itemsize:
        job.hit("ATS-ART-004", (label, "npy"), member=label, extra={"offset": src.tell()},
                reason=f"its header declares {count * itemsize} data bytes but {left} follow")  # fmt: skip


def _npy_itemsize(descr: str) -> int | None:
    m = re.fullmatch(r"""['"][<>|=]?([a-zA-Z])(\d+)['"]""", descr.strip())
    if not m:
        return None
    return int(m.group(2)) * (4 if m.group(1) == "U" else 1)
