"""Dockerfile structure rules: exact regions, ARG-default resolution, stage inheritance,
no double report with the secrets rules, and parse problems as notices."""

from __future__ import annotations

from pathlib import Path

import pytest

from atlascan.model import Severity
from scanning import located, scan_text

DIGEST = "@sha256:" + "b" * 64


def _dkr(result):  # type: ignore[no-untyped-def]
    return located(result, "ATS-DKR")


def test_base_image_tag_from_arg_default_points_at_the_default(tmp_path: Path) -> None:
    text = f"ARG BASE=pytorch/pytorch:2.3.1\nFROM python:3.11{DIGEST} AS tools\nFROM ${{BASE}}\nUSER 1\n"
    assert _dkr(scan_text(tmp_path, "Dockerfile", text)) == [("ATS-DKR-004", 1, 10, 31, "low")]


def test_untagged_base_image_is_medium_and_stage_names_are_not_images(tmp_path: Path) -> None:
    text = f"FROM python:3.11{DIGEST} AS base\nFROM base\nFROM --platform=$BUILDPLATFORM ubuntu\nUSER 1\n"
    assert _dkr(scan_text(tmp_path, "Dockerfile", text)) == [("ATS-DKR-004", 3, 32, 38, "medium")]


def test_registry_port_is_not_a_tag(tmp_path: Path) -> None:
    text = "FROM registry.internal:5000/ml/serving\nUSER 1\n"
    result = scan_text(tmp_path, "Dockerfile", text, report_classes=frozenset({"practice", "pedantic"}))
    assert [f.message for f in result.findings if f.rule_id == "ATS-DKR-004"] == [
        "Base image `registry.internal:5000/ml/serving` is pulled by no tag, not by digest."
    ]


def test_user_inherited_from_parent_stage(tmp_path: Path) -> None:
    text = f"FROM python:3.11{DIGEST} AS base\nUSER app\nFROM base AS final\nCOPY . /app\n"
    assert _dkr(scan_text(tmp_path, "Dockerfile", text)) == []


def test_root_with_group_is_root(tmp_path: Path) -> None:
    text = f"FROM python:3.11{DIGEST}\nUSER root:root\nEXPOSE 8080\n"
    assert _dkr(scan_text(tmp_path, "Dockerfile", text)) == [("ATS-DKR-003", 2, 6, 15, "low")]  # hardening: low


def test_secret_literal_reported_once_by_the_secrets_rules(tmp_path: Path) -> None:
    text = f"FROM python:3.11{DIGEST}\nUSER 1\nENV HF_TOKEN=hf_9jYg7SjjPvttfbfMLZuPjII4OoaQmzBinn\n"
    result = scan_text(tmp_path, "Dockerfile", text)
    assert _dkr(result) == []
    assert [f.rule_id for f in result.findings if f.region.start_line == 3] == ["ATS-SEC-002"]


def test_secret_name_region(tmp_path: Path) -> None:
    text = f"FROM python:3.11{DIGEST}\nUSER 1\nARG OPENAI_API_KEY\nARG MAX_TOKENS=512\n"
    assert _dkr(scan_text(tmp_path, "Dockerfile", text)) == [("ATS-DKR-001", 3, 5, 19, "medium")]


def test_credential_file_in_json_form_copy(tmp_path: Path) -> None:
    text = f'FROM python:3.11{DIGEST}\nUSER 1\nCOPY [".netrc", "/root/.netrc"]\n'
    assert _dkr(scan_text(tmp_path, "Dockerfile", text)) == [("ATS-DKR-002", 3, 8, 14, "high")]


def test_parse_problems_are_notices(tmp_path: Path) -> None:
    text = f"FROM python:3.11{DIGEST}\nUSER 1\nRUN <<EOF\necho never closed\n"
    result = scan_text(tmp_path, "Dockerfile", text)
    notices = [(n.level, n.line, n.message) for n in result.notices if n.path == "Dockerfile"]
    assert ("warning", 3, "Dockerfile: heredoc `EOF` of RUN is never terminated.") in notices
    assert not [n for n in result.notices if n.level == "error"]


def test_windows_escape_and_crlf(tmp_path: Path) -> None:
    text = f"# escape=`\r\nFROM mcr.microsoft.com/windows/servercore:ltsc2022{DIGEST}\r\nUSER ContainerUser\r\nRUN curl.exe -k `\r\n    https://x/model.onnx -o C:\\m.onnx\r\n"
    result = scan_text(tmp_path, "Dockerfile", text)
    assert _dkr(result) == []
    assert sorted(
        (f.rule_id, f.region.start_line) for f in result.findings if f.rule_id.startswith("ATS-CMD")
    ) == [
        ("ATS-CMD-015", 5),
        ("ATS-CMD-016", 4),
    ]


def test_image_name_for_the_nonroot_table() -> None:
    from atlascan.engines.dockerfile import _documented_nonroot, _image_name

    assert _image_name(f"docker.io/library/python:3.11{DIGEST}") == "python"
    assert _image_name("registry.internal:5000/ml/serving:1.2") == "registry.internal:5000/ml/serving"
    assert _image_name("quay.io/jupyter/pytorch-notebook:2024-07-08") == "quay.io/jupyter/pytorch-notebook"
    rows = ({"images": ["jupyter/*", "rayproject/ray"]},)
    assert _documented_nonroot("docker.io/jupyter/base-notebook:latest", rows)
    assert _documented_nonroot("rayproject/ray:2.46.0", rows)
    assert not _documented_nonroot("rayproject/ray-llm-but-not-listed:1", rows)
    assert not _documented_nonroot("${BASE_IMAGE}", rows)


def test_documented_nonroot_base_switched_back_to_root_is_reported(tmp_path: Path) -> None:
    text = f"FROM rayproject/ray:2.46.0{DIGEST}\nUSER root\nRUN apt-get update\nCMD serve run app:main\n"
    assert _dkr(scan_text(tmp_path, "Dockerfile", text)) == [("ATS-DKR-003", 2, 6, 10, "low")]
    assert _dkr(scan_text(tmp_path, "Dockerfile", f"FROM rayproject/ray:2.46.0{DIGEST}\nRUN ls\n")) == []


def test_root_is_reported_only_for_an_image_that_serves(tmp_path: Path) -> None:
    job = f"FROM python:3.11{DIGEST}\nUSER root\nENTRYPOINT [\"python\", \"convert.py\"]\n"
    assert _dkr(scan_text(tmp_path, "Dockerfile", job)) == []
    # Evidence in a stage of this file the final stage builds on counts (image config inherits).
    served = f"FROM python:3.11{DIGEST} AS app\nEXPOSE 8080\nFROM app\nCOPY . /app\n"
    result = scan_text(tmp_path, "Dockerfile", served)
    assert _dkr(result) == [("ATS-DKR-003", 3, 6, 9, "low")]
    assert [f.message for f in result.findings if f.rule_id == "ATS-DKR-003"] == [
        "The final stage runs as root and the image serves the network: the final stage sets no USER;"
        " it has `EXPOSE 8080` (line 2)."
    ]
    shell = f"FROM python:3.11{DIGEST}\nCMD gunicorn -b 0.0.0.0:8000 app:app\n"
    assert _dkr(scan_text(tmp_path, "Dockerfile", shell)) == [("ATS-DKR-003", 1, 6, 89, "low")]


def test_server_base_image_counts_only_without_a_command_of_its_own(tmp_path: Path) -> None:
    assert _dkr(scan_text(tmp_path, "Dockerfile", f"FROM nginx:1.27{DIGEST}\nCOPY site /usr/share/nginx/html\n")) == [
        ("ATS-DKR-003", 1, 6, 88, "low")
    ]
    job = f"FROM nginx:1.27{DIGEST}\nENTRYPOINT [\"/bin/sh\", \"/render.sh\"]\n"
    assert _dkr(scan_text(tmp_path, "Dockerfile", job)) == []


@pytest.mark.parametrize(
    ("command", "serves"),
    [
        ('CMD ["bash"]', False),
        ("CMD bash", False),
        ('CMD ["/bin/bash"]', False),
        ('CMD ["sh"]', False),
        ('CMD ["/bin/bash", "-l"]', False),
        ('ENTRYPOINT ["/usr/bin/env"]\nENTRYPOINT ["/bin/zsh"]', False),  # the last ENTRYPOINT counts
        ('CMD ["bash", "-c", "python api.py"]', True),  # a script, not a shell to type into
        ("CMD sh start.sh", True),
        ('ENTRYPOINT ["/entrypoint.sh"]\nCMD ["bash"]', True),  # a wrapper may start anything
        ("RUN echo no command of its own", True),  # the base image's command: unknown
    ],
)
def test_an_interactive_shell_serves_nothing(tmp_path: Path, command: str, serves: bool) -> None:
    text = f"FROM python:3.11{DIGEST}\nEXPOSE 7860 8000\n{command}\n"
    assert _dkr(scan_text(tmp_path, "Dockerfile", text)) == ([("ATS-DKR-003", 1, 6, 89, "low")] if serves else [])


def test_a_shell_does_not_hide_a_server_in_an_earlier_stage_or_its_entrypoint(tmp_path: Path) -> None:
    # A shell CMD after a server ENTRYPOINT is the server's argument, not a shell.
    text = f'FROM python:3.11{DIGEST}\nENTRYPOINT ["vllm", "serve"]\nCMD ["bash"]\n'
    assert _dkr(scan_text(tmp_path, "Dockerfile", text)) == [("ATS-DKR-003", 1, 6, 89, "low")]


def test_compose_command_is_what_the_image_runs(tmp_path: Path) -> None:
    from scanning import scan_path, write_tree

    shell = f'FROM python:3.11{DIGEST}\nCOPY . /app\nCMD ["bash"]\n'
    compose = "services:\n  api:\n    build: .\n    command: uvicorn app:api --host 0.0.0.0 --port 8000\n"
    write_tree(tmp_path, {"Dockerfile": shell, "docker-compose.yml": compose})
    result = scan_path(tmp_path, select=["ATS-DKR-003"])
    assert [(f.path, f.region.start_line, f.message) for f in result.findings] == [
        ("Dockerfile", 1, "The final stage runs as root and the image serves the network: the final stage sets no USER;"
         " its compose service `api` (docker-compose.yml) runs a server: `uvicorn app:api --host 0.0.0.0 --port 8000`."),
    ]  # fmt: skip
    # Its `entrypoint:` clears the image's CMD: `bash` alone, with the EXPOSE of the image's own.
    exposed = f"FROM python:3.11{DIGEST}\nEXPOSE 8000\nCMD [\"uvicorn\", \"app:api\"]\n"
    write_tree(tmp_path, {"Dockerfile": exposed.replace("CMD", "ENTRYPOINT"), "docker-compose.yml": "services:\n  dev:\n    build: .\n    entrypoint: bash\n"})
    assert _dkr003(tmp_path) == ["Dockerfile"]  # the image's own ENTRYPOINT serves
    write_tree(tmp_path, {"Dockerfile": f"FROM python:3.11{DIGEST}\nEXPOSE 8000\nCMD python app.py\n"})
    assert _dkr003(tmp_path) == []  # `entrypoint: bash` clears the CMD: a shell
    # One service that runs the image's own command keeps its EXPOSE as evidence.
    write_tree(tmp_path, {"docker-compose.yml": "services:\n  dev:\n    build: .\n    entrypoint: bash\n  app:\n    build: .\n"})
    assert _dkr003(tmp_path) == ["Dockerfile"]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("https://example.com/tool.tar.gz", ("a remote file", "without `--checksum`", None)),
        ("http://example.com/tool", ("a remote file", "over plain http without `--checksum`", "medium")),
        ("https://github.com/org/repo.git", ("the git repository", "at its default branch, not a commit SHA", None)),
        ("git@github.com:org/repo.git#v1.2:sub", ("the git repository", "at `v1.2`, not a commit SHA", None)),
        ("git://example.com/repo.git#main", ("the git repository", "at `main`, not a commit SHA", "medium")),
        ("https://github.com/org/repo.git?ref=v2", ("the git repository", "at `v2`, not a commit SHA", None)),
        ("https://github.com/org/repo.git#" + "a" * 40, None),
        ("https://github.com/org/repo.git?ref=v2&commit=" + "b" * 40, None),
        ("https://huggingface.co/org/m/resolve/" + "c" * 40 + "/model.onnx", None),
        ("vendor/tool.tar.gz", None),
        ("${URL}", None),
    ],
)
def test_remote_add_sources(source: str, expected: tuple[str, str, str | None] | None) -> None:
    from atlascan.engines.dockerfile import _unpinned_remote

    judged = _unpinned_remote(source)
    got = None if judged is None else (judged[0], judged[1], judged[2].name.lower() if judged[2] else None)
    assert got == expected


def test_remote_add_defers_to_the_model_rule_on_the_same_line(tmp_path: Path) -> None:
    text = (
        f"FROM python:3.11{DIGEST}\nUSER 1\n"
        "ADD https://models.example.com/m.onnx /models/\n"
        "ADD https://example.com/tool /usr/local/bin/\n"
    )
    result = scan_text(tmp_path, "Dockerfile", text)
    assert sorted((f.rule_id, f.region.start_line, f.region.start_column) for f in result.findings if f.rule_id in ("ATS-DKR-005", "ATS-CMD-015")) == [
        ("ATS-CMD-015", 3, 5),
        ("ATS-DKR-005", 4, 5),
    ]


def test_tags_everywhere_are_the_practice_held_back_unless_some_image_is_pinned(tmp_path: Path) -> None:
    from atlascan.pathclass import PRACTICE
    from atlascan.scan import ScanOptions, run_scan

    (tmp_path / "serve").mkdir()
    (tmp_path / "serve" / "Dockerfile").write_text("FROM python:3.11-slim\nUSER app\n", "utf-8")
    (tmp_path / "train.Dockerfile").write_text("FROM pytorch/pytorch:2.4.0-cuda12.1-cudnn9-runtime\nUSER app\n", "utf-8")
    (tmp_path / "tool.Dockerfile").write_text("FROM golang\nUSER app\n", "utf-8")

    held: list[str] = []

    def dkr004(practice: bool = False) -> list[tuple[str, int, str, list[str]]]:
        report = frozenset({PRACTICE}) if practice else frozenset()
        result = run_scan(ScanOptions(paths=[tmp_path], root=tmp_path, jobs=1, select=["ATS-DKR-004"], report_classes=report))
        held[:] = [n.message for n in result.notices if "practice" in n.message]
        return sorted((f.path, f.region.start_line, f.severity.label, [r.path for r in f.related]) for f in result.findings)

    # No Dockerfile pins by digest: the tags are the repository's practice, held back and
    # counted in one notice; an untagged image follows the same practice (a digest is the
    # only protection against a moved tag, `latest` or not).
    assert dkr004() == []
    assert held == ["ATS-DKR-004: 3 sites held back as the repository's practice (fewer than half of the Dockerfiles' "
                    "base images are pinned by digest); --include-practice reports them."]
    # Asked for, every unpinned base image is one finding for the repository, at the one
    # that moves most (untagged: medium).
    assert dkr004(practice=True) == [("tool.Dockerfile", 1, "medium", ["serve/Dockerfile", "train.Dockerfile"])]
    assert held == []
    # One image of four pinned by digest (a stage name or scratch is no image): still tags.
    pin = f"python:3.11-slim@sha256:{'a' * 64}"
    (tmp_path / "pinned.Dockerfile").write_text(f"FROM {pin} AS build\nFROM build\nFROM scratch\nUSER app\n", "utf-8")
    assert dkr004() == []
    # Half of them pinned (an ARG default counts where FROM uses it): the others are
    # exceptions to the repository's own practice.
    (tmp_path / "more.Dockerfile").write_text(f"ARG BASE={pin}\nFROM {pin} AS a\nFROM ${{BASE}}\nUSER app\n", "utf-8")
    assert dkr004() == [
        ("serve/Dockerfile", 1, "low", []), ("tool.Dockerfile", 1, "medium", []), ("train.Dockerfile", 1, "low", []),
    ]  # fmt: skip


SERVING = f'FROM python:3.11-slim{DIGEST}\nCOPY serve.py /app/\nEXPOSE 8080\nCMD ["uvicorn", "serve:app", "--host", "0.0.0.0"]\n'


def _deployment(image: str, pod: str = "", container: str = "") -> str:
    """A Deployment running `image`, with optional pod- and container-level securityContext lines."""
    pod_sc = f"      securityContext:\n{pod}" if pod else ""
    container_sc = f"          securityContext:\n{container}" if container else ""
    return (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app\nspec:\n  template:\n    spec:\n"
        f"{pod_sc}      containers:\n        - name: app\n          image: {image}\n{container_sc}"
    )


def _dkr003(root: Path) -> list[str]:
    from scanning import scan_path

    return sorted(f.path for f in scan_path(root, select=["ATS-DKR-003"]).findings)


def test_root_image_deployed_non_root_through_a_ci_matrix_is_silent(tmp_path: Path) -> None:
    from scanning import write_tree

    # kubeflow/pipelines' shape: the matrix builds `apiserver` from backend/Dockerfile and
    # the Deployment runs ghcr.io/kubeflow/kfp-api-server with runAsNonRoot at pod level.
    matrix = (
        "jobs:\n  build:\n    strategy:\n      matrix:\n        include:\n"
        "          - image: apiserver\n            dockerfile: backend/Dockerfile\n            context: .\n"
    )
    write_tree(tmp_path, {
        "backend/Dockerfile": SERVING,
        ".github/workflows/image-builds.yml": matrix,
        "manifests/api.yaml": _deployment("ghcr.io/kubeflow/kfp-api-server:dummy", pod="        runAsNonRoot: true\n"),
    })  # fmt: skip
    assert _dkr003(tmp_path) == []
    # A second workload running the image without a non-root user keeps the finding.
    (tmp_path / "manifests" / "debug.yaml").write_text(_deployment("ghcr.io/kubeflow/kfp-api-server:2.4.0"), "utf-8")
    assert _dkr003(tmp_path) == ["backend/Dockerfile"]
    # So does a container whose runAsUser: 0 overrides the pod's runAsNonRoot.
    (tmp_path / "manifests" / "debug.yaml").write_text(
        _deployment("ghcr.io/kubeflow/kfp-api-server:2.4.0", pod="        runAsNonRoot: true\n", container="            runAsUser: 0\n"),
        "utf-8",
    )
    assert _dkr003(tmp_path) == ["backend/Dockerfile"]
    # The container's runAsUser: 1000 over the pod's runAsUser: 0 runs non-root.
    (tmp_path / "manifests" / "debug.yaml").write_text(
        _deployment("ghcr.io/kubeflow/kfp-api-server:2.4.0", pod="        runAsUser: 0\n", container="            runAsUser: 1000\n"),
        "utf-8",
    )
    assert _dkr003(tmp_path) == []


def test_root_image_deployed_non_root_through_docker_build_is_silent(tmp_path: Path) -> None:
    from scanning import write_tree

    build = (
        "#!/bin/sh\ndocker build --build-arg V=1 -t \"$REGISTRY/model-server:$TAG\" \\\n"
        "  -f serving/Dockerfile.gpu .\n"
        "docker buildx build --file=train/Dockerfile --tag registry.local/trainer:1 .\n"
    )
    write_tree(tmp_path, {
        "serving/Dockerfile.gpu": SERVING,
        "train/Dockerfile": SERVING,
        "scripts/build.sh": build,
        "k8s/serving.yaml": _deployment("registry.local/ml/model-server@sha256:" + "c" * 64, container="            runAsUser: 1000\n"),
        "k8s/train.yaml": _deployment("registry.local/trainer:1"),
    })  # fmt: skip
    # model-server runs as uid 1000; trainer's Deployment sets no user: root.
    assert _dkr003(tmp_path) == ["train/Dockerfile"]


def test_a_lone_unpinned_image_is_no_practice(tmp_path: Path) -> None:
    # One or two references are no habit to follow: each is reported, `latest` at medium.
    result = scan_text(tmp_path, "Dockerfile", "FROM someuser/base\nUSER 1\n", select=["ATS-DKR-004"])
    assert [(f.region.start_line, f.severity) for f in result.findings] == [(1, Severity.MEDIUM)]
    assert not [n for n in result.notices if n.held]


def test_what_the_scan_cannot_resolve_keeps_the_finding(tmp_path: Path) -> None:
    from scanning import write_tree

    nonroot = _deployment("ghcr.io/acme/kfp-api-server:1.0", pod="        runAsNonRoot: true\n")
    build = "docker build -t ghcr.io/acme/kfp-api-server -f api/Dockerfile .\ndocker build -t ghcr.io/acme/server -f server/Dockerfile .\n"
    # `server` is built but deployed nowhere: `kfp-api-server` is the closer name, so only
    # api/Dockerfile is silent (a different size keeps the two from folding as copies).
    write_tree(tmp_path / "a", {"api/Dockerfile": SERVING, "server/Dockerfile": SERVING + "# server\n", "build.sh": build,
                                "k8s/api.yaml": nonroot})  # fmt: skip
    assert _dkr003(tmp_path / "a") == ["server/Dockerfile"]
    base = {"api/Dockerfile": SERVING, "build.sh": build.splitlines()[0] + "\n", "k8s/api.yaml": nonroot}
    # A chart template runs an image whose name only its values know, perhaps this one as root.
    chart = "apiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n" \
            '        - name: api\n          image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"\n'
    write_tree(tmp_path / "b", {**base, "chart/templates/api.yaml": chart})
    assert _dkr003(tmp_path / "b") == ["api/Dockerfile"]
    # A flow-style container running it as root.
    flow = "apiVersion: v1\nkind: Pod\nspec:\n  containers: [{name: debug, image: ghcr.io/acme/kfp-api-server:1.0, securityContext: {runAsUser: 0}}]\n"
    write_tree(tmp_path / "c", {**base, "k8s/debug.yaml": flow})
    assert _dkr003(tmp_path / "c") == ["api/Dockerfile"]
    # An overlay's patch that makes a workload root, naming no image.
    patch = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: app}\nspec:\n  template:\n    spec:\n      securityContext:\n        runAsUser: 0\n"
    write_tree(tmp_path / "d", {**base, "overlays/debug/patch.yaml": patch})
    assert _dkr003(tmp_path / "d") == ["api/Dockerfile"]
    # A relative -f that fits both the root's Dockerfile and the script folder's: no link.
    write_tree(tmp_path / "e", {"Dockerfile": SERVING, "web/Dockerfile": SERVING + "# web\n", "k8s/web.yaml": _deployment("ghcr.io/acme/web:1", pod="        runAsNonRoot: true\n"),
                                "web/build.sh": 'cd "$(dirname "$0")"\ndocker build -t ghcr.io/acme/web -f Dockerfile .\n'})  # fmt: skip
    assert _dkr003(tmp_path / "e") == ["Dockerfile", "web/Dockerfile"]
    # A compose file that runs the image too (as the image's own user, root).
    write_tree(tmp_path / "g", {**base, "docker-compose.yml": "services:\n  api:\n    image: ghcr.io/acme/kfp-api-server:1.0\n"})
    assert _dkr003(tmp_path / "g") == ["api/Dockerfile"]
    # Resolved, the same image deployed non-root is silent.
    write_tree(tmp_path / "f", base)
    assert _dkr003(tmp_path / "f") == []


def test_root_image_built_by_compose_with_a_non_root_user_is_silent(tmp_path: Path) -> None:
    from scanning import write_tree

    # LLaMA-Factory's shape: the compose file two folders down builds the Dockerfile with
    # the repository root as context; its `user:` picks the user the image runs as.
    compose = (
        "services:\n  app:\n    build:\n      context: ../..\n      dockerfile: ./docker/cuda/Dockerfile\n"
        '    image: acme/app:dev\n    user: "1000:1000"\n'
    )
    write_tree(tmp_path, {"docker/cuda/Dockerfile": SERVING, "docker/cuda/docker-compose.yml": compose})
    assert _dkr003(tmp_path) == []
    # A second service building it with no `user:` runs it as the image's user, root.
    (tmp_path / "docker/cuda/docker-compose.dev.yml").write_text("services:\n  dev:\n    build:\n      context: .\n", "utf-8")
    assert _dkr003(tmp_path) == ["docker/cuda/Dockerfile"]
    (tmp_path / "docker/cuda/docker-compose.dev.yml").unlink()
    # So does a Kubernetes workload running the name the compose build tags it with.
    (tmp_path / "k8s.yaml").write_text(_deployment("registry.local/acme/app:1"), "utf-8")
    assert _dkr003(tmp_path) == ["docker/cuda/Dockerfile"]
    # A compose service running that image by name (no `build:`) is one more run, its own
    # `user:` read as well.
    (tmp_path / "k8s.yaml").unlink()
    write_tree(tmp_path, {"deploy/docker-compose.yml": "services:\n  app:\n    image: acme/app:dev\n    user: app\n"})
    assert _dkr003(tmp_path) == []
    write_tree(tmp_path, {"deploy/docker-compose.yml": "services:\n  app:\n    image: acme/app:dev\n    user: root\n"})
    assert _dkr003(tmp_path) == ["docker/cuda/Dockerfile"]


@pytest.mark.parametrize(
    ("user", "nonroot"),
    [
        ("1000", True),
        ("app", True),
        ("${APP_RUNTIME_UID:-6972}:${APP_RUNTIME_GID:-6972}", True),
        ("${UID-1000}", True),
        ("root", False),
        ("0", False),
        ("0:0", False),
        ("root:app", False),
        ("${UID:-0}:${GID:-0}", False),
        ("${UID}", False),  # no default: the operator's choice, unknown (as a templated runAsUser)
        ("$UID:$GID", False),
        ("", False),
        (None, False),  # no `user:`: the image's own, root here
    ],
)
def test_compose_user(user: str | None, nonroot: bool) -> None:
    from atlascan.engines.image_links import _compose_nonroot

    assert _compose_nonroot(user) is nonroot


def test_compose_build_forms() -> None:
    from atlascan.engines.image_links import _compose_dockerfile
    from atlascan.parsers.yaml import Mapping, parse

    scanned = {"docker/Dockerfile", "docker/gpu/Dockerfile.cuda", "Dockerfile", "app/Dockerfile"}

    def build(text: str, folder: str = "docker") -> str:
        root = next(iter(parse(f"build: {text}\n").roots()))
        assert isinstance(root, Mapping)
        return _compose_dockerfile(root.get("build"), folder, scanned)

    assert build(".") == "docker/Dockerfile"
    assert build("{context: gpu, dockerfile: Dockerfile.cuda}") == "docker/gpu/Dockerfile.cuda"
    assert build("{context: .., dockerfile: ./app/Dockerfile}") == "app/Dockerfile"
    assert build("{dockerfile: Dockerfile}", folder="") == "Dockerfile"
    assert build("{args: {V: 1}}") == "docker/Dockerfile"  # context `.`, file `Dockerfile`
    assert build("{context: ., dockerfile_inline: 'FROM x'}") == ""
    assert build("https://github.com/acme/app.git") == ""
    assert build("${CONTEXT:-.}") == ""
    assert build("gpu") == ""  # docker/gpu/Dockerfile is not scanned


def test_image_links_read_build_definitions() -> None:
    from atlascan.engines.image_links import (
        _build_flags,
        _built_as,
        _command_builds,
        repository_name,
    )

    assert _build_flags(["docker", "build", "-f", "a/Dockerfile", "-t", "x:1", "--tag=y", "."]) == (["x:1", "y"], "a/Dockerfile", ".")
    assert _build_flags(["docker", "build", "--file", "Dockerfile.gpu", "-tz", "."]) == (["z"], "Dockerfile.gpu", ".")
    # A flag's value is not the context; switches take none.
    assert _build_flags(["docker", "buildx", "build", "--platform", "linux/amd64", "--push", "-t", "x", "app"]) == (["x"], "", "app")
    # Without `-f`, the context's Dockerfile is built (autotrain-advanced's `docker build -t NAME .`).
    assert [(b.dockerfile, b.names) for b in _command_builds("docker build -t autotrain-advanced:latest .", "")] == [("Dockerfile", ("autotrain-advanced",))]
    assert list(_command_builds("docker build -t x $CONTEXT", "")) == []
    assert repository_name("ghcr.io/kubeflow/kfp-frontend:dummy@sha256:abc") == "kfp-frontend"
    assert repository_name("${{ env.REGISTRY }}/${{ matrix.image }}:latest") == ""
    assert _built_as("kfp-api-server", {"apiserver", "frontend"}) == {"apiserver"}
    assert _built_as("kfp-visualization-server", {"visualization-server"}) == {"visualization-server"}
    assert _built_as("kfp-frontend", {"kfp_frontend"}) == {"kfp_frontend"}
    assert not _built_as("observer", {"server"}) and not _built_as("frontend-proxy", {"frontend"})
    # The closest name wins: `kfp-api-server` is the image built as it, not also `server`.
    assert _built_as("kfp-api-server", {"kfp-api-server", "server"}) == {"kfp-api-server"}
    # Each match reads only its own command, up to its separator, and at most 200 a file.
    tail = "docker build -t acme/x -f a/Dockerfile ."
    assert [b.names for b in _command_builds("docker build . ; " * 10 + tail, "")] == [("x",)]
    assert list(_command_builds("docker build . ; " * 200 + tail, "")) == []


def test_root_images_are_practice_where_none_runs_non_root_and_no_deployment_gives_the_host(tmp_path: Path) -> None:
    """generative-ai's 40 Cloud Run samples and LLaMA-Factory's GPU images set no USER: root
    is the repository's practice and stays in the container (held back, one notice). A
    deployment handing a container the host (kubernetes-goat's escape scenarios), or images
    that mostly run non-root (aibrix), keep each root image reported."""
    from scanning import scan_path, write_tree

    ports = {"chat": 8080, "search": 8081, "agent": 8082}
    write_tree(tmp_path, {f"{name}/Dockerfile": SERVING.replace("8080", str(port)) for name, port in ports.items()})
    result = scan_path(tmp_path, select=["ATS-DKR-003"])
    assert result.findings == []
    (notice,) = [n for n in result.notices if n.held_as == "practice"]
    assert notice.held == 3 and "no Dockerfile of the repository sets a non-root user" in notice.message
    (tmp_path / "k8s.yaml").write_text(_deployment("chat:1", container="            privileged: true\n"), "utf-8")
    assert _dkr003(tmp_path) == ["agent/Dockerfile", "chat/Dockerfile", "search/Dockerfile"]
    (tmp_path / "k8s.yaml").unlink()
    (tmp_path / "worker" / "Dockerfile").parent.mkdir()
    (tmp_path / "worker" / "Dockerfile").write_text(SERVING + "USER 65532\n", "utf-8")  # one in four runs non-root
    assert _dkr003(tmp_path) == ["agent/Dockerfile", "chat/Dockerfile", "search/Dockerfile"]
