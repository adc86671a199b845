"""One Terraform module (all files of a folder) and the static, safe value resolution over it.

Resolved: variable defaults, `terraform.tfvars` / `*.auto.tfvars` (other `*.tfvars` only
when they agree), locals, string templates whose parts resolve, and a few pure functions
(`jsonencode`, `jsondecode`, `file` of a file inside the module, `lower`, `upper`,
`tostring`, `concat`, `merge`). Everything else stays unknown (`UNKNOWN`); references to
resources stay `Ref`s so checks can link split resources. Nothing is ever executed.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from atlascan.model import ParseError, SkipFile, SourceFile
from atlascan.parsers.terraform import json_document
from atlascan.parsers.terraform.syntax import (
    Attribute,
    Block,
    Call,
    Expr,
    ParsedFile,
    Ref,
    Template,
)


class _Unknown:
    _instance: _Unknown | None = None

    def __new__(cls) -> _Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNKNOWN"

    def __bool__(self) -> bool:
        return False


UNKNOWN: Any = _Unknown()
MAX_DEPTH = 24
MAX_INSTANCES = 64  # per-instance expansion of count / for_each stops here
MAX_READ_BYTES = 1024 * 1024
RESOURCE_PREFIXES = ("aws_", "google_", "azurerm_", "azuread_")


def is_known(value: Any) -> bool:
    """A literal value: no unknowns, references or expressions anywhere inside."""
    if isinstance(value, (_Unknown, Ref, Call, Template, Expr)):
        return False
    if isinstance(value, list):
        return all(is_known(v) for v in value)
    if isinstance(value, dict):
        return all(is_known(v) for v in value.values())
    return True


def describe(value: Any) -> str:
    """Short source-like text of a value, for messages."""
    if isinstance(value, Ref):
        return value.text
    if isinstance(value, Expr):
        return value.text if len(value.text) <= 40 else value.text[:37] + "..."
    if isinstance(value, (Call, Template)) or value is UNKNOWN:
        return "a computed value"
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    return str(value)


def _step(base: Any, part: str | int) -> Any:
    """`base[part]` for a dict key or list index, else UNKNOWN."""
    if isinstance(base, dict) and isinstance(part, str):
        return base.get(part, UNKNOWN)
    if isinstance(base, list) and isinstance(part, int) and 0 <= part < len(base):
        return base[part]
    return UNKNOWN


def refs(value: Any) -> Iterator[Ref]:
    """Every reference inside a value (lists, objects, templates, call arguments)."""
    yield from (v for v in _leaves(value) if isinstance(v, Ref))


def exprs(value: Any) -> Iterator[Expr]:
    """Every expression kept as text inside a value."""
    yield from (v for v in _leaves(value) if isinstance(v, Expr))


def _leaves(value: Any) -> Iterator[Any]:
    if isinstance(value, (list, tuple)):
        for item in value:
            yield from _leaves(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _leaves(item)
    elif isinstance(value, Template):
        yield from _leaves(value.parts)
    elif isinstance(value, Call):
        yield from _leaves(value.args)
    else:
        yield value


# `type.name.attribute` inside an expression kept as text (a conditional, a for-expression).
_READ_IN_TEXT = re.compile(r"\b([a-z][a-z0-9_]*\.[A-Za-z_][\w-]*)\.([a-z_][a-z0-9_]*)")


class Module:
    def __init__(self, directory: str, files: list[ParsedFile], inputs: dict[str, Any] | None = None) -> None:
        self.directory = directory  # absolute path of the module folder
        self.files = files
        # Values a caller's `module` block passes in (already resolved in the caller): they
        # win over tfvars and defaults, as in Terraform.
        self.inputs: dict[str, Any] = dict(inputs or {})
        self.resources: dict[str, Block] = {}
        self.data: dict[str, Block] = {}
        self.outputs: list[Block] = []
        self.providers: list[Block] = []
        self._variables: dict[str, Block] = {}
        self._locals: dict[str, Attribute] = {}
        self._var_values: dict[str, list[Any]] = {}
        self._auto_values: dict[str, Any] = {}
        self._resolving: set[str] = set()
        self._file_cache: dict[str, Any] = {}
        self._binding: dict[str, Any] = {}  # `each` / `count` of the instance being checked
        self._reads: dict[str, frozenset[str]] | None = None  # resource address -> attributes read (attributes_read)
        self._referrers: dict[str, list[tuple[str, Block]]] | None = None  # address -> resources referencing it (referrers)
        for parsed in files:
            name = parsed.file.path.rsplit("/", 1)[-1]
            if name.endswith(".tfvars"):
                auto = name == "terraform.tfvars" or name.endswith(".auto.tfvars")
                for attr in parsed.attributes.values():
                    if auto:
                        self._auto_values[attr.name] = attr.value
                    else:
                        self._var_values.setdefault(attr.name, []).append(attr.value)
                continue
            for block in parsed.blocks:
                self._index(block)

    def _index(self, block: Block) -> None:
        if block.type == "resource" and len(block.labels) == 2:
            self.resources.setdefault(".".join(block.labels), block)
        elif block.type == "data" and len(block.labels) == 2:
            self.data.setdefault("data." + ".".join(block.labels), block)
        elif block.type == "variable" and block.labels:
            self._variables.setdefault(block.labels[0], block)
        elif block.type == "locals":
            self._locals.update(block.attributes)
        elif block.type == "output":
            self.outputs.append(block)
        elif block.type == "provider":
            self.providers.append(block)

    # ---- lookups ---------------------------------------------------------------------
    def of_type(self, *types: str) -> Iterator[tuple[str, Block]]:
        for address, block in self.resources.items():
            if block.labels[0] in types:
                yield address, block

    def data_of_type(self, *types: str) -> Iterator[tuple[str, Block]]:
        for address, block in self.data.items():
            if block.labels[0] in types:
                yield address, block

    def attributes_read(self, address: str) -> frozenset[str]:
        """The attributes of a resource that the module's expressions read
        (`azurerm_storage_account.ml.primary_access_key` -> "primary_access_key")."""
        if self._reads is None:
            reads: dict[str, set[str]] = {}
            for parsed in self.files:
                blocks = list(parsed.blocks)
                while blocks:
                    block = blocks.pop()
                    blocks += block.blocks
                    for attr in block.attributes.values():
                        for ref in refs(attr.value):
                            parts = [p for p in ref.parts if isinstance(p, str)]
                            if len(parts) >= 3:
                                reads.setdefault(f"{parts[0]}.{parts[1]}", set()).add(parts[2])
                        for expr in exprs(attr.value):
                            for m in _READ_IN_TEXT.finditer(expr.text):
                                reads.setdefault(m.group(1), set()).add(m.group(2))
            self._reads = {k: frozenset(v) for k, v in reads.items()}
        return self._reads.get(address, frozenset())

    def references(self, block: Block) -> set[str]:
        """The resources and data blocks of the module that a block's arguments (nested
        blocks included) reference."""
        found: set[str] = set()
        blocks = [block]
        while blocks:
            current = blocks.pop()
            blocks += current.blocks
            for attr in current.attributes.values():
                found.update(a for r in refs(attr.value) if (a := self.referenced_resource(r)) is not None)
        return found

    def referrers(self, address: str) -> list[tuple[str, Block]]:
        """The resources that reference `address` (`google_storage_bucket_iam_member.x` for
        `google_storage_bucket.data`), as (address, block)."""
        if self._referrers is None:
            index: dict[str, list[tuple[str, Block]]] = {}
            for owner, block in self.resources.items():
                for target in sorted(self.references(block) - {owner}):
                    index.setdefault(target, []).append((owner, block))
            self._referrers = index
        return self._referrers.get(address, [])

    def referenced_resource(self, value: Any) -> str | None:
        """`aws_s3_bucket.data.id` -> "aws_s3_bucket.data" when that resource is in the module."""
        if isinstance(value, Template) and len(value.parts) == 1:
            value = value.parts[0]
        if isinstance(value, Ref) and len(value.parts) >= 2:
            parts = [p for p in value.parts if isinstance(p, str)]
            if parts and parts[0] == "data" and len(parts) >= 3:
                address = ".".join(parts[:3])
                return address if address in self.data else None
            address = ".".join(parts[:2])
            return address if address in self.resources else None
        return None

    # ---- instances -------------------------------------------------------------------
    def instances(self, block: Block) -> list[tuple[str, dict[str, Any]]]:
        """The instances a `count` or `for_each` creates, as (key, binding) pairs, when the
        collection resolves (up to MAX_INSTANCES); otherwise one instance whose `each.*` and
        `count.index` stay unknown."""
        each = block.attributes.get("for_each")
        if each is not None:
            value = self.resolve(each.value)
            if isinstance(value, dict) and 0 < len(value) <= MAX_INSTANCES:
                return [(str(k), {"each": {"key": k, "value": v}}) for k, v in value.items()]
            if isinstance(value, list) and 0 < len(value) <= MAX_INSTANCES and all(isinstance(v, str) for v in value):
                return [(v, {"each": {"key": v, "value": v}}) for v in dict.fromkeys(value)]
            return [("", {})]
        count = block.attributes.get("count")
        if count is not None:
            n = self.resolve(count.value)
            if isinstance(n, int) and not isinstance(n, bool) and 0 < n <= MAX_INSTANCES:
                return [(str(i), {"count": {"index": i}}) for i in range(n)]
        return [("", {})]

    @contextmanager
    def bound(self, binding: dict[str, Any]) -> Iterator[None]:
        """Resolve `each.*` / `count.index` as one instance's values inside the block."""
        previous, self._binding = self._binding, binding
        try:
            yield
        finally:
            self._binding = previous

    # ---- resolution ------------------------------------------------------------------
    def value(self, block: Block, path: str) -> tuple[Attribute | None, Block | None, Any]:
        """The attribute at a dotted path through nested blocks, the deepest block reached,
        and its resolved value (None when absent)."""
        *blocks, name = path.split(".")
        current = block
        for part in blocks:
            nxt = current.first(part)
            if nxt is None:  # `dynamic "part" { content {...} }`: read its content
                nxt = next((c for d in current.sub("dynamic") if d.labels[:1] == (part,) for c in d.sub("content")), None)
            if nxt is None:
                return None, current, None
            current = nxt
        attr = current.attributes.get(name)
        if attr is None:
            return None, current, None
        return attr, current, self.resolve(attr.value)

    def resolve(self, value: Any, depth: int = 0) -> Any:
        if depth > MAX_DEPTH:
            return UNKNOWN
        if isinstance(value, list):
            return [self.resolve(v, depth + 1) for v in value]
        if isinstance(value, dict):
            return {k: self.resolve(v, depth + 1) for k, v in value.items()}
        if isinstance(value, Ref):
            return self._ref(value, depth)
        if isinstance(value, Template):
            parts = [self.resolve(p, depth + 1) for p in value.parts]
            if all(isinstance(p, (str, int, float)) and not isinstance(p, bool) for p in parts):
                return "".join(str(p) for p in parts)
            return Template(tuple(parts))
        if isinstance(value, Call):
            return self._call(value, depth)
        if isinstance(value, Expr):
            return UNKNOWN
        return value

    def _ref(self, ref: Ref, depth: int) -> Any:
        head = ref.parts[0]
        if head in ("var", "local") and len(ref.parts) >= 2 and isinstance(ref.parts[1], str):
            key = f"{head}.{ref.parts[1]}"
            if key in self._resolving:
                return UNKNOWN  # a cycle
            self._resolving.add(key)
            try:
                base = self._variable(ref.parts[1], depth) if head == "var" else self._local(ref.parts[1], depth)
            finally:
                self._resolving.discard(key)
            for part in ref.parts[2:]:
                base = _step(base, part)
                if base is UNKNOWN:
                    return UNKNOWN
            return base
        if head in ("each", "count") and head in self._binding:
            base = self._binding[head]
            for part in ref.parts[1:]:
                base = _step(base, part)
                if base is UNKNOWN:
                    return UNKNOWN
            return self.resolve(base, depth + 1)
        if head == "path" and len(ref.parts) == 2 and ref.parts[1] in ("module", "root", "cwd"):
            return "."
        if isinstance(head, str) and (head == "data" or head.startswith(RESOURCE_PREFIXES)):
            return ref  # a resource reference: kept for linking, unknown as a value
        return UNKNOWN

    def _variable(self, name: str, depth: int) -> Any:
        if name in self.inputs:
            return self.inputs[name]
        if name in self._auto_values:
            return self.resolve(self._auto_values[name], depth + 1)
        candidates = self._var_values.get(name)
        if candidates:
            resolved = [self.resolve(c, depth + 1) for c in candidates]
            return resolved[0] if all(r == resolved[0] for r in resolved) else UNKNOWN
        block = self._variables.get(name)
        if block is None or "default" not in block.attributes:
            return UNKNOWN  # must be passed in: unknowable here
        return self.resolve(block.attributes["default"].value, depth + 1)

    def _local(self, name: str, depth: int) -> Any:
        attr = self._locals.get(name)
        return UNKNOWN if attr is None else self.resolve(attr.value, depth + 1)

    def _call(self, call: Call, depth: int) -> Any:
        name = call.name
        args = [self.resolve(a, depth + 1) for a in call.args]
        if name == "jsonencode" and len(args) == 1:
            return args[0]  # kept as structure: checks read policies as data
        if name == "jsondecode" and len(args) == 1 and isinstance(args[0], str):
            try:
                return json_document(args[0])
            except ParseError:
                return UNKNOWN
        if name == "file" and len(args) == 1 and isinstance(args[0], str):
            return self._read(args[0])
        if not all(is_known(a) for a in args):
            return UNKNOWN
        if name in ("lower", "upper", "tostring") and len(args) == 1 and isinstance(args[0], (str, int, float)):
            text = str(args[0]) if not isinstance(args[0], bool) else str(args[0]).lower()
            return text.lower() if name == "lower" else text.upper() if name == "upper" else text
        if name == "concat" and all(isinstance(a, list) for a in args):
            return [v for a in args for v in a]
        if name == "merge" and all(isinstance(a, dict) for a in args):
            out: dict[str, Any] = {}
            for a in args:
                out.update(a)
            return out
        return UNKNOWN

    def _read(self, relative: str) -> Any:
        """The text of a file inside the module folder (never outside it), or UNKNOWN."""
        if relative in self._file_cache:
            return self._file_cache[relative]
        result: Any = UNKNOWN
        root = os.path.realpath(self.directory)
        target = os.path.realpath(os.path.join(root, relative))
        if target.startswith(root + os.sep) and os.path.isfile(target):
            try:
                if os.path.getsize(target) <= MAX_READ_BYTES:
                    with open(target, encoding="utf-8") as fh:
                        result = fh.read()
            except (OSError, UnicodeDecodeError):
                result = UNKNOWN
        self._file_cache[relative] = result
        return result


if TYPE_CHECKING:
    from atlascan.analysis import FileContext


def folder_trees(
    ctx: FileContext, folder: str, rel_folder: str, suffixes: tuple[str, ...], *,
    skip: frozenset[str] = frozenset(), limit: int = 500, max_bytes: int = 1024 * 1024,
) -> list[ParsedFile]:
    """The parsed Terraform files of a folder outside the work unit (a module's siblings, a
    local child module), read through the parse stage; a file that cannot be read or parsed
    is left out silently: it is context, nobody asked to scan it."""
    try:
        names = sorted(os.listdir(folder))[:limit]
    except OSError:
        return []
    out: list[ParsedFile] = []
    for name in names:
        if name in skip or not name.endswith(suffixes):
            continue
        path = os.path.join(folder, name)
        try:
            size = os.path.getsize(path)
            if not os.path.isfile(path) or size > max_bytes:
                continue
            rel = f"{rel_folder}/{name}" if rel_folder not in ("", ".") else name
            out.append(ctx.document(SourceFile(rel, path, "terraform", size)).tree)
        except (OSError, ParseError, SkipFile):
            continue
    return out
