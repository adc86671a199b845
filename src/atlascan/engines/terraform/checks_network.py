"""Network exposure: AWS security groups, GCP firewalls and Azure NSGs that open MLOps
ports (the rule's `[[match.ports]]` table) to 0.0.0.0/0 or ::/0."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

from atlascan.analysis import GroupContext
from atlascan.engines.terraform.codecheck import CodeCheck
from atlascan.engines.terraform.conditions import ANYWHERE, entry, never_created
from atlascan.engines.terraform.module import Module
from atlascan.model import Severity
from atlascan.parsers.terraform.syntax import Attribute, Block

OPEN_PORT = "ATS-TF-024"
ALL_PROTOCOLS = ("-1", "all", "*")
PORT_ATTRS_AWS = ("cidr_blocks", "ipv6_cidr_blocks", "cidr_ipv4", "cidr_ipv6")
LOAD_BALANCERS = ("aws_lb", "aws_alb", "aws_elb")
# Resources that name a group only to add rules to it or to allow traffic from it: they do
# not put the group on anything reachable.
GROUP_RULES = ("aws_security_group", "aws_security_group_rule", "aws_vpc_security_group_ingress_rule", "aws_vpc_security_group_egress_rule")
PORT_ROW_KEYS = {"from", "to", "service", "severity", "public_front"}


@dataclass(frozen=True)
class Opening:
    """Ports [low, high] opened to the internet, and the attribute that says 'the internet'."""

    low: int
    high: int
    where: Attribute
    block: Block
    instance: str = ""  # the count / for_each instance it belongs to, when expanded
    group: str | None = None  # the AWS security group the rule belongs to, when known


@dataclass(frozen=True)
class Service:
    """One `[[match.ports]]` row."""

    low: int
    high: int
    name: str
    severity: Severity | None  # None: the rule's own
    public_front: bool  # the port load balancers serve the public on


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


def _open_attr(module: Module, block: Block, names: tuple[str, ...]) -> Attribute | None:
    found = entry(module, block, names, lambda item: item.strip().lower() in ANYWHERE)
    return found[0] if found else None


def _aws_rule(module: Module, rule: Block, protocol_attr: str) -> Iterator[Opening]:
    where = _open_attr(module, rule, PORT_ATTRS_AWS)
    if where is None:
        return
    proto = module.resolve(rule.attributes[protocol_attr].value) if protocol_attr in rule.attributes else None
    if str(proto).lower() in ALL_PROTOCOLS:
        yield Opening(0, 65535, where, rule)
        return
    if str(proto).lower() in ("icmp", "icmpv6", "1", "58"):
        return
    low = _int(module.resolve(rule.attributes["from_port"].value)) if "from_port" in rule.attributes else None
    high = _int(module.resolve(rule.attributes["to_port"].value)) if "to_port" in rule.attributes else low
    if low is not None:
        yield Opening(max(low, 0), high if high is not None and high >= low else low, where, rule)


def _port_ranges(values: Any) -> Iterator[tuple[int, int]]:
    for item in values if isinstance(values, list) else [values]:
        text = str(item).strip() if isinstance(item, (str, int)) else ""
        if text in ("*", ""):
            if text == "*":
                yield 0, 65535
            continue
        low, _, high = text.partition("-")
        lo, hi = _int(low), _int(high or low)
        if lo is not None and hi is not None:
            yield lo, hi


def _attribute_rules(module: Module, sg: Block) -> list[Block]:
    """`ingress = [{...}]` (attribute syntax) read as ingress blocks; each key points at the
    `ingress` attribute, the only position the list has."""
    attr = sg.attributes.get("ingress")
    value = module.resolve(attr.value) if attr is not None else None
    if attr is None or not isinstance(value, list):
        return []
    out = []
    for item in value:
        if isinstance(item, dict):
            attrs = {str(k): Attribute(str(k), v, attr.line, attr.column, attr.end_line, attr.end_column) for k, v in item.items()}
            out.append(Block("ingress", (), attrs, [], attr.line, attr.column, attr.end_column, sg.file, attr.end_line))
    return out


def _firewall(module: Module, address: str, fw: Block) -> Iterator[tuple[str, Opening]]:
    direction = module.resolve(fw.attributes["direction"].value) if "direction" in fw.attributes else "INGRESS"
    disabled = module.resolve(fw.attributes["disabled"].value) if "disabled" in fw.attributes else False
    where = _open_attr(module, fw, ("source_ranges",))
    if direction != "INGRESS" or disabled is True or where is None:
        return
    for allow in fw.sub("allow"):
        proto = module.resolve(allow.attributes["protocol"].value) if "protocol" in allow.attributes else "all"
        if str(proto).lower() in ("icmp", "esp", "ah", "ipip", "sctp"):
            continue
        ports = allow.attributes.get("ports")
        ranges = list(_port_ranges(module.resolve(ports.value))) if ports else [(0, 65535)]
        for lo, hi in ranges:
            yield address, Opening(lo, hi, where, fw)


def _group_of(module: Module, rule: Block) -> str | None:
    target = rule.attributes.get("security_group_id")
    return module.referenced_resource(target.value) if target is not None else None


def _groups_used(module: Module, block: Block) -> set[str]:
    """The security groups a resource's arguments (nested blocks included) reference."""
    return {a for a in module.references(block) if a.startswith("aws_security_group.")}


def load_balancer_groups(module: Module) -> set[str]:
    """Groups that only load balancers use: their public ports are the entrance by design
    (what sits behind is the listener's business, not the group's)."""
    by_lb: set[str] = set()
    by_others: set[str] = set()
    for _, block in module.resources.items():
        rtype = block.labels[0]
        if rtype not in GROUP_RULES:
            (by_lb if rtype in LOAD_BALANCERS else by_others).update(_groups_used(module, block))
    return by_lb - by_others


def openings(module: Module) -> Iterator[tuple[str, Opening]]:
    for address, sg in module.of_type("aws_security_group"):
        rules = sg.sub("ingress") + [c for d in sg.sub("dynamic") if d.labels[:1] == ("ingress",) for c in d.sub("content")]
        for rule in rules + _attribute_rules(module, sg):
            yield from ((address, replace(o, group=address)) for o in _aws_rule(module, rule, "protocol"))
    for address, rule in module.of_type("aws_security_group_rule"):
        kind = rule.attributes.get("type")
        if kind is not None and module.resolve(kind.value) == "ingress":
            yield from ((address, replace(o, group=_group_of(module, rule))) for o in _aws_rule(module, rule, "protocol"))
    for address, rule in module.of_type("aws_vpc_security_group_ingress_rule"):
        yield from ((address, replace(o, group=_group_of(module, rule))) for o in _aws_rule(module, rule, "ip_protocol"))
    for address, fw in module.of_type("google_compute_firewall"):
        instances = module.instances(fw)  # `for_each` over firewall specs: each one
        for instance, binding in instances:
            with module.bound(binding):
                for addr, opening in _firewall(module, address, fw):
                    yield addr, replace(opening, instance=instance) if len(instances) > 1 else opening
    nsg_rules = [(a, b) for a, b in module.of_type("azurerm_network_security_rule")]
    nsg_rules += [(a, r) for a, g in module.of_type("azurerm_network_security_group") for r in g.sub("security_rule")]
    for address, rule in nsg_rules:
        get = {k: module.resolve(v.value) for k, v in rule.attributes.items()}
        if str(get.get("direction", "")).lower() != "inbound" or str(get.get("access", "")).lower() != "allow":
            continue
        where = _open_attr(module, rule, ("source_address_prefix", "source_address_prefixes"))
        if where is None:
            continue
        ranges = list(_port_ranges(get.get("destination_port_range"))) + list(_port_ranges(get.get("destination_port_ranges") or []))
        for lo, hi in ranges:
            yield address, Opening(lo, hi, where, rule)


def port_problems(row: Any) -> list[str]:
    """What `_services` could not read in one `[[match.ports]]` row."""
    readable = (
        isinstance(row, dict)
        and "from" in row
        and set(row) <= PORT_ROW_KEYS
        and all(type(row.get(k, 0)) is int for k in ("from", "to"))
        and isinstance(row.get("service"), str)
        and row.get("severity", "high") in {s.label for s in Severity}
        and type(row.get("public_front", False)) is bool
    )
    shape = "{from = PORT, to = PORT (optional), service = NAME, severity = LEVEL (optional), public_front = BOOL (optional)}"
    return [] if readable else [f"a `match.ports` row is {shape}, not {row!r}"]


def _services(ctx: GroupContext) -> list[Service]:
    rule = ctx.rules.get(OPEN_PORT)
    rows = rule.match.get("ports", []) if rule else []
    return [
        Service(
            int(r["from"]),
            int(r.get("to", r["from"])),
            str(r["service"]),
            Severity.parse(r["severity"]) if "severity" in r else None,
            bool(r.get("public_front", False)),
        )
        for r in rows
    ]


def check_open_ports(module: Module, ctx: GroupContext) -> None:
    if not ctx.enabled(OPEN_PORT):
        return
    services = _services(ctx)
    default = ctx.rules[OPEN_PORT].severity
    fronts = load_balancer_groups(module) if any(s.public_front for s in services) else set()
    hits: dict[tuple[str, int], tuple[Opening, list[str], list[str], set[Severity]]] = {}
    for address, opening in openings(module):
        if never_created(module, opening.block):
            continue
        matched = [
            s for s in services
            if s.low <= opening.high and opening.low <= s.high and not (s.public_front and opening.group in fronts)
        ]
        if not matched:
            continue
        names = [f"{s.name} {s.low}" + (f"-{s.high}" if s.high != s.low else "") for s in matched]
        severities = {s.severity or default for s in matched}
        if opening.low == 0 and opening.high >= 65535:
            names, severities = ["all ports"], {default}
        key = (address, id(opening.where))
        if key not in hits:
            hits[key] = (opening, [], [], set())
        hits[key][1].extend(n for n in names if n not in hits[key][1])
        hits[key][3].update(severities)
        if opening.instance and opening.instance not in hits[key][2]:
            hits[key][2].append(opening.instance)
    for (address, _), (opening, names, instances, severities) in hits.items():
        detail = ", ".join(names)
        if instances:
            detail += f" (instance {', '.join(json.dumps(i) for i in instances)})"
        # the worst service opened decides: SSH alone is medium, HTTP alone low
        severity = max(severities)
        (
            ctx.finding(OPEN_PORT, file=opening.block.file)
            .at(opening.where.span)
            .args(address=address, detail=detail)
            .severity(None if severity == default else severity)
            .emit()
        )


CHECKS: tuple[CodeCheck, ...] = (
    CodeCheck(
        frozenset({OPEN_PORT}),
        ("aws_security_group", "aws_vpc_security_group_ingress_rule", "google_compute_firewall", "azurerm_network_security"),
        check_open_ports,
    ),
)
