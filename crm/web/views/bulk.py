"""Bulk actions on a list's selected rows (assign owner, add/remove tag, delete), CSV export, and
saving the current list as a view. A batch is all-or-nothing: one failing row rolls back all."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import QueryDict, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from crm.access.policy import policy_for
from crm.audit import reads
from crm.core.errors import BadRequest, ServiceError, ValidationFailed
from crm.dataio import uploads
from crm.dataio.exporting import csv_lines, resource_of, rows
from crm.records.selectors import get_for
from crm.web import saved_views
from crm.web.views.helpers import kind_or_404, page_errors, safe_next
from crm.web.views.lists import list_params, run_query

MAX_BULK = 500
ACTIONS = {"assign": "change", "add_tag": "change", "remove_tag": "change", "delete": "delete"}


def _ids(request) -> list[int]:
    return sorted({int(v) for v in request.POST.getlist("ids") if v.isdigit()})


def _owner_key(kind) -> str:
    return "assignee_id" if kind.owner_filter == "assignee" else "owner_id"


@login_required
@page_errors
@require_POST
def bulk(request, kind_slug: str):
    kind = kind_or_404(kind_slug)
    back = safe_next(request, f"/{kind.slug}/")
    action, ids = request.POST.get("action", ""), _ids(request)
    if action == "export":
        return export_rows(request, kind, kind.objects().filter(pk__in=ids))
    if action not in ACTIONS or not ids:
        messages.error(request, "Choose an action and at least one row.")
        return redirect(back)
    if len(ids) > MAX_BULK:
        messages.error(request, f"At most {MAX_BULK} rows at once.")
        return redirect(back)
    if action == "delete" and request.POST.get("confirm") != "yes":
        objects = list(kind.objects().restrict(request.user, "delete").filter(pk__in=ids))
        return render(request, "web/confirm_delete.html", {"kind": kind, "objects": objects, "next": back})
    try:
        with transaction.atomic():
            count = _apply(request, kind, action, ids)
    except ServiceError as exc:
        messages.error(request, f"Nothing was changed: {exc.message}")
    else:
        messages.success(request, f"{_done(action)} {count} {kind.singular if count == 1 else kind.plural}.")
    return redirect(back)


def _apply(request, kind, action: str, ids: list[int]) -> int:
    perm = ACTIONS[action]
    tag = request.POST.get("tag", "").strip()
    if action in ("add_tag", "remove_tag"):
        if not kind.has_tags:
            raise BadRequest(f"{kind.plural.capitalize()} have no tags.")
        if not tag:
            raise BadRequest("Type the tag to add or remove.")
    owner = request.POST.get("owner", "")
    for pk in ids:
        obj = get_for(kind.objects(), request.user, pk, perm)
        if action == "delete":
            kind.type.delete(obj, actor=request.user)
        elif action == "assign":
            data = {_owner_key(kind): int(owner) if owner.isdigit() else None}
            kind.type.update(obj, actor=request.user, data=data)
        else:
            names = [t.name for t in obj.tags.all()]
            if action == "add_tag":
                names = [*names, tag]
            else:
                names = [n for n in names if n.lower() != tag.lower()]
            kind.type.update(obj, actor=request.user, data={"tags": names})
    return len(ids)


def _done(action: str) -> str:
    return {"assign": "Reassigned", "add_tag": "Tagged", "remove_tag": "Untagged", "delete": "Deleted"}[action]


@login_required
def export(request, kind_slug: str):
    """The current list (its filters and search) as CSV, for users allowed to export."""
    kind = kind_or_404(kind_slug)
    params = list_params(request)
    params.pop("sort", None)
    try:
        qs = run_query(kind, request.user, params, "export")
    except BadRequest as exc:
        messages.error(request, exc.message)
        return redirect(f"/{kind.slug}/?{params.urlencode()}")
    return export_rows(request, kind, qs)


def export_rows(request, kind, qs):
    """The rows as CSV, through the same exporter as the API (columns, formula neutralizing)."""
    if not policy_for(request.user).allows(kind.object_type, "export"):
        raise PermissionDenied(f"You may not export {kind.plural}.")
    api = kind.type.api
    qs = qs.restrict(request.user, "export").select_related(*api.select_related).prefetch_related(*api.prefetch)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    reads.record_export(request.user, kind.object_type, qs, "csv", reads.request_filters(request))
    table = rows(resource_of(kind.slug), qs, request.user)
    response = StreamingHttpResponse(csv_lines(table), content_type="text/csv; charset=utf-8")
    return uploads.as_attachment(response, f"{kind.plural}-{stamp}.csv")


@login_required
@page_errors
@require_POST
def save_view(request, kind_slug: str):
    kind = kind_or_404(kind_slug)
    query = QueryDict(request.POST.get("query", ""), mutable=True)
    for key in ("cursor", "view"):
        query.pop(key, None)
    data = {
        "name": request.POST.get("name", "").strip()[:100],
        "query": query.urlencode(),
        "shared": request.POST.get("shared") == "on",
    }
    try:
        view, created = saved_views.saved_view_create(actor=request.user, kind=kind.slug, data=data)
    except ValidationFailed as exc:
        messages.error(request, " ".join(exc.fields.values()) or exc.message)
        return redirect(f"/{kind.slug}/?{query.urlencode()}")
    messages.success(request, f"{'Saved' if created else 'Replaced'} the view “{view.name}”.")
    return redirect(f"/{kind.slug}/?{view.query}{'&' if view.query else ''}view={view.pk}")


@login_required
@page_errors
@require_POST
def delete_view(request, pk: int):
    view = saved_views.get_managed(actor=request.user, pk=pk)
    saved_views.saved_view_delete(view, actor=request.user)
    messages.success(request, f"Deleted the view “{view.name}”.")
    return redirect(f"/{view.kind}/")
