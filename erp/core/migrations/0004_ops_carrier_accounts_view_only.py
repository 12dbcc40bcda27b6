from django.db import migrations

from erp.core.roles import roles_sync


class Migration(migrations.Migration):
    """Ops may see carrier accounts but no longer change them (credentials are admin's)."""

    dependencies = [
        ("core", "0003_user_preference"),
        ("orders", "0006_verbose_names"),
        ("inventory", "0003_verbose_names"),
        ("logistics", "0004_verbose_names"),
        ("finance", "0007_difference_message_phrase"),
        ("connectors", "0005_store_fulfillments"),
    ]

    operations = [migrations.RunPython(roles_sync, migrations.RunPython.noop)]
