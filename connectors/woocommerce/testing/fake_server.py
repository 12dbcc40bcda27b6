"""A fake WooCommerce store: the REST API v3 over real HTTP on 127.0.0.1.

Answers with the official examples of the REST API docs (connectors/woocommerce/tests/
fixtures/rest_v3/) as templates, checks the `woocommerce` package's OAuth 1.0a query
signature (plain http) or HTTP Basic auth (https) like WooCommerce does, pages like
WordPress (per_page ≤ 100, X-WP-Total, X-WP-TotalPages, Link), refuses batches over 100
objects, and can fail (5xx, an HTML page with 200, hangs, 401 after the keys were
revoked) or slow down. It sends signed webhooks like WC_Webhook::deliver, and disables a
webhook after more than 5 failed deliveries in a row, as WooCommerce does.

    with FakeWooStore() as store:
        order = store.add_order()
        client = WooClient(shop_url=store.url, consumer_key=store.consumer_key, ...)
"""

from __future__ import annotations

import base64
import copy
import hmac
import json
import re
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from hashlib import sha256
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

import requests
from woocommerce.oauth import OAuth

from connectors.testing import FakeStoreServer, StoreHTTPServer
from connectors.woocommerce.testing.webhooks import webhook_body, webhook_headers

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures"
API_PREFIX = "/wp-json/wc/v3/"
MAX_PER_PAGE = 100
MAX_BATCH = 100
# WC_Webhook: disabled when failure_count > 5 (woocommerce_max_webhook_delivery_failures).
MAX_DELIVERY_FAILURES = 5
GMT_FORMAT = "%Y-%m-%dT%H:%M:%S"
MAINTENANCE_HTML = (
    "<!DOCTYPE html><html><head><title>Maintenance</title></head><body>"
    "<h1>Briefly unavailable for scheduled maintenance. Check back in a minute.</h1>"
    "</body></html>"
)


def load_fixture(name: str) -> Any:
    """An official example, numbers read as Decimal (money is never float)."""
    return json.loads((FIXTURES / name).read_text(), parse_float=Decimal)


def gmt(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(GMT_FORMAT)


def _parse_gmt(value: str) -> datetime:
    return datetime.fromisoformat(value).replace(tzinfo=UTC)


def _error(code: str, message: str, status: int) -> dict[str, Any]:
    """WordPress's error body (see fixtures/rest_v3/error_*.response.json)."""
    return {"code": code, "message": message, "data": {"status": status}}


def _not_found(code: str) -> tuple[int, Any, dict[str, str]]:
    """WooCommerce's answer for an id it does not have."""
    return 404, _error(code, "Invalid ID.", 404), {}


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


@dataclass(frozen=True)
class RecordedCall:
    """One request the fake store answered."""

    method: str
    path: str
    params: dict[str, str]
    status: int
    body: Any = None


@dataclass
class Fault:
    """What the next matching request gets instead of an answer."""

    status: int = 503
    body: Any = None
    html: bool = False
    delay: float = 0.0
    path: str | None = None


@dataclass
class Delivery:
    """A webhook as the store would post it: signed bytes and headers, kept to send
    later (lost, twice, out of order) as a test wants."""

    url: str
    topic: str
    body: bytes
    headers: dict[str, str]
    webhook_id: int
    response_status: int | None = None


@dataclass
class FakeWebhook:
    """A webhook registered in the store."""

    id: int
    topic: str
    delivery_url: str
    secret: str
    status: str = "active"
    name: str = ""
    failure_count: int = 0

    def as_json(self) -> dict[str, Any]:
        template = load_fixture("rest_v3/webhook_create.response.json")
        resource, _, event = self.topic.partition(".")
        template.update(
            id=self.id,
            name=self.name or self.topic,
            status=self.status,
            topic=self.topic,
            resource=resource,
            event=event,
            delivery_url=self.delivery_url,
        )
        return template


@dataclass
class _State:
    orders: dict[int, dict[str, Any]] = field(default_factory=dict)
    refunds: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    notes: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    products: dict[int, dict[str, Any]] = field(default_factory=dict)
    variations: dict[int, dict[int, dict[str, Any]]] = field(default_factory=dict)
    webhooks: dict[int, FakeWebhook] = field(default_factory=dict)


class _Handler(BaseHTTPRequestHandler):
    server: StoreHTTPServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        return  # tests read store.calls instead of stderr

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        status, body, headers = self.server.store.handle(
            method=self.command, target=self.path, headers=self.headers, raw=raw
        )
        self._send(status, body, headers)

    do_GET = do_POST = do_PUT = do_DELETE = _handle  # noqa: N815

    def _send(self, status: int, body: Any, headers: dict[str, str]) -> None:
        if isinstance(body, str):
            data, content_type = body.encode(), "text/html; charset=UTF-8"
        else:
            data = json.dumps(body, default=_json_default).encode()
            content_type = "application/json; charset=UTF-8"
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client timed out and left; that is what a hang test wants


class FakeWooStore(FakeStoreServer):
    """The fake store: its state, its faults, and the HTTP server in a thread."""

    handler_class = _Handler
    thread_name = "fake-woocommerce"

    def __init__(
        self,
        *,
        consumer_key: str = "ck_fake0123456789abcdef0123456789abcdef01",
        consumer_secret: str = "cs_fake0123456789abcdef0123456789abcdef01",  # noqa: S107
        currency: str = "USD",
        site_name: str = "Fake Woo Store",
        delay: float = 0.0,
        port: int = 0,
        first_id: int = 5000,
    ) -> None:
        self.consumer_key = consumer_key
        self.consumer_secret = consumer_secret
        self.currency = currency
        self.site_name = site_name
        self.delay = delay
        self.port = port
        self.state = _State()
        self.calls: list[RecordedCall] = []
        self.auth_failures: list[str] = []
        self.deliveries: list[Delivery] = []
        self._faults: deque[Fault] = deque()
        self._revoked = False
        self._next_id = first_id
        self._lock = threading.RLock()

    # --- faults ----------------------------------------------------------------------

    def fail_next(
        self,
        status: int = 503,
        *,
        times: int = 1,
        html: bool = False,
        path: str | None = None,
    ) -> None:
        """Answer the next `times` requests (to `path`, if given) with `status`; with
        `html`, an HTML maintenance page instead of JSON (status 200 included)."""
        for _ in range(times):
            self._faults.append(Fault(status=status, html=html, path=path))

    def hang_next(self, seconds: float, *, times: int = 1) -> None:
        """Hold the next requests for `seconds` before answering normally."""
        for _ in range(times):
            self._faults.append(Fault(status=0, delay=seconds))

    def revoke_keys(self) -> None:
        """The merchant revoked our REST API keys: every request answers 401."""
        self._revoked = True

    def calls_to(self, method: str, pattern: str) -> list[RecordedCall]:
        """Calls whose method matches and whose path matches the regex `pattern`."""
        regex = re.compile(pattern)
        return [c for c in self.calls if c.method == method and regex.fullmatch(c.path)]

    # --- state -------------------------------------------------------------------------

    def _new_id(self) -> int:
        with self._lock:
            self._next_id += 1
            return self._next_id

    def _touch(self, data: dict[str, Any], *, at: datetime | None = None) -> None:
        """Set date_modified to now, strictly after the previous value (WP stores
        seconds: two saves in one second would otherwise look like one)."""
        moment = (at or datetime.now(tz=UTC)).replace(microsecond=0)
        previous = data.get("date_modified_gmt")
        if previous and moment <= _parse_gmt(previous):
            moment = _parse_gmt(previous) + timedelta(seconds=1)
        data["date_modified_gmt"] = gmt(moment)
        data["date_modified"] = gmt(moment)

    def add_order(
        self,
        *,
        status: str = "processing",
        created_at: datetime | None = None,
        sku: str | None = None,
        items: list[dict[str, Any]] | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        """A new order made from the official example (order 727), with fresh ids.

        `sku` puts that SKU on the first line (the example's first line has none);
        `items` ({product_id, variation_id, sku, quantity}) replace the example's lines,
        each priced like its second line (12.00 each).
        """
        with self._lock:
            order = load_fixture("rest_v3/order_retrieve.response.json")
            order_id = self._new_id()
            created = (created_at or datetime.now(tz=UTC)).replace(microsecond=0)
            order.update(
                id=order_id,
                number=str(order_id),
                order_key=f"wc_order_{uuid.uuid4().hex[:13]}",
                status=status,
                currency=self.currency,
                date_created_gmt=gmt(created),
                date_created=gmt(created),
                date_modified_gmt=gmt(created),
                date_modified=gmt(created),
                date_paid_gmt=gmt(created)
                if status in ("processing", "completed")
                else None,
                date_paid=gmt(created)
                if status in ("processing", "completed")
                else None,
            )
            if items is not None:
                template = order["line_items"][1]
                order["line_items"] = []
                for item in items:
                    price = Decimal(str(item.get("price", "12.00")))
                    amount = f"{price * item['quantity']:.2f}"
                    order["line_items"].append(
                        {
                            **copy.deepcopy(template),
                            "name": item.get("name") or f"Product {item['sku']}",
                            "product_id": item["product_id"],
                            "variation_id": item.get("variation_id", 0),
                            "sku": item["sku"],
                            "quantity": item["quantity"],
                            "price": float(price),
                            "subtotal": amount,
                            "total": amount,
                            "subtotal_tax": "0.00",
                            "total_tax": "0.00",
                            "taxes": [],
                            "meta_data": [],
                        }
                    )
                subtotal = sum(
                    (Decimal(line["total"]) for line in order["line_items"]), Decimal(0)
                )
                shipping = Decimal(order["shipping_total"])
                order.update(
                    tax_lines=[],
                    cart_tax="0.00",
                    total_tax="0.00",
                    total=f"{subtotal + shipping:.2f}",
                )
            for item in [
                *order["line_items"],
                *order["shipping_lines"],
                *order["tax_lines"],
            ]:
                item["id"] = self._new_id()
            if sku is not None:
                order["line_items"][0]["sku"] = sku
            order.update(fields)
            self.state.orders[order_id] = order
            self.state.refunds[order_id] = []
            self.state.notes[order_id] = []
            return copy.deepcopy(order)

    def order(self, order_id: int | str) -> dict[str, Any]:
        with self._lock:
            return copy.deepcopy(self.state.orders[int(order_id)])

    def change_order(
        self, order_id: int | str, *, at: datetime | None = None, **fields: Any
    ) -> dict[str, Any]:
        """Change an order as the merchant would in wp-admin (bumps date_modified)."""
        with self._lock:
            order = self.state.orders[int(order_id)]
            order.update(fields)
            self._touch(order, at=at)
            return copy.deepcopy(order)

    def add_refund(self, order_id: int | str, *, amount: str, reason: str = "") -> dict:
        """A refund of `amount` (the official refund example, fresh id and date)."""
        with self._lock:
            order = self.state.orders[int(order_id)]
            refund = load_fixture("rest_v3/refund_retrieve.response.json")
            refund.update(
                id=self._new_id(),
                amount=amount,
                reason=reason,
                date_created_gmt=gmt(datetime.now(tz=UTC)),
            )
            self.state.refunds[int(order_id)].insert(0, refund)
            order["refunds"] = [
                {"id": r["id"], "reason": r["reason"], "total": f"-{r['amount']}"}
                for r in self.state.refunds[int(order_id)]
            ]
            self._touch(order)
            return copy.deepcopy(refund)

    def trash_order(self, order_id: int | str) -> None:
        """Delete the order in wp-admin: it goes to the trash."""
        self.change_order(order_id, status="trash")

    def add_simple_products(
        self, count: int, *, sku_prefix: str = "SKU", quantity: int | None = None
    ) -> list[dict[str, Any]]:
        """`count` simple products like the official product example, with SKUs."""
        made = []
        with self._lock:
            for index in range(count):
                product = load_fixture("rest_v3/product_retrieve.response.json")
                product.update(
                    id=self._new_id(),
                    sku=f"{sku_prefix}-{index:04d}",
                    manage_stock=quantity is not None,
                    stock_quantity=quantity,
                )
                self.state.products[product["id"]] = product
                made.append(copy.deepcopy(product))
        return made

    def add_simple_product(
        self, *, product_id: int, sku: str, name: str = "", price: str = "21.99"
    ) -> dict[str, Any]:
        """A simple product with a given id (a demo store's listing), stock unmanaged."""
        with self._lock:
            product = load_fixture("rest_v3/product_retrieve.response.json")
            product.update(
                id=product_id,
                sku=sku,
                name=name or sku,
                price=price,
                regular_price=price,
                manage_stock=False,
                stock_quantity=None,
            )
            self.state.products[product_id] = product
            return copy.deepcopy(product)

    def add_variable_product(
        self, *, skus: list[str], quantity: int | None = None
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """A variable product (official example 799) with one variation per SKU."""
        with self._lock:
            product = next(
                p
                for p in load_fixture("rest_v3/products_list.response.json")
                if p["type"] == "variable"
            )
            product["id"] = self._new_id()
            variations = {}
            for sku in skus:
                variation = load_fixture("rest_v3/variation_retrieve.response.json")
                variation.update(
                    id=self._new_id(),
                    sku=sku,
                    manage_stock=quantity is not None,
                    stock_quantity=quantity,
                )
                variations[variation["id"]] = variation
            product["variations"] = list(variations)
            self.state.products[product["id"]] = product
            self.state.variations[product["id"]] = variations
            return copy.deepcopy(product), copy.deepcopy(list(variations.values()))

    def set_stock(
        self, product_id: int, quantity: int, *, parent_id: int | None = None
    ) -> dict:
        """Change stock by hand in wp-admin (what product.updated then reports)."""
        with self._lock:
            target = (
                self.state.variations[parent_id][product_id]
                if parent_id is not None
                else self.state.products[product_id]
            )
            target.update(manage_stock=True, stock_quantity=quantity)
            self._touch(target)
            parent = self.state.products[parent_id or product_id]
            if parent_id is not None:
                self._touch(parent)
            return copy.deepcopy(parent)

    def stock(self, product_id: int, *, parent_id: int | None = None) -> int | None:
        with self._lock:
            if parent_id is not None:
                return self.state.variations[parent_id][product_id]["stock_quantity"]
            return self.state.products[product_id]["stock_quantity"]

    def add_webhook(
        self, *, topic: str, delivery_url: str, secret: str, status: str = "active"
    ) -> FakeWebhook:
        with self._lock:
            hook = FakeWebhook(
                id=self._new_id(),
                topic=topic,
                delivery_url=delivery_url,
                secret=secret,
                status=status,
            )
            self.state.webhooks[hook.id] = hook
            return hook

    # --- webhooks out ------------------------------------------------------------------

    def webhook_payload(self, topic: str, object_id: int | str) -> dict[str, Any]:
        """The payload as WC_Webhook::build_payload makes it: the REST resource now,
        or only the id for a deletion."""
        resource, _, event = topic.partition(".")
        if event == "deleted":
            return {"id": int(object_id)}
        with self._lock:
            if resource == "order":
                return copy.deepcopy(self.state.orders[int(object_id)])
            return copy.deepcopy(self.state.products[int(object_id)])

    def deliveries_for(self, topic: str, object_id: int | str) -> list[Delivery]:
        """One signed delivery per active webhook of the topic, built now, not sent."""
        payload = self.webhook_payload(topic, object_id)
        body = webhook_body(payload)
        with self._lock:
            hooks = [
                h
                for h in self.state.webhooks.values()
                if h.topic == topic and h.status == "active"
            ]
        return [
            Delivery(
                url=hook.delivery_url,
                topic=topic,
                body=body,
                headers=webhook_headers(
                    secret=hook.secret,
                    body=body,
                    topic=topic,
                    webhook_id=hook.id,
                    source=f"{self.url}/",
                ),
                webhook_id=hook.id,
            )
            for hook in hooks
        ]

    def send(self, delivery: Delivery, *, timeout: float = 10.0) -> int:
        """Post one delivery (WooCommerce: once, no retry); count failures per webhook
        and disable a webhook that failed more than 5 times in a row."""
        try:
            response = requests.post(
                delivery.url,
                data=delivery.body,
                headers=delivery.headers,
                timeout=timeout,
            )
            status = response.status_code
        except requests.RequestException:
            status = 0
        delivery.response_status = status
        with self._lock:
            self.deliveries.append(delivery)
            hook = self.state.webhooks.get(delivery.webhook_id)
            if hook is not None:
                # WC_Webhook::deliver counts 2xx, 301 and 302 as delivered.
                if 200 <= status < 303:
                    hook.failure_count = 0
                else:
                    hook.failure_count += 1
                    if hook.failure_count > MAX_DELIVERY_FAILURES:
                        hook.status = "disabled"
        return status

    def emit(self, topic: str, object_id: int | str) -> list[int]:
        """Build and send the deliveries of one event now; returns the HTTP statuses."""
        return [self.send(d) for d in self.deliveries_for(topic, object_id)]

    def ping(self, hook: FakeWebhook) -> int:
        """WC_Webhook::deliver_ping: `webhook_id=<id>`, no X-WC-* headers, no signature."""
        response = requests.post(
            hook.delivery_url, data=f"webhook_id={hook.id}".encode(), timeout=10
        )
        return response.status_code

    # --- HTTP --------------------------------------------------------------------------

    def _take_fault(self, path: str) -> Fault | None:
        with self._lock:
            for fault in list(self._faults):
                if fault.path is None or re.fullmatch(fault.path, path):
                    self._faults.remove(fault)
                    return fault
        return None

    def _authenticated(
        self, method: str, path: str, params: dict[str, str], headers: Any
    ) -> bool:
        """WooCommerce's checks: HTTP Basic with the keys, or OAuth 1.0a (HMAC-SHA256)
        over the URL and the query parameters, keyed with "<secret>&"."""
        authorization = headers.get("Authorization") or ""
        if authorization.startswith("Basic "):
            decoded = base64.b64decode(authorization[6:]).decode()
            return decoded == f"{self.consumer_key}:{self.consumer_secret}"
        if params.get("oauth_consumer_key") != self.consumer_key:
            self.auth_failures.append("unknown consumer key")
            return False
        signed = {k: v for k, v in params.items() if k != "oauth_signature"}
        normalized = OAuth.normalize_parameters(OAuth.sorted_params(signed))
        query = "%26".join(f"{k}%3D{v}" for k, v in normalized.items())
        url = f"http://{headers.get('Host')}{path}"
        string_to_sign = f"{method}&{quote(url, '')}&{query}"
        expected = base64.b64encode(
            hmac.new(
                f"{self.consumer_secret}&".encode(), string_to_sign.encode(), sha256
            ).digest()
        ).decode()
        if not hmac.compare_digest(expected, params.get("oauth_signature", "")):
            self.auth_failures.append("signature mismatch")
            return False
        return True

    def handle(
        self, *, method: str, target: str, headers: Any, raw: bytes
    ) -> tuple[int, Any, dict[str, str]]:
        split = urlsplit(target)
        path = split.path
        # The package puts the parameters in the signed URL and requests adds them
        # again: the first of each name is the signed one.
        params: dict[str, str] = {}
        for key, value in parse_qsl(split.query, keep_blank_values=True):
            params.setdefault(key, value)
        if self.delay:
            time.sleep(self.delay)
        fault = self._take_fault(path.removeprefix(API_PREFIX))
        if fault is not None and fault.delay:
            time.sleep(fault.delay)
            fault = None
        body: Any = None
        if raw:
            try:
                body = json.loads(raw, parse_float=Decimal)
            except ValueError:
                return self._record(
                    method,
                    path,
                    params,
                    400,
                    _error("rest_invalid_json", "Invalid JSON body passed.", 400),
                    body,
                )
        if fault is not None:
            answer: Any = (
                MAINTENANCE_HTML
                if fault.html
                else _error(
                    "internal_server_error",
                    "There has been a critical error.",
                    fault.status,
                )
            )
            return self._record(method, path, params, fault.status, answer, body)
        if not path.startswith(API_PREFIX):
            return self._record(
                method,
                path,
                params,
                404,
                load_fixture("rest_v3/error_wp_rest_no_route.response.json"),
                body,
            )
        if self._revoked or not self._authenticated(method, path, params, headers):
            return self._record(
                method,
                path,
                params,
                401,
                _error(
                    "woocommerce_rest_authentication_error",
                    "Invalid signature - provided signature does not match.",
                    401,
                ),
                body,
            )
        status, answer, extra = self._route(
            method, path.removeprefix(API_PREFIX), params, body
        )
        return self._record(method, path, params, status, answer, body, extra)

    def _record(
        self,
        method: str,
        path: str,
        params: dict[str, str],
        status: int,
        answer: Any,
        body: Any,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, Any, dict[str, str]]:
        with self._lock:
            self.calls.append(
                RecordedCall(
                    method=method,
                    path=path.removeprefix(API_PREFIX),
                    params={
                        k: v for k, v in params.items() if not k.startswith("oauth_")
                    },
                    status=status,
                    body=body,
                )
            )
        return status, answer, headers or {}

    # --- routes ------------------------------------------------------------------------

    def _route(
        self, method: str, path: str, params: dict[str, str], body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        routes: list[tuple[str, str, Any]] = [
            ("GET", r"settings/general", self._settings_general),
            ("GET", r"orders", self._orders_list),
            ("GET", r"orders/(\d+)", self._order_get),
            ("PUT", r"orders/(\d+)", self._order_update),
            ("GET", r"orders/(\d+)/refunds", self._refunds_list),
            ("GET", r"orders/(\d+)/notes", self._notes_list),
            ("POST", r"orders/(\d+)/notes", self._note_create),
            ("GET", r"products", self._products_list),
            ("GET", r"products/(\d+)", self._product_get),
            ("POST", r"products/batch", self._products_batch),
            ("GET", r"products/(\d+)/variations", self._variations_list),
            ("POST", r"products/(\d+)/variations/batch", self._variations_batch),
            ("GET", r"webhooks", self._webhooks_list),
            ("POST", r"webhooks", self._webhook_create),
            ("PUT", r"webhooks/(\d+)", self._webhook_update),
        ]
        for route_method, pattern, func in routes:
            match = re.fullmatch(pattern, path)
            if match and route_method == method:
                with self._lock:
                    return func(params, body, *[int(g) for g in match.groups()])
        return 404, load_fixture("rest_v3/error_wp_rest_no_route.response.json"), {}

    def _page(
        self, items: list[dict[str, Any]], params: dict[str, str], path: str
    ) -> tuple[int, Any, dict[str, str]]:
        per_page = int(params.get("per_page") or 10)
        if not 1 <= per_page <= MAX_PER_PAGE:
            return (
                400,
                _error(
                    "rest_invalid_param",
                    "Invalid parameter(s): per_page",
                    400,
                ),
                {},
            )
        page = int(params.get("page") or 1)
        total = len(items)
        pages = max((total + per_page - 1) // per_page, 1) if total else 0
        chunk = items[(page - 1) * per_page : page * per_page]
        links = []
        base = f"{self.url}{API_PREFIX}{path}?per_page={per_page}"
        if page > 1:
            links.append(f'<{base}&page={page - 1}>; rel="prev"')
        if page < pages:
            links.append(f'<{base}&page={page + 1}>; rel="next"')
        headers = {"X-WP-Total": str(total), "X-WP-TotalPages": str(pages)}
        if links:
            headers["Link"] = ", ".join(links)
        return 200, copy.deepcopy(chunk), headers

    def _settings_general(self, params: dict, body: Any) -> tuple[int, Any, dict]:
        return (
            200,
            [
                {
                    "id": "woocommerce_store_address",
                    "label": "Address line 1",
                    "value": "969 Market",
                },
                {
                    "id": "woocommerce_default_country",
                    "label": "Country and state",
                    "value": "US:CA",
                },
                {
                    "id": "woocommerce_currency",
                    "label": "Currency",
                    "value": self.currency,
                },
            ],
            {},
        )

    def _orders_list(self, params: dict, body: Any) -> tuple[int, Any, dict]:
        orders = list(self.state.orders.values())
        statuses = set(filter(None, params.get("status", "any").split(",")))
        if "any" in statuses:
            # WordPress's "any" leaves out the trash.
            orders = [o for o in orders if o["status"] != "trash"]
        else:
            orders = [o for o in orders if o["status"] in statuses]
        if params.get("dates_are_gmt") not in ("true", "1"):
            return (
                400,
                _error("rest_invalid_param", "this fake reads GMT dates only", 400),
                {},
            )
        for name, field_name, keep in (
            ("modified_after", "date_modified_gmt", lambda v, t: v > t),
            ("modified_before", "date_modified_gmt", lambda v, t: v < t),
            ("after", "date_created_gmt", lambda v, t: v > t),
            ("before", "date_created_gmt", lambda v, t: v < t),
        ):
            if params.get(name):
                limit = _parse_gmt(params[name])
                orders = [o for o in orders if keep(_parse_gmt(o[field_name]), limit)]
        orderby = params.get("orderby", "date")
        key_field = {
            "date": "date_created_gmt",
            "modified": "date_modified_gmt",
            "id": "id",
        }
        if orderby not in key_field:
            return (
                400,
                _error("rest_invalid_param", "Invalid parameter(s): orderby", 400),
                {},
            )
        orders.sort(
            key=lambda o: (o[key_field[orderby]], o["id"]),
            reverse=params.get("order", "desc") == "desc",
        )
        return self._page(orders, params, "orders")

    def _order_get(
        self, params: dict, body: Any, order_id: int
    ) -> tuple[int, Any, dict]:
        order = self.state.orders.get(order_id)
        if order is None:
            return _not_found("woocommerce_rest_shop_order_invalid_id")
        return 200, copy.deepcopy(order), {}

    def _order_update(
        self, params: dict, body: Any, order_id: int
    ) -> tuple[int, Any, dict]:
        order = self.state.orders.get(order_id)
        if order is None:
            return _not_found("woocommerce_rest_shop_order_invalid_id")
        body = body or {}
        if "status" in body:
            order["status"] = body["status"]
            if body["status"] == "completed":
                order["date_completed_gmt"] = gmt(datetime.now(tz=UTC))
        for meta in body.get("meta_data") or []:
            existing = next(
                (m for m in order["meta_data"] if m.get("key") == meta["key"]), None
            )
            if existing is None:
                order["meta_data"].append({"id": self._new_id(), **meta})
            else:
                existing["value"] = meta["value"]
        self._touch(order)
        return 200, copy.deepcopy(order), {}

    def _refunds_list(
        self, params: dict, body: Any, order_id: int
    ) -> tuple[int, Any, dict]:
        return self._page(
            self.state.refunds.get(order_id, []), params, f"orders/{order_id}/refunds"
        )

    def _notes_list(
        self, params: dict, body: Any, order_id: int
    ) -> tuple[int, Any, dict]:
        return 200, copy.deepcopy(self.state.notes.get(order_id, [])), {}

    def _note_create(
        self, params: dict, body: Any, order_id: int
    ) -> tuple[int, Any, dict]:
        if order_id not in self.state.orders:
            return _not_found("woocommerce_rest_shop_order_invalid_id")
        note = load_fixture("rest_v3/order_note_create.response.json")
        note.update(
            id=self._new_id(),
            note=(body or {}).get("note", ""),
            customer_note=bool((body or {}).get("customer_note")),
        )
        self.state.notes[order_id].append(note)
        return 201, copy.deepcopy(note), {}

    def _products_list(self, params: dict, body: Any) -> tuple[int, Any, dict]:
        products = sorted(self.state.products.values(), key=lambda p: p["id"])
        return self._page(products, params, "products")

    def _product_get(
        self, params: dict, body: Any, product_id: int
    ) -> tuple[int, Any, dict]:
        product = self.state.products.get(product_id)
        if product is None:
            return _not_found("woocommerce_rest_product_invalid_id")
        return 200, copy.deepcopy(product), {}

    def _variations_list(
        self, params: dict, body: Any, product_id: int
    ) -> tuple[int, Any, dict]:
        variations = sorted(
            self.state.variations.get(product_id, {}).values(), key=lambda v: v["id"]
        )
        return self._page(variations, params, f"products/{product_id}/variations")

    def _batch(
        self, body: Any, objects: dict[int, dict[str, Any]], kind: str
    ) -> tuple[int, Any, dict]:
        body = body or {}
        count = sum(len(body.get(k) or []) for k in ("create", "update", "delete"))
        if count > MAX_BATCH:
            return (
                413,
                _error(
                    "woocommerce_rest_request_entity_too_large",
                    f"Unable to accept more than {MAX_BATCH} items for this request.",
                    413,
                ),
                {},
            )
        updated = []
        for change in body.get("update") or []:
            target = objects.get(int(change.get("id", 0)))
            if target is None:
                updated.append(
                    {
                        "id": change.get("id"),
                        "error": _error(
                            f"woocommerce_rest_{kind}_invalid_id", "Invalid ID.", 400
                        ),
                    }
                )
                continue
            for key in ("manage_stock", "stock_quantity", "regular_price"):
                if key in change:
                    target[key] = change[key]
            self._touch(target)
            updated.append(copy.deepcopy(target))
        return 200, {"create": [], "update": updated, "delete": []}, {}

    def _products_batch(self, params: dict, body: Any) -> tuple[int, Any, dict]:
        return self._batch(body, self.state.products, "product")

    def _variations_batch(
        self, params: dict, body: Any, product_id: int
    ) -> tuple[int, Any, dict]:
        if product_id not in self.state.products:
            return _not_found("woocommerce_rest_product_invalid_id")
        return self._batch(
            body, self.state.variations.get(product_id, {}), "product_variation"
        )

    def _webhooks_list(self, params: dict, body: Any) -> tuple[int, Any, dict]:
        hooks = [
            h.as_json()
            for h in sorted(self.state.webhooks.values(), key=lambda h: h.id)
        ]
        return self._page(hooks, params, "webhooks")

    def _webhook_create(self, params: dict, body: Any) -> tuple[int, Any, dict]:
        body = body or {}
        hook = self.add_webhook(
            topic=body["topic"],
            delivery_url=body["delivery_url"],
            secret=body.get("secret", ""),
            status=body.get("status", "active"),
        )
        hook.name = body.get("name", "")
        return 201, hook.as_json(), {}

    def _webhook_update(
        self, params: dict, body: Any, hook_id: int
    ) -> tuple[int, Any, dict]:
        hook = self.state.webhooks.get(hook_id)
        if hook is None:
            return _not_found("woocommerce_rest_webhook_invalid_id")
        body = body or {}
        if "status" in body:
            hook.status = body["status"]
            if hook.status == "active":
                hook.failure_count = 0
        if "secret" in body:
            hook.secret = body["secret"]
        if "delivery_url" in body:
            hook.delivery_url = body["delivery_url"]
        return 200, hook.as_json(), {}
