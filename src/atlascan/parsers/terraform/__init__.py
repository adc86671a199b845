"""Terraform configuration: native HCL (.tf, .tfvars) and Terraform JSON (.tf.json,
.tfvars.json) read into the same `syntax` objects, so checks never see which it was.

`tree(doc)` is the parse stage's entry (`Document.tree` of kind "terraform"); the format
follows the path's suffix, as Terraform itself decides.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from atlascan.model import ParseError
from atlascan.parsers.terraform.hcl_reader import read_hcl
from atlascan.parsers.terraform.json_reader import read_json
from atlascan.parsers.terraform.syntax import ParsedFile

if TYPE_CHECKING:
    from atlascan.document import Document

__all__ = ["json_document", "json_text", "tree"]


def tree(doc: Document) -> ParsedFile:
    try:
        return read_json(doc) if doc.path.endswith(".json") else read_hcl(doc)
    except RecursionError:
        raise ParseError("File is too deeply nested for the Terraform analyzer; skipped.") from None


def json_document(text: str) -> Any:
    """A JSON document held in a Terraform string (`jsondecode`, a heredoc policy).
    Raises ParseError when it is not JSON."""
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        raise ParseError("not JSON") from None


_TRAILING_COMMA = re.compile(r",(\s*[}\]])")


def json_text(value: Any) -> Any:
    """A policy-like JSON object or array written as a string; None when it is not one."""
    if not isinstance(value, str) or not value.lstrip().startswith(("{", "[")):
        return None
    try:
        return json_document(value)
    except ParseError:
        pass
    # Trailing commas (`"s3:*",\n]`) are the usual slip in hand-written heredoc policies: read
    # what the author meant, so the policy is still checked.
    relaxed = _TRAILING_COMMA.sub(r"\1", value)
    if relaxed == value:
        return None
    try:
        return json_document(relaxed)
    except ParseError:
        return None
