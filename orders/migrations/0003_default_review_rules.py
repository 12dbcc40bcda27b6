"""A sensible starting set of review rules; ops tune them in the admin."""

from django.db import migrations

DEFAULT_RULES = [
    # (position, name, kind, action, parameters)
    (10, "Payment not captured", "payment_not_captured", "hold", {}),
    (20, "High fraud risk", "fraud_risk", "hold", {"levels": ["high"]}),
    (30, "Address incomplete or postal code invalid", "address_incomplete", "hold", {}),
    (40, "Customer on the block list", "customer_blocked", "hold", {}),
    (50, "Unknown SKU", "unknown_sku", "hold", {}),
    (60, "Destination not served by any warehouse", "destination_not_served", "hold", {}),
    (70, "Likely duplicate within 24 h", "likely_duplicate", "flag", {"window_hours": 24}),
    (80, "Stock short", "stock_short", "flag", {}),
]


def create_rules(apps, schema_editor):
    ReviewRule = apps.get_model("orders", "ReviewRule")
    if ReviewRule.objects.exists():
        return
    ReviewRule.objects.bulk_create(
        ReviewRule(position=pos, name=name, kind=kind, action=action, parameters=params)
        for pos, name, kind, action, params in DEFAULT_RULES
    )


class Migration(migrations.Migration):
    dependencies = [("orders", "0002_order_pipeline")]

    operations = [migrations.RunPython(create_rules, migrations.RunPython.noop)]
