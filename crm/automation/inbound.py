"""Web-to-lead: a public form (HTML or JSON) creates a lead through lead_create.

Spam protection: a honeypot field people never see (bots fill it) and a per-IP rate limit kept in
a table, so it holds across processes and machines. The lead is owned by the form's owner, or by
the next member of its team in round-robin; a ``form.submitted`` event lets rules react.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from crm.automation import assignment
from crm.automation.models import InboundHit, WebForm
from crm.automation.system import automation_user
from crm.core import context, events
from crm.core.errors import BadRequest, NotFound, ServiceError, ValidationFailed

HONEYPOT = "nickname"
FIELDS = ("first_name", "last_name", "email", "phone", "company_name", "title", "website")
RATE_LIMIT = 5  # submissions per IP
RATE_WINDOW = timedelta(minutes=10)


class Throttled(ServiceError):
    status = 429
    code = "throttled"


def get_form(slug: str) -> WebForm:
    form = WebForm.objects.filter(slug=slug, enabled=True).select_related("owner").first()
    if form is None:
        raise NotFound(f"No form {slug!r}.")
    return form


def _throttle(ip: str) -> None:
    now = timezone.now()
    with transaction.atomic():
        recent = InboundHit.objects.filter(ip=ip, at__gte=now - RATE_WINDOW).count()
        if recent >= RATE_LIMIT:
            raise Throttled("Too many submissions from your address; try again in a few minutes.")
        InboundHit.objects.create(ip=ip, at=now)
    InboundHit.objects.filter(at__lt=now - RATE_WINDOW * 6).delete()  # keep the table small


def _owner_id(form: WebForm) -> int | None:
    if form.assign_team_id:
        chosen = assignment.round_robin(f"form:{form.pk}", assignment.candidates({"team_id": form.assign_team_id}))
        if chosen:
            return chosen
    return form.owner_id


def submit(slug: str, data: dict, *, ip: str):
    from crm.records.services.leads import lead_create

    form = get_form(slug)
    if str(data.get(HONEYPOT) or "").strip():
        raise BadRequest("The submission was rejected as spam.", code="spam")
    clean = {k: str(data[k]).strip()[:255] for k in FIELDS if data.get(k) not in (None, "")}
    if not (clean.get("email") or clean.get("phone")):
        raise ValidationFailed({"email": "Give an email or a phone number."})
    _throttle(ip)
    actor = automation_user()
    with transaction.atomic(), context.change_context(source="web-form"):
        lead = lead_create(actor=actor, data={**clean, "source": form.lead_source, "owner_id": _owner_id(form)}).obj
        events.emit("form.submitted", lead, actor=actor, changes={"form": form.slug})
    return form, lead
