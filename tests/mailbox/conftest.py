"""A real Dovecot for the mailbox tests (tests/mailbox/dovecot.py): one server per test, with the
user ann and an empty INBOX; tests fill it by APPEND."""

import pytest

from tests.mailbox.dovecot import Dovecot, available

USER, PASSWORD = "ann@annsales.com", "app-password-1"


@pytest.fixture(autouse=True)
def loopback_allowed(settings):
    """The test server is on loopback, which the SSRF guard refuses by default."""
    settings.MAILBOX_ALLOW_PRIVATE = True


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    """Received attachments go to a temporary MEDIA_ROOT, not the checkout's var/."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def dovecot():
    if not available():
        pytest.fail("Dovecot is not installed: run `make dovecot` (apt-get install dovecot-imapd).")
    server = Dovecot()
    server.add_user(USER, PASSWORD)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def fill(dovecot):
    def append(messages, folder="INBOX", when=None):
        conn = dovecot.connect(USER, PASSWORD)
        try:
            if folder.upper() != "INBOX":
                conn.create(folder)
            for raw in messages:
                typ, data = conn.append(folder, None, when, raw)
                assert typ == "OK", data
        finally:
            conn.logout()

    return append
