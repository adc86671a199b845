"""Terraform engine: parsing layer, module resolution and robustness.
Rule behaviour itself lives in fixtures/ATS-TF-*/."""

from __future__ import annotations

from pathlib import Path

import pytest

from atlascan import parsers
from atlascan.atlas import catalog
from atlascan.engines.terraform.module import UNKNOWN, Module
from atlascan.model import ParseError, Precision, Severity, SourceFile
from atlascan.parsers.terraform.syntax import Call, Expr, ParsedFile, Ref, Template
from atlascan.rules import default_rules
from scanning import located, scan_path, write_tree

TF_RULES = {rid: r for rid, r in default_rules().items() if rid.startswith("ATS-TF-")}


def _write(root: Path, files: dict[str, str | bytes]) -> Path:
    return write_tree(root, files)


def _scan(root: Path) -> tuple[set[tuple[str, str, int]], list[str]]:
    result = scan_path(root, select=["ATS-TF"])
    return {(f.rule_id, f.path, f.region.start_line) for f in result.findings}, [n.message for n in result.notices]


def _tree(tmp_path: Path, name: str, text: str) -> ParsedFile:
    tree: ParsedFile = parsers.document(SourceFile(name, str(tmp_path / name), "terraform", len(text)), text).tree
    return tree


def _module(tmp_path: Path, files: dict[str, str]) -> Module:
    _write(tmp_path, files)
    return Module(str(tmp_path), [_tree(tmp_path, name, text) for name, text in files.items()])


# ---- catalog ---------------------------------------------------------------------------
def test_every_listed_mitigation_is_linked_to_one_of_the_rule_techniques() -> None:
    cat = catalog()
    assert len(TF_RULES) >= 25
    for rule in TF_RULES.values():
        for mid in rule.atlas_mitigations:
            linked = set(cat.mitigations[mid].techniques)
            assert linked & set(rule.atlas_techniques), f"{rule.id}: {mid} is not linked to {rule.atlas_techniques}"
        if not rule.atlas_mitigations:
            assert rule.suggested_mitigations, f"{rule.id}: give suggested_mitigations"


def test_every_rule_names_its_checkov_peers_key() -> None:
    for rule in TF_RULES.values():
        assert "checkov" in rule.peers, rule.id


def test_registry_finds_every_terraform_rule_implemented() -> None:
    from atlascan import registry
    from atlascan.rules import load_rules

    assert [p for p in registry.problems(load_rules()) if "ATS-TF" in p or "terraform" in p] == []


def test_condition_rows_with_unknown_keys_are_rejected() -> None:
    from dataclasses import replace

    from atlascan.engines import load_engine

    engine = load_engine("terraform")
    rule = TF_RULES["ATS-TF-025"]
    assert engine.validate(rule) == []
    rows = [dict(rule.match["conditions"][0], unles=[{"attribute": "x"}]), {"resources": ["t"], "attribute": "a", "block": "b"}]
    problems = engine.validate(replace(rule, match={"conditions": rows, "ports": [{"from": 22, "service": "SSH"}]}))
    assert len(problems) == 3
    assert "unknown key `unles`" in problems[0] and "exactly one of" in problems[1] and "only for ATS-TF-024" in problems[2]
    ports = TF_RULES["ATS-TF-024"]
    assert engine.validate(ports) == []
    bad = replace(ports, match={"ports": [{"from": "22", "service": "SSH"}, {"from": 80}], "patterns": []})
    assert [p[:24] for p in engine.validate(bad)] == ["a `match.ports` row is {", "a `match.ports` row is {", "unknown matcher table `m"]
    levels = replace(ports, match={"ports": [{"from": 80, "service": "HTTP", "severity": "urgent"}, {"from": 81, "service": "x", "public_front": 1}]})
    assert len(engine.validate(levels)) == 2


# ---- parsing layer ---------------------------------------------------------------------
def test_unless_entries_are_checked_for_shape() -> None:
    from dataclasses import replace

    from atlascan.engines import load_engine

    rule = TF_RULES["ATS-TF-017"]
    rows = [dict(rule.match["conditions"][0], unless=[test]) for test in ({"granted": "allUsers"}, {"firewalled": "yes"})]
    assert load_engine("terraform").validate(replace(rule, match={"conditions": rows})) == [
        "match.conditions[0]: `read` and `granted` in `unless` are lists of names, not {'granted': 'allUsers'}",
        "match.conditions[1]: `firewalled` in `unless` is `true`, not {'firewalled': 'yes'}",
    ]


def test_values_are_normalised_once(tmp_path: Path) -> None:
    text = 'resource "aws_s3_bucket" "b" {\n  acl = "public-read"\n  n = -1\n  l = ["a", 2, true]\n  r = aws_kms_key.k.arn\n  e = "a\\"b"\n}\n'
    block = _tree(tmp_path, "m.tf", text).blocks[0]
    values = {k: a.value for k, a in block.attributes.items()}
    assert values == {"acl": "public-read", "n": -1, "l": ["a", 2, True], "r": Ref(("aws_kms_key", "k", "arn")), "e": 'a"b'}
    acl = block.attributes["acl"]
    assert (acl.line, acl.column, acl.end_line, acl.end_column) == (2, 3, 2, 22)
    assert (block.line, block.column, block.end_column) == (1, 1, 29)


def test_hcl_syntax_and_positions(tmp_path: Path) -> None:
    """Escapes, `$${`, heredocs, provider functions, negative literals and chains read into
    plain values; columns count characters (tree-sitter's are bytes)."""
    text = (
        'resource "aws_iam_policy" "p" {\n'
        '  s = "a\\tb\\"c\\u00e9 $${keep} %%{keep} ${var.env}"\n'
        '  h = <<-EOT\n'
        '    {"Resource": "${aws_s3_bucket.b.arn}/*"}\n'
        '    EOT\n'
        '  f = provider::aws::arn_parse(local.arns[0]).region\n'
        '  g = provider::aws::arn_parse(local.arns["k"])\n'
        '  n = [-1, - 2.5, !true, -(3)]\n'
        '  r = aws_s3_bucket.b[0].id\n'
        '  x = aws_s3_bucket.b[*].id\n'
        '  c = var.on ? "a" : "b" # why\n'
        '}\n'
        'tags = { "ü" = "ß", k = "v" }\n'
    )
    tree = _tree(tmp_path, "p.tf", text)
    attrs = tree.blocks[0].attributes
    assert {k: a.value for k, a in attrs.items()} == {
        "s": Template(('a\tb"cé ${keep} %{keep} ', Ref(("var", "env")))),
        "h": '{"Resource": "${aws_s3_bucket.b.arn}/*"}',
        "f": Expr('provider::aws::arn_parse(local.arns[0]).region'),
        "g": Call("provider::aws::arn_parse", (Ref(("local", "arns", "k")),)),
        "n": [-1, -2.5, False, -3],
        "r": Ref(("aws_s3_bucket", "b", 0, "id")),
        "x": Expr("aws_s3_bucket.b[*].id"),
        "c": Expr('var.on ? "a" : "b"'),
    }
    assert [(a.line, a.column, a.end_line, a.end_column) for a in (attrs["s"], attrs["h"], attrs["c"])] == [
        (2, 3, 2, 51), (3, 3, 5, 8), (11, 3, 11, 25),
    ]
    tags = tree.attributes["tags"]
    assert tags.value == {"ü": "ß", "k": "v"}
    assert (tags.line, tags.column, tags.end_line, tags.end_column) == (13, 1, 13, 30)  # 31 bytes
    assert (tree.blocks[0].end_column, tree.blocks[0].end_line) == (30, 12)
    with pytest.raises(ParseError, match=r"^Not valid HCL at line 2, column 14; skipped\.$"):
        _tree(tmp_path, "bad.tf", 'a = 1\nx = {"ü" = 1 = 2}\n')


def test_resolution_of_variables_tfvars_locals_and_templates(tmp_path: Path) -> None:
    module = _module(
        tmp_path,
        {
            "main.tf": 'variable "env" {\n  default = "dev"\n}\nvariable "open" {}\nlocals {\n  name = "ml-${var.env}"\n  a = local.b\n  b = local.a\n}\n',
            "terraform.tfvars": 'env = "prod"\n',
            "x.tfvars": 'open = "yes"\n',
            "y.tfvars": 'open = "no"\n',
        },
    )
    assert module.resolve(Ref(("local", "name"))) == "ml-prod"
    assert module.resolve(Ref(("var", "open"))) is UNKNOWN  # two var files disagree
    assert module.resolve(Ref(("local", "a"))) is UNKNOWN  # a cycle, not a hang
    assert module.resolve(Ref(("var", "missing"))) is UNKNOWN


def test_file_function_stays_inside_the_module(tmp_path: Path) -> None:
    (tmp_path / "secret.json").write_text("{}", encoding="utf-8")
    _write(tmp_path / "mod", {"p.json": "{}"})
    module = _module(tmp_path / "mod", {"main.tf": 'locals {\n  inside = file("p.json")\n  outside = file("../secret.json")\n}\n'})
    assert module.resolve(Ref(("local", "inside"))) == "{}"
    assert module.resolve(Ref(("local", "outside"))) is UNKNOWN


# ---- scanning behaviour ----------------------------------------------------------------
def test_unresolved_value_is_reported_at_low_precision_only(tmp_path: Path) -> None:
    _write(tmp_path, {"main.tf": 'resource "aws_sagemaker_notebook_instance" "nb" {\n  direct_internet_access = var.mode\n  subnet_id = var.subnet\n}\n'})
    result = scan_path(tmp_path, select=["ATS-TF-001", "ATS-TF-003"])
    assert [(f.rule_id, f.region.start_line, f.precision) for f in result.findings] == [("ATS-TF-001", 2, Precision.LOW)]


def test_a_broken_file_is_a_notice_and_the_rest_of_the_module_is_checked(tmp_path: Path) -> None:
    _write(tmp_path, {"bad.tf": 'resource "aws_ecr_repository" "x" {\n  name =\n', "good.tf": 'resource "aws_ecr_repository" "r" {\n  name = "r"\n}\n'})
    findings, notices = _scan(tmp_path)
    assert ("ATS-TF-020", "good.tf", 1) in findings
    assert any("Not valid HCL at line 2" in n for n in notices)


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (b'resource "aws_ecr_repository" "r" {\n  name = "\xff"\n}\n', "not valid UTF-8"),
        (('resource "aws_ecr_repository" "r" {\n  name = ' + "[" * 5000 + "]" * 5000 + "\n}\n").encode(), "too deeply nested"),
        (('resource "aws_ecr_repository" "r" {\n  name = "r"\n}\n' + "# pad\n" * 200_000).encode(), "over the analyzer's"),
    ],
    ids=["invalid-utf8", "deep-nesting", "huge"],
)
def test_hostile_input_gives_a_notice_not_a_traceback(tmp_path: Path, content: bytes, needle: str) -> None:
    _write(tmp_path, {"main.tf": content})
    findings, notices = _scan(tmp_path)
    assert findings == set()
    assert any(needle in n for n in notices), notices


def test_dynamic_blocks_for_each_and_unknown_blocks_do_not_crash(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "main.tf": (
                'resource "aws_security_group" "sg" {\n  for_each = toset(var.names)\n  name = each.key\n'
                '  dynamic "ingress" {\n    for_each = var.rules\n    content {\n      from_port = ingress.value.port\n'
                '      to_port = ingress.value.port\n      protocol = "tcp"\n      cidr_blocks = ingress.value.cidrs\n    }\n  }\n'
                '  dynamic "ingress" {\n    for_each = [1]\n    content {\n      from_port = 8888\n      to_port = 8888\n'
                '      protocol = "tcp"\n      cidr_blocks = ["0.0.0.0/0"]\n    }\n  }\n}\n'
                'whatever "x" { y = {for k, v in var.m : k => v if v != null} }\n'
            )
        },
    )
    findings, notices = _scan(tmp_path)
    assert findings == {("ATS-TF-024", "main.tf", 19)}
    assert not [n for n in notices if "Internal error" in n]


def test_open_port_severity_is_the_worst_service_opened(tmp_path: Path) -> None:
    rule = 'resource "aws_security_group_rule" "{name}" {{\n  type = "ingress"\n  from_port = {lo}\n  to_port = {hi}\n  protocol = "tcp"\n  cidr_blocks = ["0.0.0.0/0"]\n}}\n'
    text = "".join(rule.format(name=n, lo=lo, hi=hi) for n, lo, hi in [("http", 80, 80), ("ssh", 22, 22), ("both", 22, 80), ("jupyter", 80, 8888)])
    result = scan_path(_write(tmp_path, {"main.tf": text}), select=["ATS-TF-024"])
    assert [(line, severity) for _, line, _, _, severity in located(result, "ATS-TF-024")] == [
        (6, "low"), (13, "medium"), (20, "medium"), (27, "high")
    ]


def test_tf_json_is_checked_with_lines(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "main.tf.json": '{\n  "resource": {\n    "aws_sagemaker_notebook_instance": {\n      "nb": {\n        "name": "nb",\n'
            '        "direct_internet_access": "Enabled",\n        "root_access": "Disabled",\n'
            '        "subnet_id": "${aws_subnet.private.id}",\n        "kms_key_id": "${aws_kms_key.k.id}",\n'
            '        "instance_metadata_service_configuration": [{"minimum_instance_metadata_service_version": "2"}]\n      }\n    }\n  }\n}\n'
        },
    )
    findings, _ = _scan(tmp_path)
    assert findings == {("ATS-TF-001", "main.tf.json", 6)}


def test_module_without_relevant_resources_is_not_parsed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import atlascan.parsers.terraform as terraform_parser

    calls: list[str] = []
    monkeypatch.setattr(terraform_parser, "read_hcl", lambda doc: calls.append(doc.path))
    _write(tmp_path, {"main.tf": 'resource "aws_route53_zone" "z" {\n  name = "example.com"\n}\n'})
    findings, _ = _scan(tmp_path)
    assert findings == set() and calls == []


def test_scanning_one_file_reads_its_module_for_context_but_reports_only_that_file(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "main.tf": 'resource "aws_sagemaker_notebook_instance" "nb" {\n  subnet_id = "s"\n  direct_internet_access = var.mode\n}\n',
            "variables.tf": 'variable "mode" {\n  default = "Disabled"\n}\n',
            "terraform.tfvars": 'mode = "Enabled"\n',
            "other.tf": 'resource "aws_ecr_repository" "r" {\n  name = "r"\n}\n',
        },
    )
    result = scan_path(tmp_path / "main.tf", root=tmp_path, select=["ATS-TF-001", "ATS-TF-020"])
    assert [(f.rule_id, f.path, f.region.start_line, f.precision) for f in result.findings] == [
        ("ATS-TF-001", "main.tf", 3, Precision.HIGH)
    ]


def test_split_acl_names_its_bucket_as_related_location(tmp_path: Path) -> None:
    root = _write(tmp_path, {"main.tf": (
        'resource "aws_s3_bucket" "data" {\n  bucket = "acme-training-data"\n}\n\n'
        'resource "aws_s3_bucket_acl" "data" {\n  bucket = aws_s3_bucket.data.id\n  acl    = "public-read"\n}\n'
    )})
    result = scan_path(root)
    found = [f for f in result.findings if f.rule_id == "ATS-TF-012"]
    assert [f.region.start_line for f in found] == [7]
    assert [(r.region.start_line, r.message) for r in found[0].related] == [(1, "the bucket `aws_s3_bucket.data` this opens")]


def test_kubernetes_provider_pod_spec_reported_under_the_yaml_rules(tmp_path: Path) -> None:
    root = _write(tmp_path, {"pod.tf": (
        'resource "kubernetes_pod_v1" "trainer" {\n'
        '  metadata {\n    name = "trainer"\n  }\n'
        '  spec {\n    host_pid = true\n'
        '    container {\n      name  = "t"\n      image = "ghcr.io/acme/t:1.0.0"\n'
        '      security_context {\n        privileged = true\n      }\n    }\n  }\n}\n'
    )})
    result = scan_path(root, select=["ATS-K8S"])
    assert {(f.rule_id, f.region.start_line) for f in result.findings} == {("ATS-K8S-004", 6), ("ATS-K8S-001", 11)}


def test_local_module_instantiated_with_the_callers_inputs(tmp_path: Path) -> None:
    root = _write(tmp_path, {
        "modules/vol/main.tf": (
            'variable "encrypted" {\n  default = true\n}\n\n'
            'resource "aws_ebs_volume" "this" {\n  availability_zone = "us-east-1a"\n  encrypted = var.encrypted\n}\n'
        ),
        "main.tf": (
            'module "scratch" {\n  source    = "./modules/vol"\n  encrypted = false\n}\n\n'
            'module "data" {\n  source    = "./modules/vol"\n}\n\n'
            'module "remote" {\n  source  = "terraform-aws-modules/ebs/aws"\n  version = "1.0.0"\n}\n'
        ),
    })
    result = scan_path(root, select=["ATS-TF-031"])
    assert [(f.path, f.region.start_line) for f in result.findings] == [("main.tf", 3)]
    assert [(r.path, r.region.start_line) for r in result.findings[0].related] == [("modules/vol/main.tf", 7)]
    assert "module.scratch.aws_ebs_volume.this" in result.findings[0].message
    assert any("`remote`" in n.message and "does not fetch" in n.message for n in result.notices)


def test_for_each_over_an_empty_collection_creates_nothing(tmp_path: Path) -> None:
    root = _write(tmp_path, {"main.tf": (
        'resource "aws_ebs_volume" "none" {\n  for_each = {}\n  availability_zone = "us-east-1a"\n}\n\n'
        'resource "aws_ebs_volume" "some" {\n  for_each = toset(["a"])\n  availability_zone = "us-east-1a"\n}\n'
    )})
    found, _ = _scan(root)
    assert {(r, line) for r, _p, line in found if r == "ATS-TF-031"} == {("ATS-TF-031", 6)}


def test_data_service_policy_open_to_the_internet_is_critical() -> None:
    from conftest import FIXTURES

    result = scan_path(FIXTURES / "ATS-TF-023" / "data_services.tf", root=FIXTURES / "ATS-TF-023", select=["ATS-TF-023"])
    assert [(line, severity) for _, line, _, _, severity in located(result, "ATS-TF-023")] == [
        (14, "critical"),  # es:* to everyone, domain without vpc_options
        (37, "medium"),  # the same with an aws:SourceIp condition
        (70, "medium"),  # the same in a VPC
        (89, "critical"),  # sqs:* to everyone
        (104, "medium"),  # sqs:* limited by aws:SourceArn
        (120, "critical"),  # * on an SNS topic to everyone
    ]
    critical = [f.message for f in result.findings if f.region.start_line == 14]
    assert critical == [
        "IAM permissions of `data.aws_iam_policy_document.monitoring` are far broader than a pipeline needs: the policy allows"
        " `es:*` to Principal `*` with no Condition, so any principal on the internet may call the Elasticsearch domain"
        " `aws_elasticsearch_domain.monitoring` (no `vpc_options`: its endpoint is public)."
    ]


def test_a_public_acl_entry_is_graded_by_its_own_role(tmp_path: Path) -> None:
    acl = (
        'resource "google_storage_bucket_acl" "{name}" {{\n  bucket = "reports"\n'
        '  role_entity = ["OWNER:project-owners-1234", "{entry}"]\n}}\n'
    )
    files = {
        "read.tf": acl.format(name="read", entry="READER:allAuthenticatedUsers"),
        "write.tf": acl.format(name="write", entry="WRITER:allUsers"),
    }
    result = scan_path(_write(tmp_path, files), select=["ATS-TF-016"])
    assert {(f.path, f.severity) for f in result.findings} == {("read.tf", Severity.HIGH), ("write.tf", Severity.CRITICAL)}
