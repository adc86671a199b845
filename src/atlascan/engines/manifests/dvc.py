"""DVC: the committed `.dvc/config` (configobj INI: `['remote "name"']` sections with
`key = value` options) and the YAML `*.dvc` / `dvc.yaml` files whose dependencies may be URLs.
Stage commands go to the command-line rules."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from atlascan.engines.manifests import common
from atlascan.engines.manifests.nodes import emit, get, items, text
from atlascan.model import Span
from atlascan.parsers.yaml import Mapping, Scalar, YNode

if TYPE_CHECKING:
    from atlascan.analysis import FileContext

SECTION = re.compile(r"""^\s*\[\s*['"]?\s*(?P<name>[^\]'"]+?(?:\s+"[^"]*")?)\s*['"]?\s*\]\s*$""")
OPTION = re.compile(r"^(?P<indent>\s*)(?P<key>[A-Za-z_][\w.\-]*)\s*=\s*(?P<value>.*?)\s*$")
CREDENTIAL_OPTIONS = frozenset({
    "access_key_id", "secret_access_key", "session_token", "password", "account_key", "sas_token",
    "connection_string", "client_secret", "gdrive_client_secret", "key", "token", "oss_key_secret",
})  # fmt: skip
FALSE_VALUES = frozenset({"false", "0", "no", "off"})
URL_OPTIONS = ("url", "endpointurl")


def check_config(ctx: FileContext) -> None:
    """Line by line: a malformed line is skipped, never fatal (DVC itself would refuse it)."""
    section = ""
    for number, raw in enumerate(ctx.doc.lines, start=1):
        stripped = raw.strip()
        if not stripped or stripped.startswith(("#", ";")):
            continue
        header = SECTION.match(raw)
        if header:
            section = header.group("name").strip()
            continue
        option = OPTION.match(raw)
        if not option:
            continue
        key = option.group("key").lower()
        value = _unquote(option.group("value"))
        remote = _remote_name(section)
        if remote is None:
            continue
        line = Span(number, len(option.group("indent")) + 1, number, len(raw.rstrip()) + 1)
        if (
            key in CREDENTIAL_OPTIONS
            and value
            and not common.is_template(value)
            and common.literal_secret(value)
        ):
            # Deferring to the secrets rules is the dedupe step's (`defers_to`).
            ctx.finding("ATS-DVC-001").at(line).args(remote=remote, option=key).secret(value).emit()
        elif key in ("ssl_verify", "use_ssl") and value.lower() in FALSE_VALUES:
            ctx.finding("ATS-DVC-002").at(line).args(remote=remote, option=key, value=value).emit()
        elif key in URL_OPTIONS and common.plain_http_url(value):
            ctx.finding("ATS-DVC-003").at(line).args(what=f"Remote {remote} ({key})", url=value).emit()


def _remote_name(section: str) -> str | None:
    """`remote "storage"` -> `"storage"`; other sections (core, cache, machine) -> None."""
    m = re.match(r'remote\s+"(?P<name>[^"]*)"', section)
    return f'"{m.group("name")}"' if m else None


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


def check_yaml(root: YNode, ctx: FileContext) -> None:
    """`deps` of a `.dvc` file (written by `dvc import-url`) or of the stages of `dvc.yaml`."""
    if not isinstance(root, Mapping):
        return
    dep_lists = [root.get("deps")]
    stages = root.get("stages")
    if isinstance(stages, Mapping):
        dep_lists.extend(get(stage, "deps") for _, _, stage in stages.entries())
    for deps in dep_lists:
        for dep in items(deps):
            node = dep.get("path") if isinstance(dep, Mapping) else dep
            if isinstance(node, Scalar) and common.plain_http_url(node.value):
                emit(ctx, "ATS-DVC-003", node, args={"what": "Dependency", "url": text(node) or ""})
