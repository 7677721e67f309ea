"""Settings come from the environment, with safe defaults for the embedded (SQLite) setup."""

import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("CRM_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


def _secret_key() -> str:
    """SECRET_KEY from the environment, else one generated once into var/ (never committed)."""
    if key := os.environ.get("SECRET_KEY"):
        return key
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = [h.strip() for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h.strip()]
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "crm.core",
    "crm.access",
    "crm.audit",
    "crm.customization",
    "crm.objects",
    "crm.records",
    "crm.search",
    "crm.demo",
    "django_tasks",
    "django_tasks_db",
    "django_rq",
    "crm.automation",
    "crm.sales",
    "crm.ops",
    "crm.bench",
    "crm.dataio",
    "crm.privacy",
    "crm.quotes",
    "crm.money",
    "crm.mail",
    "crm.products",
    "crm.mailbox",
    "crm.orders",
    "crm.invoices",
    "crm.forecast",
    "crm.commissions",
    "crm.predict",
    "django_htmx",
    "crm.web",
    "csp",
    "ninja",  # the API docs page uses Swagger UI from ninja's static files, not from a CDN (CSP: 'self' only)
    "axes",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "crm.core.headers.PermissionsPolicyMiddleware",
    "crm.core.headers.NoStoreMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "crm.access.twofactor_middleware.TwoFactorRequiredMiddleware",
    "crm.access.middleware.SessionGuardMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "crm.web.middleware.UserTimezoneMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "crm.core.middleware.RequestIdMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as axes asks: turns a lockout into the 429 page
]

ROOT_URLCONF = "crm.urls"
WSGI_APPLICATION = "crm.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

# --- Database: embedded SQLite unless DATABASE_URL says otherwise -------------------------
SQLITE_PATH = VAR_DIR / "crm.sqlite3"
DATABASES = {"default": dj_database_url.config(default=f"sqlite:///{SQLITE_PATH}", conn_max_age=60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Persistent per-thread connections: a new SQLite connection starts with a cold page cache and
    # re-runs the PRAGMAs below (~30% of a small request). Safe with gunicorn gthread (connections are
    # thread-local) and runserver (it closes a request thread's connections when the thread ends).
    DATABASES["default"]["CONN_MAX_AGE"] = 60
    DATABASES["default"]["OPTIONS"] = {
        # IMMEDIATE takes the write lock at BEGIN, so concurrent writers wait instead of failing.
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; "
            "PRAGMA cache_size=-64000; PRAGMA temp_store=MEMORY; PRAGMA mmap_size=268435456;"
        ),
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": int(os.environ.get("PASSWORD_MIN_LENGTH", "12"))},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Breached passwords refused (crm/access/breached.py): off by default (a fresh machine may have no internet);
# only a 5-hex-digit SHA-1 prefix is sent, and an unreachable service lets the password through, logged.
PASSWORD_BREACH_CHECK = env_bool("PASSWORD_BREACH_CHECK", False)
PASSWORD_BREACH_API = os.environ.get("PASSWORD_BREACH_API", "https://api.pwnedpasswords.com").strip()
PASSWORD_BREACH_TIMEOUT = float(os.environ.get("PASSWORD_BREACH_TIMEOUT", "2"))
_BREACH = {"api": PASSWORD_BREACH_API, "timeout": PASSWORD_BREACH_TIMEOUT}
if PASSWORD_BREACH_CHECK:
    AUTH_PASSWORD_VALIDATORS.append({"NAME": "crm.access.breached.BreachedPasswordValidator", "OPTIONS": _BREACH})

LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
# Front-end libraries come from npm (package.json) into node_modules/ and are served from there by
# whitenoise, straight from the finders, so the app needs no CDN and no collectstatic step.
NODE_MODULES = BASE_DIR / "node_modules"
STATICFILES_DIRS = [
    ("vendor/htmx", NODE_MODULES / "htmx.org" / "dist"),
    ("vendor/sortablejs", NODE_MODULES / "sortablejs"),
    ("vendor/chartjs", NODE_MODULES / "chart.js" / "dist"),
    # axe-core: the accessibility checker the browser tests inject (tests/e2e/test_axe.py); no page loads it.
    ("vendor/axe-core", NODE_MODULES / "axe-core"),
]
WHITENOISE_USE_FINDERS = True
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns about a missing one

LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/login/"

# --- Security defaults: secure cookies whenever not in DEBUG -------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG)
# Secure cookies carry the __Host- prefix (ASVS 3.3.3): the browser then takes them only over HTTPS,
# for Path=/ and without a Domain, so no sibling subdomain can set or shadow them. Over plain HTTP
# (`make run`) browsers refuse __Host- names, so the names stay plain there. The remember-this-device
# cookie follows the same rule (crm/web/views/signin.py remember_cookie).
SESSION_COOKIE_NAME = "__Host-sessionid" if SESSION_COOKIE_SECURE else "sessionid"
CSRF_COOKIE_NAME = "__Host-csrftoken" if CSRF_COOKIE_SECURE else "csrftoken"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True

# --- Single sign-on (OpenID Connect, mozilla-django-oidc; crm/access/sso.py) -------------
# Off unless OIDC_ENABLED. Endpoints come from the provider's discovery document (OIDC_DISCOVERY_URL,
# or OIDC_ISSUER + /.well-known/openid-configuration) unless given one by one below.
OIDC_ENABLED = env_bool("OIDC_ENABLED", False)
OIDC_ISSUER = os.environ.get("OIDC_ISSUER", "").strip()
OIDC_DISCOVERY_URL = os.environ.get("OIDC_DISCOVERY_URL", "").strip()
OIDC_OP_AUTHORIZATION_ENDPOINT = os.environ.get("OIDC_OP_AUTHORIZATION_ENDPOINT", "").strip()
OIDC_OP_TOKEN_ENDPOINT = os.environ.get("OIDC_OP_TOKEN_ENDPOINT", "").strip()
OIDC_OP_USER_ENDPOINT = os.environ.get("OIDC_OP_USER_ENDPOINT", "").strip()
OIDC_OP_JWKS_ENDPOINT = os.environ.get("OIDC_OP_JWKS_ENDPOINT", "").strip()
OIDC_RP_CLIENT_ID = os.environ.get("OIDC_RP_CLIENT_ID", "")
OIDC_RP_CLIENT_SECRET = os.environ.get("OIDC_RP_CLIENT_SECRET", "")
OIDC_RP_SCOPES = os.environ.get("OIDC_RP_SCOPES", "openid email profile")
OIDC_RP_SIGN_ALGO = os.environ.get("OIDC_RP_SIGN_ALGO", "RS256")
OIDC_USE_PKCE = env_bool("OIDC_USE_PKCE", True)
OIDC_TIMEOUT = float(os.environ.get("OIDC_TIMEOUT", "10"))
OIDC_CREATE_USERS = env_bool("OIDC_CREATE_USERS", False)
OIDC_LINK_BY_EMAIL = env_bool("OIDC_LINK_BY_EMAIL", False)
OIDC_DEFAULT_ROLE = os.environ.get("OIDC_DEFAULT_ROLE", "").strip()
OIDC_GROUPS_CLAIM = os.environ.get("OIDC_GROUPS_CLAIM", "groups").strip()


def env_mapping(name: str) -> dict[str, str]:
    """Parses 'idp-group=value,other=value' into an ordered dict (the first listed group a user has wins)."""
    mapping = {}
    for item in filter(None, (i.strip() for i in os.environ.get(name, "").split(","))):
        group, sep, value = item.rpartition("=")
        if not sep or not group.strip() or not value.strip():
            raise ValueError(f"{name}: {item!r} is not group=value")
        mapping[group.strip()] = value.strip()
    return mapping


OIDC_GROUP_ROLES = env_mapping("OIDC_GROUP_ROLES")
OIDC_GROUP_TEAMS = env_mapping("OIDC_GROUP_TEAMS")
# SSO_ONLY: no password sign-in on the web form or the admin (API tokens still work); SSO_BREAK_GLASS
# lets superusers in with their password anyway, for when the identity provider is down.
SSO_ONLY = env_bool("SSO_ONLY", False)
SSO_BREAK_GLASS = env_bool("SSO_BREAK_GLASS", False)
# How strongly the provider must have authenticated the person (ASVS 6.8.4), comma lists: OIDC_REQUIRED_ACR
# is sent as acr_values and the ID token's `acr` must be one of them; the ID token's `amr` must hold at
# least one of OIDC_REQUIRED_AMR (e.g. "mfa,otp,hwk"). Empty: not checked (crm/access/sso.py).
OIDC_REQUIRED_ACR = [v for v in os.environ.get("OIDC_REQUIRED_ACR", "").replace(",", " ").split() if v]
OIDC_REQUIRED_AMR = [v for v in os.environ.get("OIDC_REQUIRED_AMR", "").replace(",", " ").split() if v]
# mozilla-django-oidc's views are ours (refusals get a page, endpoints may come from discovery).
OIDC_AUTHENTICATE_CLASS = "crm.access.sso_views.SsoAuthenticateView"
OIDC_CALLBACK_CLASS = "crm.access.sso_views.SsoCallbackView"
# (crm.access.sso.SsoBackend is in AUTHENTICATION_BACKENDS below: it answers the SSO callback only.)

# --- Two-factor (TOTP) sign-in: crm/access/twofactor.py, crm/web/views/signin.py ------------
# Days a "remember this device" cookie skips the code step; 0 turns the checkbox off.
TWO_FACTOR_REMEMBER_DAYS = int(os.environ.get("TWO_FACTOR_REMEMBER_DAYS", "30"))
TWO_FACTOR_PENDING_SECONDS = 300  # between the password step and the code step
OTP_TOTP_ISSUER = os.environ.get("TWO_FACTOR_ISSUER", "CRM")  # the name shown in the authenticator app
# Passkeys (WebAuthn, crm/access/passkeys.py): the site's domain and the exact origins browsers sign for.
WEBAUTHN_RP_ID = os.environ.get("WEBAUTHN_RP_ID", "localhost")
WEBAUTHN_ORIGINS = [o.strip() for o in os.environ.get("WEBAUTHN_ORIGINS", "http://localhost:8000").split(",") if o]
WEBAUTHN_RP_NAME = os.environ.get("WEBAUTHN_RP_NAME", OTP_TOTP_ISSUER)
PASSKEY_CHALLENGE_SECONDS = 300  # a challenge is good this long, and once

# --- Security headers (docs/deploy.md, "Headers and hardening") -----------------------------
# No inline script or style anywhere: templates load static files only (crm/web/static/web/app.js
# applies what used to be inline attributes). The Django admin works under the same policy.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
PERMISSIONS_POLICY = ("camera", "microphone", "geolocation", "payment", "usb")
# HTTPS: HSTS is off by default (a dev server on http); production sets SECURE_HSTS_SECONDS=31536000.
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "0"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", SECURE_HSTS_SECONDS > 0)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SECURE_REDIRECT_EXEMPT = [r"^healthz"]  # health checks of a load balancer or container come over plain http
# Behind a TLS-terminating proxy: SECURE_PROXY_SSL_HEADER=X-Forwarded-Proto (the proxy must set it and
# strip any copy sent by clients); the request then counts as HTTPS when that header says "https".
if _proxy_header := os.environ.get("SECURE_PROXY_SSL_HEADER", "").strip():
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + _proxy_header.upper().replace("-", "_"), "https")
# Uploads over 2.5 MB are spooled to a temporary file, never held in memory; imports are refused over
# IMPORT_MAX_BYTES (crm/dataio/uploads.py checks the size and the content).
DATA_UPLOAD_MAX_MEMORY_SIZE = FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
IMPORT_MAX_BYTES = int(os.environ.get("IMPORT_MAX_BYTES", str(50 * 1024 * 1024)))
# An XLSX is a zip: refused before reading when it holds more entries or unpacks to more bytes than
# these (decompression bombs; a real workbook has a few dozen entries and unpacks to ~10x its size).
IMPORT_XLSX_MAX_ENTRIES = int(os.environ.get("IMPORT_XLSX_MAX_ENTRIES", "1000"))
IMPORT_XLSX_MAX_UNCOMPRESSED = int(os.environ.get("IMPORT_XLSX_MAX_UNCOMPRESSED", str(500 * 1024 * 1024)))

# --- Sign-in: throttling (django-axes), session lifetime ----------------------------------
# Failed passwords (and other failed factors, sent as user_login_failed) are counted per username
# and client IP; after LOGIN_FAILURE_LIMIT of them that pair is refused for LOGIN_COOLOFF_MINUTES
# (the right password too). Admins lift a lockout early with `crm unlock USERNAME` or the admin.
LOGIN_FAILURE_LIMIT = int(os.environ.get("LOGIN_FAILURE_LIMIT", "5"))
LOGIN_COOLOFF_MINUTES = int(os.environ.get("LOGIN_COOLOFF_MINUTES", "15"))
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses a locked-out pair before any password check
    "django.contrib.auth.backends.ModelBackend",
    "crm.access.sso.SsoBackend",  # the OpenID Connect callback only (crm/access/sso.py)
]
AXES_FAILURE_LIMIT = LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = timedelta(minutes=LOGIN_COOLOFF_MINUTES)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# Attempts during a lockout are refused but not counted, so "try again in N minutes" holds true.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_USERNAME_CALLABLE = "crm.access.lockouts.username_of"  # cut to a storable length
AXES_CLIENT_IP_CALLABLE = "crm.core.clientip.address_or_none"  # the API limits' rule (TRUSTED_PROXY_COUNT)
AXES_LOCKOUT_CALLABLE = "crm.web.views.security.locked_out"
AXES_ENABLE_ADMIN = False  # its admin would delete attempts outside crm.access.lockouts (no audit row)
# Absolute session lifetime (seconds; the login counts, activity does not extend it) and idle timeout.
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_COOKIE_AGE", str(12 * 3600)))
SESSION_IDLE_MINUTES = int(os.environ.get("SESSION_IDLE_MINUTES", "120"))
SESSION_EXPIRE_AT_BROWSER_CLOSE = False

# --- CRM -----------------------------------------------------------------------------------
DEFAULT_PHONE_REGION = os.environ.get("DEFAULT_PHONE_REGION", "US")
DEFAULT_CURRENCY = os.environ.get("DEFAULT_CURRENCY", "USD")
API_MAX_PAGE_SIZE = 200
API_BULK_MAX_ITEMS = 1000
# How often a process checks whether custom object types changed elsewhere (crm/objects/registry.py).
RECORD_TYPES_RECHECK_SECONDS = float(os.environ.get("RECORD_TYPES_RECHECK_SECONDS", "2"))
# Quote numbers (crm/quotes/services/numbering.py): {year} and {n}, the year's counter, never reused.
QUOTE_NUMBER_FORMAT = os.environ.get("QUOTE_NUMBER_FORMAT", "Q-{year}-{n:04d}")

# --- Encryption at rest (crm.core.crypto): keys never in the database ------------------------
# ENCRYPTION_KEYS: comma-separated Fernet keys, the first encrypts, the others only decrypt (until
# `crm encryption rotate` moved every value off them); else var/encryption_keys, generated once.
# ENCRYPTION_LOOKUP_KEY: the key of the hashes that find encrypted values by equality; else var/.
from crm.core.crypto import load_keys, load_lookup_key  # noqa: E402  (no Django import in it at load)

ENCRYPTION_KEYS = load_keys(VAR_DIR)
ENCRYPTION_LOOKUP_KEY = load_lookup_key(VAR_DIR)

# --- API limits (crm/api/throttling.py): "<count>/<period>" (s, min, hour, day; "10/5min"), or "off" --
API_RATE_LIMIT = os.environ.get("API_RATE_LIMIT", "600/min")  # each API token; each user's session calls
API_RATE_LIMIT_HEAVY = os.environ.get("API_RATE_LIMIT_HEAVY", "30/min")  # exports, search, imports, bulk
API_RATE_LIMIT_ANON = os.environ.get("API_RATE_LIMIT_ANON", "60/min")  # per IP: public calls, failed sign-ins
API_RATE_LIMIT_IP = os.environ.get("API_RATE_LIMIT_IP", "1200/min")  # per IP: every API request, first
# Reverse proxies in front that append to X-Forwarded-For: 0 reads REMOTE_ADDR only (the header is the
# client's to forge); 1 behind one proxy (nginx, Caddy, a load balancer), and so on.
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "0"))

# --- Background work (crm.automation): django.tasks on the database, or RQ on Redis ---------
# `crm worker` runs the worker for the configured backend plus the automation scheduler.
TASKS_BACKEND = os.environ.get("TASKS_BACKEND", "database").strip().lower()
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
RQ_QUEUES = {"default": {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 600}}
_TASKS_BACKEND = "django_tasks_rq.RQBackend" if TASKS_BACKEND == "redis" else "django_tasks_db.DatabaseBackend"
TASKS = {"default": {"BACKEND": _TASKS_BACKEND, "QUEUES": ["default"]}}
# Outbound webhooks may not reach loopback/private/link-local/metadata addresses unless allowed here.
WEBHOOKS_ALLOW_PRIVATE = env_bool("WEBHOOKS_ALLOW_PRIVATE", False)
# IMAP mailboxes on loopback, private or link-local addresses (an on-premises mail server): off by default (SSRF).
MAILBOX_ALLOW_PRIVATE = env_bool("MAILBOX_ALLOW_PRIVATE", False)
AUTOMATION_JOB_LEASE_SECONDS = int(os.environ.get("AUTOMATION_JOB_LEASE_SECONDS", "300"))
AUTOMATION_TICK_SECONDS = float(os.environ.get("AUTOMATION_TICK_SECONDS", "1"))
AUTOMATION_MAX_DEPTH = int(os.environ.get("AUTOMATION_MAX_DEPTH", "5"))

# --- Cache: shared by every process (the API's rate-limit counters live here) -------------------
# The database by default (nothing more to run; `crm migrate` creates the table, crm/core/cache.py);
# Redis when the tasks run there too, or CACHE_BACKEND=redis. Never per-process memory: with several
# gunicorn workers each would count alone and the limits would be multiplied.
CACHE_BACKEND = os.environ.get("CACHE_BACKEND", "redis" if TASKS_BACKEND == "redis" else "database").strip().lower()
if CACHE_BACKEND not in {"database", "redis"}:
    raise ValueError(f"CACHE_BACKEND is 'database' or 'redis', not {CACHE_BACKEND!r}.")
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL, "KEY_PREFIX": "crm"}
    if CACHE_BACKEND == "redis"
    else {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "crm_cache"}
}
if CACHE_BACKEND != "redis":  # room for every live counter (one per client and window): past it Django culls
    CACHES["default"]["OPTIONS"] = {"MAX_ENTRIES": int(os.environ.get("CACHE_MAX_ENTRIES", "100000"))}

# LOG_FORMAT=json: one JSON object per line (crm.ops.logging), for production log shippers.
from crm.ops.logging import logging_config  # noqa: E402  (standard library only)

LOG_FORMAT = os.environ.get("LOG_FORMAT", "text").lower()
LOGGING = logging_config(LOG_FORMAT, os.environ.get("LOG_LEVEL", "WARNING"))

# --- Outgoing mail (crm/mail, docs/deploy.md "Outgoing mail") -------------------------------------
# EMAIL_URL: smtp://user:pass@host:587?starttls=1, smtps://user:pass@host:465, smtp://host:25. Unset (the
# embedded default), mail stays in the outbox as "not sent" until a server is configured.
from crm.mail.smtp import parse as _parse_email_url  # noqa: E402  (standard library only)

EMAIL_URL = os.environ.get("EMAIL_URL", "").strip()
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "crm@localhost")
MAIL_MAX_RECIPIENTS = int(os.environ.get("MAIL_MAX_RECIPIENTS", "50"))  # to + cc + bcc of one message
# Attachments of composed mail: each file at most this size; stored through Django's storage (MEDIA_ROOT).
MAIL_MAX_ATTACHMENT_BYTES = int(os.environ.get("MAIL_MAX_ATTACHMENT_BYTES", str(10 * 1024 * 1024)))
MAIL_MAX_ATTACHMENTS = int(os.environ.get("MAIL_MAX_ATTACHMENTS", "10"))
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
# The address people reach the CRM at from outside: the open pixel and tracked links of sent mail use it.
CRM_BASE_URL = os.environ.get("CRM_BASE_URL", "http://localhost:8000").strip().rstrip("/")
# Attachments of received mail (crm/mailbox): larger ones are recorded by name and size, not stored.
MAILBOX_MAX_ATTACHMENT_BYTES = int(os.environ.get("MAILBOX_MAX_ATTACHMENT_BYTES", str(25 * 1024 * 1024)))
MAIL_BCC_ADDRESS = os.environ.get("MAIL_BCC_ADDRESS", "").strip().lower()  # users' BCC addresses: docs/email.md
if _smtp := _parse_email_url(EMAIL_URL):
    globals().update(_smtp.django_settings())
