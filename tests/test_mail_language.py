"""Mail to staff speaks the language each person chose for the UI."""

import pytest
from django.contrib.auth.models import Group, User
from django.core import mail

from erp.core.models import UserPreference
from inventory.models import StockAlert
from inventory.services.alerts import stock_alert_notify
from inventory.services.levels import safety_stock_evaluate
from inventory.tests.factories import (
    ProductFactory,
    SafetyStockRuleFactory,
    WarehouseFactory,
)

pytestmark = pytest.mark.django_db


def _ops(username: str, language: str) -> User:
    user = User.objects.create_user(
        username, email=f"{username}@example.com", password="pw", is_staff=True
    )
    user.groups.add(Group.objects.get(name="ops"))
    if language:
        UserPreference.objects.create(user=user, language=language)
    return user


def test_low_stock_mail_goes_out_once_per_language():
    # given: one ops person reads English, one Chinese; a SKU below its minimum
    _ops("olivia", "")
    _ops("wang", "zh-hans")
    product = ProductFactory(sku="TEE-BLK-M")
    warehouse = WarehouseFactory(code="sz-main", country="CN")
    SafetyStockRuleFactory(
        product=product, warehouse=warehouse, minimum_quantity=10, reorder_quantity=24
    )
    safety_stock_evaluate(pairs=[(product.pk, warehouse.pk)])

    # when
    sent = stock_alert_notify(alert_id=StockAlert.objects.get().pk)

    # then
    by_recipient = {tuple(m.to): m for m in mail.outbox}
    assert sent == 2
    assert set(by_recipient) == {("olivia@example.com",), ("wang@example.com",)}
    english, chinese = (
        by_recipient[("olivia@example.com",)],
        by_recipient[("wang@example.com",)],
    )
    assert english.subject.startswith("Low stock: TEE-BLK-M at sz-main")
    assert chinese.subject.startswith("低库存：sz-main 仓库的 TEE-BLK-M")
    assert "建议补货" in chinese.body
    assert "Low stock" not in chinese.subject + chinese.body
