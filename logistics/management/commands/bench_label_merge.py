"""Time merging N labels into one PDF, as batch printing does (no database needed).

    python manage.py bench_label_merge --labels 100 --out var/labels-100.pdf

Half the labels are our own rate-card labels (vector, with a Code 128 barcode),
half are carrier-style image labels (a 4×6 PNG at 203 dpi placed on a PDF page,
as UPS's PNG labels are).
"""

from __future__ import annotations

import io
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandParser
from PIL import Image, ImageDraw

from logistics.carriers.base import Address, Parcel
from logistics.documents import (
    image_label_pdf,
    merge_pdfs,
    pdf_page_count,
    rate_card_label_pdf,
)

SHIPPER = Address(
    name="DTC Warehouse", street1="1 Main St", city="Shenzhen", country_code="CN"
)


def _png_label(n: int) -> bytes:
    image = Image.new("L", (812, 1218), color=255)  # 4×6 in at 203 dpi
    draw = ImageDraw.Draw(image)
    draw.rectangle((20, 20, 792, 1198), outline=0, width=4)
    draw.text((40, 40), f"CARRIER LABEL {n:03d}", fill=0)
    for x in range(60, 760, 9):
        draw.rectangle((x, 900, x + (n + x) % 5 + 1, 1100), fill=0)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


class Command(BaseCommand):
    help = "Time merging N labels into one PDF."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--labels", type=int, default=100)
        parser.add_argument("--out", type=Path, default=None)

    def handle(self, *args: object, **options: object) -> None:
        count = int(options["labels"])  # type: ignore[call-overload]
        started = time.perf_counter()
        labels = []
        for n in range(count):
            if n % 2:
                labels.append(image_label_pdf(_png_label(n)))
            else:
                labels.append(
                    rate_card_label_pdf(
                        carrier_name="YunExpress",
                        service_name="Global Direct",
                        tracking_number=f"YT{2433121266050000 + n}",
                        reference=f"#{1000 + n}",
                        shipper=SHIPPER,
                        recipient=Address(
                            name="李雷 Li Lei",
                            street1=f"{n} Market St",
                            city="San Francisco",
                            state_code="CA",
                            postal_code="94103",
                            country_code="US",
                        ),
                        parcels=(Parcel(350 + n),),
                    )
                )
        drawn = time.perf_counter()
        merged = merge_pdfs(labels)
        merged_at = time.perf_counter()
        pages = pdf_page_count(merged)
        if options["out"]:
            out = Path(options["out"])  # type: ignore[arg-type]
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(merged)
        self.stdout.write(
            f"labels: {count} ({count - count // 2} rate-card, {count // 2} image)\n"
            f"drawing the labels: {drawn - started:.3f} s\n"
            f"merging into one PDF: {merged_at - drawn:.3f} s "
            f"({pages} pages, {len(merged) / 1024:.0f} KiB)"
        )
