"""SMTP connections for sending: one named place that turns a server (crm/mail/smtp.py) into Django's
backend, and, during one run of the ``mail.send`` job (crm/mail/sending.py), one open connection per
server reused for every message the run sends: a connection costs a TCP (and TLS) handshake, EHLO and
sign-in, more than the message itself on a near server (docs/benchmarks.md, mail).

A message refused by the server (an RCPT or DATA reply) leaves the connection usable: smtplib resets
the transaction and the next message goes on it. Before a kept connection carries another message it is
asked NOOP: one the server dropped while idle is replaced by a fresh one then, before anything of the
message is sent. A connection that breaks while a message is on it (or answers 421) is closed and the
error goes to the job as before: the message is never sent a second time on a hunch, since the server may
already have taken it (the outbox's "no double send" rule, crm/mail/sending.py).
"""

from __future__ import annotations

import contextlib
import logging
import smtplib
from contextvars import ContextVar

from django.core.mail import get_connection

from crm.mail import smtp

log = logging.getLogger("crm.mail")
SMTP_BACKEND = "crm.mail.pinned.PinnedEmailBackend"  # Django's, connecting to a checked address when given
_open: ContextVar[dict | None] = ContextVar("crm_mail_open_connections", default=None)


def connection_options(server: smtp.SmtpServer) -> dict:
    """The keyword arguments of the SMTP backend for ``server``."""
    return {
        "host": server.host,
        "port": server.port,
        "username": server.username or None,
        "password": server.password or None,
        "use_tls": server.use_tls,
        "use_ssl": server.use_ssl,
        "timeout": server.timeout,
        "address": server.address,
    }


def backend_for(server: smtp.SmtpServer):
    """A (not yet opened) Django SMTP backend for ``server``; errors raise."""
    return get_connection(SMTP_BACKEND, fail_silently=False, **connection_options(server))


@contextlib.contextmanager
def reused():
    """Within: ``send`` keeps one connection per server open, closed on leaving. Yields whether this is
    the outermost such block (a nested one shares the outer one's connections)."""
    if _open.get() is not None:
        yield False
        return
    token = _open.set({})
    try:
        yield True
    finally:
        for backend in _open.get().values():
            _close(backend)
        _open.reset(token)


def _close(backend) -> None:
    try:
        backend.close()
    except Exception:  # QUIT on a broken connection: nothing more to say to that server
        log.debug("Closing an SMTP connection failed", exc_info=True)


def send(server: smtp.SmtpServer, message) -> None:
    """Send one message through ``server``: on the open connection within ``reused``, else on a
    connection of its own. Raises smtplib's errors (or OSError) as Django's backend does."""
    pool = _open.get()
    if pool is None:
        backend_for(server).send_messages([message])
        return
    backend = pool.get(server)
    if backend is not None and not _alive(backend):
        del pool[server]  # dropped while idle: nothing of this message was sent on it
        _close(backend)
        backend = None
    if backend is None:
        backend = backend_for(server)
        backend.open()
        pool[server] = backend
    try:
        backend.send_messages([message])
    except smtplib.SMTPRecipientsRefused:
        raise  # the server answered for this message: the connection stays
    except smtplib.SMTPResponseException as exc:
        if exc.smtp_code == 421:  # the server is closing the connection
            _drop(pool, server, backend)
        raise
    except (smtplib.SMTPException, OSError):
        _drop(pool, server, backend)  # broken with the message on it: the job decides, never a blind resend
        raise


def _alive(backend) -> bool:
    """Whether a kept connection still answers (NOOP → 250)."""
    try:
        return backend.connection is not None and backend.connection.noop()[0] == 250
    except (smtplib.SMTPException, OSError):
        return False


def _drop(pool: dict, server, backend) -> None:
    pool.pop(server, None)
    _close(backend)
