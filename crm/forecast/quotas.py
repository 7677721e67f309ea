"""Quotas and managers' adjustments: who may read and write them, and the writes (logged).

A user's quota is read by the user, the managers of their team and admins; it is written by admins
and by the manager of the user's team. A team's quota is read by its members and manager and
written by admins and its manager. A team row with ``rolls_up`` (or no row at all) is the sum of its
members' quotas; otherwise its own amount. Amounts are in the organization's currency.
"""

from __future__ import annotations

from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction

from crm.access.models import Profile, Team
from crm.access.policy import policy_for
from crm.audit import configwrites
from crm.core.errors import NotFound, PermissionDenied, ValidationFailed
from crm.forecast.models import Adjustment, Quota
from crm.forecast.periods import Period


def user_names(ids) -> dict[int, str]:
    users = get_user_model().objects.filter(pk__in=list(ids))
    return {u.pk: u.get_full_name() or u.get_username() for u in users}


def _manages(actor, user_id: int) -> bool:
    team_id = Profile.objects.filter(user_id=user_id).values_list("team_id", flat=True).first()
    return team_id is not None and Team.objects.filter(pk=team_id, manager_id=actor.pk).exists()


def may_write_user(actor, user_id: int) -> bool:
    return policy_for(actor).is_admin or _manages(actor, user_id)


def may_write_team(actor, team_id: int) -> bool:
    return policy_for(actor).is_admin or Team.objects.filter(pk=team_id, manager_id=actor.pk).exists()


def quota_readers_ids(actor) -> frozenset[int] | None:
    """The users whose quotas and adjustments ``actor`` may read (None: everyone's)."""
    policy = policy_for(actor)
    if policy.is_admin:
        return None
    managed = Profile.objects.filter(team__manager_id=actor.pk).values_list("user_id", flat=True)
    return frozenset({actor.pk, *managed})


def readable_team_ids(actor) -> list[int]:
    """The teams whose quota ``actor`` may read (not admins: they read all): their own and managed."""
    own = Profile.objects.filter(user_id=actor.pk).values_list("team_id", flat=True).first()
    managed = Team.objects.filter(manager_id=actor.pk).values_list("id", flat=True)
    return [t for t in {own, *managed} if t is not None]


def visible_user_quotas(actor, period: Period) -> dict[int, Decimal]:
    rows = Quota.objects.filter(user__isnull=False, period_kind=period.kind, period_start=period.start)
    readable = quota_readers_ids(actor)
    if readable is not None:
        rows = rows.filter(user_id__in=readable)
    return dict(rows.values_list("user_id", "amount"))


def team_quota(team_id: int, period: Period, member_quotas: list) -> Decimal | None:
    row = Quota.objects.filter(team_id=team_id, period_kind=period.kind, period_start=period.start).first()
    if row is not None and not row.rolls_up:
        return row.amount
    known = [q for q in member_quotas if q is not None]
    return sum(known, Decimal(0)) if known else None


def _user(user_id) -> object:
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        raise NotFound(f"No user with id {user_id}.")
    return user


def _validate(amount, deal_count, rolls_up: bool, team: bool) -> dict:
    errors = {}
    if rolls_up and not team:
        errors["rolls_up"] = "Only a team's quota rolls up from its members."
    if not rolls_up and amount is None:
        errors["amount"] = "A quota needs an amount (or, for a team, to roll up from its members)."
    if amount is not None and (not isinstance(amount, Decimal) or amount < 0 or amount.as_tuple().exponent < -2):
        errors["amount"] = "An amount is a number of at least 0 with at most two decimals."
    if deal_count is not None and (not isinstance(deal_count, int) or deal_count < 0):
        errors["deal_count"] = "A deal count is a whole number of at least 0."
    if errors:
        raise ValidationFailed(errors)
    return {"amount": None if rolls_up else amount, "deal_count": deal_count, "rolls_up": rolls_up}


@transaction.atomic
def quota_set(
    *,
    actor,
    period: Period,
    amount: Decimal | None,
    user_id: int | None = None,
    team_id: int | None = None,
    deal_count: int | None = None,
    rolls_up: bool = False,
) -> Quota:
    """Create or replace one user's or team's quota for a period."""
    if (user_id is None) == (team_id is None):
        raise ValidationFailed({"user_id": "Name a user or a team, not both."})
    if user_id is not None:
        _user(user_id)
        if not may_write_user(actor, user_id):
            raise PermissionDenied("Only admins and the user's team manager may set this quota.")
        key = {"user_id": user_id}
    else:
        if not Team.objects.filter(pk=team_id).exists():
            raise NotFound(f"No team with id {team_id}.")
        if not may_write_team(actor, team_id):
            raise PermissionDenied("Only admins and the team's manager may set its quota.")
        key = {"team_id": team_id}
    data = _validate(amount, deal_count, rolls_up, team_id is not None)
    current = Quota.objects.filter(**key, period_kind=period.kind, period_start=period.start).first()
    if current is None:
        return configwrites.create(
            Quota(**key, period_kind=period.kind, period_start=period.start, **data), actor=actor
        )
    return configwrites.update(current, actor=actor, data=data, fields=data)


@transaction.atomic
def adjustment_add(*, actor, rep_id: int, period: Period, amount: Decimal, note: str) -> Adjustment:
    """A manager's adjusted forecast for one of their reps (admins: anyone's); a new row each time."""
    _user(rep_id)
    if not may_write_user(actor, rep_id):
        raise PermissionDenied("Only admins and the rep's team manager may adjust the rep's forecast.")
    errors = {}
    if not isinstance(amount, Decimal) or amount < 0 or amount.as_tuple().exponent < -2:
        errors["amount"] = "An amount is a number of at least 0 with at most two decimals."
    if not (note or "").strip():
        errors["note"] = "Say why the forecast is adjusted."
    if errors:
        raise ValidationFailed(errors)
    row = Adjustment(rep_id=rep_id, period_kind=period.kind, period_start=period.start, amount=amount)
    row.note, row.created_by = note.strip(), actor
    return configwrites.create(row, actor=actor)


def adjustment_history(actor, rep_id: int, period: Period) -> list[Adjustment]:
    readable = quota_readers_ids(actor)
    if readable is not None and rep_id not in readable:
        raise NotFound(f"No user with id {rep_id}.")
    rows = Adjustment.objects.filter(rep_id=rep_id, period_kind=period.kind, period_start=period.start)
    return list(rows.select_related("created_by"))
