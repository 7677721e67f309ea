"""Mail templates over the API: personal and shared, merge fields checked at save, nh3, preview."""

import pytest

from crm.audit.models import ObjectChange
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

BODY = '<p onclick="x()">Hi {{ contact.first_name|default:"there" }}</p><script>alert(1)</script>'


def test_a_personal_template_is_its_owners(api, rep_a, rep_b):
    r = api(rep_a).post(
        "/email-templates", {"name": "Intro", "record_type": "contact", "subject": "Hello", "body_html": BODY}
    )
    assert r.status_code == 201, r.content
    body = r.json()
    assert "script" not in body["body_html"] and "onclick" not in body["body_html"]
    assert '{{ contact.first_name|default:"there" }}' in body["body_html"]
    assert ObjectChange.objects.filter(object_type="email_template", object_id=body["id"]).count() == 1
    assert api(rep_b).get(f"/email-templates/{body['id']}").status_code == 404
    assert [t["id"] for t in api(rep_a).get("/email-templates").json()] == [body["id"]]
    assert api(rep_a).patch(f"/email-templates/{body['id']}", {"subject": "Hi {{ sender.name }}"}).status_code == 200
    assert api(rep_a).patch(f"/email-templates/{body['id']}", {"shared": True}).status_code == 403
    assert api(rep_a).delete(f"/email-templates/{body['id']}").status_code == 204


def test_shared_templates_are_changed_by_managers_and_admins(api, rep_a, manager, admin_user):
    assert api(rep_a).post("/email-templates", {"name": "All", "subject": "x", "shared": True}).status_code == 403
    r = api(manager).post("/email-templates", {"name": "All", "subject": "x", "shared": True})
    assert r.status_code == 201, r.content
    pk = r.json()["id"]
    assert api(rep_a).get(f"/email-templates/{pk}").status_code == 200
    assert api(rep_a).patch(f"/email-templates/{pk}", {"name": "Mine"}).status_code == 403
    assert api(admin_user).patch(f"/email-templates/{pk}", {"name": "Everyone's"}).json()["name"] == "Everyone's"


def test_an_unknown_merge_field_is_refused_naming_it(api, rep_a):
    r = api(rep_a).post("/email-templates", {"name": "x", "record_type": "contact", "subject": "Hi {{ contact.nick }}"})
    assert r.status_code == 422
    assert "contact.nick" in r.json()["error"]["fields"]["subject"]
    r = api(rep_a).post("/email-templates", {"name": "x", "record_type": "nope", "subject": "Hi"})
    assert r.status_code == 422 and "record_type" in r.json()["error"]["fields"]


def test_preview_renders_with_a_record_the_user_sees(api, rep_a, rep_b):
    pk = (
        api(rep_a)
        .post(
            "/email-templates",
            {
                "name": "Intro",
                "record_type": "contact",
                "subject": "For {{ contact.first_name }}",
                "body_html": "<p>Hi {{ contact.first_name }}</p>",
            },
        )
        .json()["id"]
    )
    mine = ContactFactory(first_name="<i>Ann</i>", owner=rep_a)
    theirs = ContactFactory(first_name="Bob", owner=rep_b)
    r = api(rep_a).post(f"/email-templates/{pk}/preview", {"record_type": "contact", "record_id": mine.pk})
    assert r.status_code == 200, r.content
    assert r.json() == {"subject": "For <i>Ann</i>", "body_html": "<p>Hi &lt;i&gt;Ann&lt;/i&gt;</p>"}
    r = api(rep_a).post(f"/email-templates/{pk}/preview", {"record_type": "contact", "record_id": theirs.pk})
    assert r.status_code == 404
