import pytest

from logistics.choices import CarrierKind
from logistics.models import Shipment
from logistics.services.labels import shipment_buy_label
from logistics.services.selection import shipment_select_service
from logistics.services.shipments import shipments_mark_shipped
from logistics.tasks import carrier_webhook_process_task
from logistics.tests.factories import CarrierAccountFactory, CarrierServiceFactory
from logistics.tests.fakecarrier import (
    CARRIER_ROUTES,
    CREDENTIALS,
    UPS_SAMPLE_NUMBER,
    UPS_WEBHOOK_CREDENTIAL,
    FakeCarrier,
)


@pytest.fixture
def fake_carrier():
    """fake_carrier("ups") starts a local fake answering with that carrier's samples."""
    started: list[FakeCarrier] = []

    def start(carrier: str) -> FakeCarrier:
        fake = FakeCarrier(list(CARRIER_ROUTES[carrier])).start()
        started.append(fake)
        return fake

    yield start
    for fake in started:
        fake.stop()


@pytest.fixture
def api_account(db, fake_carrier):
    """api_account("fedex") -> (CarrierAccount pointed at its fake, the fake)."""

    def make(carrier: str, **fields):
        fake = fake_carrier(carrier)
        fields.setdefault("code", f"{carrier}-test")
        fields.setdefault("credentials", CREDENTIALS[carrier])
        account = CarrierAccountFactory(
            name=carrier.upper(),
            carrier=CarrierKind(carrier),
            api_base_url=fake.url,
            **fields,
        )
        return account, fake

    return make


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    """Labels are written under a per-test MEDIA_ROOT, never the project's var/."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def draft(db):
    """draft(country="US", grams=500, ...) records a draft shipment for a new order."""
    from decimal import Decimal

    from erp.core.money import Money
    from inventory.tests.factories import WarehouseFactory
    from logistics.carriers.base import Address, Parcel
    from logistics.services.shipments import (
        ShipmentDraftInput,
        ShipmentItemInput,
        shipment_create_draft,
    )
    from orders.tests.factories import OrderFactory

    def make(
        *,
        country="US",
        region="TX",
        grams=500,
        dims=(200, 150, 100),
        currency="USD",
        value="40.00",
        warehouse=None,
        origin="US",
        promise_days=None,
        sku_tags=(),
        customs=None,
        order=None,
        parcels=None,
        items=None,
        packaging_grams=0,
        channel=None,
    ):
        warehouse = warehouse or WarehouseFactory(
            code=f"wh-{origin.lower()}", country=origin
        )
        extra = {"channel": channel} if channel is not None else {}
        order = order or OrderFactory(
            shipping_address={"country_code": country, "province_code": region},
            **extra,
        )
        return shipment_create_draft(
            data=ShipmentDraftInput(
                order_id=order.pk,
                warehouse_id=warehouse.pk,
                ship_from=Address(
                    name="DTC Warehouse",
                    street1="1 Main St",
                    city="New York" if origin == "US" else "Shenzhen",
                    state_code="NY" if origin == "US" else "",
                    postal_code="10001" if origin == "US" else "518000",
                    country_code=origin,
                    phone="2125550100",
                ),
                ship_to=Address(
                    name="Ava Miller",
                    street1="500 Congress Ave",
                    city="Austin",
                    state_code=region,
                    postal_code="78701",
                    country_code=country,
                    phone="5125550100",
                ),
                parcels=parcels or (Parcel(grams, *dims),),
                items=items
                or (ShipmentItemInput("SKU-A", "Green tea", 2, "4006381333931"),),
                order_value=Money(Decimal(value), currency),
                currency=currency,
                reference=order.number,
                customs=customs,
                channel_id=order.channel_id,
                sku_tags=tuple(sku_tags),
                promise_days=promise_days,
                packaging_grams=packaging_grams,
            )
        )

    return make


# --- carrier tracking webhooks (test_webhooks.py, test_webhook_intake.py) -------------


@pytest.fixture
def enqueued(monkeypatch):
    """Delivery ids handed to the worker queue (instead of the broker)."""
    ids: list[int] = []
    monkeypatch.setattr(carrier_webhook_process_task, "delay", ids.append)
    return ids


@pytest.fixture
def ups(api_account):
    account, fake = api_account(
        "ups",
        credentials={
            **CREDENTIALS["ups"],
            "webhook_credential": UPS_WEBHOOK_CREDENTIAL,
        },
    )
    CarrierServiceFactory(account=account, code="ups_standard", name="UPS Standard")
    return account


@pytest.fixture
def shipped(ups, draft):
    """shipped(number): a UPS shipment labelled and handed over, known by that number."""

    def make(number: str = UPS_SAMPLE_NUMBER) -> Shipment:
        shipment = draft(currency="CAD")  # the UPS rate sample prices in CAD
        shipment_select_service(shipment_id=shipment.pk)
        shipment_buy_label(shipment_id=shipment.pk)
        shipments_mark_shipped(shipment_ids=[shipment.pk])
        Shipment.objects.filter(pk=shipment.pk).update(tracking_number=number)
        shipment.refresh_from_db()
        return shipment

    return make
