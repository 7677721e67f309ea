"""Passkeys in a real browser: Chromium's virtual authenticator (DevTools protocol: a CTAP2 platform
authenticator that keeps its credentials and verifies the user) answers navigator.credentials for
web/passkeys.js. Register from the Security page, sign out, sign in with the password then the passkey,
sign out, sign in with the passkey alone."""

import pytest
from playwright.sync_api import expect

from crm.access.models import Passkey
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture(autouse=True)
def _relying_party(settings, live_server):
    assert live_server.url.startswith("http://localhost:")  # an RP id must be a domain, not an IP
    settings.WEBAUTHN_RP_ID = "localhost"
    settings.WEBAUTHN_ORIGINS = [live_server.url]


def virtual_authenticator(page) -> tuple:
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    options = {
        "protocol": "ctap2",
        "transport": "internal",
        "hasResidentKey": True,
        "hasUserVerification": True,
        "isUserVerified": True,
        "automaticPresenceSimulation": True,
    }
    return cdp, cdp.send("WebAuthn.addVirtualAuthenticator", {"options": options})["authenticatorId"]


def log_out(page) -> None:
    page.locator("summary").filter(has_text="Riley").click()
    page.get_by_role("button", name="Log out").click()
    page.goto("/")
    expect(page).to_have_url("/login/?next=/")


def test_register_a_passkey_then_sign_in_with_it_after_the_password_and_without(open_page):
    user = UserFactory(username="riley", first_name="Riley", role="sales-rep")
    page = open_page(user)
    cdp, authenticator = virtual_authenticator(page)
    page.goto("/")
    page.locator("summary").filter(has_text="Riley").click()
    page.get_by_role("link", name="Security").click()
    expect(page.get_by_text("You have no passkey yet.")).to_be_visible()
    page.get_by_label("Passkey name", exact=True).fill("Work laptop")
    page.get_by_label("Your password", exact=True).fill("pw")
    page.get_by_role("button", name="Add a passkey").click()
    expect(page.get_by_text("Passkey “Work laptop” added.")).to_be_visible()
    expect(page.get_by_role("cell", name="Work laptop", exact=True)).to_be_visible()
    stored = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})["credentials"]
    assert len(stored) == 1 and stored[0]["isResidentCredential"]
    assert Passkey.objects.get(user=user).credential_key == stored[0]["credentialId"].rstrip("=").replace(
        "+", "-"
    ).replace("/", "_")

    log_out(page)
    page.get_by_label("Username", exact=True).fill("riley")
    page.get_by_label("Password", exact=True).fill("pw")
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url("/login/code/")
    page.get_by_role("button", name="Use a passkey").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Riley")
    first = Passkey.objects.get(user=user)
    assert first.sign_count >= 1 and first.last_used_at is not None

    log_out(page)
    page.get_by_role("button", name="Sign in with a passkey").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Riley")
    assert Passkey.objects.get(user=user).sign_count > first.sign_count  # the counter went up and was checked
    assert page.errors == []


def test_a_cancelled_or_missing_passkey_says_so_and_signs_nobody_in(open_page):
    UserFactory(username="riley", first_name="Riley", role="sales-rep")
    page = open_page(None)
    virtual_authenticator(page)  # an authenticator with no credential of this site
    page.goto("/login/")
    page.get_by_role("button", name="Sign in with a passkey").click()
    expect(page.get_by_role("alert")).to_have_text("No passkey was used.")
    expect(page).to_have_url("/login/")
