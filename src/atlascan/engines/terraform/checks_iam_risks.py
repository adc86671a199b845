"""What an identity policy lets its holder do on every resource: escalate its own privileges,
obtain credentials, change who can reach a resource, or read every object and secret.

A statement counts when it allows actions on `Resource = "*"` (or `NotResource`) with no
`Condition`; statements of one policy document are read together (an escalation path may
need actions from two statements). Actions written as `*` / `*:*` are left to ATS-TF-023,
which reports them at high severity; whole-service and prefix wildcards (`iam:*`,
`iam:Put*`) grant the concrete actions they match. Statements with a `Principal` are
resource policies, not identity policies, and are not read here.

The action sets are published facts, not inventions: the escalation paths are Rhino Security
Labs' AWS privilege-escalation methods and the paths catalogued at pathfinding.cloud; the
credential-returning calls follow the list Cloudsplaining maintains; the read actions are
the ones Cloudsplaining calls data exfiltration.
"""

from __future__ import annotations

from collections import defaultdict

from atlascan.analysis import GroupContext
from atlascan.engines.terraform.checks_identity import POLICY_RESOURCES, policy_statements
from atlascan.engines.terraform.codecheck import CodeCheck
from atlascan.engines.terraform.module import Module
from atlascan.engines.terraform.policies import Statement, action_matches, value_span
from atlascan.model import Span

PRIVILEGE_ESCALATION = "ATS-TF-033"
CREDENTIAL_EXPOSURE = "ATS-TF-034"
RESOURCE_EXPOSURE = "ATS-TF-035"
UNSCOPED_DATA_READ = "ATS-TF-036"
RULES = frozenset({PRIVILEGE_ESCALATION, CREDENTIAL_EXPOSURE, RESOURCE_EXPOSURE, UNSCOPED_DATA_READ})

# (what the holder can do, actions that together allow it)
ESCALATION_PATHS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("create an access key for any user", ("iam:CreateAccessKey",)),
    ("set a console password for any user", ("iam:CreateLoginProfile",)),
    ("change any user's console password", ("iam:UpdateLoginProfile",)),
    ("add any user to any group", ("iam:AddUserToGroup",)),
    ("rewrite any managed policy", ("iam:CreatePolicyVersion",)),
    ("switch any managed policy to an older version", ("iam:SetDefaultPolicyVersion",)),
    ("attach any policy to a user", ("iam:AttachUserPolicy",)),
    ("attach any policy to a group", ("iam:AttachGroupPolicy",)),
    ("attach any policy to a role", ("iam:AttachRolePolicy",)),
    ("write an inline policy on any user", ("iam:PutUserPolicy",)),
    ("write an inline policy on any group", ("iam:PutGroupPolicy",)),
    ("write an inline policy on any role", ("iam:PutRolePolicy",)),
    ("rewrite any role's trust policy", ("iam:UpdateAssumeRolePolicy",)),
    ("run a new EC2 instance as any role", ("iam:PassRole", "ec2:RunInstances")),
    ("request a spot instance as any role", ("iam:PassRole", "ec2:RequestSpotInstances")),
    ("create and invoke a Lambda function as any role", ("iam:PassRole", "lambda:CreateFunction", "lambda:InvokeFunction")),
    ("create a Lambda function as any role and trigger it from a stream", ("iam:PassRole", "lambda:CreateFunction", "lambda:CreateEventSourceMapping")),
    ("create a Lambda function as any role and expose it", ("iam:PassRole", "lambda:CreateFunction", "lambda:AddPermission")),
    ("replace the code of any Lambda function", ("lambda:UpdateFunctionCode",)),
    ("create a Glue development endpoint as any role", ("iam:PassRole", "glue:CreateDevEndpoint")),
    ("take over any Glue development endpoint", ("glue:UpdateDevEndpoint",)),
    ("create and run a Glue job as any role", ("iam:PassRole", "glue:CreateJob", "glue:StartJobRun")),
    ("create a CloudFormation stack as any role", ("iam:PassRole", "cloudformation:CreateStack")),
    ("create a Data Pipeline as any role", ("iam:PassRole", "datapipeline:CreatePipeline")),
    ("create and start a CodeBuild project as any role", ("iam:PassRole", "codebuild:CreateProject", "codebuild:StartBuild")),
    ("run an ECS task as any role", ("iam:PassRole", "ecs:RegisterTaskDefinition", "ecs:RunTask")),
    ("create an App Runner service as any role", ("iam:PassRole", "apprunner:CreateService")),
    ("create a SageMaker notebook instance as any role", ("iam:PassRole", "sagemaker:CreateNotebookInstance")),
    ("start a SageMaker training job as any role", ("iam:PassRole", "sagemaker:CreateTrainingJob")),
    ("start a SageMaker processing job as any role", ("iam:PassRole", "sagemaker:CreateProcessingJob")),
    ("open any SageMaker notebook (and its role) through a presigned URL", ("sagemaker:CreatePresignedNotebookInstanceUrl",)),
)

# API calls whose response carries credentials (ecr:GetAuthorizationToken is left out: ECR
# only accepts it on `*`, and every image pull needs it).
CREDENTIAL_ACTIONS = (
    "iam:CreateAccessKey", "iam:UpdateAccessKey", "iam:CreateLoginProfile",
    "iam:CreateServiceSpecificCredential", "iam:ResetServiceSpecificCredential",
    "sts:AssumeRole", "sts:AssumeRoleWithSAML", "sts:AssumeRoleWithWebIdentity", "sts:GetFederationToken",
    "sso:GetRoleCredentials", "ec2:GetPasswordData", "rds-db:connect",
    "redshift:GetClusterCredentials", "redshift:GetClusterCredentialsWithIAM", "redshift-serverless:GetCredentials",
    "codeartifact:GetAuthorizationToken", "airflow:CreateCliToken", "airflow:CreateWebLoginToken",
    "cognito-identity:GetCredentialsForIdentity", "cognito-identity:GetOpenIdTokenForDeveloperIdentity",
    "emr-containers:GetManagedEndpointSessionCredentials", "lightsail:GetInstanceAccessDetails",
    "lightsail:DownloadDefaultKeyPair", "lightsail:CreateBucketAccessKey",
    "lightsail:GetRelationalDatabaseMasterUserPassword", "appsync:CreateApiKey", "grafana:CreateWorkspaceApiKey",
    "cloud9:CreateEnvironmentToken", "connect:GetFederationToken",
)  # fmt: skip

# Calls that change who may reach a resource: resource policies, ACLs, grants and shares.
EXPOSURE_ACTIONS = (
    "s3:PutBucketPolicy", "s3:DeleteBucketPolicy", "s3:PutBucketAcl", "s3:PutObjectAcl", "s3:PutObjectVersionAcl",
    "s3:PutBucketPublicAccessBlock", "s3:PutAccountPublicAccessBlock", "s3:PutAccessPointPolicy",
    "kms:PutKeyPolicy", "kms:CreateGrant", "ecr:SetRepositoryPolicy", "ecr:SetRegistryPolicy",
    "lambda:AddPermission", "lambda:AddLayerVersionPermission", "secretsmanager:PutResourcePolicy",
    "sns:AddPermission", "sqs:AddPermission", "glue:PutResourcePolicy", "logs:PutResourcePolicy",
    "sagemaker:PutModelPackageGroupPolicy", "ram:CreateResourceShare", "ram:AssociateResourceShare",
    "ec2:ModifySnapshotAttribute", "ec2:ModifyImageAttribute", "rds:ModifyDBSnapshotAttribute",
    "rds:ModifyDBClusterSnapshotAttribute", "backup:PutBackupVaultAccessPolicy", "efs:PutFileSystemPolicy",
    "apigateway:UpdateRestApiPolicy", "iam:UpdateAssumeRolePolicy", "iam:PutRolePermissionsBoundary",
    "iam:DeleteRolePermissionsBoundary", "iam:PutUserPermissionsBoundary", "iam:DeleteUserPermissionsBoundary",
)  # fmt: skip

# Reads that hand out whole datasets, models or secrets when not scoped.
DATA_READ_ACTIONS = (
    "s3:GetObject", "ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath", "secretsmanager:GetSecretValue",
)  # fmt: skip


def reported_here(st: Statement, pattern: str, enabled: frozenset[str]) -> bool:
    """Would one of these rules (those in `enabled`) report this whole-service wildcard on
    its own? ATS-TF-023 then leaves it to the more specific finding."""
    if st.principals or not st.unconstrained or pattern in ("*", "*:*"):
        return False
    sets = [
        (PRIVILEGE_ESCALATION, tuple(p[0] for _, p in ESCALATION_PATHS if len(p) == 1)),
        (CREDENTIAL_EXPOSURE, CREDENTIAL_ACTIONS),
        (RESOURCE_EXPOSURE, EXPOSURE_ACTIONS),
        (UNSCOPED_DATA_READ, DATA_READ_ACTIONS),
    ]
    return any(rule_id in enabled and action_matches(pattern, actions) for rule_id, actions in sets)


def _grants(statements: list[Statement], action: str) -> tuple[Statement, str] | None:
    """The first unconstrained statement (and its action pattern) that grants `action`."""
    for st in statements:
        for pattern in st.actions:
            if pattern not in ("*", "*:*") and action_matches(pattern, (action,)):
                return st, pattern
    return None


def _matching(statements: list[Statement], actions: tuple[str, ...]) -> list[tuple[Statement, str, str]]:
    return [(hit[0], hit[1], a) for a in actions if (hit := _grants(statements, a)) is not None]


def _names(hits: list[tuple[Statement, str, str]], limit: int = 3) -> str:
    names = list(dict.fromkeys(a for _, _, a in hits))
    shown = ", ".join(f"`{n}`" for n in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def check_iam_risks(module: Module, ctx: GroupContext) -> None:
    if not ctx.any_enabled(RULES):
        return
    documents: dict[tuple[int, int], tuple[str, list[Statement]]] = defaultdict(lambda: ("", []))
    for address, st in policy_statements(module):
        if st.principals or not st.unconstrained:
            continue  # a resource policy, or scoped to named resources or conditions
        key = (id(st.block), id(st.attr))
        documents[key] = (address, [*documents[key][1], st])
    for address, statements in documents.values():
        found: list[tuple[str, Statement, str, str, str]] = []  # rule, statement, pattern, what, actions
        if ctx.enabled(PRIVILEGE_ESCALATION):
            paths = [(what, hits) for what, needed in ESCALATION_PATHS if len(hits := _matching(statements, needed)) == len(needed)]
            if paths:
                what, hits = paths[0]
                more = f" (and {len(paths) - 1} other escalation paths)" if len(paths) > 1 else ""
                found.append((PRIVILEGE_ESCALATION, hits[0][0], hits[0][1], f"{what}{more}", _names(hits)))
        for rule_id, actions, what in (
            (CREDENTIAL_EXPOSURE, CREDENTIAL_ACTIONS, "obtain credentials"),
            (RESOURCE_EXPOSURE, EXPOSURE_ACTIONS, "change who may access resources"),
            (UNSCOPED_DATA_READ, DATA_READ_ACTIONS, "read every object, parameter or secret"),
        ):
            if ctx.enabled(rule_id) and (hits := _matching(statements, actions)):
                found.append((rule_id, hits[0][0], hits[0][1], what, _names(hits)))
        _emit(ctx, address, found)


def _emit(ctx: GroupContext, address: str, found: list[tuple[str, Statement, str, str, str]]) -> None:
    """One finding per line, the most serious concept first (`found` is in that order): a
    heredoc policy has a single line to point at, and the others join its message."""
    by_line: dict[tuple[str, int], list[tuple[str, Statement, Span, str, str]]] = {}
    for rule_id, st, pattern, what, actions in found:
        span = st.attr.span if st.from_document else value_span(ctx.document(st.block.file).lines, st.attr, pattern, "Action")
        by_line.setdefault((st.block.file.path, span.start_line), []).append((rule_id, st, span, what, actions))
    for entries in by_line.values():
        rule_id, st, span, what, actions = entries[0]
        text = f"it can {what} with {actions} on every resource" if rule_id == PRIVILEGE_ESCALATION else f"{actions} on every resource"
        text += "".join(f"; it can also {w} ({a})" for _, _, _, w, a in entries[1:])
        ctx.finding(rule_id, file=st.block.file).at(span).args(address=address, detail=text).emit()

CHECKS: tuple[CodeCheck, ...] = (
    CodeCheck(RULES, (*POLICY_RESOURCES, "aws_iam_role", "aws_iam_policy_document"), check_iam_risks),
)
