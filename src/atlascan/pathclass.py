"""What a path is: product code, tests, docs and samples, generated output or vendored code.

Vendored and generated trees are skipped (one notice per tree; `--include-vendored` /
`--include-generated` scan them). Tests and docs are scanned, but what is found there is held
back unless it stands on its own (a leaked credential, or outside input shown reaching a
sink): one notice per folder counts the rest, and `--include-tests` / `--include-docs` report
it, hardening and pinning at `info` (SARIF `note`). Every finding carries its path's class as a
property so users can filter. The classes are configurable (`path-classes` in the
configuration: extra gitignore-style globs per class, checked before the built-in rules).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from atlascan.model import SourceFile

PRODUCT = "product"
TESTS = "tests"
DOCS = "docs"
GENERATED = "generated"
VENDORED = "vendored"
CLASSES = (PRODUCT, TESTS, DOCS, GENERATED, VENDORED)

TEST_DIRS = frozenset({"test", "tests", "testing", "test_data", "testdata", "test-data", "__tests__", "fixtures", "e2e", "integration_tests", "unit_tests", "mocks", "mock-backend",
                       "hack", "benchmark", "benchmarks", "perf-tests", ".buildkite", ".circleci", ".cloud-build", ".devcontainer", "kind",
                       "minikube", "devtools", "dev-tools", "dev_tools"})  # fmt: skip
# The folders of tests proper (what a test runner collects), among the developer tooling above.
UNIT_TEST_DIRS = frozenset({"test", "tests", "testing", "__tests__", "e2e", "integration_tests", "unit_tests"})
# `hack/` is the Kubernetes projects' folder of developer scripts; CI's own fixtures live in
# `.github/` beside the workflows (`.github/resources/`): both test and build, never ship.
# Benchmarks, CI pipelines (.buildkite, .circleci, Cloud Build's .cloud-build), local
# clusters (kind, minikube) and `devtools/` (Metaflow's Tilt dev stack) are developer tooling too.
CI_FOLDERS = frozenset({"workflows", "actions"})
# A repository's top-level `qa/` is its quality-assurance suite (Triton's `qa/L0_*/test.sh`);
# deeper, `qa` is as often a question-answering model or sample (`models/qa/`). A top-level
# `development/` holds contributors' setups (aibrix's local clusters and simulators).
TOP_TEST_DIRS = frozenset({"qa", "development"})
# A deployment's developer environment (`manifests/env/dev/`, `deploy/local/`): a laptop
# cluster's overlay, not what ships. Only beneath a deployment folder, where the name is a
# stage: `kfp/local/` (a local runner) and `config/dev/` (a dev account) stay product.
DEPLOY_PARENTS = frozenset({"deploy", "deployment", "deployments", "env", "envs", "environments", "overlays"})
DEV_ENVS = frozenset({"dev", "local", "development", "localdev"})
DOC_DIRS = frozenset({"docs", "doc", "examples", "example", "samples", "sample", "tutorials", "tutorial", "demos", "demo", "notebooks", "how-to-use-azureml", "proposals",
                      "community-content", "seedcode", "seed_code", "seed-code", "guides", "guide", "quickstarts", "quickstart",
                      "archived"})  # fmt: skip
# `archived/` holds what a repository keeps for reference and no longer runs
# (amazon-sagemaker-examples' retired notebooks, axolotl's `examples/archived/`): samples.
# Not `archive` (kfp's `apiserver/archive` and TorchServe's `frontend/archive` are code
# that archives), nor `legacy`/`deprecated` (code still shipped, as KFP's deprecated
# components are). Folder names are matched without surrounding whitespace
# (amazon-sagemaker-examples' ` archived/`, `   ml_ops/`).
# A folder whose name is a compound of one of those words (`v3-examples`, `example_notebooks`,
# `inference-examples`, `tutorials_v2`, `user-guides`) holds samples too; a word inside
# another (`sampler`, `demographics`, `guideline`) does not. So does one named `retired`
# (mlcommons/inference's `retired_benchmarks/`): kept for reference, as `archived/` is.
DOC_DIR_WORDS = re.compile(r"(?:^|[-_.])(?:examples?|samples?|tutorials?|demos?|notebooks|guides?|quickstarts?|retired)(?:$|[-_.])")
# A folder named by a compound of `tests` (`tests_alibi_explain`, `integration-tests`): tests
# too. Not of `test` or `e2e`: `test-mltable-folder/` is a data split, `e2e-pytorch-image/`
# an end-to-end sample, `.github/actions/test-and-report/` CI that holds a token. A local
# development cluster (Flyte's `docker/devbox-bundled/`, a k3s sandbox with its rendered
# manifests) is developer tooling, as `kind/` is.
TEST_DIR_WORDS = re.compile(r"(?:^|[-_.])(?:tests|devbox)(?:$|[-_.])")
# SageMaker Projects' seed code is the sample a template copies into each new repository:
# a reader's starting point, like an example, not what the template's own repository runs.
# Prose is documentation wherever it sits (a README's `docker run -e MINIO_ROOT_PASSWORD=...`).
DOC_FILE = re.compile(r".*\.(?:md|markdown|rst|adoc)$")
# Gitpod's workspace image and tasks (`.gitpod.Dockerfile`, `.gitpod.yml`) are a developer's
# environment, like `.devcontainer/`; an image named for testing (Triton's `Dockerfile.QA`,
# `Dockerfile.test`, `ci.Dockerfile`) is CI's, and so is a compose file named for it
# (horovod's `docker-compose.test.yml`, its privileged GPU test services) (names are matched
# lower-cased).
TEST_FILE = re.compile(
    r"(?:^test_.*\.py|.*_test\.(?:py|go)|conftest\.py|.*\.test\.[jt]sx?|.*_test\.ya?ml|\.gitpod\.(?:dockerfile|ya?ml)"
    r"|dockerfile[.-](?:qa|tests?|ci)|(?:qa|tests?|ci)\.dockerfile|(?:docker-)?compose[.-](?:qa|tests?|ci|e2e)\.ya?ml)$"
)
# A release folder of versioned install bundles (kserve's `install/v0.11.0/`, `releases/1.2/`).
RELEASE_DIR = re.compile(r"^v?\d+\.\d+(?:\.\d+)?(?:[-.]?(?:rc|alpha|beta)\.?\d*)?$")
RELEASE_PARENTS = frozenset({"install", "releases", "release", "dist"})
# A folder holding an `MLmodel` file is a model MLflow saved (`log_model`, `save_model`): the
# requirements, conda and python_env files beside it are the environment MLflow recorded,
# generated as a release tree is. The MLmodel file and the model's own files are still read.
MLFLOW_MODEL_FILE = "MLmodel"
MLFLOW_MODEL_ENV_FILES = frozenset({"requirements.txt", "conda.yaml", "python_env.yaml"})


# A repository named as a collection of samples (`aws/amazon-sagemaker-examples`,
# `Azure/azureml-examples`, `vertex-ai-samples`): each of its folders is a sample readers copy,
# as an `examples/` folder is elsewhere; what would be product there is docs.
SAMPLES_REPOSITORY = re.compile(r"(?:^|[-_.])(?:examples?|samples?)$", re.I)


class PathClasses:
    """Built-in rules plus the user's globs (`{"generated": ["data/**"], ...}`). `repository`:
    the scanned checkout's `owner/name` when known (a collection of samples is docs)."""

    def __init__(self, extra: Mapping[str, Sequence[str]] | None = None, repository: str | None = None) -> None:
        self._default = DOCS if repository and SAMPLES_REPOSITORY.search(repository.rpartition("/")[2]) else PRODUCT
        self._specs: list[tuple[str, Any]] = []
        if extra:
            import pathspec

            for name in (VENDORED, GENERATED, TESTS, DOCS, PRODUCT):
                globs = list(extra.get(name, ()))
                if globs:
                    self._specs.append((name, pathspec.GitIgnoreSpec.from_lines(globs)))

    def of_dir(self, rel_dir: str) -> str | None:
        """The class a whole folder has by its name alone (None: decided per file)."""
        for name, spec in self._specs:
            if name in (VENDORED, GENERATED) and spec.match_file(rel_dir + "/"):
                return name
        parts = rel_dir.split("/")
        for i in range(1, len(parts)):
            if parts[i - 1].lower() in RELEASE_PARENTS and RELEASE_DIR.match(parts[i]):
                return GENERATED
        return None

    def of_file(self, rel: str) -> str:
        for name, spec in self._specs:
            if spec.match_file(rel):
                return name
        parts = [p.strip() for p in rel.lower().split("/")]
        if any(_test_dir(p) for p in parts[:-1]) or TEST_FILE.match(parts[-1]) or _dev_env(parts) is not None:
            return TESTS
        if len(parts) > 1 and parts[0] in TOP_TEST_DIRS:
            return TESTS
        if len(parts) > 1 and parts[0] == ".github" and (len(parts) == 2 or parts[1] not in CI_FOLDERS):
            return TESTS  # a script beside the workflows (`.github/check_images.py`) is CI's too
        if len(parts) > 3 and parts[:2] == [".github", "workflows"]:
            return TESTS  # GitHub runs only the workflows directly in the folder: below is CI tooling
        if any(_doc_dir(p) for p in parts[:-1]) or DOC_FILE.match(parts[-1]):
            return DOCS
        return self._default


# Files that may launch a script: CI and build definitions, other scripts.
LAUNCHER_KINDS = frozenset({"shell", "gha-workflow", "gha-action", "gitlab-ci", "yaml", "dockerfile"})
LAUNCHER_READ_LIMIT = 512 * 1024
MAX_LAUNCHER_FILES = 5000


def tooling_scripts(scripts: Iterable[SourceFile], files: Sequence[SourceFile]) -> frozenset[str]:
    """The product-class shell scripts among `scripts` that only developer tooling launches:
    every file naming the script's file name (`bash scripts/install-docker.sh` in
    `.buildkite/setup-env.sh`) is a test or CI file, and at least one does. Such a script is
    CI tooling itself (kuberay's CI agent setup piping get.docker.com to sh). A script no
    file names, or one a product file names, stays product."""
    wanted = {f.path: f for f in scripts if f.kind == "shell" and f.path_class == PRODUCT}
    if not wanted:
        return frozenset()
    launchers: dict[str, set[str]] = {path: set() for path in wanted}
    candidates = [f for f in files if f.kind in LAUNCHER_KINDS and f.size <= LAUNCHER_READ_LIMIT]
    if len(candidates) > MAX_LAUNCHER_FILES:
        return frozenset()
    for file in candidates:
        try:
            with open(file.abspath, "rb") as fh:
                text = fh.read(LAUNCHER_READ_LIMIT).decode("utf-8", "replace")
        except OSError:
            continue
        for path in wanted:
            # by its file name: a Dockerfile copies it and runs `/bin/deploy.sh`
            if file.path != path and path.rsplit("/", 1)[-1] in text:
                launchers[path].add(file.path_class)
    return frozenset(path for path, classes in launchers.items() if classes and classes <= {TESTS})


def retired(rel: str) -> bool:
    """Below an `archived/` or `retired` folder: kept for reference, no longer what readers copy."""
    return any(p == "archived" or RETIRED_WORD.search(p) for p in (p.strip().lower() for p in rel.split("/")[:-1]))


RETIRED_WORD = re.compile(r"(?:^|[-_.])retired(?:$|[-_.])")


def _test_dir(name: str) -> bool:
    """A folder of tests or developer tooling, by its (lower-cased) name."""
    return name in TEST_DIRS or TEST_DIR_WORDS.search(name) is not None


def _doc_dir(name: str) -> bool:
    """A folder of docs or samples, by its (lower-cased) name."""
    return name in DOC_DIRS or DOC_DIR_WORDS.search(name) is not None


def _dev_env(parts: Sequence[str]) -> int | None:
    """The index of a developer-environment folder among a path's folders (`env/dev`)."""
    for i in range(1, len(parts) - 1):
        if parts[i] in DEV_ENVS and parts[i - 1] in DEPLOY_PARENTS:
            return i
    return None


# Not a class of path: the findings that follow the repository's own practice (tags where it
# pins nothing by digest, loads of the model its serving platform put in place), held back
# like tests' hardening unless asked for.
PRACTICE = "practice"
# Fewer image references than this are no practice for `latest` and untagged images: they are
# reported (a lone `FROM someuser/base` is no habit of the repository).
PRACTICE_MIN_REFERENCES = 3
# Not a class of path either: findings whose way in the code does not show, held back like
# practice unless asked for. The property's value says what is missing, for the notice: sinks
# fed only by what whoever runs the code chooses or by what the code names itself (the Python
# engine's `_unproven`), vulnerable pins beside no code that shows the flaw's feature in use.
UNPROVEN = "unproven"
# Nor is this: the findings of rules marked `pedantic` (pinning hygiene that reviewers of real
# repositories nearly never judged worth acting on where it stands), held back unless asked for.
PEDANTIC = "pedantic"


def report_classes(
    tests: bool, docs: bool, practice: bool = False, unproven: bool = False, pedantic: bool = False
) -> frozenset[str]:
    """The classes whose held-back findings the user asked to see."""
    wanted = ((TESTS, tests), (DOCS, docs), (PRACTICE, practice), (UNPROVEN, unproven), (PEDANTIC, pedantic))
    return frozenset(name for name, asked in wanted if asked)


def tree_of(rel: str, cls: str) -> str:
    """The folder a tests or docs path belongs to, for one notice per folder: the path up to
    the folder that gave it its class (`docs/samples/a/b.py` -> `docs/`), else its top folder."""
    parts = rel.split("/")
    names = [p.strip().lower() for p in parts]
    if cls == TESTS and len(parts) > 2 and parts[0] == ".github" and (parts[1].lower() not in CI_FOLDERS or len(parts) > 3):
        return "/".join(parts[:2 if parts[1].lower() not in CI_FOLDERS else 3]) + "/"
    if cls == TESTS and len(parts) > 1 and names[0] in TOP_TEST_DIRS:
        return parts[0] + "/"
    for i, name in enumerate(names[:-1]):
        if _test_dir(name) if cls == TESTS else _doc_dir(name):
            return "/".join(parts[: i + 1]) + "/"
    dev = _dev_env(names) if cls == TESTS else None
    if dev is not None:
        return "/".join(parts[: dev + 1]) + "/"
    return parts[0] + "/" if len(parts) > 1 else "./"


def validate(extra: Mapping[str, Any]) -> list[str]:
    """Problems with a configuration's `path-classes` table."""
    problems = []
    for name, globs in extra.items():
        if name not in CLASSES:
            problems.append(f"path-classes: unknown class {name!r} (one of {', '.join(CLASSES)})")
        elif not isinstance(globs, list) or not all(isinstance(g, str) for g in globs):
            problems.append(f"path-classes.{name}: a list of glob strings")
    return problems
