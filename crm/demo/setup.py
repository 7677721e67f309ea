"""The demo organization's frame: users in every role, two teams, pipelines, custom fields, tags.

Everything here is looked up by name first and created only when missing, so an installation
that already has (say) an `admin` user or a "Sales" pipeline keeps its own. Everything is created
through its service by the demo admin (so it is in the change log); the admin itself, when missing,
is made as a command makes the first superuser (accounts.superuser_create).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import PBKDF2PasswordHasher, get_hasher, make_password

from crm.access import accounts
from crm.access import services as access_services
from crm.access.models import Profile, Role, Team
from crm.customization.models import CustomField, FieldType
from crm.customization.services import custom_field_create
from crm.demo.catalog import TAGS
from crm.records.models import Pipeline, Stage, Tag
from crm.records.services import pipelines as pipeline_service
from crm.records.services.tags import tag_create

PASSWORD_SCHEME = "demo + username (admin: demoadmin)"
# The demo passwords are printed for anyone to read, so key stretching protects nothing; a light
# PBKDF2 keeps `crm demo` fast (a full one costs ~0.5 s per user), and Django re-hashes it at
# full strength on the first successful login.
DEMO_PBKDF2_ITERATIONS = 1_000


@dataclass(frozen=True)
class DemoUser:
    username: str
    first_name: str
    last_name: str
    role: str
    team: str | None = None
    manages: str | None = None


USERS = (
    DemoUser("admin", "Morgan", "Lee", "admin"),
    DemoUser("manager", "Priya", "Shah", "sales-manager", team="East", manages="East"),
    DemoUser("manager2", "Daniel", "Okafor", "sales-manager", team="West", manages="West"),
    DemoUser("rep1", "Sam", "Carter", "sales-rep", team="East"),
    DemoUser("rep2", "Lena", "Fischer", "sales-rep", team="East"),
    DemoUser("rep3", "Diego", "Alvarez", "sales-rep", team="West"),
    DemoUser("support", "Chris", "Nguyen", "support-agent"),
    DemoUser("marketer", "Emma", "Rossi", "marketer"),
    DemoUser("viewer", "Tom", "Becker", "read-only"),
)

# (name, probability, is_won, is_lost), in pipeline order.
PIPELINES = {
    "Sales": (
        ("Qualification", 10, False, False),
        ("Needs analysis", 25, False, False),
        ("Proposal", 50, False, False),
        ("Negotiation", 75, False, False),
        ("Won", 100, True, False),
        ("Lost", 0, False, True),
    ),
    "Renewals": (
        ("Upcoming", 60, False, False),
        ("In discussion", 75, False, False),
        ("Committed", 90, False, False),
        ("Renewed", 100, True, False),
        ("Churned", 0, False, True),
    ),
}

# (object_type, key, label, type, choices)
CUSTOM_FIELDS = (
    ("company", "region", "Region", FieldType.CHOICE, ["EMEA", "AMER", "APAC"]),
    ("contact", "linkedin", "LinkedIn", FieldType.URL, []),
    ("deal", "renewal_date", "Renewal date", FieldType.DATE, []),
    ("lead", "budget", "Budget", FieldType.DECIMAL, []),
)


class MissingRole(Exception):
    """A built-in role the demo users need is not in the database."""


def password_for(username: str) -> str:
    return f"demo{username}"


def _password_hash(raw: str) -> str:
    hasher = get_hasher()
    if isinstance(hasher, PBKDF2PasswordHasher):
        return hasher.encode(raw, hasher.salt(), iterations=DEMO_PBKDF2_ITERATIONS)
    return make_password(raw)


@dataclass
class Login:
    user: object
    spec: DemoUser
    created: bool  # False: the user existed and keeps its own password
    role: str
    team: str


def ensure_users() -> list[Login]:
    """The demo users with profiles and teams; existing users keep their password and role."""
    roles = {r.slug: r for r in Role.objects.all()}
    for spec in USERS:
        if spec.role not in roles:
            raise MissingRole(f"The built-in role {spec.role!r} is missing; run `crm migrate` first.")
    admin_spec = USERS[0]
    admin, created = _existing(admin_spec), False
    if admin is None:
        admin, created = accounts.superuser_create(data=_user_data(admin_spec, roles, None)), True
    teams = _ensure_teams(admin)
    logins = []
    for spec in USERS:
        if spec is admin_spec:
            user = admin
        else:
            user, created = _existing(spec), False
            if user is None:
                user, created = accounts.user_create(actor=admin, data=_user_data(spec, roles, teams)), True
        if not Profile.objects.filter(user=user).exists():  # an existing user without one gets the demo's
            profile_of = {k: v for k, v in _user_data(spec, roles, teams).items() if k in accounts.PROFILE_FIELDS}
            accounts.user_update(user, actor=admin, data=profile_of)
        if spec.manages and teams[spec.manages].manager_id is None:
            teams[spec.manages] = access_services.team_update(teams[spec.manages], actor=admin, data={"manager": user})
        profile = Profile.objects.select_related("role", "team").get(user=user)
        role, team_name = profile.role.slug if profile.role else "", profile.team.name if profile.team else ""
        logins.append(Login(user, spec, created, role, team_name))
    return logins


def _existing(spec: DemoUser):
    return get_user_model().objects.filter(username=spec.username).first()


def _ensure_teams(admin) -> dict[str, Team]:
    teams = {}
    for name in ("East", "West"):
        teams[name] = Team.objects.filter(name=name).first() or access_services.team_create(
            actor=admin, data={"name": name}
        )
    return teams


def _user_data(spec: DemoUser, roles: dict[str, Role], teams: dict[str, Team] | None) -> dict:
    is_admin = spec.role == "admin"
    return {
        "username": spec.username,
        "first_name": spec.first_name,
        "last_name": spec.last_name,
        "email": f"{spec.username}@crm-demo.example",
        "password_hash": _password_hash(password_for(spec.username)),
        "is_staff": is_admin,
        "is_superuser": is_admin,
        "role": roles[spec.role],
        "team": teams[spec.team] if teams and spec.team else None,
    }


@dataclass
class PipelinePlan:
    """A pipeline's stages as the deal generator needs them."""

    pipeline: Pipeline
    open: list[Stage]
    won: Stage | None
    lost: Stage | None


def ensure_pipelines(actor) -> dict[str, PipelinePlan]:
    has_default = Pipeline.objects.filter(is_default=True).exists()
    plans = {}
    for order, (name, stages) in enumerate(PIPELINES.items()):
        pipeline = Pipeline.objects.filter(name=name).first()
        if pipeline is None:
            default = name == "Sales" and not has_default
            data = {"name": name, "order": order, "is_default": default}
            pipeline = pipeline_service.pipeline_create(actor=actor, data=data)
            for i, (s, p, won, lost) in enumerate(stages):
                data = {"name": s, "order": i, "probability": p, "is_won": won, "is_lost": lost}
                pipeline_service.stage_create(actor=actor, pipeline=pipeline, data=data)
        ordered = list(pipeline.stages.order_by("order", "id"))
        open_stages = [s for s in ordered if not (s.is_won or s.is_lost)]
        if open_stages:
            won = next((s for s in ordered if s.is_won), None)
            lost = next((s for s in ordered if s.is_lost), None)
            plans[name] = PipelinePlan(pipeline, open_stages, won, lost)
    return plans


def ensure_custom_fields(actor) -> dict[tuple[str, str], CustomField]:
    """The demo's custom fields; one an admin defined differently under the same key is left unfilled."""
    usable = {}
    for order, (object_type, key, label, field_type, choices) in enumerate(CUSTOM_FIELDS):
        field = CustomField.objects.filter(object_type=object_type, key=key).first()
        if field is None:
            data = {"object_type": object_type, "key": key, "label": label, "field_type": field_type}
            field = custom_field_create(actor=actor, data={**data, "choices": choices, "order": order})
        if field.field_type == field_type and all(c in field.choices for c in choices):
            usable[(object_type, key)] = field
    return usable


def ensure_tags(actor) -> dict[str, Tag]:
    tags = {}
    for name, color in TAGS:
        tags[name] = Tag.objects.filter(name__iexact=name).first() or tag_create(
            actor=actor, data={"name": name, "color": color}
        )
    return tags


def install_automation_examples() -> int:
    """The automation app's example rules (new leads round-robin in East, ...), when that app is installed."""
    if not apps.is_installed("crm.automation"):
        return 0
    from crm.automation.examples import install_examples  # optional app: imported only when present

    return len(install_examples(Team.objects.filter(name="East").first()))
