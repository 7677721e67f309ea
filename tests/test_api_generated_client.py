"""The API as an integrator meets it: a client generated from /api/v1/openapi.json by
openapi-python-client builds without warnings (no operation or response left out) and lists, creates
and updates a contact against a running server."""

import importlib
import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from django.test import Client

from crm.access.models import ApiToken
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)
GENERATOR = Path(sys.executable).with_name("openapi-python-client")


@pytest.fixture
def generated(tmp_path, monkeypatch):
    """The generated package (crm_api_client), imported from a folder of this test's own."""
    schema = tmp_path / "openapi.json"
    schema.write_bytes(Client().get("/api/v1/openapi.json").content)
    env_path = f"{GENERATOR.parent}:{Path('/usr/bin')}"  # its formatter (ruff) comes from the same venv
    done = subprocess.run(
        [str(GENERATOR), "generate", "--path", str(schema), "--output-path", str(tmp_path / "client")],
        capture_output=True, text=True, timeout=300, env={"PATH": env_path, "HOME": str(tmp_path)},
    )  # fmt: skip
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    for sign in ("WARNING", "Cannot parse", "duplicate models", "will be omitted"):
        assert sign not in output, output
    monkeypatch.syspath_prepend(str(tmp_path / "client"))
    for name in [m for m in sys.modules if m.startswith("crm_api_client")]:
        del sys.modules[name]
    return importlib.import_module("crm_api_client")


def test_a_generated_client_lists_creates_and_updates_a_contact(generated, live_server):
    from crm_api_client.api.contacts import create_contact, list_contacts, update_contact
    from crm_api_client.models import ContactIn, ContactPatch

    user = UserFactory(username="integrator", role="sales-manager")
    _, token = ApiToken.issue(user)
    # A generous timeout: on a loaded machine the live server may answer slowly, and that is no failure.
    client = generated.AuthenticatedClient(base_url=live_server.url, token=token, timeout=httpx.Timeout(120))

    created = create_contact.sync(client=client, body=ContactIn(first_name="Ada", last_name="Lovelace"))
    assert created.first_name == "Ada" and created.id > 0
    page = list_contacts.sync(client=client, limit=10)
    assert [c.id for c in page.items] == [created.id] and page.next_ is None
    updated = update_contact.sync(client=client, pk=created.id, body=ContactPatch(title="Countess"))
    assert (updated.title, updated.version) == ("Countess", 2)
    # An error arrives in its declared shape, not as an untyped blob.
    missing = update_contact.sync_detailed(client=client, pk=999999, body=ContactPatch(title="x"))
    assert missing.status_code == 404 and json.loads(missing.content)["error"]["code"] == "not_found"
