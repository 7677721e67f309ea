"""vCard 3.0 and 4.0: contacts out (written here, RFC 2426 / RFC 6350) and in (parsed with vobject).

Import creates each contact through ``contact_create``, so validation, duplicates and the change log
apply; all cards are one transaction and any bad card rolls every card back with a per-card error.
Notes become note activities on the contact; birthday and URL go to the ``birthday`` and
``website`` (or ``url``) custom fields when those are defined. Photos and unknown properties are
skipped and reported as warnings.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from django.db import transaction

from crm.access import fieldrules
from crm.access.policy import policy_for
from crm.core import recordtypes
from crm.core.errors import BadRequest, ServiceError, ValidationFailed
from crm.customization import secrets
from crm.customization.validation import definitions
from crm.records.models import Activity, ActivityLink, Company, Contact
from crm.records.services.activities import activity_create
from crm.records.services.common import require
from crm.records.services.contacts import contact_create

VERSIONS = ("3.0", "4.0")
MAX_BYTES = 10 * 1024 * 1024
MAX_CARDS = 5000
BIRTHDAY_KEY = "birthday"
URL_KEYS = ("website", "url")
NOTES_EXPORTED = 20
PHONE_TYPES = {"cell": "mobile", "mobile": "mobile", "work": "work", "home": "home"}
EMAIL_TYPES = {"work": "work", "home": "home"}
# Read as contact data; everything else is reported as skipped.
KNOWN = {"version", "fn", "n", "org", "title", "email", "tel", "adr", "note", "url", "bday", "uid", "rev", "prodid"}


# ---- export -------------------------------------------------------------------------------------


def escape(text: str) -> str:
    return (
        str(text)
        .replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\n")
        .replace("\n", "\\n")
    )


def fold(line: str) -> str:
    """Lines longer than 75 octets continue on the next line after a space (never inside a character)."""
    parts, current, size = [], "", 0
    for ch in line:
        n = len(ch.encode())
        if size + n > 75:
            parts.append(current)
            current, size = " ", 1
        current += ch
        size += n
    parts.append(current)
    return "\r\n".join(parts)


def _pref(v4: bool) -> str:
    return ";PREF=1" if v4 else ",PREF"


def _typed(name: str, kind: str, primary: bool, v4: bool, extra: str = "") -> str:
    kind = kind.lower() if v4 else kind.upper()
    return f"{name}{extra};TYPE={kind}{_pref(v4) if primary else ''}"


def card(contact: Contact, version: str = "3.0", policy=None) -> str:
    """One contact as a vCard; its emails and phones must be loaded (prefetch) for speed. With the
    reader's ``policy``, without the fields hidden from their role (crm/access/fieldrules.py)."""
    hidden = policy.hidden_fields("contact") if policy is not None else frozenset()
    if hidden:
        fieldrules.blank(recordtypes.by_type("contact"), contact, hidden)
    hidden_notes = policy is not None and "body" in policy.hidden_fields("activity")
    v4 = version == "4.0"
    lines = ["BEGIN:VCARD", f"VERSION:{version}"]
    lines.append(f"N:{escape(contact.last_name)};{escape(contact.first_name)};;;")
    lines.append(f"FN:{escape(contact.name or contact.email or contact.phone or f'Contact {contact.pk}')}")
    if contact.company_id and contact.company:
        lines.append(f"ORG:{escape(contact.company.name)}")
    if contact.title:
        lines.append(f"TITLE:{escape(contact.title)}")
    for e in contact.emails.all():
        lines.append(f"{_typed('EMAIL', e.kind, e.is_primary, v4, '' if v4 else ';TYPE=INTERNET')}:{escape(e.email)}")
    for p in contact.phones.all():
        kind = "cell" if p.kind == "mobile" else p.kind
        if v4:
            lines.append(f"{_typed('TEL', kind, p.is_primary, v4, ';VALUE=uri')}:tel:{p.number}")
        else:
            lines.append(f"{_typed('TEL', kind, p.is_primary, v4)}:{escape(p.number)}")
    parts = [contact.street, contact.city, contact.region, contact.postal_code, contact.country]
    if any(parts):
        lines.append(f"ADR;TYPE={'work' if v4 else 'WORK'}:;;{';'.join(escape(x) for x in parts)}")
    custom = secrets.reveal(contact.custom_fields)
    if custom.get(BIRTHDAY_KEY):
        lines.append(f"BDAY:{custom[BIRTHDAY_KEY]}")
    url = next((custom[k] for k in URL_KEYS if custom.get(k)), None)
    if url:
        lines.append(f"URL:{escape(url)}")
    notes = [a.subject if hidden_notes else a.body or a.subject for a in _notes(contact)[:NOTES_EXPORTED]]
    if any(notes):
        lines.append(f"NOTE:{escape(chr(10).join(n for n in notes if n))}")
    lines.append(f"UID:urn:crm:contact:{contact.pk}")
    if contact.updated_at is not None:  # None: hidden from the reader's role
        lines.append(f"REV:{contact.updated_at.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}")
    lines.append("END:VCARD")
    return "".join(fold(line) + "\r\n" for line in lines)


def _notes(contact: Contact) -> list:
    prefetched = getattr(contact, "note_activities", None)  # set by cards(): one query per chunk, not per card
    if prefetched is not None:
        return prefetched
    return list(Activity.objects.linked_to(contact).filter(kind="note").order_by("-occurred_at")[:NOTES_EXPORTED])


def _attach_notes(contacts: list[Contact]) -> None:
    """Each contact's note activities, newest first, in one query for the chunk."""
    by_contact: dict[int, list] = {c.pk: [] for c in contacts}
    rows = (
        ActivityLink.objects.filter(record_type="contact", record_id__in=list(by_contact), activity__kind="note")
        .select_related("activity")
        .order_by("-activity__occurred_at", "-activity_id")
    )
    for link in rows:
        by_contact[link.record_id].append(link.activity)
    for contact in contacts:
        contact.note_activities = by_contact[contact.pk][:NOTES_EXPORTED]


def cards(qs, version: str, policy=None):
    qs = qs.select_related("company").prefetch_related("emails", "phones").order_by("pk")
    chunk: list[Contact] = []
    for contact in qs.iterator(chunk_size=500):
        chunk.append(contact)
        if len(chunk) == 500:
            yield from _cards(chunk, version, policy)
            chunk = []
    yield from _cards(chunk, version, policy)


def _cards(contacts: list[Contact], version: str, policy=None):
    if contacts:
        _attach_notes(contacts)
    for contact in contacts:
        yield card(contact, version, policy)


def check_version(version: str) -> str:
    if version not in VERSIONS:
        raise BadRequest(f"Unknown vCard version {version!r}.", fields={"version": "3.0 or 4.0."})
    return version


# ---- import -------------------------------------------------------------------------------------


@dataclass
class Parsed:
    data: dict
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def is_vcard(head: bytes) -> bool:
    """Whether a file's first bytes are a vCard's, whatever its name says: BEGIN:VCARD after an optional
    byte-order mark and blank lines (UTF-8, UTF-16 or Windows-1252)."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = head.decode("utf-16", errors="ignore")
    else:
        text = head.decode("utf-8-sig", errors="ignore")
    return text.lstrip().upper().startswith("BEGIN:VCARD")


def sniff(binary) -> bool:
    """is_vcard() on an open binary file, left at its start."""
    head = binary.read(512)
    binary.seek(0)
    return is_vcard(head)


def decode(raw: bytes) -> str:
    """vCard 4.0 is UTF-8; older files come as UTF-16 (with a BOM) or Windows-1252."""
    if not raw.strip():
        raise BadRequest("The file is empty.", fields={"file": "No vCards in it."})
    if len(raw) > MAX_BYTES:
        raise BadRequest("The file is too large.", fields={"file": f"At most {MAX_BYTES // (1024 * 1024)} MB."})
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = raw.decode("utf-16")
    else:
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = raw.decode("cp1252", errors="replace")
    if "\x00" in text:
        raise BadRequest("This is not a vCard file.", fields={"file": "It holds binary data."})
    return text


def split_cards(text: str) -> list[str]:
    """Each BEGIN:VCARD..END:VCARD block, so one malformed card is reported alone."""
    blocks, current = [], None
    for line in text.splitlines():
        tag = line.strip().upper()
        if tag == "BEGIN:VCARD":
            current = [line]
        elif current is not None:
            current.append(line)
            if tag == "END:VCARD":
                blocks.append("\r\n".join(current) + "\r\n")
                current = None
    if not blocks:
        raise BadRequest("This is not a vCard file.", fields={"file": "No BEGIN:VCARD ... END:VCARD block found."})
    if len(blocks) > MAX_CARDS:
        raise BadRequest("Too many cards.", fields={"file": f"At most {MAX_CARDS} cards per file."})
    return blocks


def _types(prop) -> set[str]:
    values = [*prop.params.get("TYPE", []), *getattr(prop, "singletonparams", [])]
    types = {t.strip().strip('"').lower() for v in values for t in str(v).split(",")}
    if prop.params.get("PREF"):
        types.add("pref")
    return types


def _text(value) -> str:
    if isinstance(value, list):
        return " ".join(str(v) for v in value if v).strip()
    return str(value or "").strip()


def known_lines(block: str, warnings: list[str]) -> str:
    """The card's unfolded lines minus photos, unknown properties and unreadable lines, so what we
    do not use can never fail the parse (a PHOTO's bad base64, an X- property's odd parameters)."""
    lines: list[str] = []
    for raw in block.splitlines():
        if raw[:1] in (" ", "\t") and lines:
            lines[-1] += raw[1:]
        elif raw.strip():
            lines.append(raw)
    kept = []
    for line in lines:
        head = re.split(r"[;:]", line, maxsplit=1)[0]
        name = head.rsplit(".", 1)[-1].strip().lower()  # "item1.EMAIL" (Apple's groups) is EMAIL
        if name in ("begin", "end") or (name in KNOWN and ":" in line):
            kept.append(line)
        elif ":" not in line or not name:
            warnings.append(f"Unreadable line skipped: {line[:40]!r}.")
        else:
            warnings.append(f"{name.upper()} skipped.")
    return "\r\n".join(kept) + "\r\n"


def parse(block: str, cf_keys: set[str]) -> Parsed:
    import vobject

    out = Parsed(data={})
    text = known_lines(block, out.warnings)
    try:
        vc = vobject.readOne(text)
    except Exception as exc:  # vobject raises assorted errors on malformed input: all mean a bad card
        raise ValidationFailed({"": f"Unreadable vCard: {exc}"}) from None
    for name, props in vc.contents.items():
        for prop in props:
            _read(name.lower(), prop, out, cf_keys)
    return out


def _read(name: str, prop, out: Parsed, cf_keys: set[str]) -> None:  # noqa: C901 - one branch per property
    d, value = out.data, prop.value
    if name == "n":
        d["first_name"], d["last_name"] = _text(value.given)[:100], _text(value.family)[:100]
    elif name == "fn" and "first_name" not in d:
        first, _, last = _text(value).partition(" ")
        d.setdefault("first_name", first[:100])
        d.setdefault("last_name", last[:100])
    elif name == "title":
        d["title"] = _text(value)[:150]
    elif name == "org":
        d["_org"] = _text(value[0] if isinstance(value, list) and value else value)
    elif name == "email":
        types = _types(prop)
        kind = next((EMAIL_TYPES[t] for t in types if t in EMAIL_TYPES), "other")
        d.setdefault("emails", []).append({"email": _text(value), "kind": kind, "primary": "pref" in types})
    elif name == "tel":
        types = _types(prop)
        kind = next((PHONE_TYPES[t] for t in types if t in PHONE_TYPES), "other")
        number = re.sub(r"^tel:", "", _text(value), flags=re.I)
        d.setdefault("phones", []).append({"number": number, "kind": kind, "primary": "pref" in types})
    elif name == "adr" and "street" not in d:
        d.update(
            street=_text(value.street)[:255],
            city=_text(value.city)[:100],
            region=_text(value.region)[:100],
            postal_code=_text(value.code)[:20],
            country=_text(value.country)[:100],
        )
    elif name == "note" and _text(value):
        out.notes.append(_text(value))
    elif name == "bday":
        _custom(out, BIRTHDAY_KEY in cf_keys and BIRTHDAY_KEY, _birthday(_text(value)), "BDAY")
    elif name == "url":
        _custom(out, next((k for k in URL_KEYS if k in cf_keys), None), _text(value), "URL")


def _birthday(text: str) -> str:
    """vCard dates: 1985-04-12, 19850412 or a timestamp; stored as an ISO date."""
    digits = re.sub(r"[^0-9]", "", text.split("T")[0])
    return f"{digits[:4]}-{digits[4:6]}-{digits[6:8]}" if len(digits) == 8 else text


def _custom(out: Parsed, key, value: str, prop: str) -> None:
    if key:
        out.data.setdefault("custom_fields", {})[key] = value
    else:
        out.warnings.append(f"{prop} skipped: no custom field to hold it.")


def _company(name: str, actor, warnings: list[str]) -> int | None:
    found = Company.objects.restrict(actor).filter(name__iexact=name).order_by("pk").first()
    if found is None:
        warnings.append(f"ORG {name!r} skipped: no such company.")
        return None
    return found.pk


@transaction.atomic
def import_cards(raw: bytes, *, actor) -> dict:
    """Create one contact per card; any bad card rolls all back (ValidationFailed keyed cards.N)."""
    require(actor, Contact, "add")
    blocks = split_cards(decode(raw))
    cf_keys = set(definitions("contact"))
    may_note = policy_for(actor).allows("activity", "add")
    created, warnings, errors = [], {}, {}
    for i, block in enumerate(blocks):
        try:
            with transaction.atomic():
                created.append(_import_one(block, actor, cf_keys, may_note, warnings.setdefault(f"cards.{i}", [])))
        except ValidationFailed as exc:
            for f, msg in (exc.fields or {"": exc.message}).items():
                errors[f"cards.{i}{'.' + f if f else ''}"] = msg
    if errors:
        raise ValidationFailed(errors, message="No contact was imported: fix the cards listed in fields.")
    return {"created": created, "warnings": {k: v for k, v in warnings.items() if v}}


def _import_one(block: str, actor, cf_keys: set[str], may_note: bool, warnings: list[str]) -> int:
    parsed = parse(block, cf_keys)
    warnings.extend(parsed.warnings)
    data = parsed.data
    org = data.pop("_org", "")
    if org:
        data["company_id"] = _company(org, actor, warnings)
    contact = contact_create(actor=actor, data=data).obj
    for note in parsed.notes:
        if not may_note:
            warnings.append("NOTE skipped: you may not add activities.")
            break
        try:
            activity_create(actor=actor, data={"kind": "note", "body": note[:100_000], "contact_id": contact.pk})
        except ServiceError as exc:
            raise ValidationFailed({"note": exc.message}) from None
    return contact.pk
