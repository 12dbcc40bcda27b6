#!/usr/bin/env bash
# Batch printing benchmark: draw N labels and merge them into one PDF, timed.
#
#   bench/logistics_label_merge.sh              # 100 labels
#   LABELS=500 OUT=var/labels.pdf bench/logistics_label_merge.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export DJANGO_SECRET_KEY="${DJANGO_SECRET_KEY:-bench-only-not-secret}"
export DATABASE_URL="${DATABASE_URL:-sqlite://:memory:}"
args=(--labels "${LABELS:-100}")
if [[ -n "${OUT:-}" ]]; then args+=(--out "$OUT"); fi
exec "${PYTHON:-.venv/bin/python}" manage.py bench_label_merge "${args[@]}"
