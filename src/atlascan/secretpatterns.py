"""What a credential looks like: the secrets family's pattern rows compiled, placeholder and
reference tests, and the line matcher. One vocabulary for the secrets engine and for the
masker that keeps every credential out of every output."""

from __future__ import annotations

import base64
import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache, cached_property
from itertools import pairwise
from typing import TYPE_CHECKING

from atlascan.model import Severity
from atlascan.parsers import YAML_KINDS
from atlascan.vocabulary import reserved_host

if TYPE_CHECKING:
    from atlascan.rules import Rule

PLACEHOLDER_WORDS = (
    "changeme", "change_me", "change-me", "example", "placeholder", "dummy", "redacted",
    "your_", "your-", "yourkey", "xxxx", "****", "....", "<", "${", "{{", "$(", "%(", "secrets.",
    "os.environ", "getenv", "var.", "local.", "data.", "env(", "fake", "sample", "replace",
    "insert", "todo", "tbd", "none", "null", "test", "secret_value", "notasecret",
    "mysecret", "supersecret", "hunter2", "foobar", "<token>", "...",
)  # fmt: skip
# The word itself as a value means "fill me in" (`password: password`).
PLACEHOLDER_VALUES = frozenset(
    {"password", "passwd", "secret", "token", "apikey", "api_key", "key", "true", "false",
     "required", "optional", "string", "str", "bool", "default", "empty", "hidden", "masked",
     "pass", "pw", "pwd", "pword", "password123"}
)  # fmt: skip

# Names that say their value is not a real credential (`DUMMY_API_KEY`, `incorrectToken`
# in a test of the rejection path).
_MOCK = "dummy|fake|mock|bogus|invalid|incorrect|wrong"
MOCK_NAME = re.compile(
    rf"(?:^|[_.\-])(?i:{_MOCK})(?=$|[_.\-A-Z])|(?<=[a-z])(?:{_MOCK.title()})(?=$|[_.\-A-Z])"
)
# A value that names itself and counts: `awsSecret123`, `SessionToken2`, `SecretAccessKey2`
# (tests' stand-ins). A real weak password such as `AdminPassword123!` has other characters.
SELF_DESCRIBING = re.compile(r"(?P<words>(?:[A-Z]?[a-z]+)+)[0-9]{0,4}")
_CREDENTIAL_WORDS = frozenset(
    {"secret", "token", "key", "password", "passwd", "pass", "pwd", "creds", "credential",
     "credentials", "secretkey", "accesskey", "apikey", "sessiontoken", "accesstoken"}
)  # fmt: skip


# Words joined by `-` or `_`, each in one case (`nvapi-CYBER_DEV_DAY`). Not a generated key or
# token; a person's password may well be such words, so it is only used for other names.
WORD_PHRASE = re.compile(r"(?:[a-z]+|[A-Z][a-z]*|[A-Z]+)(?:[-_](?:[a-z]+|[A-Z][a-z]*|[A-Z]+))+")
PASSWORD_NAME = re.compile(r"(?i)pass|pwd|pw\b")


def self_describing(value: str) -> bool:
    """camelCase words ending in a count, one whole word the credential word (`Monkey123`
    and `compass2024` are passwords, not stand-ins)."""
    m = SELF_DESCRIBING.fullmatch(value)
    if m is None:
        return False
    return any(w.lower() in _CREDENTIAL_WORDS for w in re.findall(r"[A-Z]?[a-z]+", m.group("words")))


ENV_NAME = re.compile(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+")
COMMENT_LINE = re.compile(r"^\s*(?:#|//)")

# Generic assignments: NAME <op> VALUE on one line.
ASSIGNMENT = re.compile(
    r"""(?P<name>[A-Za-z_][A-Za-z0-9_.\-]*)["']?\s*(?::=|=>|=|:)\s*(?:(?P<q>["'])(?P<qv>[^"'\n]*)(?P=q)|(?P<uv>[^\s"'#,;()\[\]{}=]+))"""
)
DOCKER_ENV_SPACE = re.compile(r"^\s*(?:ENV|ARG)\s+(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s+(?P<uv>\S+)\s*$", re.I)
TF_VARIABLE = re.compile(r'^\s*variable\s+"(?P<name>[^"]+)"')
TF_DEFAULT = re.compile(r"^\s*default\s*=")
# What follows a quoted literal that is an operand, not the value assigned
# (`reserve_token = "_reserved_special_token_" in token`, `key = "sk-" + suffix`).
OPERATOR_AFTER = re.compile(r"\s*(?:(?:not\s+)?in\b|is\b|==|!=|[+%*])")
# Kinds where a secret is only ever a quoted literal (an unquoted value is code).
QUOTED_ONLY = frozenset({"python", "notebook", "terraform", "json", "text"})


@dataclass(frozen=True)
class Pattern:
    """One pattern row. Its regexes are compiled on first use: most files hold none of a
    row's anchors, and compiling every row of the family cost a one-file scan ~10 ms."""

    rule_id: str
    source: str
    name_source: str | None
    severity: Severity | None
    kinds: frozenset[str]
    min_entropy: float
    generic: bool  # an assignment rule: the regex tests the name, the value is found by ASSIGNMENT
    prefilter: str | None  # a cheap regex a line must match first (generic rules)
    not_name_source: str | None  # generic rules: names that hold no credential
    anchors: tuple[str, ...]  # lowercase literals, one of which a file must contain
    known: bool = False  # a published default (ATS-SEC-012): no placeholder test, wins over leaks
    not_match_source: str | None = None  # a whole match that is not a credential
    # ATS-SEC-012: repositories of the emulator images that serve this default credential
    emulator_images: tuple[str, ...] = ()
    # Hosts of a sandbox whose test users' tokens are published (Hugging Face's CI hub): a
    # token in a file that names one is that sandbox's stand-in.
    sandbox_hosts: tuple[str, ...] = ()
    # ATS-SEC-012: why this default is held back as unproven (`pathclass.UNPROVEN`); "" to report it
    unproven: str = ""

    @cached_property
    def regex(self) -> re.Pattern[str]:
        return re.compile(self.source)

    @cached_property
    def name(self) -> re.Pattern[str] | None:
        return re.compile(self.name_source, re.I) if self.name_source else None

    @cached_property
    def not_name(self) -> re.Pattern[str] | None:
        return re.compile(self.not_name_source, re.I) if self.not_name_source else None

    @cached_property
    def not_match(self) -> re.Pattern[str] | None:
        return re.compile(self.not_match_source) if self.not_match_source else None


_COMPILED: dict[tuple[str, ...], tuple[Pattern, ...]] = {}


def compile_rows(rules: tuple[Rule, ...]) -> tuple[Pattern, ...]:
    key = tuple(r.id for r in rules)
    if key not in _COMPILED:
        _COMPILED[key] = tuple(_rows(rules))
    return _COMPILED[key]


def _rows(rules: tuple[Rule, ...]) -> Iterator[Pattern]:
    for rule in rules:
        for row in rule.match.get("patterns", []):
            yield Pattern(
                    rule_id=rule.id,
                    source=row["regex"],
                    name_source=row.get("name") or None,
                    severity=Severity.parse(row["severity"]) if row.get("severity") else None,
                    kinds=frozenset(row.get("kinds", [])),
                    min_entropy=float(row.get("min_entropy", 0.0)),
                    generic=bool(row.get("generic", False)),
                    prefilter=row.get("prefilter"),
                    not_name_source=row.get("not_name") or None,
                    anchors=tuple(a.lower() for a in row.get("anchors", ())),
                    known=bool(row.get("known", False)),
                    not_match_source=row.get("not_match") or None,
                    emulator_images=tuple(row.get("emulator_images", ())),
                    sandbox_hosts=tuple(h.lower() for h in row.get("sandbox_hosts", ())),
                    unproven=row.get("unproven", ""),
                )


def entropy(value: str) -> float:
    if not value:
        return 0.0
    counts: dict[str, int] = {}
    for ch in value:
        counts[ch] = counts.get(ch, 0) + 1
    return -sum(c / len(value) * math.log2(c / len(value)) for c in counts.values())


# A lowercase name ending in the credential word: the Secret or file that holds one
# (`existingSecret: transfer-job-001-source-secret`), or a stand-in that says what it stands
# for (`postgresql://evidently_user:evidently_password@postgres`, `aws:the-auth-token@`).
SECRET_OBJECT_NAME = re.compile(r"[a-z0-9]+(?:[-_]+[a-z0-9]+)*[-_]+(?:secrets?|passwords?|tokens?|keys?|credentials?|creds)")
# Keys their vendor publishes in every client it ships (a web page, an installed package):
# PostHog's project keys, Stripe's publishable keys, Mapbox's public tokens. They can only
# send events or start a checkout; the secret keys of the same vendors look otherwise
# (`phx_`, `sk_live_`, `sk.`).
PUBLISHABLE_KEY = re.compile(r"phc_[A-Za-z0-9]{20,}|pk_(?:live|test)_[A-Za-z0-9]{16,}|pk\.eyJ[\w.-]+")
# A vendor's snippet for web pages, whose token every visitor's browser is sent: Cloudflare Web
# Analytics' beacon (`data-cf-beacon='{"token": "..."}'`).
PUBLIC_SNIPPET = re.compile(r"data-cf-beacon")
# A format field alone (`{define_token}`, `{0}`, `{args.key}`): str.format's and f-strings'.
FORMAT_FIELD = re.compile(r"\{[\w.\[\]-]*\}")


# A keyboard row typed in order: `QwErTyUiOp`, `asdfghjkl`.
KEYBOARD_ROWS = ("qwertyui", "asdfghjk", "zxcvbnm")
TYPED_RUN = 8  # characters each one after (or before) the last: `AbCdEfGh`, `12345678`
TOKEN_LENGTH = 20  # shorter is a password a person chose: `Aa12345678` is weak, and real


# A vendor's key prefix (short lowercase words: `sk-lf-`, `hf_`) and what follows it.
PREFIXED = re.compile(r"(?:[a-z]{1,6}[-_])+(?P<body>[A-Za-z0-9]+)")


def typed_by_hand(value: str) -> bool:
    """A value a person typed to stand in for a token: at token length
    (`hf_AbCdEfGhIjKlMnOpQrStUvWxYz012345`, `ghp_ABCDEFGHIJKLMNOPQRST0123`,
    `0123456789abcdef...`, a keyboard row), eight letters or digits in alphabetical or
    counting order, which a drawn key all but never holds (less than one in 10^8 at each
    place, even of a hex key); at any length, a key prefix followed by such a run and nothing
    else (`sk-lf-1234567890`). A short password with a run (`Aa12345678`) is a weak password
    someone uses, not a stand-in."""
    prefixed = PREFIXED.fullmatch(value)
    if prefixed is not None and len(body := prefixed.group("body")) >= TYPED_RUN and _longest_run(body) == len(body):
        return True
    if len(value) < TOKEN_LENGTH:
        return False
    lower = value.lower()
    return any(row in lower for row in KEYBOARD_ROWS) or _longest_run(value) >= TYPED_RUN


# The words of a camelCase body (`staleTokenFromAnEarlierSession`), and what makes a run of
# letters a plausible word: a vowel, and no run of five consonants or four vowels.
CAMEL_WORDS = re.compile(r"(?:[A-Z]?[a-z]+){3,}")
_CAMEL_WORD = re.compile(r"[A-Z]?[a-z]+")
_UNSPEAKABLE = re.compile(r"[b-df-hj-np-tv-xz]{5}|[aeiouy]{4}")
_VOWEL = re.compile(r"[aeiou]")


def spelled_in_words(value: str) -> bool:
    """A key prefix followed by a token-length body of camelCase words, each with a vowel and
    four letters long on average (`hf_staleTokenFromAnEarlierSession`): a person wrote it.
    A drawn body of letters and digits splits so about once in 10^9 at hf_'s 34 places, and
    under once in 10^5 at 20. Words joined by `-` or `_` are left alone: that is how a
    passphrase is written, and this test sees passwords too."""
    prefixed = PREFIXED.fullmatch(value)
    if prefixed is None or len(body := prefixed.group("body")) < TOKEN_LENGTH or not CAMEL_WORDS.fullmatch(body):
        return False
    words = [w.lower() for w in _CAMEL_WORD.findall(body)]
    return len(body) >= 4 * len(words) and all(
        len(w) >= 2 and _VOWEL.search(w) and not _UNSPEAKABLE.search(w) for w in words
    )


def _longest_run(value: str) -> int:
    """The longest run of letters or digits each one after (or before) the last."""
    lower = value.lower()
    longest = up = down = 1
    for a, b in pairwise(lower):
        step = ord(b) - ord(a) if a.isalnum() and b.isalnum() and a.isdigit() == b.isdigit() else 0
        if a + b == "90":
            step = 1  # the keyboard's row of digits: `1234567890`
        up = up + 1 if step == 1 else 1
        down = down + 1 if step == -1 else 1
        longest = max(longest, up, down)
    return longest


# The word itself in leetspeak (`s3cr3t`, `p4ssw0rd`): a redaction test's or a doc's stand-in.
LEET = str.maketrans("013457@$", "oieastas")


def is_placeholder(value: str) -> bool:
    lower = value.lower()
    if lower.strip("'\"") in PLACEHOLDER_VALUES or lower.translate(LEET) in PLACEHOLDER_VALUES:
        return True
    if any(word in lower for word in PLACEHOLDER_WORDS):
        return True
    if value.startswith("[") and value.endswith("]"):
        return True  # `"[nvidia-ngc-api-key]"`: a notebook form's fill-in
    if lower.startswith("my") and lower[2:].lstrip("_-") in PLACEHOLDER_VALUES:
        return True  # `mypassword`, `my_token`: a test's or a doc's stand-in
    if ENV_NAME.fullmatch(value) and any(word in _CREDENTIAL_WORDS for word in lower.split("_")):
        return True  # `DB_PASSWORD` in `postgresql://DB_USER:DB_PASSWORD@DB_HOST`: a field to fill in
    if SECRET_OBJECT_NAME.fullmatch(value):
        return True  # names what it stands for: a sample's or a test's value
    if typed_by_hand(value):
        return True  # a redaction test's `hf_AbCdEfGh...`
    if spelled_in_words(value):
        return True  # a test's `hf_staleTokenFromAnEarlierSession`
    if FORMAT_FIELD.fullmatch(value.strip("'\"")):
        return True  # `f'Unknown token: "{define_token}"'`: filled in when the text is built
    stripped = value.strip("*xX0._-")
    return len(set(value)) <= 2 or not stripped


# A Go template's field path: `.Values.secrets`, `$.Values.auth.token`, `.Release.Name`.
TEMPLATE_FIELD = re.compile(r"\$?\.[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")


# What a call is made on (`auth_header:match`, `os.getenv`, `get_token`), unlike an unquoted
# password that happens to go on with a parenthesis (`Sup3rS3cret(2024)`).
CALLEE = re.compile(r"[A-Za-z_]\w*(?:[.:][A-Za-z_]\w*)+|[a-z_][a-z0-9_]*")
# A relative path ending in a file name with an extension.
RELATIVE_FILE = re.compile(r"(?:[\w.-]+/)+[\w-]+(?:\.[\w-]+)*\.[A-Za-z][A-Za-z0-9]{0,4}")
# A Python type written as a string (a forward reference): `Optional[str]`, `dict[str, Any]`.
TYPE_EXPRESSION = re.compile(r"[A-Za-z_][\w.]*\[[\w.\[\], |]*\]")
# Capitalised words (or initials) joined by hyphens: a label or an HTTP header's name, not a
# key (`Hugging-Face-Token`, `HF-Token`, `X-Xet-Access-Token`).
TITLE_WORDS = re.compile(r"[A-Z]+[a-z]*(?:-[A-Z]+[a-z]*)+")
# A version requirement: the value of a secret-named key in a dependency table.
VERSION_REQUIREMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*(?:\[[\w,-]*\])?\s*(?:===|==|>=|<=|~=|!=|<|>)\s*\d[\w.*+!]*")


# A PEM block that only shows where a key goes: its body elided (`...`, a fill-in such as
# `<your key>`, `${TLS_KEY}`, `{{ .Values.key }}`), or too short to be a key (the smallest
# private key, Ed25519 in PKCS#8, has 64 base64 characters).
PEM_HEADER = "-----BEGIN"
PEM_ARMOR = re.compile(r"-----BEGIN [A-Z0-9 ]+-----")
PEM_END = re.compile(r"-{4,}END")
ELISIONS = ("...", "\u2026", "<", "${", "{{")
MIN_KEY_BODY = 48
BASE64_CHAR = re.compile(r"[A-Za-z0-9+/=]")
# The rest of a quoted string up to its closing quote; a `\n` escape in it means the key goes
# on in the next literal (`("-----BEGIN RSA PRIVATE KEY-----\n" "MIIE...")`).
QUOTED_REST = re.compile(r"""((?:[^"'\\]|\\.)*)["']""")


def pem_body_elided(lines: list[str], number: int, secret: str) -> bool:
    """Whether the PEM header `secret` on 1-based line `number` opens a block written to show
    the format (a schema's description, a doc's example), not a key. The body is read from
    the rest of the header's line (a JSON or Python string's `\\n` escapes) and the lines
    after it, up to the END line."""
    if not secret.startswith(PEM_HEADER):
        return False
    line = lines[number - 1]
    at = line.find(secret)
    header = PEM_ARMOR.match(line, at) if at >= 0 else None
    if header is None:
        return False
    stub = QUOTED_REST.match(line, header.end())
    if stub and "\\n" not in stub.group(1) and len(BASE64_CHAR.findall(stub.group(1))) < MIN_KEY_BODY:
        return True  # a string that closes on the header's line, with no key in it (`"-----BEGIN PRIVATE KEY-----A"`)
    body: list[str] = []
    for text in (line[header.end() :], *lines[number : number + 64]):
        end = PEM_END.search(text)
        body.append((text[: end.start()] if end else text).replace("\\n", " "))
        if end:
            break
    joined = "".join(body)
    if any(mark in joined for mark in ELISIONS):
        return True
    chars = BASE64_CHAR.findall(joined)
    # A body of one or two characters over and over (dstack's `aaaa...` test key) is filler:
    # a key's DER encoding is never that.
    return end is not None and (len(chars) < MIN_KEY_BODY or len(set(chars)) <= 2)


def looks_like_reference(value: str, kind: str) -> bool:
    """Values that name a secret rather than hold it: paths, URLs without credentials,
    identifiers, environment references, numbers, booleans."""
    if value.startswith(("$", "/", "./", "../", "~", "@", "&", "*", "arn:", "projects/", "http://", "https://", "file:")):
        return True  # references, paths, YAML anchors and aliases
    if value[:1] in "-=+?" and value[1:2] == "$":
        return True  # a shell expansion's default read as `NAME:` (`${KEY:-$KEY}`): another variable
    if value[:1] == "?":
        return True  # `${KEY:?KEY must be set}` read as `KEY:`: the error message when it is unset
    if value[:1] == "-" and value[1:2] not in ("", "-") and looks_like_reference(value[1:], kind):
        return True  # `${KEY:-nvidiaapikey}`: the shell default is itself a name or a word
    if ENV_NAME.fullmatch(value.strip("_")):
        return True  # the name of an environment variable (`KEY_ENV = "OPENAI_API_KEY"`, `"__AIM_RT_TOKEN__"`)
    if TEMPLATE_FIELD.fullmatch(value):
        return True  # a Helm or Go template's field (`{{ range $secret := .Values.secrets }}`)
    if re.fullmatch(r"[0-9.]+|true|false|yes|no|on|off", value, re.I):
        return True
    if " " in value.strip():
        return True
    # dotted identifiers are attribute paths; lowercase hyphenated words name a secret
    # object (`existingSecret: minio-credentials`) rather than hold one; short letters-only
    # camelCase is a field name (`'access_token': 'accessToken'` in generated API models);
    # `module:Name` is an import reference (`"ApiToken": "._internal.cloud.api_token:ApiToken"`
    # in a lazy-import table, an entry point)
    return bool(
        re.fullmatch(r"[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)+", value)
        or re.fullmatch(r"(?:\.+[a-z_][a-z0-9_]*|[a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*)+)(?:\.[a-z_][a-z0-9_]*)*:[A-Z][A-Za-z0-9_]*", value)
        # a configuration key path (`mysqlPassword = "DBConfig.MySQLConfig.Password"`), or
        # two parts ending in the credential's name (`"DBConfig.Password"`)
        or re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*){2,}", value)
        or (re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*", value) is not None
            and value.rsplit(".", 1)[1].lower() in _CREDENTIAL_WORDS)
        or re.fullmatch(r"[a-z]+([-_][a-z]+)*", value)
        or (len(value) < 24 and re.fullmatch(r"[A-Za-z]+", value))
        # a version requirement (`"tiktoken": "tiktoken>=0.7.0"` in a dependency table)
        or bool(VERSION_REQUIREMENT.fullmatch(value))
        # a relative file path (`Parameters and credentials: configure/credentials.md` in a
        # site's navigation, `token_file: conf/local/token.json`)
        or bool(RELATIVE_FILE.fullmatch(value))
        # a type written as a string (`password: "Optional[str]" = None`)
        or bool(TYPE_EXPRESSION.fullmatch(value))
        # words for a person: a title (`huggingFaceToken: "Hugging-Face-Token"`) or text in
        # another script (`newPassword: "新しいパスワード"` in a UI's translations)
        or bool(TITLE_WORDS.fullmatch(value))
        or any(ch.isalpha() and not ch.isascii() for ch in value)
    )


def matches(
    patterns: tuple[Pattern, ...], line: str, kind: str, tf_variable: str | None = None
) -> Iterator[tuple[Pattern, str, int | None]]:
    """(pattern, credential, 1-based column) of each credential on one line; a published
    default wins over every leak rule, a specific format over the generic assignment rule."""
    published = _published(line)
    specific_hit = bool(published)
    for pattern in patterns:
        if pattern.kinds and kind not in pattern.kinds:
            continue
        if pattern.generic:
            continue
        for m in pattern.regex.finditer(line):
            secret = m.group("secret") if "secret" in pattern.regex.groupindex else m.group(0)
            if not secret:
                continue
            if pattern.known:
                specific_hit = True
                yield pattern, secret, m.start() + 1
                continue
            if is_placeholder(secret) or _overlaps(secret, published):
                continue
            if pattern.not_match is not None and pattern.not_match.search(m.group(0)):
                continue
            if "host" in pattern.regex.groupindex and reserved_host(m.group("host") or ""):
                continue  # the login of a host reserved for examples (`db.example.invalid`): a sample's
            if pattern.min_entropy and entropy(secret) < pattern.min_entropy:
                continue
            if pattern.name is not None and not _name_matches(pattern.name, line, m.start(), tf_variable):
                continue
            specific_hit = True
            yield pattern, secret, m.start() + 1
    if specific_hit:
        return  # a specific credential format (or a published default) wins over the generic rule
    generic = [p for p in patterns if p.generic and (not p.kinds or kind in p.kinds)]
    if not generic:
        return
    for name, value, start in _assignments_in(line, kind, tf_variable, generic):
        for pattern in generic:
            if not pattern.regex.search(name) or (pattern.not_name and pattern.not_name.search(name)):
                continue
            if len(value) < 8 or is_placeholder(value) or looks_like_reference(value, kind):
                continue
            if MOCK_NAME.search(name) or self_describing(value) or _encoded_placeholder(value):
                continue
            if WORD_PHRASE.fullmatch(value.lstrip("-")) and not PASSWORD_NAME.search(name):
                continue  # a key or token written as words (`nvapi-CYBER_DEV_DAY`): a sentinel, no key is random words
            if PUBLISHABLE_KEY.fullmatch(value) or PUBLIC_SNIPPET.search(line):
                continue  # a key made to be public (`posthog.api_key = "phc_..."` in a package's telemetry)
            if entropy(value) < pattern.min_entropy:
                continue
            yield pattern, value, start
            break


_BASE64 = re.compile(r"(?:[A-Za-z0-9+/]{4})*[A-Za-z0-9+/]{2,3}={0,2}|(?:[A-Za-z0-9+/]{4})+")


def _encoded_placeholder(value: str) -> bool:
    """A Kubernetes Secret's `data:` value whose base64 decodes to a placeholder
    (`cGFzc3dvcmQ=` is `password`); a real secret decodes to itself, or to bytes."""
    value += "=" * (-len(value) % 4)  # an unquoted YAML value is read without its `=` padding
    if not _BASE64.fullmatch(value):
        return False
    try:
        text = base64.b64decode(value, validate=True).decode("ascii").strip()
    except (ValueError, UnicodeDecodeError):
        return False
    return bool(text) and text.isprintable() and (is_placeholder(text) or self_describing(text))


def _published(line: str) -> set[str]:
    """The published default credentials (ATS-SEC-012's rows, enabled or not) on a line: the
    leak rules never report them, whichever rules a scan selects."""
    lower = line.lower()
    found: set[str] = set()
    for pattern in known_patterns():
        if any(a in lower for a in pattern.anchors):
            found.update(m.group(0) for m in pattern.regex.finditer(line))
    return found


def holds_published_default(value: str) -> bool:
    """Whether a value holds a published default credential (ATS-SEC-012's rows): such a
    value is that rule's to judge, never a leaked literal of another rule."""
    return bool(_published(value))


def _overlaps(secret: str, published: set[str]) -> bool:
    return any(p in secret or secret in p for p in published)


# A line this long is data (a notebook's base64 image output, a bundled map), and the
# assignment regex costs quadratic time over it: only windows around a credential word of
# the generic rules are read there.
LONG_LINE = 2048
_WINDOW = (256, 512)


def _assignments_in(
    line: str, kind: str, tf_variable: str | None, generic: list[Pattern]
) -> Iterator[tuple[str, str, int]]:
    if len(line) <= LONG_LINE:
        yield from _assignments(line, kind, tf_variable)
        return
    seen: set[int] = set()
    for pattern in generic:
        # `regex` tests a whole name (anchored); the row's prefilter finds the words in a line.
        for m in re.finditer(pattern.prefilter or pattern.source, line):
            # The window starts where the name holding the word starts (a window cut inside
            # a quoted string would pair the wrong quotes).
            lo = m.start()
            while lo > 0 and m.start() - lo < _WINDOW[0] and (line[lo - 1].isalnum() or line[lo - 1] in "_.-"):
                lo -= 1
            for name, value, start in _assignments(line[lo : m.end() + _WINDOW[1]], kind, tf_variable):
                if lo + start not in seen:
                    seen.add(lo + start)
                    yield name, value, lo + start


def _assignments(line: str, kind: str, tf_variable: str | None) -> Iterator[tuple[str, str, int]]:
    if kind == "dockerfile":
        m = DOCKER_ENV_SPACE.match(line)
        if m:
            yield m.group("name"), m.group("uv"), m.start("uv") + 1
            return
    if kind == "terraform" and tf_variable and TF_DEFAULT.match(line):
        m = re.search(r'=\s*"([^"\n]*)"', line)
        if m:
            yield tf_variable, m.group(1), m.start(1) + 1
        return
    for m in ASSIGNMENT.finditer(line):
        quoted = m.group("qv")
        if quoted is None and kind in QUOTED_ONLY:
            continue
        value = quoted if quoted is not None else m.group("uv")
        if value is None:
            continue
        if quoted is None and value.startswith("!") and kind in YAML_KINDS:
            continue  # a YAML tag computes the value: CloudFormation's `!ImportValue`, `!Ref`, `!Sub`
        if quoted is None and line[m.end("uv") : m.end("uv") + 1] == "(" and CALLEE.fullmatch(value):
            continue  # a call computes it: `local token = auth_header:match(...)` (Lua in a YAML block)
        if quoted is not None and OPERATOR_AFTER.match(line, m.end()):
            continue  # an operand of an expression: the name is assigned what it computes
        yield m.group("name").rsplit(".", 1)[-1], value, m.start("qv" if quoted is not None else "uv") + 1


def _name_matches(name_re: re.Pattern[str], line: str, pos: int, tf_variable: str | None) -> bool:
    """Generic formats count only where the text before them names the service
    (`WANDB_API_KEY=`, `wandb.login(key=`), or inside a Terraform variable so named."""
    return bool(name_re.search(line[:pos])) or bool(tf_variable and name_re.search(tf_variable))


@cache
def known_patterns() -> tuple[Pattern, ...]:
    return tuple(p for p in library_patterns() if p.known)


@cache
def library_patterns() -> tuple[Pattern, ...]:
    """Every pattern of the packaged secrets family, enabled or not (for masking)."""
    from atlascan.rules import default_rules

    return compile_rows(tuple(sorted((r for r in default_rules().values() if r.engine == "secrets"), key=lambda r: r.id)))


def anchored(patterns: Iterable[Pattern], lower_text: str) -> tuple[Pattern, ...]:
    """The patterns whose literal anchors occur in the (lowercased) text."""
    return tuple(p for p in patterns if not p.anchors or any(a in lower_text for a in p.anchors))
