"""The automation API at /api/v1/automation: rules (admins), run history, notifications,
webhooks (admins), web-to-lead forms (public submit), and the job queue's state (admins).

Not using ``from __future__ import annotations``: Ninja reads the annotations at definition time.
"""

import base64
import datetime as dt
import hashlib
import html
import json
from typing import Annotated, Literal

from django.http import HttpResponse, JsonResponse
from ninja import Router, Schema, Status
from pydantic import Field, StringConstraints

from crm.api.openapi import names_of
from crm.automation import engine, inbound, notifications, rules, triggers, webforms, webhooks
from crm.automation.api_schemas import FormIn, PreferenceIn, WebhookIn, WebhookPatch
from crm.automation.conditions import models_by_type, records_of
from crm.automation.models import Job, Notification, Rule, RuleRun, WebForm, WebhookDelivery, WebhookSubscription
from crm.core.errors import BadRequest, ValidationFailed
from crm.records.services.common import get_visible

router = Router(tags=["automation"])


# What rules._validate checks first, declared: a name, a type rules fire on (listed when the document is
# served), a trigger type. Which trigger fits which type, and the rule language in trigger, conditions
# and actions, are the rule engine's to check.
RuleName = Annotated[str, StringConstraints(min_length=1, max_length=150, pattern=r"\S")]
RuleType = names_of("rule-types", lambda: list(models_by_type()))
TriggerType = Literal[triggers.TRIGGER_TYPES]


class RuleIn(Schema):
    name: RuleName
    description: str = ""
    enabled: bool = True
    object_type: RuleType
    trigger_type: TriggerType
    trigger: dict = Field(default_factory=dict)
    conditions: dict = Field(default_factory=dict)
    actions: list[dict]


class RulePatch(Schema):
    name: RuleName | None = None
    description: str | None = None
    enabled: bool | None = None
    object_type: RuleType | None = None
    trigger_type: TriggerType | None = None
    trigger: dict | None = None
    conditions: dict | None = None
    actions: list[dict] | None = None


class RuleOut(Schema):
    id: int
    name: str
    description: str
    enabled: bool
    object_type: str
    trigger_type: str
    trigger: dict
    conditions: dict
    actions: list
    owner_id: int | None
    created_at: dt.datetime
    updated_at: dt.datetime


class RunOut(Schema):
    id: int
    rule_id: int
    rule_name: str = Field(alias="rule.name")
    object_type: str
    object_id: int | None
    trigger: str
    status: str
    depth: int
    log: list
    error: str
    attempts: int
    started_at: dt.datetime
    finished_at: dt.datetime | None


class TestIn(Schema):
    object_id: int
    changes: dict | None = None


def _limit(limit: int) -> int:
    return max(1, min(limit, 200))


@router.get("/rules", response=list[RuleOut], summary="Workflow rules (admins)")
def list_rules(request):
    rules.require_admin(request.user)
    return list(Rule.objects.order_by("id"))


@router.post("/rules", response={201: RuleOut}, summary="Create a rule (admins)")
def create_rule(request, payload: RuleIn):
    return Status(201, rules.rule_create(actor=request.user, data=payload.model_dump()))


@router.get("/rules/{int:pk}", response=RuleOut, summary="One rule (admins)")
def get_rule(request, pk: int):
    return rules.get_rule(request.user, pk)


@router.patch("/rules/{int:pk}", response=RuleOut, summary="Change a rule (admins)")
def update_rule(request, pk: int, payload: RulePatch):
    rule = rules.get_rule(request.user, pk)
    return rules.rule_update(rule, actor=request.user, data=payload.model_dump(exclude_unset=True))


@router.delete("/rules/{int:pk}", response={204: None}, summary="Delete a rule (admins)")
def delete_rule(request, pk: int):
    rules.rule_delete(rules.get_rule(request.user, pk), actor=request.user)
    return Status(204, None)


@router.post("/rules/{int:pk}/test", summary="Test mode: what the rule would do on a record, doing nothing")
def test_rule(request, pk: int, payload: TestIn):
    rule = rules.get_rule(request.user, pk)
    return engine.dry_run(rule, payload.object_id, changes=payload.changes)


@router.get("/rules/{int:pk}/runs", response=list[RunOut], summary="A rule's run history (admins)")
def rule_runs(request, pk: int, limit: int = 50):
    rule = rules.get_rule(request.user, pk)
    return list(rule.runs.select_related("rule").order_by("-started_at", "-id")[: _limit(limit)])


@router.get("/runs", response=list[RunOut], summary="Automation runs on one record you can see")
def record_runs(request, object_type: RuleType, object_id: int, limit: int = 50):
    if object_type not in models_by_type():
        # A query parameter on a GET: a 400, as every list's unusable filter is (a 422 is for bodies).
        raise BadRequest("Unknown record type.", fields={"object_type": f"Use one of {', '.join(models_by_type())}."})
    get_visible(records_of(object_type), request.user, object_id)
    runs = RuleRun.objects.filter(object_type=object_type, object_id=object_id).select_related("rule")
    return list(runs.order_by("-started_at", "-id")[: _limit(limit)])


# --- notifications ---------------------------------------------------------------------------------


class NotificationOut(Schema):
    id: int
    kind: str
    title: str
    body: str
    object_type: str
    object_id: int | None
    created_at: dt.datetime
    read_at: dt.datetime | None


class ReadIn(Schema):
    ids: list[int] | None = None


@router.get("/notifications", response=list[NotificationOut], summary="My notifications, newest first")
def my_notifications(request, unread: bool = False, limit: int = 50):
    qs = Notification.objects.filter(user=request.user)
    if unread:
        qs = qs.filter(read_at__isnull=True)
    return list(qs.order_by("-created_at", "-id")[: _limit(limit)])


@router.get("/notifications/unread-count", summary="The bell's number")
def unread_count(request):
    return {"unread": notifications.unread_count(request.user)}


@router.post("/notifications/read", summary="Mark some (ids) or all of my notifications read")
def mark_read(request, payload: ReadIn):
    return {"marked": notifications.mark_read(request.user, payload.ids)}


@router.get("/notification-preferences", summary="How I get each kind of notification")
def get_preferences(request):
    return [
        dict(zip(("kind", "in_app", "email"), (k, *notifications.preference(request.user, k)), strict=True))
        for k in notifications.KINDS
    ]


@router.put("/notification-preferences", summary="Set how I get one kind of notification")
def set_preference(request, payload: PreferenceIn):
    pref = notifications.set_preference(request.user, payload.kind, in_app=payload.in_app, email=payload.email)
    return {"kind": pref.kind, "in_app": pref.in_app, "email": pref.email}


# --- webhooks --------------------------------------------------------------------------------------


class WebhookOut(Schema):
    id: int
    name: str
    url: str
    event_types: list
    object_types: list
    enabled: bool
    role_id: int | None = Field(description="The role whose field rules shape the payloads; null: every field.")
    consecutive_failures: int
    disabled_reason: str
    created_at: dt.datetime


class WebhookCreated(WebhookOut):
    secret: str


class DeliveryOut(Schema):
    id: int
    event_id: str
    event_type: str
    status: str
    attempts: int
    response_status: int | None
    error: str
    duration_ms: int | None
    created_at: dt.datetime
    last_attempt_at: dt.datetime | None

    @staticmethod
    def resolve_event_id(obj):
        return str(obj.event_id)


@router.get("/webhooks", response=list[WebhookOut], summary="Webhook subscriptions (admins)")
def list_webhooks(request):
    rules.require_admin(request.user)
    return list(WebhookSubscription.objects.order_by("id"))


@router.post("/webhooks", response={201: WebhookCreated}, summary="Subscribe a URL; the signing secret is shown once")
def create_webhook(request, payload: WebhookIn):
    return Status(201, webhooks.webhook_create(actor=request.user, data=payload.model_dump()))


@router.patch("/webhooks/{int:pk}", response=WebhookOut, summary="Change or re-enable a subscription (admins)")
def update_webhook(request, pk: int, payload: WebhookPatch):
    sub = webhooks.get_subscription(request.user, pk)
    return webhooks.webhook_update(sub, actor=request.user, data=payload.model_dump(exclude_unset=True))


@router.delete("/webhooks/{int:pk}", response={204: None}, summary="Delete a subscription (admins)")
def delete_webhook(request, pk: int):
    webhooks.webhook_delete(webhooks.get_subscription(request.user, pk), actor=request.user)
    return Status(204, None)


@router.get("/webhooks/{int:pk}/deliveries", response=list[DeliveryOut], summary="The delivery log (admins)")
def deliveries(request, pk: int, limit: int = 50):
    sub = webhooks.get_subscription(request.user, pk)
    return list(WebhookDelivery.objects.filter(subscription=sub).order_by("-created_at", "-id")[: _limit(limit)])


# --- web-to-lead (public) --------------------------------------------------------------------------


class FormOut(Schema):
    id: int
    slug: str
    name: str
    enabled: bool
    owner_id: int | None
    assign_team_id: int | None
    lead_source: str


@router.get("/forms", response=list[FormOut], summary="Web-to-lead forms (admins)")
def list_forms(request):
    rules.require_admin(request.user)
    return list(WebForm.objects.order_by("id"))


@router.post("/forms", response={201: FormOut}, summary="Create a web-to-lead form (admins)")
def create_form(request, payload: FormIn):
    return Status(201, webforms.webform_create(actor=request.user, data=payload.model_dump()))


def _client_ip(request) -> str:
    return request.META.get("REMOTE_ADDR") or "0.0.0.0"


def _form_html(form: WebForm, message: str = "", errors: dict | None = None) -> str:
    labels = {
        "first_name": "First name",
        "last_name": "Last name",
        "email": "Email",
        "phone": "Phone",
        "company_name": "Company",
        "title": "Job title",
        "website": "Website",
    }
    rows = "".join(
        f'<p><label>{label}<br><input name="{name}" type="{"email" if name == "email" else "text"}"></label></p>'
        for name, label in labels.items()
    )
    errs = "".join(f"<li>{html.escape(k)}: {html.escape(v)}</li>" for k, v in (errors or {}).items())
    return (
        f"<!doctype html><html><head><meta charset=utf-8><title>{html.escape(form.name)}</title></head><body>"
        f"<h1>{html.escape(form.name)}</h1>{f'<p role=status>{html.escape(message)}</p>' if message else ''}"
        f"{f'<ul role=alert>{errs}</ul>' if errs else ''}"
        f'<form method="post" action="/api/v1/automation/forms/{html.escape(form.slug)}/submit">{rows}'
        f'<p style="{HONEYPOT_STYLE}" aria-hidden="true"><label>Leave empty '
        f'<input name="{inbound.HONEYPOT}" tabindex="-1" autocomplete="off"></label></p>'
        f'<p><button type="submit">Send</button></p></form></body></html>'
    )


# The honeypot is moved off screen by a style attribute; the CSP allows exactly that attribute (by its hash).
HONEYPOT_STYLE = "position:absolute;left:-9999px"
_HONEYPOT_HASH = "'sha256-" + base64.b64encode(hashlib.sha256(HONEYPOT_STYLE.encode()).digest()).decode() + "'"


def _embeddable(content: str, status: int = 200) -> HttpResponse:
    response = HttpResponse(content, status=status, content_type="text/html; charset=utf-8")
    response.xframe_options_exempt = True  # meant to be shown in an iframe on the customer's site
    # django-csp reads this: any site may frame the form (no frame-ancestors), and the honeypot's style applies.
    response._csp_replace = {"frame-ancestors": None, "style-src": ["'unsafe-hashes'", _HONEYPOT_HASH]}
    return response


@router.get("/forms/{slug}/embed", auth=None, summary="The embeddable HTML form (public)")
def form_embed(request, slug: str):
    return _embeddable(_form_html(inbound.get_form(slug)))


@router.post("/forms/{slug}/submit", auth=None, summary="Submit a lead: JSON, or the HTML form's post (public)")
def form_submit(request, slug: str):
    is_json = request.content_type == "application/json"
    if is_json:
        try:
            data = json.loads(request.body or b"{}")
        except ValueError:
            data = None
        if not isinstance(data, dict):
            raise ValidationFailed({"body": "Send a JSON object."})
        form, lead = inbound.submit(slug, data, ip=_client_ip(request))
        return JsonResponse({"ok": True, "lead_id": lead.pk, "message": form.success_message}, status=201)
    form = inbound.get_form(slug)
    try:
        form, _ = inbound.submit(slug, request.POST.dict(), ip=_client_ip(request))
    except ValidationFailed as exc:
        return _embeddable(_form_html(form, exc.message, exc.fields), status=422)
    except inbound.ServiceError as exc:
        return _embeddable(_form_html(form, exc.message), status=exc.status)
    return _embeddable(_form_html(form, form.success_message), status=201)


# --- the job queue (admins) ------------------------------------------------------------------------


@router.get("/jobs/summary", summary="How many background jobs are in each state (admins)")
def jobs_summary(request):
    from django.db.models import Count

    rules.require_admin(request.user)
    return dict(Job.objects.values_list("status").annotate(n=Count("id")).values_list("status", "n"))
