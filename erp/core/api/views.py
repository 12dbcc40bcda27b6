"""API views of erp.core."""

from __future__ import annotations

from django.db import connection
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from erp.core.selectors import outbox_health


class HealthApi(APIView):
    """Liveness for load balancers and ops: database reachable, outbox backlog, workers."""

    permission_classes = [AllowAny]
    authentication_classes: list = []

    class HealthOutputSerializer(serializers.Serializer):
        database = serializers.CharField()
        outbox_pending = serializers.IntegerField()
        outbox_dead = serializers.IntegerField()
        oldest_pending_age_seconds = serializers.IntegerField(allow_null=True)
        worker_heartbeat_age_seconds = serializers.IntegerField(allow_null=True)

    @extend_schema(responses=HealthOutputSerializer)
    def get(self, request: Request) -> Response:
        connection.ensure_connection()
        health = outbox_health()
        data = {
            "database": connection.vendor,
            "outbox_pending": health.pending,
            "outbox_dead": health.dead,
            "oldest_pending_age_seconds": health.oldest_pending_age_seconds,
            "worker_heartbeat_age_seconds": health.heartbeat_age_seconds,
        }
        return Response(self.HealthOutputSerializer(data).data)
