import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from rest_framework.test import APIClient


@pytest.fixture
def ops_api(ops_user):
    client = APIClient()
    client.force_authenticate(ops_user)
    return client


@pytest.fixture
def finance_api(db):
    user = get_user_model().objects.create_user(username="fin", password="pw")
    user.groups.add(Group.objects.get(name="finance"))
    client = APIClient()
    client.force_authenticate(user)
    return client
