"""Who sees and changes what through the API: one matrix helper over every record type, plus auth."""

import pytest
from django.conf import settings as conf
from django.test import Client

from crm.access.builtin_roles import BUILTIN_ROLES
from crm.access.models import ApiToken
from crm.audit.models import ObjectChange
from tests.test_api_helpers import (
    KINDS,
    LABEL,
    OBJECT_TYPE,
    OWNER,
    PATCH,
    assert_error,
    count,
    make,
    payload,
)

ROLES = {r["slug"]: r for r in BUILTIN_ROLES}
# Each user fixture, its built-in role, and whether its scope covers rep_a's records.
USERS = {
    "rep_a": ("sales-rep", True),  # the owner
    "rep_b": ("sales-rep", False),  # own scope, another rep
    "manager": ("sales-manager", True),  # team scope, rep_a is in the team
    "admin_user": ("admin", True),
    "readonly": ("read-only", True),
    "support": ("support-agent", True),
    "marketer": ("marketer", True),
}
TIMELINE_KINDS = ("companies", "contacts", "leads", "deals")


# The deals PATCH (tests.test_api_helpers) moves a deal to EUR, which must be enabled.
pytestmark = pytest.mark.usefixtures("foreign_currencies")


def allows(user_key: str, kind: str, action: str) -> bool:
    role = ROLES[USERS[user_key][0]]
    return role["is_admin"] or action in role["permissions"].get(OBJECT_TYPE[kind], [])


def expected(user_key: str, kind: str) -> dict:
    """What the spec (built-in roles + scopes) says ``user_key`` gets on a record rep_a owns."""
    sees = USERS[user_key][1] and allows(user_key, kind, "view")

    def write(action, ok):
        return (ok if allows(user_key, kind, action) else 403) if sees else 404

    return {
        "sees": sees,
        "detail": 200 if sees else 404,
        "changes": 200 if sees else 404,
        "timeline": 200 if sees else 404,
        "patch": write("change", 200),
        "delete": write("delete", 204),
        "create": 201 if allows(user_key, kind, "add") else 403,
    }


def check_access(api, user, user_key: str, kind: str, shared, record_of) -> list[str]:
    """Every standard endpoint of ``kind`` as ``user``; returns the mismatches (empty = all as expected).

    ``shared`` is a record rep_a owns, read by every user; ``record_of()`` makes a fresh one for a
    delete that is expected to succeed."""
    exp, client, problems = expected(user_key, kind), api(user), []

    def check(what, response, status):
        if response.status_code != status:
            problems.append(f"{user_key} {what} {kind}: {response.status_code} != {status}: {response.content[:200]}")
        elif status >= 400:
            assert_error(response, status)

    obj = shared
    base = f"/{kind}/{obj.pk}"
    listed = client.get(f"/{kind}", {"limit": 200})
    check("list", listed, 200)
    if listed.status_code == 200 and (obj.pk in [r["id"] for r in listed.json()["items"]]) != exp["sees"]:
        problems.append(f"{user_key} list {kind}: presence of rep_a's record != {exp['sees']}")
    check("detail", client.get(base), exp["detail"])
    changes = client.get(f"{base}/changes")
    check("changes", changes, exp["changes"])
    if changes.status_code == 200 and not changes.json():
        problems.append(f"{user_key} changes {kind}: empty change log")
    if kind in TIMELINE_KINDS:
        check("timeline", client.get(f"{base}/timeline"), exp["timeline"])
    obj.refresh_from_db()
    version = obj.version
    check("patch", client.patch(base, PATCH[kind]), exp["patch"])
    obj.refresh_from_db()
    if (obj.version != version) != (exp["patch"] == 200):
        problems.append(f"{user_key} patch {kind}: version went {version} -> {obj.version}")
    if exp["delete"] == 204:
        obj = record_of()
    check("delete", client.delete(f"/{kind}/{obj.pk}"), exp["delete"])
    if type(obj).objects.filter(pk=obj.pk).exists() != (exp["delete"] != 204):
        problems.append(f"{user_key} delete {kind}: row existence wrong after {exp['delete']}")
    before = count(kind)
    check("create", client.post(f"/{kind}", payload(kind, f"New by {user_key}")), exp["create"])
    if count(kind) - before != (1 if exp["create"] == 201 else 0):
        problems.append(f"{user_key} create {kind}: {count(kind) - before} rows written")
    return problems


@pytest.mark.parametrize("kind", KINDS)
def test_permission_matrix(kind, api, request, rep_a, pipeline):
    def record_of():
        return make(kind, rep_a, f"Alpha {kind}")

    shared, problems = record_of(), []
    for user_key in USERS:
        user = request.getfixturevalue(user_key)
        problems += check_access(api, user, user_key, kind, shared, record_of)
    assert not problems, "\n".join(problems)


def test_matrix_spot_checks(api, rep_a, readonly, support):
    """The matrix's key outcomes spelled out, so a wrong derivation cannot hide a wrong API."""
    lead = make("leads", rep_a, "Hidden")
    contact = make("contacts", rep_a, "Seen")
    r = api(support).get("/leads")
    assert r.status_code == 200 and r.json() == {"items": [], "next": None}
    assert_error(api(support).get(f"/leads/{lead.pk}"), 404, "not_found")
    assert_error(api(support).post("/leads", {"first_name": "X"}), 403, "permission_denied")
    ro = api(readonly)
    assert ro.get(f"/contacts/{contact.pk}").status_code == 200
    assert_error(ro.patch(f"/contacts/{contact.pk}", {"title": "x"}), 403, "permission_denied")
    assert_error(ro.delete(f"/contacts/{contact.pk}"), 403, "permission_denied")
    assert_error(ro.post("/contacts", {"first_name": "X"}), 403, "permission_denied")
    # A rep edits but may not delete their own contact; tasks they may delete.
    assert_error(api(rep_a).delete(f"/contacts/{contact.pk}"), 403, "permission_denied")
    task = make("tasks", rep_a, "Mine")
    assert api(rep_a).delete(f"/tasks/{task.pk}").status_code == 204


def test_other_rep_gets_404_on_every_record_endpoint(api, rep_a, rep_b, pipeline):
    lead = make("leads", rep_a, "Lena", company_name="Acme")
    deal = make("deals", rep_a, "Big deal")
    task = make("tasks", rep_a, "Call back")
    lost = pipeline.stages.get(is_lost=True)
    b = api(rep_b)
    assert_error(b.post(f"/leads/{lead.pk}/convert", {}), 404, "not_found")
    assert_error(b.post(f"/deals/{deal.pk}/move", {"stage_id": lost.pk, "lost_reason": "x"}), 404)
    assert_error(b.get(f"/deals/{deal.pk}/stage-history"), 404)
    assert_error(b.post(f"/tasks/{task.pk}/complete"), 404)
    assert_error(b.get(f"/leads/{lead.pk}/timeline"), 404)
    lead.refresh_from_db()
    deal.refresh_from_db()
    task.refresh_from_db()
    assert lead.converted_at is None and deal.status == "open" and task.status == "open"


def test_hidden_records_stay_out_of_search_changes_and_timelines(api, rep_a, rep_b, manager, pipeline):
    company = make("companies", rep_a, "Zanzibar Traders")
    contact = make("contacts", rep_a, "Zanzibar", company_id=company.pk)
    lead = make("leads", rep_a, "Zanzibar")
    deal = make("deals", rep_a, "Zanzibar renewal", company_id=company.pk)
    activity = make("activities", rep_a, "Zanzibar call", company_id=company.pk)
    task = make("tasks", rep_a, "Zanzibar follow-up", company_id=company.pk)
    own = make("companies", rep_b, "Zanzibar Own")
    # rep_a's note on rep_a's contact must not leak into rep_b's company timeline.
    make("activities", rep_a, "Zanzibar private", contact_id=contact.pk)
    b = api(rep_b)

    found = b.get("/search", {"q": "zanzibar"}).json()
    assert [h["id"] for h in found.get("company", [])] == [own.pk]
    assert all(not found.get(t) for t in ("contact", "lead", "deal")), found
    assert api(manager).get("/search", {"q": "zanzibar"}).json()["lead"][0]["id"] == lead.pk

    hidden = {
        ("company", company.pk),
        ("contact", contact.pk),
        ("lead", lead.pk),
        ("deal", deal.pk),
        ("activity", activity.pk),
        ("task", task.pk),
    }
    seen = {(c["object_type"], c["object_id"]) for c in b.get("/changes", {"limit": 200}).json()["items"]}
    assert seen == {("company", own.pk)}
    assert not b.get("/changes", {"object_type": "lead", "object_id": lead.pk}).json()["items"]
    assert hidden <= {(c["object_type"], c["object_id"]) for c in api(manager).get("/changes").json()["items"]}

    assert_error(b.get(f"/companies/{company.pk}/timeline"), 404)
    entries = b.get(f"/companies/{own.pk}/timeline").json()
    assert [e["kind"] for e in entries] == ["change"]
    team_view = api(manager).get(f"/companies/{company.pk}/timeline").json()
    assert {(e["kind"], e["id"]) for e in team_view} >= {("activity", activity.pk), ("task", task.pk)}


@pytest.mark.parametrize("kind", KINDS)
def test_cannot_create_a_record_for_someone_you_cannot_see(kind, api, rep_a, rep_b, manager, pipeline):
    before, log = count(kind), ObjectChange.objects.count()
    r = api(rep_a).post(f"/{kind}", payload(kind, "Gift", **{OWNER[kind]: rep_b.pk}))
    assert_error(r, 403, "permission_denied")
    assert count(kind) == before and ObjectChange.objects.count() == log
    # Inside the scope it is fine: a manager assigns a record to a rep of the team.
    r = api(manager).post(f"/{kind}", payload(kind, "Assigned", **{OWNER[kind]: rep_a.pk}))
    assert r.status_code == 201, r.content
    assert r.json()[OWNER[kind]] == rep_a.pk and r.json()[LABEL[kind]] == "Assigned"


def test_duplicate_warnings_only_name_visible_records(api, rep_a, rep_b, manager):
    make("contacts", rep_a, "Ann", email="ann@example.com")
    r = api(rep_b).post("/contacts", {"first_name": "Ann", "email": "ann@example.com"})
    assert r.status_code == 201 and r.json()["possible_duplicates"] == []
    r = api(manager).post("/contacts", {"first_name": "Ann", "email": "ann@example.com"})
    assert [d["name"] for d in r.json()["possible_duplicates"]] == ["Ann"]


def test_cannot_move_a_record_out_of_sight(api, rep_a, rep_b):
    contact = make("contacts", rep_a, "Kept")
    r = api(rep_a).patch(f"/contacts/{contact.pk}", {"owner_id": rep_b.pk})
    assert_error(r, 403, "permission_denied")
    contact.refresh_from_db()
    assert contact.owner_id == rep_a.pk and contact.version == 1


@pytest.mark.parametrize(
    "method,path",
    [("get", "/contacts"), ("post", "/contacts"), ("get", "/me"), ("get", "/search?q=a"), ("get", "/changes")],
)
def test_no_credentials_is_401_json(method, path, db):
    r = getattr(Client(), method)(f"/api/v1{path}")
    assert_error(r, 401, "unauthenticated")


def test_bad_expired_and_inactive_tokens_are_401(api, rep_a):
    from django.utils import timezone

    assert_error(Client().get("/api/v1/me", headers={"Authorization": "Bearer crm_nope"}), 401, "unauthenticated")
    assert_error(Client().get("/api/v1/me", headers={"Authorization": "Basic abc"}), 401)
    token, raw = ApiToken.issue(rep_a)
    headers = {"Authorization": f"Bearer {raw}"}
    assert Client().get("/api/v1/me", headers=headers).json()["username"] == "rep_a"
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now())
    assert_error(Client().get("/api/v1/me", headers=headers), 401)
    ApiToken.objects.filter(pk=token.pk).update(expires_at=None)
    rep_a.is_active = False
    rep_a.save()
    assert_error(Client().get("/api/v1/me", headers=headers), 401)


def test_session_auth_needs_csrf_for_writes(rep_a):
    client = Client(enforce_csrf_checks=True)
    client.force_login(rep_a)
    r = client.get("/api/v1/me")
    assert r.status_code == 200 and r.json()["username"] == "rep_a"
    before = count("contacts")
    r = client.post("/api/v1/contacts", {"first_name": "Csrf"}, content_type="application/json")
    assert_error(r, 403)
    assert count("contacts") == before
    client.cookies[conf.CSRF_COOKIE_NAME] = "a" * 32
    r = client.post(
        "/api/v1/contacts", {"first_name": "Csrf"}, content_type="application/json", headers={"X-CSRFToken": "a" * 32}
    )
    assert r.status_code == 201, r.content
