"""Quote grants for the built-in roles that exist (only missing ones: an admin's own grant stays). The
expiry job's daily schedule is made when the first quote is sent (lifecycle.install_schedule)."""

from django.db import migrations

GRANTS = {
    "sales-manager": ["view", "add", "change", "delete", "export"],
    "sales-rep": ["view", "add", "change", "delete"],
    "support-agent": ["view"],
    "marketer": ["view"],
    "read-only": ["view"],
}


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


class Migration(migrations.Migration):
    dependencies = [
        ("access", "0007_role_field_access"),
        ("quotes", "0002_quotes"),
    ]
    operations = [
        migrations.RunPython(add_grants, remove_grants),
    ]
