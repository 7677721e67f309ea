"""The API against its own OpenAPI document, as an integrator's fuzzer sees it (schemathesis, in-process
through WSGI). For every record operation, requests generated from the schema never get a 5xx, every
status answered is declared, every body conforms to its declared schema, and a schema-valid request is
refused only for what JSON Schema cannot say: a referenced record (or custom field, or list cursor) that
does not exist, a rule across fields the schema's descriptions name, or an email, phone number or domain
their checkers refuse."""

import re

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from crm.access.models import ApiToken
from tests.test_api_helpers import KINDS, make

EXAMPLES = 5  # per operation: the module stays under a minute
# The fields a schema-valid body may still be refused on (see the module's docstring), by last part.
# A currency (a deal's, a price's, a product's cost_currency) names a row of the currency table (an enabled one),
# as an id names a record.
REFERENCES = re.compile(r"(^|\.)(\w+_ids?|links(\.\d+)?(\.id|\.type)?|custom_fields(\..*)?|cursor|(\w+_)?currency)$")
FORMATS = re.compile(r"(^|\.)(emails?|phones?|domains?)(\.\d+)?(\.email|\.number)?$")
CROSS_FIELD = {
    "contacts": {"first_name"},  # a contact needs a name, an email or a phone
    "leads": {"last_name", "disqualified_reason"},  # a name, a company, an email or a phone; a reason
    "deals": {"lost_reason"},  # a lost deal says why
    "tasks": {"reminder_at"},  # the reminder is not after the due time
}

pytestmark = pytest.mark.django_db


@pytest.fixture
def app():
    """The WSGI app, without closing the database connection after each request (as Django's test
    client does): the test's transaction holds what the fuzzer wrote."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield get_wsgi_application()
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def _refused_for_a_declared_reason(kind: str, field: str) -> bool:
    return bool(REFERENCES.search(field) or FORMATS.search(field)) or field in CROSS_FIELD.get(kind, ())


@pytest.mark.parametrize("kind", KINDS)
def test_record_operations_answer_as_declared(app, admin_user, pipeline, kind):
    _, token = ApiToken.issue(admin_user)
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    prefix = f"/api/v1/{kind}"
    for path in [p for p in schema.raw_schema["paths"] if p == prefix or p.startswith(f"{prefix}/")]:
        for method in schema.raw_schema["paths"][path]:
            _fuzz(schema[path][method], kind, path, admin_user, token)


def fuzzing(examples: int):
    """Hypothesis settings of every fuzz test: a fixed number of derandomized examples, no example
    database, no deadline (the first request of a process is slow)."""
    return settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )


def _fuzz(operation, kind, path, user, token):
    @fuzzing(EXAMPLES)
    @given(case=operation.as_strategy())
    def check(case):
        if "pk" in (case.path_parameters or {}):  # a record that exists, so the operation does its work
            case.path_parameters["pk"] = make(kind, user, "Fuzz").pk
        response = case.call(headers={"Authorization": f"Bearer {token}"})
        case.validate_response(
            response, checks=[not_a_server_error, status_code_conformance, response_schema_conformance]
        )
        if response.status_code in (400, 422) and not path.endswith("/bulk"):
            fields = response.json()["error"]["fields"]
            refused = [f for f in fields if not _refused_for_a_declared_reason(kind, f)]
            assert not refused, (case.method, case.formatted_path, case.query, case.body, fields)

    check()
