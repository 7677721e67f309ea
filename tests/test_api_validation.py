"""Bad input on every write and list endpoint: a 4xx in the error shape naming the field, never a 500,
and nothing written."""

import base64
import json

import pytest

from crm.audit.models import ObjectChange
from crm.customization.models import CustomField
from tests.test_api_helpers import KINDS, LABEL, assert_error, count, make, payload

MISSING = 987654


@pytest.fixture
def hidden(rep_b, pipeline):
    """Records rep_a cannot see (owned by rep_b), by placeholder name."""
    company = make("companies", rep_b, "Hidden Co")
    return {
        "$company": company.pk,
        "$contact": make("contacts", rep_b, "Hidden").pk,
        "$lead": make("leads", rep_b, "Hidden").pk,
        "$deal": make("deals", rep_b, "Hidden deal").pk,
    }


@pytest.fixture
def custom_fields(db):
    for object_type in ("company", "contact", "lead", "deal", "activity", "task"):
        CustomField.objects.create(object_type=object_type, key="rank", label="Rank", field_type="integer")
    CustomField.objects.create(
        object_type="contact", key="colors", label="Colors", field_type="multi_choice", choices=["red", "blue"]
    )


def fill(value, ids: dict):
    """``value`` with "$company"-style placeholders replaced by real ids."""
    if isinstance(value, dict):
        return {k: fill(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, ids) for v in value]
    return ids.get(value, value) if isinstance(value, str) else value


LONG = "x" * 300
# (kind, create body, the field the error must name); every one is a 422.
BAD_CREATES = [
    ("companies", {}, "name"),
    ("companies", {"name": ["Acme"]}, "name"),
    ("companies", {"name": 42}, "name"),
    ("companies", {"name": LONG}, "name"),
    ("companies", {"name": "   "}, "name"),
    ("companies", {"name": "A", "bogus": 1}, "bogus"),
    ("companies", {"name": "A", "annual_revenue": "lots"}, "annual_revenue"),
    ("companies", {"name": "A", "annual_revenue": -5}, "annual_revenue"),
    ("companies", {"name": "A", "annual_revenue": "1e30"}, "annual_revenue"),
    ("companies", {"name": "A", "phone": "12"}, "phone"),
    ("companies", {"name": "A", "domain": "not a domain"}, "domain"),
    ("companies", {"name": "A", "domains": ["ok.com", "bad domain"]}, "domains.1"),
    ("companies", {"name": "A", "website": "not a url"}, "website"),
    ("companies", {"name": "A", "size": "huge"}, "size"),
    ("companies", {"name": "A", "tags": "vip"}, "tags"),
    ("companies", {"name": "A", "owner_id": MISSING}, "owner_id"),
    ("companies", {"name": "A", "owner_id": "me"}, "owner_id"),
    ("companies", {"name": "A", "parent_id": "$company"}, "parent_id"),
    ("companies", {"name": "A", "parent_id": 10**30}, "parent_id"),
    ("companies", {"name": "A", "custom_fields": {"rank": "high"}}, "custom_fields.rank"),
    ("companies", {"name": "A", "custom_fields": {"nope": 1}}, "custom_fields.nope"),
    ("companies", {"name": "A", "custom_fields": [1]}, "custom_fields"),
    ("companies", {"name": "A\u0000B"}, "name"),
    ("contacts", {}, "first_name"),
    ("contacts", {"first_name": LONG}, "first_name"),
    ("contacts", {"first_name": "A", "email": "not-an-email"}, "email"),
    ("contacts", {"first_name": "A", "phone": "call me"}, "phone"),
    ("contacts", {"first_name": "A", "emails": [{"email": "ok@example.com"}, {"email": "x@"}]}, "emails.1"),
    ("contacts", {"first_name": "A", "phones": [{"number": "12", "kind": "mobile"}]}, "phones.0"),
    ("contacts", {"first_name": "A", "emails": [{"email": "a@example.com", "kind": "pager"}]}, "emails.0.kind"),
    ("contacts", {"first_name": "A", "company_id": "$company"}, "company_id"),
    ("contacts", {"first_name": "A", "company_id": MISSING}, "company_id"),
    ("contacts", {"first_name": "A", "email_opt_in": "maybe"}, "email_opt_in"),
    ("contacts", {"first_name": "A", "lifecycle_stage": "bored"}, "lifecycle_stage"),
    ("contacts", {"first_name": "A", "custom_fields": {"rank": 1.5}}, "custom_fields.rank"),
    ("contacts", {"first_name": "A", "custom_fields": {"rank": 10**30}}, "custom_fields.rank"),
    ("contacts", {"first_name": "A", "custom_fields": {"rank": "\u0000"}}, "custom_fields"),
    ("contacts", {"first_name": "A", "emails": [{"email": "a\u0000@example.com"}]}, "emails.0.email"),
    ("leads", {"first_name": "A", "tags": ["x" * 51]}, "tags.0"),
    ("leads", {"first_name": "A", "email": "nope"}, "email"),
    ("leads", {"first_name": "A", "phone": "nope"}, "phone"),
    ("leads", {"first_name": "A", "status": "hot"}, "status"),
    ("leads", {"first_name": "A", "status": "disqualified"}, "disqualified_reason"),
    ("leads", {"first_name": "A", "score": "high"}, "score"),
    ("leads", {"first_name": "A", "score": 10**12}, "score"),
    ("leads", {"first_name": "A", "owner_id": MISSING}, "owner_id"),
    ("deals", {"amount": 5}, "name"),
    ("deals", {"name": "D", "amount": "abc"}, "amount"),
    ("deals", {"name": "D", "amount": "NaN"}, "amount"),
    ("deals", {"name": "D", "amount": [1]}, "amount"),
    ("deals", {"name": "D", "currency": "EURO"}, "currency"),
    ("deals", {"name": "D", "probability": 101}, "probability"),
    ("deals", {"name": "D", "expected_close_date": "tomorrow"}, "expected_close_date"),
    ("deals", {"name": "D", "stage_id": MISSING}, "stage_id"),
    ("deals", {"name": "D", "pipeline_id": MISSING}, "pipeline_id"),
    ("deals", {"name": "D", "company_id": "$company"}, "company_id"),
    ("deals", {"name": "D", "contacts": [{"contact_id": "$contact"}]}, "contacts.0.contact_id"),
    ("deals", {"name": "D", "contacts": [{"contact_id": 1, "role": "boss"}]}, "contacts.0.role"),
    ("deals", {"name": "D", "custom_fields": {"rank": True}}, "custom_fields.rank"),
    ("activities", {"subject": "S"}, "kind"),
    ("activities", {"kind": "fax"}, "kind"),
    ("activities", {"kind": "note", "occurred_at": "yesterday"}, "occurred_at"),
    ("activities", {"kind": "call", "duration_minutes": -1}, "duration_minutes"),
    ("activities", {"kind": "call", "direction": "sideways"}, "direction"),
    ("activities", {"kind": "note", "deal_id": "$deal"}, "deal_id"),
    ("activities", {"kind": "note", "lead_id": MISSING}, "lead_id"),
    ("activities", {"kind": "note", "participant_ids": ["$contact"]}, "participant_ids"),
    ("activities", {"kind": "note", "participant_ids": [10**30]}, "participant_ids.0"),
    ("tasks", {"priority": "high"}, "title"),
    ("tasks", {"title": LONG}, "title"),
    ("tasks", {"title": "T", "due_at": "soon"}, "due_at"),
    ("tasks", {"title": "T", "due_at": "2030-01-01T10:00:00Z", "reminder_at": "2030-01-02T10:00:00Z"}, "reminder_at"),
    ("tasks", {"title": "T", "assignee_id": MISSING}, "assignee_id"),
    ("tasks", {"title": "T", "status": "someday"}, "status"),
    ("tasks", {"title": "T", "contact_id": "$contact"}, "contact_id"),
]


def problems_of(response, status: int, code: str | None = None, field: str | None = None) -> list[str]:
    """assert_error as a list of problems, so one test can check many cases and report them all."""
    try:
        assert_error(response, status, code, field)
    except AssertionError as exc:
        return [str(exc)[:300]]
    return []


@pytest.mark.parametrize("kind", KINDS)
def test_bad_create_is_422_naming_the_field(kind, api, rep_a, hidden, custom_fields):
    client, problems = api(rep_a), []
    for case_kind, body, field in BAD_CREATES:
        if case_kind != kind:
            continue
        before, log = count(kind), ObjectChange.objects.count()
        found = problems_of(client.post(f"/{kind}", fill(body, hidden)), 422, "validation_failed", field)
        if count(kind) != before or ObjectChange.objects.count() != log:
            found.append("something was written")
        problems += [f"{body} -> {p}" for p in found]
    assert not problems, "\n".join(problems)


# (kind, patch body, field) on a record rep_a owns; all 422 and the record unchanged.
BAD_PATCHES = [
    *[(kind, {LABEL[kind]: ["x"]}, LABEL[kind]) for kind in KINDS],
    *[(kind, {LABEL[kind]: LONG}, LABEL[kind]) for kind in KINDS],
    *[(kind, {"bogus": True}, "bogus") for kind in KINDS],
    *[(kind, {"version": "new"}, "version") for kind in KINDS],
    *[(kind, {"custom_fields": {"rank": "x"}}, "custom_fields.rank") for kind in KINDS],
    ("companies", {"name": ""}, "name"),
    ("companies", {"parent_id": "$self"}, "parent_id"),
    ("contacts", {"email": "bad@"}, "email"),
    ("contacts", {"company_id": "$company"}, "company_id"),
    ("contacts", {"owner_id": MISSING}, "owner_id"),
    ("leads", {"phone": "0"}, "phone"),
    ("deals", {"amount": "abc"}, "amount"),
    ("deals", {"stage_id": MISSING}, "stage_id"),
    ("tasks", {"title": None}, "title"),
]


@pytest.mark.parametrize("kind", KINDS)
def test_bad_patch_is_422_and_changes_nothing(kind, api, rep_a, hidden, custom_fields):
    obj, client, problems = make(kind, rep_a, "Orig"), api(rep_a), []
    for case_kind, body, field in BAD_PATCHES:
        if case_kind != kind:
            continue
        r = client.patch(f"/{kind}/{obj.pk}", fill(body, {**hidden, "$self": obj.pk}))
        found = problems_of(r, 422, "validation_failed", field)
        obj.refresh_from_db()
        if obj.version != 1 or getattr(obj, LABEL[kind]) != "Orig":
            found.append("the record changed")
        problems += [f"{body} -> {p}" for p in found]
    assert not problems, "\n".join(problems)


UNREADABLE = [
    ('{"name": ', 400),  # malformed JSON
    ("{'name': 'x'}", 400),
    ("\xff\xfe", 400),
    ("[1, 2]", 422),  # JSON, but not an object
    ('"text"', 422),
    ("null", 422),
    ("", 422),  # an empty body: the payload is missing
]


@pytest.mark.parametrize("kind", KINDS)
def test_unreadable_bodies_on_every_write_endpoint(kind, api, rep_a, pipeline):
    """Every variant on contacts; one of each kind of failure (400, 422) on the other types."""
    client, obj, before, problems = api(rep_a), make(kind, rep_a, "Orig"), count(kind), []
    for raw, status in UNREADABLE if kind == "contacts" else [UNREADABLE[0], UNREADABLE[3]]:
        for method, path in [("post", f"/{kind}"), ("patch", f"/{kind}/{obj.pk}"), ("post", f"/{kind}/bulk")]:
            problems += [
                f"{method} {path} {raw!r}: {p}" for p in problems_of(client._call(method, path, raw=raw), status)
            ]
    assert not problems, "\n".join(problems)
    assert count(kind) == before
    obj.refresh_from_db()
    assert obj.version == 1


BAD_SALES_CALLS = [
    ("/leads/{lead}/convert", "{oops", 400),
    ("/leads/{lead}/convert", '{"deal": {"amount": 5}}', 422),
    ("/leads/{lead}/convert", '{"contact_id": "$contact"}', 422),
    ("/leads/{lead}/convert", '{"company_id": "$company"}', 422),
    ("/leads/{lead}/convert", '{"create_company": "perhaps"}', 422),
    ("/leads/{lead}/convert", '{"surprise": 1}', 422),
    ("/deals/{deal}/move", "{oops", 400),
    ("/deals/{deal}/move", "{}", 422),
    ("/deals/{deal}/move", '{"stage_id": "next"}', 422),
    ("/deals/{deal}/move", '{"stage_id": 987654}', 422),
    ("/deals/{deal}/move", '{"stage_id": 1, "teleport": true}', 422),
]


def test_bad_input_on_convert_and_move(api, rep_a, hidden):
    lead = make("leads", rep_a, "Lena", company_name="Acme")
    deal = make("deals", rep_a, "Deal")
    client, problems = api(rep_a), []
    for path, raw, status in BAD_SALES_CALLS:
        for key, pk in hidden.items():
            raw = raw.replace(f'"{key}"', str(pk))
        r = client._call("post", path.format(lead=lead.pk, deal=deal.pk), raw=raw)
        problems += [f"{path} {raw}: {p}" for p in problems_of(r, status)]
    assert not problems, "\n".join(problems)
    lead.refresh_from_db()
    deal.refresh_from_db()
    assert lead.converted_at is None and deal.version == 1
    assert count("contacts") == 1  # only the hidden one


def cursor_of(data) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


# (path, query, field named in the 400)
BAD_LISTS = [
    ("/contacts", {"bogus": "1"}, "bogus"),
    ("/contacts", {"name__like": "a"}, "name__like"),
    ("/contacts", {"id": "abc"}, "id"),
    ("/contacts", {"id__in": "1,x"}, "id__in"),
    ("/contacts", {"id": "9" * 30}, "id"),
    ("/contacts", {"id__gt": "-" + "9" * 25}, "id__gt"),
    ("/contacts", {"id": "9" * 5000}, "id"),
    ("/contacts", {"created_at__gt": "yesterday"}, "created_at__gt"),
    ("/contacts", {"created_at": "2024-02-30"}, "created_at"),
    ("/contacts", {"email_opt_in": "maybe"}, "email_opt_in"),
    ("/contacts", {"email_opt_in__gt": "true"}, "email_opt_in__gt"),
    ("/contacts", {"owner__isnull": "perhaps"}, "owner__isnull"),
    ("/contacts", {"cf_nope": "1"}, "cf_nope"),
    ("/contacts", {"cf_rank__gt": "abc"}, "cf_rank__gt"),
    ("/contacts", {"cf_rank__gt": "9" * 30}, "cf_rank__gt"),
    ("/contacts", {"cf_rank__like": "1"}, "cf_rank__like"),
    ("/deals", {"amount__gt": "NaN"}, "amount__gt"),
    ("/deals", {"amount__gt": "1e999999999"}, "amount__gt"),
    ("/deals", {"amount": "ten"}, "amount"),
    ("/deals", {"expected_close_date": "2024-13-01"}, "expected_close_date"),
    ("/deals", {"contact": "x"}, "contact"),
    ("/contacts", {"sort": "bogus"}, "sort"),
    ("/contacts", {"sort": "-"}, "sort"),
    ("/contacts", {"sort": "owner__password"}, "sort"),
    ("/contacts", {"sort": "cf_nope"}, "sort"),
    ("/contacts", {"sort": "cf_"}, "sort"),
    ("/contacts", {"sort": "cf_colors"}, "sort"),
    ("/contacts", {"cf_colors__gt": "red"}, "cf_colors__gt"),
    ("/contacts", {"cursor": "garbage!!"}, "cursor"),
    ("/contacts", {"cursor": cursor_of([1, 2])}, "cursor"),
    ("/contacts", {"cursor": cursor_of({"v": "x"})}, "cursor"),
    ("/contacts", {"cursor": cursor_of({"v": "x", "id": "y"})}, "cursor"),
    ("/contacts", {"cursor": cursor_of({"v": {"x": 1}, "id": 1})}, "cursor"),
    ("/contacts", {"cursor": cursor_of({"v": [1], "id": 1}), "sort": "name"}, "cursor"),
    ("/contacts", {"cursor": cursor_of({"v": "not a time", "id": 1})}, "cursor"),
    ("/contacts", {"cursor": cursor_of({"v": {"t": "not a time"}, "id": 1})}, "cursor"),
    ("/contacts", {"cursor": cursor_of({"v": 3, "id": 1, "s": "id"}), "sort": "id"}, None),
    ("/contacts", {"cursor": cursor_of({"v": 3, "id": 1, "s": "id"}), "sort": "-id"}, "cursor"),
    ("/contacts", {"cursor": cursor_of({"v": "Ann", "id": 1, "s": "name"}), "sort": "id"}, "cursor"),
    ("/contacts", {"cursor": cursor_of({"v": 3, "id": True, "s": "id"}), "sort": "id"}, "cursor"),
    ("/contacts", {"cursor": cursor_of({"v": "a\x00b", "id": 1, "s": "name"}), "sort": "name"}, "cursor"),
    ("/contacts", {"name": "a\x00b"}, "name"),
    ("/contacts", {"cursor": cursor_of({"v": "x", "id": 10**30}), "sort": "name"}, "cursor"),
    ("/deals", {"cursor": cursor_of({"v": {"d": "abc"}, "id": 1}), "sort": "amount"}, "cursor"),
    ("/deals", {"cursor": cursor_of({"v": "soon", "id": 1}), "sort": "expected_close_date"}, "cursor"),
    ("/deals", {"cursor": cursor_of({"v": "abc", "id": 1}), "sort": "amount"}, "cursor"),
    ("/contacts", {"cursor": cursor_of({"v": {"x": 1}, "id": 1}), "sort": "cf_rank"}, "cursor"),
    ("/contacts", {"limit": "0"}, "limit"),
    ("/contacts", {"q": "a" * 201}, "q"),
    ("/contacts", {"limit": "1000"}, "limit"),
    ("/contacts", {"limit": "-1"}, "limit"),
    ("/changes", {"limit": "0"}, "limit"),
    ("/changes", {"cursor": "%%%"}, "cursor"),
    ("/changes", {"cursor": cursor_of({"v": "later", "id": 1})}, "cursor"),
    ("/changes", {"request_id": "not-a-uuid"}, "request_id"),
    ("/changes", {"object_id": "x"}, "object_id"),
    ("/changes", {"mood": "happy"}, "mood"),
    ("/search", {"q": "a", "limit": "0"}, "limit"),
    ("/search", {"q": "a" * 201}, "q"),
    ("/search", {"q": "a", "types": "task"}, "types"),
    ("/custom-fields", {"object_type": "widget"}, "object_type"),
    ("/custom-fields", {"object_type": "a\x00"}, "object_type"),
]


@pytest.mark.parametrize("endpoint", ["/contacts", "/deals", "/changes", "/search", "/custom-fields"])
def test_bad_list_parameters_are_400(endpoint, api, rep_a, custom_fields):
    make("contacts", rep_a, "Ann")
    client, problems = api(rep_a), []
    for path, query, field in BAD_LISTS:
        if path != endpoint:
            continue
        r = client.get(path, query)
        if field is None:  # a well-formed cursor for another position is fine
            found = [] if r.status_code == 200 else [f"{r.status_code} {r.content[:200]}"]
        else:
            found = problems_of(r, 400, "bad_request", field)
        problems += [f"{query} -> {p}" for p in found]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    "path,query",
    [
        ("/contacts", {"limit": "abc"}),
        ("/changes", {"since": "last week"}),
        ("/search", {}),
        ("/contacts/{pk}/timeline", {"limit": "0"}),
        ("/contacts/{pk}/changes", {"limit": "-1"}),
        ("/contacts/{pk}/changes", {"limit": "100000"}),
        ("/contacts/{pk}/timeline", {"types": "email"}),
        ("/widgets/{pk}/timeline", {}),
    ],
)
def test_other_bad_queries_are_4xx(path, query, api, rep_a):
    pk = make("contacts", rep_a, "Ann").pk
    r = api(rep_a).get(path.format(pk=pk), query)
    assert r.status_code in (400, 404, 422), r.content
    assert_error(r, r.status_code)


@pytest.mark.parametrize("pk", ["0", "-1", "9" * 30, "abc"])
def test_bad_ids_in_paths_are_404(pk, api, rep_a):
    client = api(rep_a)
    for r in (client.get(f"/contacts/{pk}"), client.patch(f"/contacts/{pk}", {"title": "x"})):
        assert_error(r, 404)


@pytest.mark.parametrize("header", ["soon", "W/", '"1"x', "1.5"])
def test_bad_if_match_is_400(header, api, rep_a):
    contact = make("contacts", rep_a, "Ann")
    r = api(rep_a).patch(f"/contacts/{contact.pk}", {"title": "x"}, headers={"If-Match": header})
    assert_error(r, 400, "bad_request", "If-Match")
    contact.refresh_from_db()
    assert contact.version == 1


def test_idempotency_key_too_long_is_422(api, rep_a):
    r = api(rep_a).post("/contacts", payload("contacts", "Ann"), headers={"Idempotency-Key": "k" * 256})
    assert_error(r, 422, "validation_failed", "Idempotency-Key")
    assert count("contacts") == 0


def test_dates_without_a_time_zone_are_read_as_utc(api, rep_a):
    make("contacts", rep_a, "Ann")
    client = api(rep_a)
    for query in ({"since": "2000-01-01T00:00:00"}, {"since": "2000-01-01"}, {"time__gte": "2000-01-01T00:00"}):
        r = client.get("/changes", query)
        assert r.status_code == 200 and len(r.json()["items"]) == 1, (query, r.content[:200])
    assert client.get("/changes", {"since": "2999-01-01T00:00:00"}).json()["items"] == []


def test_unsupported_method_is_json_405(api, rep_a):
    contact = make("contacts", rep_a, "Ann")
    r = api(rep_a)._call("put", f"/contacts/{contact.pk}", {"title": "x"})
    assert_error(r, 405, "method_not_allowed")
    assert set(r["Allow"].replace(" ", "").split(",")) == {"GET", "PATCH", "DELETE"}
    assert_error(api(rep_a).delete("/contacts"), 405, "method_not_allowed")


def test_oversized_body_is_413(api, rep_a, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    r = api(rep_a).post("/contacts", {"first_name": "Ann", "title": "x" * 20_000})
    assert_error(r, 413, "too_large")
    assert count("contacts") == 0
