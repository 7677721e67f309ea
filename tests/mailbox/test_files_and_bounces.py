"""Received attachments and bounces against the real Dovecot: a 10 MB attachment stored and downloaded
(with the permission check), one over the size limit recorded as skipped while the sync goes on, an
inline image, a safe download name, and delivery status notices that mark the address and the sent
message without being filed as mail."""

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from crm.mail.models import BouncedAddress, OutgoingEmail
from crm.mailbox import sync
from crm.mailbox.models import InboundAttachment, InboundMessage
from tests.factories import ContactFactory, LeadFactory
from tests.mailbox import messages as m
from tests.mailbox.test_sync import connect

pytestmark = pytest.mark.django_db

BIG = b"%PDF-1.4 " + bytes(range(256)) * (10 * 1024 * 4)  # 10 MB and a little
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def carl(rep_a):
    return ContactFactory(first_name="Carl", email="carl@clientco.com", owner=rep_a)


def recent(**kw):
    return m.message(sender="carl@clientco.com", to=[m.ME], when=timezone.now() - dt.timedelta(hours=1), **kw)


def download(client, row):
    return client.get(f"/mail/received/{row.pk}/")


def test_a_10_mb_attachment_is_stored_and_downloaded_by_who_sees_the_mail(dovecot, fill, rep_a, rep_b, carl, web):
    fill([recent(msgid="<big@x>", subject="The big file", attachment=("big.pdf", BIG))])
    box = connect(dovecot, rep_a)
    assert sync.sync_mailbox(box.pk) == {"imported": 1, "errors": []}
    row = InboundAttachment.objects.get()
    assert (row.filename, row.size, row.skipped, row.inline) == ("big.pdf", len(BIG), False, False)
    message = InboundMessage.objects.get()
    assert message.attachments == [
        {
            "id": row.pk,
            "name": "big.pdf",
            "type": "application/pdf",
            "size": len(BIG),
            "inline": False,
            "skipped": False,
        }
    ]
    r = download(web(rep_a), row)
    assert r.status_code == 200 and b"".join(r.streaming_content) == BIG
    assert r["Content-Disposition"] == 'attachment; filename="big.pdf"'
    assert r["Content-Type"] == "application/octet-stream"
    # The link is on the contact's timeline.
    page = web(rep_a).get(f"/contacts/{carl.pk}/").content.decode()
    assert f'href="/mail/received/{row.pk}/"' in page
    # rep_b sees neither Carl nor the message: a 404, as for an id that does not exist.
    assert download(web(rep_b), row).status_code == 404
    assert web(rep_a).get("/mail/received/999999/").status_code == 404
    signed_out = download(Client(), row)
    assert signed_out.status_code == 302 and "/login" in signed_out["Location"]


def test_an_oversize_attachment_is_recorded_as_skipped_and_the_sync_goes_on(dovecot, fill, rep_a, carl, settings, web):
    settings.MAILBOX_MAX_ATTACHMENT_BYTES = 5 * 1024 * 1024
    fill(
        [
            recent(msgid="<big@x>", subject="Too big", attachment=("huge.pdf", BIG)),
            recent(msgid="<small@x>", subject="Small", attachment=("small.pdf", b"%PDF-1.4 tiny")),
        ]
    )
    box = connect(dovecot, rep_a)
    assert sync.sync_mailbox(box.pk) == {"imported": 2, "errors": []}
    huge = InboundAttachment.objects.get(filename="huge.pdf")
    assert huge.skipped and huge.size == len(BIG) and not huge.file
    small = InboundAttachment.objects.get(filename="small.pdf")
    assert not small.skipped and small.file.read() == b"%PDF-1.4 tiny"
    assert download(web(rep_a), huge).status_code == 404
    page = web(rep_a).get(f"/contacts/{carl.pk}/").content.decode()
    assert "huge.pdf" in page and "not stored: over the size limit" in page


def test_an_inline_image_is_stored_and_dropped_from_the_html(dovecot, fill, rep_a, carl, web):
    when = timezone.now() - dt.timedelta(hours=1)
    fill([m.inline_image(msgid="<logo@x>", sender="carl@clientco.com", to=m.ME, when=when, png=PNG)])
    box = connect(dovecot, rep_a)
    sync.sync_mailbox(box.pk)
    message = InboundMessage.objects.get()
    assert "cid:" not in message.html and "<img" in message.html  # the image loads nothing
    image = InboundAttachment.objects.get()
    assert image.inline and image.content_id == "<logo@clientco.com>" and image.content_type == "image/png"
    r = download(web(rep_a), image)
    assert r.status_code == 200 and b"".join(r.streaming_content) == PNG


def test_the_download_name_is_safe(dovecot, fill, rep_a, carl, web):
    fill([recent(msgid="<names@x>", subject="Names", attachment=('../../etc/ré"sumé\r\nX-Evil: 1.pdf', b"%PDF"))])
    sync.sync_mailbox(connect(dovecot, rep_a).pk)
    row = InboundAttachment.objects.get()
    assert "/" not in row.filename and "\r" not in row.filename and "\n" not in row.filename
    r = download(web(rep_a), row)
    header = r["Content-Disposition"]
    assert header.startswith("attachment; filename*=utf-8''") and "\r" not in header and "\n" not in header
    assert "X-Evil" not in r.headers and '"' not in header.partition("''")[2]


def test_a_bounce_marks_the_address_and_the_sent_message_and_is_not_filed(dovecot, fill, rep_a, carl, web):
    lee = LeadFactory(first_name="Lee", email="lee@clientco.com", owner=rep_a)
    sent = OutgoingEmail.objects.create(
        sender=rep_a,
        from_email=m.ME,
        to=[carl.email],
        subject="Our offer",
        status="sent",
        message_id="<offer@annsales.com>",
    )
    other = OutgoingEmail.objects.create(
        sender=rep_a, from_email=m.ME, to=[lee.email], subject="Other", status="sent", message_id="<other@annsales.com>"
    )
    when = timezone.now() - dt.timedelta(hours=1)
    fill(
        [
            m.dsn(msgid="<dsn1@mx>", failed="carl@clientco.com", original_id="<offer@annsales.com>", when=when),
            # Delayed is no bounce; an address the CRM does not hold is not recorded.
            m.dsn(
                msgid="<dsn2@mx>",
                failed="lee@clientco.com",
                original_id="<other@annsales.com>",
                when=when,
                action="delayed",
            ),
            m.dsn(msgid="<dsn3@mx>", failed="nobody@clientco.com", original_id="<nope@annsales.com>", when=when),
            recent(msgid="<after@x>", subject="After the bounces"),
        ]
    )
    box = connect(dovecot, rep_a)
    assert sync.sync_mailbox(box.pk) == {"imported": 1, "errors": []}
    assert list(InboundMessage.objects.values_list("message_id", flat=True)) == ["<after@x>"]  # no DSN filed
    [bounced] = BouncedAddress.objects.all()
    assert bounced.email == "carl@clientco.com" and bounced.status == "5.1.1"
    assert "User unknown" in bounced.diagnostic
    sent.refresh_from_db()
    other.refresh_from_db()
    assert sent.bounced_at is not None and "5.1.1" in sent.bounce_diagnostic
    assert other.bounced_at is None
    page = web(rep_a).get(f"/contacts/{carl.pk}/").content.decode()
    assert "data-bounces" in page and "carl@clientco.com is bouncing" in page and "User unknown" in page
    assert "data-bounces" not in web(rep_a).get(f"/leads/{lee.pk}/").content.decode()


def test_a_bounce_in_a_personal_mailbox_marks_only_its_owners_mail(dovecot, fill, rep_a, rep_b, carl):
    theirs = OutgoingEmail.objects.create(
        sender=rep_b, from_email="b@x.com", to=[carl.email], subject="X", status="sent", message_id="<b@x.com>"
    )
    when = timezone.now() - dt.timedelta(hours=1)
    fill([m.dsn(msgid="<dsn@mx>", failed="carl@clientco.com", original_id="<b@x.com>", when=when)])
    sync.sync_mailbox(connect(dovecot, rep_a).pk)
    theirs.refresh_from_db()
    assert theirs.bounced_at is None
    assert BouncedAddress.objects.filter(email="carl@clientco.com").exists()
