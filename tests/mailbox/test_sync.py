"""The sync against a real Dovecot: matching, threading, MIME, start date, restart mid-sync,
UIDVALIDITY change, a deleted folder, a wrong password, a dropped connection, permissions."""

import datetime as dt
import imaplib

import pytest
from django.utils import timezone

from crm.core.errors import ValidationFailed
from crm.mailbox import imap, services, sync
from crm.mailbox.models import InboundMessage, Mailbox, MailFolderState
from crm.records.models import Activity, Lead
from tests.factories import CompanyFactory, ContactFactory, DealFactory, LeadFactory, links_of
from tests.mailbox import messages as m
from tests.mailbox.conftest import PASSWORD, USER

pytestmark = pytest.mark.django_db


def connect(dovecot, owner, **extra):
    data = {
        "name": "Ann's inbox",
        "host": dovecot.host,
        "port": dovecot.port,
        "security": "none",
        "username": USER,
        "password": PASSWORD,
        **extra,
    }
    return services.mailbox_create(actor=owner, data=data)


@pytest.fixture
def people(rep_a):
    client = CompanyFactory(name="Client Ltd", owner=rep_a)
    carl = ContactFactory(first_name="Carl", email="carl@clientco.com", company=client, owner=rep_a)
    dora = LeadFactory(first_name="Dora", email="dora@clientco.com", owner=rep_a)
    deal = DealFactory(name="2027 renewal", owner=rep_a, company=client)
    deal.contacts.add(carl)
    return {"company": client, "carl": carl, "dora": dora, "deal": deal}


def test_sync_stores_matches_and_threads(dovecot, fill, rep_a, people):
    fill(m.world(timezone.now()))
    box = connect(dovecot, rep_a)
    result = sync.sync_mailbox(box.pk)
    assert result["errors"] == []
    # Six of seven: the stranger is nobody the CRM knows.
    assert result["imported"] == 6
    stored = {x.message_id: x for x in InboundMessage.objects.filter(mailbox=box)}
    assert "<stranger@elsewhere.org>" not in stored
    thread = {stored[i].thread_id for i in ("<t1@mail.gmail.com>", "<t2@annsales.com>", "<t3@outlook.com>")}
    assert len(thread) == 1
    assert stored["<latin@clientco.com>"].subject == "Café crème"
    assert "café crème" in stored["<latin@clientco.com>"].text
    html = stored["<html@clientco.com>"]
    assert "<script" not in html.html and "onclick" not in html.html and "javascript:" not in html.html
    assert "Hi there" in html.text
    [attached] = stored["<att@clientco.com>"].attachments
    assert {k: attached[k] for k in ("name", "type", "size", "skipped")} == {
        "name": "contract.pdf",
        "type": "application/pdf",
        "size": 5009,
        "skipped": False,
    }
    # The first message: Carl (contact), his company and his open deal.
    first = stored["<t1@mail.gmail.com>"].activity
    assert first.kind == "email" and first.direction == "inbound" and first.owner_id == rep_a.pk
    assert links_of(first) == {
        "contact": [people["carl"].pk],
        "company": [people["company"].pk],
        "deal": [people["deal"].pk],
    }
    assert stored["<t2@annsales.com>"].activity.direction == "outbound"
    assert set(links_of(stored["<t3@outlook.com>"].activity)) == {"contact", "lead", "company", "deal"}
    box.refresh_from_db()
    assert box.imported_count == 6 and box.last_error == "" and box.last_sync_at is not None
    # Run again: nothing new, nothing twice.
    assert sync.sync_mailbox(box.pk)["imported"] == 0
    assert InboundMessage.objects.filter(mailbox=box).count() == 6


def test_reply_without_headers_threads_by_subject_and_people(dovecot, fill, rep_a, people):
    now = timezone.now()
    fill(
        [
            m.message(msgid="<a@x>", sender="carl@clientco.com", to=[m.ME], subject="Meeting", when=now),
            m.message(msgid="<b@x>", sender=m.ME, to=["carl@clientco.com"], subject="Re: meeting", when=now),
            m.message(msgid="<c@x>", sender="carl@clientco.com", to=[m.ME], subject="Other", when=now),
        ]
    )
    box = connect(dovecot, rep_a)
    sync.sync_mailbox(box.pk)
    threads = dict(InboundMessage.objects.values_list("message_id", "thread_id"))
    assert threads["<a@x>"] == threads["<b@x>"] != threads["<c@x>"]


def test_start_date_is_honoured(dovecot, fill, rep_a, people):
    old = timezone.now() - dt.timedelta(days=90)
    fill([m.message(msgid="<old@x>", sender="carl@clientco.com", to=[m.ME], subject="Old", when=old)], when=old)
    fill([m.message(msgid="<new@x>", sender="carl@clientco.com", to=[m.ME], subject="New", when=timezone.now())])
    box = connect(dovecot, rep_a)
    assert box.start_date == timezone.localdate() - dt.timedelta(days=30)
    sync.sync_mailbox(box.pk)
    assert list(InboundMessage.objects.values_list("message_id", flat=True)) == ["<new@x>"]
    # Moving the start date back brings the older message too, once.
    services.mailbox_update(box, actor=rep_a, data={"start_date": timezone.localdate() - dt.timedelta(days=120)})
    MailFolderState.objects.filter(mailbox=box).update(last_uid=0)
    sync.sync_mailbox(box.pk)
    assert sorted(InboundMessage.objects.values_list("message_id", flat=True)) == ["<new@x>", "<old@x>"]


def test_restart_mid_sync_leaves_no_gap_and_no_duplicate(dovecot, fill, rep_a, people, monkeypatch):
    now = timezone.now()
    fill(
        [
            m.message(msgid=f"<n{i}@x>", sender="carl@clientco.com", to=[m.ME], subject=f"N{i}", when=now)
            for i in range(7)
        ]
    )
    box = connect(dovecot, rep_a)
    monkeypatch.setattr(sync, "BATCH", 3)
    real_store, calls = sync.store, []

    def dying(*args):
        calls.append(1)
        if len(calls) == 5:  # the worker dies in the middle of the second batch
            raise SystemExit("worker killed")
        return real_store(*args)

    monkeypatch.setattr(sync, "store", dying)
    with pytest.raises(SystemExit):
        sync.sync_mailbox(box.pk)
    assert InboundMessage.objects.count() == 3  # the first batch committed, the second rolled back
    assert MailFolderState.objects.get(mailbox=box).last_uid == 3
    monkeypatch.setattr(sync, "store", real_store)
    sync.sync_mailbox(box.pk)
    assert sorted(InboundMessage.objects.values_list("message_id", flat=True)) == [f"<n{i}@x>" for i in range(7)]
    assert Activity.objects.filter(kind="email").count() == 7
    box.refresh_from_db()
    assert box.imported_count == 7


def test_dropped_connection_mid_fetch(dovecot, fill, rep_a, people, monkeypatch):
    now = timezone.now()
    fill([m.message(msgid=f"<d{i}@x>", sender="carl@clientco.com", to=[m.ME], subject="D", when=now) for i in range(4)])
    box = connect(dovecot, rep_a)
    monkeypatch.setattr(sync, "BATCH", 2)
    real_fetch, calls = imap.fetch, []

    def dropping(conn, uids):
        calls.append(uids)
        if len(calls) == 2:
            conn.shutdown()
            raise imaplib.IMAP4.abort("socket error: EOF")
        return real_fetch(conn, uids)

    monkeypatch.setattr(imap, "fetch", dropping)
    sync.sync_mailbox(box.pk)
    box.refresh_from_db()
    assert "connection failed" in box.last_error and not box.paused
    assert InboundMessage.objects.count() == 2
    monkeypatch.setattr(imap, "fetch", real_fetch)
    sync.sync_mailbox(box.pk)
    box.refresh_from_db()
    assert InboundMessage.objects.count() == 4 and box.last_error == ""


def test_uidvalidity_change_resyncs_without_duplicates(dovecot, fill, rep_a, people):
    now = timezone.now()
    batch = [
        m.message(msgid=f"<u{i}@x>", sender="carl@clientco.com", to=[m.ME], subject="U", when=now) for i in range(3)
    ]
    fill(batch, folder="Sales")
    box = connect(dovecot, rep_a, folders=["Sales"])
    sync.sync_mailbox(box.pk)
    before = MailFolderState.objects.get(mailbox=box, folder="Sales").uidvalidity
    # The folder is recreated on the server (a restore, a migration): same mail, new UIDVALIDITY.
    conn = dovecot.connect(USER, PASSWORD)
    conn.delete('"Sales"')
    conn.logout()
    fill([*batch, m.message(msgid="<u9@x>", sender="carl@clientco.com", to=[m.ME], subject="U", when=now)], "Sales")
    sync.sync_mailbox(box.pk)
    state = MailFolderState.objects.get(mailbox=box, folder="Sales")
    assert state.uidvalidity != before and state.last_uid == 4
    assert InboundMessage.objects.count() == 4


def test_deleted_folder_is_a_clear_error(dovecot, fill, rep_a, people):
    fill([m.message(msgid="<i@x>", sender="carl@clientco.com", to=[m.ME], subject="I", when=timezone.now())])
    box = connect(dovecot, rep_a, folders=["INBOX", "Gone"])
    sync.sync_mailbox(box.pk)
    box.refresh_from_db()
    assert "'Gone' does not exist" in box.last_error and not box.paused
    assert InboundMessage.objects.count() == 1


def test_wrong_password_pauses_with_a_clear_error(dovecot, fill, rep_a, people):
    fill(m.world(timezone.now()))
    box = connect(dovecot, rep_a, password="wrong")
    result = sync.sync_mailbox(box.pk)
    box.refresh_from_db()
    assert result["errors"] == ["auth"] and box.paused
    assert "refused the user name or password" in box.last_error and "wrong" not in box.last_error
    assert sync.sync_mailbox(box.pk).get("skipped")  # paused: the schedule leaves it alone
    # A new password resumes it; nothing was lost.
    services.mailbox_update(box, actor=rep_a, data={"password": PASSWORD})
    box.refresh_from_db()
    assert not box.paused and box.last_error == ""
    assert sync.sync_mailbox(box.pk)["imported"] == 6


def test_password_is_encrypted_at_rest_and_not_logged(dovecot, rep_a):
    from django.db import connection

    from crm.audit.models import ObjectChange

    box = connect(dovecot, rep_a)
    with connection.cursor() as cursor:
        cursor.execute("SELECT password FROM mailbox_mailbox WHERE id = %s", [box.pk])
        (stored,) = cursor.fetchone()
    assert stored.startswith("enc1:") and PASSWORD not in stored
    assert Mailbox.objects.get(pk=box.pk).password == PASSWORD
    for change in ObjectChange.objects.filter(object_type="mailbox"):
        assert PASSWORD not in str(change.changes) and "password" not in str(change.changes)


def test_a_reps_mail_links_only_what_the_rep_sees(dovecot, fill, rep_a, rep_b):
    hidden = ContactFactory(first_name="Carl", email="carl@clientco.com", owner=rep_b)
    mine = LeadFactory(first_name="Dora", email="dora@clientco.com", owner=rep_a)
    fill(m.world(timezone.now()))
    box = connect(dovecot, rep_a)
    sync.sync_mailbox(box.pk)
    for message in InboundMessage.objects.select_related("activity"):
        links = links_of(message.activity)
        assert hidden.pk not in links.get("contact", [])
        assert links == {"lead": [mine.pk]}
    # Only the messages Dora is on were stored.
    assert set(InboundMessage.objects.values_list("message_id", flat=True)) == {
        "<t3@outlook.com>",
        "<latin@clientco.com>",
        "<html@clientco.com>",
    }


def test_email_to_lead_creates_the_sender(dovecot, fill, rep_a):
    fill(m.world(timezone.now()))
    box = connect(dovecot, rep_a, email_to_lead=True)
    sync.sync_mailbox(box.pk)
    sam = Lead.objects.get(email="sam@elsewhere.org")
    assert sam.owner_id == rep_a.pk and sam.first_name == "Sam" and sam.last_name == "Stranger"
    message = InboundMessage.objects.get(message_id="<stranger@elsewhere.org>")
    assert links_of(message.activity) == {"lead": [sam.pk]}


def test_broken_charset_is_decoded(dovecot, fill, rep_a, people):
    fill([m.broken_charset(msgid="<bc@x>", sender="carl@clientco.com", to=m.ME, when=timezone.now())])
    box = connect(dovecot, rep_a)
    sync.sync_mailbox(box.pk)
    assert InboundMessage.objects.get().text.startswith("Gr")


def test_the_scheduled_job_syncs_every_active_mailbox(dovecot, fill, rep_a, people):
    from crm.automation import jobs, scheduler

    fill(m.world(timezone.now()))
    box = connect(dovecot, rep_a)
    scheduler.fire_schedules(timezone.now() + dt.timedelta(seconds=1))
    jobs.run_due(now=timezone.now() + dt.timedelta(seconds=2))
    jobs.run_due(now=timezone.now() + dt.timedelta(seconds=2))
    box.refresh_from_db()
    assert box.imported_count == 6


def test_a_password_under_a_lost_key_pauses_with_a_clear_error(dovecot, rep_a):
    box = connect(dovecot, rep_a)
    Mailbox.objects.filter(pk=box.pk).update(last_error="")
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("UPDATE mailbox_mailbox SET password = %s WHERE id = %s", ["enc1:deadbeef:gone", box.pk])
    assert sync.sync_mailbox(box.pk)["errors"] == ["password"]
    state = Mailbox.objects.filter(pk=box.pk).values("paused", "last_error").get()
    assert state["paused"] and "deadbeef" in state["last_error"]


def test_two_syncs_at_once_store_each_message_once(dovecot, fill, rep_a, people, monkeypatch):
    """The second sync fetched the same batch before the first committed it: it skips it."""
    now = timezone.now()
    fill([m.message(msgid=f"<c{i}@x>", sender="carl@clientco.com", to=[m.ME], subject="C", when=now) for i in range(3)])
    box = connect(dovecot, rep_a)
    real_fetch, nested = imap.fetch, []

    def fetch_then_race(conn, uids):
        fetched = real_fetch(conn, uids)
        if not nested:
            nested.append(1)
            sync.sync_mailbox(box.pk)  # another worker runs the whole sync meanwhile
        return fetched

    monkeypatch.setattr(imap, "fetch", fetch_then_race)
    sync.sync_mailbox(box.pk)
    assert InboundMessage.objects.count() == 3
    box.refresh_from_db()
    assert box.imported_count == 3


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "169.254.169.254", "10.1.2.3", "127.1", "0x7f000001"])
def test_a_private_or_local_server_is_refused_by_default(settings, rep_a, host):
    """The SSRF guard of the webhooks (crm/automation/ssrf.py): no DNS asked at save time."""
    settings.MAILBOX_ALLOW_PRIVATE = False
    data = {"name": "Inbox", "host": host, "port": 993, "security": "tls", "username": USER, "password": "x"}
    with pytest.raises(ValidationFailed) as caught:
        services.mailbox_create(actor=rep_a, data=data)
    assert "refused" in caught.value.fields["host"] and "MAILBOX_ALLOW_PRIVATE" in caught.value.fields["host"]
    assert not Mailbox.objects.exists()


def test_a_server_refused_at_connect_pauses_the_mailbox(dovecot, fill, settings, rep_a, people):
    """Connecting checks again (a name is resolved then, and every answer must be public): a mailbox
    saved while private servers were allowed is refused once they are not, with the reason shown."""
    fill(m.world(timezone.now()))
    box = connect(dovecot, rep_a)
    settings.MAILBOX_ALLOW_PRIVATE = False
    assert sync.sync_mailbox(box.pk)["errors"] == ["refused"]
    box.refresh_from_db()
    assert box.paused and "refused" in box.last_error and not InboundMessage.objects.exists()
    settings.MAILBOX_ALLOW_PRIVATE = True  # an on-premises server, allowed by the admin
    services.mailbox_update(box, actor=rep_a, data={"paused": False})
    assert sync.sync_mailbox(box.pk)["imported"] == 6


def test_each_stored_email_reaches_webhooks_as_an_activity_created(
    dovecot, fill, rep_a, people, monkeypatch, django_capture_on_commit_callbacks
):
    """The batch writes its activities together; listeners still get one record.created per email."""
    from crm.automation.models import WebhookDelivery, WebhookSubscription

    WebhookSubscription.objects.create(
        name="timeline", url="https://hooks.example.com/x", event_types=["record.created"], object_types=["activity"]
    )
    now = timezone.now()
    fill(
        [
            m.message(msgid=f"<w{i}@x>", sender="carl@clientco.com", to=[m.ME], subject=f"W{i}", when=now)
            for i in range(5)
        ]
    )
    box = connect(dovecot, rep_a)
    monkeypatch.setattr(sync, "BATCH", 2)  # three batches
    with django_capture_on_commit_callbacks(execute=True):
        assert sync.sync_mailbox(box.pk) == {"imported": 5, "errors": []}
    stored = sorted(InboundMessage.objects.values_list("activity_id", flat=True))
    delivered = WebhookDelivery.objects.filter(event_type="record.created")
    assert sorted(d.payload["object_id"] for d in delivered) == stored
    assert {d.payload["object_type"] for d in delivered} == {"activity"}
    assert all(d.payload["data"]["subject"].startswith("W") for d in delivered)


def test_mail_with_a_blocked_participant_is_not_kept(dovecot, fill, rep_a, people):
    """Someone erased who asked not to be added again: the sync skips every message they are on (as
    sender or in copy), in a batch and stored alone, and keeps the others."""
    from crm.privacy.blocklist import keyed_hash
    from crm.privacy.models import Blocked

    Blocked.objects.create(hash=keyed_hash("email", "dora@clientco.com"), kind="email")
    fill(m.world(timezone.now()))
    box = connect(dovecot, rep_a)
    result = sync.sync_mailbox(box.pk)
    assert result["errors"] == []
    stored = set(InboundMessage.objects.filter(mailbox=box).values_list("message_id", flat=True))
    assert stored == {"<t1@mail.gmail.com>", "<t2@annsales.com>", "<att@clientco.com>"}
    raw = m.message(
        msgid="<alone@clientco.com>",
        sender="carl@clientco.com",
        to=["dora@clientco.com"],
        subject="Alone",
        when=timezone.now(),
        text="x",
    )
    assert sync.store(box, "INBOX", 999, raw) is False
    assert not InboundMessage.objects.filter(message_id="<alone@clientco.com>").exists()


def test_batches_grow_by_fetch_chunks_up_to_a_byte_cap(dovecot, fill, rep_a, people, monkeypatch):
    """A batch (one commit) is several FETCHes of FETCH_CHUNK messages, up to BATCH messages, and stops
    fetching once it holds BATCH_BYTES of raw mail: large messages make small batches."""
    now = timezone.now()
    fill([m.message(msgid=f"<c{i}@x>", sender="carl@clientco.com", to=[m.ME], subject="C", when=now) for i in range(5)])
    box = connect(dovecot, rep_a)
    real_fetch, real_store, fetches, batches = imap.fetch, sync._store_batch, [], []

    def fetching(conn, uids):
        fetches.append(len(uids))
        return real_fetch(conn, uids)

    def storing(mailbox, folder, state, batch, fetched):
        batches.append(len(batch))
        return real_store(mailbox, folder, state, batch, fetched)

    monkeypatch.setattr(imap, "fetch", fetching)
    monkeypatch.setattr(sync, "_store_batch", storing)
    monkeypatch.setattr(sync, "FETCH_CHUNK", 2)
    monkeypatch.setattr(sync, "BATCH", 4)
    assert sync.sync_mailbox(box.pk) == {"imported": 5, "errors": []}
    assert (fetches, batches) == ([2, 2, 1], [4, 1])
    assert MailFolderState.objects.get(mailbox=box).last_uid == 5

    fill([m.message(msgid=f"<e{i}@x>", sender="carl@clientco.com", to=[m.ME], subject="E", when=now) for i in range(3)])
    fetches.clear()
    batches.clear()
    monkeypatch.setattr(sync, "BATCH_BYTES", 1)  # any message is over it: one FETCH per batch
    assert sync.sync_mailbox(box.pk) == {"imported": 3, "errors": []}
    assert (fetches, batches) == ([2, 1], [2, 1])
    assert InboundMessage.objects.count() == 8
