"""Custom field values stored encrypted: ``{"c": "enc1:<kid>:<token>", "h": "<lookup kid>:<hmac>"}``
in the record's ``custom_fields`` JSON, in place of the plain text.

``seal_values`` runs on every write (crm.customization.validation.clean_custom_fields) and ``reveal``
on every read for output (API schemas, exports, pages): one place each. The ciphertext is what the
change log, the search index and backups see; ``h`` (crm.core.crypto.lookup_hash) lets a filter
compare a value for equality without decrypting anything.
"""

from __future__ import annotations

from crm.core import crypto

# Only text-like values are encrypted: others are compared, summed or sorted by the database.
ENCRYPTABLE_TYPES = ("text", "long_text", "email", "phone", "url")
SHOWN_WHEN_MISSING = "(encrypted: key {kid} missing)"
SHOWN_WHEN_BROKEN = "(encrypted: cannot be decrypted)"


def is_envelope(value) -> bool:
    return isinstance(value, dict) and set(value) == {"c", "h"} and crypto.is_sealed(value["c"])


def envelope(plain: str, keys: crypto.KeySet | None = None) -> dict:
    keys = keys or crypto.keyset()
    return {"c": keys.seal(plain), "h": keys.lookup_hash(plain)}


def is_current(value: dict, keys: crypto.KeySet) -> bool:
    """Sealed under the current key and hashed under the current lookup key."""
    return crypto.split(value["c"])[0] == keys.current and value["h"].split(":", 1)[0] == keys.lookup_kid


def open_value(value):
    """The plain value of an envelope; anything else as it is."""
    return crypto.open_sealed(value["c"]) if is_envelope(value) else value


def seal_values(defs: dict, result: dict, current: dict | None) -> dict:
    """Encrypt the plain values of ``defs``' encrypted fields in ``result``. A value that equals the
    stored one keeps its envelope when that is under the current keys (the change log then shows no
    change); one under an older key is sealed again, so writes move values off retiring keys."""
    keys = crypto.keyset()
    for key, definition in defs.items():
        value = result.get(key)
        if not definition.encrypted or value in (None, "") or is_envelope(value):
            continue
        old = (current or {}).get(key)
        if is_envelope(old) and is_current(old, keys) and _opens_to(old, value, keys):
            result[key] = old
        else:
            result[key] = envelope(str(value), keys)
    return result


def _opens_to(old: dict, value, keys: crypto.KeySet) -> bool:
    try:
        return keys.open(old["c"]) == value
    except (crypto.KeyMissing, crypto.Undecryptable):
        return False


def reveal(values: dict | None) -> dict:
    """A record's custom values for output, encrypted ones decrypted. A value whose key is missing
    shows which key it needs rather than failing the whole page or list."""
    if not values or not any(is_envelope(v) for v in values.values()):
        return values or {}
    out = {}
    for key, value in values.items():
        try:
            out[key] = open_value(value)
        except crypto.KeyMissing as exc:
            out[key] = SHOWN_WHEN_MISSING.format(kid=exc.kid)
        except crypto.Undecryptable:  # altered in the database, or a key of the same id that is not it
            out[key] = SHOWN_WHEN_BROKEN
    return out


ENCRYPTED_MARK = {"encrypted": True}


def open_or_none(value):
    """``open_value`` for comparing: None when the value cannot be opened (missing key, altered)."""
    try:
        return open_value(value)
    except (crypto.KeyMissing, crypto.Undecryptable):
        return None


def mask(data):
    """``data`` (a webhook payload's record or changes) with every envelope replaced by
    ENCRYPTED_MARK: neither the ciphertext nor the lookup hash leaves the CRM, and no clear value goes to
    a receiver outside it; a receiver that needs the value reads the record through the API."""
    if is_envelope(data):
        return dict(ENCRYPTED_MARK)
    if isinstance(data, dict):
        return {k: mask(v) for k, v in data.items()}
    if isinstance(data, list):
        return [mask(v) for v in data]
    return data
