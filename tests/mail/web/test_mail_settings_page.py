"""Settings → Mail (/mail/settings/): the user's own outgoing server (password write-only, "Test
connection" against a real aiosmtpd requiring AUTH, the SSRF guard as a form error), and the BCC
address with "Retire and make a new one". Always the signed-in user's own."""

import re

import pytest

from crm.mail.models import SmtpAccount
from crm.mailbox.models import MailDropAddress
from tests.mail.test_smtp_accounts import own_server  # noqa: F401 - the fixture

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS"),
]
URL = "/mail/settings/"


def save(client, port, **extra):
    data = {"action": "save", "host": "127.0.0.1", "port": str(port), "security": "none", "username": "rep"}
    return client.post(URL, {**data, **extra})


def test_save_test_and_remove_my_server_the_password_never_shown(web, rep_a, own_server):  # noqa: F811
    client = web(rep_a)
    page = client.get(URL)
    assert page.status_code == 200 and b"organization's server" in page.content
    r = save(client, own_server.port, password="s3cret!")
    assert r.status_code == 302, r.content.decode()[:2000]
    account = SmtpAccount.objects.get(user=rep_a)
    assert (account.host, account.port, account.security) == ("127.0.0.1", own_server.port, "none")
    assert account.username == "rep"
    page = client.get(URL).content.decode()
    assert "s3cret" not in page and "stored; leave empty to keep it" in page and 'value="rep"' in page

    r = client.post(URL, {"action": "test"}, follow=True)
    assert r.status_code == 200 and "Connected to 127.0.0.1" in r.content.decode()
    assert own_server.auth.logins == [("PLAIN", True)] and not own_server.messages  # signed in, sent nothing

    # A changed setting without a password keeps the stored one.
    assert save(client, own_server.port, username="rep", password="").status_code == 302
    assert SmtpAccount.objects.get(user=rep_a).password == "s3cret!"

    assert client.post(URL, {"action": "remove"}).status_code == 302
    assert not SmtpAccount.objects.filter(user=rep_a).exists()


def test_a_refused_password_is_a_clear_error_on_the_page(web, rep_a, own_server):  # noqa: F811
    client = web(rep_a)
    assert save(client, own_server.port, password="wrong").status_code == 302
    r = client.post(URL, {"action": "test"})
    assert r.status_code == 422
    assert re.search(r"data-connection-error>The server refused the user name or password: 535", r.content.decode())


def test_a_server_nobody_listens_on_is_a_clear_error(web, rep_a, settings):
    settings.MAILBOX_ALLOW_PRIVATE = True
    client = web(rep_a)
    assert save(client, 1, password="x").status_code == 302  # port 1 on loopback: nothing there
    r = client.post(URL, {"action": "test"})
    assert r.status_code == 422 and "Could not talk to the server: ConnectionRefusedError" in r.content.decode()


def test_bad_input_and_the_ssrf_guard_are_form_errors_and_nothing_is_saved(web, rep_a, settings):
    settings.MAILBOX_ALLOW_PRIVATE = False
    client = web(rep_a)
    r = save(client, 2525, password="x")
    assert r.status_code == 422
    body = r.content.decode()
    assert "has-error" in body and "MAILBOX_ALLOW_PRIVATE=true" in body and 'value="127.0.0.1"' in body
    assert save(client, "not-a-port", password="x").status_code == 422
    assert "A port between 1 and 65535." in save(client, 70000, password="x").content.decode()
    r = client.post(URL, {"action": "save", "host": "bad host!", "port": "25", "security": "none"})
    assert r.status_code == 422 and "A host name or IP address" in r.content.decode()
    r = client.post(URL, {"action": "save", "host": "smtp.example.com", "port": "25", "security": "rot13"})
    assert r.status_code == 422 and "One of starttls, tls, none." in r.content.decode()
    assert client.post(URL, {"action": "test"}).status_code == 422  # nothing saved: nothing to test
    assert client.post(URL, {"action": "nonsense"}).status_code == 422
    assert not SmtpAccount.objects.exists()


def test_another_users_server_is_unreachable(web, rep_a, rep_b, settings):
    settings.MAILBOX_ALLOW_PRIVATE = True
    assert save(web(rep_a), 2525, password="s3cret!").status_code == 302
    other = web(rep_b)
    page = other.get(URL).content.decode()
    assert "127.0.0.1" not in page and "2525" not in page
    other.post(URL, {"action": "remove"})
    other.post(URL, {"action": "test"})
    assert SmtpAccount.objects.filter(user=rep_a).exists() and not SmtpAccount.objects.filter(user=rep_b).exists()
    assert web(None).get(URL).status_code == 302  # signed out: the login page


def test_bcc_address_shown_with_copy_and_retired_for_a_new_one(web, rep_a, settings):
    settings.MAIL_BCC_ADDRESS = "crm-bcc@example.com"
    client = web(rep_a)
    page = client.get(URL).content.decode()
    old = re.search(r'id="bcc-address" type="text" readonly value="(crm-bcc\+[0-9a-f]{16}@example\.com)"', page)
    old = old.group(1)
    assert 'data-copy="#bcc-address"' in page and "/static/web/copy.js" in page and "<script>" not in page
    r = client.post(URL, {"action": "new_bcc"}, follow=True)
    new = "crm-bcc+" + MailDropAddress.objects.get(user=rep_a).token + "@example.com"
    assert new != old and new in r.content.decode() and old not in r.content.decode()


def test_without_a_bcc_setup_the_page_says_so_and_makes_nothing(web, rep_a, settings):
    settings.MAIL_BCC_ADDRESS = ""
    client = web(rep_a)
    assert "No BCC address is set up" in client.get(URL).content.decode()
    assert client.post(URL, {"action": "new_bcc"}).status_code == 422
    assert not MailDropAddress.objects.exists()
