"""Quick-add on a record page (note, call, meeting, task) and the lead conversion form."""

from __future__ import annotations

from django import forms
from django.utils import timezone

from crm.records.models import ActivityKind, TaskPriority
from crm.web.forms.base import ServiceForm, picker
from crm.web.forms.records import stage_choices

QUICK_KINDS = ("note", "call", "meeting", "task")


class ActivityForm(ServiceForm):
    """A note, call or meeting logged against the record whose page it is on."""

    object_type = "activity"

    kind = forms.ChoiceField(choices=[(k, k) for k in (ActivityKind.NOTE, ActivityKind.CALL, ActivityKind.MEETING)])
    subject = forms.CharField(max_length=255, required=False)
    body = forms.CharField(label="Notes", widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=100_000)
    occurred_at = forms.DateTimeField(
        label="When", required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    duration_minutes = forms.IntegerField(label="Minutes", required=False, min_value=0, max_value=24 * 60)
    outcome = forms.CharField(max_length=50, required=False)
    direction = forms.ChoiceField(choices=[("", "—"), ("outbound", "Outbound"), ("inbound", "Inbound")], required=False)

    def clean(self):
        c = super().clean()
        if not (c.get("subject") or c.get("body")):
            # The body may be hidden from the role (then not a field of the form).
            self.add_error("body" if "body" in self.fields else None, "Write a subject or a note.")
        return c

    def to_data(self) -> dict:
        c = self.cleaned_data
        data = {k: c[k] for k in ("kind", "subject", "body", "duration_minutes", "outcome", "direction")}
        data["occurred_at"] = c["occurred_at"] or timezone.now()
        data["custom_fields"] = self.custom_data()
        return data


class QuickTaskForm(ServiceForm):
    object_type = "task"

    title = forms.CharField(max_length=255)
    due_at = forms.DateTimeField(
        label="Due", required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    priority = forms.ChoiceField(choices=TaskPriority.choices, initial=TaskPriority.NORMAL)

    def _add_custom_fields(self, instance) -> None:
        self.custom = {}  # required custom fields are filled in on the full task form

    def to_data(self) -> dict:
        return {k: self.cleaned_data[k] for k in ("title", "due_at", "priority")}


class ConvertForm(forms.Form):
    """Choose or create the contact and company; optionally open a deal."""

    contact = picker("contact", "Use an existing contact")
    company = picker("company", "Use an existing company")
    create_company = forms.BooleanField(label="Create the company when none matches", required=False, initial=True)
    create_deal = forms.BooleanField(label="Open a deal", required=False, initial=True)
    deal_name = forms.CharField(label="Deal name", max_length=255, required=False)
    deal_amount = forms.DecimalField(label="Amount", max_digits=18, decimal_places=2, required=False, min_value=0)
    deal_stage = forms.TypedChoiceField(label="Pipeline stage", coerce=int, required=False, empty_value=None)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, label_suffix="", **kwargs)
        self.user = user
        for name in ("contact", "company"):
            self.fields[name].widget.user = user
        self.fields["deal_stage"].choices = [("", "Default pipeline, first stage"), *stage_choices()]

    def clean(self):
        c = super().clean()
        if c.get("create_deal") and not c.get("deal_name"):
            self.add_error("deal_name", "A deal needs a name.")
        return c

    def deal_data(self) -> dict | None:
        c = self.cleaned_data
        if not c.get("create_deal"):
            return None
        data = {"name": c["deal_name"], "amount": c.get("deal_amount")}
        if c.get("deal_stage"):
            data["stage_id"] = c["deal_stage"]
        return data
