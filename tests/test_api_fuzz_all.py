"""Every operation of the OpenAPI document, fuzzed with an admin's token and with a sales rep's (a
restricted role): no 5xx, every status answered is declared, every body conforms to its schema; and,
with the admin's token (who may do everything), a schema-valid request is refused (400/422) only for a
reason JSON Schema cannot express: an unknown reference, an email/phone/domain its checker refuses (as
tests/test_api_fuzz.py), or one of the reasons DECLARED lists per operation.

tests/test_api_fuzz.py goes deeper on the record operations (refusals of schema-valid bodies); this
module walks the rest of the document too, so a new endpoint is fuzzed the day it is mounted. The
number of examples per operation is small and fixed (derandomized), so the module fits the CI run."""

import re

import pytest
import schemathesis
from hypothesis import given
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from crm.access.models import ApiToken
from tests.test_api_fuzz import FORMATS, REFERENCES, app, fuzzing  # noqa: F401 - the WSGI app fixture
from tests.test_api_helpers import KINDS

EXAMPLES = 3
# Deeper, per-type fuzzing lives in tests/test_api_fuzz.py.
RECORD_PREFIXES = tuple(f"/api/v1/{kind}" for kind in KINDS)
# The declared test type (tests/declared_app) has record operations too; its schemas are the test's own.
DECLARED_TYPE_PREFIX = "/api/v1/gadgets"
# What JSON Schema cannot say, per operation path: the fields (as the error names them; "" for a
# refusal of the request as a whole) a schema-valid request may still be refused on, and why.
DECLARED = {
    # One of email, phone or a record (type and id together) must be given: a rule across parameters.
    "/api/v1/privacy/subject-access": r"|type|id",
    "/api/v1/privacy/erasures": r"|type|id",
    # A type's key never changes: sending another one is refused (a rule against the stored value); keys
    # and slugs taken or reserved; the name field must be one of the type's text fields; a field's
    # choices, default, target and flags must suit its type (rules across a definition's fields).
    "/api/v1/settings/object-types": r"key|slug|name_field|fields\.\d+\.[a-z_]+",
    "/api/v1/settings/object-types/{key}": r"key|slug|name_field",
    # A mapping's targets are the fields of the type the body names.
    "/api/v1/import/mappings": r"mapping\..+",
    # The uploaded file is checked by its content (CSV text, XLSX zip, size); the mapping is JSON in a form field.
    # (And mapping or mapping_name, not both.)
    "/api/v1/import/{object_type}": r"file(\.file)?|mapping|mapping_name",
    "/api/v1/import/{object_type}/columns": r"file(\.file)?|mapping",
    "/api/v1/vcard/import": r"file(\.file)?",
    # The rule language (trigger options, conditions, actions) is checked by the rule engine, per type.
    "/api/v1/automation/rules": r"trigger_type|(trigger|conditions|actions)(\..*)?",
    "/api/v1/automation/rules/{pk}": r"trigger_type|(trigger|conditions|actions)(\..*)?",
    "/api/v1/automation/rules/{pk}/test": r"changes(\..*)?",
    # Deleting is for any type; anonymizing only for types that hold people; a status must be one of the
    # type's status field, and a type without one is by age only (rules across fields).
    "/api/v1/privacy/retention-policies": r"action|status",
    "/api/v1/privacy/retention-policies/{pk}": r"action|status",
    # A comma-separated list of type names.
    "/api/v1/search": r"types",
    # Uploaded files are checked by their content (a PNG or JPEG logo; CSV text).
    "/api/v1/settings/branding/logo": r"logo",
    "/api/v1/exchange-rates/import": r"file(\.file)?",
    # A currency's code taken already (a rule against the stored rows).
    "/api/v1/currencies": r"code",
    # Addresses are checked by the email checker, as a record's emails are.
    "/api/v1/emails": r"(to|cc|bcc)(\.\d+)?",
    # Sending what waits needs a mail server configured (EMAIL_URL): a rule on the deployment, not the request.
    "/api/v1/emails/send-waiting": r"",
    # An invitation needs a participant with an address; a cancellation needs an invitation sent before
    # (rules on the stored meeting).
    "/api/v1/meetings/{pk}/invitation": r"participant_ids|cancel",
    # A meeting's details: a time zone the zone database knows, a web address the URL checker accepts, users
    # that exist and are active, an update only while an invitation is out (rules on stored rows).
    "/api/v1/meetings/{pk}/details": r"time_zone|video_url|user_ids|send_update",
    # A user's own SMTP server: the SSRF guard on the host (as for mailboxes), a password with a user name,
    # the user's own address as From (rules across fields and on the stored user).
    "/api/v1/mail-settings/smtp": r"host|password|user",
    # A mailbox's host may not be a private, loopback or local address in any numeric spelling (the SSRF
    # guard, unless MAILBOX_ALLOW_PRIVATE): "0", "127.1" and "10.0.0.1" all match a host-name pattern.
    "/api/v1/mailboxes": r"host",
    "/api/v1/mailboxes/{pk}": r"host",
    # One path for every custom type: which values a type requires is its own definition's to say.
    "/api/v1/objects/{slug}": r"values\..+",
    # An order line's quantity or price is negative only on a credit line, it names a product or has a
    # description, quantity × price fits an amount (rules across a line's fields); a cancelled or
    # returned order keeps its status, an external id comes with its source (rules against the stored
    # order, across fields); the feed's customer is named by an email, company name or domain.
    "/api/v1/orders": r"lines(\.\d+\.(quantity|unit_price|description))?|external_id",
    "/api/v1/orders/{pk}": r"lines(\.\d+\.(quantity|unit_price|description))?|external_id|status",
    "/api/v1/orders/external/{source}/{external_id}": (
        r"customer(\.\w+)?|lines(\.\d+\.(quantity|unit_price|description))?|status"
    ),
    # An invoice: its due date not before its issue date, its amount to the currency's minor unit, the
    # payments not over the amount and matching the status asked for, none on a draft or void invoice,
    # a void invoice stays void (rules across fields and against the stored payments); a fed payment
    # names its external id; the feed's customer as the order feed's.
    "/api/v1/invoices": r"due_date|amount|status|payments(\.\d+\.(amount|external_id))?|external_id",
    "/api/v1/invoices/{pk}": r"due_date|amount|status|payments(\.\d+\.(amount|external_id))?|external_id",
    "/api/v1/invoices/{pk}/payments": r"payment(\.\w+)?",
    "/api/v1/invoices/external/{source}/{external_id}": (
        r"customer(\.\w+)?|due_date|amount|status|payments(\.\d+\.(amount|external_id))?"
    ),
    # Only an accepted quote with a customer, in a currency of at most 2 decimals, becomes an order
    # (rules on the stored quote).
    "/api/v1/quotes/{pk}/order": r"status|company_id|currency|lines",
    # A quota is a user's or a team's (one of the two), with an amount unless a team's rolls up.
    "/api/v1/forecast/quotas": r"user_id|amount|rolls_up",
    # Quotas from CSV text: the text is checked line by line (its header, each cell).
    "/api/v1/forecast/quotas/import": r"csv|rows\.\d+(\.[a-z_]+)?",
    # A closed deal's category follows its outcome; a won or lost stage's is fixed (rules on stored rows).
    "/api/v1/forecast/deals/{pk}/category": r"category",
    "/api/v1/forecast/stages/{pk}/category": r"category",
    # The forecast converts at stored rates: a missing rate names its currency and date.
    "/api/v1/forecast": r"currency",
    # Commissions: a plan's name taken, two tiers at one threshold or two rates for one category, a plan
    # still assigned (rules against stored rows); an assignment overlapping another, naming no user or
    # plan; a period past the calendar's end; splits that do not sum to 100 or name a user twice or one
    # that does not exist; a period without a plan; a missing exchange rate (names currency and date).
    "/api/v1/commissions/plans": r"name|tiers\.\d+\.threshold|category_rates\.\d+\.category",
    "/api/v1/commissions/plans/{pk}": r"name|plan|tiers\.\d+\.threshold|category_rates\.\d+\.category",
    "/api/v1/commissions/assignments": r"rep_id|plan_id|period",
    "/api/v1/commissions/deals/{pk}/splits": r"splits(\.\d+\.user_id)?",
    "/api/v1/commissions/statements": r"period",
    "/api/v1/commissions/statements/calculate": r"period|currency",
    "/api/v1/commissions/adjustments": r"period|currency",
    "/api/v1/forecast/backtest": r"currency",
    # Sales analytics: a filter naming no user, team or pipeline; a missing rate (names currency and date).
    "/api/v1/analytics/sales": r"currency|owner_id|team_id|pipeline_id",
    "/api/v1/analytics/sales/deals": r"currency|owner_id|team_id|pipeline_id",
}

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
            _fuzz(schema[path][method], token, refusals=who == "admin_user" and _checks_refusals(path))
        except (AssertionError, FailureGroup) as exc:  # collect them all: one run names every failing operation
            failures.append(f"{method.upper()} {path}: {_describe(exc)}")
    assert not failures, "\n\n".join(failures)


def _checks_refusals(path: str) -> bool:
    # A bulk body's items are creates or updates (by id): which schema applies is not JSON Schema's to say.
    return not path.startswith(DECLARED_TYPE_PREFIX) and not path.endswith("/bulk")


def _fuzz(operation, token, refusals: bool = False):
    @fuzzing(EXAMPLES)
    @given(case=operation.as_strategy())
    def check(case):
        response = case.call(headers={"Authorization": f"Bearer {token}"})
        case.validate_response(
            response, checks=[not_a_server_error, status_code_conformance, response_schema_conformance]
        )
        if refusals and response.status_code in (400, 422):
            refused = _undeclared(operation.path, response)
            assert not refused, (case.method, case.formatted_path, case.query, case.body, response.text[:500])

    check()


def _undeclared(path: str, response) -> list[str]:
    """The fields of a refusal that no declared reason covers."""
    try:
        fields = list(response.json()["error"]["fields"]) or [""]
    except ValueError:  # a public form answers in HTML: its fields are the form's own, checked as a lead's
        return [] if path.endswith("/submit") else ["(not JSON)"]
    declared = re.compile(rf"^(?:{DECLARED[path]})$") if path in DECLARED else None
    return [
        f
        for f in fields
        if not (f and (REFERENCES.search(f) or FORMATS.search(f))) and not (declared and declared.match(f))
    ]


def _describe(exc: BaseException) -> str:
    """Schemathesis raises a group of failures: their titles and the first lines of each."""
    parts = [str(exc)]
    for sub in getattr(exc, "exceptions", ()):
        parts.append(str(sub)[:600])
    return "\n".join(parts)[:2000]
