"""Scan one unsaved editor buffer exactly as `atlascan scan <workspace folder>` would see
that file: the folder's configuration, excludes, per-path ignores, baseline, severity
threshold and the buffer's own inline suppressions. Needs no pygls."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from atlascan.config import load
from atlascan.model import Finding, Limits, Notice, ScanResult
from atlascan.pathclass import report_classes
from atlascan.rules import Rule
from atlascan.scan import ScanOptions, run_scan
from atlascan.suppress import read_baseline

# What `# atlascan: ignore[...]` looks like in each kind (the comment lexers of the parse
# stage must read it back); JSON, notebooks and binary artifacts have no line comment.
_NO_COMMENT = frozenset({"json", "notebook", "artifact"})
_TEXT_COMMENTS = {".js": ("//", ""), ".ts": ("//", ""), ".go": ("//", ""), ".java": ("//", ""),
                  ".scala": ("//", ""), ".sql": ("--", ""), ".md": ("<!--", " -->"), ".xml": ("<!--", " -->")}  # fmt: skip


def comment_syntax(kind: str | None, path: str) -> tuple[str, str] | None:
    """(opening, closing) of a one-line comment in this file, or None where there is none."""
    if kind is None or kind in _NO_COMMENT or path.endswith(".rst"):
        return None
    if kind == "text":
        suffix = "." + path.rsplit(".", 1)[-1].lower() if "." in path else ""
        return _TEXT_COMMENTS.get(suffix, ("#", ""))
    return ("#", "")


@dataclass
class BufferAnalysis:
    """What one analysis of one buffer found: active findings of that file only."""

    path: str  # root-relative
    kind: str | None
    text: str
    findings: list[Finding]
    rules: dict[str, Rule]
    notices: list[Notice] = field(default_factory=list)
    duration_s: float = 0.0

    @property
    def failed(self) -> bool:
        """The buffer could not be analysed (a syntax error while typing, a timeout): the
        caller keeps what it showed before instead of clearing it."""
        return not self.findings and any(n.level in ("error", "warning") for n in self.notices)


def relative(file: Path, root: Path) -> str | None:
    try:
        return file.relative_to(root).as_posix()
    except ValueError:
        return None


def _context_files(file: Path, root: Path) -> list[Path]:
    """Files whose whole-scan facts change what a Python file's findings say: the dependency
    files (requirements, pyproject.toml, Dockerfiles: version pins) in its folder and every
    folder above it up to the root. A scan of the whole folder would see them all; reading
    the whole workspace on each keystroke would not be interactive."""
    from atlascan.engines.python import DEPENDENCY_KINDS
    from atlascan.kinds import classify

    if classify(file.name) not in ("python", "notebook"):
        return []
    out: list[Path] = []
    folder = file.parent
    while True:
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            entries = []
        for entry in entries:
            if entry.is_file(follow_symlinks=False) and classify(entry.name) in DEPENDENCY_KINDS:
                out.append(Path(entry.path))
        if folder == root or root not in folder.parents:
            return out
        folder = folder.parent


def analyse_buffer(file: Path, text: str, root: Path, time_budget_s: float = 10.0) -> BufferAnalysis | None:
    """Findings of `file` (inside `root`) with `text` in place of its content on disk, or
    None when the file is outside the root or not something atlascan reads. Raises
    ConfigError or BaselineError for a broken configuration, like the CLI."""
    rel = relative(file, root)
    if rel is None or not file.is_file():
        return None  # an untitled or not yet saved buffer: discovery needs the file
    started = time.perf_counter()
    # The workspace's configuration is held to what a repository's may say, as in the CLI.
    config = load(root, [root])
    baseline = None
    if config.baseline:
        baseline_path = Path(config.baseline)
        baseline = read_baseline(baseline_path if baseline_path.is_absolute() else root / baseline_path)
    options = ScanOptions(
        paths=[file, *_context_files(file, root)],
        root=root,
        select=config.select,
        ignore=config.ignore,
        exclude=config.exclude,
        per_path_ignores=config.per_path_ignores,
        use_ignore_files=config.respect_ignore_files,
        include_vendored=config.include_vendored,
        path_classes=config.path_classes,
        report_classes=report_classes(
            config.include_tests, config.include_docs, config.include_practice, config.include_unproven, config.include_pedantic
        ),
        force_exclude=True,  # excluded by the config: silent, as in a scan of the folder
        limits=Limits(
            max_text_bytes=config.max_file_size_kb * 1024,
            include_generated=config.include_generated,
            file_timeout_s=time_budget_s,
        ),
        inline_ignores=config.inline_ignores,
        baseline=baseline,
        severity_threshold=config.severity_threshold,
        jobs=1,
        engine_options=config.options,
        overrides={rel: text},
    )
    result: ScanResult = run_scan(options)
    mine = [f for f in result.active_findings if f.path == rel]
    kind = next((f.kind for f in result.files if f.path == rel), None)
    return BufferAnalysis(
        path=rel,
        kind=kind,
        text=text,
        findings=mine,
        rules=result.rules,
        notices=[n for n in result.notices if n.path == rel],
        duration_s=time.perf_counter() - started,
    )
