"""Test connection" for a user's own outgoing server: connect, start TLS as set, sign in, and quit,
sending nothing. It goes through ``accounts.server_for``, so the host is resolved and checked against
the SSRF guard exactly as before a real send; a refusal comes back as a ValidationFailed with the
server's reply (or the network error) in words, for the settings page to show beside the form."""

from __future__ import annotations

import dataclasses
import smtplib

from crm.core.errors import ValidationFailed
from crm.mail import accounts, connections

TIMEOUT = 10.0  # a person is waiting on the page: shorter than a send's 30 s


def _refusal(exc: Exception) -> str:
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return f"The server refused the user name or password: {exc.smtp_code} {_text(exc.smtp_error)}"
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"The server answered {exc.smtp_code} {_text(exc.smtp_error)}"
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return f"The server does not offer what the settings ask for ({exc}): check the security setting."
    return f"Could not talk to the server: {type(exc).__name__}: {exc}"


def _text(value) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def check_own_server(*, actor) -> str:
    """Sign in to the actor's own server; a sentence saying it worked, else ValidationFailed."""
    account = accounts.account_of(actor)
    if account is None:
        raise ValidationFailed({"connection": "You have no outgoing server of your own to test: save one first."})
    try:
        server = accounts.server_for(actor)
    except accounts.Unusable as exc:
        raise ValidationFailed({"connection": str(exc)}) from None
    server = dataclasses.replace(server, timeout=TIMEOUT)
    connection = connections.backend_for(server)
    try:
        connection.open()
    except (smtplib.SMTPException, OSError, ValueError) as exc:
        raise ValidationFailed({"connection": _refusal(exc)}) from None
    finally:
        connection.close()
    signed = f", signed in as {server.username}" if server.username else ""
    return f"Connected to {server.host}:{server.port}{signed}. Your mail will leave through this server."
