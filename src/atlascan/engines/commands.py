"""Command-line concepts, one rule each, over the command lines of every kind of file.

The parse stage gives each file's command lines (`atlascan.parsers.commandlines`, a view of
the Document); this engine parses each into simple commands (`atlascan.parsers.shell`),
strips wrappers such as `sudo`, `env A=b` or `python -m`, and runs one detector per concept:
ML control planes started without auth or on all interfaces, package indexes that invite
dependency confusion or tampering, remote scripts piped to a shell, models, datasets and
data archives fetched without integrity, and TLS verification switched off. Detectors return offsets into the command
text; the text's anchors map them back to the file.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache

from atlascan.analysis import FileContext, PrepareContext
from atlascan.engines import Engine
from atlascan.engines.workflows import remote_uses
from atlascan.identity import github_owner, owner_of
from atlascan.kinds import CI_KINDS
from atlascan.model import Severity, SourceFile, Span
from atlascan.parsers.commandlines import NAME_FILTERS, CommandText, commands, handles
from atlascan.parsers.requirements import installed_names, pip_install_arguments, requirement_line
from atlascan.parsers.shell import Assignment, Script, SimpleCommand, Word, parse, parse_argv
from atlascan.rules import Rule
from atlascan.vocabulary import (
    ALL_INTERFACES,
    OWN_PACKAGES_PRACTICE,
    STABLE_INDEX_PRACTICE,
    installs_own_packages,
    internal_host,
    internal_url,
    paired_wheel_index,
    public_wheel_index,
    revision_unknown,
    stable_wheel_index,
)

# An empty value is a flag or setting left without one (`--host` last, `GRADIO_SERVER_NAME=`):
# the server keeps its default address.
BIND_ALL = ALL_INTERFACES - {""}
WRAPPERS = frozenset(
    {
        "sudo",
        "doas",
        "env",
        "nohup",
        "exec",
        "time",
        "nice",
        "stdbuf",
        "tini",
        "dumb-init",
        "gosu",
        "su-exec",
    }
)
RUNNERS = {
    "uv": "run",
    "poetry": "run",
    "pipenv": "run",
    "pdm": "run",
    "hatch": "run",
    "pipx": "run",
    "conda": "run",
    "mamba": "run",
    "micromamba": "run",
}
INTERPRETERS = frozenset(
    {
        "sh",
        "bash",
        "dash",
        "zsh",
        "ksh",
        "ash",
        "python",
        "python2",
        "python3",
        "perl",
        "ruby",
        "node",
        "php",
    }
)
DOWNLOADERS = frozenset({"curl", "wget", "aria2c", "fetch", "ADD"})
CHECKSUM_TOOLS = frozenset(
    {"sha256sum", "sha512sum", "sha384sum", "sha1sum", "shasum", "b2sum", "md5sum", "cosign", "gpg"}
)
HEX40 = re.compile(r"^[0-9a-f]{40}$")
VERSIONED_PROG = re.compile(r"^(python|pip)[0-9.]*$")
JUPYTER_TOKEN_FLAG = re.compile(r"^--(?:NotebookApp|ServerApp|IdentityProvider)\.token=(.*)$", re.S)
JUPYTER_PASSWORD_FLAG = re.compile(
    r"^--(?:NotebookApp|ServerApp|PasswordIdentityProvider)\.(?:hashed_)?password=(.*)$", re.S
)
JUPYTER_IP_FLAG = re.compile(r"^--(?:(?:NotebookApp|ServerApp)\.)?ip(?:=(.*))?$", re.S)
JUPYTER_ROOT_FLAG = re.compile(
    r"^--(?:allow-root|(?:NotebookApp|ServerApp)\.allow_root=(?:True|true|1))$"
)
JUPYTER_PROGRAMS = frozenset(
    {
        "jupyter-lab",
        "jupyter-notebook",
        "jupyter-server",
        "jupyterhub-singleuser",
        "start-notebook.sh",
        "start-notebook.py",
        "start-singleuser.sh",
    }
)
JUPYTER_SUBCOMMANDS = frozenset({"lab", "notebook", "server", "nbclassic"})
EMPTY_VALUES = frozenset({"", "''", '""'})


@dataclass
class Invocation:
    """A command with wrappers stripped: `sudo -E env A=1 python3 -m pip install x` -> pip."""

    program: str
    args: list[Word]
    first: Word  # the word to point at for the whole command
    env: dict[str, str] = field(default_factory=dict)
    command: SimpleCommand | None = None


@dataclass(frozen=True)
class Hit:
    rule_id: str
    start: int
    end: int
    args: dict[str, str]
    severity: Severity | None = None
    source: str | None = None  # the owner of the GitHub repository the command installs from
    practice: str | None = None  # why the hit is the repository's practice (held back), if it is
    ci_practice: str | None = None  # ... why it is, in a CI job's script only
    vendor: bool = False  # a script at its publisher's own https address, not a repository's file


@dataclass
class Scan:
    """What detectors see for one command text."""

    text: CommandText
    script: Script
    invocations: list[Invocation]
    env: dict[str, str]  # environment next to the command plus every assignment in the text
    rules: dict[str, Rule]

    def assignments(self, *names: str) -> Iterator[Assignment]:
        for a in self.script.assignments:
            if a.name.value in names:
                yield a


def _program(word: str) -> str:
    name = word.replace("\\", "/").rsplit("/", 1)[-1]
    if name.lower().endswith(".exe"):  # Windows images: `curl.exe`, `python.exe`
        name = name[:-4]
    m = VERSIONED_PROG.match(name)
    return m.group(1) if m else name


def invocation(cmd: SimpleCommand) -> Invocation | None:
    words = list(cmd.words)
    env = {a.name.value: a.value.value for a in cmd.assignments}
    i = 0
    while i < len(words):
        prog = _program(words[i].value)
        if prog in WRAPPERS:
            i += 1
            while i < len(words) and (words[i].value.startswith("-") or "=" in words[i].value):
                name, eq, value = words[i].value.partition("=")
                if eq and not name.startswith("-"):
                    env[name] = value
                if words[i].value in ("-u", "-g", "-n") and prog != "env":
                    i += 1  # `sudo -u user`, `nice -n 10`
                i += 1
            continue
        if prog in RUNNERS and i + 1 < len(words) and words[i + 1].value == RUNNERS[prog]:
            i += 2
            while i < len(words) and words[i].value.startswith("-"):
                i += 2 if words[i].value in ("-n", "--name", "-p", "--prefix", "--with") else 1
            continue
        if prog == "python" and i + 2 < len(words) and words[i + 1].value == "-m":
            module = words[i + 2].value.split(".", 1)[0]  # `-m tensorboard.main` runs tensorboard
            return Invocation(_program(module), words[i + 3 :], words[i], env, cmd)
        if prog == "uv" and i + 1 < len(words) and words[i + 1].value == "pip":
            return Invocation("pip", words[i + 2 :], words[i], env, cmd)
        return Invocation(prog, words[i + 1 :], words[i], env, cmd)
    return None


def option(args: list[Word], *names: str) -> tuple[Word, str, Word] | None:
    """(flag word, value, word holding the value) of `--name=value` or `--name value`."""
    for k, word in enumerate(args):
        for name in names:
            if word.value == name:
                if k + 1 < len(args):
                    return word, args[k + 1].value, args[k + 1]
                return word, "", word
            if name.startswith("--") and word.value.startswith(name + "="):
                return word, word.value[len(name) + 1 :], word
    return None


def has_flag(args: list[Word], *names: str) -> bool:
    return any(
        w.value in names or any(w.value.startswith(n + "=") for n in names if n.startswith("--"))
        for w in args
    )


def _span(*words: Word) -> tuple[int, int]:
    return min(w.start for w in words), max(w.end for w in words)


# ---- exposed control planes ------------------------------------------------------------------


def _is_jupyter(inv: Invocation) -> bool:
    if inv.program in JUPYTER_PROGRAMS:
        return True
    if inv.program == "jupyter":
        return bool(inv.args) and inv.args[0].value in JUPYTER_SUBCOMMANDS
    return (
        inv.program == "start.sh"
        and bool(inv.args)
        and _program(inv.args[0].value) in ("jupyter", "jupyter-lab")
    )


def detect_jupyter(scan: Scan) -> Iterator[Hit]:
    for inv in scan.invocations:
        if not _is_jupyter(inv):
            continue
        empty_token: Word | None = None
        password = bool(scan.env.get("JUPYTER_PASSWORD"))
        bound: str | None = None
        # Settings an earlier RUN wrote to the image's Jupyter config (`--NotebookApp.token`
        # keys in the environment): the flags on the command line override them.
        written: str | None = None
        root: Word | None = None  # `--allow-root`: its own finding unless the open server's line says it
        for key, value in scan.env.items():
            if not key.startswith("--"):
                continue
            flag = f"{key}={value}"
            m = JUPYTER_TOKEN_FLAG.match(flag)
            if m and m.group(1).strip() in EMPTY_VALUES:
                empty_token, written = inv.first, f"c.{key[2:]} = {value}"
            if JUPYTER_PASSWORD_FLAG.match(flag) and value.strip() not in EMPTY_VALUES:
                password = True
            m = JUPYTER_IP_FLAG.match(flag)
            if m:
                bound = m.group(1)
        for k, word in enumerate(inv.args):
            m = JUPYTER_TOKEN_FLAG.match(word.value)
            if m:
                empty_token, written = (word, None) if m.group(1).strip() in EMPTY_VALUES else (None, None)
            m = JUPYTER_PASSWORD_FLAG.match(word.value)
            if m and m.group(1).strip() not in EMPTY_VALUES:
                password = True
            m = JUPYTER_IP_FLAG.match(word.value)
            if m:
                bound = (
                    m.group(1)
                    if m.group(1) is not None
                    else (inv.args[k + 1].value if k + 1 < len(inv.args) else "")
                )
            if JUPYTER_ROOT_FLAG.match(word.value):
                root = word
        if empty_token is not None and not password:
            public = bound is not None and bound.strip("'\"") in BIND_ALL
            where = "on all interfaces" if public else "without a token"
            if root is not None and scan.text.position(root.start)[0] == scan.text.position(empty_token.start)[0]:
                # Root on the line that opens the server is what it hands its visitor, not a
                # second way in: said here. On a line of its own it is a change of its own.
                where += f", and its notebook code runs as root (`{root.value}`)"
                root = None
            yield Hit(
                "ATS-CMD-001",
                empty_token.start,
                empty_token.end,
                {"flag": written if written is not None else empty_token.value, "where": where},
                Severity.CRITICAL if public else None,
            )
        if root is not None:
            yield Hit("ATS-CMD-002", root.start, root.end, {"flag": root.value})


def detect_mlflow(scan: Scan) -> Iterator[Hit]:
    for inv in scan.invocations:
        if inv.program != "mlflow" or not inv.args or inv.args[0].value not in ("server", "ui"):
            continue
        host = option(inv.args, "--host", "-h")
        if host is None or host[1] not in BIND_ALL or has_flag(inv.args, "--app-name"):
            continue
        start, end = _span(host[0], host[2])
        yield Hit("ATS-CMD-003", start, end, {"sub": inv.args[0].value, "host": host[1]})


def detect_ray(scan: Scan) -> Iterator[Hit]:
    # Token authentication, or Ray TLS (mutual TLS on the head's gRPC endpoints).
    if scan.env.get("RAY_AUTH_MODE", "").lower() == "token" or _truthy(scan.env.get("RAY_USE_TLS", "")):
        return
    # A KubeRay head's rayStartParams: the operator sets dashboard-host 0.0.0.0 where it is
    # unset, so how the head is published decides (ATS-K8S-010 and ATS-K8S-009).
    if scan.text.origin == "kuberay rayStartParams":
        return
    for inv in scan.invocations:
        if (
            inv.program != "ray"
            or not inv.args
            or inv.args[0].value != "start"
            or not has_flag(inv.args, "--head")
        ):
            continue
        if inv.env.get("RAY_AUTH_MODE", "").lower() == "token":
            continue
        host = option(inv.args, "--dashboard-host")
        if host is not None and host[1] in BIND_ALL:
            start, end = _span(host[0], host[2])
            yield Hit("ATS-CMD-004", start, end, {"host": host[1]})


def _truthy(value: str) -> bool:
    return value.strip("'\"").lower() in ("true", "1", "yes", "on")


def detect_torchserve(scan: Scan) -> Iterator[Hit]:
    for inv in scan.invocations:
        if inv.program != "torchserve":
            continue
        for word in inv.args:
            if word.value in ("--disable-token-auth", "--enable-model-api"):
                yield Hit("ATS-CMD-005", word.start, word.end, {"setting": word.value})
    for a in scan.assignments("TS_DISABLE_TOKEN_AUTHORIZATION", "TS_ENABLE_MODEL_API"):
        if _truthy(a.value.value):
            yield Hit(
                "ATS-CMD-005",
                a.name.start,
                a.value.end,
                {"setting": f"{a.name.value}={a.value.value}"},
            )


def detect_triton(scan: Scan) -> Iterator[Hit]:
    for inv in scan.invocations:
        if inv.program != "tritonserver":
            continue
        mode = option(inv.args, "--model-control-mode")
        if mode is None or mode[1] not in ("explicit", "poll"):
            continue
        if has_flag(inv.args, "--http-restricted-api", "--grpc-restricted-protocol"):
            continue
        start, end = _span(mode[0], mode[2])
        yield Hit("ATS-CMD-006", start, end, {"mode": mode[1]})


def detect_open_ui(scan: Scan) -> Iterator[Hit]:
    for inv in scan.invocations:
        if inv.program != "tensorboard":
            continue
        bind_all = next((w for w in inv.args if w.value == "--bind_all"), None)
        host = option(inv.args, "--host")
        if bind_all is not None:
            yield Hit(
                "ATS-CMD-007",
                bind_all.start,
                bind_all.end,
                {"app": "TensorBoard", "setting": "--bind_all"},
            )
        elif host is not None and host[1] in BIND_ALL:
            start, end = _span(host[0], host[2])
            yield Hit(
                "ATS-CMD-007", start, end, {"app": "TensorBoard", "setting": f"--host {host[1]}"}
            )
    for a in scan.assignments("GRADIO_SERVER_NAME"):
        if a.value.value.strip("'\"") in BIND_ALL:
            yield Hit(
                "ATS-CMD-007",
                a.name.start,
                a.value.end,
                {"app": "Gradio", "setting": f"GRADIO_SERVER_NAME={a.value.value}"},
            )


# ---- package indexes -------------------------------------------------------------------------

PIP_PROGRAMS = frozenset({"pip", "uv", "pip-sync", "pip-compile"})
INDEX_OPTIONS = (
    "--index-url",
    "-i",
    "--extra-index-url",
    "--find-links",
    "-f",
    "--index",
    "--default-index",
)


def _insecure_url(value: str) -> bool:
    value = value.strip("'\"")
    return value.startswith("http://") and not internal_url(value)


def _internal_hosts(value: str) -> bool:
    """Whether a space-separated host list (`PIP_TRUSTED_HOST`) names hosts, all internal."""
    hosts = value.strip("'\"").split()
    return bool(hosts) and all(internal_host(h) for h in hosts)


def _pip_config(inv: Invocation, key: str) -> Word | None:
    """`pip config set global.<key> value`: the key word."""
    args = inv.args
    if (
        len(args) >= 3
        and args[0].value == "config"
        and args[1].value == "set"
        and args[2].value.endswith("." + key)
    ):
        return args[2]
    return None


def _option_values(inv: Invocation, names: tuple[str, ...]) -> Iterator[tuple[int, str]]:
    """(index of the option word, value) of each `--name value` / `--name=value` option."""
    for k, word in enumerate(inv.args):
        if word.value in names and k + 1 < len(inv.args):
            yield k, inv.args[k + 1].value
        elif word.value.startswith(tuple(n + "=" for n in names if n.startswith("--"))):
            yield k, word.value.partition("=")[2]


def _only_local_versions(words: list[str]) -> bool:
    """Whether a `pip install` names packages only, each pinned with `==` to a local version
    (`torch-neuronx==2.7.0.2.8.6734+ac864f72`), which PyPI does not accept."""
    found = False
    for i in pip_install_arguments(words):
        req = requirement_line(words[i].strip("'\""), Span(1))
        if req is None or req.url or not req.pinned or "+" not in req.pinned:
            return False
        found = True
    return found


def _uv_first_index(options: Iterator[tuple[int, str]], env: Mapping[str, str]) -> bool:
    """Whether uv resolves each package from the first index that has it, extra indexes
    first (its default `first-index` strategy): a same-named package on PyPI cannot win
    over the extra index's. `--index-strategy unsafe-best-match` (or `UV_INDEX_STRATEGY`)
    weighs every index, as pip does."""
    strategy = next((v for _, v in options), None) or env.get("UV_INDEX_STRATEGY") or "first-index"
    return strategy.strip("'\"") != "unsafe-best-match"


TESTPYPI = re.compile(r"^https?://test\.pypi\.org/", re.I)
TESTPYPI_SMOKE = "a CI job's smoke test of a release on TestPyPI, which ships nothing it installs"


def detect_extra_index(scan: Scan) -> Iterator[Hit]:
    # The index `pip config set global.index-url` makes the primary; an extra index that
    # repeats it (LLaMA-Factory's images set both to `${PIP_INDEX}`) adds no second index.
    configured = {
        inv.args[3].value for inv in scan.invocations
        if inv.program in PIP_PROGRAMS and _pip_config(inv, "index-url") is not None and len(inv.args) > 3
    }  # fmt: skip
    for inv in scan.invocations:
        if inv.program not in PIP_PROGRAMS:
            continue
        primary = next((_expand(v, scan.env) for _, v in _option_values(inv, ("--index-url", "-i", "--default-index"))), None)
        words = [inv.program, *(w.value for w in inv.args)]
        if _only_local_versions(words):
            continue  # `neuronx-cc==2.19.8089.0+8ab9f450`: PyPI refuses local versions, none can come from it
        uv = "uv" in (inv.program, inv.first.value.rpartition("/")[2])  # `uv pip install` reads as pip
        if uv and _uv_first_index(_option_values(inv, ("--index-strategy",)), {**scan.env, **inv.env}):
            continue
        for k, url in _option_values(inv, ("--extra-index-url",)):
            if _expand(url, scan.env) == primary:
                continue  # the same index twice
            word = inv.args[k]
            end = inv.args[k + 1].end if word.value == "--extra-index-url" else word.end
            # An index only its operator publishes to (the PyTorch wheels), beside PyPI, cannot
            # serve a stranger's package under a private name: medium, as ATS-DEP-001 grades it.
            wheels = paired_wheel_index(_expand(url, scan.env), primary)
            severity = Severity.MEDIUM if wheels else None
            names = installed_names(words)
            # CPU or CUDA torch from PyTorch's own index: each name comes from its owner
            # whichever index wins, as every such image installs it.
            practice = OWN_PACKAGES_PRACTICE if wheels and installs_own_packages(wheels, names) else None
            if practice is None and wheels and stable_wheel_index(wheels):
                practice = STABLE_INDEX_PRACTICE
            # PyPA's recipe to smoke-test a release uploaded to TestPyPI (`-i test.pypi.org
            # --extra-index-url pypi.org`): in a CI job it ships nothing it installs (cleanlab,
            # lerobot, torchtitan; judged NOISE four times).
            smoke = TESTPYPI_SMOKE if any(TESTPYPI.match(u or "") for u in (primary, _expand(url, scan.env))) else None
            yield Hit("ATS-CMD-010", word.start, end, {"how": "--extra-index-url"}, severity, practice=practice, ci_practice=smoke)
        key = _pip_config(inv, "extra-index-url")
        if key is not None and not (len(inv.args) > 3 and inv.args[3].value in configured):
            yield Hit("ATS-CMD-010", key.start, key.end, {"how": "pip config extra-index-url"})
    for a in scan.assignments("PIP_EXTRA_INDEX_URL", "UV_EXTRA_INDEX_URL"):
        if a.name.value == "UV_EXTRA_INDEX_URL" and _uv_first_index(iter(()), scan.env):
            continue
        urls = _expand(a.value.value.strip("'\""), scan.env).split()
        if urls:
            # Several indexes, space-separated: medium when each is an index only its operator publishes to.
            severity = Severity.MEDIUM if all(public_wheel_index(u) for u in urls) else None
            practice = STABLE_INDEX_PRACTICE if all(stable_wheel_index(u) for u in urls) else None
            yield Hit("ATS-CMD-010", a.name.start, a.value.end, {"how": a.name.value}, severity, practice=practice)


def detect_insecure_index(scan: Scan) -> Iterator[Hit]:
    for inv in scan.invocations:
        if inv.program not in PIP_PROGRAMS:
            continue
        for k, word in enumerate(inv.args):
            flag = word.value.split("=", 1)[0]
            if flag in ("--trusted-host", "--allow-insecure-host"):  # pip; uv
                end = (
                    inv.args[k + 1].end
                    if word.value == flag and k + 1 < len(inv.args)
                    else word.end
                )
                host = (
                    word.value.split("=", 1)[1]
                    if "=" in word.value
                    else (inv.args[k + 1].value if k + 1 < len(inv.args) else "")
                )
                if internal_host(host.strip("'\"")):
                    continue  # a local or in-cluster index (devpi, a CI cache) is not the open network
                yield Hit(
                    "ATS-CMD-011",
                    word.start,
                    end,
                    {"how": f"{flag} turns off TLS checks for the index"},
                )
            elif (
                word.value in INDEX_OPTIONS
                and k + 1 < len(inv.args)
                and _insecure_url(inv.args[k + 1].value)
            ):
                yield Hit(
                    "ATS-CMD-011",
                    word.start,
                    inv.args[k + 1].end,
                    {"how": f"{word.value} uses plain http"},
                )
            elif (
                "=" in word.value
                and word.value.split("=", 1)[0] in INDEX_OPTIONS
                and _insecure_url(word.value.split("=", 1)[1])
            ):
                yield Hit(
                    "ATS-CMD-011",
                    word.start,
                    word.end,
                    {"how": f"{word.value.split('=', 1)[0]} uses plain http"},
                )
        key = _pip_config(inv, "trusted-host")
        if key is not None and not _internal_hosts(inv.args[3].value if len(inv.args) > 3 else ""):
            yield Hit("ATS-CMD-011", key.start, key.end, {"how": "pip config trusted-host"})
    for a in scan.assignments("PIP_TRUSTED_HOST", "UV_INSECURE_HOST"):
        if a.value.value.strip("'\"").split() and not _internal_hosts(a.value.value):
            yield Hit(
                "ATS-CMD-011",
                a.name.start,
                a.value.end,
                {"how": f"{a.name.value} turns off TLS checks"},
            )
    for a in scan.assignments(
        "PIP_INDEX_URL",
        "PIP_EXTRA_INDEX_URL",
        "UV_INDEX_URL",
        "UV_EXTRA_INDEX_URL",
        "PIP_FIND_LINKS",
        "UV_DEFAULT_INDEX",
    ):
        if _insecure_url(a.value.value):
            yield Hit(
                "ATS-CMD-011", a.name.start, a.value.end, {"how": f"{a.name.value} uses plain http"}
            )


def _git_ref(spec: str) -> str | None:
    """The `@ref` of a `git+scheme://host/path@ref#egg=x` spec, or None."""
    url = spec.split("git+", 1)[1].split("#", 1)[0]
    path = url.split("://", 1)[-1]
    _, _, rest = path.partition("/")
    return rest.rsplit("@", 1)[1] if "@" in rest else None


GIT_UNPINNED = "ATS-CMD-012"
CI_BRANCH = "a CI job's install of a branch, which ships nothing it installs"


def detect_git_unpinned(scan: Scan) -> Iterator[Hit]:
    for inv in scan.invocations:
        if (
            inv.program not in ("pip", "uv")
            or not inv.args
            or inv.args[0].value not in ("install", "add", "download", "wheel")
        ):
            continue
        env = {**scan.env, **inv.env}
        for word in inv.args[1:]:
            if word.value.startswith("-"):
                continue
            spec = _expand_all(word.value, env)  # `ARG REPO=...@${TAG}` ... `"git+${REPO}"`
            if "git+" not in spec:
                continue
            ref = _git_ref(spec)
            if revision_unknown(spec.split("git+", 1)[1], ref):
                continue  # the build fills the ref in: it may be a commit
            if ref is None or not HEX40.match(ref.lower()):
                # A test leg against upstream's branch (unsloth's "vs TRL main", axolotl's
                # nightly) tracks the head on purpose, and a CI job ships nothing it installs.
                yield Hit(GIT_UNPINNED, word.start, word.end, {"ref": f"@{ref}" if ref else "no ref"}, source=github_owner(spec), ci_practice=CI_BRANCH)


# ---- remote code and downloads -----------------------------------------------------------------


def _runs_stdin(inv: Invocation) -> bool:
    """`sh`, `bash -s -- x`, `python3 -`: the interpreter reads its program from stdin."""
    if inv.program not in INTERPRETERS:
        return False
    for word in inv.args:
        value = word.value
        if value in ("-", "--") or value == "-s":
            return True
        if value.startswith("-") and not value.startswith("--"):
            if "c" in value[1:] or "m" in value[1:]:
                return False  # the program is an argument, not stdin
            continue
        if value.startswith("--"):
            continue
        return False  # a script file
    return True


def _downloads(inv: Invocation) -> bool:
    return inv.program in DOWNLOADERS and inv.program != "ADD"


def detect_remote_script(scan: Scan) -> Iterator[Hit]:
    by_command = {id(inv.command): inv for inv in scan.invocations}
    commands = scan.script.commands
    pipelines: dict[int, list[Invocation]] = {}
    for inv in scan.invocations:
        if inv.command is not None and inv.command.pipeline >= 0:
            pipelines.setdefault(inv.command.pipeline, []).append(inv)
    for stages in pipelines.values():
        fetch = next((s for s in stages if _downloads(s)), None)
        if fetch is None or fetch.command is None or _release_url(fetch, scan.env):
            continue
        for later in stages:
            if (
                later.command is not None
                and later.command.stage > fetch.command.stage
                and _runs_stdin(later)
            ):
                yield _remote_hit(fetch, later.first.end, later.program)
                break
    for inv in scan.invocations:
        cmd = inv.command
        if cmd is None or cmd.parent is None or not _downloads(inv) or _release_url(inv, scan.env):
            continue
        parent = by_command.get(id(commands[cmd.parent]))
        if parent is not None and (
            parent.program in INTERPRETERS or parent.program in ("eval", "source", ".")
        ):
            word = (
                next(
                    (w for w in parent.command.words if w.start <= inv.first.start < w.end),
                    parent.first,
                )
                if parent.command
                else parent.first
            )
            yield _remote_hit(inv, word.end, parent.program, start=parent.first.start)


# A path segment naming one exact release (`/v0.37.2/install.sh`, `/1.2.3/get.sh`).
RELEASE_SEGMENT = re.compile(r"/v?\d+\.\d+\.\d+(?:[-+][\w.]+)?/")


# A path segment the build fills in with a version (`/${UV_VERSION}/`, `/v${VERSION}/`): one
# exact release, whichever the build asks for.
VERSION_SEGMENT = re.compile(r"/v?\$\{?\w*VERSION\w*\}?/", re.I)


def _release_url(fetch: Invocation, env: Mapping[str, str]) -> bool:
    """The script is an https URL of one exact release: as pinned as a version-tagged
    download, which is the practice everywhere else (nvm's documented installer). The URL's
    variables are read from the text's own assignments and a Dockerfile's ARG defaults
    (flyte's `astral.sh/uv/${UV_VERSION}/install.sh`, `ARG UV_VERSION=0.8.4`)."""
    urls = [_expand_all(w.value, {**env, **fetch.env}) for w in fetch.args if "://" in w.value]
    if len(urls) != 1 or not urls[0].startswith("https://"):
        return False
    path = urls[0].split("?", 1)[0]
    return bool(RELEASE_SEGMENT.search(path) or VERSION_SEGMENT.search(path))


REMOTE_SCRIPT = "ATS-CMD-013"
# A file served from a GitHub repository's branch or tag: whose repository it is.
RAW_GITHUB = re.compile(r"^https?://raw\.githubusercontent\.com/([A-Za-z0-9][A-Za-z0-9-]{0,38})/", re.I)
# A file of some repository's branch, anyone's to change, rather than an installer its
# publisher serves: a raw or blob file of GitHub, GitLab or Bitbucket, a gist.
REPOSITORY_FILE = re.compile(
    r"^https://(?:(?:raw|gist)\.githubusercontent\.com/|(?:github|gitlab|bitbucket)\.(?:com|org)/[^/]+/[^/]+/(?:-/)?(?:raw|blob)/)",
    re.I,
)


def _remote_hit(fetch: Invocation, end: int, interpreter: str, start: int | None = None) -> Hit:
    url = next((w.value for w in fetch.args if "://" in w.value), "")
    severity = Severity.HIGH if url.startswith("http://") else None
    raw = RAW_GITHUB.match(url)
    return Hit(
        REMOTE_SCRIPT,
        fetch.first.start if start is None else start,
        end,
        {"fetch": fetch.program, "interpreter": interpreter},
        severity,
        source=raw.group(1).lower() if raw else github_owner(url),
        vendor=url.startswith("https://") and not REPOSITORY_FILE.match(url),
    )


DIGEST_TOOLS = CHECKSUM_TOOLS - {"cosign", "gpg"}


def _verification_at(scan: Scan) -> int | None:
    """Offset of the first checksum or signature check in the command text: a tool run with
    its check option (`sha256sum -c`, `gpg --verify`, `cosign verify-blob`), or a digest
    (`sha256sum f`, `openssl dgst -sha256 f`) whose output goes on to a comparison, i.e. into
    a pipe (`| grep -q "$SHA"`, `| cut ...` in a test) or a command substitution."""
    first: int | None = None
    for inv in scan.invocations:
        checked = inv.program in CHECKSUM_TOOLS and any(
            w.value in ("-c", "--check", "--verify", "verify-blob") or w.value.startswith("-c")
            for w in inv.args
        )
        digest = inv.program in DIGEST_TOOLS or (
            inv.program == "openssl" and bool(inv.args) and inv.args[0].value in ("dgst", "sha256", "sha512")
        )
        compared = (
            digest
            and inv.command is not None
            and (inv.command.parent is not None or inv.command.pipeline >= 0)
        )
        if (checked or compared) and (first is None or inv.first.start < first):
            first = inv.first.start
    return first


def _verified(scan: Scan) -> bool:
    """A checksum or signature check somewhere in the same command text."""
    return _verification_at(scan) is not None


def _url_words(inv: Invocation) -> Iterator[Word]:
    for word in inv.args:
        value = word.value.strip("'\"")
        if value.startswith(("http://", "https://")):
            yield word


# A CI job's model download (a test's tiny checkpoint, an official model a GPU test loads):
# every such one read was judged NOISE (torchchat's, verl's, axolotl's test jobs).
CI_MODEL = "a model a CI job fetches for its own run, which ships nothing it fetches"


def detect_model_downloads(scan: Scan) -> Iterator[Hit]:
    rule = scan.rules.get("ATS-CMD-014") or scan.rules.get("ATS-CMD-015")
    exts = tuple(rule.match.get("model_extensions", ())) if rule else ()
    data_rule = scan.rules.get("ATS-CMD-017")
    verified: bool | None = None
    for inv in scan.invocations:
        if (
            inv.program in ("huggingface-cli", "hf")
            and inv.args
            and inv.args[0].value == "download"
        ):
            revision = option(inv.args, "--revision")
            if (revision is None or not HEX40.match(revision[1].lower())) and len(inv.args) > 1:
                target = inv.args[1]
                yield Hit(
                    "ATS-CMD-015",
                    target.start,
                    target.end,
                    {"what": f"{target.value} without a pinned --revision"},
                    ci_practice=CI_MODEL,
                )
            continue
        if inv.program not in DOWNLOADERS:
            continue
        has_checksum = inv.program == "ADD" and any(
            w.value.startswith("--checksum") for w in inv.args
        )
        for word in _url_words(inv):
            url = word.value.strip("'\"")
            path = url.split("?", 1)[0].split("#", 1)[0].lower()
            model_file = path.endswith(exts) if exts else False
            resolve = re.search(r"/resolve/([^/]+)/", path)
            unpinned_hub = resolve is not None and not HEX40.match(resolve.group(1))
            if not (model_file or unpinned_hub) or (resolve is not None and not unpinned_hub):
                if resolve is None and data_rule is not None and not has_checksum:
                    yield from _data_download(scan, inv, word, url, path, data_rule)
                continue  # a Hub file at a commit cannot change
            if url.startswith("http://"):
                yield Hit("ATS-CMD-014", word.start, word.end, {"url": url})
                continue
            if has_checksum:
                continue
            if verified is None:
                verified = _verified(scan)
            if not verified:
                what = "a Hub file from a branch, not a commit" if unpinned_hub else "a model file"
                yield Hit(
                    "ATS-CMD-015",
                    word.start,
                    word.end,
                    {"what": f"{what} ({url.rsplit('/', 1)[-1]}) with no checksum check"},
                    ci_practice=CI_MODEL,
                )


COMPRESSION = re.compile(r"\.(?:gz|bz2|xz|zst)$")
# `curl -o FILE`, `curl -fsSLo FILE`, `wget -O FILE`, `wget -qO FILE`, and their long forms
OUTPUT_OPTIONS = {"curl": ("-o", "--output"), "wget": ("-O", "--output-document")}
# commands that name a downloaded file without using it
NOT_USES = CHECKSUM_TOOLS | {"rm", "echo", "printf", "ls", "test", "[", "stat", "openssl"}


@cache
def _ml_words(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.I)


def _host_in(host: str, hosts: tuple[str, ...]) -> bool:
    return any(host == h or host.endswith("." + h) for h in hosts)


def data_artifact(path: str, rule: Rule) -> str | None:
    """What an https URL (lower case, no query) fetches when it is a dataset file or an
    archive of models or data (the rule's tables), else None."""
    rest = path.split("://", 1)[-1]
    m = _URL_HOST.match(rest)
    host = m.group(1) if m else ""
    url_path = rest[len(m.group(0)) :] if m else rest
    name = url_path.rsplit("/", 1)[-1]
    if COMPRESSION.sub("", name).endswith(tuple(rule.match.get("dataset_extensions", ()))):
        return "Dataset file"
    if not name.endswith(tuple(rule.match.get("archive_extensions", ()))):
        return None
    words = rule.match.get("ml_words")
    if _host_in(host, tuple(rule.match.get("data_hosts", ()))) or (
        words and _ml_words(words).search(url_path)
    ):
        return "Archive"
    return None


def _output_names(inv: Invocation, url: str) -> set[str]:
    """Names the downloaded file goes by: the URL's last segment and the output path."""
    names = {url.split("?", 1)[0].split("#", 1)[0].rstrip("/").rsplit("/", 1)[-1]}
    short, long = OUTPUT_OPTIONS.get(inv.program, ("", ""))
    args = inv.args
    for k, w in enumerate(args):
        value = w.value
        target = None
        if value in (">", ">>"):  # the tokenizer fallback keeps redirects as words
            target = args[k + 1].value if k + 1 < len(args) else None
        elif value.startswith(">"):
            target = value.lstrip(">")
        elif long and value.startswith(long + "="):
            target = value[len(long) + 1 :]
        elif value == long or (
            short and value.startswith("-") and not value.startswith("--") and value.endswith(short[1])
        ):
            target = args[k + 1].value if k + 1 < len(args) else None
        elif short and value.startswith(short) and len(value) > 2 and not value.startswith("--"):
            target = value[2:]  # `-ofile`, `-O/path`
        elif inv.program == "wget" and value in ("-P", "--directory-prefix") and k + 1 < len(args):
            names.add(args[k + 1].value.rstrip("/") + "/")
        if target:
            names.update({target, target.rsplit("/", 1)[-1]})
    return {n.strip("'\"") for n in names if n.strip("'\"") not in ("", "-", "/")}


_REDIRECT = re.compile(r"[ \t]*>[ \t]*(\S+)")


def _first_use(scan: Scan, inv: Invocation, url: str) -> int | None:
    """Offset of the first command that uses what `inv` downloaded: a later stage of its
    pipeline (`curl ... | tar xz`), or a later command naming the file (extracting,
    installing, moving or loading it). A Dockerfile keeps the file in the image: the end of
    the text. None when nothing in the text uses it."""
    text = scan.text
    if text.origin.startswith("dockerfile"):
        return len(text.text)
    cmd = inv.command
    if cmd is None:
        return None
    if cmd.pipeline >= 0:
        later = [
            other.first.start
            for other in scan.invocations
            if other.command is not None
            and other.command.pipeline == cmd.pipeline
            and other.command.stage > cmd.stage
        ]
        if later:
            return min(later)
    names = _output_names(inv, url)
    last = max((w.end for w in cmd.words), default=inv.first.end)
    m = _REDIRECT.match(text.text, last)
    if m:
        names.update({m.group(1), m.group(1).rsplit("/", 1)[-1]})
    names = {n.strip("'\"") for n in names} - {""}
    for other in scan.invocations:
        if other is inv or other.first.start <= inv.first.start or other.program in NOT_USES:
            continue
        for w in other.args:
            value = w.value.strip("'\"")
            if any(value == n or value.endswith("/" + n) or (n.endswith("/") and value.startswith(n)) for n in names):
                return other.first.start
    return None


def _data_download(
    scan: Scan, inv: Invocation, word: Word, url: str, path: str, rule: Rule
) -> Iterator[Hit]:
    what = data_artifact(path, rule)
    if what is None:
        return
    use = _first_use(scan, inv, url)
    if use is None:
        return
    verified = _verification_at(scan)
    if verified is not None and verified < use:
        return
    plain = url.startswith("http://")
    yield Hit(
        "ATS-CMD-017",
        word.start,
        word.end,
        {
            "what": what,
            "name": url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1],
            "transport": " over plain http" if plain else "",
        },
        Severity.HIGH if plain else None,
    )


# ---- TLS verification off ------------------------------------------------------------------------

TLS_ENV = {
    "GIT_SSL_NO_VERIFY": lambda v: v.lower() not in ("", "0", "false", "no"),
    "PYTHONHTTPSVERIFY": lambda v: v == "0",
    "NODE_TLS_REJECT_UNAUTHORIZED": lambda v: v == "0",
}
# Not here, though scripts set them to turn verification off: `HF_HUB_DISABLE_SSL_VERIFICATION`
# (huggingface_hub reads no such setting) and an empty `CURL_CA_BUNDLE`/`REQUESTS_CA_BUNDLE`
# (requests 2.28, June 2022, reads an empty bundle as the default one; an empty
# REQUESTS_CA_BUNDLE never turned it off).


_VAR_REF = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?")
_URL_HOST = re.compile(r"^(?:[A-Za-z][A-Za-z0-9+.-]*://)?(?:[^@/\s]*@)?(\[[^\]]*\]|[^/:?#\s]*)")


def _expand(value: str, env: dict[str, str]) -> str:
    """One level of `$X`/`${X}` from the text's own assignments (unknown ones stay)."""
    return _VAR_REF.sub(lambda m: env.get(m.group(1), m.group(0)).strip("'\""), value)


def _expand_all(value: str, env: dict[str, str], depth: int = 3) -> str:
    """`_expand` until nothing known is left, a few levels at most (an ARG default that
    names another ARG; `A=$A:x` expands once per level)."""
    for _ in range(depth):
        expanded = _expand(value, env)
        if expanded == value:
            break
        value = expanded
    return value


def _curl_targets_local(inv: Invocation, env: dict[str, str]) -> bool:
    """Every URL the curl names is this machine or a service inside its cluster (a health
    check of a port-forward, a server with a self-signed certificate): `-k` there trusts
    nothing that comes over an outside network."""
    hosts = []
    for w in inv.args:
        value = _expand(w.value, env)
        if "://" not in value and not value.startswith(("localhost", "127.")):
            continue
        m = _URL_HOST.match(value.split("://", 1)[-1] if "://" in value else value)
        hosts.append(m.group(1).lower() if m else "")
    return bool(hosts) and all(internal_host(h) for h in hosts)


# Image copy tools: `--tls-verify=false` for the registry they pull from or push to.
TLS_VERIFY_FLAGS = ("--tls-verify", "--src-tls-verify", "--dest-tls-verify")


def _tls_off_words(inv: Invocation, env: dict[str, str]) -> Iterator[Word]:
    args = inv.args
    if inv.program in ("curl", "wget") and _curl_targets_local(inv, env):
        return
    # `aws --no-verify-ssl`, and the same spelling of other CLIs
    yield from (w for w in args if w.value == "--no-verify-ssl")
    if inv.program == "curl":
        for w in args:
            if w.value == "--insecure" or (
                w.value.startswith("-") and not w.value.startswith("--") and "k" in w.value[1:]
            ):
                yield w
    elif inv.program in ("wget", "s3cmd"):
        yield from (w for w in args if w.value == "--no-check-certificate")
    elif inv.program in ("mc", "helm"):  # MinIO client; chart repositories and pulls
        yield from (w for w in args if w.value in ("--insecure", "--insecure-skip-tls-verify"))
    elif inv.program in ("skopeo", "podman", "buildah"):
        for k, w in enumerate(args):
            name, eq, value = w.value.partition("=")
            if name in TLS_VERIFY_FLAGS and (
                value.lower() == "false"
                if eq
                else k + 1 < len(args) and args[k + 1].value.lower() == "false"
            ):
                yield w
    elif inv.program == "git":
        for k, w in enumerate(args):
            low = w.value.lower()
            if (
                low.startswith("http.sslverify=") and low.split("=", 1)[1] in ("false", "0", "no")
            ) or (
                low == "http.sslverify"
                and k + 1 < len(args)
                and args[k + 1].value.lower() in ("false", "0", "no")
            ):
                yield w
    elif inv.program in ("conda", "mamba", "micromamba"):
        for k, w in enumerate(args):
            if (
                w.value == "ssl_verify"
                and k + 1 < len(args)
                and args[k + 1].value.lower() in ("false", "no", "0")
            ):
                yield w
    elif inv.program in ("npm", "yarn", "pnpm"):
        for k, w in enumerate(args):
            if w.value in ("strict-ssl", "strict-ssl=false") and (
                w.value.endswith("false") or (k + 1 < len(args) and args[k + 1].value == "false")
            ):
                yield w
    elif inv.program in ("apt-get", "apt"):
        for w in args:
            if (
                w.value == "--allow-unauthenticated"
                or "Verify-Peer=false" in w.value
                or "AllowInsecureRepositories=true" in w.value
            ):
                yield w
    elif inv.program == "apk":
        yield from (w for w in args if w.value == "--allow-untrusted")


def detect_tls_off(scan: Scan) -> Iterator[Hit]:
    for inv in scan.invocations:
        for word in _tls_off_words(inv, {**scan.env, **inv.env}):
            yield Hit("ATS-CMD-016", word.start, word.end, {"what": f"{inv.program} {word.value}"})
    for a in scan.script.assignments:
        check = TLS_ENV.get(a.name.value)
        if check is not None and check(a.value.value.strip("'\"")):
            yield Hit(
                "ATS-CMD-016",
                a.name.start,
                max(a.value.end, a.name.end + 1),
                {"what": f"{a.name.value}={a.value.value}"},
            )


@dataclass(frozen=True)
class Detector:
    """One concept: the rules it reports, and the words (case-insensitive) a command text
    must contain for it to have anything to look at; a file or text containing none of the
    triggers of the enabled rules' detectors is never parsed."""

    rules: tuple[str, ...]
    triggers: tuple[str, ...]
    run: Callable[[Scan], Iterator[Hit]]


# The triggers are the words the engine filtered every file on before they were declared
# per detector. A few spellings the detectors know are not triggers yet (`start-singleuser.sh`,
# `aria2c`, `fetch`): a text naming only those is not looked at.
PIP = ("pip", "uv ")
DOWNLOAD = ("curl", "wget")
DETECTORS: tuple[Detector, ...] = (
    Detector(("ATS-CMD-001", "ATS-CMD-002"), ("jupyter", "notebook"), detect_jupyter),
    Detector(("ATS-CMD-003",), ("mlflow",), detect_mlflow),
    Detector(("ATS-CMD-004",), ("ray ",), detect_ray),
    Detector(("ATS-CMD-005",), ("torchserve", "TS_"), detect_torchserve),
    Detector(("ATS-CMD-006",), ("triton",), detect_triton),
    Detector(("ATS-CMD-007",), ("tensorboard", "GRADIO"), detect_open_ui),
    Detector(("ATS-CMD-010",), (*PIP, "INDEX"), detect_extra_index),
    Detector(("ATS-CMD-011",), (*PIP, "INDEX", "TRUSTED", "insecure"), detect_insecure_index),
    Detector((GIT_UNPINNED,), PIP, detect_git_unpinned),
    Detector((REMOTE_SCRIPT,), DOWNLOAD, detect_remote_script),
    Detector(
        ("ATS-CMD-014", "ATS-CMD-015", "ATS-CMD-017"),
        (*DOWNLOAD, "ADD ", "huggingface", "hf "),
        detect_model_downloads,
    ),
    Detector(
        ("ATS-CMD-016",),
        (*DOWNLOAD, "SSL", "TLS", "VERIFY", "insecure", "check-cert", "unauthenticated", "untrusted", "strict-ssl"),
        detect_tls_off,
    ),
)


@cache
def prefilter(enabled: frozenset[str]) -> re.Pattern[str] | None:
    """One regex of the triggers of the detectors that report an enabled rule."""
    words = {w for d in DETECTORS if not enabled.isdisjoint(d.rules) for w in d.triggers}
    if not words:
        return None
    return re.compile("|".join(sorted(map(re.escape, words))), re.I)


def parse_command_text(ct: CommandText, use_tree_sitter: bool = True) -> Script:
    if ct.argv is None:
        return parse(ct.text, use_tree_sitter)
    return parse_argv(ct.argv, ct.text, use_tree_sitter)


def scan_command_text(
    ct: CommandText, rules: dict[str, Rule], use_tree_sitter: bool = True, script: Script | None = None
) -> list[Hit]:
    """The enabled rules' hits in one command text (`script`: its parse, when already made)."""
    if script is None:
        script = parse_command_text(ct, use_tree_sitter)
    invocations = [inv for cmd in script.commands if (inv := invocation(cmd)) is not None]
    env = dict(ct.env)
    # `A=1 cmd` sets A for cmd only; `export A=1` and `A=1` alone set it for what follows
    prefixed = {a.name.start for cmd in script.commands for a in cmd.assignments}
    env.update(
        (a.name.value, a.value.value) for a in script.assignments if a.name.start not in prefixed
    )
    scan = Scan(ct, script, invocations, env, rules)
    hits: list[Hit] = []
    for detector in DETECTORS:
        if any(r in rules for r in detector.rules):
            hits.extend(h for h in detector.run(scan) if h.rule_id in rules)
    return hits


# ATS-CMD-012's repository practice: the git dependencies every file kind that installs
# them names (Python sources call no installer this engine reads, and are many).
GIT_SPEC = re.compile(r"git\+[a-z]+://[^\s'\"\\;|&<>()]+")
GIT_COMMIT = re.compile(r"@[0-9a-fA-F]{40}(?![0-9a-fA-F])")
GIT_PRACTICE_KINDS = frozenset({
    "dockerfile", "shell", "notebook", "gha-workflow", "gha-action", "gitlab-ci", "requirements", "pyproject", "setup-cfg",
})  # fmt: skip
GIT_PRACTICE = "fewer than half of the repository's git dependencies are pinned to a commit"
# ATS-CMD-013's: a publisher's installer piped to a shell (uv's, rustup's, NodeSource's) is
# how that publisher ships its tool, and the project trusts it for the tool anyway. Worth
# changing where the repository holds itself to pinning what its builds fetch (kserve pins
# its actions by commit: judged ACT there); elsewhere every such line was judged NOISE.
INSTALLER_PRACTICE = "a publisher's installer at its own https address, where the repository does not pin its CI actions by commit"


@dataclass(frozen=True)
class Facts:
    # Git dependencies at branches and tags are the repository's practice (ATS-CMD-012).
    git_refs_practice: bool = False
    # The repository's workflows use remote actions, fewer than half pinned by commit
    # (ATS-CMD-013); with no workflows its practice is unseen.
    installers_practice: bool = False


def _pins(text: str, kind: str) -> list[int]:
    """[git dependency specs, those pinned to a commit, remote action references, those
    pinned to a commit] a file's text names."""
    specs = GIT_SPEC.findall(text) if "git+" in text else []
    uses = list(remote_uses(text)) if kind in ("gha-workflow", "gha-action") else []
    return [len(specs), sum(bool(GIT_COMMIT.search(spec)) for spec in specs), len(uses), sum(sha for _, sha in uses)]


class CommandsEngine(Engine):
    name = "commands"
    implements = frozenset(r for d in DETECTORS for r in d.rules)

    def prepare(self, files: list[SourceFile], ctx: PrepareContext) -> Facts:
        """Whether pinning git dependencies to a commit is the repository's practice: at
        least half of the `git+` specs its install scripts, Dockerfiles, notebooks, CI files
        and manifests name carry one. Otherwise branches and tags are the practice, held back
        (ATS-CMD-012), as action tags are (ATS-GHA-004). And whether pinning its CI actions
        by commit is: otherwise a publisher's installer is held back (ATS-CMD-013)."""
        if not (ctx.enabled(GIT_UNPINNED) or ctx.enabled(REMOTE_SCRIPT)):
            return Facts()
        from atlascan import parsers
        from atlascan.model import Limits, ParseError, SkipFile

        totals = [0, 0, 0, 0]  # git specs, pinned ones; remote action references, pinned ones
        for file in ctx.scanned or files:
            if file.kind not in GIT_PRACTICE_KINDS:
                continue
            key = ctx.memo.content(file) if ctx.memo is not None else ""
            remembered = ctx.memo.recall("commands.pins", file.path, key) if ctx.memo is not None else None
            if isinstance(remembered, list) and len(remembered) == 4 and all(isinstance(n, int) for n in remembered):
                counts = remembered
            else:
                try:
                    counts = _pins(parsers.read_text(file, Limits()), file.kind)
                except (OSError, ParseError, SkipFile):
                    continue
                if ctx.memo is not None:
                    ctx.memo.remember("commands.pins", file.path, key, counts)
            totals = [a + b for a, b in zip(totals, counts, strict=True)]
        return Facts(git_refs_practice=2 * totals[1] < totals[0], installers_practice=2 * totals[3] < totals[2])

    def check_file(self, file: SourceFile, ctx: FileContext) -> None:
        if not handles(file.kind, file.path):
            return
        rules = dict(ctx.rules)
        words = prefilter(frozenset(rules))
        if words is None:
            return
        doc = ctx.doc
        # Config files carry settings, not program names: their extractor is the filter.
        if file.kind not in NAME_FILTERS and not words.search(doc.text):
            return
        seen: set[tuple[str, int, int]] = set()
        for ct in doc.view(commands):
            if not ct.text.strip() or not words.search(ct.text):
                continue
            # A shell script's one command text is the whole file: its tree is that parse.
            script = doc.tree if file.kind == "shell" else None
            for hit in scan_command_text(ct, rules, script=script):
                line, col = ct.position(hit.start)
                end_line, end_col = ct.position(max(hit.start, hit.end - 1))
                if (hit.rule_id, line, col) in seen:
                    continue
                seen.add((hit.rule_id, line, col))
                finding = ctx.finding(hit.rule_id).at(Span(line, col, end_line, end_col + 1))
                finding.args(**hit.args).severity(hit.severity)
                if hit.source and hit.source == owner_of(ctx.root):
                    # The repository's own owner's code at a tag or branch, as its own actions
                    # are (Yatai's installer running bentoml's quick-install scripts).
                    what = "a script" if hit.rule_id == REMOTE_SCRIPT else "a package"
                    finding.severity(Severity.LOW).property("practice", f"{what} of the repository's own owner")
                if hit.practice:
                    finding.severity(Severity.LOW).property("practice", hit.practice)
                if hit.vendor and isinstance(ctx.facts, Facts) and ctx.facts.installers_practice:
                    finding.severity(Severity.LOW).property("practice", INSTALLER_PRACTICE)
                if hit.rule_id == GIT_UNPINNED and isinstance(ctx.facts, Facts) and ctx.facts.git_refs_practice:
                    finding.severity(Severity.LOW).property("practice", GIT_PRACTICE)
                if hit.ci_practice and file.kind in CI_KINDS:
                    finding.property("practice", hit.ci_practice)
                finding.emit()
