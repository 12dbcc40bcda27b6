"""Hold reasons and the order timeline read in the viewer's language, whoever wrote them."""

import os

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command

from erp.core.models import UserPreference
from orders.models import Order
from orders.services.workflow import order_approve

pytestmark = pytest.mark.django_db


def test_a_chinese_reader_sees_holds_and_timeline_in_chinese(client):
    # given: the demo day, recorded in English by the system; #1003 approved by hand
    with open(os.devnull, "w") as quiet:
        call_command("load_demo", stdout=quiet)
    held = Order.objects.get(number="2042")
    approved = Order.objects.get(number="#1003")
    order_approve(order_id=approved.pk, actor=None, reason="card verified")
    reader = User.objects.create_user("wang", password="pw-for-tests-1", is_staff=True)
    reader.groups.add(Group.objects.get(name="ops"))
    UserPreference.objects.create(user=reader, language="zh-hans")
    client.force_login(reader)

    # when
    held_page = client.get(f"/admin/orders/order/{held.pk}/change/").content.decode()
    timeline = client.get(f"/admin/orders/order/{approved.pk}/change/").content.decode()

    # then: stored in English, shown in Chinese
    assert held.hold_reasons[0]["message"].startswith("Address incomplete:")
    assert "地址不完整：邮编 &#x27;6900&#x27; 不是 FR 的有效邮编。" in held_page
    assert "人工审核通过：card verified" in timeline
    assert "us-la-3pl：所有商品有货，可发往 US（优先级 10）。" in timeline
    assert "Approved by hand" not in timeline
