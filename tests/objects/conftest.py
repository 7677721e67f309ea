"""Users with roles that grant custom object types, and a helper to make one through the ORM."""

import pytest
from django.contrib.auth.models import User

from crm.access.models import Profile, Role, Team
from crm.objects.models import ObjectType


def make_type(key="vehicle", **kw) -> ObjectType:
    defaults = {"singular": key.title(), "plural": f"{key.title()}s", "slug": f"{key}s".replace("_", "-")}
    return ObjectType.objects.create(key=key, name_field="name", **(defaults | kw))


def user_with(username: str, permissions: dict, *, scope="own", team=None) -> User:
    role = Role.objects.create(name=f"{username} role", slug=f"{username}-role", scope=scope, permissions=permissions)
    user = User.objects.create_user(username, f"{username}@example.com", "pw")
    Profile.objects.create(user=user, role=role, team=team)
    return user


@pytest.fixture
def fleet_team(db):
    return Team.objects.create(name="Fleet")


ALL = ["view", "add", "change", "delete", "export"]


@pytest.fixture
def clerk(fleet_team):
    """Every action on vehicles, own records only."""
    return user_with("clerk", {"vehicle": ALL, "company": ["view"]}, team=fleet_team)


@pytest.fixture
def other_clerk(fleet_team):
    return user_with("other_clerk", {"vehicle": ALL}, team=fleet_team)


@pytest.fixture
def fleet_manager(fleet_team):
    return user_with("fleet_manager", {"vehicle": ALL}, scope="team", team=fleet_team)


@pytest.fixture
def vehicle_viewer(db):
    """May only view vehicles, all of them."""
    return user_with("vehicle_viewer", {"vehicle": ["view"]}, scope="all")
