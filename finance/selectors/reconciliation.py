"""Reads of reconciliation for the report, the admin and the API."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any

from django.contrib.auth import get_user_model

from finance.choices import NoteAction
from finance.models import ReconciliationDifference


def difference_history(
    differences: Sequence[ReconciliationDifference],
) -> dict[int, list[dict[str, Any]]]:
    """Each difference's notes as finance reads them: when, who, what it did, text."""
    user_ids = {n.get("by") for d in differences for n in d.notes if n.get("by")}
    names = dict(
        get_user_model()
        .objects.filter(pk__in=user_ids)
        .values_list("pk", get_user_model().USERNAME_FIELD)
    )
    labels = dict(NoteAction.choices)
    return {
        d.pk: [
            {
                "at": datetime.datetime.fromisoformat(n["at"]),
                "by": names.get(n.get("by"), ""),
                "action": n.get("action", NoteAction.NOTE),
                "action_label": labels.get(n.get("action", NoteAction.NOTE), ""),
                "text": n["text"],
            }
            for n in d.notes
        ]
        for d in differences
    }
