"""EMAIL_URL parsing, field rules in merge fields, the send_waiting command."""

import pytest
from django.core.management import call_command

from crm.access.models import Role
from crm.access.policy import forget
from crm.mail import outbox, smtp
from crm.mail.models import EmailStatus, OutgoingEmail
from tests.factories import ContactFactory


def test_email_url_forms():
    assert smtp.parse("") is None
    s = smtp.parse("smtp://me%40corp:p%40ss@mail.example.com:587?starttls=1")
    assert (s.host, s.port, s.username, s.password, s.use_tls, s.use_ssl) == (
        "mail.example.com",
        587,
        "me@corp",
        "p@ss",
        True,
        False,
    )
    s = smtp.parse("smtps://u:p@mail.example.com")
    assert (s.port, s.use_ssl, s.use_tls) == (465, True, False)
    assert smtp.parse("smtp://relay").django_settings()["EMAIL_PORT"] == 25
    for bad in ("http://x", "smtp://", "smtps://h?starttls=1", "smtp://h:99999"):
        with pytest.raises(ValueError):
            smtp.parse(bad)


@pytest.mark.django_db
def test_a_field_hidden_from_the_sender_renders_empty(api, rep_a):
    Role.objects.filter(slug="sales-rep").update(field_access={"contact": {"title": "hidden"}})
    forget(rep_a)
    contact = ContactFactory(first_name="Ann", title="CFO", owner=rep_a)
    pk = (
        api(rep_a)
        .post(
            "/email-templates",
            {
                "name": "t",
                "record_type": "contact",
                "subject": "{{ contact.first_name }}/{{ contact.title }}/{{ title }}",
            },
        )
        .json()["id"]
    )
    r = api(rep_a).post(f"/email-templates/{pk}/preview", {"record_type": "contact", "record_id": contact.pk})
    assert r.json()["subject"] == "Ann//"


@pytest.mark.django_db
def test_send_waiting_command_queues_what_waits(commit, settings, smtp_server, rep_a):
    settings.EMAIL_URL = ""
    with commit():
        email = outbox.queue_email(actor=rep_a, to=["a@example.com"], subject="Later")
    assert email.status == EmailStatus.NOT_SENT
    settings.EMAIL_URL = smtp_server.url
    with commit():
        call_command("send_waiting")
    assert OutgoingEmail.objects.get().status == EmailStatus.SENT
    assert len(smtp_server.messages) == 1
