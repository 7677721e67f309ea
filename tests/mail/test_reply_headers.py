"""A reply sent from the CRM carries the thread headers of the message it answers (In-Reply-To, and
References = the message's references + its id), through the compose page and the API; the answered
message must be one the sender sees (else refused as not found, nothing queued)."""

import datetime as dt
from email import message_from_bytes

import pytest

from crm.mail.models import OutgoingEmail
from crm.mailbox import sync
from crm.mailbox.models import InboundMessage, Mailbox
from tests.factories import ContactFactory
from tests.mailbox.messages import ME, message

pytestmark = pytest.mark.django_db
T0 = dt.datetime(2026, 10, 1, 9, 0, tzinfo=dt.UTC)


def received(owner, n=1, sender="Carl Berg <carl@clientco.com>"):
    box = Mailbox.objects.create(name=f"Inbox {owner}", owner=owner, host="imap.example.com", username=ME, password="x")
    raw = message(msgid="<t3@mail.gmail.com>", sender=sender, to=[ME], subject="Re: Pricing for 2027", when=T0,
                  text="Looks good.", in_reply_to="<t2@annsales.com>",
                  references="<t1@mail.gmail.com> <t2@annsales.com>")  # fmt: skip
    assert sync.store(box, "INBOX", n, raw)
    return InboundMessage.objects.get(mailbox=box)


def test_a_reply_from_compose_keeps_the_thread_headers(web, rep_a, commit, smtp_server):
    carl = ContactFactory(email="carl@clientco.com", owner=rep_a)
    answered = received(rep_a)
    form = web(rep_a).get("/mail/compose/", {"type": "contact", "id": carl.pk, "reply": answered.pk})
    assert f'name="reply" value="{answered.pk}"' in form.content.decode()
    data = {"type": "contact", "id": carl.pk, "to": "carl@clientco.com", "subject": "Re: Pricing for 2027",
            "body_html": "<p>Great, thanks.</p>", "reply": str(answered.pk)}  # fmt: skip
    with commit():
        r = web(rep_a).post("/mail/compose/", data)
    assert r.status_code == 302, r.content[:500]
    email = OutgoingEmail.objects.get()
    assert email.in_reply_to == "<t3@mail.gmail.com>"
    [sent] = smtp_server.messages
    headers = message_from_bytes(sent.content)
    assert headers["In-Reply-To"] == "<t3@mail.gmail.com>"
    assert headers["References"].split() == ["<t1@mail.gmail.com>", "<t2@annsales.com>", "<t3@mail.gmail.com>"]


def test_a_message_without_reply_has_no_thread_headers(web, rep_a, commit, smtp_server):
    ContactFactory(email="carl@clientco.com", owner=rep_a)
    with commit():
        web(rep_a).post("/mail/compose/", {"to": "carl@clientco.com", "subject": "Hello", "body_html": "<p>Hi</p>"})
    [sent] = smtp_server.messages
    headers = message_from_bytes(sent.content)
    assert headers["In-Reply-To"] is None and headers["References"] is None and headers["Message-ID"]


def test_replying_to_a_message_the_sender_may_not_see_is_refused_and_queues_nothing(web, api, rep_a, rep_b):
    ContactFactory(email="carl@clientco.com", owner=rep_b)
    secret = received(rep_b)
    data = {"to": "carl@clientco.com", "subject": "Re: x", "body_html": "<p>x</p>", "reply": str(secret.pk)}
    r = web(rep_a).post("/mail/compose/", data)  # the form again, with what was typed and the refusal
    assert r.status_code == 422 and "No such message." in r.content.decode() and "Re: x" in r.content.decode()
    payload = {"to": ["carl@clientco.com"], "subject": "Re: x", "body_html": "<p>x</p>", "reply_to_message": secret.pk}
    assert api(rep_a).post("/emails", payload).status_code == 404
    assert not OutgoingEmail.objects.exists()


def test_the_api_takes_the_answered_message(api, rep_a):
    ContactFactory(email="carl@clientco.com", owner=rep_a)
    answered = received(rep_a)
    payload = {"to": ["carl@clientco.com"], "subject": "Re: Pricing", "body_html": "<p>ok</p>",
               "reply_to_message": answered.pk}  # fmt: skip
    r = api(rep_a).post("/emails", payload)
    assert r.status_code == 201, r.content
    email = OutgoingEmail.objects.get()
    assert email.references.split() == ["<t1@mail.gmail.com>", "<t2@annsales.com>", "<t3@mail.gmail.com>"]
