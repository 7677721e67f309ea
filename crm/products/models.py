"""Products, price books and their entries (a price per product, currency and quantity tier).

Products and price books are the organization's catalogue, not a rep's records: ``owner`` is the user
who created one (kept for the record page and filters), and ``scoped = False`` makes the role's grant
alone decide who sees them, whatever the role's scope (own, team, all)."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models.functions import Lower

from crm.core.models import RecordModel

ZERO, ONE = 0, 1


class TaxCategory(models.TextChoices):
    STANDARD = "standard", "Standard"
    REDUCED = "reduced", "Reduced"
    ZERO = "zero", "Zero-rated"
    EXEMPT = "exempt", "Exempt"


class Product(RecordModel):
    object_type = "product"
    scoped = False

    sku = models.CharField("SKU", max_length=64)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    unit = models.CharField(max_length=50, blank=True, default="each")  # blank on a write: "each"
    active = models.BooleanField(default=True)
    category = models.CharField(max_length=100, blank=True)
    tax_category = models.CharField(max_length=20, choices=TaxCategory.choices, default=TaxCategory.STANDARD)
    cost = models.DecimalField(
        max_digits=18, decimal_places=2, null=True, blank=True, validators=[MinValueValidator(ZERO)]
    )
    cost_currency = models.CharField(max_length=3, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [models.UniqueConstraint(Lower("sku"), name="product_sku_ci_unique")]
        indexes = [models.Index(fields=["name", "id"], name="product_name_idx")]

    def __str__(self) -> str:
        return f"{self.name} ({self.sku})"


class PriceBook(RecordModel):
    object_type = "price_book"
    scoped = False

    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    active = models.BooleanField(default=True)
    is_standard = models.BooleanField(default=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("name"), name="price_book_name_ci_unique"),
            # At most one standard book (the services keep exactly one).
            models.UniqueConstraint(
                fields=["is_standard"], condition=models.Q(is_standard=True), name="price_book_one_standard"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def extra_snapshot(self) -> dict:
        """The book's prices, one line each, so the change log shows which entries a write changed."""
        return {"entries": entry_lines(self.entries.select_related("product"))}


def entry_lines(entries) -> list[str]:
    lines = [f"{e.product.sku} {e.currency} ≥{e.min_quantity.normalize():f}: {e.unit_price}" for e in entries]
    return sorted(lines)


class PriceBookEntry(models.Model):
    """One price: what ``product`` costs in ``price_book`` and ``currency`` from ``min_quantity`` units up."""

    price_book = models.ForeignKey(PriceBook, on_delete=models.CASCADE, related_name="entries")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="prices")
    currency = models.CharField(max_length=3)
    unit_price = models.DecimalField(max_digits=18, decimal_places=2, validators=[MinValueValidator(ZERO)])
    min_quantity = models.DecimalField(max_digits=12, decimal_places=2, default=1, validators=[MinValueValidator(ONE)])

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["price_book", "product", "currency", "min_quantity"], name="price_book_entry_unique"
            )
        ]
        indexes = [models.Index(fields=["product", "price_book"], name="pbe_product_book_idx")]

    def __str__(self) -> str:
        return f"{self.product_id} {self.currency} ≥{self.min_quantity}: {self.unit_price}"
