"""One error shape for the API, the health endpoint, and the schema and docs pages."""

import pytest
from django.urls import path
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.test import APIClient
from rest_framework.views import APIView

from erp.core.exceptions import ApplicationError, ConflictError
from erp.core.outbox import outbox_enqueue

pytestmark = pytest.mark.django_db


class _RefusingApi(APIView):
    permission_classes: list = []

    class InputSerializer(serializers.Serializer):
        quantity = serializers.IntegerField(min_value=1)

    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if data.validated_data["quantity"] > 5:
            raise ApplicationError(
                "Only 5 units are available.", code="insufficient_stock", available=5
            )
        if data.validated_data["quantity"] == 4:
            raise ConflictError("The order changed since you loaded it.", version=3)
        return Response({"ok": True})


class _PrivateApi(APIView):
    def get(self, request):
        return Response({"user": request.user.username})


urlpatterns = [
    path("refuse/", _RefusingApi.as_view()),
    path("private/", _PrivateApi.as_view()),
]


@pytest.fixture
def client(settings):
    settings.ROOT_URLCONF = __name__
    return APIClient()


def test_application_error_becomes_a_400_with_message_code_and_extra(client):
    response = client.post("/refuse/", {"quantity": 9}, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "message": "Only 5 units are available.",
        "code": "insufficient_stock",
        "extra": {"available": 5},
    }


def test_conflict_error_is_a_409(client):
    response = client.post("/refuse/", {"quantity": 4}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "conflict"
    assert response.json()["extra"] == {"version": 3}


def test_validation_error_has_the_same_shape_with_field_errors(client):
    response = client.post("/refuse/", {"quantity": 0}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert body["message"] == "The request is invalid; see extra.fields."
    assert body["extra"]["fields"] == {
        "quantity": ["Ensure this value is greater than or equal to 1."]
    }


def test_authentication_error_has_the_same_shape(client):
    response = client.get("/private/")
    assert response.status_code == 403
    assert response.json() == {
        "message": "Authentication credentials were not provided.",
        "code": "not_authenticated",
        "extra": {},
    }


def test_health_reports_database_and_outbox_backlog():
    outbox_enqueue(topic="test.push", key="1")
    body = APIClient().get("/api/v1/health/").json()
    assert body["outbox_pending"] == 1
    assert body["outbox_dead"] == 0
    assert body["worker_heartbeat_age_seconds"] is None
    assert body["database"] in {"postgresql", "sqlite"}


def test_schema_lists_the_health_endpoint_and_docs_page_renders():
    client = APIClient()
    schema = client.get("/api/schema/?format=json").json()
    assert "/api/v1/health/" in schema["paths"]
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"swagger" in docs.content.lower()
