"""Refuse outbound calls to loopback, private, link-local and metadata addresses.

The host is resolved once, every address is checked, and the connection goes to a checked address
(so a DNS answer cannot change between the check and the call). Redirects are not followed.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings

METADATA = {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}


class Refused(Exception):
    pass


def _forbidden(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    if ip in METADATA:
        return "a cloud metadata address"
    for attr, label in (
        ("is_loopback", "a loopback address"),
        ("is_link_local", "a link-local address"),
        ("is_private", "a private address"),
        ("is_multicast", "a multicast address"),
        ("is_reserved", "a reserved address"),
        ("is_unspecified", "an unspecified address"),
    ):
        if getattr(ip, attr):
            return label
    return None


def check_url(url: str) -> tuple[str, int, str]:
    """(host, port, address to connect to) for an allowed URL; raises Refused otherwise."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Refused("Only http and https URLs with a host are allowed.")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise Refused(f"Cannot resolve {parts.hostname}: {exc}") from None
    addresses = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]
    if not addresses:
        raise Refused(f"{parts.hostname} has no address.")
    if not settings.WEBHOOKS_ALLOW_PRIVATE:
        for ip in addresses:
            if reason := _forbidden(ip):
                raise Refused(f"{parts.hostname} resolves to {ip}, {reason}; outbound calls there are refused.")
    return parts.hostname, port, str(addresses[0])


def literal_refusal(url: str) -> str | None:
    """At save time: refuse URLs whose host is a forbidden IP literal or a local name (no DNS here)."""
    host = (urlsplit(url).hostname or "").lower()
    if settings.WEBHOOKS_ALLOW_PRIVATE:
        return None
    if host in ("localhost", "localhost.localdomain") or host.endswith(".localhost"):
        return "Local host names are refused."
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return None
    reason = _forbidden(ip)
    return f"{ip} is {reason}; outbound calls there are refused." if reason else None
