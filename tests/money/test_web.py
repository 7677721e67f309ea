"""Settings → Currencies: admins enable currencies, set, import and delete rates; refusals are shown."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from crm.money.models import Currency, ExchangeRate

pytestmark = pytest.mark.django_db
URL = "/settings/currencies/"


def test_only_admins_open_the_page(web, rep_a, admin_user):
    assert web(rep_a).get(URL).status_code == 403
    page = web(admin_user).get(URL)
    assert page.status_code == 200 and "Currencies and exchange rates" in page.content.decode()
    assert 'href="/settings/currencies/"' in page.content.decode()  # the settings menu links it
    assert "<script" not in page.content.decode().split("<main", 1)[-1] and 'style="' not in page.content.decode()


def test_enable_set_import_filter_and_delete(web, admin_user):
    client = web(admin_user)
    assert client.post(URL, {"action": "enable", "code": "EUR"}).status_code == 302
    assert client.post(URL, {"action": "enable", "code": "GBP"}).status_code == 302
    r = client.post(URL, {"action": "set_rate", "currency": "EUR", "date": "2026-01-01", "rate": "1.1"}, follow=True)
    assert "Rate set: 1 EUR = 1.1 USD on 2026-01-01." in r.content.decode()
    upload = SimpleUploadedFile("r.csv", b"currency,date,rate\nGBP,2026-01-01,1.25\nEUR,2026-02-01,1.12\n")
    r = client.post(URL, {"action": "import", "file": upload}, follow=True)
    assert "2 rates saved." in r.content.decode() and ExchangeRate.objects.count() == 3
    shown = client.get(URL, {"currency": "EUR"}).context["rates"]
    assert [(r.currency_id, r.date) for r in shown] == [("EUR", dt.date(2026, 2, 1)), ("EUR", dt.date(2026, 1, 1))]
    pk = ExchangeRate.objects.get(currency_id="GBP").pk
    assert client.post(URL, {"action": "delete_rate", "id": pk}).status_code == 302
    assert not ExchangeRate.objects.filter(pk=pk).exists()
    assert client.post(URL, {"action": "disable", "code": "GBP"}).status_code == 302
    assert not Currency.objects.get(code="GBP").enabled


def test_refusals_are_shown_and_nothing_is_saved(web, admin_user):
    client = web(admin_user)
    r = client.post(URL, {"action": "disable", "code": "USD"})
    assert r.status_code == 422 and "organization&#x27;s currency" in r.content.decode()
    r = client.post(URL, {"action": "set_rate", "currency": "EUR", "date": "2026-01-01", "rate": "-1"})
    assert r.status_code == 422 and "not an enabled currency" in r.content.decode()
    Currency.objects.filter(code="EUR").update(enabled=True)
    upload = SimpleUploadedFile("r.csv", b"currency,date,rate\nEUR,2026-01-01,1.1\nEUR,someday,1.2\n")
    r = client.post(URL, {"action": "import", "file": upload})
    assert r.status_code == 422 and "line 3.date" in r.content.decode()
    assert not ExchangeRate.objects.exists()
    assert ExchangeRate.objects.filter(rate=Decimal("1.1")).count() == 0
