"""kustomize rewrites images: a base manifest's `image: kuberay/operator` is only a name that
a kustomization's `images:` entry retags (`newTag: nightly`) or pins (`digest:`). The pin to
judge is in the kustomization, so that is where ATS-K8S-008 speaks, and the base's image is
left alone when a kustomization that includes it (its folder, or a `resources` path
followed through other kustomizations) rewrites it."""

from __future__ import annotations

import posixpath
import re
from typing import TYPE_CHECKING

from atlascan.engines.manifests import common, crossfile
from atlascan.engines.manifests.nodes import emit, entries, get, items, text
from atlascan.parsers.yaml import Mapping, Sequence

if TYPE_CHECKING:
    from atlascan.analysis import FileContext
    from atlascan.model import SourceFile
    from atlascan.parsers.yaml import YNode

KUSTOMIZATION = re.compile(r"(?:^|/)kustomization\.ya?ml$", re.I)


def is_kustomization(path: str) -> bool:
    return bool(KUSTOMIZATION.search(path))


def rewritten_images(files: list[SourceFile]) -> dict[str, tuple[str, ...]]:
    """Image name -> the folders and files whose manifests a kustomization rewrites it in
    (read in `prepare`): the kustomization's own folder and what its `resources`, `bases`
    and `components` name, followed through the kustomizations found there."""
    from atlascan import parsers
    from atlascan.model import Limits, ParseError, SkipFile

    def roots(file: SourceFile) -> list[YNode]:
        try:
            return list(parsers.read(file, Limits()).tree.roots())
        except (OSError, ParseError, SkipFile, RecursionError):
            return []

    images: dict[str, list[str]] = {}  # kustomization folder -> image names
    refs: dict[str, list[str]] = {}  # kustomization folder -> folders and files it includes
    charts = {posixpath.dirname(f.path) for f in files if posixpath.basename(f.path) == "Chart.yaml"}
    for file in files:
        if posixpath.basename(file.path) == "values.yaml" and posixpath.dirname(file.path) in charts:
            # A chart sets the images of the manifests it ships in `files/` from its values.
            folder = posixpath.dirname(file.path)
            for root in roots(file):
                images.setdefault(folder + "/files", []).extend(_values_images(root))
            continue
        if not is_kustomization(file.path):
            continue
        folder = posixpath.dirname(file.path)
        for root in roots(file):
            for entry in items(get(root, "images")):
                for key in ("name", "newName"):
                    value = text(get(entry, key))
                    if value:
                        images.setdefault(folder, []).append(value.strip())
            for key in ("resources", "bases", "components"):
                for ref in items(get(root, key)):
                    value = (text(ref) or "").strip()
                    if value and "://" not in value and not value.startswith(("github.com/", "git@")):
                        refs.setdefault(folder, []).append(posixpath.normpath(posixpath.join(folder, value)))

    def covered(folder: str, seen: set[str]) -> set[str]:
        if folder in seen or len(seen) > 64:
            return set()
        seen.add(folder)
        out = {folder}
        for ref in refs.get(folder, ()):
            out.add(ref)
            if ref in refs or ref in images:
                out |= covered(ref, seen)
        return out

    scoped: dict[str, set[str]] = {}
    for folder, names in images.items():
        where = covered(folder, set())
        for name in names:
            scoped.setdefault(name, set()).update(where)
    return {name: tuple(sorted(where)) for name, where in scoped.items()}


def _values_images(node: YNode | None, depth: int = 0) -> list[str]:
    """Image names a chart's values set (`image: kserve/storage-initializer`, `repository:`)."""
    out: list[str] = []
    if depth > 12:
        return out
    if isinstance(node, Mapping):
        for key, _, value in entries(node):
            if key.lower().endswith(("image", "repository")) and text(value):
                out.append(image_name(text(value) or ""))
            else:
                out.extend(_values_images(value, depth + 1))
    elif isinstance(node, Sequence):
        for item in node.items:
            out.extend(_values_images(item, depth + 1))
    return out


def rewrites(facts: object, image: str, path: str) -> bool:
    """Whether a kustomization that includes `path` rewrites `image` (facts of `prepare`)."""
    if not isinstance(facts, crossfile.Facts):
        return False
    for where in facts.images.get(image_name(image), ()):
        if where in (".", "") or path == where or path.startswith(where + "/"):
            return True
    return False


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
            emit(
                ctx, "ATS-K8S-008", entry.key_node("newTag"), tag,
                args={"image": image, "ref": ref}, properties=crossfile.pin_properties(ctx.facts, ref),
            )  # fmt: skip
