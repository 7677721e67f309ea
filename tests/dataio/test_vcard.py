"""vCard 3.0/4.0 out and in: every property we map, round trips, skipped extras, per-card errors."""

import pytest
import vobject
from django.core.files.uploadedfile import SimpleUploadedFile

from crm.audit.models import ObjectChange
from crm.customization.models import CustomField
from crm.dataio.vcard import fold
from crm.records.models import Activity, Contact
from crm.records.services.contacts import contact_create
from tests.factories import ActivityFactory, CompanyFactory

pytestmark = pytest.mark.django_db

V3 = (
    "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Lee;Ann;;;\r\nFN:Ann Lee\r\nORG:Acme Corp;Sales\r\nTITLE:CTO\r\n"
    "EMAIL;TYPE=INTERNET,WORK,PREF:ann@acme.com\r\nEMAIL;TYPE=INTERNET,HOME:ann@home.org\r\n"
    "TEL;TYPE=CELL:(202) 555-0100\r\nTEL;TYPE=WORK,VOICE,PREF:+1 202 555 0199\r\n"
    "ADR;TYPE=WORK:;;1 Main St;Springfield;IL;62701;USA\r\nNOTE:Met at the fair\\, liked it.\r\n"
    "BDAY:1985-04-12\r\nURL:https://ann.example\r\n"
    "PHOTO;ENCODING=b;TYPE=JPEG:/9j/4AAQSkZJRgABAQAAAQABAAD\r\nX-SKYPE:ann.lee\r\nEND:VCARD\r\n"
)
V4 = (
    "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Bo Berg\r\nN:Berg;Bo;;;\r\n"
    'TEL;VALUE=uri;TYPE="cell,voice";PREF=1:tel:+46-70-123-45-67\r\nEMAIL;TYPE=home:bo@berg.se\r\n'
    "END:VCARD\r\n"
)


def upload(api, user, content: bytes | str, name="cards.vcf"):
    data = content.encode() if isinstance(content, str) else content
    client = api(user)
    return client.client.post(
        "/api/v1/vcard/import", {"file": SimpleUploadedFile(name, data, "text/vcard")}, headers=client.headers
    )


@pytest.fixture
def cf(db):
    CustomField.objects.create(object_type="contact", key="birthday", label="Birthday", field_type="date")
    CustomField.objects.create(object_type="contact", key="website", label="Website", field_type="url")


def test_import_v3_maps_every_property(api, manager, cf):
    acme = CompanyFactory(name="Acme Corp", owner=manager)
    response = upload(api, manager, V3)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["warnings"] == {"cards.0": ["PHOTO skipped.", "X-SKYPE skipped."]}
    c = Contact.objects.get(pk=body["created"][0])
    assert (c.first_name, c.last_name, c.title, c.company_id) == ("Ann", "Lee", "CTO", acme.pk)
    assert [(e.email, e.kind, e.is_primary) for e in c.emails.all()] == [
        ("ann@acme.com", "work", True),
        ("ann@home.org", "home", False),
    ]
    assert sorted((p.number, p.kind, p.is_primary) for p in c.phones.all()) == [
        ("+12025550100", "mobile", False),
        ("+12025550199", "work", True),
    ]
    assert (c.street, c.city, c.region, c.postal_code, c.country) == ("1 Main St", "Springfield", "IL", "62701", "USA")
    assert c.custom_fields == {"birthday": "1985-04-12", "website": "https://ann.example"}
    assert Activity.objects.linked_to(c).get().body == "Met at the fair, liked it."
    assert ObjectChange.objects.filter(object_type="contact", object_id=c.pk, action="create").exists()


def test_import_v4_and_unmapped_extras_are_warnings(api, manager):
    response = upload(api, manager, V3 + V4)
    assert response.status_code == 201, response.content
    warnings = response.json()["warnings"]["cards.0"]
    assert "ORG 'Acme Corp' skipped: no such company." in warnings
    assert "BDAY skipped: no custom field to hold it." in warnings
    bo = Contact.objects.get(pk=response.json()["created"][1])
    assert [(p.number, p.kind, p.is_primary) for p in bo.phones.all()] == [("+46701234567", "mobile", True)]
    assert [(e.email, e.kind) for e in bo.emails.all()] == [("bo@berg.se", "home")]


def test_one_bad_card_rolls_back_all_with_a_per_card_error(api, manager):
    bad = "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Bad\r\nEMAIL:not-an-email\r\nEND:VCARD\r\n"
    empty = "BEGIN:VCARD\r\nVERSION:3.0\r\nEND:VCARD\r\n"
    response = upload(api, manager, V4 + bad + empty)
    assert response.status_code == 422
    fields = response.json()["error"]["fields"]
    assert set(fields) == {"cards.1.emails.0", "cards.2.first_name"}
    assert not Contact.objects.exists()


@pytest.mark.parametrize(
    "content",
    [b"", b"   \n", b"\x00\x01\x02\xff" * 50, b"name,email\nAnn,a@x.com\n", b"BEGIN:VCARD\r\nFN:never ends\r\n"],
)
def test_garbage_files_are_clear_400s(api, manager, content):
    response = upload(api, manager, content)
    assert response.status_code == 400, response.content
    assert response.json()["error"]["fields"]["file"]
    assert not Contact.objects.exists()


def test_malformed_lines_inside_a_card_never_crash(api, manager):
    card = "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Ok Person\r\n;;;garbage line without colon\r\nEND:VCARD\r\n"
    response = upload(api, manager, card)
    assert response.status_code in (201, 422), response.content
    if response.status_code == 422:
        assert "cards.0" in response.json()["error"]["fields"]


def test_utf16_and_latin1_files(api, manager):
    text = "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Núñez;José;;;\r\nFN:José Núñez\r\nEND:VCARD\r\n"
    assert upload(api, manager, text.encode("utf-16")).status_code == 201
    assert upload(api, manager, text.encode("cp1252")).status_code == 201
    assert list(Contact.objects.values_list("name", flat=True)) == ["José Núñez", "José Núñez"]


def test_import_needs_add_permission(api, readonly):
    assert upload(api, readonly, V4).status_code == 403


@pytest.mark.parametrize("version", ["3.0", "4.0"])
def test_export_round_trips(api, manager, cf, version):
    acme = CompanyFactory(name="Acme; Inc", owner=manager)
    data = {
        "first_name": "Ann",
        "last_name": "Lee, Jr",
        "title": "CTO",
        "company_id": acme.pk,
        "emails": [{"email": "ann@acme.com", "kind": "work", "primary": True}, {"email": "a@b.org", "kind": "home"}],
        "phones": [{"number": "+12025550100", "kind": "mobile"}, {"number": "+12025550199", "kind": "work"}],
        "street": "1 Main St",
        "city": "Springfield",
        "custom_fields": {"birthday": "1985-04-12", "website": "https://ann.example"},
    }
    c = contact_create(actor=manager, data=data).obj
    response = api(manager).get(f"/contacts/{c.pk}/vcard", {"version": version})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/vcard")
    text = response.content.decode()
    parsed = vobject.readOne(text)
    assert parsed.version.value == version
    assert (parsed.n.value.family, parsed.n.value.given) == ("Lee, Jr", "Ann")
    assert parsed.org.value == ["Acme; Inc"] and parsed.title.value == "CTO"
    assert [e.value for e in parsed.email_list] == ["ann@acme.com", "a@b.org"]
    assert parsed.bday.value == "1985-04-12" and parsed.url.value == "https://ann.example"
    assert parsed.adr.value.city == "Springfield"

    Contact.objects.all().delete()
    again = upload(api, manager, text)
    assert again.status_code == 201, again.content
    copy = Contact.objects.get(pk=again.json()["created"][0])
    assert (copy.first_name, copy.last_name, copy.company_id) == ("Ann", "Lee, Jr", acme.pk)
    assert [(e.email, e.kind, e.is_primary) for e in copy.emails.all()] == [
        ("ann@acme.com", "work", True),
        ("a@b.org", "home", False),
    ]
    assert sorted((p.number, p.kind) for p in copy.phones.all()) == [
        ("+12025550100", "mobile"),
        ("+12025550199", "work"),
    ]
    assert copy.custom_fields == data["custom_fields"]


def test_single_download_hides_invisible_contacts(api, rep_a, rep_b):
    c = contact_create(actor=rep_b, data={"first_name": "Secret"}).obj
    assert api(rep_a).get(f"/contacts/{c.pk}/vcard").status_code == 404
    assert api(rep_b).get(f"/contacts/{c.pk}/vcard", {"version": "2.1"}).status_code == 400


def test_list_export_needs_export_permission_and_filters(api, manager, rep_a):
    contact_create(actor=rep_a, data={"first_name": "Ann", "city": "Oslo"})
    contact_create(actor=rep_a, data={"first_name": "Bob", "city": "Rome"})
    response = api(manager).get("/vcard/contacts", {"city": "Oslo", "version": "4.0"})
    assert response.status_code == 200
    cards = list(vobject.readComponents(b"".join(response.streaming_content).decode()))
    assert [c.fn.value for c in cards] == ["Ann"]
    assert api(rep_a).get("/vcard/contacts").status_code == 403


def test_long_lines_fold_at_75_octets_without_splitting_characters():
    line = "NOTE:" + "é" * 100
    folded = fold(line).split("\r\n")
    assert all(len(p.encode()) <= 75 for p in folded)
    assert "".join(p[1:] if i else p for i, p in enumerate(folded)) == line


def test_list_export_includes_notes_in_a_fixed_number_of_queries(api, manager, django_assert_max_num_queries):
    client = api(manager)
    for i in range(8):
        c = contact_create(actor=manager, data={"first_name": f"P{i}", "email": f"p{i}@x.com"}).obj
        ActivityFactory(kind="note", body=f"note {i}", contact=c, owner=manager)
    with django_assert_max_num_queries(15):
        response = client.get("/vcard/contacts")
        text = b"".join(response.streaming_content).decode()
    cards = list(vobject.readComponents(text))
    assert len(cards) == 8 and cards[3].note.value == "note 3"


def test_the_import_command_takes_a_vcard_file_by_content(manager, tmp_path):
    """`crm import contacts FILE` reads vCards whatever the file is called (a .txt from an old phone)."""
    import io

    from django.core.management import CommandError, call_command

    path = tmp_path / "phone-export.txt"
    path.write_bytes(("\r\n\r\n" + V3 + V4).encode("utf-16"))  # blank lines and UTF-16 with a BOM
    out = io.StringIO()
    call_command("import", "contacts", str(path), "--dry-run", "--user", "manager", stdout=out)
    assert "Would import 2 contacts from vCards." in out.getvalue() and not Contact.objects.exists()
    call_command("import", "contacts", str(path), "--user", "manager", stdout=out)
    assert "Imported 2 contacts from vCards." in out.getvalue()
    assert set(Contact.objects.values_list("name", flat=True)) == {"Ann Lee", "Bo Berg"}
    with pytest.raises(CommandError, match="holds contacts, not companies"):
        call_command("import", "companies", str(path), "--user", "manager")
    with pytest.raises(CommandError, match="not vCards"):
        call_command("import", "contacts", str(path), "--update-existing", "--user", "manager")
    bad = tmp_path / "bad.vcf"
    bad.write_text("BEGIN:VCARD\r\nVERSION:3.0\r\nEMAIL:not-an-email\r\nEND:VCARD\r\n")
    with pytest.raises(CommandError, match="No contact was imported"):
        call_command("import", "contacts", str(bad), "--user", "manager")
    assert Contact.objects.count() == 2


def test_the_web_import_takes_a_vcard_file_and_keeps_nothing_of_it(manager, settings, tmp_path):
    from django.test import Client

    settings.VAR_DIR = tmp_path
    client = Client()
    client.force_login(manager)
    r = client.post("/imports/contacts/new/", {"file": SimpleUploadedFile("cards.vcf", V3.encode(), "text/vcard")})
    assert r.status_code == 302 and r["Location"] == "/contacts/"
    assert Contact.objects.get().name == "Ann Lee"
    assert "Imported 1 contact from the vCard file." in client.get("/contacts/").content.decode()
    assert not any((tmp_path / "imports").iterdir())  # the upload is not kept
    r = client.post("/imports/companies/new/", {"file": SimpleUploadedFile("cards.vcf", V3.encode(), "text/vcard")})
    assert r.status_code == 400 and "holds contacts" in r.content.decode()
