"""The rule registry: which engine implements which rule, checked against the catalog.

An engine declares the rule ids its code reports (`Engine.implements`) and the matcher tables
it interprets (`Engine.tables`: a rule carrying `[[match.patterns]]` rows is implemented by
the engine that reads `patterns`), and may check a rule's rows itself (`Engine.validate`,
e.g. unknown sink condition names). `problems(rules)` lists every mismatch; loading the
catalog from TOML fails on any, so a rule with no implementation or an implementation of
an unknown id never ships.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from atlascan.rules import Rule


def problems(rules: Mapping[str, Rule]) -> list[str]:
    from atlascan.engines import ENGINES, load_engine

    out: list[str] = []
    declared: dict[str, str] = {}
    for name in ENGINES:
        try:
            engine = load_engine(name)
        except ImportError:  # an optional dependency; its rules are checked where it exists
            continue
        for rid in engine.implements:
            declared[rid] = name
            if rid not in rules:
                out.append(f"engine {name!r} implements {rid}, which no rule file defines")
        for rule in rules.values():
            if rule.engine == name:
                out += [f"{rule.source}: {p}" for p in engine.validate(rule)]
    for rule in rules.values():
        if rule.status == "deprecated":
            continue
        try:
            engine = load_engine(rule.engine)
        except (ImportError, KeyError):
            continue  # validate_rule reports unknown engines
        by_code = declared.get(rule.id) == rule.engine
        by_data = any(rule.match.get(table) for table in engine.tables)
        if not by_code and not by_data:
            out.append(f"{rule.source}: no implementation in engine {rule.engine!r} (declare it in its `implements` or give it matcher rows)")
    return out
