"""Purchase stats as filterable fields of companies and contacts (total spent, last order date, order
count): API filters and sorts, the web list's filters, and saved-view style rule conditions read them,
and they follow order create, update, cancel, delete and an import's undo."""

import datetime as dt
import io

import pytest

from crm.core import recordtypes
from crm.core.filters import build_q, filter_fields_of
from crm.dataio import importing
from crm.orders.models import Order
from crm.orders.services.orders import order_create, order_delete, order_set_status, order_update
from crm.records.models import Company, Contact
from tests.conftest import Api
from tests.factories import CompanyFactory, ContactFactory
from tests.orders.conftest import line

pytestmark = pytest.mark.django_db


def ids(api, path, params):
    r = api.get(path, params)
    assert r.status_code == 200, r.content
    return [item["id"] for item in r.json()["items"]]


@pytest.fixture
def beta(rep_a):
    return CompanyFactory(name="Beta", owner=rep_a)


@pytest.fixture
def idle(rep_a):
    return CompanyFactory(name="Idle", owner=rep_a)  # never ordered: no stats row


def test_filters_and_sorts_on_purchase_stats(rep_a, admin_user, acme, ann, beta, idle):
    order_create(
        actor=rep_a,
        data={"company_id": acme.pk, "contact_id": ann.pk, "lines": [line()], "order_date": dt.date(2026, 2, 1)},
    )
    big = order_create(
        actor=rep_a, data={"company_id": beta.pk, "order_date": dt.date(2026, 3, 1), "lines": [line(quantity="10")]}
    ).obj
    api = Api(rep_a)
    assert ids(api, "/companies", {"total_spent__gte": "100"}) == [beta.pk]
    assert set(ids(api, "/companies", {"order_count": "1"})) == {acme.pk, beta.pk}
    assert ids(api, "/companies", {"last_order_date__lt": "2026-03-01"}) == [acme.pk]
    assert ids(api, "/companies", {"order_count__isnull": "true"}) == [idle.pk]
    assert ids(api, "/companies", {"sort": "-total_spent"})[:2] == [beta.pk, acme.pk]
    assert ids(api, "/contacts", {"total_spent": "20.00"}) == [ann.pk]
    r = api.get("/companies", {"total_spent__gte": "lots"})
    assert r.status_code == 400 and "total_spent__gte" in r.json()["error"]["fields"]

    # Update and cancel move the figures
    order_update(big, actor=rep_a, data={"lines": [line(quantity="1")]})
    assert ids(api, "/companies", {"total_spent__gte": "100"}) == []
    order_set_status(big, actor=rep_a, status="cancelled")
    assert ids(api, "/companies", {"order_count": "0"}) == [beta.pk]
    order_delete(Order.objects.get(company=acme), actor=admin_user)
    assert set(ids(api, "/companies", {"order_count": "0"})) == {acme.pk, beta.pk}


def test_the_web_list_and_rule_conditions_filter_on_them(web, rep_a, acme, beta):
    order_create(actor=rep_a, data={"company_id": acme.pk, "lines": [line(quantity="12")]})
    page = web(rep_a).get("/companies/", {"total_spent__gt": "100"}).content.decode()
    assert "Acme" in page and "Beta" not in page
    fields = filter_fields_of(recordtypes.by_type("company"))
    assert list(Company.objects.filter(build_q("company", {"order_count__gte": "1"}, fields))) == [acme]


def test_an_import_and_its_undo_keep_the_fields_true(admin_user):
    person = ContactFactory(first_name="Bea", email="buyer@example.com", owner=admin_user)
    data = (
        b"Order ID,Date,Currency,Email,Description,Qty,Price\n"
        b"X1,2026-03-01,USD,buyer@example.com,Thing,3,10\n"
        b"X2,2026-04-01,USD,buyer@example.com,Thing,1,10\n"
    )
    batch = importing.run(io.BytesIO(data), actor=admin_user, object_type="orders", file_name="o.csv")
    assert batch.counts["create"] == 2
    api = Api(admin_user)
    assert ids(api, "/contacts", {"order_count": "2", "total_spent": "40.00"}) == [person.pk]
    assert ids(api, "/contacts", {"last_order_date": "2026-04-01"}) == [person.pk]
    importing.undo(batch, actor=admin_user)
    assert Contact.objects.filter(pk=person.pk).exists()
    assert ids(api, "/contacts", {"order_count": "0"}) == [person.pk]
    assert ids(api, "/contacts", {"total_spent__gt": "0"}) == []
