"""WooCommerce REST v3 orders (the official examples) mapped to canonical orders."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from connectors.exceptions import PayloadError
from connectors.woocommerce.mappers import STATUS, order_to_canonical
from connectors.woocommerce.tests.conftest import load_fixture
from orders.canonical import (
    CanonicalAddress,
    CanonicalRefund,
    CanonicalShippingLine,
    CanonicalTransaction,
    TransactionKind,
)
from orders.choices import FinancialStatus, FulfillmentStatus


def test_official_order_maps_lines_totals_dates_and_payment(official_order):
    order = order_to_canonical(official_order)

    assert (order.external_id, order.number, order.currency) == ("727", "727", "USD")
    assert order.placed_at == datetime(2017, 3, 22, 19, 28, 2, tzinfo=UTC)
    assert order.store_updated_at == datetime(2017, 3, 22, 19, 28, 8, tzinfo=UTC)
    assert (order.total, order.subtotal, order.shipping_total, order.tax_total) == (
        Decimal("29.35"),
        Decimal("18.00"),
        Decimal("10.00"),
        Decimal("1.35"),
    )
    assert [
        (line.external_id, line.sku, line.quantity, line.unit_price, line.tax_total)
        for line in order.lines
    ] == [
        ("315", "", 2, Decimal("3.0000"), Decimal("0.45")),
        ("316", "Bar3", 1, Decimal("12.0000"), Decimal("0.90")),
    ]
    assert order.lines[1].variant_title == "black / M Test"
    assert (order.financial_status, order.fulfillment_status) == (
        FinancialStatus.PAID,
        FulfillmentStatus.UNFULFILLED,
    )
    assert order.shipping_lines == (
        CanonicalShippingLine(
            title="Flat Rate", price=Decimal("10.00"), code="flat_rate"
        ),
    )
    assert order.transactions == (
        CanonicalTransaction(
            external_id="727:payment",
            kind=TransactionKind.SALE,
            gateway="bacs",
            amount=Decimal("29.35"),
            currency="USD",
            processed_at=datetime(2017, 3, 22, 19, 28, 8, tzinfo=UTC),
        ),
    )
    assert order.payment_gateways == ("bacs",)
    assert order.shipping_address == CanonicalAddress(
        name="John Doe",
        line1="969 Market",
        city="San Francisco",
        province="CA",
        province_code="CA",
        postal_code="94103",
        country_code="US",
        # The shipping address has no phone in v3: the billing phone stands in.
        phone="(555) 555-5555",
    )
    assert (order.email, order.customer.first_name, order.customer.external_id) == (
        "john.doe@example.com",
        "John",
        "",
    )
    assert order.cancelled_at is None


def test_listing_map_sku_wins_for_a_variation_and_a_simple_product(official_order):
    order = order_to_canonical(
        official_order, sku_by_variant={"23": "SHIRT-BLK-M", "93": "SINGLE-1"}
    )

    assert [line.sku for line in order.lines] == ["SINGLE-1", "SHIRT-BLK-M"]


def test_refunds_read_from_the_refunds_endpoint_carry_dates_and_lines():
    order_723 = load_fixture("rest_v3/orders_list.response.json")[1]
    refunds = load_fixture("rest_v3/refunds_list.response.json")

    order = order_to_canonical(order_723, refunds=refunds)

    assert order.refunds == (
        CanonicalRefund(
            external_id="726",
            amount=Decimal("10.00"),
            created_at=datetime(2017, 3, 21, 20, 7, 11, tzinfo=UTC),
        ),
        CanonicalRefund(
            external_id="724",
            amount=Decimal("9.00"),
            created_at=datetime(2017, 3, 21, 19, 55, 37, tzinfo=UTC),
            lines=(("311", 1, False),),
        ),
    )
    # Completed and partly refunded.
    assert (order.financial_status, order.fulfillment_status) == (
        FinancialStatus.PARTIALLY_REFUNDED,
        FulfillmentStatus.FULFILLED,
    )


def test_refund_summary_alone_is_dated_with_the_order_change():
    order_723 = load_fixture("rest_v3/orders_list.response.json")[1]

    order = order_to_canonical(order_723)

    assert [(r.external_id, r.amount, r.created_at) for r in order.refunds] == [
        ("726", Decimal("10.00"), order.store_updated_at),
        ("724", Decimal("9.00"), order.store_updated_at),
    ]


@pytest.mark.parametrize(
    ("status", "financial", "fulfillment", "cancelled"),
    [
        ("pending", FinancialStatus.PENDING, FulfillmentStatus.UNFULFILLED, False),
        ("processing", FinancialStatus.PAID, FulfillmentStatus.UNFULFILLED, False),
        ("on-hold", FinancialStatus.PENDING, FulfillmentStatus.UNFULFILLED, False),
        ("completed", FinancialStatus.PAID, FulfillmentStatus.FULFILLED, False),
        ("cancelled", FinancialStatus.VOIDED, FulfillmentStatus.UNFULFILLED, True),
        ("refunded", FinancialStatus.REFUNDED, FulfillmentStatus.UNFULFILLED, False),
        ("failed", FinancialStatus.PENDING, FulfillmentStatus.UNFULFILLED, False),
        ("trash", FinancialStatus.VOIDED, FulfillmentStatus.UNFULFILLED, True),
    ],
)
def test_every_documented_status_is_mapped(
    official_order, status, financial, fulfillment, cancelled
):
    order = order_to_canonical({**official_order, "status": status})

    assert (order.financial_status, order.fulfillment_status) == (
        financial,
        fulfillment,
    )
    assert (order.cancelled_at is not None) is cancelled
    if cancelled:
        assert order.cancelled_at == order.store_updated_at
        assert order.cancel_reason == (
            "moved to the trash in WooCommerce" if status == "trash" else ""
        )


def test_every_v3_status_is_known():
    assert set(STATUS) >= {
        "pending",
        "processing",
        "on-hold",
        "completed",
        "cancelled",
        "refunded",
        "failed",
        "trash",
    }


def test_fees_become_lines_that_do_not_ship_and_coupons_are_kept(official_order):
    data = {
        **official_order,
        "discount_total": "2.00",
        "fee_lines": [
            {"id": 400, "name": "Gift wrap", "total": "5.00", "total_tax": "0.40"},
            {"id": 401, "name": "Loyalty discount", "total": "-3.00", "total_tax": "0"},
        ],
        "coupon_lines": [{"id": 402, "code": "summer10", "discount": "2.00"}],
    }

    order = order_to_canonical(data)

    fee = order.lines[-1]
    assert (fee.external_id, fee.title, fee.unit_price, fee.requires_shipping) == (
        "fee-400",
        "Gift wrap",
        Decimal("5.00"),
        False,
    )
    assert len(order.lines) == 3
    assert order.discount_total == Decimal("5.00")
    assert order.tags == ("coupon:summer10",)


def test_a_line_discount_is_subtotal_minus_total(official_order):
    data = dict(official_order)
    data["line_items"] = [
        {**official_order["line_items"][0], "subtotal": "6.00", "total": "4.50"}
    ]

    order = order_to_canonical(data)

    assert (order.lines[0].unit_price, order.lines[0].discount_total) == (
        Decimal("3.0000"),
        Decimal("1.50"),
    )


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"status": "on-the-moon"}, "status"),
        ({"date_modified_gmt": "yesterday"}, "date_modified_gmt"),
        ({"total": "lots"}, "total"),
    ],
)
def test_malformed_orders_are_refused_naming_the_field(official_order, change, path):
    with pytest.raises(PayloadError) as error:
        order_to_canonical({**official_order, **change})

    assert error.value.path == path


def test_a_line_without_a_whole_quantity_is_refused(official_order):
    data = dict(official_order)
    data["line_items"] = [{**official_order["line_items"][0], "quantity": "2"}]

    with pytest.raises(PayloadError) as error:
        order_to_canonical(data)

    assert error.value.path == "line_items[0].quantity"
