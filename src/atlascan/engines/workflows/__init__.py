"""CI pipeline analyzer: GitHub Actions workflows and actions, GitLab CI.

Each file is parsed once by the shared YAML layer (`atlascan.parsers.yaml`); the GitHub
checks live in `github`, the GitLab checks in `gitlab` (with the job model, `extends:`
resolved, in `gitlab_jobs`). Command-line concepts inside `run:` and `script:` (curl | sh,
pip extra indexes, model downloads) are the `commands` engine's, fed by
`atlascan.commandlines.yaml_kinds`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from atlascan.engines import Engine

if TYPE_CHECKING:
    from atlascan.analysis import FileContext
    from atlascan.model import SourceFile


class WorkflowsEngine(Engine):
    name = "workflows"

    def check_file(self, file: SourceFile, ctx: FileContext) -> None:
        from atlascan.parsers import yaml as y

        doc = ctx.doc.tree
        if file.kind in ("gha-workflow", "gha-action"):
            from atlascan.engines.workflows import github

            for root in doc.roots():
                if isinstance(root, y.Mapping):
                    github.check(root, file.kind == "gha-action", ctx)
        elif file.kind == "gitlab-ci":
            from atlascan.engines.workflows import gitlab

            for root in doc.roots():
                if isinstance(root, y.Mapping):
                    gitlab.check(root, ctx)
