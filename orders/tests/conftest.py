import pytest

from connectors.tests.factories import ChannelFactory
from inventory.services.stock import stock_receive
from inventory.tests.factories import ProductFactory, WarehouseFactory


@pytest.fixture
def channel(db):
    return ChannelFactory(code="us-shop", currency="USD")


@pytest.fixture
def stock(db):
    """stock("SKU-A", 5, warehouse=...) puts units on hand, creating what is missing."""

    def put(sku: str, quantity: int, *, warehouse=None):
        product = ProductFactory(sku=sku)
        warehouse = warehouse or WarehouseFactory(
            code="us-la", country="US", priority=10
        )
        stock_receive(
            product_id=product.pk,
            warehouse_id=warehouse.pk,
            quantity=quantity,
            reference="test receipt",
        )
        return product

    return put
