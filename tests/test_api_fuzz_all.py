"""Every operation of the OpenAPI document, fuzzed with an admin's token and with a sales rep's (a
restricted role): no 5xx, every status answered is declared, every body conforms to its schema.

tests/test_api_fuzz.py goes deeper on the record operations (refusals of schema-valid bodies); this
module walks the rest of the document too, so a new endpoint is fuzzed the day it is mounted. The
number of examples per operation is small and fixed (derandomized), so the module fits the CI run."""

import pytest
import schemathesis
from hypothesis import given
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from crm.access.models import ApiToken
from tests.test_api_fuzz import app, fuzzing  # noqa: F401 - the WSGI app fixture
from tests.test_api_helpers import KINDS

EXAMPLES = 3
# Deeper, per-type fuzzing lives in tests/test_api_fuzz.py.
RECORD_PREFIXES = tuple(f"/api/v1/{kind}" for kind in KINDS)

pytestmark = pytest.mark.django_db


def _operations(schema, restricted: bool):
    for path, methods in schema.raw_schema["paths"].items():
        if path.startswith(RECORD_PREFIXES) and not restricted:
            continue
        for method in methods:
            yield path, method


@pytest.mark.parametrize("who", ["admin_user", "rep_a"])
def test_every_operation_answers_as_declared(app, pipeline, request, who):  # noqa: F811
    user = request.getfixturevalue(who)
    _, token = ApiToken.issue(user)
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    failures = []
    for path, method in _operations(schema, restricted=who != "admin_user"):
        try:
            _fuzz(schema[path][method], token)
        except (AssertionError, FailureGroup) as exc:  # collect them all: one run names every failing operation
            failures.append(f"{method.upper()} {path}: {_describe(exc)}")
    assert not failures, "\n\n".join(failures)


def _fuzz(operation, token):
    @fuzzing(EXAMPLES)
    @given(case=operation.as_strategy())
    def check(case):
        response = case.call(headers={"Authorization": f"Bearer {token}"})
        case.validate_response(
            response, checks=[not_a_server_error, status_code_conformance, response_schema_conformance]
        )

    check()


def _describe(exc: BaseException) -> str:
    """Schemathesis raises a group of failures: their titles and the first lines of each."""
    parts = [str(exc)]
    for sub in getattr(exc, "exceptions", ()):
        parts.append(str(sub)[:600])
    return "\n".join(parts)[:2000]
