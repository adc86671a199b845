"""The job model of a `.gitlab-ci.yml`: which top-level keys are jobs, and what each job
ends up with once `extends:` (and YAML anchors / `<<:` merges, already resolved by the YAML
layer) are applied. Values stay YAML nodes so every finding keeps its file position."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from atlascan.parsers.yaml import Mapping, Scalar, Sequence, YNode

# Top-level keys that configure the pipeline rather than name a job.
GLOBAL_KEYWORDS = frozenset(
    {"default", "include", "stages", "variables", "workflow", "image", "services", "cache",
     "before_script", "after_script", "types", "spec"}
)  # fmt: skip
SCRIPT_KEYS = ("before_script", "script", "after_script")
# Keys `default:` (and old top-level globals) hand to every job that lacks them.
DEFAULTABLE = frozenset({"image", "services", "cache", "before_script", "after_script", "artifacts", "tags", "id_tokens", "hooks"})
MAX_EXTENDS_DEPTH = 11  # GitLab's own limit


@dataclass
class Job:
    """A job with `extends:` applied: `keys` maps each effective key to (key node, value node)."""

    name: str
    node: Mapping
    name_node: YNode
    keys: dict[str, tuple[YNode, YNode]] = field(default_factory=dict)
    variables: dict[str, tuple[YNode, YNode]] = field(default_factory=dict)  # global < bases < job

    @property
    def hidden(self) -> bool:
        return self.name.startswith(".")

    def get(self, key: str) -> YNode | None:
        found = self.keys.get(key)
        return found[1] if found else None

    def key_node(self, key: str) -> YNode | None:
        found = self.keys.get(key)
        return found[0] if found else None


@dataclass
class Pipeline:
    root: Mapping
    jobs: list[Job]
    variables: dict[str, tuple[YNode, YNode]]


def pipeline(root: Mapping) -> Pipeline:
    """All jobs (hidden templates too) of one GitLab CI document."""
    global_vars = _variables(root.get("variables"))
    defaults: dict[str, tuple[YNode, YNode]] = {}
    for key in ("image", "services", "cache", "before_script", "after_script"):
        k, v = root.key_node(key), root.get(key)
        if k is not None and v is not None:
            defaults[key] = (k, v)
    default = root.get("default")
    if isinstance(default, Mapping):
        for key, k, v in default.entries():
            if key in DEFAULTABLE:
                defaults[key] = (k, v)
    templates = {name: v for name, _, v in root.entries() if isinstance(v, Mapping)}
    jobs = []
    for name, key_node, value in root.entries():
        if name in GLOBAL_KEYWORDS or not isinstance(value, Mapping):
            continue
        job = Job(name, value, key_node)
        chain = _extends_chain(name, templates)
        for source in chain:  # bases first, the job itself last
            for key, k, v in source.entries():
                if key == "variables":
                    job.variables.update(_variables(v))
                elif key != "extends":
                    job.keys[key] = (k, v)
        for key, pair in defaults.items():
            job.keys.setdefault(key, pair)
        job.variables = {**global_vars, **job.variables}
        jobs.append(job)
    return Pipeline(root, jobs, global_vars)


def _extends_chain(name: str, templates: dict[str, Mapping]) -> list[Mapping]:
    """The mappings a job is made of, most basic first (GitLab merges left to right)."""
    out: list[Mapping] = []
    seen: set[str] = set()

    def visit(current: str, depth: int) -> None:
        if current in seen or depth > MAX_EXTENDS_DEPTH or current not in templates:
            return
        seen.add(current)
        node = templates[current]
        bases = node.get("extends")
        names = [bases.value] if isinstance(bases, Scalar) else [b.value for b in bases.items if isinstance(b, Scalar)] if isinstance(bases, Sequence) else []
        for base in names:
            visit(base, depth + 1)
        out.append(node)

    visit(name, 0)
    return out


def _variables(node: YNode | None) -> dict[str, tuple[YNode, YNode]]:
    """`variables:` entries; the long form `{value: ..., description: ...}` yields its value."""
    out: dict[str, tuple[YNode, YNode]] = {}
    if not isinstance(node, Mapping):
        return out
    for name, k, v in node.entries():
        if isinstance(v, Mapping) and isinstance(v.get("value"), Scalar):
            v = v.get("value")  # type: ignore[assignment]
        out[name] = (k, v)
    return out


def variable_values(variables: dict[str, tuple[YNode, YNode]]) -> dict[str, str]:
    return {name: v.value for name, (_, v) in variables.items() if isinstance(v, Scalar)}


def script_lines(node: YNode | None) -> Iterator[Scalar]:
    """The command scalars of a `script:`-like value (a string, or nested lists of them);
    `!reference` tags point at another job's script, which is read where it is written."""
    if isinstance(node, Scalar):
        if node.value.strip():
            yield node
    elif isinstance(node, Sequence) and node.tag != "!reference":
        for item in node.items:
            yield from script_lines(item)
