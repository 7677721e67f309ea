"""`crm bench mail` at a tiny size (crm/mail/bench.py): a real Dovecot and aiosmtpd, every figure
produced and its report written; timings are printed, never asserted (machines are noisy)."""

import pytest

from crm.bench.report import write_block
from crm.mail import bench
from crm.mail.models import EmailStatus, OutgoingEmail
from crm.mailbox.models import InboundMessage
from tests.mailbox.dovecot import available

pytestmark = pytest.mark.django_db


def test_the_mail_bench_runs_at_a_tiny_size(admin_user, tmp_path):
    if not available():
        pytest.fail("Dovecot is not installed: run `make dovecot` (apt-get install dovecot-imapd).")
    result = bench.run(admin_user, messages=10, sends=3, runs=2, worker=False, contacts=3)
    # Both mailboxes synced in full (10 and a fifth of it), each beside its raw FETCH floor.
    assert {size: f["imported"] for size, f in result["sync"]["sizes"].items()} == {2: 2, 10: 10}
    assert all(f["floor"]["messages"] == size for size, f in result["sync"]["sizes"].items())
    # Memory sampled after each batch, anonymous and file-backed apart.
    assert all(f["anon_mb"] > 0 and f["file_mb"] >= 0 for f in result["sync"]["sizes"].values())
    assert InboundMessage.objects.count() == 12
    # The three queued messages went through the job and the SMTP server, and onto the timeline.
    assert result["send"]["received"] == 3
    assert OutgoingEmail.objects.filter(status=EmailStatus.SENT, activity_id__isnull=False).count() == 3
    # Half of each mailbox came from the busy contact, who also received the three sent.
    assert result["pages"]["busy"]["emails"] == 1 + 5 + 3 and result["pages"]["quiet"]["emails"] == 0
    text = bench.report(result, bench.now())
    doc = tmp_path / "benchmarks.md"
    write_block("mail:sqlite", text, doc)
    assert "| IMAP sync, 10 messages |" in doc.read_text() and "background send, 3 messages" in text


def test_the_send_and_page_parts_run_without_the_sync(admin_user):
    """`--only send,page`: no Dovecot; the busy contact's timeline is filled through the bulk service."""
    result = bench.run(admin_user, messages=12, sends=3, runs=2, worker=False, contacts=3, only=("send", "page"))
    assert "sync" not in result and result["send"]["received"] == 3
    assert result["pages"]["busy"]["emails"] == 12 + 3 and result["pages"]["quiet"]["emails"] == 0
    # The fair companion: as many entries shown as the busy page, none an email.
    notes = result["pages"]["notes"]
    assert notes["emails"] == 0 and notes["others"] == bench.NOTES and notes["cpu_p50"] > 0
    text = bench.report(result, bench.now())
    assert "IMAP" not in text and "background send, 3 messages" in text and "15 emails on its timeline" in text
    assert "0 emails and 50 other activities on its timeline" in text and "CPU p50" in text
