"""Readers of payout reports: PayPal settlement, Stripe payout reconciliation, generic CSV.

Pure functions from file bytes to PayoutInput/PayoutLineInput plus per-row errors; the
service that writes them is finance.services.payouts. A file whose layout is wrong
raises ImportFileError; a row that is wrong is reported with its row number.

PayPal: Settlement Report (STL-yyyymmdd.seq.version.CSV), developer.paypal.com
"Settlement Report Specification": records typed by their first field (RH report
header, FH, SH section header, CH column names, SB one transaction, SF/SC/RF/RC/FF
footers and counts). Amounts are unsigned integers in minor units with a DR/CR
column each; dates look like "2025/05/12 09:15:03 -0700".

Stripe: "Itemized payout reconciliation" (report type payout_reconciliation.itemized.5,
docs.stripe.com/reports/report-types/payout-reconciliation): one row per balance
transaction with automatic_payout_id, gross/fee/net in major units, lowercase
currency and a reporting_category; dates "YYYY-MM-DD HH:MM:SS" in UTC.
"""

from __future__ import annotations

import csv
import datetime
import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext

from erp.core.money import minor_units
from finance.choices import PayoutLineKind
from finance.exceptions import ImportFileError
from finance.importing import FIRST_DATA_ROW, RowError, csv_read, decode_text
from finance.inputs import PayoutInput, PayoutLineInput

K = PayoutLineKind


@dataclass
class ParsedPayout:
    """One payout read from a file, with its lines and the row number of each."""

    payout: PayoutInput
    lines: list[PayoutLineInput] = field(default_factory=list)


@dataclass
class ParsedFile:
    """Everything read from one file: payouts, the data rows seen, and row errors."""

    payouts: list[ParsedPayout]
    total_rows: int
    errors: list[RowError]


def _decimal(raw: str) -> Decimal | None:
    text = raw.strip().replace(",", "")
    if text in ("", "-"):
        return Decimal(0)
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def _currency(raw: str) -> str | None:
    code = raw.strip().upper()
    return code if len(code) == 3 and code.isalpha() else None


def _group(
    lines: list[tuple[tuple[str, str, datetime.date, str], PayoutLineInput]],
) -> list[ParsedPayout]:
    """Lines keyed by (gateway, payout id, paid on, currency) -> payouts with net sums."""
    grouped: dict[tuple[str, str, datetime.date, str], list[PayoutLineInput]] = {}
    for key, line in lines:
        grouped.setdefault(key, []).append(line)
    parsed = []
    for (gateway, payout_id, paid_on, currency), members in grouped.items():
        # Transfers move the money to the bank; the payout amount is what they move.
        amount = sum((ln.net for ln in members if ln.kind != K.TRANSFER), Decimal(0))
        parsed.append(
            ParsedPayout(
                payout=PayoutInput(
                    gateway=gateway,
                    external_id=payout_id,
                    currency=currency,
                    amount=amount,
                    paid_on=paid_on,
                ),
                lines=members,
            )
        )
    return parsed


# --- PayPal settlement report ------------------------------------------------------------

PAYPAL_REQUIRED = (
    "Transaction ID",
    "Transaction Event Code",
    "Transaction Debit or Credit",
    "Gross Transaction Amount",
    "Gross Transaction Currency",
)
_PAYPAL_DATE = "%Y/%m/%d %H:%M:%S %z"


def _paypal_kind(code: str) -> str:
    """PayPal T-code families (developer.paypal.com/docs/reports/reference/tcodes)."""
    family = code[:3]
    return {
        "T00": K.CHARGE,  # payments received
        "T01": K.FEE,  # non-payment fees
        "T02": K.ADJUSTMENT,  # currency conversion
        "T03": K.TRANSFER,  # bank deposit into PayPal
        "T04": K.TRANSFER,  # withdrawal to the bank
        "T11": K.REFUND,  # reversals and refunds
        "T12": K.DISPUTE,  # chargebacks and adjustments
        "T15": K.DISPUTE,  # holds for disputes
    }.get(family, K.OTHER)


def _paypal_time(raw: str) -> datetime.datetime | None:
    try:
        # The format ends in %z, so the result is aware.
        return datetime.datetime.strptime(raw.strip(), _PAYPAL_DATE)  # noqa: DTZ007
    except ValueError:
        return None


def paypal_settlement_parse(content: bytes) -> ParsedFile:
    """Read a PayPal Settlement Report: one payout per account, report day and currency."""
    text = decode_text(content)
    try:
        records = list(csv.reader(io.StringIO(text)))
    except csv.Error as exc:
        raise ImportFileError(
            gettext("The file is not readable CSV: %(exc)s.") % {"exc": exc}
        ) from None
    if not records or not records[0] or records[0][0].strip() != "RH":
        raise ImportFileError(
            gettext(
                "This is not a PayPal settlement report: it must start with an RH record."
            )
        )
    account = records[0][3].strip() if len(records[0]) > 3 else ""
    columns: dict[str, int] = {}
    section_end: datetime.date | None = None
    lines: list[tuple[tuple[str, str, datetime.date, str], PayoutLineInput]] = []
    errors: list[RowError] = []
    body_rows = 0
    counted: int | None = None
    for number, record in enumerate(records, start=1):
        kind = record[0].strip() if record else ""
        if kind == "SH":
            end = _paypal_time(record[2]) if len(record) > 2 else None
            if end is None:
                raise ImportFileError(
                    gettext("Row %(number)s: the section header has no end date.")
                    % {"number": number},
                    row=number,
                )
            section_end = end.date()
        elif kind == "CH":
            columns = {name.strip(): i for i, name in enumerate(record)}
            # The specification's sample spells "Transaction  Debit or Credit" with
            # two spaces; accept both spellings.
            if "Transaction  Debit or Credit" in columns:
                columns["Transaction Debit or Credit"] = columns.pop(
                    "Transaction  Debit or Credit"
                )
            missing = [c for c in PAYPAL_REQUIRED if c not in columns]
            if missing:
                raise ImportFileError(
                    gettext("The settlement report lacks the column(s) %(columns)s.")
                    % {"columns": ", ".join(missing)},
                    missing=missing,
                )
        elif kind == "SB":
            body_rows += 1
            if not columns or section_end is None:
                raise ImportFileError(
                    gettext(
                        "Row %(number)s: a transaction comes before the SH/CH headers."
                    )
                    % {"number": number},
                    row=number,
                )
            row = {
                name: (record[i].strip() if i < len(record) else "")
                for name, i in columns.items()
            }
            parsed = _paypal_line(row, number, errors)
            if parsed is not None:
                currency, line = parsed
                payout_id = (
                    f"STL-{account or 'account'}-{section_end:%Y%m%d}-{currency}"
                )
                lines.append((("paypal", payout_id, section_end, currency), line))
        elif kind == "SC" and len(record) > 1:
            counted = (counted or 0) + int(record[1] or 0)
    if counted is not None and counted != body_rows:
        raise ImportFileError(
            gettext(
                "The report says it has %(counted)s transactions but holds %(body_rows)s; the file is incomplete."
            )
            % {"counted": counted, "body_rows": body_rows},
            expected=counted,
            found=body_rows,
        )
    return ParsedFile(payouts=_group(lines), total_rows=body_rows, errors=errors)


def _paypal_line(
    row: Mapping[str, str], number: int, errors: list[RowError]
) -> tuple[str, PayoutLineInput] | None:
    before = len(errors)
    currency = _currency(row["Gross Transaction Currency"])
    if currency is None:
        errors.append(
            RowError(number, "Gross Transaction Currency", "Not a currency code.")
        )
    gross_minor = row["Gross Transaction Amount"]
    fee_minor = row.get("Fee Amount", "") or "0"
    direction = row["Transaction Debit or Credit"].upper()
    fee_direction = (row.get("Fee Debit or Credit", "") or "DR").upper()
    if not gross_minor.isdigit():
        errors.append(
            RowError(
                number,
                "Gross Transaction Amount",
                f"{gross_minor!r} is not an amount in minor units.",
            )
        )
    if not fee_minor.isdigit():
        errors.append(
            RowError(
                number, "Fee Amount", f"{fee_minor!r} is not an amount in minor units."
            )
        )
    if direction not in ("DR", "CR"):
        errors.append(
            RowError(
                number, "Transaction Debit or Credit", f"{direction!r} is not DR or CR."
            )
        )
    if fee_direction not in ("DR", "CR"):
        errors.append(
            RowError(
                number, "Fee Debit or Credit", f"{fee_direction!r} is not DR or CR."
            )
        )
    if not row["Transaction ID"]:
        errors.append(RowError(number, "Transaction ID", "Empty."))
    when_raw = (
        row.get("Transaction Completion Date")
        or row.get("Transaction Initiation Date")
        or ""
    )
    occurred_at = _paypal_time(when_raw) if when_raw else None
    if when_raw and occurred_at is None:
        errors.append(
            RowError(
                number,
                "Transaction Completion Date",
                f"{when_raw!r} is not a PayPal date.",
            )
        )
    if len(errors) > before or currency is None:
        return None
    scale = Decimal(1).scaleb(-minor_units(currency))
    gross = Decimal(gross_minor) * scale * (-1 if direction == "DR" else 1)
    # A DR fee is charged to us; a CR fee is a fee given back (on a refund).
    fee = Decimal(fee_minor) * scale * (1 if fee_direction == "DR" else -1)
    code = row["Transaction Event Code"]
    reference_type = row.get("PayPal Reference ID Type", "").upper()
    line = PayoutLineInput(
        external_id=f"{row['Transaction ID']}:{code}",
        kind=_paypal_kind(code),
        gross=gross,
        fee=fee,
        net=gross - fee,
        currency=currency,
        occurred_at=occurred_at,
        transaction_reference=row["Transaction ID"],
        related_reference=row.get("PayPal Reference ID", "")
        if reference_type == "TXN"
        else "",
        order_reference=row.get("Invoice ID", "") or row.get("Custom Field", ""),
        description=code,
    )
    return currency, line


# --- Stripe itemized payout reconciliation ---------------------------------------------

STRIPE_REQUIRED = (
    "automatic_payout_id",
    "automatic_payout_effective_at",
    "balance_transaction_id",
    "currency",
    "gross",
    "fee",
    "net",
    "reporting_category",
)
# docs.stripe.com/reports/reporting-categories
_STRIPE_KINDS = {
    "charge": K.CHARGE,
    "refund": K.REFUND,
    "refund_failure": K.REFUND,
    "partial_capture_reversal": K.REFUND,
    "dispute": K.DISPUTE,
    "dispute_reversal": K.DISPUTE,
    "fee": K.FEE,
    "network_cost": K.FEE,
    "tax": K.FEE,
    "payout": K.TRANSFER,
    "payout_reversal": K.TRANSFER,
}
# Metadata keys stores put the order id in (WooCommerce Stripe: order_id).
_STRIPE_ORDER_COLUMNS = (
    "payment_metadata[order_id]",
    "payment_metadata[order_number]",
    "refund_metadata[order_id]",
)


def _stripe_time(raw: str) -> datetime.datetime | None:
    try:
        return datetime.datetime.fromisoformat(raw.strip()).replace(tzinfo=datetime.UTC)
    except ValueError:
        return None


def stripe_itemized_parse(content: bytes) -> ParsedFile:
    """Read a Stripe itemized payout reconciliation report: one payout per payout id."""
    _header, rows = csv_read(content, required=STRIPE_REQUIRED)
    lines: list[tuple[tuple[str, str, datetime.date, str], PayoutLineInput]] = []
    errors: list[RowError] = []
    total = 0
    for number, row in enumerate(rows, start=FIRST_DATA_ROW):
        if not row:
            continue
        total += 1
        before = len(errors)
        payout_id = row["automatic_payout_id"]
        if not payout_id:
            errors.append(
                RowError(
                    number,
                    "automatic_payout_id",
                    "Empty: only automatic payouts can be reconciled.",
                )
            )
        effective = _stripe_time(row["automatic_payout_effective_at"])
        if effective is None:
            errors.append(
                RowError(number, "automatic_payout_effective_at", "Not a date.")
            )
        currency = _currency(row["currency"])
        if currency is None:
            errors.append(RowError(number, "currency", "Not a currency code."))
        amounts = {name: _decimal(row[name]) for name in ("gross", "fee", "net")}
        for name, value in amounts.items():
            if value is None:
                errors.append(RowError(number, name, f"{row[name]!r} is not a number."))
        gross, fee, net = amounts["gross"], amounts["fee"], amounts["net"]
        if (
            gross is not None
            and fee is not None
            and net is not None
            and gross - fee != net
        ):
            errors.append(
                RowError(number, "net", f"net {net} is not gross {gross} - fee {fee}.")
            )
        if not row["balance_transaction_id"]:
            errors.append(RowError(number, "balance_transaction_id", "Empty."))
        created_raw = row.get("created_utc") or row.get("created") or ""
        occurred_at = _stripe_time(created_raw) if created_raw else None
        if len(errors) > before or effective is None or currency is None:
            continue
        if gross is None or fee is None or net is None:
            continue
        category = row["reporting_category"].lower()
        kind = _STRIPE_KINDS.get(category, K.ADJUSTMENT)
        charge_id = row.get("charge_id", "")
        source_id = row.get("source_id", "")
        order_reference = next(
            (row[c] for c in _STRIPE_ORDER_COLUMNS if row.get(c)), ""
        )
        line = PayoutLineInput(
            external_id=row["balance_transaction_id"],
            kind=kind,
            gross=gross,
            fee=fee,
            net=net,
            currency=currency,
            occurred_at=occurred_at,
            transaction_reference=(charge_id or source_id)
            if kind == K.CHARGE
            else (source_id or charge_id),
            related_reference=charge_id if kind in (K.REFUND, K.DISPUTE) else "",
            order_reference=order_reference,
            description=row.get("description", "") or category,
        )
        lines.append((("stripe", payout_id, effective.date(), currency), line))
    return ParsedFile(payouts=_group(lines), total_rows=total, errors=errors)


# --- generic CSV with a column mapping --------------------------------------------------

GENERIC_REQUIRED_FIELDS = ("payout_id", "line_id", "paid_on", "gross", "currency")
GENERIC_OPTIONAL_FIELDS = (
    "fee",
    "net",
    "kind",
    "occurred_at",
    "transaction_reference",
    "related_reference",
    "order_reference",
    "description",
)
_GENERIC_KINDS = {
    "charge": K.CHARGE,
    "sale": K.CHARGE,
    "payment": K.CHARGE,
    "capture": K.CHARGE,
    "refund": K.REFUND,
    "chargeback": K.DISPUTE,
    "dispute": K.DISPUTE,
    "fee": K.FEE,
    "adjustment": K.ADJUSTMENT,
    "payout": K.TRANSFER,
    "withdrawal": K.TRANSFER,
    "transfer": K.TRANSFER,
    "other": K.OTHER,
}


def _date_reader(date_format: str) -> Callable[[str], datetime.datetime | None]:
    def read(raw: str) -> datetime.datetime | None:
        text = raw.strip()
        try:
            value = (
                # Made aware below when the format carries no offset.
                datetime.datetime.strptime(text, date_format)  # noqa: DTZ007
                if date_format
                else datetime.datetime.fromisoformat(text)
            )
        except ValueError:
            return None
        return value if value.tzinfo else value.replace(tzinfo=datetime.UTC)

    return read


def generic_csv_parse(
    content: bytes, *, gateway: str, mapping: Mapping[str, str], date_format: str = ""
) -> ParsedFile:
    """Read any gateway's payout CSV whose columns are named by `mapping` (our field -> header).

    Fields: payout_id, line_id, paid_on, gross, currency (required); fee, net, kind,
    occurred_at, transaction_reference, related_reference, order_reference, description.
    Without a kind column, positive lines are charges and negative ones refunds.
    """
    unknown = sorted(
        set(mapping) - set(GENERIC_REQUIRED_FIELDS) - set(GENERIC_OPTIONAL_FIELDS)
    )
    absent = [f for f in GENERIC_REQUIRED_FIELDS if not mapping.get(f)]
    if unknown or absent or not gateway:
        parts = []
        if unknown:
            parts.append(
                gettext("unknown field(s) %(fields)s") % {"fields": ", ".join(unknown)}
            )
        if absent:
            parts.append(gettext("map %(fields)s") % {"fields": ", ".join(absent)})
        if not gateway:
            parts.append(gettext("name the gateway"))
        raise ImportFileError(
            gettext("The column mapping is incomplete: %(problems)s.")
            % {"problems": "; ".join(parts)},
            unknown=unknown,
            missing=absent,
        )
    _header, rows = csv_read(content, required=[c for c in mapping.values() if c])
    read_date = _date_reader(date_format)
    lines: list[tuple[tuple[str, str, datetime.date, str], PayoutLineInput]] = []
    errors: list[RowError] = []
    total = 0
    for number, raw in enumerate(rows, start=FIRST_DATA_ROW):
        if not raw:
            continue
        total += 1
        row = {f: raw.get(c, "") for f, c in mapping.items() if c}
        before = len(errors)

        def bad(field_name: str, message: str, row_number: int = number) -> None:
            errors.append(RowError(row_number, mapping[field_name], message))

        for name in ("payout_id", "line_id"):
            if not row[name]:
                bad(name, "Empty.")
        paid_on = read_date(row["paid_on"])
        if paid_on is None:
            bad(
                "paid_on",
                f"{row['paid_on']!r} is not a date{f' ({date_format})' if date_format else ''}.",
            )
        currency = _currency(row["currency"])
        if currency is None:
            bad("currency", f"{row['currency']!r} is not a currency code.")
        gross = _decimal(row["gross"])
        if gross is None:
            bad("gross", f"{row['gross']!r} is not a number.")
        fee = _decimal(row.get("fee", "")) if row.get("fee") is not None else Decimal(0)
        if fee is None:
            bad("fee", f"{row['fee']!r} is not a number.")
        net = _decimal(row["net"]) if row.get("net") else None
        if row.get("net") and net is None:
            bad("net", f"{row['net']!r} is not a number.")
        if (
            gross is not None
            and fee is not None
            and net is not None
            and gross - fee != net
        ):
            bad("net", f"net {net} is not gross {gross} - fee {fee}.")
        if row.get("kind"):
            kind = _GENERIC_KINDS.get(row["kind"].strip().lower())
            if kind is None:
                bad(
                    "kind",
                    f"{row['kind']!r} is not one of {', '.join(sorted(_GENERIC_KINDS))}.",
                )
        else:
            kind = K.CHARGE if (gross or 0) >= 0 else K.REFUND
        occurred_at = None
        if row.get("occurred_at"):
            occurred_at = read_date(row["occurred_at"])
            if occurred_at is None:
                bad("occurred_at", f"{row['occurred_at']!r} is not a date.")
        if (
            len(errors) > before
            or paid_on is None
            or currency is None
            or gross is None
            or fee is None
            or kind is None
        ):
            continue
        line = PayoutLineInput(
            external_id=row["line_id"],
            kind=kind,
            gross=gross,
            fee=fee,
            net=net if net is not None else gross - fee,
            currency=currency,
            occurred_at=occurred_at,
            transaction_reference=row.get("transaction_reference", ""),
            related_reference=row.get("related_reference", ""),
            order_reference=row.get("order_reference", ""),
            description=row.get("description", ""),
        )
        lines.append(((gateway, row["payout_id"], paid_on.date(), currency), line))
    parsed = _group(lines)
    # One payout id must have one day and one currency.
    seen: dict[str, ParsedPayout] = {}
    for item in parsed:
        other = seen.get(item.payout.external_id)
        if other is not None:
            errors.append(
                RowError(
                    0,
                    mapping["payout_id"],
                    f"Payout {item.payout.external_id} has lines with different dates or currencies.",
                )
            )
        seen[item.payout.external_id] = item
    return ParsedFile(payouts=parsed, total_rows=total, errors=errors)
