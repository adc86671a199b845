"""Property-based fuzzing of every parser of the parse stage (issue 12 §6): arbitrary bytes
and mutated fixture files (flipped, inserted and deleted bytes, truncation, duplicated
lines, deep nesting) never raise anything but the parse-error notice (`ParseError`,
`SkipFile`), and each example finishes within the profile's deadline.

Every example goes through the public entries a scan uses: `parsers.read` (bytes on disk
to a Document), `Document.tree`, `Document.comments` and the views engines ask for
(`gitlab.jobs`, `commandlines.commands`, `requirements.manifest`, `notebook.python_ast`).
ATLASCAN_FUZZ_LONG=1 turns the short run into a long campaign (see fuzz_support).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, note
from hypothesis import strategies as st

from atlascan import parsers
from atlascan.document import Document
from atlascan.model import Limits, ParseError, SkipFile, SourceFile, Span
from atlascan.parsers import commandlines, gitlab, jsondoc, notebook, requirements, shell
from atlascan.parsers import yaml as y
from fuzz_support import (
    describe,
    fixtures_of,
    fuzz,
    indent_chain,
    inputs,
    nest,
    tokenizer_only_in_short_runs,  # noqa: F401 (autouse)
)

NOTICE = (ParseError, SkipFile)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


def read(folder: Path, kind: str, path: str, data: bytes, include_generated: bool = False) -> Document | None:
    """The Document a scan would build from these bytes, or None for a notice."""
    note(describe(kind, path, data))
    target = folder / "input"
    target.write_bytes(data)
    file = SourceFile(path, str(target), kind, len(data))
    try:
        return parsers.read(file, Limits(include_generated=include_generated))
    except NOTICE:
        return None


def attempt(call: Callable[[], Any]) -> Any:
    """The call's value, or None when it raised the parse-error notice."""
    try:
        return call()
    except NOTICE:
        return None


def exercise(doc: Document) -> Any:
    """Everything a scan asks of a Document of this kind; the tree when there is one."""
    tree = attempt(lambda: doc.tree) if doc.kind in parsers.PARSERS else None
    for comment in doc.comments:
        assert comment.line >= 1
    if doc.kind == "gitlab-ci":
        attempt(lambda: doc.view(gitlab.jobs))
    if commandlines.handles(doc.kind, doc.path):
        for ct in attempt(lambda: doc.view(commandlines.commands)) or []:
            ct.position(0)
            ct.position(len(ct.text))
    name = doc.path.rsplit("/", 1)[-1].lower()
    if doc.kind in ("requirements", "pyproject", "setup-cfg") or name == "setup.py":
        attempt(lambda: doc.view(requirements.manifest))
    if doc.kind == "notebook":
        attempt(lambda: doc.view(notebook.python_ast))
        attempt(lambda: doc.view(jsondoc.tree))
    return tree


def check(folder: Path, case: tuple[str, str, bytes], generated: bool) -> Any:
    kind, path, data = case
    doc = read(folder, kind, path, data, generated)
    return exercise(doc) if doc is not None else None


# ---- YAML (every YAML kind) -------------------------------------------------------------

YAML_TOKENS = (
    b"- ", b": ", b"? ", b"&a ", b"*a", b"&b [*a, *a, *a, *a]", b"!!python/object:os.system", b"!tag ",
    b"|\n", b">-\n", b"|2+\n", b"%YAML 1.2\n", b"%TAG ! tag:x,2000:\n", b"--- ", b"\n...\n", b"<<: *a\n",
    b"{a: ", b"[a, ", b"'''", b'"\\u', b'"\\x', b"{{ .Values.x }}", b"${{ github.event.issue.title }}",
    b"\n  - run: |\n      curl x | sh\n", b"\nscript:\n  - ", b"\nextends: .base\n", b"\n.base:\n  extends: .base\n",
)  # fmt: skip
YAML_NEST = (
    nest([b"["], [b"]"]), nest([b"{a: "], [b"}"]), nest([b"- "]), indent_chain(b"a:"),
    indent_chain(b"- a:"), nest([b"&x ["], [b"]"]),
)  # fmt: skip
YAML_CORPUS = fixtures_of(*parsers.YAML_KINDS)


YAML_INPUTS = inputs(YAML_CORPUS, YAML_TOKENS, YAML_NEST)


@fuzz(300)
@given(case=YAML_INPUTS, generated=st.booleans())
def test_yaml_kinds(workdir: Path, case: tuple[str, str, bytes], generated: bool) -> None:
    tree = check(workdir, case, generated)
    if tree is not None:
        lines = case[2].decode("utf-8", "replace").splitlines()
        for root in tree.roots():
            for node in y.walk(root):
                if isinstance(node, y.Scalar):
                    y.scalar_anchors(node, lines)


def billion_laughs(levels: int) -> bytes:
    out = [b"a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    out += [b"a%d: &a%d [%s]" % (i, i, b", ".join([b"*a%d" % (i - 1)] * 10)) for i in range(1, levels)]
    return b"\n".join(out) + b"\n"


@fuzz(20)
@given(levels=st.integers(2, 12), kind=st.sampled_from(parsers.YAML_KINDS))
def test_yaml_alias_expansion(workdir: Path, levels: int, kind: str) -> None:
    """Aliases that expand exponentially: a notice or a tree, never minutes of work."""
    check(workdir, (kind, "laughs.yml", billion_laughs(levels)), False)


# ---- JSON -------------------------------------------------------------------------------

JSON_TOKENS = (b'{"a": ', b'"class_name": ', b"[1, ", b'"\\ud800"', b"1e99999", b"-", b"NaN", b"Infinity", b'"\\')
JSON_NEST = (nest([b"["], [b"]"]), nest([b'{"a":'], [b"}"]), nest([b"["]))
JSON_CORPUS = fixtures_of("json")


@fuzz(150)
@given(case=inputs(JSON_CORPUS, JSON_TOKENS, JSON_NEST), generated=st.booleans())
def test_json(workdir: Path, case: tuple[str, str, bytes], generated: bool) -> None:
    check(workdir, case, generated)


# ---- notebooks --------------------------------------------------------------------------

NOTEBOOK_TOKENS = (
    b'"!pip install x\\n", ', b'"%%bash\\n", ', b'"%pip install ', b'"cell_type": "code", ', b'"source": ',
    b'"source": 1, ', b'"cells": {}, ', b'"language": "r"', b'"def f(:\\n", ', b'"\\tx\\n", ', b'"x = !ls\\n", ',
)  # fmt: skip
NOTEBOOK_NEST = (nest([b"["], [b"]"]), nest([b'"(', b"", b""]), nest([b'{"cells": ['], [b"]}"]))
NOTEBOOK_CORPUS = fixtures_of("notebook")


@fuzz(150)
@given(case=inputs(NOTEBOOK_CORPUS, NOTEBOOK_TOKENS, NOTEBOOK_NEST), generated=st.booleans())
def test_notebook(workdir: Path, case: tuple[str, str, bytes], generated: bool) -> None:
    check(workdir, case, generated)


@fuzz(150)
@given(
    cells=st.lists(
        st.tuples(st.sampled_from(["code", "markdown", "raw", 7]), st.lists(st.text(max_size=40), max_size=6) | st.text(max_size=80)),
        max_size=8,
    ),
    language=st.sampled_from(["python", "R", None]),
)
def test_notebook_structure(workdir: Path, cells: list[tuple[Any, Any]], language: str | None) -> None:
    """Well-formed JSON with arbitrary cells: the notebook model and its Python program."""
    import json

    nb: dict[str, Any] = {"cells": [{"cell_type": t, "source": s, "metadata": {}} for t, s in cells], "nbformat": 4}
    if language is not None:
        nb["metadata"] = {"kernelspec": {"language": language}, "language_info": {"name": language}}
    check(workdir, ("notebook", "fuzz.ipynb", json.dumps(nb).encode()), False)


# ---- Python -----------------------------------------------------------------------------

PYTHON_TOKENS = (
    b"def f(", b"class C:", b"lambda: ", b"async ", b"await ", b"f'{", b'"""', b"'''", b"print x", b"exec 'x'",
    b"except E, e:", b"\n    ", b"\n\t", b"import ", b"from . import *", b"pickle.loads(", b"torch.load(",
    b"@", b"match x:\n    case ", b":=", b"# type: ignore", b"\\N{", b"rb'", b"0x", b"1_000j",
)  # fmt: skip
PYTHON_NEST = (
    nest([b"("], [b")"]), nest([b"["], [b"]"]), nest([b"-"]), nest([b"not "]), nest([b"x."]), nest([b"f("], [b")"]),
    indent_chain(b"if x:", b" "), nest([b"lambda: "]), nest([b"f'{"], [b"}'"]), nest([b"a if b else "]),
)  # fmt: skip
PYTHON_CORPUS = fixtures_of("python")


@fuzz(300)
@given(case=inputs(PYTHON_CORPUS, PYTHON_TOKENS, PYTHON_NEST), generated=st.booleans())
def test_python(workdir: Path, case: tuple[str, str, bytes], generated: bool) -> None:
    check(workdir, case, generated)


# ---- Dockerfile -------------------------------------------------------------------------

DOCKER_TOKENS = (
    b"RUN ", b"FROM ", b" AS ", b"ARG ", b"ENV ", b"COPY --from=", b"CMD [", b'ENTRYPOINT ["sh", "-c", "',
    b"# syntax=docker/dockerfile:1\n", b"# escape=`\n", b"# escape=\\\n", b"<<EOF\n", b"<<-EOT\n", b"EOF\n",
    b"${A:-", b"${A:+", b"$A", b"SHELL [", b"ONBUILD ", b"HEALTHCHECK CMD ", b"USER ", b"\\\n\\\n",
)  # fmt: skip
DOCKER_NEST = (
    nest([b"\\\n"]), nest([b"$("], [b")"]), nest([b"${A:-"], [b"}"]), nest([b"RUN <<E\n"]), nest([b"["], [b"]"]),
    nest([b"sh -c '"], [b"'"]), nest([b"ONBUILD "]),
)  # fmt: skip
DOCKER_CORPUS = fixtures_of("dockerfile")


@fuzz(300)
@given(case=inputs(DOCKER_CORPUS, DOCKER_TOKENS, DOCKER_NEST), generated=st.booleans())
def test_dockerfile(workdir: Path, case: tuple[str, str, bytes], generated: bool) -> None:
    check(workdir, case, generated)


# ---- shell ------------------------------------------------------------------------------

SHELL_TOKENS = (
    b"$(", b"`", b"<<EOF\n", b"<<-'EOF'\n", b"EOF\n", b"| sh", b"&& ", b"|| ", b"; ", b"\\\n", b"sh -c '",
    b"bash -c \"", b"eval ", b"if ", b"then ", b"fi", b"case x in ", b"esac", b"for x in ", b"do ", b"done",
    b"function f { ", b"$((", b"[[ ", b"]]", b"<(", b"${x//", b"${#", b"'\"'\"'", b"pip install ", b"curl x | bash",
)  # fmt: skip
SHELL_NEST = (
    nest([b"$("], [b")"]), nest([b"("], [b")"]), nest([b"{ "], [b"; }"]), nest([b"sh -c '"], [b"'"]),
    nest([b"if true; then "], [b"; fi"]), nest([b"`"]), nest([b"\\"]), nest([b'bash -c "'], [b'"']),
    nest([b"$(("], [b"))"]),
)  # fmt: skip
SHELL_CORPUS = fixtures_of("shell")


@fuzz(300)
@given(case=inputs(SHELL_CORPUS, SHELL_TOKENS, SHELL_NEST), generated=st.booleans())
def test_shell_scripts(workdir: Path, case: tuple[str, str, bytes], generated: bool) -> None:
    check(workdir, case, generated)


@fuzz(200)
@given(
    text=st.one_of(
        st.text(max_size=300),
        st.lists(st.sampled_from([t.decode() for t in SHELL_TOKENS] + ["x", " ", "'", '"', "\n"]), max_size=60).map("".join),
    ),
    argv=st.lists(st.text(max_size=20), max_size=6),
)
def test_shell_backends(text: str, argv: list[str]) -> None:
    """Both back ends (tree-sitter, the tokenizer) and the argv form take any text: the shell
    parser never raises, not even a ParseError."""
    for use_tree_sitter in (True, False):
        shell.parse(text, use_tree_sitter)
        shell.parse_argv(["sh", "-c", text, *argv], " ".join(["sh", "-c", text, *argv]), use_tree_sitter)


# ---- command lines in every kind that holds them ---------------------------------------

COMMAND_CORPUS = [
    entry
    for entry in fixtures_of(*commandlines.EXTRACTORS)
    if commandlines.handles(entry[0], entry[1])
]


@fuzz(250)
@given(
    case=inputs(COMMAND_CORPUS, YAML_TOKENS + DOCKER_TOKENS + SHELL_TOKENS, YAML_NEST + DOCKER_NEST + SHELL_NEST),
    generated=st.booleans(),
)
def test_command_lines(workdir: Path, case: tuple[str, str, bytes], generated: bool) -> None:
    check(workdir, case, generated)


# ---- GitLab CI --------------------------------------------------------------------------

GITLAB_TOKENS = (
    b"\nextends: [.a, .b]\n", b"\n.a:\n  extends: .b\n.b:\n  extends: .a\n", b"\ninclude:\n  - ", b"\nvariables:\n  A: ",
    b"\n  script: ", b"\n  before_script:\n    - ", b"\ndefault:\n  image: ", b"!reference [.a, script]", b"\n  rules:\n    - if: ",
)  # fmt: skip
GITLAB_NEST = (*YAML_NEST, lambda depth: b"".join(b".t%d:\n  extends: .t%d\n  script: [x]\n" % (i, i + 1) for i in range(min(depth, 2000))))
GITLAB_CORPUS = fixtures_of("gitlab-ci")


@fuzz(200)
@given(case=inputs(GITLAB_CORPUS, GITLAB_TOKENS, GITLAB_NEST), generated=st.booleans())
def test_gitlab_pipelines(workdir: Path, case: tuple[str, str, bytes], generated: bool) -> None:
    check(workdir, case, generated)


# ---- dependency manifests ---------------------------------------------------------------

REQ_TOKENS = (
    b"-r ", b"-c ", b"-e ", b"--index-url ", b"--extra-index-url ", b"-f ", b"--trusted-host ", b"--hash=sha256:",
    b" @ ", b"git+https://h/r.git@", b"#egg=", b"; python_version < '3'", b"[extra]", b"==", b"~=", b">=", b"^",
    b"~", b"*", b"===", b"!=", b"\n[tool.poetry.dependencies]\n", b"\n[[tool.uv.index]]\n", b'= {version = "',
    b"\n[packages]\n", b"\n[options]\ninstall_requires =\n    ", b"\ndependencies:\n  - pip:\n    - ", b"install_requires=[",
    b"\n[[package]]\n", b'\nname = "', b"\n[[source]]\nurl = ", b'"_meta": {', b"\nchannels:\n  - ", b"{path = ",
)  # fmt: skip
REQ_NEST = (
    nest([b"["], [b"]"]), nest([b"{a="], [b"}"]), nest([b"a = ["], [b"]"]), nest([b"x = {a = "], [b"}"]),
    nest([b'{"a":'], [b"}"]), nest([b"- "]), nest([b"("], [b")"]), nest([b"\\\n"]), indent_chain(b"a:"),
)  # fmt: skip
REQ_CORPUS = fixtures_of(
    "requirements", "pyproject", "setup-cfg", "python", name=lambda p: not p.endswith(".py") or p.endswith("setup.py")
)


@fuzz(300)
@given(case=inputs(REQ_CORPUS, REQ_TOKENS, REQ_NEST), generated=st.booleans())
def test_dependency_manifests(workdir: Path, case: tuple[str, str, bytes], generated: bool) -> None:
    check(workdir, case, generated)


@fuzz(200)
@given(
    line=st.text(max_size=120) | st.lists(st.sampled_from([t.decode("utf-8", "replace") for t in REQ_TOKENS] + ["x", "1.0", " "]), max_size=12).map("".join),
    dialect=st.sampled_from(["pep440", "poetry", "conda"]),
    words=st.lists(st.sampled_from(["pip", "install", "-e", "-r", "x", "uv", "python", "-m", "sudo", "&&", "--index-url"]) | st.text(max_size=8), max_size=10),
)
def test_requirement_lines(line: str, dialect: str, words: list[str]) -> None:
    """The line-level helpers engines call on command-line words: a Requirement or None,
    a specifier string, argument indexes; never an exception."""
    span = Span(1, 1, 1, 1)
    requirements.requirement_line(line, span)
    requirements.requirement_line(line, span, editable=True)
    requirements.convert_specifier(line, dialect)
    requirements.vcs_ref(line)
    for i in requirements.pip_install_arguments(words):
        assert 0 <= i < len(words)


# ---- Terraform --------------------------------------------------------------------------

def _terraform_entry() -> Callable[[Document], Any] | None:
    """The Terraform parse entry: `Document.tree` once the parser lives in parsers/terraform,
    else the engine's readers (whose RecursionError the engine itself turns into a notice)."""
    if "terraform" in parsers.PARSERS:
        return lambda doc: doc.tree
    try:
        hcl_reader = importlib.import_module("atlascan.engines.terraform.hcl_reader")
        json_reader = importlib.import_module("atlascan.engines.terraform.json_reader")
    except ImportError:
        return None

    def legacy(doc: Document) -> Any:
        try:
            if doc.path.endswith(".json"):
                return json_reader.read_json(doc.text, doc.file)
            return hcl_reader.read_hcl(doc.text, doc.file)
        except RecursionError:  # engines/terraform/engine.py: "too deeply nested", a notice
            raise ParseError("too deeply nested") from None

    return legacy


TERRAFORM = _terraform_entry()
TF_TOKENS = (
    b'resource "aws_s3_bucket" "b" {\n', b"}\n", b' = "', b"${", b"%{ if x }", b"%{ endif }", b"<<EOT\n", b"<<-EOT\n",
    b"EOT\n", b"var.", b"local.", b"[for x in y : x]", b"{for k, v in m : k => v}", b"dynamic \"x\" {", b"? 1 : 2",
    b"jsonencode({", b"...", b"[*]", b"/*", b"*/", b"//", b'"\\u', b"-> ", b"count = ", b"= true\n",
)  # fmt: skip
TF_NEST = (
    nest([b"a = ["], [b"]"]), nest([b"b {\n"], [b"}\n"]), nest([b"a = ("], [b")"]), nest([b'"${'], [b'}"']),
    nest([b"a = {x = "], [b"}"]), nest([b"f("], [b")"]), nest([b"-"]), nest([b"!"]),
)  # fmt: skip
TF_CORPUS = fixtures_of("terraform")


@pytest.mark.skipif(TERRAFORM is None, reason="no Terraform parser imports (neither parsers.terraform nor engines.terraform)")
@fuzz(150)
@given(case=inputs(TF_CORPUS, TF_TOKENS, TF_NEST), generated=st.booleans())
def test_terraform(workdir: Path, case: tuple[str, str, bytes], generated: bool) -> None:
    kind, path, data = case
    doc = read(workdir, kind, path, data, generated)
    if doc is not None and TERRAFORM is not None:
        attempt(lambda: TERRAFORM(doc))
        doc.comments  # noqa: B018 - the heredoc-aware comment lexer


# ---- deep nesting, deterministically ------------------------------------------------------

DEEP = 100_000  # far past the interpreter's recursion limit
DEEP_CASES = [
    ("pyproject", "pyproject.toml", "[project]\ndependencies = " + "[" * DEEP + "]" * DEEP),
    ("requirements", "Pipfile", "[packages]\nx = " + "{a = " * DEEP),
    ("requirements", "poetry.lock", "a = " + "[" * DEEP),
    ("requirements", "uv.lock", "[[package]]\nname = " + "{a=" * DEEP),
    ("requirements", "Pipfile.lock", "[" * DEEP + "]" * DEEP),
    ("requirements", "environment.yml", "[" * DEEP),
    ("setup-cfg", "setup.cfg", "[options]\ninstall_requires = " + "[" * DEEP),
    ("python", "setup.py", "setup(install_requires=" + "[" * DEEP + "]" * DEEP + ")"),
    ("python", "deep.py", "-" * DEEP + "1"),
    ("python", "deep.py", "(" * DEEP),
    ("notebook", "deep.ipynb", "[" * DEEP + "]" * DEEP),
    ("notebook", "deep.ipynb", '{"cells": [{"cell_type": "code", "source": "' + "-" * DEEP + '1"}]}'),
    ("json", "deep.json", '{"a":' * DEEP + "1" + "}" * DEEP),
    ("yaml", "deep.yml", "[" * DEEP + "]" * DEEP),
    ("gha-workflow", ".github/workflows/deep.yml", "- " * DEEP + "x"),
    ("gitlab-ci", ".gitlab-ci.yml", "".join(f".t{i}:\n  extends: .t{i + 1}\n  script: [x]\n" for i in range(2_000))),
    ("dockerfile", "Dockerfile", "FROM x\nRUN " + "$(" * DEEP),
    ("dockerfile", "Dockerfile", "FROM x\nENV A=" + "${A:-" * DEEP),
    # Balanced substitutions cost quadratic time in the shell walker (1,000: 0.3 s, 4,000: 3 s,
    # 100,000: minutes); the scan's per-file timeout bounds it. Kept shallow here.
    ("shell", "deep.sh", "$(" * 1_000 + ")" * 1_000),
    ("shell", "deep.sh", "$(" * DEEP),
    ("shell", "deep.sh", "sh -c '" * 3_000),
    ("terraform", "deep.tf", "a = " + "[" * 3_000 + "]" * 3_000 + "\n"),
    ("terraform", "deep.tf", "b {\n" * 3_000),
    ("terraform", "deep.tf.json", "[" * DEEP),
]


@pytest.mark.parametrize(("kind", "path", "text"), DEEP_CASES, ids=[f"{c[1]}-{i}" for i, c in enumerate(DEEP_CASES)])
def test_deep_nesting(kind: str, path: str, text: str) -> None:
    """Nesting far past the recursion limit is the parse-error notice or a tree (TOML,
    Pipfile.lock and notebook JSON raised RecursionError)."""
    doc = parsers.document(SourceFile(path, f"/nonexistent/{path}", kind, len(text)), text)
    exercise(doc)
    if kind == "terraform" and TERRAFORM is not None:
        attempt(lambda: TERRAFORM(doc))
