"""What a path is: product code, tests, docs and samples, generated output or vendored code.

Vendored and generated trees are skipped (one notice per tree; `--include-vendored` /
`--include-generated` scan them); in tests and docs, hardening and pinning findings are
reported at `info` (SARIF `note`); every finding carries its path's class as a property so
users can filter. The classes are configurable (`path-classes` in the configuration: extra
gitignore-style globs per class, checked before the built-in rules).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

PRODUCT = "product"
TESTS = "tests"
DOCS = "docs"
GENERATED = "generated"
VENDORED = "vendored"
CLASSES = (PRODUCT, TESTS, DOCS, GENERATED, VENDORED)

TEST_DIRS = frozenset({"test", "tests", "testing", "test_data", "testdata", "test-data", "__tests__", "fixtures", "e2e", "integration_tests", "unit_tests", "mocks", "mock-backend"})
DOC_DIRS = frozenset({"docs", "doc", "examples", "example", "samples", "sample", "tutorials", "tutorial", "demos", "demo", "notebooks", "how-to-use-azureml", "proposals"})
TEST_FILE = re.compile(r"(?:^test_.*\.py|.*_test\.(?:py|go)|conftest\.py|.*\.test\.[jt]sx?|.*_test\.ya?ml)$")
# A release folder of versioned install bundles (kserve's `install/v0.11.0/`, `releases/1.2/`).
RELEASE_DIR = re.compile(r"^v?\d+\.\d+(?:\.\d+)?(?:[-.]?(?:rc|alpha|beta)\.?\d*)?$")
RELEASE_PARENTS = frozenset({"install", "releases", "release", "dist"})


class PathClasses:
    """Built-in rules plus the user's globs (`{"generated": ["data/**"], ...}`)."""

    def __init__(self, extra: Mapping[str, Sequence[str]] | None = None) -> None:
        self._specs: list[tuple[str, Any]] = []
        if extra:
            import pathspec

            for name in (VENDORED, GENERATED, TESTS, DOCS, PRODUCT):
                globs = list(extra.get(name, ()))
                if globs:
                    self._specs.append((name, pathspec.GitIgnoreSpec.from_lines(globs)))

    def of_dir(self, rel_dir: str) -> str | None:
        """The class a whole folder has by its name alone (None: decided per file)."""
        for name, spec in self._specs:
            if name in (VENDORED, GENERATED) and spec.match_file(rel_dir + "/"):
                return name
        parts = rel_dir.split("/")
        for i in range(1, len(parts)):
            if parts[i - 1].lower() in RELEASE_PARENTS and RELEASE_DIR.match(parts[i]):
                return GENERATED
        return None

    def of_file(self, rel: str) -> str:
        for name, spec in self._specs:
            if spec.match_file(rel):
                return name
        parts = rel.lower().split("/")
        if any(p in TEST_DIRS for p in parts[:-1]) or TEST_FILE.match(parts[-1]):
            return TESTS
        if any(p in DOC_DIRS for p in parts[:-1]):
            return DOCS
        return PRODUCT


def validate(extra: Mapping[str, Any]) -> list[str]:
    """Problems with a configuration's `path-classes` table."""
    problems = []
    for name, globs in extra.items():
        if name not in CLASSES:
            problems.append(f"path-classes: unknown class {name!r} (one of {', '.join(CLASSES)})")
        elif not isinstance(globs, list) or not all(isinstance(g, str) for g in globs):
            problems.append(f"path-classes.{name}: a list of glob strings")
    return problems
