"""Carrier tracking webhook endpoint: POST /api/v1/logistics/webhooks/<carrier>/<account>/.

A plain Django view (not part of the documented REST API): carriers post their own
payloads, authenticated by their own scheme, not by our users' sessions or tokens.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from logistics.services.webhooks import carrier_webhook_receive


@csrf_exempt
@require_POST
def carrier_webhook(
    request: HttpRequest, carrier: str, account_code: str
) -> HttpResponse:
    """Verify, store, answer; the scan is applied by a worker."""
    intake = carrier_webhook_receive(
        carrier=carrier,
        account_code=account_code,
        body=request.body,
        headers=request.headers,
    )
    body: dict[str, object] = {"status": intake.message}
    if intake.delivery is not None:
        body["delivery"] = intake.delivery.pk
    if intake.http_status >= 400:
        body = {
            "error": intake.message,
            **({"delivery": intake.delivery.pk} if intake.delivery else {}),
        }
    return JsonResponse(body, status=intake.http_status)
