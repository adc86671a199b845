"""The dependency model: every declaration format becomes the same Requirements and Sources."""

from __future__ import annotations

import pytest

from atlascan import parsers
from atlascan.kinds import classify
from atlascan.model import ParseError, SourceFile
from atlascan.parsers.requirements import (
    EXPLICIT,
    EXTRA,
    ORDERED,
    PRIMARY,
    Manifest,
    convert_specifier,
    manifest,
    pinned_for,
)


def parse(path: str, text: str) -> Manifest:
    kind = classify(path) or "text"
    doc = parsers.document(SourceFile(path, "/nonexistent/" + path, kind, len(text)), text)
    return doc.view(manifest)


def reqs(m: Manifest) -> list[tuple[str, str, int]]:
    return [(r.name, r.specifier, r.span.start_line) for r in m.requirements]


def test_requirements_file_options_hashes_urls_and_includes() -> None:
    m = parse(
        "svc/requirements.txt",
        "--index-url https://pypi.internal.example/simple\n"
        "--extra-index-url=https://download.pytorch.org/whl/cu118  # nightlies\n"
        "--trusted-host pypi.internal.example\n"
        "-f http://wheels.example/\n"
        "--pre\n"
        "-r base.txt\n"
        "-c ../../outside.txt\n"
        "torch==2.1.0 --hash=sha256:abc \\\n"
        "    --hash=sha256:def\n"
        'Transformers[torch]>=4.30; python_version >= "3.8"\n'
        "git+https://github.com/org/repo.git@main#egg=flash_attn\n"
        "https://example.com/pkg-1.0.tar.gz#sha256=0123abcd\n"
        "-e .\n",
    )
    assert [(s.role, s.url, s.span.start_line) for s in m.sources] == [
        (PRIMARY, "https://pypi.internal.example/simple", 1),
        (EXTRA, "https://download.pytorch.org/whl/cu118", 2),
        ("trusted-host", "pypi.internal.example", 3),
        ("find-links", "http://wheels.example/", 4),
    ]
    assert m.pre
    assert [(i.path, i.constraint) for i in m.includes] == [("svc/base.txt", False), ("", True)]
    torch, transformers, flash, archive, local = m.requirements
    assert (torch.pinned, torch.hashes, torch.span.start_line) == ("2.1.0", ("sha256:abc", "sha256:def"), 8)
    assert (transformers.name, transformers.extras, transformers.marker) == ("transformers", ("torch",), 'python_version >= "3.8"')
    assert (flash.name, flash.vcs, flash.ref) == ("flash-attn", True, "main")
    assert archive.hashes == ("sha256:0123abcd",)
    assert local.local and local.editable


def test_pyproject_pep621_poetry_uv_pdm() -> None:
    m = parse(
        "pyproject.toml",
        '[project]\nname = "x"\ndependencies = [\n  "torch>=2.0",\n  "keras==3.1.0",\n]\n'
        '[project.optional-dependencies]\nserve = ["gradio==4.0.0"]\n\n'
        '[tool.poetry.dependencies]\npython = "^3.10"\nmlflow = "^2.9"\n'
        'ray = { version = "2.6.0", source = "internal" }\n'
        'flash = { git = "https://github.com/x/flash.git", branch = "main" }\n\n'
        '[[tool.poetry.source]]\nname = "internal"\nurl = "https://pypi.internal.example/simple"\npriority = "supplemental"\n\n'
        '[[tool.poetry.source]]\nname = "mirror"\nurl = "https://mirror.example/simple"\npriority = "explicit"\n\n'
        '[[tool.uv.index]]\nname = "pytorch"\nurl = "https://download.pytorch.org/whl/cu121"\n\n'
        '[[tool.pdm.source]]\nname = "private"\nurl = "https://pdm.example/simple"\n',
    )
    assert reqs(m) == [
        ("torch", ">=2.0", 4), ("keras", "==3.1.0", 5), ("gradio", "==4.0.0", 8),
        ("mlflow", ">=2.9,<3", 12), ("ray", "==2.6.0", 13), ("flash", "", 14),
    ]  # fmt: skip
    assert m.requirements[4].source == "internal"
    assert m.requirements[5].ref == "main"
    assert [(s.role, s.span.start_line) for s in m.sources] == [(EXTRA, 18), (EXPLICIT, 23), (ORDERED, 28), (EXTRA, 32)]


def test_pipfile_sources_and_conda_environment() -> None:
    pip = parse(
        "Pipfile",
        '[[source]]\nname = "pypi"\nurl = "https://pypi.org/simple"\nverify_ssl = true\n\n'
        '[[source]]\nname = "internal"\nurl = "https://pypi.internal.example/simple"\nverify_ssl = false\n\n'
        '[packages]\ntorch = "==2.1.0"\nrequests = "*"\n',
    )
    assert [(s.role, s.verify_ssl, s.span.start_line) for s in pip.sources] == [(PRIMARY, True, 3), (EXPLICIT, False, 8)]
    assert reqs(pip) == [("torch", "==2.1.0", 12), ("requests", "", 13)]
    conda = parse(
        "env/environment.yml",
        "channels:\n  - http://conda.internal.example/main\n  - conda-forge\n"
        "dependencies:\n  - pytorch=2.1.0=py3.10_cuda\n  - numpy>=1.20\n"
        "  - pip:\n    - --extra-index-url https://pypi.internal.example/simple\n    - mlflow==2.9.0\n",
    )
    assert reqs(conda) == [("torch", "==2.1.0.*", 5), ("numpy", ">=1.20", 6), ("mlflow", "==2.9.0", 9)]
    assert [(s.role, s.span.start_line) for s in conda.sources] == [("channel", 2), ("channel", 3), (EXTRA, 8)]


def test_setup_cfg_and_setup_py_literals() -> None:
    cfg = parse("setup.cfg", "[metadata]\nname = x\n[options]\ninstall_requires =\n    numpy>=1.20\n    # c\n    onnx==1.10.0\n")
    assert reqs(cfg) == [("numpy", ">=1.20", 5), ("onnx", "==1.10.0", 7)]
    py = parse("setup.py", 'from setuptools import setup\nsetup(install_requires=["joblib==1.1.0"], extras_require={"a": ["pyyaml==5.3"]})\nDEPS = ["x==1"]\n')
    assert reqs(py) == [("joblib", "==1.1.0", 2), ("pyyaml", "==5.3", 2)]


def test_setup_py_names_its_arguments_draw_on() -> None:
    """Hugging Face's dependency table: `_deps` is turned into `deps` by a comprehension and
    the arguments take `deps[...]` or `deps_list(...)`; `install_requires=REQUIRED` names a
    list. A list the setup() call does not reach is still not read."""
    py = parse(
        "setup.py",
        "import re\nfrom setuptools import setup\n"
        '_deps = [\n    "numpy",\n    "torch>=2.6",\n]\n'  # 3..6
        'deps = {b: a for a, b in (re.findall(r"^(([^!=<>~ ]+)(?:[!=<>~ ].*)?$)", x)[0] for x in _deps)}\n'
        "def deps_list(*pkgs):\n    return [deps[p] for p in pkgs]\n"
        'extras = {}\nextras["torch"] = deps_list("torch")\n'
        'REQUIRED = ["pyyaml>=6"]\nUNUSED = ["x==1"]\nKEYWORDS = ["deep learning"]\n'  # 12..14
        'setup(install_requires=REQUIRED + ["onnx==1.10.0"], extras_require=extras, keywords=KEYWORDS)\n',
    )
    assert sorted(reqs(py), key=lambda r: r[2]) == [("numpy", "", 4), ("torch", ">=2.6", 5), ("pyyaml", ">=6", 12), ("onnx", "==1.10.0", 15)]
    py = parse("setup.py", 'from setuptools import setup\nsetup(install_requires="numpy>=1.20", extras_require={"gpu": "cupy>=12"})\n')
    assert reqs(py) == [("numpy", ">=1.20", 2), ("cupy", ">=12", 2)]


def test_requirements_know_the_extra_or_group_that_declares_them() -> None:
    """Each requirement carries the extra or dependency group that declares it: the
    dependency rules hold a development group's pins back as a development manifest's."""
    py = parse(
        "setup.py",
        "from setuptools import setup\n"
        "spark = ['pyarrow>=0.15.0,<11.0']\n"  # 2: reached by `spark` and `dev`
        "dev = ['keras==2.3.1',\n       'torch==1.4.0'] + spark\n"  # 3, 4
        "setup(\n    install_requires=['cffi>=1.4.0'],\n"  # 6
        "    extras_require={'spark': spark, 'dev': dev})\n",
    )
    assert [(r.name, r.group) for r in py.requirements] == [
        ("cffi", ""), ("pyarrow", ""), ("keras", "dev"), ("torch", "dev"),
    ]  # fmt: skip
    toml = parse(
        "pyproject.toml",
        '[project]\nname = "x"\ndependencies = ["numpy"]\n[project.optional-dependencies]\ngpu = ["cupy"]\n'
        '[dependency-groups]\ntest = ["pytest"]\n[tool.poetry.group.all-runtimes-dev.dependencies]\ntransformers = "4.41.2"\n'
        "[tool.poetry.dev-dependencies]\nmypy = \"*\"\n",
    )
    assert [(r.name, r.group) for r in toml.requirements] == [
        ("numpy", ""), ("cupy", "gpu"), ("pytest", "test"), ("mypy", "dev"), ("transformers", "all-runtimes-dev"),
    ]  # fmt: skip
    cfg = parse("setup.cfg", "[options]\ninstall_requires =\n    numpy\n[options.extras_require]\ndocs =\n    sphinx==4.0\n")
    assert [(r.name, r.group) for r in cfg.requirements] == [("numpy", ""), ("sphinx", "docs")]


@pytest.mark.parametrize(
    ("spec", "dialect", "pep440"),
    [("^2.9", "poetry", ">=2.9,<3"), ("^0.2.3", "poetry", ">=0.2.3,<0.3"), ("~1.2", "poetry", ">=1.2,<1.3"),
     ("1.4.0", "poetry", "==1.4.0"), ("*", "pipfile", ""), (">= 1.0, < 2", "poetry", ">=1.0,<2"),
     ("=1.2", "conda", "==1.2.*"), ("^1 || ^2", "poetry", "")],
)  # fmt: skip
def test_specifier_dialects(spec: str, dialect: str, pep440: str) -> None:
    assert convert_specifier(spec, dialect) == pep440


def test_broken_toml_is_a_parse_error() -> None:
    with pytest.raises(ParseError):
        parse("pyproject.toml", "[project\n")


def test_nearest_manifest_wins() -> None:
    root = parse("requirements.txt", "torch==2.1.0\n")
    serving = parse("serving/requirements.txt", "torch==2.6.0\ntorch==2.5.1\n")
    assert pinned_for([root, serving], "torch", "serving/app/predict.py") == "2.5.1"
    assert pinned_for([root, serving], "Torch", "train.py") == "2.1.0"
    assert pinned_for([serving], "torch", "train.py") is None


def test_lock_files_are_exact_pins_at_their_entries() -> None:
    poetry = parse(
        "poetry.lock",
        '[[package]]\nname = "torch"\nversion = "2.4.1"\nfiles = [{file = "t.whl", hash = "sha256:ab"}]\n\n'
        '[[package]]\nname = "Keras"\nversion = "3.8.0"\n',
    )
    assert [(r.name, r.pinned, r.span.start_line, bool(r.hashes)) for r in poetry.requirements] == [
        ("torch", "2.4.1", 2, True), ("keras", "3.8.0", 7, False),
    ]  # fmt: skip
    pipenv = parse(
        "Pipfile.lock",
        '{\n  "_meta": {},\n  "default": {\n    "torch": {\n      "hashes": ["sha256:ab"],\n      "version": "==2.4.1"\n    }\n  },\n  "develop": {}\n}\n',
    )
    assert [(r.name, r.pinned, r.span.start_line) for r in pipenv.requirements] == [("torch", "2.4.1", 4)]
    assert pinned_for([poetry], "keras", "src/app.py") == "3.8.0"


def test_uv_lock_reads_each_package_once_at_its_own_name_line() -> None:
    """Names inside dependency arrays and [package.*] sub-tables are not packages; an
    editable project without a version is no pin; empty file lists are no hashes."""
    uv = parse(
        "uv.lock",
        'version = 1\n\n[[package]]\nname = "app"\nsource = { editable = "." }\ndependencies = [\n'
        '    { name = "torch" },\n]\n\n[package.metadata]\nrequires-dist = [{ name = "torch", specifier = ">=2" }]\n\n'
        '[[package]]\nname = "torch"\nversion = "2.6.0"  # chosen\nsource = { registry = "https://pypi.org/simple" }\n'
        'wheels = [\n    { url = "https://files/t.whl", hash = "sha256:ab" },\n]\n\n'
        '[[package]]\nname = "numpy"\nversion = "2.1.0"\nwheels = []\n\n[package.optional-dependencies]\nname = "not-a-package"\n',
    )
    assert [(r.name, r.pinned, r.span.start_line, bool(r.hashes)) for r in uv.requirements] == [
        ("torch", "2.6.0", 14, True), ("numpy", "2.1.0", 22, False),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("path", "kind"),
    [("requirements.txt", "requirements"), ("dev-requirements.txt", "requirements"), ("requirements/base.in", "requirements"),
     ("constraints.txt", "requirements"), ("pdm.lock", "requirements"), ("Pipfile.lock", "requirements"),
     ("setup.cfg", "setup-cfg"), ("MANIFEST.in", None), ("yarn.lock", None), ("docs/notes.txt", "text")],
)  # fmt: skip
def test_dependency_files_are_classified(path: str, kind: str | None) -> None:
    assert classify(path) == kind


def test_read_manifests_of_a_scan_for_the_nearest_pin(tmp_path) -> None:
    import os

    from atlascan.parsers.requirements import read_manifests
    from scanning import write_tree

    write_tree(tmp_path, {
        "requirements.txt": "torch==2.1.0\n",
        "serving/pyproject.toml": '[project]\nname = "s"\ndependencies = ["torch==2.6.0"]\n',
        "serving/app.py": "import torch\n",
        "broken/pyproject.toml": "[project\n",
    })  # fmt: skip
    files = [SourceFile(p, str(tmp_path / p), classify(p) or "text", os.path.getsize(tmp_path / p))
             for p in ("requirements.txt", "serving/pyproject.toml", "serving/app.py", "broken/pyproject.toml")]  # fmt: skip
    found = read_manifests(files)
    assert [m.path for m in found] == ["requirements.txt", "serving/pyproject.toml"]
    assert pinned_for(found, "torch", "serving/app.py") == "2.6.0"
    assert pinned_for(found, "torch", "train.py") == "2.1.0"


@pytest.mark.parametrize(
    ("command", "requirements"),
    [("pip install torch==2.1 -r req.txt --index-url https://x/simple numpy", ["torch==2.1", "numpy"]),
     ("sudo -H python3 -m pip install --user -e ./pkg keras", ["./pkg", "keras"]),
     ("uv pip install --system vllm==0.8.5", ["vllm==0.8.5"]),
     ("pip3.11 install --no-deps x && echo done", ["x"]),
     ("pip download torch", []), ("echo pip install torch", []), ("pip", [])],
)  # fmt: skip
def test_pip_install_arguments(command: str, requirements: list[str]) -> None:
    from atlascan.parsers.requirements import pip_install_arguments

    words = command.split()
    assert [words[i] for i in pip_install_arguments(words)] == requirements
