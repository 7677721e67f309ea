"""Field-level security, generated from the registry: for every record type (declared, the test app's
gadget, a custom object type made here) and every field a role's rule may name (a custom field on a
declared type made here included), an admin puts a unique marker in the field; then, with the field
hidden from a role, the marker is in no API body, web list or record page, edit form, nor export, and
filtering or sorting on it is a 400; with the field read-only, an API update and a web form post that
set it are refused and the stored value stays.

A field whose value cannot be a distinctive text (a choice, a yes/no, a date the system sets, a link
to another record) is checked by structure instead: its API keys are null, its export columns absent.
An activity's or task's link fields (the records it is about, one field per linked type) are walked
too: the probe links the probed record of that type; hidden, no entry of that type is in ``links`` and
the change log masks them.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import re
from dataclasses import dataclass

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from crm.access import fieldrules
from crm.access.models import ACTIONS, Profile, Role
from crm.access.services import role_create, role_update
from crm.audit.selectors import MASK
from crm.core import recordtypes
from crm.core.errors import ValidationFailed
from crm.customization.models import CustomField
from crm.records.models import ContactEmail, ContactPhone
from crm.records.services import companies
from crm.web.forms.generic import form_class
from tests.conftest import Api
from tests.objects.conftest import make_type

pytestmark = pytest.mark.django_db
_seq = itertools.count(100)


def marker(prefix: str = "zq") -> str:
    return f"{prefix}{next(_seq)}mk"


@dataclass
class Probe:
    """How the admin puts a value in a field, the text that betrays it, and another value to try."""

    data: dict  # merged into the create data
    text: str | None  # None: checked by structure only
    alt: dict | None = None  # an update setting the field to another value; None: not settable


def year_probe(key: str, kind: str, year: int) -> Probe:
    if kind == "date":
        return Probe({key: f"{year}-07-19"}, str(year), {key: "2030-01-02"})
    return Probe({key: f"{year}-08-21T10:00:00+00:00"}, str(year), {key: "2030-01-02T09:00:00+00:00"})


def probe_for(rt, f, ctx) -> Probe:
    """The probe of a field; no update is tried with a key the type's update schema does not take
    (a contact's name is its first and last name; a deal's status changes by moving it)."""
    probe = _probe(rt, f, ctx)
    if probe.alt and not rt.run_time and not set(probe.alt) <= set(rt.api.update_in.model_fields):
        probe.alt = None
    return probe


def _probe(rt, f, ctx) -> Probe:  # noqa: C901 - one branch per kind of value
    """By name where a kind alone says too little, else by kind."""
    name, kind = f.name, f.kind
    if rt.run_time and name != "owner":
        key = name
    elif f.filter_lookup == f"{name}_id":
        key = f"{name}_id"
    else:
        key = name
    if f.read_only:
        return Probe({}, None)
    if f.link:
        return link_probe(f, ctx)
    special = {
        "email": lambda: Probe({"email": (m := marker()) + "@example.org"}, m, {"email": "zqalt@example.org"}),
        "domain": lambda: Probe({"domain": (m := marker()) + ".example"}, m, {"domain": "zqalt.example"}),
        "phone": lambda: Probe({"phone": "+47 22 33 44 55"}, None, {"phone": "+47 22 33 44 66"}),
        "website": lambda: Probe(
            {"website": f"https://{(m := marker())}.example"}, m, {"website": "https://zqalt.example"}
        ),
        "tag": lambda: Probe({"tags": [(m := marker())]}, m, {"tags": ["zqother"]}),
        "owner": lambda: Probe({key: ctx["owner"].pk}, None, {key: ctx["admin"].pk}),
        "assignee": lambda: Probe({key: ctx["owner"].pk}, None, {key: ctx["admin"].pk}),
        "company": lambda: Probe({key: (c := ctx["company"]()).pk}, c.name, {key: None}),
        # The parent is a company of the list itself: structure only.
        "parent": lambda: Probe({key: ctx["company"]().pk}, None, {key: None}),
        "contact": lambda: Probe({"contacts": [{"contact_id": ctx["contact"].pk}]}, None, {"contacts": []}),
        "outcome": lambda: Probe({key: (m := marker())}, m, {key: "zqalt"}),
        "currency": lambda: Probe({key: "NOK"}, None, {key: "SEK"}),
        "probability": lambda: Probe({key: 42}, None, {key: 7}),
    }
    if rt.object_type in ("company", "contact", "deal", "lead", "task", "activity") and name in special:
        return special[name]()
    if name in ("owner",):
        return special["owner"]()
    if name == "cost_currency":  # a product's: a currency code, as a deal's
        return special["currency"]()
    if name in ("stage", "pipeline", "converted_at") or key.endswith("_id"):
        return Probe({}, None)  # set by the services from other values: structure only
    if kind == "str":
        return Probe({key: (m := marker())}, m, {key: "zqalt"})
    if kind in ("int",):
        n = 600_000 + next(_seq)
        if f.max_value is not None and n > f.max_value:  # within the declared bounds, still distinctive
            n = f.max_value - next(_seq)
        return Probe({key: n}, str(n), {key: 5})
    if kind == "decimal":
        value = f"{next(_seq)}.37"
        return Probe({key: value}, value, {key: "1.11"})
    if kind in ("date", "datetime"):
        return year_probe(key, kind, 2049 - next(ctx["years"]))  # a reminder before its due time
    if kind == "choice" and len(f.choices) > 1:
        return Probe({key: f.choices[1][0]}, None, {key: f.choices[0][0]})
    if kind == "bool":
        return Probe({key: True}, None, {key: False})
    return Probe({}, None)


def link_probe(f, ctx) -> Probe:
    """The probed record of the link's type (made before activities and tasks: no extra deal on the
    board), linked through the ``<type>_id`` shorthand, what the forms send; the other value unlinks
    it. Structure only: the API sends ids (tests/test_field_security_links.py checks the task page)."""
    linked = ctx["records"][f.link][1]
    return Probe({f"{f.link}_id": linked.pk}, None, {f"{f.link}_id": None})


BASE = {
    "company": {"name": "Probe company"},
    "contact": {"first_name": "Probe", "last_name": "Person"},
    "lead": {"first_name": "Probe", "last_name": "Lead"},
    "deal": {"name": "Probe deal"},
    "activity": {"kind": "call", "subject": "Probe call"},
    "task": {"title": "Probe task"},
    "gadget": {"name": "Probe gadget"},
    "product": {"sku": "PROBE-1", "name": "Probe product"},
    "price_book": {"name": "Probe book"},
    "vault": {"name": "Probe vault"},
}


@pytest.fixture
def world(boss, pipeline, foreign_currencies):
    """The custom pieces (a custom field on contacts, a custom object type with two fields), a
    restricted user whose role grants everything on every type, and a probed record per type."""
    CustomField.objects.create(object_type="contact", key="secret", label="Secret", field_type="text")
    make_type("vault", singular="Vault", plural="Vaults", slug="vaults")
    CustomField.objects.create(object_type="vault", key="name", label="Name", field_type="text", required=True)
    CustomField.objects.create(object_type="vault", key="code", label="Code", field_type="text", searchable=True)
    CustomField.objects.create(object_type="vault", key="level", label="Level", field_type="integer")
    recordtypes.run_time_types_changed()
    owner = User.objects.create_user("zqowner", first_name="Zqowner", last_name="Person")
    Profile.objects.create(user=owner, role=Role.objects.get(slug="admin"))
    contact = recordtypes.by_type("contact").create(actor=boss, data={"first_name": "Linked"}).obj
    names = (f"Zqco{n}mk" for n in itertools.count())
    ctx = {
        "admin": boss,
        "owner": owner,
        "contact": contact,
        "company": lambda: companies.company_create(actor=boss, data={"name": next(names)}).obj,
        "years": itertools.count(),
    }
    types = [rt for rt in recordtypes.all_types() if rt.object_type in BASE]
    assert {rt.object_type for rt in types} == set(BASE), "a type of BASE is missing from the registry"
    role = Role.objects.create(
        name="Restricted",
        slug="restricted",
        scope="all",
        permissions={rt.object_type: list(ACTIONS) for rt in types},
    )
    user = User.objects.create_user("restricted", "restricted@example.com", "pw")
    Profile.objects.create(user=user, role=role)
    records = ctx["records"] = {}
    for rt in types:
        probes = {}
        data = dict(BASE[rt.object_type])
        for name in fieldrules.restrictable(rt):
            if name.startswith("cf_"):
                m = marker()
                probes[name] = Probe({"custom_fields": {name[3:]: m}}, m, {"custom_fields": {name[3:]: "zqalt"}})
            else:
                probes[name] = probe_for(rt, rt.get_field(name), ctx)
            for k, v in probes[name].data.items():
                data[k] = {**data[k], **v} if isinstance(v, dict) and k in data else v
        obj = rt.create(actor=boss, data=data).obj
        records[rt.object_type] = (rt, obj, probes)
    return {"user": user, "role": role, "admin": boss, "records": records}


def api_path(rt, pk=None) -> str:
    base = f"/objects/{rt.slug}" if rt.run_time else f"/{rt.slug}"
    return base if pk is None else f"{base}/{pk}"


def out_keys(rt, name: str, body: dict) -> list[tuple[str, ...]]:
    """Where the field's value is in an API body: its top-level keys, or its key in the values."""
    if name.startswith("cf_"):
        return [("custom_fields", name[3:])]
    if rt.run_time and name not in ("owner", "created_at", "updated_at", "name"):
        return [("values", name)]
    known = fieldrules.aliases(rt)
    return [(k,) for k in body if fieldrules.field_of(rt, k, known) == name]


def value_at(body: dict, path: tuple[str, ...]):
    for part in path:
        body = body.get(part) if isinstance(body, dict) else None
    return body


def set_rule(role: Role, object_type: str, name: str, rule: str) -> None:
    Role.objects.filter(pk=role.pk).update(field_access={object_type: {name: rule}})


def test_hidden_fields_never_leave_the_server(world):
    user, role = world["user"], world["role"]
    api, web = Api(user), Client()
    web.force_login(user)
    failures, checked = [], 0
    for object_type, (rt, obj, probes) in world["records"].items():
        for name, probe in probes.items():
            if not fieldrules.hideable(rt, name):
                continue
            set_rule(role, object_type, name, fieldrules.HIDDEN)
            failures += hidden_failures(rt, obj, name, probe, api, web)
            checked += 1
    Role.objects.filter(pk=role.pk).update(field_access={})
    assert checked > 60, checked  # every type's fields were walked
    assert not failures, "\n".join(failures)


def hidden_failures(rt, obj, name, probe, api, web) -> list[str]:  # noqa: C901 - one check per entry point
    where = f"{rt.object_type}.{name}"
    out = []

    def leak(entry: str, text: str) -> None:
        if probe.text and probe.text in text:
            out.append(f"{where}: its value {probe.text!r} is in the {entry}")

    r = api.get(api_path(rt, obj.pk))
    if r.status_code != 200:
        return [f"{where}: API get answered {r.status_code}: {r.content[:200]!r}"]
    body = r.json()
    leak("API get body", r.content.decode())
    paths = out_keys(rt, name, body)
    for path in paths:
        if value_at(body, path) is not None:
            out.append(f"{where}: API get sends {'.'.join(path)} = {value_at(body, path)!r}")
    r = api.get(api_path(rt))
    leak("API list body", r.content.decode())
    if r.status_code != 200:
        out.append(f"{where}: API list answered {r.status_code}")
    f = rt.get_field(name) if not name.startswith("cf_") else None
    if f is None or f.filterable:
        r = api.get(api_path(rt), {name: "x"})
        if r.status_code != 400 or name not in r.json()["error"]["fields"]:
            out.append(f"{where}: a filter on it answered {r.status_code}, not a 400 naming it")
    if f is None or f.sortable:
        r = api.get(api_path(rt), {"sort": f"-{name}"})
        if r.status_code != 400 or "sort" not in r.json()["error"]["fields"]:
            out.append(f"{where}: a sort by it answered {r.status_code}, not a 400")
    r = api.get(f"/export/{rt.slug}", {"format": "csv"})
    if r.status_code != 200:
        out.append(f"{where}: the export answered {r.status_code}")
    else:
        text = b"".join(r.streaming_content).decode()
        leak("export file", text)
        header = next(csv.reader(io.StringIO(text)))
        columns = {"cf_" + p[1] if p[0] in ("custom_fields", "values") else p[0] for p in paths}
        if columns & set(header):
            out.append(f"{where}: the export has the column(s) {sorted(columns & set(header))}")
    if rt.object_type == "contact":  # a contact's vCard is an export of one record
        r = api.get(f"/contacts/{obj.pk}/vcard")
        if r.status_code != 200:
            out.append(f"{where}: the vCard answered {r.status_code}")
        leak("vCard", r.content.decode())
    if rt.pages:
        for entry, url in (
            ("web list", reverse("web:record-list", args=[rt.slug])),
            ("record page", reverse("web:record-detail", args=[rt.slug, obj.pk])),
            ("edit form", reverse("web:record-edit", args=[rt.slug, obj.pk])),
            ("web change history", reverse("web:timeline", args=[rt.slug, obj.pk]) + "?show=change"),
        ):
            r = web.get(url)
            if r.status_code != 200:
                out.append(f"{where}: the {entry} answered {r.status_code}")
            leak(entry, r.content.decode())
    out += step2_hidden_failures(rt, obj, name, probe, api, web)
    out += change_log_failures(rt, obj, name, api, leak)
    if f is not None and f.link:
        out += link_failures(rt, obj, f, body, api)
    out += search_failures(rt, obj, name, probe, api, web, leak)
    return out


def change_log_failures(rt, obj, name, api, leak) -> list[str]:
    """The record's creation is in the change log with every probed value: each reader of the log sends
    the hidden field's key with its values masked."""
    where = f"{rt.object_type}.{name}"
    out = []
    feeds = {
        "change feed": ("/changes", {"object_type": rt.object_type, "object_id": obj.pk}),
        "record's changes": (api_path(rt, obj.pk) + "/changes", {}),
    }
    for entry, (path, params) in feeds.items():
        r = api.get(path, params)
        if r.status_code != 200:
            out.append(f"{where}: the {entry} answered {r.status_code}")
            continue
        leak(entry, r.content.decode())
        rows = r.json()["items"] if isinstance(r.json(), dict) else r.json()
        out += _unmasked(rt, name, [row["changes"] for row in rows], where, entry)
    if rt.timeline:
        r = api.get(api_path(rt, obj.pk) + "/timeline", {"types": "change"})
        if r.status_code != 200:
            out.append(f"{where}: the timeline answered {r.status_code}")
        else:
            leak("API timeline", r.content.decode())
            out += _unmasked(rt, name, [e["detail"]["changes"] for e in r.json()], where, "API timeline")
    return out


def link_failures(rt, obj, f, body: dict, api) -> list[str]:
    """A hidden link field: the record's ``links`` (API) hold no entry of its type, and each reader of
    the change log sends those entries masked."""
    where = f"{rt.object_type}.{f.name}"
    out = [f"{where}: API get lists the link {e}" for e in body.get("links") or [] if e["type"] == f.link]
    for path, params in (
        ("/changes", {"object_type": rt.object_type, "object_id": obj.pk}),
        (api_path(rt, obj.pk) + "/changes", {}),
    ):
        rows = api.get(path, params).json()
        rows = rows["items"] if isinstance(rows, dict) else rows
        for row in rows:
            for side in row["changes"].get("links") or []:
                shown = [v for v in side or [] if str(v).startswith(f"{f.link}:")]
                if shown:
                    out.append(f"{where}: {path} sends the links {shown}")
    return out


def _unmasked(rt, name: str, logged: list[dict], where: str, entry: str) -> list[str]:
    """Of the entries' changes, the values of ``name`` that are not the mask."""
    known = fieldrules.aliases(rt)
    out = []
    for changes in logged:
        for key, pair in changes.items():
            if key in ("custom_fields", "values"):
                values = [
                    (side or {}).get(k) for side in pair for k in (side or {}) if fieldrules.custom_name(rt, k) == name
                ]
            elif fieldrules.field_of(rt, key, known) == name:
                values = pair
            else:
                continue
            if any(v != MASK for v in values):
                out.append(f"{where}: the {entry} sends {key} = {pair!r}")
    return out


def search_failures(rt, obj, name, probe, api, web, leak) -> list[str]:
    """Searching for the hidden value of a searched field does not find the record (global search, the
    web header search and picker, a list's ?q=), and no hit shows it."""
    where = f"{rt.object_type}.{name}"
    f = None if name.startswith("cf_") else rt.get_field(name)
    # Only a field the record is found by (search text, ?q= text fields): on PostgreSQL a marker
    # tolerated as a typo of another (zq101mk, zq102mk) finds the record by that visible one.
    if not probe.text or f is None or not (f.searchable or f.name in rt.api.text_fields):
        return []
    out = []
    if rt.search is not None:
        r = api.get("/search", {"q": probe.text, "types": rt.object_type})
        leak("search hits", r.content.decode())
        if r.status_code != 200 or obj.pk in [h["id"] for h in r.json()[rt.object_type]]:
            out.append(f"{where}: global search for its value found the record ({r.status_code})")
    r = api.get(api_path(rt), {"q": probe.text})
    if r.status_code != 200 or obj.pk in [row["id"] for row in r.json()["items"]]:
        out.append(f"{where}: a list's ?q= with its value found the record ({r.status_code})")
    if rt.pages:
        pages = {
            "web search": reverse("web:search") + f"?q={probe.text}",
            "record picker": reverse("web:pick", args=[rt.object_type]) + f"?q={probe.text}",
            "web list search": reverse("web:record-list", args=[rt.slug]) + f"?q={probe.text}",
        }
        for entry, url in pages.items():
            r = web.get(url)
            text = r.content.decode()
            if r.status_code != 200 or _links_to(rt, obj, text):
                out.append(f"{where}: the {entry} for its value answered {r.status_code} or found the record")
    return out


def _links_to(rt, obj, html: str) -> bool:
    """Whether a page links to the record or offers it in a picker (the query itself is echoed)."""
    return f'"{reverse("web:record-detail", args=[rt.slug, obj.pk])}"' in html or f'data-pick-id="{obj.pk}"' in html


def test_read_only_fields_are_refused_on_every_write_path(world):
    user, role, admin = world["user"], world["role"], world["admin"]
    api, web = Api(user), Client()
    web.force_login(user)
    failures, checked = [], 0
    for object_type, (rt, obj, probes) in world["records"].items():
        for name, probe in probes.items():
            if probe.alt is None:
                continue
            set_rule(role, object_type, name, fieldrules.READ)
            failures += read_only_failures(rt, obj, name, probe, api, web, Api(admin))
            checked += 1
    assert checked > 40, checked
    assert not failures, "\n".join(failures)


def _stored(admin_api, rt, obj, name) -> dict:
    body = admin_api.get(api_path(rt, obj.pk)).json()
    return {p: value_at(body, p) for p in out_keys(rt, name, body)}


def read_only_failures(rt, obj, name, probe, api, web, admin_api) -> list[str]:
    where = f"{rt.object_type}.{name}"
    out = []
    before = _stored(admin_api, rt, obj, name)
    body = {"values": probe.alt} if rt.run_time and not name.startswith("cf_") and name != "owner" else probe.alt
    if rt.run_time and name == "owner":
        body = {"owner_id": probe.alt["owner_id"]}
    r = api.patch(api_path(rt, obj.pk), body)
    fields = r.json().get("error", {}).get("fields", {}) if r.status_code >= 400 else {}
    if r.status_code != 422 or fieldrules.READ_MESSAGE not in fields.values():
        out.append(f"{where}: an API update setting it answered {r.status_code} {fields or r.content[:200]!r}")
    if _stored(admin_api, rt, obj, name) != before:
        out.append(f"{where}: the API update changed it")
    if rt.pages:
        out += _form_post(rt, obj, name, probe, web, before, admin_api)
    out += step2_read_only_failures(rt, obj, name, probe, api, web)
    if _stored(admin_api, rt, obj, name) != before:
        out.append(f"{where}: an import or merge changed it")
    return out


def _form_post(rt, obj, name, probe, web, before, admin_api) -> list[str]:
    """Post the edit form as the browser would (every field's current value), with the read-only
    field forged to another value: the form refuses it, the record keeps its value."""
    where = f"{rt.object_type}.{name}"
    fresh = rt.objects().get(pk=obj.pk)
    user = User.objects.get(username="restricted")
    form = form_class(rt)(user=user, instance=fresh)
    known = fieldrules.aliases(rt)
    targets = [n for n in form.fields if _field_name(rt, n, known) == name]
    if not targets:
        return []  # the type's form has no input for it
    data = {"version": str(fresh.version)}
    for bf in form:
        data.update(_posted(bf.html_name, bf.field, bf.value()))
    forged = _forged_value(form.fields[targets[0]], probe)
    if forged is None:
        return []
    data.update(_posted(targets[0], form.fields[targets[0]], forged))
    r = web.post(reverse("web:record-edit", args=[rt.slug, obj.pk]), data)
    out = []
    if _stored(admin_api, rt, obj, name) != before:
        out.append(f"{where}: a forged web form post changed it")
    if r.status_code == 200 and fieldrules.READ_MESSAGE not in r.content.decode():
        out.append(f"{where}: the form did not say the field is read-only")
    return out


def _field_name(rt, form_name: str, known) -> str | None:
    return fieldrules.field_of(rt, form_name, known)


def _forged_value(field, probe):
    from django import forms

    value = next(iter(probe.alt.values()))
    if isinstance(value, dict):  # custom_fields / values
        value = next(iter(value.values()))
    if isinstance(field, forms.BooleanField):
        return None  # an unticked box is not posted: nothing to forge
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) if value and isinstance(value[0], str) else None
    return "" if value is None else value


def _posted(name: str, field, value) -> dict:
    from django import forms

    if isinstance(field.widget, forms.MultiWidget):
        parts = field.widget.decompress(value)
        return {f"{name}_{i}": "" if p is None else str(p) for i, p in enumerate(parts)}
    if isinstance(field.widget, forms.CheckboxInput):
        return {name: "on"} if value else {}
    if isinstance(value, list | tuple):
        return {name: [str(v) for v in value]}
    return {name: "" if value is None else str(value)}


def test_role_rules_are_checked_against_the_registry(boss):
    CustomField.objects.create(object_type="contact", key="budget", label="Budget", field_type="decimal")
    rules = {"contact": {"email": "hidden", "cf_budget": "read"}}
    role = role_create(actor=boss, data={"name": "Partner", "slug": "partner", "field_access": rules})
    assert role.field_access == {"contact": {"email": "hidden", "cf_budget": "read"}}
    bad = [
        ({"spaceship": {"email": "hidden"}}, "Unknown record type 'spaceship'"),
        ({"contact": {"nope": "hidden"}}, "no field 'nope'"),
        ({"contact": {"email": "secret"}}, "'hidden' or 'read'"),
        ({"contact": {"name": "hidden"}}, "not hidden"),
        ({"contact": ["email"]}, "must be an object"),
        ("email", "Must be an object"),
    ]
    for value, message in bad:
        with pytest.raises(ValidationFailed) as exc:
            role_update(role, actor=boss, data={"field_access": value})
        assert message in exc.value.fields["field_access"], (value, exc.value.fields)
    # A custom field deleted since keeps the role editable (its rule passes as stored).
    CustomField.objects.filter(key="budget").delete()
    role_update(role, actor=boss, data={"name": "Partners"})


def test_admin_roles_and_superusers_have_no_field_rules(boss):
    from crm.access.policy import policy_for

    admin_role = Role.objects.get(slug="admin")
    Role.objects.filter(pk=admin_role.pk).update(field_access={"contact": {"email": "hidden"}})
    fresh = User.objects.get(pk=boss.pk)
    assert policy_for(fresh).hidden_fields("contact") == frozenset()
    assert policy_for(fresh).field_rule("contact", "email") == ""
    root = User.objects.create_superuser("root", "root@example.com", "pw")
    assert policy_for(root).read_only_fields("contact") == frozenset()


def test_a_record_timeline_nulls_the_hidden_fields_of_its_activities(world):
    user, role, admin = world["user"], world["role"], world["admin"]
    contact = world["records"]["contact"][1]
    recordtypes.by_type("activity").create(
        actor=admin, data={"kind": "note", "body": "zqtimelinebody", "contact_id": contact.pk}
    )
    path = f"/contacts/{contact.pk}/timeline"
    assert "zqtimelinebody" in Api(user).get(path).content.decode()  # no rule yet: shown
    set_rule(role, "activity", "body", fieldrules.HIDDEN)
    r = Api(user).get(path)
    assert r.status_code == 200 and "zqtimelinebody" not in r.content.decode()
    assert [e["detail"]["body"] for e in r.json() if e["kind"] == "activity"][0] is None


def test_moving_a_deal_answers_without_its_hidden_fields_and_a_read_only_stage_stops_the_move(world):
    from crm.records.models import Stage

    user, role = world["user"], world["role"]
    rt, deal, probes = world["records"]["deal"]
    deal.refresh_from_db()
    other = Stage.objects.filter(pipeline_id=deal.pipeline_id, is_won=False, is_lost=False).exclude(pk=deal.stage_id)
    set_rule(role, "deal", "amount", fieldrules.HIDDEN)
    r = Api(user).post(f"/deals/{deal.pk}/move", {"stage_id": other.first().pk})
    assert r.status_code == 200, r.content
    assert r.json()["amount"] is None and probes["amount"].text not in r.content.decode()
    set_rule(role, "deal", "stage", fieldrules.READ)
    r = Api(user).post(f"/deals/{deal.pk}/move", {"stage_id": deal.stage_id})
    assert r.status_code == 422 and r.json()["error"]["fields"] == {"stage_id": fieldrules.READ_MESSAGE}


def test_a_hidden_field_is_never_writable_and_bulk_creates_refuse_the_item_that_sets_one(world):
    from crm.records.services.contacts import contact_create_many

    user, role = world["user"], world["role"]
    rt, contact, probes = world["records"]["contact"]
    Role.objects.filter(pk=role.pk).update(field_access={"contact": {"title": "hidden", "cf_secret": "read"}})
    r = Api(user).patch(f"/contacts/{contact.pk}", {"title": "CEO", "custom_fields": {"secret": "x"}})
    assert r.status_code == 422, r.content
    assert r.json()["error"]["fields"] == {
        "title": fieldrules.HIDDEN_MESSAGE,
        "custom_fields.secret": fieldrules.READ_MESSAGE,
    }
    r = Api(user).post("/contacts", {"first_name": "New", "title": "CEO"})
    assert r.status_code == 422 and r.json()["error"]["fields"] == {"title": fieldrules.HIDDEN_MESSAGE}
    results = contact_create_many(
        actor=User.objects.get(pk=user.pk), items=[{"first_name": "Kept"}, {"first_name": "Refused", "title": "CEO"}]
    )
    assert not isinstance(results[0], ValidationFailed)
    assert isinstance(results[1], ValidationFailed) and results[1].fields == {"title": fieldrules.HIDDEN_MESSAGE}


def test_a_record_page_lists_related_records_without_their_hidden_fields(world):
    user, role = world["user"], world["role"]
    rt, deal, probes = world["records"]["deal"]
    deal.refresh_from_db()
    web = Client()
    web.force_login(user)
    page = reverse("web:record-detail", args=["companies", deal.company_id])
    amount = probes["amount"].text
    assert amount in web.get(page).content.decode()  # the company's related deals show their amount
    set_rule(role, "deal", "amount", fieldrules.HIDDEN)
    r = web.get(page)
    assert r.status_code == 200 and amount not in r.content.decode()


# --- step 2: imports, rule templates, duplicates and merge, reports ---------------------------------


def import_targets(rt, name: str) -> list[str]:
    """The import targets (mapping values) that feed the field ``name`` of the type, if importable."""
    from crm.dataio import importfields, mapping
    from crm.dataio.importers import importer_of

    if importer_of(rt) is None:
        return []
    known = fieldrules.aliases(rt)
    targets = list(mapping.targets(rt.slug)) + [f"cf_{k}" for k in mapping.custom_keys(rt.slug)]
    return [t for t in targets if importfields.field_of_target(rt, t, known) == name]


def import_refusal(api, rt, name: str, rule_words: str) -> list[str]:
    """A file whose one column is mapped to the field: refused up front, the column named, for a dry
    run and for an update of the existing records alike."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    out = []
    for target in import_targets(rt, name)[:1]:
        for form in ({"dry_run": "true"}, {"update_existing": "true"}):
            data = {"file": SimpleUploadedFile("f.csv", b"Col\nzqimported\n", "text/csv"), **form}
            data["mapping"] = json.dumps({"Col": target})
            r = api.client.post(f"/api/v1/import/{rt.slug}", data, headers=api.headers)
            fields = r.json().get("error", {}).get("fields", {}) if r.status_code >= 400 else {}
            if r.status_code != 422 or rule_words not in fields.get("mapping.Col", ""):
                out.append(
                    f"{rt.object_type}.{name}: an import of column -> {target} answered {r.status_code} {fields}"
                )
    return out


def twin_of(rt, obj):
    """Another record of the type to compare and merge with (made when a merge took the last one)."""
    twin = rt.objects().exclude(pk=obj.pk).order_by("pk").first()
    if twin is None:
        twin = rt.create(actor=User.objects.get(username="zqowner"), data=dict(BASE[rt.object_type])).obj
    return twin


def template_keys(rt, name: str) -> list[str]:
    """The ``{{placeholder}}`` names a rule may use for the field (its model fields' names)."""
    if name.startswith("cf_"):
        return [name] if not rt.run_time else []
    known = fieldrules.aliases(rt)
    return [k for k, n in known.items() if n == name and k in (name, f"{name}_id")]


def step2_hidden_failures(rt, obj, name, probe, api, web) -> list[str]:
    """A hidden field's value in no rule text rendered for the user, no import, duplicates, merge
    page or pipeline report; a column mapped to it is refused before the import starts."""
    from crm.automation import templating

    where = f"{rt.object_type}.{name}"
    out = []

    def leak(entry: str, text: str) -> None:
        if probe.text and probe.text in text:
            out.append(f"{where}: its value {probe.text!r} is in the {entry}")

    user = User.objects.get(username="restricted")
    fresh = rt.objects().get(pk=obj.pk)
    for key in template_keys(rt, name):
        leak(f"rule text {{{{{key}}}}} rendered for the user", templating.render(f"<{{{{{key}}}}}>", fresh, user))
    out += import_refusal(api, rt, name, "hidden from your role")
    if rt.duplicates:
        r = api.get(f"/duplicates/{rt.slug}", {"min_score": 0})
        leak("API duplicates", r.content.decode())
        twin = twin_of(rt, obj)
        r = web.get(reverse("web:merge", args=[rt.slug, obj.pk, twin.pk]))
        if r.status_code != 200:
            out.append(f"{where}: the merge page answered {r.status_code}")
        leak("merge page", r.content.decode())
    if rt.object_type == "deal":
        fresh = rt.objects().get(pk=obj.pk)
        for entry, r in (
            ("API board", api.get(f"/sales/pipelines/{fresh.pipeline_id}/board")),
            ("API forecast", api.get("/sales/forecast")),
            ("web board", web.get(reverse("web:board"), {"pipeline": fresh.pipeline_id})),
        ):
            if r.status_code != 200:
                out.append(f"{where}: the {entry} answered {r.status_code}")
            leak(entry, r.content.decode())
    return out


def merge_choice_key(rt, name: str) -> str | None:
    """The key a merge request chooses the field's value by, when the merge offers a choice for it."""
    from crm.dataio import duplicates

    spec = duplicates.spec_of(rt)
    if spec is None:
        return None
    if name.startswith("cf_") or name in spec.fields or name in ("email", "phone", "domain"):
        return name
    return None


def step2_read_only_failures(rt, obj, name, probe, api, web) -> list[str]:
    """A read-only field: a column mapped to it is refused up front; a merge may not choose the other
    record's value for it (refused), nor does its page offer that choice."""
    where = f"{rt.object_type}.{name}"
    out = import_refusal(api, rt, name, "read-only for your role")
    key = merge_choice_key(rt, name)
    if key is None:
        return out
    twin = twin_of(rt, obj)
    page = web.get(reverse("web:merge", args=[rt.slug, obj.pk, twin.pk])).content.decode()
    if f'name="pick_{key}"' in page:
        out.append(f"{where}: the merge page offers a choice for it")
    r = api.post(f"/merge/{rt.slug}", {"survivor_id": obj.pk, "other_id": twin.pk, "choices": {key: "other"}})
    fields = r.json().get("error", {}).get("fields", {}) if r.status_code >= 400 else {}
    if r.status_code != 422 or fields.get(f"choices.{key}") != fieldrules.READ_MESSAGE:
        out.append(
            f"{where}: a merge choosing the other's value answered {r.status_code} {fields or r.content[:200]!r}"
        )
    return out


def test_an_import_wizard_proposes_without_the_columns_a_role_may_not_import_and_lists_them(world, settings, tmp_path):
    """The column mapped by its header to a hidden field is proposed as "don't import" and named on the
    mapping page; the API's column check lists it; choosing it anyway refuses the import, naming it."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.VAR_DIR = tmp_path
    user, role = world["user"], world["role"]
    Role.objects.filter(pk=role.pk).update(field_access={"contact": {"email": "hidden", "title": "read"}})
    text = b"First name,E-mail,Job title\nAnn,ann@x.example,CTO\n"
    web = Client()
    web.force_login(user)
    r = web.post("/imports/contacts/new/", {"file": SimpleUploadedFile("p.csv", text, "text/csv")})
    page = web.get(r["Location"])
    html = page.content.decode()
    assert "Email: hidden from your role — this column will not be imported." in html
    assert "Title: read-only for your role — this column will not be imported." in html
    chosen = dict(re.findall(r'<select id="map-\d+" name="(map_\d+)">.*?<option value="([^"]*)" selected>', html, re.S))
    assert chosen == {"map_0": "first_name", "map_1": "", "map_2": ""}  # E-mail and Job title: "don't import"
    api = Api(user)
    r = api.client.post(
        "/api/v1/import/contacts/columns", {"file": SimpleUploadedFile("p.csv", text, "text/csv")}, headers=api.headers
    )
    assert r.json()["mapping"] == {"First name": "first_name", "E-mail": "", "Job title": ""}
    assert set(r.json()["refused"]) == {"E-mail", "Job title"}
    mapping = json.dumps({"First name": "first_name", "E-mail": "email", "Job title": "title"})
    data = {"file": SimpleUploadedFile("p.csv", text, "text/csv"), "mapping": mapping}
    r = api.client.post("/api/v1/import/contacts", data, headers=api.headers)
    assert r.status_code == 422
    assert r.json()["error"]["fields"] == {
        "mapping.E-mail": "Email: hidden from your role — this column cannot be imported.",
        "mapping.Job title": "Title: read-only for your role — this column cannot be imported.",
    }
    assert "'E-mail', 'Job title'" in r.json()["error"]["message"]
    assert not recordtypes.by_type("contact").objects().filter(first_name="Ann").exists()


def test_rule_texts_and_webhook_payloads_leave_out_a_field_hidden_from_their_reader(world):
    from crm.automation import actions, webhooks
    from crm.automation.models import Notification, WebhookSubscription
    from crm.records.models import Task

    user, role, admin = world["user"], world["role"], world["admin"]
    rt, contact, probes = world["records"]["contact"]
    secret = probes["title"].text
    set_rule(role, "contact", "title", fieldrules.HIDDEN)
    ctx = actions.Context(rule=None, obj=rt.objects().get(pk=contact.pk), actor=admin)
    params = {"to": [user.pk, admin.pk], "title": "About {{record}}: {{title}}", "body": "Title: {{ title }}."}
    actions.run_notify(ctx, params)
    notes = {n.user_id: n for n in Notification.objects.filter(kind="automation")}
    assert (notes[user.pk].title, notes[user.pk].body) == (f"About {ctx.obj}: ", "Title: .")
    assert secret in notes[admin.pk].title and secret in notes[admin.pk].body  # admins have no field rules
    for assignee, shown in ((user, False), (admin, True)):
        made = actions.run_create_task(ctx, {"title": "Call about {{title}}", "assignee": assignee.pk})
        task = Task.objects.get(pk=made["task_id"])
        assert (secret in task.title) is shown and task.assignee_id == assignee.pk
    # A webhook's payload obeys the rules of its subscription's role; with no role it is the admin feed.
    data = webhooks.record_data("contact", contact.pk)
    shaped = WebhookSubscription(name="feed", url="https://example.com/h", role=Role.objects.get(pk=role.pk))
    assert secret not in json.dumps(webhooks.shaped(shaped, "contact", data), default=str)
    assert secret in json.dumps(webhooks.shaped(WebhookSubscription(name="all"), "contact", data), default=str)


def test_duplicates_are_not_matched_on_a_hidden_email_nor_show_it(world):
    from crm.automation import jobs

    user, role, admin = world["user"], world["role"], world["admin"]
    rt = recordtypes.by_type("contact")
    for first, last in (("Alpha", "Onesie"), ("Beta", "Twosome")):
        rt.create(actor=admin, data={"first_name": first, "last_name": last, "email": "zqshared@example.org"})
    api = Api(user)

    def email_pairs(body):
        return [p for p in body["items"] if {p["a"]["name"], p["b"]["name"]} == {"Alpha Onesie", "Beta Twosome"}]

    found = email_pairs(api.get("/duplicates/contacts").json())
    assert [p["reasons"] for p in found] == [{"email": 1}]  # no rule yet: matched on the shared email
    scan = api.post("/duplicates/contacts/scans").json()
    jobs.run_due()
    set_rule(role, "contact", "email", fieldrules.HIDDEN)
    assert email_pairs(api.get("/duplicates/contacts", {"min_score": 0}).json()) == []
    # A scan made before the rule: the pair stays, its email reason is not shown.
    assert [p["reasons"] for p in email_pairs(api.get(f"/duplicates/scans/{scan['id']}").json())] == [{}]
    web = Client()
    web.force_login(user)
    page = web.get(reverse("web:duplicates", args=["contacts"]))
    assert page.status_code == 200 and "Alpha Onesie" in page.content.decode()
    assert "zqshared" not in page.content.decode()


def test_a_merge_keeps_the_survivors_own_hidden_value(world):
    user, role, admin = world["user"], world["role"], world["admin"]
    rt = recordtypes.by_type("contact")
    keep = rt.create(actor=admin, data={"first_name": "Keep", "last_name": "Me", "title": ""}).obj
    other = rt.create(actor=admin, data={"first_name": "Other", "last_name": "Me", "title": "zqothertitle"}).obj
    set_rule(role, "contact", "title", fieldrules.HIDDEN)
    r = Api(user).post("/merge/contacts", {"survivor_id": keep.pk, "other_id": other.pk, "choices": {"title": "other"}})
    assert r.status_code == 422 and r.json()["error"]["fields"] == {"choices.title": fieldrules.HIDDEN_MESSAGE}
    r = Api(user).post("/merge/contacts", {"survivor_id": keep.pk, "other_id": other.pk})
    assert r.status_code == 200 and r.json()["title"] is None
    assert rt.objects().get(pk=keep.pk).title == ""  # not filled from the other, as it would be for an admin


def test_board_and_forecast_totals_are_null_when_the_amount_is_hidden(world):
    user, role = world["user"], world["role"]
    rt, deal, probes = world["records"]["deal"]
    deal.refresh_from_db()
    api = Api(user)
    board = api.get(f"/sales/pipelines/{deal.pipeline_id}/board").json()
    column = next(c for c in board["columns"] if c["stage"]["id"] == deal.stage_id)
    assert column["amount"] == probes["amount"].text  # no rule yet: the total is the deal's amount
    set_rule(role, "deal", "amount", fieldrules.HIDDEN)
    board = api.get(f"/sales/pipelines/{deal.pipeline_id}/board").json()
    column = next(c for c in board["columns"] if c["stage"]["id"] == deal.stage_id)
    assert (column["count"], column["amount"], column["weighted_amount"]) == (1, None, None)
    assert [(t["amount"], t["weighted_amount"]) for t in column["totals"]] == [(None, None)]
    assert column["converted"]["amount"] is None and column["converted"]["rates"] == []
    assert [c["amount"] for c in column["cards"]] == [None]
    months = api.get("/sales/forecast").json()
    assert months and all(m["amount"] is None and m["weighted_amount"] is None for m in months)
    assert all(m["converted"]["amount"] is None for m in months)
    set_rule(role, "deal", "probability", fieldrules.HIDDEN)  # the amount shows, its weighting does not
    column = next(
        c
        for c in api.get(f"/sales/pipelines/{deal.pipeline_id}/board").json()["columns"]
        if c["stage"]["id"] == deal.stage_id
    )
    assert column["amount"] == probes["amount"].text and column["weighted_amount"] is None
    r = api.get(f"/sales/pipelines/{deal.pipeline_id}/board", {"close_from": "2020-01-01"})
    assert r.status_code == 200
    set_rule(role, "deal", "expected_close_date", fieldrules.HIDDEN)
    r = api.get(f"/sales/pipelines/{deal.pipeline_id}/board", {"close_from": "2020-01-01"})
    assert r.status_code == 400 and "close_from" in r.json()["error"]["fields"]


def test_the_web_change_history_and_the_edit_conflict_box_mask_hidden_values(world):
    """An update's before and after are shown on the record page's history and in the box that says
    someone else saved the record first: a hidden field's row is there, its values read "(hidden)"."""
    user, role, admin = world["user"], world["role"], world["admin"]
    rt, contact, probes = world["records"]["contact"]
    contact.refresh_from_db()
    Role.objects.filter(pk=role.pk).update(field_access={"contact": {"title": "hidden", "cf_secret": "hidden"}})
    web = Client()
    web.force_login(user)
    form = web.get(reverse("web:record-edit", args=["contacts", contact.pk])).context["form"]
    stale = {"version": str(contact.version)}
    for bf in form:
        stale.update(_posted(bf.html_name, bf.field, bf.value()))
    rt.update(contact, actor=admin, data={"title": "zqnewtitlemk", "custom_fields": {"secret": "zqnewsecretmk"}})

    history = web.get(reverse("web:timeline", args=["contacts", contact.pk]) + "?show=change").content.decode()
    r = web.post(reverse("web:record-edit", args=["contacts", contact.pk]), stale)
    box = r.content.decode()
    assert r.status_code == 409 and "Someone else changed" in box
    for page in (history, box):
        assert MASK in page
        for value in ("zqnewtitlemk", "zqnewsecretmk", probes["title"].text, probes["cf_secret"].text):
            assert value not in page
    # Without the rule, the same reader sees the values.
    Role.objects.filter(pk=role.pk).update(field_access={})
    history = web.get(reverse("web:timeline", args=["contacts", contact.pk]) + "?show=change").content.decode()
    assert "zqnewtitlemk" in history and "zqnewsecretmk" in history and MASK not in history


def test_search_finds_by_visible_text_and_shows_no_hidden_detail(world):
    """With the email hidden, the contact is still found by its name, but the hit's detail is not its
    address; the address finds nothing, in the API and in the web header search."""
    user, role = world["user"], world["role"]
    rt, contact, probes = world["records"]["contact"]
    email = probes["email"].text
    api = Api(user)
    hits = api.get("/search", {"q": email, "types": "contact"}).json()["contact"]
    assert [h["id"] for h in hits] == [contact.pk] and email in hits[0]["detail"]  # no rule yet
    set_rule(role, "contact", "email", fieldrules.HIDDEN)
    assert api.get("/search", {"q": email, "types": "contact"}).json()["contact"] == []
    contact.refresh_from_db()  # its last name is a probe too
    hits = api.get("/search", {"q": contact.name, "types": "contact"}).json()["contact"]
    assert [h["id"] for h in hits] == [contact.pk] and email not in hits[0]["detail"]
    web = Client()
    web.force_login(user)
    page = web.get(reverse("web:search"), {"q": contact.name}).content.decode()
    assert reverse("web:record-detail", args=["contacts", contact.pk]) in page and email not in page
    # By its first name (a probe too, as every field a rule may name).
    assert contact.pk in [row["id"] for row in api.get("/contacts", {"q": contact.first_name}).json()["items"]]
    assert contact.pk not in [row["id"] for row in api.get("/contacts", {"q": email}).json()["items"]]


def test_the_home_page_shows_no_hidden_values(world, pipeline):
    """My deals closing this month, the pipeline chart's totals and the recent activity on my records,
    with the deal's amount and the activity's owner hidden."""
    import datetime as dt

    from django.utils import timezone

    user, role, admin = world["user"], world["role"], world["admin"]
    deal = (
        recordtypes.by_type("deal")
        .create(
            actor=admin,
            data={
                "name": "Zqhome deal",
                "amount": "987654",
                "owner_id": user.pk,
                "pipeline_id": pipeline.pk,
                "expected_close_date": timezone.localdate().isoformat(),
            },
        )
        .obj
    )
    recordtypes.by_type("activity").create(
        actor=admin, data={"kind": "call", "subject": "Zqhome call", "owner_id": admin.pk, "deal_id": deal.pk}
    )
    task = (
        recordtypes.by_type("task")
        .create(
            actor=admin,
            data={"title": "Zqhome task", "assignee_id": user.pk, "due_at": timezone.now() - dt.timedelta(days=3)},
        )
        .obj
    )
    web = Client()
    web.force_login(user)
    page = web.get("/").content.decode()
    assert "Zqhome deal" in page and "987,654" in page and "Zqhome call" in page and "Zqhome task" in page
    assert "due " in _task_row(page, task.pk)
    admin_name = admin.get_full_name() or admin.get_username()
    Role.objects.filter(pk=role.pk).update(
        field_access={"deal": {"amount": "hidden"}, "activity": {"owner": "hidden"}, "task": {"due_at": "hidden"}}
    )
    page = web.get("/").content.decode()
    assert "Zqhome deal" in page and "Zqhome call" in page and "Zqhome task" in page
    assert "987,654" not in page and "987654" not in page  # neither the deal's amount nor the chart's total
    assert f"· {admin_name}</p>" not in page
    assert "due " not in _task_row(page, task.pk)  # no due time on the task


def _task_row(page: str, pk: int) -> str:
    import re

    return re.search(rf'<div class="taskrow[^"]*" id="task-{pk}">.*?</div>', page, re.S).group(0)


def test_a_merge_moves_no_extra_email_or_phone_the_role_may_not_change(world):
    """Extra emails and phones are rows a merge moves: with the field hidden (or read-only) for the role,
    a merge whose other record holds a value the survivor lacks is refused and changes nothing; copies
    of the survivor's own values do not stand in the way."""
    user, role, admin = world["user"], world["role"], world["admin"]
    rt = recordtypes.by_type("contact")
    data = {"first_name": "Keep", "last_name": "Me", "emails": ["keep@x.example"], "phones": ["+1 202-555-0101"]}
    keep = rt.create(actor=admin, data=data).obj
    other = rt.create(
        actor=admin, data={**data, "first_name": "Other", "emails": ["keep@x.example", "zqextra@x.example"]}
    ).obj
    set_rule(role, "contact", "email", fieldrules.HIDDEN)
    r = Api(user).post("/merge/contacts", {"survivor_id": keep.pk, "other_id": other.pk})
    assert r.status_code == 422, r.content
    message = r.json()["error"]["fields"]["other_id"]
    assert "email addresses your role may not change" in message and "zqextra" not in message
    assert rt.objects().filter(pk__in=[keep.pk, other.pk]).count() == 2
    assert sorted(ContactEmail.objects.filter(contact=keep).values_list("email", flat=True)) == ["keep@x.example"]

    set_rule(role, "contact", "phone", fieldrules.READ)  # email no longer hidden: the phones are the same
    r = Api(user).post("/merge/contacts", {"survivor_id": keep.pk, "other_id": other.pk})
    assert r.status_code == 200, r.content
    emails = ContactEmail.objects.filter(contact=keep).values_list("email", flat=True)
    assert sorted(emails) == ["keep@x.example", "zqextra@x.example"]
    assert list(ContactPhone.objects.filter(contact=keep).values_list("number", flat=True)) == ["+12025550101"]
