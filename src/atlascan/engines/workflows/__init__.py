"""CI pipeline analyzer: GitHub Actions workflows and actions, GitLab CI.

Each file is parsed once by the shared YAML layer (`atlascan.parsers.yaml`); the GitHub
checks live in `github`, the GitLab checks in `gitlab` (over the job model of
`atlascan.parsers.gitlab`, `extends:` resolved, a Document view). Command-line concepts
inside `run:` and `script:` (curl | sh, pip extra indexes, model downloads) are the
`commands` engine's, fed by `atlascan.parsers.commandlines.yaml_kinds`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from atlascan.engines import Engine

if TYPE_CHECKING:
    from atlascan.analysis import FileContext
    from atlascan.model import SourceFile


class WorkflowsEngine(Engine):
    name = "workflows"
    implements = frozenset({
        "ATS-GHA-001", "ATS-GHA-002", "ATS-GHA-003", "ATS-GHA-004", "ATS-GHA-005", "ATS-GHA-006",
        "ATS-GHA-007", "ATS-GHA-008", "ATS-GHA-009", "ATS-GHA-010", "ATS-GHA-011",
        "ATS-GHA-012", "ATS-GHA-013", "ATS-GHA-014", "ATS-GHA-015", "ATS-GHA-016",
        "ATS-GL-001", "ATS-GL-002", "ATS-GL-003", "ATS-GL-004", "ATS-GL-005", "ATS-GL-006", "ATS-GL-007", "ATS-GL-008",
    })  # fmt: skip

    def check_file(self, file: SourceFile, ctx: FileContext) -> None:
        if file.kind in ("gha-workflow", "gha-action"):
            from atlascan.engines.workflows import github
            from atlascan.parsers.yaml import Mapping

            for root in ctx.doc.tree.roots():
                if isinstance(root, Mapping):
                    github.check(root, file.kind == "gha-action", ctx)
        elif file.kind == "gitlab-ci":
            from atlascan.engines.workflows import gitlab
            from atlascan.parsers.gitlab import jobs

            for model in ctx.doc.view(jobs):
                gitlab.check(model, ctx)
