#!/usr/bin/env bash
# Sets the platform up on this machine, idempotently: system packages, Python environment, PostgreSQL
# (PostGIS + pgvector) and Redis reachable, database + role + extensions, migrations, static files.
#
# Which services it uses:
#   DATABASE_URL / CELERY_BROKER_URL in the environment or in .env win. Otherwise a PostgreSQL answering on
#   127.0.0.1:5432 is used; if none answers, a project-local cluster is created under var/pgdata and started
#   on port ${ASTROLOC_LOCAL_PG_PORT:-5439}. Redis: 127.0.0.1:6379 if it answers, else a project-local
#   redis-server is started there (data in var/redis).
# What it chose is written to .env, which settings.py reads.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
VAR="$ROOT/var"
VENV="$ROOT/.venv"
PY="$VENV/bin/python"
PG_BIN=/usr/lib/postgresql/15/bin
LOCAL_PG_PORT=${ASTROLOC_LOCAL_PG_PORT:-5439}
SYSTEM_PG_PORT=${ASTROLOC_SYSTEM_PG_PORT:-5432}  # where an already running server is looked for
DB_NAME=${ASTROLOC_DB_NAME:-astroloc}
DB_ROLE=${ASTROLOC_DB_ROLE:-astroloc}

log() { printf '[setup] %s\n' "$*"; }
mkdir -p "$VAR/log" "$VAR/run" "$VAR/media"

# --- system packages -------------------------------------------------------------------------------
if [ "$(id -u)" = 0 ]; then
  bash "$ROOT/platform/scripts/install_system.sh"
else
  log "not root: skipping system packages (run platform/scripts/install_system.sh as root if any is missing)"
fi

# --- Python environment ----------------------------------------------------------------------------
stamp="$VENV/.astroloc-installed"
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ ! -x "$PY" ]; then
  log "creating virtual environment in .venv"
  python3 -m venv "$VENV"
fi
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  log "installing Python dependencies (torch, timm, faiss, django, ...)"
  "$PY" -m pip install -q --disable-pip-version-check --upgrade pip setuptools wheel
  "$PY" -m pip install -q --disable-pip-version-check -e ".[dev]"
  echo "$want" > "$stamp"
else
  log "Python dependencies up to date"
fi

# --- .env helpers ----------------------------------------------------------------------------------
env_get() { [ -f .env ] && sed -n "s/^$1=//p" .env | tail -n 1 || true; }
env_set() {
  touch .env
  if grep -q "^$1=" .env; then sed -i "s|^$1=.*|$1=$2|" .env; else echo "$1=$2" >> .env; fi
}

# --- PostgreSQL ------------------------------------------------------------------------------------
local_cluster_dir() {
  # The cluster runs as the postgres user, which must be able to reach the folder; a checkout under a
  # private directory (mode 700) cannot host it, so it goes under /var/tmp, keyed by the checkout path.
  local data="$VAR/pgdata"
  if [ "$(id -u)" = 0 ] && ! runuser -u postgres -- test -x "$VAR"; then
    data="/var/tmp/astroloc-pgdata-$(printf '%s' "$ROOT" | sha256sum | cut -c1-12)"
  fi
  echo "$data"
}

start_local_cluster() {
  local data
  data=$(local_cluster_dir)
  if [ ! -f "$data/PG_VERSION" ]; then
    log "creating project-local PostgreSQL cluster in $data (port $LOCAL_PG_PORT)"
    mkdir -p "$data"
    if [ "$(id -u)" = 0 ]; then chown -R postgres:postgres "$data"; fi
    as_pg "$PG_BIN/initdb" -D "$data" -U postgres --auth=trust --encoding=UTF8 >/dev/null
  fi
  if ! "$PG_BIN/pg_ctl" status -D "$data" >/dev/null 2>&1; then
    log "starting project-local PostgreSQL on port $LOCAL_PG_PORT"
    as_pg "$PG_BIN/pg_ctl" -D "$data" -l "$data/server.log" -w \
      -o "-p $LOCAL_PG_PORT -k /tmp -c listen_addresses=127.0.0.1" start >/dev/null
  fi
}
as_pg() { if [ "$(id -u)" = 0 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi; }

DATABASE_URL=${DATABASE_URL:-$(env_get DATABASE_URL)}
if [ -z "$DATABASE_URL" ]; then
  if "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$SYSTEM_PG_PORT"; then
    ADMIN_URL="postgresql://postgres@127.0.0.1:$SYSTEM_PG_PORT"
    DATABASE_URL="postgis://$DB_ROLE@127.0.0.1:$SYSTEM_PG_PORT/$DB_NAME"
  else
    start_local_cluster
    ADMIN_URL="postgresql://postgres@127.0.0.1:$LOCAL_PG_PORT"
    DATABASE_URL="postgis://$DB_ROLE@127.0.0.1:$LOCAL_PG_PORT/$DB_NAME"
  fi
  env_set DATABASE_URL "$DATABASE_URL"
else
  # A configured server: a local cluster of ours may need starting; the admin connection is the same
  # server as the postgres superuser (trust auth locally; elsewhere the operator prepared it).
  hostport=$(printf '%s' "$DATABASE_URL" | sed -E 's|^[a-z]+://([^@]*@)?([^/]*)/.*$|\2|')
  if [ -f "$(local_cluster_dir)/PG_VERSION" ] && [ "$hostport" = "127.0.0.1:$LOCAL_PG_PORT" ]; then
    start_local_cluster
  fi
  ADMIN_URL="postgresql://postgres@$hostport"
fi

db_prepare() {
  local psql=(psql -q -v ON_ERROR_STOP=1 -X)
  if ! "${psql[@]}" "$ADMIN_URL/postgres" -c "SELECT 1" >/dev/null 2>&1; then
    log "cannot reach $ADMIN_URL as the postgres superuser: prepare role '$DB_ROLE', database '$DB_NAME'"
    log "and the postgis + vector extensions yourself, then rerun"
    return
  fi
  "${psql[@]}" "$ADMIN_URL/postgres" <<SQL
SELECT 'CREATE ROLE $DB_ROLE LOGIN CREATEDB'
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$DB_ROLE') \gexec
SELECT 'CREATE DATABASE $DB_NAME OWNER $DB_ROLE'
WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = '$DB_NAME') \gexec
SQL
  # Extensions live in template1 too, so databases the tests create (as the non-superuser role) have them.
  local db
  for db in template1 "$DB_NAME"; do
    "${psql[@]}" "$ADMIN_URL/$db" -c "CREATE EXTENSION IF NOT EXISTS postgis; CREATE EXTENSION IF NOT EXISTS vector;"
  done
  "${psql[@]}" "$ADMIN_URL/$DB_NAME" -c "GRANT ALL ON SCHEMA public TO $DB_ROLE;"
}
db_prepare

# --- Redis -----------------------------------------------------------------------------------------
CELERY_BROKER_URL=${CELERY_BROKER_URL:-$(env_get CELERY_BROKER_URL)}
if [ -z "$CELERY_BROKER_URL" ]; then
  CELERY_BROKER_URL="redis://127.0.0.1:6379/0"
  env_set CELERY_BROKER_URL "$CELERY_BROKER_URL"
fi
if [ "$CELERY_BROKER_URL" = "redis://127.0.0.1:6379/0" ] && ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  log "starting project-local Redis on 127.0.0.1:6379 (data in var/redis)"
  mkdir -p "$VAR/redis"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --dir "$VAR/redis" --appendonly yes \
    --logfile "$VAR/log/redis.log" --pidfile "$VAR/run/redis.pid"
  for _ in $(seq 50); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 0.1; done
fi

# --- Django ----------------------------------------------------------------------------------------
log "migrating database"
"$PY" manage.py migrate --noinput -v 0
"$PY" manage.py collectstatic --noinput -v 0
log "ready (database: $DATABASE_URL, broker: $CELERY_BROKER_URL)"
