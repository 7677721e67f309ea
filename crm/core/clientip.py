"""The client's address, for rate limits (crm/api/throttling.py) and sign-in lockouts (django-axes'
AXES_CLIENT_IP_CALLABLE): one rule for both, so a proxy setting cannot make them disagree."""

from __future__ import annotations

import ipaddress

from django.conf import settings


def client_ip(request) -> str:
    """REMOTE_ADDR; behind TRUSTED_PROXY_COUNT proxies, the address the outermost one saw (each proxy
    appends the address it got the request from to X-Forwarded-For, so the client's is that many from
    the right; anything further left is whatever the client wrote). The header is never read otherwise:
    a client could name any address and get a fresh bucket per request."""
    remote = request.META.get("REMOTE_ADDR", "") or "unknown"
    hops = int(settings.TRUSTED_PROXY_COUNT)
    if hops <= 0:
        return remote
    chain = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if a.strip()]
    if not chain:
        return remote
    claimed = chain[-min(hops, len(chain))]
    try:
        ipaddress.ip_address(claimed)
    except ValueError:
        return remote  # a proxy that writes garbage is misconfigured: fall back to what we know
    return claimed


def address_or_none(request) -> str | None:
    """The client's address for django-axes' sign-in log, or None when the request has none (a test
    client's force_login): PostgreSQL types that column inet, which refuses "unknown"."""
    address = client_ip(request)
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return None
    return address
