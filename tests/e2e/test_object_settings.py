"""Settings → Objects in a real browser: the field form shows the Encrypted box for text-like types only
(crm/objects/static/objects/field_form.js), and a field saved with it stores its values encrypted."""

import pytest
from playwright.sync_api import expect

from crm.core import crypto
from crm.customization.models import CustomField
from crm.objects.services import object_type_create

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_the_encrypted_box_follows_the_field_type(open_page, admin_user, settings):
    settings.ENCRYPTION_KEYS, settings.ENCRYPTION_LOOKUP_KEY = [crypto.new_key()], "lookup-key-for-tests"
    data = {"key": "vehicle", "slug": "vehicles", "singular": "Vehicle", "plural": "Vehicles", "name_field": "name"}
    object_type_create(actor=admin_user, data=data)
    page = open_page(admin_user)
    page.goto("/settings/objects/vehicle/fields/new/")
    encrypted = page.get_by_label("Encrypted")
    expect(encrypted).to_be_visible()  # text, the default type
    page.get_by_label("Type").select_option("integer")
    expect(encrypted).to_be_hidden()
    page.get_by_label("Type").select_option("email")
    expect(encrypted).to_be_visible()
    page.get_by_label("Key", exact=True).fill("owner_email")
    page.get_by_label("Label").fill("Owner email")
    encrypted.check()
    page.get_by_role("button", name="Add field").click()
    expect(page).to_have_url("/settings/objects/vehicle/")
    assert CustomField.objects.get(object_type="vehicle", key="owner_email").encrypted
