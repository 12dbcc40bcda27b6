"""gunicorn settings for the web container."""

import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "3"))
timeout = 60
# Load the app in the master first: a bad setting or unreachable database stops the
# server at once with one line, instead of workers failing to boot in a loop.
preload_app = True
accesslog = "-"
