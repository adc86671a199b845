"""Identity checks: IAM policies with wildcard actions or admin attachments (data-service
resource policies that open such actions to the internet included), access-key secrets
leaking through outputs, long-lived user keys."""

from __future__ import annotations

from typing import Any

from atlascan.analysis import GroupContext
from atlascan.engines.terraform.codecheck import CodeCheck
from atlascan.engines.terraform.conditions import has_block, never_created
from atlascan.engines.terraform.module import Module
from atlascan.engines.terraform.policies import (
    Statement,
    data_document_statements,
    document_statements,
    value_span,
)
from atlascan.model import Severity
from atlascan.parsers.terraform.syntax import Block, Call, Ref, Template

WILDCARD = "ATS-TF-023"
SECRET_OUTPUT = "ATS-TF-026"
USER_KEY = "ATS-TF-027"

# Policy-bearing resource -> the attribute that holds its policy document.
POLICY_ATTRIBUTES = {
    "aws_iam_policy": "policy",
    "aws_iam_role_policy": "policy",
    "aws_iam_user_policy": "policy",
    "aws_iam_group_policy": "policy",
    "aws_ssoadmin_permission_set_inline_policy": "inline_policy",
}
POLICY_RESOURCES = tuple(POLICY_ATTRIBUTES)
# Data services whose resource policy decides who may call them: the policy is written on
# the service itself or on a policy resource beside it (type -> the attribute holding it).
DATA_SERVICE_POLICIES = {
    "aws_sqs_queue": "policy",
    "aws_sqs_queue_policy": "policy",
    "aws_sns_topic": "policy",
    "aws_sns_topic_policy": "policy",
    "aws_elasticsearch_domain": "access_policies",
    "aws_elasticsearch_domain_policy": "access_policies",
    "aws_opensearch_domain": "access_policies",
    "aws_opensearch_domain_policy": "access_policies",
}
# A policy resource -> the attribute naming the service it governs.
GOVERNED_BY = {
    "aws_sqs_queue_policy": "queue_url",
    "aws_sns_topic_policy": "arn",
    "aws_elasticsearch_domain_policy": "domain_name",
    "aws_opensearch_domain_policy": "domain_name",
}
SEARCH_DOMAINS = ("aws_elasticsearch_domain", "aws_opensearch_domain")
SERVICE_NAMES = {
    "aws_sqs_queue": "SQS queue",
    "aws_sns_topic": "SNS topic",
    "aws_elasticsearch_domain": "Elasticsearch domain",
    "aws_opensearch_domain": "OpenSearch domain",
}
ATTACHMENTS = {
    "aws_iam_role_policy_attachment": "policy_arn",
    "aws_iam_user_policy_attachment": "policy_arn",
    "aws_iam_group_policy_attachment": "policy_arn",
    "aws_iam_policy_attachment": "policy_arn",
    "aws_iam_role": "managed_policy_arns",
    "aws_iam_role_policy_attachments_exclusive": "policy_arns",
    "aws_ssoadmin_managed_policy_attachment": "managed_policy_arn",
}
ADMIN_POLICIES = ("arn:aws:iam::aws:policy/AdministratorAccess", "arn:aws:iam::aws:policy/IAMFullAccess")
# resource type -> attributes that hold a secret
SECRET_ATTRIBUTES = {
    "aws_iam_access_key": ("secret", "ses_smtp_password_v4"),
    "aws_iam_user_login_profile": ("password",),
    "google_service_account_key": ("private_key",),
}


def _wildcards(st: Statement) -> list[str]:
    if not st.allows:
        return []
    if st.not_action:
        return [f"NotAction {a}" for a in st.actions] or ["NotAction"]
    return [a for a in st.actions if a in ("*", "*:*") or (a.endswith(":*") and a.count(":") == 1)]


def policy_statements(module: Module) -> list[tuple[str, Statement]]:
    """Every statement of every IAM policy the module writes (identity policies, and the
    resource policies of DATA_SERVICE_POLICIES), with its resource address."""
    statements: list[tuple[str, Statement]] = []
    holders = POLICY_ATTRIBUTES | DATA_SERVICE_POLICIES
    for address, block in module.of_type(*holders):
        attr = block.attributes.get(holders[block.labels[0]])
        if attr is not None and not never_created(module, block):
            statements += [(address, s) for s in document_statements(module, module.resolve(attr.value), attr, block)]
    for address, block in module.of_type("aws_iam_role"):
        for inline in block.sub("inline_policy"):
            attr = inline.attributes.get("policy")
            if attr is not None:
                statements += [(address, s) for s in document_statements(module, module.resolve(attr.value), attr, block)]
    for address, block in module.data_of_type("aws_iam_policy_document"):
        statements += [(address, s) for s in data_document_statements(module, block)]
    return statements


def internet_service(module: Module, address: str, holder: Block) -> str | None:
    """The service a data-service policy holder opens to anyone who can reach its endpoint,
    named for a message, when that endpoint is on the internet: SQS queues and SNS topics
    always are; an Elasticsearch / OpenSearch domain is unless it sits in a VPC
    (`vpc_options`). None when it is not, or when the domain is not in this configuration
    (its network cannot be seen)."""
    if never_created(module, holder):
        return None
    kind = holder.labels[0]
    if kind in GOVERNED_BY:
        attr = holder.attributes.get(GOVERNED_BY[kind])
        target = module.referenced_resource(attr.value) if attr is not None else None
        service = kind.removesuffix("_policy")
        if target is None or not target.startswith(service + "."):
            return None if service in SEARCH_DOMAINS else f"the {SERVICE_NAMES[service]} of `{address}`"
        address, holder, kind = target, module.resources[target], service
        if never_created(module, holder):
            return None
    if kind in SEARCH_DOMAINS:
        if has_block(holder, "vpc_options"):
            return None
        return f"the {SERVICE_NAMES[kind]} `{address}` (no `vpc_options`: its endpoint is public)"
    return f"the {SERVICE_NAMES[kind]} `{address}`"


def _documents_given_to_services(module: Module) -> dict[str, list[tuple[str, Block]]]:
    """data.aws_iam_policy_document address -> the data-service policy holders given its `json`."""
    given: dict[str, list[tuple[str, Block]]] = {}
    for address, block in module.of_type(*DATA_SERVICE_POLICIES):
        attr = block.attributes.get(DATA_SERVICE_POLICIES[block.labels[0]])
        document = module.referenced_resource(attr.value) if attr is not None else None
        if document is not None and document.startswith("data.aws_iam_policy_document."):
            given.setdefault(document, []).append((address, block))
    return given


def _opened_to_internet(module: Module, address: str, st: Statement, given: dict[str, list[tuple[str, Block]]]) -> str | None:
    """The internet-facing service this statement lets anyone call: an Allow for Principal
    `*` with no Condition at all (a condition on source IP, VPC endpoint or organisation
    names who may call, so the code no longer shows anyone getting in)."""
    if not st.allows or "*" not in st.principals or st.conditional:
        return None
    if st.from_document:
        holders = given.get(address, [])
    else:
        holders = [(address, st.block)] if st.block.labels[0] in DATA_SERVICE_POLICIES else []
    return next((s for a, b in holders if (s := internet_service(module, a, b)) is not None), None)


def check_wildcards(module: Module, ctx: GroupContext) -> None:
    if not ctx.enabled(WILDCARD):
        return
    from atlascan.engines.terraform.checks_iam_risks import RULES, reported_here

    specific = frozenset(r for r in RULES if ctx.enabled(r))
    given = _documents_given_to_services(module)
    for address, st in policy_statements(module):
        found = _wildcards(st)
        full = any(a in ("*", "*:*") or a.startswith("NotAction") for a in found)
        if not full:  # `iam:*` on `*` is reported as what it allows (escalation, exposure, ...)
            found = [a for a in found if not reported_here(st, a, specific)]
        if not found:
            continue
        # point at the wildcard the message leads with: a full `*` listed after `ec2:*` would
        # otherwise share that line with ATS-TF-034's finding and be deferred to it
        lead = next((a for a in found if a in ("*", "*:*") or a.startswith("NotAction")), found[0]) if full else found[0]
        needle = "NotAction" if lead.startswith("NotAction") else lead
        span = st.attr.span if st.from_document else value_span(ctx.document(st.block.file).lines, st.attr, needle, "Action")
        detail = f"the policy allows `{', '.join(found)}`"
        severity = None if full else Severity.MEDIUM
        service = _opened_to_internet(module, address, st, given)
        if service is not None:
            detail += f" to Principal `*` with no Condition, so any principal on the internet may call {service}"
            severity = Severity.CRITICAL
        ctx.finding(WILDCARD, file=st.block.file).at(span).args(address=address, detail=detail).severity(severity).emit()
    for address, block in module.of_type(*ATTACHMENTS):
        attr = block.attributes.get(ATTACHMENTS[block.labels[0]])
        if attr is None:
            continue
        value = module.resolve(attr.value)
        for arn in value if isinstance(value, list) else [value]:
            if isinstance(arn, str) and arn in ADMIN_POLICIES:
                detail = f"it attaches `{arn.rsplit('/', 1)[-1]}`"
                ctx.finding(WILDCARD, file=block.file).at(attr.span).args(address=address, detail=detail).emit()


def _secret_refs(value: Any, module: Module) -> list[str]:
    """References to secret attributes anywhere inside an (unresolved) output value."""
    found: list[str] = []
    if isinstance(value, Ref):
        address = module.referenced_resource(value)
        names = [p for p in value.parts if isinstance(p, str)]
        if address is not None and len(names) >= 3:
            rtype = address.split(".")[0]
            if names[2] in SECRET_ATTRIBUTES.get(rtype, ()):
                found.append(value.text)
    elif isinstance(value, (list, tuple)):
        for v in value:
            found += _secret_refs(v, module)
    elif isinstance(value, dict):
        for v in value.values():
            found += _secret_refs(v, module)
    elif isinstance(value, Template):
        found += _secret_refs(value.parts, module)
    elif isinstance(value, Call):
        found += _secret_refs(value.args, module)
    return found


def check_secret_outputs(module: Module, ctx: GroupContext) -> None:
    if not ctx.enabled(SECRET_OUTPUT):
        return
    for output in module.outputs:
        attr = output.attributes.get("value")
        if attr is None:
            continue
        refs = _secret_refs(attr.value, module)
        if not refs:
            continue
        sensitive = output.attributes.get("sensitive")
        if sensitive is not None and module.resolve(sensitive.value) is True:
            continue
        (
            ctx.finding(SECRET_OUTPUT, file=output.file)
            .at(attr.span)
            .args(address=f"output.{output.labels[0] if output.labels else '?'}", detail=f"`{refs[0]}` is not marked `sensitive = true`")
            .emit()
        )


def check_user_keys(module: Module, ctx: GroupContext) -> None:
    if not ctx.enabled(USER_KEY):
        return
    for address, block in module.of_type("aws_iam_access_key", "google_service_account_key"):
        if never_created(module, block):
            continue
        status = block.attributes.get("status")
        if status is not None and module.resolve(status.value) == "Inactive":
            continue
        _report_key(ctx, address, block)


def _report_key(ctx: GroupContext, address: str, block: Block) -> None:
    kind = "IAM user access key" if block.labels[0] == "aws_iam_access_key" else "service account key"
    ctx.finding(USER_KEY, file=block.file).at(block.header).args(address=address, detail=f"a static {kind} that does not expire").emit()


CHECKS: tuple[CodeCheck, ...] = (
    CodeCheck(
        frozenset({WILDCARD}),
        (*POLICY_RESOURCES, *DATA_SERVICE_POLICIES, "aws_iam_role", "aws_iam_policy_document", *ATTACHMENTS),
        check_wildcards,
    ),
    CodeCheck(frozenset({SECRET_OUTPUT}), tuple(SECRET_ATTRIBUTES), check_secret_outputs),
    CodeCheck(frozenset({USER_KEY}), ("aws_iam_access_key", "google_service_account_key"), check_user_keys),
)
