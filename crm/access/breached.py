"""Breached passwords refused (ASVS 6.2.12): a password validator asking a k-anonymity range service
(the Pwned Passwords API, or a mirror of it) whether the password appears in known breaches.

Only the first 5 hex digits of the password's SHA-1 leave the machine (``GET {base}/range/{prefix}``);
the answer lists every known suffix of that prefix as ``SUFFIX:COUNT`` lines and the comparison is made
here. ``Add-Padding: true`` asks for decoy lines (count 0) so the answer's size does not tell which
prefix was asked; they are ignored.

On only when ``PASSWORD_BREACH_CHECK`` is set (crm/settings.py adds it to AUTH_PASSWORD_VALIDATORS), so
every path that sets a password (crm/access/accounts.py, Django's forms and commands) runs it.
When the service cannot be reached or answers nonsense, the password is **accepted** and a warning is
logged (fail open): an outage of a third-party service must not stop people changing passwords, and the
other validators still run.
"""

from __future__ import annotations

import hashlib
import logging

import requests
from django.core.exceptions import ValidationError

log = logging.getLogger("crm.signin")

DEFAULT_API = "https://api.pwnedpasswords.com"  # the public service's documented base URL


class BreachedPasswordValidator:
    def __init__(self, api: str = DEFAULT_API, timeout: float = 2.0):
        self.api = api.rstrip("/")
        self.timeout = float(timeout)

    def validate(self, password: str, user=None) -> None:
        digest = hashlib.sha1(password.encode("utf-8")).hexdigest().upper()  # noqa: S324 - the API's key, not a hash of ours
        prefix, suffix = digest[:5], digest[5:]
        lines = self._range(prefix)
        if lines is None:
            return
        if _count(lines, suffix) > 0:
            raise ValidationError(
                "This password appears in a known data breach, so attackers try it first; choose another one.",
                code="password_breached",
            )

    def get_help_text(self) -> str:
        return "Your password can’t be one that appears in a known data breach."

    def _range(self, prefix: str) -> list[str] | None:
        """The answer's lines, or None (logged) when the service could not give a usable one."""
        url = f"{self.api}/range/{prefix}"
        try:
            answer = requests.get(url, headers={"Add-Padding": "true"}, timeout=self.timeout, allow_redirects=False)
            answer.raise_for_status()
        except requests.RequestException as exc:
            log.warning("Breached-password check skipped: %s unreachable (%s); the password was accepted.", url, exc)
            return None
        return answer.text.splitlines()


def _count(lines: list[str], suffix: str) -> int:
    """How often the suffix was seen; padding lines carry a count of 0."""
    for line in lines:
        found, _, count = line.strip().partition(":")
        if found.upper() == suffix:
            try:
                return int(count)
            except ValueError:
                log.warning("Breached-password check: unreadable line %r ignored.", line[:80])
                return 0
    return 0
