"""The permission matrix generated from the registry: every record type it knows (the built-in ones, the
test app's declared type and a custom object type) × every built-in role. A record rep_a owns is read
through every way out — API list, record, search, export, change feed, web list, web page, home page —
and is seen exactly where the role's grant and scope say; a change through the API is refused
without the grant (403) and for a record out of sight (404).

The built-in roles name only the built-in types; the others get each role's grant on companies, so
scope and actions are put to the test on them too. tests/test_api_permissions.py spells the built-in
types' endpoints out one by one; this module keeps a new type from slipping past the rules."""

import pytest
from django.test import Client

from crm.access.builtin_roles import RECORDS
from crm.access.models import ApiToken, Role
from crm.access.services import role_update
from crm.core import recordtypes
from crm.objects import services as object_services
from tests.factories import CompanyFactory
from tests.test_api_helpers import KINDS, PATCH, make, payload
from tests.test_api_permissions import USERS

# The deals PATCH (tests.test_api_helpers) moves a deal to EUR, which must be enabled.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("foreign_currencies")]

CUSTOM = {"key": "vessel", "singular": "Vessel", "plural": "Vessels", "slug": "vessels"}
TYPES = [rt.object_type for rt in recordtypes.declared_types() if rt.pages] + [CUSTOM["key"]]


@pytest.fixture
def world(admin_user, pipeline):
    """The custom type, and every role's grants extended to the types the built-in roles do not name."""
    fields = [{"key": "hull", "label": "Hull", "field_type": "text", "searchable": True}]
    object_services.object_type_create(actor=admin_user, data={**CUSTOM, "fields": fields})
    for role in Role.objects.filter(is_admin=False):
        grant = role.permissions.get("company", [])
        extra = {t: list(grant) for t in TYPES if t not in RECORDS}
        role_update(role, actor=admin_user, data={"permissions": {**role.permissions, **extra}})


def _api_path(rt) -> str:
    return f"/api/v1/{rt.slug}" if recordtypes.declared(rt.object_type) else f"/api/v1/objects/{rt.slug}"


def _create_body(rt, marker: str, owner=None) -> dict:
    if rt.slug == "products":  # a product needs its SKU
        return {"sku": marker, "name": marker}
    if rt.slug == "orders":  # an order needs its customer (the owner's company) and a line
        company = CompanyFactory(name=f"{marker} customer", owner=owner)
        return {"number": marker, "company_id": company.pk, "lines": [{"description": "Item", "unit_price": "1"}]}
    if rt.slug == "invoices":  # an invoice needs its company (the owner's)
        company = CompanyFactory(name=f"{marker} customer", owner=owner)
        return {"number": marker, "company_id": company.pk, "amount": "1.00"}
    if rt.slug == "quotes":  # a quote belongs to a deal (the owner's)
        return {"deal_id": make("deals", owner).pk, "title": marker}
    return payload(rt.slug, marker) if rt.slug in KINDS else {"name": marker}


def _patch_body(rt, marker: str) -> dict:
    if rt.slug in ("orders", "invoices"):
        return {"notes": f"{marker} changed"}
    if rt.slug == "quotes":
        return {"title": f"{marker} changed"}
    return PATCH[rt.slug] if rt.slug in KINDS else {"name": f"{marker} changed"}


def _allows(role: Role, object_type: str, action: str) -> bool:
    return role.is_admin or action in role.permissions.get(object_type, [])


class Reader:
    """One user's ways in: a bearer-token API client and a signed-in web client."""

    def __init__(self, user):
        self.api, self.web = Client(), Client()
        self.web.force_login(user)
        _, raw = ApiToken.issue(user)
        self.headers = {"Authorization": f"Bearer {raw}"}

    def get(self, path, params=None):
        return self.api.get(path, params or {}, headers=self.headers)

    def patch(self, path, body):
        return self.api.patch(path, body, content_type="application/json", headers=self.headers)


@pytest.mark.parametrize("object_type", TYPES)
def test_every_type_is_seen_exactly_where_the_role_says(object_type, world, request, rep_a):
    rt = recordtypes.by_type(object_type)
    marker = f"Qzx{object_type}marker"
    record = rt.create(actor=rep_a, data=_create_body(rt, marker, rep_a)).obj
    problems = []
    for user_key, (_role_slug, in_scope) in USERS.items():
        user = request.getfixturevalue(user_key)
        role = Role.objects.get(pk=user.profile.role_id)
        # The organization's catalogue (products, price books) is not scoped by owner: the grant decides.
        sees = (in_scope or not getattr(rt.model, "scoped", True)) and _allows(role, object_type, "view")
        problems += _reads(Reader(user), rt, record, marker, sees, _allows(role, object_type, "export"), user_key)
        problems += _write(Reader(user), rt, record, marker, sees, _allows(role, object_type, "change"), user_key)
    assert not problems, "\n".join(problems)


def _reads(reader, rt, record, marker, sees, exports, who) -> list[str]:
    out, base = [], _api_path(rt)

    def expect(what, shown: bool):
        if shown != sees:
            out.append(f"{who} {rt.object_type} {what}: {'shown' if shown else 'not shown'}, expected {sees}")

    listed = reader.get(base, {"limit": 200})
    expect("API list", listed.status_code == 200 and record.pk in [r["id"] for r in listed.json()["items"]])
    expect("API record", reader.get(f"{base}/{record.pk}").status_code == 200)
    if rt.search is not None:
        found = reader.get("/api/v1/search", {"q": marker}).json()
        expect("search", record.pk in [h["id"] for h in found.get(rt.object_type, [])])
    feed = reader.get("/api/v1/changes", {"limit": 200}).json()["items"]
    expect("change feed", (rt.object_type, record.pk) in {(c["object_type"], c["object_id"]) for c in feed})
    exported = reader.get(f"/api/v1/export/{rt.slug}")
    if exported.status_code == 200:
        expect("export", marker in b"".join(exported.streaming_content).decode())
    elif exports and sees:
        out.append(f"{who} {rt.object_type} export: {exported.status_code}, expected 200")
    for what, path in (("web list", f"/{rt.slug}/"), ("web page", f"/{rt.slug}/{record.pk}/"), ("home", "/")):
        page = reader.web.get(path)
        if page.status_code >= 500:
            out.append(f"{who} {rt.object_type} {what}: {page.status_code}")
        elif what != "home":  # the home page lists a user's own day, not every record they may see
            expect(what, page.status_code == 200 and marker in page.content.decode())
        elif marker in page.content.decode() and not sees:
            out.append(f"{who} {rt.object_type} home page shows a record out of sight")
    return out


def _write(reader, rt, record, marker, sees, changes, who) -> list[str]:
    version = type(record).objects.get(pk=record.pk).version
    response = reader.patch(f"{_api_path(rt)}/{record.pk}", _patch_body(rt, marker))
    expected = (200 if changes else 403) if sees else 404
    if response.status_code != expected:
        return [f"{who} {rt.object_type} API change: {response.status_code}, expected {expected}"]
    changed = type(record).objects.get(pk=record.pk).version != version
    if changed != (expected == 200):
        return [f"{who} {rt.object_type} API change: stored version moved={changed} on a {expected}"]
    return []
