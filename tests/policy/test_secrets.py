"""What looks like a secret: by key name, by known credential format, by randomness; never by echoing it."""

from __future__ import annotations

import pytest

from policy.secrets import key_reason, secret_reason, value_reason, words


@pytest.mark.parametrize(
    ("key", "tokens"),
    [("DB_PASSWORD", ["db", "password"]), ("apiKey", ["api", "key"]), ("x-auth-token", ["x", "auth", "token"])],
)
def test_keys_split_into_words_across_case_and_separators(key: str, tokens: list[str]) -> None:
    assert words(key) == tokens


@pytest.mark.parametrize(
    ("key", "word"),
    [("DB_PASSWORD", "password"), ("password", "password"), ("apiKey", "api key"), ("API_KEY", "api key"),
     ("SECRET_KEY", "secret"), ("client_secret", "secret"), ("AWS_SECRET_ACCESS_KEY", "secret"),
     ("GITHUB_TOKEN", "token"), ("smtpPassphrase", "passphrase"), ("credentials", "credentials"),
     ("privateKey", "private key"), ("X-Bearer", "bearer")],
)  # fmt: skip
def test_keys_that_name_a_secret(key: str, word: str) -> None:
    assert key_reason(key) == f"its name says {word!r}"


@pytest.mark.parametrize(
    "key",
    ["passwordKey", "secretName", "existingSecret", "tlsSecret", "TOKEN_URL", "tokenTtl", "PASSWORD_FILE",
     "LOG_LEVEL", "DATABASE_HOST", "passthrough", "compass", "tokenizer_model", "keyboard"],
)  # fmt: skip
def test_keys_that_name_where_a_secret_lives_or_something_else(key: str) -> None:
    assert key_reason(key) is None


@pytest.mark.parametrize(
    ("value", "form"),
    [
        ("-----BEGIN RSA PRIVATE KEY-----\nMIIE...", "a private key block"),
        ("AKIAIOSFODNN7EXAMPLE", "an AWS access key id"),
        ("ghp_" + "a1B2" * 9, "a GitHub token"),
        ("xoxb-123456789012-abcdefghij", "a Slack token"),
        ("sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc", "a Stripe key"),
        ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJlLXZhbHVl", "a JSON Web Token"),
        ("postgres://app:hunter2@db:5432/shop", "a URL with a password"),
    ],
)
def test_known_credential_formats_are_named(value: str, form: str) -> None:
    assert value_reason(value) == f"it has the form of {form}"


def test_a_random_looking_value_is_caught_but_digests_names_and_urls_are_not() -> None:
    assert value_reason("q7Zx2LmP9vR4tY8wB3nK6sD1fG5hJ0cA") == "it looks random, like a generated key"
    for plain in ["e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                  "ghcr.io/stackyard-demo/shop-api@sha256:" + "a" * 64, "shop.staging.example.com",
                  "http://api.shop-dev.svc.cluster.local", "10.20.0.0/24", "orders-dev", "debug"]:  # fmt: skip
        assert value_reason(plain) is None, plain


def test_the_reason_never_holds_the_value() -> None:
    value = "postgres://app:hunter2@db/shop"
    reason = secret_reason("DATABASE_URL", value)
    assert reason is not None
    assert "hunter2" not in reason
    assert value not in reason


def test_empty_and_non_string_values_are_not_secrets() -> None:
    assert secret_reason("PASSWORD", "") is None
    assert secret_reason("PASSWORD", 3) is None
