"""EMAIL_URL: the organization's SMTP server in one setting, read with the standard library.

``smtp://user:pass@host:587?starttls=1`` (STARTTLS), ``smtps://user:pass@host:465`` (implicit TLS),
``smtp://host:25`` (plain, e.g. a local relay). User and password are percent-decoded. No Django
import at load: crm/settings.py maps it to Django's EMAIL_* settings for ``send_mail`` too.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit

TRUE = {"1", "true", "yes", "on"}
NOT_CONFIGURED = "not sent: no mail server configured"


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    username: str = ""
    password: str = ""
    use_tls: bool = False  # STARTTLS
    use_ssl: bool = False  # implicit TLS (smtps)
    timeout: float = 30.0
    address: str = ""  # the checked IP to connect to (a user's own server, crm/mail/pinned.py); blank: resolve host

    def django_settings(self) -> dict:
        return {
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": self.host,
            "EMAIL_PORT": self.port,
            "EMAIL_HOST_USER": self.username,
            "EMAIL_HOST_PASSWORD": self.password,
            "EMAIL_USE_TLS": self.use_tls,
            "EMAIL_USE_SSL": self.use_ssl,
            "EMAIL_TIMEOUT": self.timeout,
        }


def parse(url: str) -> SmtpServer | None:
    """The server an EMAIL_URL names, None for an empty one; ValueError for one that is not usable."""
    url = (url or "").strip()
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps"):
        raise ValueError("EMAIL_URL starts with smtp:// or smtps://.")
    if not parts.hostname:
        raise ValueError("EMAIL_URL names no host.")
    query = {k: v[-1].strip().lower() for k, v in parse_qs(parts.query).items()}
    ssl = parts.scheme == "smtps"
    starttls = query.get("starttls", "") in TRUE
    if ssl and starttls:
        raise ValueError("EMAIL_URL: smtps:// is implicit TLS already; leave out starttls.")
    try:
        port = parts.port or (465 if ssl else 25)
        timeout = float(query.get("timeout", "30"))
    except ValueError as exc:
        raise ValueError(f"EMAIL_URL: {exc}") from None
    return SmtpServer(
        host=parts.hostname,
        port=port,
        username=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
        use_tls=starttls,
        use_ssl=ssl,
        timeout=timeout,
    )


def configured() -> SmtpServer | None:
    """The server of the current EMAIL_URL setting (read at each send, so it can change)."""
    from django.conf import settings

    return parse(getattr(settings, "EMAIL_URL", ""))
