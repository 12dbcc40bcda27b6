"""Printable documents: our own 4×6 labels, packing slips, pick lists, merged batches.

reportlab draws (Code 128 barcodes included); pypdf merges carriers' label PDFs with
ours into one file for the printer. Pick lists are for our warehouse staff and print in
the language of whoever prints them; labels and packing slips travel with the parcel to
the buyer abroad and stay English.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import translation
from django.utils.translation import gettext, pgettext
from pypdf import PdfReader, PdfWriter
from reportlab.graphics.barcode import code128
from reportlab.lib.pagesizes import A4, inch
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from logistics.carriers.base import Address, Parcel

LABEL_SIZE = (4 * inch, 6 * inch)

# Names and addresses come in any script; the Adobe CID font covers Chinese (and
# Latin) without shipping a font file, the PDF viewer supplies the glyphs.
CJK_FONT = "STSong-Light"
pdfmetrics.registerFont(UnicodeCIDFont(CJK_FONT))

# A CID font leaves the glyphs to the viewer, and a warehouse printer often has none for
# Chinese: a page whose own words are Chinese embeds WenQuanYi Micro Hei (Debian package
# fonts-wqy-microhei, which .ci/run installs).
EMBEDDED_CJK_FONT = "WenQuanYiMicroHei"
# Languages whose words Helvetica (Latin-1) cannot draw.
_NEEDS_CJK = ("zh", "ja", "ko")


@functools.cache
def _embedded_cjk_font(file: str) -> str:
    path = Path(file)
    if not path.is_file():
        raise ImproperlyConfigured(
            f"Printing in Chinese needs the font file {path} "
            "(apt-get install fonts-wqy-microhei, or set PDF_CJK_FONT_FILE)."
        )
    pdfmetrics.registerFont(TTFont(EMBEDDED_CJK_FONT, str(path), subfontIndex=0))
    return EMBEDDED_CJK_FONT


def _reader_fonts() -> tuple[str, str, str]:
    """Regular, bold and item-text fonts for the active language's own words."""
    language = (translation.get_language() or "en").lower()
    if language.startswith(_NEEDS_CJK):
        font = _embedded_cjk_font(settings.PDF_CJK_FONT_FILE)
        return font, font, font  # Micro Hei has no bold; headings go by size
    return "Helvetica", "Helvetica-Bold", CJK_FONT


@dataclass(frozen=True)
class SlipLine:
    """A line on a packing slip or pick list."""

    sku: str
    title: str
    quantity: int
    barcode: str = ""


@dataclass(frozen=True)
class PackingSlip:
    """What one shipment holds and where it goes."""

    shipment_id: int
    reference: str
    ship_to: Address
    lines: tuple[SlipLine, ...]
    tracking_number: str = ""
    service_name: str = ""


def _barcode(
    canvas: Canvas, value: str, x: float, y: float, *, height: float = 36
) -> None:
    if not value:
        return
    code = code128.Code128(value, barHeight=height, barWidth=0.9, humanReadable=True)
    code.drawOn(canvas, x, y)


def _address_lines(address: Address) -> list[str]:
    city_line = " ".join(
        part for part in (address.postal_code, address.city, address.state_code) if part
    )
    return [
        line
        for line in (
            address.name,
            address.company,
            address.street1,
            address.street2,
            city_line,
            address.country_code,
            address.phone,
        )
        if line
    ]


def rate_card_label_pdf(
    *,
    carrier_name: str,
    service_name: str,
    tracking_number: str,
    reference: str,
    shipper: Address,
    recipient: Address,
    parcels: Sequence[Parcel],
) -> bytes:
    """A 4×6 label for carriers without an API: addresses, service and barcodes."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=LABEL_SIZE)
    width, height = LABEL_SIZE
    canvas.setFont("Helvetica-Bold", 14)
    canvas.drawString(12, height - 24, carrier_name[:40])
    canvas.setFont("Helvetica", 10)
    canvas.drawString(12, height - 38, service_name[:60])
    y = height - 60
    canvas.setFont(CJK_FONT, 8)
    canvas.drawString(12, y, "FROM")
    for line in _address_lines(shipper):
        y -= 10
        canvas.drawString(12, y, line[:70])
    y -= 18
    canvas.setFont(CJK_FONT, 9)
    canvas.drawString(12, y, "TO")
    canvas.setFont(CJK_FONT, 12)
    for line in _address_lines(recipient):
        y -= 15
        canvas.drawString(12, y, line[:45])
    weight = sum(p.weight_grams for p in parcels)
    canvas.setFont("Helvetica", 9)
    canvas.drawString(12, 150, f"{len(parcels)} parcel(s), {weight / 1000:.3f} kg")
    canvas.drawString(12, 138, f"Ref: {reference}"[:60])
    if tracking_number:
        _barcode(canvas, tracking_number, 12, 60, height=60)
    else:
        canvas.setFont("Helvetica-Bold", 10)
        canvas.drawString(12, 90, "TRACKING NUMBER TO FOLLOW")
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def image_label_pdf(content: bytes) -> bytes:
    """A PNG/GIF label placed on a 4×6 PDF page, so it can join the merged batch."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=LABEL_SIZE)
    canvas.drawImage(
        ImageReader(io.BytesIO(content)),
        0,
        0,
        width=LABEL_SIZE[0],
        height=LABEL_SIZE[1],
        preserveAspectRatio=True,
    )
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def packing_slips_pdf(slips: Iterable[PackingSlip]) -> bytes:
    """One A4 page per shipment: address, lines with SKU barcodes, shipment barcode."""
    # In English whoever prints it: the slip goes in the parcel to the buyer abroad.
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4)
    width, height = A4
    for slip in slips:
        canvas.setFont("Helvetica-Bold", 16)
        canvas.drawString(40, height - 50, f"Packing slip — {slip.reference}")
        canvas.setFont("Helvetica", 10)
        canvas.drawString(
            40,
            height - 66,
            f"Shipment S{slip.shipment_id}  {slip.service_name}  {slip.tracking_number}",
        )
        _barcode(canvas, f"S{slip.shipment_id}", width - 200, height - 80)
        y = height - 100
        canvas.setFont(CJK_FONT, 11)
        for line in _address_lines(slip.ship_to):
            canvas.drawString(40, y, line[:80])
            y -= 14
        y -= 16
        canvas.setFont("Helvetica-Bold", 10)
        canvas.drawString(40, y, "Qty")
        canvas.drawString(80, y, "SKU")
        canvas.drawString(330, y, "Item")
        y -= 8
        for line in slip.lines:
            if y < 90:
                canvas.showPage()
                y = height - 60
            y -= 48
            canvas.setFont("Helvetica-Bold", 12)
            canvas.drawString(40, y + 12, str(line.quantity))
            _barcode(canvas, line.barcode or line.sku, 70, y, height=28)
            canvas.setFont(CJK_FONT, 10)
            canvas.drawString(330, y + 22, line.sku[:40])
            canvas.drawString(330, y + 8, line.title[:40])
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def pick_list_pdf(
    *, warehouse: str, lines: Sequence[SlipLine], shipment_count: int
) -> bytes:
    """One warehouse's pick list, in the printing user's language: each SKU once with
    the total to pick and its barcode.

    Raises: ImproperlyConfigured when the language needs the CJK font and it is missing.
    """
    regular, bold, item_font = _reader_fonts()
    title = gettext("Pick list — %(warehouse)s") % {"warehouse": warehouse}
    summary = gettext("%(shipments)s shipment(s), %(units)s unit(s)") % {
        "shipments": shipment_count,
        "units": sum(x.quantity for x in lines),
    }
    columns = (gettext("Qty"), gettext("SKU"), pgettext("pick list", "Item"))
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4)
    canvas.setTitle(title)
    width, height = A4

    def header() -> float:
        canvas.setFont(bold, 16)
        canvas.drawString(40, height - 50, title)
        canvas.setFont(regular, 10)
        canvas.drawString(40, height - 66, summary)
        canvas.setFont(bold, 10)
        for x, column in zip((40, 90, 330), columns, strict=True):
            canvas.drawString(x, height - 86, column)
        return height - 92

    y = header()
    for line in lines:
        if y < 90:
            canvas.showPage()
            y = header()
        y -= 52
        canvas.setFont(bold, 14)
        canvas.drawString(40, y + 14, f"{line.quantity} ×")
        _barcode(canvas, line.barcode or line.sku, 90, y, height=30)
        canvas.setFont(item_font, 10)
        canvas.drawString(330, y + 22, line.sku[:40])
        canvas.drawString(330, y + 8, line.title[:40])
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def merge_pdfs(documents: Iterable[bytes]) -> bytes:
    """Concatenate PDF documents page by page into one file."""
    writer = PdfWriter()
    for document in documents:
        writer.append(PdfReader(io.BytesIO(document)))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def pdf_page_count(document: bytes) -> int:
    """How many pages a PDF has (tests and the batch summary use it)."""
    return len(PdfReader(io.BytesIO(document)).pages)
