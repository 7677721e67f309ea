"""/api/v1/commissions/...: plans, assignments, deal splits, statements (read, calculate, adjust,
export). Each endpoint is one service call or one read through crm/commissions/access.py."""

from __future__ import annotations

from ninja import Query, Router, Status

from crm.commissions import access, exports, plans, statements
from crm.commissions.api import schemas as s
from crm.commissions.models import CommissionPlan, PlanAssignment
from crm.core.errors import NotFound
from crm.forecast import periods
from crm.forecast.categories import fiscal_year_start
from crm.records.models import Deal

router = Router(tags=["commissions"])

FILE_RESPONSE = {
    "responses": {
        200: {
            "description": "The statement as CSV, XLSX or PDF (a download).",
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
                    "schema": {"type": "string", "format": "binary"}
                },
                "application/pdf": {"schema": {"type": "string", "format": "binary"}},
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
            },
        }
    }
}


def _plan_out(p: CommissionPlan) -> dict:
    return {
        "id": p.pk,
        "name": p.name,
        "basis": p.basis,
        "base_rate": p.base_rate,
        "cap": p.cap,
        "clawback_days": p.clawback_days,
        "tiers": [{"threshold": t.threshold, "rate": t.rate} for t in p.tiers.all()],
        "category_rates": [{"category": c.category, "rate": c.rate} for c in p.category_rates.all()],
    }


@router.get("/plans", response=list[s.CommissionPlanOut], summary="Commission plans (a rep: the ones they are on)")
def list_commission_plans(request):
    return [_plan_out(p) for p in plans.visible_plans(request.user)]


@router.post("/plans", response={201: s.CommissionPlanOut}, summary="Create a plan (admins)")
def create_commission_plan(request, payload: s.CommissionPlanIn):
    plan = plans.plan_create(actor=request.user, data=payload.model_dump())
    return Status(201, _plan_out(plans.get_plan(plan.pk)))


@router.get("/plans/{int:pk}", response=s.CommissionPlanOut, summary="One plan")
def get_commission_plan(request, pk: int):
    return _plan_out(plans.get_visible_plan(request.user, pk))


@router.patch("/plans/{int:pk}", response=s.CommissionPlanOut, summary="Change a plan (admins)")
def update_commission_plan(request, pk: int, payload: s.CommissionPlanPatch):
    access.require_plans_admin(request.user)
    data = payload.model_dump(exclude_unset=True)
    plans.plan_update(plans.get_plan(pk), actor=request.user, data=data)
    return _plan_out(plans.get_plan(pk))


@router.delete("/plans/{int:pk}", response={204: None}, summary="Delete a plan no rep is assigned to (admins)")
def delete_commission_plan(request, pk: int):
    access.require_plans_admin(request.user)
    plans.plan_delete(plans.get_plan(pk), actor=request.user)
    return Status(204, None)


def _assignment_out(a: PlanAssignment) -> dict:
    key = periods.of_start(a.period_kind, a.period_start, fiscal_year_start()).key
    return {
        "id": a.pk,
        "rep_id": a.rep_id,
        "plan_id": a.plan_id,
        "period": key,
        "period_start": a.period_start,
        "period_end": a.period_end,
    }


@router.get("/assignments", response=list[s.PlanAssignmentOut], summary="Plan assignments of the reps you see")
def list_commission_assignments(request, params: Query[s.AssignmentQuery]):
    ids = access.visible_rep_ids(request.user, "view")
    rows = PlanAssignment.objects.all() if ids is None else PlanAssignment.objects.filter(rep_id__in=ids)
    if params.rep_id is not None:
        rows = rows.filter(rep_id=params.rep_id)
    return [_assignment_out(a) for a in rows[:2000]]


@router.post("/assignments", response={201: s.PlanAssignmentOut}, summary="Put a rep on a plan for a period")
def create_commission_assignment(request, payload: s.PlanAssignmentIn):
    row = plans.assignment_create(
        actor=request.user, rep_id=payload.rep_id, plan_id=payload.plan_id, period=payload.period
    )
    return Status(201, _assignment_out(row))


@router.delete("/assignments/{int:pk}", response={204: None}, summary="Remove an assignment")
def delete_commission_assignment(request, pk: int):
    row = PlanAssignment.objects.filter(pk=pk).first()
    if row is None:
        raise NotFound(f"No assignment with id {pk}.")
    plans.assignment_delete(row, actor=request.user)
    return Status(204, None)


@router.get("/deals/{int:pk}/splits", response=list[s.DealSplitIO], summary="A deal's splits ([]: all the owner's)")
def get_deal_splits(request, pk: int):
    return [{"user_id": x.user_id, "percent": x.percent} for x in plans.splits_of(pk, request.user)]


@router.put("/deals/{int:pk}/splits", response=list[s.DealSplitIO], summary="Replace a deal's splits")
def put_deal_splits(request, pk: int, payload: s.DealSplitsIn):
    deal = Deal.objects.filter(pk=pk).first()
    if deal is None:
        raise NotFound(f"No deal with id {pk}.")
    rows = plans.splits_set(deal, actor=request.user, splits=payload.model_dump()["splits"])
    return [{"user_id": x.user_id, "percent": x.percent} for x in rows]


def summary_out(st) -> dict:
    out = {f: getattr(st, f) for f in s.StatementSummaryOut.model_fields if hasattr(st, f)}
    out.update({"period": st.period_key, "rep_name": exports.rep_name(st)})
    return out


def statement_out(st, actor) -> dict:
    lines = [{f: getattr(x, f) for f in s.StatementLineOut.model_fields} for x in access.readable_lines(actor, st)]
    versions = [
        {"id": v.pk, "version": v.version, "total": v.total, "created_at": v.created_at}
        for v in statements.versions_of(st)
    ]
    return {**summary_out(st), "lines": lines, "versions": versions}


@router.get("/statements", response=list[s.StatementSummaryOut], summary="The latest statements you may read")
def list_commission_statements(request, params: Query[s.StatementQuery]):
    return [summary_out(x) for x in statements.latest_visible(request.user, params.period, params.rep_id)]


@router.get("/statements/{int:pk}", response=s.StatementOut, summary="One statement version with its lines")
def get_commission_statement(request, pk: int):
    return statement_out(statements.get(request.user, pk), request.user)


@router.get("/statements/{int:pk}/export", summary="A statement as CSV, XLSX or PDF", openapi_extra=FILE_RESPONSE)
def export_commission_statement(request, pk: int, params: Query[s.ExportQuery]):
    statement = statements.get(request.user, pk, "export")
    return exports.response(statement, params.format, request.user)


@router.post(
    "/statements/calculate",
    response=s.StatementCalculatedOut,
    summary="Recalculate a rep's statement for a period (a new version only when something changed)",
)
def calculate_commission_statement(request, payload: s.StatementCalculateIn):
    st, created = statements.recalculate(actor=request.user, rep_id=payload.rep_id, period=payload.period)
    return {"created": created, "statement": statement_out(st, request.user)}


@router.post("/adjustments", response=s.StatementCalculatedOut, summary="Add a manual line to a rep's statement")
def add_commission_adjustment(request, payload: s.CommissionAdjustmentIn):
    st, created = statements.adjustment_add(
        actor=request.user, rep_id=payload.rep_id, period=payload.period, amount=payload.amount, note=payload.note
    )
    return {"created": created, "statement": statement_out(st, request.user)}
