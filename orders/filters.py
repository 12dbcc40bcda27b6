"""Filters shared by the order list API and the ops list."""

from __future__ import annotations

from datetime import timedelta

import django_filters
from django.db.models import Q, QuerySet
from django.utils import timezone

from orders.choices import OrderStatus, ReviewRuleKind
from orders.models import Order


class OrderFilterSet(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=OrderStatus.choices)
    channel = django_filters.CharFilter(field_name="channel__code")
    country = django_filters.CharFilter(method="filter_country")
    hold_reason = django_filters.ChoiceFilter(
        choices=[*ReviewRuleKind.choices, ("manual", "Held by hand")],
        method="filter_hold_reason",
    )
    older_than_hours = django_filters.NumberFilter(method="filter_older_than")
    placed_after = django_filters.IsoDateTimeFilter(
        field_name="placed_at", lookup_expr="gte"
    )
    placed_before = django_filters.IsoDateTimeFilter(
        field_name="placed_at", lookup_expr="lt"
    )
    q = django_filters.CharFilter(method="filter_search")

    class Meta:
        model = Order
        fields: list[str] = []

    def filter_country(
        self, queryset: QuerySet[Order], name: str, value: str
    ) -> QuerySet[Order]:
        return queryset.filter(shipping_address__country_code=value.upper())

    def filter_hold_reason(
        self, queryset: QuerySet[Order], name: str, value: str
    ) -> QuerySet[Order]:
        return queryset.filter(hold_codes__contains=f",{value},")

    def filter_older_than(
        self, queryset: QuerySet[Order], name: str, value: float
    ) -> QuerySet[Order]:
        return queryset.filter(
            placed_at__lt=timezone.now() - timedelta(hours=float(value))
        )

    def filter_search(
        self, queryset: QuerySet[Order], name: str, value: str
    ) -> QuerySet[Order]:
        value = value.strip()
        return queryset.filter(
            Q(number__iexact=value)
            | Q(number__iexact=f"#{value}")
            | Q(external_id=value)
            | Q(email__iexact=value)
            | Q(customer__email_normalized=value.lower())
        )
