"""The Checkov → ATLAS mapping table (`checks/_checkov/mapping.toml`) and the Rule objects
that let Checkov results travel through atlascan's reports like native findings."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from atlascan.model import Precision, Severity
from atlascan.rules import Rule, RuleError, checks_dir

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

RULE_PREFIX = "checkov/"
ENGINE = "checkov"
# Checkov framework name -> atlascan kind, for rule `kinds` (SARIF tags) and inline ignores.
FRAMEWORK_KINDS = {
    "terraform": "terraform",
    "terraform_json": "terraform",
    "kubernetes": "yaml",
    "dockerfile": "dockerfile",
    "github_actions": "gha-workflow",
    "gitlab_ci": "gitlab-ci",
    "secrets": "*",
}
POLICY_INDEX = "https://www.checkov.io/5.Policy%20Index/all.html"


@dataclass(frozen=True)
class Family:
    """One group of Checkov ids that expose the same ML asset in the same way."""

    key: str
    severity: Severity
    precision: Precision
    techniques: tuple[str, ...]
    mitigations: tuple[str, ...]
    suggested: tuple[str, ...]
    why: str
    fix: str
    example: str = ""
    use_instead: str = ""
    ids: tuple[str, ...] = ()
    # Why no ATLAS technique applies (availability, cost, logging, ...); empty for families
    # mapped to ATLAS. Such findings keep a rule tagged `outside-atlas`, at info or low.
    outside_atlas: str = ""


@dataclass(frozen=True)
class MappingTable:
    families: dict[str, Family]
    exact: dict[str, str]  # Checkov id -> family key
    prefixes: tuple[tuple[str, str], ...]  # ("CKV_SECRET_", family key), longest first
    unmapped: Family
    min_version: tuple[int, ...]
    tested_version: str

    def family_of(self, check_id: str) -> Family | None:
        """The family that classifies a Checkov id (mapped to ATLAS or `outside-atlas`);
        None for an id the table does not know, which is reported with [unmapped] values."""
        key = self.exact.get(check_id)
        if key is None:
            key = next((k for prefix, k in self.prefixes if check_id.startswith(prefix)), None)
        return self.families[key] if key else None


def rule_id_for(check_id: str) -> str:
    return RULE_PREFIX + check_id


def parse_version(text: str) -> tuple[int, ...]:
    parts = []
    for piece in text.strip().split("."):
        digits = "".join(ch for ch in piece if ch.isdigit())
        if not digits:
            break
        parts.append(int(digits))
    return tuple(parts)


def _strings(value: Any, key: str, source: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise RuleError(f"{source}: `{key}` must be a list of strings")
    return tuple(value)


OUTSIDE_ATLAS_SEVERITIES = (Severity.INFO, Severity.LOW)


def _family(data: dict[str, Any], source: str) -> Family:
    try:
        fam = Family(
            key=str(data.get("key", "unmapped")),
            severity=Severity.parse(str(data["severity"])),
            precision=Precision.parse(str(data["precision"])),
            techniques=_strings(data.get("techniques"), "techniques", source),
            mitigations=_strings(data.get("mitigations"), "mitigations", source),
            suggested=_strings(data.get("suggested"), "suggested", source),
            why=str(data["why"]).strip(),
            fix=str(data["fix"]).strip(),
            example=str(data.get("example", "")).strip("\n"),
            use_instead=str(data.get("use_instead", "")).strip("\n"),
            ids=_strings(data.get("ids"), "ids", source),
            outside_atlas=" ".join(str(data.get("outside-atlas", "")).split()),
        )
    except KeyError as exc:
        raise RuleError(f"{source}: family {data.get('key', '?')!r} lacks {exc}") from None
    except ValueError as exc:
        raise RuleError(f"{source}: {exc}") from None
    if fam.outside_atlas and (fam.techniques or fam.mitigations):
        raise RuleError(f"{source}: family {fam.key!r} is `outside-atlas` but lists ATLAS ids")
    if fam.outside_atlas and fam.severity not in OUTSIDE_ATLAS_SEVERITIES:
        raise RuleError(f"{source}: `outside-atlas` family {fam.key!r} must be info or low")
    return fam


def load_mapping(path: Path | None = None) -> MappingTable:
    path = path or checks_dir() / "_checkov" / "mapping.toml"
    source = str(path)
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise RuleError(f"{source}: {exc}") from None
    families: dict[str, Family] = {}
    exact: dict[str, str] = {}
    prefixes: list[tuple[str, str]] = []
    for raw in data.get("family", []):
        fam = _family(raw, source)
        if not fam.techniques and not fam.outside_atlas:
            raise RuleError(
                f"{source}: family {fam.key!r} needs ATLAS `techniques` or an `outside-atlas` reason"
            )
        if fam.key in families:
            raise RuleError(f"{source}: duplicate family {fam.key!r}")
        families[fam.key] = fam
        for cid in fam.ids:
            if cid.endswith("*"):
                prefixes.append((cid[:-1], fam.key))
            elif cid in exact:
                raise RuleError(f"{source}: {cid} is in both {exact[cid]!r} and {fam.key!r}")
            else:
                exact[cid] = fam.key
    unmapped = _family({"key": "unmapped", **data.get("unmapped", {})}, source)
    return MappingTable(
        families=families,
        exact=exact,
        prefixes=tuple(sorted(prefixes, key=lambda p: -len(p[0]))),
        unmapped=unmapped,
        min_version=parse_version(str(data.get("min_checkov_version", "3.0.0"))),
        tested_version=str(data.get("tested_checkov_version", "")),
    )


@cache
def default_mapping() -> MappingTable:
    return load_mapping()


def _fenced(code: str, lang: str) -> str:
    return f"```{lang}\n{code}\n```"


def _lang(framework: str) -> str:
    return {"terraform": "hcl", "terraform_json": "json", "dockerfile": "dockerfile"}.get(
        framework, "yaml"
    )


def synthesize_rule(check_id: str, check_name: str, framework: str, table: MappingTable) -> Rule:
    """A Rule for one Checkov id: Checkov's name as title, atlascan's mapping for the rest."""
    family = table.family_of(check_id)
    fam = family or table.unmapped
    lang = _lang(framework)
    if family is None:
        mapped = " atlascan has not mapped this check to MITRE ATLAS yet."
    elif fam.outside_atlas:
        mapped = f" atlascan classifies it outside MITRE ATLAS: {fam.outside_atlas.rstrip('.')}."
    else:
        mapped = ""
    example = (
        _fenced(fam.example, lang)
        if fam.example
        else f"A resource that fails Checkov's `{check_id}`."
    )
    fixed = _fenced(fam.use_instead, lang) if fam.use_instead else ""
    guidance = "\n\n".join(
        [
            "## What it does",
            f"Reports Checkov check `{check_id}` ({check_name.rstrip('.')}), run by "
            f"`atlascan scan --with-checkov` as a second engine.{mapped}",
            "## Why it matters",
            fam.why,
            "## Example",
            example,
            "## Use instead",
            fam.fix + ("\n\n" + fixed if fixed else ""),
            "## References",
            f"- Checkov policy index: <{POLICY_INDEX}>",
        ]
    )
    kind = FRAMEWORK_KINDS.get(framework, "yaml" if framework else "*")
    return Rule(
        id=rule_id_for(check_id),
        name="checkov-" + check_id.lower().replace("_", "-"),
        title=check_name.rstrip(".") or check_id,
        severity=fam.severity,
        precision=fam.precision,
        engine=ENGINE,
        kinds=(kind,),
        message="Checkov {check_id} failed on `{resource}`: {check_name}",
        guidance=guidance + "\n",
        atlas_techniques=fam.techniques,
        atlas_mitigations=fam.mitigations,
        suggested_mitigations=fam.suggested,
        references=(POLICY_INDEX,),
        peers={"checkov": (check_id,)},
        match={"family": fam.key, "framework": framework}
        | ({"outside-atlas": fam.outside_atlas} if fam.outside_atlas else {}),
        source="checks/_checkov/mapping.toml",
    )
