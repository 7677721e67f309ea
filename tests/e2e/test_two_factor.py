"""Two-factor sign-in in a real browser: set up from the user menu (the QR code renders from its data:
URI, the secret is readable), then sign in with the password and a recovery code."""

import base64

import pytest
from django_otp.oath import TOTP
from playwright.sync_api import expect

from crm.access.models import RecoveryCode
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_set_up_then_sign_in_with_a_recovery_code(open_page):
    user = UserFactory(username="riley", first_name="Riley", role="sales-rep")
    page = open_page(user)
    page.goto("/")
    page.locator("summary").filter(has_text="Riley").click()
    page.get_by_role("link", name="Two-factor sign-in").click()
    expect(page).to_have_url("/account/two-factor/")
    qr = page.get_by_role("img", name="QR code for your authenticator app")
    expect(qr).to_be_visible()
    assert qr.evaluate("img => img.complete && img.naturalWidth > 0")  # the SVG data: URI rendered

    secret = page.locator("#two-factor-secret").inner_text().replace(" ", "")
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    page.get_by_label("Code from the app").fill(f"{TOTP(key).token():06d}")
    page.get_by_role("button", name="Turn on").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Two-factor sign-in is on.")
    codes = page.locator(".recovery-codes code").all_inner_texts()
    assert len(codes) == 10 and RecoveryCode.objects.filter(user=user).count() == 10

    page.get_by_role("link", name="Done").click()
    page.locator("summary").filter(has_text="Riley").click()
    page.get_by_role("button", name="Log out").click()
    page.goto("/")
    page.get_by_label("Username").fill("riley")
    page.get_by_label("Password").fill("pw")
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url("/login/code/")
    page.get_by_label("Code").fill(codes[0])
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Riley")
    assert page.errors == []
