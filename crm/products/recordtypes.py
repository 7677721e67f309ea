"""Products and price books, declared as record types (docs/adding-a-record-type.md). Both are the
organization's catalogue: their models are not scoped by owner (models.py), so a role's grant alone
decides who sees them."""

from crm.core.recordtypes import ApiSpec, RecordField, RecordType, SearchSpec, register
from crm.products.api import schemas as s
from crm.products.models import PriceBook, Product, TaxCategory
from crm.products.services import price_books, products

F = RecordField

COMMON = (
    F("id", "int", "ID", sortable=True, read_only=True),
    F("owner", "int", "Created by", lookup="owner_id"),
    F("created_at", "datetime", "Created", sortable=True, read_only=True),
    F("updated_at", "datetime", "Updated", listed=True, sortable=True, read_only=True),
)

register(
    RecordType(
        object_type="product",
        slug="products",
        model=Product,
        singular="product",
        plural="products",
        detail_related=("owner",),
        fields=(
            F("sku", "str", "SKU", listed=True, sortable=True, searchable=True, importable=True, required=True),
            F("name", "str", "Name", listed=True, sortable=True, searchable=True, importable=True, required=True),
            F("category", "str", "Category", listed=True, sortable=True, importable=True),
            F("unit", "str", "Unit", listed=True, importable=True),
            F("active", "bool", "Active", listed=True, importable=True),
            F(
                "tax_category",
                "choice",
                "Tax category",
                choices=tuple(TaxCategory.choices),
                sortable=True,
                importable=True,
            ),
            F("cost", "decimal", "Cost", sortable=True, importable=True, min_value=0),
            F("cost_currency", "str", "Cost currency", importable=True),
            F("description", "str", "Description", importable=True),
            *COMMON,
        ),
        create=products.product_create,
        update=products.product_update,
        delete=products.product_delete,
        api=ApiSpec(out=s.ProductOut, create_in=s.ProductIn, update_in=s.ProductPatch, default_sort="name"),
        search=SearchSpec(text=lambda p: [p.sku, p.name], name_field="sku"),  # imports match on the SKU
    )
)

register(
    RecordType(
        object_type="price_book",
        slug="price-books",
        model=PriceBook,
        singular="price book",
        plural="price books",
        detail_related=("owner",),
        fields=(
            F("name", "str", "Name", listed=True, sortable=True, searchable=True, required=True),
            F("active", "bool", "Active", listed=True),
            # Not in the form: a book becomes standard by PATCH is_standard=true or the page's button.
            F("is_standard", "bool", "Standard", listed=True, read_only=True),
            F("description", "str", "Description"),
            *COMMON,
        ),
        create=price_books.price_book_create,
        update=price_books.price_book_update,
        delete=price_books.price_book_delete,
        api=ApiSpec(out=s.PriceBookOut, create_in=s.PriceBookIn, update_in=s.PriceBookPatch, default_sort="name"),
        # Not in global search: a handful of books, listed on their page (and the migration's Standard
        # book, made without the services, would be missing from the index).
    )
)
