"""Committed model artifacts (AML.T0011.000 Unsafe AI Artifacts, AML.T0018.002 Embed Malware):
code execution hidden in pickle, PyTorch, joblib, NumPy and Keras files, found without ever
loading them. Binary artifacts are sniffed by magic and streamed with bounded reads; their
findings sit at line 1 with the callable, archive member and byte offset in the message and
properties, one per rule and file (the other callables are related locations). Keras
`config.json` and MLflow `MLmodel` text files get exact lines.

Modules: `containers` (sniffing, ZIP/tar/7z/npy/compression, executables), `pickle_vm` (the
symbolic unpickler), `policy` (allow/deny lists from checks/artifacts), `formats` (safetensors,
GGUF, ONNX, HDF5), `graphs` (TensorFlow SavedModel/GraphDef and ONNX graphs through
`protowire`, a protobuf wire reader), `codecheck` (TorchScript code, TorchServe handlers),
`keras_config`, `mlmodel` (also follows a flavor to its model file), `streams` (bounded
sources), `hits`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from atlascan.analysis import FileContext
from atlascan.engines import Engine
from atlascan.model import ParseError, SourceFile, Span

MAX_KERAS_JSON = 8 << 20
ARTIFACT_RULES = ("ATS-ART-001", "ATS-ART-002", "ATS-ART-003", "ATS-ART-004", "ATS-ART-005",
                  "ATS-ART-006", "ATS-ART-007", "ATS-ART-009", "ATS-ART-010", "ATS-ART-011")  # fmt: skip


def _scan_file(abspath: str, size: int, label: str, ctx: FileContext, hint: str | None = None) -> list[Any]:
    """Scan one model file as bytes; the hits of `hits.Collector`. `hint` (default: the file
    name) decides what a file without magic bytes is read as; "nested" reads it as a pickle."""
    from atlascan.engines.artifacts.containers import dispatch
    from atlascan.engines.artifacts.hits import Collector, Job
    from atlascan.engines.artifacts.policy import policy
    from atlascan.engines.artifacts.streams import FileWindow

    collector = Collector()
    job = Job(collector, policy(ctx.options), None, keras_allow=user_allowlist(ctx.options))
    job.dispatch = lambda src, lbl, depth, hint: dispatch(job, src, lbl, depth, hint)
    with open(abspath, "rb") as fh:
        dispatch(job, FileWindow(fh, 0, size), label, 0, hint or label.rsplit("/", 1)[-1].lower())
    return collector.hits


def user_allowlist(options: Mapping[str, Any]) -> tuple[str, ...]:
    section = options.get("artifacts") if isinstance(options, Mapping) else None
    allow = section.get("allow") if isinstance(section, Mapping) else None
    if isinstance(allow, str):
        return (allow,)
    return tuple(a for a in allow if isinstance(a, str)) if isinstance(allow, list) else ()


class ArtifactsEngine(Engine):
    name = "artifacts"
    implements = frozenset({*ARTIFACT_RULES, "ATS-ART-008"})

    def check_file(self, file: SourceFile, ctx: FileContext) -> None:
        if file.kind == "json":
            self._keras_json(file, ctx)
        elif file.kind == "mlmodel":
            self._mlmodel(file, ctx)
        elif file.kind == "artifact" and ctx.any_enabled(ARTIFACT_RULES):
            self._artifact(file, ctx)

    def _artifact(self, file: SourceFile, ctx: FileContext) -> None:
        if file.size == 0:
            return
        if file.size > ctx.limits.max_artifact_bytes:
            reason = f"it is {file.size >> 20} MiB, over the {ctx.limits.max_artifact_bytes >> 20} MiB artifact limit"
            builder = ctx.finding("ATS-ART-007").at(Span(1)).args(member=file.path, reason=reason).snippet("")
            builder.property("member", file.path).property("reason", reason).emit()
            return
        for hit in _scan_file(file.abspath, file.size, file.path, ctx):
            builder = ctx.finding(hit.rule_id).at(Span(1)).args(**hit.args).severity(hit.severity).snippet("")
            # One file is one thing to delete or re-export: its imports of one rule fold into
            # one finding, each callable a related location.
            builder.property("foldObject", "file:1")
            for key, value in hit.properties.items():
                builder.property(key, value)
            builder.emit()

    def _keras_json(self, file: SourceFile, ctx: FileContext) -> None:
        from atlascan.engines.artifacts import keras_config

        if not ctx.enabled("ATS-ART-006") or file.size > MAX_KERAS_JSON:
            return
        # Read here, not through ctx.text(): Keras writes its config as one long line, which
        # the core would skip as minified.
        with open(file.abspath, "rb") as fh:
            raw = fh.read(MAX_KERAS_JSON)
        if b'"class_name"' not in raw:
            return
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ParseError(f"Keras config is not valid UTF-8 (byte {exc.start}); skipped.") from None
        if not keras_config.looks_like_keras(text):
            return
        for hit in keras_config.scan(text, user_allowlist(ctx.options)):
            ctx.finding("ATS-ART-006").at(Span(hit.line, hit.column, hit.line, hit.end_column)).args(
                member=file.path, detail=hit.detail).property("layer", hit.layer).emit()

    def _mlmodel(self, file: SourceFile, ctx: FileContext) -> None:
        from atlascan.engines.artifacts import mlmodel

        lines = ctx.doc.lines
        if ctx.enabled("ATS-ART-008"):
            for hit in mlmodel.scan(lines):
                ctx.finding("ATS-ART-008").at(Span(hit.line, hit.column, hit.line, hit.end_column)).args(
                    key=hit.key, value=hit.value, detail=hit.detail).property("key", hit.key).property("value", hit.value).emit()
        if not ctx.any_enabled(ARTIFACT_RULES):
            return
        # Follow each flavor to the model file it names: a file discovery would not read as a
        # model (`model.statsmodels` at pickle protocol 0) is scanned here, its findings placed
        # on the MLmodel line that names it.
        for ref in mlmodel.model_files(lines):
            target = mlmodel.resolve(file, ref.value, ctx.limits.max_artifact_bytes)
            if target is None:
                continue
            abspath, rel, size = target
            for hit in _scan_file(abspath, size, rel, ctx, "nested"):
                builder = ctx.finding(hit.rule_id).at(Span(ref.line, ref.column, ref.line, ref.end_column))
                builder.args(**hit.args).severity(hit.severity).property("followed_from", file.path)
                builder.property("foldObject", f"model file:{ref.line}")
                for key, value in hit.properties.items():
                    builder.property(key, value)
                builder.emit()
