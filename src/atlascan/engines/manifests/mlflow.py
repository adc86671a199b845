"""MLflow project files: the `docker_env` image of an `MLproject`, and the dependencies of
the `python_env.yaml` it names. Entry-point commands go to the command-line rules."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from atlascan.engines.manifests import common
from atlascan.engines.manifests.nodes import emit, get, items, text
from atlascan.parsers.yaml import Mapping, Scalar, YNode

if TYPE_CHECKING:
    from atlascan.analysis import FileContext

# `name==1.2`, `name===1.2`, `name @ https://…`, a wheel or archive, a VCS URL: pinned or a
# direct reference. Options (`-r`, `-c`, `--index-url`) are the requirements rules' business.
PINNED = re.compile(
    r"===?\s*[\w.*+!-]+\s*(?:;.*)?$|\s@\s|^(?:git|hg|svn|bzr)\+|\.(?:whl|tar\.gz|zip)\b|^(?:https?|file)://"
)
ENV_FIELDS = ("build_dependencies", "dependencies")


def check_mlproject(root: YNode, ctx: FileContext) -> None:
    image = get(root, "docker_env", "image")
    if not isinstance(image, Scalar) or common.is_template(image.value):
        return
    ref = common.unpinned_image(image.value)
    if ref:
        emit(ctx, "ATS-MLF-001", image, args={"image": image.value.strip(), "ref": ref})


def is_python_env(path: str, root: YNode | None) -> bool:
    name = path.rsplit("/", 1)[-1].lower()
    return "python_env" in name and isinstance(root, Mapping) and any(f in root for f in ENV_FIELDS)


def check_python_env(root: Mapping, ctx: FileContext) -> None:
    for field in ENV_FIELDS:
        for item in items(root.get(field)):
            requirement = (text(item) or "").strip()
            if not requirement or requirement.startswith("-") or common.is_template(requirement):
                continue
            if not PINNED.search(requirement):
                emit(ctx, "ATS-MLF-002", item, args={"requirement": requirement, "field": field})
