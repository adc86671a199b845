resource "aws_sagemaker_notebook_instance" "research" {
  name                   = "research"
  role_arn               = "arn:aws:iam::123456789012:role/notebook"
  instance_type          = "ml.t3.medium"
  direct_internet_access = "Enabled"
}

resource "aws_s3_bucket" "training_data" {
  bucket = "acme-training-data"
  acl    = "public-read"
}

resource "aws_s3_bucket" "reports" {
  # atlascan: ignore[checkov/CKV_AWS_20] published reports are public by design
  bucket = "acme-public-reports"
  acl    = "public-read"
}
