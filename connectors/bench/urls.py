"""URLs of the benchmark server only: the project's, plus a trivial view to compare.

Mounted by connectors/bench/wsgi.py in the benchmark's own gunicorn; never by erp.urls.
"""

from django.http import HttpRequest, HttpResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt


@csrf_exempt
def trivial(request: HttpRequest) -> HttpResponse:
    """The floor: Django's request cycle and nothing else."""
    return HttpResponse(b'{"ok":true}', content_type="application/json")


urlpatterns = [
    path("bench/trivial/", trivial),
    path("", include("erp.urls")),
]
