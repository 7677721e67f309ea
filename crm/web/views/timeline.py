"""A record's unified timeline (filterable by type) and quick-add of a note, call, meeting or task."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from crm.access.policy import policy_for
from crm.core.errors import ServiceError
from crm.records.services import activities
from crm.records.services.common import get_visible
from crm.records.timeline import decorate, timeline
from crm.web.forms.quick import ActivityForm, QuickTaskForm
from crm.web.templatetags.timeline_entry import HEAD
from crm.web.views.helpers import kind_or_404, page_errors

LIMIT = 50
# Filter chips: what each shows, as timeline kinds plus an activity kind.
FILTERS = {
    "all": (("activity", "task", "change", "engagement"), None),
    "note": (("activity",), "note"),
    "call": (("activity",), "call"),
    "meeting": (("activity",), "meeting"),
    "email": (("activity", "engagement"), "email"),
    "task": (("task",), None),
    "change": (("change",), None),
}
QUICK_TABS = [("note", "Note"), ("call", "Call"), ("meeting", "Meeting")]


def quick_context(quick: str) -> dict:
    """Which quick-add tab is open; the activity form keeps a kind even while the task tab is open."""
    quick = quick if quick in ("note", "call", "meeting", "task") else "note"
    activity = quick if quick != "task" else "note"
    return {"quick": quick, "quick_activity": activity, "quick_label": activity, "quick_tabs": QUICK_TABS}


def entries_for(obj, user, show: str) -> list[dict]:
    kinds, activity_kind = FILTERS.get(show, FILTERS["all"])
    if activity_kind is None:
        rows = timeline(obj, user, limit=LIMIT, kinds=kinds, body_head=HEAD)
    else:
        # One activity kind: read a wider window of activities, then keep that kind (and the opens
        # and clicks of mail, which the email filter shows too).
        rows = timeline(obj, user, limit=LIMIT * 4, kinds=kinds, body_head=HEAD)
        rows = [e for e in rows if e["kind"] != "activity" or e["object"].kind == activity_kind][:LIMIT]
    decorate((e["object"] for e in rows if e["kind"] == "activity"), user)
    return rows


def timeline_context(request, kind, obj) -> dict:
    show = request.GET.get("show", "all")
    show = show if show in FILTERS else "all"
    if not kind.type.timeline:
        return {"entries": timeline(obj, request.user, limit=LIMIT, kinds=("change",)), "show": "change"}
    return {
        "entries": entries_for(obj, request.user, show),
        "show": show,
        "filters": list(FILTERS),
        **quick_context(request.GET.get("quick", "note")),
        "activity_form": ActivityForm(user=request.user, initial={"kind": "note"}),
        "task_form": QuickTaskForm(user=request.user),
    }


@login_required
@page_errors
def timeline_part(request, kind_slug: str, pk: int):
    kind = kind_or_404(kind_slug)
    obj = get_visible(kind.objects(), request.user, pk)
    return render(
        request, "web/parts/timeline.html", {"kind": kind, "obj": obj, **timeline_context(request, kind, obj)}
    )


def _links(kind, obj, user) -> dict:
    """Link the entry to the record, and to the record's company when the user can see it."""
    links = [{"type": obj.object_type, "id": obj.pk}]
    company_id = getattr(obj, "company_id", None)
    if kind.slug in ("contacts", "deals") and company_id:
        from crm.records.models import Company

        if Company.objects.restrict(user).filter(pk=company_id).exists():
            links.append({"type": "company", "id": company_id})
    return {"links": links}


@login_required
@page_errors
@require_POST
def quick_add(request, kind_slug: str, pk: int, what: str):
    kind = kind_or_404(kind_slug)
    if not kind.type.timeline or what not in ("activity", "task"):
        return redirect("web:record-detail", kind.slug, pk)
    obj = get_visible(kind.objects(), request.user, pk)
    is_task = what == "task"
    if not policy_for(request.user).allows("task" if is_task else "activity", "add"):
        raise DjangoPermissionDenied("Your role may not add to the timeline.")
    if not is_task:
        what = request.POST.get("kind", "note")
    form = (QuickTaskForm if is_task else ActivityForm)(request.POST, user=request.user)
    saved = None
    if form.is_valid():
        data = {**form.to_data(), **_links(kind, obj, request.user)}
        try:
            create = activities.task_create if is_task else activities.activity_create
            saved = create(actor=request.user, data=data)
        except ServiceError as exc:
            form.add_service_error(exc)
    if not request.htmx:
        return redirect(reverse("web:record-detail", args=[kind.slug, pk]))
    context = {"kind": kind, "obj": obj, **timeline_context(request, kind, obj), **quick_context(what)}
    policy = policy_for(request.user)
    context |= {"saved": saved, "may_log": policy.allows("activity", "add"), "may_task": policy.allows("task", "add")}
    if is_task:
        context["task_form"] = form if saved is None else QuickTaskForm(user=request.user)
    else:
        context["activity_form"] = form if saved is None else ActivityForm(user=request.user, initial={"kind": what})
    return render(request, "web/parts/quick_add_result.html", context, status=200 if saved else 422)
