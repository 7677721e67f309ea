"""The order grants for the built-in roles that already exist (crm/access/builtin_roles.py gives them
to new installations): reps write orders, managers everything, the other roles read them."""

from django.db import migrations

from crm.access.builtin_roles import BUILTIN_ROLES, ORDERS


def add_grants(apps, schema_editor):
    Role = apps.get_model("access", "Role")
    for spec in BUILTIN_ROLES:
        role = Role.objects.filter(slug=spec["slug"], is_admin=False).first()
        if role is None:
            continue
        permissions = dict(role.permissions or {})
        # A grant the admin already set for orders is theirs: only a missing one is added.
        added = {t: spec["permissions"][t] for t in ORDERS if t in spec["permissions"] and t not in permissions}
        if added:
            role.permissions = {**permissions, **added}
            role.save(update_fields=["permissions"])


def remove_grants(apps, schema_editor):
    Role = apps.get_model("access", "Role")
    for role in Role.objects.all():
        if any(t in (role.permissions or {}) for t in ORDERS):
            role.permissions = {k: v for k, v in role.permissions.items() if k not in ORDERS}
            role.save(update_fields=["permissions"])


class Migration(migrations.Migration):
    dependencies = [("access", "0007_role_field_access"), ("orders", "0001_initial")]
    operations = [migrations.RunPython(add_grants, remove_grants)]
