#!/usr/bin/env bash
# Starts, stops or reports the platform's own processes on this machine: the web server (gunicorn) and one
# Celery worker per queue. PostgreSQL and Redis are the setup's business (platform/scripts/setup.sh).
#   bash platform/scripts/services.sh start|stop|restart|status
# Pids in var/run, logs in var/log. WEB_PORT (default 8000) picks the web server's port.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
RUN="$ROOT/var/run"; LOG="$ROOT/var/log"; BIN="$ROOT/.venv/bin"
WEB_PORT=${WEB_PORT:-8000}
mkdir -p "$RUN" "$LOG"

is_running() { [ -f "$RUN/$1.pid" ] && kill -0 "$(cat "$RUN/$1.pid")" 2>/dev/null; }

start_one() {
  local name=$1; shift
  if is_running "$name"; then echo "[services] $name already running (pid $(cat "$RUN/$name.pid"))"; return; fi
  setsid nohup "$@" >>"$LOG/$name.log" 2>&1 < /dev/null &
  echo $! > "$RUN/$name.pid"
  echo "[services] started $name (pid $!, log var/log/$name.log)"
}

stop_one() {
  local name=$1 pid
  if ! is_running "$name"; then rm -f "$RUN/$name.pid"; return; fi
  pid=$(cat "$RUN/$name.pid")
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid"
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  kill -KILL -- "-$pid" 2>/dev/null || true
  rm -f "$RUN/$name.pid"
  echo "[services] stopped $name"
}

start() {
  start_one worker-cpu "$BIN/celery" -A astroloc_platform worker -Q cpu -c 2 -n "cpu@%h" -l info
  # The GPU queue: one solo process per GPU (CUDA_VISIBLE_DEVICES), CPU fallback when there is none.
  start_one worker-gpu "$BIN/celery" -A astroloc_platform worker -Q gpu -P solo -c 1 -n "gpu@%h" -l info
  # Beat: periodic housekeeping (re-sends jobs whose worker died). Exactly one per deployment.
  start_one beat "$BIN/celery" -A astroloc_platform beat -l info -s "$RUN/celerybeat-schedule"
  start_one web "$BIN/gunicorn" -c platform/gunicorn.conf.py --bind "0.0.0.0:$WEB_PORT" --workers 2 \
    astroloc_platform.wsgi
}

stop() { stop_one web; stop_one beat; stop_one worker-gpu; stop_one worker-cpu; }

status() {
  local name
  for name in web beat worker-cpu worker-gpu; do
    if is_running "$name"; then echo "$name: running (pid $(cat "$RUN/$name.pid"))"; else echo "$name: stopped"; fi
  done
}

case "${1:-status}" in
  start) start ;;
  stop) stop ;;
  restart) stop; start ;;
  status) status ;;
  *) echo "usage: $0 start|stop|restart|status" >&2; exit 2 ;;
esac
