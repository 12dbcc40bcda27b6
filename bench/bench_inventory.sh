#!/usr/bin/env bash
# Stock allocation benchmark: allocations/s with N workers on one hot SKU and on 1,000
# SKUs, next to raw PostgreSQL on the same machine. Runs in a scratch database
# (bench_inventory) on the server DATABASE_URL points at, created and dropped by it.
#
#   bench/bench_inventory.sh                 # workers 1 and 8, 5 s per run
#   WORKERS=1,4,16 SECONDS_PER_RUN=10 bench/bench_inventory.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"
export DJANGO_SECRET_KEY="${DJANGO_SECRET_KEY:-bench-only-not-secret}"
exec "${PYTHON:-.venv/bin/python}" manage.py bench_inventory \
    --workers "${WORKERS:-1,8}" --seconds "${SECONDS_PER_RUN:-5}" --skus "${SKUS:-1000}"
