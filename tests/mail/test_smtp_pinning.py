"""A user's own SMTP server is connected to at the address the SSRF guard checked (crm/mail/pinned.py):
a name that resolves to a loopback address is refused, a second DNS answer (rebinding) is never asked,
and TLS still verifies the certificate against the name. Real aiosmtpd servers on loopback; only the
resolver's answers for the test names are supplied by the test (there is no DNS server to rebind)."""

import datetime as dt
import socket
import ssl

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from crm.mail import outbox
from crm.mail.models import EmailStatus, OutgoingEmail
from tests.mail.conftest import Mailbox, PortZeroController

pytestmark = pytest.mark.django_db
NAME = "mail.pinned.test"


@pytest.fixture
def dns(monkeypatch):
    """Answers for NAME, in turn (the last one repeats); every other name goes to the real resolver."""
    real, asked = socket.getaddrinfo, []
    answers: list[str] = []

    def getaddrinfo(host, port, *args, **kwargs):
        if host != NAME or kwargs.get("flags", 0) & socket.AI_NUMERICHOST:  # a spelling check asks no DNS
            return real(host, port, *args, **kwargs)
        ip = answers[min(len(asked), len(answers) - 1)]
        asked.append(ip)
        return real(ip, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    getaddrinfo.answers, getaddrinfo.asked = answers, asked
    return getaddrinfo


@pytest.fixture
def server():
    received = Mailbox()
    controller = PortZeroController(received, hostname="127.0.0.1", port=0)
    controller.start()
    received.port = controller.port
    yield received
    controller.stop()


def own_server(api, user, port, security="none"):
    user.email = "rep.a@annsales.com"
    user.save()
    r = api(user)._call("put", "/mail-settings/smtp", {"host": NAME, "port": port, "security": security})
    assert r.status_code == 200, r.content


def send(actor, commit) -> OutgoingEmail:
    with commit():
        email = outbox.queue_email(actor=actor, to=["carl@clientco.com"], subject="Hello", body_html="<p>Hi</p>")
    return OutgoingEmail.objects.get(pk=email.pk)


def test_a_name_that_resolves_to_loopback_is_refused_before_connecting(api, rep_a, commit, dns, server, settings):
    settings.MAILBOX_ALLOW_PRIVATE = False
    dns.answers.append("127.0.0.1")  # saving asks no DNS; the send resolves it
    own_server(api, rep_a, server.port)
    email = send(rep_a, commit)
    assert email.status == EmailStatus.FAILED
    assert "127.0.0.1" in email.last_error and "loopback" in email.last_error
    assert server.messages == []


def test_the_connection_goes_to_the_address_checked_not_to_a_second_answer(api, rep_a, commit, dns, server, settings):
    settings.MAILBOX_ALLOW_PRIVATE = True  # the test server is on loopback
    dns.answers.extend(["127.0.0.1", "127.0.0.2"])  # a second lookup would get an address nobody listens on
    own_server(api, rep_a, server.port)
    email = send(rep_a, commit)
    assert email.status == EmailStatus.SENT, email.last_error
    assert len(server.messages) == 1 and dns.asked == ["127.0.0.1"]  # resolved once, by the check


def _certificate(tmp_path):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, NAME)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(NAME)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_file, key_file


@pytest.fixture
def tls_server(tmp_path, monkeypatch):
    """STARTTLS required, with a certificate for NAME that the client trusts (SSL_CERT_FILE)."""
    cert_file, key_file = _certificate(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert_file))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    received = Mailbox()
    controller = PortZeroController(received, hostname="127.0.0.1", port=0, tls_context=context, require_starttls=True)
    controller.start()
    received.port = controller.port
    yield received
    controller.stop()


def test_starttls_verifies_the_certificate_against_the_name_while_connected_to_the_address(
    api, rep_a, commit, dns, tls_server, settings
):
    settings.MAILBOX_ALLOW_PRIVATE = True
    dns.answers.append("127.0.0.1")
    own_server(api, rep_a, tls_server.port, security="starttls")
    email = send(rep_a, commit)
    assert email.status == EmailStatus.SENT, email.last_error
    assert len(tls_server.messages) == 1


def test_a_certificate_for_another_name_is_refused(api, rep_a, commit, dns, tls_server, settings):
    settings.MAILBOX_ALLOW_PRIVATE = True
    dns.answers.append("127.0.0.1")
    own_server(api, rep_a, tls_server.port, security="starttls")
    from crm.mail.models import SmtpAccount

    SmtpAccount.objects.update(host="127.0.0.1")  # the address itself: the certificate names NAME, not it
    with commit():
        email = outbox.queue_email(actor=rep_a, to=["carl@clientco.com"], subject="Hello", body_html="<p>Hi</p>")
    email = OutgoingEmail.objects.get(pk=email.pk)
    assert email.status != EmailStatus.SENT and "certificate" in email.last_error.lower()
    assert tls_server.messages == []
