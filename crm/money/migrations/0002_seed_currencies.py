"""Every ISO 4217 active currency (crm/money/iso4217.py), enabled: the organization's currency
(settings.DEFAULT_CURRENCY) and every currency existing deals already use, so no stored deal holds a
currency that is not enabled. A code on a deal that is not in the list is added under its code."""

from django.conf import settings
from django.db import migrations

from crm.money.iso4217 import SYMBOLS, rows


def seed(apps, schema_editor):
    Currency = apps.get_model("money", "Currency")
    Deal = apps.get_model("records", "Deal")
    used = {c.upper() for c in Deal.objects.values_list("currency", flat=True).distinct() if c}
    enabled = used | {settings.DEFAULT_CURRENCY.upper()}
    known = {code for code, _, _ in rows()}
    items = [
        Currency(code=code, name=name, minor_units=units, symbol=SYMBOLS.get(code, ""), enabled=code in enabled)
        for code, name, units in rows()
    ]
    items += [Currency(code=code, name=code, minor_units=2, enabled=True) for code in sorted(enabled - known)]
    Currency.objects.bulk_create(items, ignore_conflicts=True)
    Currency.objects.filter(code__in=enabled).update(enabled=True)


class Migration(migrations.Migration):
    dependencies = [
        ("money", "0001_initial"),
        ("records", "0005_activitylink_occurred_at"),
    ]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
