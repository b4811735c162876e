"""Does a plain value look like a secret? One rule for the stack config, the audit and the policy pack.

A value looks like a secret when:

* its **key** names one (password, passphrase, secret, token, credential, bearer, or an API, private,
  access, client or signing key), unless the key is a *reference* to one: ``passwordKey``,
  ``secretName``, ``existingSecret``, ``tlsSecret``, ``tokenRef`` name where a secret lives, not
  the secret itself;
* or the **value** has the form of a known credential (a private key block, AWS, GitHub, GitLab,
  Slack, Stripe and Google keys, a JWT, a URL with a password in it);
* or the value looks **random**: at least 24 characters of letters, digits and ``+/=_-``, mixing
  upper case, lower case and digits, with more than 4 bits of entropy per character. Hex digests
  and image references do not qualify (one case, or a ``:``).

The answer is a reason (what gave it away), never the value.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter

__all__ = ["entropy", "key_reason", "secret_reason", "value_reason", "words"]

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_SEPARATORS = re.compile(r"[^A-Za-z0-9]+")
# "secrets" (plural) is left out: as a key it lists Secrets by name (alertmanagerSpec.secrets,
# imagePullSecrets), never their contents.
_SECRET_WORDS = {"password", "passwd", "passphrase", "secret", "token", "tokens", "credential",
                 "credentials", "bearer", "apikey", "privatekey"}  # fmt: skip
_SECRET_PAIRS = {("api", "key"), ("private", "key"), ("access", "key"), ("secret", "key"), ("client", "secret"),
                 ("signing", "key"), ("encryption", "key"), ("auth", "key"), ("session", "key"),
                 ("shared", "key")}  # fmt: skip
#: A key ending in one of these, after a secret word, names where a secret lives (``passwordKey``,
#: ``secretName``), or a setting about one (``tokenUrl``, ``tokenTtl``): not a secret itself.
_REFERENCE_ENDINGS = {"key", "keys", "ref", "name", "names", "file", "files", "path", "env", "secret"}
_SETTING_ENDINGS = {"url", "uri", "endpoint", "host", "audience", "ttl", "expiry", "expires", "lifetime", "type",
                    "length", "size", "header", "issuer", "scope", "scopes", "limit", "enabled"}  # fmt: skip
_REFERENCE_STARTS = {"existing", "tls"}

_FORMATS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("a private key block", re.compile(r"-----BEGIN (?:[A-Z]+ )*PRIVATE KEY-----")),
    ("an AWS access key id", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("a GitHub token", re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,}\b")),
    ("a GitLab token", re.compile(r"\bglpat-[A-Za-z0-9_-]{20,}")),
    ("a Slack token", re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}")),
    ("a Slack webhook URL", re.compile(r"https://hooks\.slack\.com/services/[A-Za-z0-9/]+")),
    ("a Stripe key", re.compile(r"\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}")),
    ("a Google API key", re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b")),
    ("a JSON Web Token", re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")),
    ("a URL with a password", re.compile(r"\b[a-z][a-z0-9+.-]*://[^/\s:@]+:[^/\s@]+@")),
)
_RANDOM_LOOKING = re.compile(r"^[A-Za-z0-9+/=_-]{24,}$")


def words(key: str) -> list[str]:
    """A key's words, lower case: ``DB_PASSWORD`` → db, password; ``apiKey`` → api, key."""
    return [word.lower() for word in _SEPARATORS.split(_CAMEL.sub("_", key)) if word]


def key_reason(key: str) -> str | None:
    """Why a key names a secret, or ``None`` (also when it names where a secret lives)."""
    tokens = words(key)
    found = next((w for w in tokens if w in _SECRET_WORDS), None)
    pair = next((p for p in itertools.pairwise(tokens) if p in _SECRET_PAIRS), None)
    if found is None and pair is None:
        return None
    if tokens[0] in _REFERENCE_STARTS or (len(tokens) > 1 and tokens[-1] in _SETTING_ENDINGS):
        return None
    if len(tokens) > 1 and tokens[-1] in _REFERENCE_ENDINGS and not _pair_at_end(tokens):
        return None
    return f"its name says {found or ' '.join(pair or ())!r}"


def _pair_at_end(tokens: list[str]) -> bool:
    """``apiKey`` and ``SECRET_KEY`` end in a secret pair (a secret), ``passwordKey`` in a reference word."""
    return len(tokens) >= 2 and (tokens[-2], tokens[-1]) in _SECRET_PAIRS


def entropy(value: str) -> float:
    """Shannon entropy in bits per character."""
    counts = Counter(value)
    return -sum(count / len(value) * math.log2(count / len(value)) for count in counts.values())


def value_reason(value: str) -> str | None:
    """Why a value itself looks like a credential, or ``None``."""
    for name, pattern in _FORMATS:
        if pattern.search(value):
            return f"it has the form of {name}"
    if (
        _RANDOM_LOOKING.match(value)
        and re.search(r"[a-z]", value)
        and re.search(r"[A-Z]", value)
        and re.search(r"[0-9]", value)
        and entropy(value) > 4.0
    ):
        return "it looks random, like a generated key"
    return None


def secret_reason(key: str, value: object) -> str | None:
    """Why the plain ``value`` at ``key`` looks like a secret, or ``None``. Never includes the value."""
    if not isinstance(value, str) or not value.strip():
        return None
    return value_reason(value) or key_reason(key)
