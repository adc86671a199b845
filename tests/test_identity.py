"""Which hosted repository a scan root is, read from files (atlascan.identity)."""

from __future__ import annotations

from pathlib import Path

from atlascan.identity import github_repository, owners_image


def test_origin_remote_wins(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "config").write_text(
        '[remote "upstream"]\n\turl = https://github.com/other/fork\n[remote "origin"]\n\turl = https://github.com/Kubeflow/Pipelines.git\n'
    )
    (tmp_path / "go.mod").write_text("module github.com/someone/else\n")
    assert github_repository(tmp_path) == "kubeflow/pipelines"


def test_go_module_then_readme_links_to_the_folders_name(tmp_path: Path) -> None:
    root = tmp_path / "terragoat"
    root.mkdir()
    assert github_repository(root) is None
    # Links to other repositories do not name this one; links to this folder's name do.
    (root / "README.md").write_text(
        "See https://github.com/bridgecrewio/checkov and [source](https://github.com/bridgecrewio/terragoat).\n"
        "Issues: https://github.com/bridgecrewio/terragoat/issues and https://github.com/bridgecrewio/terragoat#readme\n"
    )
    assert github_repository(root) == "bridgecrewio/terragoat"
    (root / "go.mod").write_text("module github.com/acme/terragoat/v2\n\ngo 1.22\n")
    assert github_repository(root) == "acme/terragoat"


def test_only_regular_files_are_read_and_two_owners_name_none(tmp_path: Path) -> None:
    import os

    root = tmp_path / "models"
    root.mkdir()
    os.mkfifo(root / "README.md")  # would block a reader forever
    (root / "go.mod").symlink_to("/dev/zero")
    assert github_repository(root) is None
    (root / "README.md").unlink()
    (root / "README.md").write_text("Forked from https://github.com/upstream/models; see https://github.com/me/models\n")
    assert github_repository(root) is None


def test_an_image_under_the_owners_name_is_the_owners() -> None:
    owned = ["huggingface/accelerate:gpu-nightly", "ghcr.io/HuggingFace/x@sha256:ab", "docker.io/huggingface/peft-gpu"]
    others = ["pytorch/pytorch:2.8.0", "huggingface", "quay.io/huggingface", "registry.example/huggingface/x:1", "localhost:5000/huggingface/x"]
    assert [owners_image(i, "huggingface") for i in owned] == [True] * 3
    assert [owners_image(i, "huggingface") for i in others] == [False] * 5
    assert owners_image("huggingface/accelerate", None) is False
