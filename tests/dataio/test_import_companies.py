"""A contact import's Company / Organization column: matched case- and accent-insensitively or by web
domain, the missing companies created once per run with create_companies, counted, and removed by undo."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from crm.core.errors import ValidationFailed
from crm.dataio import csvread, importing
from crm.dataio.models import ImportCreated, ImportRow
from crm.records.models import Company, Contact
from crm.records.services.companies import company_create

pytestmark = pytest.mark.django_db

HEADER = "Name,E-mail Address,Company\n"


def run(user, text: str, **kw):
    return importing.run(io.BytesIO(text.encode()), actor=user, **kw)


def company(user, name: str, domain: str = "") -> Company:
    data = {"name": name, **({"domain": domain} if domain else {})}
    return company_create(actor=user, data=data).obj


def warnings(batch) -> list[str]:
    return [w for r in ImportRow.objects.filter(batch=batch).order_by("number") for w in r.warnings]


def test_company_names_match_whatever_their_case_and_accents(manager):
    societe = company(manager, "Société Générale")
    company(manager, "Société Générale")  # a younger namesake: the oldest wins
    batch = run(manager, HEADER + "Ann Lee,ann@x.com,SOCIETE generale\nBob Roe,bob@x.com,  société  GÉNÉRALE \n")
    assert batch.counts["create"] == 2 and batch.counts["companies_linked"] == 2
    assert set(Contact.objects.values_list("company_id", flat=True)) == {societe.pk}
    assert warnings(batch) == []


def test_a_web_address_matches_the_company_by_domain(manager):
    acme = company(manager, "Acme Incorporated", domain="acme.com")
    text = HEADER + "Ann Lee,ann@x.com,acme.com\nBob Roe,bob@x.com,https://www.Acme.com/about\n"
    batch = run(manager, text)
    assert set(Contact.objects.values_list("company_id", flat=True)) == {acme.pk}
    assert batch.counts["companies_linked"] == 2 and batch.counts["companies_created"] == 0


def test_a_created_company_from_a_web_address_gets_its_domain(manager):
    text = HEADER + "Ann Lee,ann@x.com,Booking.com\nBob Roe,bob@x.com,https://www.initech.example/about\n"
    text += "Cid Moss,cid@x.com,booking.com\n"
    batch = run(manager, text, create_companies=True)
    made = {c.name: c.domain for c in Company.objects.all()}
    assert made == {"Booking.com": "booking.com", "initech.example": "initech.example"}
    assert batch.counts["companies_created"] == 2 and batch.counts["companies_linked"] == 3


def test_without_the_option_a_missing_company_is_a_warning(manager):
    batch = run(manager, HEADER + "Ann Lee,ann@x.com,Nowhere Ltd\n")
    assert not Company.objects.exists()
    assert Contact.objects.get().company_id is None
    assert warnings(batch) == ["No company named 'Nowhere Ltd'; the contact is saved without one."]
    assert batch.counts["companies_created"] == 0 and batch.counts["companies_linked"] == 0


def test_with_the_option_each_missing_company_is_created_once_across_chunks(manager, monkeypatch):
    monkeypatch.setattr(importing, "CHUNK_ROWS", 2)
    existing = company(manager, "Acme")
    text = HEADER + "".join(
        f"P{i} Q,p{i}@x.com,{name}\n"
        for i, name in enumerate(["Nowhere Ltd", "acme", "NOWHERE LTD", "Zeta", "nowhere ltd"])
    )
    batch = run(manager, text, create_companies=True)
    assert batch.create_companies is True
    created = Company.objects.exclude(pk=existing.pk).order_by("pk")
    assert [(c.name, c.owner_id) for c in created] == [("Nowhere Ltd", manager.pk), ("Zeta", manager.pk)]
    nowhere = created[0]
    assert sorted(Contact.objects.values_list("company_id", flat=True)) == sorted(
        [nowhere.pk, existing.pk, nowhere.pk, created[1].pk, nowhere.pk]
    )
    assert batch.counts["companies_created"] == 2 and batch.counts["companies_linked"] == 5
    assert sorted(ImportCreated.objects.filter(batch=batch).values_list("object_id", flat=True)) == [
        c.pk for c in created
    ]
    assert warnings(batch) == []


def test_a_dry_run_counts_the_companies_without_leaving_them(manager, monkeypatch):
    monkeypatch.setattr(importing, "CHUNK_ROWS", 2)
    text = HEADER + "A B,a@x.com,Nowhere\nC D,c@x.com,Other\nE F,e@x.com,nowhere\nG H,g@x.com,\n"
    batch = run(manager, text, create_companies=True, dry_run=True)
    assert batch.counts["create"] == 4
    assert batch.counts["companies_created"] == 2 and batch.counts["companies_linked"] == 3
    assert not Company.objects.exists() and not Contact.objects.exists()
    assert not ImportCreated.objects.exists()


def test_undo_removes_the_created_companies_and_keeps_the_others(manager):
    kept = company(manager, "Acme")
    batch = run(manager, HEADER + "A B,a@x.com,Acme\nC D,c@x.com,Newco\nE F,e@x.com,newco\n", create_companies=True)
    assert Company.objects.count() == 2
    done = importing.undo(batch, actor=manager)
    assert done["deleted"] == 4  # three contacts, one company
    assert list(Company.objects.all()) == [kept]
    assert not Contact.objects.exists() and not ImportCreated.objects.exists()


def test_only_a_contacts_import_creates_companies(manager):
    with pytest.raises(ValidationFailed) as caught:
        run(manager, "Name,Domain\nAcme,acme.com\n", object_type="companies", create_companies=True)
    assert "create_companies" in caught.value.fields


def test_cli_flag_creates_and_reports(tmp_path, manager):
    path = tmp_path / "google.csv"
    path.write_text(HEADER + "Ann Lee,ann@x.com,Initech\nBob Roe,bob@x.com,initech\n")
    out = io.StringIO()
    args = ["import", "contacts", str(path), "--user", "manager", "--create-companies"]
    call_command(*args, "--dry-run", stdout=out, stderr=io.StringIO())
    assert "1 companies will be created; 2 contacts linked to a company." in out.getvalue()
    assert not Company.objects.exists()
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    assert "1 companies were created; 2 contacts linked to a company." in out.getvalue()
    assert Company.objects.get().name == "Initech"


def test_api_flag(api, manager):
    def upload(**form):
        client = api(manager)
        data = {"file": SimpleUploadedFile("people.csv", (HEADER + "Ann Lee,ann@x.com,Initech\n").encode()), **form}
        return client.client.post("/api/v1/import/contacts", data, headers=client.headers)

    plain = upload(dry_run="true")
    assert plain.status_code == 200 and plain.json()["counts"]["companies_created"] == 0
    response = upload(create_companies="true")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["create_companies"] is True and body["counts"]["companies_created"] == 1
    assert Contact.objects.get().company.name == "Initech"


def test_a_run_that_fails_part_way_removes_the_companies_it_created(manager, monkeypatch):
    monkeypatch.setattr(importing, "CHUNK_ROWS", 2)
    kept = company(manager, "Acme")
    text = HEADER + "A B,a@x.com,Newco\nC D,c@x.com,Acme\nE F,e@x.com,Other\n"
    with pytest.raises(csvread.FileError):
        run(manager, text + "G H,g@x.com," + "x" * (csvread.MAX_CELL + 1) + "\n", create_companies=True)
    assert list(Company.objects.all()) == [kept] and not Contact.objects.exists()
