"""The flow's steps: the parse stage shares one Document per file, only real comments
suppress, and the dedupe step knows which rules are enabled."""

from __future__ import annotations

from pathlib import Path

from atlascan import parsers
from atlascan.model import SourceFile
from scanning import pairs, scan_path, write_tree

POD = """apiVersion: v1
kind: Pod
metadata:
  name: trainer
spec:
  containers:
    - name: train
      image: ghcr.io/acme/train@sha256:0e5b2e5c8a9c0f3d6a4e1b7c2d9f8e3a6b5c4d1e0f9a8b7c6d5e4f3a2b1c0d9e
      env:
        - name: HF_TOKEN
          value: hf_9jYg7SjjPvttfbfMLZuPjII4OoaQmzBinn
"""


def test_literal_token_in_pod_env_is_one_finding_by_the_secrets_rule(tmp_path: Path) -> None:
    write_tree(tmp_path, {"pod.yaml": POD})
    found = pairs(scan_path(tmp_path), "ATS-")
    assert ("ATS-SEC-002", 11) in found
    assert ("ATS-K8S-006", 11) not in found


def test_with_the_secrets_rules_ignored_the_manifest_rule_still_reports_the_token(tmp_path: Path) -> None:
    write_tree(tmp_path, {"pod.yaml": POD})
    result = scan_path(tmp_path, ignore=["ATS-SEC"])
    assert ("ATS-K8S-006", 11) in pairs(result)
    assert all("hf_9jYg7SjjPvttfbfMLZuPjII4OoaQmzBinn" not in f.snippet + f.message for f in result.findings)


def test_marker_inside_a_python_string_does_not_suppress(tmp_path: Path) -> None:
    write_tree(tmp_path, {"load.py": (
        "import pickle\n"
        'HELP = """\n'
        "# atlascan: ignore[ATS-PY-001] copied from the docs\n"
        '"""\n'
        "def load(path):\n"
        "    # atlascan: ignore[ATS-PY-001] our own file, verified by hash\n"
        "    a = pickle.load(open(path, 'rb'))\n"
        'NOTE = """\n'
        "# atlascan: ignore[ATS-PY-001] not a comment either\n"
        '"""; b = pickle.loads(open("x", "rb").read())\n'
    )})
    result = scan_path(tmp_path, select=["ATS-PY-001"])
    by_line = {f.region.start_line: f.suppression for f in result.findings}
    assert by_line[7] is not None and "verified by hash" in by_line[7].justification
    assert by_line[10] is None


def test_marker_inside_a_yaml_block_scalar_does_not_suppress(tmp_path: Path) -> None:
    write_tree(tmp_path, {".github/workflows/ci.yml": (
        "on: pull_request_target\n"
        "jobs:\n"
        "  build:\n"
        "    runs-on: ubuntu-latest\n"
        "    steps:\n"
        "      - run: |\n"
        "          # atlascan: ignore[ATS-GHA-001] a shell comment in the script, not a YAML one\n"
        "          echo \"${{ github.event.pull_request.title }}\"\n"
    )})
    result = scan_path(tmp_path, select=["ATS-GHA-001"])
    hits = [f for f in result.findings if f.rule_id == "ATS-GHA-001"]
    assert hits and all(f.suppression is None for f in hits)
    assert {f.region.start_line for f in hits} == {8}


def test_a_yaml_comment_does_suppress(tmp_path: Path) -> None:
    write_tree(tmp_path, {".github/workflows/ci.yml": (
        "on: pull_request_target\n"
        "jobs:\n"
        "  build:\n"
        "    runs-on: ubuntu-latest\n"
        "    steps:\n"
        "      # atlascan: ignore[ATS-GHA-001] the title is validated upstream\n"
        "      - run: echo \"${{ github.event.pull_request.title }}\"\n"
    )})
    hits = [f for f in scan_path(tmp_path, select=["ATS-GHA-001"]).findings]
    assert [(f.region.start_line, f.suppression is not None) for f in hits] == [(7, True)]


def test_a_document_parses_once_for_every_engine(tmp_path: Path) -> None:
    calls = []
    file = SourceFile("a.yaml", str(tmp_path / "a.yaml"), "yaml", 10)
    doc = parsers.document(file, "a: 1\nb: [2\n")
    for _ in range(3):
        try:
            _ = doc.tree
        except Exception as exc:
            calls.append(type(exc).__name__)
    assert calls == ["ParseError"] * 3
    ok = parsers.document(file, "a: 1\n")
    assert ok.tree is ok.tree


def test_a_named_folder_is_classed_by_the_path_below_it(tmp_path: Path) -> None:
    from atlascan.discover import discover

    write_tree(tmp_path, {"examples/platform/app.py": "x = 1\n", "examples/platform/tests/test_app.py": "x = 1\n"})
    named = discover([tmp_path / "examples" / "platform"], tmp_path)
    assert {f.path: f.path_class for f in named.files} == {
        "examples/platform/app.py": "product",
        "examples/platform/tests/test_app.py": "tests",
    }
    whole = discover([tmp_path], tmp_path)
    assert {f.path: f.path_class for f in whole.files} == {
        "examples/platform/app.py": "docs",
        "examples/platform/tests/test_app.py": "tests",
    }


def test_developer_tooling_and_local_environments_are_classed_tests() -> None:
    from atlascan.pathclass import PathClasses, tree_of

    classes = PathClasses()
    tooling = {
        "benchmark/memory/run.py": "benchmark/",
        "tools/kind/webhook-proxy.yaml": "tools/kind/",
        ".buildkite/test-e2e.yml": ".buildkite/",
        "manifests/kustomize/env/dev/kustomization.yaml": "manifests/kustomize/env/dev/",
        "apiserver/deploy/local/insecure/kustomization.yaml": "apiserver/deploy/local/",
        ".cloud-build/cleanup/resource_cleanup_manager.py": ".cloud-build/",
        ".gitpod.Dockerfile": "./",
        "ui/.gitpod.yml": "ui/",
        "devtools/tilt/k8s/minio-secret.yaml": "devtools/",  # Metaflow's Tilt dev stack
        "qa/L0_backend_python/test.sh": "qa/",  # Triton's quality-assurance suite
        "qa/common/tests/helpers.py": "qa/",
        ".github/determine_missing_preset_images.py": ".github/",  # kaito's CI script
        "Dockerfile.QA": "./",  # Triton's quality-assurance image
        "docker/Dockerfile.test": "docker/",
        "docker-compose.test.yml": "./",  # horovod's CI test services
        "deploy/compose-ci.yaml": "deploy/",
        "development/vllm/macos/deployment.yaml": "development/",  # aibrix's contributors' clusters
    }
    for path, tree in tooling.items():
        assert classes.of_file(path) == "tests", path
        assert tree_of(path, "tests") == tree, path
    # A local runner and a deployment stage's settings ship: product.
    for path in ("sdk/python/kfp/local/orchestrator.py", "infra/deploy_app/config/dev/app.json", "src/dev.py",
                 "models/qa/serve.py", "qa.py", "Dockerfile.qaoa", "app/development/settings.py", "docker-compose.yml",
                 "compose.testing-tools.yaml"):  # a question-answering model deeper down
        assert classes.of_file(path) == "product", path
    # A project template's seed code is the sample each new repository starts from.
    for path in ("batch-inference/seedcode/pipelines/train.py", "mlops-cdk/seed_code/.github/workflows/build.yml"):
        assert classes.of_file(path) == "docs", path
    # Compound folder names of samples (sagemaker-python-sdk's `v3-examples/`, `example_notebooks/`).
    samples = {
        "v3-examples/inference-examples/local-mode.ipynb": "v3-examples/",
        "sagemaker-core/example_notebooks/get_started.ipynb": "sagemaker-core/example_notebooks/",
        "course/tutorials_v2/train.py": "course/tutorials_v2/",
        # ai-on-gke's `ray-on-gke/guides/`, user guides and quickstarts are walk-throughs too
        "ray-on-gke/guides/raytrain/jupyter-spec.yaml": "ray-on-gke/guides/",
        "docs-src/user-guides/serve.py": "docs-src/user-guides/",
        "apps/quickstart/app.py": "apps/quickstart/",
    }
    for path, tree in samples.items():
        assert classes.of_file(path) == "docs", path
        assert tree_of(path, "docs") == tree, path
    # A word inside another word is no sample folder.
    for path in ("src/sampler/weighted.py", "src/demographics/model.py", "src/resamples.py", "src/guideline/rules.py"):
        assert classes.of_file(path) == "product", path
    # Compound folder names of tests (MLServer's `runtimes/alibi-explain/tests_alibi_explain/`).
    tests = {
        "runtimes/alibi-explain/tests_alibi_explain/helpers/utils.py": "runtimes/alibi-explain/tests_alibi_explain/",
        "frontend/server/integration-tests/helpers.py": "frontend/server/integration-tests/",
        "docker/devbox-bundled/manifests/complete.yaml": "docker/devbox-bundled/",  # Flyte's local sandbox
    }
    for path, tree in tests.items():
        assert classes.of_file(path) == "tests", path
        assert tree_of(path, "tests") == tree, path
    # `tests` inside a word, and compounds of `test` and `e2e`, are no test folders: an A/B test
    # feature ships, a test split is data, an end-to-end sample is a sample, a CI action holds a token.
    for path in ("src/ab_test/assign.py", "src/contests/rank.py", "data/test-mltable-folder/MLTable",
                 ".github/actions/test-and-report/action.yml"):
        assert classes.of_file(path) == "product", path
    assert classes.of_file("tutorials/e2e-distributed-pytorch-image/train.py") == "docs"


def test_archived_folders_are_samples_and_names_count_without_surrounding_whitespace() -> None:
    """Retired code kept for reference is samples; folder names count without the whitespace
    around them (amazon-sagemaker-examples' ` archived/`, `   ml_ops/`)."""
    from atlascan.pathclass import PathClasses, tree_of

    classes = PathClasses()
    archived = {
        " archived/workshops/lab12/Dockerfile.inference": " archived/",
        "examples/archived/mistral/qlora.yml": "examples/",
        "   ml_ops/ tests /check.py": "   ml_ops/ tests /",
        "retired_benchmarks/speech_recognition/rnnt/environment.yml": "retired_benchmarks/",  # mlcommons/inference
    }
    for path, tree in archived.items():
        assert classes.of_file(path) == ("tests" if "tests" in path else "docs"), path
        assert tree_of(path, classes.of_file(path)) == tree, path
    # Code that archives, and legacy or deprecated code still shipped, is product.
    for path in ("   ml_ops/pipeline.py", "backend/src/apiserver/archive/log.go", "frontend/archive/build.gradle",
                 "v1/automl/tabular/deprecated/component.yaml", "env/multi-user-legacy/kustomization.yaml",
                 "src/retirement/plan.py"):
        assert classes.of_file(path) == "product", path


_SAMPLE_FILES = {
    # A tutorial loading the model it trained: held back in docs.
    "docs/tutorial/train.py": "import pickle\nmodel = pickle.load(open('model.pkl', 'rb'))\n",
    # Outside input reaching a sink: stands on its own, at high at most.
    "docs/tutorial/serve.py": "import pickle\nfrom flask import request\nmodel = pickle.loads(request.data)\n",
    # The command line of a sample's script is its reader's own choice: held back.
    "docs/tutorial/convert.py": "import pickle, sys\nmodel = pickle.load(open(sys.argv[1], 'rb'))\n",
    # A real-looking token stands on its own wherever it is.
    "tests/unit/test_hub.py": 'HF_TOKEN = "hf_9jYg7SjjPvttfbfMLZuPjII4OoaQmzBinn"\n',
    "tests/unit/test_load.py": "import pickle\nobj = pickle.loads(b'')\n",
    "app/serve.py": "import pickle\nmodel = pickle.load(open('model.pkl', 'rb'))\n",
    # A URI password that repeats its user name is a sample's stand-in: held in docs; a
    # product file's is reported, as is a sample's password that looks real.
    "docs/tutorial/feature_store.yaml": "registry:\n  path: postgresql://feast:feast@db:5432/feast\n",
    "deploy/feature_store.yaml": "registry:\n  path: postgresql://feast:feast@db:5432/feast\n",
    "docs/tutorial/remote.yaml": "registry:\n  path: postgresql://feast:Tr0ub4dor3x@db:5432/feast\n",
    # Prose is documentation wherever it sits: a default credential in a README is held back.
    "app/README.md": "Start MinIO with `MINIO_ROOT_PASSWORD=minioadmin`.\n",
    # CI's own fixtures beside the workflows are test material.
    ".github/resources/proxy/Dockerfile": "FROM alpine\nRUN apk add tinyproxy\n",
    # GitHub runs only the workflows directly in .github/workflows/: below them is CI tooling.
    ".github/workflows/linter/install.sh": "curl -sSL https://get.example.com/lint.sh | sh\n",
}


def test_tests_and_docs_hold_back_what_does_not_stand_alone(tmp_path: Path) -> None:
    result = scan_path(write_tree(tmp_path, _SAMPLE_FILES))
    found = {(f.path, f.rule_id, f.region.start_line, f.severity.name.lower()) for f in result.findings}
    assert found == {
        ("docs/tutorial/serve.py", "ATS-PY-001", 3, "high"),
        ("tests/unit/test_hub.py", "ATS-SEC-002", 1, "high"),
        ("app/serve.py", "ATS-PY-001", 2, "medium"),
        ("deploy/feature_store.yaml", "ATS-SEC-008", 2, "high"),
        ("docs/tutorial/remote.yaml", "ATS-SEC-008", 2, "high"),
    }
    held = {n.path: n.message for n in result.notices if "held back" in n.message}
    assert held == {
        "docs/": "3 findings in docs and samples held back: hardening, pinning and sinks with no outside input shown "
        "(--include-docs reports them).",
        "app/": "1 finding in docs and samples held back: hardening, pinning and sinks with no outside input shown "
        "(--include-docs reports them).",
        ".github/resources/": "1 finding in tests and developer tooling held back: hardening, pinning and sinks with no "
        "outside input shown (--include-tests reports them).",
        ".github/workflows/linter/": "1 finding in tests and developer tooling held back: hardening, pinning and sinks with "
        "no outside input shown (--include-tests reports them).",
        "tests/": "1 finding in tests and developer tooling held back: hardening, pinning and sinks with no outside input shown "
        "(--include-tests reports them).",
    }


def test_include_flags_report_what_was_held_back(tmp_path: Path) -> None:
    from atlascan.pathclass import report_classes

    result = scan_path(write_tree(tmp_path, _SAMPLE_FILES), report_classes=report_classes(tests=True, docs=True, unproven=True, pedantic=True))
    assert {(f.path, f.rule_id) for f in result.findings} >= {
        ("docs/tutorial/train.py", "ATS-PY-001"),
        ("docs/tutorial/convert.py", "ATS-PY-001"),
        ("tests/unit/test_load.py", "ATS-PY-001"),
    }
    # One base image is no practice: CI's untagged one is reported with the tests' findings.
    assert [(n.path, n.held_as) for n in result.notices if n.held] == []
    assert (".github/resources/proxy/Dockerfile", "ATS-DKR-004") in {(f.path, f.rule_id) for f in result.findings}


def test_a_repository_of_samples_is_docs_throughout(tmp_path: Path) -> None:
    # aws/amazon-sagemaker-examples, Azure/azureml-examples: every folder is a sample readers
    # copy (`build_and_train_models/...`), so what would be product is docs; a request
    # reaching a sink stands on its own there, and the repository may say a folder ships.
    files = {
        "train_models/train.py": "import tarfile\n\ndef unpack(path):\n    tarfile.open(path).extractall('data')\n",
        "serve_models/serve.py": "import pickle\nfrom flask import request\nmodel = pickle.loads(request.data)\n",
    }
    remote = '[remote "origin"]\n\turl = https://github.com/aws/amazon-sagemaker-examples.git\n'
    samples = write_tree(tmp_path / "amazon-sagemaker-examples", {**files, ".git/config": remote})
    result = scan_path(samples, report_classes=frozenset())
    assert {(f.path, f.properties["pathClass"]) for f in result.findings} == {("serve_models/serve.py", "docs")}
    assert [n.held_as for n in result.notices if n.held] == ["docs"]
    mine = write_tree(tmp_path / "platform", {**files, ".git/config": remote.replace("amazon-sagemaker-examples", "ml-platform")})
    result = scan_path(mine, report_classes=frozenset())
    assert {(f.path, f.properties["pathClass"]) for f in result.findings} == {
        ("serve_models/serve.py", "product"), ("train_models/train.py", "product"),
    }
    shipped = scan_path(samples, report_classes=frozenset(), path_classes={"product": ["train_models/**"]})
    assert ("train_models/train.py", "product") in {(f.path, f.properties["pathClass"]) for f in shipped.findings}


def test_path_classes_from_the_repository_configuration(tmp_path: Path) -> None:
    from atlascan import config

    write_tree(tmp_path, _SAMPLE_FILES)
    (tmp_path / ".atlascan.toml").write_text('include-tests = true\n[path-classes]\nproduct = ["docs/tutorial/**"]\n')
    cfg = config.load(tmp_path, [tmp_path])
    assert not cfg.notices  # the repository may say what its folders are
    assert cfg.path_classes == {"product": ["docs/tutorial/**"]} and cfg.include_tests
    result = scan_path(tmp_path, path_classes=cfg.path_classes)
    assert ("docs/tutorial/train.py", "ATS-PY-001") in {(f.path, f.rule_id) for f in result.findings}
    (tmp_path / ".atlascan.toml").write_text('[path-classes]\nsamples = ["x/**"]\n')
    try:
        config.load(tmp_path, [tmp_path])
    except config.ConfigError as exc:
        assert "unknown class 'samples'" in str(exc)
    else:
        raise AssertionError("an unknown class is a configuration error")


def test_versioned_copies_of_a_file_are_one_finding_at_the_newest(tmp_path: Path) -> None:
    jupyter = 'FROM python:3.12\nCMD jupyter notebook --ip 0.0.0.0 --NotebookApp.token=""\n'
    files = {f"images/{v}/Dockerfile": jupyter for v in ("1.0.9", "1.0.10", "1.0.2")}
    files["images/other/Dockerfile"] = jupyter  # not a versioned copy: its own finding
    result = scan_path(write_tree(tmp_path, files), select=["ATS-CMD-001"])
    by_path = {f.path: f for f in result.findings}
    assert sorted(by_path) == ["images/1.0.10/Dockerfile", "images/other/Dockerfile"]
    lead = by_path["images/1.0.10/Dockerfile"]
    assert lead.message.endswith("(the same in 2 older versioned copies of this file).")
    assert [(r.path, r.region.start_line) for r in lead.related] == [("images/1.0.2/Dockerfile", 2), ("images/1.0.9/Dockerfile", 2)]
    assert lead.properties["copies"] == 3


def test_copies_of_a_file_in_several_folders_are_one_finding(tmp_path: Path) -> None:
    seed = "import pickle\nmodel = pickle.load(open('xgboost-model', 'rb'))\n"
    files = {f"templates/{name}/pipeline/evaluate.py": seed for name in ("batch", "realtime", "serverless")}
    files["templates/edited/pipeline/evaluate.py"] = "# edited\n" + seed  # another size: its own finding
    result = scan_path(write_tree(tmp_path, files), select=["ATS-PY-001"])
    by_path = {f.path: f for f in result.findings}
    assert sorted(by_path) == ["templates/batch/pipeline/evaluate.py", "templates/edited/pipeline/evaluate.py"]
    lead = by_path["templates/batch/pipeline/evaluate.py"]
    assert lead.message.endswith("(the same in 2 other copies of this file).")
    assert [r.path for r in lead.related] == ["templates/realtime/pipeline/evaluate.py", "templates/serverless/pipeline/evaluate.py"]


def test_a_long_line_repeated_across_files_is_one_finding(tmp_path: Path) -> None:
    piped = "RUN curl -LsSf https://astral.sh/uv/install.sh | sh && uv --version\n"
    for name in ("a", "b", "c"):
        padding = "# build\n" * (ord(name) - ord("a"))  # the line sits at another line in each
        (tmp_path / f"{name}.Dockerfile").write_text("FROM python:3.11-slim\n" + padding + piped, "utf-8")
    (tmp_path / "d.Dockerfile").write_text("FROM python:3.11-slim\nRUN curl -sSL https://get.example.com | sh\n", "utf-8")
    found = sorted(scan_path(tmp_path, select=["ATS-CMD-013"]).findings, key=lambda f: f.path)
    assert [(f.path, f.region.start_line, [(r.path, r.region.start_line) for r in f.related]) for f in found] == [
        ("a.Dockerfile", 2, [("b.Dockerfile", 3), ("c.Dockerfile", 4)]), ("d.Dockerfile", 2, []),
    ]  # fmt: skip
    assert found[0].message.endswith("(the same line in 2 more places).")


def test_a_short_pin_repeated_across_files_is_one_finding(tmp_path: Path) -> None:
    # A pinning rule's short line, the same image in three Dockerfiles, is one pin to change;
    # half the base images are pinned by digest, so the rule reports per file and only the
    # copies fold.
    digest = "python:3.12-slim@sha256:" + "a" * 64
    files = {f"svc/{n}/Dockerfile": f"FROM {digest} AS build\nFROM alpine:3.21\n" for n in ("a", "b", "c")}
    files["svc/d/Dockerfile"] = "FROM alpine:3.20\n"
    files["svc/e/Dockerfile"] = f"FROM {digest}\n"
    found = sorted(scan_path(write_tree(tmp_path, files), select=["ATS-DKR-004"]).findings, key=lambda f: f.path)
    assert [(f.path, f.region.start_line, [(r.path, r.region.start_line) for r in f.related]) for f in found] == [
        ("svc/a/Dockerfile", 2, [("svc/b/Dockerfile", 2), ("svc/c/Dockerfile", 2)]), ("svc/d/Dockerfile", 1, []),
    ]  # fmt: skip


def test_a_pin_folded_in_one_file_and_written_in_another_is_one_finding(tmp_path: Path) -> None:
    # The same action at the same tag twice in one workflow and once in another is one pin
    # to change; a file whose fold mixes other pins keeps its own finding.
    def workflow(*uses: str) -> str:
        steps = "".join(f"      - uses: {u}\n" for u in uses)
        return f"on: push\npermissions: {{}}\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n{steps}"

    files = {
        ".github/workflows/a.yml": workflow("docker/login-action@v4", "docker/login-action@v4"),
        ".github/workflows/b.yml": workflow("docker/login-action@v4"),
        ".github/workflows/c.yml": workflow("docker/login-action@v4", "docker/build-push-action@v6"),
        # most references are SHAs: each tag breaks the repository's practice
        ".github/workflows/d.yml": workflow(*(f"actions/cache@{n}" + "0" * 39 for n in "123456")),
    }
    found = sorted(scan_path(write_tree(tmp_path, files), select=["ATS-GHA-004"]).findings, key=lambda f: f.path)
    assert [(f.path, f.region.start_line, [(r.path, r.region.start_line) for r in f.related]) for f in found] == [
        (".github/workflows/a.yml", 7, [(".github/workflows/a.yml", 8), (".github/workflows/b.yml", 7)]),
        (".github/workflows/c.yml", 7, [(".github/workflows/c.yml", 8)]),
    ]  # fmt: skip
    assert found[0].message.endswith("pin it to a full commit SHA (the same line in 2 more places).")


def test_a_branch_pin_repeated_across_files_is_one_finding(tmp_path: Path) -> None:
    # promptflow's 84 generated workflows run one third-party action at `main` (high): one
    # pin to change, in their template. A different action at a branch keeps its own finding.
    def workflow(uses: str) -> str:
        return f"on: push\npermissions: {{}}\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: {uses}\n"

    files = {f".github/workflows/sample_{n}.yml": workflow("someone/random-wait-action@main") for n in "abc"}
    files[".github/workflows/lint.yml"] = workflow("other/lint-action@main")
    found = sorted(scan_path(write_tree(tmp_path, files), select=["ATS-GHA-004"]).findings, key=lambda f: f.path)
    assert [(f.path, f.severity.label, [r.path for r in f.related]) for f in found] == [
        (".github/workflows/lint.yml", "high", []),
        (".github/workflows/sample_a.yml", "high", [".github/workflows/sample_b.yml", ".github/workflows/sample_c.yml"]),
    ]  # fmt: skip
    assert found[1].message.endswith("pin it to a full commit SHA (the same line in 2 more places).")


def test_a_pin_in_two_files_is_one_finding_whatever_else_its_line_holds(tmp_path: Path) -> None:
    # Every file pins one image by digest, so the rule reports per file, not per repository.
    digest = "FROM python:3.12-slim@sha256:" + "a" * 64 + " AS base\n"
    files = {"svc/a/Dockerfile": digest + "FROM python:3.11-slim AS build\n", "svc/b/Dockerfile": digest + "FROM python:3.11-slim\n"}
    files["svc/c/Dockerfile"] = digest + "FROM python:3.12-slim\n"  # another pin
    found = sorted(scan_path(write_tree(tmp_path, files), select=["ATS-DKR-004"]).findings, key=lambda f: f.path)
    assert [(f.path, [r.path for r in f.related]) for f in found] == [("svc/a/Dockerfile", ["svc/b/Dockerfile"]), ("svc/c/Dockerfile", [])]
    assert found[0].message.endswith("(the same line in 1 more place).")


def test_a_charts_copy_of_a_manifest_reports_at_the_source(tmp_path: Path) -> None:
    role = (
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: reader\n"
        "rules:\n  - apiGroups: ['']\n    resources: [secrets]\n    verbs: [get, list, watch]\n"
    )
    files = {
        "config/rbac/role.yaml": role,
        "charts/agent/files/resources.yaml": "# generated from config/\n---\n" + role,
        # A chart's own template, not a copy: reported where it is.
        "charts/agent/templates/role.yaml": "# {{- if .Values.rbac }}\n" + role.replace("reader", "reader-{{ .Release.Name }}"),
    }
    found = sorted(scan_path(write_tree(tmp_path, files), select=["ATS-K8S-018"]).findings, key=lambda f: f.path)
    assert [(f.path, f.region.start_line, [(r.path, r.region.start_line) for r in f.related]) for f in found] == [
        ("charts/agent/templates/role.yaml", 8, []),
        ("config/rbac/role.yaml", 7, [("charts/agent/files/resources.yaml", 9)]),
    ]  # fmt: skip


def test_the_same_finding_said_again_in_one_file_is_one(tmp_path: Path) -> None:
    docker = (
        "FROM python:3.11-slim@sha256:" + "a" * 64 + "\n"
        "RUN pip install --extra-index-url https://pypi.internal.example/simple torch==2.8.0 pandas\n"
        "RUN echo build\n"
        "RUN pip install --extra-index-url https://pypi.internal.example/simple --force-reinstall torch==2.8.0 pandas\n"
    )
    found = [f for f in scan_path(write_tree(tmp_path, {"Dockerfile": docker})).findings if f.rule_id == "ATS-CMD-010"]
    assert [(f.region.start_line, [r.region.start_line for r in f.related]) for f in found] == [(2, [4])]
    assert found[0].message.endswith("(and 1 more in this file).")


def test_a_script_only_ci_tooling_launches_is_tooling(tmp_path: Path) -> None:
    piped = "#!/bin/sh\ncurl -fsSL https://get.example.com/install.sh | sh\n"
    files = {
        "scripts/install-tools.sh": piped,  # launched by the CI agent's setup only: tooling
        ".buildkite/setup-env.sh": "#!/bin/sh\nbash scripts/install-tools.sh\n",
        "scripts/install-runtime.sh": piped + "# runtime\n",  # the image runs it: product
        "Dockerfile": "FROM python:3.11\nCOPY scripts /scripts\nRUN sh /scripts/install-runtime.sh\nUSER app\n",
        "scripts/unused.sh": piped + "# unused\n",  # nothing names it: product
    }
    result = scan_path(write_tree(tmp_path, files), select=["ATS-CMD-013"])
    assert sorted(f.path for f in result.findings) == ["scripts/install-runtime.sh", "scripts/unused.sh"]
    assert [(n.path, n.held_as) for n in result.notices if n.held] == [("scripts/", "tests")]


def test_a_script_an_image_runs_by_its_file_name_stays_product(tmp_path: Path) -> None:
    # The cache deployer's shape: the Dockerfile copies the script and runs it by its file
    # name; a test names its full path. The image launches it: product, reported.
    files = {
        "deployer/deploy.sh": "#!/bin/sh\ncurl -fsSL https://get.example.com/install.sh | sh\n",
        "deployer/Dockerfile": "FROM python:3.11\nCOPY deploy.sh /bin/\nUSER app\nENTRYPOINT [\"/bin/deploy.sh\"]\n",
        "test/deploy_test.sh": "#!/bin/sh\nbash deployer/deploy.sh --dry-run\n",
    }
    result = scan_path(write_tree(tmp_path, files), select=["ATS-CMD-013"])
    assert [f.path for f in result.findings] == ["deployer/deploy.sh"]
