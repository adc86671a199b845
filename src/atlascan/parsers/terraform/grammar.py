"""The python-hcl2 Lark parser, built once per user rather than once per process.

python-hcl2 builds its LALR tables from `hcl2.lark` on first use (~2.5 s) and would cache
them next to its own sources, which is usually read-only (site-packages, a system venv), so
every process would pay again. We build the same parser once and save it with `Lark.save`
in the user's cache directory, named by the hcl2, lark and Python versions and the
grammar's hash. A Lark save file is a pickle, so the directory and file must belong to this
user and be writable by nobody else; otherwise we use no cache at all. (Lark's own `cache=`
option is not used: it hashes the cache path into the key, so a write-then-rename would
never hit.)
"""

from __future__ import annotations

import contextlib
import hashlib
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

        from hcl2 import parser as hcl2_parser

        grammar_text = (Path(hcl2_parser.__file__).parent / "hcl2.lark").read_bytes()
        tag = f"hcl2-{version('python-hcl2')}-lark-{version('lark')}-{hashlib.sha256(grammar_text).hexdigest()[:12]}"
    except Exception:  # an unusual install: no cache rather than a stale one
        return None
    return directory / f"{tag}-py{sys.version_info[0]}{sys.version_info[1]}.lark"


@cache
def hcl_parser() -> Lark:
    """The HCL2 LALR parser with positions; loaded from the user cache when possible."""
    from hcl2 import parser as hcl2_parser
    from hcl2.postlexer import PostLexer
    from lark import Lark

    target = cache_file()
    if target is not None and target.is_file() and _private(target):
        try:
            with target.open("rb") as fh:
                return Lark.load(fh)  # the PostLexer and options are part of the save
        except Exception:  # a truncated or foreign file: rebuild and replace it
            pass
    parser = Lark.open(
        "hcl2.lark",
        parser="lalr",
        rel_to=hcl2_parser.__file__,
        propagate_positions=True,
        postlex=PostLexer(),
    )
    if target is not None:
        _save(parser, target)
    return parser


def _save(parser: Lark, target: Path) -> None:
    """Write to a private temporary name, then rename: a concurrent scan never reads half a file."""
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            parser.save(fh)
        os.replace(tmp, target)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink()
