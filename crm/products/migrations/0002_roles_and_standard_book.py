"""The catalogue grants for the built-in roles that already exist (crm/access/builtin_roles.py gives
them to new installations), and the standard price book every installation has."""

from django.db import migrations

from crm.access.builtin_roles import BUILTIN_ROLES, CATALOGUE


def add_grants(apps, schema_editor):
    Role = apps.get_model("access", "Role")
    for spec in BUILTIN_ROLES:
        role = Role.objects.filter(slug=spec["slug"], is_admin=False).first()
        if role is None:
            continue
        permissions = dict(role.permissions or {})
        # A grant the admin already set for these types is theirs: only missing ones are added.
        added = {t: spec["permissions"][t] for t in CATALOGUE if t in spec["permissions"] and t not in permissions}
        if added:
            role.permissions = {**permissions, **added}
            role.save(update_fields=["permissions"])


def remove_grants(apps, schema_editor):
    Role = apps.get_model("access", "Role")
    for role in Role.objects.all():
        if any(t in (role.permissions or {}) for t in CATALOGUE):
            role.permissions = {k: v for k, v in role.permissions.items() if k not in CATALOGUE}
            role.save(update_fields=["permissions"])


def standard_book(apps, schema_editor):
    PriceBook = apps.get_model("products", "PriceBook")
    if not PriceBook.objects.filter(is_standard=True).exists():
        PriceBook.objects.create(name="Standard", description="The default prices.", is_standard=True)


class Migration(migrations.Migration):
    dependencies = [("access", "0007_role_field_access"), ("products", "0001_initial")]
    operations = [
        migrations.RunPython(add_grants, remove_grants),
        migrations.RunPython(standard_book, migrations.RunPython.noop),
    ]
