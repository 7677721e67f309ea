"""Record pages and their create/edit/delete forms: permissions, inline errors, duplicates, conflicts."""

import pytest

from crm.audit.models import ObjectChange
from crm.customization.models import CustomField
from crm.records.models import Company, Contact, Deal
from crm.records.services import contacts


def html(r) -> str:
    return r.content.decode()


@pytest.mark.parametrize(
    "fixture,slug",
    [("acme", "companies"), ("ada", "contacts"), ("big_deal", "deals"), ("lead_x", "leads"), ("call_task", "tasks")],
)
def test_record_page_shows_its_facts_and_timeline(request, web, rep_a, fixture, slug):
    obj = request.getfixturevalue(fixture)
    r = web(rep_a).get(f"/{slug}/{obj.pk}/")
    assert r.status_code == 200
    assert str(obj) in html(r)
    assert "Timeline" in html(r)
    assert "Created by rep_a" in html(r)  # the change log entry on the timeline


@pytest.mark.parametrize(
    "fixture,slug",
    [("acme", "companies"), ("ada", "contacts"), ("big_deal", "deals"), ("lead_x", "leads"), ("call_task", "tasks")],
)
def test_hidden_records_are_404_everywhere(request, web, rep_b, fixture, slug):
    obj = request.getfixturevalue(fixture)
    client = web(rep_b)
    for path in ("", "edit/", "delete/", "timeline/"):
        assert client.get(f"/{slug}/{obj.pk}/{path}").status_code == 404, path


def test_company_page_lists_its_contacts_and_deals(web, rep_a, acme, ada, big_deal):
    page = html(web(rep_a).get(f"/companies/{acme.pk}/"))
    assert "Ada Lovelace" in page and "Acme rollout" in page and "$12,000" in page


def test_create_contact_through_the_service(web, rep_a, acme):
    data = {
        "first_name": "Alan",
        "last_name": "Turing",
        "email": "ALAN@Acme.example",
        "company": acme.pk,
        "owner": rep_a.pk,
        "tags": "vip, ai",
    }
    r = web(rep_a).post("/contacts/new/", data)
    contact = Contact.objects.get(last_name="Turing")
    assert r.status_code == 302 and r["Location"] == f"/contacts/{contact.pk}/"
    assert contact.email == "alan@acme.example" and contact.company == acme
    assert sorted(t.name for t in contact.tags.all()) == ["ai", "vip"]
    entry = ObjectChange.objects.get(object_type="contact", object_id=contact.pk)
    assert entry.source == "web" and entry.user == rep_a


def test_create_form_shows_inline_errors_and_saves_nothing(web, rep_a):
    r = web(rep_a).post("/contacts/new/", {"email": "not-an-email", "owner": rep_a.pk})
    assert r.status_code == 200
    assert "Not a valid email address" in html(r)
    assert 'aria-invalid="true"' in html(r)
    assert not Contact.objects.exists()


def test_contact_needs_a_name_email_or_phone(web, rep_a):
    r = web(rep_a).post("/contacts/new/", {"owner": rep_a.pk})
    assert "A contact needs a name, an email or a phone." in html(r)


def test_duplicate_warning_links_the_existing_record(web, rep_a, ada):
    client = web(rep_a)
    r = client.post(
        "/contacts/new/", {"first_name": "Ada", "last_name": "Twin", "email": "ada@acme.example", "owner": rep_a.pk}
    )
    page = html(client.get(r["Location"]))
    assert "Possible duplicate" in page
    assert f'href="/contacts/{ada.pk}/"' in page and "same email" in page


def test_required_custom_field_error_on_its_field(web, rep_a):
    CustomField.objects.create(
        object_type="company", key="tier", label="Tier", field_type="choice", choices=["gold", "silver"], required=True
    )
    r = web(rep_a).post("/companies/new/", {"name": "Tiered", "owner": rep_a.pk})
    assert r.status_code == 200 and "This field is required" in html(r)
    r = web(rep_a).post("/companies/new/", {"name": "Tiered", "owner": rep_a.pk, "cf_tier": "gold"})
    assert r.status_code == 302
    assert Company.objects.get(name="Tiered").custom_fields == {"tier": "gold"}


def test_edit_saves_with_the_version(web, rep_a, acme):
    client = web(rep_a)
    form = client.get(f"/companies/{acme.pk}/edit/")
    assert f'name="version" value="{acme.version}"' in html(form)
    r = client.post(
        f"/companies/{acme.pk}/edit/",
        {"name": "Acme Inc", "domain": "acme.example", "owner": rep_a.pk, "version": acme.version},
    )
    assert r.status_code == 302
    acme.refresh_from_db()
    assert acme.name == "Acme Inc" and acme.version == 2


def test_edit_conflict_says_what_changed_and_offers_a_reload(web, rep_a, manager, ada):
    stale = ada.version
    contacts.contact_update(ada, actor=manager, data={"title": "Countess"})
    r = web(rep_a).post(
        f"/contacts/{ada.pk}/edit/", {"first_name": "Ada", "last_name": "L.", "owner": rep_a.pk, "version": stale}
    )
    page = html(r)
    assert r.status_code == 409
    assert "Someone else changed this contact" in page
    assert "manager" in page and "Countess" in page
    assert f'href="/contacts/{ada.pk}/edit/"' in page
    ada.refresh_from_db()
    assert ada.last_name == "Lovelace"


def test_read_only_user_cannot_open_the_edit_form(web, readonly, acme):
    assert web(readonly).get(f"/companies/{acme.pk}/").status_code == 200
    assert web(readonly).get(f"/companies/{acme.pk}/edit/").status_code == 403  # seen, not changeable
    assert web(readonly).get("/companies/new/").status_code == 403


def test_edit_into_invisibility_is_refused(web, rep_a, rep_b, acme):
    r = web(rep_a).post(f"/companies/{acme.pk}/edit/", {"name": "Acme", "owner": rep_b.pk, "version": acme.version})
    assert r.status_code == 200
    assert "would not be able to see" in html(r)
    acme.refresh_from_db()
    assert acme.owner == rep_a


def test_delete_asks_then_deletes(web, manager, rep_a, big_deal):
    client = web(manager)
    confirm = client.get(f"/deals/{big_deal.pk}/delete/")
    assert confirm.status_code == 200 and "Delete this deal?" in html(confirm)
    r = client.post(f"/deals/{big_deal.pk}/delete/", {"version": big_deal.version})
    assert r.status_code == 302 and r["Location"] == "/deals/"
    assert not Deal.objects.filter(pk=big_deal.pk).exists()


def test_sales_rep_may_not_delete_deals(web, rep_a, big_deal):
    assert web(rep_a).post(f"/deals/{big_deal.pk}/delete/").status_code == 403
    assert Deal.objects.filter(pk=big_deal.pk).exists()


@pytest.mark.usefixtures("foreign_currencies")
def test_deal_form_create_with_stage_and_contact(web, rep_a, acme, ada, pipeline):
    stage = pipeline.stages.get(name="Proposal")
    r = web(rep_a).post(
        "/deals/new/",
        {
            "name": "Expansion",
            "amount": "5000",
            "currency": "eur",
            "stage": stage.pk,
            "company": acme.pk,
            "contact": ada.pk,
            "owner": rep_a.pk,
        },
    )
    assert r.status_code == 302
    deal = Deal.objects.get(name="Expansion")
    assert deal.stage == stage and deal.currency == "EUR" and deal.probability == 50
    assert list(deal.contacts.all()) == [ada]
    assert "€5,000" in html(web(rep_a).get(r["Location"]))


def test_new_form_takes_initial_values_from_the_link(web, rep_a, acme):
    r = web(rep_a).get("/contacts/new/", {"company": acme.pk})
    assert 'value="Acme Corp"' in html(r)


def test_picker_does_not_name_a_hidden_record(web, rep_b, acme):
    r = web(rep_b).get("/contacts/new/", {"company": acme.pk})
    assert "Acme Corp" not in html(r)


def test_dates_in_the_users_time_zone(web, rep_a, acme):
    from crm.access.models import Profile

    Profile.objects.filter(user=rep_a).update(time_zone="Asia/Tokyo")
    r = web(rep_a).get(f"/companies/{acme.pk}/")
    import zoneinfo

    local = acme.created_at.astimezone(zoneinfo.ZoneInfo("Asia/Tokyo"))
    assert local.strftime("%H:%M") in html(r)


def test_a_contacts_vcard_downloads_from_its_page(web, rep_a, rep_b, ada):
    client = web(rep_a)
    page = html(client.get(f"/contacts/{ada.pk}/"))
    assert f'href="/contacts/{ada.pk}/vcard/"' in page
    r = client.get(f"/contacts/{ada.pk}/vcard/?version=4.0")
    card = r.content.decode()
    assert r.status_code == 200 and r["Content-Type"].startswith("text/vcard")
    assert f'filename="contact-{ada.pk}.vcf"' in r["Content-Disposition"]
    assert card.startswith("BEGIN:VCARD\r\nVERSION:4.0") and f"FN:{ada.name}" in card
    assert client.get(f"/contacts/{ada.pk}/vcard/?version=9").status_code == 400
    assert web(rep_b).get(f"/contacts/{ada.pk}/vcard/").status_code == 404  # not visible to rep_b


def test_money_and_phone_custom_fields_save_from_the_form_and_show_on_the_page(web, rep_a):
    """A money field takes an amount and its currency together; a phone is normalized by the service."""
    CustomField.objects.create(object_type="company", key="budget", label="Budget", field_type="money")
    CustomField.objects.create(object_type="company", key="hotline", label="Hotline", field_type="phone")
    client = web(rep_a)
    form = html(client.get("/companies/new/"))
    assert 'name="cf_budget_0"' in form and 'name="cf_budget_1"' in form and 'type="tel"' in form

    half = {"name": "Half", "owner": rep_a.pk, "cf_budget_0": "1200.50", "cf_budget_1": ""}
    r = client.post("/companies/new/", half)
    assert r.status_code == 200 and "three-letter currency" in html(r)
    assert not Company.objects.filter(name="Half").exists()

    full = {**half, "name": "Full", "cf_budget_1": "eur", "cf_hotline": "+44 20 7946 0958"}
    r = client.post("/companies/new/", full)
    assert r.status_code == 302, html(r)
    company = Company.objects.get(name="Full")
    assert company.custom_fields == {"budget": {"amount": 1200.5, "currency": "EUR"}, "hotline": "+442079460958"}
    page = html(client.get(f"/companies/{company.pk}/"))
    assert "€1,200.50" in page
    edit = html(client.get(f"/companies/{company.pk}/edit/"))
    assert 'value="1200.5"' in edit and 'value="EUR"' in edit  # the stored amount comes back to edit
