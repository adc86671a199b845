"""Literal strings a regex cannot match without: `(?:AKIA|ASIA)[A-Z2-7]{16}` needs `AKIA` or
`ASIA`. A substring search for them (C speed) finds the few places worth running the regex
at; a regex whose every match needs no literal (`[0-9a-f]{40}`) gives None and is run as is.

Read from the regex's parse tree, so it holds for any pattern a rule file writes: each
sequence offers its runs of fixed text (small alternations multiplied out) and the required
literals of its mandatory parts, and the most selective of these is kept.
"""

from __future__ import annotations

import re
import sys
from functools import cache
from typing import Any

if sys.version_info >= (3, 11):
    from re import _constants as C
    from re import _parser as P
else:  # pragma: no cover - exercised on 3.10 only
    import sre_constants as C
    import sre_parse as P

_MAX_STRINGS = 64  # alternatives multiplied out beyond this are not worth a substring pass
_ZERO_WIDTH = (C.AT, C.ASSERT, C.ASSERT_NOT)


@cache
def required_literals(pattern: str, flags: int = 0) -> tuple[bool, tuple[str, ...]] | None:
    """(fold, literals): every match of `pattern` contains one of `literals`; with `fold` they
    are lowercase and must be looked for in the lowercased text. None when no such set is
    known (or an empty string would be one of them)."""
    try:
        tree = P.parse(pattern, flags)
    except (re.error, RecursionError):
        return None
    fold = bool(tree.state.flags & re.IGNORECASE)
    state = {"fold": fold}
    found = _required(tree.data, state)
    if not found or "" in found or not all(s.isascii() for s in found):
        return None
    if state["fold"]:
        found = {s.lower() for s in found}
    return state["fold"], tuple(sorted(found))


def _score(strings: set[str]) -> tuple[int, int]:
    return min(len(s) for s in strings), -len(strings)


def _required(items: list[tuple[Any, Any]], state: dict[str, bool]) -> set[str] | None:
    best: set[str] | None = None

    def offer(candidate: set[str] | None) -> None:
        nonlocal best
        if candidate and "" not in candidate and (best is None or _score(candidate) > _score(best)):
            best = candidate

    run: set[str] = {""}  # the fixed text matched by the items since the last variable one
    for op, av in items:
        exact = _exact(op, av, state)
        if exact is not None:
            joined = _product(run, exact)
            if joined is None:
                offer(run)
                run = exact
            else:
                run = joined
            continue
        offer(run)
        run = {""}
        offer(_required_item(op, av, state))
    offer(run)
    return best


def _required_item(op: Any, av: Any, state: dict[str, bool]) -> set[str] | None:
    if op is C.SUBPATTERN:
        _note_flags(av[1], state)
        return _required(list(av[-1]), state)
    if op is C.BRANCH:
        union: set[str] = set()
        for alt in av[1]:
            sub = _required(list(alt), state)
            if not sub:
                return None
            union |= sub
        return union if len(union) <= _MAX_STRINGS else None
    if op in (C.MAX_REPEAT, C.MIN_REPEAT) and av[0] >= 1:
        return _required(list(av[2]), state)
    return None


def _exact(op: Any, av: Any, state: dict[str, bool]) -> set[str] | None:
    """The strings one item matches, when they are few and fixed (zero-width items match '')."""
    if op is C.LITERAL:
        return {chr(av)}
    if op in _ZERO_WIDTH:
        return {""}
    if op is C.IN:
        if all(o is C.LITERAL for o, _ in av):
            return {chr(a) for _, a in av}
        return None
    if op is C.SUBPATTERN:
        _note_flags(av[1], state)
        return _exact_seq(list(av[-1]), state)
    if op is C.BRANCH:
        union: set[str] = set()
        for alt in av[1]:
            sub = _exact_seq(list(alt), state)
            if sub is None:
                return None
            union |= sub
        return union if len(union) <= _MAX_STRINGS else None
    if op in (C.MAX_REPEAT, C.MIN_REPEAT):
        lo, hi, sub_items = av
        if hi is C.MAXREPEAT or hi > 4:
            return None
        sub = _exact_seq(list(sub_items), state)
        if sub is None:
            return None
        result: set[str] = set()
        for count in range(lo, hi + 1):
            part: set[str] | None = {""}
            for _ in range(count):
                part = _product(part, sub) if part is not None else None
            if part is None:
                return None
            result |= part
        return result if len(result) <= _MAX_STRINGS else None
    return None


def _exact_seq(items: list[tuple[Any, Any]], state: dict[str, bool]) -> set[str] | None:
    result: set[str] | None = {""}
    for op, av in items:
        exact = _exact(op, av, state)
        if exact is None or result is None:
            return None
        result = _product(result, exact)
    return result


def _product(left: set[str], right: set[str]) -> set[str] | None:
    if len(left) * len(right) > _MAX_STRINGS:
        return None
    return {a + b for a in left for b in right}


def _note_flags(add_flags: int, state: dict[str, bool]) -> None:
    # A scoped (?i:...) anywhere makes the whole set case-folded: a lowercased search of the
    # lowercased text still finds every place a case-sensitive literal occurs.
    if add_flags & re.IGNORECASE:
        state["fold"] = True
