"""Compose a message from a record page (/mail/compose/?type=contact&id=42) or on its own: to/cc/bcc
with address completion, subject, a formatted body, attachments and a template picker. Sending is
``outbox.queue_email``: the service validates (addresses named in the error, the recipient cap,
attachment sizes) and writes nothing when it refuses; the refusal is shown in place (422)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from crm.core import recordtypes
from crm.core.errors import NotFound, ServiceError, ValidationFailed
from crm.mail import attachments as attachment_files
from crm.mail import merge, outbox, templates_service, tracking
from crm.mail.models import EmailStatus, Tracking
from crm.mail.sanitize import clean_html, text_of
from crm.mail.web import recipients, replies
from crm.web.views.helpers import page_errors

ADDRESS_FIELDS = ("to", "cc", "bcc")
# Where each service error key is shown on the form.
FIELD_OF = {k: k for k in ("to", "cc", "bcc", "subject", "body_html", "attachments")}


def _about(request):
    """The record composed from (?type=&id=, or the posted ones), None for none; 404 if not visible."""
    source = request.POST if request.method == "POST" else request.GET
    kind, pk = source.get("type", ""), source.get("id", "")
    if not kind and not pk:
        return None
    rt = recordtypes.by_type(kind)
    if rt is None or not rt.timeline or not str(pk).isdigit():
        raise NotFound("No such record to write about.")
    return templates_service.visible_record(request.user, kind, int(pk))


def _record_url(record) -> str:
    rt = recordtypes.by_type(record.object_type)
    return reverse("web:record-detail", args=[rt.slug, record.pk]) if rt is not None and rt.pages else ""


def _template_choices(user, record):
    kind = record.object_type if record is not None else ""
    rows = templates_service.visible(user)
    return [t for t in rows if not t.record_type or t.record_type == kind]


def _field_errors(exc: ServiceError) -> tuple[dict[str, list[str]], list[str]]:
    fields: dict[str, list[str]] = {}
    general: list[str] = []
    for key, message in exc.fields.items():
        target = FIELD_OF.get(key.split(".", 1)[0])
        if target:
            fields.setdefault(target, []).append(message)
        else:
            general.append(message)
    if not exc.fields:
        general.append(exc.message)
    return fields, general


def _context(request, record, values: dict, errors=None, general=None) -> dict:
    return {
        "record": record,
        "record_url": _record_url(record) if record is not None else "",
        "templates": _template_choices(request.user, record),
        "values": values,
        "errors": errors or {},
        "general": general or [],
        "tracking": Tracking(tracking.preference(request.user)).label,
    }


@login_required
@page_errors
@require_http_methods(["GET", "POST"])
def compose(request):
    record = _about(request)
    if request.method == "GET":
        if request.GET.get("reply"):  # "Reply" on a conversation's message
            values = replies.prefill(request.user, request.GET["reply"])
            return render(request, "mail/compose.html", _context(request, record, values))
        to = ", ".join(recipients.of_record(request.user, record)) if record is not None else ""
        return render(request, "mail/compose.html", _context(request, record, {"to": to}))
    post = request.POST
    values = {k: post.get(k, "") for k in (*ADDRESS_FIELDS, "subject", "body_html", "template", "reply")}
    files = request.FILES.getlist("attachments")
    try:
        missing = _missing(values, files)
        if missing:
            _check_only(request, record, values, files, missing)  # show the service's refusals too
        email = _queue(request, record, values, files)
    except ServiceError as exc:
        fields, general = _field_errors(exc)
        values["body_html"] = clean_html(values["body_html"])  # shown again in the editor: cleaned
        return render(request, "mail/compose.html", _context(request, record, values, fields, general), status=422)
    if email.status == EmailStatus.NOT_SENT:
        messages.warning(request, f"“{email.subject}” is in the outbox, {email.last_error}.")
    else:
        messages.success(request, f"“{email.subject}” is queued and will be sent in a moment.")
    return redirect((_record_url(record) if record is not None else "") or reverse("mail:outbox"))


def _queue(request, record, values: dict, files):
    links = [{"type": record.object_type, "id": record.pk}] if record is not None else []
    return outbox.queue_email(
        actor=request.user,
        subject=values["subject"],
        body_html=values["body_html"],
        links=links,
        attachments=files,
        reply_to_message=values.get("reply") or None,
        **{k: recipients.split(values[k]) for k in ADDRESS_FIELDS},
    )


def _missing(values: dict, files) -> dict[str, str]:
    """A subject and a body (or a file) are what a message needs; the service reports the rest."""
    errors = {}
    if not " ".join(values["subject"].split()):
        errors["subject"] = "Give the message a subject."
    if not text_of(clean_html(values["body_html"])) and not files:
        errors["body_html"] = "Write a message (or choose a template)."
    return errors


def _check_only(request, record, values: dict, files, missing: dict) -> None:
    """ValidationFailed with ``missing`` and the service's own refusals of the rest; nothing is kept."""
    errors = dict(missing)
    attachment_files.check(files, errors)
    try:
        with transaction.atomic():
            _queue(request, record, {**values, "subject": "-", "body_html": "-"}, [])
            transaction.set_rollback(True)  # a check: the row and its job go
    except ServiceError as exc:
        errors.update(exc.fields)
    raise ValidationFailed(errors)


@login_required
@require_GET
def addresses(request):
    """htmx: the visible contacts and leads matching the last address being typed in to/cc/bcc."""
    field = next((f for f in ADDRESS_FIELDS if f in request.GET), "to")
    typed = request.GET.get(field, "").replace(";", ",").rsplit(",", 1)[-1]
    rows = recipients.suggest(request.user, typed)
    return render(request, "mail/parts/address_options.html", {"rows": rows, "field": field})


@login_required
@page_errors
@require_GET
def fill_template(request):
    """htmx: the subject and body of the chosen template, rendered with the record and the sender."""
    record = _about(request)
    pk = request.GET.get("template", "")
    values = {"subject": request.GET.get("subject", ""), "body_html": request.GET.get("body_html", "")}
    error = ""
    if str(pk).isdigit():
        template = templates_service.get_visible(request.user, int(pk))
        try:
            values = rendered(request.user, template, record)
        except ServiceError as exc:
            error = "; ".join(exc.fields.values()) or exc.message
    return render(request, "mail/parts/message_fields.html", {"values": values, "errors": {}, "template_error": error})


def rendered(user, template, record) -> dict:
    """The template for ``record`` (None: only the sender's fields); a merge field the record lacks, or a
    template for another record type, is a ValidationFailed naming it."""
    kind = record.object_type if record is not None else ""
    if template.record_type and template.record_type != kind:
        wanted = recordtypes.by_type(template.record_type)
        label = wanted.singular if wanted is not None else template.record_type
        raise ValidationFailed({"template": f"“{template.name}” is a template for {label} records."})
    merge.validate(template.subject, kind, field="subject")  # fields removed since it was saved
    merge.validate(template.body_html, kind, field="body_html")
    return templates_service.render(template, record=record, sender=user)
