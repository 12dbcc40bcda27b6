"""Read endpoints: products, warehouses, stock levels, ledger, ATS, warehouse choice."""

import pytest

from connectors.tests.factories import ChannelFactory
from inventory.planning import AllocationRequest
from inventory.services.allocation import stock_allocate
from inventory.services.channels import channel_stock_policy_set
from inventory.services.stock import stock_receive
from inventory.tests.factories import (
    BundleComponentFactory,
    ProductFactory,
    WarehouseFactory,
)

pytestmark = pytest.mark.django_db

BASE = "/api/v1/inventory"


def test_product_list_with_components_in_constant_queries(
    ops_api, django_assert_max_num_queries
):
    for _ in range(5):
        BundleComponentFactory()

    with django_assert_max_num_queries(5):
        response = ops_api.get(f"{BASE}/products/?is_bundle=true")

    body = response.json()
    assert body["count"] == 5
    assert len(body["results"][0]["components"]) == 1


def test_stock_list_filters_and_counts_queries(
    ops_api, warehouse, django_assert_max_num_queries
):
    other = WarehouseFactory(code="us-la")
    products = [ProductFactory() for _ in range(4)]
    for p in products:
        stock_receive(product_id=p.pk, warehouse_id=warehouse.pk, quantity=5)
        stock_receive(product_id=p.pk, warehouse_id=other.pk, quantity=1)
    stock_allocate(
        requests=[AllocationRequest(None, products[0].pk, 2)], warehouse_id=warehouse.pk
    )

    with django_assert_max_num_queries(5):
        response = ops_api.get(f"{BASE}/stock/?warehouse=sz-main")

    body = response.json()
    assert body["count"] == 4
    first = next(r for r in body["results"] if r["product_id"] == products[0].pk)
    assert (
        first["quantity_on_hand"],
        first["quantity_allocated"],
        first["quantity_available"],
    ) == (5, 2, 3)
    assert first["warehouse_code"] == "sz-main"
    assert first["lot"] is None


def test_movement_list_filters_by_type_and_sku(ops_api, product, warehouse):
    stock_receive(product_id=product.pk, warehouse_id=warehouse.pk, quantity=5)
    stock_allocate(
        requests=[AllocationRequest(None, product.pk, 1)], warehouse_id=warehouse.pk
    )

    response = ops_api.get(f"{BASE}/movements/?type=allocation&sku={product.sku}")

    [row] = response.json()["results"]
    assert (
        row["type"],
        row["quantity_allocated_delta"],
        row["quantity_allocated_after"],
    ) == (
        "allocation",
        1,
        1,
    )


def test_warehouse_list_and_detail(ops_api, warehouse):
    listing = ops_api.get(f"{BASE}/warehouses/").json()
    detail = ops_api.get(f"{BASE}/warehouses/{warehouse.pk}/").json()

    assert [w["code"] for w in listing["results"]] == ["sz-main"]
    assert detail["priority"] == 10


def test_available_to_sell_api(ops_api, product, warehouse):
    channel = ChannelFactory()
    channel_stock_policy_set(
        channel_id=channel.pk, warehouse_ids=[warehouse.pk], buffer_value=2
    )
    stock_receive(product_id=product.pk, warehouse_id=warehouse.pk, quantity=10)

    response = ops_api.get(
        f"{BASE}/channels/{channel.pk}/available/?product_ids={product.pk}"
    )

    assert response.json() == {
        "channel_id": channel.pk,
        "available": [{"product_id": product.pk, "available_to_sell": 8}],
    }


def test_warehouse_choice_api_prefers_one_serving_the_destination(ops_api, product):
    cn = WarehouseFactory(code="cn", priority=1, service_area=[])
    us = WarehouseFactory(code="us", priority=50, service_area=["US"])
    WarehouseFactory(code="eu", priority=1, service_area=["DE"])
    for wh in (cn, us):
        stock_receive(product_id=product.pk, warehouse_id=wh.pk, quantity=3)

    response = ops_api.post(
        f"{BASE}/warehouses/choose/",
        {"lines": [{"product_id": product.pk, "quantity": 2}], "country": "US"},
        format="json",
    )

    assert [w["code"] for w in response.json()["warehouses"]] == ["us", "cn"]
