"""The webhook and web-form endpoints against their OpenAPI document (as tests/test_api_fuzz.py does for
records): no 5xx, every status declared, every body conforming, and a schema-valid body refused only for
what the schema's descriptions say JSON Schema cannot check (a public host, an id that exists, a slug
not yet taken)."""

import pytest
import schemathesis
from hypothesis import given
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from crm.access.models import ApiToken
from crm.automation import webforms, webhooks
from tests.test_api_fuzz import app, fuzzing  # noqa: F401  (app: the fixture)

pytestmark = pytest.mark.django_db
EXAMPLES = 10
REFUSABLE = {"url", "owner_id", "assign_team_id", "slug", "role_id"}  # ids of rows that may not exist
PATHS = ("/api/v1/automation/webhooks", "/api/v1/automation/forms")


@pytest.mark.parametrize("prefix", PATHS)
def test_webhook_and_form_operations_answer_as_declared(app, admin_user, prefix):  # noqa: F811
    _, token = ApiToken.issue(admin_user)
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    # The admins' operations; a form's public embed and submit answer HTML to browsers (tested elsewhere).
    paths = [p for p in schema.raw_schema["paths"] if p == prefix or p.startswith(f"{prefix}/{{pk}}")]
    assert paths
    for path in paths:
        for method in schema.raw_schema["paths"][path]:
            _fuzz(schema[path][method], admin_user, token)


def _existing_pk(path: str, user) -> int:
    if "/webhooks/" in path:
        data = {"name": "Fuzz", "url": "https://example.com/hook"}
        return webhooks.webhook_create(actor=user, data=data).pk
    return webforms.webform_create(actor=user, data={"slug": f"f{id(path)}", "name": "Fuzz"}).pk


def _fuzz(operation, user, token):
    @fuzzing(EXAMPLES)
    @given(case=operation.as_strategy())
    def check(case):
        if "pk" in (case.path_parameters or {}):
            case.path_parameters["pk"] = _existing_pk(operation.path, user)
        response = case.call(headers={"Authorization": f"Bearer {token}"})
        case.validate_response(
            response, checks=[not_a_server_error, status_code_conformance, response_schema_conformance]
        )
        if response.status_code in (400, 422):
            fields = response.json()["error"]["fields"]
            assert set(fields) <= REFUSABLE, (case.method, case.formatted_path, case.body, fields)

    check()


def test_the_document_lists_the_record_types_a_webhook_may_name(api, admin_user):
    doc = api(admin_user).get("/openapi.json").json()
    items = doc["components"]["schemas"]["WebhookIn"]["properties"]["object_types"]["items"]
    assert {"contact", "deal", "gadget"} <= set(items["enum"]) and "x-record-type-key" not in items
    assert (
        api(admin_user)
        .post("/automation/webhooks", {"name": "x", "url": "https://example.com", "extra": 1})
        .status_code
        == 422
    )
