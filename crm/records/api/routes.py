"""Record endpoints: the standard six per type (crm.api.crud) plus conversion, stage moves,
stage history, pipelines and tags."""

from django.db.models import Prefetch
from ninja import Router, Schema

from crm.api.crud import Resource, get_for, register
from crm.core.errors import ValidationFailed
from crm.core.filters import Field
from crm.records.api import schemas as s
from crm.records.api.fast import dumper
from crm.records.models import (
    Activity,
    Company,
    Contact,
    Deal,
    Lead,
    Pipeline,
    Stage,
    Tag,
    Task,
)
from crm.records.services import activities, companies, contacts, conversion, deals, leads
from crm.records.services.common import get_visible


def f(lookup: str, kind: str, choices=()) -> Field:
    return Field(lookup, kind, tuple(choices))


COMMON_FILTERS = {
    "id": f("id", "int"),
    "created_at": f("created_at", "datetime"),
    "updated_at": f("updated_at", "datetime"),
}
OWNED = {**COMMON_FILTERS, "owner": f("owner_id", "int"), "tag": f("tags__name", "str")}
COMMON_SORTS = {"id": "id", "created_at": "created_at", "updated_at": "updated_at"}

RESOURCES = {
    "companies": Resource(
        path="companies",
        model=Company,
        out=s.CompanyOut,
        fast=dumper(Company, s.CompanyOut),
        create_in=s.CompanyIn,
        update_in=s.CompanyPatch,
        create=companies.company_create,
        update=companies.company_update,
        delete=companies.company_delete,
        filters={
            **OWNED,
            "name": f("name", "str"),
            "domain": f("domains__domain", "str"),
            "industry": f("industry", "str"),
            "size": f("size", "str"),
            "city": f("city", "str"),
            "country": f("country", "str"),
            "lifecycle_stage": f("lifecycle_stage", "str"),
            "annual_revenue": f("annual_revenue", "decimal"),
            "parent": f("parent_id", "int"),
        },
        sorts={**COMMON_SORTS, "name": "name", "annual_revenue": "annual_revenue"},
        prefetch=("tags", "domains"),
    ),
    "contacts": Resource(
        path="contacts",
        model=Contact,
        out=s.ContactOut,
        fast=dumper(Contact, s.ContactOut),
        create_in=s.ContactIn,
        update_in=s.ContactPatch,
        create=contacts.contact_create,
        update=contacts.contact_update,
        delete=contacts.contact_delete,
        filters={
            **OWNED,
            "name": f("name", "str"),
            "email": f("emails__email", "str"),
            "phone": f("phones__number", "str"),
            "company": f("company_id", "int"),
            "title": f("title", "str"),
            "city": f("city", "str"),
            "country": f("country", "str"),
            "lifecycle_stage": f("lifecycle_stage", "str"),
            "source": f("source", "str"),
            "email_opt_in": f("email_opt_in", "bool"),
        },
        sorts={**COMMON_SORTS, "name": "name", "last_name": "last_name", "email": "email"},
        prefetch=("tags", "emails", "phones", "past_companies"),
    ),
    "leads": Resource(
        path="leads",
        model=Lead,
        out=s.LeadOut,
        create_in=s.LeadIn,
        update_in=s.LeadPatch,
        create=leads.lead_create,
        update=leads.lead_update,
        delete=leads.lead_delete,
        filters={
            **OWNED,
            "name": f("name", "str"),
            "email": f("email", "str"),
            "status": f("status", "str"),
            "source": f("source", "str"),
            "score": f("score", "int"),
            "company_name": f("company_name", "str"),
            "converted_at": f("converted_at", "datetime"),
        },
        sorts={**COMMON_SORTS, "name": "name", "score": "score", "status": "status"},
        prefetch=("tags",),
    ),
    "deals": Resource(
        path="deals",
        model=Deal,
        out=s.DealOut,
        fast=dumper(Deal, s.DealOut),
        create_in=s.DealCreate,
        update_in=s.DealPatch,
        create=deals.deal_create,
        update=deals.deal_update,
        delete=deals.deal_delete,
        filters={
            **OWNED,
            "name": f("name", "str"),
            "pipeline": f("pipeline_id", "int"),
            "stage": f("stage_id", "int"),
            "status": f("status", "str"),
            "company": f("company_id", "int"),
            "contact": f("contacts__id", "int"),
            "amount": f("amount", "decimal"),
            "currency": f("currency", "str"),
            "probability": f("probability", "int"),
            "expected_close_date": f("expected_close_date", "date"),
            "closed_at": f("closed_at", "datetime"),
        },
        sorts={
            **COMMON_SORTS,
            "name": "name",
            "amount": "amount",
            "expected_close_date": "expected_close_date",
            "probability": "probability",
            "stage_changed_at": "stage_changed_at",
        },
        prefetch=("tags", "deal_contacts"),
    ),
    "activities": Resource(
        path="activities",
        model=Activity,
        out=s.ActivityOut,
        create_in=s.ActivityIn,
        update_in=s.ActivityPatch,
        create=activities.activity_create,
        update=activities.activity_update,
        delete=activities.activity_delete,
        filters={
            **COMMON_FILTERS,
            "owner": f("owner_id", "int"),
            "kind": f("kind", "str"),
            "company": f("company_id", "int"),
            "contact": f("contact_id", "int"),
            "lead": f("lead_id", "int"),
            "deal": f("deal_id", "int"),
            "occurred_at": f("occurred_at", "datetime"),
            "direction": f("direction", "str"),
            "outcome": f("outcome", "str"),
        },
        sorts={**COMMON_SORTS, "occurred_at": "occurred_at"},
        default_sort="-occurred_at",
        prefetch=("participants",),
        text_fields=("subject", "body"),
    ),
    "tasks": Resource(
        path="tasks",
        model=Task,
        out=s.TaskOut,
        create_in=s.TaskIn,
        update_in=s.TaskPatch,
        create=activities.task_create,
        update=activities.task_update,
        delete=activities.task_delete,
        filters={
            **COMMON_FILTERS,
            "assignee": f("assignee_id", "int"),
            "status": f("status", "str"),
            "priority": f("priority", "str"),
            "due_at": f("due_at", "datetime"),
            "reminder_at": f("reminder_at", "datetime"),
            "company": f("company_id", "int"),
            "contact": f("contact_id", "int"),
            "lead": f("lead_id", "int"),
            "deal": f("deal_id", "int"),
        },
        sorts={**COMMON_SORTS, "due_at": "due_at", "priority": "priority", "title": "title"},
        default_sort="due_at",
        text_fields=("title", "description"),
    ),
}


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
    def convert(request, pk: int, payload: s.ConvertIn):
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
    def move(request, pk: int, payload: s.MoveIn):
        deal = get_for(Deal, request.user, pk, "change")
        stage = Stage.objects.filter(pk=payload.stage_id).first()
        if stage is None:
            raise ValidationFailed({"stage_id": f"No stage with id {payload.stage_id}."})
        saved = deals.deal_move_stage(
            deal, stage, actor=request.user, lost_reason=payload.lost_reason, version=payload.version
        )
        return Deal.objects.prefetch_related("tags", "deal_contacts").get(pk=saved.obj.pk)

    @router.get("/{int:pk}/stage-history", response=list[s.StageChangeOut], summary="A deal's stage changes")
    def stage_history(request, pk: int):
        deal = get_visible(Deal, request.user, pk)
        return list(deal.stage_changes.all())


def _task_extras(router: Router) -> None:
    out = RESOURCES["tasks"].out

    @router.post("/{int:pk}/complete", response=out, summary="Mark a task done")
    def complete(request, pk: int):
        task = get_for(Task, request.user, pk, "change")
        return activities.task_complete(task, actor=request.user).obj


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
def pipelines(request):
    return list(Pipeline.objects.prefetch_related(Prefetch("stages", Stage.objects.order_by("order", "id"))))


@config_router.get("/tags", response=list[TagOut], summary="All tags")
def tags(request):
    return list(Tag.objects.all()[:5000])
