"""No double send when a worker dies after the SMTP server accepted a message (crm/mail/sending.py).

Real `crm worker` processes and a real aiosmtpd server: the server takes the message, then holds its
250 reply to DATA, so the test can SIGKILL the worker after the server has the message but before
"sent" was written. (It held the QUIT that followed while each message had its own connection; the
connection now stays open for the run's other messages, so "sent" is written before any QUIT.) The
job's retry (by another worker, once the dead one's lease ran out) finds the message "sending" and
marks it "unknown" instead of sending it again: exactly one copy at the server. Its sender's "send again"
then sends it deliberately, with the same Message-ID."""

import asyncio
import threading

import pytest

from crm.automation.models import Job, JobStatus
from crm.mail import outbox
from crm.mail.models import EmailStatus, OutgoingEmail
from tests.automation.workers import wait_for, worker_db, worker_template  # noqa: F401  (fixtures)
from tests.factories import UserFactory
from tests.mail.conftest import Mailbox, PortZeroController


class HoldingReply(Mailbox):
    """Takes every message; holds the 250 reply to the first DATA (the server has the message, the
    client does not know yet) until released."""

    def __init__(self):
        super().__init__()
        self.holding, self.release, self.held = threading.Event(), threading.Event(), False

    async def handle_DATA(self, server, session, envelope):
        reply = await super().handle_DATA(server, session, envelope)
        if not self.held:
            self.held = True
            self.holding.set()
            while not self.release.is_set():
                await asyncio.sleep(0.05)
        return reply


@pytest.fixture
def server(settings):
    received = HoldingReply()
    controller = PortZeroController(received, hostname="127.0.0.1", port=0)
    controller.start()
    received.url = f"smtp://127.0.0.1:{controller.port}?timeout=60"
    settings.EMAIL_URL = received.url
    yield received
    received.release.set()
    controller.stop()


def status(email) -> str:
    return OutgoingEmail.objects.get(pk=email.pk).status


def test_a_worker_killed_after_the_server_accepted_the_message_never_sends_it_twice(worker_db, server):  # noqa: F811
    worker_db.env["EMAIL_URL"] = server.url
    rep = UserFactory(username="rep", role="sales-rep", email="rep@annsales.com")
    first = worker_db.start("w1")
    email = outbox.queue_email(actor=rep, to=["carl@clientco.com"], subject="Offer", body_html="<p>Hi</p>")
    wait_for(server.holding.is_set, timeout=60, what="the server to accept the message", workers=worker_db)
    assert len(server.messages) == 1 and status(email) == EmailStatus.SENDING  # the server has it, not "sent"
    worker_db.kill(first)

    worker_db.start("w2")  # takes the job over once the dead worker's lease runs out
    wait_for(lambda: status(email) == EmailStatus.UNKNOWN, timeout=60, what="the unknown mark", workers=worker_db)
    job = Job.objects.get(kind="mail.send")
    wait_for(lambda: Job.objects.get(pk=job.pk).status == JobStatus.DONE, what="the job to end", workers=worker_db)
    unknown = OutgoingEmail.objects.get(pk=email.pk)
    assert len(server.messages) == 1  # exactly one copy at the server
    assert unknown.attempts == 1 and unknown.sent_at is None and "may have accepted it" in unknown.last_error
    assert Job.objects.get(pk=job.pk).attempts == 2  # the retry ran, and sent nothing

    # Its sender checked it did not arrive: "send again" sends it, with the Message-ID of the first copy.
    server.release.set()
    outbox.retry(unknown, actor=rep)
    wait_for(lambda: status(email) == EmailStatus.SENT, timeout=60, what="the second send", workers=worker_db)
    assert len(server.messages) == 2
    ids = {m.content.split(b"Message-ID: ")[1].split(b"\r\n")[0] for m in server.messages}
    assert ids == {OutgoingEmail.objects.get(pk=email.pk).message_id.encode()}
