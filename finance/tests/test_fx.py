import datetime
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from erp.core.money import Money
from finance.choices import RateSource
from finance.ecb import ecb_parse
from finance.exceptions import FxFetchError, FxImportError, MissingRateError
from finance.models import ExchangeRate
from finance.services.fx import (
    exchange_rate_set,
    exchange_rates_import_csv,
    exchange_rates_import_ecb,
    exchange_rates_import_ecb_url,
    money_convert,
)
from finance.tasks import exchange_rates_import_ecb_task

D2025 = "ecb_eurofxref-daily_2025-05-09.xml"
D2018 = "ecb_eurofxref-daily_2018-09-12.xml"
FRIDAY = datetime.date(2025, 5, 9)


def test_parse_reads_every_currency_of_the_day(fixture_bytes):
    # when
    days = ecb_parse(fixture_bytes(D2025))

    # then
    assert [d.on for d in days] == [FRIDAY]
    assert len(days[0].rates) == 30
    assert days[0].rates["USD"] == Decimal("1.1252")
    assert days[0].rates["GBP"] == Decimal("0.84770")
    assert "RUB" not in days[0].rates


def test_parse_refuses_a_dtd_and_non_ecb_xml():
    with pytest.raises(FxImportError, match="DTD"):
        ecb_parse(b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>')
    with pytest.raises(FxImportError, match="no ECB reference rates"):
        ecb_parse(b"<root><Cube/></root>")
    with pytest.raises(FxImportError, match="not valid XML"):
        ecb_parse(b"<Cube")


@pytest.mark.django_db
def test_import_is_idempotent_and_updates_changed_rates(fixture_bytes):
    # given
    content = fixture_bytes(D2025)
    first = exchange_rates_import_ecb(content=content, reference=D2025)

    # when
    second = exchange_rates_import_ecb(content=content, reference=D2025)
    changed = exchange_rates_import_ecb(
        content=content.replace(b"rate='1.1252'", b"rate='1.1300'"), reference="fix"
    )

    # then
    assert (first.created, first.updated, first.unchanged) == (30, 0, 0)
    assert (second.created, second.updated, second.unchanged) == (0, 0, 30)
    assert (changed.created, changed.updated, changed.unchanged) == (0, 1, 29)
    assert ExchangeRate.objects.count() == 30
    usd = ExchangeRate.objects.get(quote="USD")
    assert (usd.source, usd.base, usd.on, usd.rate) == (
        RateSource.ECB,
        "EUR",
        FRIDAY,
        Decimal("1.1300"),
    )


@pytest.mark.django_db
def test_convert_crosses_through_eur_with_the_rate_of_the_day(fixture_bytes):
    # given
    exchange_rates_import_ecb(content=fixture_bytes(D2025), reference=D2025)

    # when
    converted = money_convert(
        amount=Money(Decimal("100.00"), "USD"), to="CNY", on=FRIDAY
    )

    # then: 100 / 1.1252 * 8.1470 = 724.0490579...
    assert converted.amount == Money(Decimal("724.05"), "CNY")
    assert converted.rate == Decimal("8.1470") / Decimal("1.1252")
    assert converted.rate_on == FRIDAY
    assert converted.is_exact_date is True
    assert [(leg.base, leg.quote) for leg in converted.legs] == [
        ("EUR", "USD"),
        ("EUR", "CNY"),
    ]


@pytest.mark.django_db
def test_weekend_uses_the_nearest_earlier_rate_and_says_so(fixture_bytes):
    # given
    exchange_rates_import_ecb(content=fixture_bytes(D2025), reference=D2025)
    sunday = datetime.date(2025, 5, 11)

    # when
    converted = money_convert(amount=Money(Decimal("10"), "EUR"), to="JPY", on=sunday)

    # then
    assert converted.amount == Money(Decimal("1634"), "JPY")  # 1633.6 rounded to yen
    assert converted.rate_on == FRIDAY
    assert converted.is_exact_date is False
    assert "nearest earlier" in converted.note
    assert "2025-05-09" in converted.note


@pytest.mark.django_db
def test_missing_rate_names_the_missing_pairs(fixture_bytes):
    # given: RUB was published in 2018 only, far beyond the look-back
    exchange_rates_import_ecb(content=fixture_bytes(D2018), reference=D2018)
    exchange_rates_import_ecb(content=fixture_bytes(D2025), reference=D2025)

    # when
    with pytest.raises(MissingRateError) as caught:
        money_convert(amount=Money(Decimal("5"), "USD"), to="RUB", on=FRIDAY)

    # then
    assert caught.value.extra["missing"] == ["USD→RUB", "EUR→RUB"]
    assert "EUR→RUB" in caught.value.message
    assert caught.value.extra["looked_back_to"] == "2025-04-29"


@pytest.mark.django_db
def test_no_rates_at_all_is_an_error_not_one():
    with pytest.raises(MissingRateError) as caught:
        money_convert(amount=Money(Decimal("1"), "USD"), to="CNY", on=FRIDAY)
    assert caught.value.extra["missing"] == ["USD→CNY", "EUR→USD", "EUR→CNY"]


@pytest.mark.django_db
def test_same_currency_needs_no_rate():
    converted = money_convert(
        amount=Money(Decimal("1.005"), "USD"), to="usd", on=FRIDAY
    )
    assert converted.amount == Money(Decimal("1.01"), "USD")
    assert converted.legs == ()
    assert converted.is_exact_date is True


@pytest.mark.django_db
def test_a_manual_rate_of_the_same_day_beats_the_ecb_cross(fixture_bytes):
    # given
    exchange_rates_import_ecb(content=fixture_bytes(D2025), reference=D2025)
    exchange_rate_set(
        base="USD", quote="CNY", rate=Decimal("7.2000"), on=FRIDAY, reference="bank"
    )

    # when
    forward = money_convert(amount=Money(Decimal("100"), "USD"), to="CNY", on=FRIDAY)
    backward = money_convert(amount=Money(Decimal("720"), "CNY"), to="USD", on=FRIDAY)

    # then
    assert forward.amount == Money(Decimal("720.00"), "CNY")
    assert forward.legs[0].source == RateSource.MANUAL
    assert backward.amount == Money(Decimal("100.00"), "USD")
    assert backward.legs[0].inverted is True


@pytest.mark.django_db
def test_an_older_manual_rate_loses_to_a_newer_ecb_day(fixture_bytes):
    # given
    exchange_rate_set(
        base="USD",
        quote="CNY",
        rate=Decimal("7"),
        on=FRIDAY - datetime.timedelta(days=3),
    )
    exchange_rates_import_ecb(content=fixture_bytes(D2025), reference=D2025)

    # when
    converted = money_convert(amount=Money(Decimal("100"), "USD"), to="CNY", on=FRIDAY)

    # then
    assert converted.rate_on == FRIDAY
    assert {leg.source for leg in converted.legs} == {RateSource.ECB}


def test_manual_rate_refuses_nonsense(db):
    with pytest.raises(FxImportError):
        exchange_rate_set(base="USD", quote="USD", rate=Decimal(1), on=FRIDAY)
    with pytest.raises(FxImportError):
        exchange_rate_set(base="USD", quote="CNY", rate=Decimal(0), on=FRIDAY)
    assert ExchangeRate.objects.exists() is False


@pytest.mark.django_db
def test_csv_import_all_rows_or_none():
    # given
    good = b"date,base,quote,rate\n2025-05-09,USD,CNY,7.21\n2025-05-09,usd,HKD,7.77\n"
    bad = (
        b"date,base,quote,rate\n2025-05-09,USD,CNY,7.21\n"
        b"09/05/2025,USD,HKD,7.77\n2025-05-09,USD,JPY,-1\n2025-05-09,USD,CNY,7.3\n"
    )

    # when
    refused = exchange_rates_import_csv(content=bad, reference="bad.csv")

    # then
    assert refused.committed is False
    assert [(e.row, e.column) for e in refused.errors] == [
        (3, "date"),
        (4, "rate"),
        (5, ""),
    ]
    assert ExchangeRate.objects.exists() is False

    # when
    imported = exchange_rates_import_csv(content=good, reference="good.csv")
    again = exchange_rates_import_csv(content=good, reference="good.csv")

    # then
    assert (imported.created, again.unchanged) == (2, 2)
    assert set(ExchangeRate.objects.values_list("source", "base", "quote", "rate")) == {
        ("csv", "USD", "CNY", Decimal("7.21")),
        ("csv", "USD", "HKD", Decimal("7.77")),
    }


@pytest.mark.django_db
def test_url_import_over_real_http(http_server, fixture_bytes):
    # given
    base_url, routes, hits = http_server
    routes["/eurofxref-daily.xml"] = (200, fixture_bytes(D2025))

    # when
    result = exchange_rates_import_ecb_url(url=f"{base_url}/eurofxref-daily.xml")

    # then
    assert hits == ["/eurofxref-daily.xml"]
    assert result.created == 30
    assert ExchangeRate.objects.get(quote="CNY").reference.endswith(
        "/eurofxref-daily.xml"
    )


@pytest.mark.django_db
def test_url_errors_are_retryable_or_terminal(http_server):
    # given
    base_url, routes, _hits = http_server
    routes["/busy"] = (503, b"")

    # then
    with pytest.raises(FxFetchError):
        exchange_rates_import_ecb_url(url=f"{base_url}/busy")
    with pytest.raises(FxImportError):
        exchange_rates_import_ecb_url(url=f"{base_url}/gone")
    assert ExchangeRate.objects.exists() is False


@pytest.mark.django_db
def test_daily_task_reads_the_configured_feed(http_server, fixture_bytes, settings):
    # given
    base_url, routes, _hits = http_server
    routes["/daily.xml"] = (200, fixture_bytes(D2025))
    settings.FINANCE_ECB_URL = f"{base_url}/daily.xml"

    # when
    outcome = exchange_rates_import_ecb_task.apply().get()

    # then
    assert outcome["created"] == 30
    assert outcome["days"] == ["2025-05-09"]


@pytest.mark.django_db
def test_command_imports_a_file_and_a_csv(tmp_path, fixture_bytes, capsys):
    # given
    xml = tmp_path / "daily.xml"
    xml.write_bytes(fixture_bytes(D2018))
    rates = tmp_path / "rates.csv"
    rates.write_bytes(b"date,base,quote,rate\n2018-09-12,CNY,USD,0.1457\n")

    # when
    call_command("import_fx_rates", "--file", str(xml))
    call_command("import_fx_rates", "--csv", str(rates))

    # then
    out = capsys.readouterr().out
    assert "Rates of 2018-09-12: 32 new, 0 changed, 0 unchanged." in out
    assert "Rates of 2018-09-12: 1 new" in out
    assert ExchangeRate.objects.filter(quote="RUB").get().rate == Decimal("80.1609")


@pytest.mark.django_db
def test_command_reports_a_bad_file(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"date,base,rate\n")
    with pytest.raises(CommandError, match="lacks the column"):
        call_command("import_fx_rates", "--csv", str(bad))
