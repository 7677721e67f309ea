"""Roles and teams: created, changed and deleted by admins only, checked and written to the change log
(the admin screens and the demo call these; the built-in roles come from a migration). Users are in
accounts.py, API tokens in tokens.py."""

from __future__ import annotations

from django.db import transaction

from crm.access import fieldrules
from crm.access.models import ACTIONS, AREAS, Role, Team
from crm.access.policy import require_admin
from crm.audit import configwrites
from crm.core import recordtypes
from crm.core.errors import ValidationFailed

FIELDS = ("name", "slug", "scope", "permissions", "is_admin", "requires_two_factor", "field_access")
TEAM_FIELDS = ("name", "manager")


def check(role: Role) -> None:
    """``permissions`` maps record types (declared, or custom object types) to lists of actions. Policy.allows tests
    ``action in permissions[type]``: a string there ("view, add") would grant any action it
    contains as a substring, so only lists are accepted."""
    stored = Role.objects.filter(pk=role.pk).values_list("field_access", flat=True).first() if role.pk else None
    fieldrules.check(role.field_access, kept=stored)
    value = role.permissions
    if value is None:
        return  # the model's own "cannot be null"
    if not isinstance(value, dict):
        raise ValidationFailed({"permissions": 'Must be an object of record type to actions: {"contact": ["view"]}.'})
    types = (*recordtypes.known_types(), *AREAS)
    errors = {}
    for key, actions in value.items():
        if key not in types:
            errors["permissions"] = f"Unknown record type {key!r}; use {', '.join(types)}."
        elif not isinstance(actions, list) or any(a not in ACTIONS for a in actions):
            errors["permissions"] = f"The actions of {key} must be a list drawn from {', '.join(ACTIONS)}."
    if errors:
        raise ValidationFailed(errors)


def _rules_given(data: dict) -> dict:
    """No field rules given as null (a form's empty box) means none: ``{}``."""
    return {**data, "field_access": {}} if "field_access" in data and data["field_access"] is None else data


@transaction.atomic
def role_create(*, actor, data: dict) -> Role:
    require_admin(actor, "roles")
    data = _rules_given(data)
    role = Role(**{k: data[k] for k in FIELDS if k in data})
    return configwrites.create(role, actor=actor, check=check)


@transaction.atomic
def role_update(role: Role, *, actor, data: dict) -> Role:
    require_admin(actor, "roles")
    return configwrites.update(role, actor=actor, data=_rules_given(data), fields=FIELDS, check=check)


@transaction.atomic
def role_delete(role: Role, *, actor) -> None:
    """Its users keep their accounts with no role (Profile.role is SET_NULL): they see nothing."""
    require_admin(actor, "roles")
    configwrites.delete(role, actor=actor)


@transaction.atomic
def team_create(*, actor, data: dict) -> Team:
    require_admin(actor, "teams")
    return configwrites.create(Team(**{k: data[k] for k in TEAM_FIELDS if k in data}), actor=actor)


@transaction.atomic
def team_update(team: Team, *, actor, data: dict) -> Team:
    require_admin(actor, "teams")
    return configwrites.update(team, actor=actor, data=data, fields=TEAM_FIELDS)


@transaction.atomic
def team_delete(team: Team, *, actor) -> None:
    """Its members stay, in no team (Profile.team is SET_NULL): their team-scoped views shrink to their own."""
    require_admin(actor, "teams")
    configwrites.delete(team, actor=actor)
