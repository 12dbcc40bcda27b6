"""Connecting a store with the OAuth install flow, against the fake store."""

import hashlib
import hmac
import time
from urllib.parse import parse_qs, urlparse

import pytest
from django.contrib.auth.models import Group, User

from connectors.models import Channel
from connectors.tests.factories import ChannelFactory

pytestmark = pytest.mark.django_db

API_KEY, API_SECRET = "app-client-id", "app-client-secret"
PUBLIC = "https://erp.example.com"


@pytest.fixture(autouse=True)
def _public_url(settings):
    settings.ERP_PUBLIC_URL = PUBLIC


@pytest.fixture
def revoked_channel(fake_store):
    return ChannelFactory(
        code="fake-shop",
        shop_url=fake_store.url,
        requires_reauthorization=True,
        auth_error="401",
        credentials={
            "access_token": "shpat_revoked",
            "api_key": API_KEY,
            "api_secret": API_SECRET,
            "shop_domain": "fake-store.myshopify.com",
        },
    )


def _login(client, group="admin"):
    user = User.objects.create_user(username=group, password="pw-1", is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    client.force_login(user)


def _signed(params: dict[str, str], secret: str = API_SECRET) -> dict[str, str]:
    """Shopify's callback signature: hex HMAC-SHA256 of the sorted k=v pairs."""
    message = "&".join(f"{k}={v}" for k, v in sorted(params.items()))
    digest = hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()
    return {**params, "hmac": digest}


def _start(client, channel) -> dict[str, list[str]]:
    response = client.get(f"/webhooks/shopify/oauth/start/{channel.code}/")
    assert response.status_code == 302
    location = urlparse(response["Location"])
    assert (location.scheme, location.netloc, location.path) == (
        "https",
        "fake-store.myshopify.com",
        "/admin/oauth/authorize",
    )
    return parse_qs(location.query)


def test_install_flow_stores_the_offline_token_and_clears_the_flag(
    client, fake_store, revoked_channel
):
    # given: staff start the install; the merchant approves in Shopify
    _login(client)
    query = _start(client, revoked_channel)
    assert query["client_id"] == [API_KEY]
    assert query["redirect_uri"] == [f"{PUBLIC}/webhooks/shopify/oauth/callback/"]
    assert "write_inventory" in query["scope"][0].split(",")
    code = fake_store.oauth_install_code(client_id=API_KEY, client_secret=API_SECRET)

    # when: Shopify sends the browser back
    response = client.get(
        "/webhooks/shopify/oauth/callback/",
        _signed(
            {
                "code": code,
                "shop": "fake-store.myshopify.com",
                "state": query["state"][0],
                "timestamp": str(int(time.time())),
            }
        ),
    )

    # then
    assert response.status_code == 302
    assert (
        response["Location"]
        == f"/admin/connectors/channel/{revoked_channel.pk}/change/"
    )
    channel = Channel.objects.get(pk=revoked_channel.pk)
    assert channel.credentials["access_token"] == fake_store.access_token
    assert channel.credentials["scope"] == "read_orders,write_orders"
    assert channel.credentials["api_secret"] == API_SECRET
    assert (channel.requires_reauthorization, channel.auth_error) == (False, "")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"secret": "someone-else"}, "signature on the callback does not match"),
        ({"shop": "other-shop.myshopify.com"}, "not this store"),
        ({"state": "forged"}, "expired or was tampered with"),
        ({"timestamp": str(int(time.time()) - 2 * 86400)}, "does not match"),
    ],
)
def test_callback_that_fails_a_check_changes_nothing(
    client, fake_store, revoked_channel, change, message
):
    _login(client)
    query = _start(client, revoked_channel)
    code = fake_store.oauth_install_code(client_id=API_KEY, client_secret=API_SECRET)
    params = {
        "code": code,
        "shop": change.get("shop", "fake-store.myshopify.com"),
        "state": change.get("state", query["state"][0]),
        "timestamp": change.get("timestamp", str(int(time.time()))),
    }

    response = client.get(
        "/webhooks/shopify/oauth/callback/",
        _signed(params, secret=change.get("secret", API_SECRET)),
    )

    assert response.status_code == 400
    assert message in response.content.decode()
    channel = Channel.objects.get(pk=revoked_channel.pk)
    assert channel.credentials["access_token"] == "shpat_revoked"
    assert channel.requires_reauthorization is True
    assert code in fake_store.oauth_codes  # never exchanged


def test_callback_not_started_from_this_browser_is_refused(
    client, fake_store, revoked_channel
):
    _login(client)
    query = _start(client, revoked_channel)
    client.logout()
    _login(client, "ops")  # another session

    response = client.get(
        "/webhooks/shopify/oauth/callback/",
        _signed(
            {
                "code": "x",
                "shop": "fake-store.myshopify.com",
                "state": query["state"][0],
                "timestamp": str(int(time.time())),
            }
        ),
    )

    assert response.status_code == 400
    assert "not started from this browser" in response.content.decode()


def test_only_staff_who_may_change_stores_can_start(client, revoked_channel):
    assert client.get("/webhooks/shopify/oauth/start/fake-shop/").status_code == 302
    _login(client, "ops")

    response = client.get("/webhooks/shopify/oauth/start/fake-shop/")

    assert response.status_code == 403


def test_store_without_app_credentials_cannot_start(client, settings):
    settings.SHOPIFY_API_KEY = ""
    settings.SHOPIFY_API_SECRET = ""
    ChannelFactory(code="no-app", credentials={"access_token": "x"})
    _login(client)

    response = client.get("/webhooks/shopify/oauth/start/no-app/")

    assert response.status_code == 400
    assert "API key and secret" in response.content.decode()
