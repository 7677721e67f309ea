"""Quote grants for the built-in roles that exist (only missing ones: an admin's own grant stays), and
the daily schedule of the expiry job (crm/quotes/services/lifecycle.py)."""

import datetime as dt

from django.db import migrations

GRANTS = {
    "sales-manager": ["view", "add", "change", "delete", "export"],
    "sales-rep": ["view", "add", "change", "delete"],
    "support-agent": ["view"],
    "marketer": ["view"],
    "read-only": ["view"],
}
JOB, CRON = "quotes.expire", "15 0 * * *"


def add_grants(apps, schema_editor):
    Role = apps.get_model("access", "Role")
    for slug, actions in GRANTS.items():
        role = Role.objects.filter(slug=slug, is_admin=False).first()
        if role is not None and "quote" not in (role.permissions or {}):
            role.permissions = {**(role.permissions or {}), "quote": actions}
            role.save(update_fields=["permissions"])


def remove_grants(apps, schema_editor):
    Role = apps.get_model("access", "Role")
    for role in Role.objects.all():
        if "quote" in (role.permissions or {}):
            role.permissions = {k: v for k, v in role.permissions.items() if k != "quote"}
            role.save(update_fields=["permissions"])


def add_schedule(apps, schema_editor):
    Schedule = apps.get_model("automation", "Schedule")
    if not Schedule.objects.filter(key=JOB).exists():
        # The first run is due at once; the scheduler then moves it to the next 00:15 (scheduler.next_time).
        Schedule.objects.create(key=JOB, job_kind=JOB, cron=CRON, next_run_at=dt.datetime(2000, 1, 1, tzinfo=dt.UTC))


def remove_schedule(apps, schema_editor):
    apps.get_model("automation", "Schedule").objects.filter(key=JOB).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("access", "0007_role_field_access"),
        ("automation", "0001_initial"),
        ("quotes", "0002_quotes"),
    ]
    operations = [
        migrations.RunPython(add_grants, remove_grants),
        migrations.RunPython(add_schedule, remove_schedule),
    ]
