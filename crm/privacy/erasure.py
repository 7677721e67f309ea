"""Erasure: a person removed from the CRM, everywhere the CRM copied their data.

The default, and for now the only way, is deletion: each matched record is deleted through its
type's delete service (search index, links, events and the change log stay consistent, as for any
delete), then the copies the rest of the system kept are scrubbed:

- the change log: every entry of those records (the delete just written too) keeps its action, time
  and author, but each value becomes "[erased]". This is a deliberate exception to the append-only
  change log: a log that kept the values would keep the person.
- activities and tasks: deleted when every record they are linked to is erased (a call with only this
  person); kept, without the link, when they are also about someone or something else.
- webhook deliveries about those records: pending ones are cancelled, and every payload loses its
  values; the ``record.deleted`` deliveries this erasure queues go out, without values, so a receiving
  system learns to delete its copy.
- imports: the kept rows of import batches (cells of rows with problems, and an update's previous
  values) that name the person or their records, and a failed batch's message naming them; uploads
  not yet imported that hold them are deleted and their waiting imports failed (crm.privacy.uploads).
- bounces: the person's addresses on the bounce list (crm.mail.models.BouncedAddress) are deleted.
- email (crm.privacy.mail): messages sent to them or received from them deleted with their opens,
  clicks, attachments' files and timeline activities, their address taken out of the messages kept for
  others, their meeting attendee rows deleted.

An ErasureLog row keeps who, when, how many of what and the keyed hashes of the identifiers, never
the data; with ``block`` the hashes go on the block list (crm.privacy.blocklist). It all runs in one
transaction: a failure leaves everything as it was.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import partial

from django.db import transaction
from django.db.models import Q, TextField
from django.db.models.functions import Cast

from crm.access.policy import require_admin
from crm.audit import changelog, configwrites
from crm.audit.models import ObjectChange
from crm.core import context, recordtypes
from crm.core.errors import Conflict, NotFound
from crm.privacy import mail, uploads
from crm.privacy.access import WHAT, timeline_of
from crm.privacy.blocklist import keyed_hash
from crm.privacy.finding import Person, find
from crm.privacy.models import Blocked, ErasureLog
from crm.search import words as search_words

log = logging.getLogger("crm.privacy")

ERASED = "[erased]"


@dataclass
class ErasureReport:
    log_id: int
    counts: dict[str, int] = field(default_factory=dict)
    blocked: int = 0


def erase(*, actor, email=None, phone=None, record=None, block: bool = True) -> ErasureReport:
    require_admin(actor, WHAT)
    try:
        person = find(email=email, phone=phone, record=record)
    except NotFound:
        log.info("Erasure asked for by %s: nobody matched.", getattr(actor, "username", "?"))
        raise
    with transaction.atomic(), search_words.pruning():  # the person's words leave the typo table too
        counts = forget(person, actor)
        entry = ErasureLog(
            user=actor if getattr(actor, "pk", None) else None,
            user_name=getattr(actor, "username", "") or "",
            subject_hashes=person.hashes(),
            counts=counts,
            blocked=block,
            source=context.source(),
        )
        configwrites.create(entry, actor=actor)
        blocked = _block(person, actor, entry) if block else 0
    log.info("Erasure %s by %s: %s", entry.pk, entry.user_name, counts)
    return ErasureReport(log_id=entry.pk, counts=counts, blocked=blocked)


def forget(person: Person, actor) -> dict[str, int]:
    """Delete the person's records and what is only about them, and scrub the copies (the caller's
    transaction); returns how many of what."""
    counts: dict[str, int] = {}
    # Their mail first: a deleted message takes its timeline activity along (crm/privacy/mail.py).
    keys = mail.forget(person, actor, counts, _delete_activity)
    keys += _delete_timeline(person, actor, counts) + _delete_records(person, actor, counts)
    scrub(person, keys, counts)
    # The record.deleted events go out after the commit; their webhook deliveries then lose their values.
    transaction.on_commit(partial(scrub_deliveries, keys))
    return counts


def scrub(person: Person, keys: list[tuple[str, int]], counts: dict[str, int]) -> None:
    """The values of records ``keys`` out of the change log, webhook deliveries and import rows."""
    counts["changes_scrubbed"] = counts.get("changes_scrubbed", 0) + scrub_changes(keys)
    for name, n in scrub_deliveries(keys).items():
        counts[name] = counts.get(name, 0) + n
    counts["import_rows_scrubbed"] = counts.get("import_rows_scrubbed", 0) + scrub_import_rows(person)
    counts.update(uploads.forget(person.uploads))
    counts["bounces_erased"] = counts.get("bounces_erased", 0) + forget_bounces(person)


def forget_bounces(person: Person) -> int:
    """The person's addresses out of the bounce list (crm.mail.models.BouncedAddress)."""
    from crm.mail.models import BouncedAddress

    return BouncedAddress.objects.filter(email__in=sorted(person.emails)).delete()[0] if person.emails else 0


def _delete_timeline(person: Person, actor, counts: dict) -> list[tuple[str, int]]:
    """Activities and tasks about no one and nothing but the person's records."""
    erased = {f"{t}:{pk}" for t, pk in person.records}
    keys = []
    for obj, row in timeline_of(person):
        if not set(row["links"]) <= erased:
            continue
        keys.append((obj.object_type, obj.pk))
        _delete(recordtypes.of(obj), obj, actor)
        counts[obj.object_type] = counts.get(obj.object_type, 0) + 1
    return keys


def _delete_records(person: Person, actor, counts: dict) -> list[tuple[str, int]]:
    for (object_type, _pk), obj in person.records.items():
        _delete(recordtypes.by_type(object_type), obj, actor)
        counts[object_type] = counts.get(object_type, 0) + 1
    return list(person.records)


def _delete_activity(obj, actor) -> None:
    _delete(recordtypes.of(obj), obj, actor)


def _delete(rt, obj, actor) -> None:
    try:
        rt.delete(obj, actor=actor)
    except Conflict as exc:
        if exc.code != "archived":
            raise
        _delete_archived(obj, actor)


def _delete_archived(obj, actor) -> None:
    """A record of an archived custom type: its service refuses any change, but the law does not wait."""
    from crm.records.services import links
    from crm.search import index as search_index

    pk = obj.pk
    search_index.remove(obj)
    changelog.log_delete(actor, obj, changelog.snapshot(obj))
    links.unlink(obj.object_type, [pk])
    obj.delete()


def _keys_q(keys: list[tuple[str, int]], type_field: str, id_field: str) -> Q:
    q = Q(pk__in=[])
    for object_type in {t for t, _ in keys}:
        q |= Q(**{type_field: object_type, f"{id_field}__in": [pk for t, pk in keys if t == object_type]})
    return q


def _erased(value):
    if isinstance(value, list) and len(value) == 2:
        return [None if v is None else ERASED for v in value]
    return ERASED


def scrub_changes(keys: list[tuple[str, int]]) -> int:
    """Every change-log entry of the erased records: the values replaced, the facts kept."""
    entries = list(ObjectChange.objects.filter(_keys_q(keys, "object_type", "object_id")).only("id", "changes"))
    for entry in entries:
        entry.changes = {k: _erased(v) for k, v in (entry.changes or {}).items()}
        entry.object_repr = ERASED
    ObjectChange.objects.bulk_update(entries, ["changes", "object_repr"], batch_size=500)
    return len(entries)


def scrub_deliveries(keys: list[tuple[str, int]]) -> dict[str, int]:
    """Webhook deliveries about the erased records: values gone; pending ones cancelled, but for the
    ``record.deleted`` ones (the receiver must learn of the deletion)."""
    from crm.automation.models import WebhookDelivery
    from crm.automation.models.webhooks import DeliveryStatus

    q = _keys_q(keys, "payload__object_type", "payload__object_id")
    cancelled = scrubbed = 0
    with transaction.atomic():
        for delivery in WebhookDelivery.objects.select_for_update().filter(q):
            payload = dict(delivery.payload)
            payload["changes"] = {k: _erased(v) for k, v in (payload.get("changes") or {}).items()}
            payload["data"] = None
            delivery.payload = payload
            delivery.response_body = ""
            fields = ["payload", "response_body"]
            if delivery.status == DeliveryStatus.PENDING and delivery.event_type != "record.deleted":
                delivery.status = DeliveryStatus.FAILED
                delivery.error = "Cancelled: the person was erased."
                fields += ["status", "error"]
                cancelled += 1
            delivery.save(update_fields=fields)
            scrubbed += 1
    return {"webhooks_cancelled": cancelled, "webhooks_scrubbed": scrubbed}


def scrub_import_rows(person: Person) -> int:
    """Kept import rows naming the person: by the records they wrote, or an email or phone in their cells."""
    from crm.dataio.models import ImportRow

    q = Q(pk__in=[])
    for object_type, pks in person.ids().items():
        q |= Q(batch__object_type=recordtypes.by_type(object_type).slug, object_id__in=pks)
    rows = ImportRow.objects.annotate(cells=Cast("values", TextField()), kept=Cast("before", TextField()))
    for value in sorted(person.emails | person.phones):
        q |= Q(cells__icontains=value) | Q(kept__icontains=value)
    found = list(rows.filter(q))
    for row in found:
        row.values = row.before = None
        row.errors = {k: ERASED for k in row.errors or {}}
        row.warnings = [ERASED for _ in row.warnings or []]
    ImportRow.objects.bulk_update(found, ["values", "before", "errors", "warnings"], batch_size=500)
    _scrub_batch_messages(person)
    return len(found)


def _scrub_batch_messages(person: Person) -> None:
    """A failed batch's message may quote a cell (a malformed line)."""
    from crm.dataio.models import ImportBatch

    q = Q(pk__in=[])
    for value in sorted(person.emails | person.phones):
        q |= Q(message__icontains=value)
    ImportBatch.objects.filter(q).update(message=ERASED)


def _block(person: Person, actor, entry: ErasureLog) -> int:
    added = 0
    wanted = [("email", e) for e in sorted(person.emails)] + [("phone", p) for p in sorted(person.phones)]
    for kind, value in wanted:
        digest = keyed_hash(kind, value)
        if not Blocked.objects.filter(hash=digest).exists():
            configwrites.create(Blocked(hash=digest, kind=kind, reason=f"Erasure {entry.pk}"), actor=actor)
            added += 1
    return added
