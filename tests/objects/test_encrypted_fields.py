"""Encrypted fields of a custom object type: ciphertext in the JSON, plain in the API, found by equality
through the keyed hash (``?passport=...``), never by the list's text search, and never the name field."""

import json

import pytest
from django.db import connection

from crm.core import crypto
from crm.core.errors import ValidationFailed
from crm.customization.models import CustomField
from crm.customization.services import custom_field_update
from crm.objects import services
from tests.conftest import Api

pytestmark = pytest.mark.django_db
BASE = "/objects/vehicles"
SECRET = "PASSPORT-X99-SECRET"


@pytest.fixture
def vehicle(boss, settings):
    settings.ENCRYPTION_KEYS, settings.ENCRYPTION_LOOKUP_KEY = [crypto.new_key()], "objects lookup key"
    fields = [{"key": "passport", "label": "Passport", "field_type": "text", "encrypted": True}]
    data = {"key": "vehicle", "singular": "Vehicle", "plural": "Vehicles", "slug": "vehicles", "fields": fields}
    return services.object_type_create(actor=boss, data=data)


def test_values_are_ciphertext_at_rest_plain_in_the_api_and_found_by_equality(vehicle, clerk):
    api = Api(clerk)
    r = api.post(BASE, {"values": {"name": "Van", "passport": SECRET}})
    assert r.status_code == 201, r.content
    assert r.json()["values"]["passport"] == SECRET
    api.post(BASE, {"values": {"name": "Car", "passport": "OTHER"}})
    with connection.cursor() as cur:
        cur.execute("SELECT custom_fields FROM objects_customrecord WHERE name = 'Van'")
        raw = cur.fetchone()[0]
    assert SECRET not in (raw if isinstance(raw, str) else json.dumps(raw))
    assert [i["name"] for i in api.get(BASE, {"passport": SECRET}).json()["items"]] == ["Van"]
    assert api.get(BASE, {"q": "PASSPORT-X99"}).json()["items"] == []  # the list's text search skips it
    refused = api.get(BASE, {"passport__contains": "X99"})
    assert refused.status_code == 400 and "equality" in json.dumps(refused.json())
    assert api.get(BASE, {"sort": "passport"}).status_code == 400


def test_the_name_field_cannot_be_encrypted(vehicle, boss):
    name = CustomField.objects.get(object_type="vehicle", key="name")
    with pytest.raises(ValidationFailed) as exc:
        custom_field_update(name, actor=boss, data={"encrypted": True})
    assert "name field" in exc.value.fields["encrypted"]
