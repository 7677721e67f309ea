"""Each user's BCC/forwarding address (MAIL_BCC_ADDRESS with a token after "+"): mail the user sends from
another client with it in Bcc, or forwards to it, reaches a shared inbox (a real Dovecot, filled by
APPEND with what a mail server delivers: Delivered-To names the plus-address) and is filed on the
timelines of the people it is about as the user's; anyone else using the address files nothing."""

import datetime as dt
import logging
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import format_datetime

import pytest
from django.utils import timezone

from crm.mailbox import sync
from crm.mailbox.models import InboundMessage
from crm.records.models import Activity
from tests.factories import CompanyFactory, ContactFactory, DealFactory, LeadFactory, links_of
from tests.mailbox import messages as m
from tests.mailbox.conftest import USER
from tests.mailbox.test_sync import connect

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def bcc_inbox(settings):
    settings.MAIL_BCC_ADDRESS = USER  # the shared inbox the tests' Dovecot holds


@pytest.fixture
def people(rep_a):
    client = CompanyFactory(name="Client Ltd", owner=rep_a)
    carl = ContactFactory(first_name="Carl", email="carl@clientco.com", company=client, owner=rep_a)
    dora = LeadFactory(first_name="Dora", email="dora@clientco.com", owner=rep_a)
    deal = DealFactory(name="2027 renewal", owner=rep_a, company=client)
    deal.contacts.add(carl)
    return {"company": client, "carl": carl, "dora": dora, "deal": deal}


def delivered(raw: bytes, to: str) -> bytes:
    """As the receiving server stores it: the envelope recipient in Delivered-To (a Bcc is in no header)."""
    return f"Delivered-To: {to}\r\nX-Original-To: {to}\r\n".encode() + raw


def shared_inbox(dovecot, admin_user):
    return connect(dovecot, admin_user, name="CRM BCC", shared=True)


def my_address(api, user) -> str:
    out = api(user).get("/mail-settings/bcc-address").json()
    assert out["enabled"] is True
    return out["address"]


def test_mail_i_bcc_is_filed_as_mine_on_the_right_timelines(dovecot, fill, api, rep_a, rep_b, admin_user, people):
    address = my_address(api, rep_a)
    local, domain = USER.split("@")
    assert address.startswith(f"{local}+") and address.endswith(f"@{domain}")
    assert my_address(api, rep_a) == address  # stable until renewed
    hidden = ContactFactory(email="dave@otherco.com", owner=rep_b)  # rep_a may not see Dave
    now = timezone.now().replace(microsecond=0)
    sent = m.message(msgid="<bcc1@phone>", sender=rep_a.email, to=["carl@clientco.com"], subject="Pricing", when=now)
    secret = m.message(msgid="<bcc2@phone>", sender=rep_a.email, to=[hidden.email], subject="Hi Dave", when=now)
    fill([delivered(sent, address), delivered(secret, address)])
    box = shared_inbox(dovecot, admin_user)
    assert sync.sync_mailbox(box.pk)["imported"] == 1
    msg = InboundMessage.objects.get()
    activity = msg.activity
    assert activity.owner_id == rep_a.pk and activity.direction == "outbound" and activity.subject == "Pricing"
    assert links_of(activity) == {
        "contact": [people["carl"].pk],
        "company": [people["company"].pk],
        "deal": [people["deal"].pk],
    }
    assert not Activity.objects.filter(subject="Hi Dave").exists()  # matched with rep_a's eyes: not filed


def test_forwarded_mail_is_filed_on_the_forwarded_peoples_timelines(dovecot, fill, api, rep_a, admin_user, people):
    address = my_address(api, rep_a)
    now = timezone.now().replace(microsecond=0)
    inline = m.message(
        msgid="<fwd1@client>",
        sender=rep_a.email,
        to=[address],
        subject="Fwd: Re: contract",
        when=now,
        text="FYI\n\n---------- Forwarded message ---------\nFrom: Carl <carl@clientco.com>\n"
        f"Date: {format_datetime(now - dt.timedelta(days=1))}\nSubject: Re: contract\nTo: <{rep_a.email}>\n\nSigned.\n",
    )
    original = m.message(msgid="<orig@clientco.com>", sender="Dora <dora@clientco.com>", to=[rep_a.email],
                         subject="Question", when=now)  # fmt: skip
    wrapper = EmailMessage()  # "Forward as attachment": the original as a message/rfc822 part
    wrapper["From"], wrapper["To"], wrapper["Subject"] = rep_a.email, address, "Fwd: Question"
    wrapper["Date"], wrapper["Message-ID"] = format_datetime(now), "<fwd2@client>"
    wrapper.set_content("See attached.")
    wrapper.add_attachment(message_from_bytes(original, policy=policy.default))
    fill([delivered(inline, address), delivered(bytes(wrapper), address)])
    box = shared_inbox(dovecot, admin_user)
    assert sync.sync_mailbox(box.pk)["imported"] == 2
    by_subject = {a.subject: a for a in Activity.objects.filter(kind="email")}
    assert links_of(by_subject["Fwd: Re: contract"])["contact"] == [people["carl"].pk]
    assert links_of(by_subject["Fwd: Question"])["lead"] == [people["dora"].pk]
    assert all(a.owner_id == rep_a.pk for a in by_subject.values())


def test_others_using_my_address_and_retired_addresses_file_nothing(
    dovecot, fill, api, rep_a, admin_user, people, caplog
):
    old = my_address(api, rep_a)
    r = api(rep_a).post("/mail-settings/bcc-address")
    new = r.json()["address"]
    assert r.status_code == 200 and new != old
    now = timezone.now().replace(microsecond=0)
    spoof = m.message(msgid="<spoof@evil>", sender="eve@evil.example", to=["carl@clientco.com"], subject="Spoof",
                      when=now)  # fmt: skip
    stale = m.message(msgid="<stale@phone>", sender=rep_a.email, to=["carl@clientco.com"], subject="Stale", when=now)
    fill([delivered(spoof, new), delivered(stale, old)])
    box = shared_inbox(dovecot, admin_user)
    with caplog.at_level(logging.INFO, logger="crm.mailbox"):
        assert sync.sync_mailbox(box.pk)["imported"] == 0
    assert "sent to a user's BCC address by eve@evil.example" in caplog.text
    assert not InboundMessage.objects.exists()


def test_without_mail_bcc_address_there_is_no_address(api, rep_a, settings):
    settings.MAIL_BCC_ADDRESS = ""
    assert api(rep_a).get("/mail-settings/bcc-address").json() == {"address": "", "enabled": False}
