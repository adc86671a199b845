"""Time the Terraform analyzer: a one-file scan, and a scan of a generated tree of ~300 .tf
files (30 modules of 10 files).

    .venv/bin/python benchmarks/terraform_bench.py                 # 300 files, jobs auto
    .venv/bin/python benchmarks/terraform_bench.py --files 600 --jobs 1

Each module mixes ML resources (SageMaker, Bedrock, Vertex, Azure ML), buckets with split
resources, IAM policies, security groups, variables and locals, about 60-150 lines a file.
The scans run the atlascan CLI in a subprocess, as a user would (`--select ATS-TF`).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MODULE_FILES = {
    "variables.tf": '''
variable "env" {{
  type    = string
  default = "dev{n}"
}}

variable "internet" {{
  type    = string
  default = "Disabled"
}}

variable "subnet_ids" {{
  type = list(string)
}}
''',
    "locals.tf": '''
locals {{
  prefix = "acme-${{var.env}}"
  tags   = {{ team = "ml", module = "{n}" }}
}}
''',
    "storage.tf": '''
resource "aws_s3_bucket" "training_data" {{
  bucket = "${{local.prefix}}-training-data"
  tags   = local.tags
}}

resource "aws_s3_bucket_public_access_block" "training_data" {{
  bucket                  = aws_s3_bucket.training_data.id
  block_public_acls       = true
  ignore_public_acls      = true
  block_public_policy     = true
  restrict_public_buckets = true
}}

resource "aws_s3_bucket_versioning" "training_data" {{
  bucket = aws_s3_bucket.training_data.id
  versioning_configuration {{
    status = "Enabled"
  }}
}}

resource "aws_s3_bucket" "models" {{
  bucket = "${{local.prefix}}-models"
}}

resource "aws_s3_bucket_policy" "models" {{
  bucket = aws_s3_bucket.models.id
  policy = jsonencode({{
    Version = "2012-10-17"
    Statement = [{{
      Effect    = "Allow"
      Principal = {{ AWS = aws_iam_role.sagemaker.arn }}
      Action    = ["s3:GetObject", "s3:ListBucket"]
      Resource  = [aws_s3_bucket.models.arn, "${{aws_s3_bucket.models.arn}}/*"]
    }}]
  }})
}}
''',
    "sagemaker.tf": '''
resource "aws_sagemaker_notebook_instance" "research" {{
  name                   = "research-{n}"
  role_arn               = aws_iam_role.sagemaker.arn
  instance_type          = "ml.t3.medium"
  subnet_id              = var.subnet_ids[0]
  direct_internet_access = var.internet
  root_access            = "Disabled"
  kms_key_id             = aws_kms_key.ml.id
}}

resource "aws_sagemaker_model" "classifier" {{
  name                     = "classifier-{n}"
  execution_role_arn       = aws_iam_role.sagemaker.arn
  enable_network_isolation = true
  primary_container {{
    image          = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/serving:{n}"
    model_data_url = "s3://${{aws_s3_bucket.models.bucket}}/classifier.tar.gz"
  }}
}}

resource "aws_sagemaker_endpoint_configuration" "serving" {{
  name        = "serving-{n}"
  kms_key_arn = aws_kms_key.ml.arn
  production_variants {{
    variant_name           = "primary"
    model_name             = aws_sagemaker_model.classifier.name
    initial_instance_count = 1
    instance_type          = "ml.m5.large"
  }}
}}
''',
    "iam.tf": '''
resource "aws_iam_role" "sagemaker" {{
  name               = "sagemaker-{n}"
  assume_role_policy = data.aws_iam_policy_document.assume.json
}}

data "aws_iam_policy_document" "assume" {{
  statement {{
    actions = ["sts:AssumeRole"]
    principals {{
      type        = "Service"
      identifiers = ["sagemaker.amazonaws.com"]
    }}
  }}
}}

resource "aws_iam_role_policy" "sagemaker" {{
  role = aws_iam_role.sagemaker.id
  policy = jsonencode({{
    Statement = [
      {{ Effect = "Allow", Action = ["sagemaker:Describe*", "sagemaker:List*"], Resource = "*" }},
      {{ Effect = "Allow", Action = ["s3:GetObject"], Resource = "${{aws_s3_bucket.training_data.arn}}/*" }},
    ]
  }})
}}
''',
    "network.tf": '''
resource "aws_security_group" "ray" {{
  name   = "ray-{n}"
  vpc_id = "vpc-123"
  ingress {{
    from_port   = 8265
    to_port     = 8265
    protocol    = "tcp"
    cidr_blocks = ["10.0.0.0/16"]
  }}
  ingress {{
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }}
  egress {{
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }}
}}
''',
    "gcp.tf": '''
resource "google_storage_bucket" "features" {{
  name                        = "acme-features-{n}"
  location                    = "EU"
  public_access_prevention    = "enforced"
  uniform_bucket_level_access = true
  versioning {{
    enabled = true
  }}
}}

resource "google_workbench_instance" "nb" {{
  name     = "nb-{n}"
  location = "europe-west4-a"
  gce_setup {{
    machine_type      = "n1-standard-4"
    disable_public_ip = true
  }}
}}
''',
    "azure.tf": '''
resource "azurerm_machine_learning_workspace" "ws" {{
  name                          = "mlw-{n}"
  location                      = "westeurope"
  resource_group_name           = "rg-ml"
  application_insights_id       = "/subscriptions/x/ai"
  key_vault_id                  = "/subscriptions/x/kv"
  storage_account_id            = "/subscriptions/x/sa"
  public_network_access_enabled = false
  identity {{
    type = "SystemAssigned"
  }}
}}
''',
    "ecr.tf": '''
resource "aws_ecr_repository" "serving" {{
  name                 = "serving-{n}"
  image_tag_mutability = "IMMUTABLE"
  image_scanning_configuration {{
    scan_on_push = true
  }}
}}
''',
    "outputs.tf": '''
output "model_bucket" {{
  value = aws_s3_bucket.models.bucket
}}

output "endpoint_config" {{
  value = aws_sagemaker_endpoint_configuration.serving.name
}}
''',
}


def generate(root: Path, files: int) -> int:
    modules = max(1, files // len(MODULE_FILES))
    count = 0
    for n in range(modules):
        folder = root / f"module_{n:03d}"
        folder.mkdir(parents=True)
        for name, template in MODULE_FILES.items():
            (folder / name).write_text(template.format(n=n), encoding="utf-8")
            count += 1
    (root / "module_000" / "terraform.tfvars").write_text('env = "prod"\n', encoding="utf-8")
    return count


def run(args: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    proc = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if proc.returncode not in (0, 1):
        sys.exit(f"scan failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=300)
    parser.add_argument("--jobs", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=3)
    opts = parser.parse_args()
    cli = [sys.executable, "-m", "atlascan", "scan", "--select", "ATS-TF", "--format", "json", "--quiet"]
    work = Path(tempfile.mkdtemp(prefix="atlascan-tf-bench-"))
    try:
        tree = work / "tree"
        count = generate(tree, opts.files)
        one = tree / "module_000"
        env = dict(os.environ)
        single = min(run([*cli, "--jobs", "1", str(one / "sagemaker.tf")], env) for _ in range(opts.repeat))
        jobs = ["--jobs", str(opts.jobs)] if opts.jobs else []
        full = [run([*cli, *jobs, str(tree)], env) for _ in range(opts.repeat)]
        print(f"one-file scan : {single:6.2f} s (best of {opts.repeat})")
        print(f"{count} .tf files in {count // len(MODULE_FILES)} modules : best {min(full):6.2f} s, median {sorted(full)[len(full) // 2]:6.2f} s ({min(full) / count * 1000:.1f} ms per file)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
