"""The fixed table of analysis engines. A rule names its engine; only engines with enabled
rules for the kinds present are imported, so a scan of one YAML file never imports the
Terraform or Python parsers.

An engine subclasses `Engine` and overrides the hooks it needs:
- `check_file(file, ctx)`: analyze one file (`ctx.doc`: its Document), report through
  `ctx.finding(rule_id)...emit()` / `ctx.notice`;
- or, for cross-file logic, `group_key(file)` plus `check_group(files, ctx)` (e.g. all .tf
  files of one folder form a Terraform module);
- `prepare(files, ctx)`: optional cheap pass in the main process over every file the engine
  will see; what it returns reaches the checks as `ctx.facts` (must be picklable).
An engine that overrides `group_key` or `prepare` is listed in GROUPING or PREPARING: the
plan and the prepare step import no other engine, so a scan imports an engine only when it
checks a file (a warm re-scan, only for the files that changed), and PATH_GATES and
TEXT_GATES spare the import for files that cannot concern an engine.
Engines are stateless: per-scan data lives in the context and the findings.
"""

from __future__ import annotations

import importlib
import re
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from atlascan.analysis import FileContext, GroupContext, PrepareContext
    from atlascan.model import SourceFile
    from atlascan.rules import Rule

# name -> "module:Class". The only place engines are registered.
ENGINES: dict[str, str] = {
    "secrets": "atlascan.engines.secrets:SecretsEngine",
    "python": "atlascan.engines.python:PythonEngine",
    "terraform": "atlascan.engines.terraform:TerraformEngine",
    "dockerfile": "atlascan.engines.dockerfile:DockerfileEngine",
    "commands": "atlascan.engines.commands:CommandsEngine",
    "workflows": "atlascan.engines.workflows:WorkflowsEngine",
    "manifests": "atlascan.engines.manifests:ManifestsEngine",
    "artifacts": "atlascan.engines.artifacts:ArtifactsEngine",
    "dependencies": "atlascan.engines.dependencies:DependenciesEngine",
}


GROUPING = frozenset({"terraform"})
PREPARING = frozenset({"python", "manifests", "dockerfile", "secrets", "workflows", "commands"})

# When an engine has anything to say of a file of a kind: the path pattern it must match
# and words one of which its text must hold. The scan passes other files by without
# importing the engine (a one-file run on an ordinary Python module loads neither the
# dependency model nor the command-line parsers). Tests hold each row to the engine.
PATH_GATES: dict[tuple[str, str], str] = {
    ("commands", "python"): r"(?:^|/)jupyter_(?:notebook|server|lab)_config\.py$",
    ("commands", "text"): r"(?:^|/)config\.properties$",
}
TEXT_GATES: dict[tuple[str, str], tuple[str, ...]] = {
    # Kubeflow component declarations and setup.py
    ("dependencies", "python"): ("packages_to_install", "pip_index_urls", "setup("),
}


def passes_path_gate(name: str, file: SourceFile) -> bool:
    """Whether the engine `name` has anything to say of `file` by its path (`PATH_GATES`)."""
    path = PATH_GATES.get((name, file.kind))
    return path is None or re.search(path, file.path) is not None


class Engine:
    name: ClassVar[str] = ""
    # Rule ids this engine's code reports, and matcher tables (`rule.match[...]`) it reads:
    # the registry checks both against the catalog (atlascan.registry).
    implements: ClassVar[frozenset[str]] = frozenset()
    tables: ClassVar[frozenset[str]] = frozenset()

    def validate(self, rule: Rule) -> list[str]:
        """Problems with a rule's matcher rows only this engine can see (unknown names)."""
        return []

    def group_key(self, file: SourceFile) -> str | None:
        """Files with the same key are checked together; None checks the file alone."""
        return None

    def prepare(self, files: list[SourceFile], ctx: PrepareContext) -> Any:
        return None

    def check_file(self, file: SourceFile, ctx: FileContext) -> None:
        raise NotImplementedError

    def check_group(self, files: list[SourceFile], ctx: GroupContext) -> None:
        for file in files:
            self.check_file(file, ctx.for_file(file))


_loaded: dict[str, Engine] = {}


def load_engine(name: str) -> Engine:
    if name not in _loaded:
        module_name, _, cls_name = ENGINES[name].partition(":")
        module = importlib.import_module(module_name)
        _loaded[name] = getattr(module, cls_name)()
    return _loaded[name]
