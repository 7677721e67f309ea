"""products/0002 on a database that already has its roles: the built-in ones gain the catalogue grants
they lack (a grant the admin set is kept), and there is one standard price book."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from crm.access.models import Role
from crm.products.models import PriceBook


def migrate(targets):
    MigrationExecutor(connection).migrate(targets)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_existing_roles_gain_the_catalogue_grants_and_a_standard_book_is_made():
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes()
    try:
        migrate([("products", "0001_initial")])
        for role in Role.objects.all():
            role.permissions = {k: v for k, v in role.permissions.items() if k not in ("product", "price_book")}
            role.save()
        mine = Role.objects.get(slug="marketer")
        mine.permissions = {**mine.permissions, "product": ["view", "add"]}
        mine.save()
        migrate(latest)
        grants = {r.slug: r.permissions for r in Role.objects.all()}
        assert grants["sales-rep"]["product"] == ["view"] and grants["sales-rep"]["price_book"] == ["view"]
        assert grants["sales-manager"]["price_book"] == ["view", "add", "change", "delete", "export"]
        assert grants["marketer"]["product"] == ["view", "add"]  # the admin's own grant, kept
        assert "product" not in grants["admin"]  # admins need no grant
        assert list(PriceBook.objects.filter(is_standard=True).values_list("name", flat=True)) == ["Standard"]
    finally:
        migrate(latest)
