"""Hardening (OWASP ASVS L2): security headers and the CSP our pages satisfy, `check --deploy` for the documented
production settings, and the checks on import uploads and on the files the app sends back."""

import base64
import hashlib
import io
import os
import re
import secrets
import subprocess
import sys
import zipfile
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import HttpResponse
from django.test import Client

from crm.access.models import User
from crm.dataio import uploads
from crm.objects import services as object_types
from crm.records.services import companies, contacts

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent


def directives(response) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in (p.strip() for p in policy.split(";")) if part}



@pytest.fixture
def root_client(db):
    """The Django admin needs a superuser (staff); the CRM's admin role alone is not staff."""
    client = Client()
    client.force_login(User.objects.create_superuser("root", "root@example.com", "pw"))
    return client


# --- Headers -----------------------------------------------------------------------------------------


def test_pages_carry_the_policy_and_the_other_security_headers(client):
    r = client.get("/login/")
    assert r.status_code == 200
    assert directives(r) == {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
    assert r["Referrer-Policy"] == "same-origin"
    assert r["Cross-Origin-Opener-Policy"] == "same-origin"
    assert r["X-Content-Type-Options"] == "nosniff"
    assert r["X-Frame-Options"] == "DENY"
    assert r["Permissions-Policy"] == "camera=(), microphone=(), geolocation=(), payment=(), usb=()"
    assert "Strict-Transport-Security" not in r  # dev default: no HSTS on plain http


def test_api_and_admin_answers_carry_the_same_policy(root_client, api, admin_user):
    page = root_client.get("/admin/automation/webhooksubscription/add/")
    assert page.status_code == 200 and directives(page)["script-src"] == ["'self'"]  # the admin needs no relaxation
    assert directives(page)["style-src"] == ["'self'"]
    r = api(admin_user).get("/contacts")
    assert r.status_code == 200 and directives(r)["default-src"] == ["'self'"]
    docs = root_client.get("/api/v1/docs")
    assert docs.status_code == 200 and "cdn." not in docs.content.decode()  # Swagger UI from our static files


def test_hsts_and_https_redirect_follow_the_settings(client, settings):
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SECURE_SSL_REDIRECT = True
    plain = client.get("/login/")
    assert plain.status_code == 301 and plain["Location"].startswith("https://")
    assert client.get("/healthz/ping").status_code == 200  # health checks stay on plain http
    secure = client.get("/login/", secure=True)
    assert secure["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


def test_embeddable_form_may_be_framed_and_allows_only_its_honeypot_style(admin_user):
    from crm.automation import webforms
    from crm.automation.api import HONEYPOT_STYLE

    form = webforms.webform_create(actor=admin_user, data={"name": "Contact us", "slug": "contact-us"})
    r = Client().get(f"/api/v1/automation/forms/{form.slug}/embed")
    assert r.status_code == 200
    policy = directives(r)
    assert "frame-ancestors" not in policy and policy["script-src"] == ["'self'"]
    digest = base64.b64encode(hashlib.sha256(HONEYPOT_STYLE.encode()).digest()).decode()
    assert policy["style-src"] == ["'unsafe-hashes'", f"'sha256-{digest}'"]
    assert f'style="{HONEYPOT_STYLE}"' in r.content.decode()


class _InlineFinder(HTMLParser):
    """Collects what the policy would block: inline scripts, event-handler and style attributes, js: links."""

    def __init__(self):
        super().__init__()
        self.found, self._in_script = [], False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script":
            self._in_script = not attrs.get("src") and attrs.get("type") != "application/json"
        for name, value in attrs.items():
            if name == "style" or name.startswith("on") or (value or "").strip().lower().startswith("javascript:"):
                self.found.append(f"<{tag} {name}={value!r}>")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.found.append(f"<script>{data.strip()[:60]}")


def inline_code(html: str) -> list[str]:
    finder = _InlineFinder()
    finder.feed(html)
    return finder.found


def test_pages_have_no_inline_script_or_style(web, admin_user, root_client, pipeline):
    acme = companies.company_create(actor=admin_user, data={"name": "Acme"}).obj
    ada = contacts.contact_create(actor=admin_user, data={"first_name": "Ada", "last_name": "L"}).obj
    object_types.object_type_create(
        actor=admin_user,
        data={"key": "van", "singular": "Van", "plural": "Vans", "slug": "vans", "colour": "#aa3300", "fields": []},
    )
    client = web(admin_user)
    pages = ["/", "/contacts/", f"/contacts/{ada.pk}/", f"/companies/{acme.pk}/", "/board/", "/notifications/"]
    pages += ["/settings/objects/", "/imports/", "/imports/contacts/new/"]
    admin = [
        "/admin/",
        "/admin/auth/user/",
        "/admin/records/pipeline/add/",
        "/admin/automation/webhooksubscription/add/",
    ]
    for url in pages + admin:
        r = (root_client if url in admin else client).get(url)
        assert r.status_code == 200, url
        assert inline_code(r.content.decode()) == [], url
    bell = client.get("/notifications/bell/", HTTP_HX_REQUEST="true")
    assert bell.status_code == 200 and inline_code(bell.content.decode()) == []
    types = client.get("/settings/objects/").content.decode()
    assert 'data-colour="#aa3300"' in types  # painted by app.js, not by a style attribute


def test_the_static_files_do_the_inline_work():
    app_js = (ROOT / "crm/web/static/web/app.js").read_text()
    assert "[data-submit-on-change]" in app_js and "data-colour" not in app_js.replace("[data-colour]", "")
    base = (ROOT / "crm/web/templates/web/base.html").read_text()
    assert '"includeIndicatorStyles":false' in base  # htmx would otherwise inject a <style> element


# --- check --deploy ------------------------------------------------------------------------------------

PRODUCTION = {
    "DEBUG": "0",
    "ALLOWED_HOSTS": "crm.example.com",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_HSTS_PRELOAD": "1",
    "SECURE_SSL_REDIRECT": "1",
    "SECURE_PROXY_SSL_HEADER": "X-Forwarded-Proto",
}


def _crm(args, tmp_path, extra: dict) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DEBUG", "SECRET_KEY")}
    env.update(DJANGO_SETTINGS_MODULE="crm.settings", CRM_VAR_DIR=str(tmp_path), SECRET_KEY=secrets.token_urlsafe(50))
    env.update(extra)
    return subprocess.run([sys.executable, "-m", "crm", *args], env=env, capture_output=True, text=True, timeout=120)


def test_check_deploy_is_clean_for_the_documented_production_settings(tmp_path):
    result = _crm(["check", "--deploy", "--fail-level", "WARNING"], tmp_path, PRODUCTION)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert not re.search(r"security\.W0\d\d", output), output
    assert "no issues" in output


def test_check_deploy_warns_without_them(tmp_path):
    """The test above can fail: the same check names HSTS (W004) and the HTTPS redirect (W008) when unset."""
    result = _crm(["check", "--deploy"], tmp_path, {"DEBUG": "0", "ALLOWED_HOSTS": "crm.example.com"})
    output = result.stdout + result.stderr
    assert "security.W004" in output and "security.W008" in output


def test_proxy_ssl_header_comes_from_the_environment(tmp_path):
    code = "import django; django.setup(); from django.conf import settings; print(settings.SECURE_PROXY_SSL_HEADER)"
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(DJANGO_SETTINGS_MODULE="crm.settings", CRM_VAR_DIR=str(tmp_path))
    env["SECURE_PROXY_SSL_HEADER"] = "X-Forwarded-Proto"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "('HTTP_X_FORWARDED_PROTO', 'https')", out.stderr


# --- Uploads -------------------------------------------------------------------------------------------


def xlsx_bytes() -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["Email", "Name"])
    book.active.append(["ann@x.example", "Ann Lee"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def zip_without_content_types() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("people.csv", "Email\nann@x.example\n")
    return out.getvalue()


BAD_FILES = [
    ("png", b"\x89PNG\r\n\x1a\n" + bytes(200), "a PNG image"),
    ("xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(200), "old Excel"),
    ("binary", bytes(range(256)) * 4, "binary data"),
    ("controls", b"Email\n" + b"\x01\x02\x03\x04\x05\x06\x07\x08" * 50, "binary data"),
    ("zip", zip_without_content_types(), "[Content_Types].xml"),
    ("broken-zip", b"PK\x03\x04" + b"junk" * 50, "damaged"),
]


def api_import(api, user, data: bytes, name="people.csv", path="/api/v1/import/contacts", **form):
    client = api(user)
    body = {"file": SimpleUploadedFile(name, data, "text/csv"), **form}
    return client.client.post(path, body, headers=client.headers)


@pytest.mark.parametrize(("label", "data", "message"), BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_api_import_refuses_files_by_content(api, manager, label, data, message):
    for path in ("/api/v1/import/contacts", "/api/v1/import/contacts/columns"):
        r = api_import(api, manager, data, path=path, dry_run="true")
        assert r.status_code == 400, (path, r.content)
        assert message in r.json()["error"]["fields"]["file"], r.json()


@pytest.mark.parametrize(
    "data",
    [
        b"Name,City\nJos\xe9,M\xfcnchen\n\x1a",  # Windows-1252 with the old DOS end-of-file mark
        "Name\n\u00c5sa\n".encode("utf-16"),  # UTF-16 has NUL bytes by design
        b"\xef\xbb\xbfName\tCity\nAnn\tOslo\n",
        b"MZ-Nummer;Name\n1;Ann\n",  # starts like a Windows program, but is text
    ],
)
def test_text_files_pass_the_content_check(data):
    assert uploads.kind_of(io.BytesIO(data)) == "csv"


def test_api_import_accepts_real_csv_and_xlsx_whatever_their_names(api, manager):
    r = api_import(api, manager, "Email,Name\nann@x.example,Ann\n".encode("cp1252"), name="x.bin", dry_run="true")
    assert r.status_code == 200, r.content
    r = api_import(api, manager, xlsx_bytes(), name="people.csv", dry_run="true")
    assert r.status_code == 200 and r.json()["counts"]["create"] == 1, r.content


def test_api_import_refuses_a_file_over_the_limit(api, manager, settings):
    settings.IMPORT_MAX_BYTES = 100
    r = api_import(api, manager, b"Email\n" + b"a@x.example\n" * 20, dry_run="true")
    assert r.status_code == 400 and "too large" in r.json()["error"]["fields"]["file"]
    r = api_import(api, manager, b"Email\n" + b"a@x.example\n" * 5, dry_run="true")
    assert r.status_code == 200


def test_api_csv_import_refuses_a_vcard_and_the_vcard_import_refuses_anything_else(api, manager):
    card = b"BEGIN:VCARD\r\nVERSION:3.0\r\nN:Lee;Ann\r\nFN:Ann Lee\r\nEND:VCARD\r\n"
    r = api_import(api, manager, card, dry_run="true")
    assert r.status_code == 400 and "vCard" in r.json()["error"]["fields"]["file"]
    r = api_import(api, manager, b"Email\nann@x.example\n", name="ann.vcf", path="/api/v1/vcard/import")
    assert r.status_code == 400 and "BEGIN:VCARD" in r.json()["error"]["fields"]["file"]
    r = api_import(api, manager, card, name="ann.vcf", path="/api/v1/vcard/import")
    assert r.status_code == 201, r.content


@pytest.fixture
def var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    return tmp_path


def web_upload(client, data: bytes, name="people.csv"):
    return client.post("/imports/contacts/new/", {"file": SimpleUploadedFile(name, data, "text/csv")})


@pytest.mark.parametrize(("label", "data", "message"), BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_web_upload_refuses_files_by_content_and_keeps_nothing(web, manager, var_dir, label, data, message):
    r = web_upload(web(manager), data)
    assert r.status_code == 400 and message in r.content.decode()
    assert list((var_dir / "imports").iterdir()) == []


def test_web_upload_refuses_a_file_over_the_limit_before_storing_it(web, manager, var_dir, settings):
    settings.IMPORT_MAX_BYTES = 50
    r = web_upload(web(manager), b"Email\n" + b"a@x.example\n" * 10)
    assert r.status_code == 400 and "too large" in r.content.decode()
    assert not (var_dir / "imports").exists() or list((var_dir / "imports").iterdir()) == []


def test_stored_upload_names_never_come_from_the_users_file_name(web, manager, var_dir):
    r = web_upload(web(manager), b"Email\nann@x.example\n", name="../../evil name.csv")
    assert r.status_code == 302
    stored = [p.name for p in (var_dir / "imports").iterdir()]
    assert len(stored) == 1 and re.fullmatch(r"[0-9a-f]{32}", stored[0])
    assert not (var_dir.parent / "evil name.csv").exists()


# --- Files sent back -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("contacts-2026.csv", "contacts-2026.csv"),
        ('Vans "& co"\r\nX-Evil: 1.csv', "Vans-co-X-Evil-1.csv"),
        ("../../etc/passwd", "etc-passwd"),
        ("Überseekisten.csv", "berseekisten.csv"),
        ("", "download"),
    ],
)
def test_sent_files_are_attachments_with_safe_names(name, expected):
    response = uploads.as_attachment(HttpResponse(b"x"), name)
    assert response["Content-Disposition"] == f'attachment; filename="{expected}"'
    assert response["X-Content-Type-Options"] == "nosniff"


def test_error_reports_and_exports_are_attachments(api, web, manager):
    r = api_import(api, manager, b"Email\nnot-an-email\n")
    assert r.status_code == 201, r.content
    pk = r.json()["id"]
    for response in (
        web(manager).get(f"/imports/{pk}/errors.csv"),
        api(manager).get(f"/import/batches/{pk}/errors.csv"),
        api(manager).get("/export/contacts?format=xlsx"),
        api(manager).get("/export/contacts?format=csv"),
    ):
        assert response.status_code == 200
        assert re.fullmatch(r'attachment; filename="[A-Za-z0-9._-]+"', response["Content-Disposition"])


# --- Caches and browser storage (ASVS 14.3) ---------------------------------------------------------


def test_answers_to_a_signed_in_user_are_never_cached(rep_a, api):
    client = Client()
    client.force_login(rep_a)
    for path in ("/", "/contacts/"):
        assert "no-store" in client.get(path)["Cache-Control"], path
    assert "no-store" in api(rep_a).get("/contacts")["Cache-Control"]
    static = client.get("/static/web/app.css")
    assert "no-store" not in static.get("Cache-Control", "")  # static files stay cacheable


def test_signing_out_clears_the_browsers_copy(rep_a):
    client = Client()
    client.force_login(rep_a)
    r = client.post("/logout/")
    assert r.status_code == 302 and r["Clear-Site-Data"] == '"cache", "storage"'


def test_htmx_keeps_no_page_snapshots_in_the_tabs_storage(rep_a):
    client = Client()
    client.force_login(rep_a)
    config = re.search(r"<meta name=\"htmx-config\" content='([^']*)'", client.get("/contacts/").content.decode())
    assert config and '"historyCacheSize":0' in config.group(1)
