"""Finding a person: every record, of every type that holds people (a RecordType with a ``person``
declaration, built-in or custom), that carries their email or phone, or a record named by type and id;
and the import uploads not yet run with a row naming them (crm.privacy.uploads).

The values are compared in the form the records store them (crm.core.normalize). The records found
add their own emails (a contact's second address), and those are looked up once more, so a lead with
the contact's home address is the same person. Their phones are not looked up unless asked for: a
switchboard number shared by a whole office would make colleagues the same person (and erase them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import reduce
from operator import or_

from django.db.models import Q

from crm.core import recordtypes
from crm.core.errors import BadRequest, NotFound
from crm.core.normalize import InvalidValue, normalize_email, normalize_phone

ROUNDS = 2  # the identifiers asked for, then those the records found add


@dataclass
class Person:
    asked: dict  # what the caller gave: {"email": ...}, {"phone": ...}, {"record": "contact:42"}
    emails: set[str] = field(default_factory=set)
    phones: set[str] = field(default_factory=set)
    records: dict[tuple[str, int], object] = field(default_factory=dict)  # (object_type, id) -> record
    uploads: list = field(default_factory=list)  # crm.privacy.uploads.PendingUpload: imports not yet run

    def by_type(self) -> dict[str, list]:
        out: dict[str, list] = {}
        for (object_type, _pk), obj in self.records.items():
            out.setdefault(object_type, []).append(obj)
        return out

    def ids(self) -> dict[str, list[int]]:
        out: dict[str, list[int]] = {}
        for object_type, pk in self.records:
            out.setdefault(object_type, []).append(pk)
        return out

    def hashes(self) -> list[str]:
        from crm.privacy.blocklist import keyed_hash

        return sorted({keyed_hash("email", e) for e in self.emails} | {keyed_hash("phone", p) for p in self.phones})


def person_types() -> list[recordtypes.RecordType]:
    """Every type whose records name a person, read from the registry."""
    return [rt for rt in recordtypes.all_types() if rt.person is not None]


def asked_of(*, email=None, phone=None, record=None) -> dict:
    """The identifiers given, normalized; a clear 400 when none or a malformed one is given."""
    asked: dict = {}
    for key, value, normalize in (("email", email, normalize_email), ("phone", phone, normalize_phone)):
        if value:
            try:
                asked[key] = normalize(str(value))
            except InvalidValue as exc:
                raise BadRequest(str(exc), fields={key: str(exc)}) from None
    if record:
        asked["record"] = _record_key(record)
    if not asked:
        raise BadRequest("Give the person's email, phone or a record (type and id).")
    return asked


def _record_key(record) -> tuple[str, int]:
    object_type, pk = record if isinstance(record, tuple | list) else (str(record).partition(":")[::2])
    rt = recordtypes.by_type(str(object_type)) or recordtypes.by_slug(str(object_type))
    if rt is None:
        raise BadRequest(f"No record type {object_type!r}.", fields={"type": "Unknown record type."})
    if rt.person is None:
        raise BadRequest(f"{rt.label} do not hold people.", fields={"type": "Not a type that holds people."})
    try:
        return rt.object_type, int(pk)
    except (TypeError, ValueError):
        raise BadRequest(f"Not a record id: {pk!r}.", fields={"id": "Must be a whole number."}) from None


def find(*, email=None, phone=None, record=None) -> Person:
    """The person's records; NotFound (with a message naming what was asked) when there are none."""
    asked = asked_of(email=email, phone=phone, record=record)
    person = Person(asked={k: (f"{v[0]}:{v[1]}" if k == "record" else v) for k, v in asked.items()})
    if "email" in asked:
        person.emails.add(asked["email"])
    if "phone" in asked:
        person.phones.add(asked["phone"])
    if "record" in asked:
        object_type, pk = asked["record"]
        rt = recordtypes.by_type(object_type)
        obj = rt.objects().filter(pk=pk).first()
        if obj is not None:
            _add(person, rt, obj)
    asked_phones = {asked["phone"]} if "phone" in asked else set()
    for _ in range(ROUNDS):
        before = len(person.emails)
        for rt in person_types():
            for obj in _matching(rt, person.emails, asked_phones):
                _add(person, rt, obj)
        if len(person.emails) == before:
            break
    from crm.privacy import uploads

    person.uploads = uploads.naming(person.emails, person.phones)
    if not person.records and not person.uploads:
        raise NotFound(_nobody(asked))
    return person


def _nobody(asked: dict) -> str:
    if "email" in asked:
        return "Nobody with that email is in the CRM."
    if "phone" in asked:
        return "Nobody with that phone number is in the CRM."
    return "No such record is in the CRM."


def _matching(rt, emails: set[str], phones: set[str]):
    spec = rt.person
    terms = [Q(**{f"{lookup}__in": sorted(emails)}) for lookup in spec.email_lookups if emails]
    terms += [Q(**{f"{lookup}__in": sorted(phones)}) for lookup in spec.phone_lookups if phones]
    if not terms:
        return []
    return list(rt.objects().filter(reduce(or_, terms)).distinct().order_by("pk"))


def identifiers(rt, obj) -> tuple[set[str], set[str]]:
    """The emails and phones a record carries (through each lookup of its type's declaration)."""
    rows = rt.objects().filter(pk=obj.pk)
    emails = {v for lookup in rt.person.email_lookups for v in rows.values_list(lookup, flat=True) if v}
    phones = {v for lookup in rt.person.phone_lookups for v in rows.values_list(lookup, flat=True) if v}
    return {str(v) for v in emails}, {str(v) for v in phones}


def _add(person: Person, rt, obj) -> None:
    key = (rt.object_type, obj.pk)
    if key in person.records:
        return
    person.records[key] = obj
    emails, phones = identifiers(rt, obj)
    person.emails |= emails
    person.phones |= phones
