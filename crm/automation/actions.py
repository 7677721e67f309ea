"""What a rule can do. Every action goes through the record services with the automation user,
so permissions, validation, the change log and events are never skipped.

Each action has ``check(object_type, params) -> errors`` (at save) and ``run(ctx, params) -> dict``.
With ``ctx.dry`` (the test mode) database actions still run, inside a transaction that is rolled
back, and actions with outside effects (email, webhooks) only say what they would do.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from crm.automation import assignment, notifications
from crm.automation.templating import record_names, render
from crm.core import recordtypes, templating
from crm.core.errors import ValidationFailed


@dataclass
class Context:
    rule: object
    obj: object
    actor: object
    dry: bool = False


def updater(object_type: str):
    return recordtypes.by_type(object_type).update


def links(obj) -> dict:
    """What a task or activity created by a rule is linked to: the record the rule fired on, or, for
    a rule on an activity or task, the records that one is linked to."""
    rt = recordtypes.of(obj)
    if rt is not None and rt.timeline:
        return {"links": [{"type": obj.object_type, "id": obj.pk}]}
    if hasattr(obj, "links"):
        return {"links": [{"type": lk.record_type, "id": lk.record_id} for lk in obj.links.order_by("pk")]}
    return {}


def owner_id(obj):
    return getattr(obj, f"{obj.owner_field}_id", None)


def delay(params: dict) -> timedelta:
    return timedelta(
        days=float(params.get("days") or 0),
        hours=float(params.get("hours") or 0),
        minutes=float(params.get("minutes") or 0),
    )


def _user(pk):
    """The user a text is rendered for (None: nobody in particular, every field filled)."""
    return get_user_model().objects.filter(pk=pk).first() if isinstance(pk, int) else None


def resolve_user_id(spec, ctx: Context):
    if spec in (None, "owner"):
        return owner_id(ctx.obj) or (ctx.rule.owner_id if ctx.rule else None)
    if spec == "rule_owner":
        return ctx.rule.owner_id
    return spec


# --- create_task / create_activity ----------------------------------------------------------------


def check_create_task(object_type, params):
    errors = {}
    if not str(params.get("title") or "").strip():
        errors["title"] = "A task needs a title."
    for key in ("due_in_days", "due_in_hours", "due_in_minutes"):
        if key in params and not isinstance(params[key], int | float):
            errors[key] = "Must be a number."
    return errors


def run_create_task(ctx: Context, params):
    from crm.records.services.activities import task_create

    assignee_id = resolve_user_id(params.get("assignee"), ctx)
    reader = _user(assignee_id)  # the task is written for its assignee: no field hidden from them
    data = {
        "title": render(params["title"], ctx.obj, reader)[:255],
        "description": render(params.get("description", ""), ctx.obj, reader),
        "priority": params.get("priority", "normal"),
        "assignee_id": assignee_id,
        **links(ctx.obj),
    }
    span = timedelta(
        days=params.get("due_in_days", 0), hours=params.get("due_in_hours", 0), minutes=params.get("due_in_minutes", 0)
    )
    if span:
        data["due_at"] = timezone.now() + span
    task = task_create(actor=ctx.actor, data=data).obj
    return {"task_id": task.pk, "title": task.title, "assignee_id": task.assignee_id}


def check_create_activity(object_type, params):
    if params.get("kind") in ("note", "call", "meeting", "email"):
        return {}
    return {"kind": "note, call, meeting or email."}


def run_create_activity(ctx: Context, params):
    from crm.records.services.activities import activity_create

    owner = resolve_user_id(params.get("owner"), ctx)
    reader = _user(owner)
    data = {
        "kind": params["kind"],
        "subject": render(params.get("subject", ""), ctx.obj, reader)[:255],
        "body": render(params.get("body", ""), ctx.obj, reader),
        "owner_id": owner,
        **links(ctx.obj),
    }
    activity = activity_create(actor=ctx.actor, data=data).obj
    return {"activity_id": activity.pk}


# --- update_fields / assign_owner / add_tag / move_stage / convert_lead ----------------------------


def check_update_fields(object_type, params):
    fields = params.get("fields")
    if not isinstance(fields, dict) or not fields:
        return {"fields": 'Give the fields to set, e.g. {"status": "working"}.'}
    return {}


def run_update_fields(ctx: Context, params):
    saved = updater(ctx.obj.object_type)(ctx.obj, actor=ctx.actor, data=dict(params["fields"]))
    return {"updated": sorted(params["fields"]), "version": saved.obj.version}


def check_assign_owner(object_type, params):
    return assignment.check(params)


def run_assign_owner(ctx: Context, params):
    previous = getattr(ctx.obj, f"{ctx.obj.owner_field}_id", None)
    if assignment.keeps_owner(ctx.obj, params):  # only records without an owner, unless the rule says so
        return {"owner_id": previous, "kept": "The record already has an owner."}
    key = params.get("cursor") or f"rule:{ctx.rule.pk}:{ctx.obj.object_type}"
    user_id = assignment.choose(ctx.obj, params, key=key)
    if user_id is None:
        raise ValidationFailed({"assign_owner": "No active user to assign to."})
    updater(ctx.obj.object_type)(ctx.obj, actor=ctx.actor, data={f"{ctx.obj.owner_field}_id": user_id})
    user = get_user_model().objects.get(pk=user_id)
    if not ctx.dry:
        notifications.notify(user, "assignment", f"Assigned to you: {ctx.obj}", "", ctx.obj)
        assignment.tell_previous_owner(ctx.obj, previous, user, ctx.rule)
    return {"owner_id": user_id}


def check_add_tag(object_type, params):
    rt = recordtypes.by_type(object_type)
    if rt is None or not rt.tags:  # the declaration says whether its records carry tags
        return {"type": f"A {object_type} has no tags."}
    tag = params.get("tag")
    return {} if isinstance(tag, str) and 0 < len(tag.strip()) <= 50 else {"tag": "A tag of 1 to 50 characters."}


def run_add_tag(ctx: Context, params):
    names = [t.name for t in ctx.obj.tags.all()]
    if params["tag"].strip().lower() in {n.lower() for n in names}:
        return {"tag": params["tag"], "already": True}
    updater(ctx.obj.object_type)(ctx.obj, actor=ctx.actor, data={"tags": [*names, params["tag"].strip()]})
    return {"tag": params["tag"]}


def check_move_stage(object_type, params):
    if object_type != "deal":
        return {"type": "Only deals have stages."}
    return {} if isinstance(params.get("stage_id"), int) else {"stage_id": "Give the stage id."}


def run_move_stage(ctx: Context, params):
    from crm.core.errors import NotFound
    from crm.records.models import Stage
    from crm.records.services.deals import deal_move_stage

    stage = Stage.objects.filter(pk=params["stage_id"]).first()
    if stage is None:
        raise NotFound(f"No stage with id {params['stage_id']}.")
    deal_move_stage(ctx.obj, stage, actor=ctx.actor, lost_reason=params.get("lost_reason"))
    return {"stage_id": stage.pk}


def check_convert_lead(object_type, params):
    return {} if object_type == "lead" else {"type": "Only leads can be converted."}


def run_convert_lead(ctx: Context, params):
    from crm.records.services.conversion import lead_convert

    deal = None
    if params.get("deal_name"):
        deal = {"name": render(params["deal_name"], ctx.obj)[:255]}
    result = lead_convert(ctx.obj, actor=ctx.actor, deal=deal, create_company=params.get("create_company", True))
    return {k: getattr(v, "pk", None) for k, v in result.items()}


# --- notify / webhook ------------------------------------------------------------------------------


def check_notify(object_type, params):
    to = params.get("to", "owner")
    ids = isinstance(to, list) and all(isinstance(i, int) for i in to)
    ok = ids or to in ("owner", "team", "admins", "rule_owner")
    errors = {} if ok else {"to": "owner, team, admins, rule_owner or a list of user ids."}
    if not str(params.get("title") or "").strip():
        errors["title"] = "A notification needs a title."
    return errors


def recipients(ctx: Context, to):
    from crm.access.models import Profile

    users = get_user_model().objects.filter(is_active=True)
    if isinstance(to, list):
        return list(users.filter(pk__in=to))
    if to == "admins":
        return list(users.filter(profile__role__is_admin=True).exclude(username="automation"))
    if to == "rule_owner":
        return list(users.filter(pk=ctx.rule.owner_id))
    owner = owner_id(ctx.obj)
    if to == "team" and owner:
        team_id = Profile.objects.filter(user_id=owner).values_list("team_id", flat=True).first()
        if team_id:
            ids = set(Profile.objects.filter(team_id=team_id).values_list("user_id", flat=True))
            from crm.access.models import Team

            ids |= set(Team.objects.filter(pk=team_id).exclude(manager=None).values_list("manager_id", flat=True))
            return list(users.filter(pk__in=ids))
    return list(users.filter(pk=owner)) if owner else []


def run_notify(ctx: Context, params):
    """Each recipient's text is rendered for them: a field hidden from their role is left empty."""
    title = render(params["title"], ctx.obj)
    people = recipients(ctx, params.get("to", "owner"))
    if not ctx.dry:
        for user in people:
            mine, body = render(params["title"], ctx.obj, user), render(params.get("body", ""), ctx.obj, user)
            notifications.notify(user, "automation", mine, body, ctx.obj, email=params.get("email"))
    return {"notified": [u.pk for u in people], "title": title}


def check_webhook(object_type, params):
    from crm.automation.models import WebhookSubscription

    sub_id = params.get("subscription_id")
    if not isinstance(sub_id, int) or not WebhookSubscription.objects.filter(pk=sub_id).exists():
        return {"subscription_id": "Give the id of a webhook subscription."}
    return {}


def run_webhook(ctx: Context, params):
    from crm.automation import webhooks
    from crm.automation.models import WebhookSubscription

    sub = WebhookSubscription.objects.get(pk=params["subscription_id"])
    if ctx.dry:
        return {"would_call": sub.url}
    delivery = webhooks.queue_delivery(sub, "rule.action", ctx.obj, changes={"rule_id": ctx.rule.pk})
    return {"delivery_id": delivery.pk if delivery else None}


def check_wait(object_type, params):
    try:
        return {} if delay(params) > timedelta(0) else {"wait": 'Give "days", "hours" or "minutes" above 0.'}
    except (TypeError, ValueError):
        return {"wait": "days, hours and minutes must be numbers."}


ACTIONS = {
    "create_task": (check_create_task, run_create_task),
    "create_activity": (check_create_activity, run_create_activity),
    "update_fields": (check_update_fields, run_update_fields),
    "assign_owner": (check_assign_owner, run_assign_owner),
    "add_tag": (check_add_tag, run_add_tag),
    "move_stage": (check_move_stage, run_move_stage),
    "convert_lead": (check_convert_lead, run_convert_lead),
    "notify": (check_notify, run_notify),
    "webhook": (check_webhook, run_webhook),
    "wait": (check_wait, None),  # the engine handles waits: it schedules the rest of the run
}


TEXTS = ("title", "description", "subject", "body", "deal_name")


def _text_errors(object_type: str, action: dict, prefix: str) -> dict:
    """A text naming a merge field the record type lacks is refused now, not blank when the rule runs."""
    errors = {}
    for key in TEXTS:
        if isinstance(action.get(key), str):
            try:
                templating.validate(action[key], record_names(object_type), field=f"{prefix}.{key}")
            except ValidationFailed as exc:
                errors.update(exc.fields)
    return errors


def validate(object_type: str, actions) -> list:
    if not isinstance(actions, list) or not actions:
        raise ValidationFailed({"actions": "Give a list of at least one action."})
    errors = {}
    for i, action in enumerate(actions):
        kind = action.get("type") if isinstance(action, dict) else None
        if kind not in ACTIONS:
            errors[f"actions.{i}.type"] = f"Use one of {', '.join(ACTIONS)}."
            continue
        for key, msg in ACTIONS[kind][0](object_type, action).items():
            errors[f"actions.{i}.{key}"] = msg
        errors.update(_text_errors(object_type, action, f"actions.{i}"))
    if errors:
        raise ValidationFailed(errors)
    return actions
