"""API rate limits (OWASP ASVS 2.4.1, anti-automation): fixed-window counters in Django's cache.

Buckets, each with its own limit from settings (read on every request, so ``override_settings`` and a
changed environment both apply without a restart of this module):

- ``ip``: every API request of one client IP, before anything else runs (unknown paths and bad tokens
  too), so no kind of flood gets past it (``API_RATE_LIMIT_IP``);
- ``token``: each API token on its own, by the token's row id, not its user: two integrations of one
  user do not starve each other, and a leaked token's abuse stays inside its own bucket. Tokens are
  issued by admins only, so a user cannot mint tokens to multiply a limit (``API_RATE_LIMIT``);
- ``user``: a signed-in browser's session calls, by user (``API_RATE_LIMIT``);
- ``anon``: per client IP, calls that do not sign in: the public endpoints and failed sign-ins (401),
  which turn into 429 once the IP has had its share (``API_RATE_LIMIT_ANON``);
- ``heavy``: exports, search, imports, bulk saves, duplicate scans and merges, on top of the above,
  per token / user / IP (``API_RATE_LIMIT_HEAVY``).

A fixed window (the count of the current minute, say) costs one counter per bucket; a client may send
up to twice the limit across a window boundary, which is fine for anti-automation and far cheaper than
a sliding log of every request's time. Over the limit: 429, ``Retry-After`` (whole seconds until the
window ends) and the error shape, code ``rate_limited``.
"""

from __future__ import annotations

import functools
import ipaddress
import logging
import math
import re
import threading
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.http import JsonResponse
from ninja.errors import Throttled
from ninja.throttling import BaseThrottle

from crm.api.errors import body
from crm.core.clientip import client_ip

log = logging.getLogger("crm.api")
KEY_PREFIX = "api-rate"
UNITS = {
    "s": 1, "sec": 1, "second": 1,
    "m": 60, "min": 60, "minute": 60,
    "h": 3600, "hour": 3600,
    "d": 86400, "day": 86400,
}  # fmt: skip
RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([a-z]+)\s*$")
OFF = {"", "0", "off", "none", "unlimited"}
SETTINGS = ("API_RATE_LIMIT", "API_RATE_LIMIT_ANON", "API_RATE_LIMIT_HEAVY", "API_RATE_LIMIT_IP")


@dataclass(frozen=True)
class Rate:
    count: int
    seconds: int


@functools.lru_cache(maxsize=64)
def parse_rate(text: str) -> Rate | None:
    """``"600/min"``, ``"30/m"``, ``"1000/hour"``, ``"10/5min"`` (10 per 5 minutes); ``off`` (or 0): no limit."""
    if text.strip().lower() in OFF:
        return None
    match = RATE.match(text.lower())
    if not match or match.group(3) not in UNITS or int(match.group(1)) < 1:
        raise ImproperlyConfigured(f"Not a rate: {text!r}; write it like '600/min', '30/hour' or 'off'.")
    return Rate(int(match.group(1)), int(match.group(2) or 1) * UNITS[match.group(3)])


def rate_of(setting: str) -> Rate | None:
    return parse_rate(str(getattr(settings, setting)))


def check_settings() -> None:
    """Refuse to start with a rate that cannot be read (rather than a 500 on every API call)."""
    for name in SETTINGS:
        rate_of(name)
    if int(settings.TRUSTED_PROXY_COUNT) < 0:
        raise ImproperlyConfigured("TRUSTED_PROXY_COUNT cannot be negative.")


# --- who is asking --------------------------------------------------------------------------------


def ip_bucket(address: str) -> str:
    """An IPv6 client usually holds a whole /64: one bucket for it, or every address would be a new one."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if ip.version == 6:
        if ip.ipv4_mapped:  # ::ffff:192.0.2.1 is 192.0.2.1 (a dual-stack socket's view of an IPv4 client)
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def caller(request) -> tuple[str, str]:
    """The bucket a signed-in (or public) call counts in: its token, its user, else its IP."""
    token_id = getattr(request, "api_token_id", None)
    if token_id is not None:
        return "token", str(token_id)
    user = getattr(request, "auth", None)
    if user is not None and getattr(user, "is_authenticated", False):
        return "user", str(user.pk)
    return "anon", ip_bucket(client_ip(request))


# --- counting -------------------------------------------------------------------------------------


def fail_open(count):
    """A cache that cannot be reached (Redis down) lets requests through, logged: the limits are a
    defence against floods, and /healthz reports the outage; refusing every call would be the outage."""

    @functools.wraps(count)
    def guarded(scope: str, ident: str, rate: Rate | None) -> int | None:
        try:
            return count(scope, ident, rate)
        except Exception:
            log.exception("API rate limit not checked: the cache failed")
            return None

    return guarded


@fail_open
def hit(scope: str, ident: str, rate: Rate | None) -> int | None:
    """Count one request in a bucket. None when it is within the limit, else the seconds to wait.

    Once over the limit nothing more is written (a flood costs one read per request). The counter is
    atomic on Redis; on the database cache two processes may now and then count one request between
    them, which leaves the limit approximate, not open."""
    if rate is None:
        return None
    now = time.time()
    window = int(now // rate.seconds)
    key = f"{KEY_PREFIX}:{scope}:{ident}:{rate.seconds}:{window}"
    count = cache.get(key, 0)
    if count >= rate.count:
        return max(1, math.ceil((window + 1) * rate.seconds - now))
    if count == 0:
        cache.set(key, 1, timeout=rate.seconds + 1)
    else:
        try:
            cache.incr(key)
        except ValueError:  # expired between the read and the write
            cache.set(key, 1, timeout=rate.seconds + 1)
    return None


@fail_open
def would_refuse(scope: str, ident: str, rate: Rate | None) -> int | None:
    """Like ``hit`` without counting: the seconds to wait when the bucket is already full."""
    if rate is None:
        return None
    now = time.time()
    window = int(now // rate.seconds)
    if cache.get(f"{KEY_PREFIX}:{scope}:{ident}:{rate.seconds}:{window}", 0) >= rate.count:
        return max(1, math.ceil((window + 1) * rate.seconds - now))
    return None


def too_many(wait: int | float | None) -> JsonResponse:
    response = JsonResponse(body("rate_limited", message(wait)), status=429)
    response["Retry-After"] = str(max(1, math.ceil(wait or 1)))
    return response


def message(wait) -> str:
    return f"Too many requests; try again in {max(1, math.ceil(wait or 1))} s."


# --- Ninja throttles: after authentication, so they know the token or user ----------------------


class _Waits(threading.local):
    wait: int | None = None


class ApiThrottle(BaseThrottle):
    """The per-token / per-user / per-IP (anonymous) limit; ``heavy`` adds the heavy endpoints' one.

    One instance serves every thread: the wait of the request at hand is kept per thread, since Ninja
    asks ``wait()`` without the request."""

    def __init__(self, heavy: bool = False):
        self.heavy = heavy
        self._waits = _Waits()

    def allow_request(self, request) -> bool:
        scope, ident = caller(request)
        if self.heavy:
            wait = hit(f"heavy-{scope}", ident, rate_of("API_RATE_LIMIT_HEAVY"))
        else:
            wait = hit(scope, ident, rate_of("API_RATE_LIMIT_ANON" if scope == "anon" else "API_RATE_LIMIT"))
        self._waits.wait = wait
        return wait is None

    def wait(self) -> float | None:
        return self._waits.wait


# Every operation's throttles (the API's default); heavy operations name HEAVY instead.
DEFAULT = [ApiThrottle()]
HEAVY = [ApiThrottle(), ApiThrottle(heavy=True)]


# --- before and after Ninja: the per-IP ceiling, and failed sign-ins ----------------------------


def carries_credentials(request) -> bool:
    return "HTTP_AUTHORIZATION" in request.META or settings.SESSION_COOKIE_NAME in request.COOKIES


def limit_view(view):
    """Wrap an API URL's view: the per-IP ceiling first (nothing else runs over it), then a failed
    sign-in counts as an anonymous call of its IP, answered 429 once the IP has had its share."""

    @functools.wraps(view)  # keeps csrf_exempt
    def wrapper(request, *args, **kwargs):
        ip = ip_bucket(client_ip(request))
        if (wait := hit("ip", ip, rate_of("API_RATE_LIMIT_IP"))) is not None:
            return too_many(wait)
        anon = rate_of("API_RATE_LIMIT_ANON")
        if not carries_credentials(request) and (wait := would_refuse("anon", ip, anon)) is not None:
            return too_many(wait)  # it would only get a 401 (or a public endpoint it has used up)
        response = view(request, *args, **kwargs)
        if response.status_code == 401 and (wait := hit("anon", ip, anon)) is not None:
            return too_many(wait)
        return response

    return wrapper


def install(api) -> None:
    """The 429 of a Ninja throttle in our shape (Ninja adds Retry-After itself)."""

    @api.exception_handler(Throttled)
    def throttled(request, exc: Throttled):
        return api.create_response(request, body("rate_limited", message(exc.wait)), status=429)
