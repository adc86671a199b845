"""Command lines of a Dockerfile: RUN (shell form, exec form, heredoc scripts), CMD and
ENTRYPOINT (combined when both are exec form, as Docker runs them), ENV and ARG
assignments (they set `PIP_EXTRA_INDEX_URL`, `GRADIO_SERVER_NAME`, ...) and ADD (a download
when its source is a URL). Each keeps positions through the parser's offset anchors."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from atlascan.parsers.commandlines import CommandText
from atlascan.parsers.commandlines.configfiles import _TRAITLET, _literal
from atlascan.parsers.dockerfile import Dockerfile, Instruction, Word

if TYPE_CHECKING:
    from atlascan.document import Document

# `RUN echo "c.NotebookApp.token = ''" >> ~/.jupyter/jupyter_notebook_config.py`: a setting
# the image's Jupyter reads at start (Azure MachineLearningNotebooks' Dockerfiles).
_CONFIG_ECHO = re.compile(
    r"""(?:echo|printf)\s+(?:-[en]+\s+)?(?:"(?P<dq>[^"]*)"|'(?P<sq>[^']*)')\s*>>?\s*\S*jupyter_(?:notebook|server|lab)_config\.py"""
)
# Where a written setting travels in the stage's environment: `--NotebookApp.token` is no
# environment variable name, so it cannot collide with one.
CONFIG_PREFIX = "--"

SHELL_PROGRAMS = frozenset(
    {"sh", "bash", "dash", "zsh", "ash", "/bin/sh", "/bin/bash", "/usr/bin/env"}
)


def extract(doc: Document) -> Iterator[CommandText]:
    dockerfile: Dockerfile = doc.tree
    escape = dockerfile.escape
    env_by_stage: dict[int, dict[str, str]] = {}
    for stage in dockerfile.stages:
        parent = next(
            (
                s
                for s in dockerfile.stages[: stage.index]
                if s.name and s.name == stage.resolved_image
            ),
            None,
        )
        env = dict(env_by_stage.get(parent.index, {})) if parent else {}
        env_by_stage[stage.index] = env
        last_cmd = _last(stage.instructions, "CMD")
        last_entry = _last(stage.instructions, "ENTRYPOINT")
        combined = (
            last_cmd is not None
            and last_entry is not None
            and bool(last_cmd.json_args)
            and bool(last_entry.json_args)
        )
        for instr in stage.instructions:
            kw = instr.keyword
            if kw in ("ENV", "ARG"):
                for name, value in instr.assignments(escape):
                    if value is None:
                        # `ARG NAME` in a stage takes the default of a global `ARG NAME=x`
                        default = dockerfile.global_args.get(name.value) if kw == "ARG" else None
                        if default is not None and name.value not in env:
                            env[name.value] = default
                        continue
                    if kw == "ENV" or name.value not in env:  # an ENV wins over an ARG default
                        env[name.value] = value.value
                if any("=" in w.value for w in instr.words(escape)) or kw == "ENV":
                    ct = _assignment_text(instr, escape)
                    if ct is not None:
                        yield ct
            elif kw == "RUN":
                yield from _run(instr, dict(env))
                env.update(_jupyter_settings(instr.text))
            elif kw in ("CMD", "ENTRYPOINT"):
                if combined and instr in (last_cmd, last_entry):
                    if instr is last_entry:
                        continue
                    assert last_entry is not None and last_entry.json_args and instr.json_args
                    yield _argv_text(
                        [(last_entry, w) for w in last_entry.json_args]
                        + [(instr, w) for w in instr.json_args],
                        "dockerfile ENTRYPOINT+CMD",
                        dict(env),
                    )
                else:
                    yield _instruction_text(instr, f"dockerfile {kw}", dict(env))
            elif kw == "ADD":
                pairs = [(instr, w) for _, w in instr.flags] + [
                    (instr, w) for w in instr.words(escape)
                ]
                if pairs:
                    yield _argv_text(pairs, "dockerfile ADD", dict(env), first="ADD")


def _jupyter_settings(text: str) -> dict[str, str]:
    """Jupyter settings a RUN appends to the image's config file, keyed as their flags."""
    found: dict[str, str] = {}
    for m in _CONFIG_ECHO.finditer(text):
        setting = _TRAITLET.match(m.group("dq") if m.group("dq") is not None else m.group("sq"))
        if setting is None:
            continue
        value = _literal(setting.group("value"))
        if value is not None:
            found[f"{CONFIG_PREFIX}{setting.group('cls')}.{setting.group('key')}"] = value
    return found


def _last(instructions: list[Instruction], keyword: str) -> Instruction | None:
    found = None
    for instr in instructions:
        if instr.keyword == keyword:
            found = instr
    return found


def _assignment_text(instr: Instruction, escape: str) -> CommandText | None:
    """`NAME=value` words of ENV/ARG as shell assignments, each anchored where it is written."""
    parts: list[str] = []
    anchors: list[tuple[int, int, int]] = []
    offset = 0
    for name, value in instr.assignments(escape):
        if value is None:
            continue
        raw = value.raw
        legacy = "=" not in instr.text[name.start : value.start]
        if legacy and any(ch in raw for ch in " \t"):
            if "'" in raw:
                continue
            raw = f"'{raw}'"  # `ENV NAME a b` means NAME="a b"
        anchors.append((offset, *instr.position(name.start)))
        value_at = offset + len(name.value) + 1 + (1 if raw != value.raw else 0)
        anchors.append((value_at, *instr.position(value.start)))
        piece = f"{name.value}={raw}"
        parts.append(piece)
        offset += len(piece) + 1
    if not parts:
        return None
    return CommandText(" ".join(parts), f"dockerfile {instr.keyword}", tuple(anchors))


def _slice(instr: Instruction, start: int) -> CommandText:
    """The instruction text from `start` on, with anchors shifted to the slice."""
    anchors = [(0, *instr.position(start))]
    for off, line, col in instr.anchors:
        if off > start:
            anchors.append((off - start, line, col))
    return CommandText(instr.text[start:], "", tuple(anchors))


def _instruction_text(instr: Instruction, origin: str, env: dict[str, str]) -> CommandText:
    if instr.json_args is not None:
        return _argv_text([(instr, w) for w in instr.json_args], origin, env)
    sliced = _slice(instr, instr.body_start)
    return CommandText(sliced.text, origin, sliced.anchors, env=env)


def _run(instr: Instruction, env: dict[str, str]) -> Iterator[CommandText]:
    yield _instruction_text(instr, "dockerfile RUN", env)
    if not instr.heredocs:
        return
    # `RUN <<EOF`, `RUN bash <<EOF`, `RUN <<EOF bash -e`: the body is the shell script;
    # `RUN python3 <<EOF` feeds it to another interpreter, and that is not shell text.
    words = [w.value for w in instr.words() if not w.value.lstrip("0123456789").startswith("<<")]
    program = words[0] if words else ""
    if program and program not in SHELL_PROGRAMS:
        return
    for doc in instr.heredocs:
        yield CommandText.single(doc.body, "dockerfile RUN heredoc", doc.body_line, 1, env=env)


def _argv_text(
    pairs: list[tuple[Instruction, Word]], origin: str, env: dict[str, str], first: str = ""
) -> CommandText:
    argv: list[str] = []
    anchors: list[tuple[int, int, int]] = []
    offset = 0
    if first:
        owner = pairs[0][0]
        argv.append(first)
        anchors.append((0, owner.line, owner.column))
        offset = len(first) + 1
    for instr, word in pairs:
        anchors.append((offset, *instr.position(word.start)))
        argv.append(word.value)
        offset += len(word.value) + 1
    return CommandText(" ".join(argv), origin, tuple(anchors), argv=tuple(argv), env=env)
