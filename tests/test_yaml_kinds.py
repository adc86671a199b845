"""Command-line extraction from YAML kinds: which texts come out, and that every offset maps
back to the exact file line and column."""

from __future__ import annotations

import pytest

from atlascan import parsers
from atlascan.model import SourceFile
from atlascan.parsers.commandlines import CommandText
from atlascan.parsers.commandlines.yaml_kinds import extract


def _extract(kind: str, text: str, path: str = "f.yml") -> list[CommandText]:
    return list(extract(parsers.document(SourceFile(path, path, kind, len(text)), text)))


def _locate(texts: list[CommandText], needle: str) -> tuple[int, int]:
    for ct in texts:
        at = ct.text.find(needle)
        if at >= 0:
            return ct.position(at)
    raise AssertionError(f"{needle!r} not extracted from {[c.text for c in texts]}")


def _where(text: str, needle: str) -> tuple[int, int]:
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            return number, line.index(needle) + 1
    raise AssertionError(needle)


WORKFLOW = """\
on: push
env:
  GLOBAL: one
jobs:
  build:
    runs-on: ubuntu-latest
    defaults:
      run:
        shell: bash
    steps:
      - run: |
          echo start

            pip install --extra-index-url https://x.example/simple pkg
      - shell: pwsh
        run: Invoke-WebRequest https://x.example | iex
      - shell: python
        run: print("curl | sh")
      - env:
          STEP: two
        run: >-
          python train.py
          --data https://x.example/data.csv
"""


def test_github_run_blocks_map_exactly() -> None:
    texts = _extract("gha-workflow", WORKFLOW, ".github/workflows/ci.yml")
    assert [t.origin for t in texts] == ["gha run", "gha run"]  # pwsh and python skipped
    assert _locate(texts, "--extra-index-url") == _where(WORKFLOW, "--extra-index-url")
    assert _locate(texts, "--data") == _where(WORKFLOW, "--data")
    assert texts[1].env == {"GLOBAL": "one", "STEP": "two"}


GITLAB = """\
variables:
  PIP_INDEX_URL: https://pypi.example.com/simple
.setup: &setup
  - curl -sSL https://get.example.org/x.sh | sh
.base:
  variables:
    STAGE: base
  before_script: *setup
train:
  extends: .base
  script:
    - python train.py
eval:
  extends: .base
  script: |
    echo eval
    python eval.py
default:
  after_script:
    - echo done
"""


def test_gitlab_scripts_once_with_inherited_variables() -> None:
    texts = _extract("gitlab-ci", GITLAB, ".gitlab-ci.yml")
    setup = [t for t in texts if "get.example.org" in t.text]
    assert len(setup) == 1  # shared by two jobs through extends + an anchor, yielded once
    assert setup[0].env == {"PIP_INDEX_URL": "https://pypi.example.com/simple", "STAGE": "base"}
    assert _locate(texts, "curl") == _where(GITLAB, "curl")
    assert _locate(texts, "python eval.py") == _where(GITLAB, "python eval.py")
    assert _locate(texts, "echo done") == _where(GITLAB, "echo done")


MANIFEST = """\
apiVersion: apps/v1
kind: Deployment
spec:
  template:
    spec:
      containers:
        - name: lab
          image: jupyter/base-notebook
          env:
            - name: JUPYTER_TOKEN
              value: ""
          command: ["start-notebook.sh"]
          args:
            - --ip=0.0.0.0
            - |
              --NotebookApp.token=''
---
apiVersion: ray.io/v1
kind: RayCluster
spec:
  headGroupSpec:
    rayStartParams:
      dashboard-host: '0.0.0.0'
"""


def test_manifest_containers_and_kuberay() -> None:
    texts = _extract("yaml", MANIFEST, "k8s/lab.yaml")
    lab = next(t for t in texts if t.argv and t.argv[0] == "start-notebook.sh")
    assert lab.argv == ("start-notebook.sh", "--ip=0.0.0.0", "--NotebookApp.token=''\n")
    assert lab.env == {"JUPYTER_TOKEN": ""}
    assert _locate([lab], "--NotebookApp") == _where(MANIFEST, "--NotebookApp")
    ray = next(t for t in texts if t.origin == "kuberay rayStartParams")
    assert ray.argv == ("ray", "start", "--head", "--dashboard-host=0.0.0.0")
    assert _locate([ray], "dashboard-host") == _where(MANIFEST, "dashboard-host")
    line, col = _where(MANIFEST, "'0.0.0.0'")
    assert _locate([ray], "0.0.0.0") == (line, col + 1)


COMPOSE = """\
services:
  ui:
    image: mlflow
    entrypoint: ["mlflow"]
    command:
      - server
      - --host=0.0.0.0
    environment:
      - MLFLOW_TRACKING_URI=sqlite:///db
  shell:
    image: x
    command: sh -c "pip install --trusted-host pypi.example.com pkg"
"""


def test_compose_entrypoint_and_command_join() -> None:
    texts = _extract("compose", COMPOSE, "docker-compose.yml")
    ui = next(t for t in texts if t.argv)
    assert ui.argv == ("mlflow", "server", "--host=0.0.0.0")
    assert ui.env == {"MLFLOW_TRACKING_URI": "sqlite:///db"}
    assert _locate([ui], "--host") == _where(COMPOSE, "--host")
    assert _locate(texts, "--trusted-host") == _where(COMPOSE, "--trusted-host")


def test_mlproject_and_action() -> None:
    mlproject = "name: x\nentry_points:\n  main:\n    command: 'python train.py --lr {lr}'\n"
    assert _locate(_extract("mlproject", mlproject, "MLproject"), "--lr") == (4, 31)
    action = "runs:\n  using: docker\n  image: Dockerfile\n  args:\n    - --url\n    - http://x.example/m.pt\n"
    texts = _extract("gha-action", action, "action.yml")
    assert texts[0].argv == ("--url", "http://x.example/m.pt")
    assert _locate(texts, "http://") == (6, 7)


@pytest.mark.parametrize("text", ["a: [1\n", "{{- if .Values.x }}\na: 1\n{{- end }}\n", "- " * 3000 + "x\n"])
def test_unparsable_yaml_yields_nothing(text: str) -> None:
    assert _extract("yaml", text, "bad.yaml") == []
