"""Read inline fixture annotations: a comment alone on its line that names rule ids for the
next line. `expect:` must be reported, `ok:` must stay silent, `todo-expect:` (missed today)
and `todo-ok:` (wrongly reported today) record known gaps and fail once behaviour changes."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

ANNOTATION = re.compile(
    r"^\s*(?:#|//|/\*|<!--|--|;)\s*(?P<kind>expect|ok|todo-expect|todo-ok):\s*(?P<ids>ATS-[A-Z0-9]+-\d{3}(?:\s*,\s*ATS-[A-Z0-9]+-\d{3})*)(?P<reason>.*)$"
)


@dataclass
class Annotations:
    expect: set[tuple[str, int]] = field(default_factory=set)
    ok: set[tuple[str, int]] = field(default_factory=set)
    todo_expect: set[tuple[str, int]] = field(default_factory=set)
    todo_ok: set[tuple[str, int]] = field(default_factory=set)
    ids: set[str] = field(default_factory=set)
    problems: list[str] = field(default_factory=list)


def _unwrap(line: str) -> str:
    stripped = line.strip().rstrip(",")
    if stripped.startswith('"') and stripped.endswith('"'):
        try:
            value = json.loads(stripped)
            if isinstance(value, str):
                return value
        except ValueError:
            pass
    return line


def read_annotations(path: Path) -> Annotations:
    out = Annotations()
    try:
        lines = path.read_text("utf-8").splitlines()
    except (UnicodeDecodeError, OSError):
        return out
    notebook = path.suffix == ".ipynb"
    for number, raw in enumerate(lines, start=1):
        text = _unwrap(raw) if notebook else raw
        m = ANNOTATION.match(text.rstrip("\n"))
        if not m:
            continue
        target = number + 1
        ids = [i.strip() for i in m.group("ids").split(",")]
        kind = m.group("kind")
        if kind.startswith("todo") and not m.group("reason").strip(" */->"):
            out.problems.append(f"{path.name}:{number}: {kind} needs a reason after the ids")
        bucket = {"expect": out.expect, "ok": out.ok, "todo-expect": out.todo_expect, "todo-ok": out.todo_ok}[kind]
        for rid in ids:
            bucket.add((rid, target))
            out.ids.add(rid)
    return out
