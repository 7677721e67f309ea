"""Mail fixtures: jobs run in-process (the immediate backend, then `run_due` as `crm worker --once`
does) and a real SMTP server (aiosmtpd) on a loopback port the system picks."""

import threading

import pytest
from aiosmtpd.controller import Controller

from tests.automation.conftest import IMMEDIATE


@pytest.fixture(autouse=True)
def _inline_jobs(settings):
    settings.TASKS = IMMEDIATE
    settings.AUTOMATION_RETRY_BASE_SECONDS = 30
    settings.EMAIL_URL = ""


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


class Mailbox:
    """What the server received, and the replies it gives next (a queue of "451 ..." / "550 ...")."""

    def __init__(self):
        self.messages = []
        self.replies: list[str] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            if self.replies:
                return self.replies.pop(0)
            self.messages.append(envelope)
        return "250 Message accepted for delivery"


class PortZeroController(Controller):
    """aiosmtpd's controller bound to port 0: it learns the port the system gave before its own
    start-up check connects to it."""

    def _trigger_server(self):
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


@pytest.fixture
def smtp_server(settings):
    mailbox = Mailbox()
    controller = PortZeroController(mailbox, hostname="127.0.0.1", port=0)
    controller.start()
    try:
        port = controller.port
        mailbox.url = f"smtp://127.0.0.1:{port}?timeout=10"
        settings.EMAIL_URL = mailbox.url
        yield mailbox
    finally:
        controller.stop()
