"""Subject access: everything the CRM holds about one person, as a ZIP of JSON and CSV files.

Admins only; each request is kept as an AccessRequest row (hashed identifiers and counts, no data),
which is itself in the change log. The files are described in README.txt inside the archive.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from crm.access.policy import require_admin
from crm.audit import changelog, configwrites, reads
from crm.audit.models import ObjectChange
from crm.core import context, recordtypes
from crm.dataio.exporting import inert
from crm.privacy import mail
from crm.privacy.finding import Person, find, identifiers
from crm.privacy.models import AccessRequest

WHAT = "personal data (subject access and erasure)"

README = """What the CRM holds about one person, exported on {at} by {by}.

person.json     what was asked for, the emails and phones found, and each record matched (and how)
<type>.json     the matched records of one type (contacts.json, leads.json, ...): every field,
                custom field values included
<type>.csv      the same records as a table (custom fields as custom_fields.<key> columns)
timeline.json   the activities (calls, emails, meetings, notes) and tasks linked to those records
changes.json    the change log of those records and of that timeline: who changed what, and when
consent.json    the contacts' marketing-email consent: opted in or not, since when, from where
imports.json    uploads waiting to be imported (an import wizard's or a queued import's file) with
                rows naming the person: the batches waiting on each, its header and those rows
emails_sent.json      messages the CRM sent to their addresses, with the opens and clicks recorded
emails_received.json  messages synced from mailboxes that are from them or name them in To/Cc
meetings.json   the meeting invitations they were sent and their answers
bounces.json    their addresses that delivery status notices said fail
attachments/    the files of those messages, sent/<message id>/ and received/<message id>/ (each
                message's "attachment_files" names them)
"""


def subject_access(*, actor, email=None, phone=None, record=None) -> bytes:
    """The ZIP's bytes; NotFound when nobody matches, BadRequest on a malformed identifier."""
    require_admin(actor, WHAT)
    person = find(email=email, phone=phone, record=record)
    files = contents(person, actor)
    with transaction.atomic():
        entry = AccessRequest(
            user=actor if getattr(actor, "pk", None) else None,
            user_name=getattr(actor, "username", "") or "",
            subject_hashes=person.hashes(),
            counts={name: len(rows) for name, rows in files.items() if isinstance(rows, list)},
            source=context.source(),
        )
        configwrites.create(entry, actor=actor)
        reads.record_read(
            actor=actor,
            action=reads.ReadAction.SUBJECT_ACCESS,
            count=len(person.records),
            detail={"access_request": entry.pk, "counts": entry.counts},
        )
    return _zip(files, actor)


def contents(person: Person, actor) -> dict[str, object]:
    """{file name: data} before writing: the per-type lists, timeline, changes and consent."""
    files: dict[str, object] = {"person.json": _person(person)}
    for object_type, objs in person.by_type().items():
        rt = recordtypes.by_type(object_type)
        rows = [record_row(obj) for obj in objs]
        files[f"{rt.slug}.json"] = rows
        files[f"{rt.slug}.csv"] = rows
    timeline = timeline_of(person)
    files["timeline.json"] = [row for _obj, row in timeline]
    keys = list(person.records) + [(changelog.type_of(obj), obj.pk) for obj, _row in timeline]
    files["changes.json"] = changes_of(keys)
    files["consent.json"] = [
        {
            "contact": obj.pk,
            "email_opt_in": obj.email_opt_in,
            "email_opt_in_at": obj.email_opt_in_at,
            "email_opt_in_source": obj.email_opt_in_source,
        }
        for obj in person.records.values()
        if hasattr(obj, "email_opt_in")
    ]
    files["imports.json"] = [upload.as_dict() for upload in person.uploads]
    files.update(mail.access(person))
    return files


def record_row(obj) -> dict:
    return {"id": obj.pk, **changelog.snapshot(obj)}


def _person(person: Person) -> dict:
    matched = []
    for (object_type, pk), obj in person.records.items():
        emails, phones = identifiers(recordtypes.by_type(object_type), obj)
        how = [f"email {e}" for e in sorted(emails & person.emails)] + [
            f"phone {p}" for p in sorted(phones & person.phones)
        ]
        if person.asked.get("record") == f"{object_type}:{pk}":
            how.insert(0, "the record asked for")
        matched.append({"type": object_type, "id": pk, "name": str(obj), "matched_by": how})
    return {
        "asked": person.asked,
        "emails": sorted(person.emails),
        "phones": sorted(person.phones),
        "records": matched,
    }


def timeline_of(person: Person) -> list[tuple[object, dict]]:
    """(activity or task, its row) for each linked to a matched record, or a contact's participation."""
    from crm.records.models import Activity, Task

    out = []
    ids = person.ids()
    for model in (Activity, Task):
        link = model.links.rel.related_model
        q = Q(pk__in=[])
        for object_type, pks in ids.items():
            q |= Q(record_type=object_type, record_id__in=pks)
        holders = set(link.objects.filter(q).values_list(f"{model.links.field.name}_id", flat=True))
        if model is Activity and ids.get("contact"):
            holders |= set(Activity.objects.filter(participants__in=ids["contact"]).values_list("pk", flat=True))
        for obj in model.objects.filter(pk__in=holders).prefetch_related("links").order_by("pk"):
            row = {"type": obj.object_type, **record_row(obj), "links": sorted(lk.key for lk in obj.links.all())}
            out.append((obj, row))
    return out


def changes_of(keys: list[tuple[str, int]]) -> list[dict]:
    if not keys:
        return []
    q = Q(pk__in=[])
    for object_type in {t for t, _ in keys}:
        q |= Q(object_type=object_type, object_id__in=[pk for t, pk in keys if t == object_type])
    fields = ("time", "user_name", "action", "object_type", "object_id", "object_repr", "changes", "source")
    return list(ObjectChange.objects.filter(q).order_by("time", "id").values(*fields))


def _zip(files: dict[str, object], actor) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        by = getattr(actor, "username", "") or "the system"
        archive.writestr("README.txt", README.format(at=timezone.now().isoformat(timespec="seconds"), by=by))
        for name, data in files.items():
            if isinstance(data, bytes):  # an attachment, as it was stored
                archive.writestr(name, data)
            else:
                archive.writestr(name, _csv(data) if name.endswith(".csv") else _json(data))
    return buffer.getvalue()


def _json(data) -> str:
    return json.dumps(data, cls=DjangoJSONEncoder, indent=2, ensure_ascii=False, sort_keys=True)


def _csv(rows: list[dict]) -> str:
    flat = [_flatten(r) for r in rows]
    columns = list(dict.fromkeys(k for r in flat for k in r))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns)
    writer.writeheader()
    writer.writerows(flat)
    return out.getvalue()


def _flatten(row: dict) -> dict:
    out = {}
    for key, value in row.items():
        if isinstance(value, dict):
            out.update({f"{key}.{k}": _cell(v) for k, v in value.items()})
        else:
            out[key] = _cell(value)
    return out


def _cell(value) -> str:
    """Text a spreadsheet shows as text: a would-be formula made inert, as the CSV export does."""
    if isinstance(value, list):
        text = "; ".join(str(v) for v in value)
    elif value is None:
        text = ""
    else:
        text = value if isinstance(value, str) else json.dumps(value, cls=DjangoJSONEncoder).strip('"')
    return inert(text)
