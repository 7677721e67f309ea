"""Create/edit forms of the main records. Each turns its input into the data dict its service takes."""

from __future__ import annotations

from django import forms
from django.conf import settings

from crm.records.models import LeadStatus, LifecycleStage, Stage, TaskPriority, TaskStatus
from crm.records.models.companies import CompanySize
from crm.web.forms.base import ServiceForm, picker, user_choices


def _blank(choices) -> list[tuple[str, str]]:
    return [("", "—"), *choices]


def tags_field() -> forms.CharField:
    return forms.CharField(label="Tags", required=False, help_text="Separated by commas.", max_length=1000)


def split_tags(raw: str) -> list[str]:
    return [t.strip() for t in (raw or "").split(",") if t.strip()]


def tag_text(obj) -> str:
    return ", ".join(t.name for t in obj.tags.all())


class OwnedForm(ServiceForm):
    owner = forms.ChoiceField(label="Owner", required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].choices = user_choices()
        if self.instance is None and not self.is_bound:
            self.initial.setdefault("owner", str(self.user.pk))
        # Owner and tags come after the record's own fields, custom fields last.
        names = [n for n in self.fields if n not in ("owner", "tags") and not n.startswith("cf_")]
        self.order_fields([*names, "owner", "tags"])

    def owner_data(self) -> dict:
        return {"owner_id": self.id_or_none("owner")}


class CompanyForm(OwnedForm):
    object_type = "company"
    aliases = {"domains": "domain"}

    name = forms.CharField(max_length=255)
    domain = forms.CharField(label="Website domain", max_length=255, required=False, help_text="e.g. acme.com")
    industry = forms.CharField(max_length=100, required=False)
    size = forms.ChoiceField(label="Employees", choices=_blank(CompanySize.choices), required=False)
    annual_revenue = forms.DecimalField(label="Annual revenue", max_digits=18, decimal_places=2, required=False)
    phone = forms.CharField(max_length=40, required=False)
    website = forms.URLField(max_length=500, required=False, assume_scheme="https")
    lifecycle_stage = forms.ChoiceField(label="Lifecycle stage", choices=_blank(LifecycleStage.choices), required=False)
    parent = picker("company", "Parent company")
    city = forms.CharField(max_length=100, required=False)
    country = forms.CharField(max_length=100, required=False)
    tags = tags_field()
    field_order = ["name", "domain", "industry", "size", "annual_revenue", "phone", "website", "lifecycle_stage"]

    def initial_from(self, obj) -> dict:
        return {
            "name": obj.name,
            "domain": obj.domain,
            "industry": obj.industry,
            "size": obj.size,
            "annual_revenue": obj.annual_revenue,
            "phone": obj.phone,
            "website": obj.website,
            "lifecycle_stage": obj.lifecycle_stage,
            "parent": obj.parent_id,
            "city": obj.city,
            "country": obj.country,
            "owner": str(obj.owner_id or ""),
            "tags": tag_text(obj),
        }

    def to_data(self) -> dict:
        c = self.cleaned_data
        return {
            **{k: c[k] for k in ("name", "domain", "industry", "size", "phone", "website", "lifecycle_stage")},
            **{k: c[k] for k in ("annual_revenue", "city", "country")},
            "parent_id": self.id_or_none("parent"),
            **self.owner_data(),
            "tags": split_tags(c["tags"]),
            "custom_fields": self.custom_data(),
        }


class ContactForm(OwnedForm):
    object_type = "contact"
    aliases = {"emails": "email", "phones": "phone"}

    first_name = forms.CharField(label="First name", max_length=100, required=False)
    last_name = forms.CharField(label="Last name", max_length=100, required=False)
    email = forms.CharField(label="Email", max_length=254, required=False, widget=forms.EmailInput)
    phone = forms.CharField(label="Phone", max_length=40, required=False, widget=forms.TextInput(attrs={"type": "tel"}))
    title = forms.CharField(label="Job title", max_length=150, required=False)
    company = picker("company", "Company")
    lifecycle_stage = forms.ChoiceField(label="Lifecycle stage", choices=_blank(LifecycleStage.choices), required=False)
    source = forms.CharField(max_length=100, required=False)
    email_opt_in = forms.BooleanField(label="Agrees to marketing email", required=False)
    city = forms.CharField(max_length=100, required=False)
    country = forms.CharField(max_length=100, required=False)
    tags = tags_field()

    def initial_from(self, obj) -> dict:
        keys = ("first_name", "last_name", "email", "phone", "title", "lifecycle_stage", "source", "email_opt_in")
        return {
            **{k: getattr(obj, k) for k in keys},
            "city": obj.city,
            "country": obj.country,
            "company": obj.company_id,
            "owner": str(obj.owner_id or ""),
            "tags": tag_text(obj),
        }

    def to_data(self) -> dict:
        c = self.cleaned_data
        keys = ("first_name", "last_name", "title", "lifecycle_stage", "source", "email_opt_in", "city", "country")
        return {
            **{k: c[k] for k in keys},
            "email": c["email"] or None,
            "phone": c["phone"] or None,
            "company_id": self.id_or_none("company"),
            **self.owner_data(),
            "tags": split_tags(c["tags"]),
            "custom_fields": self.custom_data(),
        }


class LeadForm(OwnedForm):
    object_type = "lead"

    first_name = forms.CharField(label="First name", max_length=100, required=False)
    last_name = forms.CharField(label="Last name", max_length=100, required=False)
    company_name = forms.CharField(label="Company", max_length=255, required=False)
    title = forms.CharField(label="Job title", max_length=150, required=False)
    email = forms.CharField(max_length=254, required=False, widget=forms.EmailInput)
    phone = forms.CharField(max_length=40, required=False, widget=forms.TextInput(attrs={"type": "tel"}))
    website = forms.URLField(max_length=500, required=False, assume_scheme="https")
    status = forms.ChoiceField(choices=LeadStatus.choices, initial=LeadStatus.NEW)
    disqualified_reason = forms.CharField(label="Disqualified because", max_length=255, required=False)
    source = forms.CharField(max_length=100, required=False)
    score = forms.IntegerField(required=False)
    tags = tags_field()

    KEYS = ("first_name", "last_name", "company_name", "title", "email", "phone", "website", "status")
    MORE = ("disqualified_reason", "source", "score")

    def initial_from(self, obj) -> dict:
        return {
            **{k: getattr(obj, k) for k in self.KEYS + self.MORE},
            "owner": str(obj.owner_id or ""),
            "tags": tag_text(obj),
        }

    def to_data(self) -> dict:
        c = self.cleaned_data
        return {
            **{k: c[k] for k in self.KEYS + self.MORE},
            **self.owner_data(),
            "tags": split_tags(c["tags"]),
            "custom_fields": self.custom_data(),
        }


def stage_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    groups: dict[str, list[tuple[str, str]]] = {}
    for stage in Stage.objects.select_related("pipeline").order_by("pipeline__order", "pipeline_id", "order", "id"):
        groups.setdefault(stage.pipeline.name, []).append((str(stage.pk), stage.name))
    return list(groups.items())


class DealForm(OwnedForm):
    object_type = "deal"
    aliases = {"pipeline_id": "stage"}

    name = forms.CharField(max_length=255)
    amount = forms.DecimalField(max_digits=18, decimal_places=2, required=False, min_value=0)
    currency = forms.CharField(max_length=3, min_length=3, initial=settings.DEFAULT_CURRENCY)
    stage = forms.TypedChoiceField(label="Pipeline stage", coerce=int)
    expected_close_date = forms.DateField(
        label="Expected close", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    company = picker("company", "Company")
    contact = picker("contact", "Main contact")
    probability = forms.IntegerField(
        label="Probability (%)",
        required=False,
        min_value=0,
        max_value=100,
        help_text="Leave empty to use the stage's probability.",
    )
    lost_reason = forms.CharField(label="Lost because", max_length=255, required=False)
    tags = tags_field()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["stage"].choices = stage_choices()
        if self.instance is not None:
            del self.fields["contact"]  # the deal's contacts are managed on its page

    def initial_from(self, obj) -> dict:
        return {
            "name": obj.name,
            "amount": obj.amount,
            "currency": obj.currency,
            "stage": obj.stage_id,
            "expected_close_date": obj.expected_close_date,
            "company": obj.company_id,
            "probability": obj.probability if obj.probability_overridden else None,
            "lost_reason": obj.lost_reason,
            "owner": str(obj.owner_id or ""),
            "tags": tag_text(obj),
        }

    def to_data(self) -> dict:
        c = self.cleaned_data
        data = {
            "name": c["name"],
            "amount": c["amount"],
            "currency": c["currency"].upper(),
            "stage_id": c["stage"],
            "expected_close_date": c["expected_close_date"],
            "company_id": self.id_or_none("company"),
            "probability": c["probability"],
            "lost_reason": c["lost_reason"],
            **self.owner_data(),
            "tags": split_tags(c["tags"]),
            "custom_fields": self.custom_data(),
        }
        if self.id_or_none("contact"):
            data["contacts"] = [{"contact_id": self.id_or_none("contact"), "role": "decision_maker"}]
        return data


class TaskForm(ServiceForm):
    object_type = "task"

    title = forms.CharField(max_length=255)
    due_at = forms.DateTimeField(
        label="Due", required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    priority = forms.ChoiceField(choices=TaskPriority.choices, initial=TaskPriority.NORMAL)
    status = forms.ChoiceField(choices=TaskStatus.choices, initial=TaskStatus.OPEN)
    assignee = forms.ChoiceField(label="Assigned to", required=False)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=100_000)
    company = picker("company", "Company")
    contact = picker("contact", "Contact")
    deal = picker("deal", "Deal")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].choices = user_choices()
        if self.instance is None and not self.is_bound:
            self.initial.setdefault("assignee", str(self.user.pk))

    def initial_from(self, obj) -> dict:
        return {
            "title": obj.title,
            "due_at": obj.due_at,
            "priority": obj.priority,
            "status": obj.status,
            "assignee": str(obj.assignee_id or ""),
            "description": obj.description,
            # The form edits the first linked record of each type (the service keeps the others
            # only when the field is left as it was: a changed picker replaces that type's links).
            **{t: next(iter(obj.linked_ids(t)), None) for t in ("company", "contact", "deal")},
        }

    def to_data(self) -> dict:
        c = self.cleaned_data
        return {
            **{k: c[k] for k in ("title", "due_at", "priority", "status", "description")},
            "assignee_id": self.id_or_none("assignee"),
            "company_id": self.id_or_none("company"),
            "contact_id": self.id_or_none("contact"),
            "deal_id": self.id_or_none("deal"),
            "custom_fields": self.custom_data(),
        }
