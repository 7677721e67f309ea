"""Global search in the header (results grouped by type as you type) and the record picker's lookups."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render

from crm.access.policy import policy_for
from crm.core import recordtypes
from crm.records.selectors import matching
from crm.search.query import search
from crm.search.registry import searchables
from crm.web.registry import slug_of_type

MAX_QUERY = 200


def _detail(obj) -> str:
    for attr in ("email", "domain", "company_name", "phone"):
        if getattr(obj, attr, ""):
            return getattr(obj, attr)
    return ""


def grouped(user, q: str, limit: int) -> list[dict]:
    found = search(user, q[:MAX_QUERY], limit=limit)
    return [
        {
            "type": t,
            "title": recordtypes.by_type(t).label,
            "slug": slug_of_type(t),
            "hits": [{"obj": o, "detail": _detail(o)} for o in objs],
        }
        for t, objs in found.items()
        if objs
    ]


@login_required
def search_page(request):
    q = request.GET.get("q", "").strip()
    groups = grouped(request.user, q, 5 if request.htmx else 25) if q else []
    template = "web/parts/search_results.html" if request.htmx else "web/search.html"
    return render(request, template, {"q": q, "groups": groups})


@login_required
def pick(request, object_type: str):
    """Options for a record picker: visible records of one type matching what was typed."""
    q = request.GET.get("q", "").strip()[:MAX_QUERY]
    if object_type in searchables():
        rows = search(request.user, q, types=[object_type], limit=8).get(object_type, []) if q else []
    elif (rt := recordtypes.by_type(object_type)) is not None and rt.pages:
        # A custom type global search does not index (no searchable field): its name and text values.
        # By name where the type has one (a task is named by its title: no "name" column).
        order = [f.name for f in rt.model._meta.concrete_fields if f.name == "name"] + ["pk"]
        rows = matching(rt, rt.restricted(request.user), q, policy_for(request.user)) if q else rt.model.objects.none()
        rows = list(rows.order_by(*order)[:8])
    else:
        raise Http404("Cannot pick that.")
    return render(request, "web/parts/pick_options.html", {"rows": rows, "q": q})
