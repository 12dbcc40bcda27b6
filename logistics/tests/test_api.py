"""The logistics REST API: one endpoint per action, the one error shape, role checks."""

import pytest
from django.contrib.auth.models import Group, User
from rest_framework.test import APIClient

from logistics.choices import ShipmentStatus
from logistics.documents import pdf_page_count
from logistics.models import RateCardZone, Shipment
from logistics.tests.factories import RateCardFactory, rate_card_service

pytestmark = pytest.mark.django_db

API = "/api/v1/logistics"


def client_for(role: str) -> APIClient:
    user = User.objects.create_user(f"{role}-user", password="pw-for-tests-1")
    user.groups.add(Group.objects.get(name=role))
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def ops():
    return client_for("ops")


@pytest.fixture
def line(db):
    return rate_card_service(code="yun_us", price="9.90")


def test_quote_buy_and_read_a_shipment(ops, line, draft):
    # given
    shipment = draft()

    # when
    chosen = ops.post(f"{API}/shipments/{shipment.pk}/select-service/")
    bought = ops.post(
        f"{API}/shipments/{shipment.pk}/buy-label/",
        {"tracking_number": "YT0001"},
        format="json",
    )

    # then
    assert chosen.status_code == 200
    assert chosen.json()["status"] == "rated"
    assert [
        (q["service_code"], q["amount"], q["status"]) for q in chosen.json()["quotes"]
    ] == [("yun_us", "9.9000", "chosen")]
    body = bought.json()
    assert bought.status_code == 200
    assert (body["status"], body["tracking_number"], body["carrier"]) == (
        "label_purchased",
        "YT0001",
        "rate_card",
    )
    assert body["label_url"] == f"/api/v1/logistics/shipments/{shipment.pk}/label/"
    assert body["items"] == [
        {
            "sku": "SKU-A",
            "title": "Green tea",
            "quantity": 2,
            "barcode": "4006381333931",
            "unit_weight_grams": 0,
            "length_mm": 0,
            "width_mm": 0,
            "height_mm": 0,
        }
    ]
    label = ops.get(body["label_url"])
    assert label.status_code == 200
    assert label["Content-Type"] == "application/pdf"
    assert b"".join(label.streaming_content).startswith(b"%PDF")


def test_refusals_use_the_one_error_shape(ops, line, draft):
    # given: no service chosen yet
    shipment = draft()

    # when
    response = ops.post(f"{API}/shipments/{shipment.pk}/buy-label/", {}, format="json")

    # then
    assert response.status_code == 409
    assert response.json()["code"] == "shipment_state"
    assert response.json()["extra"] == {"shipment_id": shipment.pk, "status": "draft"}
    assert Shipment.objects.get(pk=shipment.pk).status == ShipmentStatus.DRAFT


def test_a_refusal_is_said_in_the_callers_language(ops, line, draft):
    # given: nothing serves Germany
    shipment = draft(country="DE", region="")

    # when: the caller reads Chinese
    response = ops.post(
        f"{API}/shipments/{shipment.pk}/select-service/",
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )

    # then: the reason the service wrote in English comes back in Chinese
    assert response.status_code == 400
    assert response.json()["code"] == "no_eligible_service"
    assert response.json()["message"].startswith("没有符合条件的可用服务。")
    assert "qualifies" not in response.json()["message"]


def test_finance_reads_but_cannot_buy(line, draft):
    # given
    finance = client_for("finance")
    shipment = draft()

    # when
    listed = finance.get(f"{API}/shipments/")
    refused = finance.post(f"{API}/shipments/{shipment.pk}/select-service/")

    # then
    assert listed.status_code == 200
    assert [s["id"] for s in listed.json()["results"]] == [shipment.pk]
    assert refused.status_code == 403
    assert Shipment.objects.get(pk=shipment.pk).status == ShipmentStatus.DRAFT


def test_list_queries_do_not_grow_with_rows(
    ops, line, draft, django_assert_max_num_queries
):
    # given
    for _ in range(5):
        draft()

    # when / then: auth + count + page, whatever the number of rows
    with django_assert_max_num_queries(6):
        response = ops.get(f"{API}/shipments/")
    assert response.json()["count"] == 5


def test_print_void_and_tracking_number(ops, line, draft):
    # given: two labelled shipments, the second still without a number
    first, second = draft(), draft()
    for shipment, number in ((first, "YT1"), (second, "")):
        ops.post(f"{API}/shipments/{shipment.pk}/select-service/")
        ops.post(
            f"{API}/shipments/{shipment.pk}/buy-label/",
            {"tracking_number": number},
            format="json",
        )

    # when
    printed = ops.post(
        f"{API}/shipments/print/",
        {"shipment_ids": [first.pk, second.pk]},
        format="json",
    )
    numbered = ops.post(
        f"{API}/shipments/{second.pk}/tracking-number/",
        {"tracking_number": "YT2"},
        format="json",
    )
    voided = ops.post(
        f"{API}/shipments/{first.pk}/void/", {"reason": "customer moved"}, format="json"
    )

    # then
    assert printed.status_code == 200
    assert printed["Content-Type"] == "application/pdf"
    assert (printed["X-Labels"], printed["X-Pages"]) == ("2", "5")
    assert pdf_page_count(printed.content) == 5
    assert numbered.json()["tracking_number"] == "YT2"
    assert voided.json()["status"] == "voided"
    assert voided.json()["error"] == "Rate-card label voided here. customer moved"


def test_rate_card_import_reports_rows(ops):
    # given
    card = RateCardFactory()
    good = b"zone,destinations,weight_to_g,flat_price\nA,US,2000,5\nB,CA,2000,7\n"
    bad = b"zone,destinations,weight_to_g,flat_price\nA,US,0,5\n"

    # when
    from django.core.files.uploadedfile import SimpleUploadedFile

    imported = ops.post(
        f"{API}/rate-cards/{card.pk}/import/",
        {"file": SimpleUploadedFile("card.csv", good)},
        format="multipart",
    )
    refused = ops.post(
        f"{API}/rate-cards/{card.pk}/import/",
        {"file": SimpleUploadedFile("card.csv", bad)},
        format="multipart",
    )

    # then
    assert imported.status_code == 200
    assert imported.json()["zones"] == 2
    assert refused.status_code == 400
    assert refused.json()["errors"] == [
        {
            "row": 2,
            "column": "weight_to_g",
            "message": "must be above weight_from_g (0).",
        }
    ]
    assert sorted(
        RateCardZone.objects.filter(rate_card=card).values_list("code", flat=True)
    ) == ["A", "B"]


def test_carrier_accounts_show_credentials_masked(ops, api_account):
    # given
    api_account("ups")

    # when
    response = ops.get(f"{API}/carrier-accounts/")

    # then
    (account,) = response.json()["results"]
    assert account["credentials"] == {
        "client_id": "••••••••ient",
        "client_secret": "••••••••cret",
        "account_number": "••••••",
    }


def test_tracking_numbers_from_a_manifest_file(ops, line, draft):
    # given: two labelled rate-card shipments without numbers
    from django.core.files.uploadedfile import SimpleUploadedFile

    first, second = draft(), draft()
    for shipment in (first, second):
        ops.post(f"{API}/shipments/{shipment.pk}/select-service/")
        ops.post(f"{API}/shipments/{shipment.pk}/buy-label/", {}, format="json")
    unlabelled = draft()
    bad = (
        f"shipment_id,tracking_number\nS{first.pk},YT1\n{unlabelled.pk},YT9\nx,YT3\n"
    ).encode()
    good = f"shipment_id,tracking_number\nS{first.pk},YT1\n{second.pk},YT2\n".encode()

    # when
    refused = ops.post(
        f"{API}/shipments/tracking-numbers/import/",
        {"file": SimpleUploadedFile("manifest.csv", bad)},
        format="multipart",
    )
    accepted = ops.post(
        f"{API}/shipments/tracking-numbers/import/",
        {"file": SimpleUploadedFile("manifest.csv", good)},
        format="multipart",
    )

    # then: the bad file changed nothing, the good one set both
    assert refused.status_code == 400
    assert refused.json() == {
        "committed": False,
        "errors": [
            {"row": 3, "message": f"Shipment S{unlabelled.pk} is draft."},
            {"row": 4, "message": "'x' is not a shipment id."},
        ],
    }
    assert accepted.json() == {"committed": True, "errors": []}
    assert dict(
        Shipment.objects.filter(pk__in=[first.pk, second.pk]).values_list(
            "pk", "tracking_number"
        )
    ) == {first.pk: "YT1", second.pk: "YT2"}


def test_shipment_reasons_are_said_in_the_callers_language(ops, draft):
    # given: the slow line breaks a 5-day promise, and nothing meets a 1-day one
    rate_card_service(code="slow_post", price="3.00", transit_days=9)
    rate_card_service(code="express", price="9.90", transit_days=2)
    chosen, refused = draft(promise_days=5), draft(promise_days=1)
    ops.post(f"{API}/shipments/{chosen.pk}/select-service/")
    ops.post(f"{API}/shipments/{refused.pk}/select-service/")
    chosen.refresh_from_db()
    refused.refresh_from_db()
    assert "9 days breaks the 5-day promise" in chosen.selection_reason
    assert "No allowed service qualifies." in refused.error

    # when: a Chinese caller reads them
    chinese = ops.get(
        f"{API}/shipments/{chosen.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans"
    ).json()
    listed = ops.get(
        f"{API}/shipments/", {"status": "draft"}, HTTP_ACCEPT_LANGUAGE="zh-hans"
    ).json()
    english = ops.get(f"{API}/shipments/{chosen.pk}/", HTTP_ACCEPT_LANGUAGE="en").json()

    # then: said again in Chinese with the values kept; English stays as stored
    assert chinese["selection_reason"].startswith(
        "EXPRESS Express，9.90 USD，2 天：在 1 个符合条件的报价中最便宜。"
    )
    assert (
        "已排除：SLOW_POST Slow Post（9 天超出 5 天的时效承诺）。"
        in (chinese["selection_reason"])
    )
    assert "9 天超出 5 天的时效承诺" in {q["reason"] for q in chinese["quotes"]}
    assert chinese["promise_note"] == "订单的 5 天时效承诺"
    assert english["promise_note"] == chosen.promise_note
    errors = {row["id"]: row["error"] for row in listed["results"]}
    assert "没有符合条件的可用服务。" in errors[refused.pk]
    assert "qualifies" not in errors[refused.pk]
    assert english["selection_reason"] == chosen.selection_reason
