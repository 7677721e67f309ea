"""Record pages (the 360° view) and their create, edit and delete forms, all through the services."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from crm.access.policy import policy_for
from crm.audit import reads
from crm.audit.models import ObjectChange
from crm.audit.selectors import for_reader
from crm.core.errors import Conflict, ServiceError
from crm.records.selectors import get_for, may, only_visible_links, record_links
from crm.records.services.common import get_visible
from crm.web.facts import facts_context
from crm.web.forms.generic import form_class as form_class_of
from crm.web.moved import tell_on_page
from crm.web.registry import Kind
from crm.web.templatetags.web import change_rows
from crm.web.views import inline
from crm.web.views.helpers import kind_or_404, page_errors
from crm.web.views.related import related_for
from crm.web.views.timeline import timeline_context

DUPLICATES_KEY = "web_duplicates"


def detail_url(kind: Kind, pk: int) -> str:
    return reverse("web:record-detail", args=[kind.slug, pk])


def _detail_qs(kind: Kind):
    return kind.objects().select_related(*kind.type.detail_related)


@login_required
@page_errors
def record_detail(request, kind_slug: str, pk: int):
    kind = kind_or_404(kind_slug)
    obj = get_visible(_detail_qs(kind), request.user, pk)
    reads.record_sensitive_view(request.user, obj)
    only_visible_links([obj], request.user, record_links(kind.model, kind.type.detail_related))
    policy = policy_for(request.user)
    duplicates = [d for d in request.session.pop(DUPLICATES_KEY, []) if d.get("for") == [kind.slug, obj.pk]]
    tell_on_page(request, obj)  # "Lead X was assigned to Y by rule Z", once
    context = {
        "kind": kind,
        "obj": obj,
        "may": (allowed := {a: not kind.archived and may(request.user, obj, a) for a in ("change", "delete")}),
        "may_log": policy.allows("activity", "add"),
        "may_task": policy.allows("task", "add"),
        "duplicates": duplicates,
        "related": related_for(kind, obj, request.user),
        **facts_context(kind, obj, request.user),
        **timeline_context(request, kind, obj),
        **inline.page_context(kind, obj, request.user, allowed["change"]),
    }
    return render(request, "web/detail.html", context)


@login_required
@page_errors
@require_http_methods(["GET", "POST"])
def record_create(request, kind_slug: str):
    kind = kind_or_404(kind_slug)
    if not policy_for(request.user).allows(kind.object_type, "add"):
        raise PermissionDenied(f"You may not add {kind.plural}.")
    if kind.archived:
        raise PermissionDenied(f"{kind.plural.capitalize()} are archived: no new ones can be added.")
    form_class = form_class_of(kind.type)
    if request.method == "POST":
        form = form_class(request.POST, user=request.user)
        if form.is_valid():
            try:
                saved = kind.type.create(actor=request.user, data=form.to_data())
            except ServiceError as exc:
                form.add_service_error(exc)
            else:
                _remember_duplicates(request, kind, saved)
                messages.success(request, f"{kind.singular.capitalize()} “{saved.obj}” created.")
                return redirect(detail_url(kind, saved.obj.pk))
    else:
        # A related list's "+ Add" names the record the new one points at (a custom field too).
        initial = {k: v for k, v in request.GET.items() if k in form_class.base_fields or k.startswith("cf_")}
        form = form_class(user=request.user, initial=initial)
    return render(request, "web/form.html", {"kind": kind, "form": form, "obj": None})


def _remember_duplicates(request, kind: Kind, saved) -> None:
    if saved.duplicates:
        request.session[DUPLICATES_KEY] = [{**d, "for": [kind.slug, saved.obj.pk]} for d in saved.duplicates]


@login_required
@page_errors
@require_http_methods(["GET", "POST"])
def record_edit(request, kind_slug: str, pk: int):
    kind = kind_or_404(kind_slug)
    obj = get_for(_detail_qs(kind), request.user, pk, "change")
    form_class = form_class_of(kind.type)
    conflict = None
    version = obj.version
    if request.method == "POST":
        form = form_class(request.POST, user=request.user, instance=obj)
        version = _int(request.POST.get("version"))
        if form.is_valid():
            try:
                kind.type.update(obj, actor=request.user, data=form.to_data(), version=version)
            except Conflict:
                conflict = latest_change(obj, request.user)
            except ServiceError as exc:
                form.add_service_error(exc)
            else:
                messages.success(request, f"Saved “{obj}”.")
                return redirect(detail_url(kind, obj.pk))
    else:
        form = form_class(user=request.user, instance=obj)
    context = {"kind": kind, "form": form, "obj": obj, "version": version, "conflict": conflict}
    return render(request, "web/form.html", context, status=409 if conflict else 200)


def latest_change(obj, user) -> dict:
    """What someone else changed: the newest change log entry of the record, as ``user`` may read it
    (the values of fields hidden from their role masked)."""
    entry = next(
        iter(for_reader(user, ObjectChange.objects.filter(object_type=obj.object_type, object_id=obj.pk)[:1])), None
    )
    changes = []
    if entry is not None:
        changes = [{"field": n, "before": before, "after": after} for n, before, after in change_rows(entry.changes)]
    return {"entry": entry, "changes": changes}


def _int(raw) -> int | None:
    try:
        return int(raw)
    except (TypeError, ValueError):
        return None


@login_required
@page_errors
@require_http_methods(["GET", "POST"])
def record_delete(request, kind_slug: str, pk: int):
    kind = kind_or_404(kind_slug)
    obj = get_for(kind.objects(), request.user, pk, "delete")
    if request.method == "POST":
        try:
            kind.type.delete(obj, actor=request.user, version=_int(request.POST.get("version")))
        except Conflict as exc:
            stale = exc.code == "version_conflict"  # other conflicts (a product with prices) say why themselves
            messages.error(
                request,
                f"“{obj}” was changed by someone else meanwhile. Check it, then delete again."
                if stale
                else exc.message,
            )
            return redirect(detail_url(kind, obj.pk))
        messages.success(request, f"Deleted “{obj}”.")
        return redirect("web:record-list", kind.slug)
    return render(request, "web/confirm_delete.html", {"kind": kind, "objects": [obj], "obj": obj})
