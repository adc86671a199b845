"""Which pickle imports are safe, unknown or dangerous: the allow- and denylists are data in
`checks/artifacts/_allowlist.toml` and `_denylist.toml`, extended by the user's options."""

from __future__ import annotations

import enum
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from atlascan.rules import checks_dir

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


class Verdict(enum.Enum):
    SAFE = "safe"
    UNKNOWN = "unknown"
    DANGEROUS = "dangerous"
    # safe only as the wrapper of something itself allowed (functools.partial): the pickle
    # machine grades it at the call that says what it wraps
    WRAPPER = "wrapper"
    # safe when rebuilt without calling it (NEWOBJ, copyreg._reconstructor over object);
    # called with arguments it runs an __init__ that does real work
    INSTANCE = "instance"


# Module names that look like dunders but are ordinary: Python 2 builtins, the script a model
# class was defined in, TorchScript's compiled classes.
PLAIN_DUNDER_MODULES = frozenset({"__builtin__", "__main__", "__torch__"})


def _is_dunder(part: str) -> bool:
    return part.startswith("__") and part.endswith("__") and len(part) > 4


@dataclass(frozen=True)
class ImportPolicy:
    allow_shipped: frozenset[str]  # reviewed entries of _allowlist.toml: they win over deny modules
    allow_exact: frozenset[str]
    wrappers: frozenset[str]
    instances: frozenset[str]
    allow_modules: frozenset[str]
    deny_modules: frozenset[str]
    deny_names: frozenset[str]
    deny_builtins: frozenset[str]
    deny_components: frozenset[str]
    state_keys: frozenset[str] = frozenset()  # dunder BUILD keys that hold data only

    def verdict(self, module: str, name: str) -> Verdict:
        """Grade `module` + `name` as CPython's find_class would resolve it (protocol 4+
        walks a dotted name attribute by attribute, so every part counts)."""
        parts = name.split(".")
        if module in ("builtins", "__builtin__", "__builtins__") and parts[0] in self.deny_builtins:
            return Verdict.DANGEROUS
        qualified = f"{module}.{name}"
        # `pathlib` + `os.system`, `builtins` + `print.__self__.__import__`
        if len(parts) > 1 and any(p in self.deny_components or _is_dunder(p) for p in parts):
            return Verdict.DANGEROUS
        if module.split(".")[0] not in PLAIN_DUNDER_MODULES and any(_is_dunder(p) for p in module.split(".")):
            return Verdict.DANGEROUS
        # a reviewed value class inside a denied package (uuid.UUID, transformers' enums)
        if qualified in self.allow_shipped:
            return Verdict.SAFE
        if qualified in self.wrappers:
            return Verdict.WRAPPER
        if qualified in self.instances:
            return Verdict.INSTANCE
        # `torch` + `hub.load` reaches torch.hub just as `torch.hub` + `load` does
        if _under(qualified.rsplit(".", 1)[0], self.deny_modules) or _any_prefix(qualified, self.deny_names):
            return Verdict.DANGEROUS
        if qualified in self.allow_exact:
            return Verdict.SAFE
        if len(parts) == 1 and not _is_dunder(name) and _under(module, self.allow_modules):
            return Verdict.SAFE
        return Verdict.UNKNOWN


def _any_prefix(dotted: str, names: frozenset[str]) -> bool:
    """`dotted` or one of its dotted prefixes is in `names`."""
    while True:
        if dotted in names:
            return True
        cut = dotted.rfind(".")
        if cut < 0:
            return False
        dotted = dotted[:cut]


def _under(module: str, prefixes: frozenset[str]) -> bool:
    """`module` is one of `prefixes` or a submodule of one."""
    if module in prefixes:
        return True
    dot = module.find(".")
    while dot >= 0:
        if module[:dot] in prefixes:
            return True
        dot = module.find(".", dot + 1)
    return False


def _read(name: str) -> dict[str, Any]:
    path = checks_dir() / "artifacts" / name
    with path.open("rb") as fh:
        return tomllib.load(fh)


@cache
def _base() -> tuple[dict[str, Any], dict[str, Any]]:
    return _read("_allowlist.toml"), _read("_denylist.toml")


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


_POLICIES: dict[tuple[str, ...], ImportPolicy] = {}


def policy(options: Mapping[str, Any]) -> ImportPolicy:
    """The policy for this scan: shipped lists plus `options.artifacts.allow` entries
    ("pkg.mod.Class" exact, or "pkg.mod.*" for a module's plain names)."""
    section = options.get("artifacts") if isinstance(options, Mapping) else None
    extra = tuple(sorted(_strings(section.get("allow")))) if isinstance(section, Mapping) else ()
    if extra not in _POLICIES:
        allow, deny = _base()
        user_modules = [e[:-2] for e in extra if e.endswith(".*")]
        user_exact = [e for e in extra if not e.endswith(".*")]
        _POLICIES[extra] = ImportPolicy(
            allow_shipped=frozenset(_strings(allow.get("exact"))),
            allow_exact=frozenset(_strings(allow.get("exact")) + user_exact),
            wrappers=frozenset(_strings(allow.get("wrappers"))),
            instances=frozenset(_strings(allow.get("instances"))),
            allow_modules=frozenset(_strings(allow.get("modules")) + user_modules),
            deny_modules=frozenset(_strings(deny.get("modules"))),
            deny_names=frozenset(_strings(deny.get("names"))),
            deny_builtins=frozenset(_strings(deny.get("builtins"))),
            deny_components=frozenset(_strings(deny.get("components"))),
            state_keys=frozenset(_strings(allow.get("state_keys"))),
        )
    return _POLICIES[extra]
