"""A user's own outgoing server (/api/v1/mail-settings/smtp): their mail goes through it, From their own
address, logging in with the password stored encrypted; everyone else's and the CRM's notices through
the organization's EMAIL_URL. Two real SMTP servers (aiosmtpd), the user's requiring AUTH."""

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword
from django.db import connection

from crm.audit.models import ObjectChange
from crm.core import crypto
from crm.mail import outbox
from crm.mail.models import EmailStatus, OutgoingEmail, SmtpAccount
from tests.mail.conftest import Mailbox, PortZeroController

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS"),  # a loopback test server
]


class Authenticator:
    def __init__(self):
        self.logins = []

    def __call__(self, server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (b"rep", b"s3cret!")
        self.logins.append((mechanism, ok))
        return AuthResult(success=ok, handled=False)  # handled=False: the server answers 535 itself


@pytest.fixture
def own_server(settings):
    """The user's provider: AUTH required (over plain text: a loopback test server without TLS)."""
    settings.MAILBOX_ALLOW_PRIVATE = True  # loopback, which the SSRF guard refuses by default
    received, auth = Mailbox(), Authenticator()
    controller = PortZeroController(
        received,
        hostname="127.0.0.1",
        port=0,
        authenticator=auth,
        auth_required=True,
        auth_require_tls=False,
        auth_exclude_mechanism=["LOGIN"],  # one mechanism: smtplib tries each offered, one login attempt to count
    )
    controller.start()
    received.port, received.auth = controller.port, auth
    yield received
    controller.stop()


def put(api, user, data):
    return api(user)._call("put", "/mail-settings/smtp", data)


def send(actor, commit, **extra):
    with commit():
        return outbox.queue_email(
            actor=actor, to=["carl@clientco.com"], subject="Hello", body_html="<p>Hi</p>", **extra
        )


def raw_password(pk) -> str:
    with connection.cursor() as cur:
        cur.execute("SELECT password FROM mail_smtpaccount WHERE id = %s", [pk])
        return cur.fetchone()[0]


def test_my_mail_leaves_through_my_server_and_others_through_the_organizations(
    api, rep_a, rep_b, commit, smtp_server, own_server
):
    rep_a.email = "rep.a@annsales.com"
    rep_a.save()
    data = {"host": "127.0.0.1", "port": own_server.port, "security": "none", "username": "rep", "password": "s3cret!"}
    r = put(api, rep_a, data)
    assert r.status_code == 200, r.content
    assert r.json() == {
        "configured": True,
        "host": "127.0.0.1",
        "port": own_server.port,
        "security": "none",
        "username": "rep",
        "has_password": True,
        "from_email": "rep.a@annsales.com",
    }
    account = SmtpAccount.objects.get()
    assert raw_password(account.pk).startswith("enc1:") and "s3cret" not in raw_password(account.pk)
    [change] = ObjectChange.objects.filter(object_type="smtp_account")
    assert "s3cret" not in str(change.changes)

    mine = send(rep_a, commit)
    theirs = send(rep_b, commit)
    assert OutgoingEmail.objects.get(pk=mine.pk).status == EmailStatus.SENT
    assert OutgoingEmail.objects.get(pk=theirs.pk).status == EmailStatus.SENT
    [through_mine] = own_server.messages
    assert through_mine.mail_from == "rep.a@annsales.com" and b"From: rep.a@annsales.com" in through_mine.content
    assert own_server.auth.logins == [("PLAIN", True)]
    [through_org] = smtp_server.messages
    assert through_org.mail_from == rep_b.email

    # A changed host keeps the stored password when none is given; removing goes back to the organization's.
    r = put(api, rep_a, {**data, "password": ""})
    assert r.status_code == 200 and SmtpAccount.objects.get().password == "s3cret!"
    assert api(rep_a).delete("/mail-settings/smtp").status_code == 204
    assert api(rep_a).get("/mail-settings/smtp").json()["configured"] is False
    send(rep_a, commit)
    assert len(smtp_server.messages) == 2 and len(own_server.messages) == 1


def test_with_my_own_server_my_mail_is_sent_even_without_an_organization_server(api, rep_a, commit, own_server):
    data = {"host": "127.0.0.1", "port": own_server.port, "security": "none", "username": "rep", "password": "s3cret!"}
    assert put(api, rep_a, data).status_code == 200
    email = send(rep_a, commit)
    assert OutgoingEmail.objects.get(pk=email.pk).status == EmailStatus.SENT and len(own_server.messages) == 1


def test_a_wrong_password_fails_the_message_with_the_servers_reply_and_never_uses_another_server(
    api, rep_a, commit, smtp_server, own_server
):
    data = {"host": "127.0.0.1", "port": own_server.port, "security": "none", "username": "rep", "password": "nope"}
    assert put(api, rep_a, data).status_code == 200
    email = OutgoingEmail.objects.get(pk=send(rep_a, commit).pk)
    assert email.status == EmailStatus.FAILED and "535" in email.last_error, (email.status, email.last_error)
    assert not smtp_server.messages and not own_server.messages


def test_a_password_under_a_missing_key_fails_clearly(api, rep_a, commit, smtp_server, own_server, settings):
    settings.ENCRYPTION_KEYS = [crypto.new_key()]
    data = {"host": "127.0.0.1", "port": own_server.port, "security": "none", "username": "rep", "password": "s3cret!"}
    assert put(api, rep_a, data).status_code == 200
    settings.ENCRYPTION_KEYS = [crypto.new_key()]  # the key that sealed it is gone
    email = OutgoingEmail.objects.get(pk=send(rep_a, commit).pk)
    assert email.status == EmailStatus.FAILED and "cannot be read" in email.last_error
    assert not smtp_server.messages  # not sent through the organization's server instead
    assert api(rep_a).get("/mail-settings/smtp").json()["has_password"] is True  # the read needs no key


def test_bad_settings_are_refused(api, rep_a, settings):
    settings.MAILBOX_ALLOW_PRIVATE = False
    cases = [
        ({"host": "127.0.0.1"}, "host"),  # loopback: the SSRF guard
        ({"host": "localhost"}, "host"),
        ({"host": "bad host!"}, "host"),
        ({"host": "smtp.example.com", "port": 0}, "port"),
        ({"host": "smtp.example.com", "security": "ssl3"}, "security"),
        ({"host": "smtp.example.com", "username": "rep"}, "password"),  # a user name without a password
    ]
    for data, field in cases:
        r = put(api, rep_a, data)
        assert r.status_code == 422 and field in r.text, (data, r.content)
    rep_a.email = ""
    rep_a.save()
    r = put(api, rep_a, {"host": "smtp.example.com"})
    assert r.status_code == 422 and "no email address" in r.text
    assert api(rep_a).delete("/mail-settings/smtp").status_code == 404
    assert not SmtpAccount.objects.exists()


def test_a_server_without_sign_in_can_be_changed_again(api, rep_a, settings):
    settings.MAILBOX_ALLOW_PRIVATE = False
    assert put(api, rep_a, {"host": "smtp.example.com", "port": 25, "security": "none"}).status_code == 200
    r = put(api, rep_a, {"host": "relay.example.com", "port": 25, "security": "none"})  # no password stored or given
    assert r.status_code == 200 and r.json()["host"] == "relay.example.com" and r.json()["has_password"] is False
