"""One masker for every finding of every rule in every output: each credential the secrets
family recognises, and the password of a `scheme://user:password@host` URI, is shortened to
a recognisable stub before a message or snippet leaves the finding builder."""

from __future__ import annotations

import re

from atlascan.secretpatterns import anchored, library_patterns, matches

URI_PASSWORD = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s:/@'\"`]*:(?P<password>[^\s@/'\"`]+)@")


def mask_secret(secret: str) -> str:
    """Keep just enough to recognise which credential it was; never the whole value."""
    if len(secret) <= 8:
        return "*" * len(secret)
    keep = 4 if len(secret) >= 16 else 2
    return secret[:keep] + "*" * min(12, len(secret) - keep - 2) + secret[-2:]


def credentials(text: str, kind: str = "text") -> set[str]:
    """Every credential-looking substring of `text`, as the secrets family sees it."""
    found: set[str] = set()
    if not text:
        return found
    patterns = anchored(library_patterns(), text.lower())
    if patterns:
        for line in text.splitlines():
            for _, secret, _ in matches(patterns, line, kind):
                found.add(secret)
    if "://" in text:
        for m in URI_PASSWORD.finditer(text):
            password = m.group("password")
            if password.strip("*") and not password.startswith(("$", "{", "<")):
                found.add(password)
    return found


def mask(text: str, kind: str = "text", also: set[str] | frozenset[str] = frozenset()) -> str:
    """`text` with every credential (and every string of `also`) masked."""
    secrets = credentials(text, kind) | {s for s in also if s and s in text}
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, mask_secret(secret))
    return text
