"""WSGI entry point for gunicorn."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "erp.settings.production")

from django.core.wsgi import get_wsgi_application

from erp.startup import exit_on_bad_configuration

exit_on_bad_configuration(check_database=True)
application = get_wsgi_application()
