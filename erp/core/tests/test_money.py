from decimal import Decimal

import pytest

from erp.core.exceptions import CurrencyMismatchError, InvalidMoneyError
from erp.core.money import (
    Money,
    allocate_proportionally,
    money_sum,
    quantize,
    to_decimal,
)


def test_float_amounts_are_refused_not_rounded():
    with pytest.raises(InvalidMoneyError, match="float"):
        to_decimal(19.9)


@pytest.mark.parametrize(
    ("raw", "expected"), [("19.90", Decimal("19.90")), (7, Decimal(7))]
)
def test_strings_and_ints_read_exactly(raw, expected):
    assert to_decimal(raw) == expected


@pytest.mark.parametrize("raw", ["abc", "NaN", "Infinity", None])
def test_non_numbers_are_refused(raw):
    with pytest.raises(InvalidMoneyError):
        to_decimal(raw)


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        ("2.675", "USD", "2.68"),
        ("1234.5", "JPY", "1235"),
        ("1.2345", "KWD", "1.235"),
        ("-0.005", "EUR", "-0.01"),
    ],
)
def test_quantize_rounds_half_up_to_the_currency_minor_unit(amount, currency, expected):
    assert quantize(Decimal(amount), currency) == Decimal(expected)


def test_adding_different_currencies_raises():
    with pytest.raises(CurrencyMismatchError):
        Money(Decimal("1"), "USD") + Money(Decimal("1"), "EUR")


def test_sum_of_nothing_is_zero_in_that_currency():
    assert money_sum([], currency="CNY") == Money(Decimal(0), "CNY")


def test_money_sum_adds_exactly():
    items = [Money("0.10", "USD") for _ in range(10)]
    assert money_sum(items, currency="USD") == Money(Decimal("1.00"), "USD")


def test_lowercase_currency_is_normalised_and_bad_codes_refused():
    assert Money("1", "usd").currency == "USD"
    with pytest.raises(InvalidMoneyError):
        Money("1", "US")


def test_proportional_split_adds_up_to_the_total_exactly():
    parts = allocate_proportionally(
        Money("10.00", "USD"), [Decimal(1), Decimal(1), Decimal(1)]
    )
    assert [p.amount for p in parts] == [
        Decimal("3.34"),
        Decimal("3.33"),
        Decimal("3.33"),
    ]
    assert sum(p.amount for p in parts) == Decimal("10.00")


def test_proportional_split_follows_weights_and_handles_negative_totals():
    parts = allocate_proportionally(
        Money("-5.00", "EUR"), [Decimal("30"), Decimal("10")]
    )
    assert [p.amount for p in parts] == [Decimal("-3.75"), Decimal("-1.25")]


def test_proportional_split_in_zero_decimal_currency():
    parts = allocate_proportionally(Money("100", "JPY"), [Decimal(1)] * 3)
    assert sorted(p.amount for p in parts) == [Decimal(33), Decimal(33), Decimal(34)]
