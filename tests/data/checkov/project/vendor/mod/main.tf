resource "aws_s3_bucket" "vendored" {
  acl = "public-read"
}
