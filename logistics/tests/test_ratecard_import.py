"""Rate cards from CSV/XLSX: every bad row reported, nothing half-written."""

import io
from decimal import Decimal

import openpyxl
import pytest

from logistics.carriers.registry import rate_card_terms
from logistics.exceptions import ImportFileError
from logistics.models import RateCardRate, RateCardZone
from logistics.services.ratecards import rate_card_import
from logistics.tests.factories import RateCardFactory

pytestmark = pytest.mark.django_db

HEADER = (
    "zone,destinations,weight_from_g,weight_to_g,per_kg_price,registration_fee,"
    "transit_days_min,transit_days_max"
)
GOOD = "\n".join(
    [
        HEADER,
        "US,US,0,2000,86,18,7,12",
        "US,US,2000,30000,80,18,7,12",
        'EU,"DE,FR;NL",0,30000,95,20,8,15',
    ]
)


def test_csv_replaces_zones_and_brackets():
    # given: a card with an old zone
    card = RateCardFactory(currency="CNY")
    RateCardZone.objects.create(rate_card=card, code="OLD", countries=["JP"])

    # when
    report = rate_card_import(
        rate_card_id=card.pk, content=GOOD.encode(), file_format="csv"
    )

    # then
    assert report.committed is True
    assert (report.total_rows, report.zones, report.brackets) == (3, 2, 3)
    assert report.errors == []
    zones = {z.code: z for z in RateCardZone.objects.filter(rate_card=card)}
    assert set(zones) == {"US", "EU"}
    assert zones["EU"].countries == ["DE", "FR", "NL"]
    assert (zones["US"].transit_days_min, zones["US"].transit_days_max) == (7, 12)
    assert list(
        RateCardRate.objects.filter(zone=zones["US"]).values_list(
            "weight_from_grams", "weight_to_grams", "per_kg_price", "registration_fee"
        )
    ) == [
        (0, 2000, Decimal("86"), Decimal("18")),
        (2000, 30000, Decimal("80"), Decimal("18")),
    ]
    terms, loaded = rate_card_terms(card)
    assert terms.currency == "CNY"
    assert {z.code for z in loaded} == {"US", "EU"}


def test_bad_rows_are_each_reported_and_nothing_changes():
    # given
    card = RateCardFactory()
    RateCardZone.objects.create(rate_card=card, code="OLD", countries=["JP"])
    content = "\n".join(
        [
            HEADER,
            "US,US,0,2000,86,18,7,12",
            "US,US,1500,3000,80,18,7,12",  # overlaps the row above
            "CA,US,0,1000,1,0,,",  # US already in zone US
            "EU,DE,500,500,abc,-1,,",  # empty bracket, bad and negative money
            ",,0,,1,1,,",  # no zone, no destinations, no upper weight
        ]
    )

    # when
    report = rate_card_import(
        rate_card_id=card.pk, content=content.encode(), file_format="csv"
    )

    # then
    assert report.committed is False
    assert {(e.row, e.column) for e in report.errors} == {
        (3, "weight_from_g"),
        (4, "destinations"),
        (5, "weight_to_g"),
        (5, "per_kg_price"),
        (5, "registration_fee"),
        (6, "zone"),
        (6, "destinations"),
        (6, "weight_to_g"),
    }
    assert list(
        RateCardZone.objects.filter(rate_card=card).values_list("code", flat=True)
    ) == ["OLD"]


def test_xlsx_dry_run_validates_without_writing():
    # given
    card = RateCardFactory()
    book = openpyxl.Workbook()
    sheet = book.active
    for line in GOOD.splitlines():
        import csv

        sheet.append(
            [
                float(v) if v.replace(".", "").isdigit() else v
                for v in next(csv.reader([line]))
            ]
        )
    buffer = io.BytesIO()
    book.save(buffer)

    # when
    report = rate_card_import(
        rate_card_id=card.pk,
        content=buffer.getvalue(),
        file_format="xlsx",
        dry_run=True,
    )

    # then
    assert (report.zones, report.brackets, report.errors) == (2, 3, [])
    assert report.committed is False
    assert RateCardZone.objects.filter(rate_card=card).exists() is False


def test_wrong_columns_are_named():
    card = RateCardFactory()
    with pytest.raises(ImportFileError) as caught:
        rate_card_import(
            rate_card_id=card.pk, content=b"zone,price\nUS,1\n", file_format="csv"
        )
    assert caught.value.extra["missing"] == ["destinations", "weight_to_g"]
    assert caught.value.extra["unknown"] == ["price"]
