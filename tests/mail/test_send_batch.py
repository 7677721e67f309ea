"""Messages queued together go out on one SMTP connection (crm/mail/connections.py, the ``mail.send``
job's run taking the other due jobs): counted at a real aiosmtpd by the client's address and port. Each
message keeps its own status, retries and reply: one refused recipient or one temporary refusal does
not touch the others, and the connection goes on after either."""

import pytest

from crm.automation.models import Job, JobStatus
from crm.mail import outbox
from crm.mail.models import EmailStatus, OutgoingEmail
from tests.factories import ContactFactory
from tests.mail.conftest import Mailbox, PortZeroController

pytestmark = pytest.mark.django_db


class Counting(Mailbox):
    """Notes the connection (client address and port) of every message; refuses RCPT to ``refused``."""

    def __init__(self):
        super().__init__()
        self.peers, self.refused = [], set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refused:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        reply = await super().handle_DATA(server, session, envelope)
        if reply.startswith("250"):
            self.peers.append(session.peer)
        return reply


@pytest.fixture
def server(settings):
    received = Counting()
    controller = PortZeroController(received, hostname="127.0.0.1", port=0)
    controller.start()
    settings.EMAIL_URL = f"smtp://127.0.0.1:{controller.port}?timeout=10"
    yield received
    controller.stop()


def queue_all(commit, actor, addresses):
    with commit():  # one commit: every job is due at once, as when a user sends several
        return [
            outbox.queue_email(actor=actor, to=[to], subject=f"Offer {i}", body_html="<p>Hi</p>")
            for i, to in enumerate(addresses)
        ]


def states(emails) -> list[str]:
    return [OutgoingEmail.objects.get(pk=e.pk).status for e in emails]


def test_messages_queued_together_share_one_connection(commit, server, rep_a):
    ContactFactory(email="ann@example.com", owner=rep_a)
    emails = queue_all(commit, rep_a, [f"p{i}@example.com" for i in range(6)] + ["ann@example.com"])
    assert states(emails) == [EmailStatus.SENT] * 7
    assert len(server.messages) == 7 and len(set(server.peers)) == 1
    assert set(Job.objects.filter(kind="mail.send").values_list("status", flat=True)) == {JobStatus.DONE}
    assert all(e.attempts == 1 and e.sent_at for e in OutgoingEmail.objects.all())
    # Each still lands on the timeline of its contact.
    assert OutgoingEmail.objects.get(to=["ann@example.com"]).activity_id is not None


def test_a_refused_recipient_fails_its_message_only(commit, server, rep_a):
    server.refused.add("gone@example.com")
    emails = queue_all(commit, rep_a, ["a@example.com", "gone@example.com", "b@example.com"])
    assert states(emails) == [EmailStatus.SENT, EmailStatus.FAILED, EmailStatus.SENT]
    failed = OutgoingEmail.objects.get(pk=emails[1].pk)
    assert failed.last_error == "gone@example.com: 550 5.1.1 No such user here"
    assert len(server.messages) == 2 and len(set(server.peers)) == 1  # the connection went on


def test_a_temporary_refusal_retries_its_message_only(commit, server, rep_a):
    server.replies.append("451 4.3.0 Try again later")  # the first DATA
    emails = queue_all(commit, rep_a, ["a@example.com", "b@example.com", "c@example.com"])
    assert states(emails) == [EmailStatus.QUEUED, EmailStatus.SENT, EmailStatus.SENT]
    first = OutgoingEmail.objects.get(pk=emails[0].pk)
    assert first.last_error == "451 4.3.0 Try again later"
    job = Job.objects.get(payload__email_id=first.pk)
    assert job.status == JobStatus.PENDING and job.attempts == 1 and job.run_at > first.created_at
    assert len(server.messages) == 2 and len(set(server.peers)) == 1


def test_a_kept_connection_dropped_while_idle_is_replaced_before_the_next_message(server):
    """NOOP finds the dead connection before anything of the next message is sent on it: both messages
    arrive once each, the second on a new connection."""
    import socket

    from django.core.mail import EmailMessage

    from crm.mail import connections, smtp

    smtp_server = smtp.configured()
    with connections.reused():
        connections.send(smtp_server, EmailMessage("One", "x", "crm@example.com", ["a@example.com"]))
        kept = connections._open.get()[smtp_server]
        kept.connection.sock.shutdown(socket.SHUT_RDWR)  # the server's idle timeout, as the client sees it
        connections.send(smtp_server, EmailMessage("Two", "x", "crm@example.com", ["b@example.com"]))
    assert [m.rcpt_tos for m in server.messages] == [["a@example.com"], ["b@example.com"]]
    assert len(set(server.peers)) == 2
