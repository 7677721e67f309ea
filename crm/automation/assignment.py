"""Choosing an owner: round-robin within a team, load-balanced by open records, or by territory."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models import Count, Q

from crm.access.models import Profile, Team
from crm.automation.models import AssignmentCursor
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


def check(params: dict) -> dict:
    errors = {}
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
