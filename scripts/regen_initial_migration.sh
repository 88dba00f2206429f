#!/usr/bin/env bash
# Pre-release only: rebuild the single initial migration from the models. Once a release has
# been deployed, schema changes get their own revision instead.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -f migrations/versions/*_0001_initial_schema.py /tmp/boutik-regen.db
DATABASE_URL=sqlite:////tmp/boutik-regen.db .venv/bin/alembic revision --autogenerate -m "initial schema" --rev-id 0001 >/dev/null 2>&1
.venv/bin/ruff format -q migrations/versions/
rm -f /tmp/boutik-regen.db
