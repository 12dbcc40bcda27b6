"""Ops admin: pages render for the ops role, and every button goes through a service."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from connectors.tests.factories import ChannelFactory
from inventory.choices import AllocationStatus, StockMovementType, TransferStatus
from inventory.models import (
    Allocation,
    ChannelStockPolicy,
    Product,
    StockItem,
    StockMovement,
    Transfer,
)
from inventory.planning import AllocationRequest
from inventory.services.allocation import stock_allocate
from inventory.services.stock import stock_receive
from inventory.services.transfers import TransferLineInput, transfer_create
from inventory.tests.factories import SafetyStockRuleFactory, WarehouseFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def ops_client(client, ops_user):
    client.force_login(ops_user)
    return client


@pytest.mark.parametrize(
    "model",
    [
        "product",
        "warehouse",
        "batch",
        "stockitem",
        "stockmovement",
        "allocation",
        "transfer",
        "safetystockrule",
        "stockalert",
        "channelstockpolicy",
    ],
)
def test_ops_sees_every_inventory_list(ops_client, product, warehouse, model):
    stock_receive(product_id=product.pk, warehouse_id=warehouse.pk, quantity=3)
    SafetyStockRuleFactory(product=product, warehouse=warehouse, minimum_quantity=5)

    response = ops_client.get(reverse(f"admin:inventory_{model}_changelist"))

    assert response.status_code == 200


def test_stock_list_filters_by_warehouse_and_search(ops_client, product, warehouse):
    stock_receive(product_id=product.pk, warehouse_id=warehouse.pk, quantity=3)
    stock_receive(
        product_id=product.pk,
        warehouse_id=WarehouseFactory(code="us-la").pk,
        quantity=1,
    )

    response = ops_client.get(
        reverse("admin:inventory_stockitem_changelist"),
        {"warehouse__id__exact": warehouse.pk, "q": product.sku, "stock": "available"},
    )

    assert list(response.context["cl"].result_list) == [
        StockItem.objects.get(warehouse=warehouse)
    ]


def test_ledger_is_read_only_in_admin(ops_client, product, warehouse):
    movement = stock_receive(
        product_id=product.pk, warehouse_id=warehouse.pk, quantity=3
    )

    response = ops_client.post(
        reverse("admin:inventory_stockmovement_change", args=[movement.pk]),
        {"reason": "edited"},
    )

    assert response.status_code == 403
    assert StockMovement.objects.get().reason == "Received"


def test_receive_page_calls_the_service(ops_client, ops_user, product, warehouse):
    response = ops_client.post(
        reverse("admin:inventory_stockitem_receive"),
        {
            "product": product.pk,
            "warehouse": warehouse.pk,
            "quantity": 9,
            "reference": "PO-3",
        },
    )

    assert response.status_code == 302
    movement = StockMovement.objects.get()
    assert (movement.type, movement.quantity_on_hand_delta, movement.actor) == (
        StockMovementType.RECEIPT,
        9,
        ops_user,
    )


def test_receive_page_shows_rule_errors(ops_client, warehouse):
    serum = Product.objects.create(sku="SERUM", title="Serum", is_lot_tracked=True)

    response = ops_client.post(
        reverse("admin:inventory_stockitem_receive"),
        {"product": serum.pk, "warehouse": warehouse.pk, "quantity": 1},
    )

    assert response.status_code == 200
    assert "lot-tracked" in response.content.decode()
    assert not StockMovement.objects.exists()


def test_adjust_action_asks_then_adjusts(ops_client, product, warehouse):
    stock_receive(product_id=product.pk, warehouse_id=warehouse.pk, quantity=10)
    item = StockItem.objects.get()
    url = reverse("admin:inventory_stockitem_changelist")

    form = ops_client.post(
        url, {"action": "adjust_selected", "_selected_action": [item.pk]}
    )
    done = ops_client.post(
        url,
        {
            "action": "adjust_selected",
            "_selected_action": [item.pk],
            "apply": "1",
            f"count_{item.pk}": 7,
            "reason": "Cycle count",
        },
    )

    assert form.status_code == 200
    assert f"count_{item.pk}" in form.content.decode()
    assert done.status_code == 302
    item.refresh_from_db()
    assert item.quantity_on_hand == 7
    assert (
        StockMovement.objects.get(type=StockMovementType.ADJUSTMENT).reason
        == "Cycle count"
    )


def test_transfer_action_dispatches_a_transfer(ops_client, product, warehouse):
    stock_receive(product_id=product.pk, warehouse_id=warehouse.pk, quantity=10)
    item = StockItem.objects.get()
    destination = WarehouseFactory(code="us-la")

    ops_client.post(
        reverse("admin:inventory_stockitem_changelist"),
        {
            "action": "transfer_selected",
            "_selected_action": [item.pk],
            "apply": "1",
            "destination": destination.pk,
            f"qty_{item.pk}": 4,
        },
    )

    transfer = Transfer.objects.get()
    assert (transfer.source, transfer.destination, transfer.status) == (
        warehouse,
        destination,
        TransferStatus.IN_TRANSIT,
    )
    item.refresh_from_db()
    assert item.quantity_on_hand == 6


def test_transfer_receive_action(ops_client, product, warehouse):
    stock_receive(product_id=product.pk, warehouse_id=warehouse.pk, quantity=5)
    destination = WarehouseFactory(code="us-la")
    transfer = transfer_create(
        source_warehouse_id=warehouse.pk,
        destination_warehouse_id=destination.pk,
        lines=[TransferLineInput(product.pk, 5)],
    )

    ops_client.post(
        reverse("admin:inventory_transfer_changelist"),
        {"action": "receive_selected", "_selected_action": [transfer.pk], "index": 0},
    )

    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.RECEIVED
    assert StockItem.objects.get(warehouse=destination).quantity_on_hand == 5


def test_release_action(ops_client, product, warehouse):
    stock_receive(product_id=product.pk, warehouse_id=warehouse.pk, quantity=5)
    [allocation] = stock_allocate(
        requests=[AllocationRequest(None, product.pk, 2)], warehouse_id=warehouse.pk
    )

    ops_client.post(
        reverse("admin:inventory_allocation_changelist"),
        {"action": "release_selected", "_selected_action": [allocation.pk], "index": 0},
    )

    assert Allocation.objects.get().status == AllocationStatus.RELEASED
    assert StockItem.objects.get().quantity_allocated == 0


def test_count_import_page_reports_row_errors(ops_client, product, warehouse):
    upload = SimpleUploadedFile(
        "count.csv",
        f"sku,warehouse,counted_quantity\n{product.sku},sz-main,-3\n".encode(),
    )

    response = ops_client.post(
        reverse("admin:inventory_stockitem_import_counts"), {"file": upload}
    )

    body = response.content.decode()
    assert response.status_code == 200
    assert "Nothing was written." in body
    assert "Give a whole number" in body
    assert not StockMovement.objects.exists()


def test_product_import_page_imports(ops_client):
    upload = SimpleUploadedFile("products.csv", b"sku,title\nMUG-1,Mug\n")

    response = ops_client.post(
        reverse("admin:inventory_product_import"), {"file": upload}
    )

    assert response.status_code == 200
    assert Product.objects.get().sku == "MUG-1"


def test_channel_policy_admin_saves_through_the_service(
    client, warehouse, django_user_model
):
    admin_user = django_user_model.objects.create_superuser(
        "root", "root@example.com", "pw"
    )
    client.force_login(admin_user)
    channel = ChannelFactory()

    response = client.post(
        reverse("admin:inventory_channelstockpolicy_add"),
        {
            "channel": channel.pk,
            "warehouses": [warehouse.pk],
            "buffer_kind": "percent",
            "buffer_value": 10,
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    policy = ChannelStockPolicy.objects.get()
    assert (policy.buffer_kind, policy.buffer_value) == ("percent", 10)
    assert list(policy.warehouses.all()) == [warehouse]


def test_ledger_read_in_chinese_says_the_reasons_in_chinese(
    ops_client, product, warehouse
):
    stock_receive(product_id=product.pk, warehouse_id=warehouse.pk, quantity=10)
    [allocation] = stock_allocate(
        requests=[AllocationRequest(None, product.pk, 2)], warehouse_id=warehouse.pk
    )
    ops_client.post(
        reverse("admin:inventory_allocation_changelist"),
        {"action": "release_selected", "_selected_action": [allocation.pk], "index": 0},
    )
    transfer_create(
        source_warehouse_id=warehouse.pk,
        destination_warehouse_id=WarehouseFactory(code="us-la").pk,
        lines=[TransferLineInput(product.pk, 3)],
    )
    # Stored in English whoever wrote them, so an English reader still reads English.
    assert sorted(StockMovement.objects.values_list("reason", flat=True)) == [
        "Allocated",
        "Received",
        "Released in admin",
        "Transfer from sz-main to us-la",
    ]
    english = ops_client.get(
        reverse("admin:inventory_stockmovement_changelist")
    ).content.decode()

    ops_client.post("/i18n/language/", {"language": "zh-hans", "next": "/admin/"})
    page = ops_client.get(reverse("admin:inventory_stockmovement_changelist"))
    chinese = page.content.decode()
    movement = StockMovement.objects.get(type=StockMovementType.TRANSFER_OUT)
    detail = ops_client.get(
        reverse("admin:inventory_stockmovement_change", args=[movement.pk])
    ).content.decode()

    assert "Transfer from sz-main to us-la" in english
    for said in ("已接收", "已分配", "在后台释放", "从 sz-main 调拨到 us-la"):
        assert f'<td class="field-reason_text">{said}</td>' in chinese
    assert "Transfer from" not in chinese
    assert "从 sz-main 调拨到 us-la" in detail


def test_ledger_api_says_reasons_in_the_callers_language(
    ops_client, product, warehouse
):
    stock_receive(product_id=product.pk, warehouse_id=warehouse.pk, quantity=4)

    body = ops_client.get(
        "/api/v1/inventory/movements/", HTTP_ACCEPT_LANGUAGE="zh-hans"
    ).json()

    assert [row["reason"] for row in body["results"]] == ["已接收"]


def test_stock_forms_read_in_chinese_keep_the_suggested_reason_translatable(
    ops_client, product, warehouse
):
    stock_receive(product_id=product.pk, warehouse_id=warehouse.pk, quantity=10)
    item = StockItem.objects.get()
    url = reverse("admin:inventory_stockitem_changelist")
    ops_client.post("/i18n/language/", {"language": "zh-hans", "next": "/admin/"})

    receive = ops_client.get(reverse("admin:inventory_stockitem_receive"))
    adjust = ops_client.post(
        url, {"action": "adjust_selected", "_selected_action": [item.pk]}
    )
    transfer = ops_client.post(
        url, {"action": "transfer_selected", "_selected_action": [item.pk]}
    )
    ops_client.post(
        url,
        {
            "action": "adjust_selected",
            "_selected_action": [item.pk],
            "apply": "1",
            f"count_{item.pk}": 7,
            "reason": "盘点",  # the suggested reason, as a Chinese reader sees it
        },
    )

    assert "批次号" in receive.content.decode()
    assert f"{product.sku} @ sz-main （在库 10）" in adjust.content.decode()
    assert 'value="盘点"' in adjust.content.decode()
    assert f"{product.sku} （可售 10）" in transfer.content.decode()
    # Stored as its English msgid, so an English reader reads "Stock count".
    assert (
        StockMovement.objects.get(type=StockMovementType.ADJUSTMENT).reason
        == "Stock count"
    )
