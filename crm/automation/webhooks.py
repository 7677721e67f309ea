"""Outbound webhooks: a delivery per subscribed event, signed, retried with backoff, logged.

Receivers verify ``X-CRM-Signature: sha256=HMAC(secret, "<X-CRM-Timestamp>.<body>")`` and reject
old timestamps (replays). A subscription is disabled after DISABLE_AFTER failed deliveries in a
row, and the admins are told. Admins manage subscriptions through webhook_create/_update/_delete
(every edge does: the API and the admin screens), which validate and write the change log.
A payload obeys field rules as every other entry point does: a subscription names a role, and the
fields hidden from that role are left out of ``data`` and ``changes`` (crm.access.fieldrules.omit, the
rules the API masks with). A subscription with no role is the admin feed, every field (admins have no
field rules either); deleting a role disables the subscriptions that name it, so none widens by itself.
Encrypted custom values are the exception: a payload says ``{"encrypted": true}`` in their place (no
ciphertext, no lookup hash, no clear value leaves); a receiver that needs one reads it through the API.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from urllib.parse import urlsplit

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from crm.access import fieldrules
from crm.access.models import Role
from crm.access.policy import Policy
from crm.audit import changelog, configwrites
from crm.automation import jobs, ssrf
from crm.automation.models import WebhookDelivery, WebhookSubscription
from crm.automation.models.webhooks import DeliveryStatus
from crm.automation.rules import require_admin
from crm.automation.system import automation_user
from crm.automation.validation import check_model, refuse_nulls
from crm.core import context, events, recordtypes
from crm.core.errors import NotFound, ValidationFailed
from crm.customization import secrets

MAX_ATTEMPTS = 5
DISABLE_AFTER = 5
URL_MAX = WebhookSubscription._meta.get_field("url").max_length
TOLERANCE_SECONDS = 300
EVENT_TYPES = (
    "record.created",
    "record.updated",
    "record.deleted",
    "deal.stage_changed",
    "deal.won",
    "deal.lost",
    "form.submitted",
)


def sign(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def verify(secret: str, timestamp: str, body: bytes, signature: str, *, now: float | None = None) -> bool:
    """What a receiver does: the signature matches and the timestamp is recent (no replays)."""
    try:
        age = abs((now if now is not None else time.time()) - int(timestamp))
    except (TypeError, ValueError):
        return False
    return age <= TOLERANCE_SECONDS and hmac.compare_digest(sign(secret, timestamp, body), signature or "")


def record_data(object_type: str, object_id: int):
    from crm.automation.conditions import models_by_type, records_of

    obj = records_of(object_type).filter(pk=object_id).first() if object_type in models_by_type() else None
    return None if obj is None else {"id": obj.pk, **changelog.snapshot(obj)}


def queue_delivery(sub: WebhookSubscription, event_type: str, obj, *, changes=None, at=None) -> WebhookDelivery:
    event_id = uuid.uuid4()
    payload = {
        "id": str(event_id),
        "type": event_type,
        "timestamp": (at or timezone.now()).isoformat(),
        "object_type": obj.object_type,
        "object_id": obj.pk,
        "changes": secrets.mask(shaped(sub, obj.object_type, changes or {})),
        "data": secrets.mask(shaped(sub, obj.object_type, record_data(obj.object_type, obj.pk))),
    }
    payload = json.loads(json.dumps(payload, cls=DjangoJSONEncoder))
    with transaction.atomic():
        delivery = WebhookDelivery.objects.create(
            subscription=sub, event_id=event_id, event_type=event_type, payload=payload
        )
        jobs.enqueue("webhook.deliver", {"delivery_id": delivery.pk}, max_attempts=MAX_ATTEMPTS)
    return delivery


def role_policy(role: Role | None) -> Policy | None:
    """The field rules of a subscription's role as a Policy (only its field rules count here)."""
    if role is None:
        return None
    rules = {} if role.is_admin else fieldrules.frozen(role.field_access)
    return Policy(user_id=None, is_admin=role.is_admin, field_access=rules)


def shaped(sub: WebhookSubscription, object_type: str, data):
    """``data`` (a record or its changes) without the fields hidden from the subscription's role."""
    policy = role_policy(sub.role)
    rt = recordtypes.by_type(object_type)
    if policy is None or rt is None or not isinstance(data, dict):
        return data
    return fieldrules.omit(policy, rt, data)


class _Ref:
    """Enough of a record for ``queue_delivery`` when the record itself is gone (deletes)."""

    def __init__(self, object_type, pk):
        self.object_type, self.pk = object_type, pk


def on_event(event) -> None:
    """Subscriber to crm.core.events: a delivery per enabled subscription that wants this event."""
    enabled = events.cached(
        "webhook_subscriptions", lambda: list(WebhookSubscription.objects.select_related("role").filter(enabled=True))
    )
    subs = [s for s in enabled if s.wants(event.type, event.object_type)]
    for sub in subs:
        queue_delivery(sub, event.type, _Ref(event.object_type, event.object_id), changes=event.changes, at=event.at)


@jobs.handler("webhook.deliver", atomic=False)
def deliver(job):
    from crm.automation import http

    delivery = WebhookDelivery.objects.select_related("subscription").filter(pk=job.payload["delivery_id"]).first()
    if delivery is None or delivery.status != DeliveryStatus.PENDING:
        return None
    sub = delivery.subscription
    if not sub.enabled:
        return _record(delivery, DeliveryStatus.FAILED, error="The subscription is disabled.")
    body = json.dumps(delivery.payload, separators=(",", ":")).encode()
    timestamp = str(int(time.time()))
    headers = {
        "User-Agent": "CRM-Webhooks/1",
        "X-CRM-Event": delivery.event_type,
        "X-CRM-Delivery": str(delivery.event_id),
        "X-CRM-Timestamp": timestamp,
        "X-CRM-Signature": sign(sub.secret, timestamp, body),
    }
    try:
        resp = http.post(sub.url, body, headers)
    except ssrf.Refused as exc:  # never retried: the address will not become allowed by waiting
        _record(delivery, DeliveryStatus.FAILED, error=f"Refused: {exc}")
        _count_failure(sub)
        return None
    except OSError as exc:
        return _failed_attempt(job, delivery, error=f"{type(exc).__name__}: {exc}")
    if 200 <= resp.status < 300:
        _record(delivery, DeliveryStatus.SUCCEEDED, resp=resp)
        WebhookSubscription.objects.filter(pk=sub.pk).update(consecutive_failures=0)
        return None
    return _failed_attempt(job, delivery, resp=resp, error=f"HTTP {resp.status}")


def _record(delivery: WebhookDelivery, status: str, *, resp=None, error: str = "") -> None:
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=status,
        attempts=F("attempts") + 1,
        response_status=getattr(resp, "status", None),
        response_body=getattr(resp, "body", "")[:2000],
        duration_ms=getattr(resp, "duration_ms", None),
        error=error[:2000],
        last_attempt_at=timezone.now(),
    )


def _failed_attempt(job, delivery, *, resp=None, error=""):
    if jobs.will_retry(job):
        _record(delivery, DeliveryStatus.PENDING, resp=resp, error=error)
        return jobs.RetryLater(error)
    _record(delivery, DeliveryStatus.FAILED, resp=resp, error=error)
    _count_failure(delivery.subscription)
    return None


def _count_failure(sub: WebhookSubscription) -> None:
    from crm.automation.notifications import notify_admins

    WebhookSubscription.objects.filter(pk=sub.pk).update(consecutive_failures=F("consecutive_failures") + 1)
    sub.refresh_from_db()
    if sub.enabled and sub.consecutive_failures >= DISABLE_AFTER:
        reason = f"Disabled after {sub.consecutive_failures} failed deliveries in a row."
        # The system turns it off, as an admin would: through the service, so the change log says so.
        with context.change_context(source="system"):
            disabled = webhook_disable(sub, actor=automation_user(), reason=reason)
        if disabled:
            notify_admins(f"Webhook {sub.name!r} was disabled", f"{reason} URL: {sub.url}")


def validate_subscription(data: dict) -> dict:
    errors = {}
    url = data.get("url") or ""
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        errors["url"] = "An http or https URL."
    elif refusal := _url_problem(url):
        errors["url"] = refusal
    for key, known in (("event_types", EVENT_TYPES), ("object_types", recordtypes.object_types())):
        value = data.get(key) or []
        bad = [t for t in value if t not in known] if isinstance(value, list) else None
        if bad or bad is None:
            errors[key] = f"{'Unknown ' + repr(bad) if bad else 'A list'}; use {', '.join(known)}."
    if errors:
        raise ValidationFailed(errors)
    return data


def _url_problem(url: str) -> str | None:
    if len(url) > URL_MAX:
        return f"At most {URL_MAX} characters."
    if any(ch.isspace() or ord(ch) < 32 for ch in url):
        return "A URL has no spaces or control characters."
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises ValueError for a port out of range)
    except ValueError as exc:
        return f"Not a valid URL: {exc}."
    if not parts.hostname:
        return "The URL needs a host."
    return ssrf.literal_refusal(url)


FIELDS = ("name", "url", "event_types", "object_types", "enabled", "role_id")
NULLABLE = ("role_id",)  # null: no role, every field (the admin feed)


def assign(sub: WebhookSubscription, data: dict) -> WebhookSubscription:
    """Copy ``data`` (FIELDS only) onto ``sub`` and validate the result; ValidationFailed names the field."""
    refuse_nulls(data, [n for n in FIELDS if n not in NULLABLE])
    given = {name: data[name] for name in FIELDS if name in data}
    errors = {}
    try:
        validate_subscription({"url": sub.url, **given})
    except ValidationFailed as exc:
        errors = exc.fields
    if (role_id := given.get("role_id")) is not None:
        if isinstance(role_id, bool) or not isinstance(role_id, int) or not Role.objects.filter(pk=role_id).exists():
            errors["role_id"] = f"No role with id {role_id!r}: give a role's id, or null for every field."
    for name, value in given.items():
        setattr(sub, name, value)
    if given.get("enabled"):
        sub.consecutive_failures, sub.disabled_reason = 0, ""  # re-enabled: start counting again
    # The URL was checked above: any http(s) host, where Django's URLValidator wants a dotted name.
    check_model(sub, exclude=("url", "secret", "role"), errors=errors)  # role: checked above
    return sub


# --- managing subscriptions (admins): every edge (API, admin screens) writes through these ----------


def get_subscription(user, pk: int) -> WebhookSubscription:
    require_admin(user)
    sub = WebhookSubscription.objects.filter(pk=pk).first()
    if sub is None:
        raise NotFound(f"No webhook with id {pk}.")
    return sub


@transaction.atomic
def webhook_create(*, actor, data: dict) -> WebhookSubscription:
    require_admin(actor)
    sub = assign(WebhookSubscription(created_by=actor), data)
    sub.save(force_insert=True)
    changelog.log_create(actor, sub)
    return sub


@transaction.atomic
def webhook_update(sub: WebhookSubscription, *, actor, data: dict) -> WebhookSubscription:
    require_admin(actor)
    # The stored row: the log's "before" is what was there (a delivery may have counted a failure since).
    sub = configwrites.locked(WebhookSubscription, sub.pk)
    before = changelog.snapshot(sub)
    assign(sub, data)
    sub.save()
    changelog.log_update(actor, sub, before)
    return sub


@transaction.atomic
def webhook_disable(sub: WebhookSubscription, *, actor, reason: str) -> bool:
    """Turn a subscription off with the reason shown to admins; False when it was off already (two
    workers failing at once disable it, and tell the admins, once: the row is locked)."""
    require_admin(actor)
    sub = configwrites.locked(WebhookSubscription, sub.pk)
    if not sub.enabled:
        return False
    before = changelog.snapshot(sub)
    sub.enabled, sub.disabled_reason = False, reason
    sub.save(update_fields=["enabled", "disabled_reason"])
    changelog.log_update(actor, sub, before)
    return True


@transaction.atomic
def webhook_delete(sub: WebhookSubscription, *, actor) -> None:
    require_admin(actor)
    configwrites.delete(sub, actor=actor)  # its delivery log goes with it


def on_role_deleted(role: Role) -> None:
    """Disable each enabled subscription shaped by ``role`` before the role goes (its ``role`` becomes
    null, which would mean every field): an admin picks another role, or none on purpose, and re-enables."""
    for sub in WebhookSubscription.objects.filter(role=role, enabled=True):
        reason = f"Its role {role.name!r} was deleted: choose the role that shapes its payloads, then re-enable it."
        with context.change_context(source="system"):
            webhook_disable(sub, actor=automation_user(), reason=reason[:255])
