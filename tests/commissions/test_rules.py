"""The plan arithmetic on its own (pure Decimals), and the role grants' data migration."""

import importlib
from decimal import Decimal

import pytest
from django.apps import apps

from crm.access.models import Role
from crm.commissions import rules

Q = Decimal("10000")


def test_three_tiers_marginal_with_words():
    # 5 % to 100 %, 8 % from 100 % to 150 %, 12 % above. A 20,000 credit from zero:
    # 10,000 × 5 % + 5,000 × 8 % + 5,000 × 12 % = 500 + 400 + 600 = 1,500.
    bands = rules.bands(Decimal(5), [(Decimal(150), Decimal(12)), (Decimal(100), Decimal(8))])
    pieces = rules.tiered(Decimal(20000), Decimal(0), Q, bands)
    assert [(p.amount, p.words) for p in pieces] == [
        (Decimal(10000), "tier 1: 5 % up to 100 % of quota"),
        (Decimal(5000), "tier 2: 8 % from 100 % to 150 % of quota"),
        (Decimal(5000), "tier 3: 12 % above 150 % of quota"),
    ]
    assert sum(p.commission for p in pieces) == Decimal(1500)


def test_credit_starting_exactly_at_the_threshold_is_all_tier_2():
    bands = rules.bands(Decimal(5), [(Decimal(100), Decimal(8))])
    pieces = rules.tiered(Decimal(1000), Q, Q, bands)
    assert [(p.amount, p.rate) for p in pieces] == [(Decimal(1000), Decimal(8))]


def test_a_credit_note_is_paid_back_at_the_band_it_ends_in():
    bands = rules.bands(Decimal(5), [(Decimal(100), Decimal(8))])
    assert rules.tiered(Decimal(-500), Decimal(12000), Q, bands)[0].rate == Decimal(8)
    assert rules.tiered(Decimal(-500), Decimal(10200), Q, bands)[0].rate == Decimal(5)


def test_cap_words():
    assert rules.capped(Decimal("550.00"), Decimal("400.00")) == (
        Decimal("400.00"),
        "cap applied last: 550.00 capped to 400.00",
    )
    assert rules.capped(Decimal("350.00"), Decimal("400.00")) == (Decimal("350.00"), "")
    assert rules.capped(Decimal("350.00"), None) == (Decimal("350.00"), "")


@pytest.mark.django_db
def test_the_migration_adds_missing_grants_and_keeps_an_admins_own():
    migration = importlib.import_module("crm.commissions.migrations.0001_initial")
    rep, manager = Role.objects.get(slug="sales-rep"), Role.objects.get(slug="sales-manager")
    rep.permissions = {k: v for k, v in rep.permissions.items() if k != "commission"}
    rep.save()
    manager.permissions = {**manager.permissions, "commission": ["view"]}
    manager.save()
    migration.add_grants(apps, None)
    rep.refresh_from_db()
    manager.refresh_from_db()
    assert rep.permissions["commission"] == ["view", "export"]
    assert manager.permissions["commission"] == ["view"]
