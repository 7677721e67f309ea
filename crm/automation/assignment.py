"""Choosing an owner: round-robin within a team, load-balanced by open records, or by territory.

A rule assigns records that arrived WITHOUT an owner (web-to-lead forms without a fixed owner,
imports without an owner column, API calls with ``"owner_id": null``); a record someone already owns
keeps its owner unless the rule says ``"reassign_owned": true`` (default off). A rep who creates a
lead owns it, so the rule never takes it away behind their back; when a rule does, the previous
owner is told who has it now (a notification, and the page they can no longer open says so).
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models import Count, Q

from crm.access.models import Profile, Team
from crm.automation import notifications
from crm.automation.models import AssignmentCursor
from crm.core import recordtypes
from crm.core.errors import ValidationFailed

STRATEGIES = ("round_robin", "load_balanced", "territory")
OPEN = {
    "lead": Q(status__in=["new", "working", "nurturing"]),
    "deal": Q(status="open"),
    "task": Q(status__in=["open", "in_progress"]),
}


def candidates(params: dict) -> list[int]:
    """Active users to choose from: a team's members (and manager), or an explicit list; by id."""
    users = get_user_model().objects.filter(is_active=True)
    if params.get("team_id"):
        team = Team.objects.filter(pk=params["team_id"]).first()
        if team is None:
            return []
        ids = set(Profile.objects.filter(team=team).values_list("user_id", flat=True))
        if params.get("include_manager") and team.manager_id:
            ids.add(team.manager_id)
        users = users.filter(pk__in=ids)
    elif params.get("user_ids"):
        users = users.filter(pk__in=params["user_ids"])
    else:
        return []
    return list(users.order_by("id").values_list("id", flat=True))


def round_robin(key: str, ids: list[int]) -> int | None:
    """The next user after the last one picked for ``key``; the cursor row is locked while we move it."""
    if not ids:
        return None
    cursor, _ = AssignmentCursor.objects.get_or_create(key=key)
    cursor = AssignmentCursor.objects.select_for_update().get(pk=cursor.pk)
    chosen = ids[cursor.position % len(ids)]
    cursor.position = (cursor.position + 1) % (len(ids) * 1000)
    cursor.save(update_fields=["position"])
    return chosen


def least_loaded(model, ids: list[int]) -> int | None:
    if not ids:
        return None
    owner = model.owner_field
    open_q = OPEN.get(model.object_type, Q())
    counts = dict(
        model.objects.filter(open_q, **{f"{owner}_id__in": ids})
        .values_list(f"{owner}_id")
        .annotate(n=Count("id"))
        .values_list(f"{owner}_id", "n")
    )
    return min(ids, key=lambda uid: (counts.get(uid, 0), uid))


def territory(obj, params: dict) -> int | None:
    value = getattr(obj, params.get("field", ""), None)
    mapping = {str(k).lower(): v for k, v in (params.get("map") or {}).items()}
    return mapping.get(str(value).lower(), params.get("default"))


def choose(obj, params: dict, *, key: str) -> int | None:
    strategy = params.get("strategy")
    if strategy == "territory":
        return territory(obj, params)
    ids = candidates(params)
    if strategy == "load_balanced":
        return least_loaded(type(obj), ids)
    return round_robin(key, ids)


def keeps_owner(obj, params: dict) -> bool:
    """Whether the rule leaves ``obj`` with the owner it has (see the module's docstring)."""
    owned = getattr(obj, f"{obj.owner_field}_id", None) is not None
    return owned and params.get("reassign_owned") is not True


def tell_previous_owner(obj, previous_id: int | None, new_owner, rule) -> None:
    """The user a rule took the record from learns where it went (the bell; the record's page
    explains it too when they may no longer open it, crm/web/moved.py)."""
    if previous_id is None or previous_id == new_owner.pk:
        return
    previous = get_user_model().objects.filter(pk=previous_id).first()
    rt = recordtypes.of(obj)
    what = rt.singular.capitalize() if rt is not None else "Record"
    name = new_owner.get_full_name() or new_owner.get_username()
    title = f"{what} “{obj}” was assigned to {name} by rule “{rule.name}”."
    notifications.notify(previous, "assignment", title, "", obj)


def check(params: dict) -> dict:
    errors = {}
    if "reassign_owned" in params and not isinstance(params["reassign_owned"], bool):
        errors["reassign_owned"] = "true or false: also reassign records that already have an owner."
    strategy = params.get("strategy")
    if strategy not in STRATEGIES:
        errors["strategy"] = f"Use one of {', '.join(STRATEGIES)}."
    elif strategy == "territory":
        if not params.get("field") or not isinstance(params.get("map"), dict):
            errors["map"] = 'Give "field" and a "map" of value -> user id.'
    elif not params.get("team_id") and not params.get("user_ids"):
        errors["team_id"] = 'Give "team_id" or "user_ids".'
    return errors


def check_or_raise(params: dict) -> None:
    if errors := check(params):
        raise ValidationFailed(errors)
