#!/usr/bin/env bash
# History-import benchmark: N generated Shopify-export orders imported through the one
# order upsert, with the rate and the month-by-month check printed, then imported
# again (must change nothing). Runs in its own database (bench_imports by default),
# created and migrated when missing; each run imports into a new store.
#
#   bench/import_orders.sh                      # 100,000 orders
#   ORDERS=10000 JOBS=4 bench/import_orders.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/bench_imports}"
export DJANGO_SECRET_KEY="${DJANGO_SECRET_KEY:-bench-only-not-secret}"
PYTHON="${PYTHON:-.venv/bin/python}"
"$PYTHON" - <<'PY'
import os
from urllib.parse import urlparse

import psycopg2

url = urlparse(os.environ["DATABASE_URL"])
name = url.path.lstrip("/")
admin = psycopg2.connect(os.environ["DATABASE_URL"].replace(url.path, "/postgres"))
admin.autocommit = True
with admin.cursor() as cursor:
    cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
    if cursor.fetchone() is None:
        cursor.execute(f'CREATE DATABASE "{name}"')
PY
"$PYTHON" manage.py migrate --noinput -v0
exec "$PYTHON" bench/import_orders.py --orders "${ORDERS:-100000}" --jobs "${JOBS:-1}" "$@"
