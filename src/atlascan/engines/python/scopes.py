"""Name resolution for Python sources: which fully qualified name an expression refers to.

One iterative pass over the tree records, per scope, the imports, function and class
definitions, parameters and assignments, plus every call and every name passed as an
argument. Resolution happens afterwards, when all bindings of every scope are known:

- `import pickle as pk; pk.loads` -> `pickle.loads`; `from torch import load as tload`;
- one-hop aliases: `f = pk.load; f(x)` -> `pickle.load` (chains up to a few hops);
- `getattr(pickle, "loads")`, `importlib.import_module("pickle").loads`, `__import__("pickle")`;
- `from yaml import *; load(s)` -> `yaml.load` when that name is a known sink;
- call results keep their origin: `gr.Blocks()` -> `gradio.Blocks()`, so `demo.launch`
  -> `gradio.Blocks().launch`;
- a parameter or local variable named like a module (`def f(torch): torch.load(x)`)
  shadows the import and resolves to nothing.

Scoping follows Python's rules closely enough for detection and is flow-insensitive within
a scope: an import wins over another assignment of the same name in that scope (the usual
`try: import cPickle as pickle / except ImportError: pickle = None` pattern).
"""

from __future__ import annotations

import ast
import builtins
from collections.abc import Callable
from dataclasses import dataclass, field

BUILTIN_NAMES = frozenset(dir(builtins))
LOCAL_DEF = "§local."  # prefix of names defined in the scanned file itself
MAX_ALIAS_HOPS = 4

_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)
# Node types that bind names, open scopes or are calls; every other node only has children.
_SPECIAL = frozenset({
    ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef, *_COMPREHENSIONS, ast.Import,
    ast.ImportFrom, ast.Assign, ast.AnnAssign, ast.AugAssign, ast.NamedExpr, ast.For, ast.AsyncFor,
    ast.With, ast.AsyncWith, ast.ExceptHandler, ast.Global, ast.Nonlocal, ast.Call,
})  # fmt: skip
# Leaf markers (Load, Store, Add, ...) that are never worth a visit.
_LEAVES = (ast.expr_context, ast.operator, ast.unaryop, ast.cmpop, ast.boolop)


def _push_children(node: ast.AST, scope: Scope, stack: list[tuple[ast.AST, Scope]]) -> None:
    for name in node._fields:
        value = getattr(node, name, None)
        if isinstance(value, list):
            for item in value:
                if isinstance(item, ast.AST) and not isinstance(item, _LEAVES):
                    stack.append((item, scope))
        elif isinstance(value, ast.AST) and not isinstance(value, _LEAVES):
            stack.append((value, scope))


@dataclass(eq=False)
class Scope:
    kind: str  # "module" | "function" | "class" | "lambda" | "comprehension"
    parent: Scope | None
    node: ast.AST | None = None
    imports: dict[str, str] = field(default_factory=dict)
    defs: set[str] = field(default_factory=set)
    params: set[str] = field(default_factory=set)
    # name -> assigned values; the flag says whether the value may be an alias of a name
    # (plain `x = y` or `with y as x`), as opposed to an element of it (`for x in y`).
    assigns: dict[str, list[tuple[ast.expr, bool]]] = field(default_factory=dict)
    globals: set[str] = field(default_factory=set)
    star_modules: list[str] = field(default_factory=list)

    def module(self) -> Scope:
        scope = self
        while scope.parent is not None:
            scope = scope.parent
        return scope

    def has(self, name: str) -> bool:
        return name in self.imports or name in self.defs or name in self.params or name in self.assigns


@dataclass
class Program:
    """What one pass over a module collected."""

    module: Scope
    calls: list[tuple[ast.Call, Scope]]
    references: list[tuple[ast.expr, Scope]]  # names/attributes passed as call arguments
    stores: list[tuple[ast.expr, ast.expr, Scope]]  # (attribute/subscript target, value, scope)
    functions: list[tuple[ast.FunctionDef | ast.AsyncFunctionDef, Scope]]  # with their own scope


def _bind_target(target: ast.expr, value: ast.expr, scope: Scope, aliasable: bool, stores: list[tuple[ast.expr, ast.expr, Scope]]) -> None:
    if isinstance(target, ast.Name):
        scope.assigns.setdefault(target.id, []).append((value, aliasable))
    elif isinstance(target, (ast.Tuple, ast.List)):
        for elt in target.elts:
            _bind_target(elt.value if isinstance(elt, ast.Starred) else elt, value, scope, False, stores)
    elif isinstance(target, (ast.Attribute, ast.Subscript)):
        stores.append((target, value, scope))


def _bind_params(args: ast.arguments, scope: Scope) -> None:
    for arg in (*args.posonlyargs, *args.args, *args.kwonlyargs):
        scope.params.add(arg.arg)
    if args.vararg:
        scope.params.add(args.vararg.arg)
    if args.kwarg:
        scope.params.add(args.kwarg.arg)


def collect(tree: ast.Module) -> Program:
    """Walk the tree once, iteratively (deeply nested input must not exhaust the C stack)."""
    module = Scope("module", None, tree)
    calls: list[tuple[ast.Call, Scope]] = []
    references: list[tuple[ast.expr, Scope]] = []
    stores: list[tuple[ast.expr, ast.expr, Scope]] = []
    functions: list[tuple[ast.FunctionDef | ast.AsyncFunctionDef, Scope]] = []
    stack: list[tuple[ast.AST, Scope]] = [(tree, module)]
    while stack:
        node, scope = stack.pop()
        if type(node) not in _SPECIAL:
            _push_children(node, scope, stack)
            continue
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            scope.defs.add(node.name)
            inner = Scope("function", scope, node)
            _bind_params(node.args, inner)
            functions.append((node, inner))
            outer_parts: list[ast.AST] = [*node.decorator_list, *node.args.defaults]
            outer_parts += [d for d in node.args.kw_defaults if d is not None]
            stack.extend((part, scope) for part in outer_parts)
            stack.extend((stmt, inner) for stmt in node.body)
            continue
        if isinstance(node, ast.Lambda):
            inner = Scope("lambda", scope, node)
            _bind_params(node.args, inner)
            stack.append((node.body, inner))
            continue
        if isinstance(node, ast.ClassDef):
            scope.defs.add(node.name)
            inner = Scope("class", scope, node)
            stack.extend((part, scope) for part in (*node.decorator_list, *node.bases, *node.keywords))
            stack.extend((stmt, inner) for stmt in node.body)
            continue
        if isinstance(node, _COMPREHENSIONS):
            inner = Scope("comprehension", scope, node)
            for gen in node.generators:
                _bind_target(gen.target, gen.iter, inner, False, stores)
            _push_children(node, inner, stack)
            continue
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    scope.imports[alias.asname] = alias.name
                else:
                    head = alias.name.split(".", 1)[0]
                    scope.imports[head] = head
            continue
        if isinstance(node, ast.ImportFrom):
            base = "." * node.level + (node.module or "")
            for alias in node.names:
                if alias.name == "*":
                    scope.star_modules.append(base)
                    continue
                joined = f"{base}{alias.name}" if base.endswith(".") or not base else f"{base}.{alias.name}"
                scope.imports[alias.asname or alias.name] = joined
            continue
        if isinstance(node, ast.Assign):
            for target in node.targets:
                _bind_target(target, node.value, scope, True, stores)
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)) and node.value is not None:
            _bind_target(node.target, node.value, scope, isinstance(node, ast.AnnAssign), stores)
        elif isinstance(node, ast.NamedExpr):
            _bind_target(node.target, node.value, scope, True, stores)
        elif isinstance(node, (ast.For, ast.AsyncFor)):
            _bind_target(node.target, node.iter, scope, False, stores)
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                if item.optional_vars is not None:
                    _bind_target(item.optional_vars, item.context_expr, scope, True, stores)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            scope.assigns.setdefault(node.name, [])
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            scope.globals.update(node.names)
        elif isinstance(node, ast.Call):
            calls.append((node, scope))
            for arg in (*node.args, *(k.value for k in node.keywords)):
                if isinstance(arg, (ast.Name, ast.Attribute)):
                    references.append((arg, scope))
        _push_children(node, scope, stack)
    return Program(module, calls, references, stores, functions)


class Resolver:
    """Qualified names of expressions, memoised per (scope, name)."""

    def __init__(self, program: Program, is_sink_name: Callable[[str], bool]) -> None:
        self.program = program
        self.is_sink_name = is_sink_name
        self._memo: dict[tuple[int, str], str | None] = {}

    def name(self, ident: str, scope: Scope, hops: int = 0) -> str | None:
        key = (id(scope), ident)
        if key in self._memo:
            return self._memo[key]
        self._memo[key] = None  # guards against `a = b; b = a` cycles
        result = self._lookup(ident, scope, hops)
        self._memo[key] = result
        return result

    def _lookup(self, ident: str, scope: Scope, hops: int) -> str | None:
        current: Scope | None = scope
        first = True
        while current is not None:
            if current.kind == "class" and not first:
                current = current.parent
                continue
            first = False
            if ident in current.globals and current.kind != "module":
                current = current.module()
                continue
            if ident in current.defs:
                return LOCAL_DEF + ident
            if ident in current.imports:
                return current.imports[ident]
            if ident in current.params:
                return None
            if ident in current.assigns:
                if hops >= MAX_ALIAS_HOPS:
                    return None
                for value, aliasable in current.assigns[ident]:
                    if aliasable:
                        resolved = self.expr(value, current, hops + 1)
                        if resolved is not None:
                            return resolved
                return None
            current = current.parent
        module = scope.module()
        for star in module.star_modules:
            candidate = f"{star}.{ident}"
            if self.is_sink_name(candidate):
                return candidate
        if ident in BUILTIN_NAMES:
            return f"builtins.{ident}"
        if len(module.star_modules) == 1:
            # `from yaml import *; load(s, Loader=Loader)`: the one star module defines it
            return f"{module.star_modules[0]}.{ident}"
        return None

    def expr(self, node: ast.expr, scope: Scope, hops: int = 0) -> str | None:
        """The qualified name `node` refers to, `name()` for a call result, or None."""
        if isinstance(node, ast.Name):
            return self.name(node.id, scope, hops) if hops == 0 else self._lookup(node.id, scope, hops)
        if isinstance(node, ast.Attribute):
            base = self.expr(node.value, scope, hops)
            return f"{base}.{node.attr}" if base else None
        if isinstance(node, ast.Call):
            func = self.expr(node.func, scope, hops)
            if func is None:
                return None
            literal = _first_str(node, 1) if func == "builtins.getattr" else None
            if literal is not None and node.args:
                target = self.expr(node.args[0], scope, hops)
                return f"{target}.{literal}" if target else None
            if func in ("importlib.import_module", "builtins.__import__"):
                name = _first_str(node, 0)
                if name is not None:
                    return name if func == "importlib.import_module" else name.split(".", 1)[0]
            return f"{func}()"
        return None


def _first_str(call: ast.Call, index: int) -> str | None:
    if len(call.args) > index:
        arg = call.args[index]
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            return arg.value
    return None
