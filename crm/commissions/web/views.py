"""The commissions pages. Reads go through crm/commissions/statements.py (the role's grant and scope),
writes through its services; a refusal is shown on the page (422), never a 500."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from crm.commissions import access, exports, plans, statements
from crm.commissions.calculate import period_of
from crm.commissions.models import PlanAssignment
from crm.core.errors import ServiceError, ValidationFailed
from crm.records.models import Deal
from crm.records.services.common import get_visible
from crm.web.views.helpers import page_errors

SPARE_ROWS = 3


def _period_key(request) -> str:
    return (request.GET.get("period") or "").strip()


@login_required
@page_errors
def commissions_page(request):
    key, error = _period_key(request), None
    try:
        rows = statements.latest_visible(request.user, key or None)
    except ValidationFailed as exc:
        rows, error = statements.latest_visible(request.user), exc.fields.get("period", exc.message)
    ids = access.visible_rep_ids(request.user, "view")
    assignments = PlanAssignment.objects.select_related("rep", "plan").order_by("-period_start", "rep__username")
    if ids is not None:
        assignments = assignments.filter(rep_id__in=ids)
    calculable = [
        {"a": a, "period": period_of(a).key} for a in assignments[:200] if access.may(request.user, "change", a.rep_id)
    ]
    context = {
        "statements": rows,
        "period_key": key,
        "error": error,
        "calculable": calculable,
        "calculable_periods": list(dict.fromkeys(row["period"] for row in calculable)),
        "plans": plans.visible_plans(request.user),
    }
    return render(request, "commissions/page.html", context, status=422 if error else 200)


@login_required
@page_errors
@require_POST
def calculate(request):
    try:
        rep_id = int(request.POST.get("rep_id", ""))
    except ValueError:
        raise Http404("No such rep.") from None
    try:
        st, created = statements.recalculate(actor=request.user, rep_id=rep_id, period=request.POST.get("period", ""))
    except ServiceError as exc:
        return _refused(request, exc)
    messages.success(request, f"Version {st.version} written." if created else "Nothing changed: no new version.")
    return redirect("commissions:statement", pk=st.pk)


@login_required
@page_errors
@require_POST
def calculate_period(request):
    """Every statement of the period the user may change, in one pass (crm/commissions/batch.py)."""
    key = (request.POST.get("period") or "").strip()
    try:
        done = statements.recalculate_period(actor=request.user, period=key)
    except ServiceError as exc:
        return _refused(request, exc)
    written = sum(created for _, created in done.values())
    messages.success(request, f"{len(done)} statements of {key} recalculated; {written} new versions written.")
    return redirect(f"{reverse('commissions:page')}?period={next(iter(done.values()))[0].period_key}")


@login_required
@page_errors
def statement_page(request, pk: int, errors=None, values=None):
    st = statements.get(request.user, pk)
    context = {
        "s": st,
        "rep": exports.rep_name(st),
        "lines": access.readable_lines(request.user, st),
        "totals": exports.totals(st),
        "versions": statements.versions_of(st),
        "may_change": access.may(request.user, "change", st.rep_id),
        "may_export": access.may(request.user, "export", st.rep_id),
        "errors": errors or {},
        "values": values or {"amount": "", "note": ""},
    }
    return render(request, "commissions/statement.html", context, status=422 if errors else 200)


@login_required
@page_errors
@require_POST
def adjust(request, pk: int):
    st = statements.get(request.user, pk)
    values = {"amount": request.POST.get("amount", "").strip(), "note": request.POST.get("note", "")}
    try:
        new, _ = statements.adjustment_add(
            actor=request.user, rep_id=st.rep_id, period=st.period_key, amount=values["amount"], note=values["note"]
        )
    except ValidationFailed as exc:
        return statement_page(request, pk, errors=exc.fields, values=values)
    messages.success(request, f"Adjustment added: version {new.version}.")
    return redirect(reverse("commissions:statement", args=[new.pk]))


@login_required
@page_errors
def export(request, pk: int, fmt: str):
    st = statements.get(request.user, pk, "export")
    if fmt not in exports.FORMATS:
        raise Http404("CSV, XLSX or PDF.")
    return exports.response(st, fmt, request.user)


def _split_rows(request) -> list[dict]:
    """The form's rows as the service takes them; blank rows left out, the rest checked by the service."""
    count = request.POST.get("rows", "")
    rows = []
    for i in range(min(int(count), 60) if count.isdigit() else 0):  # bounded: the number comes from the client
        user, percent = request.POST.get(f"user_{i}", "").strip(), request.POST.get(f"percent_{i}", "").strip()
        if user or percent:
            rows.append({"user_id": int(user) if user.isdigit() else user, "percent": percent})
    return rows


@login_required
@page_errors
def splits_page(request, pk: int):
    """A deal's split between reps (whoever may change the deal); none: 100 % to the owner."""
    deal = get_visible(Deal.objects.select_related("owner"), request.user, pk)
    errors, rows = {}, [{"user_id": x.user_id, "percent": x.percent} for x in plans.splits_of(pk, request.user)]
    if request.method == "POST":
        rows = _split_rows(request)
        try:
            plans.splits_set(deal, actor=request.user, splits=rows)
        except ValidationFailed as exc:
            errors = exc.fields
        else:
            messages.success(request, "Splits saved; the statements they feed are being recalculated.")
            return redirect("commissions:splits", pk=pk)
    users = get_user_model().objects.filter(is_active=True).order_by("username")
    context = {
        "deal": deal,
        "rows": rows + [{"user_id": None, "percent": ""}] * SPARE_ROWS,
        "users": users,
        "errors": errors,
    }
    return render(request, "commissions/splits.html", context, status=422 if errors else 200)


def _refused(request, exc: ServiceError):
    """A refused recalculation back on the commissions page with its reason (a missing exchange rate
    names its currency and date); a 403/404 or a server error stays what it is."""
    if isinstance(exc, ValidationFailed):
        messages.error(request, " ".join(exc.fields.values()) or exc.message)
    elif exc.status >= 500 or exc.status in (403, 404):
        raise exc
    else:
        messages.error(request, exc.message)
    return redirect("commissions:page")
