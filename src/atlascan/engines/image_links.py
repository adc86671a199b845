"""Which Dockerfiles of the scan build an image that Kubernetes runs only as a non-root user.

A final stage without a non-root `USER` runs as root only where nothing else picks the
user: a pod's `securityContext` (`runAsNonRoot: true`, `runAsUser: 1000`) overrides the
image. When every workload container of the scan that runs an image sets one, root in the
Dockerfile that builds it is not how it runs (kubeflow/pipelines: backend/Dockerfile is
built as `apiserver` and deployed as `kfp-api-server` with `runAsNonRoot: true`).

The link is read as data from the repository's own build definitions, never run or
expanded: a YAML mapping that names a Dockerfile and an image (a CI matrix entry
`image: apiserver` + `dockerfile: backend/Dockerfile`, an action's `file:` + `tags:`), or a
`docker build -t NAME -f PATH` command line (without `-f`, the context's `Dockerfile`). A
built name matches a manifest's image reference by the repository's last path component (registry, tag and digest dropped),
ignoring `-` and `_`: the built name equal to it, else the longest it ends with at a word
boundary (`apiserver` runs as `kfp-api-server`, `frontend` as `kfp-frontend`; `server` is
not `observer`). A compose service that builds a Dockerfile of the scan (`build:` with its
`context` and `dockerfile`) runs that image directly, and its `user:` picks the user as a
pod's `securityContext` does. One workload container or compose service that may run the
image as root keeps the finding, and so does anything the scan cannot resolve: a templated
image, a patch that makes a pod root, a compose `user:` that is a variable without a default.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass

from atlascan import parsers
from atlascan.engines.manifests.common import image_repository, is_template
from atlascan.model import ParseError, SkipFile, SourceFile
from atlascan.parsers.yaml import Mapping, Scalar, Sequence, YNode
from atlascan.vocabulary import ROOT_USERS, interactive_shell

# Kinds whose text may build an image (workflows, CI files, shell scripts, Cloud Build and
# other YAML), and the kind that holds Kubernetes manifests.
BUILD_KINDS = frozenset({"shell", "gha-workflow", "gha-action", "gitlab-ci", "yaml", "compose"})
YAML_KINDS = frozenset({"gha-workflow", "gha-action", "gitlab-ci", "yaml"})
MANIFEST_KIND = "yaml"
READ_LIMIT = 4 * 1024 * 1024  # larger YAML is a generated bundle, as in manifests/crossfile.py
BUILD_FILE_LIMIT = 1024 * 1024  # a build definition is small: larger files are not read for one

# (no leading \b: a regex that starts with an alternation scans 30 MB of CRDs ten times slower)
DOCKER_BUILD = re.compile(r"(?:docker|podman)(?:[ \t]+(?:buildx|image))?[ \t]+build\b")
# The value of a `file:` or `dockerfile:` key: a file is parsed for build mappings only when
# one names a Dockerfile of the scan by its file name.
FILE_VALUE = re.compile(r"file[ \t]*:[ \t]*[\"']?([^\s\"'#]+)")
WORKLOAD_HINT = re.compile(r"^[ \t]*kind[ \t]*:", re.M)
# `image: ref` as a key of its line; literal first (`^[ \t-]*image` would scan CRDs slowly),
# the line's start checked after.
IMAGE_VALUE = re.compile(r"image[ \t]*:[ \t]*[\"']?([^\s\"'#]+)")
LINE_START = re.compile(r"[ \t-]*")
# A setting that runs a pod as root, in a file that names no image: an overlay's patch.
ROOT_SETTING = re.compile(r"runAsUser[ \t]*:[ \t]*[\"']?0\b|runAsNonRoot[ \t]*:[ \t]*[\"']?false\b")
# One build command ends at a separator; a command longer than this is not read further.
COMMAND_END = re.compile(r"[\n;|&]")
COMMAND_CAP = 2000
MAX_BUILD_COMMANDS = 200  # per file
# Keys of a build mapping: the Dockerfile, the image it makes, the build context.
DOCKERFILE_KEYS = ("dockerfile", "file")
IMAGE_KEYS = ("image", "name", "image_name", "tags")
# A literal repository name (its registry and tag may be variables: `$REGISTRY/app:$TAG`).
NAME = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
CONTAINER_LISTS = ("containers", "initContainers", "ephemeralContainers")
SEPARATORS = re.compile(r"[-_]+")
# A compose variable with a default (`${UID:-1000}`, `${UID-1000}`): what runs when the
# operator sets nothing.
COMPOSE_DEFAULT = re.compile(r"\$\{\w+:?-([^}]*)\}")


@dataclass(frozen=True)
class Build:
    """One build definition: the Dockerfile as written, where it is read from, the names."""

    dockerfile: str
    folders: tuple[str, ...]  # candidate bases of a relative path (more than one fit: no link)
    names: tuple[str, ...]  # image names (last path component, lower-case)


@dataclass(frozen=True)
class ComposeRun:
    """One compose service: the scanned Dockerfile it builds ("" when none), the image name
    it runs or tags its build as ("" when none is literal), whether its `user:` runs the
    process as a non-root user, and its `entrypoint:` and `command:` as one line each
    (None when not set: the image's own)."""

    file: str
    service: str
    dockerfile: str
    image: str
    nonroot: bool
    entrypoint: str | None = None
    command: str | None = None


def compose_commands(own: dict[str, str], run: ComposeRun) -> dict[str, str]:
    """The ENTRYPOINT and CMD a compose service runs an image with, given the image's own
    (`own`): its `entrypoint:` replaces the image's and clears the image's CMD; its
    `command:` replaces the CMD."""
    if run.entrypoint is not None:
        chosen = {"ENTRYPOINT": run.entrypoint, "CMD": run.command or ""}
    else:
        chosen = {"ENTRYPOINT": own.get("ENTRYPOINT", ""), "CMD": own.get("CMD", "") if run.command is None else run.command}
    return {keyword: text for keyword, text in chosen.items() if text}


def only_a_shell(commands: dict[str, str]) -> bool:
    """Whether an ENTRYPOINT and CMD together only start an interactive shell (`bash`,
    `/bin/sh -l`), not a script (`bash -c ...`, `sh start.sh`) or a wrapper (`/entrypoint.sh bash`)."""
    return interactive_shell(" ".join(commands[k] for k in ("ENTRYPOINT", "CMD") if k in commands))


def compose_runs(files: Iterable[SourceFile], dockerfiles: Collection[str]) -> tuple[ComposeRun, ...]:
    """Each service of the scan's compose files. A file that cannot be parsed runs each
    image it names as root, for all anyone can tell."""
    out: list[ComposeRun] = []
    for file in files:
        if file.kind != "compose" or file.size > READ_LIMIT:
            continue
        text = parsers.head(file, READ_LIMIT)
        if not text:
            continue
        services = _compose_services(file, text)
        if services is None:
            out += [ComposeRun(file.path, "", "", repository_name(r), False) for r in _image_lines(text)]
            continue
        folder = posixpath.dirname(file.path)
        for name, service in services:
            out.append(
                ComposeRun(
                    file.path,
                    name,
                    _compose_dockerfile(service.get("build"), folder, dockerfiles),
                    repository_name(_text(service.get("image")) or ""),
                    _compose_nonroot(_text(service.get("user"))),
                    _compose_command(service.get("entrypoint")),
                    _compose_command(service.get("command")),
                )
            )
    return tuple(out)


@dataclass(frozen=True)
class BuildSurvey:
    """What the scan's build definitions and manifests say of its Dockerfiles, read once."""

    built: dict[str, set[str]]  # Dockerfile path -> image names it is built as
    manifests: list[tuple[SourceFile, list[str]]]  # Kubernetes YAML, its image references
    unresolved: bool  # a workload whose image or user the scan cannot tell


def survey_builds(files: Iterable[SourceFile], dockerfiles: Collection[str]) -> BuildSurvey:
    """The image names each Dockerfile of `dockerfiles` is built as by a build definition of
    `files`, and the Kubernetes manifests that run images."""
    basenames = {posixpath.basename(p) for p in dockerfiles}
    built: dict[str, set[str]] = {}
    unresolved = False
    manifests: list[tuple[SourceFile, list[str]]] = []
    if not dockerfiles:
        return BuildSurvey(built, manifests, unresolved)
    for file in files:
        if file.kind not in BUILD_KINDS or file.size > READ_LIMIT:
            continue
        text = parsers.head(file, READ_LIMIT)
        if not text:
            continue
        for build in _builds(file, text, basenames):
            path = _resolve(build, dockerfiles)
            if path is not None:
                built.setdefault(path, set()).update(build.names)
        refs = _image_lines(text) if "image" in text and file.kind != "compose" else []
        if file.kind in YAML_KINDS:
            if any(not repository_name(r) and is_template(r) for r in refs):
                unresolved = True  # a chart or template runs an image nobody can name here
            if not refs and ROOT_SETTING.search(text):
                unresolved = True  # a patch (a kustomize overlay) may make any workload root
            if file.kind == MANIFEST_KIND and refs and WORKLOAD_HINT.search(text):
                manifests.append((file, refs))
    return BuildSurvey(built, manifests, unresolved)


def nonroot_dockerfiles(
    survey: BuildSurvey,
    wanted: Callable[[str], bool] = lambda path: True,
    *,
    compose: Iterable[ComposeRun],
) -> frozenset[str]:
    """The Dockerfile paths whose image a workload of the survey's manifests or a compose
    service (`compose_runs`) runs, and every workload container and compose service running
    it sets a non-root user (container over pod level). `wanted`: whether a linked
    Dockerfile's answer matters at all (it would be reported); manifests are parsed only
    for the images of those."""
    built = {path: set(names) for path, names in survey.built.items()}
    runs: list[tuple[str, bool]] = []  # (deployed name, runs non-root) of each container
    direct: dict[str, list[bool]] = {}  # Dockerfile path -> runs non-root, of each service building it
    for run in compose:
        if run.dockerfile:
            direct.setdefault(run.dockerfile, []).append(run.nonroot)
            if run.image:  # `image:` beside `build:` is the name the build is tagged with
                built.setdefault(run.dockerfile, set()).add(run.image)
        elif run.image:
            runs.append((run.image, run.nonroot))
    linked = {path for path in built.keys() | direct.keys() if wanted(path)}
    built = {path: names for path, names in built.items() if path in linked}
    if not linked or survey.unresolved:
        return frozenset()
    names = {n for ns in built.values() for n in ns}
    for file, refs in survey.manifests:
        if any(_built_as(repository_name(r), names) for r in refs):
            # read again: only the few files that run a built image; one that cannot be
            # parsed runs each image it names as root for all anyone can tell
            found = _containers(file)
            runs += found if found is not None else [(repository_name(r), False) for r in refs]
    out = set()
    for path in linked:
        its_names = built.get(path, set())
        mine = [nonroot for deployed, nonroot in runs if _built_as(deployed, names) & its_names]
        mine += direct.get(path, [])
        if mine and all(mine):
            out.add(path)
    return frozenset(out)


def repository_name(reference: str) -> str:
    """`ghcr.io/kubeflow/kfp-api-server:2.0@sha256:…` -> `kfp-api-server`; "" when the
    name itself is not literal (`${{ matrix.image }}`, a template)."""
    name = image_repository(reference.strip().strip("\"'")).rsplit("/", 1)[-1]
    return name if NAME.match(name) else ""


def _built_as(deployed: str, built: Collection[str]) -> set[str]:
    """The built names a deployed image name is: the one equal to it (`-` and `_` ignored),
    else the longest that it ends with at a word boundary (`apiserver` is `kfp-api-server`;
    where `kfp-api-server` and `server` are both built, it is only the first)."""
    if not deployed:
        return set()
    words = [w for w in SEPARATORS.split(deployed) if w]
    for i in range(len(words)):  # longest first: the whole name, then shorter tails
        tail = "".join(words[i:])
        found = {b for b in built if b and SEPARATORS.sub("", b) == tail}
        if found:
            return found
    return set()


# ---- build definitions ------------------------------------------------------------------


def _builds(file: SourceFile, text: str, basenames: Collection[str]) -> Iterator[Build]:
    if file.size > BUILD_FILE_LIMIT:
        return
    folder = posixpath.dirname(file.path)
    if "build" in text and ("docker" in text or "podman" in text) and DOCKER_BUILD.search(text):
        yield from _command_builds(text, folder)
    if file.kind in YAML_KINDS and "file" in text and any(posixpath.basename(v) in basenames for v in FILE_VALUE.findall(text)):
        yield from _mapping_builds(file, text, folder)


def _command_builds(text: str, folder: str) -> Iterator[Build]:
    """`docker build -t NAME -f PATH` (either order, `--tag`, `--file`, `=` forms, `buildx`)
    on one logical line (backslash continuations joined)."""
    from atlascan.parsers import shell

    joined = re.sub(r"\\\r?\n", " ", text)
    for count, m in enumerate(DOCKER_BUILD.finditer(joined)):
        if count >= MAX_BUILD_COMMANDS:
            break
        # the one command: up to the next separator, capped (each match parses only its own)
        end = COMMAND_END.search(joined, m.end(), m.end() + COMMAND_CAP)
        line = joined[m.start() : end.start() if end else min(len(joined), m.end() + COMMAND_CAP)]
        script = shell.parse(line, use_tree_sitter=False)
        if not script.commands:
            continue
        words = [w.value for w in script.commands[0].words]
        tags, dockerfile, context = _build_flags(words)
        if not dockerfile and context and not any(c in context for c in "$:") and context != "-":
            dockerfile = posixpath.normpath(posixpath.join(context, "Dockerfile"))  # `docker build -t NAME .`
        names = tuple(n for n in (repository_name(t) for t in tags) if n)
        if dockerfile and names and "$" not in dockerfile:
            yield Build(dockerfile, ("", folder), names)


# Flags of `docker build` that take no value: any other flag written without `=` takes the
# next word, so the build context is the word left over.
BUILD_SWITCHES = frozenset(
    {"--no-cache", "--pull", "--push", "--load", "-q", "--quiet", "--rm", "--force-rm", "--squash", "--compress"}
)


def _build_flags(words: list[str]) -> tuple[list[str], str, str]:
    """The `-t`/`--tag` values, the `-f`/`--file` value and the build context of one build
    command's words ("" when not literal or not found)."""
    tags: list[str] = []
    dockerfile = context = ""
    start = next((i + 1 for i, w in enumerate(words) if w == "build"), len(words))
    i = start
    while i < len(words):
        word = words[i]
        value: str | None = None
        flag = word
        if word.startswith("--") and "=" in word:
            flag, _, value = word.partition("=")
        elif word[:2] in ("-t", "-f") and len(word) > 2:
            flag, value = word[:2], word[2:].lstrip("=")
        if flag in ("-t", "--tag", "-f", "--file"):
            if value is None and i + 1 < len(words):
                i += 1
                value = words[i]
            if flag in ("-t", "--tag"):
                tags.append(value or "")
            else:
                dockerfile = value or ""
        elif word.startswith("-") and value is None and word not in BUILD_SWITCHES:
            i += 1  # the flag's value
        elif not word.startswith("-"):
            context = word
        i += 1
    return tags, dockerfile, context


def _mapping_builds(file: SourceFile, text: str, folder: str) -> Iterator[Build]:
    """YAML mappings holding a Dockerfile key and an image key (a matrix `include:` entry,
    a build action's `with:`)."""
    try:
        roots = list(parsers.document(file, text).tree.roots())
    except (ParseError, SkipFile, RecursionError):  # a broken or templated YAML file names nothing
        return
    for node in _mappings(roots):
        path = next((v for v in (_text(node.get(k)) for k in DOCKERFILE_KEYS) if v), "")
        if not path or "$" in path or "{{" in path:
            continue
        refs: list[str] = []
        for key in IMAGE_KEYS:
            value = node.get(key)
            if isinstance(value, Sequence):
                refs += [t for t in (_text(v) for v in value.items) if t]
            elif key == "tags":  # one reference a line or comma-separated
                refs += re.split(r"[\n,]+", _text(value) or "")
            else:
                refs.append(_text(value) or "")
        names = tuple(n for n in (repository_name(r) for r in refs if r.strip()) if n)
        if names:
            context = _text(node.get("context")) or ""
            bases = ["", folder]
            if context and "$" not in context and "{{" not in context:
                bases += [context, posixpath.join(folder, context)]
            yield Build(path, tuple(bases), names)


def _resolve(build: Build, dockerfiles: Collection[str]) -> str | None:
    """The scanned Dockerfile a build names: its path from the scan root, the build file's
    folder or the build context (whichever exists)."""
    found = set()
    for base in build.folders:
        path = posixpath.normpath(posixpath.join(base, build.dockerfile.strip()))
        if path.startswith("./"):
            path = path[2:]
        if path in dockerfiles:
            found.add(path)
    # Two scanned Dockerfiles fit (the root's and the build script's folder's): which one a
    # script's `cd` picks is not in the text, so neither is linked.
    return found.pop() if len(found) == 1 else None


# ---- compose services -------------------------------------------------------------------


def _compose_services(file: SourceFile, text: str) -> list[tuple[str, Mapping]] | None:
    """(name, definition) of each service of a compose file, an alias once; None when the
    file cannot be parsed."""
    try:
        roots = list(parsers.document(file, text).tree.roots())
    except (ParseError, SkipFile, RecursionError):
        return None
    out: list[tuple[str, Mapping]] = []
    seen: set[int] = set()
    for root in roots:
        services = root.get("services") if isinstance(root, Mapping) else None
        if not isinstance(services, Mapping):
            continue
        for name, _, service in services.entries():
            if isinstance(service, Mapping) and id(service) not in seen:
                seen.add(id(service))
                out.append((name, service))
    return out


def _compose_dockerfile(build: YNode | None, folder: str, dockerfiles: Collection[str]) -> str:
    """The scanned Dockerfile a service's `build:` names, or "": a context string, or a
    mapping's `context` (default `.`) and `dockerfile` (default `Dockerfile`, relative to
    the context), the context relative to the compose file's folder. A remote context, an
    inline Dockerfile or a variable names none the scan can tell."""
    if isinstance(build, Scalar):
        context, name = build.value, "Dockerfile"
    elif isinstance(build, Mapping) and "dockerfile_inline" not in build:
        context, name = build.text("context") or ".", build.text("dockerfile") or "Dockerfile"
    else:
        return ""
    context, name = context.strip(), name.strip()
    if "$" in context + name or "://" in context or context.startswith("git@"):
        return ""
    path = posixpath.normpath(posixpath.join(folder, context, name))
    return path if path in dockerfiles else ""


def _compose_nonroot(user: str | None) -> bool:
    """Whether a compose `user:` (`uid[:gid]` or a name) runs as a non-root user. A variable
    reads as its default (`${UID:-1000}`); one without a default is unknown, as a pod's
    templated `runAsUser` is: not counted as non-root."""
    if user is None:
        return False  # the image's own user
    value = COMPOSE_DEFAULT.sub(lambda m: m.group(1), user.strip())
    name = value.split(":", 1)[0].strip()
    if not name or "$" in name:
        return False
    return int(name) > 0 if name.isdigit() else name not in ROOT_USERS


def _compose_command(node: YNode | None) -> str | None:
    """A service's `command:` or `entrypoint:` as one line (a list's words joined by spaces,
    as the Dockerfile engine joins an exec form); None when not set."""
    if isinstance(node, Scalar):
        return node.value.strip()
    if isinstance(node, Sequence):
        return " ".join(item.value for item in node.items if isinstance(item, Scalar)).strip()
    return None


# ---- workloads ----------------------------------------------------------------------------


def _image_lines(text: str) -> list[str]:
    """The values of the `image:` keys of a YAML text, read by line."""
    out = []
    for m in IMAGE_VALUE.finditer(text):
        before = text[m.start() - 1] if m.start() else "\n"
        if before in "{, \t" and not LINE_START.fullmatch(text, text.rfind("\n", 0, m.start()) + 1, m.start()):
            # a flow mapping's key (`- {name: a, image: x}`): its value ends at `,` or `}`
            out.append(m.group(1).rstrip(",}"))
        elif LINE_START.fullmatch(text, text.rfind("\n", 0, m.start()) + 1, m.start()):
            out.append(m.group(1))
    return out


def _containers(file: SourceFile) -> list[tuple[str, bool]] | None:
    """(image name, runs non-root) of each container of the file's Kubernetes objects;
    None when the file cannot be read as YAML."""
    text = parsers.head(file, READ_LIMIT)
    try:
        roots = list(parsers.document(file, text or "").tree.roots())
    except (ParseError, SkipFile, RecursionError):
        return None
    out: list[tuple[str, bool]] = []
    for root in roots:
        if not (isinstance(root, Mapping) and isinstance(root.get("apiVersion"), Scalar) and isinstance(root.get("kind"), Scalar)):
            continue
        todo: list[tuple[YNode, YNode | None]] = [(root, None)]
        seen: set[int] = set()
        while todo:
            node, pod = todo.pop()
            if id(node) in seen:
                continue
            seen.add(id(node))
            if isinstance(node, Sequence):
                todo += [(item, pod) for item in node.items]
                continue
            if not isinstance(node, Mapping):
                continue
            if isinstance(node.get("containers"), Sequence):
                pod = node.get("securityContext")  # a pod spec
            elif _text(node.get("image")) is not None:
                # an image outside a pod spec's container lists (an Argo template's
                # `container:`): its own securityContext, over an enclosing pod spec's
                out.append((repository_name(_text(node.get("image")) or ""), _nonroot(node.get("securityContext"), pod)))
            for key, _, value in node.entries():
                if key in CONTAINER_LISTS and isinstance(value, Sequence):
                    for item in value.items:
                        image = _text(item.get("image")) if isinstance(item, Mapping) else None
                        if isinstance(item, Mapping) and image:
                            seen.add(id(item))
                            out.append((repository_name(image), _nonroot(item.get("securityContext"), pod)))
                elif isinstance(value, (Mapping, Sequence)):
                    todo.append((value, pod))
    return out


def _nonroot(container: YNode | None, pod: YNode | None) -> bool:
    """Whether the effective security context runs the process as a non-root user:
    `runAsUser` above 0, or `runAsNonRoot: true` without `runAsUser: 0` (the container's
    field over the pod's)."""

    def field(name: str) -> str | None:
        for context in (container, pod):
            if isinstance(context, Mapping) and name in context:
                return (_text(context.get(name)) or "").strip().strip("\"'")
        return None

    user = field("runAsUser")
    if user is not None and user.isdigit():
        return int(user) > 0
    return (field("runAsNonRoot") or "").lower() in ("true", "yes", "on")


def _mappings(roots: list[YNode]) -> Iterator[Mapping]:
    todo: list[YNode] = list(roots)
    seen: set[int] = set()
    while todo:
        node = todo.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, Mapping):
            yield node
            todo += [value for _, _, value in node.entries()]
        elif isinstance(node, Sequence):
            todo += node.items


def _text(node: YNode | None) -> str | None:
    return node.value if isinstance(node, Scalar) else None
