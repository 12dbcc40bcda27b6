"""A local fake carrier: real HTTP on 127.0.0.1 answered with the official samples."""

from __future__ import annotations

import base64
import binascii
import io
import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from PIL import Image
from reportlab.pdfgen.canvas import Canvas

FIXTURES = Path(__file__).parent / "fixtures"
JSON = "application/json"


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def fixture_json(name: str) -> Any:
    return json.loads(fixture_bytes(name))


def one_page_pdf(text: str = "sample label") -> bytes:
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=(288, 432))
    canvas.drawString(20, 400, text)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def small_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("L", (120, 80), color=255).save(buffer, format="PNG")
    return buffer.getvalue()


def complete_documents(body: Any) -> Any:
    """Swap base64 documents the sources cut to 64 characters for whole ones.

    The samples keep only the magic bytes of their labels (README.md); karrio opens
    UPS PNG labels and bundles DHL PDFs, which needs a complete file.
    """
    if isinstance(body, dict):
        return {k: complete_documents(v) for k, v in body.items()}
    if isinstance(body, list):
        return [complete_documents(v) for v in body]
    if isinstance(body, str) and 16 <= len(body) <= 100:
        try:
            raw = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            return body
        if raw.startswith(b"%PDF"):
            return base64.b64encode(one_page_pdf()).decode()
        if raw.startswith(b"\x89PNG"):
            return base64.b64encode(small_png()).decode()
    return body


def complete_multipart_documents(text: str) -> str:
    """The same completion for a multipart body: whole base64 lines of a cut PDF."""
    lines = []
    for line in text.split("\n"):
        if line.strip().startswith("JVBERi0") and len(line.strip()) <= 100:
            line = base64.b64encode(one_page_pdf()).decode()
        lines.append(line)
    return "\n".join(lines)


@dataclass
class Route:
    method: str
    pattern: str
    fixture: str
    status: int = 200
    content_type: str = JSON
    transform: Callable[[Any], Any] | None = None


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"null")


@dataclass
class FakeCarrier:
    """Serves `routes` until stopped; every request is kept in `requests`."""

    routes: list[Route]
    requests: list[Seen] = field(default_factory=list)
    delay_seconds: float = 0.0
    # Called in the server thread with each request before it is answered.
    on_request: Callable[[Seen], None] | None = None

    def start(self) -> FakeCarrier:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                return

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                seen = Seen(
                    self.command,
                    self.path,
                    {k.lower(): v for k, v in self.headers.items()},
                    body,
                )
                fake.requests.append(seen)
                if fake.on_request is not None:
                    fake.on_request(seen)
                if fake.delay_seconds:
                    threading.Event().wait(fake.delay_seconds)
                for route in fake.routes:
                    if route.method == self.command and re.search(
                        route.pattern, self.path
                    ):
                        data = fixture_bytes(route.fixture)
                        if route.transform is not None and route.content_type == JSON:
                            data = json.dumps(
                                route.transform(json.loads(data))
                            ).encode()
                        elif route.transform is not None:
                            data = route.transform(data.decode()).encode()
                        self.send_response(route.status)
                        self.send_header("Content-Type", route.content_type)
                        self.send_header("Content-Length", str(len(data)))
                        self.end_headers()
                        self.wfile.write(data)
                        return
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _answer

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, args=(0.05,), daemon=True
        )
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def paths(self) -> list[tuple[str, str]]:
        return [(r.method, r.path.split("?")[0]) for r in self.requests]


USPS_MULTIPART = "multipart/form-data; boundary=r6-fpGYWbdZmd9w5-850fEfX"

CARRIER_ROUTES: dict[str, list[Route]] = {
    "ups": [
        Route("POST", r"^/security/v1/oauth/token", "ups/oauth_token_response.json"),
        Route("POST", r"^/api/rating/", "ups/rate_response_shop_multi_service.json"),
        Route(
            "POST",
            r"^/api/shipments/v2409/ship",
            "ups/ship_response_png_label.json",
            transform=complete_documents,
        ),
        Route("DELETE", r"^/api/shipments/v2409/void", "ups/void_response.json"),
        Route("GET", r"^/api/track/v1/details/", "ups/track_response.json"),
    ],
    "fedex": [
        Route("POST", r"^/oauth/token", "fedex/oauth_token_response.json"),
        Route(
            "POST",
            r"^/rate/v1/rates/quotes",
            "fedex/rate_response_output_official.json",
        ),
        Route(
            "POST",
            r"^/ship/v1/shipments$",
            "fedex/ship_response_pdf_label.json",
            transform=complete_documents,
        ),
        Route("PUT", r"^/ship/v1/shipments/cancel", "fedex/cancel_response.json"),
        Route("POST", r"^/track/v1/trackingnumbers", "fedex/track_response.json"),
    ],
    "dhl_express": [
        Route("POST", r"^/rates", "dhl_express/rates_response_dutiable.json"),
        Route(
            "POST",
            r"^/shipments$",
            "dhl_express/shipment_response_dutiable.json",
            status=201,
            transform=complete_documents,
        ),
        Route("GET", r"^/tracking", "dhl_express/tracking_response.json"),
    ],
    "usps": [
        Route("POST", r"^/oauth2/v3/token", "usps/oauth_token_response.json"),
        Route(
            "POST",
            r"^/payments/v3/payment-authorization",
            "usps/payment_authorization_response.json",
        ),
        Route(
            "POST",
            r"^/shipments/v3/options/search",
            "usps/shipping_options_response.json",
        ),
        Route(
            "POST",
            r"^/labels/v3/label$",
            "usps/label_response_domestic.multipart.txt",
            content_type=USPS_MULTIPART,
            transform=complete_multipart_documents,
        ),
        Route("DELETE", r"^/labels/v3/label/", "usps/label_cancel_response.json"),
        Route("GET", r"^/tracking/v3/tracking/", "usps/tracking_detail_response.json"),
    ],
}

CREDENTIALS: dict[str, dict[str, str]] = {
    "ups": {
        "client_id": "ups-client",
        "client_secret": "ups-secret",
        "account_number": "A1B2C3",
    },
    "fedex": {
        "api_key": "fedex-key",
        "secret_key": "fedex-secret",
        "account_number": "510087020",
        "track_api_key": "fedex-track-key",
        "track_secret_key": "fedex-track-secret",
    },
    "dhl_express": {
        "username": "dhl-user",
        "password": "dhl-pass",
        "account_number": "123456789",
    },
    "usps": {
        "client_id": "usps-client",
        "client_secret": "usps-secret",
        "account_number": "1000000000",
        "CRID": "56982563",
        "MID": "899999999",
        "manifest_MID": "899999998",
    },
}

# The secret chosen when subscribing to UPS Track Alert, sent back in `credential`,
# and the parcel UPS's Track Alert examples are about.
UPS_WEBHOOK_CREDENTIAL = "c2d3f4-opaque-credential-chosen-at-subscription"
UPS_SAMPLE_NUMBER = "1ZABCXYZ0112346789"
