#!/usr/bin/env bash
# The gpu queue's workers on this machine: one solo Celery worker process per GPU, each seeing only its own
# device (CUDA_VISIBLE_DEVICES=<i>) and loading the active model + index once, after it starts; with no GPU,
# one CPU-fallback worker. GPUs are counted by `python -m workers.gpu count` (nvidia-smi, else torch);
# ASTROLOC_GPU_WORKERS=N overrides the count.
#   bash platform/scripts/gpu_workers.sh           run them in the foreground (the docker worker-gpu service)
#   bash platform/scripts/gpu_workers.sh --plan    print "<name> <env...> -- <command...>" per worker (services.sh)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BIN=${ASTROLOC_BIN:-}
PY=${BIN:+$BIN/}python; [ -n "$BIN" ] || PY=$(command -v python || command -v python3)
CELERY=${BIN:+$BIN/}celery

count() {
  if [ -n "${ASTROLOC_GPU_WORKERS:-}" ]; then echo "$ASTROLOC_GPU_WORKERS"; return; fi
  (cd "$ROOT" && PYTHONPATH="$ROOT:$ROOT/platform${PYTHONPATH:+:$PYTHONPATH}" "$PY" -m workers.gpu count 2>/dev/null) || echo 0
}

plan() {
  local n i
  n=$(count)
  if [ "$n" -gt 0 ]; then
    for i in $(seq 0 $((n - 1))); do
      echo "worker-gpu$i CUDA_VISIBLE_DEVICES=$i ASTROLOC_WORKER_PRELOAD=1 -- $CELERY -A astroloc_platform worker -Q gpu -P solo -c 1 -n gpu$i@%h -l info"
    done
  else
    echo "worker-gpu CUDA_VISIBLE_DEVICES= ASTROLOC_WORKER_PRELOAD=1 -- $CELERY -A astroloc_platform worker -Q gpu -P solo -c 1 -n gpu@%h -l info"
  fi
}

if [ "${1:-}" = "--plan" ]; then plan; exit 0; fi

pids=()
trap 'kill -TERM "${pids[@]}" 2>/dev/null || true; wait' TERM INT
while IFS= read -r line; do
  name=${line%% *}; envs=${line#"$name"}; envs=${envs%% -- *}; cmd=${line#* -- }
  echo "[gpu_workers] starting $name:$envs"
  # shellcheck disable=SC2086  # word splitting of the env assignments and the command is intended
  env $envs $cmd &
  pids+=($!)
done < <(plan)
# One worker gone means a device is unserved: stop the others and exit, so the container restarts whole.
set +e
wait -n
status=$?
kill -TERM "${pids[@]}" 2>/dev/null
wait
exit "$status"
