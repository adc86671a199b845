"""Differential benchmark against Checkov's own labeled Terraform test fixtures.

    PYTHONPATH=src .venv/bin/python benchmarks/peer_fixtures.py GIT_DIR [--verbose] [--keep DIR]

GIT_DIR is a (bare) git directory of https://github.com/bridgecrewio/checkov. For every
Checkov id named in docs/terraform-checkov-map.md the script reads, at HEAD of GIT_DIR:

- a Python resource check (`checkov/terraform/checks/resource/<provider>/<Name>.py`) and its
  test `tests/terraform/checks/resource/<provider>/test_<Name>.py`, which either scans an
  `example_<Name>/` folder and lists `passing_resources` / `failing_resources`, or embeds one
  HCL resource per test method with `CheckResult.FAILED` / `PASSED`;
- a graph check (`checkov/terraform/checks/graph_checks/<provider>/<Name>.yaml`) and its
  folder `tests/terraform/graph/checks/resources/<Name>/` with `expected.yaml`.

The fixtures are written to a temporary folder (never into the project), scanned with the
atlascan CLI, and each labeled resource is judged by the findings of the atlascan rules the
map names for that id that fall inside the resource's block (a folded finding's other sites
included): a failing resource counts as found when one does, a passing one as silent when
none does. Ids the map names without a rule ("Not covered yet") count as missed. Test methods whose
configuration is a Python dict (Checkov's parsed form) are written back as HCL for the
check's first resource type; those that cannot be are counted as not materialised.

Authors' labels, not ours: the figures are only as good as Checkov's fixtures.
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import subprocess
import sys
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MAP = ROOT / "docs" / "terraform-checkov-map.md"
ID_RE = re.compile(r"\bCKV2?_[A-Z0-9]+_\d+\b")
BLOCK_RE = re.compile(r'^\s*(?:resource|data)\s+"([^"]+)"\s+"([^"]+)"')
TOP_RE = re.compile(r"^(resource|data|module|variable|locals|output|provider|terraform)\b")


@dataclass
class Case:
    check: str
    key: str  # "type.name", unique within `folder`
    folder: str  # relative folder of the materialised fixture
    failing: bool


@dataclass
class Check:
    id: str
    rules: set[str] = field(default_factory=set)
    cases: list[Case] = field(default_factory=list)
    skipped: int = 0  # labeled cases that are Python dicts, not HCL
    source: str = ""


def git(git_dir: str, *args: str) -> str:
    return subprocess.run(
        ["git", "--git-dir", git_dir, *args], check=True, capture_output=True, text=True
    ).stdout


def read_map() -> dict[str, set[str]]:
    """Checkov id -> atlascan rules of the table row(s) naming it (empty: not covered)."""
    ids: dict[str, set[str]] = defaultdict(set)
    for line in MAP.read_text(encoding="utf-8").splitlines():
        found = ID_RE.findall(line)
        rule = re.match(r"\|\s*(ATS-[A-Z0-9]+-\d+)\s*\|", line)
        for cid in found:
            if rule:
                ids[cid].add(rule.group(1))
            else:
                ids.setdefault(cid, set())
        # "CKV_AWS_286-290" ranges in prose
        for prefix, lo, hi in re.findall(r"\b(CKV2?_[A-Z0-9]+_)(\d+)-(\d+)\b", line):
            for n in range(int(lo), int(hi) + 1):
                ids.setdefault(f"{prefix}{n}", set())
    return ids


def index_checks(git_dir: str) -> tuple[dict[str, str], dict[str, str]]:
    """Checkov id -> python check path, and id -> graph check yaml path."""
    py: dict[str, str] = {}
    out = git(git_dir, "grep", "-n", "-E", r'id\s*=\s*"CKV', "HEAD", "--", "checkov/terraform/checks/resource")
    for line in out.splitlines():
        path = line.split(":", 2)[1]
        m = re.search(r'"(CKV2?_[A-Z0-9]+_\d+)"', line)
        if m:
            py.setdefault(m.group(1), path)
    graph: dict[str, str] = {}
    out = git(git_dir, "grep", "-n", "-E", r"^\s*id:", "HEAD", "--", "checkov/terraform/checks/graph_checks")
    for line in out.splitlines():
        path = line.split(":", 2)[1]
        m = re.search(r"(CKV2?_[A-Z0-9]+_\d+)", line)
        if m:
            graph.setdefault(m.group(1), path)
    return py, graph


_TESTS: dict[str, str] = {}


def tests_by_module(git_dir: str) -> dict[str, str]:
    """`provider.CheckModule` -> the test file importing its `check` (names may differ)."""
    if not _TESTS:
        pattern = r"checkov\.terraform\.checks\.resource\.[a-z_]+\.[A-Za-z0-9_]+ import check"
        out = git(git_dir, "grep", "-o", "-E", pattern, "HEAD", "--", "tests/terraform/checks/resource")
        for line in out.splitlines():
            _, path, match = line.split(":", 2)
            module = match.split()[0].split("resource.", 1)[1]
            _TESTS.setdefault(module, path)
    return _TESTS


def _names(node: ast.AST) -> set[str]:
    if isinstance(node, (ast.Set, ast.List, ast.Tuple)):
        return {e.value for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)}
    if isinstance(node, ast.Call) and node.args:  # set([...])
        return _names(node.args[0])
    return set()


def _resource_keys(hcl: str) -> list[str]:
    return [f"{m.group(1)}.{m.group(2)}" for line in hcl.splitlines() if (m := BLOCK_RE.match(line))]


def materialise(git_dir: str, check: Check, py: str | None, graph: str | None, out: Path) -> None:
    if graph:
        name = Path(graph).stem
        base = f"tests/terraform/graph/checks/resources/{name}/"
        listing = git(git_dir, "ls-tree", "-r", "--name-only", "HEAD", base).splitlines()
        if not listing:
            return
        check.source = base
        expected: dict[str, list[str]] = {"pass": [], "fail": []}
        current = None
        for line in git(git_dir, "show", f"HEAD:{base}expected.yaml").splitlines():
            head = re.match(r"^(pass|fail|evaluated_keys)\s*:", line)
            if head:
                current = head.group(1)
                continue
            item = re.match(r'^\s*-\s*"?([^"\s]+)"?', line)
            if item and current in expected:
                expected[current].append(item.group(1))
        folder = f"{check.id}/graph"
        for path in listing:
            if path.endswith((".tf", ".tfvars", ".tf.json")):
                dest = out / folder / path[len(base):]
                dest.parent.mkdir(parents=True, exist_ok=True)
                dest.write_text(git(git_dir, "show", f"HEAD:{path}"), encoding="utf-8")
        for key in expected["fail"]:
            check.cases.append(Case(check.id, key, folder, True))
        for key in expected["pass"]:
            check.cases.append(Case(check.id, key, folder, False))
        return
    if not py:
        return
    provider, name = Path(py).parent.name, Path(py).stem
    test = tests_by_module(git_dir).get(f"{provider}.{name}", f"tests/terraform/checks/resource/{provider}/test_{name}.py")
    try:
        source = git(git_dir, "show", f"HEAD:{test}")
    except subprocess.CalledProcessError:
        return
    check.source = test
    tree = ast.parse(source)
    passing: set[str] = set()
    failing: set[str] = set()
    example = None
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            target = node.targets[0].id
            if target == "passing_resources":
                passing |= _names(node.value)
            elif target == "failing_resources":
                failing |= _names(node.value)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.startswith("example_"):
            example = example or node.value
    if failing or passing:
        example = example or f"example_{name}"
        base = f"tests/terraform/checks/resource/{provider}/{example}/"
        folder = f"{check.id}/example"
        for path in git(git_dir, "ls-tree", "-r", "--name-only", "HEAD", base).splitlines():
            if path.endswith((".tf", ".tfvars", ".tf.json")):
                dest = out / folder / path[len(base):]
                dest.parent.mkdir(parents=True, exist_ok=True)
                dest.write_text(git(git_dir, "show", f"HEAD:{path}"), encoding="utf-8")
        check.cases += [Case(check.id, k, folder, True) for k in sorted(failing)]
        check.cases += [Case(check.id, k, folder, False) for k in sorted(passing)]
        return
    # one configuration per test method
    for fn in ast.walk(tree):
        if not isinstance(fn, ast.FunctionDef) or not fn.name.startswith("test"):
            continue
        text = ast.get_source_segment(source, fn) or ""
        if "CheckResult.FAILED" in text:
            failed = True
        elif "CheckResult.PASSED" in text:
            failed = False
        else:
            continue
        hcl = [
            n.value for n in ast.walk(fn)
            if isinstance(n, ast.Constant) and isinstance(n.value, str) and 'resource "' in n.value
        ]
        if not hcl:
            conf = _dict_conf(fn)
            # `scan_entity_conf(conf, entity_type="...")` names the resource type the test means
            entity = re.search(r"entity_type\s*=\s*['\"]([a-z0-9_]+)['\"]", text)
            rtype = entity.group(1) if entity else _first_resource_type(git_dir, py)
            if conf is None or rtype is None:
                check.skipped += 1
                continue
            hcl = [f'resource "{rtype}" "{fn.name}" {{\n{_to_hcl(conf, 1)}}}']
        folder = f"{check.id}/{fn.name}"
        dest = out / folder / "main.tf"
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text("\n".join(h.strip("\n") for h in hcl) + "\n", encoding="utf-8")
        keys = _resource_keys(dest.read_text(encoding="utf-8"))
        if keys:
            check.cases.append(Case(check.id, keys[0], folder, failed))


def _dict_conf(fn: ast.FunctionDef) -> dict | None:
    """The literal `conf = {...}` / `resource_conf = {...}` a test method passes to the check."""
    for node in ast.walk(fn):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Dict):
            try:
                value = ast.literal_eval(node.value)
            except ValueError:
                continue
            if isinstance(value, dict):
                return value
    return None


def _first_resource_type(git_dir: str, py: str) -> str | None:
    m = re.search(r"supported_resources\s*=\s*[\[\(]\s*['\"]([a-z0-9_]+)['\"]", git(git_dir, "show", f"HEAD:{py}"))
    return m.group(1) if m else None


def _literal(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(_literal(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(str(k))} = {_literal(v)}" for k, v in value.items()) + "}"
    return json.dumps(str(value))


def _to_hcl(conf: dict, depth: int) -> str:
    """Checkov's parsed form (every value wrapped in a list, blocks as lists of dicts) back
    to HCL."""
    pad = "  " * depth
    out = ""
    for key, value in conf.items():
        items = value if isinstance(value, list) else [value]
        document = any(isinstance(i, dict) and any(str(k)[:1].isupper() for k in i) for i in items)
        if items and all(isinstance(i, dict) for i in items) and not document:  # nested blocks
            for item in items:
                out += f"{pad}{key} {{\n{_to_hcl(item, depth + 1)}{pad}}}\n"
        else:
            out += f"{pad}{key} = {_literal(items[0] if len(items) == 1 else items)}\n"
    return out


def blocks(path: Path) -> dict[str, list[tuple[int, int]]]:
    """`type.name` -> (first line, last line) of each resource block, 1-based (a few fixtures
    repeat a block under the same name: every copy is the resource's)."""
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    spans: dict[str, list[tuple[int, int]]] = {}
    starts = [i for i, line in enumerate(lines) if TOP_RE.match(line.lstrip()) and (line[:1].strip() or BLOCK_RE.match(line))]
    for n, i in enumerate(starts):
        m = BLOCK_RE.match(lines[i])
        if m:
            end = starts[n + 1] if n + 1 < len(starts) else len(lines)
            spans.setdefault(f"{m.group(1)}.{m.group(2)}", []).append((i + 1, end))
    return spans


def scan(folder: Path) -> list[dict]:
    cmd = [sys.executable, "-m", "atlascan", "scan", str(folder), "--format", "json", "--fail-on", "critical",
           "--select", "ATS-TF,ATS-K8S", "--no-ignore-files", "--include-vendored", "--include-tests", "--include-docs"]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=folder)
    return json.loads(proc.stdout)["findings"] if proc.stdout.strip() else []


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("git_dir")
    parser.add_argument("--verbose", "-v", action="store_true", help="list every missed or noisy case")
    parser.add_argument("--keep", help="materialise into this folder and keep it")
    args = parser.parse_args()

    mapping = read_map()
    py, graph = index_checks(args.git_dir)
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="atlascan-peer-"))
    work.mkdir(parents=True, exist_ok=True)
    checks: list[Check] = []
    for cid in sorted(mapping):
        check = Check(cid, mapping[cid])
        materialise(args.git_dir, check, py.get(cid), graph.get(cid), work)
        checks.append(check)

    findings = scan(work)
    by_file: dict[Path, list[dict]] = defaultdict(list)
    for f in findings:
        by_file[(work / f["path"]).resolve()].append(f)
        # Its related locations: a folded rule's other sites ("also here"), the bucket a
        # split `aws_s3_bucket_acl`/`_policy` opens.
        for r in f.get("related", []):
            by_file[(work / r["path"]).resolve()].append({**f, "line": r["line"]})

    span_cache: dict[Path, dict[str, list[tuple[int, int]]]] = {}
    found = failing = silent = passing = skipped = 0
    rows = []
    for check in checks:
        f_ok = f_all = p_ok = p_all = 0
        for case in check.cases:
            hits = []
            for path in sorted((work / case.folder).rglob("*.tf")):
                spans = span_cache.setdefault(path, blocks(path))
                # `type.name["k"]`: one instance of a count / for_each block; a finding that
                # names instances must name this one
                key, _, index = case.key.partition("[")
                if key not in spans:
                    continue
                hits += [
                    f for f in by_file.get(path.resolve(), [])
                    if any(lo <= f["line"] <= hi for lo, hi in spans[key]) and f["rule_id"] in check.rules
                    and (not index or "(instance " not in f["message"] or index.rstrip("]") in f["message"])
                ]
            if case.failing:
                f_all += 1
                f_ok += bool(hits)
                if not hits and args.verbose:
                    print(f"  MISS  {check.id:14} {case.folder}: {case.key}")
            else:
                p_all += 1
                p_ok += not hits
                if hits and args.verbose:
                    print(f"  NOISE {check.id:14} {case.folder}: {case.key} ({', '.join(sorted({h['rule_id'] for h in hits}))})")
        found, failing, silent, passing = found + f_ok, failing + f_all, silent + p_ok, passing + p_all
        skipped += check.skipped
        rows.append((check.id, ",".join(sorted(check.rules)) or "-", f_ok, f_all, p_ok, p_all, check.skipped, check.source))

    print(f"{'Checkov id':14} {'atlascan':22} {'failing found':>14} {'passing silent':>15} {'dict':>5}")
    for cid, rules, f_ok, f_all, p_ok, p_all, sk, source in rows:
        note = "" if source else "  (no labeled fixtures)"
        print(f"{cid:14} {rules:22} {f_ok:>6} / {f_all:<6} {p_ok:>6} / {p_all:<7} {sk:>5}{note}")
    share = found / failing if failing else 0.0
    quiet = silent / passing if passing else 0.0
    print()
    print(f"Checkov failing resources reported natively: {found} / {failing} ({share:.0%})")
    print(f"Checkov passing resources left silent:       {silent} / {passing} ({quiet:.0%})")
    print(f"Test cases given as Python dicts, not materialised: {skipped}")
    if args.keep:
        print(f"fixtures kept in {work}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
