"""Workflows engine: severity grading, exact regions, notices for bad YAML, speed."""

from __future__ import annotations

import time
from pathlib import Path

from atlascan.model import Severity
from atlascan.pathclass import UNPROVEN
from scanning import scan_path, scan_text, write_tree

WF = ".github/workflows/ci.yml"


def _findings(result, prefix: str = "ATS-G"):  # type: ignore[no-untyped-def]
    return sorted((f for f in result.findings if f.rule_id.startswith(prefix)), key=lambda f: f.sort_key())


def test_unpinned_uses_grading_and_region(tmp_path: Path) -> None:
    sha = "0123456789abcdef0123456789abcdef01234567"
    text = (
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - uses: actions/cache@v4\n"
        "      - uses: acme/train-action@v2\n"
        "      - uses: acme/train-action@main\n"
        "      - uses: acme/train-action\n"
    ) + "".join(f"      - uses: acme/step-{n}@{sha}\n" for n in range(4)) + f"      - uses: actions/setup-go@{sha}\n"
    found = _findings(scan_text(tmp_path, WF, text, select=["ATS-GHA-004"]))
    # SHAs are the practice here: every reference off it folds into one finding per file, led
    # by the most severe site (a branch), the others related.
    assert [(f.region.start_line, f.severity) for f in found] == [(8, Severity.HIGH)]
    assert [r.region.start_line for r in found[0].related] == [6, 7, 9]
    # the region covers the `@ref` part of the value
    assert (found[0].region.start_column, found[0].region.end_column) == (32, 37)


def test_github_actions_at_tags_are_the_practice_where_none_is_pinned(tmp_path: Path) -> None:
    """A repository that pins third-party actions by SHA and none of GitHub's own: their tags
    are its practice, held back; a third party's tag is still off the practice. Where one of
    GitHub's actions is pinned (kserve pins 422 of 425), a tag of another is reported."""
    sha = "0123456789abcdef0123456789abcdef01234567"
    text = (
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - uses: actions/checkout@v4\n"  # 6
        "      - uses: github/codeql-action/init@v3\n"  # 7
        "      - uses: acme/lint-action@v1\n"  # 8
    ) + "".join(f"      - uses: acme/step-{n}@{sha}\n" for n in range(4))
    result = scan_text(tmp_path, WF, text, select=["ATS-GHA-004"])
    assert [(f.region.start_line, [r.region.start_line for r in f.related]) for f in result.findings] == [(8, [])]
    assert [n.message for n in result.notices if "practice" in n.message] == [
        "ATS-GHA-004: 2 sites held back as the repository's practice (the repository pins none of GitHub's own "
        "actions (`actions/*`, `github/*`) by SHA); --include-practice reports them."
    ]
    pinned = text + f"      - uses: actions/setup-python@{sha}\n"
    found = scan_text(tmp_path / "pinned", WF, pinned, select=["ATS-GHA-004"]).findings
    assert [(f.region.start_line, sorted(r.region.start_line for r in f.related)) for f in found] == [(6, [7, 8])]


def test_tags_as_the_practice_are_held_back_unless_the_action_holds_a_credential(tmp_path: Path) -> None:
    """Where fewer than half of the references are SHAs, tags are the repository's practice:
    held back in one notice, except a third-party action handed a credential (a secret, the
    job's token, a job that may mint OIDC tokens) and a publisher whose tags were repointed.
    Branches are reported everywhere."""
    text = (
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - uses: actions/checkout@v4\n"  # 6 GitHub's own: held
        "        with:\n          token: ${{ secrets.BOT_TOKEN }}\n"
        "      - uses: acme/lint-action@v1\n"  # 9 held
        "      - uses: tj-actions/changed-files@v45\n"  # 10 repointed once: reported
        "      - uses: acme/deploy-action@v1\n"  # 11 handed a secret: reported
        "        with:\n          key: ${{ secrets.DEPLOY_KEY }}\n"
        "      - uses: acme/train-action@main\n"  # 14 a branch: reported
        "  publish:\n    runs-on: ubuntu-latest\n    permissions:\n      id-token: write\n    steps:\n"
        "      - uses: acme/publish-action@v2\n"  # 20 may mint OIDC tokens: reported
        "      - uses: aws-actions/configure-aws-credentials@v4\n"  # 21 the platform's own: held
        "        with:\n          aws-secret-access-key: ${{ secrets.AWS_KEY }}\n"
    )
    result = scan_text(tmp_path, WF, text, select=["ATS-GHA-004"])
    # one finding for the file, led by the branch, the reported tags its related sites
    (lead,) = result.findings
    assert (lead.region.start_line, lead.severity) == (14, Severity.HIGH)
    related = {r.region.start_line: r.message for r in lead.related}
    assert sorted(related) == [10, 11, 20]
    assert "this publisher's tags were once repointed to malicious code" in related[10]
    assert "a movable reference; it is handed a secret; pin it" in related[11]
    assert "the job may mint OIDC tokens (`id-token: write`)" in related[20]
    assert [n.message for n in result.notices if "practice" in n.message] == [
        "ATS-GHA-004: 3 sites held back as the repository's practice (fewer than half of the repository's action "
        "references are pinned by SHA); --include-practice reports them."
    ]
    # Asked for, the held tags are reported: one finding for the repository.
    found_all = scan_text(tmp_path, WF, text, select=["ATS-GHA-004"], report_classes=frozenset({"practice"})).findings
    assert [(f.region.start_line, sorted(r.region.start_line for r in f.related)) for f in found_all] == [(6, [9, 21]), (14, [10, 11, 20])]


def test_a_vendors_action_handed_its_token_is_practice_unless_the_file_pins_third_parties(tmp_path: Path) -> None:
    """Codecov's action handed `CODECOV_TOKEN`, where tags are the practice, is the documented
    way to upload coverage (pandera's, guidance's, NeMo-Run's: judged NOISE). metaflow's UX
    tests pin every other third party's action by SHA in the same file, in a repository that
    mostly does not: there the tag breaks the file's own practice (judged ACT)."""
    upload = "      - uses: codecov/codecov-action@v5\n        with:\n          token: ${{ secrets.CODECOV_TOKEN }}\n"
    tags = "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n" + "".join(f"      - uses: acme/step{n}@v1\n" for n in range(6))
    pinned = (
        "on: push\njobs:\n  t:\n    runs-on: x\n    steps:\n      - uses: actions/checkout@v4\n"
        "      - uses: dorny/test-reporter@d61b558e8df85cb60d09ca3e5b09653b4477cea7\n"
        "      - uses: medyagh/setup-minikube@aba8d5ff1666d19b9549133e3b92e70d4fc52cb7\n"
    )
    write_tree(tmp_path, {".github/workflows/tags.yml": tags + upload, ".github/workflows/ux.yml": pinned + upload})
    found = scan_path(tmp_path, select=["ATS-GHA-004"]).findings
    assert [(f.path, f.region.start_line) for f in found] == [(".github/workflows/ux.yml", 9)]
    assert "it is handed a secret" in found[0].message


def test_a_sliding_release_branch_is_graded_as_a_tag_and_reported_as_a_branch(tmp_path: Path) -> None:
    """pypa's publish action is used at `release/v1`, the branch its releases move, as its
    README says: graded as a third party's tag (low once folded, as a tag off the practice
    is), not high as a branch. It is no tag, so it is reported wherever it is
    (kubeflow/pipelines' PyPI release job, judged worth pinning), not held with the tags of
    the practice. Another branch with a slash is still a branch."""
    text = (
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    permissions:\n      id-token: write\n    steps:\n"
        "      - uses: actions/checkout@v4\n"  # 8 held
        "      - uses: pypa/gh-action-pypi-publish@release/v1\n"  # 9
        "      - uses: JamesIves/github-pages-deploy-action@releases/v4\n"  # 10
        "      - uses: acme/train-action@feature/faster-io\n"  # 11 a branch
    )
    result = scan_text(tmp_path, WF, text, select=["ATS-GHA-004"])
    (lead,) = result.findings
    assert (lead.region.start_line, lead.severity) == (11, Severity.HIGH)
    assert [r.region.start_line for r in lead.related] == [9, 10]
    assert "`release/v1`, a movable reference; the job may mint OIDC tokens" in lead.related[0].message
    assert [n.message.split(" held")[0] for n in result.notices if "practice" in n.message] == ["ATS-GHA-004: 1 site"]
    alone = scan_text(tmp_path, WF, text.replace("      - uses: acme/train-action@feature/faster-io\n", ""), select=["ATS-GHA-004"])
    assert [(f.region.start_line, f.severity) for f in alone.findings] == [(9, Severity.LOW)]


def test_the_repository_owners_own_actions_are_held_back(tmp_path: Path) -> None:
    """An action of the repository's own owner at a branch is a change by the same owner:
    held back as practice, as is one of its namesake organisations (NVIDIA's NeMo projects
    call `NVIDIA-NeMo/FW-CI-templates`). The owner comes from the checkout's origin remote."""
    text = (
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - uses: acme/lint-action@main\n"  # 6 the owner's own: held
        "      - uses: other/deploy-action@main\n"  # 7 a third party's branch: reported
        "      - uses: Acme-ML/ci-templates/.github/actions/setup@main\n"  # 8 a namesake organisation: held
        "      - uses: acmecorp/deploy-action@main\n"  # 9 another name that starts alike: reported
    )
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "config").write_text('[core]\n\tbare = false\n[remote "origin"]\n\turl = git@github.com:Acme/models.git\n')
    result = scan_text(tmp_path, WF, text, select=["ATS-GHA-004"])
    assert [(f.region.start_line, sorted(r.region.start_line for r in f.related)) for f in result.findings] == [(7, [9])]
    assert [n.message for n in result.notices if "practice" in n.message] == [
        "ATS-GHA-004: 2 sites held back as the repository's practice (the repository owner's own actions); "
        "--include-practice reports them."
    ]
    # Without the remote, the same branches are a third party's.
    (tmp_path / ".git" / "config").unlink()
    assert sorted(f.region.start_line for f in scan_text(tmp_path, WF, text, select=["ATS-GHA-004"]).findings) == [6]


def test_image_tags_are_the_practice_where_actions_are_at_tags_and_no_image_by_digest(tmp_path: Path) -> None:
    """ms-swift and DeepSpeed pin no action by SHA and no CI image by digest: a vendor's CI
    image at a tag (or `latest`) is their practice, held back in one notice. Where SHAs are
    the practice for actions, or one CI image is pinned by digest, a tag is reported."""
    digest = "0b9b7bd3b4a3c1e0c4d27f5dc2d1c4b5a8f1a3a6c2e9f0d8b7a6c5d4e3f2a1b0"
    text = (
        "on: push\njobs:\n  a:\n    runs-on: [self-hosted, npu]\n"
        "    container: ascendai/cann:8.3.rc2-910b-ubuntu22.04-py3.11\n"  # 5
        "    services:\n      cache:\n        image: redis:latest\n"  # 8
        "    steps:\n      - uses: actions/checkout@v4\n      - uses: acme/lint-action@v1\n"
        "      - uses: docker://alpine:3.20\n"  # 12
    )
    result = scan_text(tmp_path / "tags", WF, text, select=["ATS-GHA-005"])
    assert result.findings == []
    assert [n.message for n in result.notices if "practice" in n.message] == [
        "ATS-GHA-005: 3 sites held back as the repository's practice (fewer than half of the repository's action "
        "references are pinned by SHA, none of its CI images by digest); --include-practice reports them."
    ]
    asked = scan_text(tmp_path / "tags", WF, text, select=["ATS-GHA-005"], report_classes=frozenset({"practice"}))
    assert [(f.region.start_line, sorted(r.region.start_line for r in f.related)) for f in asked.findings] == [(5, [8, 12])]
    sha = "0123456789abcdef0123456789abcdef01234567"
    pinned_image = text + f"      - uses: docker://alpine@sha256:{digest}\n"
    pinned_actions = text.replace("@v4", f"@{sha}").replace("@v1", f"@{sha}")
    for name, variant in (("image", pinned_image), ("actions", pinned_actions)):
        found = scan_text(tmp_path / name, WF, variant, select=["ATS-GHA-005"]).findings
        assert [(f.rule_id, f.region.start_line, sorted(r.region.start_line for r in f.related)) for f in found] == [
            ("ATS-GHA-005", 5, [8, 12])
        ], name


def test_ci_images_of_the_repository_owner_are_held_back(tmp_path: Path) -> None:
    """accelerate's merge tests run its own nightly image (`huggingface/accelerate:gpu-nightly`),
    built by its own workflow: a digest would pin them to one night's build (judged NOISE).
    An image under the owner's name (Docker Hub, ghcr.io) is held back as practice; a
    vendor's image in the same job is reported."""
    sha = "0123456789abcdef0123456789abcdef01234567"
    text = (
        f"on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@{sha}\n"
        "  gpu:\n    runs-on: ubuntu-latest\n    container: huggingface/accelerate:gpu-nightly\n"  # 9 own
        "    services:\n      cache:\n        image: ghcr.io/huggingface/cache:1\n"  # 12 own
        "  vendor:\n    runs-on: ubuntu-latest\n    container: vault.habana.ai/gaudi-docker/1.21.1/pytorch:latest\n"  # 15
    )
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "config").write_text('[remote "origin"]\n\turl = https://github.com/huggingface/accelerate.git\n')
    result = scan_text(tmp_path, WF, text, select=["ATS-GHA-005"])
    assert [(f.region.start_line, f.related) for f in result.findings] == [(15, [])]
    assert [n.held for n in result.notices if n.held_as == "practice"] == [2]
    (tmp_path / ".git" / "config").unlink()  # no owner known: all three are reported
    found = scan_text(tmp_path, WF, text, select=["ATS-GHA-005"]).findings
    assert [(f.region.start_line, sorted(r.region.start_line for r in f.related)) for f in found] == [(9, [12, 15])]


def test_untrusted_checkout_is_reported_only_when_code_runs(tmp_path: Path) -> None:
    text = (
        "on: pull_request_target\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683\n"
        "        with:\n          ref: ${{ github.event.pull_request.head.sha }}\n"
        "      - run: make test\n"
        "  b:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683\n"
        "        with:\n          ref: ${{ github.head_ref }}\n"
        "      - uses: actions/upload-artifact@ea165f8d65b6e75b540449e92b4886f43607fa02\n"
    )
    found = _findings(scan_text(tmp_path, WF, text, select=["ATS-GHA-002"]))
    # job b only uploads what it checked out: nothing of the head runs
    assert [(f.region.start_line, f.severity) for f in found] == [(8, Severity.CRITICAL)]
    assert "(`make test`)" in found[0].message


def test_a_head_run_behind_a_deployment_environment_is_high(tmp_path: Path) -> None:
    text = (
        "on: pull_request_target\njobs:\n"
        "  approve:\n    runs-on: ubuntu-latest\n    environment: ${{ needs.check.outputs.env }}\n    steps:\n      - run: echo ok\n"
        "  changes:\n    needs: approve\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo diff\n"
        "  test:\n    needs: [changes]\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683\n"
        "        with:\n          ref: refs/pull/${{ github.event.pull_request.number }}/head\n"
        "      - run: pytest\n"
    )
    (found,) = _findings(scan_text(tmp_path, WF, text, select=["ATS-GHA-002"]))
    # Two `needs` away from the environment: its reviewers gate the head.
    assert (found.region.start_line, found.severity) == (19, Severity.HIGH)
    assert "once a reviewer of environment `${{ needs.check.outputs.env }}` (job `approve`) approves it" in found.message
    assert [r.region.start_line for r in found.related] == [5]


def test_a_head_run_only_once_a_label_is_applied_is_high(tmp_path: Path) -> None:
    """feast's integration tests: every way through the job's `if:` needs a label that only
    users with triage rights apply; a branch without one, or a negated test, gates nothing."""
    job = (
        "  {name}:\n    if: \"{cond}\"\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683\n"
        "        with:\n          ref: refs/pull/${{{{ github.event.pull_request.number }}}}/merge\n"
        "      - run: make test\n"
    )
    gated = ("((github.event.action == 'labeled' && github.event.label.name == 'ok-to-test') || "
             "(github.event.action != 'labeled' && contains(github.event.pull_request.labels.*.name, 'ok-to-test'))) && "
             "github.repository == 'feast-dev/feast'")  # fmt: skip
    text = "on:\n  pull_request_target:\n    types: [opened, labeled]\njobs:\n" + "".join(
        job.format(name=name, cond=cond) for name, cond in (
            ("gated", gated),  # checkout at 11
            ("either", "github.event.label.name == 'ok-to-test' || github.event.action == 'opened'"),  # 19
            ("negated", "${{ !contains(github.event.pull_request.labels.*.name, 'skip-ci') }}"),  # 27
        ))  # fmt: skip
    found = _findings(scan_text(tmp_path, WF, text, select=["ATS-GHA-002"]))
    # The two ungated jobs say the same: one finding, the second a related location.
    assert [(f.region.start_line, f.severity) for f in found] == [(11, Severity.HIGH), (19, Severity.CRITICAL)]
    assert [r.region.start_line for r in found[1].related] == [27]
    assert "once someone with triage rights labels the pull request (`ok-to-test`) (job `gated`)" in found[0].message
    assert [(r.region.start_line, r.message) for r in found[0].related] == [(6, "The label test that gates this job.")]


def test_a_head_run_on_a_permission_checked_comment_and_holding_nothing(tmp_path: Path) -> None:
    """diffusers' GPU tests from a comment: a gate job asks GitHub for the commenter's
    permission (high: a maintainer's request); the job that runs the head has a read-only
    token and no secret (medium). A secret in the job's env, or no `permissions:` at all
    (the repository's default token may write), keeps what it holds in the message."""
    gate = (
        "  gate:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - run: gh api repos/o/r/collaborators/${{ github.event.comment.user.login }}/permission\n"
    )
    job = (
        "  {name}:\n    needs: {needs}\n    runs-on: ubuntu-latest\n{extra}    steps:\n"
        "      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683\n"
        "        with:\n          ref: refs/pull/${{{{ github.event.issue.number }}}}/head\n"
        "      - run: make test\n"
    )
    read_only = "    permissions:\n      contents: read\n"
    text = "on: issue_comment\njobs:\n" + gate + "".join(
        job.format(name=name, needs=needs, extra=extra) for name, needs, extra in (
            ("bare", "gate", read_only),  # checkout at 15
            ("token", "gate", read_only + "    env:\n      HF_TOKEN: ${{ secrets.HF_TOKEN }}\n"),  # 27
            ("ungated", "[]", read_only),  # 37
            ("default", "[]", ""),  # 45
        ))  # fmt: skip
    found = _findings(scan_text(tmp_path, WF, text, select=["ATS-GHA-002"]))
    assert [(f.region.start_line, f.severity) for f in found] == [
        (15, Severity.MEDIUM), (27, Severity.HIGH), (37, Severity.MEDIUM), (45, Severity.CRITICAL),
    ]  # fmt: skip
    assert "with a read-only token and no secret" in found[0].message
    assert "once a user with write access asks for it (job `gate` checks their permission)" in found[0].message
    assert [(r.region.start_line, r.message) for r in found[0].related] == [(6, "The step that checks the user's permission.")]
    assert "with this repository's secrets and write token, once a user with write access" in found[1].message
    assert "once" not in found[2].message


def test_what_runs_the_checked_out_tree() -> None:
    from atlascan.engines.workflows.github import _runs_tree
    from atlascan.parsers.yaml import Mapping

    step = Mapping(1, 1, None, None, False)
    runs = {
        "make build": "`make build`",
        "FOO=1 ./scripts/test.sh --fast": "`./scripts/test.sh --fast`",
        "cd sdk && pip install -e .": "`pip install -e .`",
        "echo ok; go test ./...": "`go test ./...`",
        "bash hack/verify.sh": "`bash hack/verify.sh`",
        "sudo docker build -t x .": "`docker build -t x .`",
        "python3.11 -m pytest": "`python3.11 -m pytest`",
        "python -m pip install -e .[test]": "`python -m pip install -e .[test]`",
        "python setup.py build": "`python setup.py build`",
    }
    for script, expected in runs.items():
        assert _runs_tree(script, step, "") == expected, script
    for script in ("git diff --stat", "gh pr comment 1 --body ok", "pip install ruff", "bash -c 'echo hi'", "cat VERSION | jq .",
                   "python -m pip install --upgrade pip", "python3 -c 'import sys; print(sys.version)'", "python -m venv .venv"):
        assert _runs_tree(script, step, "") is None, script
    # the head checked out into `head/`: only commands naming that folder run it
    assert _runs_tree("python tools/lint.py", step, "head") is None
    assert _runs_tree("make -C head test", step, "head") == "`make -C head test`"


def test_inherited_secrets_to_the_repositorys_own_workflows_are_silent(tmp_path: Path) -> None:
    """text-generation-inference's ci_build.yaml hands `secrets: inherit` to its own
    ./.github/workflows/build.yaml: code of the same repository, which whoever changes it
    could make read every secret anyway. The same repository called by name is its own code
    too, and so is another repository of the same owner or a namesake organisation
    (torchchat's calls of pytorch/test-infra, judged NOISE); another owner's repository
    receives secrets it would not have."""
    sha = "0123456789abcdef0123456789abcdef01234567"
    text = (
        "on: push\njobs:\n"
        f"  a:\n    uses: other/wf/.github/workflows/x.yml@{sha}\n    secrets: inherit\n"  # 5
        "  b:\n    uses: ./.github/workflows/build.yml\n    secrets: inherit\n"  # 8
        "  c:\n    uses: Acme/Models/.github/workflows/release.yml@main\n    secrets: inherit\n"  # 11
        f"  d:\n    uses: other/wf/.github/workflows/x.yml@{sha}\n    secrets:\n      HF_TOKEN: ${{{{ secrets.HF_TOKEN }}}}\n"
        "  e:\n    uses: acme/test-infra/.github/workflows/linux_job.yml@main\n    secrets: inherit\n"  # 18
        "  f:\n    uses: acme-ci/templates/.github/workflows/lint.yml@main\n    secrets: inherit\n"  # 21
    )
    callee = "on: workflow_call\njobs:\n  b:\n    runs-on: x\n    steps:\n      - run: echo ${{ secrets.HF_TOKEN }} | login\n"
    _write(tmp_path, {".github/workflows/build.yml": callee, ".git/config": '[remote "origin"]\n\turl = https://github.com/acme/models.git\n'})
    found = _findings(scan_text(tmp_path, WF, text, select=["ATS-GHA-006"]))
    assert [(f.region.start_line, f.severity) for f in found] == [(5, Severity.MEDIUM)]
    # Without the remote, neither this repository nor its owner is known.
    (tmp_path / ".git" / "config").unlink()
    found = _findings(scan_text(tmp_path, WF, text, select=["ATS-GHA-006"]))
    assert [f.region.start_line for f in found] == [5, 11, 18, 21]


def test_injection_region_is_the_expression(tmp_path: Path) -> None:
    text = "on: issues\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: |\n          echo hi\n          echo ${{ github.event.issue.body }} done\n"
    (finding,) = _findings(scan_text(tmp_path, WF, text, select=["ATS-GHA-001"]))
    line = text.splitlines()[7]
    start = line.index("${{") + 1
    assert (finding.region.start_line, finding.region.start_column, finding.region.end_column) == (8, start, line.index("}}") + 3)


def test_gitlab_template_finding_reported_once(tmp_path: Path) -> None:
    text = ".t:\n  image: python:3.11\n  script: [echo]\na:\n  extends: .t\nb:\n  extends: .t\n"
    found = _findings(scan_text(tmp_path, ".gitlab-ci.yml", text, select=["ATS-GL-003"]))
    assert [(f.rule_id, f.region.start_line, f.region.start_column) for f in found] == [("ATS-GL-003", 2, 10)]


def test_bad_yaml_gives_notices_not_tracebacks(tmp_path: Path) -> None:
    files = {
        ".github/workflows/broken.yml": "on: push\njobs: [\n",
        ".github/workflows/dupes.yml": "on: push\non: pull_request\njobs: {}\n",
        ".github/workflows/deep.yml": "a: " + "[" * 5000 + "]" * 5000 + "\n",
        ".gitlab-ci.yml": "a: &a [1,1,1,1,1,1,1,1,1,1]\n" + "".join(
            f"{n}: &{n} [" + ",".join([f"*{p}"] * 10) + "]\n" for p, n in zip("abcdefgh", "bcdefghi", strict=True)
        ),
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    (tmp_path / ".github/workflows/latin1.yml").write_bytes(b"on: push\nname: caf\xe9\n")
    start = time.perf_counter()
    result = scan_path(tmp_path, select=["ATS-GHA", "ATS-GL"])
    assert time.perf_counter() - start < 10
    notices = {n.path: n.message for n in result.notices}
    assert "Invalid YAML" in notices[".github/workflows/broken.yml"]
    assert "Duplicate YAML key 'on'" in notices[".github/workflows/dupes.yml"]
    assert "nested more than" in notices[".github/workflows/deep.yml"]
    assert "alias bomb" in notices[".gitlab-ci.yml"]
    assert "UTF-8" in notices[".github/workflows/latin1.yml"]
    assert not any("Internal error" in n.message for n in result.notices)


WORKFLOW_TEMPLATE = """\
name: train {i}
on:
  pull_request_target:
  push:
    branches: [main]
permissions:
  contents: read
jobs:
  train:
    runs-on: [self-hosted, gpu]
    container: pytorch/pytorch:2.3.0
    steps:
      - uses: actions/checkout@v4
        with:
          ref: ${{{{ github.event.pull_request.head.sha }}}}
      - uses: actions/setup-python@0b93645e9fea7318ecaed2b359559ac225c90a2b # v5.3.0
      - run: |
          pip install -r requirements.txt --extra-index-url https://pypi.internal.example.com/simple
          echo "${{{{ github.event.pull_request.title }}}}"
          python train.py --epochs 3
      - uses: actions/upload-artifact@v4
        with:
          path: |
            outputs/
            mlruns/
"""


def test_scan_speed_of_hundreds_of_workflows(tmp_path: Path) -> None:
    folder = tmp_path / ".github" / "workflows"
    folder.mkdir(parents=True)
    for i in range(300):
        (folder / f"wf{i}.yml").write_text(WORKFLOW_TEMPLATE.format(i=i))
    start = time.perf_counter()
    result = scan_path(tmp_path)
    elapsed = time.perf_counter() - start
    # Identical workflows: a hardening rule's finding folds across them, wf7 a related site.
    wf7 = ".github/workflows/wf7.yml"
    per_file = {f.rule_id for f in result.findings if f.path == wf7 or any(r.path == wf7 for r in f.related)}
    assert {"ATS-GHA-001", "ATS-GHA-002", "ATS-GHA-009", "ATS-GHA-011", "ATS-CMD-010"} <= per_file
    # 2 tags per file and 1 SHA: tags are the practice, held back in one notice; no image is
    # pinned by digest, so the container's tag is the practice too
    assert not [f for f in result.findings if f.rule_id in ("ATS-GHA-004", "ATS-GHA-005")]
    assert [n.message.split(" held")[0] for n in result.notices if "practice" in n.message] == [
        "ATS-GHA-004: 600 sites", "ATS-GHA-005: 300 sites"
    ]
    assert elapsed < 30, elapsed


def test_gitlab_literal_variables_are_left_to_the_secrets_engine(tmp_path: Path) -> None:
    text = (
        'variables:\n  HF_TOKEN: "hf_9jYg7SjjPvttfbfMLZuPjII4OoaQmzBinn"\n  CI_DEBUG_TRACE: "true"\n'
        "train:\n  image: python@sha256:" + "a" * 64 + "\n  script:\n    - echo $HF_TOKEN\n"
    )
    result = scan_text(tmp_path, ".gitlab-ci.yml", text)
    by_line: dict[int, set[str]] = {}
    for f in result.findings:
        by_line.setdefault(f.region.start_line, set()).add(f.rule_id)
    assert by_line == {2: {"ATS-SEC-002"}, 3: {"ATS-GL-002"}, 7: {"ATS-GL-001"}}


def test_injection_is_low_when_only_pushers_can_trigger(tmp_path: Path) -> None:
    step = "jobs:\n  a:\n    runs-on: x\n    steps:\n      - run: echo \"${{ github.event.head_commit.message }}\"\n"
    pushed = _findings(scan_text(tmp_path / "push", WF, "on: push\n" + step, select=["ATS-GHA-001"]))
    outsider = _findings(scan_text(tmp_path / "pr", WF, "on: [push, pull_request_target]\n" + step, select=["ATS-GHA-001"]))
    assert [f.severity for f in pushed] == [Severity.LOW]
    assert [f.severity for f in outsider] == [Severity.HIGH]


def test_gitlab_secret_names_end_in_a_credential_word(tmp_path: Path) -> None:
    names = ["PWD", "TOKEN_URL", "AUTH_TYPE", "DB_PASS", "DEPLOY_PWD", "AZURE_STORAGE_CONNECTION_STRING", "DOCKER_AUTH_CONFIG"]
    text = "train:\n  image: python@sha256:" + "a" * 64 + "\n  script:\n" + "".join(f"    - echo ${n}\n" for n in names)
    found = _findings(scan_text(tmp_path, ".gitlab-ci.yml", text, select=["ATS-GL-001"]))
    assert [f.message.split("`")[1] for f in found] == [f"echo ${n}" for n in names[3:]]


def test_registry_finds_every_workflows_rule_implemented() -> None:
    from atlascan import registry, rules

    problems = registry.problems(rules.load_rules())
    assert [p for p in problems if "ATS-GHA-" in p or "ATS-GL-" in p or "'workflows'" in p] == []


def test_injection_grades_by_who_controls_the_value(tmp_path: Path) -> None:
    # attacker-written (high), unknown origin (medium), maintainer-written (silent)
    text = (
        "on:\n  workflow_call:\n    inputs:\n      name: {type: string}\n      dry: {type: boolean}\n"
        "env:\n  TITLE: ${{ github.event.issue.title }}\n  STATIC: x\n"
        "jobs:\n  a:\n    runs-on: x\n    steps:\n"
        "      - run: echo ${{ env.TITLE }}\n"
        "      - run: echo ${{ inputs.name }}\n"
        "      - run: echo ${{ inputs.dry }} ${{ env.STATIC }} ${{ github.sha }}\n"
        "      - run: echo ${{ needs.build.outputs.tag }}\n"
    )
    found = _findings(scan_text(tmp_path, WF, text, select=["ATS-GHA-001"]))
    assert [(f.region.start_line, f.severity) for f in found] == [(13, Severity.HIGH), (14, Severity.MEDIUM), (16, Severity.MEDIUM)]
    assert "set from `github.event.issue.title`" in found[0].message


def test_injection_in_workflow_dispatch_inputs_is_silent(tmp_path: Path) -> None:
    text = "on:\n  workflow_dispatch:\n    inputs:\n      tag: {}\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: echo ${{ inputs.tag }}\n"
    assert _findings(scan_text(tmp_path, WF, text, select=["ATS-GHA-001"])) == []


def test_permissions_finding_on_the_line_to_change(tmp_path: Path) -> None:
    text = (
        "on: [push, pull_request]\npermissions:\n  contents: write\njobs:\n"
        "  build:\n    runs-on: x\n    steps: [{run: make}]\n"
        "  call:\n    uses: org/repo/.github/workflows/x.yml@0123456789abcdef0123456789abcdef01234567\n"
    )
    found = _findings(scan_text(tmp_path, WF, text, select=["ATS-GHA-003"]))
    assert [(f.region.start_line, f.severity) for f in found] == [(3, Severity.MEDIUM), (8, Severity.MEDIUM)]
    assert "called workflow receives this token" in found[1].message
    default = _findings(scan_text(tmp_path / "default", WF, text.replace("permissions:\n  contents: write\n", ""), select=["ATS-GHA-003"]))
    assert [(f.region.start_line, f.severity) for f in default] == [(6, Severity.LOW)]
    # `id-token: write` alone writes nothing: the message says what it hands every job.
    oidc = _findings(scan_text(tmp_path / "oidc", WF, text.replace("contents: write", "id-token: write"), select=["ATS-GHA-003"]))
    assert "every step and action of these jobs can mint OIDC tokens" in oidc[0].message
    assert "a token that can write" not in oidc[0].message


def test_a_one_job_workflows_scopes_are_its_calls_own(tmp_path: Path) -> None:
    # huggingface's style bots: the workflow's one job calls a reusable workflow; the
    # workflow-level scopes are that job's, and moving them onto it changes nothing.
    text = (
        "on: [issue_comment]\npermissions:\n  pull-requests: write\n  contents: read\njobs:\n"
        "  style:\n    uses: org/repo/.github/workflows/style.yml@0123456789abcdef0123456789abcdef01234567\n"
    )
    assert _findings(scan_text(tmp_path, WF, text, select=["ATS-GHA-003"])) == []
    # With a second job, they reach both: the call is reported.
    two = text + "  label:\n    runs-on: x\n    steps: [{run: make}]\n"
    found = _findings(scan_text(tmp_path / "two", WF, two, select=["ATS-GHA-003"]))
    assert [(f.region.start_line, f.severity) for f in found] == [(3, Severity.MEDIUM), (6, Severity.MEDIUM)]
    assert "called workflow receives this token" in found[1].message


def test_a_call_from_a_workflow_only_pushers_start_is_silent(tmp_path: Path) -> None:
    """huggingface_hub's build_documentation.yaml (on a push to main) calls doc-builder's
    workflow with the default token: as with a workflow-wide block, only people with push
    access start it. Nor does a call only pull requests make: a fork's token is read-only, and
    a branch of the repository is pushed by someone who can write (trl's and huggingface_hub's
    build_pr_documentation, judged NOISE). A pull_request_target's call, or a token that
    mints OIDC tokens, is reported."""
    sha = "0123456789abcdef0123456789abcdef01234567"
    text = "on:\n  push:\n    branches: [main]\n%sjobs:\n  build:\n    uses: acme/doc-builder/.github/workflows/build.yml@" + sha + "\n"
    assert not _findings(scan_text(tmp_path / "push", WF, text % "", select=["ATS-GHA-003"]))
    # A second job shares the grant, so the call's OIDC token is reported (a one-job workflow's
    # grant is the call's own).
    lint = "  lint:\n    runs-on: x\n    steps: [{uses: acme/lint@" + sha + "}]\n"
    oidc = _findings(scan_text(tmp_path / "oidc", WF, text % "permissions:\n  id-token: write\n" + lint, select=["ATS-GHA-003"]))
    assert [(f.region.start_line, f.severity) for f in oidc] == [(5, Severity.MEDIUM), (7, Severity.MEDIUM)]
    alone = _findings(scan_text(tmp_path / "alone", WF, text % "permissions:\n  id-token: write\n", select=["ATS-GHA-003"]))
    assert alone == []
    pr = _findings(scan_text(tmp_path / "pr", WF, text.replace("push", "pull_request") % "", select=["ATS-GHA-003"]))
    assert pr == []
    target = _findings(scan_text(tmp_path / "target", WF, text.replace("push", "pull_request_target") % "", select=["ATS-GHA-003"]))
    assert [(f.region.start_line, f.severity) for f in target] == [(5, Severity.LOW)]
    both = _findings(scan_text(tmp_path / "both", WF, text.replace("push:", "push:\n  pull_request:") % "", select=["ATS-GHA-003"]))
    assert [(f.region.start_line, f.severity) for f in both] == [(6, Severity.LOW)]


def test_read_all_that_every_job_replaces_is_silent(tmp_path: Path) -> None:
    """OpenSSF Scorecard's template (unsloth's ossf.yml): `permissions: read-all` at the top,
    and the one job sets its own. The top grant reaches no job; a job that inherits it, or
    `write-all` (a job added later inherits that), is reported: `read-all` a job inherits as
    practice (no write scope; held back unless asked for)."""
    job = "  analysis:\n    runs-on: x\n    permissions:\n      security-events: write\n    steps: [{run: make}]\n"
    text = "on: push\npermissions: %s\njobs:\n" + job
    assert not _findings(scan_text(tmp_path / "a", WF, text % "read-all", select=["ATS-GHA-003"]))
    write = _findings(scan_text(tmp_path / "b", WF, text % "write-all", select=["ATS-GHA-003"]))
    assert [(f.region.start_line, f.severity) for f in write] == [(2, Severity.HIGH)]
    more = text % "read-all" + "  lint:\n    runs-on: x\n    steps: [{run: make lint}]\n"
    assert not _findings(scan_text(tmp_path / "c", WF, more, select=["ATS-GHA-003"], report_classes=frozenset()))
    inherited = _findings(scan_text(tmp_path / "d", WF, more, select=["ATS-GHA-003"], report_classes=frozenset({"practice"})))
    assert [(f.region.start_line, f.severity) for f in inherited] == [(2, Severity.LOW)]


def test_local_reusable_workflow_reported_once_for_its_callers(tmp_path: Path) -> None:
    callee = "on:\n  workflow_call: {}\njobs:\n  build:\n    runs-on: x\n    steps: [{run: make}]\n"
    caller = "on: [push, pull_request]\n%sjobs:\n  build:\n    uses: ./.github/workflows/build.yml\n"
    _write(tmp_path, {
        ".github/workflows/build.yml": callee,
        ".github/workflows/a.yml": caller % "",
        ".github/workflows/b.yml": caller % "",
        ".github/workflows/c.yml": caller % "permissions:\n  contents: read\n",
    })  # fmt: skip
    found = _findings(scan_path(tmp_path, select=["ATS-GHA-003"]))
    assert [(f.path, f.region.start_line, f.severity) for f in found] == [(".github/workflows/build.yml", 2, Severity.LOW)]
    assert [(r.path, r.region.start_line) for r in found[0].related] == [(".github/workflows/a.yml", 3), (".github/workflows/b.yml", 3)]
    assert "job `build` of this reusable workflow sets no `permissions:`" in found[0].message
    assert "(2 calls in this repository)" in found[0].message
    # A caller that grants write scopes to its jobs makes it medium, a one-job caller too: the
    # called workflow's jobs may each need less than its token (huggingface_hub's style bot).
    _write(tmp_path, {".github/workflows/c.yml": caller % "permissions:\n  contents: write\n"})
    found = _findings(scan_path(tmp_path, select=["ATS-GHA-003"]))
    assert [(f.path, f.severity) for f in found] == [(".github/workflows/build.yml", Severity.MEDIUM)]
    assert found[0].message.startswith("`workflow-level write scopes`")
    # Without the called workflow in the scan, each call is reported where it is made; the
    # one-job caller's block is that job's own grant, and moving it changes nothing.
    (tmp_path / ".github/workflows/build.yml").unlink()
    found = _findings(scan_path(tmp_path, select=["ATS-GHA-003"]))
    assert [(f.path, f.region.start_line) for f in found] == [(".github/workflows/a.yml", 3), (".github/workflows/b.yml", 3)]


def test_local_calls_resolve_when_the_repository_is_a_folder_of_the_scan(tmp_path: Path) -> None:
    """`atlascan scan checkouts/repo` from the parent: `uses: ./.github/...` names the
    repository's own files, not the scan root's."""
    callee = (
        "on:\n  workflow_call:\n    inputs:\n      package: {type: string, required: true}\n"
        "jobs:\n  release:\n    runs-on: x\n    steps:\n      - run: echo ${{ inputs.package }}\n"
    )
    caller = "on: [push, pull_request]\njobs:\n  release:\n    uses: ./.github/workflows/_release.yml\n    with:\n      package: %s\n"
    for repo in ("", "checkouts/repo/"):
        _write(tmp_path, {
            repo + ".github/workflows/_release.yml": callee,
            repo + ".github/workflows/chain.yml": caller % "sagemaker-train",
        })  # fmt: skip
    # Callers pass a constant: no injection; the call hands the default token to a workflow
    # without `permissions:`, reported once at the callee, as for a scan of the repository.
    for path, repo in ((tmp_path, ""), (tmp_path / "checkouts" / "repo", "checkouts/repo/")):
        found = _findings(scan_path(path, root=tmp_path, select=["ATS-GHA-001", "ATS-GHA-003"]))
        assert [(f.rule_id, f.path) for f in found] == [("ATS-GHA-003", repo + ".github/workflows/_release.yml")], repo
    # Called on a push only, it is started by people with push access alone: silent, the
    # call resolved in the folder's repository as well.
    _write(tmp_path, {"checkouts/repo/.github/workflows/chain.yml": caller.replace("pull_request", "push") % "x"})
    found = _findings(scan_path(tmp_path, select=["ATS-GHA-003"]))
    assert [f.path for f in found] == [".github/workflows/_release.yml"]
    # Another repository of the scan calling a same-named file calls its own, not this one.
    _write(tmp_path, {"checkouts/repo/.github/workflows/chain.yml": caller % "${{ github.event.issue.title }}"})
    found = _findings(scan_path(tmp_path, select=["ATS-GHA-001"]))
    assert [(f.path, f.severity) for f in found] == [("checkouts/repo/.github/workflows/_release.yml", Severity.HIGH)]


def test_reusable_workflows_take_their_callers_triggers_through_the_call_chain(tmp_path: Path) -> None:
    """feast's publish_python_sdk.yml is called by publish.yml (a tag push, by hand, or
    reusable with no caller here) and by nightly_python_sdk_release.yml (a schedule), and
    calls build_wheels.yml in turn: only people with push access start them, so a
    workflow-wide block there, or the write scopes their callers hand them, are silent. A
    caller started by a pull request, or no caller at all, keeps the finding."""
    release = (
        "on:\n  push:\n    tags: ['v*']\n  workflow_call: {}\n"
        "permissions:\n  contents: write\n"  # 6: reusable and called by none: reported as today
        "jobs:\n  sdk:\n    uses: ./.github/workflows/publish.yml\n  notes:\n    runs-on: x\n    steps: [{run: make notes}]\n"
    )
    nightly = "on:\n  schedule:\n    - cron: '0 8 * * *'\npermissions:\n  contents: write\njobs:\n  sdk:\n    uses: %s\n"
    publish = (
        "on:\n  workflow_dispatch: {}\n  workflow_call: {}\npermissions:\n  contents: write\njobs:\n"  # 5
        "  wheels:\n    uses: ./.github/workflows/wheels.yml\n  upload:\n    runs-on: x\n    steps: [{run: twine upload dist/*}]\n"
    )
    wheels = "on:\n  workflow_call: {}\njobs:\n  linux:\n    runs-on: x\n    steps: [{run: make}]\n  mac:\n    runs-on: y\n    steps: [{run: make}]\n"
    _write(tmp_path, {
        ".github/workflows/release.yml": release,
        ".github/workflows/nightly.yml": nightly % "./.github/workflows/publish.yml",
        ".github/workflows/publish.yml": publish,
        ".github/workflows/wheels.yml": wheels,
    })  # fmt: skip

    def found() -> list[tuple[str, int]]:
        return [(f.path, f.region.start_line) for f in _findings(scan_path(tmp_path, select=["ATS-GHA-003"]))]

    assert found() == [(".github/workflows/release.yml", 6)]
    # The same repository called by name, when the checkout says which it is.
    _write(tmp_path, {
        ".github/workflows/nightly.yml": nightly % "Acme/Models/.github/workflows/publish.yml@main",
        ".git/config": '[remote "origin"]\n\turl = https://github.com/acme/models.git\n',
    })  # fmt: skip
    assert found() == [(".github/workflows/release.yml", 6)]
    # A pull request's workflow that calls the first link: both reusable workflows are reported.
    pr = "on: pull_request\npermissions:\n  contents: write\njobs:\n  sdk:\n    uses: ./.github/workflows/publish.yml\n"
    _write(tmp_path, {".github/workflows/pr.yml": pr})
    assert found() == [
        (".github/workflows/publish.yml", 5),
        (".github/workflows/release.yml", 6),
        (".github/workflows/wheels.yml", 2),
    ]
    # Called by a pull_request_target workflow directly: that one is reported, its caller not.
    _write(tmp_path, {".github/workflows/pr.yml": pr.replace("pull_request", "pull_request_target").replace("publish.yml", "wheels.yml")})
    assert found() == [(".github/workflows/release.yml", 6), (".github/workflows/wheels.yml", 2)]
    # With no caller in the repository it is called from elsewhere: reported.
    for name in ("pr.yml", "release.yml", "nightly.yml"):
        (tmp_path / ".github/workflows" / name).unlink()
    assert found() == [(".github/workflows/publish.yml", 5)]


def test_gitlab_branch_names_count_only_on_merge_request_pipelines(tmp_path: Path) -> None:
    job = "  script:\n    - eval \"deploy $CI_COMMIT_REF_NAME\"\n    - eval \"notes $CI_COMMIT_MESSAGE\"\n"
    pushed = _findings(scan_text(tmp_path / "push", ".gitlab-ci.yml", "a:\n" + job, select=["ATS-GL-008"]))
    mr = "a:\n  rules:\n    - if: $CI_PIPELINE_SOURCE == \"merge_request_event\"\n" + job
    merge = _findings(scan_text(tmp_path / "mr", ".gitlab-ci.yml", mr, select=["ATS-GL-008"]))
    assert [f.region.start_line for f in pushed] == [4]  # the commit message only
    assert [f.region.start_line for f in merge] == [5, 6]


def _write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, "utf-8")


def test_local_action_inputs_are_judged_at_their_callers(tmp_path: Path) -> None:
    action = (
        "name: a\ndescription: d\ninputs:\n  v:\n    description: v\nruns:\n  using: composite\n  steps:\n"
        "    - shell: bash\n      run: echo \"${{ inputs.v }}\"\n"
    )
    nested = (
        "name: b\ndescription: d\ninputs:\n  w:\n    description: w\nruns:\n  using: composite\n  steps:\n"
        "    - uses: ./.github/actions/a\n      with:\n        v: ${{ inputs.w }}\n"
    )
    caller = (
        "on: pull_request\njobs:\n  j:\n    runs-on: x\n    strategy:\n      matrix:\n        k: [1.29, 1.30]\n    steps:\n"
        "      - uses: ./.github/actions/a\n        with:\n          v: ${{ matrix.k }}\n"
        "      - uses: ./.github/actions/b\n        with:\n          w: %s\n"
    )
    rel = ".github/actions/a/action.yml"
    files = {rel: action, ".github/actions/b/action.yml": nested, WF: caller % "${{ github.sha }}"}
    _write(tmp_path, files)
    assert not _findings(scan_path(tmp_path, select=["ATS-GHA-001"]))
    # Through the nested action, one caller passes a branch name: the finding stays, high.
    _write(tmp_path, {WF: caller % "${{ github.head_ref }}"})
    found = [f for f in _findings(scan_path(tmp_path, select=["ATS-GHA-001"])) if f.path == rel]
    assert [(f.region.start_line, f.severity) for f in found] == [(10, Severity.HIGH)]
    assert found[0].message.startswith(
        "`inputs.v` passed by `.github/actions/b/action.yml:11` as `inputs.w` passed by `.github/workflows/ci.yml:14` as "
        "`github.head_ref`"
    )
    # No caller in the repository: nothing shows what it holds, unproven (reported when asked, medium).
    (tmp_path / WF).unlink()
    found = [f for f in _findings(scan_path(tmp_path, select=["ATS-GHA-001"])) if f.path == rel]
    assert [(f.region.start_line, f.severity) for f in found] == [(10, Severity.MEDIUM)]
    assert found[0].properties[UNPROVEN].startswith("no caller in the repository")


def test_reusable_workflow_inputs_take_their_callers_grade(tmp_path: Path) -> None:
    """A reusable workflow's `inputs.x` is as controllable as what the repository's callers
    pass for x: an issue title is reported at the callee's line naming the caller, a literal
    or a dispatch's `github.event.inputs.x` is silent. With no caller (TGI's integration
    tests, feast's check_skip_tests) it is held back as unproven, one notice; an action at the
    repository root is published for other repositories and stays medium."""
    callee = (
        "on:\n  workflow_call:\n    inputs:\n      image:\n        type: string\njobs:\n  t:\n    runs-on: x\n"
        "    steps:\n      - run: docker run ${{ inputs.image }}\n"  # 10
    )
    caller = "on: %s\njobs:\n  c:\n    uses: ./.github/workflows/it.yml\n    with:\n      image: %s\n"
    rel = ".github/workflows/it.yml"
    _write(tmp_path, {rel: callee, WF: caller % ("issues", "${{ github.event.issue.title }}")})
    (found,) = _findings(scan_path(tmp_path, select=["ATS-GHA-001"]))
    assert (found.path, found.region.start_line, found.severity) == (rel, 10, Severity.HIGH)
    assert found.message.startswith("`inputs.image` passed by `.github/workflows/ci.yml:6` as `github.event.issue.title`")
    for value in ("ghcr.io/acme/tgi:latest", "${{ github.event.inputs.image }}"):
        _write(tmp_path, {WF: caller % ("workflow_dispatch", value)})
        assert not _findings(scan_path(tmp_path, select=["ATS-GHA-001"]))
    (tmp_path / WF).unlink()
    held = scan_path(tmp_path, select=["ATS-GHA-001"], report_classes=frozenset())
    assert not _findings(held)
    assert [(n.path, n.held) for n in held.notices if n.held_as == UNPROVEN] == [(rel, 1)]
    action = "name: a\ndescription: d\nruns:\n  using: composite\n  steps:\n    - shell: bash\n      run: echo ${{ inputs.v }}\n"
    _write(tmp_path, {"action.yml": action})
    found = _findings(scan_path(tmp_path, select=["ATS-GHA-001"], report_classes=frozenset()))
    assert [(f.path, f.region.start_line, f.severity) for f in found] == [("action.yml", 7, Severity.MEDIUM)]


def test_self_hosted_jobs_of_one_pull_request_workflow_are_one_finding(tmp_path: Path) -> None:
    """vllm production-stack's helm-chart workflow runs four jobs on its self-hosted runner
    for pull requests: one trigger to gate, one finding, the other jobs related."""
    job = "  {name}:\n    runs-on: [self-hosted, gpu]\n    steps:\n      - run: make test\n"
    text = "on: pull_request\npermissions: {}\njobs:\n" + "".join(job.format(name=n) for n in ("small", "two-pods", "multi"))
    found = [f for f in scan_text(tmp_path, ".github/workflows/e2e.yml", text).findings if f.rule_id == "ATS-GHA-011"]
    assert [(f.region.start_line, [r.region.start_line for r in f.related]) for f in found] == [(5, [9, 13])]
    assert found[0].message.endswith("(and 2 more in this workflow).")


def test_third_party_tag_with_a_credential_in_a_privileged_workflow_is_medium(tmp_path: Path) -> None:
    """A third party's tag in a `pull_request_target` job that may mint OIDC tokens leads its
    file's finding at medium; the same in a `pull_request` workflow, or in a job whose own
    `permissions:` grant no `id-token`, folds to low."""
    sha = "0123456789abcdef0123456789abcdef01234567"
    text = (
        "on: pull_request_target\npermissions:\n  id-token: write\njobs:\n"
        "  lint:\n    runs-on: ubuntu-latest\n    permissions:\n      contents: read\n    steps:\n"
        "      - uses: acme/lint-action@v1\n"  # 10 no OIDC grant of its own
        "  deploy:\n    runs-on: ubuntu-latest\n    steps:\n"
        f"      - uses: actions/checkout@{sha}\n"
        "      - uses: acme/preview-action@v2\n"  # 15
    ) + "".join(f"      - uses: acme/step-{n}@{sha}\n" for n in range(3))
    (lead,) = scan_text(tmp_path, WF, text, select=["ATS-GHA-004"]).findings
    assert (lead.region.start_line, lead.severity) == (15, Severity.MEDIUM)
    assert "(`id-token: write`) in a workflow started by `pull_request_target`" in lead.message
    assert [(r.region.start_line, "id-token" in r.message) for r in lead.related] == [(10, False)]
    plain = text.replace("on: pull_request_target", "on: pull_request")
    (low,) = scan_text(tmp_path / "plain", WF, plain, select=["ATS-GHA-004"]).findings
    assert (low.region.start_line, low.severity) == (10, Severity.LOW)


def test_a_value_of_unknown_origin_in_a_workflow_only_pushers_start_is_unproven(tmp_path: Path) -> None:
    """mlrun's version strings and dispatch choices, expanded into scripts of workflows only
    people with push access start, were judged NOISE: held back as unproven. An outsider's
    text there (a pushed commit's message) stays reported, and so does the same unknown
    value where a pull_request_target starts the run."""
    text = (
        "on: %s\njobs:\n  b:\n    runs-on: x\n    steps:\n      - id: v\n"
        '        run: echo "sha=$(gh api repos/acme/x/commits/main --jq .sha)" >> $GITHUB_OUTPUT\n'
        "      - run: echo ${{ steps.v.outputs.sha }}\n"
        '      - run: echo "${{ github.event.head_commit.message }}"\n'
    )
    pushed = scan_text(tmp_path / "push", WF, text % "push", select=["ATS-GHA-001"], report_classes=frozenset())
    assert [(f.region.start_line, f.severity) for f in pushed.findings] == [(9, Severity.LOW)]
    assert [n.held for n in pushed.notices if n.held_as == "unproven"] == [1]
    target = _findings(scan_text(tmp_path / "target", WF, text % "pull_request_target", select=["ATS-GHA-001"], report_classes=frozenset()))
    assert [(f.region.start_line, f.severity) for f in target] == [(8, Severity.MEDIUM), (9, Severity.HIGH)]


def test_a_token_handed_to_the_owners_own_reusable_workflows_is_theirs(tmp_path: Path) -> None:
    """torchtitan grants `id-token: write` at the top and every job calls pytorch/test-infra's
    jobs, which sign in to the owner's cloud with it (nine findings judged NOISE): the owner's
    own code. The same calls into another organisation's workflows stay reported."""
    sha = "0123456789abcdef0123456789abcdef01234567"
    text = (
        "on: [push, pull_request]\npermissions:\n  id-token: write\n  contents: read\njobs:\n"
        f"  build:\n    uses: %s/test-infra/.github/workflows/linux_job_v2.yml@{sha}\n"
        f"  test:\n    uses: %s/test-infra/.github/workflows/linux_job_v2.yml@{sha}\n"
    )
    config = '[remote "origin"]\n\turl = https://github.com/pytorch/torchtitan.git\n'
    _write(tmp_path / "own", {WF: text % ("pytorch", "pytorch"), ".git/config": config})
    assert _findings(scan_path(tmp_path / "own", select=["ATS-GHA-003"])) == []
    _write(tmp_path / "other", {WF: text % ("acme", "acme"), ".git/config": config})
    found = _findings(scan_path(tmp_path / "other", select=["ATS-GHA-003"]))
    assert [(f.region.start_line, f.severity) for f in found] == [(3, Severity.MEDIUM), (6, Severity.MEDIUM), (8, Severity.MEDIUM)]


def test_what_an_action_outputs_from_an_outsiders_input_is_unproven(tmp_path: Path) -> None:
    """horovod hands the head branch to its Buildkite trigger action and expands the build
    URL the action outputs (judged FALSE): what an action outputs is its code's. A `run:`
    step's output, and an action known to echo its input, stay the outsider's text."""
    text = (
        "on: workflow_run\njobs:\n  b:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - id: build\n        uses: acme/trigger-pipeline@v1\n"
        "        env:\n          BRANCH: ${{ github.event.workflow_run.head_branch }}\n"
        "      - run: echo ${{ steps.build.outputs.url }}\n"  # 10
        "      - id: sh\n        run: echo \"name=${{ github.event.workflow_run.head_branch }}\" >> $GITHUB_OUTPUT\n"
        "      - run: echo ${{ steps.sh.outputs.name }}\n"  # 13
        "      - id: names\n        uses: tj-actions/branch-names@v8\n"
        "      - run: echo ${{ steps.names.outputs.current_branch }}\n"  # 16
    )
    result = scan_text(tmp_path, WF, text, select=["ATS-GHA-001"], report_classes=frozenset())
    assert [f.region.start_line for f in _findings(result)] == [12, 13, 16]
    assert [(n.held, "what an action outputs" in n.message) for n in result.notices if n.held_as == UNPROVEN] == [(1, True)]


def test_an_injection_only_a_forks_pull_request_run_reaches_is_unproven(tmp_path: Path) -> None:
    """kedro's and horovod's head branch names expanded on `pull_request` (judged NOISE): a
    fork's run holds a read-only token and no secrets on a runner it leaves. On a
    self-hosted runner, one an expression picks, or where `pull_request_target` starts the
    run, it stays reported."""
    text = "on: [push, %s]\njobs:\n  b:\n    runs-on: %s\n    steps:\n      - run: echo ${{ github.event.pull_request.head.ref }}\n"
    held = scan_text(tmp_path / "pr", WF, text % ("pull_request", "ubuntu-latest"), select=["ATS-GHA-001"], report_classes=frozenset())
    assert not _findings(held)
    assert [n.held for n in held.notices if n.held_as == UNPROVEN] == [1]
    for trigger, runner in (("pull_request", "[self-hosted, gpu]"), ("pull_request", "${{ inputs.runner }}"), ("pull_request_target", "ubuntu-latest")):
        found = _findings(scan_text(tmp_path / trigger, WF, text % (trigger, runner), select=["ATS-GHA-001"], report_classes=frozenset()))
        assert [(f.region.start_line, f.severity) for f in found] == [(6, Severity.HIGH)]


def test_an_oidc_grant_of_a_reusable_workflow_only_maintainers_call_is_theirs(tmp_path: Path) -> None:
    """djl-serving's build and integration workflows (workflow_call and workflow_dispatch)
    grant `id-token: write` at workflow level; a job signs in to AWS with it, another runs
    the maintainers' runner scripts, and nightly.yml (a schedule) calls them and the
    repository's other reusable workflows: only maintainers start them (judged NOISE six
    times). A pull_request_target caller, or a call of another owner's workflow, keeps it."""
    sha = "0123456789abcdef0123456789abcdef01234567"
    called = (
        "on:\n  workflow_call: {}\n  workflow_dispatch: {}\npermissions:\n  id-token: write\n  contents: read\njobs:\n"
        "  runners:\n    runs-on: [self-hosted, scheduler]\n    steps: [{run: ./start_instance.sh}]\n"
        "  build:\n    runs-on: ubuntu-latest\n    steps:\n"
        f"      - uses: aws-actions/configure-aws-credentials@{sha}\n        with: {{role-to-assume: arn}}\n"
        "      - run: make push\n"
        "  test:\n    uses: ./.github/workflows/tests.yml\n"
    )
    tests = "on:\n  workflow_call: {}\npermissions:\n  contents: read\njobs:\n  t:\n    runs-on: x\n    steps: [{run: make}]\n"
    nightly = "on:\n  schedule: [{cron: '0 1 * * *'}]\npermissions:\n  contents: read\njobs:\n  b:\n    uses: ./.github/workflows/build.yml\n"
    _write(tmp_path, {".github/workflows/build.yml": called, ".github/workflows/tests.yml": tests, ".github/workflows/nightly.yml": nightly})
    assert _findings(scan_path(tmp_path, select=["ATS-GHA-003"])) == []
    _write(tmp_path, {".github/workflows/nightly.yml": nightly.replace("schedule: [{cron: '0 1 * * *'}]", "pull_request_target: {}")})
    found = _findings(scan_path(tmp_path, select=["ATS-GHA-003"]))
    assert [(f.path, f.region.start_line) for f in found] == [(".github/workflows/build.yml", 5)]
    _write(tmp_path, {
        ".github/workflows/nightly.yml": nightly,
        ".github/workflows/build.yml": called.replace("./.github/workflows/tests.yml", f"acme/ci/.github/workflows/t.yml@{sha}"),
    })  # fmt: skip
    found = _findings(scan_path(tmp_path, select=["ATS-GHA-003"]))
    assert [(f.path, f.region.start_line) for f in found] == [(".github/workflows/build.yml", 5), (".github/workflows/build.yml", 17)]
    assert "called workflow receives this token" in found[1].message


def test_a_reusable_workflows_own_triggers_do_not_make_its_callers_tokens_outsiders(tmp_path: Path) -> None:
    """NeMo-Run's ruff-lint.yml runs on push and pull_request of its own and is called by the
    nightly workflow (a schedule) with the default token: the token a caller hands it is a
    maintainer's run's, whatever else starts the workflow with its own token (judged NOISE
    three times). A caller a pull request starts keeps the finding."""
    lint = (
        "on:\n  workflow_call: {}\n  push:\n    branches: [main]\n  pull_request: {}\n"
        "jobs:\n  lint:\n    runs-on: x\n    steps: [{run: ruff check}]\n"
    )
    nightly = "on:\n  schedule: [{cron: '0 0 * * *'}]\n  workflow_dispatch: {}\njobs:\n  lint:\n    uses: ./.github/workflows/lint.yml\n"
    _write(tmp_path, {".github/workflows/lint.yml": lint, ".github/workflows/nightly.yml": nightly})
    assert _findings(scan_path(tmp_path, select=["ATS-GHA-003"])) == []
    _write(tmp_path, {".github/workflows/labels.yml": nightly.replace("schedule: [{cron: '0 0 * * *'}]", "pull_request_target: {}")})
    found = _findings(scan_path(tmp_path, select=["ATS-GHA-003"]))
    assert [(f.path, f.region.start_line, f.severity) for f in found] == [(".github/workflows/lint.yml", 2, Severity.LOW)]
    assert [r.path for r in found[0].related] == [".github/workflows/labels.yml", ".github/workflows/nightly.yml"]


def test_a_value_of_unknown_origin_in_an_uncalled_maintainers_workflow_is_unproven(tmp_path: Path) -> None:
    """djl-serving's optimization tests (workflow_dispatch and workflow_call, called by no
    workflow of the repository) expand the EC2 instance ids their own runner script wrote:
    no outsider's event starts the run here, and its inputs are held back as uncalled
    (judged NOISE three times). The same step on issue_comment is reported."""
    text = (
        "on:\n  workflow_dispatch: {}\n  workflow_call: {}\njobs:\n"
        "  runners:\n    runs-on: [self-hosted, scheduler]\n    outputs:\n      id: ${{ steps.start.outputs.id }}\n"
        "    steps:\n      - id: start\n        run: ./start_instance.sh $(curl -X POST https://api.github.com/repos/o/r/actions/runners/registration-token)\n"
        "  test:\n    needs: runners\n    runs-on: x\n    steps:\n      - run: ./stop_instance.sh ${{ needs.runners.outputs.id }}\n"  # 15
    )
    result = scan_text(tmp_path / "called", WF, text, select=["ATS-GHA-001"], report_classes=frozenset())
    assert result.findings == []
    assert [n.held_as for n in result.notices if n.held] == ["unproven"]
    comment = text.replace("workflow_dispatch: {}\n  workflow_call: {}", "issue_comment: {}")
    found = _findings(scan_text(tmp_path / "comment", WF, comment, select=["ATS-GHA-001"]))
    assert [(f.region.start_line, f.severity) for f in found] == [(15, Severity.MEDIUM)]
