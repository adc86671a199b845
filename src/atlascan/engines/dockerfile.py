"""Dockerfile rules that need the instruction structure rather than command lines:
secrets baked into build args and image config, credential files copied into layers, the
final stage running as root, base images pulled by mutable tag, and remote ADD sources that
nothing pins. Command lines inside the Dockerfile (RUN, CMD, ENV, and ADD URLs of models and
datasets) are the `commands` engine's work."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from atlascan.analysis import FileContext, PrepareContext
from atlascan.engines import Engine, image_links
from atlascan.engines.manifests.common import image_tag
from atlascan.model import Severity, SourceFile, Span
from atlascan.parsers.dockerfile import VARIABLE, Dockerfile, Instruction, Stage, Word
from atlascan.pathclass import PRACTICE_MIN_REFERENCES
from atlascan.rules import Rule
from atlascan.vocabulary import ROOT_USERS

if TYPE_CHECKING:
    from atlascan.engines.image_links import ComposeRun

# A FROM, or an ARG default it reads, that carries a digest.
# What `prepare` counts, without parsing: each FROM's image (and stage name), ARG defaults.
FROM_IMAGE = re.compile(r"(?im)^[ \t]*FROM[ \t]+(?:--\S+[ \t]+)*(?P<image>\S+)(?:[ \t]+AS[ \t]+(?P<name>\S+))?")
ARG_DEFAULT = re.compile(r"(?im)^[ \t]*ARG[ \t]+(?P<name>\w+)=(?P<value>\S+)")
ARG_REF = re.compile(r"\$\{?(\w+)\}?")

HEX40 = re.compile(r"^[0-9a-f]{40}$", re.I)
# BuildKit reads these sources as git repositories (its `IsGitTransport` prefixes, and an
# http(s) URL whose path ends in `.git`, with an optional `#ref:subdir` fragment).
GIT_PREFIXES = ("git@", "git://", "ssh://")
GIT_URL = re.compile(r"^https?://[^#?]+\.git(?:[#?].*)?$", re.I)
# A Hugging Face Hub file at a commit (`/resolve/<40-hex>/`) cannot change.
HUB_AT_COMMIT = re.compile(r"^https://(?:huggingface\.co|hf\.co)/.*/resolve/[0-9a-f]{40}/", re.I)
MAX_NOTICES = 3
# ATS-DKR-003's repository practice (`_root_practice`): a `USER` line of a Dockerfile, and
# what in a deployment gives a container the host.
USER_LINE = re.compile(r"(?im)^[ \t]*USER[ \t]+[\"']?([^\s\"']+)")
HOST_ACCESS = re.compile(
    r"privileged[\"']?[ \t]*[:=][ \t]*[\"']?true|host_?(?:pid|ipc|network)[\"']?[ \t]*[:=][ \t]*[\"']?true"
    r"|host_?path[\"']?[ \t]*[:={]|docker\.sock|^[ \t]*(?:pid|network_mode)[ \t]*:[ \t]*[\"']?host\b",
    re.IGNORECASE | re.MULTILINE,
)
NONROOT_BASE = re.compile(r"(?im)^[ \t]*FROM[ \t].*(?:nonroot|rootless)")
HOST_ACCESS_KINDS = frozenset({"yaml", "compose", "terraform"})
HOST_ACCESS_READ_LIMIT = 4 * 1024 * 1024  # larger YAML is a generated bundle
ROOT_PRACTICE = (
    "no Dockerfile of the repository sets a non-root user, and none of its deployments gives a container host access"
)


@dataclass(frozen=True)
class Facts:
    """The prepare pass's result (`ctx.facts`): hashable, so the result cache keys on it."""

    # Whether at least half of the Dockerfiles' base images are pinned by digest; None when
    # ATS-DKR-004 is off.
    digest_practice: bool | None = None
    # Fewer FROM images than a practice needs: `latest` or no tag is then reported.
    few_images: bool = False
    # Dockerfiles (paths from the scan root) whose image every Kubernetes workload and
    # compose service of the scan that runs it runs as a non-root user (ATS-DKR-003 stays
    # silent).
    nonroot_deployed: frozenset[str] = frozenset()
    # The compose services of the scan that build a Dockerfile of it: their `command:` and
    # `entrypoint:` are what the image runs there (ATS-DKR-003's serving evidence).
    compose: tuple[ComposeRun, ...] = ()
    # Root is the repository's practice and confined to its containers (`_root_practice`).
    root_practice: bool = False
    # Image names the scan builds only from Dockerfiles whose final stage sets a non-root
    # USER: a Dockerfile FROM one of them inherits that user (`_nonroot_bases`).
    nonroot_bases: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Located:
    """A word of one instruction: enough to report it."""

    instr: Instruction
    word: Word


class DockerfileEngine(Engine):
    name = "dockerfile"
    implements = frozenset(
        {"ATS-DKR-001", "ATS-DKR-002", "ATS-DKR-003", "ATS-DKR-004", "ATS-DKR-005"}
    )

    def prepare(self, files: list[SourceFile], ctx: PrepareContext) -> Facts:
        """What the checks need of the whole scan (`Facts`): whether pinning base images by
        digest is the repository's practice (ATS-DKR-004), and which Dockerfiles build an
        image that every Kubernetes workload and compose service of the scan running it runs
        as a non-root user (ATS-DKR-003, `image_links`)."""
        nonroot: frozenset[str] = frozenset()
        bases: frozenset[str] = frozenset()
        builds: tuple[ComposeRun, ...] = ()
        if ctx.enabled("ATS-DKR-003"):
            dockerfiles = {f.path: f for f in files if f.kind == "dockerfile"}
            match = ctx.rules["ATS-DKR-003"].match
            scanned = ctx.scanned or files
            runs = image_links.compose_runs(scanned, dockerfiles)
            builds = tuple(run for run in runs if run.dockerfile)
            survey = image_links.survey_builds(scanned, dockerfiles)
            bases = _nonroot_bases(survey.built, dockerfiles)
            nonroot = image_links.nonroot_dockerfiles(
                survey,
                lambda path: _reported_root(dockerfiles[path], match, _building(builds, path), bases),
                compose=runs,
            )
        practice, few = self._digest_practice(files) if ctx.enabled("ATS-DKR-004") else (None, False)
        root_practice = ctx.enabled("ATS-DKR-003") and _root_practice(files, ctx.scanned or files)
        return Facts(practice, few, nonroot, builds, root_practice, bases)

    @staticmethod
    def _digest_practice(files: list[SourceFile]) -> tuple[bool, bool]:
        """Whether pinning base images by digest is the repository's practice: at least half
        of its Dockerfiles' FROM images carry one (as ATS-K8S-008 and ATS-GHA-004 count).
        Otherwise tags are the practice and ATS-DKR-004 says so once, not per file. And
        whether there are too few images for `latest` to be a practice."""
        from atlascan import parsers
        from atlascan.model import Limits, ParseError, SkipFile

        total = pinned = 0
        for file in files:
            try:
                text = parsers.read_text(file, Limits())
            except (OSError, ParseError, SkipFile):
                continue
            defaults = {m.group("name"): m.group("value") for m in ARG_DEFAULT.finditer(text)}
            stages = {"scratch"}
            for m in FROM_IMAGE.finditer(text):
                image = ARG_REF.sub(lambda v, d=defaults: d.get(v.group(1), ""), m.group("image"))
                # An earlier stage or scratch is no image to pin; a build argument without a
                # default is the builder's choice, unknown here.
                if image and image.lower() not in stages:
                    total += 1
                    pinned += "@sha256:" in image
                if m.group("name"):
                    stages.add(m.group("name").lower())
        return total > 0 and pinned * 2 >= total, total < PRACTICE_MIN_REFERENCES

    def check_file(self, file: SourceFile, ctx: FileContext) -> None:
        dockerfile: Dockerfile = ctx.doc.tree
        for line, message in dockerfile.problems[:MAX_NOTICES]:
            ctx.notice(f"Dockerfile: {message}.", "warning", line)
        if not dockerfile.stages:
            return
        if ctx.enabled("ATS-DKR-001"):
            self._secret_args(dockerfile, ctx, ctx.rules["ATS-DKR-001"])
        if ctx.enabled("ATS-DKR-002"):
            self._secret_files(dockerfile, ctx, ctx.rules["ATS-DKR-002"])
        if ctx.enabled("ATS-DKR-003"):
            self._root_final_stage(dockerfile, ctx)
        if ctx.enabled("ATS-DKR-004"):
            self._mutable_base_images(dockerfile, ctx)
        if ctx.enabled("ATS-DKR-005"):
            self._remote_adds(dockerfile, ctx)

    # ---- ATS-DKR-001 -------------------------------------------------------------------------
    def _secret_args(self, dockerfile: Dockerfile, ctx: FileContext, rule: Rule) -> None:
        names, not_names = _name_patterns(rule)
        for instr in dockerfile.instructions:
            if instr.keyword not in ("ARG", "ENV"):
                continue
            for name, value in instr.assignments(dockerfile.escape):
                if not names.search(name.value) or not_names.search(name.value):
                    continue
                if value is not None and not _persists_without_literal(value, instr.keyword):
                    continue
                line, col = instr.position(name.start)
                how = (
                    "is passed with --build-arg and stays in the image history"
                    if instr.keyword == "ARG"
                    else "copies a build value into the image configuration"
                )
                ctx.finding("ATS-DKR-001").at(Span(line, col, line, col + len(name.value))).args(
                    keyword=instr.keyword, name=name.value, how=how
                ).emit()

    # ---- ATS-DKR-002 -------------------------------------------------------------------------
    def _secret_files(self, dockerfile: Dockerfile, ctx: FileContext, rule: Rule) -> None:
        secret, allowed = _file_patterns(rule)
        for instr in dockerfile.instructions:
            if instr.keyword not in ("COPY", "ADD") or instr.heredocs:
                continue
            sources = (
                instr.json_args[:-1] if instr.json_args else instr.words(dockerfile.escape)[:-1]
            )
            for word in sources:
                path = word.value.rstrip("/")
                base = path.rsplit("/", 1)[-1]
                if "://" in path or allowed.match(base):
                    continue
                if secret.match(base) or secret.match(path):
                    line, col = instr.position(word.start)
                    end = col + (word.end - word.start)
                    ctx.finding("ATS-DKR-002").at(Span(line, col, line, end)).args(
                        keyword=instr.keyword, path=word.value
                    ).emit()

    # ---- ATS-DKR-003 -------------------------------------------------------------------------
    def _root_final_stage(self, dockerfile: Dockerfile, ctx: FileContext) -> None:
        """Root in the final stage of an image that evidently serves the network
        (`_root_serving`), unless every Kubernetes workload and compose service of the scan
        running the image sets a non-root user: then it does not run as root where it is
        deployed."""
        facts = ctx.facts if isinstance(ctx.facts, Facts) else Facts()
        if ctx.file.path in facts.nonroot_deployed:
            return  # every workload or service of the scan running this image sets a non-root user
        found = _root_serving(
            dockerfile, ctx.rules["ATS-DKR-003"].match, _building(facts.compose, ctx.file.path), facts.nonroot_bases
        )
        if found is not None:
            span, why = found
            finding = ctx.finding("ATS-DKR-003").at(span).args(why=why)
            if facts.root_practice:
                finding.property("practice", ROOT_PRACTICE)
            finding.emit()

    # ---- ATS-DKR-004 -------------------------------------------------------------------------
    def _mutable_base_images(self, dockerfile: Dockerfile, ctx: FileContext) -> None:
        names = set()
        arg_words = dict(_global_arg_words(dockerfile))
        for stage in dockerfile.stages:
            image, resolved = stage.image, stage.resolved_image
            if (
                image is not None
                and resolved
                and resolved.lower() not in names
                and resolved != "scratch"
                and "@sha256:" not in resolved
            ):
                loc = Located(stage.from_instruction, image)
                m = VARIABLE.search(image.value)
                if m:  # the tag comes from an ARG default: that is the line to change
                    loc = arg_words.get(m.group("braced") or m.group("plain") or "", loc)
                line, col = loc.instr.position(loc.word.start)
                tag = image_tag(resolved)
                severity = Severity.MEDIUM if tag in ("", "latest") else None
                end = col + (loc.word.end - loc.word.start)
                finding = ctx.finding("ATS-DKR-004").at(Span(line, col, line, end)).args(
                    image=resolved, tag=f"tag `{tag}`" if tag else "no tag"
                )
                if isinstance(ctx.facts, Facts) and ctx.facts.digest_practice is False:
                    # Few images here are pinned by digest: tags are the repository's practice
                    # (held back, one notice). `latest` moves as a version tag does; only a
                    # digest protects against either.
                    finding.property("foldScope", "repository")
                    if severity is None or not ctx.facts.few_images:
                        finding.property("practice", "fewer than half of the Dockerfiles' base images are pinned by digest")
                finding.severity(severity).emit()
            if stage.name:
                names.add(stage.name)

    # ---- ATS-DKR-005 -------------------------------------------------------------------------
    def _remote_adds(self, dockerfile: Dockerfile, ctx: FileContext) -> None:
        for instr in dockerfile.instructions:
            if instr.keyword != "ADD" or instr.heredocs or instr.flag("checksum") is not None:
                continue
            sources = (
                instr.json_args[:-1] if instr.json_args else instr.words(dockerfile.escape)[:-1]
            )
            for word in sources:
                judged = _unpinned_remote(word.value)
                if judged is None:
                    continue
                what, how, severity = judged
                line, col = instr.position(word.start)
                end = col + (word.end - word.start)
                ctx.finding("ATS-DKR-005").at(Span(line, col, line, end)).args(
                    what=what, url=word.value, how=how
                ).severity(severity).emit()


def _root_practice(dockerfiles: Sequence[SourceFile], scanned: Sequence[SourceFile]) -> bool:
    """Whether root in a container is the repository's practice and stays in the container:
    it has a few Dockerfiles, fewer than one in ten runs as a non-root user (a `USER`, a
    nonroot base), and no Kubernetes manifest,
    compose file or Terraform of the scan gives a container host access (privileged, a host
    namespace, a hostPath, the Docker socket). Reviewers judged root images NOISE in such
    repositories (generative-ai's 40 Cloud Run samples, LLaMA-Factory's and TGI's GPU
    images); where a deployment hands a container the host (kubernetes-goat's escape
    scenarios), root is what the escape uses, and each image is reported."""
    from atlascan import parsers
    from atlascan.model import Limits, ParseError, SkipFile

    dockerfiles = [f for f in dockerfiles if f.kind == "dockerfile"]
    if len(dockerfiles) < PRACTICE_MIN_REFERENCES:
        return False
    nonroot = 0
    for file in dockerfiles:
        try:
            text = parsers.read_text(file, Limits())
        except (OSError, ParseError, SkipFile):
            return False  # unread: the practice is unknown
        users = (m.group(1).split(":", 1)[0] for m in USER_LINE.finditer(text))
        nonroot += any(u not in ROOT_USERS for u in users) or bool(NONROOT_BASE.search(text))
    if nonroot * 10 >= len(dockerfiles):
        return False
    for file in scanned:
        if file.kind not in HOST_ACCESS_KINDS or file.size > HOST_ACCESS_READ_LIMIT:
            continue
        try:
            text = parsers.read_text(file, Limits())
        except (OSError, ParseError, SkipFile):
            continue
        if HOST_ACCESS.search(text):
            return False
    return True


def _building(runs: tuple[ComposeRun, ...], path: str) -> tuple[ComposeRun, ...]:
    """The compose services that build the Dockerfile at `path`."""
    return tuple(run for run in runs if run.dockerfile == path)


def _nonroot_bases(built: Mapping[str, set[str]], dockerfiles: Mapping[str, SourceFile]) -> frozenset[str]:
    """The image names the scan builds (`image_links.survey_builds`) only from Dockerfiles
    whose final stage's last USER is not root (autotrain-advanced's `Dockerfile` built as
    `autotrain-advanced`, then `FROM huggingface/autotrain-advanced:latest` elsewhere)."""
    verdicts: dict[str, list[bool]] = {}
    for path, names in built.items():
        nonroot = _final_user_nonroot(dockerfiles[path])
        for name in names:
            verdicts.setdefault(name, []).append(nonroot)
    return frozenset(name for name, found in verdicts.items() if all(found))


def _read_built(file: SourceFile) -> Dockerfile | None:
    """Another Dockerfile of the scan, parsed, when it can be read and has a stage."""
    from atlascan import parsers
    from atlascan.model import Limits, ParseError, SkipFile

    try:
        dockerfile: Dockerfile = parsers.read(file, Limits()).tree
    except (OSError, ParseError, SkipFile):
        return None
    return dockerfile if dockerfile.stages else None


def _final_user_nonroot(file: SourceFile) -> bool:
    dockerfile = _read_built(file)
    if dockerfile is None:
        return False
    user = _final_user(dockerfile, _stage_chain(dockerfile, dockerfile.stages[-1]))
    if user is None:
        return False
    name = _user_name(user)
    return "$" not in name and name not in ROOT_USERS


def _final_user(dockerfile: Dockerfile, chain: list[Stage]) -> Located | None:
    """The `USER` the final stage runs as: the last one in it or, failing that, in the stages
    it builds on (`chain`, final first); None when none sets one."""
    for stage in chain:
        user = _last_user(stage, dockerfile.escape)
        if user is not None:
            return user
    return None


def _user_name(user: Located) -> str:
    return user.word.value.split(":", 1)[0]


def _reported_root(
    file: SourceFile, match: Mapping[str, Any], compose: tuple[ComposeRun, ...] = (), nonroot_bases: frozenset[str] = frozenset()
) -> bool:
    """Whether ATS-DKR-003 would report this Dockerfile (prepare asks only for the ones
    a build links to an image name: the manifests are read for those alone)."""
    dockerfile = _read_built(file)
    return dockerfile is not None and _root_serving(dockerfile, match, compose, nonroot_bases) is not None


def _root_serving(
    dockerfile: Dockerfile,
    match: Mapping[str, Any],
    compose: tuple[ComposeRun, ...] = (),
    nonroot_bases: frozenset[str] = frozenset(),
) -> tuple[Span, str] | None:
    """Where and why the final stage runs as root in an image that evidently serves the
    network (ATS-DKR-003), or None: a one-shot training, conversion or CI builder image
    running as root exposes no service, nor does a development image that starts only an
    interactive shell. `compose`: the compose services that build this Dockerfile;
    `nonroot_bases`: image names the scan builds to run as a non-root user."""
    final = dockerfile.stages[-1]
    chain = _stage_chain(dockerfile, final)  # final first, then the stages it builds on
    base = chain[-1]  # the stage whose FROM names an image outside this file
    root = _final_user(dockerfile, chain)
    if root is not None:
        name = _user_name(root)
        if "$" in name or name not in ROOT_USERS:
            return None
    else:
        if "nonroot" in base.resolved_image or "rootless" in base.resolved_image:
            return None  # images built to run unprivileged set their own USER
        if _image_row(base.resolved_image, tuple(match.get("nonroot_images", ()))):
            return None  # the base image's own last USER is unprivileged (the rule's table)
        if nonroot_bases and image_links.repository_name(base.resolved_image) in nonroot_bases:
            return None  # the repository's own image, built with a non-root USER
    serves = _serving_evidence(chain, base, match, compose)
    if serves is None:
        return None  # no exposed service: root in a job or builder image is not worth a finding
    if any(i.keyword in ("CMD", "ENTRYPOINT") and "--allow-root" in i.text for stage in chain for i in stage.instructions):
        return None  # Jupyter started with --allow-root: ATS-CMD-002 reports root there, one fix
    if root is not None:
        instr, word = root.instr, root.word
        line, col = instr.position(word.start)
        span = Span(line, col, line, col + len(word.value))
        why = f"`USER {word.value}` is the last user"
    else:
        image = final.image
        line, col = (
            final.from_instruction.position(image.start)
            if image
            else (final.from_instruction.line, final.from_instruction.column)
        )
        span = Span(line, col, line, col + (image.end - image.start if image else 4))
        why = "the final stage sets no USER"
    return span, f"{why}; {serves}"


def _unpinned_remote(source: str) -> tuple[str, str, Severity | None] | None:
    """(what, how, severity) of an ADD source fetched from the network and pinned by nothing;
    None for local paths and git sources at a commit."""
    low = source.lower()
    if low.startswith(GIT_PREFIXES) or GIT_URL.match(source):
        # `#ref:subdir`, or the newer query form `?ref=v1.0`, `?commit=<sha>`, names what
        # BuildKit checks out
        base, _, fragment = source.partition("#")
        query: dict[str, str] = {}
        for part in base.partition("?")[2].split("&"):
            key, _, value = part.partition("=")
            query[key] = value
        ref = (
            query.get("commit")
            or fragment.split(":", 1)[0]
            or query.get("ref")
            or query.get("tag")
            or query.get("branch", "")
        )
        if HEX40.match(ref):
            return None
        how = f"at `{ref}`, not a commit SHA" if ref else "at its default branch, not a commit SHA"
        return "the git repository", how, Severity.MEDIUM if low.startswith("git://") else None
    if HUB_AT_COMMIT.match(source):
        return None
    if low.startswith(("https://", "http://")):
        severity = Severity.MEDIUM if low.startswith("http://") else None
        transport = " over plain http" if severity else ""
        return "a remote file", f"{transport} without `--checksum`".lstrip(), severity
    return None


@cache
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.I)


def _file_patterns(rule: Rule) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """The rule's glob lists as two compiled alternations (one regex match per path)."""
    secret = "|".join(fnmatch.translate(p) for p in rule.match.get("secret_files", ())) or "(?!x)x"
    allowed = (
        "|".join(fnmatch.translate(p) for p in rule.match.get("allowed_files", ())) or "(?!x)x"
    )
    return _compiled_exact(secret), _compiled_exact(allowed)


@cache
def _compiled_exact(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _name_patterns(rule: Rule) -> tuple[re.Pattern[str], re.Pattern[str]]:
    return _compiled(rule.match["secret_names"]), _compiled(
        rule.match.get("not_secret_names", "(?!x)x")
    )


def _persists_without_literal(value: Word, keyword: str) -> bool:
    """True when the value is a reference or placeholder, so the secret itself arrives at
    build time; real-looking literals are the secrets engine's findings, not ours."""
    from atlascan.secretpatterns import is_placeholder

    text = value.value.strip()
    if not text:
        return keyword == "ARG"  # `ENV TOKEN=""` clears it; `ARG TOKEN=` awaits --build-arg
    if text.startswith("$"):
        return True
    return is_placeholder(text) or len(text) < 8


def _last_user(stage: Stage, escape: str) -> Located | None:
    found = None
    for instr in stage.instructions:
        if instr.keyword == "USER":
            words = instr.words(escape)
            if words:
                found = Located(instr, words[0])
    return found


def _parent_stage(dockerfile: Dockerfile, stage: Stage) -> Stage | None:
    for earlier in dockerfile.stages[: stage.index]:
        if earlier.name and earlier.name == stage.resolved_image.lower():
            return earlier
    return None


def _global_arg_words(dockerfile: Dockerfile) -> Iterator[tuple[str, Located]]:
    for instr in dockerfile.instructions:
        if instr.keyword == "FROM":
            return
        if instr.keyword == "ARG":
            for word in instr.words(dockerfile.escape):
                name, eq, default = word.value.partition("=")
                if eq and default:
                    value_start = word.start + word.raw.find("=") + 1
                    yield name, Located(instr, Word(default, value_start, word.end, default))


def _image_name(image: str) -> str:
    """`docker.io/library/python:3.11@sha256:…` -> `python`: the repository, no tag or digest."""
    name = image.split("@", 1)[0].lower()
    head, _, last = name.rpartition("/")
    name = f"{head}/{last.split(':', 1)[0]}" if head else last.split(":", 1)[0]
    for prefix in ("docker.io/library/", "docker.io/", "index.docker.io/library/", "index.docker.io/"):
        if name.startswith(prefix):
            return name[len(prefix) :]
    return name


def _documented_nonroot(image: str, rows: tuple[dict, ...]) -> bool:
    """Whether the image is one the rule's table lists as running as a non-root user."""
    return _image_row(image, rows) is not None


def _image_row(image: str, rows: tuple[dict, ...]) -> dict | None:
    """The first row of an image table (`images` globs) naming this image."""
    if not image or "$" in image:
        return None
    name = _image_name(image)
    for row in rows:
        if any(fnmatch.fnmatchcase(name, glob) for glob in row.get("images", ())):
            return row
    return None


def _stage_chain(dockerfile: Dockerfile, final: Stage) -> list[Stage]:
    """The final stage, then each stage of this file it builds on (`FROM earlier-stage`)."""
    chain: list[Stage] = []
    stage: Stage | None = final
    while stage is not None and all(s.index != stage.index for s in chain):
        chain.append(stage)
        stage = _parent_stage(dockerfile, stage)
    return chain


def _serving_evidence(
    chain: list[Stage], base: Stage, match: Mapping[str, Any], compose: tuple[ComposeRun, ...] = ()
) -> str | None:
    """Why the image evidently serves the network, or None: an EXPOSE, a server command in
    the effective CMD/ENTRYPOINT (the rule's `serve_commands`) or in the `command:` of a
    compose service that builds it, or, with no command of its own, a base image whose
    default command is a server (the rule's `server_images`). Unless the image's own
    command is a server, an interactive shell (`CMD ["bash"]`,
    `vocabulary.INTERACTIVE_SHELL`) run wherever it runs (its own command, or that of every compose
    service building it) serves nothing: its EXPOSE names ports for servers started by
    hand."""
    commands = _commands(chain)
    server = _server_command(commands, match)
    runs = [image_links.compose_commands(commands, run) for run in compose] or [commands]
    if server is None and all(image_links.only_a_shell(run) for run in runs):
        return None
    for stage in chain:
        for instr in stage.instructions:
            if instr.keyword == "EXPOSE":
                return f"it has `EXPOSE {instr.body.strip()}` (line {instr.line})"
    if server is not None:
        return f"its {server[0]} runs a server: `{_shown(server[1])}`"
    for run in compose:
        found = _server_command(image_links.compose_commands(commands, run), match)
        if found is not None:
            return f"its compose service `{run.service}` ({run.file}) runs a server: `{_shown(found[1])}`"
    if not commands:
        row = _image_row(base.resolved_image, tuple(match.get("server_images", ())))
        if row is not None:
            return f"its base image `{_image_name(base.resolved_image)}` runs {row.get('serves', 'a server')}"
    return None


def _commands(chain: list[Stage]) -> dict[str, str]:
    """The ENTRYPOINT and CMD (each one line, an exec form's words joined by spaces) the
    final stage runs with: the last of each in it or the stages it builds on."""
    commands: dict[str, str] = {}
    for stage in chain:
        for instr in reversed(stage.instructions):
            if instr.keyword in ("CMD", "ENTRYPOINT") and instr.keyword not in commands:
                args = instr.json_args
                text = " ".join(w.value for w in args) if args is not None else instr.body
                commands[instr.keyword] = text.strip()
    return commands


def image_commands(file: SourceFile) -> dict[str, str] | None:
    """The ENTRYPOINT and CMD of the image a Dockerfile builds (its final stage), for a
    compose service that builds it (ATS-CMP-001); None when it cannot be read."""
    dockerfile = _read_built(file)
    return None if dockerfile is None else _commands(_stage_chain(dockerfile, dockerfile.stages[-1]))


def _server_command(commands: Mapping[str, str], match: Mapping[str, Any]) -> tuple[str, str] | None:
    """(keyword, text) of the first of ENTRYPOINT and CMD that runs a server (the rule's
    `serve_commands`), or None."""
    for keyword, text in sorted(commands.items()):  # ENTRYPOINT before CMD
        if any(_compiled(pattern).search(text) for pattern in match.get("serve_commands", ())):
            return keyword, text
    return None


def _shown(text: str) -> str:
    return text if len(text) <= 60 else text[:57] + "..."
