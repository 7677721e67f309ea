"""Merge two contacts or two companies: the survivor keeps the chosen values and every related record.

Related rows are found from the model's own relations (``_meta.related_objects`` and its many-to-many
fields), so a relation added later by another app is moved too, not silently dropped by the delete.
Rows that would collide with one the survivor already has (the same tag, the same deal, the same
email address) are dropped, since the survivor already holds the same fact. A moved record (an
activity, task, deal, contact ...) is updated as the record services would: version bumped, a
change-log entry ({"contact_id": [other, survivor]}) and an event; so is a record whose snapshot lists
a moved row (a deal's contacts, an activity's participants). All in bulk (records/services/moves.py):
a merge may move thousands of activities.

The merge, the field changes and the other record's full picture go into the change log; the other
record is then deleted through the normal delete path (its own delete entry, search index, events).
One transaction.
"""

from __future__ import annotations

from django.db import models, transaction

from crm.access import fieldrules
from crm.access.policy import policy_for
from crm.audit import changelog
from crm.audit.models import Action
from crm.core import events, recordtypes
from crm.core.errors import BadRequest, PermissionDenied, ValidationFailed
from crm.core.models import RecordModel
from crm.customization.validation import definitions
from crm.records.models import Company, CompanyDomain, Contact, ContactEmail, ContactPhone
from crm.records.services import common, links, moves
from crm.records.services import companies as company_service
from crm.records.services import contacts as contact_service
from crm.search import index as search_index

SIDES = ("survivor", "other")
CONSENT = ("email_opt_in", "email_opt_in_at", "email_opt_in_source")
# Rows unique per (record, value): the survivor's copy wins and the other's duplicate is dropped.
CHANNELS = {ContactEmail: "email", ContactPhone: "number", CompanyDomain: "domain"}


def contact_merge(survivor: Contact, other: Contact, *, actor, choices: dict | None = None) -> Contact:
    return _merge(survivor, other, actor=actor, choices=choices or {}, fields=contact_service.FIELDS)


def company_merge(survivor: Company, other: Company, *, actor, choices: dict | None = None) -> Company:
    return _merge(survivor, other, actor=actor, choices=choices or {}, fields=company_service.FIELDS)


@transaction.atomic
def _merge(survivor, other, *, actor, choices: dict, fields: tuple[str, ...]):
    model = type(survivor)
    if survivor.pk == other.pk:
        raise BadRequest("A record cannot be merged with itself.", fields={"other_id": "Same as survivor_id."})
    _check_access(model, actor, survivor, other)
    survivor = common.lock_for_update(survivor, version=None)
    other = common.lock_for_update(other, version=None)
    _check_choices(model, choices, fields)
    locked = _locked(model, actor, choices)
    _check_locked_channels(survivor, other, locked)
    before, other_picture = changelog.snapshot(survivor), changelog.snapshot(other)
    _pick_fields(survivor, other, choices, fields, locked)
    survivor.custom_fields = _pick_custom(survivor, other, choices, locked)
    common.full_clean(survivor)
    common.save_existing(survivor)
    moved = _move_related(model, survivor, other, actor)
    _pick_primaries(survivor, other_picture, choices, locked)
    survivor.refresh_from_db()
    common.ensure_visible(survivor, actor)
    changes = changelog.diff(before, changelog.snapshot(survivor))
    changes["merged"] = [None, {"id": other.pk, "name": str(other), "record": other_picture, "moved": moved}]
    changelog.log_event(actor, survivor, Action.MERGE, changes)
    changelog.log_event(actor, other, Action.MERGE, {"merged_into": [None, survivor.pk]})
    common.delete_record(model.objects.get(pk=other.pk), actor=actor)
    search_index.update(survivor)
    events.emit("record.updated", survivor, actor=actor, changes=changes)
    return survivor


def _check_access(model, actor, survivor, other) -> None:
    visible = model.objects.restrict(actor)
    for pk, key in ((survivor.pk, "survivor_id"), (other.pk, "other_id")):
        if not visible.filter(pk=pk).exists():
            raise ValidationFailed({key: f"No {model._meta.verbose_name} with id {pk}."})
    policy = policy_for(actor)
    for action in ("change", "delete"):
        if not policy.allows(model.object_type, action):
            raise PermissionDenied(f"Merging needs the {action} permission on {model._meta.verbose_name_plural}.")


def _check_choices(model, choices: dict, fields: tuple[str, ...]) -> None:
    if not isinstance(choices, dict):
        raise ValidationFailed({"choices": "Must be an object of field names to survivor or other."})
    allowed = set(fields) | {f"{f}_id" for f in fields} | {f"cf_{k}" for k in definitions(model.object_type)}
    allowed |= {"email", "phone"} if model is Contact else {"domain"}
    errors = {}
    for key, side in choices.items():
        if key not in allowed:
            errors[f"choices.{key}"] = "Unknown field."
        elif side not in SIDES:
            errors[f"choices.{key}"] = "Must be survivor or other."
    common.raise_if(errors)


def _locked(model, actor, choices: dict) -> frozenset[str]:
    """The fields hidden from or read-only for the actor's role (registry names, ``cf_<key>``): the
    survivor keeps its own value there, and a choice of the other's value is refused, since a merge
    must not write what the role may not set, nor let the user pick between values it may not see."""
    policy = policy_for(actor)
    locked = policy.hidden_fields(model.object_type) | policy.read_only_fields(model.object_type)
    if not locked:
        return locked
    rt = recordtypes.by_type(model.object_type)
    known = fieldrules.aliases(rt)
    errors = {}
    for key, side in choices.items():
        name = "email_opt_in" if key in CONSENT else fieldrules.field_of(rt, key, known)
        if name in locked and side == "other":
            hidden = name in policy.hidden_fields(model.object_type)
            errors[f"choices.{key}"] = fieldrules.HIDDEN_MESSAGE if hidden else fieldrules.READ_MESSAGE
    if errors:
        raise ValidationFailed(errors, "Your role may not choose the values of some of these fields.")
    return locked


def _check_locked_channels(survivor, other, locked: frozenset[str]) -> None:
    """Extra emails, phones or domains are rows of their own that a merge moves to the survivor. Where
    the field is hidden from or read-only for the actor, moving the other's values would change it, and
    deleting the other record would lose them: refused while the other holds a value the survivor lacks
    (its copies of the survivor's values are simply dropped)."""
    errors = {}
    for related, column in CHANNELS.items():
        key = "phone" if column == "number" else column
        if key not in locked or _fk_to_or_none(related, type(survivor)) is None:
            continue
        fk = _fk_to(related, type(survivor))
        mine = related.objects.filter(**{fk: survivor.pk}).values(column)
        if related.objects.filter(**{fk: other.pk}).exclude(**{f"{column}__in": mine}).exists():
            words = {"email": "email addresses", "phone": "phone numbers", "domain": "domains"}[key]
            errors["other_id"] = (
                f"The other record has {words} your role may not change: merging "
                "would move them onto the survivor. Ask someone whose role may change them to merge."
            )
    common.raise_if(errors)


def _fk_to_or_none(related, model) -> str | None:
    return next((f.name for f in related._meta.fields if f.is_relation and f.related_model is model), None)


def _side(choices: dict, name: str) -> str | None:
    return choices.get(name) or choices.get(f"{name}_id")


def _blank(value) -> bool:
    return value in (None, "")


def _pick_fields(survivor, other, choices: dict, fields: tuple[str, ...], locked=frozenset()) -> None:
    """A chosen side wins; otherwise the survivor's value, or the other's where the survivor has none.
    A ``locked`` field (hidden or read-only for the actor) keeps the survivor's value."""
    for name in fields:
        attname = survivor._meta.get_field(name).attname
        if name in CONSENT or name in locked:
            continue
        side = _side(choices, name)
        mine, theirs = getattr(survivor, attname), getattr(other, attname)
        if side == "other" or (side is None and _blank(mine) and not _blank(theirs)):
            setattr(survivor, attname, theirs)
    if isinstance(survivor, Company) and survivor.parent_id == survivor.pk:
        survivor.parent_id = None  # the survivor was the other's child (or chose the other's parent: itself)
    if isinstance(survivor, Company) and survivor.parent_id == other.pk:
        survivor.parent_id = other.parent_id if other.parent_id != survivor.pk else None
    if isinstance(survivor, Contact) and "email_opt_in" not in locked:
        _pick_consent(survivor, other, choices)
    if isinstance(survivor, Contact):
        survivor.name = f"{survivor.first_name} {survivor.last_name}".strip()


def _pick_consent(survivor: Contact, other: Contact, choices: dict) -> None:
    """Consent moves as a whole (flag, time, source): the other's applies when chosen, or when only
    the other has given it."""
    side = next((choices[k] for k in CONSENT if k in choices), None)
    if side == "other" or (side is None and not survivor.email_opt_in and other.email_opt_in):
        for name in CONSENT:
            setattr(survivor, name, getattr(other, name))


def _pick_custom(survivor, other, choices: dict, locked=frozenset()) -> dict:
    values = dict(survivor.custom_fields or {})
    for key, value in (other.custom_fields or {}).items():
        if f"cf_{key}" in locked:
            continue
        side = choices.get(f"cf_{key}")
        if side == "other" or (side is None and values.get(key) in (None, "", [])):
            values[key] = value
    return values


def _move_related(model, survivor, other, actor) -> dict[str, int]:
    """Point every row that references ``other`` at ``survivor``; counts per relation, for the log."""
    moved = {}
    for rel in model._meta.related_objects:
        if rel.many_to_many:
            through = rel.through
            if not through._meta.auto_created:
                continue  # an explicit through model (DealContact) is also a one-to-many relation: moved there
            fk = _fk_to(through, model)
            count = _move_rows(through, fk, survivor, other, actor)
        elif (rel.one_to_many or rel.one_to_one) and issubclass(rel.related_model, RecordModel):
            # A company's children: never make the survivor its own child.
            keep = survivor.pk if rel.related_model is model else None
            count = moves.move_many(
                rel.related_model, rel.field.name, other.pk, survivor.pk, actor=actor, exclude_pk=keep
            )
        elif rel.one_to_many or rel.one_to_one:
            count = _move_rows(rel.related_model, rel.field.name, survivor, other, actor)
        else:
            continue
        if count:
            moved[f"{rel.related_model._meta.label_lower}.{rel.field.name}"] = count
    moved |= links.move(model.object_type, other.pk, survivor.pk, actor=actor)  # activities', tasks' links
    for field in model._meta.many_to_many:  # the record's own tags
        through = field.remote_field.through
        count = _move_rows(through, field.m2m_field_name(), survivor, other, actor)
        if count:
            moved[field.name] = count
    return moved


def _fk_to(through, model) -> str:
    return next(f.name for f in through._meta.fields if f.is_relation and f.related_model is model)


def _move_rows(related, fk: str, survivor, other, actor) -> int:
    """Rows that are not records (emails, tag links, a deal's contact roles): moved with one update;
    the records that list them in their snapshot are logged by moves.log_changed."""
    qs = related.objects.filter(**{fk: other.pk})
    holders = _holders(related, fk, qs, survivor, other)
    for unique_with in _unique_partners(related, fk):
        taken = related.objects.filter(**{fk: survivor.pk}).values(unique_with)
        qs.filter(**{f"{unique_with}__in": taken}).delete()
    # The survivor's own primary email/phone stays primary (_pick_primaries settles it afterwards).
    extra = {"is_primary": False} if related in (ContactEmail, ContactPhone) else {}
    count = qs.update(**{fk: survivor.pk}, **extra)
    for holder, before in holders:
        moves.log_changed(holder, before, actor=actor)
    return count


def _holders(related, fk: str, qs, survivor, other) -> list[tuple[type, dict]]:
    """The other records the rows about to move belong to (DealContact: deals; the participants link:
    activities), each with its snapshot before the move. The survivor and the other record are left
    out: the merge entry and the delete log them."""
    out = []
    for f in related._meta.fields:
        if f.is_relation and f.name != fk and issubclass(f.related_model, RecordModel):
            pks = set(qs.values_list(f.attname, flat=True)) - {None}
            if f.related_model is type(survivor):
                pks -= {survivor.pk, other.pk}
            if pks:
                out.append((f.related_model, moves.before_of(f.related_model, pks)))
    return out


def _unique_partners(related, fk: str) -> list[str]:
    """The other columns of each unique (fk, column) pair on ``related``: those rows would collide."""
    sets = [tuple(c.fields) for c in related._meta.constraints if isinstance(c, models.UniqueConstraint)]
    sets += [tuple(u) for u in related._meta.unique_together]
    partners = [next(f for f in s if f != fk) for s in sets if len(s) == 2 and fk in s]
    if related in CHANNELS:
        partners.append(CHANNELS[related])
    return list(dict.fromkeys(partners))


def _pick_primaries(survivor, other_picture: dict, choices: dict, locked=frozenset()) -> None:
    """Keep the survivor's primary email/phone/domain unless the other's was chosen (or it had none).
    A ``locked`` one stays the survivor's: the other had no value of it the survivor lacks
    (_check_locked_channels), so nothing the role may not change moves over."""
    if isinstance(survivor, Contact):
        for related, key, column in ((ContactEmail, "email", "email"), (ContactPhone, "phone", "number")):
            theirs = None if key in locked else other_picture.get(key)
            _primary(survivor, related, column, key, theirs, choices, keep=key in locked)
    else:
        theirs = None if "domain" in locked else other_picture.get("domain")
        _primary(survivor, CompanyDomain, "domain", "domain", theirs, choices, flag=False, keep="domain" in locked)


def _primary(survivor, related, column, key, theirs, choices: dict, flag: bool = True, keep: bool = False) -> None:
    rows = related.objects.filter(**{_fk_to(related, type(survivor)): survivor.pk})
    mine = getattr(survivor, key)
    value = theirs if theirs and (choices.get(key) == "other" or not mine) else mine
    if not value and rows.exists() and not keep:
        value = getattr(rows.order_by("id").first(), column)
    if flag:
        rows.update(is_primary=False)
        rows.filter(**{column: value}).update(is_primary=True)
    type(survivor).objects.filter(pk=survivor.pk).update(**{key: value or ""})
