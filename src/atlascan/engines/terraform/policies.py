"""IAM-style policy documents, wherever the module writes them, as plain statements.

Sources: `jsonencode({...})`, heredoc or literal JSON, `file("policy.json")` inside the
module (read as text, never run), and `data "aws_iam_policy_document"` blocks (a reference
to `data.aws_iam_policy_document.x.json` reads that block's statements).
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from typing import Any

from atlascan.engines.terraform.module import Module
from atlascan.model import Span
from atlascan.parsers.terraform import json_text
from atlascan.parsers.terraform.syntax import Attribute, Block, Call

# Condition keys that tie a statement to known callers: such statements are not public.
RESTRICTING_KEYS = (
    "aws:sourcevpc", "aws:sourcevpce", "aws:sourceip", "aws:principalorgid", "aws:principalorgpaths",
    "aws:principalaccount", "aws:sourceaccount", "aws:sourcearn", "aws:sourceorgid", "aws:principalarn",
    "aws:userid", "aws:username", "aws:vpcsourceip", "aws:vpceaccount", "aws:vpceorgid", "aws:vpceorgpaths",
)  # fmt: skip


@dataclass
class Statement:
    effect: str
    principals: tuple[str, ...]  # identifiers of every principal type ("*" = anyone)
    actions: tuple[str, ...]
    not_action: bool
    restricted: bool  # has a condition that limits who can use it
    attr: Attribute  # where the statement is written (the policy or the `actions` attribute)
    block: Block  # the resource or data block holding it
    from_document: bool  # read from a data "aws_iam_policy_document" block
    resources: tuple[str, ...] = ()  # Resource (or NotResource) values that resolved to text
    not_resource: bool = False
    conditional: bool = False  # has any Condition at all

    @property
    def allows(self) -> bool:
        return self.effect.lower() == "allow"

    @property
    def unconstrained(self) -> bool:
        """Allows its actions on every resource (`*` or NotResource) with no condition."""
        return self.allows and not self.not_action and not self.conditional and (self.not_resource or "*" in self.resources)

    @property
    def public(self) -> bool:
        return "*" in self.principals and not self.restricted


def _strings(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list):
        return tuple(v for v in value if isinstance(v, str))
    return ()


def _principals(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, dict):
        return tuple(p for v in value.values() for p in _strings(v))
    return _strings(value)


# A condition value that admits any caller: `*`, or an ARN whose account field is a wildcard
# (`arn:aws:iam::*`, `arn:aws:iam::*:root`).
OPEN_VALUE = re.compile(r"[*?]*|arn:[^:]*:[^:]*:[^:]*:[*?]*(?::.*)?")


def _pins(values: Any) -> bool:
    """Some value of a restricting condition names a caller (a wildcard-only one does not)."""
    found = _strings(values)
    return not found or any(not OPEN_VALUE.fullmatch(v.strip()) for v in found)


def _any_value_operator(operator: Any) -> bool:
    """`ForAllValues:...` holds when the request has no such key at all (an anonymous
    caller has no `aws:username`), so it restricts nobody."""
    return isinstance(operator, str) and operator.lower().startswith("forallvalues:")


def _restricting(condition: Any) -> bool:
    if not isinstance(condition, dict):
        return False
    for operator, tests in condition.items():
        if _any_value_operator(operator):
            continue
        if isinstance(tests, dict) and any(str(k).lower() in RESTRICTING_KEYS and _pins(v) for k, v in tests.items()):
            return True
    return False


def document_statements(module: Module, value: Any, attr: Attribute, block: Block) -> list[Statement]:
    """Statements of a policy attribute's resolved value (dict, JSON text or a document reference)."""
    address = module.referenced_resource(value)
    if address is not None and address.startswith("data.aws_iam_policy_document."):
        return []  # reported where the document is written
    doc = value if isinstance(value, dict) else json_text(value)
    if not isinstance(doc, dict):
        return []
    raw = doc.get("Statement", [])
    out = []
    for st in raw if isinstance(raw, list) else [raw]:
        if not isinstance(st, dict):
            continue
        not_action = "NotAction" in st
        not_resource = "NotResource" in st
        out.append(
            Statement(
                effect=str(st.get("Effect", "Allow")),
                principals=_principals(st.get("Principal")),
                actions=_strings(st.get("NotAction" if not_action else "Action")),
                not_action=not_action,
                restricted=_restricting(st.get("Condition")),
                attr=attr,
                block=block,
                from_document=False,
                resources=_strings(st.get("NotResource" if not_resource else "Resource")),
                not_resource=not_resource,
                conditional=bool(st.get("Condition")),
            )
        )
    return out


def data_document_statements(module: Module, block: Block) -> list[Statement]:
    """Statements of a `data "aws_iam_policy_document"` block."""
    out = []
    for st in block.sub("statement"):
        effect = module.resolve(st.attributes["effect"].value) if "effect" in st.attributes else "Allow"
        principals: list[str] = []
        for p in st.sub("principals"):
            ids = p.attributes.get("identifiers")
            principals.extend(_strings(module.resolve(ids.value)) if ids else ())
        restricted = False
        for cond in st.sub("condition"):
            var = cond.attributes.get("variable")
            key = module.resolve(var.value) if var else None
            values = cond.attributes.get("values")
            test = cond.attributes.get("test")
            if test is not None and _any_value_operator(module.resolve(test.value)):
                continue
            if isinstance(key, str) and key.lower() in RESTRICTING_KEYS and (values is None or _pins(module.resolve(values.value))):
                restricted = True
        key_name = "not_actions" if "not_actions" in st.attributes else "actions"
        attr = st.attributes.get(key_name)
        if attr is None:
            continue
        res_name = "not_resources" if "not_resources" in st.attributes else "resources"
        res = st.attributes.get(res_name)
        out.append(
            Statement(
                effect=effect if isinstance(effect, str) else "Allow",
                principals=tuple(principals),
                actions=_strings(module.resolve(attr.value)),
                not_action=key_name == "not_actions",
                restricted=restricted,
                attr=attr,
                block=block,
                from_document=True,
                resources=_strings(module.resolve(res.value)) if res is not None else (),
                not_resource=res_name == "not_resources",
                conditional=bool(st.sub("condition")),
            )
        )
    return out


def action_matches(action: str, concrete: tuple[str, ...]) -> bool:
    """Does a (possibly wildcarded) policy action grant any of these concrete actions?"""
    act = action.lower()
    return any(fnmatch.fnmatchcase(c.lower(), act) for c in concrete)


def value_span(lines: list[str], attr: Attribute, needle: str, near: str = "") -> Span:
    """Where to report inside a multi-line policy: the line where `needle` (quoted) is
    written, preferring one that also names `near` (e.g. "Action"); the attribute itself
    when not found."""
    line = _value_line(lines, attr, needle, near)
    return attr.span if line == attr.line else Span(line)


def _value_line(lines: list[str], attr: Attribute, needle: str, near: str) -> int:
    if not isinstance(attr.value, (dict, Call)):
        return attr.line  # JSON text (heredoc, file): comments cannot sit inside it, so point at the attribute
    quoted = re.compile(r'"' + re.escape(needle) + r'"')
    first = None
    for number in range(attr.line, min(attr.end_line, len(lines)) + 1):
        text = lines[number - 1]
        if quoted.search(text):
            if not near or near.lower() in text.lower():
                return number
            if first is None and not re.search(r"(?i)resource|principal|condition", text):
                first = number
    return first or attr.line
