import pytest
from django.contrib.auth.models import Group, User

from connectors.models import ChannelListing, SyncRunKind, WebhookReceiptStatus
from connectors.services import sync_run_start
from connectors.tests.factories import ChannelFactory, WebhookReceiptFactory
from inventory.models import Product

pytestmark = pytest.mark.django_db


def _staff(client, group: str) -> User:
    user = User.objects.create_user(
        username=group, password="pw-for-tests-1", is_staff=True
    )
    user.groups.add(Group.objects.get(name=group))
    client.force_login(user)
    return user


def test_ops_sees_receipts_with_their_error(client):
    receipt = WebhookReceiptFactory(
        status=WebhookReceiptStatus.FAILED, error="line_items[0]: bad quantity"
    )
    _staff(client, "ops")

    listing = client.get("/admin/connectors/webhookreceipt/")
    page = client.get(f"/admin/connectors/webhookreceipt/{receipt.pk}/change/")

    assert listing.status_code == 200
    assert page.status_code == 200
    assert "line_items[0]: bad quantity" in page.content.decode()


def test_receipts_are_read_only_even_for_admins(client):
    receipt = WebhookReceiptFactory()
    _staff(client, "admin")

    response = client.post(
        f"/admin/connectors/webhookreceipt/{receipt.pk}/change/", {"topic": "x"}
    )

    assert response.status_code == 403
    receipt.refresh_from_db()
    assert receipt.topic == "orders/updated"
    assert client.get("/admin/connectors/webhookreceipt/add/").status_code == 403


def test_admin_retries_failed_receipts_and_is_told_about_rejected_ones(
    client, enqueued, django_capture_on_commit_callbacks
):
    failed = WebhookReceiptFactory(status=WebhookReceiptStatus.FAILED, attempts=4)
    rejected = WebhookReceiptFactory(
        status=WebhookReceiptStatus.REJECTED, delivery_id=None
    )
    _staff(client, "admin")

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/admin/connectors/webhookreceipt/",
            {
                "action": "retry_selected",
                "_selected_action": [failed.pk, rejected.pk],
            },
            follow=True,
        )

    failed.refresh_from_db()
    rejected.refresh_from_db()
    assert (failed.status, failed.attempts) == (WebhookReceiptStatus.RECEIVED, 0)
    assert rejected.status == WebhookReceiptStatus.REJECTED
    assert enqueued == [failed.pk]
    text = response.content.decode()
    assert "1 receipt(s) queued again." in text
    assert "signature did not match" in text


def test_ops_cannot_retry_receipts(client):
    failed = WebhookReceiptFactory(status=WebhookReceiptStatus.FAILED)
    _staff(client, "ops")

    page = client.get("/admin/connectors/webhookreceipt/").content.decode()

    assert "retry_selected" not in page
    failed.refresh_from_db()
    assert failed.status == WebhookReceiptStatus.FAILED


def test_sync_runs_are_listed_with_their_counts(client):
    channel = ChannelFactory(code="us")
    sync_run_start(channel_id=channel.pk, kind=SyncRunKind.BACKFILL)
    _staff(client, "ops")

    response = client.get("/admin/connectors/syncrun/")

    assert response.status_code == 200
    assert "Backfill" in response.content.decode()


def test_admin_maps_a_store_variant_to_our_sku_and_ops_sees_the_figures(client):
    channel = ChannelFactory(code="us")
    product = Product.objects.create(sku="TEE-BLK-M", title="Tee")
    _staff(client, "admin")

    response = client.post(
        "/admin/connectors/channellisting/add/",
        {
            "channel": channel.pk,
            "product": product.pk,
            "external_variant_id": "39072856",
            "external_inventory_item_id": "808950810",
            "external_sku": "",
            "is_stock_synced": "on",
        },
    )

    assert response.status_code == 302, response.content.decode()[:500]
    listing = ChannelListing.objects.get()
    assert (listing.product_id, listing.external_variant_id) == (product.pk, "39072856")
    assert listing.pushed_quantity is None
    client.logout()
    _staff(client, "ops")
    page = client.get("/admin/connectors/channellisting/")
    assert page.status_code == 200
    assert "39072856" in page.content.decode()


def test_worker_errors_are_shown_in_the_readers_language(client):
    from django.core.management import call_command
    from django.utils.translation import gettext_noop

    from connectors.exceptions import PayloadError
    from erp.core.text import Phrase

    call_command("compile_catalogues", verbosity=0)
    # given: a receipt whose error a worker wrote (in English, no reader yet)
    error = PayloadError(
        Phrase(gettext_noop("expected an integer, got %(value)r"), value="x"),
        path="line_items[0].quantity",
    )
    receipt = WebhookReceiptFactory(
        status=WebhookReceiptStatus.FAILED, error=error.message
    )
    _staff(client, "ops")

    # when: ops reads it in Chinese
    client.post("/i18n/language/", {"language": "zh-hans", "next": "/admin/"})
    page = client.get(f"/admin/connectors/webhookreceipt/{receipt.pk}/change/")

    # then: the problem is in Chinese, the path as the store wrote it
    assert error.message == "line_items[0].quantity: expected an integer, got 'x'"
    assert (
        "line_items[0].quantity：应为整数，实际为 &#x27;x&#x27;"
        in page.content.decode()
    )
