"""Write endpoints: each calls one service and answers with what it did."""

import pytest

from inventory.models import Allocation, StockItem, StockMovement, Transfer
from inventory.services.stock import stock_receive
from inventory.tests.factories import WarehouseFactory

pytestmark = pytest.mark.django_db

BASE = "/api/v1/inventory"


def test_receive_api_creates_a_receipt(ops_api, product, warehouse, ops_user):
    response = ops_api.post(
        f"{BASE}/stock/receive/",
        {
            "product_id": product.pk,
            "warehouse_id": warehouse.pk,
            "quantity": 7,
            "unit_cost": "2.50",
            "reference": "PO-9",
        },
        format="json",
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["type"] == "receipt"
    assert body["quantity_on_hand_delta"] == 7
    assert body["sku"] == product.sku
    assert body["actor"] == ops_user.username
    assert StockItem.objects.get().quantity_on_hand == 7


def test_finance_may_read_but_not_write(finance_api, product, warehouse):
    response = finance_api.post(
        f"{BASE}/stock/receive/",
        {"product_id": product.pk, "warehouse_id": warehouse.pk, "quantity": 1},
        format="json",
    )

    assert response.status_code == 403
    assert finance_api.get(f"{BASE}/stock/").status_code == 200
    assert not StockMovement.objects.exists()


def test_anonymous_is_refused(client):
    assert client.get(f"{BASE}/stock/").status_code in (401, 403)


def test_adjust_api_validates_input(ops_api, product, warehouse):
    response = ops_api.post(
        f"{BASE}/stock/adjust/",
        {
            "product_id": product.pk,
            "warehouse_id": warehouse.pk,
            "counted_quantity": -1,
        },
        format="json",
    )

    assert response.status_code == 400
    assert set(response.json()["extra"]["fields"]) == {"counted_quantity", "reason"}


def test_allocate_api_returns_allocations_then_409_with_shortages(
    ops_api, product, warehouse
):
    stock_receive(product_id=product.pk, warehouse_id=warehouse.pk, quantity=3)
    payload = {
        "warehouse_id": warehouse.pk,
        "lines": [{"product_id": product.pk, "quantity": 2}],
        "reference": "order:#1",
    }

    first = ops_api.post(f"{BASE}/stock/allocate/", payload, format="json")
    second = ops_api.post(f"{BASE}/stock/allocate/", payload, format="json")

    assert first.status_code == 201
    [allocation] = first.json()
    assert (allocation["quantity"], allocation["status"], allocation["reference"]) == (
        2,
        "allocated",
        "order:#1",
    )
    assert second.status_code == 409
    assert second.json() == {
        "message": f"Not enough stock for {product.sku}.",
        "code": "insufficient_stock",
        "extra": {
            "warehouse_id": warehouse.pk,
            "shortages": [
                {
                    "product_id": product.pk,
                    "sku": product.sku,
                    "requested": 2,
                    "available": 1,
                }
            ],
        },
    }
    assert Allocation.objects.count() == 1


def test_ship_and_release_apis(ops_api, product, warehouse):
    stock_receive(product_id=product.pk, warehouse_id=warehouse.pk, quantity=5)
    ids = [
        ops_api.post(
            f"{BASE}/stock/allocate/",
            {
                "warehouse_id": warehouse.pk,
                "lines": [{"product_id": product.pk, "quantity": 1}],
            },
            format="json",
        ).json()[0]["id"]
        for _ in range(2)
    ]

    shipped = ops_api.post(
        f"{BASE}/stock/ship/", {"allocation_ids": [ids[0]]}, format="json"
    )
    released = ops_api.post(
        f"{BASE}/stock/release/", {"allocation_ids": [ids[1]]}, format="json"
    )
    refused = ops_api.post(
        f"{BASE}/stock/release/", {"allocation_ids": [ids[0]]}, format="json"
    )

    assert shipped.json()[0]["status"] == "shipped"
    assert released.json()[0]["status"] == "released"
    assert refused.status_code == 409
    assert refused.json()["code"] == "allocation_state"
    item = StockItem.objects.get()
    assert (item.quantity_on_hand, item.quantity_allocated) == (4, 0)


def test_return_api(ops_api, product, warehouse):
    response = ops_api.post(
        f"{BASE}/stock/return/",
        {
            "product_id": product.pk,
            "warehouse_id": warehouse.pk,
            "quantity": 2,
            "reason": "RMA 5",
        },
        format="json",
    )

    assert response.status_code == 201
    assert response.json()["type"] == "return"


def test_transfer_apis_dispatch_receive_and_refuse_twice(ops_api, product, warehouse):
    stock_receive(product_id=product.pk, warehouse_id=warehouse.pk, quantity=10)
    destination = WarehouseFactory(code="us-la")

    created = ops_api.post(
        f"{BASE}/transfers/",
        {
            "source_warehouse_id": warehouse.pk,
            "destination_warehouse_id": destination.pk,
            "lines": [{"product_id": product.pk, "quantity": 4}],
        },
        format="json",
    )
    transfer_id = created.json()["id"]
    received = ops_api.post(f"{BASE}/transfers/{transfer_id}/receive/")
    again = ops_api.post(f"{BASE}/transfers/{transfer_id}/cancel/")

    assert created.status_code == 201
    assert created.json()["status"] == "in_transit"
    assert created.json()["lines"] == [
        {"product_id": product.pk, "lot_id": None, "quantity": 4}
    ]
    assert received.json()["status"] == "received"
    assert again.status_code == 409
    assert Transfer.objects.get().status == "received"
    assert StockItem.objects.get(warehouse=destination).quantity_on_hand == 4


def test_unknown_transfer_is_404(ops_api):
    response = ops_api.post(f"{BASE}/transfers/999/receive/")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
