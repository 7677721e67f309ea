"""The mail pages in a real browser (Chromium): a meeting's details, an attendee picked by completion,
the invitation reaching a real SMTP server (aiosmtpd), an attendee's answer from a calendar reply,
the cancellation; the Conversations section of a contact expanding a thread and replying; the copy
button of the BCC address. No CSP refusal on the way (the open_page fixture checks)."""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from crm.mail.models import MeetingInvitation
from crm.mailbox import sync
from crm.mailbox.models import InboundMessage, Mailbox
from tests.automation.conftest import IMMEDIATE
from tests.e2e.conftest import shot
from tests.factories import ContactFactory, UserFactory
from tests.mail.conftest import smtp_server  # noqa: F401 - the fixture
from tests.mail.test_invitations import invite_part, meeting
from tests.mailbox.calendar_messages import outlook_reply
from tests.mailbox.messages import ME, message

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_meeting_details_attendee_invitation_answer_and_cancel(open_page, rep, smtp_server, settings):  # noqa: F811
    settings.TASKS = IMMEDIATE  # the send runs as the request commits
    ann = ContactFactory(first_name="Ann", last_name="Lee", email="ann@clientco.com", owner=rep)
    UserFactory(username="bob", first_name="Bobby", last_name="Stone", email="bobby@annsales.com")
    m = meeting(rep, participant_ids=[ann.pk], occurred_at=timezone.now() + dt.timedelta(days=2))
    page = open_page(rep)
    page.goto(f"/mail/meetings/{m.pk}/")
    page.get_by_label("Location").fill("Room 4")
    page.get_by_label("Video link").fill("https://meet.example.com/abc")
    page.get_by_label("Time zone").fill("Europe/Paris")
    page.get_by_label("Add a contact or user").fill("Bobb")
    page.get_by_label("Bobby Stone <bobby@annsales.com> user").check()
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("The meeting's details are saved.")).to_be_visible()
    expect(page.get_by_label("Bobby Stone user")).to_be_checked()

    page.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_text("The invitation is queued to ann@clientco.com, bobby@annsales.com")).to_be_visible()
    [sent] = smtp_server.messages
    _, cal, ev = invite_part(sent.content)
    assert str(cal["method"]) == "REQUEST" and str(ev["location"]) == "Room 4"
    expect(page.locator('[data-attendee="ann@clientco.com"] [data-answer]')).to_have_text("No answer yet")

    box = Mailbox.objects.create(name="Inbox", owner=rep, host="imap.example.com", username=ME, password="x")
    raw = outlook_reply(uid=str(ev["uid"]), sender="ann@clientco.com", name="Ann Lee", partstat="DECLINED",
                        stamp=timezone.now(), msgid="<decline@clientco.com>")  # fmt: skip
    assert sync.store(box, "INBOX", 1, raw)
    page.reload()
    expect(page.locator('[data-attendee="ann@clientco.com"] [data-answer]')).to_have_text("Declined")
    shot(page, "meeting-page")

    page.get_by_role("button", name="Cancel meeting").click()
    expect(page.get_by_text("The cancellation is queued")).to_be_visible()
    assert MeetingInvitation.objects.filter(activity_id=m.pk).latest("sequence").method == "CANCEL"
    _, cancelled, _ = invite_part(smtp_server.messages[1].content)
    assert str(cancelled["method"]) == "CANCEL"
    assert page.errors == []


def test_conversations_expand_a_thread_and_reply(open_page, rep):
    carl = ContactFactory(first_name="Carl", last_name="Berg", email="carl@clientco.com", owner=rep)
    box = Mailbox.objects.create(name="Inbox", owner=rep, host="imap.example.com", username=ME, password="x")
    t0 = timezone.now() - dt.timedelta(days=2)
    first = message(msgid="<p1@x>", sender="Carl Berg <carl@clientco.com>", to=[ME], subject="Pricing",
                    when=t0, text="What are the prices?")  # fmt: skip
    reply = message(msgid="<p2@x>", sender="Carl Berg <carl@clientco.com>", to=[ME], subject="Re: Pricing",
                    when=t0 + dt.timedelta(hours=3), text=None, html="<p>And <b>delivery</b> times?</p>",
                    in_reply_to="<p1@x>", references="<p1@x>")  # fmt: skip
    assert sync.store(box, "INBOX", 1, first) and sync.store(box, "INBOX", 2, reply)
    thread = InboundMessage.objects.get(message_id="<p1@x>").thread_id

    page = open_page(rep)
    page.goto(f"/contacts/{carl.pk}/")
    row = page.locator(f'[data-thread="{thread}"]')
    expect(row).to_contain_text("Re: Pricing")
    expect(row.locator(".badge")).to_have_text("2")
    expect(row).to_contain_text("And delivery times?")
    row.locator("summary").click()
    messages = row.locator("[data-message]")
    expect(messages).to_have_count(2)
    expect(messages.nth(0)).to_contain_text("What are the prices?")
    expect(messages.nth(1).locator("b")).to_have_text("delivery")  # the sanitized HTML, rendered
    shot(page, "conversations")
    messages.nth(1).get_by_role("link", name="Reply").click()
    expect(page.locator('input[name="to"]')).to_have_value("carl@clientco.com")
    expect(page.locator('input[name="subject"]')).to_have_value("Re: Pricing")
    assert page.errors == []


def test_bcc_address_copy_button(open_page, rep, settings):
    settings.MAIL_BCC_ADDRESS = "crm-bcc@example.com"
    page = open_page(rep)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.goto("/mail/settings/")
    address = page.get_by_label("Your BCC address").input_value()
    assert address.startswith("crm-bcc+") and address.endswith("@example.com")
    page.get_by_role("button", name="Copy").click()
    expect(page.get_by_text("Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == address
    page.get_by_role("button", name="Retire and make a new one").click()
    expect(page.get_by_text("Your new BCC address is")).to_be_visible()
    assert page.get_by_label("Your BCC address").input_value() != address
    assert page.errors == []
