"""Emails, phones and domains are normalized on write, and bad ones are refused naming the field."""

import pytest

from crm.core.errors import ValidationFailed
from crm.core.normalize import InvalidValue, normalize_domain, normalize_email, normalize_phone, phone_search_tokens
from crm.records.models import Company, Contact, Lead
from crm.records.services.companies import company_create, company_update
from crm.records.services.contacts import contact_create
from crm.records.services.leads import lead_create


@pytest.mark.parametrize(
    "raw,expected",
    [
        ("Ann@Example.COM", "ann@example.com"),
        ("  bob.smith+tag@Sub.Example.org ", "bob.smith+tag@sub.example.org"),
        ("JOSÉ@exämple.com", "josé@exämple.com"),
    ],
)
def test_email_is_lower_cased_and_trimmed(raw, expected):
    assert normalize_email(raw) == expected


@pytest.mark.parametrize("raw", ["", "ann", "ann@", "@example.com", "ann@@example.com", "ann example@x.com", "a@b"])
def test_invalid_email_is_refused(raw):
    with pytest.raises(InvalidValue):
        normalize_email(raw)


@pytest.mark.parametrize(
    "raw,expected",
    [
        ("(202) 555-0100", "+12025550100"),
        ("202.555.0100", "+12025550100"),
        ("+44 20 7946 0958", "+442079460958"),
        ("1-202-555-0100", "+12025550100"),
    ],
)
def test_phone_is_e164_in_the_default_region(settings, raw, expected):
    settings.DEFAULT_PHONE_REGION = "US"
    assert normalize_phone(raw) == expected


def test_phone_without_country_code_is_read_in_the_configured_region(settings):
    settings.DEFAULT_PHONE_REGION = "GB"
    assert normalize_phone("020 7946 0958") == "+442079460958"
    settings.DEFAULT_PHONE_REGION = "DE"
    assert normalize_phone("030 123456") == "+4930123456"
    # A number with its own country code ignores the region.
    assert normalize_phone("+1 202 555 0100") == "+12025550100"


@pytest.mark.parametrize("raw", ["", "abc", "12", "+1 555", "phone me"])
def test_invalid_phone_is_refused(raw):
    with pytest.raises(InvalidValue):
        normalize_phone(raw)


def test_phone_search_tokens_hold_international_national_and_local_forms():
    assert phone_search_tokens("+12025550100") == ["12025550100", "2025550100", "5550100"]


@pytest.mark.parametrize(
    "raw,expected",
    [
        ("acme.com", "acme.com"),
        ("https://www.Acme.com/about?x=1", "acme.com"),
        ("http://shop.acme.co.uk:8080", "shop.acme.co.uk"),
        ("WWW.ACME.COM.", "acme.com"),
        ("sales@Acme.com", "acme.com"),
        ("münchen.de", "xn--mnchen-3ya.de"),
    ],
)
def test_domain_from_urls_and_emails(raw, expected):
    assert normalize_domain(raw) == expected


@pytest.mark.parametrize("raw", ["", "acme", "http://", "not a domain", "acme..com", "-acme.com", "http://[bad", "1.2"])
def test_invalid_domain_is_refused(raw):
    with pytest.raises(InvalidValue):
        normalize_domain(raw)


# --- through the services: the field is named, nothing is written -------------------------


def test_contact_create_stores_normalized_values(rep_a, settings):
    settings.DEFAULT_PHONE_REGION = "US"
    contact = contact_create(
        actor=rep_a, data={"first_name": "Ann", "email": " ANN@Example.com", "phone": "(202) 555-0100"}
    ).obj
    contact.refresh_from_db()
    assert (contact.email, contact.phone) == ("ann@example.com", "+12025550100")
    assert list(contact.emails.values_list("email", flat=True)) == ["ann@example.com"]
    assert list(contact.phones.values_list("number", flat=True)) == ["+12025550100"]


@pytest.mark.parametrize("field,value", [("email", "not-an-email"), ("phone", "12")])
def test_contact_with_invalid_value_names_the_field(rep_a, field, value):
    with pytest.raises(ValidationFailed) as exc:
        contact_create(actor=rep_a, data={"first_name": "Ann", field: value})
    assert list(exc.value.fields) == [field]
    assert not Contact.objects.exists()


def test_contact_lists_name_the_bad_item(rep_a):
    with pytest.raises(ValidationFailed) as exc:
        contact_create(
            actor=rep_a, data={"first_name": "Ann", "emails": [{"email": "a@example.com"}, {"email": "bad"}]}
        )
    assert list(exc.value.fields) == ["emails.1"]


@pytest.mark.parametrize("field,value", [("email", "ann@"), ("phone", "call me")])
def test_lead_with_invalid_value_names_the_field(rep_a, field, value):
    with pytest.raises(ValidationFailed) as exc:
        lead_create(actor=rep_a, data={"last_name": "Lee", field: value})
    assert list(exc.value.fields) == [field]
    assert not Lead.objects.exists()


def test_company_domains_are_normalized_and_deduplicated(rep_a):
    company = company_create(
        actor=rep_a, data={"name": "Acme", "domains": ["https://www.acme.com/", "ACME.com", "jobs@acme.io"]}
    ).obj
    assert company.domain == "acme.com"
    assert sorted(company.domains.values_list("domain", flat=True)) == ["acme.com", "acme.io"]


def test_company_invalid_domain_and_phone_name_the_fields(rep_a):
    with pytest.raises(ValidationFailed) as exc:
        company_create(actor=rep_a, data={"name": "Acme", "domains": ["acme.com", "nope"], "phone": "x"})
    assert set(exc.value.fields) == {"domains.1", "phone"}
    assert not Company.objects.exists()


def test_company_primary_domain_replaces_only_the_first(rep_a):
    company = company_create(actor=rep_a, data={"name": "Acme", "domains": ["acme.com", "acme.io"]}).obj
    company_update(company, actor=rep_a, data={"domain": "https://acme.org"})
    company.refresh_from_db()
    assert company.domain == "acme.org"
    assert sorted(company.domains.values_list("domain", flat=True)) == ["acme.io", "acme.org"]


def test_company_invalid_primary_domain_names_the_field(rep_a):
    company = company_create(actor=rep_a, data={"name": "Acme", "domains": ["acme.com"]}).obj
    with pytest.raises(ValidationFailed) as exc:
        company_update(company, actor=rep_a, data={"domain": "not a domain"})
    assert list(exc.value.fields) == ["domain"]
