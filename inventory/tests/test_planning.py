"""Pure planning functions: no database."""

import datetime
from decimal import Decimal

import pytest

from inventory.choices import BufferKind
from inventory.planning import (
    AllocationRequest,
    Demand,
    Lot,
    WarehouseCandidate,
    apply_buffer,
    bundle_sellable,
    expand_bundles,
    plan_allocations,
    suggest_reorder_quantity,
    warehouses_able_to_ship,
)

TODAY = datetime.date(2026, 6, 1)


def test_fefo_takes_earliest_expiry_then_spills_to_next():
    # given
    lots = [
        Lot(1, 7, 5, expires_on=datetime.date(2026, 9, 1)),
        Lot(2, 7, 5, expires_on=datetime.date(2026, 7, 1)),
        Lot(3, 7, 5, expires_on=None),
    ]

    # when
    plan = plan_allocations(demands=[Demand(None, 7, 7)], lots=lots, today=TODAY)

    # then
    assert [(a.stock_item_id, a.quantity) for a in plan.allocations] == [(2, 5), (1, 2)]


def test_same_expiry_goes_first_received_first():
    lots = [
        Lot(1, 7, 5, expires_on=TODAY.replace(month=8), received_on=TODAY),
        Lot(
            2,
            7,
            5,
            expires_on=TODAY.replace(month=8),
            received_on=TODAY.replace(day=1, month=1),
        ),
    ]

    plan = plan_allocations(demands=[Demand(None, 7, 3)], lots=lots, today=TODAY)

    assert [(a.stock_item_id, a.quantity) for a in plan.allocations] == [(2, 3)]


def test_expired_and_expiring_today_lots_are_never_picked():
    lots = [
        Lot(1, 7, 5, expires_on=TODAY - datetime.timedelta(days=1)),
        Lot(2, 7, 5, expires_on=TODAY),
        Lot(3, 7, 2, expires_on=TODAY + datetime.timedelta(days=1)),
    ]

    plan = plan_allocations(demands=[Demand(None, 7, 3)], lots=lots, today=TODAY)

    assert plan.allocations == []
    assert [(s.product_id, s.requested, s.available) for s in plan.shortages] == [
        (7, 3, 2)
    ]


def test_one_short_line_refuses_the_whole_request():
    lots = [Lot(1, 7, 10), Lot(2, 8, 1)]

    plan = plan_allocations(
        demands=[Demand(1, 7, 2), Demand(2, 8, 2)], lots=lots, today=TODAY
    )

    assert not plan.is_possible
    assert plan.allocations == []
    assert [(s.product_id, s.requested, s.available) for s in plan.shortages] == [
        (8, 2, 1)
    ]


def test_two_lines_of_one_sku_share_the_lots():
    plan = plan_allocations(
        demands=[Demand(1, 7, 3), Demand(2, 7, 3)],
        lots=[Lot(1, 7, 4, expires_on=TODAY.replace(month=7)), Lot(2, 7, 4)],
        today=TODAY,
    )

    assert [
        (a.order_line_id, a.stock_item_id, a.quantity) for a in plan.allocations
    ] == [
        (1, 1, 3),
        (2, 1, 1),
        (2, 2, 2),
    ]


def test_bundles_expand_into_components_times_quantity():
    demands = expand_bundles(
        requests=[AllocationRequest(11, 100, 2), AllocationRequest(12, 5, 1)],
        bundles={100: [(5, 1), (6, 3)]},
    )

    assert demands == [
        Demand(11, 5, 2, bundle_id=100),
        Demand(11, 6, 6, bundle_id=100),
        Demand(12, 5, 1),
    ]


def test_a_request_must_be_positive():
    with pytest.raises(ValueError, match="positive"):
        AllocationRequest(None, 1, 0)


def test_warehouse_choice_prefers_destination_then_priority():
    candidates = [
        WarehouseCandidate(1, "cn", priority=1, serves_destination=False),
        WarehouseCandidate(2, "us-east", priority=20, serves_destination=True),
        WarehouseCandidate(3, "us-west", priority=10, serves_destination=True),
        WarehouseCandidate(4, "us-small", priority=1, serves_destination=True),
    ]
    sellable = {1: {7: 9}, 2: {7: 9}, 3: {7: 5}, 4: {7: 1}}

    able = warehouses_able_to_ship(
        demands=[Demand(None, 7, 5)], sellable=sellable, candidates=candidates
    )

    assert [c.warehouse_id for c in able] == [3, 2, 1]


def test_bundle_sellable_is_limited_by_scarcest_component():
    assert bundle_sellable(components=[(5, 1), (6, 3)], sellable={5: 10, 6: 7}) == 2
    assert bundle_sellable(components=[(5, 1)], sellable={}) == 0


@pytest.mark.parametrize(
    ("total", "kind", "value", "expected"),
    [
        (10, BufferKind.ABSOLUTE, 3, 7),
        (2, BufferKind.ABSOLUTE, 3, 0),
        (10, BufferKind.PERCENT, 10, 9),
        (11, BufferKind.PERCENT, 10, 9),  # 1.1 held back rounds up to 2
        (10, BufferKind.PERCENT, 100, 0),
        (-1, BufferKind.ABSOLUTE, 0, 0),
    ],
)
def test_buffer(total, kind, value, expected):
    assert apply_buffer(total=total, kind=kind, value=value) == expected


def test_reorder_suggestion_covers_lead_time_and_minimum():
    # 2.5/day over 14 days = 35; minimum 10; 4 available -> 41
    assert (
        suggest_reorder_quantity(
            available=4,
            minimum=10,
            reorder_quantity=20,
            daily_sales=Decimal("2.5"),
            lead_time_days=14,
        )
        == 41
    )
    # no recent sales: the rule's reorder quantity
    assert (
        suggest_reorder_quantity(
            available=4,
            minimum=10,
            reorder_quantity=20,
            daily_sales=Decimal(0),
            lead_time_days=14,
        )
        == 20
    )
