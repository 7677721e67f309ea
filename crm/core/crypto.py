"""Encryption at rest of chosen values, and keyed hashes to find them by equality.

Fernet (AES-128-CBC with HMAC-SHA256, a random IV per value) rather than AES-GCM: a token is
authenticated and self-contained URL-safe text that fits a JSON value or a text column, and there is
no nonce for us to manage (a repeated GCM nonce under one key would leak plaintexts and the key's
authentication; Fernet's IV is random and a repeat only reveals that two equal values are equal).

A sealed value is ``enc1:<kid>:<fernet token>``: ``kid`` is the first 8 hex digits of the key's
SHA-256, so a value whose key is missing names that key in the error. Keys come from the environment
(``ENCRYPTION_KEYS``, comma-separated, the first encrypts) or from var/encryption_keys (one a line),
generated once; never from the database. Equality lookups use HMAC-SHA256 under a separate lookup key
(``ENCRYPTION_LOOKUP_KEY`` or var/encryption_lookup_key): ``<lookup kid>:<hex>``, so a value hashed
under an older lookup key is known and rehashed by the rotation (crm/customization/rotation.py).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from functools import lru_cache
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

PREFIX = "enc1"


class KeyMissing(Exception):
    """A value is sealed under a key this process does not have: ``kid`` names it."""

    def __init__(self, kid: str):
        super().__init__(f"The value is encrypted with key {kid}, which is not in ENCRYPTION_KEYS.")
        self.kid = kid


class Undecryptable(Exception):
    """Not a sealed value, or one that was altered (its authentication fails)."""


def kid_of(key: str) -> str:
    return hashlib.sha256(key.strip().encode()).hexdigest()[:8]


def new_key() -> str:
    return Fernet.generate_key().decode()


# --- Loading: read by settings.py once per process -------------------------------------------------


def _key_file(path: Path, make) -> list[str]:
    """The keys in ``path`` (one a line, the first current), written once with ``make`` (0600)."""
    if not path.exists():
        path.write_text(make() + "\n")
        path.chmod(0o600)
    return [line.strip() for line in path.read_text().splitlines() if line.strip() and not line.startswith("#")]


def load_keys(var_dir: Path) -> list[str]:
    if raw := os.environ.get("ENCRYPTION_KEYS", "").strip():
        return [k.strip() for k in raw.split(",") if k.strip()]
    return _key_file(var_dir / "encryption_keys", new_key)


def load_lookup_key(var_dir: Path) -> str:
    if raw := os.environ.get("ENCRYPTION_LOOKUP_KEY", "").strip():
        return raw
    return _key_file(var_dir / "encryption_lookup_key", lambda: base64.urlsafe_b64encode(os.urandom(32)).decode())[0]


def add_key_to_file(var_dir: Path) -> str:
    """Put a new key first in var/encryption_keys (the old ones stay, to decrypt until rotated)."""
    path = var_dir / "encryption_keys"
    keys = _key_file(path, new_key)
    key = new_key()
    path.write_text("\n".join([key, *keys]) + "\n")
    path.chmod(0o600)
    return key


# --- The key set in use: from settings, so tests can override it ----------------------------------


class KeySet:
    def __init__(self, keys: tuple[str, ...], lookup_key: str):
        if not keys:
            raise ValueError("ENCRYPTION_KEYS holds no key.")
        try:
            self.fernets = {kid_of(k): Fernet(k.strip().encode()) for k in keys}
        except (ValueError, TypeError):
            raise ValueError(
                "ENCRYPTION_KEYS: each key must be 32 url-safe base64-encoded bytes (crm encryption new-key)."
            ) from None
        self.current = kid_of(keys[0])
        self.lookup_kid = kid_of(lookup_key)
        # A separate key for hashes, derived so it is never the lookup key itself in use elsewhere.
        self._lookup = hmac.new(lookup_key.encode(), b"crm lookup hash v1", hashlib.sha256).digest()

    def seal(self, plain: str) -> str:
        return f"{PREFIX}:{self.current}:{self.fernets[self.current].encrypt(plain.encode()).decode()}"

    def open(self, sealed: str) -> str:
        kid, token = split(sealed)
        fernet = self.fernets.get(kid)
        if fernet is None:
            raise KeyMissing(kid)
        try:
            return fernet.decrypt(token.encode()).decode()
        except InvalidToken:
            raise Undecryptable(f"The value under key {kid} fails its authentication (altered or wrong key).") from None

    def lookup_hash(self, plain: str) -> str:
        """Equal for equal values (case-insensitively, as text filters compare), keyed so the database
        alone cannot confirm a guess."""
        digest = hmac.new(self._lookup, plain.casefold().encode(), hashlib.sha256).hexdigest()
        return f"{self.lookup_kid}:{digest}"


def split(sealed: str) -> tuple[str, str]:
    """(kid, token) of a sealed value; Undecryptable when it is not one."""
    parts = sealed.split(":", 2) if isinstance(sealed, str) else []
    if len(parts) != 3 or parts[0] != PREFIX:
        raise Undecryptable("Not an encrypted value.")
    return parts[1], parts[2]


def is_sealed(value) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX + ":")


@lru_cache(maxsize=4)
def _keyset(keys: tuple[str, ...], lookup_key: str) -> KeySet:
    return KeySet(keys, lookup_key)


def keyset() -> KeySet:
    from django.conf import settings

    return _keyset(tuple(settings.ENCRYPTION_KEYS), settings.ENCRYPTION_LOOKUP_KEY)


def seal(plain: str) -> str:
    return keyset().seal(plain)


def open_sealed(sealed: str) -> str:
    return keyset().open(sealed)


def lookup_hash(plain: str) -> str:
    return keyset().lookup_hash(plain)
