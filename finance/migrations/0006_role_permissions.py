from django.db import migrations

from erp.core.roles import roles_sync


class Migration(migrations.Migration):
    """Give the finance and admin role groups their permissions on the finance models."""

    dependencies = [
        ("finance", "0005_profit"),
    ]

    operations = [
        migrations.RunPython(roles_sync, migrations.RunPython.noop),
    ]
