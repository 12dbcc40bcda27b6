"""WSGI app of the benchmark server: the project plus /bench/trivial/.

gunicorn connectors.bench.wsgi:application
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "erp.settings.local")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402

# Only this process serves the comparison view; the project's URLs stay as they are.
settings.ROOT_URLCONF = "connectors.bench.urls"
application = get_wsgi_application()
