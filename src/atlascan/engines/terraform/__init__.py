"""Terraform analyzer: ML infrastructure (SageMaker, Bedrock, Vertex AI, Azure ML) and the
storage, registries, identities and networks around it. See `engine.py`."""

from atlascan.engines.terraform.engine import TerraformEngine

__all__ = ["TerraformEngine"]
