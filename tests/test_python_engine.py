"""The Python/notebook analyzer beyond the fixtures: version facts, severity grading,
exact positions, notebooks, cross-file wrappers and hostile input."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from atlascan.engines.python.versions import pins
from atlascan.model import Precision, ScanResult, Severity
from atlascan.pathclass import report_classes
from scanning import pairs, scan_path, write_tree


def _scan(tmp_path: Path, files: Mapping[str, str | bytes], **kwargs: object) -> ScanResult:
    return scan_path(write_tree(tmp_path, files), **kwargs)


# Loads of the model a serving platform put in place are the repository's practice: reported
# only when asked for (--include-practice).
PRACTICE_TOO = {"report_classes": report_classes(tests=False, docs=False, practice=True, unproven=True)}


def _one(result: ScanResult, rule: str):  # type: ignore[no-untyped-def]
    found = [f for f in result.findings if f.rule_id == rule]
    assert len(found) == 1, [(f.rule_id, f.region.start_line, f.message) for f in result.findings]
    return found[0]


BARE_LOAD = "import torch\n\nstate = torch.load(path)\n"
SAFE_LOAD = "import torch\n\nstate = torch.load(path, weights_only=True)\n"


# ---- version-aware torch.load ---------------------------------------------------------------


def test_bare_torch_load_without_pin_is_medium_precision(tmp_path: Path) -> None:
    finding = _one(_scan(tmp_path, {"train.py": BARE_LOAD}), "ATS-PY-004")
    assert finding.region.start_line == 3
    assert finding.precision == Precision.MEDIUM
    assert "no torch >= 2.6 pin" in finding.message


def test_bare_torch_load_with_old_torch_is_reported(tmp_path: Path) -> None:
    result = _scan(tmp_path, {"train.py": BARE_LOAD, "requirements.txt": "torch==2.5.1\nnumpy\n"})
    finding = _one(result, "ATS-PY-004")
    assert finding.precision == Precision.HIGH
    assert "torch 2.5.1 is pinned" in finding.message


def test_weights_only_true_is_bypassable_below_2_6(tmp_path: Path) -> None:
    result = _scan(tmp_path, {"train.py": SAFE_LOAD, "requirements-gpu.txt": "torch>=2.4,<2.6\n"})
    finding = _one(result, "ATS-PY-004")
    assert finding.severity == Severity.MEDIUM
    assert "CVE-2025-32434" in finding.message
    assert "full unpickler" not in finding.message  # `weights_only=True`: the weights-only one, bypassed


def test_torch_pin_from_pyproject_dockerfile_and_lock(tmp_path: Path) -> None:
    for name, text in (
        ("pyproject.toml", '[project]\ndependencies = ["torch>=2.6", "numpy"]\n'),
        ("Dockerfile", "FROM python:3.12\nRUN pip install --no-cache-dir torch==2.7.1 numpy\n"),
        ("poetry.lock", '[[package]]\nname = "torch"\nversion = "2.6.0"\n'),
        ("setup.cfg", "[options]\ninstall_requires =\n    torch>=2.6\n"),
        ("setup.py", 'from setuptools import setup\n_deps = ["torch>=2.6"]\nsetup(extras_require={"torch": [d for d in _deps]})\n'),
    ):
        folder = tmp_path / name.replace(".", "_")
        result = _scan(folder, {"train.py": BARE_LOAD, name: text})
        assert pairs(result, "ATS-PY-004") == set(), name


def test_a_lock_beside_a_manifest_says_which_torch_is_installed(tmp_path: Path) -> None:
    """helm's pyproject.toml asks for `torch>=1.13.1,<3.0.0` and its uv.lock resolves 2.11.0,
    whose torch.load is weights-only by default: the lock's entry is what is installed, not
    the range's lower bound (judged FALSE at critical). Without the lock, the lower bound
    stands as the riskiest version that may be installed."""
    files = {"train.py": BARE_LOAD, "pyproject.toml": '[project]\ndependencies = ["torch>=1.13.1,<3.0.0"]\n'}
    assert pairs(_scan(tmp_path / "range", files), "ATS-PY-004") == {("ATS-PY-004", 3)}
    locked = {**files, "uv.lock": 'version = 1\n\n[[package]]\nname = "torch"\nversion = "2.11.0"\n'}
    assert pairs(_scan(tmp_path / "locked", locked), "ATS-PY-004") == set()
    # A lock of another folder does not speak for this one.
    elsewhere = {**files, "other/uv.lock": locked["uv.lock"]}
    assert pairs(_scan(tmp_path / "elsewhere", elsewhere), "ATS-PY-004") == {("ATS-PY-004", 3)}


def test_pins_take_the_lowest_lower_bound() -> None:
    found = pins(["torch==2.7.0\ndatasets>=4.0\n", "pytorch=2.5.1\n", "keras<3\n"])
    assert found == {"torch": (2, 5, 1), "datasets": (4, 0)}


def test_datasets_4_ignores_trust_remote_code(tmp_path: Path) -> None:
    code = 'from datasets import load_dataset\n\nds = load_dataset("acme/x", trust_remote_code=True)\n'
    assert pairs(_scan(tmp_path / "new", {"a.py": code, "requirements.txt": "datasets==4.1.0\n"}), "ATS-PY-005") == set()
    assert pairs(_scan(tmp_path / "old", {"a.py": code, "requirements.txt": "datasets==2.21.0\n"}), "ATS-PY-005") == {("ATS-PY-005", 3)}


# ---- positions and severity ------------------------------------------------------------------


def test_columns_are_characters_and_end_exclusive(tmp_path: Path) -> None:
    code = 'import pickle as pk\nnamé = "é"; x = pk.loads(blob)\n'
    finding = _one(_scan(tmp_path, {"a.py": code}), "ATS-PY-001")
    line = code.splitlines()[1]
    assert finding.region.start_line == 2
    assert finding.region.start_column == line.index("pk.loads") + 1
    assert finding.region.end_column == line.index("pk.loads") + len("pk.loads") + 1


def test_keyword_is_the_location_of_a_bad_argument(tmp_path: Path) -> None:
    code = "import torch\nstate = torch.load(\n    path,\n    weights_only=False,\n)\n"
    finding = _one(_scan(tmp_path, {"a.py": code}), "ATS-PY-004")
    assert (finding.region.start_line, finding.region.start_column) == (4, 5)


def test_remote_source_raises_and_committed_file_lowers(tmp_path: Path) -> None:
    code = (
        "import joblib\n"
        "from huggingface_hub import hf_hub_download\n"
        'a = joblib.load(hf_hub_download("acme/m", "m.joblib", revision="' + "a" * 40 + '"))\n'
        'b = joblib.load("models/m.joblib")\n'
        "c = joblib.load(some_path)\n"
    )
    result = _scan(tmp_path, {"serve.py": code, "models/m.joblib": b"\x80\x04K\x01."})
    by_line = {f.region.start_line: f for f in result.findings if f.rule_id == "ATS-PY-002"}
    assert by_line[3].severity == Severity.CRITICAL
    assert by_line[4].severity == Severity.MEDIUM
    assert [r.path for r in by_line[4].related] == ["models/m.joblib"]
    assert by_line[5].severity == Severity.HIGH


# ---- resolution ------------------------------------------------------------------------------


def test_local_names_shadow_modules(tmp_path: Path) -> None:
    code = (
        "import torch\nimport pickle\n"
        "def f(torch):\n    return torch.load(p, weights_only=False)\n"
        "def g():\n    pickle = Codec()\n    return pickle.loads(b)\n"
        "def load(p):\n    return p\n"
        "x = load(q)\n"
    )
    assert pairs(_scan(tmp_path, {"a.py": code}), "ATS-PY") == set()


def test_wrapper_across_files_with_relative_import(tmp_path: Path) -> None:
    files = {
        "pkg/__init__.py": "",
        "pkg/ckpt.py": "import torch\n\ndef restore(path, device='cpu'):\n    return torch.load(path, map_location=device, weights_only=False)\n",
        "pkg/main.py": "import sys\nfrom .ckpt import restore\n\nstate = restore(sys.argv[1])\n",
    }
    result = _scan(tmp_path, files)
    assert {(f.path, f.region.start_line) for f in result.findings if f.rule_id == "ATS-PY-004"} == {
        ("pkg/ckpt.py", 4),
        ("pkg/main.py", 4),
    }
    caller = next(f for f in result.findings if f.path == "pkg/main.py")
    # The operator's command line: named as the origin, not critical.
    assert caller.severity == Severity.HIGH and "restore" in caller.message
    assert "`restore` loads a command-line argument (from `sys.argv[1]` at line 4)" in caller.message


# ---- notebooks -------------------------------------------------------------------------------


def _notebook(cells: list[list[str]]) -> str:
    data = {
        "cells": [{"cell_type": "code", "metadata": {}, "outputs": [], "source": c} for c in cells],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    return json.dumps(data, indent=1)


def test_notebook_resolves_across_cells_and_reports_file_lines(tmp_path: Path) -> None:
    text = _notebook([["import pickle as pk\n"], ["%matplotlib inline\n", "x = 1\n"], ["obj = pk.loads(blob)\n"]])
    finding = _one(_scan(tmp_path, {"nb.ipynb": text}), "ATS-PY-001")
    expected_line = next(i for i, line in enumerate(text.splitlines(), 1) if "pk.loads" in line)
    assert finding.region.start_line == expected_line
    assert "(cell 3)" in finding.message


def test_notebook_bad_cell_is_a_notice_and_other_cells_are_scanned(tmp_path: Path) -> None:
    text = _notebook([["import yaml\n"], ["def broken(:\n"], ["cfg = yaml.unsafe_load(s)\n"]])
    result = _scan(tmp_path, {"nb.ipynb": text})
    assert pairs(result, "ATS-PY") != set()
    assert any("cell 2" in n.message for n in result.notices)


# ---- hostile input ---------------------------------------------------------------------------


def test_hostile_python_gives_notices_not_tracebacks(tmp_path: Path) -> None:
    files: dict[str, str | bytes] = {
        "syntax.py": "import pickle\ndef f(:\n",
        "py2.py": "import pickle\nprint 'hello'\n",
        "nested.py": "import pickle\nx = " + "[" * 400 + "]" * 400 + "\n",
        "chain.py": "import pickle\nx = " + " + ".join(["a"] * 50000) + "\n",
        "latin1.py": b"import pickle\nname = '\xe9'\n",
        "broken.ipynb": '{"cells": [',
        "old.ipynb": '{"worksheets": []}',
    }
    result = _scan(tmp_path, files)
    by_path = {n.path: n.message for n in result.notices}
    assert "Python 2" in by_path["py2.py"]
    assert "syntax error" in by_path["syntax.py"]
    assert "nested" in by_path["nested.py"] or "syntax" in by_path["nested.py"]
    assert "UTF-8" in by_path["latin1.py"]
    assert "JSON" in by_path["broken.ipynb"]
    assert "cells" in by_path["old.ipynb"]
    assert not any("Internal error" in n.message for n in result.notices)


def test_prefilter_skips_files_without_sink_words(tmp_path: Path) -> None:
    # No sink module is named, so the file is never parsed and its syntax error goes unseen.
    result = _scan(tmp_path, {"plain.py": "def f(:\n    return 1\n"})
    assert result.notices == [] and result.findings == []


def test_prefilter_knows_every_sink_module(tmp_path: Path) -> None:
    files = {
        "a.py": "import cloudpickle\nobj = cloudpickle.loads(blob)\n",
        "b.py": "from langchain_community.vectorstores import FAISS\ns = FAISS.load_local(p, e, allow_dangerous_deserialization=True)\n",
        "c.py": "import tf_keras\nm = tf_keras.models.load_model(p, safe_mode=False)\n",
        "d.py": "from os import system as run\nrun(cmd)\n",
    }
    assert pairs(_scan(tmp_path, files), "ATS-PY") == {
        ("ATS-PY-001", 2),
        ("ATS-PY-015", 2),
        ("ATS-PY-008", 2),
        ("ATS-PY-011", 2),
    }


def _apply(text: str, fix: dict[str, Any]) -> str:
    lines = text.splitlines(keepends=True)
    for r in sorted(fix["replacements"], key=lambda r: (r["startLine"], r["startColumn"]), reverse=True):
        start = sum(len(x) for x in lines[: r["startLine"] - 1]) + r["startColumn"] - 1
        end = sum(len(x) for x in lines[: r["endLine"] - 1]) + r["endColumn"] - 1
        text = text[:start] + r["insertedText"] + text[end:]
        lines = text.splitlines(keepends=True)
    return text


def test_suggested_fixes_apply_cleanly(tmp_path: Path) -> None:
    code = (
        "import numpy as np\nimport torch\nimport yaml\nfrom transformers import AutoModel\n"
        "a = torch.load(path, weights_only=False)\n"
        "b = torch.load(path)\n"
        "c = yaml.load(stream)\n"
        'd = AutoModel.from_pretrained("acme/enc")\n'
        "e = np.load(path, allow_pickle=True)\n"
        'é = yaml.full_load("x")\n'
    )
    result = _scan(tmp_path, {"a.py": code, "requirements.txt": "pyyaml==5.3.1\n"})  # full_load builds objects before 5.4
    fixed = {f.region.start_line: _apply(code, f.properties["fix"]).splitlines()[f.region.start_line - 1] for f in result.findings if f.path == "a.py"}
    assert fixed == {
        5: "a = torch.load(path, weights_only=True)",
        6: "b = torch.load(path, weights_only=True)",
        7: "c = yaml.safe_load(stream)",
        8: 'd = AutoModel.from_pretrained("acme/enc", revision="<40-hex commit>")',
        9: "e = np.load(path, allow_pickle=False)",
        10: 'é = yaml.safe_load("x")',
    }


def test_notebook_source_given_as_one_string(tmp_path: Path) -> None:
    cell = {"cell_type": "code", "metadata": {}, "outputs": [], "source": "import pickle\nx = pickle.loads(b)\n"}
    text = json.dumps({"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}, indent=1)
    finding = _one(_scan(tmp_path, {"nb.ipynb": text}), "ATS-PY-001")
    assert finding.region.start_line == next(i for i, line in enumerate(text.splitlines(), 1) if "pickle.loads" in line)


def test_a_file_the_same_code_writes_atomically_is_low(tmp_path: Path) -> None:
    # DeepSpeed's Triton autotune cache: written under a temporary name, then moved into place.
    code = (
        "import os, pickle, shutil\n"
        "class Cache:\n"
        "    def put(self, table):\n"
        "        with open(self.file_path + '.tmp', 'wb') as handle:\n            pickle.dump(table, handle)\n"
        "        os.replace(self.file_path + '.tmp', self.file_path)\n"  # 6
        "    def load(self):\n        with open(self.file_path, 'rb') as handle:\n            return pickle.load(handle)\n"  # 9
        "    def other(self):\n        shutil.move(self.other_path, '/tmp/x')\n"
        "        with open(self.other_path, 'rb') as handle:\n            return pickle.load(handle)\n"  # 13: moved away, not written
    )
    found = _by_line(_scan(tmp_path, {"cache.py": code}), "ATS-PY-001")
    assert {line: f.severity for line, f in found.items()} == {9: Severity.LOW, 13: Severity.HIGH}
    assert "this code writes that file itself at line 6" in found[9].message


def test_wrapper_skeleton_keeps_lines_and_only_candidate_functions() -> None:
    from atlascan.parsers.python import skeleton_text

    sink_word = re.compile(r"\b(?:pickle|yaml)\b")
    src = (
        "import pickle\nfrom x import (\n    a,\n)\n\n@dec\n@dec2\ndef load_it(p):\n    return pickle.load(p)\n\n"
        "class Big:\n    def method(self):\n        return pickle.loads(b'')\n\ndef other():\n    return 1\n\n"
        "if True:\n    pass\nelse:\n    import yaml\n"
    )
    skeleton = skeleton_text(src, sink_word)
    assert skeleton is not None
    assert len(skeleton.splitlines()) == len(src.splitlines())
    assert "def load_it(p):" in skeleton and "@dec2" in skeleton and "from x import (\n    a,\n)" in skeleton
    assert "class Big" not in skeleton and "def other" not in skeleton and "else:\n    import yaml" in skeleton
    assert skeleton_text("import pickle\n\nclass A:\n    def f(self):\n        return pickle.load(x)\n", sink_word) is None
    # A function that returns nothing is kept only when it names a body word (a runner's sink).
    runner = "import os, pickle\n\ndef sh(cmd):\n    os.system(cmd)\n\ndef keep(p):\n    pickle.dump(p, f)\n"
    assert skeleton_text(runner, sink_word) is None
    kept = skeleton_text(runner, sink_word, re.compile(r"\bsystem\b"))
    assert kept is not None and "def sh(cmd):" in kept and "def keep" not in kept


def test_wrapper_found_through_skeleton_across_files(tmp_path: Path) -> None:
    files = {
        "pkg/io_utils.py": "import torch\n\nclass Unrelated:\n    pass\n\ndef load_ckpt(p):\n    return torch.load(p)\n",
        "pkg/train.py": "import sys\nfrom pkg.io_utils import load_ckpt\n\nstate = load_ckpt(sys.argv[1])\n",
        "requirements.txt": "torch==2.1.0\n",
    }
    result = _scan(tmp_path, files)
    assert ("ATS-PY-004", 4) in {(f.rule_id, f.region.start_line) for f in result.findings if f.path == "pkg/train.py"}


# ---- sink rows in rule TOML ------------------------------------------------------------------


def test_sink_rows_of_the_catalog_have_no_problems() -> None:
    from atlascan import registry
    from atlascan.rules import load_rules

    assert [p for p in registry.problems(load_rules()) if "ATS-PY-" in p] == []


def test_unknown_sink_condition_and_field_are_registry_problems() -> None:
    from dataclasses import replace

    from atlascan import registry
    from atlascan.rules import load_rules

    rows = [
        {"names": ["yaml.load"], "check": "yaml_loadr", "data_kw": "stream"},
        {"names": ["numpy.load"], "check": "kw_truthy", "data_kw": "file", "option": {"kw": "allow_pickle"}},
        {"names": ["torch.distributed.gather_object"], "data": False, "options": {"fold": "folder"}},
    ]
    rule = replace(load_rules()["ATS-PY-007"], match={"sinks": rows}, source="test.toml")
    found = [p for p in registry.problems({rule.id: rule}) if p.startswith("test.toml")]
    assert any("row 1: unknown condition 'yaml_loadr'" in p for p in found), found
    assert any("row 2: unknown field `option`" in p for p in found), found
    assert any("row 2: condition 'kw_truthy' needs `options.kw`" in p for p in found), found
    assert any("row 3: option `fold` must be one of repository" in p for p in found), found


def test_fixes_name_known_conditions() -> None:
    from atlascan.engines.python.conditions import CHECKS
    from atlascan.engines.python.fixes import FIXES

    assert set(FIXES) <= set(CHECKS)


# ---- critical needs proof (issue 13 §3) -------------------------------------------------------


def _by_line(result: ScanResult, rule: str) -> dict[int, Any]:
    return {f.region.start_line: f for f in result.findings if f.rule_id == rule}


def test_an_environment_variable_the_repository_sets_itself_is_no_proof(tmp_path: Path) -> None:
    # unsloth's loader sets UNSLOTH_FORCE_CUSTOM_DTYPE to literals and vision.py evals it:
    # a channel inside the program, no proof. A variable nobody in the repository sets, or one
    # set from an f-string, is the deployer's: outside the code, named with its evidence, but
    # the operator's own choice (high, not critical).
    files = {
        "pkg/loader.py": "import os\nos.environ['CUSTOM_DTYPE'] = (\n    'float16;torch.float16'\n)\nos.environ.setdefault('OTHER', 'x')\nos.environ['FMT'] = f'{v}'\n",
        "pkg/vision.py": (
            "import os\n"
            "a = eval(os.environ['CUSTOM_DTYPE'])\n"
            "b = eval(os.getenv('OTHER'))\n"
            "c = eval(os.environ['FMT'])\n"
            "d = eval(os.environ['UNSET'])\n"
        ),
        "setup.ipynb": _notebook([["import os\n", "os.environ[\"NB_SET\"] = \"1\"\n"]]),
        "pkg/run.py": "import os\nexec(os.environ['NB_SET'])\n",
    }
    result = _scan(tmp_path, files)
    found = {(f.path, f.region.start_line): f for f in result.findings if f.rule_id == "ATS-PY-010"}
    assert {key: f.severity for key, f in found.items()} == {
        ("pkg/vision.py", 2): Severity.HIGH, ("pkg/vision.py", 3): Severity.HIGH, ("pkg/vision.py", 4): Severity.HIGH,
        ("pkg/vision.py", 5): Severity.HIGH, ("pkg/run.py", 2): Severity.HIGH,
    }  # fmt: skip
    assert "the environment variable `CUSTOM_DTYPE` this repository sets itself (`pkg/loader.py:2`)" in found[("pkg/vision.py", 2)].message
    assert "an environment variable (from `os.environ['FMT']` at line 4)" in found[("pkg/vision.py", 4)].message
    assert "an environment variable (from `os.environ['UNSET']` at line 5)" in found[("pkg/vision.py", 5)].message


def test_critical_only_with_data_from_outside_and_the_evidence_is_named(tmp_path: Path) -> None:
    code = (
        "import argparse, os, sys\nimport joblib\n"
        "def load(path):\n    return joblib.load(path)\n"  # 4: a bare parameter
        "model_path = sys.argv[1]\n"
        "a = joblib.load(model_path)\n"  # 6
        "b = joblib.load(os.getenv('MODEL_DIR'))\n"  # 7
        "name = input('model? ')\n"
        "c = joblib.load(name)\n"  # 9: typed by whoever runs it
    )
    found = _by_line(_scan(tmp_path, {"score.py": code}), "ATS-PY-002")
    assert {line: f.severity for line, f in found.items()} == {
        4: Severity.HIGH, 6: Severity.HIGH, 7: Severity.HIGH, 9: Severity.HIGH,
    }  # fmt: skip
    # The operator's command line and environment are outside the code: named, not critical.
    assert "from `sys.argv[1]` at line 5" in found[6].message
    assert "from `os.getenv('MODEL_DIR')` at line 7" in found[7].message
    assert "at line" not in found[4].message


def test_the_operators_command_line_environment_and_prompt_are_no_way_in(tmp_path: Path) -> None:
    # Reviewers of 29 ML repositories: a checkpoint passed on an offline script's command line
    # is the operator's to vet. The same sink fed by a web request is how an attacker gets in.
    code = (
        "import os, sys\nimport torch\nfrom flask import request\n"
        "a = torch.load(sys.argv[1])\n"  # 4
        "b = torch.load(os.environ['X'])\n"  # 5
        "c = torch.load(input())\n"  # 6
        "d = torch.load(request.files['model'])\n"  # 7
    )
    found = _by_line(_scan(tmp_path, {"convert.py": code}), "ATS-PY-004")
    assert {line: f.severity for line, f in found.items()} == {
        4: Severity.HIGH, 5: Severity.HIGH, 6: Severity.HIGH, 7: Severity.CRITICAL,
    }  # fmt: skip
    assert "loads a command-line argument (from `sys.argv[1]` at line 4)" in found[4].message
    assert "loads an environment variable (from `os.environ['X']` at line 5)" in found[5].message
    assert "loads user input" in found[6].message
    assert "loads a web request (from `request.files['model']` at line 7)" in found[7].message


def test_public_entry_point_parameters_are_proof(tmp_path: Path) -> None:
    code = (
        "import pickle\nfrom flask import Flask\napp = Flask(__name__)\n"
        "@app.route('/predict', methods=['POST'])\ndef predict(blob):\n    return pickle.loads(blob)\n"  # 6
        "def restore(path):\n    \"\"\"Load a model.\n\n    path: the file the user uploaded.\n    \"\"\"\n"
        "    return pickle.load(open(path, 'rb'))\n"  # 12
        "def helper(path):\n    \"\"\"Load the model written by train().\"\"\"\n    return pickle.load(open(path, 'rb'))\n"  # 15
        "def send(path):\n    \"\"\"Upload the model.\n\n    path: the file that needs to be uploaded.\n    \"\"\"\n"
        "    return pickle.load(open(path, 'rb'))\n"  # 21: what it sends away, not a client's upload
        "def complete(upload_id):\n    \"\"\"Args:\n        upload_id: Upload ID from create_multipart_upload\n    \"\"\"\n"
        "    return pickle.loads(fetch(upload_id))\n"  # 26: a storage API's noun
        "def restore_file(path):\n    \"\"\"path: the uploaded checkpoint.\"\"\"\n"
        "    return pickle.load(open(path, 'rb'))\n"  # 29
        "def revise(client):\n    \"\"\"client: Google Cloud genai client.\"\"\"\n"
        "    return pickle.loads(client.fetch())\n"  # 32: the parameter's own name is no word about it
        # maxtext's benchmark runner: another parameter's entry names the word `command`, and
        # `user: User string` is a user's name: neither documents its parameter as user input.
        "def run(command, task):\n    \"\"\"Run it.\n\n    Args:\n      command: command to execute\n"
        "      task: user provided arguments for running the command.\n    \"\"\"\n"
        "    return pickle.loads(command)\n"  # 40
        "def delete(user):\n    \"\"\"Args:\n      user: User string\n    \"\"\"\n"
        "    return pickle.loads(user)\n"  # 45
    )
    found = _by_line(_scan(tmp_path, {"app.py": code}), "ATS-PY-001")
    assert {line: f.severity for line, f in found.items()} == {
        6: Severity.CRITICAL, 12: Severity.CRITICAL, 15: Severity.HIGH, 21: Severity.HIGH, 26: Severity.HIGH, 29: Severity.CRITICAL,
        32: Severity.HIGH, 40: Severity.HIGH, 45: Severity.HIGH,
    }  # fmt: skip
    assert "a web route" in found[6].message and "documented as user input" in found[12].message


def test_a_parameter_typed_as_a_web_request_is_proof(tmp_path: Path) -> None:
    code = (
        "from __future__ import annotations\nimport pickle\nfrom typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from starlette.requests import Request\n"
        "async def handle(request: Request):\n    body = await request.body()\n"
        "    return pickle.loads(body)\n"  # 8
        "async def handle_header(request: 'Request'):\n    return pickle.loads(request.headers['payload'])\n"  # 10
        "def from_payload(request: dict):\n    return pickle.loads(request['data'])\n"  # 12: not a request type
    )
    found = _by_line(_scan(tmp_path, {"runner_app.py": code}), "ATS-PY-001")
    assert {line: f.severity for line, f in found.items()} == {8: Severity.CRITICAL, 10: Severity.CRITICAL, 12: Severity.HIGH}
    assert "(a web request)" in found[8].message and "web request" not in found[12].message


def test_a_grpc_servicer_method_is_handed_a_client_message(tmp_path: Path) -> None:
    # LeRobot's policy server unpickles what its gRPC clients send (real shape: the request
    # stream of SendObservations). A class that is not a servicer proves nothing.
    code = (
        "import pickle\nimport services_pb2_grpc\n"
        "class PolicyServer(services_pb2_grpc.AsyncInferenceServicer):\n"
        "    def SendPolicyInstructions(self, request, context):\n"
        "        return pickle.loads(request.data)\n"  # 5
        "    def SendObservations(self, request_iterator, context):\n"
        "        for chunk in request_iterator:\n"
        "            data = chunk.data\n"
        "        return pickle.loads(data)\n"  # 9
        "class Cache(Base):\n"
        "    def get(self, request, context):\n"
        "        return pickle.loads(request.data)\n"  # 12
    )
    found = _by_line(_scan(tmp_path, {"policy_server.py": code}), "ATS-PY-001")
    assert {line: f.severity for line, f in found.items()} == {5: Severity.CRITICAL, 9: Severity.CRITICAL, 12: Severity.HIGH}
    assert "(a gRPC request)" in found[9].message


def test_a_file_the_same_code_wrote_is_low(tmp_path: Path) -> None:
    code = (
        "import os, pickle, sys\nimport joblib, torch\n"
        "out = sys.argv[1]\n"
        "path = os.path.join(out, 'model.joblib')\n"
        "joblib.dump(clf, path)\n"
        "clf = joblib.load(path)\n"  # 6
        "torch.save(net.state_dict(), 'ckpt.pt')\n"
        "state = torch.load('ckpt.pt', weights_only=False)\n"  # 8
        "with open('cache.pkl', 'wb') as fh:\n    pickle.dump(obj, fh)\n"
        "with open('cache.pkl', 'rb') as fh:\n    obj = pickle.load(fh)\n"  # 12
        "other = joblib.load(os.path.join(out, 'other.joblib'))\n"  # 13: not written here
    )
    result = _scan(tmp_path, {"train.py": code})
    low = {(f.rule_id, f.region.start_line): f for f in result.findings if f.severity == Severity.LOW}
    assert set(low) == {("ATS-PY-002", 6), ("ATS-PY-004", 8), ("ATS-PY-001", 12)}
    assert "this code writes that file itself at line 5" in low[("ATS-PY-002", 6)].message
    other = _by_line(result, "ATS-PY-002")[13]  # not written here: the operator's command line, not lowered
    assert other.severity == Severity.HIGH and "a command-line argument (from `sys.argv[1]` at line 3)" in other.message
    # Reloading several files it saved is one finding per rule and file (kubeflow/examples'
    # notebooks reload 27), the others related locations.
    again = code + "joblib.dump(enc, 'enc.joblib')\nenc = joblib.load('enc.joblib')\n"  # 15
    (folded,) = [f for f in _scan(tmp_path / "again", {"train.py": again}).findings if f.rule_id == "ATS-PY-002" and f.severity == Severity.LOW]
    assert (folded.region.start_line, [r.region.start_line for r in folded.related]) == (6, [15])
    assert folded.message.endswith("(and 1 more in this file).")


def test_a_pin_is_not_raised_by_the_command_line_naming_the_model(tmp_path: Path) -> None:
    code = (
        "import argparse\nfrom transformers import AutoModel\n"
        "p = argparse.ArgumentParser()\np.add_argument('--model', default='acme/encoder')\nargs = p.parse_args()\n"
        "model = AutoModel.from_pretrained(args.model)\n"  # 6
    )
    assert [(f.region.start_line, f.severity) for f in _scan(tmp_path, {"embed.py": code}).findings if f.rule_id == "ATS-PY-006"] == [(6, Severity.LOW)]


def test_a_field_of_a_helpers_parameter_names_no_hub_id_to_pin(tmp_path: Path) -> None:
    """torchtune's `tune download` hands `snapshot_download` the `repo_id` field of the
    namespace its subcommand is given (judged NOISE): as for a plain parameter of a generic
    helper, the caller names the model, and there is no hub id here to pin."""
    code = (
        "from huggingface_hub import snapshot_download\n"
        "class Download:\n"
        "    def _download_cmd(self, args):\n"
        "        return snapshot_download(args.repo_id, local_dir=args.output_dir)\n"  # 4: silent
        "def fixed():\n    return snapshot_download('acme/encoder')\n"  # 6
    )
    found = [(f.region.start_line, f.severity) for f in _scan(tmp_path, {"download.py": code}).findings if f.rule_id == "ATS-PY-006"]
    assert found == [(6, Severity.LOW)]


def test_loaders_of_formats_without_pickle_are_at_most_medium(tmp_path: Path) -> None:
    code = (
        "import os\nimport mlflow\nimport tensorflow as tf\n"
        "policy = tf.saved_model.load(os.environ['AIP_STORAGE_URI'])\n"
        "booster = mlflow.xgboost.load_model('s3://models/xgb')\n"
        "sk = mlflow.sklearn.load_model('s3://models/sk')\n"
    )
    result = _scan(tmp_path, {"serve.py": code}, **PRACTICE_TOO)
    assert _by_line(result, "ATS-PY-022")[4].severity == Severity.LOW  # the deployment's own model: practice
    # A bucket the code names is its project's storage: high, not critical.
    assert {line: f.severity for line, f in _by_line(result, "ATS-PY-021").items()} == {5: Severity.MEDIUM, 6: Severity.HIGH}
    # The message says which kind of file the flavor reads, not that "most flavors" unpickle.
    messages = {line: f.message for line, f in _by_line(result, "ATS-PY-021").items()}
    assert "this flavor reads its own format, not a pickle" in messages[5] and "unpickle" not in messages[5]
    assert "this flavor unpickles the model's files" in messages[6]


def test_an_mlflow_run_uri_is_named_as_one(tmp_path: Path) -> None:
    code = "import mlflow\n\ndef evaluate(run_id):\n    return mlflow.sklearn.load_model(f'runs:/{run_id}/model')\n"
    (finding,) = _by_line(_scan(tmp_path, {"evaluate.py": code}), "ATS-PY-021").values()
    assert "loads a model from an MLflow run or registry URI" in finding.message


def test_self_and_urls_inside_commands_prove_nothing(tmp_path: Path) -> None:
    code = (
        "import os\nimport torch\n"
        "BUCKET_URI = 'gs://my-bucket'\n"
        "os.system(f'gcloud storage buckets create {BUCKET_URI}')\n"  # 4
        "class Handler:\n    def initialize(self, ctx):\n        return torch.load(self.model_pt_path, weights_only=False)\n"
    )
    result = _scan(tmp_path, {"setup.py": code})
    assert _by_line(result, "ATS-PY-011")[4].severity == Severity.HIGH
    finding = _by_line(result, "ATS-PY-004")[7]
    assert finding.severity == Severity.HIGH and "`self`" not in finding.message


# ---- notebooks as written (issue 13 §6) -------------------------------------------------------


def test_a_client_or_session_is_no_download_until_a_method_fetches(tmp_path: Path) -> None:
    # amazon-sagemaker-examples' profiling notebook: `session.region_name` of a boto3 session
    # had made an eval of the job's profiler settings a download's (critical).
    code = (
        "import pickle\nimport boto3\n"
        "session = boto3.session.Session()\n"
        "region = session.region_name\n"
        "settings = describe(region)\n"
        "eval(settings)\n"  # 6
        "s3 = boto3.client('s3', region_name=region)\n"
        "body = s3.get_object(Bucket='b', Key='k')['Body'].read()\n"
        "model = pickle.loads(body)\n"  # 9
    )
    result = _scan(tmp_path, {"profile.py": code})
    assert _by_line(result, "ATS-PY-010")[6].severity == Severity.HIGH
    unpickled = _by_line(result, "ATS-PY-001")[9]
    # The bucket is one the code names (amazon-sagemaker-examples' sample-data bucket): high.
    assert unpickled.severity == Severity.HIGH and "a download by `boto3.client().get_object`" in unpickled.message
    assert "a storage bucket this code names itself" in unpickled.message


def test_the_answer_of_a_service_on_this_machine_is_no_download(tmp_path: Path) -> None:
    # TorchServe's example client and C++ backend test unpickle what their own local model
    # server answers: worth fixing, not data from outside.
    code = (
        "import io, pickle, requests, torch\n"
        "url = 'http://localhost:8080/predictions/sam-fast'\n"
        "res = requests.post(url, files={'body': b''})\n"
        "masks = pickle.loads(res.content)\n"  # 4
        "def predict(model_name, buffer):\n"
        "    r = requests.post(url=f'http://127.0.0.1:8080/predictions/{model_name}/', data=buffer)\n"
        "    return torch.load(io.BytesIO(r.content))\n"  # 7
        "other = requests.get(url='https://models.example.com/m.pkl')\n"
        "pickle.loads(other.content)\n"  # 9
        "def local(port):\n"
        "    return pickle.loads(requests.get(f'http://localhost:{port}/m.pkl').content)\n"  # 11
    )
    result = _scan(tmp_path, {"client.py": code})
    unpickled = _by_line(result, "ATS-PY-001")
    # line 9: a web address the code spells out is the rule's level, not critical
    assert {line: f.severity for line, f in unpickled.items()} == {4: Severity.MEDIUM, 9: Severity.HIGH, 11: Severity.MEDIUM}
    assert unpickled[9].message.endswith("(a web address this code names itself).")
    assert "the answer of the service on this machine at `http://localhost:8080/predictions/sam-fast`" in unpickled[4].message
    assert _by_line(result, "ATS-PY-004")[7].severity == Severity.MEDIUM
    # By default each is held back as unproven: whoever controls the host or the local server
    # already chooses the code's data (deepchecks' demo models, judged NOISE).
    shown = _scan(tmp_path / "default", {"client.py": code}, report_classes=frozenset())
    assert not [f for f in shown.findings if f.rule_id == "ATS-PY-001"]


def test_a_download_checked_against_the_digest_its_url_names_is_the_pinned_file(tmp_path: Path) -> None:
    # openai/whisper's `_download`: the SHA-256 is part of the URL the code spells out, and
    # the helper raises when the file differs. The model a caller names stays a parameter.
    helper = (
        "import hashlib, os, sys, urllib.request, torch\n"
        "_MODELS = {'tiny': 'https://models.example.com/d3dd57d32accea0b/tiny.pt'}\n"
        "def _download(url, root):\n"
        "    expected = url.split('/')[-2]\n"
        "    target = os.path.join(root, os.path.basename(url))\n"
        "    with urllib.request.urlopen(url) as source, open(target, 'wb') as out:\n"
        "        out.write(source.read())\n"
        "    if hashlib.sha256(open(target, 'rb').read()).hexdigest() != expected:\n"
        "        raise RuntimeError('checksum mismatch')\n"
        "    return target\n"
    )
    verified = helper + (
        "def load_model(name, download_root=None):\n"
        "    if name in _MODELS:\n        checkpoint_file = _download(_MODELS[name], download_root)\n"
        "    else:\n        checkpoint_file = name\n"
        "    return torch.load(open(checkpoint_file, 'rb'))\n"  # 16
        "def from_cli():\n    return torch.load(_download(sys.argv[1], '.'))\n"  # 18: the URL and its digest are the caller's
    )
    found = _by_line(_scan(tmp_path / "a", {"load.py": verified}), "ATS-PY-004")
    assert {line: f.severity for line, f in found.items()} == {16: Severity.HIGH, 18: Severity.HIGH}
    assert "the parameter `name` of `load_model`" in found[16].message
    assert "from `sys.argv[1]` at line 18" in found[18].message  # not the pinned file: the caller's URL
    unchecked = verified.replace("    if hashlib.sha256(open(target, 'rb').read()).hexdigest() != expected:\n        raise RuntimeError('checksum mismatch')\n", "")
    found = _by_line(_scan(tmp_path / "b", {"load.py": unchecked}), "ATS-PY-004")
    assert found[14].severity == Severity.CRITICAL and "the remote location" in found[14].message


def test_ipython_syntax_is_translated_and_the_cell_still_analysed(tmp_path: Path) -> None:
    cell = [
        "import os, pickle\n",
        "if os.getenv('IS_TESTING'):\n",
        "    ! sudo apt-get update --yes\n",
        "! gcloud artifacts repositories create $REPO \\\n",
        "--location=$LOCATION --description=\"Docker repository\"\n",
        "shell_output = ! gcloud projects describe $PROJECT_ID\n",
        "timing = %timeit -o sum(range(10))\n",
        "msg = ('region %s'\n",
        "    % (REGION,))\n",
        "cd custom\n",
        "pickle.load?\n",
        "obj = pickle.loads(blob)\n",
    ]
    indented = ["  def f(p):\n", "      return pickle.load(p)\n"]
    text = _notebook([cell, indented, ["%%capture\n", "!pip install torch==2.6.0 \\\n", "    transformers\n"]])
    result = _scan(tmp_path, {"nb.ipynb": text})
    assert [n for n in result.notices if not n.held] == []  # held: torch 2.6's advisory, no checkpoint loaded
    assert {f.message.rsplit("(cell ", 1)[1] for f in result.findings if f.rule_id.startswith("ATS-PY-00")} == {"1).", "2)."}
    pip = _one(result, "ATS-PY-018")
    assert "`transformers`" in pip.message and "torch" not in pip.message


def test_writefile_cell_is_analysed_as_the_file_it_writes(tmp_path: Path) -> None:
    text = _notebook([
        ["import pickle as pk\n"],
        ["%%writefile src/task.py\n", "import argparse\n", "import joblib\n", "p = argparse.ArgumentParser()\n",
         "p.add_argument('--model')\n", "args = p.parse_args()\n", "model = joblib.load(args.model)\n", "x = pk.loads(b)\n"],
        ["%%writefile src/broken.py\n", "import pickle\n", "def f(:\n"],
        ["%%bash\n", "pip install --quiet google-cloud-aiplatform \\\n", "   'kfp<2'\n"],
    ])  # fmt: skip
    result = _scan(tmp_path, {"nb.ipynb": text})
    finding = _one(result, "ATS-PY-002")
    assert finding.severity == Severity.HIGH
    assert "the command-line argument `model` (from `args.model` at line" in finding.message
    assert finding.message.endswith("(cell 2, written to `src/task.py`).")
    assert finding.region.start_line == next(i for i, line in enumerate(text.splitlines(), 1) if "joblib.load" in line)
    assert pairs(result, "ATS-PY-001") == set()  # the notebook's `pk` is not imported in the written file
    assert [n.message for n in result.notices] == ["Notebook cell 3 writes `src/broken.py`, which is not valid Python (invalid syntax); not scanned."]
    assert "newest: `google-cloud-aiplatform` (cell 4)" in _one(result, "ATS-PY-018").message  # `kfp<2` is capped


def test_unpinned_notebook_installs_as_the_repository_practice_are_held_back(tmp_path: Path) -> None:
    """Where fewer than half of the packages the notebooks install are pinned (a samples
    repository's `%pip install azure-ai-ml` in every notebook), unpinned installs are the
    practice: one notice, and --include-practice reports them."""
    loose = {f"nb{i}.ipynb": _notebook([["%pip install azure-ai-ml mltable\n"], ["x = 1\n"]]) for i in range(3)}
    result = _scan(tmp_path / "loose", loose)
    assert pairs(result, "ATS-PY-018") == set()
    assert [n.message.split(" (", 1)[0] for n in result.notices if "ATS-PY-018" in n.message] == [
        "ATS-PY-018: 3 sites held back as the repository's practice"
    ]
    asked = report_classes(tests=False, docs=False, practice=True, unproven=True, pedantic=True)
    reported = _scan(tmp_path / "loose", loose, report_classes=asked).findings
    assert [(f.rule_id, f.properties.get("repeated")) for f in reported] == [("ATS-PY-018", 3)]  # one line, three copies
    # Where most installs pin a version, the one that does not is reported.
    pinned = {f"nb{i}.ipynb": _notebook([["%pip install azure-ai-ml==1.2.0 mltable==1.6.1\n"]]) for i in range(3)}
    pinned["nb3.ipynb"] = _notebook([["!pip install azure-ai-ml\n"]])
    result = _scan(tmp_path / "pinned", pinned)
    assert [(f.path, f.rule_id) for f in result.findings] == [("nb3.ipynb", "ATS-PY-018")]
    # The rule is pedantic: by default (the helper reports pedantic rules) it is one notice.
    default = _scan(tmp_path / "pinned", pinned, report_classes=frozenset())
    assert default.findings == []
    assert [n.held_as for n in default.notices if "ATS-PY-018" in n.message] == ["pedantic"]
    # Two notebooks are no practice.
    two = _scan(tmp_path / "two", dict(list(loose.items())[:2])).findings
    assert [(f.rule_id, f.properties.get("repeated")) for f in two] == [("ATS-PY-018", 2)]


# ---- hub revisions and version pins (issue 13 §5) ---------------------------------------------


def test_notebook_extra_indexes_are_graded_as_in_dockerfiles(tmp_path: Path) -> None:
    """sm-ground_truth_rlhf_llm_finetuning.ipynb's `--extra-index-url .../whl/cu116` for torch
    was high in a notebook and held back in a Dockerfile: the same vocabulary grades both. A
    well-known wheel index's stable channel beside PyPI is its vendor's documented install,
    held back as the practice (medium when asked for); a private index is high."""
    notebook = _notebook([
        ["%pip install acme-features --extra-index-url https://pypi.acme.internal/simple\n"],  # cell 1
        ["!pip install torch==2.0.0 torchvision --extra-index-url https://download.pytorch.org/whl/cu116\n"],
        ["!pip install nvidia-dali-cuda110 --extra-index-url https://developer.download.nvidia.com/compute/redist\n"],
        ["!pip install torch -r requirements.txt --extra-index-url https://download.pytorch.org/whl/cpu\n"],
        # PyPI as the extra index: beside PyTorch's index the same pair, beside a private one not
        ["!pip install -r requirements.txt --index-url https://download.pytorch.org/whl/cpu --extra-index-url https://pypi.org/simple\n"],
        ["%pip install acme-features -i https://pypi.acme.internal/simple --extra-index-url=https://pypi.python.org/simple\n"],
    ])  # fmt: skip
    def graded(**kwargs: object) -> dict[tuple[int, str], Severity]:
        found = {(f.region.start_line, f.message.split("`")[3]): f.severity for f in _scan(tmp_path, {"setup.ipynb": notebook}, **kwargs).findings if f.rule_id == "ATS-PY-017"}
        lines = sorted(line for line, _ in found)
        return {(lines.index(line), flag): severity for (line, flag), severity in found.items()}

    assert graded() == {
        (0, "--extra-index-url https://pypi.acme.internal/simple"): Severity.HIGH,
        (1, "--extra-index-url https://pypi.python.org/simple"): Severity.HIGH,
    }
    assert graded(**PRACTICE_TOO) == {
        (0, "--extra-index-url https://pypi.acme.internal/simple"): Severity.HIGH,
        (1, "--extra-index-url https://download.pytorch.org/whl/cu116"): Severity.MEDIUM,
        (2, "--extra-index-url https://developer.download.nvidia.com/compute/redist"): Severity.MEDIUM,
        (3, "--extra-index-url https://download.pytorch.org/whl/cpu"): Severity.MEDIUM,  # with what a file names
        (4, "--extra-index-url https://pypi.org/simple"): Severity.MEDIUM,
        (5, "--extra-index-url https://pypi.python.org/simple"): Severity.HIGH,
    }


def test_remote_code_in_many_files_is_the_repository_design(tmp_path: Path) -> None:
    """A fine-tuning framework's loaders pass `trust_remote_code=True` for the models their
    callers name (ms-swift, FastChat, LLaMA-Factory): from three files that is the
    repository's design, one notice, and so is a CLI naming the model its operator chooses.
    A model a web request names and a flag that a built-in architecture makes needless are
    still reported; two files are no practice."""
    loader = "from transformers import AutoTokenizer\n\ndef load(model_dir):\n    return AutoTokenizer.from_pretrained(model_dir, trust_remote_code=True)\n"
    files = {f"models/family{i}.py": loader for i in range(3)}
    files["cli.py"] = "import sys\nfrom transformers import AutoModel\nm = AutoModel.from_pretrained(sys.argv[1], trust_remote_code=True)\n"
    files["app.py"] = "from flask import request\nfrom transformers import AutoModel\nm = AutoModel.from_pretrained(request.args['model'], trust_remote_code=True)\n"
    files["chat.py"] = "from transformers import AutoModel\nm = AutoModel.from_pretrained('meta-llama/Llama-3.1-8B', trust_remote_code=True)\n"
    result = _scan(tmp_path / "many", files)
    assert sorted((f.path, f.region.start_line, f.severity) for f in result.findings if f.rule_id == "ATS-PY-005") == [
        ("app.py", 3, Severity.CRITICAL), ("chat.py", 2, Severity.MEDIUM),
    ]  # fmt: skip
    assert [n.message.split(" (", 1)[0] for n in result.notices if "ATS-PY-005" in n.message] == [
        "ATS-PY-005: 4 sites held back as the repository's practice"
    ]
    reported = _scan(tmp_path / "many", files, **PRACTICE_TOO).findings
    assert sorted(f.path for f in reported if f.rule_id == "ATS-PY-005" and f.path.startswith(("models/", "cli"))) == [
        "cli.py", *(f"models/family{i}.py" for i in range(3)),
    ]  # fmt: skip
    two = _scan(tmp_path / "two", {f"models/family{i}.py": loader for i in range(2)}).findings
    assert sorted(f.path for f in two if f.rule_id == "ATS-PY-005") == ["models/family0.py", "models/family1.py"]


def test_unpinned_hub_downloads_as_the_repository_practice_are_held_back(tmp_path: Path) -> None:
    """Where fewer than half of the repository's Hub downloads name a revision (a samples
    repository's `from_pretrained("bert-base-uncased")` in every script), unpinned downloads
    are its practice: one notice, and --include-practice reports them."""
    load = "from transformers import AutoModel\n\nmodel = AutoModel.from_pretrained({})\n"
    pin = ', revision="0123456789abcdef0123456789abcdef01234567"'
    loose = {f"task{i}/train.py": load.format(f'"org/model-{i}"') for i in range(3)}
    loose["helpers.py"] = "class Model:\n    def from_pretrained(cls, name):\n        pass\n"  # a definition is no download
    result = _scan(tmp_path / "loose", loose)
    assert pairs(result, "ATS-PY-006") == set()
    assert [n.message.split(" (", 1)[0] for n in result.notices if "ATS-PY-006" in n.message] == [
        "ATS-PY-006: 3 sites held back as the repository's practice"
    ]
    reported = _scan(tmp_path / "loose", loose, **PRACTICE_TOO).findings
    assert sorted((f.path, f.region.start_line) for f in reported) == [(f"task{i}/train.py", 3) for i in range(3)]
    # Where most downloads name a revision, the one that does not is reported.
    pinned = {f"task{i}/train.py": load.format(f'"org/model-{i}"{pin}') for i in range(3)}
    pinned["task3/train.py"] = load.format('"org/model-3"')
    result = _scan(tmp_path / "pinned", pinned)
    assert [(f.path, f.rule_id) for f in result.findings] == [("task3/train.py", "ATS-PY-006")]
    # Two files are no practice.
    two = _scan(tmp_path / "two", dict(list(loose.items())[:2])).findings
    assert sorted(f.path for f in two) == ["task0/train.py", "task1/train.py"]


def test_a_folder_the_notebook_makes_is_not_a_hub_id(tmp_path: Path) -> None:
    text = _notebook([
        ["!gcloud storage cp gs://samples/model_artifacts.zip .\n", "!unzip model_artifacts.zip\n"],
        ["from diffusers import StableDiffusionPipeline\n", "model_path = \"model_artifacts\"\n",
         "pipe = StableDiffusionPipeline.from_pretrained(model_path)\n",
         "hub = StableDiffusionPipeline.from_pretrained(\"runwayml/stable-diffusion-v1-5\")\n"],
        ["!huggingface-cli download acme/sd\n", "other = StableDiffusionPipeline.from_pretrained(\"acme/sd\")\n"],
    ])  # fmt: skip
    result = _scan(tmp_path, {"nb.ipynb": text})
    # One finding per file (a pinning rule): the other download is a related location.
    (found,) = [f for f in result.findings if f.rule_id == "ATS-PY-006"]
    assert sorted(m.split("`")[3] for m in (found.message, *(r.message for r in found.related))) == ["acme/sd", "runwayml/stable-diffusion-v1-5"]


def test_a_notebook_writing_an_absolute_path_is_analysed(tmp_path: Path) -> None:
    # mlrun's docs: `%%writefile /your/path/add_ten_model.py` walked up from `/` forever,
    # until the 60 s limit stopped the notebook's analysis and its findings were lost.
    from atlascan.model import Limits
    from atlascan.scan import ScanOptions, run_scan

    text = _notebook([["%%writefile /your/path/model.py\n", "x = 1\n"], ["import pickle\n", "m = pickle.load(open(path, 'rb'))\n"]])
    write_tree(tmp_path, {"app.ipynb": text})
    result = run_scan(ScanOptions(paths=[tmp_path], root=tmp_path, use_ignore_files=False, jobs=1, limits=Limits(file_timeout_s=5),
                                  report_classes=report_classes(tests=False, docs=False, unproven=True)))
    assert [n.message for n in result.notices if n.level == "error"] == []
    assert pairs(result, "ATS-PY-001") == {("ATS-PY-001", 18)}


def test_trust_remote_code_is_critical_only_for_a_model_named_from_outside(tmp_path: Path) -> None:
    # A fixed Hub id at a moving revision trusts its publisher: medium, as a pin is missing.
    # Critical needs the model to be named from outside by a request; the operator's command
    # line is named as the evidence, at high.
    code = (
        "import os, sys\nfrom flask import request\nfrom transformers import AutoModel\n"
        "a = AutoModel.from_pretrained(os.path.join(out_dir, 'merged'), trust_remote_code=True)\n"
        "b = AutoModel.from_pretrained('acme/chat', trust_remote_code=True)\n"
        "c = AutoModel.from_pretrained(sys.argv[1], trust_remote_code=True)\n"
        "d = AutoModel.from_pretrained(request.args['model'], trust_remote_code=True)\n"
        "e = AutoModel.from_pretrained(request.args['model'], revision='3f1c0e7a9b2d4c6e8f0a1b3c5d7e9f1a2b4c6d8e', trust_remote_code=True)\n"
    )
    found = _by_line(_scan(tmp_path, {"serve.py": code}), "ATS-PY-005")
    assert {line: f.severity for line, f in found.items()} == {
        4: Severity.HIGH, 5: Severity.MEDIUM, 6: Severity.HIGH, 7: Severity.CRITICAL, 8: Severity.CRITICAL,
    }  # fmt: skip
    assert "from an unpinned revision" in found[5].message and "the model is named by a command-line argument, `sys.argv[1]` at line 6" in found[6].message
    assert "the model is named by a web request, `request.args['model']` at line 7" in found[7].message


def test_trust_remote_code_for_a_model_transformers_implements_is_read_even_in_samples(tmp_path: Path) -> None:
    # A sample's readers copy the flag; for a Falcon or a Qwen3 it only lets the publisher's
    # code in, so it is worth a line there. A model that needs its code (acme/chat) is held
    # with the samples' other findings; a concrete class ignores the flag; a pipeline's model
    # is its second argument (a sample's command line is its reader's own choice: held too).
    code = (
        "import sys\nimport transformers\nfrom transformers import AutoModel, LlamaForCausalLM\n"
        "a = transformers.pipeline('text-generation', model='tiiuae/falcon-7b-instruct', trust_remote_code=True)\n"
        "b = AutoModel.from_pretrained('acme/chat', trust_remote_code=True)\n"
        "def perplexity(name):\n    return AutoModel.from_pretrained(name, trust_remote_code=True)\n"
        "perplexity('Qwen/Qwen3-0.6B')\n"
        "c = LlamaForCausalLM.from_pretrained(sys.argv[1], trust_remote_code=True)\n"
        "d = transformers.pipeline('text-generation', model=sys.argv[1], trust_remote_code=True)\n"
        # Phi-3's vision model is not transformers' Phi-3 (llm-compressor's example, judged FALSE)
        "e = AutoModel.from_pretrained('microsoft/Phi-3-vision-128k-instruct', trust_remote_code=True)\n"
    )
    found = _by_line(_scan(tmp_path, {"examples/chat.py": code}), "ATS-PY-005")
    assert {line: f.severity for line, f in found.items()} == {4: Severity.MEDIUM, 7: Severity.MEDIUM}
    assert "transformers implements Falcon itself" in found[4].message and "transformers implements Qwen3 itself" in found[7].message
    held = _by_line(_scan(tmp_path, {"examples/chat.py": code}, report_classes=report_classes(tests=False, docs=True, unproven=True)), "ATS-PY-005")
    assert held[10].severity == Severity.HIGH and "named by a command-line argument, `sys.argv[1]` at line 10" in held[10].message
    assert 11 not in found  # needs its code: held with the sample's other findings, where it folds into line 5's
    assert [r.region.start_line for r in held[5].related] == [11]
    assert found[4].properties["pathClass"] == "docs"
    # A retired sample (amazon-sagemaker-examples' `archived/falcon/train.py`) is no longer
    # what readers copy: held back with the folder's other findings.
    archived = _scan(tmp_path / "old", {"archived/falcon/chat.py": code})
    assert [f for f in archived.findings if f.rule_id == "ATS-PY-005"] == []
    assert [n.held_as for n in archived.notices if n.held] == ["docs"]


def test_version_messages_name_the_pin_that_applies_to_the_file(tmp_path: Path) -> None:
    files = {
        "old/train.py": BARE_LOAD,
        "old/requirements.txt": "torch==2.1.0\n",
        "new/train.py": BARE_LOAD,
        "new/requirements.txt": "torch==2.7.1\n",
        "new/deep/eval.py": BARE_LOAD,
        "requirements.txt": "torch==1.13.0\n",
        "tool.py": BARE_LOAD,
    }
    result = _scan(tmp_path, files)
    found = {f.path: f.message for f in result.findings if f.rule_id == "ATS-PY-004"}
    assert set(found) == {"old/train.py", "tool.py"}
    assert "torch 2.1.0 is pinned in `old/requirements.txt`" in found["old/train.py"]
    assert "torch 1.13.0 is pinned in `requirements.txt`" in found["tool.py"]


def test_a_notebook_own_pip_install_pin_comes_first(tmp_path: Path) -> None:
    new = _notebook([["%pip install --quiet torch==2.7.0 transformers==4.50.0\n"], ["import torch\n", "s = torch.load(p)\n"]])
    old = _notebook([["!pip install torch==2.0.1\n"], ["import torch\n", "s = torch.load(p)\n"]])
    result = _scan(tmp_path, {"new.ipynb": new, "old.ipynb": old, "requirements.txt": "torch==1.13.0\n"})
    found = {f.path: f.message for f in result.findings if f.rule_id == "ATS-PY-004"}
    assert list(found) == ["old.ipynb"] and "torch 2.0.1 is pinned in this notebook's `pip install`" in found["old.ipynb"]


def test_a_file_a_notebook_writes_runs_with_the_requirements_it_writes(tmp_path: Path) -> None:
    text = _notebook([
        ["%pip install torch==2.7.0\n"],
        ["%%writefile trainer/requirements.txt\n", "torch==2.1.2\n"],
        ["%%writefile trainer/task.py\n", "import torch\n", "state = torch.load(path)\n"],
        ["import torch\n", "state = torch.load(path)\n"],
    ])  # fmt: skip
    found = [f.message for f in _scan(tmp_path, {"nb.ipynb": text}).findings if f.rule_id == "ATS-PY-004"]
    assert len(found) == 1 and "torch 2.1.2 is pinned in the `trainer/requirements.txt` this notebook writes" in found[0]


def test_unpinned_installs_are_reported_once_per_package_and_not_when_pinned_elsewhere(tmp_path: Path) -> None:
    text = _notebook([
        ["! pip3 install --upgrade --quiet google-cloud-aiplatform pandas a b c d e \\\n", "    'kfp<2' tensorflow\n"],
        ["%pip install --upgrade google-cloud-aiplatform\n", "%pip install --upgrade pip\n"],
        ["%%writefile requirements.txt\n", "tensorflow==2.15.0\n"],
        ["!pip install pandas>=2.0 scikit-learn\n"],
        ["%pip install pandas==2.2.2\n"],
    ])  # fmt: skip
    messages: list[str] = []
    for f in _scan(tmp_path, {"nb.ipynb": text}).findings:
        if f.rule_id == "ATS-PY-018":  # the flow may fold the sites of one file into one finding
            messages.append(re.sub(r" \(and \d+ more in this file\)", "", f.message))
            messages += [r.message.removeprefix("also here: ") for r in f.related]
    assert messages == [
        "A notebook `pip install` takes whatever version is newest: `google-cloud-aiplatform`, `a`, `b`, `c`, `d` and 1 more (cell 1).",
        "A notebook `pip install` takes whatever version is newest: `scikit-learn` (cell 4).",
    ]


def test_text_built_from_files_next_to_the_code_is_fixed(tmp_path: Path) -> None:
    code = (
        "import os\n"
        "about = {}\n"
        "here = os.path.abspath(os.path.dirname(__file__))\n"
        "with open(os.path.join(here, 'pipelines', '__version__.py')) as f:\n"
        "    exec(f.read(), about)\n"
        "with open('README.md', 'r') as f:\n"
        "    readme = f.read()\n"
        "exec(open(os.environ['PLUGIN']).read())\n"  # 8
    )
    result = _scan(tmp_path, {"setup.py": code})
    assert pairs(result, "ATS-PY-010") == {("ATS-PY-010", 8)}


def test_a_notebook_loading_the_model_its_training_job_wrote_is_low(tmp_path: Path) -> None:
    text = _notebook([
        ["import tensorflow as tf\n", "import joblib\n", "BUCKET_NAME = 'gs://my-bucket'\n", "MODEL_DIR = '{}/{}'.format(BUCKET_NAME, 'job')\n"],
        ["CMDARGS = ['--model-dir=' + MODEL_DIR, '--epochs=20']\n", "job = aip.CustomJob(display_name='t', worker_pool_specs=spec(CMDARGS))\n"],
        ["model_path_to_deploy = None\n", "model_path_to_deploy = MODEL_DIR\n", "loaded = tf.saved_model.load(model_path_to_deploy)\n"],
        ["clf = joblib.load(OTHER_DIR + '/model.joblib')\n"],
    ])  # fmt: skip
    result = _scan(tmp_path, {"nb.ipynb": text})
    assert {(f.rule_id, f.severity) for f in result.findings if f.rule_id in ("ATS-PY-022", "ATS-PY-002")} == {
        ("ATS-PY-022", Severity.LOW), ("ATS-PY-002", Severity.HIGH),
    }  # fmt: skip


def test_platform_model_folders_are_not_outside_data(tmp_path: Path) -> None:
    code = (
        "import os\nimport joblib\n"
        "a = joblib.load(os.path.join(os.getenv('AZUREML_MODEL_DIR'), 'model.pkl'))\n"
        "b = joblib.load(os.environ['SM_MODEL_DIR'] + '/model.joblib')\n"
        "c = joblib.load(os.getenv('MODEL_PATH'))\n"
        "d = joblib.load(os.getenv('SAGEMAKER_INFERENCE_CODE_DIRECTORY') + '/serve.pkl')\n"
        "e = joblib.load(os.getenv('MLFLOW_MODEL_FOLDER') + '/model.pkl')\n"
        "f = joblib.load(os.environ['AIP_TRAINING_DATA_URI'] + '/scaler.pkl')\n"  # a dataset it is handed
    )
    # The deployment's own model where its platform put it: the practice of every scoring script.
    assert set(_by_line(_scan(tmp_path, {"score.py": code}), "ATS-PY-002")) == {5, 8}
    found = _by_line(_scan(tmp_path, {"score.py": code}, **PRACTICE_TOO), "ATS-PY-002")
    assert {line: f.severity for line, f in found.items()} == {
        3: Severity.LOW, 4: Severity.LOW, 5: Severity.HIGH, 6: Severity.LOW, 7: Severity.LOW, 8: Severity.HIGH,
    }  # fmt: skip
    assert "the platform's `AZUREML_MODEL_DIR`" in found[3].message
    assert "an environment variable (from `os.getenv('MODEL_PATH')` at line 5)" in found[5].message


def test_a_training_jobs_own_hyperparameters_are_untrusted_without_proof(tmp_path: Path) -> None:
    # amazon-sagemaker-examples' Mask R-CNN trainers build a shell command from SM_HPS, the
    # hyperparameters the job was created with: as Vertex AI's CLUSTER_SPEC, the platform's,
    # no proof; joined to the data folder the platform mounted (line 6) it stays as open as
    # they are. Any other variable is the operator's environment: named, high as well.
    code = (
        "import json, os, subprocess\n"
        "hps = json.loads(os.environ['SM_HPS'])\n"
        "subprocess.Popen(f\"train --steps {hps['steps']}\", shell=True)\n"  # 3
        "subprocess.Popen('train --lr ' + os.environ['SM_HP_LR'], shell=True)\n"  # 4
        "subprocess.Popen('train --data ' + os.environ['DATA_DIR'], shell=True)\n"  # 5
        "subprocess.Popen(f\"mpirun -H {os.environ['SM_HOSTS']} {os.environ['SM_CHANNEL_TRAIN']}\", shell=True)\n"  # 6
        "subprocess.call('scontrol requeue ' + os.environ['SLURM_JOB_ID'], shell=True)\n"  # 7 Slurm's job id
    )
    found = _by_line(_scan(tmp_path, {"train.py": code}), "ATS-PY-011")
    assert {line: f.severity for line, f in found.items()} == {
        3: Severity.HIGH, 4: Severity.HIGH, 5: Severity.HIGH, 6: Severity.HIGH, 7: Severity.HIGH,
    }  # fmt: skip
    assert "the platform's `SM_HPS`" in found[3].message
    assert "an environment variable (from `os.environ['DATA_DIR']` at line 5)" in found[5].message


def test_the_machines_folders_and_numbers_from_the_environment_prove_nothing(tmp_path: Path) -> None:
    # autogluon's nvutil loads NVML from %ProgramFiles% (critical before); TorchServe's llama
    # example loads the checkpoint shard `int(os.environ["LOCAL_RANK"])` picks from a folder
    # it is handed: the evidence is that folder, not the environment.
    code = (
        "import ctypes, os, pickle, subprocess, torch\n"
        "nvml = ctypes.CDLL(os.path.join(os.getenv('ProgramFiles', 'C:/Program Files'), 'NVIDIA/nvml.dll'))\n"  # 2
        "cache = pickle.load(open(os.path.join(os.environ['HOME'], '.cache', 'm.pkl'), 'rb'))\n"  # 3
        "plugin = ctypes.CDLL(os.getenv('PLUGIN_LIB'))\n"  # 4
        "def shard(ckpt_dir):\n"
        "    rank = int(os.environ.get('LOCAL_RANK', -1))\n"
        "    return torch.load(f'{ckpt_dir}/shard{rank}.pt')\n"  # 7
        "subprocess.run('sleep ' + str(len(os.environ['NAME'])), shell=True)\n"  # 8
    )
    found = {(f.rule_id, f.region.start_line): f for f in _scan(tmp_path, {"ops.py": code}, **PRACTICE_TOO).findings}
    assert {key: f.severity for key, f in found.items()} == {
        ("ATS-PY-001", 3): Severity.MEDIUM, ("ATS-PY-022", 4): Severity.HIGH, ("ATS-PY-004", 7): Severity.HIGH,
    }  # fmt: skip
    assert "the machine's `HOME` folder" in found["ATS-PY-001", 3].message
    assert "an environment variable (from `os.getenv('PLUGIN_LIB')` at line 4)" in found["ATS-PY-022", 4].message
    assert "the parameter `ckpt_dir` of `shard`" in found["ATS-PY-004", 7].message


def test_numbers_formatted_into_a_command_are_no_injection(tmp_path: Path) -> None:
    # amazon-sagemaker-examples' heterogeneous-cluster sample: `os.system('kill -9 %d' % os.getpid())`.
    code = (
        "import os, sys\n"
        "os.system('kill -9 %d' % os.getpid())\n"  # 2
        "os.system(f'kill -9 {os.getpid()}')\n"  # 3
        "os.system('sleep %5.1f; kill %(pid)d' % {'pid': sys.argv[1]})\n"  # 4: `%d` of anything is digits
        "os.system('rm -rf %s' % sys.argv[1])\n"  # 5
        "os.system('kill -%d %s' % (9, sys.argv[2]))\n"  # 6
    )
    found = _by_line(_scan(tmp_path, {"stop.py": code}), "ATS-PY-011")
    assert sorted(found) == [5, 6]


def test_a_download_reworked_as_text_is_named_by_its_fetching_call(tmp_path: Path) -> None:
    # unsloth fetches a module from GitHub's main branch, renames its tables with .replace()
    # and execs it: the evidence names `requests.get`, not the chain of string methods.
    code = (
        "import requests\n"
        "def probe():\n"
        "    with requests.get('https://raw.githubusercontent.com/acme/lib/main/mapper.py', timeout=3) as r:\n"
        "        text = r.text\n"
        "    text = text.replace('A', 'B').replace('C', 'D').strip()\n"
        "    exec(text, {})\n"  # 6
    )
    (finding,) = _scan(tmp_path, {"loader.py": code}).findings
    assert (finding.rule_id, finding.region.start_line, finding.severity) == ("ATS-PY-010", 6, Severity.CRITICAL)
    assert "a download by `requests.get` (from" in finding.message


def test_a_switch_parameter_names_no_data(tmp_path: Path) -> None:
    # clearml's Artifact.get(force_download=False) hands the switch to its download helper:
    # the finding named `force_download` as what was unpickled.
    code = (
        "import pandas as pd, pickle\n"
        "class Artifact:\n"
        "    def get(self, force_download=False, *, verbose: bool = True):\n"
        "        local_file = self.get_local_copy(raise_on_error=True, force_download=force_download, verbose=verbose)\n"
        "        return pd.read_pickle(local_file)\n"  # 5
        "def load(path, strict=False):\n"
        "    return pickle.load(open(path, 'rb'))\n"  # 7
    )
    found = _by_line(_scan(tmp_path, {"artifacts.py": code}), "ATS-PY-001")
    assert {line: f.severity for line, f in found.items()} == {5: Severity.HIGH, 7: Severity.HIGH}
    assert "unpickles data of unknown origin" in found[5].message
    assert "the parameter `path` of `load`" in found[7].message


def test_installed_source_rewritten_as_text_is_fixed_code(tmp_path: Path) -> None:
    # unsloth and axolotl patch transformers by rewriting `inspect.getsource(...)` and exec-ing
    # it: code already installed, reworked with text methods, is as fixed as a literal. The
    # same rewrite of a parameter or a download keeps their origin.
    code = (
        "import inspect, re, requests\n"
        "from transformers import Trainer\n"
        "def patch(fp8: bool):\n"
        "    source = inspect.getsource(Trainer.create_accelerator_and_postprocess)\n"
        "    source = source.replace('def create_accelerator_and_postprocess(', 'def fixed(')\n"
        "    source = re.sub(r'\\n    ', '\\n', source)\n"
        "    exec(source.replace('FP8', '{}'.format(fp8)), globals())\n"  # 7
        "def other(code):\n"
        "    exec(code.replace('a', 'b'))\n"  # 9
        "def fetched():\n"
        "    text = requests.get('https://example.org/a.py').text\n"
        "    text = text.replace('a', 'b')\n"
        "    exec(text)\n"  # 13
    )
    found = _by_line(_scan(tmp_path, {"patch.py": code}), "ATS-PY-010")
    assert {line: f.severity for line, f in found.items()} == {9: Severity.HIGH, 13: Severity.CRITICAL}


def test_object_collectives_are_one_finding_for_the_repository(tmp_path: Path) -> None:
    # Megatron-LM exchanges objects between ranks in 37 places over 25 files: one decision
    # about the process group's network, one finding with the other calls related. A listener
    # without an authkey stays a finding of its own.
    a = "import torch.distributed as dist\ndist.broadcast_object_list(objs, src=0)\ndist.all_gather_object(out, x)\n"
    b = "import torch.distributed as dist\nfrom multiprocessing.connection import Listener\ndist.gather_object(x, out)\nserver = Listener(('0.0.0.0', 6000))\n"
    files = {"core/a.py": a, "core/b.py": b}
    found = [f for f in _scan(tmp_path / "all", files, **PRACTICE_TOO).findings if f.rule_id == "ATS-PY-023"]
    assert sorted((f.path, f.region.start_line, f.severity, len(f.related)) for f in found) == [
        ("core/a.py", 2, Severity.MEDIUM, 2), ("core/b.py", 4, Severity.MEDIUM, 0),
    ]
    # Reviewers judged the collectives inherent to distributed training: practice by default.
    default = _scan(tmp_path / "default", files)
    assert [(f.path, f.region.start_line) for f in default.findings if f.rule_id == "ATS-PY-023"] == [("core/b.py", 4)]
    assert [n.message.split(" (")[0] for n in default.notices if n.held_as == "practice"] == [
        "ATS-PY-023: 3 sites held back as the repository's practice"
    ]
    lead = next(f for f in found if f.related)
    assert lead.message.endswith("(and 2 more in this repository).")
    assert sorted((r.path, r.region.start_line) for r in lead.related) == [("core/a.py", 3), ("core/b.py", 3)]


def test_pins_come_from_the_requirements_model() -> None:
    from atlascan.engines.python.versions import manifest_pins
    from atlascan.model import Span
    from atlascan.parsers.requirements import requirement_line

    reqs = [requirement_line(t, Span(1)) for t in ("torch>=2.4,<3", "datasets~=4.0", "keras<3", "torch==2.7.0")]
    assert manifest_pins([r for r in reqs if r is not None]) == {"torch": (2, 4), "datasets": (4, 0)}


def test_the_nearest_manifest_pins_torch(tmp_path: Path) -> None:
    files = {
        "requirements.txt": "torch==2.5.1\n",
        "serving/pyproject.toml": '[tool.poetry.dependencies]\ntorch = "^2.6"\n',
        "serving/app.py": BARE_LOAD,
        "train/app.py": BARE_LOAD,
    }
    result = _scan(tmp_path, files)
    flagged = {f.path for f in result.findings if f.rule_id == "ATS-PY-004"}
    # serving/ resolves torch>=2.6 from its own pyproject (nearest wins over the root pin);
    # train/ gets the root requirements' 2.5.1.
    assert "serving/app.py" not in flagged
    assert "train/app.py" in flagged


def test_platform_model_location_is_low_and_request_body_critical(tmp_path: Path) -> None:
    code = (
        "import os, pickle\n"
        "def model_fn(model_dir):\n    return pickle.load(open(os.path.join(model_dir, 'm.pkl'), 'rb'))\n"
        "def input_fn(request_body, content_type):\n    return pickle.loads(request_body)\n"
        "class Predictor:\n    def load(self, artifacts_uri):\n        return pickle.load(open(artifacts_uri, 'rb'))\n"
    )
    default = _scan(tmp_path, {"inference.py": code})
    assert set(_by_line(default, "ATS-PY-001")) == {5}
    assert [n.message for n in default.notices if n.message.startswith("ATS-PY-001")] == [
        "ATS-PY-001: 2 sites held back as the repository's practice (the deployment's own model, where its serving "
        "platform put it); --include-practice reports them."
    ]
    found = _by_line(_scan(tmp_path, {"inference.py": code}, **PRACTICE_TOO), "ATS-PY-001")
    assert {line: f.severity for line, f in found.items()} == {3: Severity.LOW, 5: Severity.CRITICAL, 8: Severity.LOW}
    assert "the platform's model location `model_dir` of `model_fn`" in found[3].message


def test_model_server_load_and_platform_downloads_are_the_deployments_model(tmp_path: Path) -> None:
    code = (
        "import os, joblib, pickle, smart_open\n"
        "from kserve import Model\n"
        "class Server(Model):\n"
        "    def load(self):\n"
        "        self.m = joblib.load(self.model_files[0])\n"
        "class Plain:\n"
        "    def load(self):\n"
        "        self.m = joblib.load(self.model_files[0])\n"
        "class Predictor:\n"
        "    def load(self, artifacts_uri):\n"
        "        path = os.path.join(artifacts_uri) if artifacts_uri else os.getcwd()\n"
        "        with smart_open.open(os.path.join(path, 'model.pkl'), 'rb') as f:\n"
        "            self.m = pickle.load(f)\n"
        "def fetch(url):\n"
        "    with smart_open.open('gs://bucket/model.pkl', 'rb') as f:\n"
        "        return pickle.load(f)\n"
        "from mlserver import MLModel\n"
        "from mlserver.utils import get_model_uri\n"
        "class Runtime(MLModel):\n"
        "    async def load(self):\n"
        "        uri = await get_model_uri(self._settings)\n"
        "        self.m = joblib.load(uri)\n"  # 22
        "    async def reload(self, uri):\n"
        "        self.m = joblib.load(uri)\n"  # 24: not the platform's load hook
    )
    result = _scan(tmp_path, {"serve.py": code}, **PRACTICE_TOO)
    assert {line: f.severity for line, f in _by_line(result, "ATS-PY-002").items()} == {5: Severity.LOW, 8: Severity.HIGH,
                                                                                         22: Severity.LOW, 24: Severity.HIGH}  # fmt: skip
    assert "the model the serving platform fetched for `Server.load()`" in _by_line(result, "ATS-PY-002")[5].message
    assert "the model the serving platform fetched for `Runtime.load()`" in _by_line(result, "ATS-PY-002")[22].message
    assert {line: f.severity for line, f in _by_line(result, "ATS-PY-001").items()} == {13: Severity.LOW, 16: Severity.HIGH}
    assert "a storage bucket this code names itself" in _by_line(result, "ATS-PY-001")[16].message


def test_a_file_unpacked_from_the_platforms_archive_is_the_pipelines_own(tmp_path: Path) -> None:
    step = (
        "import pickle, tarfile\n"
        "with tarfile.open('/opt/ml/processing/model/model.tar.gz') as tar:\n    tar.extractall(path='.')\n"
        "model = pickle.load(open('xgboost-model', 'rb'))\n"
    )
    plain = "import pickle\nmodel = pickle.load(open('xgboost-model', 'rb'))\n"  # no archive unpacked here
    result = _scan(tmp_path, {"step/evaluate.py": step, "other/evaluate.py": plain}, **PRACTICE_TOO)
    found = {f.path: f for f in result.findings if f.rule_id == "ATS-PY-001"}
    assert (found["step/evaluate.py"].severity, found["other/evaluate.py"].severity) == (Severity.LOW, Severity.MEDIUM)
    assert "`xgboost-model`, unpacked from the platform's archive at line 3" in found["step/evaluate.py"].message


def test_an_azureml_registered_model_path_is_the_deployments_model(tmp_path: Path) -> None:
    code = (
        "import argparse, pickle\nfrom azureml.core.model import Model\n"
        "args = argparse.ArgumentParser().parse_known_args()[0]\n"
        "with open(Model.get_model_path(args.model_name), 'rb') as f:\n    model = pickle.load(f)\n"
        "with open(args.model_name, 'rb') as g:\n    other = pickle.load(g)\n"
    )
    found = _by_line(_scan(tmp_path, {"score.py": code}, **PRACTICE_TOO), "ATS-PY-001")
    assert {line: f.severity for line, f in found.items()} == {5: Severity.LOW, 7: Severity.HIGH}
    assert "the registered model's path from `Model.get_model_path`" in found[5].message
    assert "the command-line argument `model_name` (from `args.model_name` at line 6)" in found[7].message
    assert "practice" in found[5].properties and "practice" not in found[7].properties


def test_str_format_templates_and_sagemaker_job_folders_keep_their_origin(tmp_path: Path) -> None:
    code = (
        "import pickle, sys, tarfile, torch\n"
        "def model_fn(model_dir):\n    with open('{}/vectorizer.pkl'.format(model_dir), 'rb') as f:\n        return pickle.load(f)\n"
        "with tarfile.open('/opt/ml/processing/model/model.tar.gz') as tar:\n    tar.extractall(path='.')\n"
        "state = torch.load('{}/model.pth'.format(sys.argv[1]))\n"
    )
    result = _scan(tmp_path, {"inference.py": code}, **PRACTICE_TOO)
    # The platform's model location, through a format template: low, as an f-string would be.
    assert _by_line(result, "ATS-PY-001")[4].severity == Severity.LOW
    # SageMaker mounts an earlier step's model under /opt/ml/: the pipeline's own artifact.
    assert _by_line(result, "ATS-PY-013")[6].severity == Severity.LOW
    # The command line through a template stays the command line.
    assert "command-line" in _by_line(result, "ATS-PY-004")[7].message


def test_a_list_filled_later_is_not_a_fixed_path(tmp_path: Path) -> None:
    code = (
        "import joblib, os\n"
        "def load(model_dir):\n"
        "    files = []\n"
        "    for name in os.listdir(model_dir):\n"
        "        files.append(os.path.join(model_dir, name))\n"
        "    return joblib.load(files[0])\n"
    )
    finding = _one(_scan(tmp_path, {"serve.py": code}), "ATS-PY-002")
    assert finding.region.start_line == 6
    assert "unknown origin" in finding.message and "fixed path" not in finding.message


def test_a_script_the_repository_launches_as_a_step_gets_its_command_line_from_that_step(tmp_path: Path) -> None:
    script = "import argparse, pickle\np = argparse.ArgumentParser()\np.add_argument('--model')\nargs = p.parse_args()\nm = pickle.load(open(args.model, 'rb'))\n"
    launcher = (
        "from azureml.pipeline.steps import PythonScriptStep\n"
        "step = PythonScriptStep(script_name='score.py', arguments=['--model', 'model.pkl'], source_directory='steps')\n"
    )
    files = {"pipeline/build.py": launcher, "pipeline/steps/score.py": script, "tools/score.py": script}
    found = {f.path: f for f in _scan(tmp_path, files, **PRACTICE_TOO).findings if f.rule_id == "ATS-PY-001"}
    # Launched by the pipeline in its folder: the step writes the command line, and the model
    # it names is the pipeline's own artifact (practice, low); the same script elsewhere, run
    # by whoever calls it, reads its operator's command line (high, reported).
    assert (found["pipeline/steps/score.py"].severity, found["tools/score.py"].severity) == (Severity.LOW, Severity.HIGH)
    step = found["pipeline/steps/score.py"]
    assert "a pipeline step of this repository writes that command line" in step.message
    assert step.properties["practice"].startswith("the pipeline's own artifact")
    alone = found["tools/score.py"]
    assert "the command-line argument `model`" in alone.message and "pipeline step" not in alone.message
    assert "practice" not in alone.properties and alone.related == []
    assert {f.path for f in _scan(tmp_path, files).findings if f.rule_id == "ATS-PY-001"} == {"tools/score.py"}
    assert [(r.path, r.region.start_line) for r in step.related] == [("pipeline/build.py", 2)]
    # A pipeline YAML's `command:` or `entry_script:` launches one, also from a sibling
    # folder (`code: ../src`); a launcher at the root names the script's own path; prose
    # (README.md) launches nothing.
    yaml_files = {
        "jobs/a/pipelines/job.yml": "command: >-\n  python score.py --model ${{inputs.model}}\ncode: ../src\n",
        "jobs/a/src/score.py": script,
        "jobs/b/parallel.yml": "task:\n  entry_script: predict.py\n",
        "jobs/b/script/predict.py": script,
        "Dockerfile": "FROM python:3.12\nCMD python train.py --data /data\n",
        "tools/train.py": script,
        "README.md": "Run `python convert.py --model <your model>`.\n",
        "convert.py": script,
        "bin/convert.sh": "#!/bin/sh\npython export.py --model \"$1\"\n",  # forwards its caller's argument
        "bin/export.py": script,
        # A launcher script handed the step's script by a flag (Azure ML's Dask sample).
        "jobs/c/job.yml": "code: src\ncommand: >-\n  python startDask.py\n  --script prep.py\n  --data ${{inputs.data}}\n",
        "jobs/c/src/prep.py": script,
    }
    levels = {f.path: f.severity for f in _scan(tmp_path / "yaml", yaml_files, **PRACTICE_TOO).findings if f.rule_id == "ATS-PY-001"}
    assert levels == {"jobs/a/src/score.py": Severity.LOW, "jobs/b/script/predict.py": Severity.LOW,
                      "tools/train.py": Severity.HIGH, "convert.py": Severity.HIGH,
                      "bin/export.py": Severity.HIGH, "jobs/c/src/prep.py": Severity.LOW}  # fmt: skip
    # A notebook's cell launches one too (its JSON escapes the quotes).
    notebook = _notebook([["from azureml.core import ScriptRunConfig\n", "run = ScriptRunConfig(source_directory='src', script=\"train.py\")\n"]])
    train = "import sys, pickle\nm = pickle.load(open(sys.argv[1], 'rb'))\n"
    found = [f for f in _scan(tmp_path / "nb", {"nb/run.ipynb": notebook, "nb/src/train.py": train}, **PRACTICE_TOO).findings if f.rule_id == "ATS-PY-001"]
    assert [(f.path, f.severity, [r.path for r in f.related]) for f in found] == [("nb/src/train.py", Severity.LOW, ["nb/run.ipynb"])]


def test_a_main_handed_the_parsed_command_line_reads_the_command_line(tmp_path: Path) -> None:
    """`main(args)` called only with `parse_args()`'s result (directly, or through the script's
    own `parse_args()` helper) reads the command line: its operator's (high) where nothing in the
    repository launches the script, the pipeline's artifact where a step does (a notebook's `%%writefile`
    script is found by the path it writes)."""
    helper = "def parse_args():\n    p = argparse.ArgumentParser()\n    p.add_argument('--model')\n    return p.parse_args()\n"
    direct = "import argparse, pickle\ndef main(args):\n    return pickle.load(open(args.model, 'rb'))\n\nif __name__ == '__main__':\n    main(argparse.ArgumentParser().parse_args())\n"
    via_helper = "import argparse, pickle\n" + helper + "def main(args):\n    return pickle.load(open(args.model, 'rb'))\n\nmain(parse_args())\n"
    # Called with something else too: a parameter, as before.
    mixed = direct + "main(config)\n"
    # A helper that may return its own object is not the command line.
    other = "import argparse, pickle\ndef parse_args():\n    return Settings()\ndef main(args):\n    return pickle.load(open(args.model, 'rb'))\nmain(parse_args())\n"
    files = {"direct.py": direct, "via_helper.py": via_helper, "mixed.py": mixed, "other.py": other}
    found = {(f.path, f.region.start_line): f for f in _scan(tmp_path, files).findings if f.rule_id == "ATS-PY-001"}
    # mixed.py: the sink reads a parameter; the call handing it the command line is where
    # the command line enters, as for any function whose parameter reaches a sink.
    assert {k: f.severity for k, f in found.items()} == {
        ("direct.py", 3): Severity.HIGH, ("via_helper.py", 7): Severity.HIGH,
        ("mixed.py", 3): Severity.HIGH, ("mixed.py", 6): Severity.HIGH, ("other.py", 5): Severity.HIGH,
    }  # fmt: skip
    assert "the command-line argument `model` (from `args.model` at line 3)" in found[("direct.py", 3)].message
    assert "the command-line argument `model` (from `args.model` at line 7)" in found[("via_helper.py", 7)].message
    assert "the parameter `args` of `main`" in found[("mixed.py", 3)].message
    assert "the command line" in found[("mixed.py", 6)].message
    assert "command-line" not in found[("other.py", 5)].message and "command line" not in found[("other.py", 5)].message
    notebook = _notebook([
        ["%%writefile src/score.py\n", "import argparse, pickle\n", *(helper.splitlines(keepends=True)),
         "def main(args):\n", "    return pickle.load(open(args.model, 'rb'))\n", "main(parse_args())\n"],
        ["from azure.ai.ml import command\n", "job = command(code='./src', command='python score.py --model ${{inputs.model}}')\n"],
    ])  # fmt: skip
    found = [f for f in _scan(tmp_path / "nb", {"nb/run.ipynb": notebook}, **PRACTICE_TOO).findings if f.rule_id == "ATS-PY-001"]
    assert [(f.severity, f.properties.get("practice", "")[:25]) for f in found] == [(Severity.LOW, "the pipeline's own artifa")]
    assert [(r.path, r.region.start_line) for r in found[0].related] == [("nb/run.ipynb", 25)]


def test_a_component_launched_in_exec_form_hands_its_arguments_to_the_function_it_calls(tmp_path: Path) -> None:
    """kubeflow/examples' components: `decisiontree(args.train_pickle)` under `__main__`, run by
    the Dockerfile's `ENTRYPOINT ["python3", "decisiontree.py"]` or a component YAML's
    `command: [python3, /pipelines/component/src/train.py, ...]` (a path in the image)."""
    script = (
        "import argparse\nimport pandas as pd\n"
        "def fit(train_pickle):\n    return pd.read_pickle(train_pickle)\n"  # 4
        "if __name__ == '__main__':\n    p = argparse.ArgumentParser()\n    p.add_argument('--train_pickle')\n"
        "    args = p.parse_args()\n    fit(args.train_pickle)\n"
    )
    files = {
        "tree/Dockerfile": 'FROM python:3.12\nCOPY . /app/\nENTRYPOINT [ "python3", "fit.py" ]\n', "tree/fit.py": script + "# tree\n",
        "ner/component.yaml": "implementation:\n  container:\n    command: [\n      python3, /pipelines/component/src/fit.py,\n      --train_pickle, {inputPath: x},\n    ]\n",
        "ner/src/fit.py": script + "# ner\n",
        "cli/fit.py": script,  # nothing launches it: whoever runs it writes the command line
    }  # fmt: skip
    found = {f.path: f for f in _scan(tmp_path, files, **PRACTICE_TOO).findings if f.rule_id == "ATS-PY-001"}
    assert {p: (f.region.start_line, f.severity) for p, f in found.items()} == {
        "tree/fit.py": (4, Severity.LOW), "ner/src/fit.py": (4, Severity.LOW), "cli/fit.py": (4, Severity.HIGH),
    }  # fmt: skip
    assert "the command-line argument `train_pickle` (handed to `fit` at line 9)" in found["cli/fit.py"].message
    assert [r.path for r in found["tree/fit.py"].related] == ["tree/Dockerfile"]
    assert [r.path for r in found["ner/src/fit.py"].related] == ["ner/component.yaml"]


def test_a_file_next_to_the_code_is_its_own_artifact_however_the_path_is_built(tmp_path: Path) -> None:
    code = (
        "import os, pickle, sys\nfrom pathlib import Path\n"
        "a = pickle.load(open(os.path.join(os.path.dirname(__file__), 'a.pkl'), 'rb'))\n"  # 3
        "p = Path(__file__).parent.joinpath('serve.pkl')\n"
        "b = pickle.load(open(str(p), 'rb'))\n"  # 5
        "c = pickle.load(open(Path(__file__).resolve().parent.joinpath(sys.argv[1]), 'rb'))\n"  # 6
    )
    found = _by_line(_scan(tmp_path, {"serve.py": code}), "ATS-PY-001")
    # A path built from `__file__` and fixed names ships with the code (medium, one finding
    # for the two); a name from the command line joined to it is the caller's (high).
    assert {line: f.severity for line, f in found.items()} == {3: Severity.MEDIUM, 6: Severity.HIGH}
    assert [r.region.start_line for r in found[3].related] == [5]
    assert "a command-line argument (from `sys.argv[1]` at line 6)" in found[6].message


def test_a_notebook_loading_the_mlflow_model_it_just_logged_is_low(tmp_path: Path) -> None:
    logged = _notebook([
        ["import mlflow\n", "with mlflow.start_run() as run:\n", "    mlflow.sklearn.log_model(model, 'model')\n"],
        ["loaded = mlflow.sklearn.load_model(f'runs:/{run.info.run_id}/model')\n"],
    ])  # fmt: skip
    registered = _notebook([
        ["import mlflow\n", "mlflow.sklearn.log_model(model, 'model', registered_model_name='churn')\n"],
        ["uri = f'models:/churn/{version}'\n", "loaded = mlflow.pyfunc.load_model(uri)\n"],
    ])  # fmt: skip
    # The run is opened here and a helper of the project trains and logs into it.
    own_run = _notebook([
        ["import mlflow\n", "from trainer import train_and_log\n", "with mlflow.start_run():\n", "    train_and_log(data)\n"],
        ["path = mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path='model')\n"],
        ["loaded = mlflow.sklearn.load_model(path)\n"],
    ])  # fmt: skip
    # A run that only records metrics holds no model of this code.
    metrics_only = _notebook([
        ["import mlflow\n", "with mlflow.start_run():\n", "    mlflow.log_metric('auc', 0.9)\n", "    print('done')\n"],
        ["loaded = mlflow.sklearn.load_model(f'runs:/{run_id}/model')\n"],
    ])  # fmt: skip
    elsewhere = _notebook([["import mlflow\n", "loaded = mlflow.pyfunc.load_model(f'runs:/{run_id}/model')\n"]])
    files = {
        "logged.ipynb": logged, "registered.ipynb": registered, "own_run.ipynb": own_run,
        "metrics_only.ipynb": metrics_only, "elsewhere.ipynb": elsewhere,
    }  # fmt: skip
    found = {f.path: f for f in _scan(tmp_path, files, **PRACTICE_TOO).findings if f.rule_id == "ATS-PY-021"}
    assert {p: f.severity for p, f in found.items()} == {
        "logged.ipynb": Severity.LOW, "registered.ipynb": Severity.LOW, "own_run.ipynb": Severity.LOW,
        "metrics_only.ipynb": Severity.CRITICAL, "elsewhere.ipynb": Severity.CRITICAL,
    }  # fmt: skip


def test_a_pickle_switch_set_from_a_variable_is_not_said_to_be_on(tmp_path: Path) -> None:
    code = (
        "import numpy as np\n"
        "a = np.load(path, allow_pickle=True)\n"
        "class D:\n    def __init__(self, allow_pickle):\n        self.allow_pickle = allow_pickle\n"  # no default: the caller decides
        "    def read(self, stream):\n        return np.load(stream, allow_pickle=self.allow_pickle)\n"
    )
    found = _by_line(_scan(tmp_path, {"io.py": code}), "ATS-PY-003")
    assert {line: f.severity for line, f in found.items()} == {2: Severity.HIGH, 7: Severity.MEDIUM}
    assert "`allow_pickle` is set from `self.allow_pickle`" in found[7].message
    assert "`allow_pickle` is enabled" in found[2].message


def test_launches_are_remembered_per_file_content(tmp_path: Path) -> None:
    from atlascan.engines.python.launches import collect_launches
    from atlascan.model import SourceFile

    class Memo:
        def __init__(self) -> None:
            self.table: dict[str, tuple[str, object]] = {}

        def content(self, file: SourceFile) -> str:
            return "hash-1"

        def recall(self, table: str, path: str, key: str) -> object:
            entry = self.table.get(path)
            return entry[1] if entry and entry[0] == key else None

        def remember(self, table: str, path: str, key: str, value: object) -> None:
            self.table[path] = (key, json.loads(json.dumps(value)))  # as the cache stores it

    (tmp_path / "job.yml").write_text("command: python score.py --model m.pkl\n", "utf-8")
    files = [SourceFile("jobs/job.yml", str(tmp_path / "job.yml"), "yaml", 40)]
    memo = Memo()
    first = collect_launches(files, lambda p: Path(p).read_text("utf-8"), memo)

    def unread(path: str) -> str:
        raise AssertionError("read again")

    assert collect_launches(files, unread, memo) == first
    assert [(x.name, x.line, x.path) for x in first] == [("score.py", 1, "jobs/job.yml")]
    memo.table["jobs/job.yml"] = ("hash-1", [["score.py", "one"]])  # corrupt: read again
    assert collect_launches(files, lambda p: Path(p).read_text("utf-8"), memo) == first


def test_a_tests_own_remote_fixture_is_not_outside_input(tmp_path: Path) -> None:
    # The same load is high in code that ships (the project's bucket), held back in a test
    # (its author wrote the location), reported with --include-tests and says why.
    code = "import dill, smart_open\nwith smart_open.open('gs://fixtures/explainer.dill', 'rb') as f:\n    x = dill.load(f)\n"
    shipped = _one(_scan(tmp_path / "a", {"serve/load.py": code}), "ATS-PY-001")
    assert shipped.severity == Severity.HIGH and "a storage bucket this code names itself" in shipped.message
    assert not [f for f in _scan(tmp_path / "b", {"tests/test_load.py": code}).findings if f.rule_id == "ATS-PY-001"]
    asked = _scan(tmp_path / "c", {"tests/test_load.py": code}, report_classes=report_classes(tests=True, docs=False, unproven=True))
    test = _one(asked, "ATS-PY-001")
    assert (test.severity, test.region.start_line) == (Severity.HIGH, 3)
    assert "(a location this test names itself)" in test.message


def test_a_bucket_url_built_from_names_fixed_in_the_code_is_the_projects_storage(tmp_path: Path) -> None:
    # generative-ai's ranking notebook: `pd.read_pickle(f"gs://{DATA_INPUT_BUCKET_NAME}/{DATASET_PATH}")`
    # of two constants. A bucket a caller hands in, or a web URL, is still a way in.
    code = (
        "import pickle, urllib.request\nimport pandas as pd\n"
        "BUCKET = 'ranking_datasets'\nPATH = 'beir/corpus.pkl'\n"
        "corpus = pd.read_pickle(f'gs://{BUCKET}/{PATH}')\n"  # 5
        "def load(bucket):\n    return pd.read_pickle(f'gs://{bucket}/corpus.pkl')\n"  # 7
        "web = pickle.loads(urllib.request.urlopen(f'https://example.com/{PATH}').read())\n"  # 8
        "import sys\nserver = pickle.loads(urllib.request.urlopen(f'http://{sys.argv[1]}:8000/state').read())\n"  # 10
    )
    found = _by_line(_scan(tmp_path, {"rank.py": code}), "ATS-PY-001")
    # A server the operator names on the command line is their choice, as the argument is.
    # A bucket a caller names is anyone's (7); a web address built of names fixed in the code
    # is the code's own choice, as the bucket's (8).
    assert {line: f.severity for line, f in found.items()} == {5: Severity.HIGH, 7: Severity.CRITICAL, 8: Severity.HIGH, 10: Severity.HIGH}
    assert "a storage bucket this code names itself" in found[5].message


def test_a_tests_fixture_location_the_environment_may_replace_is_not_fixed(tmp_path: Path) -> None:
    env = (
        "import os, dill, smart_open\nFIXTURE = 'gs://fixtures/explainer.dill'\n"
        "if 'FIXTURE_URL' in os.environ:\n    FIXTURE = os.environ['FIXTURE_URL']\n"
        "with smart_open.open(FIXTURE, 'rb') as f:\n    x = dill.load(f)\n"
    )
    web = "import dill, smart_open\nwith smart_open.open('https://huggingface.co/u/m/resolve/main/e.dill', 'rb') as f:\n    x = dill.load(f)\n"
    ci = "import dill, smart_open\nwith smart_open.open('gs://fixtures/explainer.dill', 'rb') as f:\n    x = dill.load(f)\n"
    result = _scan(tmp_path, {"tests/test_env.py": env, "tests/test_web.py": web, ".github/scripts/evaluate.py": ci})
    # A location the environment may replace stands alone (outside input shown); a web address
    # the test spells out is its author's choice, as the CI script's own bucket is its
    # project's storage: both held back with the tests' and the tooling's findings.
    assert sorted((f.path, f.region.start_line) for f in result.findings if f.rule_id == "ATS-PY-001") == [("tests/test_env.py", 6)]


def test_a_pipeline_components_inputs_are_the_pipelines_own_artifacts(tmp_path: Path) -> None:
    """kubeflow/examples' notebooks: `create_component_from_func(merge)` or `@dsl.component`
    makes the function a component, whose parameters the pipeline binds."""
    code = (
        "import os, pickle\nfrom kfp import dsl\nfrom kfp import components as comp\n"
        "def merge(data_path):\n    return pickle.load(open(f'{data_path}/features', 'rb'))\n"  # 5
        "merge_op = comp.create_component_from_func(merge, base_image='python:3.11')\n"
        "@dsl.component\ndef fetch(model_dir: str, name: str):\n"
        "    os.system(f'gsutil cp {name} /tmp')\n"  # 9: not a loader: stays at the rule's level
        "    return pickle.load(open(model_dir, 'rb'))\n"  # 10
        "def helper(path):\n    return pickle.load(open(path, 'rb'))\n"  # 12: a plain function
    )
    found = {(f.rule_id, f.region.start_line): f for f in _scan(tmp_path, {"pipeline.py": code}, **PRACTICE_TOO).findings}
    assert {k: f.severity for k, f in found.items() if k[0] in ("ATS-PY-001", "ATS-PY-011")} == {
        ("ATS-PY-001", 5): Severity.LOW, ("ATS-PY-001", 10): Severity.LOW, ("ATS-PY-011", 9): Severity.HIGH,
        ("ATS-PY-001", 12): Severity.HIGH,
    }  # fmt: skip
    assert found[("ATS-PY-001", 5)].properties["practice"] == "the pipeline's own artifact, handed to a component as its input"
    assert "the pipeline input `name` of component `fetch`" in found[("ATS-PY-011", 9)].message
    assert {(f.rule_id, f.region.start_line) for f in _scan(tmp_path, {"pipeline.py": code}).findings} >= {("ATS-PY-011", 9), ("ATS-PY-001", 12)}
    # An earlier component wrote the file this one reads: still the pipeline's own artifact.
    chained = code + "def save(out):\n    pickle.dump(obj, open(f'{out}/features', 'wb'))\n    return pickle.load(open(f'{out}/features', 'rb'))\nsave_op = comp.create_component_from_func(save)\n"
    found = [f for f in _scan(tmp_path / "chained", {"pipeline.py": chained}, **PRACTICE_TOO).findings if f.rule_id == "ATS-PY-001" and f.region.start_line == 15]
    assert [f.properties.get("practice", "")[:25] for f in found] == ["the pipeline's own artifa"]


def test_a_parameter_every_call_hands_a_fixed_value_is_that_value(tmp_path: Path) -> None:
    """kubeflow/examples' components: `download_kaggle_dataset("titanic", "/data")`, the only
    call, builds `os.system("mkdir " + path)` from the code's own path. Another call with other
    data, or the function passed around as a value, leaves the parameter a parameter; the
    function still summarizes for callers in other files."""
    fixed = "import os\ndef fetch(name, path):\n    return os.system('mkdir ' + path)\n\nfetch('titanic', '/data')\nfetch('iris', path='/data')\n"
    mixed = fixed + "fetch('x', input())\n"
    passed = fixed + "list(map(fetch, names, paths))\n"
    nested = "import os\ndef main():\n    def fetch(path):\n        os.system('mkdir ' + path)\n    fetch('/data')\n"
    caller = "import sys\nfrom fixed import fetch\nfetch('x', sys.argv[1])\n"
    files = {"fixed.py": fixed, "mixed.py": mixed, "passed.py": passed, "nested.py": nested, "caller.py": caller}
    found = sorted((f.path, f.region.start_line) for f in _scan(tmp_path, files).findings if f.rule_id == "ATS-PY-011")
    assert found == [("caller.py", 3), ("mixed.py", 3), ("mixed.py", 7), ("passed.py", 3)]


def test_a_module_run_with_python_dash_m_is_launched_by_that_line(tmp_path: Path) -> None:
    """Metaflow's uv environment runs `python -m metaflow.plugins.uv.bootstrap "%s"`: the
    bootstrap's command line is the one that line writes, not an outsider's."""
    bootstrap = "import subprocess, sys\nsubprocess.run(f'uv pip install {sys.argv[1]}', shell=True)\n"
    launcher = "CMD = 'python -m tool.plugins.bootstrap \"%s\"'\n"
    files = {"tool/plugins/env.py": launcher, "tool/plugins/bootstrap.py": bootstrap, "other/bootstrap.py": bootstrap}
    found = {f.path: f for f in _scan(tmp_path, files).findings if f.rule_id == "ATS-PY-011"}
    assert {p: f.severity for p, f in found.items()} == {"tool/plugins/bootstrap.py": Severity.HIGH, "other/bootstrap.py": Severity.HIGH}
    launched, alone = found["tool/plugins/bootstrap.py"], found["other/bootstrap.py"]
    assert "a pipeline step of this repository writes that command line" in launched.message
    assert [(r.path, r.region.start_line) for r in launched.related] == [("tool/plugins/env.py", 1)]
    assert "a command-line argument (from `sys.argv[1]` at line 2)" in alone.message and "pipeline step" not in alone.message


def test_a_training_job_handed_a_module_launches_that_module(tmp_path: Path) -> None:
    """vertex-ai-samples' feature-store notebook writes `trainer/task.py` and runs it with
    `gcloud ai custom-jobs create --python-module=trainer.task`; the Vertex AI SDK says
    `python_module_name="trainer.task"`. The job writes its command line."""
    task = "import argparse, pickle\np = argparse.ArgumentParser()\np.add_argument('--model')\nargs = p.parse_args()\nm = pickle.load(open(args.model, 'rb'))\n"
    files = {
        "gcloud/run.sh": "gcloud ai custom-jobs create --python-module=trainer.task --args=--model=gs://b/m.pkl\n",
        "gcloud/trainer/task.py": task,
        "sdk/job.py": "job = aiplatform.CustomPythonPackageTrainingJob(python_module_name='trainer.task')\n",
        "sdk/trainer/task.py": task + "# sdk\n",
        "alone/trainer/task.py": task + "# alone\n",  # nothing launches it
    }
    found = {f.path: f for f in _scan(tmp_path, files, **PRACTICE_TOO).findings if f.rule_id == "ATS-PY-001"}
    assert {p: f.severity for p, f in found.items()} == {
        "gcloud/trainer/task.py": Severity.LOW, "sdk/trainer/task.py": Severity.LOW, "alone/trainer/task.py": Severity.HIGH,
    }  # fmt: skip
    assert [p for p, f in found.items() if "a pipeline step of this repository writes that command line" in f.message] == [
        "gcloud/trainer/task.py", "sdk/trainer/task.py",
    ]  # fmt: skip


def test_a_name_first_reached_at_the_hop_limit_is_followed_again_from_nearer(tmp_path: Path) -> None:
    """vertex-ai-samples' Dask trainer: `launch(cmd)`'s parameter asks what its calls hand it,
    which reaches the environment only near the hop limit; the calls themselves, looked at
    next, must still see `CLUSTER_SPEC` (a lookup cut short is not remembered)."""
    code = (
        "import json, os, subprocess\n"
        "def launch(cmd):\n    return subprocess.check_call(cmd, shell=True)\n"
        "def chief_port(config):\n    if 'open_ports' in config:\n        return config['open_ports'][0]\n"
        "    return config['cluster']['chief'][0].split(':')[1]\n"
        "def main():\n    raw = os.environ.get('CLUSTER_SPEC')\n    config = json.loads(raw)\n"
        "    port = chief_port(config)\n    address = '{}:{}'.format('10.0.0.1', port)\n"
        "    launch('dask-scheduler --port {} &'.format(port))\n"  # 13
        "    launch('dask-worker {}'.format(address))\n"  # 14
        "main()\n"
    )
    found = _by_line(_scan(tmp_path, {"train.py": code}), "ATS-PY-011")
    assert sorted(found) == [3, 13]
    assert "`CLUSTER_SPEC`" in found[13].message and [r.region.start_line for r in found[13].related] == [14]


def test_sinks_with_no_outside_input_shown_are_held_back_unless_asked_for(tmp_path: Path) -> None:
    # Reviewers of 29 ML repositories judged nearly every load of the operator's own files
    # (a checkpoint on a script's command line, a file the code names, data of unknown
    # origin) not worth acting on: by default they are counted in one notice per rule.
    files = {
        "serve.py": "import pickle\nfrom flask import request\n\ndef predict():\n    return pickle.loads(request.data)\n",
        # a library module's main block that reads no command line leaves it a library
        "lib.py": "import tarfile\n\ndef unpack(path):\n    tarfile.open(path).extractall('data')\n\nif __name__ == '__main__':\n    pass\n",
        # a loader of a pickle-by-design format loads its caller's artifact: the caller that
        # hands it a request is the finding
        "store.py": "import pickle\n\ndef load(path):\n    return pickle.load(open(path, 'rb'))\n",
        "api.py": "from flask import request\nfrom store import load\n\ndef fetch():\n    return load(request.args['name'])\n",
        # a runner executes its parameter as handed (FastChat's run_cmd), and a command built
        # from a parameter runs the caller's names (MLServer's `build_image(folder)`): the
        # caller decides, and one handing it a request is the finding
        "shell.py": "import os\n\ndef run_cmd(cmd):\n    return os.system(cmd)\n\ndef copy(name):\n    os.system(f'cp {name} out/')\n",
        "web.py": "from flask import request\nfrom shell import copy\n\ndef save():\n    copy(request.args['name'])\n",
        "convert.py": (
            "import sys, torch, pickle\n\ndef convert(path):\n    return pickle.load(open(path, 'rb'))\n\n"
            "state = torch.load(sys.argv[1])\nlabels = pickle.load(open('labels.pkl', 'rb'))\n\n"
            "if __name__ == '__main__':\n    convert(sys.argv[2])\n"
        ),
        "requirements.txt": "torch==2.1.0\n",
    }
    default = _scan(tmp_path / "a", files, report_classes=frozenset())
    assert {(f.path, f.rule_id, f.region.start_line, f.severity.label) for f in default.findings if f.rule_id.startswith("ATS-PY")} == {
        ("serve.py", "ATS-PY-001", 5, "critical"),  # a web request
        ("api.py", "ATS-PY-001", 5, "critical"),  # a web request handed to store.load
        ("lib.py", "ATS-PY-013", 4, "medium"),  # a library's parameter: its callers may be anyone's
        ("web.py", "ATS-PY-011", 5, "critical"),  # a web request handed to shell.copy
    }
    held = sorted((n.path, n.held, n.message.split(":")[0]) for n in default.notices if n.held_as == "unproven")
    # The script's own function, its command line and the file it names; store.load's path;
    # both of shell.py's parameters.
    assert held == [("convert.py", 1, "ATS-PY-004"), ("convert.py", 3, "ATS-PY-001"), ("shell.py", 2, "ATS-PY-011")]
    assert all("--include-unproven reports them" in n.message for n in default.notices if n.held_as == "unproven")
    asked = _scan(tmp_path / "b", files, report_classes=report_classes(tests=False, docs=False, unproven=True))
    assert {(f.path, f.rule_id, f.region.start_line) for f in asked.findings if f.path == "convert.py"} == {
        ("convert.py", "ATS-PY-001", 4), ("convert.py", "ATS-PY-004", 6), ("convert.py", "ATS-PY-001", 7),
    }
    assert not [n for n in asked.notices if n.held_as == "unproven"]


def test_names_of_installed_code_are_no_parameter(tmp_path: Path) -> None:
    # axolotl's LoRA patch imports from the chosen attention class's module before exec-ing its
    # rewritten source: `cls.__module__` names installed code, whoever chose the class (judged
    # FALSE as "evaluates the parameter `cfg`"), as do `inspect.signature` and `__doc__`
    # (unsloth's save.py, judged NOISE); the parameter's own text still is one.
    code = (
        "import inspect\n\n"
        "def patch(cfg):\n"
        "    cls = cfg.attention_cls\n"
        "    module_name = cls.__module__\n"
        "    exec(f'import {module_name}', globals())\n"
        "    exec(inspect.getsource(cls.forward).replace('a', 'b'), globals())\n"
        "    exec(f'print({cfg})')\n"
        # unsloth's push_to_hub wrapper: a template of the loaded method's signature and docs
        "    exec(f'def push{inspect.signature(cls.push)}:\\n    \"\"\"{cls.push.__doc__}\"\"\"')\n"
    )
    found = _by_line(_scan(tmp_path, {"patch.py": code}), "ATS-PY-010")
    assert [(line, "the parameter `cfg`" in f.message) for line, f in sorted(found.items())] == [(8, True)]


def test_parameters_of_a_test_function_kept_in_the_code_are_its_data(tmp_path: Path) -> None:
    # h2ogpt's create_data.py keeps pytest tests beside the code: `filename` of
    # `test_get_small_sample_oig_data` is a parametrized value, no caller's input. The same
    # command built from another function's parameter stays reported.
    code = (
        "import os\nimport pytest\n\n@pytest.mark.parametrize('filename', ['a.json'])\n"
        "def test_get_sample(filename):\n    os.system(f'wget https://example.org/{filename}')\n\n"
        "def fetch(filename):\n    os.system(f'wget https://example.org/{filename}')\n"
    )
    everything = report_classes(tests=True, docs=True, practice=True, unproven=True)
    result = _scan(tmp_path, {"create_data.py": code}, report_classes=everything)
    assert [(f.rule_id, f.region.start_line) for f in result.findings] == [("ATS-PY-011", 9)]


def test_a_compile_handed_straight_to_eval_is_that_calls_finding(tmp_path: Path) -> None:
    """NeMo-Run's CLI parser runs `eval(compile(node, "<ast>", "eval"), {}, {})`: one line,
    one weakness, reported at the `eval`; a code object kept for later is its own finding."""
    code = (
        "import sys\n"
        "def run(node):\n"
        "    return eval(compile(node, '<ast>', 'eval'), {}, {})\n"  # 3: one finding
        "code = compile(sys.argv[1], '<x>', 'exec')\n"  # 4
        "exec(code)\n"  # 5
    )
    result = _scan(tmp_path, {"cli.py": code}, report_classes=frozenset({"unproven"}))
    found = sorted((f.region.start_line, f.message.split("`")[1]) for f in result.findings if f.rule_id == "ATS-PY-010")
    assert found == [(3, "eval"), (4, "compile"), (5, "exec")]


def test_a_download_from_a_web_address_the_code_spells_out_is_not_critical(tmp_path: Path) -> None:
    """deepchecks' `load_fitted_model()` unpickles its demo model from a figshare address held
    in a module constant (judged NOISE seven times, "should be low"): whoever controls that
    host chooses the file, but the code shows no one else a way in. It stays at the rule's
    level, as the operator's environment leaves it; a URL a caller hands over still raises it."""
    code = (
        "import os, joblib\nfrom urllib.request import urlopen\n"
        "_MODEL_URL = 'https://figshare.com/ndownloader/files/35122753'\n"
        "def load_fitted_model():\n    with urlopen(_MODEL_URL) as f:\n        return joblib.load(f)\n"  # 6
        "def load_from(url):\n    with urlopen(url) as f:\n        return joblib.load(f)\n"  # 9
        "URL = os.environ.get('MODEL_URL', _MODEL_URL)\n"
        "def load_configured():\n    with urlopen(URL) as f:\n        return joblib.load(f)\n"  # 13
    )
    found = _by_line(_scan(tmp_path, {"datasets.py": code}), "ATS-PY-002")
    assert {line: f.severity for line, f in found.items()} == {6: Severity.HIGH, 9: Severity.CRITICAL, 13: Severity.HIGH}
    assert found[6].message.endswith("(a web address this code names itself).")


def test_the_evidence_names_the_assignment_before_the_use(tmp_path: Path) -> None:
    """cleanlab's test helper reuses `response` for two downloads: each load reads the one
    just before it, and its message names that line (it named the later one for both, and
    the two identical messages folded into one finding)."""
    code = (
        "import io\nimport numpy as np\nimport requests\n\n"
        "def get(a_url, b_url):\n"
        "    response = requests.get(a_url)\n"  # 6
        "    a = np.load(io.BytesIO(response.content), allow_pickle=True)\n"  # 7
        "    response = requests.get(b_url)\n"  # 8
        "    b = np.load(io.BytesIO(response.content), allow_pickle=True)\n"  # 9
        "    return a, b\n"
    )
    found = _by_line(_scan(tmp_path, {"fetch.py": code}), "ATS-PY-003")
    assert "(from `requests.get(a_url)` at line 6)" in found[7].message
    assert "(from `requests.get(b_url)` at line 8)" in found[9].message
