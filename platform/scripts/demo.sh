#!/usr/bin/env bash
# The README's main command: set everything up and run the demo, idempotently.
# Services up, migrations, the demo admin user, the web server and the workers, then the pipeline on the
# synthetic Earth (workers/demo.py): generate, ingest, import, label, train for a time budget, embed, localize,
# each stage a job with a progress line (counter, rate, ETA); the same jobs show in the web Jobs page.
# DEMO_PRESET=tiny for a quick run; DEMO_TRAIN_SECONDS sets the training budget (default: workers/demo.py's).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
start=$(date +%s)
WEB_PORT=${WEB_PORT:-8000}
DEMO_USER=${DEMO_USER:-admin}
DEMO_PASSWORD=${DEMO_PASSWORD:-astroloc-demo}

bash platform/scripts/setup.sh
"$ROOT/.venv/bin/python" manage.py ensure_demo_user --username "$DEMO_USER" --password "$DEMO_PASSWORD"
# Restart so that a rerun after a code update serves the new code.
WEB_PORT=$WEB_PORT bash platform/scripts/services.sh restart

echo "[demo] waiting for the platform to answer"
for _ in $(seq 120); do
  if curl -fsS "http://127.0.0.1:$WEB_PORT/health" >/dev/null 2>&1; then break; fi
  sleep 0.5
done
health=$(curl -sS "http://127.0.0.1:$WEB_PORT/health" || true)
echo "[demo] health: $health"
"$ROOT/.venv/bin/python" -m workers.demo --preset "${DEMO_PRESET:-demo}" \
  ${DEMO_TRAIN_SECONDS:+--train-seconds "$DEMO_TRAIN_SECONDS"}
cat <<MSG

AstroLoc is running ($(( $(date +%s) - start ))s):
  map     http://127.0.0.1:$WEB_PORT/
  admin   http://127.0.0.1:$WEB_PORT/admin/   login: $DEMO_USER / $DEMO_PASSWORD
  health  http://127.0.0.1:$WEB_PORT/health
Stop with: bash platform/scripts/services.sh stop
MSG
