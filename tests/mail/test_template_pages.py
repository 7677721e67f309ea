"""Settings → Email templates: list by category, create and change through the service rules (personal
ones their owner's, shared ones managers'), merge fields checked on save, a preview with a real record."""

import pytest

from crm.mail.models import EmailTemplate
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

URL = "/settings/email-templates/"


def data(**kw):
    return {"name": "Follow-up", "category": "Sales", "record_type": "contact", "subject": "Hi", "body_html": "", **kw}


def test_a_rep_writes_personal_templates_and_sees_them_by_category(web, rep_a, rep_b):
    client = web(rep_a)
    r = client.post(
        f"{URL}new/", data(body_html="<p>Dear {{ contact.first_name|default:'there' }}</p><script>x</script>")
    )
    assert r.status_code == 302
    template = EmailTemplate.objects.get()
    assert template.owner_id == rep_a.pk and not template.shared and "script" not in template.body_html
    page = client.get(URL).content.decode()
    assert "Sales" in page and "Follow-up" in page and "personal" in page
    assert "Follow-up" not in web(rep_b).get(URL).content.decode()
    assert web(rep_b).get(f"{URL}{template.pk}/").status_code == 404
    r = client.post(f"{URL}{template.pk}/", data(name="Renamed"))
    assert r.status_code == 302 and EmailTemplate.objects.get().name == "Renamed"
    assert 'href="/settings/email-templates/"' in page  # the account menu's entry


def test_bad_templates_are_refused_in_place(web, rep_a):
    r = web(rep_a).post(f"{URL}new/", data(subject="Hi {{ contact.shoe_size }}"))
    assert r.status_code == 422 and "shoe_size" in r.content.decode()
    r = web(rep_a).post(f"{URL}new/", data(name="  ", subject=""))
    assert r.status_code == 422 and "Give the template a name." in r.content.decode()
    r = web(rep_a).post(f"{URL}new/", data(shared="on"))
    assert r.status_code == 422 and "Only admins and managers may share templates." in r.content.decode()
    assert not EmailTemplate.objects.exists()


def test_shared_templates_are_changed_by_managers_only(web, manager, rep_a):
    assert web(manager).post(f"{URL}new/", data(shared="on")).status_code == 302
    shared = EmailTemplate.objects.get()
    assert shared.shared
    page = web(rep_a).get(f"{URL}{shared.pk}/").content.decode()
    assert "only admins and managers change it" in page
    assert web(rep_a).post(f"{URL}{shared.pk}/", data(name="Mine now")).status_code == 403
    assert web(rep_a).post(f"{URL}{shared.pk}/delete/").status_code == 403
    assert web(manager).post(f"{URL}{shared.pk}/delete/").status_code == 302
    assert not EmailTemplate.objects.exists()


def test_the_preview_renders_a_real_record_the_user_sees(web, rep_a, rep_b):
    ann = ContactFactory(first_name="Ann", owner=rep_a)
    web(rep_a).post(
        f"{URL}new/", data(subject="Hi {{ contact.first_name }}", body_html="<p>Dear {{ contact.first_name }}</p>")
    )
    template = EmailTemplate.objects.get()
    r = web(rep_a).get(f"{URL}{template.pk}/", {"record_id": ann.pk})
    body = r.content.decode()
    assert r.status_code == 200 and "Hi Ann" in body and "<p>Dear Ann</p>" in body
    theirs = ContactFactory(first_name="Zed", owner=rep_b)
    assert web(rep_a).get(f"{URL}{template.pk}/", {"record_id": theirs.pk}).status_code == 404
