"""Open and click tracking of sent mail, through a real SMTP server (aiosmtpd): the user's setting,
the rewritten HTML as received, the endpoints without login (pixel per hit, altered signature and open
redirect attempts are 404s), the counts on the message and the entries on the record's timeline."""

import re
from email import message_from_bytes
from urllib.parse import urlsplit

import pytest
from django.core import signing
from django.test import Client

from crm.mail import outbox, tracking
from crm.mail.models import EngagementEvent, OutgoingEmail, Tracking
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

BODY = (
    '<p>See <a href="https://example.com/offer?x=1&amp;y=2">the offer</a>, '
    '<a href="mailto:ann@example.com">write</a> or <a href="http://example.org/">our site</a>.</p>'
)


def send(commit, actor, **kw):
    with commit():
        email = outbox.queue_email(actor=actor, to=["ann@example.com"], subject="Offer", body_html=BODY, **kw)
    email.refresh_from_db()
    assert email.status == "sent", email.last_error
    return email


def html_of(received) -> str:
    parsed = message_from_bytes(received.content)
    for part in parsed.walk():
        if part.get_content_type() == "text/html":
            return part.get_payload(decode=True).decode()
    raise AssertionError("no HTML part")


def path_of(url: str) -> str:
    return urlsplit(url.replace("&amp;", "&")).path


def test_tracking_is_off_by_default(commit, smtp_server, rep_a):
    email = send(commit, rep_a)
    assert email.tracking == Tracking.OFF and email.track_token == ""
    html = html_of(smtp_server.messages[0])
    assert "/mail/t/" not in html and 'href="https://example.com/offer?x=1&amp;y=2"' in html


def test_clicks_rewrite_http_links_and_add_the_pixel(commit, smtp_server, rep_a, settings, api):
    settings.CRM_BASE_URL = "https://crm.example.net/"
    assert api(rep_a)._call("patch", "/mail-settings", {"tracking": "clicks"}).json() == {"tracking": "clicks"}
    email = send(commit, rep_a)
    assert email.tracking == Tracking.CLICKS and len(email.track_token) >= 40
    assert "/mail/t/" not in email.body_html  # the outbox keeps what was written
    html = html_of(smtp_server.messages[0])
    links = re.findall(r'href="([^"]+)"', html)
    assert links[1] == "mailto:ann@example.com"  # only http/https links are tracked
    assert all(u.startswith("https://crm.example.net/mail/t/c/") for u in (links[0], links[2]))
    [pixel] = re.findall(r'<img src="([^"]+)"', html)
    assert pixel == f"https://crm.example.net/mail/t/o/{email.track_token}.gif"

    reader = Client()  # not signed in
    first = reader.get(path_of(links[0]), HTTP_USER_AGENT="Reader/1.0")
    assert first.status_code == 302 and first["Location"] == "https://example.com/offer?x=1&y=2"
    assert first["Referrer-Policy"] == "no-referrer"
    assert reader.get(path_of(links[2])).status_code == 302
    for _ in range(3):
        r = reader.get(path_of(pixel))
        assert r.status_code == 200 and r["Content-Type"] == "image/gif" and r.content == tracking.PIXEL
        assert "no-store" in r["Cache-Control"]
    assert EngagementEvent.objects.filter(email=email, kind="open").count() == 3  # one per hit
    click = EngagementEvent.objects.filter(email=email, kind="click").order_by("id").first()
    assert click.url == "https://example.com/offer?x=1&y=2" and click.user_agent == "Reader/1.0"
    assert click.ip == "127.0.0.1"

    out = api(rep_a).get(f"/emails/{email.pk}").json()
    assert (out["tracking"], out["opens"], out["clicks"]) == ("clicks", 3, 2)


def test_the_timeline_shows_opens_clicks_and_counts(commit, smtp_server, rep_a, rep_b, web):
    tracking.set_preference(actor=rep_a, tracking="clicks")
    ann = ContactFactory(email="ann@example.com", owner=rep_a)
    email = send(commit, rep_a)
    Client().get(f"/mail/t/o/{email.track_token}.gif")
    Client().get(path_of(tracking.click_url(email, "https://example.com/offer")))
    page = web(rep_a).get(f"/contacts/{ann.pk}/").content.decode()
    assert 'data-engagement="open"' in page and 'data-engagement="click"' in page
    assert 'data-opens="1"' in page and 'data-clicks="1"' in page
    assert "Apple Mail" in page  # the honest note
    only_mail = web(rep_a).get(f"/contacts/{ann.pk}/", {"show": "email"}).content.decode()
    assert 'data-engagement="click"' in only_mail
    # Someone who cannot see the contact sees neither the record nor its engagement.
    assert web(rep_b).get(f"/contacts/{ann.pk}/").status_code == 404


def test_an_altered_link_or_a_foreign_target_is_a_404(commit, smtp_server, rep_a):
    tracking.set_preference(actor=rep_a, tracking="clicks")
    email = send(commit, rep_a)
    good = path_of(tracking.click_url(email, "https://example.com/offer"))
    value = good.split("/")[-2]
    reader = Client()
    # Altered signature, altered payload, garbage, an unsigned target named in the URL.
    assert reader.get(good.replace(value, value[:-2] + ("AA" if value[-2:] != "AA" else "BB"))).status_code == 404
    head, _, sig = value.rpartition(":")
    assert reader.get(good.replace(value, "x" + head + ":" + sig)).status_code == 404
    assert reader.get("/mail/t/c/not-a-value/").status_code == 404
    assert reader.get("/mail/t/c/?url=https://evil.example/").status_code == 404
    # Signed by us (the secret key) but not http/https, or for a token no message has: still 404.
    for target in ("javascript:alert(1)", "//evil.example/", "data:text/html,x", "ftp://example.com/"):
        forged = signing.dumps({"t": email.track_token, "u": target}, salt=tracking.SALT, compress=True)
        assert reader.get(f"/mail/t/c/{forged}/").status_code == 404
    stranger = signing.dumps({"t": "nobody", "u": "https://evil.example/"}, salt=tracking.SALT, compress=True)
    assert reader.get(f"/mail/t/c/{stranger}/").status_code == 404
    # Signed with another salt (another feature's token): 404.
    other = signing.dumps({"t": email.track_token, "u": "https://evil.example/"}, salt="crm.quotes.acceptance")
    assert reader.get(f"/mail/t/c/{other}/").status_code == 404
    assert not EngagementEvent.objects.filter(kind="click").exists()


def test_a_wrong_pixel_token_gets_the_same_gif_and_records_nothing(commit, smtp_server, rep_a):
    tracking.set_preference(actor=rep_a, tracking="opens")
    email = send(commit, rep_a)
    r = Client().get("/mail/t/o/" + "A" * 43 + ".gif")
    assert r.status_code == 200 and r.content == tracking.PIXEL
    assert not EngagementEvent.objects.exists()
    # Opens only: the links are left alone, the pixel is there.
    html = html_of(smtp_server.messages[0])
    assert "/mail/t/c/" not in html and f"/mail/t/o/{email.track_token}.gif" in html


def test_the_setting_page_and_bad_values(rep_a, web, api):
    client = web(rep_a)
    page = client.get("/mail/tracking/")
    assert page.status_code == 200 and b"Apple Mail Privacy" in page.content
    assert client.post("/mail/tracking/", {"tracking": "everything"}).status_code == 422
    assert client.post("/mail/tracking/", {"tracking": "opens"}).status_code == 302
    assert tracking.preference(rep_a) == "opens"
    assert "Tracking: Opens (" in client.get("/mail/compose/").content.decode()  # said where mail is written
    assert api(rep_a).get("/mail-settings").json() == {"tracking": "opens"}
    assert api(rep_a)._call("patch", "/mail-settings", {"tracking": "all"}).status_code == 422
    # A notification to a user is never tracked, whatever anyone's setting.
    note = outbox.queue_email(actor=None, to=["ann@example.com"], subject="Notice")
    assert OutgoingEmail.objects.get(pk=note.pk).tracking == Tracking.OFF
