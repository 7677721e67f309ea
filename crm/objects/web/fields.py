"""Settings → Objects → a type's fields: add, change, move and delete field definitions, all through
crm/customization/services.py. A refused type change shows the service's preview of the values
records hold; a field holding values is deleted only after a confirmation that gives their count."""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.db.models import Max
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from crm.core.errors import ServiceError
from crm.customization import values
from crm.customization.models import CustomField
from crm.customization.services import ValuesHeld, custom_field_create, custom_field_delete, custom_field_update
from crm.objects.selectors import get_type
from crm.objects.web.access import admins_only
from crm.objects.web.forms import FieldForm
from crm.objects.web.views import form_status, type_url


def _field(object_type, pk: int) -> CustomField:
    return get_object_or_404(CustomField, object_type=object_type.key, pk=pk)


@admins_only
@require_http_methods(["GET", "POST"])
def field_create(request, key: str):
    obj = get_type(key)
    form = FieldForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        last = CustomField.objects.filter(object_type=obj.key).aggregate(m=Max("order"))["m"]
        data = {**form.to_data(), "object_type": obj.key, "order": (last or 0) + 1}
        try:
            created = custom_field_create(actor=request.user, data=data)
        except ServiceError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, f"Field “{created.label}” added.")
            return redirect(type_url(obj))
    context = {"form": form, "type": obj, "field": None}
    return render(request, "objects/field_form.html", context, status=form_status(form))


@admins_only
@require_http_methods(["GET", "POST"])
def field_edit(request, key: str, pk: int):
    obj = get_type(key)
    field = _field(obj, pk)
    form = FieldForm(request.POST or None, instance=field)
    preview = None
    if request.method == "POST" and form.is_valid():
        try:
            saved = custom_field_update(field, actor=request.user, data=form.to_data())
        except ValuesHeld as exc:
            form.add_service_error(exc)
            preview = exc.preview
        except ServiceError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, f"Field “{saved.label}” saved.")
            return redirect(type_url(obj))
    context = {"form": form, "type": obj, "field": field, "preview": preview}
    return render(request, "objects/field_form.html", context, status=form_status(form))


@admins_only
@require_POST
def field_move(request, key: str, pk: int):
    """One place up or down: the fields are renumbered 1, 2, 3... in their new order (each change logged)."""
    obj = get_type(key)
    field = _field(obj, pk)
    step = -1 if request.POST.get("direction") == "up" else 1
    with transaction.atomic():
        fields = list(CustomField.objects.filter(object_type=obj.key).order_by("order", "id"))
        at = fields.index(field)
        if 0 <= at + step < len(fields):
            fields[at], fields[at + step] = fields[at + step], fields[at]
        try:
            for order, f in enumerate(fields, start=1):
                if f.order != order:
                    custom_field_update(f, actor=request.user, data={"order": order})
        except ServiceError as exc:
            transaction.set_rollback(True)
            messages.error(request, exc.message)
    return redirect(type_url(obj) + "#fields")


@admins_only
@require_http_methods(["GET", "POST"])
def field_delete(request, key: str, pk: int):
    """Asks first, saying how many records hold values; the service refuses without ``confirm``."""
    obj = get_type(key)
    field = _field(obj, pk)
    error, status = None, 200
    if request.method == "POST":
        try:
            count = custom_field_delete(field, actor=request.user, confirm=request.POST.get("confirm") == "yes")
        except ServiceError as exc:
            error, status = exc, exc.status
        else:
            messages.success(request, f"Field “{field.label}” deleted; its values were removed from {count} records.")
            return redirect(type_url(obj))
    context = {
        "what": f"the field “{field.label}” of {obj.plural}",
        "count": sum(1 for _ in values.stored(field)),
        "counted": "records holding a value of it",
        "error": error,
        "action": reverse("object-settings:field-delete", args=[obj.key, field.pk]),
        "back": type_url(obj),
    }
    return render(request, "objects/confirm_delete.html", context, status=status)
