"""Fixtures for inventory tests: a warehouse, a product, an ops user, ledger checks."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from inventory.models import StockItem
from inventory.selectors import stock_ledger_mismatches
from inventory.tests.factories import ProductFactory, WarehouseFactory


@pytest.fixture
def warehouse():
    return WarehouseFactory(code="sz-main", country="CN", priority=10)


@pytest.fixture
def product():
    return ProductFactory(sku="TEE-BLK-M")


@pytest.fixture
def ops_user(db):
    user = get_user_model().objects.create_user(
        username="olivia", email="olivia@example.com", password="pw", is_staff=True
    )
    user.groups.add(Group.objects.get(name="ops"))
    return user


@pytest.fixture
def assert_ledger_consistent():
    """Call after a scenario: every stock row equals the sum of its ledger lines."""

    def check() -> None:
        assert stock_ledger_mismatches() == []
        for item in StockItem.objects.all():
            assert 0 <= item.quantity_allocated <= item.quantity_on_hand

    return check
