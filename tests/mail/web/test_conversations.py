"""The Conversations section of record pages: received mail (stored by the mailbox's own `sync.store`
from real-shaped messages) grouped by thread, newest first, a page at a time; a thread expands to its
messages with the HTML sanitized (no script, no remote image); "Reply" opens compose filled in; only
messages the viewer may see, and a bounded number of queries whatever the record's mail."""

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crm.mailbox import sync
from crm.mailbox.models import InboundMessage, Mailbox
from tests.factories import CompanyFactory, ContactFactory
from tests.mailbox.messages import ME, message

pytestmark = pytest.mark.django_db
T0 = dt.datetime(2026, 10, 1, 9, 0, tzinfo=dt.UTC)


def inbox(owner):
    return Mailbox.objects.create(name="Inbox", owner=owner, host="imap.example.com", username=ME, password="x")


def store(box, *raws):
    start = box.messages.count()
    for n, raw in enumerate(raws, start=start + 1):
        assert sync.store(box, "INBOX", n, raw)


def section(client, contact, page=None):
    r = client.get(f"/mail/conversations/contacts/{contact.pk}/", {"page": page} if page else {})
    assert r.status_code == 200, r.status_code
    return r.content.decode()


def pricing_thread():
    first = message(msgid="<t1@mail.gmail.com>", sender="Carl Berg <carl@clientco.com>", to=[ME],
                    subject="Pricing for 2027", when=T0, text="Could you send the 2027 prices?")  # fmt: skip
    reply = message(msgid="<t2@annsales.com>", sender=f"Ann Sales <{ME}>", to=["carl@clientco.com"],
                    cc=["dora@clientco.com"], subject="Re: Pricing for 2027", when=T0 + dt.timedelta(hours=2),
                    text="Here they are.", in_reply_to="<t1@mail.gmail.com>",
                    references="<t1@mail.gmail.com>")  # fmt: skip
    html = (
        '<p>Thanks, <b>looks good</b>.</p><script>alert("x")</script><img src="https://tracker.example.com/p.gif">'
        '<a href="https://clientco.com" onclick="x()">site</a>'
    )
    last = message(msgid="<t3@mail.gmail.com>", sender="Carl Berg <carl@clientco.com>", to=[ME],
                   subject="Re: Pricing for 2027", when=T0 + dt.timedelta(days=1), text=None, html=html,
                   in_reply_to="<t2@annsales.com>", references="<t1@mail.gmail.com> <t2@annsales.com>")  # fmt: skip
    return [first, reply, last]


def test_threads_newest_first_with_count_people_snippet_and_expanding(web, rep_a):
    carl = ContactFactory(email="carl@clientco.com", first_name="Carl", last_name="Berg", owner=rep_a)
    box = inbox(rep_a)
    older = message(msgid="<o1@mail.gmail.com>", sender="carl@clientco.com", to=[ME], subject="Meeting notes",
                    when=T0 - dt.timedelta(days=10), text="Notes   from\n our call.")  # fmt: skip
    store(box, older, *pricing_thread())
    client = web(rep_a)
    body = section(client, carl)
    assert 'Conversations <span class="muted">(2)</span>' in body
    ids = [int(i) for i in re.findall(r'data-thread="(\d+)"', body)]
    pricing = InboundMessage.objects.get(message_id="<t1@mail.gmail.com>").thread_id
    assert ids == [pricing, InboundMessage.objects.get(message_id="<o1@mail.gmail.com>").thread_id]
    first = body.split('data-thread="')[1]
    assert 'title="Messages">3<' in first and "Re: Pricing for 2027" in first
    assert "Carl Berg" in first and "Ann Sales" in first and "dora@clientco.com" not in first  # last message's To/Cc
    assert "Thanks, looks good" in first and "<script" not in body  # the snippet is the last message's text
    assert "Notes from our call." in body

    r = client.get(f"/mail/conversations/contacts/{carl.pk}/threads/{pricing}/")
    assert r.status_code == 200
    shown = r.content.decode()
    assert [int(i) for i in re.findall(r'data-message="(\d+)"', shown)] == sorted(
        InboundMessage.objects.filter(thread_id=pricing).values_list("pk", flat=True)
    )  # oldest to newest
    assert "<b>looks good</b>" in shown and "<script" not in shown and "alert(" not in shown
    assert "tracker.example.com" not in shown and "onclick" not in shown
    assert 'rel="noopener noreferrer"' in shown and "cc dora@clientco.com" in shown

    # Reply: compose filled with the sender, "Re:" once, the message quoted (escaped).
    last = InboundMessage.objects.get(message_id="<t3@mail.gmail.com>")
    assert f"reply={last.pk}" in shown
    compose = client.get("/mail/compose/", {"type": "contact", "id": carl.pk, "reply": last.pk}).content.decode()
    assert 'value="carl@clientco.com"' in compose and 'value="Re: Pricing for 2027"' in compose
    assert "Carl Berg wrote:" in compose and "Re: Re:" not in compose


def test_the_record_page_loads_the_section(web, rep_a):
    carl = ContactFactory(email="carl@clientco.com", owner=rep_a)
    page = web(rep_a).get(f"/contacts/{carl.pk}/").content.decode()
    assert f'hx-get="/mail/conversations/contacts/{carl.pk}/"' in page
    company = CompanyFactory(owner=rep_a)
    assert (
        f"/mail/conversations/companies/{company.pk}/" in web(rep_a).get(f"/companies/{company.pk}/").content.decode()
    )
    assert "No received mail about this record" in section(web(rep_a), carl)


def test_only_messages_the_viewer_may_see(web, rep_a, rep_b, admin_user):
    carl = ContactFactory(email="carl@clientco.com", first_name="Carl", owner=rep_a)
    ContactFactory(email="dora@clientco.com", first_name="Dora", owner=admin_user)
    box = inbox(admin_user)  # the admin's mailbox: it files mail about both
    first = message(msgid="<v1@x>", sender="carl@clientco.com", to=[ME], subject="Visible", when=T0, text="one")
    hidden = message(msgid="<v2@x>", sender="dora@clientco.com", to=[ME], subject="Re: Visible", text="secret words",
                     when=T0 + dt.timedelta(hours=1), in_reply_to="<v1@x>", references="<v1@x>")  # fmt: skip
    store(box, first, hidden)
    thread = InboundMessage.objects.get(message_id="<v1@x>").thread_id
    assert InboundMessage.objects.get(message_id="<v2@x>").thread_id == thread

    # rep_a sees carl (own) but neither dora nor the admin's activity about dora.
    mine = section(web(rep_a), carl)
    assert 'title="Messages">1<' in mine and "secret words" not in mine and "dora" not in mine.lower()
    expanded = web(rep_a).get(f"/mail/conversations/contacts/{carl.pk}/threads/{thread}/").content.decode()
    assert "one" in expanded and "secret words" not in expanded
    # The admin sees the whole thread.
    assert 'title="Messages">2<' in section(web(admin_user), carl)
    # rep_b sees neither the record nor, through another record, the thread.
    assert web(rep_b).get(f"/mail/conversations/contacts/{carl.pk}/").status_code == 404
    assert web(rep_b).get(f"/mail/conversations/contacts/{carl.pk}/threads/{thread}/").status_code == 404
    own = ContactFactory(email="erik@clientco.com", owner=rep_b)
    assert web(rep_b).get(f"/mail/conversations/contacts/{own.pk}/threads/{thread}/").status_code == 404
    # A reply to a message the user may not see is a 404, not a filled form.
    secret = InboundMessage.objects.get(message_id="<v2@x>")
    r = web(rep_a).get("/mail/compose/", {"type": "contact", "id": carl.pk, "reply": secret.pk})
    assert r.status_code == 404
    assert web(rep_a).get("/mail/compose/", {"reply": "x"}).status_code == 404
    assert web(None).get(f"/mail/conversations/contacts/{carl.pk}/").status_code == 302


def test_paginated_threads_and_messages_in_bounded_queries(web, rep_a):
    carl = ContactFactory(email="carl@clientco.com", owner=rep_a)
    box = inbox(rep_a)
    singles = [
        message(
            msgid=f"<s{n}@x>",
            sender="carl@clientco.com",
            to=[ME],
            subject=f"Topic {n}",
            when=T0 + dt.timedelta(hours=n),
            text=f"body {n}",
        )  # fmt: skip
        for n in range(23)
    ]
    long_thread = [
        message(
            msgid=f"<l{n}@x>",
            sender="carl@clientco.com",
            to=[ME],
            subject="Re: Long one",
            when=T0 - dt.timedelta(days=30) + dt.timedelta(minutes=n),
            text=f"part {n}",
            in_reply_to=f"<l{n - 1}@x>" if n else "",
            references=f"<l{n - 1}@x>" if n else "",
        )  # fmt: skip
        for n in range(45)
    ]
    store(box, *singles, *long_thread)
    client = web(rep_a)
    with CaptureQueriesContext(connection) as first_page:
        body = section(client, carl)
    assert len(re.findall(r'data-thread="', body)) == 10 and "Page 1 of 3" in body
    assert "Topic 22" in body and "Topic 12" not in body and "Long one" not in body
    last = section(client, carl, page=3)
    assert len(re.findall(r'data-thread="', last)) == 4 and "Long one" in last and 'title="Messages">45<' in last
    assert "Newer" in last and "Older" not in last
    assert "Page 1 of 3" in section(client, carl, page="nonsense")

    # Twice the mail: the same number of queries (nothing per thread or per message).
    store(box, *[message(msgid=f"<m{n}@x>", sender="carl@clientco.com", to=[ME], subject=f"More {n}",
                         when=T0 + dt.timedelta(days=2, hours=n), text="x") for n in range(25)])  # fmt: skip
    with CaptureQueriesContext(connection) as again:
        section(client, carl)
    assert len(again) == len(first_page)

    thread = InboundMessage.objects.get(message_id="<l0@x>").thread_id
    newest = client.get(f"/mail/conversations/contacts/{carl.pk}/threads/{thread}/").content.decode()
    parts = re.findall(r"part (\d+)", newest)
    assert parts == [str(n) for n in range(25, 45)] and "Show earlier messages" in newest
    earlier = client.get(f"/mail/conversations/contacts/{carl.pk}/threads/{thread}/", {"page": 2}).content.decode()
    assert re.findall(r"part (\d+)", earlier) == [str(n) for n in range(5, 25)]
