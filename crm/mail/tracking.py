"""Open and click tracking of mail sent from the CRM, by the sender's choice (off, opens, clicks).

**Default: off.** Tracking pixels and rewritten links are personal-data processing that many
organizations must ask consent for (ePrivacy), so a user turns it on for their own mail; the choice
is copied onto each message when it is queued, so changing it later does not change what was sent.

- **Opens**: each tracked message has its own unguessable token (``secrets``, 256 bits); the sent
  HTML ends with a 1×1 GIF at ``/mail/t/o/<token>.gif``. Every hit is an ``open`` event. Mail clients
  that proxy images (Gmail, Apple Mail Privacy Protection) fetch it without anyone reading: opens are
  an upper bound, and the pages say so.
- **Clicks** (includes opens): every http/https link of the HTML body is rewritten at send time to
  ``/mail/t/c/<signed>/``, where ``signed`` is ``django.core.signing`` of (token, target). The target
  is read from the signed value only: an altered signature or target, a token no message has, or a
  target that is not http/https is a 404, so the endpoint is never an open redirect.

Neither endpoint needs a login or says anything about the message: the pixel is the same GIF for any
token, and a click only redirects to the target the message already held. Events per message are
capped (MAX_EVENTS) so a script hitting a pixel cannot fill the database.
"""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

import nh3
from django.conf import settings
from django.core import signing
from django.db import transaction
from django.urls import reverse
from django.utils.html import escape

from crm.audit import configwrites
from crm.core.errors import NotFound, ValidationFailed
from crm.mail.models import EngagementEvent, EngagementKind, MailPreference, OutgoingEmail, Tracking
from crm.mail.sanitize import LINK_REL

SALT = "crm.mail.click"
MAX_EVENTS = 1000  # per message and kind
MAX_URL = 2000
PROXY_NOTE = (
    "Opens are approximate: mail clients that load images through a proxy (Gmail, Apple Mail Privacy "
    "Protection) count as an open without anyone reading, and clients that block images never count."
)
# A transparent 1×1 GIF.
PIXEL = bytes.fromhex("47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b")


# --- the preference ------------------------------------------------------------------------------


def preference(user) -> str:
    if user is None or not getattr(user, "pk", None):
        return Tracking.OFF
    row = MailPreference.objects.filter(user_id=user.pk).first()
    return row.tracking if row else Tracking.OFF


@transaction.atomic
def set_preference(*, actor, tracking: str) -> MailPreference:
    """A user's own choice (nobody sets another's); logged like every settings write."""
    if tracking not in Tracking.values:
        raise ValidationFailed({"tracking": f"One of {', '.join(Tracking.values)}."})
    row = MailPreference.objects.filter(user_id=actor.pk).first()
    if row is None:
        return configwrites.create(MailPreference(user=actor, tracking=tracking), actor=actor)
    return configwrites.update(row, actor=actor, data={"tracking": tracking}, fields=("tracking",))


def new_token() -> str:
    return secrets.token_urlsafe(32)


# --- the sent HTML -------------------------------------------------------------------------------


def _absolute(path: str) -> str:
    return settings.CRM_BASE_URL.rstrip("/") + path


def is_web_url(url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname) and len(url) <= MAX_URL


def pixel_url(email: OutgoingEmail) -> str:
    return _absolute(reverse("mail:track-open", args=[email.track_token]))


def click_url(email: OutgoingEmail, target: str) -> str:
    value = signing.dumps({"t": email.track_token, "u": target}, salt=SALT, compress=True)
    return _absolute(reverse("mail:track-click", args=[value]))


def tracked_html(email: OutgoingEmail) -> str:
    """The HTML to send: the stored body, with its links rewritten (clicks) and the pixel (opens)."""
    html = email.body_html
    if not html or email.tracking == Tracking.OFF or not email.track_token:
        return html
    if email.tracking == Tracking.CLICKS:

        def rewrite(tag: str, attribute: str, value: str) -> str:
            if tag == "a" and attribute == "href" and is_web_url(value):
                return click_url(email, value)
            return value

        # The body was sanitized when queued; cleaning again only rewrites the links.
        html = nh3.clean(html, link_rel=LINK_REL, attribute_filter=rewrite)
    src = escape(pixel_url(email))
    return f'{html}<img src="{src}" width="1" height="1" alt="" style="border:0;width:1px;height:1px">'


# --- the endpoints' work -------------------------------------------------------------------------


def _record(email_id: int, kind: str, *, url: str = "", ip: str | None = None, user_agent: str = "") -> bool:
    if EngagementEvent.objects.filter(email_id=email_id, kind=kind).count() >= MAX_EVENTS:
        return False
    EngagementEvent.objects.create(email_id=email_id, kind=kind, url=url, ip=ip, user_agent=user_agent[:500])
    return True


def _tracked(token: str):
    if not token:
        return None
    return OutgoingEmail.objects.exclude(tracking=Tracking.OFF).filter(track_token=token).values("pk").first()


def record_open(token: str, *, ip: str | None, user_agent: str) -> bool:
    """One ``open`` event for the message with this token; False (nothing written) for any other."""
    found = _tracked(token)
    return found is not None and _record(found["pk"], EngagementKind.OPEN, ip=ip, user_agent=user_agent)


def resolve_click(value: str) -> tuple[int, str]:
    """(message id, target) of a signed click value; NotFound for anything altered or not ours."""
    try:
        data = signing.loads(value, salt=SALT)
        token, target = str(data["t"]), str(data["u"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise NotFound("No such link.") from None
    found = _tracked(token)
    if found is None or not is_web_url(target):
        raise NotFound("No such link.")
    return found["pk"], target


def record_click(value: str, *, ip: str | None, user_agent: str) -> str:
    """The target of a signed click value, after recording the click; NotFound otherwise."""
    email_id, target = resolve_click(value)
    _record(email_id, EngagementKind.CLICK, url=target, ip=ip, user_agent=user_agent)
    return target


def counts(email_ids) -> dict[int, dict[str, int]]:
    """{email id: {"open": n, "click": m}} for the given messages."""
    from django.db.models import Count

    out: dict[int, dict[str, int]] = {}
    rows = (
        EngagementEvent.objects.filter(email_id__in=list(email_ids))
        .values("email_id", "kind")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in rows:
        out.setdefault(row["email_id"], {"open": 0, "click": 0})[row["kind"]] = row["n"]
    return out
