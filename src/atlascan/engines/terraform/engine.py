"""The Terraform engine: each folder is one module; its files' trees (the parse stage's
`atlascan.parsers.terraform`) become one module, then the table-driven attribute
conditions and the cross-resource checks run over it."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from atlascan.analysis import GroupContext
from atlascan.engines import Engine
from atlascan.engines.terraform import (
    checks_iam_risks,
    checks_identity,
    checks_logging,
    checks_network,
    checks_storage,
)
from atlascan.engines.terraform.codecheck import CodeCheck
from atlascan.engines.terraform.conditions import check_conditions, compile_conditions, row_problems
from atlascan.engines.terraform.instances import check_module_calls
from atlascan.engines.terraform.module import Module, folder_trees
from atlascan.model import ParseError, SkipFile, SourceFile
from atlascan.parsers.terraform.syntax import ParsedFile

if TYPE_CHECKING:
    from atlascan.document import Document
    from atlascan.rules import Rule

# Native HCL is read at about 3 MB per second (tree-sitter, then the walk into `syntax`
# objects); real modules keep files far below this, and a generated giant would still eat
# much of the per-module time budget.
MAX_HCL_BYTES = 1024 * 1024
MAX_CONTEXT_FILES = 500

CODE_CHECKS: tuple[CodeCheck, ...] = (*checks_storage.CHECKS, *checks_identity.CHECKS, *checks_iam_risks.CHECKS, *checks_network.CHECKS, *checks_logging.CHECKS)
# `[match]` keys other than `conditions` that a code check reads, and the rules it reads them for.
CODE_TABLES = {"ports": frozenset({checks_network.OPEN_PORT}), "name_pattern": frozenset({checks_storage.BUCKET_CMK, checks_storage.VERSIONING})}


class TerraformEngine(Engine):
    name = "terraform"
    implements = frozenset().union(*(c.rule_ids for c in CODE_CHECKS))
    tables = frozenset({"conditions", "ports"})

    def validate(self, rule: Rule) -> list[str]:
        out = []
        for key, value in rule.match.items():
            if key == "conditions":
                rows = value if isinstance(value, list) else [value]
                out += [f"match.conditions[{i}]: {p}" for i, row in enumerate(rows) for p in row_problems(rule.id, row)]
            elif key not in CODE_TABLES:
                out.append(f"unknown matcher table `match.{key}` (the terraform engine reads conditions, {', '.join(CODE_TABLES)})")
            elif rule.id not in CODE_TABLES[key]:
                out.append(f"`match.{key}` is read only for {', '.join(sorted(CODE_TABLES[key]))}")
            elif key == "ports":
                out += [p for row in (value if isinstance(value, list) else [value]) for p in checks_network.port_problems(row)]
        return out

    def group_key(self, file: SourceFile) -> str | None:
        return "tf:" + (file.path.rsplit("/", 1)[0] if "/" in file.path else ".")

    def check_group(self, files: list[SourceFile], ctx: GroupContext) -> None:
        conditions = compile_conditions(ctx.rules)
        checks = [c for c in CODE_CHECKS if ctx.any_enabled(c.rule_ids)]
        if not conditions and not checks:
            return
        docs = self._read(files, ctx)
        triggers = {t for c in conditions for t in c.resources} | {t for c in checks for t in c.types}
        calls = conditions and any("module" in doc.text for doc in docs)
        if not calls and not any(t in doc.text for doc in docs for t in triggers):
            return  # nothing in this module any enabled rule looks at
        parsed = [p for doc in docs if (p := self._parse(doc, ctx)) is not None]
        own = len(parsed)  # the files asked for; context files follow
        parsed += self._context(files, ctx)
        module = Module(os.path.dirname(files[0].abspath), parsed)
        first = len(ctx.state.findings)
        check_conditions(module, ctx, conditions)
        if calls:
            check_module_calls(module, parsed[:own], ctx, conditions)
        for check in checks:
            check.run(module, ctx)
        scanned = {f.path for f in files}
        ctx.state.findings[first:] = [f for f in ctx.state.findings[first:] if f.path in scanned]

    def _context(self, files: list[SourceFile], ctx: GroupContext) -> list[ParsedFile]:
        """The module's other files when only some were given (a pre-commit hook passes the
        changed files): read for variables, locals and linked resources, never reported on."""
        rel_folder = files[0].path.rsplit("/", 1)[0] if "/" in files[0].path else ""
        given = frozenset(os.path.basename(f.abspath) for f in files)
        return folder_trees(
            ctx, os.path.dirname(files[0].abspath), rel_folder, (".tf", ".tfvars", ".tf.json"),
            skip=given, limit=MAX_CONTEXT_FILES, max_bytes=MAX_HCL_BYTES,
        )

    def _read(self, files: list[SourceFile], ctx: GroupContext) -> list[Document]:
        docs: list[Document] = []
        for file in files:
            try:
                docs.append(ctx.document(file))
            except SkipFile as exc:
                ctx.notice(str(exc), exc.level, file=file)
            except ParseError as exc:
                ctx.notice(str(exc), "warning", exc.line, file=file)
            except OSError as exc:
                ctx.notice(f"File could not be read: {exc.strerror or exc}.", "warning", file=file)
        return docs

    def _parse(self, doc: Document, ctx: GroupContext) -> ParsedFile | None:
        """One file of the module; a broken file is a notice and the rest of the module is still checked."""
        if len(doc.text) > MAX_HCL_BYTES:
            ctx.notice(
                f"File has {len(doc.text) // 1024} KiB of Terraform, over the analyzer's {MAX_HCL_BYTES // 1024} KiB limit; skipped.",
                "note",
                file=doc.file,
            )
            return None
        try:
            tree: ParsedFile = doc.tree
        except ParseError as exc:
            ctx.notice(str(exc), "warning", exc.line, file=doc.file)
            return None
        return tree
