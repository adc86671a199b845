"""A symbolic pickle machine: reads opcodes and keeps the unpickler's stack, mark stack and memo
exactly as CPython does, but never imports or calls anything. Imports are graded by the
policy as they appear; byte constants that hold another artifact are scanned in turn.

Values on the symbolic stack are plain constants (str, int, float, bool, None, tuples) or
`Sym` placeholders for everything an unpickler would build (globals, call results, lists,
dicts, persistent ids).
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass, field
from typing import Any

from atlascan.engines.artifacts.hits import (
    MAX_HELD_BYTES,
    MAX_INLINE_BLOB,
    MAX_OBJECTS,
    MAX_OPS,
    MAX_STACK,
    MAX_STREAMS,
    Job,
)
from atlascan.engines.artifacts.policy import Verdict
from atlascan.engines.artifacts.streams import MemorySource, Reader, Source

# First bytes of a pickle written without a PROTO header (protocols 0 and 1).
LOOSE_STARTS = frozenset(b"(c}])NIJKLMSVXFGTU\x8c")
IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")
NEWLINE_LIMIT = 1 << 16
# How deep BUILD state is followed through data keys (`__dict__` holding `__dict__`).
MAX_STATE_DEPTH = 4
# Callables that unpickle their bytes argument: the payload inside is scanned too.
UNPICKLING_HELPERS = frozenset({
    "torch.storage._load_from_bytes", "pickle.loads", "_pickle.loads", "pickle._loads",
    "dill.loads", "dill._dill.loads", "cloudpickle.loads", "numpy.loads", "joblib.load",
})  # fmt: skip
TORCH_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
NESTED_MAGIC = (b"\x80\x02", b"\x80\x03", b"\x80\x04", b"\x80\x05", b"PK\x03\x04", b"\x93NUMPY")


class PickleError(Exception):
    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.offset = offset


class Unfinished(Exception):
    """The stream is too big to follow to the end; reported as not scanned, never clean."""


# What one placeholder object costs against MAX_OBJECTS (an instance plus its items dict).
SYM_COST = 4


@dataclass(eq=False)
class Sym:
    kind: str  # global | call | list | dict | set | persid | buffer | ext
    module: str = ""
    name: str = ""
    func: Any = None
    args: Any = None
    items: dict[str, Any] = field(default_factory=dict)
    state: Any = None
    vouched: bool = False  # a wrapper global seen in use, or a wrapper call of an allowed callable

    @property
    def qualified(self) -> str:
        return f"{self.module}.{self.name}" if self.kind == "global" else ""


@dataclass(eq=False)
class Blob:
    """A bytes constant: kept when small, otherwise only its head and length."""

    head: bytes
    length: int
    data: bytes | None
    offset: int
    scanned: bool = False


class PickleMachine:
    def __init__(self, job: Job, label: str, depth: int) -> None:
        self.job = job
        self.label = label
        self.depth = depth
        self.imports = 0
        # wrapper globals (functools.partial) of the current stream, and whether each was
        # seen wrapping something allowed
        self.wrappers: dict[int, tuple[Sym, int]] = {}
        self.instances: dict[int, Sym] = {}  # instance-only classes imported in this stream

    # ---- the stream loop ---------------------------------------------------------------
    def run(self, source: Source) -> None:
        """Scan every pickle stacked in `source` (a benign pickle can hide a second one)."""
        reader = Reader(source)
        first = reader.peek(2)
        strict = len(first) == 2 and first[0] == 0x80 and first[1] <= 5
        if not strict and (not first or first[0] not in LOOSE_STARTS):
            return
        for index in range(MAX_STREAMS):
            start = reader.tell()
            self.imports = 0
            self.wrappers.clear()
            self.instances.clear()
            try:
                value = self._stream(reader)
            except PickleError as exc:
                # Bytes that only looked like a pickle (loose start, or data after a stream)
                # stay silent unless they imported something before breaking.
                if (index == 0 and strict) or self.imports:
                    self.job.hit("ATS-ART-004", (self.label, "pickle"), member=self.label, extra={"offset": exc.offset},
                                 reason=f"the pickle stream starting at byte {start} breaks at byte {exc.offset} ({exc})")  # fmt: skip
                return
            if index == 0 and value == TORCH_LEGACY_MAGIC:
                self._legacy_torch(reader)
                return
            nxt = reader.peek(1)
            if not nxt or (nxt[0] not in LOOSE_STARTS and nxt[0] != 0x80):
                return

    def _legacy_torch(self, reader: Reader) -> None:
        """torch.save before 1.6: magic, protocol, sys_info, the model, the storage keys,
        then raw storage bytes that no unpickler reads."""
        for _ in range(4):
            if reader.at_end():
                return
            try:
                self._stream(reader)
            except PickleError as exc:
                self.job.hit("ATS-ART-004", (self.label, "pickle"), member=self.label, extra={"offset": exc.offset},
                             reason=f"legacy torch stream breaks at byte {exc.offset}: {exc}")  # fmt: skip
                return

    # ---- one stream --------------------------------------------------------------------
    def _stream(self, r: Reader) -> Any:
        stack: list[Any] = []
        metastack: list[list[Any]] = []
        memo: dict[int, Any] = {}
        job = self.job
        ops = 0
        # Budgets for what the stream builds (issue: nested tuples expanding to gigabytes).
        units = 0
        held = 0
        while True:
            at = r.tell()
            code = r.byte()
            if code < 0:
                raise PickleError("stream ends without STOP", at)
            op = chr(code)
            ops += 1
            if ops & 0xFFF == 0 and (len(stack) + len(memo) + len(metastack) > MAX_STACK or ops > MAX_OPS):
                raise Unfinished(f"its pickle stream holds more than the scanner follows (stopped at byte {at})")
            if units > MAX_OBJECTS or held > MAX_HELD_BYTES:
                what = f"more than {MAX_OBJECTS:,} objects" if units > MAX_OBJECTS else f"more than {MAX_HELD_BYTES >> 20} MiB of constants"
                raise Unfinished(f"resource limit reached: its pickle stream builds {what} (stopped at byte {at})")
            if op == "\x95":  # FRAME: framing only
                r.skip(8)
            elif op == "\x80":
                proto = r.byte()
                if not 0 <= proto <= 5:
                    raise PickleError(f"unsupported protocol {proto}", at)
            elif op == ".":
                if not stack:
                    raise PickleError("STOP on an empty stack", at)
                self._unvouched_wrappers()
                return stack.pop()
            elif op in "\x94qrp":  # MEMOIZE, BINPUT, LONG_BINPUT, PUT
                if op == "\x94":
                    idx = len(memo)
                elif op == "q":
                    idx = r.byte()
                elif op == "r":
                    idx = self._unpack("<I", r.read(4), at)
                else:
                    idx = self._decimal(r, at)
                if not stack:
                    raise PickleError("memo store on an empty stack", at)
                if idx < 0:
                    raise PickleError("negative memo index", at)
                memo[idx] = stack[-1]
            elif op in "hjg":  # BINGET, LONG_BINGET, GET
                if op == "h":
                    idx = r.byte()
                elif op == "j":
                    idx = self._unpack("<I", r.read(4), at)
                else:
                    idx = self._decimal(r, at)
                if idx not in memo:
                    raise PickleError(f"memo slot {idx} read before it was written", at)
                stack.append(memo[idx])
            elif op == "(":
                metastack.append(stack)
                stack = []
                units += 1
            elif op in "\x8cXV\x8dSTU":  # text constants
                text = self._text(op, r, at)
                held += len(text)
                stack.append(text)
            elif op in "BC\x8e\x96":  # byte constants
                blob = self._bytes(op, r, at)
                held += blob.length if blob.data is not None else 16
                units += 1
                stack.append(blob)
            elif op == "c" or op == "i":  # GLOBAL, INST
                module = self._line(r, at).decode("utf-8", "replace")
                name = self._line(r, at).decode("utf-8", "replace")
                if not IDENT.fullmatch(module) or not IDENT.fullmatch(name):
                    raise PickleError("malformed GLOBAL operands", at)
                g = self._import(module, name, at)
                units += SYM_COST
                if op == "c":
                    stack.append(g)
                else:
                    items = stack
                    stack = self._pop_mark(metastack, at)
                    stack.append(self._call(g, tuple(items), at))
                    units += SYM_COST + len(items)
            elif op == "\x93":  # STACK_GLOBAL
                units += SYM_COST
                name_v = self._pop(stack, at)
                module_v = self._pop(stack, at)
                if isinstance(module_v, str) and isinstance(name_v, str):
                    stack.append(self._import(module_v, name_v, at))
                else:
                    self.imports += 1
                    job.hit("ATS-ART-003", (self.label, at), member=self.label, offset=at,
                            operands=f"{_describe(module_v)}, {_describe(name_v)}")  # fmt: skip
                    stack.append(Sym("global", module="?", name="?"))
            elif op in "R\x81":  # REDUCE, NEWOBJ
                args = self._pop(stack, at)
                func = self._pop(stack, at)
                call = self._call(func, args, at, builds=op == "\x81")
                units += SYM_COST
                if op == "R":
                    self._maybe_nested_call(func, args, at)
                stack.append(call)
            elif op == "\x92":  # NEWOBJ_EX
                self._pop(stack, at)
                args = self._pop(stack, at)
                cls = self._pop(stack, at)
                units += SYM_COST
                stack.append(self._call(cls, args, at, builds=True))
            elif op == "o":  # OBJ
                items = stack
                stack = self._pop_mark(metastack, at)
                if not items:
                    raise PickleError("OBJ without a class", at)
                stack.append(self._call(items[0], tuple(items[1:]), at))
                units += SYM_COST + len(items)
            elif op == "b":  # BUILD
                state = self._pop(stack, at)
                if not stack:
                    raise PickleError("BUILD on an empty stack", at)
                target = stack[-1]
                if isinstance(target, Sym):
                    self._check_build(target, state, at)
                    target.state = state
                    if _class_of(target) == "joblib.numpy_pickle.NumpyArrayWrapper" or _class_of(target) == "sklearn.externals.joblib.numpy_pickle.NumpyArrayWrapper":
                        self._joblib_array(r, state, at)
            elif op in "KJMIL\x8a\x8bFG":
                stack.append(self._number(op, r, at))
            elif op == "N":
                stack.append(None)
            elif op == "\x88":
                stack.append(True)
            elif op == "\x89":
                stack.append(False)
            elif op == ")":
                stack.append(())
            elif op == "\x85":
                units += 2
                stack.append((self._pop(stack, at),))
            elif op == "\x86":
                b = self._pop(stack, at)
                a = self._pop(stack, at)
                units += 3
                stack.append((a, b))
            elif op == "\x87":
                c = self._pop(stack, at)
                b = self._pop(stack, at)
                a = self._pop(stack, at)
                units += 4
                stack.append((a, b, c))
            elif op == "t":
                items = stack
                stack = self._pop_mark(metastack, at)
                units += 1 + len(items)
                stack.append(tuple(items))
            elif op in "]l":
                units += SYM_COST
                if op == "]":
                    stack.append(Sym("list"))
                else:
                    stack = self._pop_mark(metastack, at)
                    stack.append(Sym("list"))
            elif op == "a":
                self._pop(stack, at)
                self._need(stack, at)
            elif op == "e":
                stack = self._pop_mark(metastack, at)
                self._need(stack, at)
            elif op in "}d":
                units += SYM_COST
                d = Sym("dict")
                if op == "d":
                    items = stack
                    stack = self._pop_mark(metastack, at)
                    for k, v in zip(items[::2], items[1::2], strict=False):
                        if isinstance(k, str):
                            d.items[k] = v
                    units += len(items)
                stack.append(d)
            elif op == "s":
                v = self._pop(stack, at)
                k = self._pop(stack, at)
                self._need(stack, at)
                if isinstance(stack[-1], Sym) and stack[-1].kind == "dict" and isinstance(k, str):
                    stack[-1].items[k] = v
                    units += 2
            elif op == "u":
                items = stack
                stack = self._pop_mark(metastack, at)
                self._need(stack, at)
                if isinstance(stack[-1], Sym) and stack[-1].kind == "dict":
                    units += len(items)
                    for k, v in zip(items[::2], items[1::2], strict=False):
                        if isinstance(k, str):
                            stack[-1].items[k] = v
            elif op == "\x8f":
                units += SYM_COST
                stack.append(Sym("set"))
            elif op == "\x90":
                stack = self._pop_mark(metastack, at)
                self._need(stack, at)
            elif op == "\x91":
                stack = self._pop_mark(metastack, at)
                units += SYM_COST
                stack.append(Sym("set"))
            elif op == "0":  # POP: an empty frame pops its mark instead
                if stack:
                    stack.pop()
                else:
                    stack = self._pop_mark(metastack, at)
            elif op == "1":
                stack = self._pop_mark(metastack, at)
            elif op == "2":
                self._need(stack, at)
                stack.append(stack[-1])
            elif op == "P":
                self._line(r, at)
                units += SYM_COST
                stack.append(Sym("persid"))
            elif op == "Q":
                self._pop(stack, at)
                units += SYM_COST
                stack.append(Sym("persid"))
            elif op == "\x97":
                units += SYM_COST
                stack.append(Sym("buffer"))
            elif op == "\x98":
                self._need(stack, at)
            elif op in "\x82\x83\x84":  # EXT1/2/4: the copyreg extension registry
                size = {"\x82": 1, "\x83": 2, "\x84": 4}[op]
                ext = int.from_bytes(self._exact(r, size, at), "little")
                self.imports += 1
                job.hit("ATS-ART-002", (self.label, f"ext{ext}"), member=self.label, offset=at,
                        callable=f"copyreg extension code {ext}")  # fmt: skip
                units += SYM_COST
                stack.append(Sym("global", module="copyreg", name=f"extension{ext}"))
            else:
                raise PickleError(f"invalid opcode 0x{code:02x}", at)

    # ---- imports and nested payloads ---------------------------------------------------
    def _import(self, module: str, name: str, at: int) -> Sym:
        self.imports += 1
        verdict = self.job.policy.verdict(module, name)
        qualified = f"{module}.{name}"
        if verdict is Verdict.DANGEROUS:
            self.job.hit("ATS-ART-001", (self.label, qualified), member=self.label, offset=at, callable=qualified)
        elif verdict is Verdict.UNKNOWN:
            self.job.hit("ATS-ART-002", (self.label, qualified), member=self.label, offset=at, callable=qualified)
        g = Sym("global", module=module, name=name)
        if verdict is Verdict.WRAPPER:
            self.wrappers[id(g)] = (g, at)
        elif verdict is Verdict.INSTANCE:
            self.instances[id(g)] = g
        return g

    # ---- calls and BUILD: wrappers and attribute tampering -----------------------------
    def _allowed(self, value: Any) -> bool:
        """An allowed global, or a wrapper call already seen wrapping one."""
        if not isinstance(value, Sym):
            return False
        if value.kind == "global":
            return self.job.policy.verdict(value.module, value.name) is Verdict.SAFE
        return value.kind == "call" and value.vouched

    def _call(self, func: Any, args: Any, at: int, builds: bool = False) -> Sym:
        """A call Sym; `builds` for NEWOBJ/NEWOBJ_EX, which create without calling."""
        call = Sym("call", func=func, args=args)
        called = func if not builds else None
        if isinstance(func, Sym) and func.qualified in ("copyreg._reconstructor", "copy_reg._reconstructor"):
            called = args[1] if isinstance(args, tuple) and len(args) > 1 else None  # base.__init__(obj, state)
        if isinstance(called, Sym) and id(called) in self.instances:
            self.job.hit("ATS-ART-002", (self.label, called.qualified, "called"), member=self.label, offset=at,
                         callable=f"{called.qualified} called with arguments (runs its __init__)")  # fmt: skip
        if isinstance(func, Sym) and id(func) in self.wrappers:
            wrapped = args[0] if isinstance(args, tuple) and args else None
            self._wrapper_use(func, wrapped, call, at)
        return call

    def _wrapper_use(self, wrapper: Sym, wrapped: Any, call: Sym, at: int) -> None:
        """functools.partial(f, ...) adds nothing to f, so it is as safe as f: an allowed
        global passes, a global off the allowlist is reported at its own import, and anything
        computed is reported here."""
        wrapper.vouched = True
        call.vouched = self._allowed(wrapped)
        if call.vouched:
            return
        if not (isinstance(wrapped, Sym) and wrapped.kind == "global"):
            self.job.hit("ATS-ART-002", (self.label, wrapper.qualified, at), member=self.label, offset=at,
                         callable=f"{wrapper.qualified} wrapping {_describe(wrapped)}")  # fmt: skip

    def _unvouched_wrappers(self) -> None:
        for g, at in self.wrappers.values():
            if not g.vouched:
                self.job.hit("ATS-ART-002", (self.label, g.qualified), member=self.label, offset=at, callable=g.qualified)
        self.wrappers.clear()

    def _check_build(self, target: Sym, state: Any, at: int) -> None:
        """BUILD sets attributes: on an imported class or function it rewrites that global
        for everything loaded after it; a dunder key such as `__setstate__` or `__class__`
        makes a later BUILD call what the data chose. No writer does either; the dunder keys
        writers do put in state to hold data (pydantic's, the policy's `state_keys`) are
        followed into instead."""
        if target.kind == "global":
            self.job.hit("ATS-ART-001", (self.label, "build", target.qualified), member=self.label, offset=at,
                         callable=f"BUILD on {target.qualified} (sets attributes of an imported class or function)")  # fmt: skip
            return
        parts = list(state) if isinstance(state, tuple) else [state]
        data_keys = self.job.policy.state_keys
        for _ in range(MAX_STATE_DEPTH):
            if not parts:
                break
            nested = []
            for part in parts:
                if not (isinstance(part, Sym) and part.kind == "dict"):
                    continue
                for key, value in part.items.items():
                    if key in data_keys:
                        nested.append(value)  # data, unless it holds a dunder of its own
                    elif _is_dunder(key):
                        owner = _class_of(target) or "an object"
                        self.job.hit("ATS-ART-001", (self.label, "build", key), member=self.label, offset=at,
                                     callable=f"BUILD setting `{key}` on {owner}")  # fmt: skip
            parts = nested
        if isinstance(target.func, Sym) and id(target.func) in self.wrappers and isinstance(state, tuple) and state:
            # partial's state replaces the wrapped callable
            self._wrapper_use(target.func, state[0], target, at)

    def _maybe_nested_call(self, func: Any, args: Any, at: int) -> None:
        if not (isinstance(func, Sym) and func.qualified in UNPICKLING_HELPERS):
            return
        blob = args[0] if isinstance(args, tuple) and args else None
        if isinstance(blob, Blob):
            if not blob.scanned and blob.data is not None:
                blob.scanned = True
                self._nested(MemorySource(blob.data), f"bytes@{blob.offset}")
            return
        # an unpickling helper fed something we cannot see is itself unsafe
        self.job.hit("ATS-ART-001", (self.label, func.qualified, "arg"), member=self.label, offset=at,
                     callable=f"{func.qualified} on a computed argument")  # fmt: skip

    def _nested(self, source: Source, where: str) -> None:
        self.job.dispatch(source, f"{self.label}!{where}", self.depth + 1, "nested")

    def _joblib_array(self, r: Reader, state: Any, at: int) -> None:
        """joblib writes each array's bytes right after its wrapper's BUILD: an object array
        as a nested pickle, anything else as raw bytes (after an alignment pad)."""
        items = state.items if isinstance(state, Sym) and state.kind == "dict" else {}
        dtype = items.get("dtype")
        shape = items.get("shape")
        itemsize = _dtype_itemsize(dtype)
        if itemsize == 0:  # object array: a pickle follows inline
            PickleMachine(self.job, f"{self.label}!array@{r.tell()}", self.depth + 1)._stream(r)
            return
        if itemsize is None or not isinstance(shape, tuple) or not all(isinstance(n, int) and n >= 0 for n in shape):
            raise PickleError("joblib array wrapper without a readable dtype and shape", at)
        if isinstance(items.get("numpy_array_alignment_bytes"), int):
            pad = r.byte()
            if pad < 0 or r.skip(pad) != pad:
                raise PickleError("joblib array padding runs past the end", at)
        size = itemsize
        for n in shape:
            size *= n
        if r.skip(size) != size:
            raise PickleError(f"joblib array of {size} bytes runs past the end", at)

    # ---- operand readers ---------------------------------------------------------------
    def _text(self, op: str, r: Reader, at: int) -> str:
        if op == "\x8c":
            raw = self._exact(r, r.byte(), at)
        elif op == "X":
            raw = self._exact(r, self._unpack("<I", r.read(4), at), at)
        elif op == "\x8d":
            raw = self._exact(r, self._unpack("<Q", r.read(8), at), at)
        elif op == "V":
            return self._line(r, at).decode("raw_unicode_escape", "replace")
        elif op == "S":
            line = self._line(r, at).rstrip(b"\r")
            if len(line) < 2 or line[:1] not in (b"'", b'"') or line[-1:] != line[:1]:
                raise PickleError("STRING operand is not quoted", at)
            return line[1:-1].decode("latin-1")
        elif op == "T":
            n = self._unpack("<i", r.read(4), at)
            if n < 0:
                raise PickleError("negative BINSTRING length", at)
            raw = self._exact(r, n, at)
            return raw.decode("latin-1")
        else:  # U
            return self._exact(r, r.byte(), at).decode("latin-1")
        if len(raw) >= 1 << 20:
            return ""  # too long to be a module or class name
        try:
            return raw.decode("utf-8", "surrogatepass")
        except UnicodeDecodeError:
            raise PickleError("text constant is not valid UTF-8", at) from None

    def _bytes(self, op: str, r: Reader, at: int) -> Blob:
        if op == "C":
            n = r.byte()
        elif op == "B":
            n = self._unpack("<I", r.read(4), at)
        else:
            n = self._unpack("<Q", r.read(8), at)
        if n < 0:
            raise PickleError("truncated length", at)
        start = r.tell()
        if n <= MAX_INLINE_BLOB:
            data = self._exact(r, n, at)
            blob = Blob(data[:16], n, data, start)
        else:
            head = r.peek(16)
            blob = Blob(head, n, None, start)
            if head.startswith(NESTED_MAGIC):
                # a large embedded artifact: scan it in place, then skip what is left
                blob.scanned = True
                window = _ReaderWindow(r, n)
                self._nested(window, f"bytes@{start}")
                left = n - window.tell()
                if r.skip(left) != left:
                    raise PickleError(f"byte constant of {n} bytes runs past the end", at)
                return blob
            if r.skip(n) != n:
                raise PickleError(f"byte constant of {n} bytes runs past the end", at)
        if blob.head.startswith(NESTED_MAGIC) and blob.data is not None:
            blob.scanned = True
            self._nested(MemorySource(blob.data), f"bytes@{start}")
        return blob

    def _number(self, op: str, r: Reader, at: int) -> Any:
        if op == "K":
            v = r.byte()
            if v < 0:
                raise PickleError("truncated BININT1", at)
            return v
        if op == "M":
            return self._unpack("<H", r.read(2), at)
        if op == "J":
            return self._unpack("<i", r.read(4), at)
        if op == "G":
            return self._unpack(">d", r.read(8), at)
        if op == "\x8a":
            return int.from_bytes(self._exact(r, r.byte(), at), "little", signed=True)
        if op == "\x8b":
            n = self._unpack("<i", r.read(4), at)
            if n < 0:
                raise PickleError("negative LONG4 length", at)
            raw = self._exact(r, n, at)
            return int.from_bytes(raw, "little", signed=True) if n <= 64 else 0
        text = self._line(r, at).strip()
        try:
            if op == "F":
                return float(text)
            if op == "L":
                text = text.rstrip(b"L")
            if text == b"00":
                return False
            if text == b"01":
                return True
            return int(text) if len(text) < 100 else 0
        except ValueError:
            raise PickleError(f"bad number {text[:20]!r}", at) from None

    @staticmethod
    def _unpack(fmt: str, raw: bytes, at: int) -> Any:
        try:
            return struct.unpack(fmt, raw)[0]
        except struct.error:
            raise PickleError("stream ends inside an operand", at) from None

    @staticmethod
    def _exact(r: Reader, n: int, at: int) -> bytes:
        if n < 0:
            raise PickleError("stream ends inside an operand", at)
        data = r.read(n)
        if len(data) != n:
            raise PickleError(f"operand of {n} bytes runs past the end", at)
        return data

    @staticmethod
    def _line(r: Reader, at: int) -> bytes:
        line = r.readline(NEWLINE_LIMIT)
        if line is None:
            raise PickleError("line operand without a newline", at)
        return line

    def _decimal(self, r: Reader, at: int) -> int:
        text = self._line(r, at).strip()
        if not text.isdigit() or len(text) > 18:
            raise PickleError("bad memo index", at)
        return int(text)

    @staticmethod
    def _pop(stack: list[Any], at: int) -> Any:
        if not stack:
            raise PickleError("stack underflow", at)
        return stack.pop()

    @staticmethod
    def _need(stack: list[Any], at: int) -> None:
        if not stack:
            raise PickleError("stack underflow", at)

    @staticmethod
    def _pop_mark(metastack: list[list[Any]], at: int) -> list[Any]:
        if not metastack:
            raise PickleError("no MARK to pop", at)
        return metastack.pop()


class _ReaderWindow:
    """The next `n` bytes of a Reader as a forward-only Source (for nested payloads)."""

    def __init__(self, reader: Reader, n: int) -> None:
        self._r = reader
        self._left = n
        self._pos = 0

    @property
    def length(self) -> int | None:
        return self._pos + self._left

    def tell(self) -> int:
        return self._pos

    def read(self, n: int) -> bytes:
        data = self._r.read(min(n, self._left))
        self._left -= len(data)
        self._pos += len(data)
        return data

    def skip(self, n: int) -> int:
        done = self._r.skip(min(n, self._left))
        self._left -= done
        self._pos += done
        return done


def _class_of(obj: Sym) -> str:
    """The class an instance was built from (NEWOBJ, REDUCE or copyreg._reconstructor)."""
    func = obj.func
    if isinstance(func, Sym) and func.kind == "global":
        if func.qualified in ("copyreg._reconstructor", "copy_reg._reconstructor"):
            first = obj.args[0] if isinstance(obj.args, tuple) and obj.args else None
            return first.qualified if isinstance(first, Sym) else ""
        return func.qualified
    return ""


_DTYPE = re.compile(r"[<>|=]?([a-zA-Z])(\d*)")


def _dtype_itemsize(dtype: Any) -> int | None:
    """Bytes per element of a pickled numpy dtype; 0 for object arrays, None if unknown."""
    if not (isinstance(dtype, Sym) and dtype.kind == "call" and isinstance(dtype.args, tuple) and dtype.args):
        return None
    state = dtype.state
    code = dtype.args[0]
    if not isinstance(code, str):
        return None
    m = _DTYPE.fullmatch(code)
    if m and m.group(1) == "O":
        return 0
    # the BUILD state (version, byteorder, subdescr, names, fields, elsize, ...) knows best
    structured = isinstance(state, tuple) and len(state) >= 6 and (isinstance(state[2], tuple) or state[3] is not None)
    if structured and isinstance(state[5], int) and state[5] > 0:
        return int(state[5])
    if not m:
        return None
    kind, digits = m.group(1), m.group(2)
    if kind == "U":
        return 4 * int(digits or 1)
    if kind == "b" and not digits:
        return 1
    return int(digits) if digits else None


def _is_dunder(key: str) -> bool:
    return key.startswith("__") and key.endswith("__") and len(key) > 4


def _describe(value: Any) -> str:
    if isinstance(value, str):
        return repr(value[:40])
    if isinstance(value, Sym):
        if value.kind == "call" and isinstance(value.func, Sym) and value.func.kind == "global":
            return f"result of {value.func.qualified}(...)"
        return f"a computed {value.kind}"
    return type(value).__name__
