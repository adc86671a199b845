"""Cross-resource storage checks: S3 buckets with their split (provider v4+) resources,
GCS bucket IAM, and registry policies.

A bucket's exposure is decided over everything that targets it: legacy inline arguments
and `aws_s3_bucket_acl` / `_policy` / `_public_access_block` /
`_server_side_encryption_configuration` / `_versioning` / `_object_lock_configuration`,
linked by reference (`aws_s3_bucket.x.id`) or by literal bucket name, plus any
`aws_s3_account_public_access_block` in the module.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from atlascan.analysis import GroupContext
from atlascan.engines.terraform.codecheck import CodeCheck
from atlascan.engines.terraform.conditions import grantee, name_words, named, never_created
from atlascan.engines.terraform.module import Module, describe, is_known
from atlascan.engines.terraform.policies import (
    Statement,
    action_matches,
    document_statements,
    value_span,
)
from atlascan.model import Precision, Severity
from atlascan.parsers.terraform.syntax import Attribute, Block

if TYPE_CHECKING:
    from atlascan.findings import FindingBuilder

PUBLIC_ACL = "ATS-TF-012"
BUCKET_CMK = "ATS-TF-014"
VERSIONING = "ATS-TF-015"
PUBLIC_GCS = "ATS-TF-016"
PUBLIC_REGISTRY = "ATS-TF-022"

ALL_USERS_URIS = ("http://acs.amazonaws.com/groups/global/AllUsers", "http://acs.amazonaws.com/groups/global/AuthenticatedUsers")
PUBLIC_CANNED = {"public-read": "readable", "public-read-write": "writable", "authenticated-read": "readable"}
S3_WRITE = ("s3:PutObject", "s3:DeleteObject", "s3:PutObjectAcl", "s3:PutBucketPolicy")
S3_READ = ("s3:GetObject", "s3:ListBucket")
ECR_PUSH = ("ecr:PutImage", "ecr:InitiateLayerUpload", "ecr:UploadLayerPart", "ecr:CompleteLayerUpload")
ECR_PULL = ("ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer")
PUBLIC_MEMBERS = ("allUsers", "allAuthenticatedUsers")
WRITE_ROLE = re.compile(r"(?i)(admin|writer|creator|legacyBucketOwner|legacyBucketWriter|repoAdmin|editor|owner)")
DEFAULT_ML_NAMES = r"(?i)(?<![a-z0-9])(model|data|train|feature|artifact|checkpoint|weight|corpus|label|embedding|mlflow|sagemaker|vertex|ml)"  # read against conditions.name_words: word starts


@dataclass
class Bucket:
    address: str
    block: Block
    acls: list[tuple[Block, Attribute]] = field(default_factory=list)  # (owner block, acl attr)
    grants: list[tuple[Block, Block, str]] = field(default_factory=list)  # (owner, grant block, permission)
    policies: list[tuple[Block, Attribute]] = field(default_factory=list)
    pabs: list[Block] = field(default_factory=list)
    sse: list[Block] = field(default_factory=list)
    versioning: list[Block] = field(default_factory=list)
    locked: bool = False


def link_buckets(module: Module) -> tuple[dict[str, Bucket], list[Block]]:
    """Every aws_s3_bucket with what targets it, and the split resources whose bucket is unknown."""
    buckets = {a: Bucket(a, b) for a, b in module.of_type("aws_s3_bucket")}
    by_name: dict[str, str] = {}
    ambiguous: set[str] = set()  # bucket names are global: two blocks naming one are not both real
    for address, bucket in buckets.items():
        name = bucket.block.attributes.get("bucket")
        value = module.resolve(name.value) if name else None
        if isinstance(value, str):
            if value in by_name:
                ambiguous.add(value)
            by_name[value] = address
        _inline(module, bucket)
    for value in ambiguous:
        del by_name[value]
    orphans: list[Block] = []
    split = (
        "aws_s3_bucket_acl", "aws_s3_bucket_policy", "aws_s3_bucket_public_access_block",
        "aws_s3_bucket_server_side_encryption_configuration", "aws_s3_bucket_versioning",
        "aws_s3_bucket_object_lock_configuration",
    )  # fmt: skip
    for _, block in module.of_type(*split):
        target = block.attributes.get("bucket")
        ref = module.referenced_resource(target.value) if target else None
        if ref is None and target is not None:
            value = module.resolve(target.value)
            ref = by_name.get(value) if isinstance(value, str) else None
        linked = buckets.get(ref or "")
        if linked is None:
            orphans.append(block)
            continue
        _attach(linked, block)
    return buckets, orphans


def _inline(module: Module, bucket: Bucket) -> None:
    block = bucket.block
    if "acl" in block.attributes:
        bucket.acls.append((block, block.attributes["acl"]))
    for grant in block.sub("grant"):
        uri = module.resolve(grant.attributes["uri"].value) if "uri" in grant.attributes else None
        if uri in ALL_USERS_URIS:
            perms = module.resolve(grant.attributes["permissions"].value) if "permissions" in grant.attributes else []
            for perm in perms if isinstance(perms, list) else []:
                if isinstance(perm, str):
                    bucket.grants.append((block, grant, perm))
    if "policy" in block.attributes:
        bucket.policies.append((block, block.attributes["policy"]))
    if block.first("server_side_encryption_configuration"):
        bucket.sse.append(block)
    if block.first("versioning"):
        bucket.versioning.append(block)
    lock = block.attributes.get("object_lock_enabled")
    config = block.first("object_lock_configuration")
    config_on = config is not None and str(module.resolve(config.attributes["object_lock_enabled"].value) if "object_lock_enabled" in config.attributes else "Enabled").lower() != "disabled"
    if (lock is not None and module.resolve(lock.value) is True) or config_on:
        bucket.locked = True


def _attach(bucket: Bucket, block: Block) -> None:
    kind = block.labels[0]
    if kind == "aws_s3_bucket_acl":
        if "acl" in block.attributes:
            bucket.acls.append((block, block.attributes["acl"]))
        for policy in block.sub("access_control_policy"):
            for grant in policy.sub("grant"):
                bucket.grants.append((block, grant, ""))  # resolved in _split_grants
    elif kind == "aws_s3_bucket_policy" and "policy" in block.attributes:
        bucket.policies.append((block, block.attributes["policy"]))
    elif kind == "aws_s3_bucket_public_access_block":
        bucket.pabs.append(block)
    elif kind == "aws_s3_bucket_server_side_encryption_configuration":
        bucket.sse.append(block)
    elif kind == "aws_s3_bucket_versioning":
        bucket.versioning.append(block)
    elif kind == "aws_s3_bucket_object_lock_configuration":
        bucket.locked = True


def _flag(module: Module, pabs: list[Block], *names: str) -> bool:
    """True when some public access block sets one of these flags to true."""
    for pab in pabs:
        for name in names:
            attr = pab.attributes.get(name)
            if attr is not None and module.resolve(attr.value) is True:
                return True
    return False


# ---- ATS-TF-012: public S3 buckets -------------------------------------------------------
def check_public_buckets(module: Module, ctx: GroupContext) -> None:
    if not ctx.enabled(PUBLIC_ACL):
        return
    buckets, orphans = link_buckets(module)
    account = [b for _, b in module.of_type("aws_s3_account_public_access_block")]
    for bucket in buckets.values():
        if never_created(module, bucket.block):
            continue
        pabs = bucket.pabs + account
        if not _flag(module, pabs, "ignore_public_acls", "block_public_acls"):
            _report_acls(module, ctx, bucket.address, bucket.acls, bucket.grants, bucket.block)
        if not _flag(module, pabs, "restrict_public_buckets", "block_public_policy"):
            _report_policies(module, ctx, bucket.address, bucket.policies, bucket.block)
    for block in orphans:  # the bucket is a variable: still public unless an account block says no
        address = ".".join(block.labels)
        if block.labels[0] == "aws_s3_bucket_acl" and not _flag(module, account, "ignore_public_acls", "block_public_acls"):
            stub = Bucket(address, block)
            _attach(stub, block)
            _report_acls(module, ctx, address, stub.acls, stub.grants)
        elif block.labels[0] == "aws_s3_bucket_policy" and not _flag(module, account, "restrict_public_buckets", "block_public_policy"):
            _report_policies(module, ctx, address, [(block, block.attributes["policy"])] if "policy" in block.attributes else [])


def _bucket_location(finding: FindingBuilder, owner: Block, bucket: Block | None) -> FindingBuilder:
    """A split resource (`aws_s3_bucket_acl`, `aws_s3_bucket_policy`) opens the bucket it
    names: the bucket is a related location, so the finding also shows against it."""
    if bucket is not None and bucket is not owner:
        finding.related(bucket.header, f"the bucket `{'.'.join(bucket.labels)}` this opens", path=bucket.file.path)
    return finding


def _report_acls(module: Module, ctx: GroupContext, address: str, acls: list[tuple[Block, Attribute]], grants: list[tuple[Block, Block, str]], bucket: Block | None = None) -> None:
    for owner, attr in acls:
        value = module.resolve(attr.value)
        if isinstance(value, str) and value in PUBLIC_CANNED:
            access = PUBLIC_CANNED[value]
            finding = (
                ctx.finding(PUBLIC_ACL, file=owner.file)
                .at(attr.span)
                .args(address=address, access=access, detail=f"canned ACL `{value}`")
                .severity(Severity.CRITICAL if access == "writable" else None)
            )
            _bucket_location(finding, owner, bucket).emit()
    for owner, grant, perm in grants:
        if not perm:  # an access_control_policy grant: grantee { uri } + permission
            grantee = grant.first("grantee")
            uri = module.resolve(grantee.attributes["uri"].value) if grantee and "uri" in grantee.attributes else None
            if uri not in ALL_USERS_URIS or "permission" not in grant.attributes:
                continue
            perm_value = module.resolve(grant.attributes["permission"].value)
            perm = perm_value if isinstance(perm_value, str) else ""
        if not perm:
            continue
        writable = perm in ("WRITE", "FULL_CONTROL", "WRITE_ACP")
        finding = (
            ctx.finding(PUBLIC_ACL, file=grant.file)
            .at(grant.header)
            .args(address=address, access="writable" if writable else "readable", detail=f"a `{perm}` grant to all users")
            .severity(Severity.CRITICAL if writable else None)
        )
        _bucket_location(finding, owner, bucket).emit()


def _report_policies(module: Module, ctx: GroupContext, address: str, policies: list[tuple[Block, Attribute]], bucket: Block | None = None) -> None:
    for owner, attr in policies:
        statements = document_statements(module, module.resolve(attr.value), attr, owner)
        statements += _referenced_document(module, attr)
        for st in statements:
            if not (st.allows and st.public) or st.not_action:
                continue
            writable = any(action_matches(a, S3_WRITE) for a in st.actions)
            readable = writable or any(action_matches(a, S3_READ) for a in st.actions)
            if not readable:
                continue
            span = st.attr.span if st.from_document else value_span(ctx.document(st.block.file).lines, st.attr, "*", "Principal")
            finding = (
                ctx.finding(PUBLIC_ACL, file=st.block.file)
                .at(span)
                .args(
                    address=address,
                    access="writable" if writable else "readable",
                    detail=f"a policy statement allows `{', '.join(st.actions)}` to Principal `*`",
                )
                .severity(Severity.CRITICAL if writable else None)
            )
            _bucket_location(finding, owner, bucket).emit()


def _referenced_document(module: Module, attr: Attribute) -> list[Statement]:
    from atlascan.engines.terraform.policies import data_document_statements

    address = module.referenced_resource(attr.value)
    if address is None or not address.startswith("data.aws_iam_policy_document."):
        return []
    return data_document_statements(module, module.data[address])


# ---- ATS-TF-014 / ATS-TF-015: ML data buckets --------------------------------------------
def _ml_pattern(ctx: GroupContext, rule_id: str) -> re.Pattern[str]:
    rule = ctx.rules.get(rule_id)
    return re.compile(rule.match.get("name_pattern", DEFAULT_ML_NAMES) if rule else DEFAULT_ML_NAMES)


UPLOADS = ("aws_s3_object", "aws_s3_bucket_object")
# Objects that package code or configuration: a Service Catalog product, a Lambda bundle, a
# template, a script.
PACKAGED_FILE = re.compile(r"\.(?:zip|tar\.gz|tgz|tar|jar|whl|py|sh|tf|ya?ml|template|html|js)$", re.I)


def filled_from_repository(module: Module, bucket: Bucket, pattern: re.Pattern[str]) -> bool:
    """Whether this configuration uploads the bucket's objects itself (`aws_s3_object` with a
    `source` or `content`), each a packaged file of code or configuration (`PACKAGED_FILE`)
    under a name that is no ML data: it holds files of the repository (a Service Catalog
    product tarball, a Lambda zip), whatever its own name says."""
    uploads = []
    for _, block in module.of_type(*UPLOADS):
        target = block.attributes.get("bucket")
        if target is not None and module.referenced_resource(target.value) == bucket.address:
            uploads.append(block)
    if not uploads:
        return False
    for block in uploads:
        if "source" not in block.attributes and "content" not in block.attributes:
            return False
        named_as = [str(block.attributes[k].value) for k in ("key", "source") if k in block.attributes]
        if any(pattern.search(form) for text in named_as for form in name_words(text)):
            return False
        key = block.attributes.get("key")
        if key is None or not PACKAGED_FILE.search(str(key.value).strip().strip('"')):
            return False  # a spreadsheet, a CSV, a Parquet file: data, whatever its name
    return True


def check_bucket_encryption(module: Module, ctx: GroupContext) -> None:
    if not ctx.enabled(BUCKET_CMK):
        return
    pattern = _ml_pattern(ctx, BUCKET_CMK)
    buckets, _ = link_buckets(module)
    for bucket in buckets.values():
        if never_created(module, bucket.block) or not named(module, bucket.block, pattern) or filled_from_repository(module, bucket, pattern):
            continue
        defaults = [d for s in bucket.sse for r in _rules_of(s) for d in r.sub("apply_server_side_encryption_by_default")]
        if not defaults:
            detail = "no server-side encryption configuration, so S3 uses its own SSE-S3 keys"
            ctx.finding(BUCKET_CMK, file=bucket.block.file).at(bucket.block.header).args(address=bucket.address, detail=detail).emit()
            continue
        for d in defaults:
            algo_attr = d.attributes.get("sse_algorithm")
            algo = module.resolve(algo_attr.value) if algo_attr else None
            key = d.attributes.get("kms_master_key_id")
            if algo_attr is None or not is_known(algo):
                continue
            if isinstance(algo, str) and algo.startswith("aws:kms"):
                if key is not None and module.resolve(key.value) not in (None, ""):
                    continue
                detail = f"`sse_algorithm = {describe(algo)}` without `kms_master_key_id` uses the AWS managed key"
            else:
                detail = f"`sse_algorithm = {describe(algo)}` uses S3-owned keys"
            ctx.finding(BUCKET_CMK, file=d.file).at(algo_attr.span).args(address=bucket.address, detail=detail).emit()


def _rules_of(sse: Block) -> list[Block]:
    if sse.labels and sse.labels[0] == "aws_s3_bucket_server_side_encryption_configuration":
        return sse.sub("rule")
    return [r for c in sse.sub("server_side_encryption_configuration") for r in c.sub("rule")]


def check_bucket_versioning(module: Module, ctx: GroupContext) -> None:
    if not ctx.enabled(VERSIONING):
        return
    pattern = _ml_pattern(ctx, VERSIONING)
    buckets, _ = link_buckets(module)
    for bucket in buckets.values():
        if bucket.locked or never_created(module, bucket.block) or not named(module, bucket.block, pattern):
            continue
        if filled_from_repository(module, bucket, pattern):
            continue
        enabled, bad = _versioning_state(module, bucket)
        if enabled:
            continue
        if bad is not None:
            attr, owner = bad
            detail = f"`{attr.name} = {describe(module.resolve(attr.value))}`"
            ctx.finding(VERSIONING, file=owner.file).at(attr.span).args(address=bucket.address, detail=detail).emit()
        elif not bucket.versioning:
            detail = "no versioning and no object lock"
            ctx.finding(VERSIONING, file=bucket.block.file).at(bucket.block.header).args(address=bucket.address, detail=detail).emit()


def _versioning_state(module: Module, bucket: Bucket) -> tuple[bool, tuple[Attribute, Block] | None]:
    """(enabled, the attribute that disables it); unknown values count as enabled."""
    bad = None
    for v in bucket.versioning:
        if v.labels and v.labels[0] == "aws_s3_bucket_versioning":
            conf = v.first("versioning_configuration")
            attr = conf.attributes.get("status") if conf else None
            on = "Enabled"
        else:
            conf = v.first("versioning")
            attr = conf.attributes.get("enabled") if conf else None
            on = True  # type: ignore[assignment]
        if attr is None:
            continue
        value = module.resolve(attr.value)
        if value == on or not is_known(value):
            return True, None
        bad = (attr, v)
    return False, bad


# ---- ATS-TF-016 / ATS-TF-022: IAM members open to everyone -----------------------------
GCS_IAM = (
    "google_storage_bucket_iam_member", "google_storage_bucket_iam_binding", "google_storage_bucket_access_control",
    "google_storage_bucket_acl", "google_storage_default_object_access_control", "google_storage_default_object_acl",
)  # fmt: skip
REGISTRY_IAM = ("google_artifact_registry_repository_iam_member", "google_artifact_registry_repository_iam_binding")


def _role_text(module: Module, block: Block) -> str:
    for name in ("role", "role_entity"):
        attr = block.attributes.get(name)
        if attr is not None:
            value = module.resolve(attr.value)
            if isinstance(value, str):
                return value
            if isinstance(value, list):
                return " ".join(v for v in value if isinstance(v, str))
    return ""


def check_public_gcs(module: Module, ctx: GroupContext) -> None:
    if not ctx.enabled(PUBLIC_GCS):
        return
    enforced = set()
    for address, block in module.of_type("google_storage_bucket"):
        pap = block.attributes.get("public_access_prevention")
        if pap is not None and module.resolve(pap.value) == "enforced":
            enforced.add(address)
    for address, block in module.of_type(*GCS_IAM):
        target = block.attributes.get("bucket")
        if target is not None and module.referenced_resource(target.value) in enforced:
            continue  # public access prevention makes the grant ineffective
        hit = grantee(module, block, PUBLIC_MEMBERS)
        if hit is None:
            continue
        attr, member = hit
        # An ACL's `role_entity` writes each grant `ROLE:entity`: the public entry's own role
        # counts, not the project owners' OWNER beside it.
        role = member.rpartition(":")[0] if attr is block.attributes.get("role_entity") else _role_text(module, block)
        writable = bool(WRITE_ROLE.search(role)) or role.upper().startswith("OWNER") or "WRITER" in role.upper()
        (
            ctx.finding(PUBLIC_GCS, file=block.file)
            .at(attr.span)
            .args(address=address, access="writable" if writable else "readable", detail=f"`{member}` is granted `{role or 'access'}`")
            .severity(Severity.CRITICAL if writable else None)
            .emit()
        )


def check_public_registry(module: Module, ctx: GroupContext) -> None:
    if not ctx.enabled(PUBLIC_REGISTRY):
        return
    for address, block in module.of_type(*REGISTRY_IAM):
        hit = grantee(module, block, PUBLIC_MEMBERS)
        if hit is None:
            continue
        attr, member = hit
        role = _role_text(module, block)
        writable = bool(WRITE_ROLE.search(role))
        (
            ctx.finding(PUBLIC_REGISTRY, file=block.file)
            .at(attr.span)
            .args(address=address, access="push" if writable else "pull", detail=f"`{member}` is granted `{role or 'access'}`")
            .severity(Severity.CRITICAL if writable else None)
            .emit()
        )
    for address, block in module.of_type("aws_ecr_repository_policy", "aws_ecr_registry_policy"):
        policy = block.attributes.get("policy")
        if policy is None:
            continue
        statements = document_statements(module, module.resolve(policy.value), policy, block) + _referenced_document(module, policy)
        for st in statements:
            if not (st.allows and st.public) or st.not_action:
                continue
            push = any(action_matches(a, ECR_PUSH) for a in st.actions)
            if not push and not any(action_matches(a, ECR_PULL) for a in st.actions):
                continue
            # Not from a policy document, the statement is written in `policy` itself.
            span = st.attr.span if st.from_document else value_span(ctx.document(block.file).lines, policy, "*", "Principal")
            (
                ctx.finding(PUBLIC_REGISTRY, file=st.block.file)
                .at(span)
                .args(
                    address=address,
                    access="push" if push else "pull",
                    detail=f"a policy statement allows `{', '.join(st.actions)}` to Principal `*`",
                )
                .severity(Severity.CRITICAL if push else None)
                .precision(Precision.HIGH)
                .emit()
            )


S3_TYPES = (
    "aws_s3_bucket", "aws_s3_bucket_acl", "aws_s3_bucket_policy", "aws_s3_account_public_access_block",
)  # fmt: skip
CHECKS: tuple[CodeCheck, ...] = (
    CodeCheck(frozenset({PUBLIC_ACL}), S3_TYPES, check_public_buckets),
    CodeCheck(frozenset({BUCKET_CMK}), ("aws_s3_bucket",), check_bucket_encryption),
    CodeCheck(frozenset({VERSIONING}), ("aws_s3_bucket",), check_bucket_versioning),
    CodeCheck(frozenset({PUBLIC_GCS}), GCS_IAM, check_public_gcs),
    CodeCheck(frozenset({PUBLIC_REGISTRY}), (*REGISTRY_IAM, "aws_ecr_repository_policy", "aws_ecr_registry_policy"), check_public_registry),
)
