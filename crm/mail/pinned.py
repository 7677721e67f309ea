"""An SMTP connection that goes to the address the SSRF guard checked, not to a fresh DNS answer.

A user's own server is checked before each send (crm/mail/accounts.py: every address the name resolves
to must be public), but smtplib would resolve the name again when it connects: a DNS answer that
changes in between (DNS rebinding, a TTL of zero) would reach a loopback or private address after all.
So the socket is opened to the checked address, while the name stays what TLS checks: smtplib keeps
the host it was given as ``_host``, which both STARTTLS and implicit TLS pass as ``server_hostname``
(SNI and certificate verification against the name, never against the address).
"""

from __future__ import annotations

import smtplib

from django.core.mail.backends.smtp import EmailBackend


def _pinned(base: type[smtplib.SMTP], address: str) -> type[smtplib.SMTP]:
    class Pinned(base):
        def _get_socket(self, host, port, timeout):
            # ``host`` is the name (self._host, for TLS); the TCP connection goes to the checked address.
            return super()._get_socket(address, port, timeout)

    return Pinned


class PinnedEmailBackend(EmailBackend):
    """Django's SMTP backend connecting to ``address`` (an IP) for ``host`` (the name TLS verifies)."""

    def __init__(self, *, address: str = "", **kwargs):
        super().__init__(**kwargs)
        self.address = address

    @property
    def connection_class(self):
        base = super().connection_class
        return _pinned(base, self.address) if self.address else base
