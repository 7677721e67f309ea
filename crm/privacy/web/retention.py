"""Settings → Privacy → Retention: the policies with what the next run would do (the dry run), a
form to add one (a record type, delete or anonymize, after how many months, optionally only the
records in one status) and a button to delete one. The rules are the service's
(crm.privacy.retention): its errors are shown on the form. Admins only."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from crm.core import recordtypes
from crm.core.errors import ValidationFailed
from crm.privacy import retention
from crm.privacy.models import RetentionPolicy
from crm.web.views.helpers import admin_page

admins_only = admin_page(retention.WHAT)


class PolicyForm(forms.Form):
    object_type = forms.ChoiceField(label="Records")
    action = forms.ChoiceField(choices=RetentionPolicy.ACTIONS)
    months = forms.IntegerField(min_value=1, max_value=retention.MAX_MONTHS, initial=24)
    field = forms.ChoiceField(choices=RetentionPolicy.FIELDS, label="Counted from")
    status = forms.CharField(required=False, max_length=40, help_text="Only records in this status; empty: any.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["object_type"].choices = [(rt.object_type, rt.label) for rt in recordtypes.all_types()]


def _statuses() -> list[tuple[str, str]]:
    """(type label, its status values) for the form's help: what ``status`` may be per type."""
    out = []
    for rt in recordtypes.all_types():
        f = retention.status_field(rt)
        if f is not None:
            out.append((rt.label, ", ".join(value for value, _label in f.choices)))
    return out


@admins_only
@require_http_methods(["GET", "POST"])
def retention_page(request):
    form = PolicyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            retention.policy_create(actor=request.user, data=form.cleaned_data)
        except ValidationFailed as exc:
            for key, message in (exc.fields or {}).items():
                form.add_error(key if key in form.fields else None, message)
        else:
            messages.success(request, "Retention policy added.")
            return redirect("privacy-settings:retention")
    context = {
        "form": form,
        "policies": RetentionPolicy.objects.all(),
        "report": {row["policy"]: row for row in retention.report()},
        "statuses": _statuses(),
    }
    return render(request, "privacy/retention.html", context, status=422 if form.errors else 200)


@admins_only
@require_POST
def retention_delete(request, pk: int):
    retention.policy_delete(get_object_or_404(RetentionPolicy, pk=pk), actor=request.user)
    messages.success(request, "Retention policy deleted.")
    return redirect("privacy-settings:retention")
