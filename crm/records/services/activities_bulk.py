"""Many activities in a few statements (imports of call logs and notes, the demo's timeline):
``activity_create``'s rules for each, with the lookups (owners, linked records, participants) made
once per batch instead of once per row."""

from __future__ import annotations

from crm.core.errors import ValidationFailed
from crm.customization.validation import clean_custom_fields
from crm.records.models import Activity, Contact
from crm.records.services import bulk, links
from crm.records.services.activities import ACTIVITY_FIELDS

CHECKED = "_checked"  # what the batch-wide checks found for an item: its links, participants, errors


def activity_create_many(*, actor, items: list[dict]) -> list[Activity | ValidationFailed]:
    """Each slot of the result is the new activity or the ValidationFailed that kept it out. Run
    inside the caller's transaction."""
    items = [dict(d) for d in items]
    errors: list[dict] = [{} for _ in items]
    pairs = links.wanted_many(items, actor, errors, Activity)
    people = _participants(items, actor, errors)
    for data, found in zip(items, zip(pairs, people, errors, strict=True), strict=True):
        data[CHECKED] = found
    results, built = bulk.create_many(actor, Activity, items, _build)
    made = [(b[1], b[3], b[4]) for b in built]
    links.insert_many(Activity, [(a, p) for a, p, _ in made])
    through = Activity.participants.through
    through.objects.bulk_create([through(activity=a, contact=c) for a, _, cs in made for c in cs], batch_size=500)
    extras = [
        {"participants": sorted(c.pk for c in cs), "links": sorted(f"{t}:{pk}" for t, pk in p)} for _, p, cs in made
    ]
    bulk.finish(actor, [a for a, _, _ in made], extras)
    return results


def _participants(items: list[dict], actor, errors: list[dict]) -> list[list[Contact]]:
    """Each item's ``participant_ids`` as contacts the actor can see: one query for the batch."""
    wanted = [d.pop("participant_ids", None) or [] for d in items]
    for n, group in enumerate(wanted):
        if not isinstance(group, list | tuple):
            errors[n]["participant_ids"] = "Must be a list of contact ids."
            wanted[n] = []
    ids = {i for group in wanted for i in group if isinstance(i, int) and not isinstance(i, bool)}
    seen = {c.pk: c for c in Contact.objects.restrict(actor).filter(pk__in=ids)}
    out = []
    for group, err in zip(wanted, errors, strict=True):
        missing = [i for i in group if i not in seen]
        if missing:
            err["participant_ids"] = f"No contacts with ids {sorted(missing, key=str)}."
        out.append([seen[i] for i in dict.fromkeys(group) if i in seen])
    return out


def _build(batch: bulk.Batch, data: dict, errors: dict):
    """One item: assigned and validated, not saved; (activity, tags, links, participants)."""
    pairs, people, found = data.pop(CHECKED)
    errors.update(found)
    activity = bulk.new(Activity, owner_id=data.pop("owner_id", None), **batch.stamps)
    for name in ACTIVITY_FIELDS:
        if name in data and name != "owner":
            setattr(activity, name, data[name])
    try:
        activity.custom_fields = clean_custom_fields("activity", data.get("custom_fields"), defs=batch.defs)
    except ValidationFailed as exc:
        errors.update(exc.fields)
    errors.update({k: v for k, v in bulk.clean(activity).items() if k not in errors})
    return activity, [], pairs, people
