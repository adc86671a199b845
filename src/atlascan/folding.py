"""The fold step: findings that are one change for a human become one finding, the other
sites related locations. Runs after grading and suppression, before the report."""

from __future__ import annotations

import re
from collections.abc import Mapping

from atlascan.model import Finding, RelatedLocation, Severity
from atlascan.pathclass import DOCS, RELEASE_DIR, TESTS
from atlascan.rules import Rule


def fold_all(findings: list[Finding], rules: Mapping[str, Rule], sizes: Mapping[str, int]) -> list[Finding]:
    """Every fold, in order: per hardening rule and file (or folder, or repository), a lock
    file's twin of its manifest's finding, the same finding said again in one file, copies of
    a file, a chart's copies of manifests, a line repeated across files."""
    findings = fold_said_again(fold_lock_twins(fold(findings, rules), rules), rules)
    findings = fold_chart_copies(fold_copies(findings, sizes))
    return fold_repeated_lines(findings, rules)


def fold(findings: list[Finding], rules: Mapping[str, Rule]) -> list[Finding]:
    """The fold step: one finding per (hardening rule, file) at its most severe site, every
    other site a related location and the count in the message; in tests and docs, one per
    (rule, folder) (a samples repository's 600 notebooks with the same unpinned install are
    one practice to change, not 600 findings); one per rule for the repository where the check
    marked the finding so (`foldScope`); and, for any rule, one per object the check marked
    (`foldObject`, `kind:line`: a pod sharing the node's PID, IPC and network namespaces is
    one decision to undo), or per object and folder where the check marked it so
    (`foldScope` "folder": one package pinned to a vulnerable release in the sibling
    requirements files of one folder is one upgrade), or per object for the repository
    (`foldScope` "repository": a training code base's object collectives are one decision
    about its process group's network). Suppressed findings stay apart."""
    groups: dict[tuple[str, str, str], list[Finding]] = {}  # (rule, where, scope words)
    out: list[Finding] = []
    for f in findings:
        rule = rules.get(f.rule_id)
        obj = f.properties.get("foldObject")
        if f.suppression is not None:
            out.append(f)
        elif isinstance(obj, str) and f.properties.get("foldScope") == "folder":
            folder = f.path.rsplit("/", 1)[0] + "/" if "/" in f.path else "./"
            groups.setdefault((f.rule_id, f"{folder}#{obj}", "this folder"), []).append(f)
        elif isinstance(obj, str) and f.properties.get("foldScope") == "repository":
            groups.setdefault((f.rule_id, f"#{obj}", "this repository"), []).append(f)
        elif isinstance(obj, str):
            groups.setdefault((f.rule_id, f"{f.path}#{obj}", f"this {obj.split(':', 1)[0]}"), []).append(f)
        elif rule is not None and rule.fold:
            if f.properties.get("foldScope") == "repository":
                key = (f.rule_id, "", "this repository")  # one practice of the whole repository
            elif f.properties.get("pathClass") in (TESTS, DOCS):
                key = (f.rule_id, f.path.rsplit("/", 1)[0] + "/" if "/" in f.path else "./", "this folder")
            else:
                key = (f.rule_id, f.path, "this file")
            groups.setdefault(key, []).append(f)
        else:
            out.append(f)
    for (_, _, scope), sites in groups.items():
        # The most severe site leads (the first of them, one the check kept at its grade
        # before others: `raisedBy`); the others follow in path order.
        sites.sort(key=Finding.sort_key)
        first = max(sites, key=lambda f: (f.severity, bool(f.properties.get("raisedBy"))))
        sites.remove(first)
        sites.insert(0, first)
        if len(sites) > 1:
            first.related = first.related + [RelatedLocation(f.path, f.region, f"also here: {f.message}") for f in sites[1:]]
            first.message = f"{first.message.rstrip('.')} (and {len(sites) - 1} more in {scope})."
            first.properties["folded"] = len(sites)
        out.append(first)
    return out


def fold_copies(findings: list[Finding], sizes: Mapping[str, int] | None = None) -> list[Finding]:
    """One finding for the same line of copies of a file: versioned copies (`Dockerfiles/1.0.10/`,
    `Dockerfiles/1.0.43/`), reported at the newest, and copies of one file in several folders
    (the same name and size, the same finding on the same line: a template's seed code),
    reported at the first. One change made in each copy; the others are related locations.
    Suppressed findings stay apart."""
    groups: dict[tuple[object, ...], list[Finding]] = {}
    out: list[Finding] = []
    for f in findings:
        if f.suppression is not None:
            out.append(f)
            continue
        parts = f.path.split("/")
        if any(RELEASE_DIR.match(p) for p in parts[:-1]):
            shape = "/".join("*" if RELEASE_DIR.match(p) else p for p in parts[:-1]) + "/" + parts[-1]
            key: tuple[object, ...] = ("versioned", f.rule_id, shape, f.region.start_line, f.snippet.strip())
        elif sizes is not None and f.path in sizes:
            # A message naming its own file (a model file's findings) names each copy apart.
            key = ("copy", f.rule_id, parts[-1], sizes[f.path], f.region.start_line, f.snippet.strip(), f.message.replace(f.path, "\0"))
        else:
            out.append(f)
            continue
        groups.setdefault(key, []).append(f)
    for key, copies in groups.items():
        if key[0] == "versioned":
            copies.sort(key=lambda f: _version_order(f.path))
            lead, others, what = copies[-1], copies[:-1], "older versioned cop"
        else:
            copies.sort(key=lambda f: f.path)
            lead, others, what = copies[0], copies[1:], "other cop"
        if others:
            lead.related = lead.related + [RelatedLocation(f.path, f.region, f"the same in this copy: {f.message}") for f in others]
            lead.message = f"{lead.message.rstrip('.')} (the same in {len(others)} {what}{'ies' if len(others) > 1 else 'y'} of this file)."
            lead.properties["copies"] = len(others) + 1
        out.append(lead)
    return out


# A Helm chart's `files/` folder holding manifests the chart templates in whole: release
# scripts copy them there from the kustomize tree (kserve's `charts/*/files/resources.yaml`).
CHART_FILES = re.compile(r"(?:^|/)charts/[^/]+/files/")


def fold_chart_copies(findings: list[Finding]) -> list[Finding]:
    """A finding in a chart's copied manifests (`CHART_FILES`) that is the same (rule,
    message, line) as one outside any chart is that one's copy: the fix is made at the source
    and copied over. It becomes a related location of the source's finding. Suppressed
    findings stay apart."""
    sources: dict[tuple[str, str, str], Finding] = {}
    for f in findings:
        if f.suppression is None and "charts/" not in f.path:
            sources.setdefault((f.rule_id, f.message, f.snippet.strip()), f)
    out: list[Finding] = []
    for f in findings:
        source = sources.get((f.rule_id, f.message, f.snippet.strip())) if f.suppression is None and CHART_FILES.search(f.path) else None
        if source is None:
            out.append(f)
            continue
        source.related = [*source.related, RelatedLocation(f.path, f.region, "the same in the chart's copy of this manifest")]
        source.properties["copies"] = int(source.properties.get("copies", 1)) + 1
    return out


# A line this long, the same in several files, was copied: `RUN curl -LsSf .../install.sh | sh`
# in nineteen Dockerfiles is one practice to change, not nineteen findings. Short lines
# (`- secrets`, `privileged: true`) say too little to tell copies from different objects,
# except for a hardening or pinning rule, whose message names what the line pins.
REPEATED_LINE_CHARS = 40
REPEATED_LINE_FILES = 3


def fold_repeated_lines(findings: list[Finding], rules: Mapping[str, Rule] | None = None) -> list[Finding]:
    """One finding for the same long line with the same message in several files, at the
    first of them, the others related locations; for a hardening or pinning rule (`fold`)
    any line, in two files or more, and a file's fold of that very line counts as one of
    them (`docker/login-action@v4` twice in one workflow and once in two others is one pin to
    change), at a branch too (promptflow's 84 generated workflows running one action at
    `main`: one pin, made once in their template). Other high and critical findings (each a
    way in to close where it stands), suppressed and otherwise folded ones stay apart."""
    groups: dict[tuple[str, str, str], list[Finding]] = {}
    out: list[Finding] = []
    for f in findings:
        line = f.snippet.strip()
        rule = rules.get(f.rule_id) if rules else None
        pin = rule is not None and rule.fold
        pins = _pins(rule)
        short = len(line) < REPEATED_LINE_CHARS and not pin
        message = (_same_pin_in_file(f) if pin else None) if f.related else f.message
        if f.suppression is not None or (f.severity >= Severity.HIGH and not pins) or short or "\n" in line or message is None:
            out.append(f)
            continue
        # A pin's message names what it pins (`docker/login-action` at `v4`): the key, whatever
        # else its line holds (`- uses:` or `uses:`, `FROM python:3.11-slim AS build`).
        groups.setdefault((f.rule_id, "" if pins else line, message), []).append(f)
    for (rule_id, _, message), sites in groups.items():
        if len({f.path for f in sites}) < (PINNED_LINE_FILES if _pins(rules.get(rule_id) if rules else None) else REPEATED_LINE_FILES):
            out.extend(sites)
            continue
        sites.sort(key=Finding.sort_key)
        lead = sites[0]
        related = [r for f in sites for r in ([] if f is lead else [RelatedLocation(f.path, f.region, f"the same line here: {message}")]) + f.related]
        lead.related = related
        lead.message = f"{message.rstrip('.')} (the same line in {len(related)} more place{'s' if len(related) > 1 else ''})."
        lead.properties["repeated"] = len(related) + 1
        lead.properties.pop("folded", None)
        out.append(lead)
    return out


# A pin (its message names the image or action and the ref) written in two files is already
# one practice to change; other folds need three files to tell a copy from a coincidence.
PINNED_LINE_FILES = 2
PINNING_CWES = frozenset({494, 829, 1104})  # download without integrity check, untrusted inclusion, unmaintained component
FOLDED_IN_FILE = re.compile(r" \(and \d+ more in this file\)\.$")


def _pins(rule: Rule | None) -> bool:
    """A pinning rule: its message names the image or action and the ref."""
    return rule is not None and rule.fold and rule.cwe in PINNING_CWES


def _same_pin_in_file(f: Finding) -> str | None:
    """The message of a file's fold whose every site says the same (one pin written twice
    in one file), without the count; None for a fold of different pins or of another scope."""
    base = FOLDED_IN_FILE.sub(".", f.message)
    if base == f.message or any(r.path != f.path or r.message != f"also here: {base}" for r in f.related):
        return None
    return base


def _version_order(path: str) -> list[tuple[int, int | str]]:
    """`1.0.9` before `1.0.10`: numbers compare as numbers."""
    return [(0, int(t)) if t.isdigit() else (1, t) for t in re.split(r"(\d+)", path) if t]


def _apart(f: Finding, rule: Rule | None) -> bool:
    """Findings that keep to themselves in the finer folds: suppressed or already folded
    ones, and credentials (each value is a rotation of its own)."""
    return (
        f.suppression is not None or bool(f.related) or rule is None or rule.fold
        or (rule.cwe == 798 and rule.id.startswith("ATS-SEC"))
    )  # fmt: skip


# A pin's local version label (`torch==2.7.0+cu128` in the lock for `torch==2.7.0` in the
# manifest): the same release, built for one accelerator.
LOCAL_VERSION = re.compile(r"(==[0-9][\w.!]*)\+[A-Za-z0-9.]+")
# Lock files that record what a manifest beside them asks for.
LOCK_FILES = frozenset({"uv.lock", "poetry.lock", "pdm.lock", "pipfile.lock", "requirements.lock", "pylock.toml"})


def fold_lock_twins(findings: list[Finding], rules: Mapping[str, Rule]) -> list[Finding]:
    """A lock file's finding that says the same as one in a manifest of the same folder
    (`torch==2.9.1` pinned in pyproject.toml and locked in uv.lock) is that finding's twin:
    the manifest's line is the one to change, the lock follows."""
    def locked(f: Finding, name: str) -> bool:  # a lock file, or requirements compiled like one
        return name.lower() in LOCK_FILES or bool(f.properties.get("compiled"))

    manifests: dict[tuple[str, str, str], Finding] = {}
    for f in findings:
        folder, _, name = f.path.rpartition("/")
        if not locked(f, name) and not _apart(f, rules.get(f.rule_id)):
            manifests.setdefault((f.rule_id, LOCAL_VERSION.sub(r"\1", f.message), folder), f)
    out: list[Finding] = []
    for f in sorted(findings, key=Finding.sort_key):
        folder, _, name = f.path.rpartition("/")
        key = (f.rule_id, LOCAL_VERSION.sub(r"\1", f.message), folder)
        if not locked(f, name) or f.suppression is not None or _apart(f, rules.get(f.rule_id)):
            out.append(f)
            continue
        # No manifest says it: the first lock or compiled file of the folder does, the others
        # (`requirements_cuda.txt`, `requirements_rocm.txt` from one pyproject) with it.
        twin = manifests.setdefault(key, f)
        if twin is f:
            out.append(f)
            continue
        twin.related = [*twin.related, RelatedLocation(f.path, f.region, f"the same in the lock file: {f.message}")]
    return out


def fold_said_again(findings: list[Finding], rules: Mapping[str, Rule]) -> list[Finding]:
    """The same message of one rule at several lines of one file (the same `--extra-index-url`
    on two install lines) is one finding at its first site, the others related. Findings
    with a suggested fix keep their own (each edit is applied where it stands)."""
    firsts: dict[tuple[str, str, str, Severity], Finding] = {}  # the same words at another grade stand apart
    again: dict[int, list[Finding]] = {}  # id() of a first site -> the sites that repeat it
    out: list[Finding] = []
    for f in sorted(findings, key=Finding.sort_key):
        if _apart(f, rules.get(f.rule_id)) or f.properties.get("fix"):
            out.append(f)
            continue
        first = firsts.setdefault((f.rule_id, f.path, f.message, f.severity), f)
        if first is f:
            out.append(f)
        else:
            again.setdefault(id(first), []).append(f)
    for f in out:
        repeats = again.get(id(f))
        if repeats:
            f.related = [RelatedLocation(r.path, r.region, f"also here: {r.message}") for r in repeats]
            f.message = f"{f.message.rstrip('.')} (and {len(repeats)} more in this file)."
            f.properties["folded"] = len(repeats) + 1
    return out
