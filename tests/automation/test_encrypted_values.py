"""Encrypted custom values in automation: rule conditions and texts see the clear value (the condition's
``changed``/``to`` compares what the envelopes say; ``eq`` compares the keyed hash as list filters do),
and webhook payloads carry ``{"encrypted": true}`` in their place, neither ciphertext nor clear text."""

import json

import pytest

from crm.automation import rules, webhooks
from crm.automation.models import WebhookSubscription
from crm.core import crypto
from crm.customization.services import custom_field_create
from crm.records.models import Task
from crm.records.services.contacts import contact_create, contact_update

pytestmark = pytest.mark.django_db

OLD, NEW = "NI-1111-OLD", "NI-2222-NEW"


@pytest.fixture(autouse=True)
def keys(settings):
    settings.ENCRYPTION_KEYS = [crypto.new_key()]
    settings.ENCRYPTION_LOOKUP_KEY = "lookup-key-for-tests"


@pytest.fixture
def contact(admin_user, rep_a, commit):
    data = {"object_type": "contact", "key": "national_id", "label": "National ID", "field_type": "text"}
    custom_field_create(actor=admin_user, data={**data, "encrypted": True})
    with commit():
        return contact_create(actor=rep_a, data={"last_name": "Byron", "custom_fields": {"national_id": OLD}}).obj


def test_rule_conditions_and_texts_see_the_clear_value(admin_user, rep_a, contact, commit):
    base = {"object_type": "contact", "trigger_type": "updated"}
    changed = {"all": [{"field": "cf_national_id", "op": "changed", "from": OLD, "to": NEW}]}
    equal = {"all": [{"field": "cf_national_id", "op": "eq", "value": NEW}]}
    for name, conditions in (("changed", changed), ("equal", equal)):
        task = {"type": "create_task", "title": f"{name}: check {{{{cf_national_id}}}}"}
        rules.rule_create(actor=admin_user, data={**base, "name": name, "conditions": conditions, "actions": [task]})
    with commit():
        contact_update(contact, actor=rep_a, data={"title": "CTO"})  # the value did not change: no task
    assert not Task.objects.exists()
    with commit():
        contact_update(contact, actor=rep_a, data={"custom_fields": {"national_id": NEW}})
    titles = sorted(Task.objects.values_list("title", flat=True))
    assert titles == [f"changed: check {NEW}", f"equal: check {NEW}"]


def test_webhook_payloads_say_encrypted_instead_of_the_value(rep_a, contact):
    sub = WebhookSubscription.objects.create(name="sync", url="https://example.com/hook")
    changes = {"custom_fields": [dict(contact.custom_fields), dict(contact.custom_fields)], "title": ["", "CTO"]}
    delivery = webhooks.queue_delivery(sub, "record.updated", contact, changes=changes)
    text = json.dumps(delivery.payload)
    stored = contact.custom_fields["national_id"]
    assert OLD not in text and stored["c"] not in text and stored["h"] not in text
    assert delivery.payload["data"]["custom_fields"] == {"national_id": {"encrypted": True}}
    assert delivery.payload["changes"]["custom_fields"][1] == {"national_id": {"encrypted": True}}
    assert delivery.payload["changes"]["title"] == ["", "CTO"]
