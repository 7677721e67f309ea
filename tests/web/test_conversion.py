"""Lead conversion from the lead page: create or choose the contact and company, maybe a deal."""

from crm.records.models import Company, Contact, Deal, Lead


def test_convert_form_renders(web, rep_a, lead_x, pipeline):
    r = web(rep_a).get(f"/leads/{lead_x.pk}/convert/")
    page = r.content.decode()
    assert r.status_code == 200
    assert "Convert lead" in page and 'value="Navy Labs deal"' in page


def test_convert_creates_contact_company_and_deal(web, rep_a, lead_x, pipeline):
    proposal = pipeline.stages.get(name="Proposal")
    r = web(rep_a).post(
        f"/leads/{lead_x.pk}/convert/",
        {
            "create_company": "on",
            "create_deal": "on",
            "deal_name": "Navy pilot",
            "deal_amount": "9000",
            "deal_stage": proposal.pk,
        },
    )
    contact = Contact.objects.get(email="grace@navy.example")
    assert r.status_code == 302 and r["Location"] == f"/contacts/{contact.pk}/"
    lead_x.refresh_from_db()
    assert lead_x.converted_at and lead_x.converted_contact == contact
    assert contact.company == Company.objects.get(name="Navy Labs")
    deal = Deal.objects.get(name="Navy pilot")
    assert deal.stage == proposal and deal.amount == 9000 and list(deal.contacts.all()) == [contact]


def test_convert_into_an_existing_contact_without_a_deal(web, rep_a, lead_x, ada):
    r = web(rep_a).post(f"/leads/{lead_x.pk}/convert/", {"contact": ada.pk})
    assert r.status_code == 302 and r["Location"] == f"/contacts/{ada.pk}/"
    assert not Deal.objects.exists()
    assert Lead.objects.get(pk=lead_x.pk).converted_contact == ada


def test_deal_needs_a_name(web, rep_a, lead_x):
    r = web(rep_a).post(f"/leads/{lead_x.pk}/convert/", {"create_deal": "on", "deal_name": ""})
    assert r.status_code == 200 and "A deal needs a name." in r.content.decode()
    assert not Lead.objects.get(pk=lead_x.pk).converted_at


def test_converted_lead_is_not_converted_twice(web, rep_a, lead_x):
    web(rep_a).post(f"/leads/{lead_x.pk}/convert/", {})
    r = web(rep_a).post(f"/leads/{lead_x.pk}/convert/", {})
    assert r.status_code == 302 and r["Location"] == f"/leads/{lead_x.pk}/"
    assert Contact.objects.count() == 1


def test_cannot_pick_a_hidden_contact(web, rep_a, rep_b, lead_x):
    from crm.records.services import contacts

    hidden = contacts.contact_create(actor=rep_b, data={"first_name": "Hidden"}).obj
    r = web(rep_a).post(f"/leads/{lead_x.pk}/convert/", {"contact": hidden.pk})
    assert r.status_code == 200 and f"No contact with id {hidden.pk}." in r.content.decode()
    assert not Lead.objects.get(pk=lead_x.pk).converted_at


def test_others_cannot_convert(web, rep_b, support, lead_x):
    assert web(rep_b).get(f"/leads/{lead_x.pk}/convert/").status_code == 404
    assert web(support).get(f"/leads/{lead_x.pk}/convert/").status_code == 404
