"""The python-hcl2 Lark parser, built once per user rather than once per process.

python-hcl2 builds its LALR tables from `hcl2.lark` on first use (~2.5 s) and tries to
cache them next to its own sources, which is usually read-only (site-packages, a system
venv), so every process would pay again. We build the same parser with the cache in the
user's cache directory. Lark's cache is a pickle, so the directory and file must belong to
this user and be writable by nobody else; otherwise we use no cache at all.
"""

from __future__ import annotations

import os
import stat
import sys
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lark import Lark

NO_CACHE_ENV = "ATLASCAN_NO_CACHE"
CACHE_DIR_ENV = "ATLASCAN_CACHE_DIR"


def cache_dir() -> Path | None:
    """The user's atlascan cache directory, or None when none is safe to use."""
    if os.environ.get(NO_CACHE_ENV):
        return None
    explicit = os.environ.get(CACHE_DIR_ENV)
    if explicit:
        base = Path(explicit)
    elif sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local") / "atlascan"
    else:
        xdg = os.environ.get("XDG_CACHE_HOME")
        base = (Path(xdg) if xdg else Path.home() / ".cache") / "atlascan"
    try:
        base.mkdir(mode=0o700, parents=True, exist_ok=True)
        return base if _private(base) else None
    except (OSError, RuntimeError):  # RuntimeError: no home directory
        return None


def _private(path: Path) -> bool:
    """Owned by us and not writable by group or others (we unpickle what is in there)."""
    st = path.stat()
    if hasattr(os, "getuid") and st.st_uid != os.getuid():
        return False
    return not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def cache_file() -> Path | None:
    directory = cache_dir()
    if directory is None:
        return None
    try:
        from importlib.metadata import version

        tag = f"hcl2-{version('python-hcl2')}-lark-{version('lark')}"
    except Exception:
        tag = "hcl2-unknown"
    return directory / f"{tag}-py{sys.version_info[0]}{sys.version_info[1]}.lark"


@cache
def hcl_parser() -> Lark:
    """The HCL2 LALR parser with positions; loaded from the user cache when possible."""
    from hcl2 import parser as hcl2_parser
    from hcl2.postlexer import PostLexer
    from lark import Lark

    def build(cache_path: str | bool) -> Lark:
        return Lark.open(
            "hcl2.lark",
            parser="lalr",
            cache=cache_path,
            rel_to=hcl2_parser.__file__,
            propagate_positions=True,
            postlex=PostLexer(),
        )

    target = cache_file()
    if target is None:
        return build(False)
    try:
        if target.exists():
            if not _private(target):
                return build(False)
            return build(str(target))  # Lark rebuilds and rewrites a stale or broken cache
        # Build into a private temporary name, then rename, so a concurrent scan never
        # reads a half-written cache.
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        parser = build(str(tmp))
        if tmp.exists():
            os.chmod(tmp, 0o600)
            os.replace(tmp, target)
        return parser
    except OSError:
        return build(False)
