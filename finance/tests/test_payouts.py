import datetime
from decimal import Decimal

import pytest
from django.utils import translation

from connectors.tests.factories import ChannelFactory
from erp.core.text import text_say_again
from finance.choices import PayoutImportStatus, PayoutSource
from finance.exceptions import ImportFileError, InvalidFinanceDataError
from finance.inputs import PayoutInput, PayoutLineInput
from finance.models import Payout, PayoutImport, PayoutLine
from finance.payout_formats import paypal_settlement_parse, stripe_itemized_parse
from finance.services.payouts import payout_file_import, payout_import

PAYPAL = "paypal_STL-20250512.01.009.CSV"
STRIPE = "stripe_payout_reconciliation_itemized_5.csv"
GENERIC = "generic_settlement.csv"
GENERIC_MAPPING = {
    "payout_id": "Settlement ID",
    "paid_on": "Settlement Date",
    "line_id": "Txn ID",
    "kind": "Type",
    "gross": "Amount",
    "fee": "Fee",
    "currency": "Currency",
    "order_reference": "Merchant Order",
    "transaction_reference": "Payment Ref",
}


def test_paypal_report_reads_signs_minor_units_and_kinds(fixture_bytes):
    # when
    parsed = paypal_settlement_parse(fixture_bytes(PAYPAL))

    # then
    assert parsed.errors == []
    assert parsed.total_rows == 5
    by_currency = {p.payout.currency: p for p in parsed.payouts}
    usd = by_currency["USD"]
    assert usd.payout.external_id == "STL-MERCHANT7QX2-20250512-USD"
    assert usd.payout.paid_on == datetime.date(2025, 5, 12)
    assert usd.payout.amount == Decimal("62.51")
    assert [
        (ln.kind, ln.gross, ln.fee, ln.net, ln.order_reference, ln.related_reference)
        for ln in usd.lines
    ] == [
        ("charge", Decimal("49.99"), Decimal("1.75"), Decimal("48.24"), "#1001", ""),
        ("charge", Decimal("25.00"), Decimal("1.03"), Decimal("23.97"), "#1002", ""),
        (
            "refund",
            Decimal("-10.00"),
            Decimal("-0.30"),
            Decimal("-9.70"),
            "#1001",
            "5TY05013RG002845M",
        ),
        ("transfer", Decimal("-70.00"), Decimal("0"), Decimal("-70.00"), "", ""),
    ]
    assert usd.lines[0].occurred_at == datetime.datetime(
        2025, 5, 12, 16, 15, 3, tzinfo=datetime.UTC
    )
    assert by_currency["EUR"].payout.amount == Decimal("28.80")


def test_paypal_report_with_a_missing_row_is_refused(fixture_bytes):
    content = fixture_bytes(PAYPAL).replace(b'"SC",5', b'"SC",6')
    with pytest.raises(ImportFileError, match="says it has 6 transactions but holds 5"):
        paypal_settlement_parse(content)


def test_stripe_report_groups_lines_by_payout(fixture_bytes):
    # when
    parsed = stripe_itemized_parse(fixture_bytes(STRIPE))

    # then
    assert parsed.errors == []
    payouts = {p.payout.external_id: p for p in parsed.payouts}
    first = payouts["po_1RKxQ2LkdIwHu7ix3TSBaF1m"]
    assert (first.payout.currency, first.payout.amount, first.payout.paid_on) == (
        "USD",
        Decimal("101.21"),
        datetime.date(2025, 5, 14),
    )
    refund = next(ln for ln in first.lines if ln.kind == "refund")
    assert (
        refund.transaction_reference,
        refund.related_reference,
        refund.order_reference,
    ) == (
        "re_3RKa8bLkdIwHu7ix0Rt7Uy5P",
        "ch_3RKa8bLkdIwHu7ix0nB1k3Rz",
        "2001",
    )
    assert [ln.kind for ln in first.lines] == ["charge", "charge", "refund", "fee"]
    assert payouts["po_1RLyT7LkdIwHu7ixAa9Bc2De"].payout.amount == Decimal("57.96")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("source", "name", "payouts", "lines"),
    [
        (PayoutSource.PAYPAL_SETTLEMENT, PAYPAL, 2, 5),
        (PayoutSource.STRIPE_ITEMIZED, STRIPE, 2, 5),
    ],
)
def test_reimporting_a_report_changes_nothing(
    fixture_bytes, source, name, payouts, lines
):
    # given
    first = payout_file_import(
        source=source, content=fixture_bytes(name), file_name=name
    )

    # when
    second = payout_file_import(
        source=source, content=fixture_bytes(name), file_name=name
    )

    # then
    assert (first.committed, first.payouts_created, first.lines_created) == (
        True,
        payouts,
        lines,
    )
    assert (second.payouts_created, second.payouts_updated) == (0, 0)
    assert (second.lines_created, second.lines_updated, second.lines_unchanged) == (
        0,
        0,
        lines,
    )
    assert Payout.objects.count() == payouts
    assert PayoutLine.objects.count() == lines
    assert (
        list(PayoutImport.objects.values_list("status", flat=True))
        == [PayoutImportStatus.COMMITTED] * 2
    )


@pytest.mark.django_db
def test_generic_csv_with_a_mapping(fixture_bytes):
    # when
    report = payout_file_import(
        source=PayoutSource.GENERIC_CSV,
        content=fixture_bytes(GENERIC),
        file_name=GENERIC,
        gateway="Airwallex",
        mapping=GENERIC_MAPPING,
    )

    # then
    assert report.committed is True
    payout = Payout.objects.get()
    assert (payout.gateway, payout.external_id, payout.amount, payout.currency) == (
        "airwallex",
        "SET-7781",
        Decimal("140.20"),
        "GBP",
    )
    assert set(
        PayoutLine.objects.values_list("external_id", "kind", "net", "order_reference")
    ) == {
        ("AWX-0001", "charge", Decimal("116.40"), "#3001"),
        ("AWX-0002", "refund", Decimal("-15.00"), "#3001"),
        ("AWX-0003", "charge", Decimal("38.80"), "#3002"),
    }


@pytest.mark.django_db
def test_bad_rows_are_all_reported_and_nothing_is_written(fixture_bytes):
    # given
    content = (
        fixture_bytes(GENERIC)
        .replace(b"SALE,120.00", b"GIFT,120.00")
        .replace(b"-15.00,0.00,GBP", b"-15.00,0.00,POUNDS")
    )

    # when
    report = payout_file_import(
        source=PayoutSource.GENERIC_CSV,
        content=content,
        file_name="bad.csv",
        gateway="airwallex",
        mapping=GENERIC_MAPPING,
    )

    # then
    assert report.committed is False
    assert [(e.row, e.column) for e in report.errors] == [(2, "Type"), (3, "Currency")]
    assert Payout.objects.exists() is False
    refused = PayoutImport.objects.get()
    assert refused.status == PayoutImportStatus.FAILED
    assert [e["row"] for e in refused.errors] == [2, 3]


@pytest.mark.django_db
def test_a_file_with_wrong_columns_is_refused_and_recorded(fixture_bytes):
    with pytest.raises(ImportFileError, match="lacks the column"):
        payout_file_import(
            source=PayoutSource.STRIPE_ITEMIZED,
            content=b"id,amount\n1,2\n",
            file_name="nope.csv",
        )
    refused = PayoutImport.objects.get()
    assert (refused.status, refused.file_name) == (
        PayoutImportStatus.FAILED,
        "nope.csv",
    )
    assert "lacks the column" in refused.errors[0]["message"]


@pytest.mark.django_db
def test_a_refused_file_reads_in_chinese_on_its_admin_page(client, finance_user):
    # given: a refused file, recorded in English
    with pytest.raises(ImportFileError):
        payout_file_import(
            source=PayoutSource.STRIPE_ITEMIZED,
            content=b"id,amount\n1,2\n",
            file_name="nope.csv",
        )
    refused = PayoutImport.objects.get()

    # when: finance opens it in Chinese
    client.force_login(finance_user)
    client.post("/i18n/language/", {"language": "zh-hans", "next": "/admin/"})
    page = client.get(f"/admin/finance/payoutimport/{refused.pk}/change/")

    # then
    assert page.status_code == 200
    html = page.content.decode()
    assert "文件缺少列 " in html
    assert "lacks the column" not in html


@pytest.mark.django_db
def test_a_mapping_missing_required_fields_is_refused():
    with pytest.raises(ImportFileError, match="map line_id, currency"):
        payout_file_import(
            source=PayoutSource.GENERIC_CSV,
            content=b"a\n1\n",
            file_name="x.csv",
            gateway="x",
            mapping={"payout_id": "a", "paid_on": "a", "gross": "a", "colour": "a"},
        )


def _shopify_payout(amount: str = "95.10") -> PayoutInput:
    return PayoutInput(
        gateway="shopify_payments",
        external_id="512467833",
        currency="USD",
        amount=Decimal(amount),
        paid_on=datetime.date(2025, 5, 13),
    )


def _shopify_lines() -> list[PayoutLineInput]:
    return [
        PayoutLineInput(
            external_id="bt-1",
            kind="charge",
            gross=Decimal("100.00"),
            fee=Decimal("3.20"),
            net=Decimal("96.80"),
            currency="USD",
            transaction_reference="389404469",
            order_reference="450789469",
        ),
        PayoutLineInput(
            external_id="bt-2",
            kind="adjustment",
            gross=Decimal("-1.70"),
            fee=Decimal("0"),
            net=Decimal("-1.70"),
            currency="USD",
        ),
    ]


@pytest.mark.django_db
def test_connector_payout_import_is_idempotent_and_applies_changes():
    # given
    channel = ChannelFactory()
    first = payout_import(
        channel_id=channel.pk, payout=_shopify_payout(), lines=_shopify_lines()
    )

    # when
    replay = payout_import(
        channel_id=channel.pk, payout=_shopify_payout(), lines=_shopify_lines()
    )
    changed = payout_import(
        channel_id=channel.pk, payout=_shopify_payout("95.00"), lines=_shopify_lines()
    )

    # then
    assert (first.created, first.lines_created) == (True, 2)
    assert (replay.created, replay.updated, replay.lines_unchanged) == (False, False, 2)
    assert (changed.updated, changed.payout_id) == (True, first.payout_id)
    payout = Payout.objects.get()
    assert (payout.source, payout.channel_id, payout.amount) == (
        PayoutSource.API,
        channel.pk,
        Decimal("95.00"),
    )


@pytest.mark.django_db
def test_connector_payout_import_refuses_inconsistent_lines():
    lines = _shopify_lines()
    bad = PayoutLineInput(
        external_id="bt-1",
        kind="charge",
        gross=Decimal("10"),
        fee=Decimal("1"),
        net=Decimal("8"),
        currency="EUR",
    )
    with pytest.raises(InvalidFinanceDataError) as caught:
        payout_import(channel_id=None, payout=_shopify_payout(), lines=[*lines, bad])
    assert len(caught.value.extra["problems"]) == 3
    assert Payout.objects.exists() is False
    # The message is stored in English and read by finance in their language.
    message = caught.value.message
    assert "line bt-1: net 8 is not gross 10 - fee 1" in message
    with translation.override("zh-hans"):
        said = text_say_again(message)
    assert "明细 bt-1：净额 8 不等于总额 10 减手续费 1" in said
    assert said.startswith("结算 ")
    assert "is not gross" not in said
