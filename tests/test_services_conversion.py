"""Lead conversion: one transaction that makes (or matches) a contact, a company and maybe a deal."""

import pytest

from crm.audit.models import ObjectChange
from crm.core.errors import Conflict, ValidationFailed
from crm.records.models import Activity, Company, Contact, Deal, Lead, LeadStatus, Task
from crm.records.services.companies import company_create
from crm.records.services.contacts import contact_create
from crm.records.services.conversion import lead_convert
from crm.records.services.leads import lead_create
from crm.search.query import search
from tests.factories import ActivityFactory, PipelineFactory, TaskFactory, links_of

pytestmark = pytest.mark.django_db


def new_lead(actor, **data):
    defaults = {"first_name": "Ann", "last_name": "Lee", "company_name": "Acme", "email": "ann@acme.com"}
    return lead_create(actor=actor, data={**defaults, **data}).obj


def counts():
    return (Contact.objects.count(), Company.objects.count(), Deal.objects.count())


def test_convert_creates_contact_company_and_deal(rep_a, pipeline):
    lead = new_lead(rep_a, title="CTO", phone="202 555 0100", tags=["hot"])
    result = lead_convert(lead, actor=rep_a, deal={"name": "Acme pilot", "amount": "5000"})

    contact, company, deal = result["contact"], result["company"], result["deal"]
    assert (contact.first_name, contact.last_name, contact.title) == ("Ann", "Lee", "CTO")
    assert (contact.email, contact.phone) == ("ann@acme.com", "+12025550100")
    assert contact.company == company and contact.owner == rep_a
    assert sorted(t.name for t in contact.tags.all()) == ["hot"]
    assert company.name == "Acme" and list(company.domains.values_list("domain", flat=True)) == ["acme.com"]
    assert deal.name == "Acme pilot" and deal.company == company and deal.pipeline == pipeline
    assert list(deal.deal_contacts.values_list("contact_id", "role")) == [(contact.pk, "decision_maker")]

    lead.refresh_from_db()
    assert lead.status == LeadStatus.QUALIFIED and lead.converted_at is not None
    assert (lead.converted_contact, lead.converted_company, lead.converted_deal) == (contact, company, deal)
    # The conversion itself is in the lead's change log.
    change = ObjectChange.objects.filter(object_type="lead", object_id=lead.pk, action="update").get()
    assert change.changes["status"] == ["new", "qualified"]


def test_convert_without_deal_or_company_name(rep_a):
    lead = new_lead(rep_a, company_name="", email="ann@gmail.com")
    result = lead_convert(lead, actor=rep_a)
    assert result["company"] is None and result["deal"] is None
    assert result["contact"].company is None
    assert counts() == (1, 0, 0)


def test_convert_matches_existing_contact_by_email_and_company_by_domain(rep_a):
    company = company_create(actor=rep_a, data={"name": "Acme Corporation", "domains": ["acme.com"]}).obj
    contact = contact_create(actor=rep_a, data={"first_name": "Annie", "email": "ANN@acme.com"}).obj
    lead = new_lead(rep_a, company_name="Acme Inc")

    result = lead_convert(lead, actor=rep_a)

    assert result["company"] == company and result["contact"] == contact
    assert counts() == (1, 1, 0)
    contact.refresh_from_db()
    assert contact.company == company  # a matched contact without a company is linked to it
    assert contact.first_name == "Annie"  # and otherwise left as it was


def test_convert_matches_company_by_website_domain(rep_a):
    company = company_create(actor=rep_a, data={"name": "Globex", "domains": ["globex.io"]}).obj
    lead = new_lead(rep_a, company_name="Other name", email="ann@gmail.com", website="https://www.globex.io/team")
    assert lead_convert(lead, actor=rep_a)["company"] == company


def test_new_company_gets_the_email_and_website_domains(rep_a):
    lead = new_lead(rep_a, website="https://www.acme.io/about")
    company = lead_convert(lead, actor=rep_a)["company"]
    assert sorted(company.domains.values_list("domain", flat=True)) == ["acme.com", "acme.io"]
    # So the next lead from that site finds it.
    later = new_lead(rep_a, email="bo@gmail.com", company_name="", website="http://acme.io")
    assert lead_convert(later, actor=rep_a)["company"] == company


def test_free_mail_domain_never_matches_a_company(rep_a):
    # Someone once recorded gmail.com as a company's domain; a gmail lead must not land there.
    gmail = company_create(actor=rep_a, data={"name": "Google", "domains": ["gmail.com"]}).obj
    lead = new_lead(rep_a, email="ann@gmail.com", company_name="Tiny Shop")

    result = lead_convert(lead, actor=rep_a)

    assert result["company"] != gmail and result["company"].name == "Tiny Shop"
    assert list(result["company"].domains.values_list("domain", flat=True)) == []


def test_match_ignores_records_the_actor_cannot_see(rep_a, rep_b):
    hidden_company = company_create(actor=rep_b, data={"name": "Acme", "domains": ["acme.com"]}).obj
    hidden_contact = contact_create(actor=rep_b, data={"first_name": "Ann", "email": "ann@acme.com"}).obj
    lead = new_lead(rep_a)

    result = lead_convert(lead, actor=rep_a)

    assert result["company"] != hidden_company and result["contact"] != hidden_contact
    assert result["company"].owner == rep_a and result["contact"].owner == rep_a


def test_explicit_contact_and_company_are_used(rep_a):
    company = company_create(actor=rep_a, data={"name": "Chosen"}).obj
    contact = contact_create(actor=rep_a, data={"first_name": "Chosen", "company_id": company.pk}).obj
    lead = new_lead(rep_a)
    result = lead_convert(lead, actor=rep_a, contact=contact, company=company)
    assert (result["contact"], result["company"]) == (contact, company)
    assert counts() == (1, 1, 0)


def test_create_company_false_makes_no_company(rep_a):
    lead = new_lead(rep_a)
    result = lead_convert(lead, actor=rep_a, create_company=False)
    assert result["company"] is None and Company.objects.count() == 0


def test_activities_and_tasks_follow_to_the_new_records_and_stay_on_the_lead(rep_a, pipeline):
    lead = new_lead(rep_a)
    note = ActivityFactory(lead=lead, owner=rep_a)
    task = TaskFactory(lead=lead, assignee=rep_a)
    other = ActivityFactory(owner=rep_a)  # not on this lead: untouched

    result = lead_convert(lead, actor=rep_a, deal={"name": "Pilot"})

    note.refresh_from_db()
    task.refresh_from_db()
    other.refresh_from_db()
    for obj in (note, task):
        new = {t: [result[t].pk] for t in ("contact", "company", "deal")}
        assert links_of(obj) == {"lead": [lead.pk], **new}
        assert obj.version == 2
    assert (links_of(other), other.version) == ({}, 1)
    logged = ObjectChange.objects.filter(object_type="activity", object_id=note.pk, action="update").get()
    after = sorted([f"lead:{lead.pk}", *(f"{t}:{ids[0]}" for t, ids in new.items())])
    assert logged.changes["links"] == [[f"lead:{lead.pk}"], after]
    assert Activity.objects.linked_to(result["contact"]).count() == 1
    assert Task.objects.linked_to(result["deal"]).count() == 1


def test_converting_twice_is_a_conflict(rep_a):
    lead = new_lead(rep_a)
    lead_convert(lead, actor=rep_a)
    with pytest.raises(Conflict):
        lead_convert(lead, actor=rep_a)
    # A stale in-memory copy cannot sneak past the check either.
    stale = Lead.objects.get(pk=lead.pk)
    stale.converted_at = None
    with pytest.raises(Conflict):
        lead_convert(stale, actor=rep_a)
    assert counts() == (1, 1, 0)


def assert_nothing_converted(lead, before_counts):
    assert counts() == before_counts
    lead.refresh_from_db()
    assert lead.status == LeadStatus.NEW and lead.converted_at is None and lead.converted_contact is None
    assert lead.version == 1
    assert not ObjectChange.objects.filter(object_type__in=["contact", "company", "deal"]).exists()
    assert not ObjectChange.objects.filter(object_type="lead", action="update").exists()


def test_deal_without_name_rolls_back_everything(rep_a, pipeline):
    lead = new_lead(rep_a)
    note = ActivityFactory(lead=lead, owner=rep_a)
    with pytest.raises(ValidationFailed) as exc:
        lead_convert(lead, actor=rep_a, deal={"amount": "10"})
    assert "deal.name" in exc.value.fields
    assert_nothing_converted(lead, (0, 0, 0))
    note.refresh_from_db()
    assert links_of(note) == {"lead": [lead.pk]} and note.version == 1
    # The search index was rolled back too: no contact or company to find.
    found = search(rep_a, "acme")
    assert found["company"] == [] and found["contact"] == []


def test_deal_with_a_stage_of_another_pipeline_rolls_back_everything(rep_a, pipeline):
    other = PipelineFactory(name="Renewals")
    lead = new_lead(rep_a)
    with pytest.raises(ValidationFailed) as exc:
        lead_convert(
            lead,
            actor=rep_a,
            deal={"name": "Pilot", "pipeline_id": pipeline.pk, "stage_id": other.stages.first().pk},
        )
    assert set(exc.value.fields) == {"deal.stage_id"}  # named as part of the deal
    assert_nothing_converted(lead, (0, 0, 0))


def test_failure_after_matching_existing_records_leaves_them_untouched(rep_a, pipeline):
    contact = contact_create(actor=rep_a, data={"first_name": "Ann", "email": "ann@acme.com"}).obj
    lead = new_lead(rep_a)
    with pytest.raises(ValidationFailed):
        lead_convert(lead, actor=rep_a, deal={"name": ""})
    contact.refresh_from_db()
    assert contact.company is None and contact.version == 1
    assert Company.objects.count() == 0
