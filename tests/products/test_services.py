"""Product, price-book and entry services: the SKU rule, the standard book, prices written all or
nothing with the book's change log, and the price lookup's rule."""

from decimal import Decimal

import pytest

from crm.audit.models import ObjectChange
from crm.core.errors import Conflict, PermissionDenied, ValidationFailed
from crm.products.models import PriceBook, PriceBookEntry, Product
from crm.products.pricing import NoPrice, price_for
from crm.products.services import entries, price_books, products
from crm.products.services.common import check_currency

pytestmark = pytest.mark.django_db


def test_a_product_is_created_with_a_trimmed_sku_and_the_org_currency_for_its_cost(admin_user, settings):
    settings.DEFAULT_CURRENCY = "EUR"
    p = products.product_create(
        actor=admin_user, data={"sku": "  ab-1   x ", "name": " Anvil ", "cost": Decimal("3.50"), "unit": "hour"}
    ).obj
    assert (p.sku, p.name, p.unit, p.cost, p.cost_currency) == ("ab-1 x", "Anvil", "hour", Decimal("3.50"), "EUR")
    assert p.owner == admin_user and p.active and p.tax_category == "standard"
    assert ObjectChange.objects.filter(object_type="product", object_id=p.pk, action="create").exists()


def test_a_sku_is_unique_whatever_its_case(admin_user, widget):
    with pytest.raises(ValidationFailed) as exc:
        products.product_create(actor=admin_user, data={"sku": " wid-1 ", "name": "Other"})
    assert "WID-1" in exc.value.fields["sku"] and "Widget" in exc.value.fields["sku"]
    other = products.product_create(actor=admin_user, data={"sku": "WID-2", "name": "Other"}).obj
    with pytest.raises(ValidationFailed):
        products.product_update(other, actor=admin_user, data={"sku": "Wid-1"})
    assert Product.objects.count() == 2 and Product.objects.get(pk=other.pk).sku == "WID-2"
    products.product_update(widget, actor=admin_user, data={"sku": "wid-1"})  # its own SKU in another case
    assert Product.objects.get(pk=widget.pk).sku == "wid-1"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"sku": "", "name": "X"}, "sku"),
        ({"sku": "X1", "name": "  "}, "name"),
        ({"sku": "X1", "name": "X", "cost": Decimal("-1")}, "cost"),
        ({"sku": "X1", "name": "X", "cost": 1, "cost_currency": "euro"}, "cost_currency"),
        ({"sku": "X1", "name": "X", "tax_category": "luxury"}, "tax_category"),
    ],
)
def test_bad_product_values_are_refused_and_nothing_is_written(admin_user, data, field):
    with pytest.raises(ValidationFailed) as exc:
        products.product_create(actor=admin_user, data=data)
    assert field in exc.value.fields
    assert not Product.objects.exists()


def test_a_price_in_a_currency_not_enabled_is_refused_naming_it(admin_user, standard, widget):
    with pytest.raises(ValidationFailed) as err:
        entries.entries_upsert(
            standard, actor=admin_user, entries=[{"product_id": widget.pk, "currency": "JPY", "unit_price": "100"}]
        )
    assert "JPY is not an enabled currency" in str(err.value.fields)
    assert not standard.entries.exists()


def test_the_currency_check_is_one_function():
    assert check_currency(" usd ") == "USD"
    for bad in ("US", "EURO", "12A", None, 5):
        with pytest.raises(ValueError):
            check_currency(bad)


def test_only_managers_and_admins_write_products_and_reps_read_them(manager, rep_a, rep_b, readonly):
    made = products.product_create(actor=manager, data={"sku": "M-1", "name": "Managed"}).obj
    for user in (rep_a, rep_b, readonly):
        assert list(Product.objects.restrict(user, "view")) == [made]  # the catalogue: no owner scope
        with pytest.raises(PermissionDenied):
            products.product_create(actor=user, data={"sku": "R-1", "name": "Rep's"})
        with pytest.raises(PermissionDenied):
            products.product_update(made, actor=user, data={"name": "Renamed"})
    assert Product.objects.get().name == "Managed"


def test_a_product_with_prices_is_not_deleted(admin_user, widget, tiered):
    with pytest.raises(Conflict) as exc:
        products.product_delete(widget, actor=admin_user)
    assert "Standard" in exc.value.message and Product.objects.filter(pk=widget.pk).exists()
    for e in list(tiered.entries.all()):
        entries.entry_delete(tiered, e.pk, actor=admin_user)
    products.product_delete(widget, actor=admin_user)
    assert not Product.objects.filter(pk=widget.pk).exists()


def test_there_is_exactly_one_standard_book(admin_user, standard):
    with pytest.raises(ValidationFailed) as exc:
        price_books.price_book_create(actor=admin_user, data={"name": "Second", "is_standard": True})
    assert "Standard" in exc.value.fields["is_standard"]
    partner = price_books.price_book_create(actor=admin_user, data={"name": "Partner"}).obj
    assert not partner.is_standard
    with pytest.raises(ValidationFailed):
        price_books.price_book_create(actor=admin_user, data={"name": " partner "})
    with pytest.raises(ValidationFailed):
        price_books.price_book_update(standard, actor=admin_user, data={"is_standard": False})
    with pytest.raises(ValidationFailed):
        price_books.price_book_update(standard, actor=admin_user, data={"active": False})
    with pytest.raises(Conflict):
        price_books.price_book_delete(standard, actor=admin_user)
    price_books.price_book_update(partner, actor=admin_user, data={"is_standard": True})
    assert list(PriceBook.objects.filter(is_standard=True)) == [partner]
    logged = ObjectChange.objects.filter(object_type="price_book", object_id=standard.pk, action="update").get()
    assert logged.changes["is_standard"] == [True, False]
    price_books.price_book_delete(PriceBook.objects.get(pk=standard.pk), actor=admin_user)
    assert PriceBook.objects.count() == 1


def test_entries_are_upserted_and_logged_on_the_book(admin_user, standard, widget, tiered):
    assert tiered.version == 2
    lines = ObjectChange.objects.get(object_type="price_book", object_id=standard.pk, action="update").changes
    assert lines["entries"][0] == [] and "WID-1 EUR ≥10: 9.00" in lines["entries"][1]
    saved = entries.entries_upsert(
        tiered,
        actor=admin_user,
        entries=[
            {"product_id": widget.pk, "currency": "EUR", "unit_price": "9.50", "min_quantity": "10.00"},
            {"product_id": widget.pk, "currency": "GBP", "unit_price": "7"},
        ],
    ).obj
    prices = {(e.currency, e.min_quantity): e.unit_price for e in saved.entries.all()}
    assert prices[("EUR", Decimal(10))] == Decimal("9.50") and prices[("GBP", Decimal(1))] == Decimal("7.00")
    assert len(prices) == 5 and saved.version == 3
    same = entries.entries_upsert(
        saved, actor=admin_user, entries=[{"product_id": widget.pk, "currency": "GBP", "unit_price": 7}]
    )
    assert same.obj.version == 3  # nothing changed: no version, no log row
    assert (
        ObjectChange.objects.filter(object_type="price_book", object_id=standard.pk).count() == 2
    )  # the migration made it: no create row


@pytest.mark.parametrize(
    ("item", "field"),
    [
        ({"unit_price": "-1"}, "unit_price"),
        ({"unit_price": "1.005"}, "unit_price"),
        ({"unit_price": "NaN"}, "unit_price"),
        ({"min_quantity": "0.5"}, "min_quantity"),
        ({"currency": "eu"}, "currency"),
        ({"product_id": 999999}, "product_id"),
    ],
)
def test_one_bad_entry_and_nothing_is_written(admin_user, standard, widget, item, field):
    good = {"product_id": widget.pk, "currency": "EUR", "unit_price": "5"}
    with pytest.raises(ValidationFailed) as exc:
        entries.entries_upsert(standard, actor=admin_user, entries=[good, {**good, "min_quantity": 5, **item}])
    assert f"entries.1.{field}" in exc.value.fields
    assert not PriceBookEntry.objects.exists() and PriceBook.objects.get(pk=standard.pk).version == 1


def test_the_same_tier_twice_in_one_list_is_refused(admin_user, standard, widget):
    row = {"product_id": widget.pk, "currency": "EUR", "unit_price": "5"}
    with pytest.raises(ValidationFailed) as exc:
        entries.entries_upsert(standard, actor=admin_user, entries=[row, {**row, "min_quantity": "1.0"}])
    assert "entries.1" in exc.value.fields and not PriceBookEntry.objects.exists()


def test_a_rep_cannot_write_entries(rep_a, standard, widget):
    with pytest.raises(PermissionDenied):
        entries.entries_upsert(
            standard, actor=rep_a, entries=[{"product_id": widget.pk, "currency": "EUR", "unit_price": 1}]
        )


@pytest.mark.parametrize(
    ("currency", "quantity", "price", "tier"),
    [
        ("EUR", 1, "10.00", 1),
        ("EUR", "9.99", "10.00", 1),
        ("EUR", 10, "9.00", 10),
        ("EUR", 5000, "8.00", 100),
        ("usd", 50, "12.00", 1),
    ],
)
def test_the_price_is_the_largest_tier_not_above_the_quantity(tiered, widget, currency, quantity, price, tier):
    quote = price_for(widget, tiered, currency, quantity)
    assert (quote.unit_price, quote.min_quantity) == (Decimal(price), Decimal(tier))
    assert PriceBookEntry.objects.get(pk=quote.entry_id).unit_price == Decimal(price)


def test_no_price_is_an_error_naming_product_book_and_currency(admin_user, tiered, widget):
    with pytest.raises(NoPrice) as exc:
        price_for(widget, tiered, "GBP", 1)
    assert "Standard" in exc.value.message and "GBP" in exc.value.message and "WID-1" in exc.value.message
    assert exc.value.status == 422
    entries.entries_upsert(
        tiered,
        actor=admin_user,
        entries=[{"product_id": widget.pk, "currency": "GBP", "unit_price": 1, "min_quantity": 5}],
    )
    with pytest.raises(NoPrice, match="first tier starts at 5"):
        price_for(widget, tiered, "GBP", 2)
    for bad in (0, -1, "lots", "NaN"):
        with pytest.raises(NoPrice):
            price_for(widget, tiered, "EUR", bad)


def test_an_inactive_product_or_book_has_no_price(admin_user, tiered, widget):
    products.product_update(widget, actor=admin_user, data={"active": False})
    with pytest.raises(NoPrice, match="inactive"):
        price_for(Product.objects.get(pk=widget.pk), tiered, "EUR", 1)
    partner = price_books.price_book_create(actor=admin_user, data={"name": "Partner", "active": False}).obj
    products.product_update(Product.objects.get(pk=widget.pk), actor=admin_user, data={"active": True})
    with pytest.raises(NoPrice, match="Partner"):
        price_for(Product.objects.get(pk=widget.pk), partner, "EUR", 1)
