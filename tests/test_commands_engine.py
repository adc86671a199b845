"""The commands engine: exact regions through every kind of anchor, severities, both shell
back ends agreeing, and hostile input ending in notices rather than tracebacks."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from atlascan import parsers
from atlascan.engines.commands import DETECTORS, prefilter, scan_command_text
from atlascan.identity import owner_of
from atlascan.model import SourceFile
from atlascan.parsers.commandlines import CommandText, commands
from atlascan.rules import default_rules
from scanning import located, scan_path, scan_text, write_tree

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def _cmd(result, prefix: str = "ATS-CMD"):  # type: ignore[no-untyped-def]
    return located(result, prefix)


def test_exec_form_region_and_critical_severity(tmp_path: Path) -> None:
    text = (
        "FROM x@sha256:"
        + "a" * 64
        + '\nUSER 1\nCMD ["jupyter", "lab", "--ip=0.0.0.0", "--NotebookApp.token=\'\'"]\n'
    )
    result = scan_text(tmp_path, "Dockerfile", text)
    # `--NotebookApp.token=''` starts at column 41 and is 22 characters long
    assert _cmd(result) == [("ATS-CMD-001", 3, 41, 63, "critical")]


def test_localhost_jupyter_keeps_rule_severity(tmp_path: Path) -> None:
    result = scan_text(tmp_path, "run.sh", "jupyter lab --NotebookApp.token=''\n")
    assert _cmd(result) == [("ATS-CMD-001", 1, 13, 35, "high")]


def test_an_index_on_this_machine_is_judged_by_its_host_not_its_first_letters(tmp_path: Path) -> None:
    text = (
        "pip install --index-url http://localhost:3141/root/dev/+simple pkg==1\n"
        "pip install --trusted-host 127.0.0.1:3141 pkg==1\n"
        "pip install --index-url http://localhost.example.com/simple pkg==1\n"  # 3: someone else's host
        "pip install --trusted-host 127.example.com pkg==1\n"  # 4
    )
    result = scan_text(tmp_path, "install.sh", text)
    assert [(rule, line) for rule, line, *_ in _cmd(result)] == [("ATS-CMD-011", 3), ("ATS-CMD-011", 4)]


def test_an_index_inside_the_cluster_is_not_the_open_network(tmp_path: Path) -> None:
    # LLaMA-Factory's and ms-swift's NPU runners point pip at the cluster's package cache.
    text = (
        "on: push\njobs:\n  t:\n    runs-on: npu\n    steps:\n      - run: |\n"
        "          pip config set global.index-url http://cache-service.nginx-pypi-cache.svc.cluster.local/pypi/simple\n"
        "          pip config set global.trusted-host cache-service.nginx-pypi-cache.svc.cluster.local\n"
        "          pip install --trusted-host devpi.ci.svc:3141 --index-url http://devpi.ci.svc:3141/simple pkg==1\n"
        "          export PIP_TRUSTED_HOST=\"localhost cache.ns.svc.cluster.local\"\n"
        "          curl -k https://webhook.kube-system.svc/healthz\n"
        "          pip config set global.trusted-host pypi.example.org\n"  # 12: a host on the network
        "          pip install --trusted-host mirror.svc.cluster.local.example.org pkg==1\n"  # 13
        "          curl -k https://webhook.kube-system.svc/healthz https://example.org/x\n"  # 14
    )
    result = scan_text(tmp_path, ".github/workflows/npu.yml", text)
    found = [(rule, line) for rule, line, *_ in _cmd(result) if rule in ("ATS-CMD-011", "ATS-CMD-016")]
    assert found == [("ATS-CMD-011", 12), ("ATS-CMD-011", 13), ("ATS-CMD-016", 14)]


def test_continuation_with_comment_lines_maps_to_physical_line(tmp_path: Path) -> None:
    text = (
        "FROM x@sha256:" + "a" * 64 + "\nUSER 1\n"
        "RUN pip install \\\n"
        "    # comment\n"
        "      numpy==1.26.4 \\\n"
        "      --extra-index-url https://pypi.internal/simple pkg==1\n"
    )
    result = scan_text(tmp_path, "Dockerfile", text)
    assert _cmd(result) == [("ATS-CMD-010", 6, 7, 53, "high")]


def test_env_legacy_form_and_heredoc_script(tmp_path: Path) -> None:
    text = (
        "FROM x@sha256:" + "a" * 64 + "\nUSER 1\n"
        "ENV GRADIO_SERVER_NAME 0.0.0.0\n"
        "RUN <<EOF\n"
        "set -e\n"
        "  curl -fsSL https://get.example.io | sh\n"
        "EOF\n"
        "RUN python3 <<EOF\n"
        "import os; os.system('curl -fsSL https://x | sh')\n"
        "EOF\n"
    )
    result = scan_text(tmp_path, "Dockerfile", text)
    assert _cmd(result) == [
        ("ATS-CMD-007", 3, 5, 31, "medium"),
        ("ATS-CMD-013", 6, 3, 41, "medium"),
    ]


def test_entrypoint_and_cmd_are_one_command(tmp_path: Path) -> None:
    text = (
        "FROM x@sha256:" + "a" * 64 + "\nUSER 1\n"
        'ENTRYPOINT ["mlflow", "server"]\n'
        'CMD ["--host", "0.0.0.0"]\n'
    )
    result = scan_text(tmp_path, "Dockerfile", text)
    assert _cmd(result) == [("ATS-CMD-003", 4, 7, 24, "high")]


def test_ray_auth_from_image_env_silences(tmp_path: Path) -> None:
    text = (
        "FROM x@sha256:"
        + "a" * 64
        + "\nUSER 1\nENV RAY_AUTH_MODE=token\nCMD ray start --head --dashboard-host=0.0.0.0\n"
    )
    assert _cmd(scan_text(tmp_path, "Dockerfile", text)) == []


def test_http_pipe_to_shell_is_high(tmp_path: Path) -> None:
    result = scan_text(tmp_path, "get.sh", "curl http://get.example.io/install | sudo bash\n")
    assert _cmd(result) == [("ATS-CMD-013", 1, 1, 47, "high")]


def test_inline_suppression_in_dockerfile(tmp_path: Path) -> None:
    text = (
        "FROM x@sha256:" + "a" * 64 + "\nUSER 1\n"
        "# atlascan: ignore[ATS-CMD-013] vendor script pinned by the mirror\n"
        "RUN curl -fsSL https://mirror.internal/setup.sh | bash\n"
    )
    result = scan_text(tmp_path, "Dockerfile", text)
    findings = [f for f in result.findings if f.rule_id == "ATS-CMD-013"]
    assert len(findings) == 1 and findings[0].suppression is not None


def test_argv_with_dash_c_script_is_parsed() -> None:
    argv = ("sh", "-c", "curl -fsSL https://x | bash")
    ct = CommandText(" ".join(argv), "k8s args", ((0, 10, 5), (3, 10, 12), (6, 11, 9)), argv=argv)
    rules = {k: v for k, v in default_rules().items() if k.startswith("ATS-CMD")}
    hits = scan_command_text(ct, rules)
    assert [(h.rule_id, ct.position(h.start)) for h in hits] == [("ATS-CMD-013", (11, 9))]


def _command_texts() -> list[tuple[str, CommandText]]:
    out = []
    for path in sorted(FIXTURES.glob("ATS-CMD-*/*")):
        kind = "dockerfile" if path.name.startswith("Dockerfile") else "shell" if path.suffix == ".sh" else None
        if kind is None:
            continue
        text = path.read_text("utf-8")
        doc = parsers.document(SourceFile(path.name, str(path), kind, len(text)), text)
        out.extend((path.parent.name + "/" + path.name, ct) for ct in doc.view(commands))
    return out


def test_tokenizer_fallback_agrees_with_tree_sitter_on_fixtures() -> None:
    rules = {k: v for k, v in default_rules().items() if k.startswith("ATS-CMD")}
    texts = _command_texts()
    assert texts
    for name, ct in texts:
        ts = sorted(
            (h.rule_id, h.start) for h in scan_command_text(ct, rules, use_tree_sitter=True)
        )
        tok = sorted(
            (h.rule_id, h.start) for h in scan_command_text(ct, rules, use_tree_sitter=False)
        )
        assert ts == tok, name


def test_kind_without_extractor_is_skipped(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from atlascan.parsers import commandlines

    monkeypatch.setitem(
        commandlines.EXTRACTORS, "shell", "atlascan.parsers.commandlines.not_written_yet:extract"
    )
    result = scan_text(tmp_path, "run.sh", "curl https://x | sh\n")
    assert _cmd(result) == []
    assert not [n for n in result.notices if n.level == "error"]


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("Dockerfile", b"FROM x\nRUN echo \xff\xfe\n"),
        ("run.sh", b"echo \xc3\x28 | sh\n"),
        ("Dockerfile", b"FROM x\nRUN " + b"$(" * 20000 + b"\n"),
        ("deep.sh", b"curl https://x | sh " + b"$(" * 20000 + b"\n"),
        ("Dockerfile", b"FROM x\nRUN <<EOF\n" + b"echo hi\n" * 50000),
    ],
)
def test_hostile_input_gives_notices_not_tracebacks(tmp_path: Path, name: str, data: bytes) -> None:
    target = tmp_path / name
    target.write_bytes(data)
    from scanning import scan_path

    result = scan_path(tmp_path)
    errors = [n.message for n in result.notices if n.level == "error"]
    assert not errors, errors


def test_config_files_reach_the_command_rules_only_by_name(tmp_path: Path) -> None:
    """Jupyter/TorchServe config files feed the command rules; other .py/.properties do not."""
    from scanning import scan_path, write_tree

    write_tree(tmp_path, {
        "jupyter_server_config.py": "c.ServerApp.ip = '0.0.0.0'\nc.ServerApp.token = ''\n",
        "settings.py": "c.ServerApp.ip = '0.0.0.0'\nc.ServerApp.token = ''\n",
        "serve/config.properties": "enable_model_api=true\n",
        "app.properties": "enable_model_api=true\n",
    })
    assert located(scan_path(tmp_path), "ATS-CMD") == [
        ("ATS-CMD-001", 2, 1, 23, "critical"),  # `c.ServerApp.token = ''`
        ("ATS-CMD-005", 1, 1, 22, "high"),  # `enable_model_api=true`
    ]


def test_prefilter_is_the_union_of_the_enabled_detectors_triggers() -> None:
    every = frozenset(r for d in DETECTORS for r in d.rules)
    full = prefilter(every)
    assert full is not None and full.flags & re.I
    for text in ("RUN pip install x", "GRADIO_SERVER_NAME=0.0.0.0", "git -c http.sslVerify=false"):
        assert full.search(text), text
    assert not full.search("python train.py --epochs 3")
    only_ray = prefilter(frozenset({"ATS-CMD-004"}))
    assert only_ray is not None and only_ray.search("ray start --head") and not only_ray.search("pip install x")
    assert prefilter(frozenset({"ATS-PY-001"})) is None


@pytest.mark.parametrize("rule", sorted({r for d in DETECTORS for r in d.rules}))
def test_each_rule_alone_finds_what_the_full_scan_finds(rule: str) -> None:
    """A detector's triggers are what its findings need: selecting one rule (a narrower
    prefilter) loses none of its findings in the fixtures."""
    from scanning import scan_path

    folder = FIXTURES / rule
    if not folder.is_dir():
        pytest.skip(f"no fixtures for {rule}")
    from atlascan.rules import load_rules

    alone = {(f.path, f.region.start_line) for f in scan_path(folder, select=[rule]).findings}
    everything = scan_path(folder).findings
    full = {(f.path, f.region.start_line) for f in everything if f.rule_id == rule}
    # Alone, the rule also keeps the lines it defers to another rule for (`defers_to`).
    defers = load_rules()[rule].defers_to
    taken = {(f.path, f.region.start_line) for f in everything if defers and f.rule_id.startswith(defers)}
    assert full <= alone and alone - full <= taken


def test_a_rule_alone_keeps_findings_other_triggers_used_to_let_through(tmp_path: Path) -> None:
    """ATS-CMD-016 alone finds a setting by its own trigger words (`SSL`, `VERIFY`)."""
    result = scan_text(tmp_path, "env.sh", "export GIT_SSL_NO_VERIFY=1\n", select=["ATS-CMD-016"])
    assert [f.rule_id for f in result.findings] == ["ATS-CMD-016"]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://data.example.org/datasets/coco/val2017.zip", "Archive"),
        ("https://huggingface.co/x/y/blob/main/bundle.tar.gz", "Archive"),
        ("https://example.org/corpus/train.jsonl", "Dataset file"),
        ("https://example.org/x/train.csv.gz", "Dataset file"),
        ("https://example.org/models:8080/weights.tgz", "Archive"),
        ("https://github.com/protocolbuffers/protobuf/releases/download/v25.1/protoc-25.1-linux-x86_64.zip", None),
        ("https://github.com/org/tzdata/releases/download/v1/tzdata.tar.gz", None),
        ("https://example.org/datasets/readme.md", None),
    ],
)
def test_data_artifacts(url: str, expected: str | None) -> None:
    from atlascan.engines.commands import data_artifact

    assert data_artifact(url.lower(), default_rules()["ATS-CMD-017"]) == expected


@pytest.mark.parametrize(
    ("script", "reported"),
    [
        # a check after the archive was already extracted comes too late
        (
            "curl -fsSL https://data.example.org/datasets/d.tgz | tar xz\nsha256sum -c d.sha256\n",
            [("ATS-CMD-017", 1, 12, 51, "medium")],
        ),
        # the redirect target is what the next command uses
        (
            "curl -L https://data.example.org/datasets/d.zip > /tmp/x.zip\nunzip /tmp/x.zip\n",
            [("ATS-CMD-017", 1, 9, 48, "medium")],
        ),
        # only removed, never used
        ("wget https://data.example.org/datasets/d.zip\nrm d.zip\n", []),
        (
            "wget -P /data https://data.example.org/datasets/d.zip\nunzip /data/d.zip\n",
            [("ATS-CMD-017", 1, 15, 54, "medium")],
        ),
    ],
)
def test_data_download_use_and_order(tmp_path: Path, script: str, reported: list[tuple[str, int, int, int, str]]) -> None:
    assert _cmd(scan_text(tmp_path, "get.sh", script)) == reported


def test_an_extra_index_that_repeats_the_index_is_no_second_index(tmp_path: Path) -> None:
    # LLaMA-Factory's images point both pip settings at one mirror (`${PIP_INDEX}`), judged
    # FALSE; a different extra index beside it is still reported.
    docker = (
        "FROM python:3.11-slim\n"
        "ARG PIP_INDEX=https://pypi.org/simple\n"
        'RUN pip config set global.index-url "${PIP_INDEX}" && \\\n'
        '    pip config set global.extra-index-url "${PIP_INDEX}"\n'
        "RUN pip install --index-url ${PIP_INDEX} --extra-index-url ${PIP_INDEX} acme\n"
        "RUN pip config set global.extra-index-url https://pypi.internal.example/simple\n"
        "RUN pip install --index-url ${PIP_INDEX} --extra-index-url https://pypi.internal.example/simple acme\n"
    )
    result = scan_text(tmp_path, "Dockerfile", docker)
    assert sorted(f.region.start_line for f in result.findings if f.rule_id == "ATS-CMD-010") == [6, 7]


def test_uv_takes_each_package_from_the_first_index_that_has_it(tmp_path: Path) -> None:
    # lm-evaluation-harness's CI runs `uv pip install ... --extra-index-url` (judged FALSE):
    # uv's default strategy asks the extra index first and stops there, so a same-named
    # package on PyPI cannot win; `unsafe-best-match` weighs every index as pip does.
    extra = "--extra-index-url https://pypi.internal.example/simple"
    scripts = {
        "uv.sh": f"uv pip install -e '.[dev]' {extra}\n",
        "uv_env.sh": "export UV_EXTRA_INDEX_URL=https://pypi.internal.example/simple\nuv pip install acme\n",
        "best_match.sh": f"uv pip install acme {extra} --index-strategy unsafe-best-match\n",
        "best_match_env.sh": f"UV_INDEX_STRATEGY=unsafe-best-match uv pip install acme {extra}\n",
        "pip.sh": f"pip install acme {extra}\n",
    }
    result = scan_path(write_tree(tmp_path, scripts))
    assert sorted(f.path for f in result.findings if f.rule_id == "ATS-CMD-010") == ["best_match.sh", "best_match_env.sh", "pip.sh"]


def test_an_extra_index_for_local_versions_only_is_no_confusion(tmp_path: Path) -> None:
    # TGI's Dockerfile.neuron pins every Neuron package to a local version (`+8ab9f450`),
    # which PyPI does not accept: no package of that line can come from PyPI.
    docker = (
        "FROM python:3.11-slim\n"
        "RUN pip install neuronx-cc==2.19.8089.0+8ab9f450 torch-neuronx==2.7.0.2.8.6734+ac864f72 \\\n"
        "    --extra-index-url=https://pip.repos.neuron.amazonaws.com\n"
        "RUN pip install neuronx-cc==2.19.8089.0+8ab9f450 transformers --extra-index-url=https://pip.repos.neuron.amazonaws.com\n"
    )
    # (line 4, AWS's public Neuron index beside PyPI, is its documented install: practice)
    result = scan_text(tmp_path, "Dockerfile", docker, report_classes=frozenset({"practice"}))
    assert [f.region.start_line for f in result.findings if f.rule_id == "ATS-CMD-010"] == [4]


def test_an_extra_index_only_its_operator_publishes_to_is_practice(tmp_path: Path) -> None:
    """PyTorch's stable CPU index beside PyPI is its documented install (accelerate's and
    ludwig's images, judged NOISE every time): held back. Its nightly channel, whose torch
    once depended on a name only it served (torchtriton), stays reported."""
    docker = (
        "FROM python:3.11-slim\n"
        'ARG TORCH_INDEX="https://download.pytorch.org/whl/cpu"\n'
        "RUN pip install --extra-index-url ${TORCH_INDEX} torch==2.8.0+cpu pandas\n"
        "RUN pip install --extra-index-url https://pypi.internal.example/simple featurestore-client\n"
        "RUN pip install --extra-index-url ${TORCH_INDEX} torch==${TORCH_VERSION}+cpu torchvision\n"  # 5: PyTorch's own names
        "RUN pip install --pre torch pandas --extra-index-url https://download.pytorch.org/whl/nightly/cpu\n"  # 6
    )
    result = scan_text(tmp_path, "Dockerfile", docker)
    found = sorted((f.region.start_line, f.severity.label) for f in result.findings if f.rule_id == "ATS-CMD-010")
    assert found == [(4, "high"), (6, "medium")]
    held = scan_text(tmp_path, "Dockerfile", docker, report_classes=frozenset({"practice"}))
    assert sorted((f.region.start_line, f.severity.label) for f in held.findings if f.rule_id == "ATS-CMD-010") == [
        (3, "low"), (4, "high"), (6, "medium"),
    ]  # fmt: skip  (line 5 folds into line 3's finding: one practice of the file)


def _commit_pins(root: Path, count: int = 6) -> None:
    """A requirements file whose git dependencies are all pinned to a commit: with it, the
    repository's practice is commits, and a branch or tag elsewhere breaks it (ATS-CMD-012)."""
    sha = "5d41402abc4b2a76b9719d911017c592ae3f1b2c"
    (root / "requirements.txt").write_text("".join(f"lib{n} @ git+https://github.com/acme/lib{n}@{sha}\n" for n in range(count)))


def test_git_refs_are_held_back_where_they_are_the_repositorys_practice(tmp_path: Path) -> None:
    """verl's image recipes install apex, TransformerEngine and Megatron at branches and tags,
    as nearly every git dependency of that repository is (judged NOISE, 0 of 16 such findings
    acted on): where fewer than half of the repository's git dependencies, in any install
    script, Dockerfile, notebook, CI file or manifest, are pinned to a commit, branches and
    tags are its practice, held back in one notice. Where most are, each one breaks it."""
    text = "FROM python:3.12\nRUN pip install git+https://github.com/NVIDIA/apex.git git+https://github.com/acme/te@release_v2\n"
    result = scan_text(tmp_path, "Dockerfile", text, select=["ATS-CMD-012"])
    assert result.findings == []
    assert [(n.held, n.held_as) for n in result.notices if n.held] == [(2, "practice")]
    held = scan_path(tmp_path, select=["ATS-CMD-012"], report_classes=frozenset({"practice"})).findings
    assert [(f.region.start_line, f.severity.label, len(f.related)) for f in held] == [(2, "low", 1)]
    _commit_pins(tmp_path, 2)  # 2 of 4 pinned: half is the practice
    found = scan_path(tmp_path, select=["ATS-CMD-012"]).findings
    assert [(f.path, f.region.start_line, f.severity.label) for f in found] == [("Dockerfile", 2, "low")]


def test_a_git_install_of_the_repository_owners_own_package_is_held_back(tmp_path: Path) -> None:
    """A tag of the owner's own repository (kubeflow/pipelines' GCPC Dockerfile installing its
    own release tag) is the owner's code, as its own actions are: held back as practice."""
    text = (
        "FROM python:3.11-slim\n"
        "RUN pip install 'git+https://github.com/kubeflow/pipelines.git@gcpc-2.22.0#subdirectory=components'\n"  # 2
        "RUN pip install git+https://github.com/someone/kfp-tools@v1\n"  # 3: a third party's tag
    )
    (tmp_path / "go.mod").write_text("module github.com/kubeflow/pipelines\n")
    _commit_pins(tmp_path)
    result = scan_text(tmp_path, "Dockerfile", text, select=["ATS-CMD-012"])
    assert [f.region.start_line for f in result.findings] == [3]
    assert [n.message for n in result.notices if "practice" in n.message] == [
        "ATS-CMD-012: 1 site held back as the repository's practice (a package of the repository's own owner); "
        "--include-practice reports them."
    ]
    (tmp_path / "go.mod").unlink()  # no owner known: both are reported (one finding per file)
    owner_of.cache_clear()  # read once per process
    found = scan_text(tmp_path, "Dockerfile", text, select=["ATS-CMD-012"]).findings
    assert [(f.region.start_line, [r.region.start_line for r in f.related]) for f in found] == [(2, [3])]


def test_a_git_ref_the_build_fills_in_is_unknown_not_absent(tmp_path: Path) -> None:
    """triton's Dockerfile.sdk installs `git+${TRITON_MODEL_ANALYZER_REPO}`, an ARG whose
    default ends `@${TRITON_MODEL_ANALYZER_REPO_TAG}`, a build argument: the ref is unknown
    (it may be a commit), not absent. An ARG default that resolves to a branch is that
    branch; a tag built from a variable (`@v${VERSION}`) is a tag; a URL with no `@` is no ref."""
    text = (
        "FROM python:3.11-slim\n"
        "ARG ORG=http://github.com/triton-inference-server\n"
        "ARG ANALYZER_TAG\n"
        'ARG ANALYZER_REPO="${ORG}/model_analyzer@${ANALYZER_TAG}"\n'
        'RUN pip3 install "git+${ANALYZER_REPO}"\n'  # 5 silent
        "ARG KERNELS_REF=main\n"
        'RUN pip install "git+https://github.com/acme/kernels@${KERNELS_REF}"\n'  # 7 @main
        "RUN pip install git+$TOOLS_URL 'git+https://github.com/acme/t@${{ inputs.ref }}'\n"  # 8 silent
        'RUN pip install "git+https://github.com/acme/lib@v${VERSION}" git+https://github.com/acme/other\n'  # 9
    )
    _commit_pins(tmp_path)
    (finding,) = scan_text(tmp_path, "Dockerfile", text, select=["ATS-CMD-012"]).findings
    sites = [finding, *finding.related]
    assert [(f.region.start_line, f.region.start_column) for f in sites] == [(7, 18), (9, 18), (9, 63)]
    assert ["@main" in sites[0].message, "@v${VERSION}" in sites[1].message, "from no ref" in sites[2].message] == [True] * 3


def test_pypi_as_the_extra_index_beside_a_public_wheel_index_is_the_same_pair(tmp_path: Path) -> None:
    """unsloth's CI: `--index-url` PyTorch's CPU index, `--extra-index-url` PyPI's, is the pair
    `--extra-index-url` PyTorch's index makes with PyPI: graded the same, and held back when it
    installs only PyTorch's own packages, or anything from its stable channel. PyPI beside a
    private index is not."""
    script = (
        "pip install --index-url https://download.pytorch.org/whl/cpu --extra-index-url https://pypi.org/simple transformers\n"
        "pip install --index-url https://download.pytorch.org/whl/cpu --extra-index-url https://pypi.org/simple 'torch>=2.4,<2.11' 'torchvision<0.26'\n"
        "pip install --index-url https://pypi.internal.example/simple --extra-index-url https://pypi.org/simple featurestore-client\n"
        'export PIP_EXTRA_INDEX_URL="https://download.pytorch.org/whl/cu121 https://huggingface.github.io/autogptq-index/whl/cu121"\n'
        'export PIP_EXTRA_INDEX_URL="https://download.pytorch.org/whl/cu121 https://pypi.internal.example/simple"\n'
    )
    result = scan_text(tmp_path, "install.sh", script)
    found = sorted((f.region.start_line, f.severity.label) for f in result.findings if f.rule_id == "ATS-CMD-010")
    assert found == [(3, "high"), (5, "high")]
    held = scan_text(tmp_path, "install.sh", script, report_classes=frozenset({"practice"}))
    assert (4, "low") in [(f.region.start_line, f.severity.label) for f in held.findings if f.rule_id == "ATS-CMD-010"]
    assert (1, "low") in [(f.region.start_line, f.severity.label) for f in held.findings if f.rule_id == "ATS-CMD-010"]


@pytest.mark.parametrize(
    ("rule", "step"),
    [
        # unsloth's "vs TRL main" leg and axolotl's nightly test against upstream heads on purpose
        ("ATS-CMD-012", "pip install git+https://github.com/huggingface/trl.git@main"),
        # torchchat's and verl's test jobs fetch a tiny checkpoint or an official model at a branch
        ("ATS-CMD-015", "hf download Qwen/Qwen2.5-0.5B-Instruct"),
    ],
)
def test_a_ci_jobs_install_or_model_download_is_practice(tmp_path: Path, rule: str, step: str) -> None:
    """A CI job ships nothing it installs or fetches for its own run: held back (every such
    finding judged NOISE). The same step in an image build is reported."""
    workflow = f"on: schedule\njobs:\n  t:\n    runs-on: x\n    steps:\n      - run: {step}\n"
    result = scan_text(tmp_path / "ci", ".github/workflows/compat.yml", workflow, select=[rule])
    assert result.findings == []
    assert [n.held for n in result.notices if n.held_as == "practice"] == [1]
    (tmp_path / "image").mkdir()
    _commit_pins(tmp_path / "image")  # commits, not branches, are this repository's git practice
    image = scan_text(tmp_path / "image", "Dockerfile", f"FROM python:3.12\nRUN {step}\n", select=[rule])
    assert [(f.rule_id, f.region.start_line) for f in image.findings] == [(rule, 2)]


def test_a_remote_script_of_the_repository_owner_is_held_back(tmp_path: Path) -> None:
    """Yatai's install-all.sh runs bentoml's own quick-install scripts from their repositories'
    main branches: the owner's code, as the owner's actions and packages are (judged NOISE).
    A third party's installer in the same file is reported."""
    text = (
        "#!/bin/bash\n"
        'bash <(curl -s "https://raw.githubusercontent.com/acme/serving/main/scripts/quick-install.sh")\n'  # 2: the owner's
        "curl -fsSL https://get.tool.example/install.sh | sh\n"  # 3: a third party's
    )
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "config").write_text('[remote "origin"]\n\turl = https://github.com/acme/console.git\n')
    owner_of.cache_clear()  # read once per process
    result = scan_text(tmp_path, "install.sh", text, select=["ATS-CMD-013"])
    assert [(f.region.start_line, f.related) for f in result.findings] == [(3, [])]
    assert [n.message for n in result.notices if n.held_as == "practice"] == [
        "ATS-CMD-013: 1 site held back as the repository's practice (a script of the repository's own owner); "
        "--include-practice reports them."
    ]
    owner_of.cache_clear()


def test_a_publishers_installer_is_practice_where_ci_actions_are_not_pinned(tmp_path: Path) -> None:
    """h2o-llmstudio, lmdeploy and diffusers pipe uv's, rustup's or NodeSource's installer
    from its publisher's own address into a shell, and tag their actions (every such line
    judged NOISE): held back as practice. kserve pins its actions by commit, so its uv
    installer breaks its own practice (judged ACT). A file of a repository's branch and a
    plain-http script are reported either way."""
    dockerfile = (
        "FROM python:3.12\n"
        "RUN curl -LsSf https://astral.sh/uv/install.sh | sh\n"  # 2: the publisher's installer
        "RUN curl -fsSL https://raw.githubusercontent.com/acme/tools/master/install.sh | bash\n"  # 3: a branch
        "RUN curl -fsSL https://github.com/acme/tools/raw/main/get.sh | bash\n"  # 4: a branch
        "RUN curl http://get.example.org/setup.sh | sh\n"  # 5: plain http
    )
    workflow = "on: push\njobs:\n  t:\n    runs-on: x\n    steps:\n      - uses: actions/checkout@{ref}\n      - uses: ./local\n"
    write_tree(tmp_path, {".github/workflows/ci.yml": workflow.format(ref="v4")})
    result = scan_text(tmp_path, "Dockerfile", dockerfile, select=["ATS-CMD-013"])
    found = [(f.region.start_line, f.severity.label, [r.region.start_line for r in f.related]) for f in result.findings]
    assert found == [(3, "medium", [4]), (5, "high", [])]  # one finding per file and severity
    assert [n.held for n in result.notices if n.held_as == "practice"] == [1]
    write_tree(tmp_path, {".github/workflows/ci.yml": workflow.format(ref="b4ffde65f46336ab88eb53be808477a3936bae11")})
    pinned = scan_path(tmp_path, select=["ATS-CMD-013"]).findings
    assert [(f.region.start_line, [r.region.start_line for r in f.related]) for f in pinned] == [(2, []), (3, [4]), (5, [])]


def test_an_installer_url_the_build_pins_to_a_version_is_a_release(tmp_path: Path) -> None:
    """flyte's gen.Dockerfile runs `astral.sh/uv/${UV_VERSION}/install.sh`, the stage's
    `ARG UV_VERSION` taking the global `ARG UV_VERSION=0.8.4` (Docker's rule for an ARG
    declared before the first FROM): one exact release, as `.../v0.37.2/install.sh` is
    (judged NOISE). A version segment the build fills in is one too; an installer with no
    version in its URL is reported."""
    text = (
        "ARG UV_VERSION=0.8.4\nARG UVV=0.8.4\nFROM python:3.12\nARG UV_VERSION\nARG UVV\nARG NODE_VERSION\n"
        'RUN curl -LsSf "https://astral.sh/uv/${UV_VERSION}/install.sh" | sh\n'  # 7
        'RUN curl -LsSf "https://astral.sh/uv/${UVV}/install.sh" | sh\n'  # 8: the global default, 0.8.4
        "RUN curl -fsSL https://nodejs.example/v${NODE_VERSION}/setup.sh | bash -\n"  # 9: filled in by the build
        "RUN curl -fsSL https://deb.nodesource.com/setup_lts.x | bash -\n"  # 10
    )
    found = scan_text(tmp_path, "Dockerfile", text, select=["ATS-CMD-013"]).findings
    assert [(f.region.start_line, f.related) for f in found] == [(10, [])]


def test_a_stages_bare_arg_takes_the_global_default() -> None:
    """Docker's rule: `ARG NAME` inside a stage takes the default of an `ARG NAME=x` declared
    before the first FROM; a stage's own default or ENV wins, and a bare ARG with no global
    default stays unknown."""
    text = "ARG UV_VERSION=0.8.4\nARG TAG=v1\nFROM python:3.12\nARG UV_VERSION\nARG TAG=v2\nARG OTHER\nRUN make\n"
    doc = parsers.document(SourceFile("Dockerfile", "/nonexistent/Dockerfile", "dockerfile", len(text)), text)
    (run,) = [ct for ct in doc.view(commands) if ct.origin == "dockerfile RUN"]
    assert {k: run.env.get(k) for k in ("UV_VERSION", "TAG", "OTHER")} == {"UV_VERSION": "0.8.4", "TAG": "v2", "OTHER": None}


def test_a_ci_jobs_smoke_test_of_a_testpypi_release_is_practice(tmp_path: Path) -> None:
    """cleanlab's, lerobot's and torchtitan's release workflows install the package they just
    uploaded to TestPyPI, with PyPI as the extra index for its dependencies: PyPA's documented
    recipe, in a job that ships nothing it installs (judged NOISE four times). The same pair
    in an image is reported."""
    step = "pip install -i https://test.pypi.org/simple/ --extra-index-url https://pypi.org/simple/ mypkg==1.2.0"
    workflow = f"on: release\njobs:\n  smoke:\n    runs-on: ubuntu-latest\n    steps:\n      - run: {step}\n"
    result = scan_text(tmp_path / "ci", ".github/workflows/release.yml", workflow, select=["ATS-CMD-010"])
    assert result.findings == []
    assert [n.message for n in result.notices if n.held_as == "practice"] == [
        "ATS-CMD-010: 1 site held back as the repository's practice (a CI job's smoke test of a release on TestPyPI, "
        "which ships nothing it installs); --include-practice reports them."
    ]
    image = scan_text(tmp_path / "image", "Dockerfile", f"FROM python:3.12\nRUN {step}\n", select=["ATS-CMD-010"])
    assert [(f.region.start_line, f.severity.label) for f in image.findings] == [(2, "high")]
