"""Suggested edits for findings whose fix is mechanical, applied by `atlascan scan --fix`.

Edits are computed from `ast` positions (exact for the nodes involved: a keyword value, an
attribute name, the end of the last argument), so no concrete syntax tree is needed.
Findings that need judgement (`trust_remote_code`, `eval`) get no edit.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass

from atlascan.engines.python.conditions import keyword

PIN_PLACEHOLDER = '"<40-hex commit>"'


@dataclass(frozen=True)
class Edit:
    """Replace the text between two ast positions (1-based lines, 0-based UTF-8 columns)."""

    line: int
    col: int
    end_line: int
    end_col: int
    text: str


@dataclass(frozen=True)
class Fix:
    description: str
    edits: tuple[Edit, ...]


def _replace(node: ast.AST, text: str) -> Edit:
    return Edit(node.lineno, node.col_offset, node.end_lineno or node.lineno, node.end_col_offset or node.col_offset, text)  # type: ignore[attr-defined]


def _append_argument(call: ast.Call, text: str) -> Edit | None:
    """Insert `, text` after the call's last argument (or `text` into an empty call)."""
    last: ast.AST | None = None
    for node in (*call.args, *call.keywords):
        if last is None or (node.end_lineno or 0, node.end_col_offset or 0) > (last.end_lineno or 0, last.end_col_offset or 0):  # type: ignore[attr-defined]
            last = node
    if last is None:
        if call.end_lineno is None or call.end_col_offset is None:
            return None
        return Edit(call.end_lineno, call.end_col_offset - 1, call.end_lineno, call.end_col_offset - 1, text)
    end_line, end_col = last.end_lineno, last.end_col_offset  # type: ignore[attr-defined]
    return Edit(end_line, end_col, end_line, end_col, f", {text}")


def _set_keyword(call: ast.Call, name: str, value: str) -> Fix | None:
    kw = keyword(call, name)
    if kw is not None:
        return Fix(f"set `{name}={value}`", (_replace(kw.value, value),))
    edit = _append_argument(call, f"{name}={value}")
    return Fix(f"add `{name}={value}`", (edit,)) if edit else None


def _rename_attribute(call: ast.Call, new: str) -> Fix | None:
    func = call.func
    if not isinstance(func, ast.Attribute) or func.end_lineno is None or func.end_col_offset is None:
        return None
    start = func.end_col_offset - len(func.attr)
    edits = [Edit(func.end_lineno, start, func.end_lineno, func.end_col_offset, new)]
    loader = keyword(call, "Loader")
    if loader is not None:
        return None  # the Loader argument has to go too; leave it to a human
    return Fix(f"call `{new}`", tuple(edits))


def _weights_only(call: ast.Call) -> Fix | None:
    return _set_keyword(call, "weights_only", "True")


def _torch_load(call: ast.Call) -> Fix | None:
    return None if keyword(call, "pickle_module") is not None else _weights_only(call)


def _allow_pickle(call: ast.Call) -> Fix | None:
    return _set_keyword(call, "allow_pickle", "False") if keyword(call, "allow_pickle") else None


def _safe_load(call: ast.Call) -> Fix | None:
    attr = call.func.attr if isinstance(call.func, ast.Attribute) else ""
    return _rename_attribute(call, "safe_load_all" if attr.endswith("_all") else "safe_load")


def _unsafe_yaml_name(call: ast.Call) -> Fix | None:
    """`yaml.unsafe_load(s)` / `yaml.full_load(s)` (the latter reported before PyYAML 5.4)."""
    if isinstance(call.func, ast.Attribute) and call.func.attr in ("unsafe_load", "full_load"):
        return _safe_load(call)
    return None


def _pin_revision(call: ast.Call) -> Fix | None:
    return _set_keyword(call, "revision", PIN_PLACEHOLDER)


def _extract_filter(call: ast.Call) -> Fix | None:
    return _set_keyword(call, "filter", '"data"')


def _safe_mode(call: ast.Call) -> Fix | None:
    return _set_keyword(call, "safe_mode", "True") if keyword(call, "safe_mode") is not None else None


def _use_safetensors(call: ast.Call) -> Fix | None:
    return _set_keyword(call, "use_safetensors", "True") if keyword(call, "use_safetensors") is not None else None


# Condition name (conditions.CHECKS, a sink row's `check`) -> the edit for its findings.
FIXES: dict[str, Callable[[ast.Call], Fix | None]] = {
    "torch_load": _torch_load,
    "state_dict_from_url": _weights_only,
    "kw_truthy": _allow_pickle,
    "yaml_loader": _safe_load,
    "always": _unsafe_yaml_name,
    "old_full_load": _unsafe_yaml_name,
    "unpinned_revision": _pin_revision,
    "no_extract_filter": _extract_filter,
    "keras_load_model": _safe_mode,
    "forces_pickle_format": _use_safetensors,
}


def suggest(check: str, call: ast.Call | None) -> Fix | None:
    fix = FIXES.get(check)
    return fix(call) if fix is not None and call is not None else None
