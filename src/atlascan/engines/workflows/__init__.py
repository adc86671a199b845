"""CI pipeline analyzer: GitHub Actions workflows and actions, GitLab CI.

Each file is parsed once by the shared YAML layer (`atlascan.parsers.yaml`); the GitHub
checks live in `github`, the GitLab checks in `gitlab` (over the job model of
`atlascan.parsers.gitlab`, `extends:` resolved, a Document view). Command-line concepts
inside `run:` and `script:` (curl | sh, pip extra indexes, model downloads) are the
`commands` engine's, fed by `atlascan.parsers.commandlines.yaml_kinds`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from atlascan.engines import Engine
from atlascan.vocabulary import COMMIT_SHA

if TYPE_CHECKING:
    from atlascan.analysis import FileContext, PrepareContext
    from atlascan.model import SourceFile

# GitHub's own publishers, whose actions a repository may choose to trust at a tag.
GITHUB_OWNED = ("actions/", "github/")
# `uses:` references of workflows and actions, for the share pinned by commit SHA.
USES_LINE = re.compile(r"^[ \t-]*uses:[ \t]*[\"']?([^\s\"'#]+)", re.M)
# A job container, service or `docker://` image pinned by digest, for ATS-GHA-005's practice.
DIGEST_IMAGE_LINE = re.compile(r"^[ \t-]*(?:image|container|uses):[ \t]*[\"']?(?:docker://)?[^\s\"'#]+@sha256:[0-9a-fA-F]{64}", re.M)
# A job that calls a reusable workflow, or a reusable workflow: the files ATS-GHA-003's call
# graph parses (`github.trusted_calls`).
CALL_GRAPH_HINT = re.compile(r"^[ \t]*uses:[ \t]*[\"']?[^\s\"'#]*\.github/workflows/|\bworkflow_call\b", re.M)


def remote_uses(text: str) -> Iterator[tuple[str, bool]]:
    """The remote `uses:` references of a workflow's or an action's text, each with whether
    a commit SHA pins it (a local path, a `docker://` image and an expression are not)."""
    for m in USES_LINE.finditer(text):
        ref = m.group(1)
        if ref.startswith(("./", "docker://")) or "${{" in ref:
            continue
        yield ref, bool(COMMIT_SHA.match(ref.rpartition("@")[2]))


@dataclass(frozen=True)
class Facts:
    """The prepare pass's result (`ctx.facts`), for ATS-GHA-004, 005 and 006."""

    sha_practice: bool  # at least half of the remote `uses:` references are commit SHAs
    repository: str | None = None  # the scanned GitHub repository, `owner/name` lower-case
    # GitHub's own actions (`actions/*`, `github/*`) are used and none is pinned by SHA
    github_tags: bool = False
    # tags are the practice for actions (there are some) and no CI image is pinned by digest
    image_tags: bool = False
    # reusable workflows (paths) that only people with push access start, through every
    # caller in the repository (ATS-GHA-003)
    trusted_calls: frozenset[str] = frozenset()
    # ... and those whose callers only such people start, whatever starts them on their own:
    # the tokens the callers hand them are maintainers' (ATS-GHA-003)
    trusted_callers: frozenset[str] = frozenset()

    @property
    def owner(self) -> str | None:
        """The GitHub owner of the scanned repository, lower-case."""
        return self.repository.split("/", 1)[0] if self.repository else None


def sha_practice(facts: object) -> bool | None:
    """Whether SHAs are the repository's practice; None when not surveyed."""
    return facts.sha_practice if isinstance(facts, Facts) else None


class WorkflowsEngine(Engine):
    name = "workflows"
    implements = frozenset({
        "ATS-GHA-001", "ATS-GHA-002", "ATS-GHA-003", "ATS-GHA-004", "ATS-GHA-005", "ATS-GHA-006",
        "ATS-GHA-007", "ATS-GHA-008", "ATS-GHA-009", "ATS-GHA-010", "ATS-GHA-011",
        "ATS-GHA-012", "ATS-GHA-013", "ATS-GHA-014", "ATS-GHA-015", "ATS-GHA-016",
        "ATS-GL-001", "ATS-GL-002", "ATS-GL-003", "ATS-GL-004", "ATS-GL-005", "ATS-GL-006", "ATS-GL-007", "ATS-GL-008",
    })  # fmt: skip

    def prepare(self, files: list[SourceFile], ctx: PrepareContext) -> Facts | None:
        """Whether pinning actions by commit SHA is the repository's practice: at least half
        of its remote `uses:` references are SHAs. Then every tag breaks the practice and
        ATS-GHA-004 reports it; otherwise tags are held back as the practice (see `github`).
        Whether GitHub's own actions are all at tags (then their tags are the practice). And
        which repository is scanned (`ctx.repository`): whose actions and workflows are its
        own. For ATS-GHA-005, whether image tags are the practice too: SHAs are not, and no
        job image is pinned by digest. For ATS-GHA-003, which reusable workflows only people
        with push access start (read from the workflows that call one or are one)."""
        if not any(ctx.enabled(rule) for rule in ("ATS-GHA-003", "ATS-GHA-004", "ATS-GHA-005", "ATS-GHA-006")):
            return None
        from atlascan import parsers
        from atlascan.engines.workflows import github
        from atlascan.model import Limits, ParseError, SkipFile
        from atlascan.parsers.yaml import Mapping

        total = pinned = owned = owned_pinned = digests = 0
        graph: dict[str, Mapping] = {}
        for file in files:
            if file.kind not in ("gha-workflow", "gha-action"):
                continue
            try:
                text = parsers.read_text(file, Limits())
            except (OSError, ParseError, SkipFile):
                continue
            if file.kind == "gha-workflow" and len(graph) < github.MAX_CALLER_FILES and CALL_GRAPH_HINT.search(text):
                try:
                    tree = next((t for t in parsers.document(file, text).tree.roots() if isinstance(t, Mapping)), None)
                except ParseError:
                    tree = None
                if tree is not None:
                    graph[file.path] = tree
            digests += bool(DIGEST_IMAGE_LINE.search(text))
            for ref, sha in remote_uses(text):
                total += 1
                pinned += sha
                if ref.lower().startswith(GITHUB_OWNED):
                    owned += 1
                    owned_pinned += sha
        practice = total > 0 and pinned * 2 >= total
        trusted = by_callers = frozenset[str]()
        if ctx.enabled("ATS-GHA-003"):
            trusted = github.trusted_calls(graph, ctx.all_paths, ctx.repository)
            by_callers = github.trusted_calls(graph, ctx.all_paths, ctx.repository, own=False)
        return Facts(
            sha_practice=practice,
            repository=ctx.repository,
            github_tags=owned > 0 and owned_pinned == 0,
            image_tags=total > 0 and not practice and not digests,
            trusted_calls=trusted,
            trusted_callers=by_callers,
        )

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
