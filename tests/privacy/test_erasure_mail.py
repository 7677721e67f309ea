"""Erasure and subject access cover email (crm/privacy/mail.py): messages sent to the person (one to
them alone, one to them and Bob, a meeting invitation to both) through a real SMTP server with opens
and clicks recorded by the real tracking endpoints, messages received from and about them (stored by
the sync's own ``store``), attachments on storage, meeting attendee rows and a bounce. After the
erasure no table holds their address, their files are gone from storage, and what was Bob's stays."""

import datetime as dt
import io
import json
import zipfile

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import models
from django.db.models import Q
from django.db.models.functions import Cast
from django.test import Client
from django.utils import timezone

from crm.mail import invitations, outbox, tracking
from crm.mail.models import BouncedAddress, EngagementEvent, MeetingAttendee, OutgoingEmail
from crm.mailbox import sync
from crm.mailbox.models import InboundAttachment, InboundMessage, Mailbox
from crm.privacy.access import contents, subject_access
from crm.privacy.erasure import erase
from crm.privacy.finding import find
from crm.records.models import Activity
from crm.records.services import activities
from tests.mail.conftest import _inline_jobs, commit, smtp_server  # noqa: F401  (fixtures)
from tests.mailbox import messages as m
from tests.privacy.conftest import EMAIL, OTHER_EMAIL

pytestmark = pytest.mark.django_db
TEXTUAL = (models.CharField, models.TextField, models.JSONField)


def rows_naming(*values) -> list[str]:
    """Every row of every table (its text and JSON columns) that contains one of ``values``."""
    found = []
    for model in apps.get_models():
        fields = [f for f in model._meta.concrete_fields if isinstance(f, TEXTUAL)]
        if not fields or not model._meta.managed:
            continue
        annotated = model._base_manager.annotate(
            **{f"_s_{f.attname}": Cast(f.attname, models.TextField()) for f in fields}
        )
        q = Q(pk__in=[])
        for f in fields:
            for v in values:
                q |= Q(**{f"_s_{f.attname}__icontains": v})
        found += [f"{model._meta.label}:{pk}" for pk in annotated.filter(q).values_list("pk", flat=True)]
    return found


def files_in(root) -> list:
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


@pytest.fixture
def mailed(boss, ann, ann_lead, bob, commit, smtp_server, settings, tmp_path):  # noqa: F811
    settings.MEDIA_ROOT = tmp_path / "media"
    tracking.set_preference(actor=boss, tracking="clicks")
    note = SimpleUploadedFile("notes.txt", f"Ann: {EMAIL}".encode(), content_type="text/plain")
    with commit():
        alone = outbox.queue_email(
            actor=boss,
            to=[EMAIL],
            cc=[OTHER_EMAIL],
            subject=f"For {EMAIL}",
            attachments=[note],
            body_html='<p>Hi Ann, <a href="https://example.com/offer">the offer</a></p>',
        )
        both = outbox.queue_email(
            actor=boss, to=["bob@example.org", EMAIL], subject="Both", body_html=f"<p>Ann is {EMAIL}</p>"
        )
        at = timezone.now() + dt.timedelta(days=2)
        meeting = activities.activity_create(
            actor=boss,
            data={
                "kind": "meeting",
                "subject": "Demo",
                "occurred_at": at,
                "participant_ids": [ann.pk, bob.pk],
                "links": [{"type": "contact", "id": bob.pk}],
            },
        ).obj
        invitation = invitations.send_invitation(meeting.pk, actor=boss)
    web = Client(REMOTE_ADDR="203.0.113.9", HTTP_USER_AGENT="Thunderbird")
    for email in (alone, both):
        email.refresh_from_db()
        assert email.status == "sent", email.last_error
        assert web.get(f"/mail/t/o/{email.track_token}.gif").status_code == 200
    assert web.get(tracking.click_url(alone, "https://example.com/offer")).status_code == 302
    box = Mailbox.objects.create(name="Boss", owner=boss, host="127.0.0.1", username="boss@annsales.com")
    recent = timezone.now() - dt.timedelta(hours=1)
    from_ann = m.message(
        msgid="<a@x>",
        sender=EMAIL,
        to=["boss@annsales.com"],
        subject="Re: offer",
        when=recent,
        attachment=("signed.pdf", b"%PDF-1.4 signed"),
    )
    about_ann = m.message(
        msgid="<b@x>", sender="bob@example.org", to=["boss@annsales.com", EMAIL], subject="Lunch", when=recent
    )
    assert sync.store(box, "INBOX", 1, from_ann) and sync.store(box, "INBOX", 2, about_ann)
    BouncedAddress.objects.create(email=OTHER_EMAIL, diagnostic=f"550 {OTHER_EMAIL} unknown")
    return {"alone": alone, "both": both, "invitation": invitation, "meeting": meeting}


def test_subject_access_includes_their_mail(boss, mailed):
    files = contents(find(email=EMAIL), boss)
    sent = {row["subject"]: row for row in files["emails_sent.json"]}
    assert set(sent) == {f"For {EMAIL}", "Both", "Invitation: Demo"}
    kinds = sorted(e["kind"] for e in sent[f"For {EMAIL}"]["engagement"])
    assert kinds == ["click", "open"] and sent[f"For {EMAIL}"]["attachments"] == ["notes.txt"]
    received = {row["subject"]: row for row in files["emails_received.json"]}
    assert set(received) == {"Re: offer", "Lunch"} and received["Re: offer"]["attachments"] == ["signed.pdf"]
    assert [row["email"] for row in files["meetings.json"]] == [EMAIL]
    assert [row["email"] for row in files["bounces.json"]] == [OTHER_EMAIL]


def test_the_subject_access_zip_holds_the_attachment_files_themselves(boss, mailed):
    """The person is owed a copy of the files, not only their names (issue #13: "... files")."""
    with zipfile.ZipFile(io.BytesIO(subject_access(actor=boss, email=EMAIL))) as archive:
        names = set(archive.namelist())
        sent = {row["subject"]: row for row in json.loads(archive.read("emails_sent.json"))}
        received = {row["subject"]: row for row in json.loads(archive.read("emails_received.json"))}
        [note] = sent[f"For {EMAIL}"]["attachment_files"]
        [signed] = received["Re: offer"]["attachment_files"]
        assert note == f"attachments/sent/{mailed['alone'].pk}/1-notes.txt" and note in names
        assert archive.read(note) == f"Ann: {EMAIL}".encode()
        assert signed.startswith("attachments/received/") and signed.endswith("-signed.pdf")
        assert archive.read(signed) == b"%PDF-1.4 signed"
        assert received["Lunch"]["attachment_files"] == [] and sent["Both"]["attachment_files"] == []
        assert "attachments/" in archive.read("README.txt").decode()


def test_erasure_leaves_no_row_with_their_address_and_no_file_of_theirs(boss, mailed, settings, smtp_server, commit):  # noqa: F811
    before = files_in(settings.MEDIA_ROOT)
    assert len(before) == 3  # notes.txt, invite.ics, signed.pdf
    assert rows_naming(EMAIL, OTHER_EMAIL)  # the scan does find them before
    with commit():  # files are deleted once the erasure commits
        report = erase(actor=boss, email=EMAIL)

    assert rows_naming(EMAIL, OTHER_EMAIL) == []
    counts = report.counts
    assert (counts["emails_sent_erased"], counts["emails_sent_anonymized"]) == (1, 2)
    assert (counts["emails_received_erased"], counts["emails_received_anonymized"]) == (1, 1)
    assert counts["meeting_attendees_erased"] == 1 and counts["bounces_erased"] == 1
    # The message to Ann alone is gone with its opens, clicks and file; its timeline email too.
    assert not OutgoingEmail.objects.filter(pk=mailed["alone"].pk).exists()
    assert not Activity.objects.filter(pk=mailed["alone"].activity_id).exists()
    assert not EngagementEvent.objects.exists()  # the kept message's opens cannot be told apart: gone too
    # What Bob was sent stays for him, Ann's address erased; no more tracking of it.
    both = OutgoingEmail.objects.get(pk=mailed["both"].pk)
    assert both.to == ["bob@example.org", "[erased]"] and both.body_html == "<p>Ann is [erased]</p>"
    assert both.track_token == ""
    assert Activity.objects.filter(pk=both.activity_id).exists()
    invitation = OutgoingEmail.objects.get(pk=mailed["invitation"].pk)
    [ics] = invitation.attachments.all()
    text = ics.file.read().decode()
    assert "bob@example.org" in text and "[erased]" in text and "ann.erase" not in text.lower()
    assert list(MeetingAttendee.objects.values_list("email", flat=True)) == ["bob@example.org"]
    # Received: Ann's own message deleted with its file; Bob's kept without her address.
    assert list(InboundMessage.objects.values_list("subject", flat=True)) == ["Lunch"]
    assert InboundMessage.objects.get().to == ["boss@annsales.com", "[erased]"]
    assert not InboundAttachment.objects.exists()
    after = files_in(settings.MEDIA_ROOT)
    assert len(after) == 1 and after[0].name == "invite.ics"  # notes.txt and signed.pdf deleted, the .ics rewritten
