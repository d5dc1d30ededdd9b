#!/usr/bin/env bash
# The README's test command: sets the machine up (idempotent), then lint, import contracts and the tests
# against the real PostgreSQL + PostGIS + pgvector, Redis, a Celery worker process and headless Chromium.
#   bash platform/scripts/test.sh             default suite (slow tests excluded)
#   ASTROLOC_TEST_SLOW=1 bash platform/scripts/test.sh   then also the slow group, as a second step
# Extra arguments go to pytest (e.g. -k health).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
start=$(date +%s)
bash platform/scripts/setup.sh
PY="$ROOT/.venv/bin/python"

echo "[test] ruff"
"$ROOT/.venv/bin/ruff" check .
echo "[test] import contracts"
"$ROOT/.venv/bin/lint-imports" --no-cache

echo "[test] pytest (default suite)"
"$PY" -m pytest -m "not slow" "$@"
if [ "${ASTROLOC_TEST_SLOW:-0}" = 1 ]; then
  echo "[test] pytest (slow group)"
  status=0
  "$PY" -m pytest -m slow "$@" || status=$?
  if [ "$status" != 0 ] && [ "$status" != 5 ]; then exit "$status"; fi  # 5: no slow tests collected
fi
echo "[test] done in $(( $(date +%s) - start ))s"
