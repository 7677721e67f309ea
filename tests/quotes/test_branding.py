"""Branding on quotes: the services (admins only, logged), the logo checks and storage, the API and the
settings page; and a quote PDF made from the stored branding shows its logo."""

import datetime as dt
import io
from decimal import Decimal as D

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image
from pypdf import PdfReader

from crm.audit.models import ObjectChange
from crm.core.errors import BadRequest, PermissionDenied, ValidationFailed
from crm.quotes import branding as services
from crm.quotes.models import Branding
from crm.quotes.pdf import QuoteDocument, render_quote_pdf
from crm.quotes.totals import LineInput, compute_totals
from tests.test_hardening import inline_code


def image(kind="PNG", size=(40, 20)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, "#0b5d6b").save(out, kind)
    return out.getvalue()


def upload(data: bytes, name="logo.png", content_type="image/png"):
    return SimpleUploadedFile(name, data, content_type=content_type)


def stored_files(var_dir):
    folder = var_dir / "branding"
    return list(folder.iterdir()) if folder.exists() else []


@pytest.fixture(autouse=True)
def var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    return tmp_path


@pytest.fixture
def web_as():
    def make(user):
        client = Client()
        client.force_login(user)
        return client

    return make


def test_admins_change_the_branding_and_each_change_is_logged(admin_user, rep_a):
    with pytest.raises(PermissionDenied):
        services.branding_update(actor=rep_a, data={"organization_name": "Mine"})
    saved = services.branding_update(actor=admin_user, data={"organization_name": " Acme GmbH ", "tax_ids": "VAT DE1"})
    assert (saved.organization_name, saved.tax_ids) == ("Acme GmbH", "VAT DE1")
    services.branding_update(actor=admin_user, data={"primary_colour": "#AA3300"})
    rows = list(ObjectChange.objects.filter(object_type="branding").order_by("id"))
    assert [r.action for r in rows] == ["create", "update"]
    assert rows[1].changes == {"primary_colour": ["#1f4e79", "#AA3300"]}
    assert rows[1].user == admin_user
    assert Branding.objects.count() == 1


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"primary_colour": "red"}, "primary_colour"),
        ({"primary_colour": "#12345g"}, "primary_colour"),
        ({"organization_name": ""}, "organization_name"),
        ({"footer_note": "x" * 301}, "footer_note"),
    ],
)
def test_bad_values_are_refused_per_field(admin_user, data, field):
    with pytest.raises(ValidationFailed) as caught:
        services.branding_update(actor=admin_user, data=data)
    assert field in caught.value.fields
    assert not Branding.objects.exists()


def test_unknown_fields_are_refused(admin_user):
    with pytest.raises(BadRequest) as caught:
        services.branding_update(actor=admin_user, data={"logo": "../../etc/passwd"})
    assert "logo" in caught.value.fields


def test_logo_is_stored_under_a_random_name_and_the_old_one_removed(
    admin_user, var_dir, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = services.branding_set_logo(actor=admin_user, upload=upload(image(), name="../../evil.png"))
    old = services.logo_path(first)
    assert old.parent == var_dir / "branding" and old.suffix == ".png" and "evil" not in old.name
    with django_capture_on_commit_callbacks(execute=True):
        second = services.branding_set_logo(actor=admin_user, upload=upload(image("JPEG"), name="x.jpg"))
    new = services.logo_path(second)
    assert new.suffix == ".jpg" and new.is_file() and not old.exists()
    with django_capture_on_commit_callbacks(execute=True):
        services.branding_remove_logo(actor=admin_user)
    assert services.logo_path(Branding.current()) is None and not new.exists()
    assert ObjectChange.objects.filter(object_type="branding").count() == 4  # create, set, replace, remove


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>", "PNG or JPEG"),
        (b"GIF89a" + b"\x00" * 40, "PNG or JPEG"),
        (b"\x89PNG\r\n\x1a\n" + b"not really a png" * 10, "damaged"),
        ("big", "too large"),
        ("wide", "pixels"),
    ],
    ids=["empty", "svg", "gif", "png-header-only", "too-big", "too-wide"],
)
def test_bad_logos_are_refused(admin_user, var_dir, data, message):
    if data == "big":
        data = b"\x89PNG\r\n\x1a\n" + b"\x00" * services.LOGO_MAX_BYTES
    elif data == "wide":
        data = image(size=(services.LOGO_MAX_SIDE + 1, 1))
    with pytest.raises(BadRequest) as caught:
        services.branding_set_logo(actor=admin_user, upload=upload(data))
    assert message in caught.value.fields["logo"]
    assert stored_files(var_dir) == []


def test_non_admins_may_not_upload_a_logo(rep_a, var_dir):
    with pytest.raises(PermissionDenied):
        services.branding_set_logo(actor=rep_a, upload=upload(image()))
    assert stored_files(var_dir) == []


def test_api_reads_for_everyone_and_writes_for_admins(api, admin_user, rep_a):
    rep, admin = api(rep_a), api(admin_user)
    r = rep.get("/settings/branding")
    assert r.status_code == 200 and r.json()["organization_name"] == "Our company" and r.json()["has_logo"] is False
    assert rep.patch("/settings/branding", {"organization_name": "Mine"}).status_code == 403
    r = admin.patch("/settings/branding", {"organization_name": "Acme", "address": "1 Road\nTown"})
    assert r.status_code == 200 and r.json()["address"] == "1 Road\nTown"
    r = admin.patch("/settings/branding", {"primary_colour": "blue"})
    assert r.status_code == 422 and "primary_colour" in r.json()["error"]["fields"]
    assert api(None).get("/settings/branding").status_code == 401


def test_api_logo_upload(api, admin_user, rep_a):
    admin = api(admin_user)
    post = admin.client.post
    r = post("/api/v1/settings/branding/logo", {"logo": upload(image())}, headers=admin.headers)
    assert r.status_code == 200, r.content
    assert r.json()["has_logo"] is True and r.json()["logo_url"] == "/settings/branding/logo"
    r = post("/api/v1/settings/branding/logo", {"logo": upload(b"%PDF-1.4 nope")}, headers=admin.headers)
    assert r.status_code == 400 and "PNG or JPEG" in r.json()["error"]["fields"]["logo"]
    rep = api(rep_a)
    assert (
        rep.client.post("/api/v1/settings/branding/logo", {"logo": upload(image())}, headers=rep.headers).status_code
        == 403
    )
    assert admin.delete("/settings/branding/logo").json()["has_logo"] is False


def test_settings_page_for_admins(web_as, admin_user, rep_a):
    assert web_as(rep_a).get("/settings/branding/").status_code == 403
    client = web_as(admin_user)
    page = client.get("/settings/branding/")
    assert page.status_code == 200 and inline_code(page.content.decode()) == []
    assert 'href="/settings/branding/"' in client.get("/").content.decode()  # in the settings menu
    form = {
        "organization_name": "Acme",
        "primary_colour": "#112233",
        "address": "",
        "tax_ids": "",
        "default_terms": "",
        "footer_note": "",
    }
    assert client.post("/settings/branding/", form).status_code == 302
    assert Branding.current().primary_colour == "#112233"
    bad = client.post("/settings/branding/", {**form, "primary_colour": "#zzzzzz"})
    assert bad.status_code == 422 and "#" in bad.content.decode()
    r = client.post("/settings/branding/logo/upload", {"logo": upload(image())})
    assert r.status_code == 302
    logo = web_as(rep_a).get("/settings/branding/logo")
    assert logo.status_code == 200 and logo["Content-Type"] == "image/png"
    assert b"".join(logo.streaming_content).startswith(b"\x89PNG")
    r = client.post("/settings/branding/logo/upload", {"logo": upload(b"hello", name="a.png")}, follow=True)
    assert "PNG or JPEG" in r.content.decode()


def test_a_quote_pdf_from_the_stored_branding_carries_its_logo(admin_user):
    services.branding_update(actor=admin_user, data={"organization_name": "Acme GmbH", "tax_ids": "VAT DE42"})
    services.branding_set_logo(actor=admin_user, upload=upload(image()))
    totals = compute_totals([LineInput(quantity=D(1), unit_price=D(5), description="Widget")], minor_units=2)
    doc = QuoteDocument(
        branding=services.branding_values(),
        number="Q-1",
        version=1,
        issued=dt.date(2026, 1, 2),
        currency="EUR",
        totals=totals,
    )
    reader = PdfReader(io.BytesIO(render_quote_pdf(doc)))
    page = reader.pages[0]
    assert "Acme GmbH" in page.extract_text() and "VAT DE42" in page.extract_text()
    assert len(page.images) == 1
