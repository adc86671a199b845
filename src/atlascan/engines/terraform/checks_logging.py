"""Telemetry: a module that deploys Bedrock resources without model invocation logging."""

from __future__ import annotations

from atlascan.analysis import GroupContext
from atlascan.engines.terraform.codecheck import CodeCheck
from atlascan.engines.terraform.conditions import never_created
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
            ctx.finding(INVOCATION_LOGGING, file=block.file).at(block.header).args(address=address, detail="it has no `logging_config`").emit()
            continue
        has_destination = config.first("s3_config") is not None or config.first("cloudwatch_config") is not None
        if not has_destination:
            detail = "`logging_config` names no S3 or CloudWatch destination"
            ctx.finding(INVOCATION_LOGGING, file=config.file).at(config.header).args(address=address, detail=detail).emit()
        for name in ("text_data_delivery_enabled",):
            attr = config.attributes.get(name)
            if attr is not None and module.resolve(attr.value) is False:
                ctx.finding(INVOCATION_LOGGING, file=block.file).at(attr.span).args(address=address, detail=f"`{name} = false`").emit()
    if configs:
        return
    users = [(a, b) for a, b in module.of_type(*BEDROCK_USERS) if not never_created(module, b)]
    if users:
        address, block = users[0]
        detail = f"the module has no `{LOGGING}`"
        ctx.finding(INVOCATION_LOGGING, file=block.file).at(block.header).args(address=address, detail=detail).emit()


CHECKS: tuple[CodeCheck, ...] = (CodeCheck(frozenset({INVOCATION_LOGGING}), (*BEDROCK_USERS, LOGGING), check_invocation_logging),)
