"""The custom-object figures: list, filter on a value, range filter, sort on a value and detail of the
seeded "Subscription" type (values in the JSON column of one shared table), each beside the same
question asked of contacts (real columns), and the list again as a sales rep with own scope (the
per-type visibility check). Same client, same floors method, same percentiles as the other figures.

``measure`` and the clients are the runner's (crm/bench/client.py); a test passes in-process clients.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db.models import Count

from crm.bench import object_floors as f
from crm.bench.client import measure
from crm.bench.report import Figure
from crm.bench.seed_objects import KEY, SLUG
from crm.objects.models import CustomRecord, ObjectType

GROUP = "objects"
SINCE_DAYS = 400  # contacts created in the last 400 days: about as selective as seats > 40 (37%)


@dataclass
class ObjectParams:
    type_id: int
    records: list[int]  # detail requests rotate over these
    rep: User  # the sales rep (own scope) who owns the most subscriptions
    since: str  # YYYY-MM-DD for the contacts' range filter


def params(n: int) -> ObjectParams:
    rng = random.Random(5)
    object_type = ObjectType.objects.get(key=KEY)
    top = CustomRecord.objects.filter(type=object_type).order_by("-id").values_list("id", flat=True).first() or 0
    busiest = (
        CustomRecord.objects.filter(type=object_type, owner__profile__role__slug="sales-rep")
        .values("owner")
        .annotate(n=Count("id"))
        .order_by("-n", "owner")
        .first()
    )
    since = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=SINCE_DAYS)
    return ObjectParams(
        type_id=object_type.pk,
        records=[rng.randint(1, top) for _ in range(n)],
        rep=User.objects.get(pk=busiest["owner"]),
        since=since.isoformat(),
    )


def figures(admin, rep, p: ObjectParams, samples: int) -> list[Figure]:
    """``admin`` and ``rep``: clients with an admin's and the rep's token."""
    base, t = f"/api/v1/objects/{SLUG}", p.type_id
    since = ("created_at > %s", [f"{p.since} 00:00:00"])
    pairs = [  # (figure, contacts' query, its floor, subscriptions' query, its floor)
        ("list, first page", "", lambda: f.contacts(), "", lambda: f.records(t)),
        ("filter on a value", "lifecycle_stage=customer", lambda: f.contacts(("lifecycle_stage = %s", ["customer"])),
         "plan=gold", lambda: f.records(t, f.equals("plan", "gold"))),
        ("range filter", f"created_at__gt={p.since}", lambda: f.contacts(since),
         "seats__gt=40", lambda: f.records(t, f.greater("seats", 40))),
        ("sort on a value", "sort=-name", lambda: f.contacts(order="name DESC, id DESC"),
         "sort=-seats", lambda: f.records(t, order=f"{f.value('seats')} DESC, id DESC")),
    ]  # fmt: skip
    out = []
    for label, c_query, c_floor, s_query, s_floor in pairs:
        for kind, prefix, query, floor in (("contacts", "/api/v1/contacts", c_query, c_floor),
                                           (SLUG, base, s_query, s_floor)):  # fmt: skip
            name = f"{kind}: {label}" + (f" ?{query}" if query else "")
            path = f"{prefix}?{query + '&' if query else ''}limit=50"
            out.append(measure(admin, name, samples, lambda i, x=path: ("GET", x, None), lambda i, fl=floor: fl(),
                               group=GROUP, target_p95=30))  # fmt: skip
    out.append(measure(
        admin, f"{SLUG}: detail", samples,
        lambda i: ("GET", f"{base}/{p.records[i % len(p.records)]}", None),
        lambda i: f.record(t, p.records[i % len(p.records)]), group=GROUP, target_p95=30,
    ))  # fmt: skip
    rep_id = p.rep.pk
    out.append(measure(
        rep, "contacts: list as a rep (own scope)", samples, lambda i: ("GET", "/api/v1/contacts?limit=50", None),
        lambda i: f.contacts(owner=rep_id), group=GROUP, target_p95=30,
    ))  # fmt: skip
    out.append(measure(
        rep, f"{SLUG}: list as a rep (own scope)", samples, lambda i: ("GET", f"{base}?limit=50", None),
        lambda i: f.records(t, owner=rep_id), group=GROUP, target_p95=30,
    ))  # fmt: skip
    return out
