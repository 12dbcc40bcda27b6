"""Payouts: from the gateway APIs (through connectors) and from report files."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext, gettext_noop

from erp.core.text import Join, Phrase
from finance.choices import PayoutImportStatus, PayoutLineKind, PayoutSource
from finance.exceptions import ImportFileError, InvalidFinanceDataError
from finance.gateways import gateway_key
from finance.importing import RowError
from finance.inputs import PayoutInput, PayoutLineInput
from finance.locks import payout_lock
from finance.models import Payout, PayoutImport, PayoutLine
from finance.payout_formats import (
    ParsedFile,
    generic_csv_parse,
    paypal_settlement_parse,
    stripe_itemized_parse,
)


@dataclass(frozen=True)
class PayoutImportResult:
    """What payout_import did with one payout."""

    payout_id: int
    created: bool
    updated: bool
    lines_created: int
    lines_updated: int
    lines_unchanged: int


_LINE_FIELDS = (
    "kind",
    "gross",
    "fee",
    "net",
    "currency",
    "occurred_at",
    "transaction_reference",
    "related_reference",
    "order_reference",
    "description",
)


def _validate(payout: PayoutInput, lines: Sequence[PayoutLineInput]) -> list[str]:
    problems: list[str] = []
    if not payout.external_id:
        problems.append(Phrase(gettext_noop("the payout id is empty")))
    if not payout.gateway:
        problems.append(Phrase(gettext_noop("the gateway is empty")))
    currency = payout.currency.upper()
    if len(currency) != 3 or not currency.isalpha():
        problems.append(
            Phrase(
                gettext_noop("currency %(value)r is not an ISO code"),
                value=payout.currency,
            )
        )
    if not isinstance(payout.amount, Decimal):
        problems.append(
            Phrase(
                gettext_noop("amount %(value)r is not a decimal"), value=payout.amount
            )
        )
    kinds = set(PayoutLineKind.values)
    seen: set[str] = set()
    for line in lines:
        line_id = line.external_id or "(no id)"

        def problem(template: str, **values: Any) -> Phrase:
            return Phrase(template, line=line_id, **values)  # noqa: B023

        if not line.external_id:
            problems.append(
                problem(gettext_noop("line %(line)s: the line id is empty"))
            )
        if line.external_id in seen:
            problems.append(problem(gettext_noop("line %(line)s: appears twice")))
        seen.add(line.external_id)
        if line.kind not in kinds:
            problems.append(
                problem(
                    gettext_noop(
                        "line %(line)s: kind %(kind)r is not one of %(kinds)s"
                    ),
                    kind=line.kind,
                    kinds=str(sorted(kinds)),
                )
            )
        if line.currency.upper() != currency:
            problems.append(
                problem(
                    gettext_noop(
                        "line %(line)s: currency %(currency)s differs from the "
                        "payout's %(payout_currency)s"
                    ),
                    currency=line.currency,
                    payout_currency=currency,
                )
            )
        if not all(isinstance(v, Decimal) for v in (line.gross, line.fee, line.net)):
            problems.append(
                problem(
                    gettext_noop("line %(line)s: gross, fee and net must be decimals")
                )
            )
        elif line.gross - line.fee != line.net:
            problems.append(
                problem(
                    gettext_noop(
                        "line %(line)s: net %(net)s is not gross %(gross)s - fee %(fee)s"
                    ),
                    net=str(line.net),
                    gross=str(line.gross),
                    fee=str(line.fee),
                )
            )
        if line.occurred_at is not None and line.occurred_at.tzinfo is None:
            problems.append(
                problem(
                    gettext_noop("line %(line)s: occurred_at must be timezone-aware")
                )
            )
    return problems


def _line_values(line: PayoutLineInput) -> dict[str, Any]:
    return {
        "kind": line.kind,
        "gross": line.gross,
        "fee": line.fee,
        "net": line.net,
        "currency": line.currency.upper(),
        "occurred_at": line.occurred_at,
        "transaction_reference": line.transaction_reference[:100],
        "related_reference": line.related_reference[:100],
        "order_reference": line.order_reference.strip()[:100],
        "description": line.description[:255],
    }


@transaction.atomic
def payout_import(
    *,
    channel_id: int | None,
    payout: PayoutInput,
    lines: Sequence[PayoutLineInput],
    source: str = PayoutSource.API,
    payout_import_id: int | None = None,
) -> PayoutImportResult:
    """Upsert one payout and its lines by the gateway's ids (the connector calls this).

    Idempotent: the same payout again changes nothing. Lines are never deleted, since a
    later hand-over may carry only part of a payout.
    Locks: the Payout row.
    Raises: InvalidFinanceDataError listing every problem (nothing is written).
    """
    problems = _validate(payout, lines)
    if problems:
        raise InvalidFinanceDataError(
            Phrase(
                gettext_noop("Payout %(payout)s cannot be imported: %(problems)s."),
                payout=payout.external_id or "?",
                problems=Join(problems, "; "),
            ),
            payout=payout.external_id,
            problems=problems,
        )
    gateway = gateway_key(payout.gateway)
    values = {
        "channel_id": channel_id,
        "source": source,
        "currency": payout.currency.upper(),
        "amount": payout.amount,
        "paid_on": payout.paid_on,
        "status": payout.status[:30],
    }
    row, created = Payout.objects.get_or_create(
        gateway=gateway,
        external_id=payout.external_id[:100],
        defaults={**values, "last_import_id": payout_import_id},
    )
    row = payout_lock(payout_id=row.pk)
    updated = False
    if not created and any(getattr(row, k) != v for k, v in values.items()):
        for k, v in values.items():
            setattr(row, k, v)
        row.last_import_id = payout_import_id or row.last_import_id
        row.save(update_fields=[*values, "last_import_id", "updated_at"])
        updated = True
    existing = {ln.external_id: ln for ln in PayoutLine.objects.filter(payout=row)}
    to_create: list[PayoutLine] = []
    to_update: list[PayoutLine] = []
    for line in lines:
        line_values = _line_values(line)
        current = existing.get(line.external_id)
        if current is None:
            to_create.append(
                PayoutLine(
                    payout=row, external_id=line.external_id[:100], **line_values
                )
            )
        elif any(getattr(current, k) != v for k, v in line_values.items()):
            for k, v in line_values.items():
                setattr(current, k, v)
            to_update.append(current)
    PayoutLine.objects.bulk_create(to_create)
    if to_update:
        PayoutLine.objects.bulk_update(to_update, [*_LINE_FIELDS, "updated_at"])
    return PayoutImportResult(
        payout_id=row.pk,
        created=created,
        updated=updated,
        lines_created=len(to_create),
        lines_updated=len(to_update),
        lines_unchanged=len(lines) - len(to_create) - len(to_update),
    )


# --- gateway APIs --------------------------------------------------------------------


@dataclass(frozen=True)
class FetchedPayout:
    """One payout a connector read from a gateway's API, mapped to finance's inputs."""

    payout: PayoutInput
    lines: tuple[PayoutLineInput, ...]


@transaction.atomic(durable=True)
def payouts_api_import(
    *,
    channel_id: int | None,
    gateway: str,
    payouts: Sequence[FetchedPayout],
    errors: Sequence[str] = (),
    reference: str = "",
) -> PayoutFileReport:
    """Record the payouts one API fetch brought, each upserted by the gateway's ids.

    Idempotent: fetching the same payouts again changes nothing. A payout finance
    refuses does not stop the others; it is listed, with what the connector could not
    read (`errors`), on the import record finance sees.
    """
    record = PayoutImport.objects.create(
        source=PayoutSource.API,
        gateway=gateway_key(gateway),
        channel_id=channel_id,
        file_name=reference[:255],
        status=PayoutImportStatus.COMMITTED,
        total_rows=sum(len(p.lines) for p in payouts),
    )
    problems = [RowError(0, "", message) for message in errors]
    results: list[PayoutImportResult] = []
    for index, item in enumerate(
        sorted(payouts, key=lambda p: p.payout.external_id), start=1
    ):
        try:
            with transaction.atomic():
                results.append(
                    payout_import(
                        channel_id=channel_id,
                        payout=item.payout,
                        lines=item.lines,
                        source=PayoutSource.API,
                        payout_import_id=record.pk,
                    )
                )
        except InvalidFinanceDataError as exc:
            problems.append(RowError(index, item.payout.external_id, exc.message))
    record.payouts_created = sum(r.created for r in results)
    record.payouts_updated = sum(r.updated for r in results)
    record.lines_created = sum(r.lines_created for r in results)
    record.lines_updated = sum(r.lines_updated for r in results)
    record.lines_unchanged = sum(r.lines_unchanged for r in results)
    record.errors = [e.as_dict() for e in problems]
    if problems and not results:
        record.status = PayoutImportStatus.FAILED
    record.save()
    return PayoutFileReport(
        import_id=record.pk,
        committed=bool(results) or not problems,
        total_rows=record.total_rows,
        payouts_created=record.payouts_created,
        payouts_updated=record.payouts_updated,
        lines_created=record.lines_created,
        lines_updated=record.lines_updated,
        lines_unchanged=record.lines_unchanged,
        errors=tuple(problems),
        payout_ids=tuple(r.payout_id for r in results),
    )


# --- report files --------------------------------------------------------------------


@dataclass(frozen=True)
class PayoutFileReport:
    """What a payout file import found and did (row errors mean nothing was written)."""

    import_id: int
    committed: bool
    total_rows: int
    payouts_created: int = 0
    payouts_updated: int = 0
    lines_created: int = 0
    lines_updated: int = 0
    lines_unchanged: int = 0
    errors: tuple[RowError, ...] = ()
    payout_ids: tuple[int, ...] = field(default_factory=tuple)

    def as_dict(self) -> dict[str, Any]:
        return {
            "import_id": self.import_id,
            "committed": self.committed,
            "total_rows": self.total_rows,
            "payouts_created": self.payouts_created,
            "payouts_updated": self.payouts_updated,
            "lines_created": self.lines_created,
            "lines_updated": self.lines_updated,
            "lines_unchanged": self.lines_unchanged,
            "errors": [e.as_dict() for e in self.errors],
            "payout_ids": list(self.payout_ids),
        }


def _parse(
    *,
    source: str,
    content: bytes,
    gateway: str,
    mapping: Mapping[str, str] | None,
    date_format: str,
) -> ParsedFile:
    if source == PayoutSource.PAYPAL_SETTLEMENT:
        return paypal_settlement_parse(content)
    if source == PayoutSource.STRIPE_ITEMIZED:
        return stripe_itemized_parse(content)
    if source == PayoutSource.GENERIC_CSV:
        return generic_csv_parse(
            content,
            gateway=gateway_key(gateway) if gateway else "",
            mapping=mapping or {},
            date_format=date_format,
        )
    raise ImportFileError(
        gettext("Unknown payout file format %(source)r.") % {"source": source},
        allowed=[
            PayoutSource.PAYPAL_SETTLEMENT,
            PayoutSource.STRIPE_ITEMIZED,
            PayoutSource.GENERIC_CSV,
        ],
    )


@transaction.atomic(durable=True)
def _import_refused(
    *,
    source: str,
    gateway: str,
    channel_id: int | None,
    file_name: str,
    digest: str,
    total_rows: int,
    errors: Sequence[RowError],
    actor_id: int | None,
) -> PayoutImport:
    return PayoutImport.objects.create(
        source=source,
        gateway=gateway,
        channel_id=channel_id,
        file_name=file_name[:255],
        sha256=digest,
        status=PayoutImportStatus.FAILED,
        total_rows=total_rows,
        errors=[e.as_dict() for e in errors],
        created_by_id=actor_id,
    )


@transaction.atomic(durable=True)
def _import_write(
    *,
    source: str,
    gateway: str,
    channel_id: int | None,
    file_name: str,
    digest: str,
    parsed: ParsedFile,
    actor_id: int | None,
) -> PayoutFileReport:
    record = PayoutImport.objects.create(
        source=source,
        gateway=gateway,
        channel_id=channel_id,
        file_name=file_name[:255],
        sha256=digest,
        status=PayoutImportStatus.COMMITTED,
        total_rows=parsed.total_rows,
        created_by_id=actor_id,
    )
    results = [
        payout_import(
            channel_id=channel_id,
            payout=item.payout,
            lines=item.lines,
            source=source,
            payout_import_id=record.pk,
        )
        for item in sorted(
            parsed.payouts, key=lambda p: (p.payout.gateway, p.payout.external_id)
        )
    ]
    record.payouts_created = sum(r.created for r in results)
    record.payouts_updated = sum(r.updated for r in results)
    record.lines_created = sum(r.lines_created for r in results)
    record.lines_updated = sum(r.lines_updated for r in results)
    record.lines_unchanged = sum(r.lines_unchanged for r in results)
    record.save()
    return PayoutFileReport(
        import_id=record.pk,
        committed=True,
        total_rows=parsed.total_rows,
        payouts_created=record.payouts_created,
        payouts_updated=record.payouts_updated,
        lines_created=record.lines_created,
        lines_updated=record.lines_updated,
        lines_unchanged=record.lines_unchanged,
        payout_ids=tuple(r.payout_id for r in results),
    )


def payout_file_import(
    *,
    source: str,
    content: bytes,
    file_name: str,
    channel_id: int | None = None,
    gateway: str = "",
    mapping: Mapping[str, str] | None = None,
    date_format: str = "",
    actor_id: int | None = None,
) -> PayoutFileReport:
    """Import a PayPal settlement, Stripe itemized payout or mapped CSV report.

    All or nothing: a file with any bad row writes no payout and is kept as a refused
    import listing every bad row. Re-importing a file changes nothing.
    Raises: ImportFileError when the file's layout or columns are wrong (the refusal
    is recorded too).
    """
    digest = hashlib.sha256(content).hexdigest()
    gateway_name = {
        PayoutSource.PAYPAL_SETTLEMENT: "paypal",
        PayoutSource.STRIPE_ITEMIZED: "stripe",
    }.get(source, gateway_key(gateway) if gateway else "")
    try:
        parsed = _parse(
            source=source,
            content=content,
            gateway=gateway,
            mapping=mapping,
            date_format=date_format,
        )
    except ImportFileError as exc:
        _import_refused(
            source=source
            if source in PayoutSource.values
            else PayoutSource.GENERIC_CSV,
            gateway=gateway_name,
            channel_id=channel_id,
            file_name=file_name,
            digest=digest,
            total_rows=0,
            errors=[RowError(0, "", exc.message)],
            actor_id=actor_id,
        )
        raise
    if parsed.errors or not parsed.payouts:
        errors = parsed.errors or [RowError(0, "", "The file holds no payout lines.")]
        record = _import_refused(
            source=source,
            gateway=gateway_name,
            channel_id=channel_id,
            file_name=file_name,
            digest=digest,
            total_rows=parsed.total_rows,
            errors=errors,
            actor_id=actor_id,
        )
        return PayoutFileReport(
            import_id=record.pk,
            committed=False,
            total_rows=parsed.total_rows,
            errors=tuple(sorted(errors, key=lambda e: (e.row, e.column))),
        )
    return _import_write(
        source=source,
        gateway=gateway_name,
        channel_id=channel_id,
        file_name=file_name,
        digest=digest,
        parsed=parsed,
        actor_id=actor_id,
    )
