"""Refuse outbound calls to any address that is not globally routable (loopback, private, carrier-grade NAT,
link-local, cloud metadata, reserved, documentation, multicast…).

The host is resolved once, every address is checked, and the connection goes to a checked address
(so a DNS answer cannot change between the check and the call). Redirects are not followed.
At save time no DNS is asked, but numeric spellings the OS resolver accepts without DNS (``127.1``,
``2130706433``, ``0x7f000001``, ``[::ffff:127.0.0.1]``…) are normalised and checked like any address.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings

IP = ipaddress.IPv4Address | ipaddress.IPv6Address

METADATA = {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}
# IPv6 prefixes that carry an IPv4 address a gateway may forward to (NAT64 well-known and local-use prefixes).
NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
# Names the resolver answers locally (hosts file, systemd-resolved) without asking DNS.
LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}
LOCAL_SUFFIXES = (".localhost",)


class Refused(Exception):
    pass


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for (mapped, 6to4, Teredo, NAT64), if any."""
    if ip.ipv4_mapped:
        return ip.ipv4_mapped
    if ip.sixtofour:
        return ip.sixtofour
    if ip.teredo:
        return ip.teredo[1]
    if any(ip in net for net in NAT64):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def _forbidden(ip: IP) -> str | None:
    """Why ``ip`` may not be called, or None when it is a globally routable unicast address."""
    if isinstance(ip, ipaddress.IPv6Address) and (v4 := _embedded_ipv4(ip)) is not None:
        if reason := _forbidden(v4):
            return f"{reason} (inside {ip})"
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
    if not ip.is_global:  # e.g. 100.64.0.0/10 (carrier-grade NAT; 100.100.100.200 is a metadata address)
        return "not a globally routable address"
    return None


def check_url(url: str) -> tuple[str, int, str]:
    """(host, port, address to connect to) for an allowed URL; raises Refused otherwise."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Refused("Only http and https URLs with a host are allowed.")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    allow_private = settings.WEBHOOKS_ALLOW_PRIVATE
    return parts.hostname, port, checked_address(parts.hostname, port, allow_private=allow_private)


def checked_address(host: str, port: int, *, allow_private: bool) -> str:
    """The address to connect to for ``host``: every address it resolves to must be public (unless
    ``allow_private``); raises Refused otherwise. Webhooks and IMAP mailboxes both call it."""
    if not allow_private and (reason := host_refusal(host)):
        raise Refused(reason)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise Refused(f"Cannot resolve {host}: {exc}") from None
    addresses = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]
    if not addresses:
        raise Refused(f"{host} has no address.")
    if not allow_private:
        for ip in addresses:  # every answer: a name with one public and one private address is refused
            if reason := _forbidden(ip):
                raise Refused(f"{host} resolves to {ip}, {reason}; outbound calls there are refused.")
    return str(addresses[0])


def numeric_address(host: str) -> IP | None:
    """The address a numeric host spelling stands for, as the OS resolver reads it without DNS, else None.

    ``getaddrinfo`` with AI_NUMERICHOST accepts exactly what a later connection would accept as an address
    (inet_aton forms such as ``127.1``, ``0x7f000001``, ``0177.0.0.1``, a bare 32-bit number; IPv6 with a zone).
    """
    candidate = host[:-1] if host.endswith(".") else host
    try:
        infos = socket.getaddrinfo(candidate, None, flags=socket.AI_NUMERICHOST)
    except (socket.gaierror, UnicodeError, ValueError):
        return None
    return ipaddress.ip_address(infos[0][4][0].split("%")[0]) if infos else None


def literal_refusal(url: str) -> str | None:
    """At save time: refuse URLs whose host is a forbidden address in any spelling, or a local name (no DNS)."""
    if settings.WEBHOOKS_ALLOW_PRIVATE:
        return None
    return host_refusal((urlsplit(url).hostname or "").lower())


def host_refusal(host: str) -> str | None:
    """Why ``host`` is refused without asking DNS (a forbidden address in any spelling, a local name), or None."""
    host = host.lower()
    if "%" in host:  # an IPv6 zone id names a local interface: never a public address
        return "Addresses with a zone id (%) are refused."
    name = host.rstrip(".")
    if name in LOCAL_NAMES or name.endswith(LOCAL_SUFFIXES):
        return "Local host names are refused."
    ip = numeric_address(host)
    if ip is None:
        return None  # a real name: checked against every resolved address at delivery
    reason = _forbidden(ip)
    return f"{host} is {ip}, {reason}; outbound calls there are refused." if reason else None
