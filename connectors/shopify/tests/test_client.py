"""The GraphQL client over real HTTP against the fake store (127.0.0.1)."""

import time

import pytest

from connectors.exceptions import (
    ChannelUnauthorizedError,
    ConnectorError,
    ConnectorTransientError,
)
from connectors.models import Channel
from connectors.shopify import queries
from connectors.shopify.client import API_VERSION, ShopifyClient, ShopifyQueryError
from connectors.shopify.services import shopify_client_for
from connectors.shopify.testing.fake_server import FakeShopifyStore
from connectors.tests.factories import ChannelFactory


class Sleeps(list):
    """Records the waits the client asks for, without waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def _client(store, **kwargs) -> ShopifyClient:
    kwargs.setdefault("sleep", Sleeps())
    return ShopifyClient(shop_url=store.url, access_token=store.access_token, **kwargs)


def test_query_goes_to_the_pinned_version_with_the_token(fake_store):
    client = _client(fake_store)

    data = client.execute(queries.SHOP)

    assert data == {
        "shop": {
            "id": "gid://shopify/Shop/548380009",
            "name": "Fake Store",
            "myshopifyDomain": "fake-store.myshopify.com",
            "currencyCode": "USD",
        }
    }
    assert API_VERSION == "2025-01"
    assert client.endpoint == f"{fake_store.url}/admin/api/2025-01/graphql.json"
    assert [(c.operation, c.status) for c in fake_store.calls] == [("Shop", 200)]
    assert client.last_cost.throttle.maximum_available == 1000.0


def test_token_is_never_shown_in_the_clients_repr(fake_store):
    assert fake_store.access_token not in repr(_client(fake_store))


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_are_retried_with_growing_backoff(fake_store, status):
    sleeps = Sleeps()
    client = _client(fake_store, sleep=sleeps, backoff_base=0.5)
    fake_store.fail_next(status, times=3)

    data = client.execute(queries.SHOP)

    assert data["shop"]["name"] == "Fake Store"
    assert [c.status for c in fake_store.calls] == [status, status, status, 200]
    assert len(sleeps) == 3
    assert 0.25 <= sleeps[0] <= 0.5
    assert 0.5 <= sleeps[1] <= 1.0
    assert 1.0 <= sleeps[2] <= 2.0


def test_429_waits_as_long_as_retry_after_says(fake_store):
    sleeps = Sleeps()
    client = _client(fake_store, sleep=sleeps)
    fake_store.fail_next(429, headers={"Retry-After": "2.0"})

    client.execute(queries.SHOP)

    assert sleeps == [2.0]
    assert [c.status for c in fake_store.calls] == [429, 200]


def test_retries_are_bounded(fake_store):
    client = _client(fake_store, max_retries=3)
    fake_store.fail_next(503, times=10)

    with pytest.raises(ConnectorTransientError, match="failed 4 times; last: HTTP 503"):
        client.execute(queries.SHOP)

    assert len(fake_store.calls) == 4


def test_hung_request_times_out_and_is_retried(fake_store):
    client = _client(fake_store, timeout=(1.0, 0.3))
    fake_store.hang_next(5.0)

    started = time.monotonic()
    data = client.execute(queries.SHOP)

    assert data["shop"]["name"] == "Fake Store"
    # well before the hung answer would have come (generous for a loaded machine)
    assert time.monotonic() - started < 4.0
    assert client.calls == 2


def test_401_flags_the_channel_once_and_is_not_retried(fake_store):
    flagged = []
    client = _client(fake_store, on_unauthorized=flagged.append)
    fake_store.revoke_token()

    with pytest.raises(ChannelUnauthorizedError, match="reconnect the store"):
        client.execute(queries.SHOP)

    assert [c.status for c in fake_store.calls] == [401]
    assert flagged == ["Shopify refused the access token (401); reconnect the store."]


def test_wrong_token_is_unauthorized(fake_store):
    client = ShopifyClient(
        shop_url=fake_store.url, access_token="shpat_wrong", sleep=Sleeps()
    )
    with pytest.raises(ChannelUnauthorizedError):
        client.execute(queries.SHOP)
    assert len(fake_store.calls) == 1


def test_other_client_errors_are_terminal(fake_store):
    client = ShopifyClient(
        shop_url=fake_store.url,
        access_token=fake_store.access_token,
        api_version="2099-01",
        sleep=Sleeps(),
    )
    with pytest.raises(ConnectorError, match="Shopify answered 404"):
        client.execute(queries.SHOP)
    assert len(fake_store.calls) == 0  # the fake answers unknown paths before recording


def test_document_refused_by_the_schema_is_terminal(fake_store):
    client = _client(fake_store)

    with pytest.raises(ShopifyQueryError, match="Cannot query field 'nope'"):
        client.execute("query Broken { shop { nope } }")

    assert len(fake_store.calls) == 1
    fake_store.invalid_documents.clear()  # expected here; teardown checks the rest


def test_deprecated_field_is_refused_like_shopify_will_once_it_is_removed(fake_store):
    client = _client(fake_store)

    with pytest.raises(ShopifyQueryError, match="Customer.email is deprecated"):
        client.execute(
            'query Old { order(id: "gid://shopify/Order/1") { customer { email } } }'
        )

    fake_store.invalid_documents.clear()


def test_query_over_the_single_query_cost_limit_is_terminal(fake_store):
    client = _client(fake_store)

    with pytest.raises(ShopifyQueryError, match="exceeds the single query max cost"):
        client.execute(
            queries.ORDERS_PAGE,
            {
                "first": 250,
                "lines": 250,
                "shippingLines": 1,
                "refunds": 1,
                "refundLines": 1,
                "transactions": 1,
                "sortKey": "UPDATED_AT",
            },
        )


def test_throttled_call_waits_for_the_bucket_then_succeeds():
    # given: a store whose bucket another app has just emptied
    # A slow refill: a loaded machine's request time must not refill the bucket before
    # the call arrives, or the call is not throttled at all.
    with FakeShopifyStore(bucket_maximum=1000, restore_rate=500) as store:
        store.seed_official_orders()
        client = ShopifyClient(shop_url=store.url, access_token=store.access_token)
        variables = {
            "first": queries.ORDERS_PAGE_SIZE,
            "lines": queries.ORDER_LINES_FIRST,
            "shippingLines": queries.ORDER_SHIPPING_LINES_FIRST,
            "refunds": queries.ORDER_REFUNDS_FIRST,
            "refundLines": queries.REFUND_LINES_FIRST,
            "transactions": queries.ORDER_TRANSACTIONS_FIRST,
            "sortKey": "UPDATED_AT",
        }
        store.bucket.drain(to=0)

        # when
        data = client.execute(queries.ORDERS_PAGE, variables)

    # then
    assert [o["legacyResourceId"] for o in data["orders"]["nodes"]] == ["450789469"]
    assert [(c.throttled, c.status) for c in store.calls] == [(True, 200), (False, 200)]
    # about 850 points at 500/s: about 1.7 s, less what refilled while the call travelled
    assert 0.5 <= client.throttled_wait_seconds <= 2.0


def test_client_waits_for_the_bucket_before_it_is_throttled():
    # given: a small bucket (3 mutations) that refills 10 points every 0.4 s, slow enough
    # that even a loaded machine's request time cannot refill it unnoticed
    with FakeShopifyStore(bucket_maximum=30, restore_rate=25) as store:
        store.set_inventory(inventory_item_id=1, location_id=1, available=0)
        client = ShopifyClient(shop_url=store.url, access_token=store.access_token)

        # when: five mutations in a row
        started = time.monotonic()
        for quantity in range(5):
            client.execute(
                queries.INVENTORY_SET_QUANTITIES,
                {
                    "input": {
                        "name": "available",
                        "reason": "correction",
                        "ignoreCompareQuantity": True,
                        "quantities": [
                            {
                                "inventoryItemId": "gid://shopify/InventoryItem/1",
                                "locationId": "gid://shopify/Location/1",
                                "quantity": quantity,
                            }
                        ],
                    }
                },
            )
        elapsed = time.monotonic() - started

    # then: never throttled, because the client waited for the points it needed
    assert [c.throttled for c in store.calls] == [False] * 5
    assert client.throttled_wait_seconds > 0
    # 50 points from a 30-point bucket refilling 25/s take at least 0.8 s
    assert elapsed >= 0.75
    assert store.available(inventory_item_id=1, location_id=1) == 4


def test_throttled_for_ever_gives_up_as_transient():
    with FakeShopifyStore(bucket_maximum=1000, restore_rate=0.001) as store:
        client = ShopifyClient(
            shop_url=store.url,
            access_token=store.access_token,
            max_throttle_retries=2,
            sleep=Sleeps(),
        )
        store.bucket.drain(to=0)

        with pytest.raises(ConnectorTransientError, match="kept throttling"):
            client.execute(queries.SHOP)

    assert [c.throttled for c in store.calls] == [True, True, True]


@pytest.mark.django_db
def test_store_client_flags_the_channel_on_401_and_then_stops_calling(fake_store):
    # given
    channel = ChannelFactory(
        shop_url=fake_store.url,
        credentials={"access_token": fake_store.access_token},
    )
    fake_store.revoke_token()

    # when
    with pytest.raises(ChannelUnauthorizedError):
        shopify_client_for(channel, sleep=Sleeps()).execute(queries.SHOP)

    # then
    channel = Channel.objects.get(pk=channel.pk)
    assert channel.requires_reauthorization is True
    assert channel.auth_error == (
        "Shopify refused the access token (401); reconnect the store."
    )
    with pytest.raises(ChannelUnauthorizedError, match="needs reconnecting"):
        shopify_client_for(channel)
    assert len(fake_store.calls) == 1


@pytest.mark.django_db
def test_store_without_a_token_gets_no_client():

    channel = ChannelFactory(credentials={"webhook_secret": "x"})

    with pytest.raises(ChannelUnauthorizedError, match="no Admin API access token"):
        shopify_client_for(channel)
