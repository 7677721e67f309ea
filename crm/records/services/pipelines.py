"""Pipelines and their stages: created, changed and deleted by admins only, validated and written to
the change log. A pipeline or stage that deals use cannot be deleted (the deals protect it)."""

from __future__ import annotations

from django.db import transaction
from django.db.models import ProtectedError

from crm.access.policy import require_admin
from crm.audit import changelog, configwrites
from crm.core.errors import Conflict
from crm.records.models import Pipeline, Stage

PIPELINE_FIELDS = ("name", "order", "is_default")
STAGE_FIELDS = ("name", "order", "probability", "is_won", "is_lost")


@transaction.atomic
def pipeline_create(*, actor, data: dict) -> Pipeline:
    require_admin(actor, "pipelines")
    return configwrites.create(Pipeline(**{k: data[k] for k in PIPELINE_FIELDS if k in data}), actor=actor)


@transaction.atomic
def pipeline_update(pipeline: Pipeline, *, actor, data: dict) -> Pipeline:
    require_admin(actor, "pipelines")
    return configwrites.update(pipeline, actor=actor, data=data, fields=PIPELINE_FIELDS)


@transaction.atomic
def pipeline_delete(pipeline: Pipeline, *, actor) -> None:
    """The pipeline with its stages, each stage with its own delete entry (the cascade would not
    leave one)."""
    require_admin(actor, "pipelines")
    pipeline = configwrites.locked(Pipeline, pipeline.pk)
    if pipeline.deals.exists():
        raise Conflict(f"Deals are in pipeline “{pipeline}”: move or delete them first.")
    stages = list(pipeline.stages.select_related("pipeline"))
    changelog.log_bulk_delete(actor, stages, [changelog.snapshot(s) for s in stages])
    _delete(pipeline, actor)


@transaction.atomic
def stage_create(*, actor, pipeline: Pipeline, data: dict) -> Stage:
    require_admin(actor, "pipelines")
    stage = Stage(pipeline=pipeline, **{k: data[k] for k in STAGE_FIELDS if k in data})
    return configwrites.create(stage, actor=actor)


@transaction.atomic
def stage_update(stage: Stage, *, actor, data: dict) -> Stage:
    """A stage stays in its pipeline (its deals' pipeline would no longer match)."""
    require_admin(actor, "pipelines")
    return configwrites.update(stage, actor=actor, data=data, fields=STAGE_FIELDS)


@transaction.atomic
def stage_delete(stage: Stage, *, actor) -> None:
    require_admin(actor, "pipelines")
    _delete(stage, actor)


def _delete(obj, actor) -> None:
    try:
        with transaction.atomic():  # PostgreSQL: the refused statement must not spoil the outer transaction
            configwrites.delete(obj, actor=actor)
    except ProtectedError:
        raise Conflict(f"Deals are in “{obj}”: move or delete them first.") from None
