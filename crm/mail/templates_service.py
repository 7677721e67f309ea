"""Mail templates: who sees and changes them, and their writes (validated, logged through configwrites).

A personal template (``shared`` false) is its owner's alone: only they see, change or delete it. A
shared one is seen by everyone and changed or deleted by admins and managers (a team's manager, or the
sales-manager role); making a template shared needs the same. Merge fields are checked on save: a field
the record type lacks is refused, naming it (crm/mail/merge.py)."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from crm.access.managers import MANAGER_ROLES, is_manager  # noqa: F401  (here before crm/access had it)
from crm.audit import configwrites
from crm.core import recordtypes
from crm.core.errors import NotFound, PermissionDenied, ValidationFailed
from crm.mail import merge
from crm.mail.models import EmailTemplate
from crm.mail.sanitize import clean_html

FIELDS = ("name", "category", "record_type", "subject", "body_html", "shared")


def visible(user):
    return EmailTemplate.objects.filter(Q(shared=True) | Q(owner_id=user.pk))


def get_visible(user, pk: int) -> EmailTemplate:
    found = visible(user).filter(pk=pk).first()
    if found is None:
        raise NotFound(f"No email template with id {pk}.")
    return found


def may_manage(actor, template: EmailTemplate) -> bool:
    """Whether ``actor`` may change or delete ``template`` (its owner; admins and managers, a shared one)."""
    return _may_manage(actor, template)


def _may_manage(actor, template: EmailTemplate) -> bool:
    if template.shared:
        return is_manager(actor)
    return template.owner_id == actor.pk


def _check(template: EmailTemplate) -> None:
    if template.record_type:
        rt = recordtypes.by_type(template.record_type)
        if rt is None:
            raise ValidationFailed({"record_type": f"No record type {template.record_type!r}."})
    if not (template.name or "").strip():
        raise ValidationFailed({"name": "Give the template a name."})
    if not (template.subject or "").strip():
        raise ValidationFailed({"subject": "Give the template a subject."})
    merge.validate(template.subject, template.record_type, field="subject")
    merge.validate(template.body_html, template.record_type, field="body_html")
    template.body_html = clean_html(template.body_html)
    merge.validate(template.body_html, template.record_type, field="body_html")  # still valid once cleaned


def _cleaned(data: dict) -> dict:
    out = {k: data[k] for k in FIELDS if k in data and data[k] is not None}
    for key in ("name", "category", "record_type"):
        if key in out:
            out[key] = str(out[key]).strip()
    return out


@transaction.atomic
def template_create(*, actor, data: dict) -> EmailTemplate:
    data = _cleaned(data)
    template = EmailTemplate(owner=actor, **data)
    if template.shared and not is_manager(actor):
        raise PermissionDenied("Only admins and managers may share templates.")
    return configwrites.create(template, actor=actor, check=_check)


@transaction.atomic
def template_update(template: EmailTemplate, *, actor, data: dict) -> EmailTemplate:
    if not _may_manage(actor, template):
        raise PermissionDenied("Only its owner changes a personal template; admins and managers, a shared one.")
    data = _cleaned(data)
    if data.get("shared") and not template.shared and not is_manager(actor):
        raise PermissionDenied("Only admins and managers may share templates.")
    data["updated_at"] = timezone.now()
    return configwrites.update(template, actor=actor, data=data, fields=(*FIELDS, "updated_at"), check=_check)


@transaction.atomic
def template_delete(template: EmailTemplate, *, actor) -> None:
    if not _may_manage(actor, template):
        raise PermissionDenied("Only its owner deletes a personal template; admins and managers, a shared one.")
    configwrites.delete(template, actor=actor)


def preview(template: EmailTemplate, *, actor, record_type: str, record_id: int) -> dict:
    """The template rendered with a record the actor can see (404 otherwise), as it would be sent."""
    record = visible_record(actor, record_type, record_id)
    if template.record_type and template.record_type != record_type:
        raise ValidationFailed({"record_type": f"This template is for {template.record_type} records."})
    return render(template, record=record, sender=actor)


def render(template: EmailTemplate, *, record, sender) -> dict:
    body = clean_html(merge.render(template.body_html, record, sender, html=True))
    subject = " ".join(merge.render(template.subject, record, sender, html=False).split())  # one header line
    return {"subject": subject[:255], "body_html": body}


def visible_record(actor, record_type: str, record_id: int):
    rt = recordtypes.by_type(record_type)
    record = None
    if rt is not None and isinstance(record_id, int):
        record = rt.restricted(actor, "view").filter(pk=record_id).first()
    if record is None:
        raise NotFound(f"No {record_type} with id {record_id}.")
    return record
