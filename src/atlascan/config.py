"""Configuration: `[tool.atlascan]` in pyproject.toml or a `.atlascan.toml` at the scan
root, a file named with `--config`, and the user's own `$XDG_CONFIG_HOME/atlascan/config.toml`.

The keys mirror the command-line flags. A file found inside the scanned tree was written by
whoever wrote the repository, so it may only narrow what is reported (`NARROWING`); a key that
starts a program, raises a resource limit or reads a file outside the tree counts only from
the command line, `--config` or the user's file outside the tree, and is otherwise ignored
with a notice. Keys added later are of the second kind unless listed in `NARROWING`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from atlascan import pathclass
from atlascan.model import Notice, Severity


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
    include_tests: bool = False  # report what tests hold back (see pathclass)
    include_docs: bool = False
    include_practice: bool = False  # report what follows the repository's own practice (pins, platform loads)
    include_unproven: bool = False  # report sinks with no outside input shown (see pathclass.UNPROVEN)
    include_pedantic: bool = False  # report the rules marked pedantic (see pathclass.PEDANTIC)
    path_classes: dict[str, list[str]] = field(default_factory=dict)  # class -> extra globs
    max_file_size_kb: int = 5 * 1024
    strict: bool = False
    jobs: int = 0
    options: dict[str, Any] = field(default_factory=dict)  # engine settings, e.g. artifact allowlists
    with_checkov: bool = False  # also run Checkov (a separate program) and merge its results
    checkov_bin: str | None = None
    checkov_timeout: int = 0  # seconds; 0: the integration's default
    checkov_frameworks: list[str] = field(default_factory=list)  # empty: the integration's default
    source: str | None = None
    notices: list[Notice] = field(default_factory=list)  # keys ignored, and why


_LISTS = ("select", "ignore", "exclude", "checkov-frameworks")
_BOOLS = (
    "respect-ignore-files", "inline-ignores", "include-vendored", "include-generated", "include-tests", "include-docs",
    "include-practice", "include-unproven", "include-pedantic", "strict", "with-checkov",
)  # fmt: skip
_INTS = ("max-file-size-kb", "jobs", "checkov-timeout")
_KNOWN = set(_LISTS) | set(_BOOLS) | set(_INTS) | {
    "severity-threshold", "fail-on", "baseline", "per-path-ignores", "path-classes", "options", "checkov-bin",
}  # fmt: skip


# What a file inside the scanned tree may set: choices of what to report, and switches the
# repository controls anyway (its own .gitignore files and ignore comments). `baseline` also,
# when it lies inside the tree. Engine `options` may only narrow (allowlists). What its own
# folders are (`path-classes`, `include-tests`, `include-docs`) and whether its own practice is
# reported (`include-practice`, `include-unproven`) is the repository's to say: it changes which
# findings of files scanned anyway are reported, never what is read or run; so is whether
# pedantic rules are (`include-pedantic`).
NARROWING = frozenset(
    {
        "select", "ignore", "exclude", "per-path-ignores", "severity-threshold", "fail-on",
        "strict", "inline-ignores", "respect-ignore-files", "options", "baseline",
        "path-classes", "include-tests", "include-docs", "include-practice", "include-unproven",
        "include-pedantic",
    }
)  # fmt: skip
_WHY = {
    "with-checkov": "it starts a program (Checkov)",
    "checkov-bin": "it names a program to run",
    "checkov-frameworks": "it chooses what Checkov runs",
    "checkov-timeout": "it lets a program run longer",
    "jobs": "it sets how many processes atlascan starts",
    "max-file-size-kb": "it raises a resource limit",
    "include-generated": "it raises a resource limit",
    "include-vendored": "it widens the scan to vendored folders",
    "baseline": "it reads a file outside the scanned folder",
}


_USER_CONFIG = "$XDG_CONFIG_HOME/atlascan/config.toml (default ~/.config)"


def user_config() -> Path:
    """The user's own file: `$XDG_CONFIG_HOME/atlascan/config.toml` (default ~/.config)."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "atlascan" / "config.toml"


def load(root: Path, tree: Sequence[Path], explicit: Path | None = None) -> Config:
    """The scan's configuration: the user's file, overridden key by key by the file named
    with `--config` or else the one found at the root. A file inside the scanned tree (`root`
    and `tree`, the scanned paths) is held to `NARROWING`, unless named with `--config`."""
    fences = [Path(os.path.realpath(p)) for p in (root, *tree)]
    notices: list[Notice] = []
    merged: dict[str, Any] = {}
    sources = []
    user = user_config()
    found = None if explicit else find_config(root)
    for path in (user if user.is_file() else None, explicit or found):
        if path is None:
            continue
        data = _read(path)
        parse_config(data, str(path))  # every key checked, even those ignored below
        # A file found at the root is the repository's even when it links elsewhere.
        inside = path == found or any(Path(p).is_relative_to(f) for p in (path.absolute(), os.path.realpath(path)) for f in fences)
        if inside and path != explicit:
            data = _narrowed(data, path, root, notices)
        merged.update(data)
        sources.append(str(path))
    cfg = parse_config(merged, ", ".join(sources))
    cfg.notices = notices
    return cfg


def _narrowed(data: dict[str, Any], path: Path, root: Path, notices: list[Notice]) -> dict[str, Any]:
    shown = _shown(path, root)
    kept = {}
    for key, value in data.items():
        if key in NARROWING and not (key == "baseline" and not _inside(root / str(value), root)):
            kept[key] = value
            continue
        why = _WHY.get(key, "only the command line or a file outside the scanned folder may set it")
        notices.append(Notice(
            shown,
            f"`{key}` in {shown} was ignored: that file lies inside the scanned folder and {why}. "
            f"Set it on the command line, in a file named with --config, or in {_USER_CONFIG}.",
            "warning",
        ))  # fmt: skip
    return kept


def _inside(path: Path, root: Path) -> bool:
    return Path(os.path.realpath(path)).is_relative_to(os.path.realpath(root))


def _shown(path: Path, root: Path) -> str:
    """The file as a scan-root relative path where it is one (notices speak of those)."""
    for given, base in ((path.absolute(), root.absolute()), (Path(os.path.realpath(path)), Path(os.path.realpath(root)))):
        if given.is_relative_to(base):
            return given.relative_to(base).as_posix()
    return str(path)


def find_config(root: Path) -> Path | None:
    for candidate in (root / ".atlascan.toml", root / "pyproject.toml"):
        if candidate.is_file():
            if candidate.name == "pyproject.toml" and b"[tool.atlascan" not in candidate.read_bytes():
                continue
            return candidate
    return None


MAX_CONFIG_BYTES = 1024 * 1024


def _read(path: Path) -> dict[str, Any]:
    """A configuration file as TOML data; anything else (not a regular file, too big, not
    UTF-8, nested too deeply to be a configuration) is a ConfigError, never a traceback."""
    # Imported here: most one-file runs (a pre-commit hook) find no configuration file.
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    try:
        if not path.is_file():
            raise ConfigError(f"{path}: not a regular file")
        with path.open("rb") as fh:
            raw = fh.read(MAX_CONFIG_BYTES + 1)
        if len(raw) > MAX_CONFIG_BYTES:
            raise ConfigError(f"{path}: over {MAX_CONFIG_BYTES >> 10} KiB, too large to be a configuration")
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except RecursionError:
        raise ConfigError(f"{path}: nested too deeply to be a configuration") from None
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: {exc}") from None
    if path.name == "pyproject.toml":
        section = data.get("tool", {}).get("atlascan", {})
        return section if isinstance(section, dict) else {}
    return data


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
    classes = data.get("path-classes", {})
    problems = pathclass.validate(classes) if isinstance(classes, dict) else ["`path-classes` must be a table"]
    if problems:
        raise ConfigError(f"{source}: {problems[0]}")
    cfg.path_classes = {str(k): list(v) for k, v in classes.items()}
    options = data.get("options", {})
    if not isinstance(options, dict):
        raise ConfigError(f"{source}: `options` must be a table")
    cfg.options = options
    return cfg
