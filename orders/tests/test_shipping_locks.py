"""Carriers are asked with no row locked, and the short writes lock in the global order."""

from decimal import Decimal

import pytest
from django.db import OperationalError, connection
from django.test.utils import CaptureQueriesContext

from inventory.tests.factories import WarehouseFactory
from logistics.choices import CarrierKind
from logistics.fx import StaticRates
from logistics.models import Shipment
from logistics.tests.factories import CarrierAccountFactory, CarrierServiceFactory
from logistics.tests.fakecarrier import CARRIER_ROUTES, CREDENTIALS, FakeCarrier, Seen
from orders.choices import OrderStatus
from orders.services.shipping import order_ship_prepare
from orders.tests.test_shipping import LONDON, ingest, weighed


@pytest.fixture
def dhl_fake():
    fake = FakeCarrier(list(CARRIER_ROUTES["dhl_express"])).start()
    yield fake
    fake.stop()


def dhl_line(fake: FakeCarrier) -> None:
    account = CarrierAccountFactory(
        code="dhl",
        name="DHL Express",
        carrier=CarrierKind.DHL_EXPRESS,
        credentials=CREDENTIALS["dhl_express"],
        api_base_url=fake.url,
    )
    CarrierServiceFactory(
        account=account, code="mydhl_express_worldwide", name="Express Worldwide"
    )


GBP_USD = StaticRates({("GBP", "USD"): Decimal("1.27")})


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_no_row_is_locked_while_the_carrier_is_asked(channel, stock, dhl_fake):
    # given: every carrier request checks, from another connection, that the order
    # and its shipments can be locked at once
    dhl_line(dhl_fake)
    weighed(
        stock("SKU-A", 5, warehouse=WarehouseFactory(code="us-nj", country="US")), 500
    )
    order = ingest(channel, address=LONDON)
    checks: list[tuple[str, str]] = []

    def try_locks(seen: Seen) -> None:
        try:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT id FROM orders_order WHERE id = %s FOR UPDATE NOWAIT",
                    [order.pk],
                )
                cursor.execute(
                    "SELECT id FROM logistics_shipment WHERE order_id = %s "
                    "FOR UPDATE NOWAIT",
                    [order.pk],
                )
            checks.append((seen.path, "free"))
        except OperationalError:
            checks.append((seen.path, "locked"))
        finally:
            connection.close()

    dhl_fake.on_request = try_locks

    # when
    order_ship_prepare(order_id=order.pk, converter=GBP_USD)

    # then: the rate call and the label call both found nothing locked
    assert checks == [("/rates", "free"), ("/shipments", "free")]
    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED


@pytest.mark.django_db
def test_confirmation_locks_order_then_shipment_then_stock(channel, stock, dhl_fake):
    # given
    dhl_line(dhl_fake)
    weighed(
        stock("SKU-A", 5, warehouse=WarehouseFactory(code="us-nj", country="US")), 500
    )
    order = ingest(channel, address=LONDON)

    # when
    with CaptureQueriesContext(connection) as captured:
        order_ship_prepare(order_id=order.pk, converter=GBP_USD)

    # then: in the confirming transaction, locks come in the global order and
    # before the shipment is written
    sqls = [q["sql"] for q in captured.captured_queries]
    shipped_update = max(
        i
        for i, s in enumerate(sqls)
        if s.startswith('UPDATE "logistics_shipment"') and "'shipped'" in s
    )
    locks = [
        (i, s)
        for i, s in enumerate(sqls)
        if "FOR NO KEY UPDATE" in s and i < shipped_update
    ]
    last_two = [s.split(" FOR NO KEY UPDATE OF ")[1].split()[0] for _, s in locks[-2:]]
    assert last_two == ['"orders_order"', '"logistics_shipment"']
    stock_locks = [
        s
        for i, s in enumerate(sqls)
        if i > shipped_update and 'FOR NO KEY UPDATE OF "inventory_stockitem"' in s
    ]
    assert stock_locks
    assert Shipment.objects.get(order=order).status == "shipped"
