"""The record page reads what its email entries show (received files, opens and clicks, bounces) for
all the entries at once: its query count is the same with 5 email entries as with 30."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from crm.mail.models import EngagementEvent, OutgoingEmail, Tracking
from crm.mailbox.models import InboundAttachment, InboundMessage, Mailbox, MailThread
from tests.factories import ActivityFactory, ContactFactory

pytestmark = pytest.mark.django_db


def add_emails(contact, box, n: int, start: int) -> None:
    """``n`` email entries, alternately received (with a file) and sent (tracked, opened, clicked)."""
    thread = MailThread.objects.create(mailbox=box, subject="Order")
    for i in range(start, start + n):
        at = timezone.now() - dt.timedelta(minutes=i)
        activity = ActivityFactory(kind="email", subject=f"Order {i}", body="Hello", occurred_at=at, contact=contact)
        if i % 2:
            message = InboundMessage.objects.create(
                mailbox=box, thread=thread, folder="INBOX", uid=i, message_id=f"<{i}@x>", sent_at=at, activity=activity
            )
            InboundAttachment.objects.create(message=message, filename=f"file{i}.pdf", size=100)
        else:
            sent = OutgoingEmail.objects.create(
                from_email="a@x.com",
                to=[contact.email],
                subject=f"Order {i}",
                activity_id=activity.pk,
                tracking=Tracking.CLICKS,
                status="sent",
            )
            # Older than every message: the timeline's newest 50 entries are the 30 emails and 20 of these.
            old = at - dt.timedelta(days=30)
            EngagementEvent.objects.create(email=sent, kind="open", at=old)
            EngagementEvent.objects.create(email=sent, kind="click", url="https://example.com/", at=old)


def page_queries(client, contact) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"/contacts/{contact.pk}/")
    assert response.status_code == 200
    return len(queries), response.content.decode()


def test_the_query_count_does_not_grow_with_the_email_entries(admin_user, web):
    contact = ContactFactory(email="carl@x.com", owner=admin_user)
    box = Mailbox.objects.create(name="Inbox", owner=admin_user, host="imap.example.com", username="a", password="x")
    client = web(admin_user)
    add_emails(contact, box, 5, 0)
    client.get(f"/contacts/{contact.pk}/")  # warm: session, caches
    few, page = page_queries(client, contact)
    assert page.count("data-received-files") == 2 and page.count("data-mail-facts") == 3
    add_emails(contact, box, 25, 5)
    many, page = page_queries(client, contact)
    assert page.count("data-received-files") == 15 and page.count("data-mail-facts") == 15
    assert many == few
