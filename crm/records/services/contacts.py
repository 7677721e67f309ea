"""Contacts: several emails and phones (one primary each), past companies, consent."""

from __future__ import annotations

from types import SimpleNamespace

from django.db import transaction
from django.utils import timezone

from crm.audit import changelog
from crm.core import rawinsert
from crm.core.errors import ValidationFailed
from crm.core.normalize import InvalidValue, normalize_email, normalize_phone
from crm.customization.validation import clean_custom_fields
from crm.privacy import blocklist
from crm.records.models import Company, Contact, ContactEmail, ContactPhone, PastCompany
from crm.records.services import bulk, common
from crm.records.services.duplicates import contact_duplicates

FIELDS = (
    "first_name",
    "last_name",
    "title",
    "company",
    "owner",
    "lifecycle_stage",
    "source",
    "email_opt_in",
    "email_opt_in_at",
    "email_opt_in_source",
    "street",
    "city",
    "region",
    "postal_code",
    "country",
)


def _channels(data: dict, obj: Contact | None, errors: dict, *, key: str, single: str, value_key: str, fn):
    """Normalize a list of {value, kind, primary} items; a bare `email`/`phone` replaces the primary."""
    items = data.pop(key, None)
    from_single = False  # the first item is the bare `email`/`phone` value: errors name that field
    if single in data:
        primary = data.pop(single)
        if items is None:
            from_single = bool(primary)
            rest = (
                []
                if obj is None
                else [
                    {value_key: getattr(c, value_key), "kind": c.kind}
                    for c in getattr(obj, key).all()
                    if not c.is_primary
                ]
            )
            items = ([{value_key: primary, "kind": "work", "primary": True}] if primary else []) + rest
    if items is None:
        return None
    out = []
    for i, item in enumerate(items):
        if isinstance(item, str):
            item = {value_key: item}
        try:
            value = fn(item.get(value_key) or "")
        except InvalidValue as exc:
            errors[single if from_single and i == 0 else f"{key}.{i}"] = str(exc)
            continue
        if value not in [o[value_key] for o in out]:
            out.append({value_key: value, "kind": item.get("kind") or "work", "primary": bool(item.get("primary"))})
    if out and not any(o["primary"] for o in out):
        out[0]["primary"] = True
    first = next((o for o in out if o["primary"]), None)
    for o in out:
        o["primary"] = o is first
    return out


# The contact rules, written once for contact_create/contact_update and the bulk path (imports).


def _channels_of(data: dict, obj: Contact | None, errors: dict):
    """The normalized emails and phones the data sets (None: left as they are)."""
    emails = _channels(data, obj, errors, key="emails", single="email", value_key="email", fn=normalize_email)
    phones = _channels(data, obj, errors, key="phones", single="phone", value_key="number", fn=normalize_phone)
    return emails, phones


def _consent(data: dict, obj: Contact | None) -> None:
    """Opting in records when (unless the time is given or the contact already was); opting out clears it."""
    if data.get("email_opt_in") and not data.get("email_opt_in_at") and not (obj and obj.email_opt_in):
        data["email_opt_in_at"] = timezone.now()
    if data.get("email_opt_in") is False:
        data["email_opt_in_at"] = None


def _primaries(contact: Contact, emails, phones) -> None:
    """The contact row carries its primary email and phone (for lists, sort and search)."""
    if emails is not None:
        contact.email = next((e["email"] for e in emails if e["primary"]), "")
    if phones is not None:
        contact.phone = next((p["number"] for p in phones if p["primary"]), "")


def _identity_errors(contact: Contact) -> dict:
    if contact.name or contact.email or contact.phone:
        return {}
    return {"first_name": "A contact needs a name, an email or a phone."}


def _prepare(data: dict, actor, obj: Contact | None):
    data = dict(data)
    errors: dict[str, str] = {}
    emails, phones = _channels_of(data, obj, errors)
    common.resolve_related(data, "company", Company, actor, errors)
    common.resolve_user(data, "owner", errors)
    common.raise_if(errors)
    _consent(data, obj)
    return data, emails, phones


def _apply(contact: Contact, data: dict) -> None:
    common.assign(contact, data, FIELDS)
    contact.name = f"{contact.first_name} {contact.last_name}".strip()


def _set_channels(contact: Contact, emails, phones) -> None:
    if emails is not None:
        contact.emails.all().delete()
        ContactEmail.objects.bulk_create(
            [ContactEmail(contact=contact, email=e["email"], kind=e["kind"], is_primary=e["primary"]) for e in emails]
        )
    if phones is not None:
        contact.phones.all().delete()
        ContactPhone.objects.bulk_create(
            [ContactPhone(contact=contact, number=p["number"], kind=p["kind"], is_primary=p["primary"]) for p in phones]
        )
    _primaries(contact, emails, phones)
    if emails is not None or phones is not None:
        contact.save(update_fields=["email", "phone"])


def _validate(contact: Contact) -> None:
    common.raise_if(_identity_errors(contact))
    common.full_clean(contact)


@transaction.atomic
def contact_create(*, actor, data: dict) -> common.Saved:
    common.require(actor, Contact, "add", data)
    data, emails, phones = _prepare({"owner_id": actor.pk, **data}, actor, None)
    blocklist.refuse([e["email"] for e in emails or []], [p["number"] for p in phones or []])
    contact = Contact()
    _apply(contact, data)
    _primaries(contact, emails or [], phones or [])
    common.apply_custom_fields(contact, data, creating=True)
    _validate(contact)
    common.save_new(contact, actor=actor)
    _set_channels(contact, emails, phones)
    common.set_tags(contact, data.get("tags"))
    common.finish_create(contact, actor)
    return common.Saved(contact, contact_duplicates(actor, contact))


@transaction.atomic
def contact_update(contact: Contact, *, actor, data: dict, version: int | None = None) -> common.Saved:
    contact = common.lock_for_write(contact, actor=actor, action="change", version=version, data=data)
    before = changelog.snapshot(contact)
    old_company_id = contact.company_id
    data, emails, phones = _prepare(data, actor, contact)
    if emails or phones:  # only the channels the update sets; the ones the contact holds are not new
        blocklist.refuse([e["email"] for e in emails or []], [p["number"] for p in phones or []], held=_held(contact))
    _apply(contact, data)
    common.apply_custom_fields(contact, data, creating=False)
    _primaries(contact, emails, phones)
    _validate(contact)
    common.save_existing(contact)
    _set_channels(contact, emails, phones)
    common.set_tags(contact, data.get("tags"))
    if old_company_id and old_company_id != contact.company_id:
        PastCompany.objects.create(
            contact=contact, company_id=old_company_id, title=before.get("title", ""), ended_at=timezone.now()
        )
    common.finish_update(contact, actor, before)
    return common.Saved(contact)


def _held(contact: Contact) -> set[str]:
    """The emails and phones the contact has now (an update may keep them, blocked or not)."""
    return {
        *contact.emails.values_list("email", flat=True),
        *contact.phones.values_list("number", flat=True),
        contact.email,
        contact.phone,
    }


@transaction.atomic
def contact_delete(contact: Contact, *, actor, version: int | None = None) -> None:
    common.delete_record(contact, actor=actor, version=version)


def contact_create_many(*, actor, items: list[dict]) -> list[Contact | ValidationFailed]:
    """Create many contacts in a few statements (imports). Each slot of the result is the new contact
    or the ValidationFailed that kept it out; the rules are contact_create's (possible duplicates
    are not looked up: an import matches on email itself). Run inside the caller's transaction."""
    results, built = bulk.create_many(actor, Contact, items, _build, related=[("company", Company)])
    rawinsert.insert(
        ContactEmail,
        ("contact_id", "email", "kind", "is_primary"),
        ((c.pk, e["email"], e["kind"], e["primary"]) for _, c, _, es, _ in built for e in es),
    )
    rawinsert.insert(
        ContactPhone,
        ("contact_id", "number", "kind", "is_primary"),
        ((c.pk, p["number"], p["kind"], p["primary"]) for _, c, _, _, ps in built for p in ps),
    )
    bulk.finish(
        actor,
        [b[1] for b in built],
        extras=[
            {
                "tags": sorted(t.name for t in tags),
                "emails": [f"{e['email']} ({e['kind']})" for e in emails],
                "phones": [f"{p['number']} ({p['kind']})" for p in phones],
            }
            for _, _, tags, emails, phones in built
        ],
        prefetched=[
            {
                "emails": [SimpleNamespace(email=e["email"], kind=e["kind"]) for e in emails],
                "phones": [SimpleNamespace(number=p["number"], kind=p["kind"]) for p in phones],
            }
            for _, _, _, emails, phones in built
        ],
    )
    return results


def _build(batch: bulk.Batch, data: dict, errors: dict):
    """One item of contact_create_many: normalized, validated, not saved."""
    emails, phones = _channels_of(data, None, errors)
    emails, phones = emails or [], phones or []
    errors.update(blocklist.errors([e["email"] for e in emails], [p["number"] for p in phones], batch=batch))
    _consent(data, None)
    contact = bulk.new(
        Contact, owner_id=data.pop("owner_id", None), company_id=data.pop("company_id", None), **batch.stamps
    )
    _apply(contact, {k: v for k, v in data.items() if k not in ("owner", "company")})
    _primaries(contact, emails, phones)
    tags = []
    try:
        contact.custom_fields = clean_custom_fields("contact", data.get("custom_fields"), defs=batch.defs)
        tags = batch.tag_objects(data.get("tags"))
    except ValidationFailed as exc:
        errors.update(exc.fields)
    for name, message in _identity_errors(contact).items():
        errors.setdefault(name, message)
    errors.update({k: v for k, v in bulk.clean(contact).items() if k not in errors})
    return contact, tags, emails, phones
