"""The `manifests` engine: Kubernetes and ML-serving manifests (kind `yaml`, and the pod
specs of Terraform's Kubernetes provider), docker-compose
files, MLflow projects and DVC files. Each kind has its own module; this one picks the module,
skips files that cannot match, and parses each YAML file once through the shared parser."""

from __future__ import annotations

import dataclasses
import re
from typing import TYPE_CHECKING

from atlascan.engines import Engine

if TYPE_CHECKING:
    from atlascan.analysis import FileContext, PrepareContext
    from atlascan.engines.manifests.crossfile import Facts
    from atlascan.model import SourceFile
    from atlascan.parsers.yaml import YamlFile, YNode

# A `yaml` file is worth parsing only if it can be a Kubernetes object, a KFP pipeline IR or
# an MLflow python_env; most YAML in a repository is neither.
MANIFEST_HINT = re.compile(r"^\s*(?:apiVersion|pipelineInfo)\s*:", re.M)


class ManifestsEngine(Engine):
    name = "manifests"
    implements = frozenset({
        "ATS-K8S-001", "ATS-K8S-002", "ATS-K8S-003", "ATS-K8S-004", "ATS-K8S-005", "ATS-K8S-006",
        "ATS-K8S-007", "ATS-K8S-008", "ATS-K8S-009", "ATS-K8S-010", "ATS-K8S-011", "ATS-K8S-012",
        "ATS-K8S-013", "ATS-K8S-014", "ATS-K8S-015", "ATS-K8S-016", "ATS-K8S-017", "ATS-K8S-018",
        "ATS-K8S-019", "ATS-K8S-020",
        "ATS-CMP-001", "ATS-CMP-002", "ATS-CMP-003", "ATS-CMP-004", "ATS-CMP-005",
        "ATS-MLF-001", "ATS-MLF-002",
        "ATS-DVC-001", "ATS-DVC-002", "ATS-DVC-003",
    })  # fmt: skip

    def prepare(self, files: list[SourceFile], ctx: PrepareContext) -> Facts:
        """Image names kustomizations rewrite, with the paths they include (the pin is judged
        there), the Roles a DaemonSet's service account holds, the service accounts bindings
        name and workloads run as, whether tags are the repository's practice, and what
        compose services run (`crossfile.Facts`)."""
        from atlascan.engines.manifests import crossfile, kustomize

        pins = ctx.enabled("ATS-K8S-008")
        rbac = any(ctx.enabled(r) for r in ("ATS-K8S-014", "ATS-K8S-017", "ATS-K8S-018"))
        facts = crossfile.survey(files, roles=rbac, images=pins or ctx.enabled("ATS-CMP-005"), accounts=ctx.enabled("ATS-K8S-016"))
        commands = crossfile.service_commands(ctx.scanned or files) if ctx.enabled("ATS-CMP-001") else {}
        return dataclasses.replace(facts, images=kustomize.rewritten_images(files) if pins else {}, service_commands=commands)

    def check_file(self, file: SourceFile, ctx: FileContext) -> None:
        kind = file.kind
        if kind == "terraform":  # Kubernetes provider pod specs (engines/podspec.py)
            from atlascan.engines import podspec

            podspec.check_terraform(ctx)
            return
        if kind == "dvc" and file.path.endswith("config") and not file.path.endswith(".dvc"):
            from atlascan.engines.manifests import dvc

            dvc.check_config(ctx)
            return
        text = ctx.doc.text
        python_env = kind == "yaml" and "python_env" in file.path.rsplit("/", 1)[-1].lower()
        if kind == "yaml" and not python_env and not MANIFEST_HINT.search(text):
            from atlascan.engines.manifests.kustomize import is_kustomization

            if not is_kustomization(file.path):
                return
        if not text.strip():
            return

        parsed = ctx.doc.tree
        if kind == "yaml":
            self._yaml(parsed, file, ctx, python_env)
            return
        check = _KIND_CHECKS.get(kind)
        if check is None:
            return
        for root in parsed.roots():
            check(root, ctx)

    def _yaml(self, parsed: YamlFile, file: SourceFile, ctx: FileContext, python_env: bool) -> None:
        from atlascan.engines.manifests import kubernetes, kustomize, mlflow
        from atlascan.parsers.yaml import Mapping

        if kustomize.is_kustomization(file.path):
            for root in parsed.roots():
                kustomize.check(root, ctx)
            return
        for root in parsed.roots():
            if python_env and isinstance(root, Mapping) and mlflow.is_python_env(file.path, root):
                mlflow.check_python_env(root, ctx)
            elif isinstance(root, Mapping) and kubernetes.is_manifest(root):
                kubernetes.check_document(root, ctx)


def _compose(root: YNode, ctx: FileContext) -> None:
    from atlascan.engines.manifests import compose

    compose.check_document(root, ctx)


def _mlproject(root: YNode, ctx: FileContext) -> None:
    from atlascan.engines.manifests import mlflow

    mlflow.check_mlproject(root, ctx)


def _dvc_yaml(root: YNode, ctx: FileContext) -> None:
    from atlascan.engines.manifests import dvc

    dvc.check_yaml(root, ctx)


_KIND_CHECKS = {"compose": _compose, "mlproject": _mlproject, "dvc": _dvc_yaml}
