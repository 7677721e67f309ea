from django.db import migrations

from crm.access.builtin_roles import BUILTIN_ROLES


def add_roles(apps, schema_editor):
    Role = apps.get_model("access", "Role")
    for spec in BUILTIN_ROLES:
        # An existing role with this slug or name is the admin's own: leave it as it is.
        if Role.objects.filter(slug=spec["slug"]).exists() or Role.objects.filter(name=spec["name"]).exists():
            continue
        Role.objects.create(**spec)


class Migration(migrations.Migration):
    dependencies = [("access", "0001_initial")]
    operations = [migrations.RunPython(add_roles, migrations.RunPython.noop)]
