"""Source code that model archives carry: TorchScript's `code/` folder (compiled Python subset that
`torch.jit.load` runs) and TorchServe handlers in `.mar` archives (plain Python that the model
server imports). Both are read as text; nothing is imported or executed."""

from __future__ import annotations

import ast
import re

from atlascan.engines.artifacts.hits import Job
from atlascan.model import Severity

MAX_SOURCE = 4 << 20

# ---- TorchScript ----------------------------------------------------------------------------
# TorchScript serializes fully qualified names: tensor math is `torch.*`, operators are
# `ops.<namespace>.*` (or `torch.ops.`), classes are `__torch__.*`. Namespaces from packages
# that ship their operators compiled (torchvision, torchaudio) are known; any other namespace
# is a custom operator from a native library loaded outside the model.
KNOWN_OP_NAMESPACES = frozenset({
    "aten", "prim", "quantized", "_quantized", "quantized_decomposed", "_caffe2", "profiler",
    "prepacked", "mkldnn", "mkldnn_prepacked", "_c10d_functional", "c10d_functional",
    "_c10d_functional_autograd", "c10d", "_dtensor", "fbgemm", "torchvision", "image",
    "torchaudio", "torchtext", "onednn", "cuda", "debugprims", "higher_order", "inductor",
})  # fmt: skip
TS_CALL = re.compile(r"(?<![\w.])((?:torch\.)?(?:ops|classes)\.(\w+)\.\w+|[A-Za-z_][\w.]*)\s*\(")
TS_IMPORT = re.compile(r"^\s*(?:from\s+([\w.]+)\s+import|import\s+([\w.]+))", re.M)
TS_FORBIDDEN_ROOTS = frozenset({"os", "subprocess", "sys", "builtins", "importlib", "socket", "shutil", "pickle",
                                "posix", "pty", "ctypes", "marshal", "runpy", "pathlib"})  # fmt: skip
TS_FORBIDDEN_CALLS = frozenset({"exec", "eval", "__import__", "compile", "open", "breakpoint",
                                "torch.load", "torch.save", "torch.jit.load", "torch.hub.load", "torch.ops.load_library"})  # fmt: skip
TS_IMPORT_ROOTS = frozenset({"torch", "__torch__", "typing", "math", "enum"})


def torchscript_source(job: Job, text: str, label: str) -> None:
    for m in TS_IMPORT.finditer(text):
        module = m.group(1) or m.group(2)
        if module.split(".")[0] not in TS_IMPORT_ROOTS:
            _ts_hit(job, label, f"imports `{module}`", _line(text, m.start()))
    for m in TS_CALL.finditer(text):
        callee, namespace = m.group(1), m.group(2)
        if namespace is not None:
            if namespace not in KNOWN_OP_NAMESPACES:
                _ts_hit(job, label, f"calls `{callee}` from the custom operator namespace `{namespace}` (native code loaded "
                        "outside the model)", _line(text, m.start()))  # fmt: skip
        elif callee in TS_FORBIDDEN_CALLS or callee.split(".")[0] in TS_FORBIDDEN_ROOTS:
            _ts_hit(job, label, f"calls `{callee}`", _line(text, m.start()))


def _ts_hit(job: Job, label: str, what: str, line: int) -> None:
    job.hit("ATS-ART-011", (label, what), member=label,
            detail=f"its TorchScript code {what} (line {line}), outside torch operators and tensor math")  # fmt: skip


def _line(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


# ---- TorchServe handlers --------------------------------------------------------------------
SHELL_CALLS = frozenset({
    "os.system", "os.popen", "os.execv", "os.execve", "os.execl", "os.execle", "os.execlp", "os.execvp",
    "os.execvpe", "os.spawnv", "os.spawnve", "os.spawnl", "os.spawnlp", "os.spawnvp", "os.posix_spawn",
    "os.posix_spawnp", "os.startfile", "subprocess.run", "subprocess.call", "subprocess.check_call",
    "subprocess.check_output", "subprocess.Popen", "subprocess.getoutput", "subprocess.getstatusoutput",
    "pty.spawn", "commands.getoutput", "asyncio.create_subprocess_shell", "asyncio.create_subprocess_exec",
    "builtins.exec", "builtins.eval", "builtins.compile", "builtins.__import__",
    "socket.socket", "socket.create_connection", "marshal.loads", "ctypes.CDLL", "ctypes.cdll.LoadLibrary",
})  # fmt: skip
BUILTIN_CALLS = frozenset({"exec", "eval", "compile", "__import__"})


def handler_source(job: Job, text: str, label: str) -> None:
    """Calls that run a shell, code or a connection in a TorchServe handler; at import (module
    or class level) they run as soon as the server loads the archive: critical."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return  # not Python the server could import either
    aliases: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                aliases[a.asname or a.name.split(".")[0]] = a.name if a.asname else a.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for a in node.names:
                aliases[a.asname or a.name] = f"{node.module}.{a.name}"
    _visit(job, tree, label, aliases, at_import=True)


def _visit(job: Job, node: ast.AST, label: str, aliases: dict[str, str], at_import: bool) -> None:
    for child in ast.iter_child_nodes(node):
        inner = at_import and not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
        if isinstance(child, ast.Call):
            name = _resolve(child.func, aliases)
            if name in SHELL_CALLS or name in BUILTIN_CALLS:
                when = "at import, as soon as the server loads the archive" if at_import else "when it serves a request"
                job.hit("ATS-ART-011", (label, name, child.lineno), severity=Severity.CRITICAL if at_import else None,
                        member=label, detail=f"the handler calls `{name}` {when} (line {child.lineno})")  # fmt: skip
        _visit(job, child, label, aliases, inner)


def _resolve(func: ast.expr, aliases: dict[str, str]) -> str:
    parts: list[str] = []
    while isinstance(func, ast.Attribute):
        parts.append(func.attr)
        func = func.value
    if not isinstance(func, ast.Name):
        return ""
    parts.append(aliases.get(func.id, func.id))
    return ".".join(reversed(parts))
