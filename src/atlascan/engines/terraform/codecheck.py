"""The shape of a Terraform check written in code (cross-resource logic)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from atlascan.analysis import GroupContext
from atlascan.engines.terraform.module import Module


@dataclass(frozen=True)
class CodeCheck:
    """The rules a check reports and the resource types it reads (also the module
    prefilter: a module whose text names none of them is not parsed)."""

    rule_ids: frozenset[str]
    types: tuple[str, ...]
    run: Callable[[Module, GroupContext], None]
