"""Compose from a record page: the message goes through the outbox to a real SMTP server (aiosmtpd on
loopback) and lands on every matched timeline; bad input is refused in place with nothing queued; a rep
neither completes nor writes about records they cannot see."""

from email import message_from_bytes

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from crm.access.models import Role
from crm.automation.models import Job
from crm.mail.models import EmailStatus, EmailTemplate, OutgoingAttachment, OutgoingEmail
from crm.records.models import Activity, DealContact
from tests.factories import CompanyFactory, ContactFactory, DealFactory, LeadFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def compose(client, data, files=()):
    return client.post("/mail/compose/", {**data, "attachments": list(files)})


def test_the_record_page_offers_email_and_compose_knows_the_address(web, rep_a):
    ann = ContactFactory(first_name="Ann", email="ann@example.com", owner=rep_a)
    page = web(rep_a).get(f"/contacts/{ann.pk}/").content.decode()
    assert f"/mail/compose/?type=contact&amp;id={ann.pk}" in page
    r = web(rep_a).get("/mail/compose/", {"type": "contact", "id": ann.pk})
    assert r.status_code == 200
    assert 'value="ann@example.com"' in r.content.decode()


def test_a_composed_message_is_sent_with_its_attachment_and_lands_on_every_matched_timeline(
    web, api, rep_a, commit, smtp_server, pipeline
):
    acme = CompanyFactory(owner=rep_a)
    ann = ContactFactory(email="ann@example.com", company=acme, owner=rep_a)
    bob = ContactFactory(email="bob@example.com", owner=rep_a)
    open_deal = DealFactory(owner=rep_a, pipeline=pipeline)
    won_deal = DealFactory(owner=rep_a, pipeline=pipeline, status="won")
    for deal in (open_deal, won_deal):
        DealContact.objects.create(deal=deal, contact=ann)
    lead = LeadFactory(email="lee@example.com", owner=rep_a)
    data = {
        "type": "contact",
        "id": bob.pk,
        "to": "Bob <bob@example.com>, ann@example.com",
        "cc": "LEE@example.com",
        "subject": "Our offer",
        "body_html": '<p>Hello <b>there</b></p><script>alert(1)</script><p onclick="x()">x</p>',
    }
    offer = SimpleUploadedFile("offer.pdf", b"%PDF-1.4 offer", content_type="application/pdf")
    with commit():
        r = compose(web(rep_a), data, [offer])
    assert r.status_code == 302 and r["Location"] == f"/contacts/{bob.pk}/"
    email = OutgoingEmail.objects.get()
    assert email.status == EmailStatus.SENT, email.last_error
    assert email.to == ["bob@example.com", "ann@example.com"] and email.cc == ["lee@example.com"]
    assert "script" not in email.body_html and "onclick" not in email.body_html and "<b>there</b>" in email.body_html
    [received] = smtp_server.messages
    assert set(received.rcpt_tos) == {"bob@example.com", "ann@example.com", "lee@example.com"}
    parsed = message_from_bytes(received.content)
    [attached] = [p for p in parsed.walk() if p.get_filename()]
    assert attached.get_filename() == "offer.pdf" and attached.get_payload(decode=True) == b"%PDF-1.4 offer"
    shown = api(rep_a).get(f"/emails/{email.pk}").json()
    assert shown["attachments"] == [{"filename": "offer.pdf", "content_type": "application/pdf", "size": 14}]
    activity = Activity.objects.get(pk=email.activity_id)
    assert {lk.key for lk in activity.links.all()} == {
        f"contact:{bob.pk}",
        f"contact:{ann.pk}",
        f"lead:{lead.pk}",
        f"company:{acme.pk}",
        f"deal:{open_deal.pk}",  # the won deal is closed: not about it
    }
    for url in (f"/contacts/{ann.pk}/", f"/companies/{acme.pk}/", f"/deals/{open_deal.pk}/", f"/leads/{lead.pk}/"):
        assert "Our offer" in web(rep_a).get(url).content.decode(), url


def test_without_a_mail_server_the_message_waits_in_the_outbox(web, rep_a, commit):
    with commit():
        r = compose(web(rep_a), {"to": "ann@example.com", "subject": "Hi", "body_html": "<p>Hi</p>"})
    assert r.status_code == 302 and r["Location"] == "/mail/outbox/"
    assert OutgoingEmail.objects.get().status == EmailStatus.NOT_SENT
    page = web(rep_a).get("/mail/outbox/").content.decode()
    assert "Not sent: no mail server configured" in page


def test_bad_input_is_refused_in_place_and_nothing_is_queued(web, rep_a, settings, commit, smtp_server):
    settings.MAIL_MAX_RECIPIENTS = 3
    settings.MAIL_MAX_ATTACHMENT_BYTES = 1000
    client = web(rep_a)
    r = compose(client, {"to": "ann@example.com, not-an-address", "subject": "x", "body_html": "<p>x</p>"})
    assert r.status_code == 422 and "not-an-address" in r.content.decode()
    r = compose(client, {"to": "a@example.com, b@example.com", "cc": "c@example.com, d@example.com", "subject": "x"})
    body = r.content.decode()
    assert r.status_code == 422 and "At most 3 recipients" in body and "Write a message" in body
    r = compose(client, {"to": "a@example.com", "subject": "  ", "body_html": "<p> </p>"})
    body = r.content.decode()
    assert r.status_code == 422 and "Give the message a subject." in body and "Write a message" in body
    with commit():  # the service's checks ran on it and were undone: no row, no job, nothing sent
        r = compose(client, {"to": "a@example.com", "subject": "Only a subject", "body_html": ""})
    assert not Job.objects.exists() and not smtp_server.messages
    assert r.status_code == 422 and "Write a message" in r.content.decode()  # checked, and nothing kept
    big = SimpleUploadedFile("huge.zip", b"x" * 1001, content_type="application/zip")
    r = compose(client, {"to": "a@example.com", "subject": "x", "body_html": "<p>x</p>"}, [big])
    assert r.status_code == 422 and "huge.zip is 0.0 MB; each attachment may be at most 0.0 MB" in r.content.decode()
    assert not OutgoingEmail.objects.exists() and not OutgoingAttachment.objects.exists()


def test_a_rep_completes_and_writes_about_only_what_they_see(web, rep_a, rep_b):
    ContactFactory(name="Ann Mine", email="ann.mine@example.com", owner=rep_a)
    theirs = ContactFactory(name="Ann Theirs", email="ann.theirs@example.com", owner=rep_b)
    LeadFactory(email="ann.lead@example.com", owner=rep_b)
    r = web(rep_a).get("/mail/compose/addresses/", {"to": "bob@example.com, ann"})
    body = r.content.decode()
    assert "ann.mine@example.com" in body
    assert "ann.theirs@example.com" not in body and "ann.lead@example.com" not in body
    assert "ann.theirs@example.com" in web(rep_b).get("/mail/compose/addresses/", {"cc": "ann"}).content.decode()
    assert web(rep_a).get("/mail/compose/", {"type": "contact", "id": theirs.pk}).status_code == 404
    data = {"type": "contact", "id": theirs.pk, "to": "x@example.com", "subject": "x", "body_html": "x"}
    assert compose(web(rep_a), data).status_code == 404
    assert not OutgoingEmail.objects.exists()


def test_the_template_picker_fills_the_message_with_the_record(web, rep_a):
    ann = ContactFactory(first_name="Ann", owner=rep_a)
    template = EmailTemplate.objects.create(
        name="Hello",
        record_type="contact",
        subject="Hi {{ contact.first_name }}",
        body_html="<p>From {{ sender.name }}</p>",
        owner=rep_a,
    )
    r = web(rep_a).get("/mail/compose/template/", {"template": template.pk, "type": "contact", "id": ann.pk})
    body = r.content.decode()
    assert 'value="Hi Ann"' in body and f"From {rep_a.get_full_name() or rep_a.username}" in body
    deal_template = EmailTemplate.objects.create(name="D", record_type="deal", subject="x", owner=rep_a)
    r = web(rep_a).get("/mail/compose/template/", {"template": deal_template.pk, "type": "contact", "id": ann.pk})
    assert "is a template for deal records" in r.content.decode()
    broken = EmailTemplate.objects.create(
        name="B", record_type="contact", subject="{{ contact.shoe_size }}", owner=rep_a
    )
    r = web(rep_a).get("/mail/compose/template/", {"template": broken.pk, "type": "contact", "id": ann.pk})
    assert "The template cannot be used here" in r.content.decode() and "contact.shoe_size" in r.content.decode()
    others = EmailTemplate.objects.create(name="O", subject="x", owner=None, shared=False)
    assert web(rep_a).get("/mail/compose/template/", {"template": others.pk}).status_code == 404


def test_an_address_hidden_from_the_role_is_never_offered(web, rep_a):
    ann = ContactFactory(name="Ann Mine", email="ann.mine@example.com", owner=rep_a)
    Role.objects.filter(pk=rep_a.profile.role_id).update(field_access={"contact": {"email": "hidden"}})
    assert "ann.mine@example.com" not in web(rep_a).get("/mail/compose/addresses/", {"to": "ann"}).content.decode()
    page = web(rep_a).get("/mail/compose/", {"type": "contact", "id": ann.pk}).content.decode()
    assert "ann.mine@example.com" not in page
