"""Email tracking in a real browser: a rep turns tracking on, a reader's client loads the pixel and
follows a tracked link, and the contact's page shows the opens and clicks on its timeline, the counts
with the note on image proxies, and the bounce notice; no CSP refusal on the way."""

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from crm.mail import timeline, tracking
from crm.mail.models import BouncedAddress, OutgoingEmail, Tracking
from tests.e2e.conftest import shot
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_tracking_setting_opens_clicks_and_bounce_on_the_record_page(open_page, rep, live_server, settings):
    settings.CRM_BASE_URL = live_server.url
    page = open_page(rep)
    page.goto("/mail/tracking/")
    expect(page.get_by_label("Off", exact=True)).to_be_checked()  # the default
    page.get_by_label("Opens and clicks", exact=True).check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Your tracking setting is saved")).to_be_visible()
    assert tracking.preference(rep) == Tracking.CLICKS

    ann = ContactFactory(first_name="Ann", email="ann@example.com", owner=rep)
    email = OutgoingEmail.objects.create(
        sender=rep,
        from_email="riley@example.com",
        to=[ann.email],
        subject="Our offer",
        body_html=f'<p>Hi, see <a href="{live_server.url}/healthz/ping">our page</a></p>',
        status="sent",
        sent_at=timezone.now(),
        message_id="<offer@example.com>",
        tracking=Tracking.CLICKS,
        track_token=tracking.new_token(),
    )
    timeline.record_sent(email)
    # The reader's mail client shows the HTML as sent (the pixel loads), and the reader follows the link.
    reader = open_page(None)
    with reader.expect_response(lambda r: "/mail/t/o/" in r.url) as pixel:
        reader.set_content(tracking.tracked_html(email))
    assert pixel.value.status == 200
    reader.get_by_role("link", name="our page").click()
    reader.wait_for_url(f"{live_server.url}/healthz/ping")
    BouncedAddress.objects.create(email="ann@example.com", status="5.1.1", diagnostic="550 5.1.1 User unknown")

    page.goto(f"/contacts/{ann.pk}/")
    expect(page.locator("[data-bounces]")).to_contain_text("ann@example.com is bouncing")
    expect(page.locator('[data-engagement="open"]')).to_contain_text("Our offer")
    expect(page.locator('[data-engagement="click"]')).to_contain_text("/healthz/ping")
    facts = page.locator("[data-mail-facts]")
    expect(facts).to_contain_text("Opened 1×")
    expect(facts).to_contain_text("clicked 1×")
    expect(facts).to_contain_text("Apple Mail")
    shot(page, "mail-tracking-contact")
    assert page.errors == []
