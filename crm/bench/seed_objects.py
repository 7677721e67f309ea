"""The benchmark's custom object type, "Subscription", and its records (as many as contacts, up to
100,000): the type and its fields are made through the object-type service (validated and logged as an
admin would make them), the records are bulk-written rows like the contacts. Subscriptions have no
searchable field, so they have no search rows (search figures stay comparable with earlier runs)."""

from __future__ import annotations

import json

from django.db.models import Max

from crm.access.builtin_roles import ALL_ACTIONS, EDIT
from crm.access.models import Role
from crm.access.services import role_update
from crm.audit.models import ObjectChange
from crm.bench.seed_world import DAY, YEAR, World, change_row, chunks_of, day, pickers, ts
from crm.objects.services import object_type_create

KEY, SLUG = "subscription", "subscriptions"
# A tier's share of the records (gold: 15%, what ?plan=gold selects) and its monthly price per seat.
PLANS = {"starter": (40, 12.0), "team": (30, 25.0), "gold": (15, 49.0), "platinum": (10, 99.0), "legacy": (5, 9.0)}
PLAN_POOL = [plan for plan, (share, _) in PLANS.items() for _ in range(share)]
FIELDS = [
    {"key": "plan", "label": "Plan", "field_type": "choice", "choices": list(PLANS), "required": True},
    {"key": "seats", "label": "Seats", "field_type": "integer"},
    {"key": "mrr", "label": "MRR", "field_type": "money"},
    {"key": "renews_on", "label": "Renews on", "field_type": "date"},
    {"key": "account", "label": "Account", "field_type": "lookup", "target": "company"},
]


def setup(world: World, admin) -> None:
    """The type, its fields, and its grants: reps edit their own subscriptions, managers their team's."""
    object_type = object_type_create(
        actor=admin, data={"key": KEY, "singular": "Subscription", "plural": "Subscriptions", "slug": SLUG,
                           "fields": FIELDS},
    )  # fmt: skip
    world.subscription_type_id = object_type.pk
    for slug, actions in (("sales-rep", EDIT), ("sales-manager", ALL_ACTIONS)):
        role = Role.objects.get(slug=slug)
        role_update(role, actor=admin, data={"permissions": {**role.permissions, KEY: actions}})
    # These writes logged changes through the ORM: the bulk rows' explicit ids come after them.
    world.change_id = ObjectChange.objects.aggregate(top=Max("id"))["top"] or 0


def subscriptions(world: World, write) -> None:
    rng, n_companies = world.rng, world.scale.companies
    pick, upto = pickers(world.rng)
    for ids in chunks_of(world.scale.custom_records):
        owners = world.owner_ids(len(ids))
        rows, changes = [], []
        for pk, owner in zip(ids, owners, strict=True):
            plan = pick(PLAN_POOL)
            seats = int(1 + 99 * rng.random() ** 2)  # most are small: seats > 40 for about 37%
            account = upto(n_companies)
            name = f"{world.company_name[account - 1]} {plan.title()}"
            created = world.past(2 * YEAR)
            at = ts(created)
            values = {
                "name": name, "plan": plan, "seats": seats,
                "mrr": {"amount": seats * PLANS[plan][1], "currency": "USD"},
                "renews_on": day(world.now + upto(365) * DAY), "account": account,
            }  # fmt: skip
            updated = ts(created + rng.random() * (world.now - created))
            rows.append((pk, 1, at, updated, json.dumps(values), name, owner, world.subscription_type_id))
            changes.append(change_row(world, KEY, pk, name, owner, at))
        write("objects_customrecord", rows)
        write("audit_objectchange", changes)
