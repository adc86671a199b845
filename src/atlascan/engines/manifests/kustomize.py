"""kustomize rewrites images: a base manifest's `image: kuberay/operator` is only a name that
a kustomization's `images:` entry retags (`newTag: nightly`) or pins (`digest:`). The pin to
judge is in the kustomization, so that is where ATS-K8S-008 speaks, and the base's image is
left alone when some kustomization of the scan rewrites it."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from atlascan.engines.manifests import common
from atlascan.engines.manifests.nodes import emit, get, items, text
from atlascan.parsers.yaml import Mapping

if TYPE_CHECKING:
    from atlascan.analysis import FileContext
    from atlascan.model import SourceFile
    from atlascan.parsers.yaml import YNode

KUSTOMIZATION = re.compile(r"(?:^|/)kustomization\.ya?ml$", re.I)


def is_kustomization(path: str) -> bool:
    return bool(KUSTOMIZATION.search(path))


def rewritten_images(files: list[SourceFile]) -> frozenset[str]:
    """The image names every kustomization of the scan rewrites (read in `prepare`)."""
    from atlascan import parsers
    from atlascan.model import Limits, ParseError, SkipFile

    names: set[str] = set()
    for file in files:
        if not is_kustomization(file.path):
            continue
        try:
            tree = parsers.read(file, Limits()).tree
        except (OSError, ParseError, SkipFile, RecursionError):
            continue
        for root in tree.roots():
            for entry in items(get(root, "images")):
                for key in ("name", "newName"):
                    value = text(get(entry, key))
                    if value:
                        names.add(value.strip())
    return frozenset(names)


def image_name(image: str) -> str:
    """`registry/org/name` without its tag or digest."""
    image = image.strip().split("@", 1)[0]
    head, _, last = image.rpartition("/")
    return f"{head}/{last.split(':', 1)[0]}" if head else last.split(":", 1)[0]


def check(root: YNode, ctx: FileContext) -> None:
    """ATS-K8S-008 at an `images:` entry that retags without a digest."""
    if not isinstance(root, Mapping):
        return
    for entry in items(get(root, "images")):
        if not isinstance(entry, Mapping) or entry.get("digest") is not None:
            continue
        tag = entry.get("newTag")
        name = text(get(entry, "newName")) or text(get(entry, "name"))
        if tag is None or not name or common.is_template(text(tag) or ""):
            continue
        image = f"{name.strip()}:{(text(tag) or '').strip()}"
        ref = common.unpinned_image(image)
        if ref:
            emit(ctx, "ATS-K8S-008", entry.key_node("newTag"), tag, args={"image": image, "ref": ref})
