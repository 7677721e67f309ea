"""Breached passwords refused (crm/access/breached.py), against a real k-anonymity range server on loopback:
only the SHA-1 prefix is sent, padding is asked for and ignored, every password path refuses a breached
one, and an unreachable service lets the password through with a warning (fail open)."""

import hashlib
import logging
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.test import Client

from crm.access import accounts
from crm.core.errors import ValidationFailed

pytestmark = pytest.mark.django_db

BREACHED = "Correct-Horse-Battery-9"  # long enough for the other validators: only the range server refuses it
PADDED = "Only-Padding-Here-77"  # listed with count 0: a decoy line of the padding, not a breach
FRESH = "Never-Seen-Anywhere-42"


def sha1(password: str) -> str:
    return hashlib.sha1(password.encode()).hexdigest().upper()  # noqa: S324


class RangeServer:
    """Answers ``GET /range/<prefix>`` as the Pwned Passwords API does, from a set of breached passwords;
    keeps the paths and headers it saw."""

    def __init__(self, counts: dict[str, int], status: int = 200):
        self.seen: list[tuple[str, dict]] = []
        table: dict[str, list[str]] = {}
        for password, count in counts.items():
            digest = sha1(password)
            table.setdefault(digest[:5], []).append(f"{digest[5:]}:{count}")
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                outer.seen.append((self.path, dict(self.headers)))
                prefix = self.path.rsplit("/", 1)[-1]
                lines = [*table.get(prefix, []), "0" * 35 + ":0"]  # one decoy line, as padding adds
                body = "\r\n".join(lines).encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def enable(settings, url: str) -> None:
    """What PASSWORD_BREACH_CHECK=1 PASSWORD_BREACH_API=url adds (crm/settings.py), on top of the rest."""
    settings.AUTH_PASSWORD_VALIDATORS = [
        *settings.AUTH_PASSWORD_VALIDATORS,
        {"NAME": "crm.access.breached.BreachedPasswordValidator", "OPTIONS": {"api": url, "timeout": 2}},
    ]


@pytest.fixture
def service(settings):
    with RangeServer({BREACHED: 3_861_493, PADDED: 0}) as server:
        enable(settings, server.url + "/")  # a trailing slash is tolerated
        yield server


def test_off_by_default_with_the_public_service_as_base(settings):
    assert settings.PASSWORD_BREACH_CHECK is False
    assert settings.PASSWORD_BREACH_API == "https://api.pwnedpasswords.com"
    names = [v["NAME"] for v in settings.AUTH_PASSWORD_VALIDATORS]
    assert "crm.access.breached.BreachedPasswordValidator" not in names


def test_a_breached_password_is_refused_and_only_the_prefix_is_sent(service, rep_a):
    with pytest.raises(ValidationFailed) as exc:
        accounts.password_set(rep_a, actor=rep_a, password=BREACHED)
    assert "known data breach" in exc.value.fields["password"]
    rep_a.refresh_from_db()
    assert rep_a.check_password("pw")
    path, headers = service.seen[-1]
    assert path == f"/range/{sha1(BREACHED)[:5]}" and headers.get("Add-Padding") == "true"
    assert sha1(BREACHED)[5:] not in str(service.seen)  # the rest of the hash never leaves


def test_fresh_and_padding_only_passwords_are_accepted(service, rep_a):
    for password in (FRESH, PADDED):
        accounts.password_set(rep_a, actor=rep_a, password=password)
        rep_a.refresh_from_db()
        assert rep_a.check_password(password)
    assert len(service.seen) == 2


def test_every_password_form_refuses_it(service, rep_a, admin_user):
    client = Client()
    client.force_login(rep_a)
    own = client.post("/password/", {"old_password": "pw", "new_password1": BREACHED, "new_password2": BREACHED})
    assert own.status_code == 200 and "known data breach" in own.content.decode()
    assert "appears in a known data breach" in client.get("/password/").content.decode()  # the help text
    with pytest.raises(ValidationFailed):
        accounts.user_create(actor=admin_user, data={"username": "newbie", "password": BREACHED})
    rep_a.refresh_from_db()
    assert rep_a.check_password("pw")


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed when this returns: connections are refused


def test_an_unreachable_service_lets_the_password_through_and_logs_it(settings, rep_a, caplog):
    enable(settings, f"http://127.0.0.1:{closed_port()}")
    with caplog.at_level(logging.WARNING, logger="crm.signin"):
        accounts.password_set(rep_a, actor=rep_a, password=BREACHED)
    rep_a.refresh_from_db()
    assert rep_a.check_password(BREACHED)
    assert any("Breached-password check skipped" in r.getMessage() for r in caplog.records)


def test_an_error_answer_fails_open_too(settings, rep_a, caplog):
    with RangeServer({BREACHED: 5}, status=503) as server, caplog.at_level(logging.WARNING, logger="crm.signin"):
        enable(settings, server.url)
        accounts.password_set(rep_a, actor=rep_a, password=BREACHED)
    rep_a.refresh_from_db()
    assert rep_a.check_password(BREACHED) and "unreachable" in caplog.text
