"""Helpers the GitHub Actions and GitLab CI checks share: reporting at YAML nodes (or at an
offset inside a scalar), image digests and secret-looking names."""

from __future__ import annotations

import re
from collections.abc import Mapping as TMapping
from typing import TYPE_CHECKING, Any

from atlascan.parsers.yaml import Mapping, Scalar, Sequence, YNode, scalar_position

if TYPE_CHECKING:
    from atlascan.analysis import FileContext
    from atlascan.model import Severity

DIGEST = re.compile(r"@sha256:[0-9a-fA-F]{64}$")
# Names of variables that hold credentials (hadolint DL3064's stems plus ML platforms).
SECRET_NAME = re.compile(
    r"(?:^|_)(?:TOKEN|SECRET|PASSWORD|PASSWD|PASS|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|CLIENT_?SECRET|CREDENTIALS?|AUTH)(?:$|_)|"
    r"^(?:HF_TOKEN|HUGGING_FACE_HUB_TOKEN|WANDB_API_KEY|KAGGLE_KEY|NEPTUNE_API_TOKEN|DATABRICKS_TOKEN|NPM_TOKEN|PYPI_TOKEN|TWINE_PASSWORD)$",
    re.I,
)


def report_node(
    ctx: FileContext,
    rule_id: str,
    node: YNode,
    args: TMapping[str, Any] | None = None,
    severity: Severity | None = None,
) -> None:
    """A finding spanning a node when it sits on one line, else its first line."""
    end_line = node.end_line if isinstance(node, Scalar) and node.end_line == node.line else None
    end_col = node.end_column if end_line else None
    ctx.report(rule_id, node.line, node.column, end_line, end_col, args=args or {}, severity=severity)


def report_in_scalar(
    ctx: FileContext,
    rule_id: str,
    node: Scalar,
    start: int,
    end: int,
    args: TMapping[str, Any] | None = None,
    severity: Severity | None = None,
) -> None:
    """A finding on characters [start, end) of a scalar's value, mapped into the file."""
    lines = ctx.lines()
    line, col = scalar_position(node, start, lines)
    end_line, end_col = scalar_position(node, max(start, end - 1), lines)
    ctx.report(rule_id, line, col, end_line, end_col + 1, args=args or {}, severity=severity)


def image_of(node: YNode | None) -> Scalar | None:
    """The image scalar of `image: x` or `image: {name: x}` (GitLab) / `{image: x}` (GHA)."""
    if isinstance(node, Scalar):
        return node
    if isinstance(node, Mapping):
        for key in ("name", "image"):
            value = node.get(key)
            if isinstance(value, Scalar):
                return value
    return None


def image_unpinned(image: str) -> bool:
    """True for an image reference without a digest; expressions and variables are skipped
    (they are resolved elsewhere, often to a pinned value)."""
    value = image.strip()
    if not value or "${{" in value or value.startswith("$"):
        return False
    return not DIGEST.search(value)


def scalars(node: YNode | None) -> list[Scalar]:
    """A scalar or the scalars of a list, for keys that take either."""
    if isinstance(node, Scalar):
        return [node]
    if isinstance(node, Sequence):
        return [i for i in node.items if isinstance(i, Scalar)]
    return []


# Files that hold credentials (or the Hub token cache), and experiment-tracking stores.
SENSITIVE_PATH = re.compile(
    r"(?:^|(?<=[/\s~]))(?:\.cache/huggingface|\.huggingface|\.env(?:\.[\w-]+)?|\.netrc|\.git-credentials|\.pypirc|"
    r"kaggle\.json|\.aws/credentials|\.docker/config\.json|id_rsa|id_ed25519|[\w.-]*\.pem|[\w-]+\.key|mlruns|wandb)(?=$|[/\s*])",
    re.M,
)


def sensitive_paths(text: str) -> list[tuple[int, int]]:
    """[start, end) of each credential-store path in an upload/artifact path list;
    `!pattern` lines (exclusions) do not count."""
    out = []
    for m in SENSITIVE_PATH.finditer(text):
        line_start = text.rfind("\n", 0, m.start()) + 1
        if text[line_start : m.start()].lstrip().startswith("!"):
            continue
        out.append((m.start(), m.end()))
    return out
