"""Helpers the GitHub Actions and GitLab CI checks share: the place of a match inside a
scalar, image references and credential-store paths."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from atlascan.model import Span
from atlascan.parsers.yaml import Mapping, Scalar, Sequence, YNode, scalar_position
from atlascan.vocabulary import IMAGE_DIGEST, placeholder_image

if TYPE_CHECKING:
    from atlascan.analysis import FileContext

def in_scalar(ctx: FileContext, node: Scalar, start: int, end: int) -> Span:
    """Where characters [start, end) of a scalar's value are in the file (block and
    multi-line scalars included)."""
    lines = ctx.doc.lines
    line, column = scalar_position(node, start, lines)
    end_line, end_column = scalar_position(node, max(start, end - 1), lines)
    return Span(line, column, end_line, end_column + 1)


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
    (they are resolved elsewhere, often to a pinned value), and so are placeholders."""
    value = image.strip()
    if not value or "${{" in value or value.startswith("$") or placeholder_image(value):
        return False
    return not IMAGE_DIGEST.search(value)


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
