"""Report renderers. Each module exposes `render(result, **options) -> str`."""

from __future__ import annotations

import importlib
from typing import Any

from atlascan.model import ScanResult

RENDERERS = {
    "text": "atlascan.report.text",
    "json": "atlascan.report.json_report",
    "sarif": "atlascan.report.sarif",
    "github": "atlascan.report.github",
    "html": "atlascan.report.html",
    "navigator": "atlascan.report.navigator",
    "gitlab-sast": "atlascan.report.gitlab_sast",
}


def render(fmt: str, result: ScanResult, **options: Any) -> str:
    module = importlib.import_module(RENDERERS[fmt])
    text: str = module.render(result, **options)
    return text
