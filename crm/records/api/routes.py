"""Record endpoints: the standard six per type (crm.api.crud) plus conversion, stage moves,
stage history, pipelines and tags."""

from django.db.models import Prefetch
from ninja import Router, Schema

from crm.api.crud import masked_record, register, resource_for
from crm.core import recordtypes
from crm.core.errors import ValidationFailed
from crm.records.api import schemas as s
from crm.records.models import (
    Company,
    Contact,
    Deal,
    Lead,
    Pipeline,
    Stage,
    Tag,
    Task,
)
from crm.records.selectors import get_for
from crm.records.services import activities, conversion, deals
from crm.records.services.common import get_visible

# The standard endpoints of every declared record type (crm/*/recordtypes.py).
# Custom object types, defined at run time, share the generic /objects/{slug} endpoints (crm/objects).
RESOURCES = {rt.slug: resource_for(rt) for rt in recordtypes.declared_types()}


def build_routers() -> dict[str, Router]:
    routers = {}
    for path, res in RESOURCES.items():
        router = Router(tags=[path])
        register(router, res)
        routers[path] = router
    _lead_extras(routers["leads"])
    _deal_extras(routers["deals"])
    _task_extras(routers["tasks"])
    return routers


def _lead_extras(router: Router) -> None:
    @router.post("/{int:pk}/convert", response={200: s.ConvertOut}, summary="Convert a lead")
    def convert_lead(request, pk: int, payload: s.ConvertIn):
        lead = get_for(Lead, request.user, pk, "change")
        contact = _chosen(Contact, request.user, payload.contact_id, "contact_id")
        company = _chosen(Company, request.user, payload.company_id, "company_id")
        deal = payload.deal.model_dump(exclude_unset=True) if payload.deal else None
        result = conversion.lead_convert(
            lead,
            actor=request.user,
            contact=contact,
            company=company,
            create_company=payload.create_company,
            deal=deal,
        )
        return {
            "lead_id": lead.pk,
            "contact_id": result["contact"].pk,
            "company_id": result["company"].pk if result["company"] else None,
            "deal_id": result["deal"].pk if result["deal"] else None,
        }


def _chosen(model, user, pk: int | None, field: str):
    """A record named in a request body: one the user cannot see is a 422 on that field (not a 404,
    which would read as "the URL is wrong")."""
    if pk is None:
        return None
    found = model.objects.restrict(user).filter(pk=pk).first()
    if found is None:
        raise ValidationFailed({field: f"No {model._meta.verbose_name} with id {pk}."})
    return found


def _deal_extras(router: Router) -> None:
    out = RESOURCES["deals"].out

    @router.post("/{int:pk}/move", response=out, summary="Move a deal to another stage")
    def move_deal(request, pk: int, payload: s.MoveIn):
        deal = get_for(Deal, request.user, pk, "change")
        stage = Stage.objects.filter(pk=payload.stage_id).first()
        if stage is None:
            raise ValidationFailed({"stage_id": f"No stage with id {payload.stage_id}."})
        saved = deals.deal_move_stage(
            deal, stage, actor=request.user, lost_reason=payload.lost_reason, version=payload.version
        )
        moved = Deal.objects.prefetch_related("tags", "deal_contacts").get(pk=saved.obj.pk)
        return masked_record(RESOURCES["deals"], request.user, moved)

    @router.get("/{int:pk}/stage-history", response=list[s.StageChangeOut], summary="A deal's stage changes")
    def deal_stage_history(request, pk: int):
        deal = get_visible(Deal, request.user, pk)
        return list(deal.stage_changes.all())


def _task_extras(router: Router) -> None:
    out = RESOURCES["tasks"].out

    @router.post("/{int:pk}/complete", response=out, summary="Mark a task done")
    def complete_task(request, pk: int):
        task = get_for(Task, request.user, pk, "change")
        done = activities.task_complete(task, actor=request.user).obj
        return masked_record(RESOURCES["tasks"], request.user, done)


class StageOut(Schema):
    id: int
    name: str
    order: int
    probability: int
    is_won: bool
    is_lost: bool


class PipelineOut(Schema):
    id: int
    name: str
    is_default: bool
    stages: list[StageOut]

    @staticmethod
    def resolve_stages(obj):
        return list(obj.stages.all())


class TagOut(Schema):
    id: int
    name: str
    color: str


config_router = Router(tags=["configuration"])


@config_router.get("/pipelines", response=list[PipelineOut], summary="Pipelines and their stages")
def list_pipelines(request):
    return list(Pipeline.objects.prefetch_related(Prefetch("stages", Stage.objects.order_by("order", "id"))))


@config_router.get("/tags", response=list[TagOut], summary="All tags")
def list_tags(request):
    return list(Tag.objects.all()[:5000])
