"""Local module calls instantiated with their inputs.

A `module "x" { source = "./modules/y" ... }` block whose source is a folder is read as
the child module with the caller's arguments as its variables (resolved in the caller). The
table rules (`[[match.conditions]]`) run over that instance; a violation whose value comes
from an input is reported at the caller's line that sets it, with the child's attribute as a
related location. Violations that do not come from an input are the child folder's own
findings (it is scanned as a module of its own) and are not repeated here. A module from a
registry, git or an archive is not fetched: a note says its resources were not checked with
these inputs.
"""

from __future__ import annotations

import os
import posixpath
from typing import TYPE_CHECKING, Any

from atlascan.engines.terraform.conditions import Condition, check_conditions
from atlascan.engines.terraform.module import Module, folder_trees
from atlascan.model import SourceFile
from atlascan.parsers.terraform.syntax import Attribute, Block, ParsedFile, Ref, Template

if TYPE_CHECKING:
    from atlascan.analysis import GroupContext
    from atlascan.model import Span

META_ARGUMENTS = frozenset({"source", "version", "count", "for_each", "providers", "depends_on"})
MAX_CHILD_FILES = 200
MAX_CHILD_BYTES = 1024 * 1024


def check_module_calls(module: Module, scanned: list[ParsedFile], ctx: GroupContext, conditions: tuple[Condition, ...]) -> None:
    for parsed in scanned:
        for block in parsed.blocks:
            if block.type == "module" and block.labels and "source" in block.attributes:
                _call(module, block, ctx, conditions)


def _call(module: Module, call: Block, ctx: GroupContext, conditions: tuple[Condition, ...]) -> None:
    source = module.resolve(call.attributes["source"].value)
    if not isinstance(source, str):
        return
    name = call.labels[0]
    if not source.startswith(("./", "../")):
        ctx.notice(
            f"Module `{name}` comes from `{source}`, which atlascan does not fetch: its resources are not checked with the inputs given here.",
            "note",
            call.line,
            file=call.file,
        )
        return
    caller_rel = posixpath.dirname(call.file.path)
    child_rel = posixpath.normpath(posixpath.join(caller_rel, source)) if caller_rel else posixpath.normpath(source)
    child_dir = os.path.normpath(os.path.join(os.path.dirname(call.file.abspath), source))
    if child_rel.startswith("..") or not os.path.isdir(child_dir) or not conditions:
        return
    files = folder_trees(ctx, child_dir, child_rel, (".tf", ".tf.json"), limit=MAX_CHILD_FILES, max_bytes=MAX_CHILD_BYTES)
    if not files:
        return
    inputs = {k: a for k, a in call.attributes.items() if k not in META_ARGUMENTS}
    child = Module(child_dir, files, {k: module.resolve(a.value) for k, a in inputs.items()})
    check_conditions(child, _Relocate(ctx, call, inputs, child), conditions)  # type: ignore[arg-type]


def _input_name(value: Any) -> str | None:
    """`var.x` (or `"${var.x}"`) -> "x"."""
    if isinstance(value, Template) and len(value.parts) == 1:
        value = value.parts[0]
    if isinstance(value, Ref) and len(value.parts) == 2 and value.parts[0] == "var" and isinstance(value.parts[1], str):
        return value.parts[1]
    return None


def _attribute_at(block: Block, line: int, column: int | None) -> Attribute | None:
    todo = [block]
    while todo:
        current = todo.pop()
        for attr in current.attributes.values():
            if attr.line == line and (column is None or attr.column == column):
                return attr
        todo.extend(current.blocks)
    return None


class _Relocate:
    """Stands in for the group context while the table rules run over a module instance:
    each finding moves to the caller's argument its value came from, or is dropped."""

    def __init__(self, ctx: GroupContext, call: Block, inputs: dict[str, Attribute], child: Module) -> None:
        self.ctx, self.call, self.inputs, self.child = ctx, call, inputs, child

    def finding(self, rule_id: str, *, file: SourceFile | None = None) -> _Pending:
        return _Pending(self, rule_id, file)


class _Pending:
    def __init__(self, owner: _Relocate, rule_id: str, file: SourceFile | None) -> None:
        self.owner, self.rule_id, self.file = owner, rule_id, file
        self.span: Span | None = None
        self.values: dict[str, Any] = {}
        self._severity: Any = None
        self._precision: Any = None

    def at(self, span: Span) -> _Pending:
        self.span = span
        return self

    def args(self, **values: Any) -> _Pending:
        self.values = values
        return self

    def severity(self, severity: Any) -> _Pending:
        self._severity = severity
        return self

    def precision(self, precision: Any) -> _Pending:
        self._precision = precision
        return self

    def emit(self) -> None:
        owner, span = self.owner, self.span
        if span is None or self.file is None:
            return
        address = str(self.values.get("address", ""))
        block = owner.child.resources.get(address)
        attr = _attribute_at(block, span.start_line, span.start_column) if block is not None else None
        name = _input_name(attr.value) if attr is not None else None
        given = owner.inputs.get(name) if name else None
        if attr is None or given is None:
            return  # not from an input: the child folder's own scan reports it
        call = owner.call
        (
            owner.ctx.finding(self.rule_id, file=call.file)
            .at(given.span)
            .args(**{**self.values, "address": f"module.{call.labels[0]}.{address}"})
            .severity(self._severity)
            .precision(self._precision)
            .related(attr.span, f"`{address}` in the module uses `var.{name}` here", path=self.file.path)
            .emit()
        )
