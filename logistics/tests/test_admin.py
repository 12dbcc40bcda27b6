"""Ops admin: shipments are read-only pages whose actions call the services."""

import io

import pytest
from django.contrib.auth.models import Group, User
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings
from django.utils import translation
from pypdf import PdfReader

from logistics.choices import ShipmentStatus
from logistics.documents import SlipLine, pdf_page_count, pick_list_pdf
from logistics.models import Shipment
from logistics.tests.factories import rate_card_service

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/logistics/shipment/"


@pytest.fixture
def ops_client(client):
    user = User.objects.create_user("olivia", password="pw-for-tests-1", is_staff=True)
    user.groups.add(Group.objects.get(name="ops"))
    client.force_login(user)
    return client


def action(client, name, shipments, **extra):
    return client.post(
        CHANGELIST,
        {"action": name, "_selected_action": [s.pk for s in shipments], **extra},
    )


def test_buy_labels_then_print_the_batch(ops_client, draft):
    # given
    rate_card_service(code="yun_us", price="9.90")
    shipments = [draft(), draft()]

    # when
    bought = action(ops_client, "buy_labels", shipments)
    printed = action(ops_client, "print_batch", shipments)

    # then
    assert bought.status_code == 302
    assert set(Shipment.objects.values_list("status", flat=True)) == {
        ShipmentStatus.LABEL_PURCHASED
    }
    assert printed["Content-Type"] == "application/pdf"
    assert pdf_page_count(printed.content) == 5  # 2 labels, 1 pick list, 2 slips


def test_pick_list_prints_in_the_printers_language_packing_slip_stays_english(
    ops_client, draft
):
    # given: two labelled shipments from one warehouse, printed by a Chinese user
    rate_card_service(code="yun_us", price="9.90")
    shipments = [draft(), draft()]
    action(ops_client, "buy_labels", shipments)
    ops_client.post("/i18n/language/", {"language": "zh-hans", "next": "/admin/"})

    # when
    printed = action(ops_client, "print_batch", shipments)

    # then: 2 labels, then the pick list in Chinese with its font embedded, then slips
    reader = PdfReader(io.BytesIO(printed.content))
    pick_list = reader.pages[2]
    text = pick_list.extract_text()
    assert "拣货单 — wh-us" in text
    assert "2 个发货单，4 件" in text  # two of SKU-A in each
    assert "数量" in text
    assert "商品" in text
    assert "Pick list" not in text
    fonts = {f["/BaseFont"] for f in pick_list["/Resources"]["/Font"].values()}
    assert any("WenQuanYiMicroHei" in str(font) for font in fonts)
    slips = [page.extract_text() for page in reader.pages[3:]]
    assert all("Packing slip" in slip for slip in slips)


def test_pick_list_in_english_needs_no_cjk_font(draft):
    with (
        translation.override("en"),
        override_settings(PDF_CJK_FONT_FILE="/nowhere.ttc"),
    ):
        pdf = pick_list_pdf(
            warehouse="wh-us", lines=[SlipLine("SKU-A", "Mug", 3)], shipment_count=1
        )
    text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert "Pick list — wh-us" in text
    assert "1 shipment(s), 3 unit(s)" in text


def test_pick_list_in_chinese_without_the_font_fails_clearly(draft):
    with (
        translation.override("zh-hans"),
        override_settings(PDF_CJK_FONT_FILE="/nowhere.ttc"),
        pytest.raises(ImproperlyConfigured, match="fonts-wqy-microhei"),
    ):
        pick_list_pdf(
            warehouse="wh-us", lines=[SlipLine("SKU-A", "Mug", 3)], shipment_count=1
        )


def test_failures_are_reported_per_shipment(ops_client, draft):
    # given: no carrier serves the destination
    rate_card_service(code="eu_only", price="1.00", countries=("DE",))
    shipment = draft()

    # when
    response = action(ops_client, "buy_labels", [shipment])

    # then
    assert response.status_code == 302
    shipment.refresh_from_db()
    assert shipment.status == ShipmentStatus.DRAFT
    assert "No allowed service qualifies" in shipment.error


def test_void_and_tracking_number_actions(ops_client, draft):
    # given
    rate_card_service(code="yun_us", price="9.90")
    first, second = draft(), draft()
    action(ops_client, "buy_labels", [first, second])

    # when
    action(ops_client, "set_tracking_number", [second], tracking_number="YT77")
    action(ops_client, "void_labels", [first])

    # then
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == ShipmentStatus.VOIDED
    assert second.tracking_number == "YT77"


def test_detail_page_shows_quotes_and_reason(ops_client, draft):
    # given
    rate_card_service(code="yun_us", price="9.90")
    shipment = draft()
    action(ops_client, "buy_labels", [shipment])

    # when
    page = ops_client.get(f"{CHANGELIST}{shipment.pk}/change/")

    # then
    assert page.status_code == 200
    content = page.content.decode()
    assert "cheapest of 1 qualifying quote" in content
    # The column keeps four decimals; the page shows the currency's two.
    assert "9.90 USD" in content
    assert "9.9000" not in content
    assert f"/api/v1/logistics/shipments/{shipment.pk}/label/" in content


def test_selection_reasons_and_errors_are_shown_in_the_readers_language(
    ops_client, draft
):
    # given: two lines, one too slow for a 5-day promise; a second shipment nothing
    # can carry within one day. Both were worked out in English (a worker's view).
    rate_card_service(code="slow_post", price="3.00", transit_days=9)
    rate_card_service(code="express", price="9.90", transit_days=2)
    chosen, refused = draft(promise_days=5), draft(promise_days=1)
    action(ops_client, "buy_labels", [chosen, refused])
    ops_client.get(CHANGELIST)  # the action's own (English) messages are read here
    chosen.refresh_from_db()
    refused.refresh_from_db()
    assert "9 days breaks the 5-day promise" in chosen.selection_reason
    assert "No allowed service qualifies." in refused.error

    # when: a Chinese reader opens both pages
    ops_client.post("/i18n/language/", {"language": "zh-hans", "next": "/admin/"})
    chosen_page = ops_client.get(f"{CHANGELIST}{chosen.pk}/change/").content.decode()
    refused_page = ops_client.get(f"{CHANGELIST}{refused.pk}/change/").content.decode()

    # then: the stored English is said again in Chinese, values kept
    assert (
        "EXPRESS Express，9.90 USD，2 天：在 1 个符合条件的报价中最便宜。"
        in chosen_page
    )
    assert "已排除：SLOW_POST Slow Post（9 天超出 5 天的时效承诺）。" in chosen_page
    assert "满足订单的 5 天时效承诺。" in chosen_page
    assert "没有匹配的运费规则；已向所有启用的服务询价。" in chosen_page
    # the quote's own row in the quotes table says it too
    assert chosen_page.count("9 天超出 5 天的时效承诺") == 2
    assert "没有符合条件的可用服务。" in refused_page
    assert "PDF 面单</a>" in chosen_page  # the label link
    for english in ("qualif", "breaks the", "Dropped", "No shipping rule", "Meets"):
        assert english not in chosen_page + refused_page

    # and an action refused while reading in Chinese reports it in Chinese
    action(ops_client, "buy_labels", [refused])
    listing = ops_client.get(CHANGELIST).content.decode()
    assert f"S{refused.pk}: 没有符合条件的可用服务。" in listing
