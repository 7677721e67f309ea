"""Import of leads, deals and activities: mapping suggestions from other CRMs' exports, creating through
the services, bad values as row errors (never a 500), leads updated by email, undo, custom fields."""

import datetime as dt
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from crm.audit.models import ObjectChange
from crm.customization.models import CustomField
from crm.dataio import dates, importing
from crm.dataio.mapping import suggest
from crm.dataio.models import ImportRow
from crm.records.models import Activity, Deal, DealContact, Lead, StageChange
from crm.records.services.contacts import contact_create
from crm.records.services.leads import lead_create
from tests.factories import CompanyFactory, DealFactory, LeadFactory, PipelineFactory, links_of

pytestmark = pytest.mark.django_db


def run(user, text: str, object_type: str, **kw):
    return importing.run(io.BytesIO(text.encode()), actor=user, object_type=object_type, **kw)


def rows(batch):
    return {r.number: r for r in ImportRow.objects.filter(batch=batch)}


# ---- mapping suggestions ------------------------------------------------------------------------


def test_deal_headers_of_other_crms_are_recognised():
    hubspot = ["Deal Name", "Deal Stage", "Pipeline", "Amount", "Close Date", "Deal owner", "Associated Company"]
    assert list(suggest("deals", hubspot).values()) == [
        "name",
        "stage",
        "pipeline",
        "amount",
        "expected_close_date",
        "owner",
        "company",
    ]
    salesforce = ["Opportunity Name", "Account Name", "Stage", "Probability (%)", "Opportunity Owner", "Notes"]
    assert list(suggest("deals", salesforce).values()) == ["name", "company", "stage", "probability", "owner", ""]
    # Pipedrive prefixes each column with the record type; Zoho names the close date "Closing Date".
    pipedrive = ["Deal - Title", "Deal - Value", "Deal - Currency", "Deal - Organization", "Deal - Contact person"]
    assert list(suggest("deals", pipedrive).values()) == ["name", "amount", "currency", "company", "contact"]
    assert suggest("deals", ["Deal Name", "Closing Date", "Contact Name"]) == {
        "Deal Name": "name",
        "Closing Date": "expected_close_date",
        "Contact Name": "contact",
    }


def test_lead_and_activity_headers_of_other_crms_are_recognised():
    leads = ["First Name", "Last Name", "Company", "Email", "Lead Status", "Lead Source", "Lead Owner", "Designation"]
    assert list(suggest("leads", leads).values()) == [
        "first_name",
        "last_name",
        "company_name",
        "email",
        "status",
        "source",
        "owner",
        "title",
    ]
    activities = ["Activity Type", "Subject", "Due date", "Activity - Due time", "Notes", "Contact email", "Deal"]
    assert list(suggest("activities", activities).values()) == [
        "kind",
        "subject",
        "occurred_at",
        "time",
        "body",
        "contact",
        "deal",
    ]
    # Only a prefix naming the record type itself is dropped: "Lead - Title" is not a deal's title.
    assert suggest("deals", ["Deal - Title", "Lead - Title"]) == {"Deal - Title": "name", "Lead - Title": ""}


# ---- leads ----------------------------------------------------------------------------------------


def test_leads_are_created_and_bad_values_are_row_errors(manager):
    text = (
        "First Name,Last Name,Company,Email,Phone,Website,Lead Status,Lead Source,Score,Tags\n"
        "Ann,Lee,Acme,ANN@acme.com,(202) 555-0100,acme.com,Working - Contacted,Web,42,hot;east\n"
        "Bob,Ray,Junk Inc,bob@junk.io,,,Junk Lead,,,\n"
        "Cid,Moss,,not-an-email,12,,alien,,many,\n"
        "Dee,Dunn,,dee@x.com,,,Disqualified,,,\n"
    )
    batch = run(manager, text, "leads")
    assert batch.counts == {
        "create": 2,
        "update": 0,
        "skip": 0,
        "error": 2,
        "companies_created": 0,
        "companies_linked": 0,
    }
    ann = Lead.objects.get(email="ann@acme.com")
    assert (ann.name, ann.company_name, ann.phone, ann.website, ann.status, ann.source, ann.score) == (
        "Ann Lee",
        "Acme",
        "+12025550100",
        "https://acme.com",
        "working",
        "Web",
        42,
    )
    assert sorted(ann.tags.values_list("name", flat=True)) == ["east", "hot"]
    assert ann.owner_id == manager.pk
    bob = Lead.objects.get(email="bob@junk.io")
    assert (bob.status, bob.disqualified_reason) == ("disqualified", "Junk Lead")  # the other CRM's status says why
    found = rows(batch)
    assert set(found[4].errors) == {"Email", "Phone", "Lead Status", "Score"}
    assert found[5].errors == {"disqualified_reason": "Say why the lead is disqualified."}  # the service's rule
    assert ObjectChange.objects.filter(object_type="lead", action="create").count() == 2


def test_leads_are_matched_by_email_updated_and_restored_by_undo(manager):
    old = lead_create(actor=manager, data={"first_name": "Ann", "last_name": "Old", "email": "ann@acme.com"}).obj
    text = "Email,Last Name,Lead Status,Tags\nann@acme.com,Lee,Qualified,vip\nnew@x.com,New,,\n"

    skipped = run(manager, text, "leads")
    assert skipped.counts == {
        "create": 1,
        "update": 0,
        "skip": 1,
        "error": 0,
        "companies_created": 0,
        "companies_linked": 0,
    }
    assert rows(skipped)[2].warnings == [f"Lead {old.pk} has this email; not updated."]
    old.refresh_from_db()
    assert (old.last_name, old.status) == ("Old", "new")

    text = "Email,Last Name,Lead Status,Tags\nANN@acme.com,Lee,Qualified,vip\nnewer@x.com,Newer,,\n"
    updated = run(manager, text, "leads", update_existing=True)
    assert updated.counts == {
        "create": 1,
        "update": 1,
        "skip": 0,
        "error": 0,
        "companies_created": 0,
        "companies_linked": 0,
    }
    old.refresh_from_db()
    assert (old.name, old.status, list(old.tags.values_list("name", flat=True))) == ("Ann Lee", "qualified", ["vip"])

    assert importing.undo(updated, actor=manager) == {"deleted": 1, "restored": 1, "gone": 0}
    old.refresh_from_db()
    assert (old.name, old.status, old.tags.count()) == ("Ann Old", "new", 0)
    assert not Lead.objects.filter(email="newer@x.com").exists()
    assert Lead.objects.filter(email="new@x.com").exists()


def test_same_lead_email_twice_in_a_file(manager):
    batch = run(manager, "email,first name\na@x.com,Ann\nA@X.com,Again\n", "leads")
    assert batch.counts["create"] == 1 and rows(batch)[3].errors == {"email": "Same email as line 2 of this file."}


# ---- deals ----------------------------------------------------------------------------------------


@pytest.fixture
def crm_data(manager, pipeline):
    """The default pipeline "Sales", a second one, a company and a contact."""
    renewals = PipelineFactory(
        name="Renewals", order=1, stages=[("Due", 20, False, False), ("Renewed", 100, True, False)]
    )
    acme = CompanyFactory(name="Acme", owner=manager)
    ann = contact_create(actor=manager, data={"first_name": "Ann", "email": "ann@acme.com"}).obj
    return {"sales": pipeline, "renewals": renewals, "acme": acme, "ann": ann}


DEALS = (
    "Deal Name,Amount,Currency,Pipeline,Deal Stage,Close Date,Company,Contact,Deal owner,Probability,Tags\n"
    'Big one,"$12,500.50",eur,,Proposal,31/12/2026,acme,ANN@acme.com,rep_a,35%,q4;big\n'
    "Renewal,900,,Renewals,,12/31/2026,,,,,\n"
    "Small,10,USD,,,2026-03-04,,,,0.25,\n"
    "Won one,5000,,Sales,won,Dec 31 2026,,,,,\n"
)


@pytest.mark.usefixtures("foreign_currencies")
def test_deals_are_created_in_their_pipeline_and_stage(manager, rep_a, crm_data):
    batch = run(manager, DEALS, "deals")
    assert batch.counts == {
        "create": 4,
        "update": 0,
        "skip": 0,
        "error": 0,
        "companies_created": 0,
        "companies_linked": 1,
    }, rows(batch)
    big = Deal.objects.get(name="Big one")
    assert (big.pipeline, big.stage.name, big.amount, big.currency) == (crm_data["sales"], "Proposal", 12500.50, "EUR")
    assert (big.expected_close_date, big.company, big.owner, big.probability) == (
        dt.date(2026, 12, 31),
        crm_data["acme"],
        rep_a,
        35,
    )
    assert big.probability_overridden and sorted(big.tags.values_list("name", flat=True)) == ["big", "q4"]
    assert list(DealContact.objects.filter(deal=big).values_list("contact_id", "role")) == [
        (crm_data["ann"].pk, "other")
    ]

    renewal = Deal.objects.get(name="Renewal")  # a named pipeline without a stage: its first open stage
    assert (renewal.pipeline.name, renewal.stage.name, renewal.expected_close_date) == (
        "Renewals",
        "Due",
        dt.date(2026, 12, 31),
    )
    small = Deal.objects.get(name="Small")  # neither: the default pipeline's first open stage
    assert (small.stage.name, small.probability, small.expected_close_date) == ("Qualify", 25, dt.date(2026, 3, 4))
    won = Deal.objects.get(name="Won one")
    assert (won.status, won.probability, won.closed_at is not None) == ("won", 100, True)
    assert StageChange.objects.filter(deal__in=[big, renewal, small, won]).count() == 4
    assert ObjectChange.objects.filter(object_type="deal", action="create").count() == 4


def test_deal_bad_values_are_row_errors_naming_their_column(manager, crm_data):
    DealFactory(name="Dup", pipeline=crm_data["sales"], stage=crm_data["sales"].stages.first())
    text = (
        "Name,Amount,Pipeline,Stage,Close Date,Company,Contact,Probability,Currency\n"
        "A,lots,Nope,,2026-02-30,,,,\n"
        "B,10,Renewals,Proposal,03/04/2026,Ghost Ltd,nobody@x.com,150,dollars\n"
        "C,10,,Renewed,tomorrow,,Ann,,\n"
        ",10,,,,,,,\n"
        "E,10,,Lost,,,,,\n"
    )
    batch = run(manager, text, "deals")
    assert batch.counts == {
        "create": 0,
        "update": 0,
        "skip": 0,
        "error": 5,
        "companies_created": 0,
        "companies_linked": 0,
    }
    assert not Deal.objects.exclude(name="Dup").exists()
    found = rows(batch)
    assert set(found[2].errors) == {"Amount", "Pipeline", "Close Date"}
    assert found[2].errors["Pipeline"] == "No pipeline named 'Nope' (there are: Sales, Renewals)."
    assert found[2].errors["Close Date"] == "'2026-02-30' is not a real date."
    assert set(found[3].errors) == {"Stage", "Close Date", "Company", "Contact", "Probability", "Currency"}
    assert found[3].errors["Stage"] == "Pipeline 'Renewals' has no stage 'Proposal' (it has: Due, Renewed)."
    assert "ambiguous" in found[3].errors["Close Date"]
    assert found[3].errors["Contact"] == "No contact with email nobody@x.com."
    assert found[3].errors["Company"] == "No company named 'Ghost Ltd'."
    # A stage without a pipeline is looked up in the default pipeline; a contact may be given by name.
    assert set(found[4].errors) == {"Stage", "Close Date"}
    assert "Pipeline 'Sales' has no stage 'Renewed'" in found[4].errors["Stage"]
    assert set(found[5].errors) == {"name"}  # the service's own check
    assert found[6].errors == {"lost_reason": "Say why the deal was lost."}


def test_deals_without_any_pipeline_are_row_errors(manager):
    batch = run(manager, "name,amount\nA,10\n", "deals")
    assert rows(batch)[2].errors == {"pipeline_id": "There is no pipeline yet: an admin must create one."}


@pytest.mark.usefixtures("foreign_currencies")
def test_deal_import_is_undone(manager, rep_a, crm_data):
    batch = run(manager, DEALS, "deals")
    ids = list(Deal.objects.values_list("pk", flat=True))
    assert len(ids) == 4
    assert importing.undo(batch, actor=manager) == {"deleted": 4, "restored": 0, "gone": 0}
    assert not Deal.objects.exists()
    assert ObjectChange.objects.filter(object_type="deal", action="delete", object_id__in=ids).count() == 4


def test_deals_matched_by_an_external_id_are_updated_and_undone(manager, crm_data):
    CustomField.objects.create(object_type="deal", key="ext", label="External id", field_type="text")
    text = "External id,Deal Name,Amount,Stage,Contact\nX1,A,10,Qualify,ann@acme.com\n"
    run(manager, text, "deals", match_on="cf_ext")
    deal = Deal.objects.get()
    text = "External id,Deal Name,Amount,Stage,Contact\nX1,A2,20.5,Proposal,ann@acme.com\nX2,B,1,,\n"
    batch = run(manager, text, "deals", match_on="cf_ext", update_existing=True)
    assert batch.counts == {
        "create": 1,
        "update": 1,
        "skip": 0,
        "error": 0,
        "companies_created": 0,
        "companies_linked": 0,
    }, rows(batch)
    deal.refresh_from_db()
    assert (deal.name, str(deal.amount), deal.stage.name) == ("A2", "20.50", "Proposal")
    assert importing.undo(batch, actor=manager) == {"deleted": 1, "restored": 1, "gone": 0}
    deal.refresh_from_db()
    assert (deal.name, str(deal.amount), deal.stage.name, Deal.objects.count()) == ("A", "10.00", "Qualify", 1)
    assert deal.deal_contacts.count() == 1  # the contact column links new deals only


def test_links_only_find_records_the_user_can_see(rep_a, rep_b, pipeline):
    CompanyFactory(name="Theirs", owner=rep_b)
    contact_create(actor=rep_b, data={"first_name": "Zed", "email": "zed@x.com"})
    batch = run(rep_a, "name,company,contact\nMine,Theirs,zed@x.com\n", "deals")
    assert set(rows(batch)[2].errors) == {"company", "contact"}
    assert not Deal.objects.exists()


# ---- activities -----------------------------------------------------------------------------------


def test_activities_are_created_with_their_links_and_undone(manager, crm_data):
    deal = DealFactory(name="Big one", pipeline=crm_data["sales"], owner=manager)
    lead = LeadFactory(email="lee@lead.io", owner=manager)
    text = (
        "Activity Type,Subject,Notes,Due date,Due time,Contact,Company,Deal,Lead,Duration,Call direction,Assigned To\n"
        "Phone call,Intro,Went well,2026-05-17,14:30,ann@acme.com,Acme,big one,,1:15,Outbound,\n"
        "Meeting,Demo,,17.05.2026,2:00 PM,,,,lee@lead.io,45 min,,manager\n"
        ",Jotted,Remember the budget,2026-05-18T09:05:00Z,,,,,,,,\n"
    )
    batch = run(manager, text, "activities")
    assert batch.counts == {
        "create": 3,
        "update": 0,
        "skip": 0,
        "error": 0,
        "companies_created": 0,
        "companies_linked": 1,
    }, rows(batch)
    call = Activity.objects.get(subject="Intro")
    assert (call.kind, call.body, call.duration_minutes, call.direction) == ("call", "Went well", 75, "outbound")
    assert call.occurred_at == dt.datetime(2026, 5, 17, 14, 30, tzinfo=dt.UTC)
    assert call.owner == manager
    assert links_of(call) == {"contact": [crm_data["ann"].pk], "company": [crm_data["acme"].pk], "deal": [deal.pk]}
    meeting = Activity.objects.get(subject="Demo")
    assert (meeting.kind, links_of(meeting), meeting.duration_minutes) == ("meeting", {"lead": [lead.pk]}, 45)
    assert meeting.occurred_at == dt.datetime(2026, 5, 17, 14, 0, tzinfo=dt.UTC)
    note = Activity.objects.get(subject="Jotted")  # no kind: a note
    assert (note.kind, note.occurred_at) == ("note", dt.datetime(2026, 5, 18, 9, 5, tzinfo=dt.UTC))

    assert importing.undo(batch, actor=manager) == {"deleted": 3, "restored": 0, "gone": 0}
    assert not Activity.objects.exists()


def test_activity_times_without_a_zone_are_in_the_organizations_time_zone(manager):
    with timezone.override("Europe/Oslo"):
        run(manager, "type,subject,date\ncall,Late,2026-07-01 23:30\n", "activities")
    assert Activity.objects.get().occurred_at == dt.datetime(2026, 7, 1, 21, 30, tzinfo=dt.UTC)


def test_activity_bad_values_are_row_errors(manager, crm_data):
    DealFactory(name="Twin", pipeline=crm_data["sales"], owner=manager)
    DealFactory(name="twin", pipeline=crm_data["sales"], owner=manager)
    text = (
        "Type,Subject,Date,Time,Contact,Deal,Lead,Duration,Direction\n"
        "fax,A,someday,25:00,ghost@x.com,Twin,nolead@x.com,long,sideways\n"
        "call,B,,10:00,,Nope,,,\n"
    )
    batch = run(manager, text, "activities")
    assert batch.counts == {
        "create": 0,
        "update": 0,
        "skip": 0,
        "error": 2,
        "companies_created": 0,
        "companies_linked": 0,
    }
    found = rows(batch)
    assert set(found[2].errors) == {"Type", "Date", "Time", "Contact", "Deal", "Lead", "Duration", "Direction"}
    assert found[2].errors["Deal"] == (
        "More than one deal named 'Twin': rename one, or link the activity after the import."
    )
    assert found[2].errors["Lead"] == "No lead with email nolead@x.com."
    assert found[3].errors == {
        "Time": "A time needs a date column (mapped to occurred_at).",
        "Deal": "No deal named 'Nope'.",
    }
    assert not Activity.objects.exists()


# ---- custom fields --------------------------------------------------------------------------------


def test_custom_fields_of_each_type(manager, pipeline):
    CustomField.objects.create(object_type="deal", key="region_code", label="Sales region", field_type="text")
    CustomField.objects.create(object_type="lead", key="budget", label="Budget", field_type="integer")
    CustomField.objects.create(object_type="activity", key="room", label="Meeting room", field_type="text")
    assert suggest("deals", ["Deal Name", "Sales region"])["Sales region"] == "cf_region_code"
    assert "cf_budget" in importing.columns_of(io.BytesIO(b"Budget\n1\n"), "leads")["targets"]

    run(manager, "Deal Name,Sales region\nA,EMEA\n", "deals")
    assert Deal.objects.get().custom_fields == {"region_code": "EMEA"}
    batch = run(manager, "Email,Budget\na@x.com,5000\nb@x.com,lots\n", "leads")
    assert Lead.objects.get().custom_fields == {"budget": 5000}
    assert set(rows(batch)[3].errors) == {"custom_fields.budget"}  # checked by the service
    run(manager, "Type,Subject,Meeting room\nmeeting,Kickoff,Fjord\n", "activities")
    assert Activity.objects.get().custom_fields == {"room": "Fjord"}


# ---- through the API and the command line ---------------------------------------------------------


def test_api_imports_deals_and_reports_bad_rows(api, manager, pipeline):
    client = api(manager)
    upload = SimpleUploadedFile("deals.csv", b"Deal Name,Amount\nA,10\nB,ten\n", "text/csv")
    response = client.client.post("/api/v1/import/deals", {"file": upload}, headers=client.headers)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["counts"] == {
        "create": 1,
        "update": 0,
        "skip": 0,
        "error": 1,
        "companies_created": 0,
        "companies_linked": 0,
    }
    assert body["rows"][0]["errors"] == {"Amount": "'ten' is not an amount."}


def test_readonly_user_cannot_import_deals(readonly, pipeline):
    with pytest.raises(Exception, match="may not add deals"):
        run(readonly, "name\nA\n", "deals")


# ---- dates ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-12-31", dt.date(2026, 12, 31)),
        ("2026/12/31", dt.date(2026, 12, 31)),
        ("31/12/2026", dt.date(2026, 12, 31)),
        ("12/31/2026", dt.date(2026, 12, 31)),
        ("31.12.2026", dt.date(2026, 12, 31)),
        ("05-05-2026", dt.date(2026, 5, 5)),
        ("31 Dec 2026", dt.date(2026, 12, 31)),
        ("31-Dec-2026", dt.date(2026, 12, 31)),
        ("Dec 31, 2026", dt.date(2026, 12, 31)),
        ("December 31st 2026", dt.date(2026, 12, 31)),
        ("2026-12-31T10:00:00", dt.date(2026, 12, 31)),  # an XLSX datetime cell
    ],
)
def test_accepted_dates(text, expected):
    assert dates.parse_date(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("03/04/2026", "ambiguous"),
        ("2026-02-30", "not a real date"),
        ("31/12/26", "not a date"),
        ("Smarch 3, 2026", "not a date"),
        ("2026-12-31 25:00", "not a date, or a date and time"),
    ],
)
def test_refused_dates(text, message):
    with pytest.raises(ValueError, match=message):
        dates.parse_date(text)


def test_times():
    assert dates.parse_datetime("2026-12-31", "12:00 AM") == dt.datetime(2026, 12, 31, 0, 0, tzinfo=dt.UTC)
    assert dates.parse_datetime("12/31/2026 at 2:30 pm") == dt.datetime(2026, 12, 31, 14, 30, tzinfo=dt.UTC)
    offset = dates.parse_datetime("2026-12-31T14:30:00+02:00")
    assert offset == dt.datetime(2026, 12, 31, 12, 30, tzinfo=dt.UTC)
