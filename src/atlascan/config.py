"""Project configuration: `[tool.atlascan]` in pyproject.toml or a `.atlascan.toml`.

The keys mirror the command-line flags. Configuration is data only: nothing in it names code
to import or run, so a hostile repository's config can at most change what is reported.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from atlascan.model import Severity

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


class ConfigError(ValueError):
    pass


@dataclass
class Config:
    select: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    per_path_ignores: dict[str, list[str]] = field(default_factory=dict)
    severity_threshold: Severity = Severity.INFO
    fail_on: Severity = Severity.LOW
    baseline: str | None = None
    respect_ignore_files: bool = True
    inline_ignores: bool = True
    include_vendored: bool = False
    include_generated: bool = False
    max_file_size_kb: int = 5 * 1024
    strict: bool = False
    jobs: int = 0
    options: dict[str, Any] = field(default_factory=dict)  # engine settings, e.g. artifact allowlists
    with_checkov: bool = False  # also run Checkov (a separate program) and merge its results
    checkov_bin: str | None = None
    checkov_timeout: int = 0  # seconds; 0: the integration's default
    checkov_frameworks: list[str] = field(default_factory=list)  # empty: the integration's default
    source: str | None = None


_LISTS = ("select", "ignore", "exclude", "checkov-frameworks")
_BOOLS = ("respect-ignore-files", "inline-ignores", "include-vendored", "include-generated", "strict", "with-checkov")
_INTS = ("max-file-size-kb", "jobs", "checkov-timeout")
_KNOWN = set(_LISTS) | set(_BOOLS) | set(_INTS) | {
    "severity-threshold", "fail-on", "baseline", "per-path-ignores", "options", "checkov-bin",
}  # fmt: skip


def find_config(root: Path) -> Path | None:
    for candidate in (root / ".atlascan.toml", root / "pyproject.toml"):
        if candidate.is_file():
            if candidate.name == "pyproject.toml" and b"[tool.atlascan" not in candidate.read_bytes():
                continue
            return candidate
    return None


def load_config(path: Path | None) -> Config:
    if path is None:
        return Config()
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: {exc}") from None
    if path.name == "pyproject.toml":
        data = data.get("tool", {}).get("atlascan", {})
    return parse_config(data, str(path))


def parse_config(data: dict[str, Any], source: str) -> Config:
    cfg = Config(source=source)
    unknown = set(data) - _KNOWN
    if unknown:
        raise ConfigError(f"{source}: unknown key(s) {', '.join(sorted(unknown))}; known: {', '.join(sorted(_KNOWN))}")
    for key in _LISTS:
        if key in data:
            value = data[key]
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ConfigError(f"{source}: `{key}` must be a list of strings")
            setattr(cfg, key.replace("-", "_"), list(value))
    for key in _BOOLS:
        if key in data:
            if not isinstance(data[key], bool):
                raise ConfigError(f"{source}: `{key}` must be true or false")
            setattr(cfg, key.replace("-", "_"), data[key])
    for key in _INTS:
        if key in data:
            if not isinstance(data[key], int) or data[key] < 0:
                raise ConfigError(f"{source}: `{key}` must be a non-negative whole number")
            setattr(cfg, key.replace("-", "_"), data[key])
    try:
        if "severity-threshold" in data:
            cfg.severity_threshold = Severity.parse(str(data["severity-threshold"]))
        if "fail-on" in data:
            cfg.fail_on = Severity.parse(str(data["fail-on"]))
    except ValueError as exc:
        raise ConfigError(f"{source}: {exc}") from None
    if "baseline" in data:
        if not isinstance(data["baseline"], str):
            raise ConfigError(f"{source}: `baseline` must be a path")
        cfg.baseline = data["baseline"]
    if "checkov-bin" in data:
        if not isinstance(data["checkov-bin"], str):
            raise ConfigError(f"{source}: `checkov-bin` must be a path")
        cfg.checkov_bin = data["checkov-bin"]
    ppi = data.get("per-path-ignores", {})
    if not isinstance(ppi, dict) or not all(
        isinstance(v, list) and all(isinstance(i, str) for i in v) for v in ppi.values()
    ):
        raise ConfigError(f'{source}: `per-path-ignores` maps globs to rule lists, e.g. "tests/**" = ["ATS-SEC"]')
    cfg.per_path_ignores = {str(k): list(v) for k, v in ppi.items()}
    options = data.get("options", {})
    if not isinstance(options, dict):
        raise ConfigError(f"{source}: `options` must be a table")
    cfg.options = options
    return cfg
