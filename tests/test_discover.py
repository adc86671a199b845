"""Discovery and hostile input: ignore files, links, vendored and generated files, bad bytes."""

from __future__ import annotations

import os
from pathlib import Path

from atlascan.discover import discover
from atlascan.kinds import classify, sniff
from atlascan.model import Limits
from atlascan.scan import ScanOptions, run_scan
from scanning import scan_path

TOKEN = 'T = "hf_9jYg7SjjPvttfbfMLZuPjII4OoaQmzBinn"\n'


def _paths(root: Path, **kw: object) -> list[str]:
    return [f.path for f in discover([root], root, **kw).files]  # type: ignore[arg-type]


def test_gitignore_nested_and_negated(tmp_path: Path) -> None:
    (tmp_path / ".gitignore").write_text("*.log\nbuild/\n", "utf-8")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / ".gitignore").write_text("secret.py\n!keep.log\n", "utf-8")
    for name in ("a.py", "x.log", "sub/secret.py", "sub/keep.log", "sub/b.py", "build/c.py", "other/secret.py"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x = 1\n", "utf-8")
    assert _paths(tmp_path) == ["a.py", "other/secret.py", "sub/b.py"]
    assert "sub/secret.py" in _paths(tmp_path, use_ignore_files=False)
    found = discover([tmp_path / "sub"], tmp_path).files
    assert [f.path for f in found] == ["sub/b.py"]


def test_excludes(tmp_path: Path) -> None:
    for name in ("a.py", "tests/t.py", "deep/tests/u.py"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x = 1\n", "utf-8")
    assert _paths(tmp_path, exclude=["tests/"]) == ["a.py"]
    assert _paths(tmp_path, exclude=["/tests"]) == ["a.py", "deep/tests/u.py"]
    # a folder named explicitly is scanned although excluded; excludes apply below it
    named = discover([tmp_path / "deep"], tmp_path, exclude=["deep/", "*.log"]).files
    assert [f.path for f in named] == ["deep/tests/u.py"]
    # a file named explicitly is scanned; with force_exclude (the pre-commit hook) it is not
    assert [f.path for f in discover([tmp_path / "tests" / "t.py"], tmp_path, exclude=["tests/"]).files] == ["tests/t.py"]
    assert discover([tmp_path / "tests" / "t.py"], tmp_path, exclude=["tests/"], force_exclude=True).files == []


def test_symlinks_are_never_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "leak.py").write_text(TOKEN, "utf-8")
    root = tmp_path / "root"
    root.mkdir()
    (root / "real.py").write_text("x = 1\n", "utf-8")
    os.symlink(outside, root / "link_out")
    os.symlink(root, root / "loop")
    os.symlink(outside / "leak.py", root / "leak.py")
    result = scan_path(root)
    assert [f.path for f in result.files] == ["real.py"]
    assert not result.findings
    messages = {n.path: n.message for n in result.notices}
    assert "link_out" in messages and "leak.py" in messages
    assert "loop" not in messages  # a loop back inside the root is simply not followed


def test_vendored_folders_skipped_with_a_notice(tmp_path: Path) -> None:
    (tmp_path / "node_modules" / "pkg").mkdir(parents=True)
    (tmp_path / "node_modules" / "pkg" / "x.py").write_text(TOKEN, "utf-8")
    (tmp_path / "flows" / "_vendor" / "click").mkdir(parents=True)  # Python's vendoring convention
    (tmp_path / "flows" / "_vendor" / "click" / "termui.py").write_text(TOKEN, "utf-8")
    result = scan_path(tmp_path)
    assert not result.findings
    assert {"node_modules", "flows/_vendor"} <= {n.path for n in result.notices}
    assert run_scan(ScanOptions(paths=[tmp_path], root=tmp_path, include_vendored=True, jobs=1)).findings


def test_a_kustomize_distributions_upstream_copy_is_vendored(tmp_path: Path) -> None:
    role = "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: x}\nrules:\n  - apiGroups: ['']\n    resources: [secrets]\n    verbs: [list]\n"
    for folder in ("applications/katib/upstream/rbac", "applications/katib/overlays"):
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / "role.yaml").write_text(role, "utf-8")
    result = scan_path(tmp_path, select=["ATS-K8S-018"])
    assert [f.path for f in result.findings] == ["applications/katib/overlays/role.yaml"]
    assert any(n.path == "applications/katib/upstream" for n in result.notices)


def test_classification() -> None:
    assert classify(".github/workflows/ci.yml") == "gha-workflow"
    assert classify("deploy/docker-compose.prod.yaml") == "compose"
    assert classify("Dockerfile.gpu") == "dockerfile"
    assert classify("src/parsers/dockerfile.py") == "python"
    assert classify("docs/Dockerfile.md") == "text"
    assert classify("dockerfile.abi3.so") is None and classify("dockerfile.h") is None
    assert classify("infra/main.tf") == "terraform"
    assert classify("models/model.pt") == "artifact"
    assert classify("requirements-dev.txt") == "requirements"
    assert classify("notebooks/eda.ipynb") == "notebook"
    assert classify("MLproject") == "mlproject"
    assert classify(".gitlab-ci.yml") == "gitlab-ci"
    assert classify("k8s/deploy.yaml") == "yaml"
    assert classify("image.png") is None
    assert sniff(b"\x80\x04\x95") == "artifact"
    assert sniff(b"#!/usr/bin/env python3\n") == "python"
    assert sniff(b"\x89PNG") is None


def test_unknown_binary_with_pickle_magic_is_an_artifact(tmp_path: Path) -> None:
    (tmp_path / "weights").write_bytes(b"\x80\x04\x95\x00")
    (tmp_path / "picture.png").write_bytes(b"\x89PNG\r\n")
    assert [(f.path, f.kind) for f in discover([tmp_path], tmp_path).files] == [("weights", "artifact")]


def test_bad_text_becomes_notices_and_scan_goes_on(tmp_path: Path) -> None:
    (tmp_path / "latin1.py").write_bytes(b"# caf\xe9\n" + TOKEN.encode())
    (tmp_path / "nul.py").write_bytes(b"x\x00y" + TOKEN.encode())
    (tmp_path / "gen.py").write_text("# Code generated by protoc. DO NOT EDIT.\n" + TOKEN, "utf-8")
    (tmp_path / "versioned.py").write_text('__version__ = "1.0"  # DO NOT EDIT THIS LINE MANUALLY\n' + TOKEN, "utf-8")
    (tmp_path / "big.py").write_text(TOKEN * 4000, "utf-8")
    (tmp_path / "ok.py").write_text(TOKEN, "utf-8")
    (tmp_path / "release.yaml").write_text("apiVersion: v1\nkind: ConfigMap\ndata:\n" + "  k: v\n" * 200_000 + "  t: hf_9jYg7SjjPvttfbfMLZuPjII4OoaQmzBinn\n", "utf-8")
    opts = ScanOptions(paths=[tmp_path], root=tmp_path, jobs=1, limits=Limits(max_text_bytes=100_000))
    result = run_scan(opts)
    assert {f.path for f in result.findings} == {"ok.py", "versioned.py"}
    notes = {n.path: n for n in result.notices}
    assert "not valid UTF-8" in notes["latin1.py"].message and notes["latin1.py"].line == 1
    assert "binary" in notes["nul.py"].message
    assert "Generated" in notes["gen.py"].message
    assert "limit" in notes["big.py"].message
    assert "generated bundle" in notes["release.yaml"].message
    opts = ScanOptions(paths=[tmp_path], root=tmp_path, jobs=1, limits=Limits(max_text_bytes=100_000, include_generated=True))
    assert {f.path for f in run_scan(opts).findings} >= {"ok.py", "gen.py", "big.py", "release.yaml"}


def test_a_shell_installer_that_embeds_manifests_is_a_generated_bundle(tmp_path: Path) -> None:
    manifests = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n" * 6000
    piped = "curl -sSL https://get.example.com/install.sh | bash\n"
    (tmp_path / "install-with-manifests.sh").write_text(
        f"#!/bin/bash\n{piped}cat <<'MANIFEST_EOF' | kubectl apply -f -\n{manifests}MANIFEST_EOF\n", "utf-8")
    # As long, but written by a person: commands, and a here-string that is no heredoc.
    (tmp_path / "setup.sh").write_text(f"#!/bin/bash\nread -ra parts <<< \"$X\"\n{piped}" + "echo step\n" * 30_000, "utf-8")
    result = run_scan(ScanOptions(paths=[tmp_path], root=tmp_path, jobs=1))
    assert {f.path for f in result.findings if f.rule_id == "ATS-CMD-013"} == {"setup.sh"}
    notes = {n.path: n.message for n in result.notices}
    assert "generated installer bundle" in notes["install-with-manifests.sh"]
    opts = ScanOptions(paths=[tmp_path], root=tmp_path, jobs=1, limits=Limits(include_generated=True))
    assert {f.path for f in run_scan(opts).findings if f.rule_id == "ATS-CMD-013"} == {"setup.sh", "install-with-manifests.sh"}


def test_pool_and_in_process_agree(tmp_path: Path) -> None:
    for i in range(60):
        (tmp_path / f"m{i}.py").write_text(("x = 1\n" * i) + TOKEN, "utf-8")
    one = run_scan(ScanOptions(paths=[tmp_path], root=tmp_path, jobs=1))
    pool = run_scan(ScanOptions(paths=[tmp_path], root=tmp_path, jobs=2))
    key = lambda r: sorted((f.path, f.region.start_line, f.rule_id, f.fingerprint) for f in r.findings)  # noqa: E731
    assert len(one.findings) == 60
    assert key(one) == key(pool)


def test_minified_code_is_skipped_but_notebooks_with_images_are_not(tmp_path: Path) -> None:
    (tmp_path / "app.js").write_text("var a=1;" * 4000 + "\n" + 'const k = "' + TOKEN.split('"')[1] + '";\n', "utf-8")
    import json

    image = "iVBORw0KGgo" * 3000  # one 33,000-character line, as nbformat stores images
    cell = {"cell_type": "code", "metadata": {}, "source": [TOKEN], "execution_count": 1,
            "outputs": [{"data": {"image/png": image}, "output_type": "display_data", "metadata": {}}]}
    nb = json.dumps({"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}, indent=1)
    (tmp_path / "eda.ipynb").write_text(nb, "utf-8")
    result = run_scan(ScanOptions(paths=[tmp_path], root=tmp_path, jobs=1))
    assert {f.path for f in result.findings} == {"eda.ipynb"}
    assert "Minified" in {n.path: n.message for n in result.notices}["app.js"]


def test_a_generated_ci_definition_is_still_scanned(tmp_path: Path) -> None:
    # terraform-google-vertex-ai's workflows come from one template ("This file is
    # automatically generated from values at ..."): GitHub runs them as written.
    banner = "# NOTE: This file is automatically generated from values at:\n# https://example.com/locals.tf\n"
    workflow = banner + (
        "on: pull_request_target\njobs:\n  t:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - run: echo \"${{ github.event.pull_request.title }}\"\n"
    )
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    (tmp_path / ".github" / "workflows" / "lint.yaml").write_text(workflow, "utf-8")
    (tmp_path / "gen.py").write_text("# This file is automatically generated by a tool.\n" + TOKEN, "utf-8")
    result = run_scan(ScanOptions(paths=[tmp_path], root=tmp_path, jobs=1))
    assert {(f.path, f.rule_id) for f in result.findings} == {(".github/workflows/lint.yaml", "ATS-GHA-001")}
    assert [n.path for n in result.notices if "Generated" in n.message] == ["gen.py"]


def test_a_saved_mlflow_models_recorded_environment_is_generated(tmp_path: Path) -> None:
    # azureml-examples' `cli/endpoints/online/ncd/sklearn-diabetes/model/`: what
    # mlflow.sklearn.log_model wrote. Its requirements are MLflow's record of the training
    # environment; the MLmodel file (a cloudpickle flavor) is still read.
    mlmodel = "flavors:\n  sklearn:\n    pickled_model: model.pkl\n    serialization_format: cloudpickle\n"
    requirements = "mlflow\ncloudpickle==3.1.1\nscikit-learn==1.7.0\n"
    conda = "channels:\n- conda-forge\ndependencies:\n- python=3.12\n- pip\n- pip:\n  - mlflow\n  - cloudpickle==3.1.1\n  - scikit-learn==1.7.0\nname: mlflow-env\n"
    python_env = "python: 3.12.3\nbuild_dependencies:\n- pip\n- setuptools\ndependencies:\n- -r requirements.txt\n"
    model = tmp_path / "endpoints" / "sklearn-diabetes" / "model"
    model.mkdir(parents=True)
    for name, body in (("MLmodel", mlmodel), ("requirements.txt", requirements), ("conda.yaml", conda), ("python_env.yaml", python_env)):
        (model / name).write_text(body, "utf-8")
    # The same file written by hand beside a service, a folder named MLmodel, an MLmodel file
    # MLflow did not write (no `flavors:`): product.
    service = tmp_path / "service"
    (service / "MLmodel").mkdir(parents=True)
    (service / "requirements.txt").write_text(requirements, "utf-8")
    worker = tmp_path / "worker"
    worker.mkdir()
    (worker / "MLmodel").write_text("# the model goes here\n", "utf-8")
    (worker / "requirements.txt").write_text(requirements + "torch\n", "utf-8")
    pedantic = frozenset({"pedantic"})  # ATS-DEP-005's findings show what was read
    result = run_scan(ScanOptions(paths=[tmp_path], root=tmp_path, jobs=1, report_classes=pedantic))
    assert sorted((f.rule_id, f.path) for f in result.findings) == [
        ("ATS-ART-008", "endpoints/sklearn-diabetes/model/MLmodel"),
        ("ATS-DEP-005", "service/requirements.txt"),
        ("ATS-DEP-005", "worker/requirements.txt"),
    ]
    notes = [(n.path, n.message) for n in result.notices if "MLflow" in n.message]
    assert notes == [("endpoints/sklearn-diabetes/model", "Saved MLflow model: the environment MLflow recorded "
                      "(conda.yaml, python_env.yaml, requirements.txt) skipped (use --include-generated to scan it).")]
    opts = ScanOptions(paths=[tmp_path], root=tmp_path, jobs=1, limits=Limits(include_generated=True), report_classes=pedantic)
    assert "endpoints/sklearn-diabetes/model/requirements.txt" in {f.path for f in run_scan(opts).findings}
    assert _paths(model) == ["MLmodel"]
    assert _paths(model, include_generated=True) == ["MLmodel", "conda.yaml", "python_env.yaml", "requirements.txt"]
