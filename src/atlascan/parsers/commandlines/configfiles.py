"""Server settings written in config files, turned into the command lines they stand for.

Jupyter reads `jupyter_server_config.py` (traitlets): `c.ServerApp.token = ''` is the same
setting as the flag `--ServerApp.token=''`. TorchServe reads `config.properties`, whose
keys are also accepted as `TS_<KEY>` environment settings. Rendering both as command text,
anchored to the line of each setting, lets the command-line concept rules judge them the
same way wherever they are written. The files are read as text; nothing is executed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from atlascan.parsers.commandlines import CommandText

if TYPE_CHECKING:
    from atlascan.document import Document

_TRAITLET = re.compile(
    r"^(?P<lead>\s*)c\.(?P<cls>ServerApp|NotebookApp|LabApp|IdentityProvider|PasswordIdentityProvider)"
    r"\.(?P<key>token|password|hashed_password|ip|allow_root)\s*=\s*(?P<value>[^#\n]*?)\s*(?:#.*)?$"
)
_PY_STRING = re.compile(r"""^[rRuU]?(?P<q>'|")(?P<body>[^'"\\]*)(?P=q)$""")
_PROPERTY = re.compile(r"^\s*(?P<key>[A-Za-z_][A-Za-z0-9_.]*)\s*[=:]\s*(?P<value>.*?)\s*$")
# TorchServe keys whose `TS_` spelling the command-line rules know.
_TORCHSERVE_KEYS = frozenset({"disable_token_authorization", "enable_model_api"})


def extract(doc: Document) -> Iterator[CommandText]:
    name = doc.path.rsplit("/", 1)[-1]
    if name == "config.properties":
        yield from _torchserve(doc.lines)
    elif name.endswith("_config.py"):
        yield from _jupyter(doc.lines)


def _jupyter(lines: list[str]) -> Iterator[CommandText]:
    text = "jupyter server"
    anchors: list[tuple[int, int, int]] = []
    for number, line in enumerate(lines, start=1):
        m = _TRAITLET.match(line)
        if not m:
            continue
        value = _literal(m.group("value"))
        if value is None:
            continue  # computed at run time (os.environ, a function call): not judged here
        name = f"--{m.group('cls')}.{m.group('key')}="  # `--` stands where `c.` does
        if not anchors:
            anchors.append((0, number, len(m.group("lead")) + 1))
        text += " "
        anchors.append((len(text), number, len(m.group("lead")) + 1))
        text += name
        # The value maps onto the literal: inside its quotes, or onto them when it is empty.
        string = _PY_STRING.match(m.group("value"))
        inner = string.start("body") if string and value != "''" else 0
        anchors.append((len(text), number, m.start("value") + inner + 1))
        text += value
    if anchors:
        yield CommandText(text, "jupyter config", tuple(anchors))


def _literal(value: str) -> str | None:
    """A Python literal as the shell word the flag would carry; None for anything computed."""
    m = _PY_STRING.match(value)
    if m:
        body = m.group("body")
        if body == "":
            return "''"
        # A value the shell would split or expand (a password hash) only has to read as set.
        return body if re.fullmatch(r"[\w.:*/\[\]-]+", body) else "set"
    if value in ("True", "False") or re.fullmatch(r"\d+", value):
        return value
    return None


def _torchserve(lines: list[str]) -> Iterator[CommandText]:
    parts: list[str] = []
    anchors: list[tuple[int, int, int]] = []
    offset = 0
    for number, line in enumerate(lines, start=1):
        if line.lstrip().startswith(("#", "!")):
            continue
        m = _PROPERTY.match(line)
        if not m or m.group("key") not in _TORCHSERVE_KEYS or not re.fullmatch(r"[\w.-]+", m.group("value")):
            continue
        setting = f"TS_{m.group('key').upper()}={m.group('value')}"
        # `TS_` has no counterpart in the file: both it and the key map to the key's column,
        # so the reported range covers exactly `key=value`.
        anchors.append((offset, number, m.start("key") + 1))
        anchors.append((offset + 3, number, m.start("key") + 1))
        parts.append(setting)
        offset += len(setting) + 1
    if parts:
        yield CommandText("\n".join(parts), "torchserve config.properties", tuple(anchors))
