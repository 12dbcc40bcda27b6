"""Create the staff roles ops, finance and admin with their permissions."""

from django.db import migrations

from erp.core.roles import roles_sync


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("connectors", "0001_initial"),
        ("inventory", "0001_initial"),
        ("orders", "0001_initial"),
    ]

    operations = [migrations.RunPython(roles_sync, migrations.RunPython.noop)]
