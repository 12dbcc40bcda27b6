import pytest
from django.contrib.auth.models import User

from erp.core.models import UserPreference

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client):
    user = User.objects.create_user(
        "li", password="pw-for-tests-1", is_staff=True, is_superuser=True
    )
    client.force_login(user)
    return user


def test_chosen_language_is_saved_and_used_in_a_new_browser(client, staff):
    response = client.post(
        "/i18n/language/", {"language": "zh-hans", "next": "/admin/"}
    )
    assert response.status_code == 302
    assert UserPreference.objects.get(user=staff).language == "zh-hans"

    client.cookies.clear()
    client.force_login(staff)
    page = client.get("/admin/", HTTP_ACCEPT_LANGUAGE="en")

    assert '<html lang="zh-hans"' in page.content.decode()
    assert "欢迎，" in page.content.decode()


def test_unknown_language_changes_nothing(client, staff):
    client.post("/i18n/language/", {"language": "xx", "next": "/admin/"})
    assert UserPreference.objects.filter(user=staff).exists() is False


def test_switcher_is_on_every_admin_page(client, staff):
    body = client.get("/admin/").content.decode()
    assert 'id="language-switcher"' in body
    assert '<option value="zh-hans">简体中文</option>' in body
