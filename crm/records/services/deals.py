"""Deals in pipelines. ``deal_move_stage`` is the one place a stage changes: history,
probability, won/lost status and the change log are kept there, for every caller."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction

from crm.audit import changelog
from crm.core import clock, events
from crm.core.errors import ValidationFailed
from crm.money import currencies
from crm.records.models import Company, Contact, Deal, DealContact, DealStatus, Pipeline, Stage, StageChange
from crm.records.services import common

FIELDS = ("name", "amount", "currency", "company", "expected_close_date", "owner", "lost_reason")
ROLES = {r for r, _ in DealContact.ROLES}


def _id(data: dict, key: str, errors: dict) -> int | None:
    """data[key] as an int id; a malformed one is a field error (the ORM would raise ValueError: a 500)."""
    value = data.pop(key, None)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        errors[key] = f"Must be a {key.removesuffix('_id')} id (a whole number)."
    return value


def _stage_for(data: dict, deal: Deal | None, errors: dict) -> Stage | None:
    """The stage the data asks for (stage_id, or pipeline_id's first stage), or None for no change."""
    stage_id, pipeline_id = _id(data, "stage_id", errors), _id(data, "pipeline_id", errors)
    if "stage_id" in errors or "pipeline_id" in errors:
        return None
    if stage_id is not None:
        stage = Stage.objects.select_related("pipeline").filter(pk=stage_id).first()
        if stage is None:
            errors["stage_id"] = f"No stage with id {stage_id}."
        elif pipeline_id is not None and stage.pipeline_id != pipeline_id:
            errors["stage_id"] = "The stage is not in the given pipeline."
        return stage
    if pipeline_id is not None and (deal is None or deal.pipeline_id != pipeline_id):
        pipeline = Pipeline.objects.filter(pk=pipeline_id).first()
        if pipeline is None:
            errors["pipeline_id"] = f"No pipeline with id {pipeline_id}."
            return None
        return _first_stage(pipeline, errors)
    if deal is None:
        pipeline = Pipeline.objects.order_by("-is_default", "order", "id").first()
        if pipeline is None:
            errors["pipeline_id"] = "There is no pipeline yet: an admin must create one."
            return None
        return _first_stage(pipeline, errors)
    return None


def _first_stage(pipeline: Pipeline, errors: dict) -> Stage | None:
    stage = pipeline.stages.filter(is_won=False, is_lost=False).order_by("order", "id").first()
    if stage is None:
        errors["pipeline_id"] = f"Pipeline {pipeline.name!r} has no open stage."
    return stage


def _contacts(data: dict, actor, errors: dict) -> list[tuple[Contact, str]] | None:
    items = data.pop("contacts", None)
    if items is None:
        return None
    out = []
    visible = Contact.objects.restrict(actor)
    for i, item in enumerate(items):
        role = item.get("role") or "other"
        contact = visible.filter(pk=item.get("contact_id")).first() if isinstance(item.get("contact_id"), int) else None
        if contact is None:
            errors[f"contacts.{i}.contact_id"] = f"No contact with id {item.get('contact_id')}."
        elif role not in ROLES:
            errors[f"contacts.{i}.role"] = f"Must be one of: {', '.join(sorted(ROLES))}."
        else:
            out.append((contact, role))
    return out


def _prepare(data: dict, actor, deal: Deal | None):
    data = dict(data)
    errors: dict[str, str] = {}
    stage = _stage_for(data, deal, errors)
    contacts = _contacts(data, actor, errors)
    common.resolve_related(data, "company", Company, actor, errors)
    common.resolve_user(data, "owner", errors)
    if "currency" in data:
        data["currency"] = (data["currency"] or settings.DEFAULT_CURRENCY).upper()
        _check_currency(data["currency"], deal, errors)
    common.raise_if(errors)
    return data, stage, contacts


def _check_currency(code: str, deal: Deal | None, errors: dict) -> None:
    """A new currency must be enabled (crm.money); a deal keeping the one it has (disabled since) may
    still be edited."""
    if deal is not None and deal.currency == code:
        return
    try:
        currencies.require_currency(code)
    except DjangoValidationError as exc:
        errors["currency"] = exc.messages[0]


def _set_contacts(deal: Deal, contacts) -> None:
    if contacts is None:
        return
    deal.deal_contacts.all().delete()
    DealContact.objects.bulk_create([DealContact(deal=deal, contact=c, role=r) for c, r in dict(contacts).items()])


def _apply_stage(deal: Deal, stage: Stage, *, actor, lost_reason: str | None) -> None:
    """Put the deal in ``stage`` and record the move (the deal is saved by the caller)."""
    if lost_reason is not None:
        deal.lost_reason = lost_reason
    if stage.is_lost and not deal.lost_reason:
        raise ValidationFailed({"lost_reason": "Say why the deal was lost."})
    previous = deal.stage if deal.stage_id else None
    deal.pipeline_id, deal.stage = stage.pipeline_id, stage
    deal.status = stage.status
    if not deal.probability_overridden:
        deal.probability = stage.probability
    if stage.is_won or stage.is_lost:
        # The close replaces any override, so a reopened deal follows its stage again
        # instead of keeping the 100 or 0 of its close.
        deal.probability = 100 if stage.is_won else 0
        deal.probability_overridden = False
    if not stage.is_lost:
        deal.lost_reason = ""
    now = clock.now()
    deal.closed_at = now if deal.status != DealStatus.OPEN else None
    deal.stage_changed_at = now
    deal._stage_change = StageChange(from_stage=previous, to_stage=stage, changed_at=now, changed_by=actor)


def _record_stage_change(deal: Deal) -> None:
    change = getattr(deal, "_stage_change", None)
    if change is None:
        return
    change.deal = deal
    change.changed_by = change.changed_by if change.changed_by and change.changed_by.pk else None
    change.save()
    del deal._stage_change
    moved = {"stage_id": [change.from_stage_id, change.to_stage_id]}
    events.emit("deal.stage_changed", deal, actor=change.changed_by, changes=moved)
    if deal.status != DealStatus.OPEN:
        events.emit(f"deal.{deal.status}", deal, actor=change.changed_by, changes=moved)


def _apply_probability(deal: Deal, data: dict) -> None:
    """A probability sent with the data overrides the stage's; None goes back to it. Runs after the
    stage is applied: a won or lost deal's probability is its outcome (100 or 0), not an estimate."""
    if deal.stage.is_won or deal.stage.is_lost:
        return
    if "probability" in data:
        if data["probability"] is None:
            deal.probability_overridden = False
            deal.probability = deal.stage.probability
        else:
            deal.probability_overridden = True
            deal.probability = data["probability"]


@transaction.atomic
def deal_create(*, actor, data: dict) -> common.Saved:
    common.require(actor, Deal, "add", data)
    data, stage, contacts = _prepare({"owner_id": actor.pk, **data}, actor, None)
    deal = Deal(currency=settings.DEFAULT_CURRENCY)
    common.assign(deal, data, FIELDS)
    _apply_stage(deal, stage, actor=actor, lost_reason=None)
    _apply_probability(deal, data)
    common.apply_custom_fields(deal, data, creating=True)
    common.full_clean(deal)
    common.save_new(deal, actor=actor)
    _record_stage_change(deal)
    _set_contacts(deal, contacts)
    common.set_tags(deal, data.get("tags"))
    common.finish_create(deal, actor)
    return common.Saved(deal)


@transaction.atomic
def deal_update(deal: Deal, *, actor, data: dict, version: int | None = None) -> common.Saved:
    deal = common.lock_for_write(deal, actor=actor, action="change", version=version, data=data)
    before = changelog.snapshot(deal)
    data, stage, contacts = _prepare(data, actor, deal)
    common.assign(deal, {k: v for k, v in data.items() if k != "lost_reason"}, FIELDS)
    if stage is not None and stage.pk != deal.stage_id:
        _apply_stage(deal, stage, actor=actor, lost_reason=data.get("lost_reason"))
    elif "lost_reason" in data:
        deal.lost_reason = data["lost_reason"] or ""
        if deal.stage.is_lost and not deal.lost_reason:
            raise ValidationFailed({"lost_reason": "A lost deal needs a lost reason."})
    _apply_probability(deal, data)
    common.apply_custom_fields(deal, data, creating=False)
    common.full_clean(deal)
    common.save_existing(deal)
    _record_stage_change(deal)
    _set_contacts(deal, contacts)
    common.set_tags(deal, data.get("tags"))
    common.finish_update(deal, actor, before)
    return common.Saved(deal)


def deal_move_stage(
    deal: Deal, stage: Stage, *, actor, lost_reason: str | None = None, version: int | None = None
) -> common.Saved:
    """Move a deal to a stage (the kanban drag, the API, imports and workflow actions)."""
    data = {"stage_id": stage.pk}
    if lost_reason is not None:
        data["lost_reason"] = lost_reason
    return deal_update(deal, actor=actor, data=data, version=version)


@transaction.atomic
def deal_delete(deal: Deal, *, actor, version: int | None = None) -> None:
    common.delete_record(deal, actor=actor, version=version)
