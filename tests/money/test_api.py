"""/api/v1/currencies and /api/v1/exchange-rates: reads for everyone signed in, writes for admins."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from crm.money.models import Currency, ExchangeRate

pytestmark = pytest.mark.django_db


def _put(client, path, data):
    return client._call("put", path, data)


def test_currencies_are_listed_and_changed_by_admins_only(api, rep_a, admin_user):
    listed = api(rep_a).get("/currencies", {"enabled": "true"}).json()
    assert listed == [
        {"code": "USD", "name": "US Dollar", "symbol": "$", "minor_units": 2, "enabled": True, "organization": True}
    ]
    assert api(rep_a).patch("/currencies/EUR", {"enabled": True}).status_code == 403
    r = api(admin_user).patch("/currencies/EUR", {"enabled": True})
    assert r.status_code == 200 and r.json()["enabled"] is True
    assert api(admin_user).patch("/currencies/QQQ", {"enabled": True}).status_code == 404
    r = api(admin_user).patch("/currencies/USD", {"enabled": False})
    assert r.status_code == 422 and "organization" in r.json()["error"]["fields"]["enabled"]
    r = api(admin_user).post("/currencies", {"code": "XTS", "name": "Test money", "minor_units": 3})
    assert r.status_code == 201 and Currency.objects.get(code="XTS").enabled
    assert api(admin_user).post("/currencies", {"code": "EUR", "name": "Euro"}).status_code == 422
    assert api(admin_user).post("/currencies", {"code": "eu", "name": "x"}).status_code == 422


def test_rates_are_set_listed_paged_and_deleted(api, rep_a, admin_user):
    Currency.objects.filter(code__in=["EUR", "GBP"]).update(enabled=True)
    body = [
        {"currency": "EUR", "date": "2026-01-01", "rate": "1.10"},
        {"currency": "EUR", "date": "2026-02-01", "rate": "1.12"},
        {"currency": "GBP", "date": "2026-01-01", "rate": "1.25"},
    ]
    assert _put(api(rep_a), "/exchange-rates", body).status_code == 403
    r = _put(api(admin_user), "/exchange-rates", body)
    assert r.status_code == 200 and len(r.json()) == 3
    r = _put(api(admin_user), "/exchange-rates", [*body, {"currency": "EUR", "date": "2026-03-01", "rate": "0"}])
    assert r.status_code == 422 and ExchangeRate.objects.count() == 3
    first = api(rep_a).get("/exchange-rates", {"limit": 2}).json()
    assert [i["date"] for i in first["items"]] == ["2026-02-01", "2026-01-01"] and first["next"]
    rest = api(rep_a).get("/exchange-rates", {"limit": 2, "cursor": first["next"]}).json()
    assert len(rest["items"]) == 1 and rest["next"] is None
    eur = api(rep_a).get("/exchange-rates", {"currency": "EUR", "date_from": "2026-01-15"}).json()["items"]
    assert [(i["currency"], i["rate"]) for i in eur] == [("EUR", "1.1200000000")]
    pk = eur[0]["id"]
    assert api(rep_a).delete(f"/exchange-rates/{pk}").status_code == 403
    assert api(admin_user).delete(f"/exchange-rates/{pk}").status_code == 204
    assert api(admin_user).delete(f"/exchange-rates/{pk}").status_code == 404


def test_rates_import_from_csv(api, admin_user, rep_a):
    Currency.objects.filter(code="EUR").update(enabled=True)
    good = SimpleUploadedFile("rates.csv", b"currency,date,rate\nEUR,2026-01-01,1.1\n", content_type="text/csv")
    client = api(admin_user).client
    headers = api(admin_user).headers
    r = client.post("/api/v1/exchange-rates/import", {"file": good}, headers=headers)
    assert r.status_code == 200 and r.json() == {"saved": 1}
    bad = SimpleUploadedFile("rates.csv", b"currency,date,rate\nEUR,2026-02-01,x\n", content_type="text/csv")
    r = client.post("/api/v1/exchange-rates/import", {"file": bad}, headers=headers)
    assert r.status_code == 422 and "line 2.rate" in r.json()["error"]["fields"]
    pdf = SimpleUploadedFile("rates.csv", b"%PDF-1.4 nothing", content_type="text/csv")
    assert client.post("/api/v1/exchange-rates/import", {"file": pdf}, headers=headers).status_code == 400
    rep = api(rep_a)
    good.seek(0)
    assert rep.client.post("/api/v1/exchange-rates/import", {"file": good}, headers=rep.headers).status_code == 403


@pytest.mark.usefixtures("eur_gbp")
def test_convert(api, rep_a):
    r = api(rep_a).get("/exchange-rates/convert", {"amount": "100", "from": "EUR", "to": "USD", "on": "2026-03-02"})
    assert r.json() == {
        "amount": "120.00",
        "rate": "1.2000000000",
        "rate_date": "2026-03-01",
        "from_code": "EUR",
        "to_code": "USD",
    }
    r = api(rep_a).get("/exchange-rates/convert", {"amount": "100", "from": "EUR", "to": "USD", "on": "2025-01-01"})
    assert r.status_code == 400
    assert json.loads(r.content)["error"]["message"] == "No exchange rate for EUR on or before 2025-01-01"
    r = api(rep_a).get("/exchange-rates/convert", {"amount": "1e9", "from": "EUR", "to": "USD"})
    assert r.status_code in (400, 422)
