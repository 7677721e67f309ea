"""The one template engine: escaping, the sandbox, merge fields checked at save, rule texts on it."""

import datetime as dt
from decimal import Decimal

import pytest

from crm.automation.templating import record_names, render
from crm.core import templating
from crm.core.errors import ValidationFailed
from crm.mail import merge
from tests.factories import ContactFactory, DealFactory

pytestmark = pytest.mark.django_db


def test_html_is_escaped_and_text_is_not(rep_a):
    contact = ContactFactory(first_name="<b>Ann</b> & co", owner=rep_a)
    assert (
        merge.render("Hi {{ contact.first_name }}", contact, rep_a, html=True) == "Hi &lt;b&gt;Ann&lt;/b&gt; &amp; co"
    )
    assert merge.render("Hi {{ contact.first_name }}", contact, rep_a, html=False) == "Hi <b>Ann</b> & co"


def test_fallbacks_money_dates_and_the_sender(rep_a, pipeline):
    rep_a.first_name, rep_a.last_name = "Rita", "Rep"
    contact = ContactFactory(first_name="", owner=rep_a)
    text = '{{ contact.first_name|default:"there" }}, from {{ sender.name }}'
    assert merge.render(text, contact, rep_a, html=False) == "there, from Rita Rep"
    deal = DealFactory(amount=Decimal("1234.5"), currency="EUR", pipeline=pipeline, owner=rep_a)
    deal.expected_close_date = dt.date(2026, 3, 9)
    out = merge.render('{{ deal.amount }} by {{ deal.expected_close_date|date:"Y-m-d" }}', deal, rep_a, html=False)
    assert out == "1,234.50 EUR by 2026-03-09"


@pytest.mark.parametrize(
    "text", ["{{ contact.delete }}", "{{ contact.save }}", "{{ contact.pk }}", "{{ contact.emails }}", "{{ contact }}"]
)
def test_the_sandbox_gives_nothing_of_methods_or_relations(rep_a, text):
    contact = ContactFactory(owner=rep_a)
    assert merge.render(text, contact, rep_a, html=False) == ""
    assert contact.__class__.objects.filter(pk=contact.pk).exists()  # and delete was not called


@pytest.mark.parametrize("text", ["{{ contact.__class__ }}", "{{ contact._values }}", "{{ _x }}"])
def test_private_names_are_refused(rep_a, text):
    contact = ContactFactory(owner=rep_a)
    with pytest.raises(ValidationFailed):
        merge.render(text, contact, rep_a, html=False)
    with pytest.raises(ValidationFailed):
        merge.validate(text, "contact", field="body_html")


@pytest.mark.parametrize(
    "text",
    [
        "{% load static %}",
        '{% include "x.html" %}',
        "{% autoescape off %}{% endautoescape %}",
        "{{ contact.first_name|safe }}",
        "{% debug %}",
    ],
)
def test_tags_and_filters_outside_the_small_set_are_refused(text):
    with pytest.raises(ValidationFailed):
        merge.validate(text, "contact", field="body_html")


def test_unknown_merge_fields_are_named_at_save():
    with pytest.raises(ValidationFailed) as caught:
        merge.validate("Hi {{ contact.nickname }}", "contact", field="subject")
    assert "contact.nickname" in caught.value.fields["subject"]
    with pytest.raises(ValidationFailed) as caught:
        merge.validate("{% if deal.amount %}x{% endif %}", "contact", field="body_html")
    assert "deal.amount" in caught.value.fields["body_html"]
    with pytest.raises(ValidationFailed):
        merge.validate("{{ contact.first_name|default:sender.shoe }}", "contact", field="body_html")
    merge.validate(
        '{% if contact.email %}{{ contact.first_name|default:"there" }}{% endif %} {{ sender.email }}',
        "contact",
        field="body_html",
    )


def test_rule_placeholders_keep_working(rep_a):
    contact = ContactFactory(first_name="Ann", last_name="Lee", owner=rep_a)
    assert render("Call {{name}} ({{ record }}) {{ contact.first_name }}", contact) == "Call Ann Lee (Ann Lee) Ann"
    assert "name" in record_names("contact") and "first_name" in record_names("contact")["contact"]
    templating.validate("Call {{name}}", record_names("contact"))


def test_a_rule_text_with_an_unknown_field_is_refused_at_save(admin_user, api):
    rule = {
        "name": "r",
        "object_type": "lead",
        "trigger_type": "created",
        "actions": [{"type": "create_task", "title": "Call {{nickname}}"}],
    }
    response = api(admin_user).post("/automation/rules", rule)
    assert response.status_code == 422
    assert "nickname" in response.json()["error"]["fields"]["actions.0.title"]


def test_filters_cannot_blow_up_a_text(rep_a, pipeline):
    deal = DealFactory(amount=Decimal("2.5"), pipeline=pipeline, owner=rep_a)
    assert render('{{ probability|floatformat:"2" }}', deal) == "10.00"
    assert render('{{ probability|floatformat:"-99999999" }}', deal) == ""
    with pytest.raises(ValidationFailed):
        templating.validate('{{ name|center:"999999999" }}', record_names("deal"))
