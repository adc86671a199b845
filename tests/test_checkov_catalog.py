"""Nothing of Checkov's catalogue is left unclassified: every check id of the frameworks
atlascan runs Checkov for has a row in `checks/_checkov/mapping.toml`, mapped to MITRE ATLAS
or `outside-atlas` with a reason, and every row's ATLAS ids exist.

The catalogue comes from `checkov --list` of the Checkov that CI installs (the pinned version
in `$ATLASCAN_CHECKOV_VENV`, see .ci/run); without it the catalogue test skips with the reason.
"""

from __future__ import annotations

import os
import subprocess
from collections import defaultdict
from pathlib import Path

import pytest

from atlascan.atlas import catalog
from atlascan.integrations.checkov_mapping import default_mapping

CHECKOV_VERSION = "3.3.30"
# `checkov --list` IaC column -> Checkov framework name, for the frameworks issue 15 names.
FRAMEWORKS = {
    "Terraform": "terraform",
    "Kubernetes": "kubernetes",
    "dockerfile": "dockerfile",
    "github_actions": "github_actions",
    "gitlab_ci": "gitlab_ci",
    "secrets": "secrets",
}


def _checkov() -> Path:
    given = os.environ.get("ATLASCAN_CHECKOV_VENV")
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    venv = Path(given) if given else cache / "atlascan" / f"checkov-{CHECKOV_VERSION}"
    return venv / "bin" / "checkov"


def parse_list(text: str) -> dict[str, set[str]]:
    """Framework -> check ids, from the table `checkov --list` prints."""
    ids: dict[str, set[str]] = defaultdict(set)
    for line in text.splitlines():
        cells = [c.strip() for c in line.split("|")]
        if len(cells) < 8 or not cells[2].startswith("CKV"):
            continue
        framework = FRAMEWORKS.get(cells[6])
        if framework:
            ids[framework].add(cells[2])
    return ids


@pytest.fixture(scope="module")
def checkov_catalogue() -> dict[str, set[str]]:
    exe = _checkov()
    if not exe.is_file():
        pytest.skip(f"no Checkov at {exe} (set ATLASCAN_CHECKOV_VENV; .ci/run installs it)")
    env = {**os.environ, "BC_SKIP_MAPPING": "TRUE", "LOG_LEVEL": "ERROR"}
    for key in ("BC_API_KEY", "PRISMA_API_URL"):
        env.pop(key, None)
    done = subprocess.run(
        [str(exe), "--list", "--skip-download"],
        capture_output=True, text=True, timeout=300, env=env, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    ids = parse_list(done.stdout)
    if done.returncode != 0 or not ids:
        pytest.skip(f"`checkov --list` failed ({done.returncode}): {done.stderr[-300:]}")
    return ids


def test_parse_list_reads_the_iac_column() -> None:
    text = (
        "|      | Id     | Type     | Entity        | Policy        | IaC        | Resource Link |\n"
        "|    0 | CKV_AWS_20 | resource | aws_s3_bucket | Ensure public | Terraform  | https://x |\n"
        "|    1 | CKV_AWS_20 | resource | AWS::S3::Bucket | Ensure public | Cloudformation | x |\n"
        "|    2 | CKV_K8S_8 | PodSecurityPolicy | Pod | Liveness | Kubernetes | x |\n"
    )
    assert parse_list(text) == {"terraform": {"CKV_AWS_20"}, "kubernetes": {"CKV_K8S_8"}}


@pytest.mark.slow
def test_every_checkov_id_of_the_scanned_frameworks_has_a_row(
    checkov_catalogue: dict[str, set[str]],
) -> None:
    assert set(checkov_catalogue) == set(FRAMEWORKS.values()), checkov_catalogue.keys()
    table = default_mapping()
    missing = {
        framework: sorted(cid for cid in ids if table.family_of(cid) is None)
        for framework, ids in checkov_catalogue.items()
    }
    missing = {k: v for k, v in missing.items() if v}
    assert not missing, (
        "Checkov ids without a row in checks/_checkov/mapping.toml (add them to a family, "
        f"mapped to ATLAS or `outside-atlas`): {missing}"
    )


def test_every_row_names_real_atlas_ids_or_a_reason() -> None:
    table = default_mapping()
    cat = catalog()
    rows = list(table.exact) + [prefix + "*" for prefix, _ in table.prefixes]
    assert len(rows) > 1000
    for cid in rows:
        family = table.family_of(cid.rstrip("*") + ("X" if cid.endswith("*") else ""))
        assert family is not None, cid
        if family.outside_atlas:
            assert not family.techniques and not family.mitigations, (cid, family.key)
            continue
        assert family.techniques, (cid, family.key)
        unknown = [t for t in family.techniques if t not in cat.techniques]
        unknown += [m for m in family.mitigations if m not in cat.mitigations]
        assert not unknown, (cid, family.key, unknown)
