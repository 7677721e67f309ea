"""The product and price-book pages: the generic list and form, the product's prices, and the price
book's entries table with its add/change/remove form, through the services."""

import pytest
from django.test import Client

from crm.products.models import PriceBookEntry, Product

pytestmark = pytest.mark.django_db


def page(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_manager_adds_a_product_and_lists_products(manager):
    client = page(manager)
    r = client.post(
        "/products/new/",
        {
            "sku": "NEW-1",
            "name": "Gearbox",
            "unit": "each",
            "category": "Hardware",
            "tax_category": "standard",
            "active": "on",
            "cost": "12.50",
            "cost_currency": "EUR",
        },
    )
    assert r.status_code == 302, r.content.decode()[:3000]
    made = Product.objects.get(sku="NEW-1")
    assert (made.name, str(made.cost), made.owner) == ("Gearbox", "12.50", manager)
    html = client.get("/products/").content.decode()
    assert "NEW-1" in html and "Gearbox" in html and "Hardware" in html
    assert "Hardware" in client.get("/products/", {"category": "Hardware"}).content.decode()
    r = client.post("/products/new/", {"sku": "new-1", "name": "Again", "tax_category": "standard"})
    assert r.status_code == 200 and "already used" in r.content.decode()
    assert Product.objects.count() == 1


def test_the_price_book_page_adds_changes_and_removes_prices(admin_user, standard, widget):
    client = page(admin_user)
    url = f"/price-books/{standard.pk}/"
    assert "No prices yet." in client.get(url).content.decode()
    form = {"product_id": widget.pk, "currency": "eur", "unit_price": "10.00", "min_quantity": "1"}
    r = client.post(f"{url}entries/", {**form, "version": standard.version})
    assert r.status_code == 302 and r["Location"].startswith(url)
    client.post(f"{url}entries/", {**form, "unit_price": "9.00", "min_quantity": "10", "version": 2})
    client.post(f"{url}entries/", {**form, "unit_price": "9.50", "min_quantity": "10", "version": 3})
    html = client.get(url).content.decode()
    assert "WID-1" in html and "9.50" in html and "Save price" in html and "style=" not in html
    assert sorted(PriceBookEntry.objects.values_list("unit_price", flat=True)) == [9.5, 10]
    bad = client.post(f"{url}entries/", {**form, "unit_price": "-3"}, follow=True).content.decode()
    assert "not saved" in bad and "at least 0" in bad and PriceBookEntry.objects.count() == 2
    entry = PriceBookEntry.objects.get(min_quantity=10)
    client.post(f"{url}entries/{entry.pk}/delete/", {"version": 4})
    assert list(PriceBookEntry.objects.values_list("min_quantity", flat=True)) == [1]
    product_page = client.get(f"/products/{widget.pk}/").content.decode()
    assert "Standard" in product_page and "€10" in product_page


def test_deleting_a_product_with_prices_says_why(admin_user, tiered, widget):
    r = page(admin_user).post(f"/products/{widget.pk}/delete/", {"version": widget.version}, follow=True)
    assert "has prices in Standard" in r.content.decode() and Product.objects.filter(pk=widget.pk).exists()


def test_a_rep_sees_the_catalogue_but_no_forms(rep_a, tiered, widget):
    client = page(rep_a)
    assert "WID-1" in client.get("/products/").content.decode()
    html = client.get(f"/price-books/{tiered.pk}/").content.decode()
    assert "WID-1" in html and "Save price" not in html and "Remove" not in html
    assert client.get("/products/new/").status_code == 403
    assert client.get(f"/products/{widget.pk}/edit/").status_code == 403
    form = {"product_id": widget.pk, "currency": "EUR", "unit_price": "1"}
    assert client.post(f"/price-books/{tiered.pk}/entries/", form).status_code == 403
    entry = tiered.entries.first()
    assert client.post(f"/price-books/{tiered.pk}/entries/{entry.pk}/delete/").status_code == 403
    assert PriceBookEntry.objects.count() == 4


def test_another_book_is_made_standard_from_its_page(admin_user, standard):
    from crm.products.services import price_books

    partner = price_books.price_book_create(actor=admin_user, data={"name": "Partner"}).obj
    client = page(admin_user)
    assert "Make standard" in client.get(f"/price-books/{partner.pk}/").content.decode()
    assert "Make standard" not in client.get(f"/price-books/{standard.pk}/").content.decode()
    r = client.post(f"/price-books/{partner.pk}/standard/", {"version": partner.version}, follow=True)
    assert "Partner is now the standard price book." in r.content.decode()
    partner.refresh_from_db()
    standard.refresh_from_db()
    assert partner.is_standard and not standard.is_standard
