"""Settings → Email templates (/settings/email-templates/): the templates a user sees (theirs and the
shared ones) by category; create, change and delete through crm/mail/templates_service.py (personal
ones their owner's, shared ones admins' and managers'), and a preview rendered with a record the user
picks, as it would be sent."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from crm.core import recordtypes
from crm.core.errors import ServiceError
from crm.mail import templates_service
from crm.mail.models import EmailTemplate
from crm.mail.sanitize import clean_html
from crm.mail.web.compose import rendered
from crm.web.views.helpers import page_errors

FIELDS = ("name", "category", "record_type", "subject", "body_html")


def _types() -> list[tuple[str, str]]:
    return [(rt.object_type, rt.singular.capitalize()) for rt in recordtypes.all_types() if rt.timeline and rt.pages]


def _posted(request) -> dict:
    data = {k: request.POST.get(k, "") for k in FIELDS}
    data["shared"] = request.POST.get("shared") == "on"
    return data


def _preview(request, template: EmailTemplate) -> dict:
    """The preview part of the page: the chosen record type and record, and the rendering or its error."""
    kind = template.record_type or request.GET.get("preview_type", "") or "contact"
    rt = recordtypes.by_type(kind)
    out = {"preview_type": kind, "preview_rt": rt, "preview": None, "preview_error": "", "preview_record": None}
    pk = request.GET.get("record_id", "")
    if rt is None or not pk.isdigit():
        return out
    record = templates_service.visible_record(request.user, kind, int(pk))  # 404 for a record not visible
    out["preview_record"] = record
    try:
        out["preview"] = rendered(request.user, template, record)
        # Cleaned by nh3 once more (render did already): no script, handler or javascript: URL survives.
        out["preview_html"] = mark_safe(clean_html(out["preview"]["body_html"]))  # noqa: S308
    except ServiceError as exc:
        out["preview_error"] = "; ".join(exc.fields.values()) or exc.message
    return out


@login_required
@require_GET
def template_list(request):
    rows = list(templates_service.visible(request.user).select_related("owner"))
    groups: dict[str, list] = {}
    for t in rows:
        groups.setdefault(t.category or "No category", []).append(t)
    context = {"groups": sorted(groups.items()), "is_manager": templates_service.is_manager(request.user)}
    return render(request, "mail/templates/list.html", context)


def _form(request, template: EmailTemplate | None, values: dict, errors: dict, status: int = 200):
    may_edit = template is None or templates_service.may_manage(request.user, template)
    context = {
        "template": template,
        "values": values,
        "errors": errors,
        "types": _types(),
        "may_edit": may_edit,
        "may_share": templates_service.is_manager(request.user),
        **(_preview(request, template) if template is not None else {}),
    }
    return render(request, "mail/templates/form.html", context, status=status)


def _errors(exc: ServiceError) -> dict[str, str]:
    return dict(exc.fields) if exc.fields else {"general": exc.message}


@login_required
@page_errors
@require_http_methods(["GET", "POST"])
def template_new(request):
    if request.method == "GET":
        return _form(request, None, {"record_type": request.GET.get("record_type", "")}, {})
    values = _posted(request)
    try:
        template = templates_service.template_create(actor=request.user, data=values)
    except ServiceError as exc:
        values["body_html"] = clean_html(values["body_html"])
        return _form(request, None, values, _errors(exc), status=422)
    messages.success(request, f"Template “{template.name}” saved.")
    return redirect(reverse("mail-templates:edit", args=[template.pk]))


@login_required
@page_errors
@require_http_methods(["GET", "POST"])
def template_edit(request, pk: int):
    template = templates_service.get_visible(request.user, pk)
    if request.method == "GET":
        values = {k: getattr(template, k) for k in FIELDS} | {"shared": template.shared}
        return _form(request, template, values, {})
    values = _posted(request)
    try:
        template = templates_service.template_update(template, actor=request.user, data=values)
    except ServiceError as exc:
        values["body_html"] = clean_html(values["body_html"])
        return _form(request, template, values, _errors(exc), status=422 if exc.status != 403 else 403)
    messages.success(request, f"Template “{template.name}” saved.")
    return redirect(reverse("mail-templates:edit", args=[template.pk]))


@login_required
@page_errors
@require_POST
def template_delete(request, pk: int):
    template = templates_service.get_visible(request.user, pk)
    templates_service.template_delete(template, actor=request.user)  # 403 for one not the user's to delete
    messages.success(request, f"Template “{template.name}” deleted.")
    return redirect(reverse("mail-templates:list"))
