"""Settings → Objects: the list of custom object types, their create and edit forms, archiving and
deleting. Every write goes through crm/objects/services.py (admins only, locked, change-logged)."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from crm.core.errors import ServiceError
from crm.customization.models import CustomField
from crm.objects import services
from crm.objects.models import ObjectType
from crm.objects.selectors import get_type, records_of
from crm.objects.web.access import admins_only
from crm.objects.web.forms import TypeForm


def type_url(object_type: ObjectType) -> str:
    return reverse("object-settings:type", args=[object_type.key])


@admins_only
def type_list(request):
    """Every type, archived ones too, with the number of its records (counted as the admin sees them)."""
    rows = [(t, records_of(t, request.user).count()) for t in ObjectType.objects.all()]
    return render(request, "objects/type_list.html", {"rows": rows})


@admins_only
@require_http_methods(["GET", "POST"])
def type_create(request):
    form = TypeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            created = services.object_type_create(actor=request.user, data=form.to_data())
        except ServiceError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, f"Object type “{created.singular}” created; now add its fields.")
            return redirect(type_url(created))
    return render(request, "objects/type_form.html", {"form": form, "obj": None}, status=form_status(form))


@admins_only
@require_http_methods(["GET", "POST"])
def type_edit(request, key: str):
    """The type's form and its fields."""
    obj = get_type(key)
    form = TypeForm(request.POST or None, instance=obj)
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.object_type_update(obj, actor=request.user, data=form.to_data())
        except ServiceError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, f"Saved “{saved.singular}”.")
            return redirect(type_url(saved))
    fields = CustomField.objects.filter(object_type=obj.key).order_by("order", "id")
    context = {"form": form, "obj": obj, "fields": fields}
    return render(request, "objects/type_form.html", context, status=form_status(form))


@admins_only
@require_POST
def type_archive(request, key: str):
    """``archived=1`` archives (its records stay, read-only), anything else restores."""
    obj = get_type(key)
    archive = request.POST.get("archived") == "1"
    try:
        saved = services.object_type_update(obj, actor=request.user, data={"archived": archive})
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"“{saved.plural}” {'archived' if archive else 'restored'}.")
    return redirect(type_url(obj))


@admins_only
@require_http_methods(["GET", "POST"])
def type_delete(request, key: str):
    """Asks first, saying how many records go with the type; the service refuses without ``confirm``."""
    obj = get_type(key)
    error, status = None, 200
    if request.method == "POST":
        try:
            count = services.object_type_delete(obj, actor=request.user, confirm=request.POST.get("confirm") == "yes")
        except ServiceError as exc:
            error, status = exc, exc.status
        else:
            messages.success(request, f"“{obj.plural}” deleted" + (f" with {count} records." if count else "."))
            return redirect("object-settings:types")
    context = {
        "what": f"the object type “{obj.plural}”",
        "count": records_of(obj, request.user).count(),
        "counted": "records",
        "error": error,
        "action": reverse("object-settings:type-delete", args=[obj.key]),
        "back": type_url(obj),
        "obj": obj,
    }
    return render(request, "objects/confirm_delete.html", context, status=status)


def form_status(form) -> int:
    """422 for a form with errors: tests and scripts see the refusal; htmx swaps 422 answers in too."""
    return 422 if form.is_bound and form.errors else 200
