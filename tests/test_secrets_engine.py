"""Secrets engine: what the context of a matched value says about it."""

from __future__ import annotations

import random
import string
from pathlib import Path

import pytest

from atlascan.model import Precision
from atlascan.pathclass import report_classes
from atlascan.secretpatterns import is_placeholder, spelled_in_words
from scanning import scan_path, write_tree


def _openai_shaped(body: str) -> str:
    """An OpenAI legacy key's shape (`sk-` 20 `T3BlbkFJ` 20), built so no literal sits here."""
    return "sk-" + body[:20] + "T3Blbk" + "FJ" + body[20:40]


SERVER = _openai_shaped("u8jzPde0IgxLd6GncfBAepfJBd0Kh8oOOL8dKLzd")
CLIENT = _openai_shaped("Hq7Lw2Zp9Xk4Tn6Rb1Vc8Md3Fs5Gy0Je2Pa7Ku4N")
SAMPLE = _openai_shaped("ocJ2isAjIhKtJ0RlgLKOmxgJTeKdNnFRIBXuDL7D")


def test_a_provider_shaped_key_given_to_a_self_hosted_servers_api_key_is_a_stand_in(tmp_path: Path) -> None:
    """aibrix's samples start `vllm serve ... --api-key <value>`: the token the server asks its
    clients for, in an OpenAI key's shape. It is marked low precision: held back in samples,
    kept (low precision) in product files. The same shape handed to a client's `--api-key`, in
    the same script as the server, is a provider key."""
    def manifest(key: str) -> str:
        return (
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: m\nspec:\n  template:\n    spec:\n      containers:\n"
            "        - name: vllm\n          image: vllm/vllm-openai@sha256:" + "a" * 64 + "\n"
            "          command:\n            - vllm\n            - serve\n            - /models/m\n"
            f'            - --api-key\n            - "{key}"\n'  # 16
        )

    script = f"vllm serve /models/m --api-key={SERVER} &\npython bench.py --backend vllm --api-key {CLIENT}\n"
    files = {"samples/vllm.yaml": manifest(SAMPLE), "deploy/vllm.yaml": manifest(SERVER), "deploy/serve.sh": script}
    result = scan_path(write_tree(tmp_path, files), select=["ATS-SEC-003"])
    found = sorted((f.path, f.region.start_line, f.precision) for f in result.findings)
    assert found == [
        ("deploy/serve.sh", 1, Precision.LOW),
        ("deploy/serve.sh", 2, Precision.HIGH),
        ("deploy/vllm.yaml", 16, Precision.LOW),
    ]
    assert [n.path for n in result.notices if "held back" in n.message] == ["samples/"]
    low = next(f for f in result.findings if f.path == "deploy/vllm.yaml")
    assert "given to a self-hosted model server's `--api-key`" in low.message
    assert SERVER not in low.message
    asked = scan_path(tmp_path, select=["ATS-SEC-003"], report_classes=report_classes(tests=True, docs=True))
    assert [(f.region.start_line, f.precision) for f in asked.findings if f.path == "samples/vllm.yaml"] == [(16, Precision.LOW)]


def test_a_password_for_a_host_reserved_for_examples_is_a_samples(tmp_path: Path) -> None:
    """unsloth's redaction test logs in to `db.example.invalid`: RFC 2606 and 6761 keep such
    names (`.invalid`, `.test`, `example.com`) from every real system, so nothing uses that
    password. A host beside them that can run keeps its finding, as does a look-alike name."""
    text = (
        "URLS = [\n"
        '    "postgres://dbuser:dbpass@db.example.invalid/app",\n'
        '    "https://admin:Wq9tZr4Lm7Pd@mlflow.example.com/api",\n'
        '    "redis://default:Rk3vN8qPzW@cache.staging.test:6379/0",\n'
        '    "postgres://dbuser:Vq8rLm2xTz@db.prod.acme.io/app",\n'  # 5
        '    "postgres://dbuser:Hn4wQ7sLpX@db.example.invalid.acme.io/app",\n'  # 6
        "]\n"
    )
    result = scan_path(write_tree(tmp_path, {"app/settings.py": text}), select=["ATS-SEC-008"])
    assert sorted((f.rule_id, f.path, f.region.start_line) for f in result.findings) == [
        ("ATS-SEC-008", "app/settings.py", 5),
        ("ATS-SEC-008", "app/settings.py", 6),
    ]


@pytest.mark.parametrize(
    "value",
    ["hf_staleTokenFromAnEarlierSession", "hf_ExpiredTokenForRotationTests", "sk-lf-InstrumentConstructTranscript"],
)
def test_a_token_body_of_words_is_a_stand_in(value: str) -> None:
    """unsloth's `_STALE_TOKEN`: camelCase English words behind a vendor's prefix."""
    assert spelled_in_words(value) and is_placeholder(value)


def _drawn(alphabet: str, n: int, seed: int) -> str:
    return "hf_" + "".join(random.Random(seed).choices(alphabet, k=n))


@pytest.mark.parametrize(
    "value",
    [
        *(_drawn(string.ascii_letters + string.digits, 34, seed) for seed in range(200)),
        *(_drawn(string.ascii_letters, 34, seed) for seed in range(200)),  # no digit drawn
        "hf_thisIsNotTheOne",  # words, shorter than a token
        "pw_correct-horse-battery-staple",  # a passphrase's words are a real password
        "hf_staleTokenFrom2024Session",  # a digit: not words alone
        "hf_sxrtTkmnFrqzBlwpRnkdSstn",  # no vowels: not words
    ],
)
def test_a_drawn_token_reads_as_no_words(value: str) -> None:
    assert not spelled_in_words(value)


def test_a_credential_shown_in_a_docstring_or_a_comment_is_documentation(tmp_path: Path) -> None:
    """mlrun's and clearml's `Example::` blocks and dvc's commented config example were judged
    FALSE as literal credentials: neither assigns anything. The same assignment in code is
    reported."""
    code = (
        "def create_project_secrets(project, secrets):\n"
        '    """Store secrets.\n\n    Example::\n\n        secrets = {"password": "myPassw0rd-2024"}\n    """\n'
        "    return project\n\n"
        '# remote = {"user": "alice", "password": "asdf1234-zz9"}\n'
        'DB_PASSWORD = "Tr0ub4dor-and-3"\n'
    )
    found = scan_path(write_tree(tmp_path, {"api.py": code}), select=["ATS-SEC-010"]).findings
    assert [(f.rule_id, f.region.start_line) for f in found] == [("ATS-SEC-010", 11)]
