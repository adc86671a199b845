"""The manifests engine beyond the fixtures: exact regions, severities, masking, the
compose port grammar, and hostile or malformed input that must end in a notice."""

from __future__ import annotations

from pathlib import Path

import pytest

from atlascan.engines.manifests import audit_tools, common
from atlascan.engines.manifests.compose import _split_short_port
from atlascan.model import Finding, ScanResult, Severity
from atlascan.pathclass import report_classes
from scanning import located, pairs, scan_path, scan_text, write_tree

FAMILIES = ("ATS-K8S", "ATS-CMP", "ATS-MLF", "ATS-DVC")

POD = """apiVersion: v1
kind: Pod
metadata:
  name: p
spec:
  containers:
    - name: c
      image: busybox@sha256:9ae97d36d26566ff84e8893c64a6dc4fe8ca6d1144bf5b87b2b85a32def253c7
      securityContext:
        privileged: true
"""


def ours(result: ScanResult) -> list[Finding]:
    return [f for f in result.findings if f.rule_id.startswith(FAMILIES)]


def test_region_is_key_to_end_of_value(tmp_path: Path) -> None:
    result = scan_text(tmp_path, "pod.yaml", POD)
    (finding,) = ours(result)
    assert finding.rule_id == "ATS-K8S-001"
    region = finding.region
    assert (region.start_line, region.start_column, region.end_line, region.end_column) == (
        10,
        9,
        10,
        25,
    )


ESCALATING_PRIVILEGED = {
    "pod.yaml": (POD + "        allowPrivilegeEscalation: true\n", 10, 11),
    "pod.tf": (
        'resource "kubernetes_pod_v1" "p" {\n'
        "  spec {\n"
        "    container {\n"
        '      name  = "c"\n'
        '      image = "busybox:1.36"\n'
        "      security_context {\n"
        "        privileged                 = true\n"
        "        allow_privilege_escalation = true\n"
        "      }\n"
        "    }\n"
        "  }\n"
        "}\n",
        7,
        8,
    ),
}


@pytest.mark.parametrize("name", sorted(ESCALATING_PRIVILEGED))
def test_escalation_of_a_privileged_container_is_reported_once(tmp_path: Path, name: str) -> None:
    text, privileged, escalation = ESCALATING_PRIVILEGED[name]
    result = scan_text(tmp_path, name, text)
    assert pairs(result, "ATS-K8S-00") == {("ATS-K8S-001", privileged)}
    # The one finding names both lines to change.
    (finding,) = [f for f in result.findings if f.rule_id == "ATS-K8S-001"]
    assert "runs privileged and allows privilege escalation" in finding.message
    assert [r.region.start_line for r in finding.related] == [escalation]
    # Without ATS-K8S-001 in the scan, ATS-K8S-002 is the only word on it.
    result = scan_text(tmp_path, name, text, ignore=["ATS-K8S-001"])
    assert pairs(result, "ATS-K8S-00") == {("ATS-K8S-002", escalation)}
    result = scan_text(tmp_path, name, text, select=["ATS-K8S-002"])
    assert pairs(result) == {("ATS-K8S-002", escalation)}


def test_tekton_steps_and_sidecars_are_named_containers(tmp_path: Path) -> None:
    """A Tekton task's privileged sidecar `server` (llm-d's buildah builds): the finding
    names that container, not the pod. A Tekton step with an image is a container too;
    Argo's `steps` (lists of template references) are not."""
    text = (
        "apiVersion: tekton.dev/v1beta1\nkind: Task\nmetadata:\n  name: build\nspec:\n"
        "  steps:\n"
        "    - name: build-image\n      image: docker:24\n"
        "      securityContext:\n        privileged: true\n"  # 10
        "  sidecars:\n"
        "    - name: server\n      image: quay.io/buildah/stable:v1.37\n"
        "      securityContext:\n        privileged: true\n"  # 15
    )
    result = scan_text(tmp_path, "deploy/task.yaml", text, select=["ATS-K8S-001"])
    found = [(f.region.start_line, f.message.split(" runs")[0]) for f in result.findings]
    assert found == [(10, "Container `build-image`"), (15, "Container `server`")]


def test_multi_document_lines_are_file_lines(tmp_path: Path) -> None:
    text = "apiVersion: v1\nkind: ConfigMap\n---\n" + POD
    result = scan_text(tmp_path, "all.yaml", text)
    assert pairs(result, "ATS-K8S") == {("ATS-K8S-001", 13)}


def test_yaml_without_apiversion_is_not_parsed(tmp_path: Path) -> None:
    # Invalid YAML that cannot be a manifest gives no notice from this engine.
    result = scan_text(tmp_path, "notes.yaml", "a: [unclosed\nprivileged: true\n")
    assert not ours(result)
    assert not [n for n in result.notices if "manifests" in n.message]


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("apiVersion: v1\nkind: Pod\nspec: [unclosed\n", "Invalid YAML"),
        ("apiVersion: v1\nkind: Pod\nmetadata:\n  name: {{ .Values.name }}\n", "Helm"),
        ("apiVersion: v1\nkind: Pod\nspec: " + "[" * 5000 + "]" * 5000 + "\n", "nested"),
        (
            "apiVersion: v1\nkind: Pod\na: &a [x, x, x, x, x, x, x, x, x, x]\n"
            + "".join(
                f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n"
                for i in range(8)
            ),
            "alias",
        ),
    ],
    ids=["invalid", "helm", "deep", "alias-bomb"],
)
def test_hostile_yaml_gives_a_notice(tmp_path: Path, text: str, fragment: str) -> None:
    result = scan_text(tmp_path, "bad.yaml", text)
    assert not ours(result)
    messages = [n.message for n in result.notices if n.path == "bad.yaml"]
    assert any(fragment.lower() in m.lower() for m in messages), messages
    assert not any("Internal error" in m for m in messages), messages


def test_invalid_utf8_gives_a_notice(tmp_path: Path) -> None:
    (tmp_path / "docker-compose.yml").write_bytes(b"services:\n  a:\n    image: x\xff\xfe\n")
    result = scan_path(tmp_path)
    assert any("UTF-8" in n.message for n in result.notices)


def test_duplicate_keys_are_a_notice_and_the_last_value_wins(tmp_path: Path) -> None:
    text = POD.replace("privileged: true", "privileged: true\n        privileged: false")
    result = scan_text(tmp_path, "pod.yaml", text)
    assert not ours(result)
    assert any("Duplicate" in n.message for n in result.notices)


def test_malformed_dvc_config_lines_are_skipped(tmp_path: Path) -> None:
    text = "[core\n  = broken\n['remote \"s\"']\n    url = http://dvc.example.com/c\n\x0c garbage ===\n"
    result = scan_text(tmp_path, ".dvc/config", text)
    assert pairs(result, "ATS-DVC") == {("ATS-DVC-003", 4)}


def test_literal_env_value_is_masked(tmp_path: Path) -> None:
    secret = "Zq81vLt0Rr5kPw2mXy7"
    text = POD.replace(
        "      securityContext:\n        privileged: true\n",
        f"      env:\n        - name: DB_PASSWORD\n          value: {secret}\n",
    )
    result = scan_text(tmp_path, "pod.yaml", text)
    (finding,) = ours(result)
    assert finding.rule_id == "ATS-K8S-006"
    assert secret not in finding.snippet and secret not in finding.message



def test_env_names_count_when_a_credential_word_ends_them(tmp_path: Path) -> None:
    env = {"AUTH_TYPE": "oauth2", "SECRET_NAME": "model-store", "PWD": "Zq81vLt0Rr5kPw2m", "DB_PASS": "Zq81vLt0Rr5kPw2m"}
    entries = "".join(f"        - name: {k}\n          value: {v}\n" for k, v in env.items())
    text = POD.replace("      securityContext:\n        privileged: true\n", f"      env:\n{entries}")
    result = scan_text(tmp_path, "pod.yaml", text)
    assert [f.message.split()[2] for f in ours(result)] == ["DB_PASS"]

def test_ray_dashboard_is_reported_only_when_published(tmp_path: Path) -> None:
    head = """apiVersion: ray.io/v1
kind: RayCluster
metadata: {{name: r}}
spec:
  headGroupSpec:
    {extra}
    rayStartParams: {{dashboard-host: 0.0.0.0}}
    template: {{spec: {{containers: [{{name: h, image: "rayproject/ray@sha256:{digest}"}}]}}}}
"""
    digest = "1b2c3d4e5f60718293a4b5c6d7e8f90112233445566778899aabbccddeeff001"
    quiet = scan_text(
        tmp_path / "a", "r.yaml", head.format(extra="serviceType: ClusterIP", digest=digest)
    )
    loud = scan_text(
        tmp_path / "b", "r.yaml", head.format(extra="serviceType: LoadBalancer", digest=digest)
    )
    # KubeRay sets dashboard-host 0.0.0.0 where it is unset, and a ClusterIP head is reached
    # from inside the cluster only: neither the manifest nor the command-line rule speaks.
    assert [f.rule_id for f in quiet.findings if f.rule_id.startswith(("ATS-K8S", "ATS-CMD"))] == []
    unset = scan_text(tmp_path / "c", "r.yaml", head.format(extra="enableIngress: false", digest=digest))
    assert [f.rule_id for f in unset.findings if f.rule_id.startswith(("ATS-K8S", "ATS-CMD"))] == []
    # one finding: the published head is named in ATS-K8S-010, not reported again as 009
    (finding,) = [f for f in loud.findings if f.rule_id.startswith(("ATS-K8S", "ATS-CMD"))]
    assert (finding.rule_id, finding.severity.label) == ("ATS-K8S-010", "critical")
    assert [r.region.start_line for r in finding.related] == [6]
    for n, auth in enumerate(
        (
            "env: [{name: RAY_AUTH_MODE, value: token}]",
            "env: [{name: RAY_USE_TLS, value: '1'}]",
        )
    ):
        text = head.format(extra="serviceType: LoadBalancer", digest=digest)
        text = text.replace("h, image:", f"h, {auth}, image:")
        quiet = scan_text(tmp_path / f"auth{n}", "r.yaml", text)
        assert [f.rule_id for f in quiet.findings if f.rule_id.startswith(("ATS-K8S", "ATS-CMD"))] == []


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("8888:8888", ("", "8888", "8888")),
        ("127.0.0.1:8888:8888/tcp", ("127.0.0.1", "8888", "8888")),
        ("[::1]:6379:6379", ("[::1]", "6379", "6379")),
        ("8265", ("", None, "8265")),
        ("0.0.0.0:8000-8002:8000-8002", ("0.0.0.0", "8000-8002", "8000-8002")),
    ],
)
def test_compose_short_port_syntax(raw: str, expected: tuple[str, str | None, str]) -> None:
    assert _split_short_port(raw) == expected


@pytest.mark.parametrize(
    ("image", "ref"),
    [
        ("python:3.11", "tag 3.11"),
        ("ghcr.io/acme/x", "no tag (latest)"),
        ("localhost:5000/x", "no tag (latest)"),
        ("localhost:5000/x:latest", "the mutable tag latest"),
        ("x@sha256:" + "a" * 64, None),
        ("x:1@sha256:" + "a" * 64, None),
        ("${IMAGE}", None),
    ],
)
def test_unpinned_image(image: str, ref: str | None) -> None:
    assert common.unpinned_image(image) == ref


def test_host_paths() -> None:
    assert common.sensitive_host_path("/var/run/docker.sock")
    assert common.sensitive_host_path("/proc/sys")
    assert common.sensitive_host_path("/")
    assert common.sensitive_host_path("/mnt/data") is None
    assert common.sensitive_host_path("/etc/ssl/certs") is None


KUBE_BENCH_POD = """apiVersion: v1
kind: Pod
metadata:
  name: audit
spec:
  containers:
    - name: kube-bench
      image: aquasec/kube-bench:v0.15.6
      volumeMounts:
        - {name: kubelet, mountPath: /var/lib/kubelet, readOnly: true}
        - {name: up, mountPath: /host, readOnly: true}
  volumes:
    - {name: kubelet, hostPath: {path: /var/lib/kubelet/}}
    - {name: up, hostPath: {path: /var/lib/kubelet/../../..}}
"""


def test_audit_tool_path_climbing_out_of_a_documented_folder_is_reported(tmp_path: Path) -> None:
    # /var/lib/kubelet/../../.. is the node's root file system, not a folder below the kubelet's.
    result = scan_text(tmp_path, "pod.yaml", KUBE_BENCH_POD)
    assert located(result, "ATS-K8S-003") == [("ATS-K8S-003", 14, 29, 60, "high")]


def test_audit_tool_documents_folders_not_name_prefixes() -> None:
    (kube_bench,) = [t for t in audit_tools.tools() if t.name == "kube-bench"]
    assert kube_bench.documents("/var/lib/kubelet/config.yaml")
    assert not kube_bench.documents("/var/lib/kubelet-twin")
    assert not kube_bench.documents("/var/lib/kubelet/../..")


def test_non_manifest_yaml_is_never_parsed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from atlascan.parsers import yaml as parser

    def refuse(text: str) -> None:
        raise AssertionError("a YAML file without apiVersion was parsed")

    monkeypatch.setattr(parser, "parse", refuse)
    result = scan_text(tmp_path, "configs/train.yaml", "model:\n  privileged: true\n" * 5000)
    assert not ours(result)


def test_dvc_config_sections_with_and_without_outer_quotes(tmp_path: Path) -> None:
    text = (
        '[remote "a"]\n    ssl_verify = false\n'
        "['remote \"b\"']\n    use_ssl = 0\n"
        "[core]\n    ssl_verify = false\n"  # not a remote: not reported
    )
    result = scan_text(tmp_path, ".dvc/config", text)
    found = {(f.rule_id, f.region.start_line, f.message) for f in ours(result)}
    assert found == {
        (
            "ATS-DVC-002",
            2,
            'Remote "a" sets ssl_verify = false: data and models move without verified TLS.',
        ),
        (
            "ATS-DVC-002",
            4,
            'Remote "b" sets use_ssl = 0: data and models move without verified TLS.',
        ),
    }


def test_secret_object_counts_only_literals_no_other_rule_reports(tmp_path: Path) -> None:
    text = """apiVersion: v1
kind: Secret
metadata: {name: creds}
data:
  username: dHJhaW5lcg==
  placeholder: Y2hhbmdlbWU=
  ca.crt: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0t
"""
    result = scan_text(tmp_path, "secret.yaml", text)
    (finding,) = ours(result)
    assert (finding.rule_id, finding.region.start_line) == ("ATS-K8S-007", 4)
    assert "carries 1 value(s) under data" in finding.message


def test_kfp_ir_without_apiversion_is_a_manifest(tmp_path: Path) -> None:
    text = (
        "pipelineInfo: {name: p}\n"
        "deploymentSpec:\n  executors:\n    exec-a:\n      container:\n        image: python\n"
    )
    result = scan_text(tmp_path, "pipeline.yaml", text, report_classes=frozenset({"practice", "pedantic"}))
    assert pairs(result, "ATS-K8S") == {("ATS-K8S-008", 6)}


ODD_SHAPES = """apiVersion: v1
kind: Pod
metadata: null
spec:
  hostNetwork: [true]
  volumes: {a: b}
  containers:
    - null
    - name: [x]
      image: {repository: busybox}
      env: "A=B"
      ports: 8888
      securityContext: [privileged]
    - name: c
      securityContext: {capabilities: {add: "SYS_ADMIN"}, runAsUser: {x: 0}}
      env: [null, {name: [TOKEN], value: x}, {name: TOKEN, value: [x]}]
  initContainers: {name: y}
? [complex, key]
: value
---
apiVersion: v1
kind: Service
spec: [type, LoadBalancer]
---
apiVersion: v1
kind: Secret
data: [a, b]
stringData: "x"
---
apiVersion: ray.io/v1
kind: RayCluster
spec: {headGroupSpec: {rayStartParams: [dashboard-host], serviceType: [LoadBalancer]}}
---
- just
- a list
---
plain scalar
"""


def test_unexpected_shapes_never_crash(tmp_path: Path) -> None:
    result = scan_text(tmp_path, "odd.yaml", ODD_SHAPES)
    assert not [n for n in result.notices if "Internal error" in n.message], result.notices
    assert not ours(result)


def test_unexpected_compose_shapes_never_crash(tmp_path: Path) -> None:
    text = (
        "services:\n  a: null\n  b: [x]\n  c:\n    ports: {x: 1}\n    volumes: 5\n"
        "    cap_add: SYS_ADMIN\n    image: [x]\n    privileged: [true]\n  d:\n    ports: [[1], null, 'x:y:z:w']\n"
    )
    result = scan_text(tmp_path, "docker-compose.yml", text)
    assert not [n for n in result.notices if "Internal error" in n.message], result.notices
    assert not ours(result)


def test_registry_finds_every_manifests_rule_implemented() -> None:
    from atlascan import registry, rules

    problems = registry.problems(rules.load_rules())
    assert [p for p in problems if any(f"{f}-" in p for f in FAMILIES) or "'manifests'" in p] == []


def test_cluster_admin_for_a_service_account_is_critical(tmp_path: Path) -> None:
    binding = (
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: {kind}\nmetadata: {{name: x}}\n"
        "roleRef: {{kind: ClusterRole, name: {role}}}\nsubjects:\n  - {{kind: ServiceAccount, name: runner, namespace: ml}}\n"
    )
    from atlascan.model import Severity

    cases = {
        ("ClusterRoleBinding", "cluster-admin"): Severity.CRITICAL,
        ("RoleBinding", "cluster-admin"): Severity.HIGH,
        ("ClusterRoleBinding", "admin"): Severity.HIGH,
    }
    runner = "apiVersion: batch/v1\nkind: Job\nmetadata: {name: train}\nspec:\n  template:\n    spec:\n      serviceAccountName: runner\n"
    for (kind, role), severity in cases.items():
        files = {"rbac.yaml": binding.format(kind=kind, role=role), "job.yaml": runner}
        result = scan_path(write_tree(tmp_path / f"{kind}-{role}", files))
        found = [f for f in result.findings if f.rule_id == "ATS-K8S-016"]
        assert [f.severity for f in found] == [severity]
        assert "`ml/runner`" in found[0].message
    # No workload of the scan runs as the account: nothing shows a pod holding it.
    alone = scan_text(tmp_path / "alone", "rbac.yaml", binding.format(kind="ClusterRoleBinding", role="cluster-admin"))
    assert [f.severity for f in alone.findings if f.rule_id == "ATS-K8S-016"] == [Severity.HIGH]


def test_reading_secrets_is_graded_by_whose_role_it_is(tmp_path: Path) -> None:
    from atlascan.model import Severity

    role = (
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: {kind}\nmetadata: {{name: {name}}}\n"
        "rules:\n  - apiGroups: ['']\n    resources: [secrets]\n    verbs: [get]\n"
    )
    cases: dict[tuple[str, str], Severity | None] = {
        ("ClusterRole", "notebook-reader"): Severity.HIGH,
        ("Role", "pipeline-runner"): None,  # `get` alone in one namespace: named Secrets only
        # An operator's own role reads the Secrets it configures workloads with, by design.
        ("ClusterRole", "kserve-manager-role"): Severity.LOW,
        ("ClusterRole", "kuberay-operator"): Severity.LOW,
        ("ClusterRole", "localmodelnode-agent-role"): Severity.LOW,
    }
    practice_too = report_classes(tests=False, docs=False, practice=True)
    for (kind, name), severity in cases.items():
        result = scan_text(tmp_path / name, "rbac.yaml", role.format(kind=kind, name=name), report_classes=practice_too)
        assert [f.severity for f in result.findings if f.rule_id == "ATS-K8S-018"] == ([severity] if severity else []), name
    # By default an operator's role is what every operator does: one notice, not a finding.
    held = scan_text(tmp_path / "held", "rbac.yaml", role.format(kind="ClusterRole", name="kuberay-operator"))
    assert [f for f in held.findings if f.rule_id == "ATS-K8S-018"] == []
    assert [n.message for n in held.notices if n.message.startswith("ATS-K8S-018")] == [
        "ATS-K8S-018: 1 site held back as the repository's practice (an operator's own role, reading the Secrets it "
        "configures workloads with); --include-practice reports them."
    ]
    # `get` alone reads them by name, and the message says so.
    (getter,) = [f for f in scan_text(tmp_path / "getter", "rbac.yaml", role.format(kind="ClusterRole", name="reader")).findings if f.rule_id == "ATS-K8S-018"]
    assert "whoever holds it reads any credential stored there whose name it knows" in getter.message
    # A namespaced Role that can list them reads them all: those of its own namespace, where its
    # workload's credentials and certificates live (seldon's TLS roles, judged NOISE): practice.
    listing = role.format(kind="Role", name="pipeline-runner").replace("verbs: [get]", "verbs: [get, list]")
    assert [f for f in scan_text(tmp_path / "lister", "rbac.yaml", listing).findings if f.rule_id == "ATS-K8S-018"] == []
    asked = scan_text(tmp_path / "lister-asked", "rbac.yaml", listing, report_classes=practice_too)
    assert [f.severity for f in asked.findings if f.rule_id == "ATS-K8S-018"] == [Severity.MEDIUM]


NODE_AGENT_ROLE = """apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: kserve-localmodelnode-agent-role
rules:
  - apiGroups: [""]
    resources: [nodes, secrets]
    verbs: [get, list, watch]
"""
NODE_AGENT_BINDING = """apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: kserve-localmodelnode-agent-rolebinding
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: kserve-localmodelnode-agent-role}
subjects:
  - {kind: ServiceAccount, name: kserve-localmodelnode-agent, namespace: kserve}
"""
NODE_AGENT_WORKLOAD = """apiVersion: apps/v1
kind: {kind}
metadata:
  name: kserve-localmodelnode-agent
spec:
  template:
    spec:
      serviceAccountName: kserve-localmodelnode-agent
      containers:
        - name: manager
          image: kserve/kserve-localmodelnode-agent@sha256:{digest}
"""


@pytest.mark.parametrize(("workload", "severity"), [("DaemonSet", "HIGH"), ("Deployment", "LOW"), (None, "LOW")])
def test_a_node_agents_role_is_not_graded_as_a_controllers(tmp_path: Path, workload: str | None, severity: str) -> None:
    # The role, its binding and the workload in three folders, as in kserve's config/.
    files = {"rbac/role.yaml": NODE_AGENT_ROLE, "rbac/role_binding.yaml": NODE_AGENT_BINDING}
    if workload:
        files["agent/manager.yaml"] = NODE_AGENT_WORKLOAD.format(kind=workload, digest="a" * 64)
    # Held back as an operator's practice unless a DaemonSet holds it: asked for here.
    result = scan_path(write_tree(tmp_path, files), report_classes=report_classes(tests=False, docs=False, practice=True))
    (finding,) = [f for f in result.findings if f.rule_id == "ATS-K8S-018"]
    assert finding.severity.name == severity
    assert "grants `get`, `list` and `watch` on `secrets` cluster-wide" in finding.message


def test_reading_secrets_names_every_verb_granted(tmp_path: Path) -> None:
    role = (
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: llmisvc-controller-manager-role}\n"
        "rules:\n  - apiGroups: ['']\n    resources: [secrets]\n    verbs: [create, delete, get, list, patch, update, watch]\n"
    )
    practice_too = report_classes(tests=False, docs=False, practice=True)  # an operator's role
    (finding,) = [f for f in scan_text(tmp_path, "role.yaml", role, report_classes=practice_too).findings if f.rule_id == "ATS-K8S-018"]
    assert "grants `create`, `delete`, `get`, `list`, `patch`, `update` and `watch` on `secrets`" in finding.message


SECRET_ENV_POD = POD.replace(
    "      securityContext:\n        privileged: true\n",
    "      env:\n"
    "        - name: HF_TOKEN\n"
    "          valueFrom:\n"
    "            secretKeyRef: {name: hf, key: token}\n"
    "        - name: WANDB_API_KEY\n"
    "          valueFrom:\n"
    "            secretKeyRef: {name: wandb, key: key}\n",
)


def test_secret_env_folds_to_one_low_finding_for_the_repository(tmp_path: Path) -> None:
    write_tree(tmp_path, {"deploy/pod.yaml": SECRET_ENV_POD, "serve/pod.yaml": SECRET_ENV_POD})
    (finding,) = [f for f in ours(scan_path(tmp_path)) if f.rule_id == "ATS-K8S-020"]
    assert (finding.path, finding.region.start_line, finding.severity.name) == ("deploy/pod.yaml", 12, "LOW")
    assert [(r.path, r.region.start_line) for r in finding.related] == [("deploy/pod.yaml", 15), ("serve/pod.yaml", 12), ("serve/pod.yaml", 15)]
    assert "(and 3 more in this repository)" in finding.message


def test_secret_env_is_held_back_in_tests(tmp_path: Path) -> None:
    result = scan_text(tmp_path, "tests/e2e/pod.yaml", SECRET_ENV_POD)
    assert not [f for f in ours(result) if f.rule_id == "ATS-K8S-020"]


def test_secret_env_in_a_crd_schema_is_silent(tmp_path: Path) -> None:
    crd = """apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: rayclusters.ray.io
spec:
  versions:
    - name: v1
      schema:
        openAPIV3Schema:
          properties:
            containers:
              items:
                properties:
                  env:
                    items:
                      properties:
                        valueFrom:
                          properties:
                            secretKeyRef:
                              type: object
"""
    assert not pairs(scan_text(tmp_path, "crd.yaml", crd), "ATS-K8S-020")


@pytest.mark.parametrize(
    ("image", "repository"),
    [
        ("postgres:16", "postgres"),
        ("docker.io/library/postgres:16@sha256:" + "a" * 64, "postgres"),
        ("quay.io/minio/minio:RELEASE.2024-01-01T00-00-00Z", "minio/minio"),
        ("localhost:5000/bitnami/redis", "bitnami/redis"),
        ("ghcr.io/acme/llm-server:2.1.0", "acme/llm-server"),
    ],
)
def test_image_repository(image: str, repository: str) -> None:
    assert common.image_repository(image) == repository
    assert common.image_in("registry.acme.io/mirror/" + image.split("/")[-1], [repository.split("/")[-1]])


def _deployment(image: str) -> str:
    return (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\nspec:\n  template:\n"
        f"    spec:\n      containers:\n        - name: c\n          image: {image}\n"
    )


DIGEST = "@sha256:9ae97d36d26566ff84e8893c64a6dc4fe8ca6d1144bf5b87b2b85a32def253c7"


def test_tag_pins_as_the_repository_practice_are_held_back_latest_too(tmp_path: Path) -> None:
    # No manifest pins by digest: tags are the practice, `latest` and untagged images too
    # (a digest is the only protection against a moved tag), held back in one notice.
    files = {f"deploy/{n}.yaml": _deployment(f"ghcr.io/acme/{n}:1.2") for n in ("a", "b", "c")}
    files["deploy/d.yaml"] = _deployment("ghcr.io/acme/d:latest")
    files["deploy/e.yaml"] = _deployment("ghcr.io/acme/e")
    write_tree(tmp_path, files)
    result = scan_path(tmp_path)
    assert [f for f in result.findings if f.rule_id == "ATS-K8S-008"] == []
    assert [n.message for n in result.notices if "practice" in n.message] == [
        "ATS-K8S-008: 5 sites held back as the repository's practice (fewer than half of the manifests' image references "
        "are pinned by digest); --include-practice reports them."
    ]
    # Asked for, the practice is one finding for the repository, every other site related.
    asked = frozenset({"practice", "pedantic"})
    (finding,) = [f for f in scan_path(tmp_path, report_classes=asked).findings if f.rule_id == "ATS-K8S-008"]
    assert len(finding.related) == 4
    assert "(and 4 more in this repository)" in finding.message


def test_a_tag_where_digests_are_the_practice_stands_alone(tmp_path: Path) -> None:
    files = {f"deploy/{n}.yaml": _deployment(f"ghcr.io/acme/{n}{DIGEST}") for n in ("a", "b", "c")}
    files["deploy/d.yaml"] = _deployment("ghcr.io/acme/d:1.2")
    files["deploy/e.yaml"] = _deployment("ghcr.io/acme/e:1.2")
    write_tree(tmp_path, files)
    found = sorted((f.path, f.region.start_line, f.properties.get("folded")) for f in scan_path(tmp_path).findings if f.rule_id == "ATS-K8S-008")
    assert found == [("deploy/d.yaml", 10, None), ("deploy/e.yaml", 10, None)]


def test_compose_tags_as_the_repository_practice_are_held_back(tmp_path: Path) -> None:
    # aibrix's and h2ogpt's compose files pin no image by digest (judged NOISE: a digest pin
    # there is a nit): tags are their practice, counted apart from the manifests' own.
    compose = "services:\n  web:\n    image: node:18-alpine\n  envoy:\n    image: envoyproxy/envoy:v1.33.2\n  llm:\n    image: vllm/vllm-openai:latest\n"
    write_tree(tmp_path / "tags", {"docker-compose.yml": compose, "deploy/a.yaml": _deployment(f"ghcr.io/acme/a{DIGEST}")})
    result = scan_path(tmp_path / "tags", report_classes=frozenset())
    assert [f for f in result.findings if f.rule_id == "ATS-CMP-005"] == []
    assert [n.message.split(" (")[0] for n in result.notices if "ATS-CMP-005" in n.message] == [
        "ATS-CMP-005: 3 sites held back as the repository's practice"
    ]
    pinned = "services:\n" + "".join(f"  s{i}:\n    image: ghcr.io/acme/s{i}{DIGEST}\n" for i in range(3))
    write_tree(tmp_path / "digests", {"docker-compose.yml": compose, "pinned/docker-compose.yml": pinned})
    (found,) = [f for f in scan_path(tmp_path / "digests").findings if f.rule_id == "ATS-CMP-005"]
    assert (found.region.start_line, [r.region.start_line for r in found.related]) == (3, [5, 7])  # folded per file


def _wildcard_finding(tmp_path: Path, kind: str, rules: str):  # type: ignore[no-untyped-def]
    text = f"apiVersion: rbac.authorization.k8s.io/v1\nkind: {kind}\nmetadata: {{name: runner, namespace: kubeflow}}\nrules:\n{rules}"
    (finding,) = [f for f in scan_text(tmp_path, "role.yaml", text).findings if f.rule_id == "ATS-K8S-017"]
    return finding


def test_a_roles_wildcards_are_one_finding_at_the_widest_the_others_related(tmp_path: Path) -> None:
    # Every verb on pods/exec outranks every verb on one group's resource types.
    finding = _wildcard_finding(tmp_path / "a", "Role", (
        "  - apiGroups: ['']\n    resources: [pods, pods/exec]\n    verbs: ['*']\n"
        "  - apiGroups: [kubeflow.org]\n    resources: ['*']\n    verbs: ['*']\n"
    ))  # fmt: skip
    assert finding.region.start_line == 7
    assert [(r.region.start_line, r.message) for r in finding.related] == [
        (10, "Another rule of this Role grants `*` verbs: every action on every resource type of the listed API groups, "
             "current and future."),
    ]  # fmt: skip
    # A cluster-admin grant listed second leads.
    finding = _wildcard_finding(tmp_path / "b", "ClusterRole", (
        "  - apiGroups: [kubeflow.org]\n    resources: ['*']\n    verbs: [get, list]\n"
        "  - apiGroups: ['*']\n    resources: ['*']\n    verbs: ['*']\n"
    ))  # fmt: skip
    assert finding.region.start_line == 10 and "the rights of `cluster-admin`" in finding.message
    assert [r.region.start_line for r in finding.related] == [6]


def test_a_pods_host_namespaces_and_host_paths_are_one_finding_each(tmp_path: Path) -> None:
    # One pod sharing three host namespaces and mounting three host paths: two decisions to
    # undo, two findings, the other sites related; another pod's hostPID is its own finding.
    text = (
        "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: agent}\nspec:\n  template:\n    spec:\n"
        "      hostPID: true\n      hostIPC: true\n      hostNetwork: true\n"
        "      containers:\n        - name: a\n          image: acme/agent@sha256:" + "a" * 64 + "\n"
        "      volumes:\n"
        "        - name: lib\n          hostPath: {path: /var/lib}\n"
        "        - name: sock\n          hostPath: {path: /var/run/docker.sock}\n"
        "        - name: etc\n          hostPath: {path: /etc}\n"
        "---\napiVersion: v1\nkind: Pod\nmetadata: {name: b}\nspec:\n  hostPID: true\n"
        "  containers:\n    - name: b\n      image: acme/b@sha256:" + "b" * 64 + "\n"
    )
    result = scan_text(tmp_path, "agent.yaml", text)
    found = {(f.rule_id, f.region.start_line): sorted(r.region.start_line for r in f.related) for f in result.findings
             if f.rule_id in ("ATS-K8S-003", "ATS-K8S-004")}  # fmt: skip
    # the most severe mount leads (the runtime socket), the others related
    assert found == {("ATS-K8S-004", 7): [8, 9], ("ATS-K8S-003", 17): [15, 19], ("ATS-K8S-004", 25): []}
    lead = next(f for f in result.findings if (f.rule_id, f.region.start_line) == ("ATS-K8S-004", 7))
    assert lead.message.endswith("(and 2 more in this pod).")


def test_a_node_agents_integration_directories_are_held_back_as_practice(tmp_path: Path) -> None:
    # The NVIDIA device plugin's DaemonSet registers with the kubelet through its socket
    # directory: held back in one notice, reported when asked for; /proc beside it stays.
    text = (
        "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: nvidia-device-plugin}\nspec:\n  template:\n    spec:\n"
        "      containers:\n        - name: plugin\n          image: nvidia/k8s-device-plugin:1.11\n"
        "      volumes:\n"
        "        - name: device-plugin\n          hostPath: {path: /var/lib/kubelet/device-plugins}\n"
        "        - name: proc\n          hostPath: {path: /proc}\n"
    )
    result = scan_text(tmp_path, "ds.yaml", text, select=["ATS-K8S-003"])
    assert [(f.region.start_line, f.related) for f in result.findings] == [(14, [])]
    assert [n.message for n in result.notices if n.held_as == "practice"] == [
        "ATS-K8S-003: 1 site held back as the repository's practice (a node agent (DaemonSet) mounting the kubelet, CNI "
        "or mesh directory it plugs into the node through); --include-practice reports them."
    ]
    asked = scan_path(tmp_path, select=["ATS-K8S-003"], report_classes=frozenset({"practice"}))
    assert sorted((f.region.start_line, *(r.region.start_line for r in f.related)) for f in asked.findings) == [(12, 14)]


@pytest.mark.parametrize(
    ("path", "agent"),
    [
        ("/var/lib/kubelet/device-plugins", True),
        ("/var/lib/kubelet/pod-resources/kubelet.sock", True),
        ("/run/netns", True),
        ("/var/run/istio-cni/", True),
        ("/home/kubernetes/bin", True),
        ("/var/lib/kubelet", False),
        ("/var/lib/kubelet/device-plugins/../pods", False),
        ("/opt/cni", False),
        ("/var/run", False),
        ("/run/containerd/containerd.sock", False),
        ("opt/cni/bin", False),
    ],
)
def test_node_agent_paths(path: str, agent: bool) -> None:
    assert common.node_agent_path(path) is agent


def test_a_compose_service_that_only_starts_a_shell_publishes_nothing(tmp_path: Path) -> None:
    # LLaMA-Factory's NPU compose: `command: bash` merged from an anchor, the build from
    # another, the Dockerfile two folders up; ATS-CMP-001 alone selected (no ATS-DKR-003).
    compose = (
        "x-build: &build\n  dockerfile: ./docker/npu/Dockerfile\n  context: ../..\n"
        "x-common: &common\n  tty: true\n  stdin_open: true\n  command: bash\n"
        "services:\n"
        "  dev:\n    <<: *common\n    build:\n      <<: *build\n    ports:\n      - \"7860:7860\"\n"
        "  webui:\n    build:\n      <<: *build\n    command: llamafactory-cli webui\n    ports:\n      - \"7861:7860\"\n"
    )
    dockerfile = "FROM python:3.11-slim\nRUN pip install llamafactory==0.9.0\nEXPOSE 7860\n"
    write_tree(tmp_path, {"docker/npu/docker-compose.yml": compose, "docker/npu/Dockerfile": dockerfile})
    found = scan_path(tmp_path, select=["ATS-CMP-001"]).findings
    assert [(f.rule_id, f.path, f.region.start_line) for f in found] == [("ATS-CMP-001", "docker/npu/docker-compose.yml", 20)]


def test_latest_among_too_few_references_is_reported(tmp_path: Path) -> None:
    # Two image references are no practice for `latest`: it is reported; a version tag
    # beside it is still the tags' practice, held back.
    files = {"deploy/a.yaml": _deployment("ghcr.io/acme/a:latest"), "deploy/b.yaml": _deployment("ghcr.io/acme/b:1.2")}
    write_tree(tmp_path, files)
    result = scan_path(tmp_path)
    assert [(f.path, f.region.start_line) for f in result.findings if f.rule_id == "ATS-K8S-008"] == [("deploy/a.yaml", 10)]
    assert [n.held for n in result.notices if n.message.startswith("ATS-K8S-008")] == [1]


def test_a_sample_bucket_is_its_owners_own_in_any_repository_of_that_organisation(tmp_path: Path) -> None:
    """seldon-core's service-mesh samples serve gs://seldon-models with no go.mod above them:
    the repository itself is SeldonIO's, found from its README's links."""
    from atlascan.identity import owner_of

    model = "apiVersion: mlops.seldon.io/v1alpha1\nkind: Model\nmetadata:\n  name: iris\nspec:\n  storageUri: gs://seldon-models/mlserver/iris\n"
    readme = "# Seldon Core\nSee https://github.com/SeldonIO/seldon-core/issues.\n"
    owned = write_tree(tmp_path / "seldon-core", {"README.md": readme, "deploy/model.yaml": model})
    other = write_tree(tmp_path / "ml-platform", {"README.md": "# Our platform\n", "deploy/model.yaml": model})
    owner_of.cache_clear()
    assert [f.rule_id for f in scan_path(owned, select=["ATS-K8S-015"]).findings] == []
    assert [(f.path, f.region.start_line) for f in scan_path(other, select=["ATS-K8S-015"]).findings] == [("deploy/model.yaml", 6)]
    owner_of.cache_clear()


def test_a_persistent_volumes_host_path_is_named_by_the_object(tmp_path: Path) -> None:
    pv = "kind: PersistentVolume\napiVersion: v1\nmetadata:\n  name: vol\nspec:\n  hostPath:\n    path: /mnt/data\n"
    (found,) = scan_text(tmp_path, "pv.yaml", pv, select=["ATS-K8S-003"]).findings
    assert found.message == "Volume `vol` (a PersistentVolume) mounts the node's /mnt/data."


def test_a_runtime_socket_mount_is_high_in_compose_as_in_kubernetes(tmp_path: Path) -> None:
    # A mount widens what a compromise reaches; it shows no way in (critical needs proof).
    # determined's CI compose ran its agent on the Docker socket: critical there, high in a pod.
    compose = "services:\n  agent:\n    image: acme/agent@sha256:" + "a" * 64 + "\n    volumes:\n      - /var/run/docker.sock:/var/run/docker.sock\n      - /:/host\n"
    pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec:\n  containers:\n    - {name: a, image: x}\n  volumes:\n    - name: sock\n      hostPath: {path: /var/run/docker.sock}\n"
    write_tree(tmp_path, {"docker-compose.yml": compose, "pod.yaml": pod})
    found = {(f.rule_id, f.region.start_line): f.severity for f in scan_path(tmp_path).findings if f.rule_id in ("ATS-CMP-004", "ATS-K8S-003")}
    assert found == {("ATS-CMP-004", 5): Severity.HIGH, ("ATS-CMP-004", 6): Severity.HIGH, ("ATS-K8S-003", 9): Severity.HIGH}
