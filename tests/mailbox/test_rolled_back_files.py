"""A sync batch whose transaction rolls back after attachments were written to storage leaves no file
behind (crm/mailbox/sync.py deletes what the batch wrote): real Dovecot, a real constraint error."""

import datetime as dt

import pytest
from django.db import IntegrityError
from django.utils import timezone

from crm.mailbox import sync
from crm.mailbox.models import InboundAttachment, InboundMessage, MailFolderState
from tests.factories import ContactFactory
from tests.mailbox import messages as m
from tests.mailbox.test_sync import connect

pytestmark = pytest.mark.django_db


def files_in(root) -> list:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def recent(msgid, subject, attachment=None):
    when = timezone.now() - dt.timedelta(hours=1)
    return m.message(
        msgid=msgid, sender="carl@clientco.com", to=[m.ME], when=when, subject=subject, attachment=attachment
    )


@pytest.fixture
def clash(monkeypatch):
    """A stored-message hook (the email-to-case extension point) that breaks the unique Message-ID
    constraint on the batch's second message, after the first one's files were written."""

    def hook(message, parsed):
        if parsed.subject == "Second":
            InboundMessage.objects.create(
                mailbox=message.mailbox, folder=message.folder, uid=0, message_id=message.message_id
            )

    monkeypatch.setattr(sync, "STORED_HOOKS", [hook])


def test_a_rolled_back_batch_leaves_no_attachment_file(dovecot, fill, rep_a, settings, clash):
    ContactFactory(first_name="Carl", email="carl@clientco.com", owner=rep_a)
    fill(
        [
            recent("<one@x>", "First", ("offer.pdf", b"%PDF-1.4 first")),
            recent("<two@x>", "Second", ("terms.pdf", b"%PDF-1.4 second")),
        ]
    )
    box = connect(dovecot, rep_a)
    with pytest.raises(IntegrityError):
        sync.sync_mailbox(box.pk)
    assert files_in(settings.MEDIA_ROOT) == []  # both messages' files were on storage; none is left
    assert not InboundMessage.objects.exists() and not InboundAttachment.objects.exists()
    assert MailFolderState.objects.get(mailbox=box).last_uid == 0  # the batch is read again next time

    sync.STORED_HOOKS.clear()  # the fault gone, the next sync stores both, files and rows together
    assert sync.sync_mailbox(box.pk) == {"imported": 2, "errors": []}
    names = sorted(p.name for p in files_in(settings.MEDIA_ROOT))
    assert names == ["offer.pdf", "terms.pdf"] and InboundAttachment.objects.count() == 2
