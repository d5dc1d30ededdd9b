#!/usr/bin/env bash
# Starts, stops or reports the platform's own processes on this machine: the web server (gunicorn), beat, a
# CPU worker and the GPU workers. PostgreSQL and Redis are the setup's business (platform/scripts/setup.sh).
#   bash platform/scripts/services.sh start|stop|restart|status|plan
# Pids in var/run, logs in var/log. WEB_PORT (default 8000) picks the web server's port.
# GPU workers: one solo process per GPU (nvidia-smi, else torch), each with CUDA_VISIBLE_DEVICES=<its GPU>;
# none found: one CPU-fallback worker on the gpu queue. ASTROLOC_GPU_WORKERS=N overrides the count.
# ASTROLOC_ROLE=worker starts only the workers (an extra worker machine; see docs/operations.md).
# `plan` prints what `start` would run, without starting anything.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
RUN="$ROOT/var/run"; LOG="$ROOT/var/log"; BIN=${ASTROLOC_BIN:-"$ROOT/.venv/bin"}
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

# One line per process: "<name> <env assignments...> -- <command...>"
plan() {
  local role=${ASTROLOC_ROLE:-all}
  echo "worker-cpu -- $BIN/celery -A astroloc_platform worker -Q cpu -c 2 -n cpu@%h -l info"
  ASTROLOC_BIN=$BIN bash "$ROOT/platform/scripts/gpu_workers.sh" --plan
  if [ "$role" != worker ]; then
    # Beat: periodic housekeeping (re-sends jobs whose worker died). Exactly one per deployment.
    echo "beat -- $BIN/celery -A astroloc_platform beat -l info -s $RUN/celerybeat-schedule"
    echo "web -- $BIN/gunicorn -c platform/gunicorn.conf.py --bind 0.0.0.0:$WEB_PORT --workers 2 astroloc_platform.wsgi"
  fi
}

start() {
  local line name envs cmd
  while IFS= read -r line; do
    name=${line%% *}; envs=${line#"$name"}; envs=${envs%% -- *}; cmd=${line#* -- }
    # shellcheck disable=SC2086  # word splitting of the env assignments and the command is intended
    start_one "$name" env $envs $cmd
  done < <(plan)
}

names() {
  local f
  for f in "$RUN"/*.pid; do [ -e "$f" ] && basename "$f" .pid; done
}

stop() {
  local name
  for name in web beat; do stop_one "$name"; done
  for name in $(names); do stop_one "$name"; done
}

status() {
  local name
  for name in $( (echo web; echo beat; echo worker-cpu; names) | sort -u); do
    if is_running "$name"; then echo "$name: running (pid $(cat "$RUN/$name.pid"))"; else echo "$name: stopped"; fi
  done
}

case "${1:-status}" in
  start) start ;;
  stop) stop ;;
  restart) stop; start ;;
  status) status ;;
  plan) plan ;;
  *) echo "usage: $0 start|stop|restart|status|plan" >&2; exit 2 ;;
esac
