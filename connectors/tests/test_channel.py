import pytest
from django.contrib.auth.models import Group, User
from django.db import connection

from connectors.models import Channel
from connectors.tests.factories import ChannelFactory

pytestmark = pytest.mark.django_db


def test_credentials_are_encrypted_at_rest_and_read_back_in_clear():
    # given
    channel = ChannelFactory(credentials={"access_token": "shpat_abcdef1234567890"})

    # when
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT credentials FROM connectors_channel WHERE id = %s", [channel.pk]
        )
        (raw,) = cursor.fetchone()

    # then
    assert "shpat_abcdef1234567890" not in str(raw)
    assert Channel.objects.get(pk=channel.pk).credentials == {
        "access_token": "shpat_abcdef1234567890"
    }


def test_credentials_are_shown_masked():
    channel = ChannelFactory(
        credentials={"access_token": "shpat_abcdef1234567890", "pin": "1234"}
    )
    assert channel.credentials_masked() == {
        "access_token": "••••••••7890",
        "pin": "••••",
    }


def _staff(username: str, group: str) -> User:
    user = User.objects.create_user(
        username=username, password="pw-for-tests-1", is_staff=True
    )
    user.groups.add(Group.objects.get(name=group))
    return user


def test_admin_page_never_shows_stored_credentials_in_full(client):
    channel = ChannelFactory(credentials={"access_token": "shpat_abcdef1234567890"})
    client.force_login(_staff("boss", "admin"))

    response = client.get(f"/admin/connectors/channel/{channel.pk}/change/")

    assert response.status_code == 200
    assert b"shpat_abcdef1234567890" not in response.content
    assert "••••••••7890" in response.content.decode()


def test_admin_replaces_credentials_only_when_new_ones_are_given(client):
    channel = ChannelFactory(
        code="us", credentials={"access_token": "old-token-000000"}
    )
    client.force_login(_staff("boss", "admin"))
    form = {
        "kind": "shopify",
        "code": "us",
        "name": "US",
        "currency": "USD",
        "shop_url": "https://us.myshopify.com",
        "is_active": "on",
        "poll_interval_minutes": "5",
        "sync_lookback_minutes": "240",
        "new_credentials": "",
    }

    client.post(f"/admin/connectors/channel/{channel.pk}/change/", form)
    channel.refresh_from_db()
    assert channel.credentials == {"access_token": "old-token-000000"}

    form["new_credentials"] = '{"access_token": "new-token-111111"}'
    client.post(f"/admin/connectors/channel/{channel.pk}/change/", form)
    channel.refresh_from_db()
    assert channel.credentials == {"access_token": "new-token-111111"}


def test_admin_rejects_credentials_that_are_not_a_json_object(client):
    channel = ChannelFactory(
        code="us", credentials={"access_token": "old-token-000000"}
    )
    client.force_login(_staff("boss", "admin"))
    response = client.post(
        f"/admin/connectors/channel/{channel.pk}/change/",
        {
            "kind": "shopify",
            "code": "us",
            "name": "US",
            "currency": "USD",
            "shop_url": "https://us.myshopify.com",
            "new_credentials": "token=abc",
        },
    )
    assert response.status_code == 200
    assert "Not valid JSON" in response.content.decode()
    channel.refresh_from_db()
    assert channel.credentials == {"access_token": "old-token-000000"}


def test_ops_may_see_stores_but_not_change_them(client):
    channel = ChannelFactory()
    client.force_login(_staff("olivia", "ops"))

    assert (
        client.get(f"/admin/connectors/channel/{channel.pk}/change/").status_code == 200
    )
    page = client.get(
        f"/admin/connectors/channel/{channel.pk}/change/"
    ).content.decode()
    assert 'name="new_credentials"' not in page
    response = client.post(
        f"/admin/connectors/channel/{channel.pk}/change/", {"name": "hijacked"}
    )
    assert response.status_code == 403
