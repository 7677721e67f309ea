"""``Idempotency-Key`` on creates: the same key from the same user returns the first response."""

from __future__ import annotations

import hashlib
import json

from django.db import IntegrityError, transaction

from crm.core.errors import Conflict, ValidationFailed
from crm.core.models import IdempotencyKey


def _hash(payload) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def key_of(request) -> str | None:
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > 255:
        raise ValidationFailed({"Idempotency-Key": "Must be 1 to 255 characters."})
    return key


def replay(request, key: str, endpoint: str, payload) -> tuple[int, dict] | None:
    """The stored (status, body) for this key, or None when it is new."""
    found = IdempotencyKey.objects.filter(user=request.user, key=key).first()
    if found is None:
        return None
    if found.endpoint != endpoint or found.request_hash != _hash(payload):
        raise Conflict("This Idempotency-Key was already used for a different request.", code="idempotency_key_reused")
    return found.status, found.response


def remember(request, key: str, endpoint: str, payload, status: int, response: dict) -> None:
    """Stored in the caller's transaction, so the record and the key commit together."""
    try:
        with transaction.atomic():
            IdempotencyKey.objects.create(
                user=request.user,
                key=key,
                endpoint=endpoint,
                request_hash=_hash(payload),
                status=status,
                response=json.loads(json.dumps(response, default=str)),
            )
    except IntegrityError:
        raise Conflict(
            "A request with this Idempotency-Key is in progress; retry shortly.", code="idempotency_in_progress"
        ) from None
