"""/api/v1/objects/{slug} against its OpenAPI document (schemathesis, in-process through WSGI): generated
requests never get a 5xx, every status answered is declared and every body conforms to its schema."""

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from crm.access.models import ApiToken
from crm.objects import records, services
from tests.test_api_fuzz import app  # noqa: F401  (the WSGI app fixture)

pytestmark = pytest.mark.django_db
FIELDS = [
    {"key": "seats", "label": "Seats", "field_type": "integer"},
    {"key": "fuel", "label": "Fuel", "field_type": "choice", "choices": ["petrol", "electric"]},
    {"key": "price", "label": "Price", "field_type": "money"},
]


def test_custom_record_operations_answer_as_declared(app, admin_user):  # noqa: F811
    data = {"key": "vehicle", "singular": "Vehicle", "plural": "Vehicles", "slug": "vehicles", "fields": FIELDS}
    vehicle = services.object_type_create(actor=admin_user, data=data)
    _, token = ApiToken.issue(admin_user)
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    paths = [p for p in schema.raw_schema["paths"] if p.startswith("/api/v1/objects/")]
    assert len(paths) == 5  # the records, bulk, one record, its changes, its timeline
    for path in paths:
        for method in schema.raw_schema["paths"][path]:
            _fuzz(schema[path][method], admin_user, vehicle, token)


def _fuzz(operation, user, vehicle, token):
    @settings(
        max_examples=8,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy())
    def check(case):
        params = case.path_parameters or {}
        if "slug" in params and case.method != "GET":  # half the writes on a type that exists
            params["slug"] = "vehicles" if len(str(case.body)) % 2 else params["slug"]
        if "pk" in params:
            params["slug"] = "vehicles"
            params["pk"] = records.record_create(actor=user, object_type=vehicle, data={"name": "Fuzz"}).obj.pk
        response = case.call(headers={"Authorization": f"Bearer {token}"})
        case.validate_response(
            response, checks=[not_a_server_error, status_code_conformance, response_schema_conformance]
        )

    check()
