"""Attribute-condition rules as table rows: "resource T, attribute A must (not) be V, and the
provider uses D when A is absent". Each rule's `[[match.conditions]]` rows are read here;
no rule needs code for this shape of check.

Row keys:
  resources      resource types the row applies to
  attribute      dotted path through nested blocks ("gce_setup.disable_public_ip"), or
  block          a nested block that must be present (with `required = true`)
  safe / unsafe  the values that pass / fail (strings compare case-insensitively)
  required       the attribute or block must be present and not null
  default        the provider's value when the attribute is absent (checked like a value)
  default_note   how the message explains the default ("AWS defaults to Enabled")
  unless         [{attribute = "...", equals = V} | {block = "..."} | {read = ["..."]} |
                 {granted = ["..."]} | {firewalled = true}]: any match passes the row
                 (`read`: the module's expressions read one of these attributes of the
                 resource; `granted`: an IAM member, binding or ACL resource that references
                 the resource grants it to one of these members; `firewalled`: the Azure
                 storage account, the resource or the one it names, denies network access
                 by default and admits no internet-wide range)
  name_pattern   only resources whose name label or `name`/`bucket` matches this regex (read
                 as words joined by `-`: `named`)
  severity       overrides the rule's severity for this row
A value that cannot be resolved is reported only where the provider default fails, and
then at low precision.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from atlascan.analysis import GroupContext
from atlascan.engines.terraform.module import Module, describe, is_known
from atlascan.model import Precision, Severity
from atlascan.parsers.terraform.syntax import Attribute, Block
from atlascan.rules import Rule

_MISSING = object()


@dataclass(frozen=True)
class Condition:
    rule_id: str
    resources: frozenset[str]
    path: str
    is_block: bool
    safe: tuple[Any, ...] | None
    unsafe: tuple[Any, ...] | None
    required: bool
    default: Any
    default_note: str
    unless: tuple[Mapping[str, Any], ...]
    name_pattern: re.Pattern[str] | None
    severity: Severity | None


def _row(rule_id: str, row: Mapping[str, Any]) -> Condition:
    resources = row.get("resources") or [row["resource"]]
    path = row.get("attribute") or row.get("block")
    if not path:
        raise ValueError(f"{rule_id}: a condition row needs `attribute` or `block`")
    return Condition(
        rule_id=rule_id,
        resources=frozenset(resources),
        path=path,
        is_block="block" in row,
        safe=tuple(row["safe"]) if "safe" in row else None,
        unsafe=tuple(row["unsafe"]) if "unsafe" in row else None,
        required=bool(row.get("required", False)),
        default=row.get("default", _MISSING),
        default_note=row.get("default_note", ""),
        unless=tuple(row.get("unless", ())),
        name_pattern=re.compile(row["name_pattern"]) if row.get("name_pattern") else None,
        severity=Severity.parse(row["severity"]) if row.get("severity") else None,
    )


ROW_KEYS = frozenset(
    {"resources", "resource", "attribute", "block", "safe", "unsafe", "required", "default", "default_note", "unless", "name_pattern", "severity"}
)
UNLESS_TESTS = frozenset({"attribute", "block", "read", "granted", "firewalled"})  # one of these per entry
UNLESS_KEYS = UNLESS_TESTS | {"equals"}


def row_problems(rule_id: str, row: Any) -> list[str]:
    """What is wrong with one `[[match.conditions]]` row: an unknown key would otherwise be
    silently ignored (a misspelt `unles` drops the exception it meant)."""
    if not isinstance(row, Mapping):
        return ["a `match.conditions` row must be a table"]
    out = [f"`match.conditions` row has unknown key `{k}` (known: {', '.join(sorted(ROW_KEYS))})" for k in sorted(set(row) - ROW_KEYS)]
    if not row.get("resources") and not row.get("resource"):
        out.append("a `match.conditions` row needs `resources`")
    out += [f"`{k}` of a `match.conditions` row must be a list" for k in ("resources", "safe", "unsafe", "unless") if k in row and not isinstance(row[k], list)]
    if ("attribute" in row) == ("block" in row):
        out.append("a `match.conditions` row needs exactly one of `attribute` or `block`")
    unless = row.get("unless", [])
    for test in unless if isinstance(unless, list) else []:
        if not isinstance(test, Mapping) or len(test.keys() & UNLESS_TESTS) != 1 or set(test) - UNLESS_KEYS:
            out.append(
                "`unless` entries are {attribute = ..., equals = ...}, {block = ...}, {read = [...]}, {granted = [...]}"
                f" or {{firewalled = true}}, not {test!r}"
            )
        elif any(k in test and not (isinstance(test[k], list) and all(isinstance(v, str) for v in test[k])) for k in ("read", "granted")):
            out.append(f"`read` and `granted` in `unless` are lists of names, not {test!r}")
        elif "firewalled" in test and test["firewalled"] is not True:
            out.append(f"`firewalled` in `unless` is `true`, not {test!r}")
    if not out:
        try:
            _row(rule_id, row)
        except (KeyError, ValueError, TypeError, re.error) as exc:
            out.append(f"`match.conditions` row cannot be read: {exc}")
    return out


_COMPILED: dict[tuple[str, ...], tuple[Condition, ...]] = {}


def compile_conditions(rules: Mapping[str, Rule]) -> tuple[Condition, ...]:
    """The rows of the enabled rules, compiled once per rule set (rules are not hashable)."""
    key = tuple(sorted(rules))
    if key not in _COMPILED:
        _COMPILED[key] = tuple(_row(rid, row) for rid in key for row in rules[rid].match.get("conditions", ()))
    return _COMPILED[key]


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, str) and isinstance(b, str):
        return a.lower() == b.lower()
    return bool(a == b)


def _fails(cond: Condition, value: Any) -> bool:
    if cond.safe is not None:
        return not any(_same(value, s) for s in cond.safe)
    if cond.unsafe is not None:
        return any(_same(value, u) for u in cond.unsafe)
    return False


def _absent_fails(cond: Condition) -> bool:
    if cond.required:
        return True
    return cond.default is not _MISSING and _fails(cond, cond.default)


def _passes_unless(module: Module, block: Block, cond: Condition) -> bool:
    for test in cond.unless:
        if "read" in test:
            # The configuration itself reads one of these attributes of the resource (a
            # storage account's `primary_access_key`): the setting is in use, not left open.
            if len(block.labels) == 2 and module.attributes_read(".".join(block.labels)) & set(test["read"]):
                return True
            continue
        if "granted" in test:
            # The configuration already grants the resource to these members (a bucket to
            # allUsers): it is open, which the rule on the grant reports; that the setting
            # would let it be opened adds nothing to act on.
            if len(block.labels) == 2 and granted(module, ".".join(block.labels), test["granted"]):
                return True
            continue
        if "firewalled" in test:
            # Only the networks the account's firewall lets in can reach it: anonymous
            # reads are not open to the internet.
            if firewalled(module, block):
                return True
            continue
        if "block" in test:
            if has_block(block, test["block"]):
                return True
            continue
        attr, _, value = module.value(block, test["attribute"])
        if attr is not None and ("equals" not in test or _same(value, test["equals"])):
            return True
    return False


# Where IAM member, binding and ACL resources name who is granted (`member`, `members`;
# `entity` and `role_entity` of Cloud Storage ACLs, written `READER:allUsers`).
GRANTEE_ATTRIBUTES = ("member", "members", "entity", "role_entity")


def entry(module: Module, block: Block, names: Iterable[str], test: Callable[[str], bool]) -> tuple[Attribute, str] | None:
    """The first of these attributes whose value (a string, or a list of them) holds an
    entry passing `test`, and that entry."""
    for name in names:
        attr = block.attributes.get(name)
        if attr is None:
            continue
        value = module.resolve(attr.value)
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str) and test(item):
                return attr, item
    return None


def grantee(module: Module, block: Block, members: Collection[str]) -> tuple[Attribute, str] | None:
    """The attribute of an IAM member, binding or ACL resource that grants to one of these
    members, and the entry naming it."""
    return entry(module, block, GRANTEE_ATTRIBUTES, lambda item: any(item == m or item.endswith(":" + m) for m in members))


def granted(module: Module, address: str, members: Collection[str]) -> bool:
    """Some resource that references `address` and is created grants it to one of these members."""
    return any(not never_created(module, block) and grantee(module, block, members) is not None for _, block in module.referrers(address))


# Addresses that stand for the whole internet wherever a configuration lists sources:
# security groups, firewalls, NSG rules, storage account firewalls. A bare `0.0.0.0` is
# read as Checkov's NSG checks read it, and Azure's `Internet` service tag is one too.
ANYWHERE = ("0.0.0.0/0", "::/0", "0.0.0.0", "*", "internet", "any")
STORAGE_ACCOUNT = "azurerm_storage_account"


def _storage_account(module: Module, block: Block) -> tuple[str, Block] | None:
    """The Azure storage account a resource is, or names through `storage_account_id` /
    `storage_account_name` (a container), when it is in the module."""
    if block.labels[0] == STORAGE_ACCOUNT and len(block.labels) == 2:
        return ".".join(block.labels), block
    for name in ("storage_account_id", "storage_account_name"):
        attr = block.attributes.get(name)
        target = module.referenced_resource(attr.value) if attr is not None else None
        if target is not None and target.startswith(STORAGE_ACCOUNT + "."):
            return target, module.resources[target]
    return None


def _admits_only_listed(module: Module, rules: Block) -> bool:
    """Network rules that deny by default and list no internet-wide range; a value that
    cannot be resolved does not show that, so it does not count."""
    action = rules.attributes.get("default_action")
    value = module.resolve(action.value) if action is not None else None
    if not isinstance(value, str) or value.lower() != "deny":
        return False
    ips = rules.attributes.get("ip_rules")
    ranges = module.resolve(ips.value) if ips is not None else []
    if not isinstance(ranges, list) or not all(isinstance(r, str) for r in ranges):
        return False
    return not any(r.strip().lower() in ANYWHERE for r in ranges)


def firewalled(module: Module, block: Block) -> bool:
    """The Azure storage account (the resource itself, or the one it names) has network
    rules, inline or as `azurerm_storage_account_network_rules`, and every set of them
    denies by default and admits no internet-wide range."""
    account = _storage_account(module, block)
    if account is None:
        return False
    address, found = account
    rule_sets = found.sub("network_rules") + [c for d in found.sub("dynamic") if d.labels[:1] == ("network_rules",) for c in d.sub("content")]
    rule_sets += [b for _, b in module.referrers(address) if b.labels[0] == "azurerm_storage_account_network_rules" and not never_created(module, b)]
    return bool(rule_sets) and all(_admits_only_listed(module, r) for r in rule_sets)


def has_block(block: Block, path: str) -> bool:
    current: Block | None = block
    for part in path.split("."):
        if current is None:
            return False
        found = current.first(part)
        if found is None:
            found = next((d for d in current.sub("dynamic") if d.labels[:1] == (part,)), None)
        current = found
    return current is not None


# A resource's name is read as words: lower case, joined by `-` (`Training_Data` and
# `training-data` read alike); camelCase is split too (`myModelBucket`: `my-model-bucket`).
WORD = re.compile(r"[a-z0-9]+")
CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
# Names of Terraform's own storage (its state, its backend): nothing in them is ML data.
TERRAFORM_STATE = re.compile(r"(?<![a-z0-9])(?:tfstate|(?:terraform|tf)-(?:state|backend|locks?))(?![a-z0-9])")
# `data` that is not a data set: `terraform_data_source`, or next to `state` or `terraform`.
NOT_DATA = re.compile(r"(?<![a-z0-9])data-sources?(?![a-z0-9])")
DATA_WORD = re.compile(r"(?<![a-z0-9])data(?![a-z0-9])")
NOT_DATA_CONTEXT = re.compile(r"(?<![a-z0-9])(?:state|terraform|tf)(?![a-z0-9])")


def name_words(name: str) -> list[str]:
    """The forms of a name that `name_pattern` reads: its words joined by `-`, plain and
    with camelCase split, less the words that say no ML data (Terraform state,
    `data_source`); none for the name of Terraform's own storage."""
    forms = []
    for text in dict.fromkeys((name.lower(), CAMEL.sub("-", name).lower())):
        form = "-".join(WORD.findall(text))
        if TERRAFORM_STATE.search(form):
            return []
        form = NOT_DATA.sub("-", form)
        if NOT_DATA_CONTEXT.search(form):
            form = DATA_WORD.sub("-", form)
        forms.append(form)
    return forms


def named(module: Module, block: Block, pattern: re.Pattern[str]) -> bool:
    """True when the resource's name label, or its `name` or `bucket`, reads as `pattern`
    (matched against `name_words`)."""
    names = [block.labels[1]]
    for key in ("name", "bucket"):
        attr = block.attributes.get(key)
        value = module.resolve(attr.value) if attr is not None else None
        if isinstance(value, str):
            names.append(value)
    return any(pattern.search(form) for name in names for form in name_words(name))


def never_created(module: Module, block: Block) -> bool:
    """`count = 0`, or `for_each` over a known empty collection."""
    count = block.attributes.get("count")
    if count is not None and module.resolve(count.value) == 0:
        return True
    each = block.attributes.get("for_each")
    return each is not None and module.resolve(each.value) in ([], {})


def check_conditions(module: Module, ctx: GroupContext, conditions: tuple[Condition, ...]) -> None:
    by_type: dict[str, list[Condition]] = {}
    for cond in conditions:
        for rtype in cond.resources:
            by_type.setdefault(rtype, []).append(cond)
    if not by_type:
        return
    for address, block in module.of_type(*by_type):
        if never_created(module, block):
            continue
        # Several rows of one rule failing at one block header become one finding.
        # detail -> the instances it holds for (count / for_each: each instance is judged
        # with its own `each.*` / `count.index`)
        merged: dict[tuple[str, int], tuple[Condition, Any, Precision | None, dict[str, list[str]]]] = {}
        instances = module.instances(block)
        for instance, binding in instances:
            with module.bound(binding):
                for cond in by_type[block.labels[0]]:
                    if cond.name_pattern is not None and not named(module, block, cond.name_pattern):
                        continue
                    if _passes_unless(module, block, cond):
                        continue
                    for detail, where, precision in _violations(module, block, cond):
                        entry = merged.setdefault((cond.rule_id, id(where)), (cond, where, precision, {}))
                        entry[3].setdefault(detail, []).append(instance)
        for cond, where, precision, by_detail in merged.values():
            details = [d if len(keys) == len(instances) else f"{d} (instance {', '.join(json.dumps(k) for k in keys)})" for d, keys in by_detail.items()]
            (
                ctx.finding(cond.rule_id, file=block.file)
                .at(where.header if isinstance(where, Block) else where.span)
                .args(address=address, detail="; ".join(details))
                .severity(cond.severity)
                .precision(precision)
                .emit()
            )


def _violations(module: Module, block: Block, cond: Condition) -> Iterator[tuple[str, Any, Precision | None]]:
    name = cond.path
    if cond.is_block:
        if not has_block(block, cond.path):
            yield f"it has no `{name}` block", block, None
        return
    attr, deepest, value = module.value(block, cond.path)
    if attr is None or value is None:
        if _absent_fails(cond):
            where: Any = attr if attr is not None else (deepest if deepest is not None else block)
            if cond.required and cond.default is _MISSING:
                yield f"`{name}` is not set", where, None
            else:
                note = cond.default_note or f"the provider default is {describe(cond.default)}"
                yield f"`{name}` is not set and {note}", where, None
        return
    if cond.required and cond.safe is None and cond.unsafe is None:
        return  # any value, even a computed one, is what the row asks for
    if not is_known(value):
        if _absent_fails(cond):
            yield f"`{name}` is `{describe(attr.value)}`, which cannot be resolved statically", attr, Precision.LOW
        return
    if _fails(cond, value):
        yield f"`{name} = {describe(value)}`", attr, None
