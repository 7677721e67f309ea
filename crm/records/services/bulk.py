"""Creating and deleting many records in a few statements (imports, undo), with the same rules as
one at a time: permissions, validation, visibility after the write, search index, change log, events.

The per-record services check an owner, a related record or a tag with a query each; here each of
those is read once per batch. A record that fails validation is reported in its slot of the result
and the others are still written (the caller decides what a failure means for its batch).
"""

from __future__ import annotations

import datetime as dt
from operator import attrgetter
from types import SimpleNamespace

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.base import ModelState

from crm.audit import changelog
from crm.core import clock, events, rawinsert
from crm.core.bounds import out_of_bounds
from crm.core.errors import ValidationFailed
from crm.customization.validation import definitions
from crm.records.models import Tag
from crm.records.services import common, links
from crm.sales import kept
from crm.search import index as search_index

FK_EXCLUDED = ("owner", "company", "parent")  # checked once per batch, not by full_clean per record
INVISIBLE = "You may not save a record you would not be able to see (check the owner)."


class Batch:
    """Lookups shared by every item of one bulk call."""

    def __init__(self, actor, model):
        self.actor, self.model = actor, model
        now = clock.now()
        self.stamps = {"created_at": now, "updated_at": now}  # for new(): one clock read per batch
        self.defs = definitions(model.object_type)
        self.tags: dict[str, Tag] = {}

    def users(self, items: list[dict], errors: list[dict]) -> None:
        """Replace owner_id by the active user, or record an error for the item."""
        ids = {d["owner_id"] for d in items if isinstance(d.get("owner_id"), int)}
        active = set(get_user_model().objects.filter(pk__in=ids, is_active=True).values_list("pk", flat=True))
        for data, err in zip(items, errors, strict=True):
            if "owner_id" in data and data["owner_id"] is not None and data["owner_id"] not in active:
                err["owner_id"] = f"No active user with id {data['owner_id']}."

    def related(self, items: list[dict], errors: list[dict], key: str, model) -> None:
        """``<key>_id`` must name a record the actor can see."""
        id_key = f"{key}_id"
        ids = {d[id_key] for d in items if isinstance(d.get(id_key), int)}
        seen = set(model.objects.restrict(self.actor, "view").filter(pk__in=ids).values_list("pk", flat=True))
        for data, err in zip(items, errors, strict=True):
            if data.get(id_key) is not None and data[id_key] not in seen:
                err[id_key] = f"No {model._meta.verbose_name} with id {data[id_key]}."

    def tag_objects(self, names: list[str] | None) -> list[Tag]:
        out = []
        for raw in dict.fromkeys(n.strip() for n in names or [] if n and n.strip()):
            if len(raw) > 50:
                raise ValidationFailed({"tags": f"Tag {raw[:20]!r}… is longer than 50 characters."})
            key = raw.lower()
            if key not in self.tags:
                self.tags[key] = Tag.objects.filter(name__iexact=raw).first() or Tag.objects.create(name=raw)
            out.append(self.tags[key])
        return out


def new(model, **values):
    """``model(**values)`` for a bulk path: the same defaults, without Model.__init__'s per-field work
    (about 14 µs a record, a sixth of an imported contact). ``values`` are keyed by attribute name
    (``owner_id``); no model here has init signals."""
    fixed, made = _DEFAULTS.get(model) or _defaults(model)
    obj = model.__new__(model)
    obj.__dict__.update(fixed)
    for attname, default in made:
        if attname not in values:
            obj.__dict__[attname] = default()
    obj.__dict__.update(values)
    obj._state = ModelState()
    return obj


_DEFAULTS: dict[type, tuple[dict, list]] = {}


def _defaults(model) -> tuple[dict, list]:
    fixed, made = {}, []
    for f in model._meta.concrete_fields:
        if f.has_default() and callable(f.default):
            made.append((f.attname, f.default))  # a new dict, the time now: one per record
        else:
            fixed[f.attname] = f.get_default()
    _DEFAULTS[model] = fixed, made
    return fixed, made


def clean(obj) -> dict:
    """full_clean without the foreign keys (read once per batch instead); messages per field.
    Text, flags, times and JSON that plainly pass are checked here in a few microseconds; anything
    else goes to Django's full_clean, so the messages are Django's."""
    errors = {}
    if not _plainly_valid(obj):
        try:
            obj.full_clean(exclude=FK_EXCLUDED, validate_unique=False, validate_constraints=False)
        except ValidationError as exc:
            errors = {k: " ".join(v) for k, v in exc.message_dict.items()}
    return errors | out_of_bounds(obj, skip=errors)  # the declared bounds (crm/core/bounds.py)


def _plainly_valid(obj) -> bool:
    for f, kind, allowed in _checks(type(obj)):
        value = getattr(obj, f.attname)
        if kind == "text":
            if not isinstance(value, str) or (f.max_length and len(value) > f.max_length):
                return False
            if (not value and not f.blank) or (value and allowed is not None and value not in allowed):
                return False
        elif kind == "flag" and not isinstance(value, bool):
            return False
        elif kind == "time" and value is not None and not isinstance(value, dt.datetime):
            return False
        elif kind == "json" and not isinstance(value, dict):
            return False
        elif kind == "other" and not (value in (None, "") and f.blank):
            return False  # a URL, an amount...: Django's own checks
    return True


_CHECKS: dict[type, list] = {}


def _checks(model) -> list:
    if model not in _CHECKS:
        out = []
        for f in model._meta.concrete_fields:
            if f.primary_key or f.name in FK_EXCLUDED or f.name in ("version", "created_at", "updated_at"):
                continue
            if isinstance(f, models.CharField | models.TextField) and not isinstance(f, models.URLField):
                out.append((f, "text", {str(k) for k, _ in f.flatchoices} if f.choices else None))
            elif isinstance(f, models.BooleanField):
                out.append((f, "flag", None))
            elif isinstance(f, models.DateTimeField):
                out.append((f, "time", None))
            elif isinstance(f, models.JSONField):
                out.append((f, "json", None))
            else:
                out.append((f, "other", None))
        _CHECKS[model] = out
    return _CHECKS[model]


def insert(model, objs: list[models.Model]) -> list[models.Model]:
    """Insert new records (ids taken up front, set on the objects); returns them."""
    now = clock.now()
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    names = ["id", *(f.attname for f in fields)]
    for obj, pk in zip(objs, rawinsert.next_ids(model, len(objs)), strict=True):
        obj.pk, obj.created_at, obj.updated_at, obj.version = pk, now, now, 1
        obj._state.adding = False
    rawinsert.insert(model, names, map(attrgetter(*names), objs))
    kept.inserted(model, [o.pk for o in objs])  # no signal per row: the sales sums are told here
    return objs


def create_many(actor, model, items: list[dict], build, *, related=()) -> tuple[list, list[tuple]]:
    """What every <type>_create_many shares: the permission, each item built and checked by
    ``build(batch, data, errors) -> (record, tags, *more)``, the records that passed inserted with
    their tags. Returns the result slots (record or ValidationFailed) and, for each record written,
    (slot, record, tags, *more) for the caller's own rows."""
    common.require(actor, model, "add")
    batch = Batch(actor, model)
    errors: list[dict] = [{} for _ in items]
    for data, item_errors in zip(items, errors, strict=True):  # the role's field rules, item by item
        try:
            common.guard_fields(actor, model.object_type, data)
        except ValidationFailed as exc:
            item_errors.update(exc.fields)
    items = [{"owner_id": actor.pk, **d} for d in items]
    batch.users(items, errors)
    for key, related_model in related:
        batch.related(items, errors, key, related_model)
    built = []
    for i, data in enumerate(items):
        made = build(batch, dict(data), errors[i])
        if not errors[i]:
            built.append((i, *made))
    results: list = [ValidationFailed(e) if e else None for e in errors]
    built = write_new(actor, model, built, results)
    set_tags(model, [b[1] for b in built], [b[2] for b in built])
    for slot, record, *_ in built:
        results[slot] = record
    return results, built


def write_new(actor, model, built: list[tuple], results: list) -> list[tuple]:
    """Insert the built records (``built``: tuples of (slot, record, ...)). Records the actor could not
    see afterwards are removed again and reported in their slot of ``results`` (contact_create rolls
    back the same way); returns the tuples that stay."""
    insert(model, [b[1] for b in built])
    hidden = invisible(actor, model, [b[1] for b in built])
    if not hidden:
        return built
    model.objects.filter(pk__in=hidden).delete()  # nothing points at them yet
    for slot, record, *_ in built:
        if record.pk in hidden:
            results[slot] = ValidationFailed({"owner_id": INVISIBLE})
    return [b for b in built if b[1].pk not in hidden]


def invisible(actor, model, objs: list[models.Model]) -> set[int]:
    """Records the actor could not see after the write (the one-at-a-time rule in common.ensure_visible)."""
    if not objs:
        return set()
    pks = [o.pk for o in objs]
    seen = set(model.objects.restrict(actor, "view").filter(pk__in=pks).values_list("pk", flat=True))
    return set(pks) - seen


def set_tags(model, objs: list[models.Model], tags: list[list[Tag]]) -> None:
    if not hasattr(model, "tags"):  # activities are not tagged
        return
    fk = f"{model._meta.model_name}_id"
    rows = ((o.pk, t.pk) for o, ts in zip(objs, tags, strict=True) for t in ts)
    rawinsert.insert(model.tags.through, (fk, "tag_id"), rows)


def finish(actor, objs: list[models.Model], extras: list[dict], prefetched: list[dict] | None = None) -> None:
    """Search index, change log and one record.created event per record, as finish_create does.
    ``prefetched``: per record, the related lists the search text reads (known without a query)."""
    for obj, lists in zip(objs, prefetched or [], strict=False):
        obj._prefetched_objects_cache = lists
    search_index.update_many(objs)
    for obj in objs if prefetched else []:
        del obj._prefetched_objects_cache
    changes = changelog.log_bulk_create(actor, objs, extras)
    events.emit_many("record.created", objs, actor=actor, changes=changes)


def delete_many(model, pks: list[int], *, actor, force: bool = False) -> int:
    """Delete records (those the actor may delete) with a change log entry each; returns how many.
    ``force``: the system takes back rows it wrote itself (a failed import), whoever the actor is."""
    qs = model.objects.all() if force else model.objects.restrict(actor, "delete")
    objs = list(qs.filter(pk__in=pks))
    if not objs:
        return 0
    _preload_related(model, objs)
    befores = [changelog.snapshot(o) for o in objs]
    search_index.remove_many(objs)
    changes = changelog.log_bulk_delete(actor, objs, befores)
    links.unlink(model.object_type, [o.pk for o in objs])
    model.objects.filter(pk__in=[o.pk for o in objs]).delete()
    events.emit_many("record.deleted", objs, actor=actor, changes=changes)
    return len(objs)


def _preload_related(model, objs: list[models.Model]) -> None:
    """Fill what extra_snapshot reads (tags, emails, phones, domains) with one query per relation,
    as plain lists: prefetch_related's per-record querysets cost more than the query."""
    by_pk = {o.pk: o for o in objs}
    for o in objs:
        o._prefetched_objects_cache = {}
    names = {f.name: f for f in model._meta.get_fields()}
    for name in ("emails", "phones", "domains"):
        if name in names:
            rel = names[name]
            for item in rel.related_model.objects.filter(**{f"{rel.field.attname}__in": list(by_pk)}):
                by_pk[getattr(item, rel.field.attname)]._prefetched_objects_cache.setdefault(name, []).append(item)
    if "tags" in names:
        fk = f"{model._meta.model_name}_id"
        pairs = model.tags.through.objects.filter(**{f"{fk}__in": list(by_pk)}).values_list(fk, "tag__name")
        for pk, tag in pairs:
            by_pk[pk]._prefetched_objects_cache.setdefault("tags", []).append(SimpleNamespace(name=tag))
    for o in objs:
        for name in ("emails", "phones", "domains", "tags"):
            if name in names:
                o._prefetched_objects_cache.setdefault(name, [])
