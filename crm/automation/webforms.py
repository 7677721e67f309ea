"""Web-to-lead forms, managed by admins: every edge (API, admin screens) writes through these, which
check the actor, validate and write the change log. The public side (embed, submit) is inbound.py."""

from __future__ import annotations

from django.db import transaction

from crm.access.models import Team
from crm.audit import changelog, configwrites
from crm.automation.models import WebForm
from crm.automation.rules import require_admin
from crm.automation.validation import active_user, check_model, has_nul, refuse_nulls, valid_id

FIELDS = ("slug", "name", "enabled", "owner_id", "assign_team_id", "lead_source", "success_message")
NULLABLE = ("owner_id", "assign_team_id")


def assign(form: WebForm, data: dict) -> WebForm:
    """Copy ``data`` (FIELDS only) onto ``form`` and validate the result; ValidationFailed names the field."""
    refuse_nulls(data, [name for name in FIELDS if name not in NULLABLE])
    for name in FIELDS:
        if name in data:
            setattr(form, name, data[name])
    errors = {}
    # Checked here, not left to the foreign key: an unknown id would only fail at commit (a 500).
    if "owner_id" in data and form.owner_id is not None and active_user(form.owner_id) is None:
        errors["owner_id"] = f"No active user with id {form.owner_id}."
    if "assign_team_id" in data and form.assign_team_id is not None:
        pk = form.assign_team_id
        if not (valid_id(pk) and Team.objects.filter(pk=pk).exists()):
            errors["assign_team_id"] = f"No team with id {pk}."
    slug = form.slug
    if "slug" in data and isinstance(slug, str) and not has_nul(slug) and _taken(slug, form.pk):
        errors["slug"] = "A form with this slug exists."
    check_model(form, exclude=("owner", "assign_team"), errors=errors)
    return form


def _taken(slug: str, pk: int | None) -> bool:
    return WebForm.objects.filter(slug=slug).exclude(pk=pk).exists()


@transaction.atomic
def webform_create(*, actor, data: dict) -> WebForm:
    require_admin(actor)
    form = assign(WebForm(), data)
    form.save(force_insert=True)
    changelog.log_create(actor, form)
    return form


@transaction.atomic
def webform_update(form: WebForm, *, actor, data: dict) -> WebForm:
    require_admin(actor)
    form = configwrites.locked(WebForm, form.pk)  # the stored row: the log's "before" is what was there
    before = changelog.snapshot(form)
    assign(form, data)
    form.save()
    changelog.log_update(actor, form, before)
    return form


@transaction.atomic
def webform_delete(form: WebForm, *, actor) -> None:
    require_admin(actor)
    configwrites.delete(form, actor=actor)
