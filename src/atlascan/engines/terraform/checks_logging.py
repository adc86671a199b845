"""Telemetry: a module that deploys Bedrock resources without model invocation logging."""

from __future__ import annotations

from atlascan.analysis import GroupContext
from atlascan.engines.terraform.codecheck import CodeCheck
from atlascan.engines.terraform.conditions import never_created
from atlascan.engines.terraform.locations import report_attribute, report_block
from atlascan.engines.terraform.module import Module

INVOCATION_LOGGING = "ATS-TF-008"
BEDROCK_USERS = (
    "aws_bedrockagent_agent", "aws_bedrockagent_knowledge_base", "aws_bedrock_custom_model",
    "aws_bedrock_provisioned_model_throughput", "aws_bedrock_guardrail", "aws_bedrock_inference_profile",
)  # fmt: skip
LOGGING = "aws_bedrock_model_invocation_logging_configuration"


def check_invocation_logging(module: Module, ctx: GroupContext) -> None:
    if not ctx.enabled(INVOCATION_LOGGING):
        return
    configs = list(module.of_type(LOGGING))
    for address, block in configs:
        config = block.first("logging_config")
        if config is None:
            report_block(ctx, INVOCATION_LOGGING, block, {"address": address, "detail": "it has no `logging_config`"})
            continue
        has_destination = config.first("s3_config") is not None or config.first("cloudwatch_config") is not None
        if not has_destination:
            report_block(ctx, INVOCATION_LOGGING, config, {"address": address, "detail": "`logging_config` names no S3 or CloudWatch destination"})
        for name in ("text_data_delivery_enabled",):
            attr = config.attributes.get(name)
            if attr is not None and module.resolve(attr.value) is False:
                report_attribute(ctx, INVOCATION_LOGGING, attr, block.file, {"address": address, "detail": f"`{name} = false`"})
    if configs:
        return
    users = [(a, b) for a, b in module.of_type(*BEDROCK_USERS) if not never_created(module, b)]
    if users:
        address, block = users[0]
        report_block(
            ctx, INVOCATION_LOGGING, block,
            {"address": address, "detail": f"the module has no `{LOGGING}`"},
        )  # fmt: skip


CHECKS: tuple[CodeCheck, ...] = (CodeCheck(frozenset({INVOCATION_LOGGING}), (*BEDROCK_USERS, LOGGING), check_invocation_logging),)
