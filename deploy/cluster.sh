#!/usr/bin/env bash
# A local cluster in one command (issue 16): two application servers (gunicorn) on PostgreSQL and Redis behind
# nginx with TLS (a locally generated certificate), plus the background worker. `make cluster` runs `start`,
# `make cluster-stop` runs `stop`; `status` tells what runs. Everything it starts lives in .cluster/ (pids, logs,
# the certificate, nginx's configuration); the database is CLUSTER_DATABASE_URL (default: a `network_cluster`
# database on the local PostgreSQL, created if absent), the counters and sessions' throttles in Redis.
set -euo pipefail
cd "$(dirname "$0")/.."

ROOT="$(pwd)"
DIR="$ROOT/.cluster"
BIN="$ROOT/.venv/bin"
PG_ADMIN_URL="${CLUSTER_PG_ADMIN_URL:-postgresql://postgres@127.0.0.1:5432/postgres}"
DATABASE_URL="${CLUSTER_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/network_cluster}"
REDIS_URL="${CLUSTER_REDIS_URL:-redis://127.0.0.1:6379/3}"
HTTPS_PORT="${CLUSTER_HTTPS_PORT:-8443}"
APP_PORTS=(${CLUSTER_APP_PORTS:-8001 8002})
WORKERS_PER_SERVER="${CLUSTER_GUNICORN_WORKERS:-2}"

say() { printf '[cluster] %s\n' "$*"; }

cluster_env() {
  export DATABASE_URL
  export NETWORK_DEMO_MODE=1                       # demo accounts and console mail: a cluster to try, not production
  export NETWORK_SESSION_COOKIE_SECURE=1           # served over HTTPS by the proxy
  export NETWORK_TRUST_PROXY_HOPS=1                # nginx sets X-Forwarded-For/Proto/Host
  export NETWORK_PUBLIC_URL="https://127.0.0.1:${HTTPS_PORT}"
  export NETWORK_RATELIMIT_STORAGE_URL="$REDIS_URL"
  export NETWORK_MAIL_SENT_BY_WORKER=1             # requests never wait for SMTP: the worker sends the outbox
  export NETWORK_SEARCH_INDEX_ON_COMMIT=0          # and drains the search outboxes
  if [ -n "${CLUSTER_SEARCH_RATE_LIMIT:-}" ]; then  # a load generator is one address: benchmarks lift the throttle
    export NETWORK_SEARCH_RATE_LIMIT="$CLUSTER_SEARCH_RATE_LIMIT"
  fi
  export FLASK_APP=app
  export NETWORK_INSTANCE_PATH="$DIR/instance"
}

running() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

find_nginx() {
  for candidate in "$(command -v nginx 2>/dev/null || true)" /usr/sbin/nginx; do
    if [ -n "$candidate" ] && [ -x "$candidate" ]; then echo "$candidate"; return 0; fi
  done
  return 1
}

start() {
  [ -x "$BIN/gunicorn" ] || { echo "Run 'make install' first (gunicorn is missing from .venv)" >&2; exit 1; }
  NGINX="$(find_nginx)" || { echo "nginx is missing: apt-get install nginx-light (Debian's package)" >&2; exit 1; }
  command -v openssl >/dev/null || { echo "openssl is missing: apt-get install openssl" >&2; exit 1; }
  mkdir -p "$DIR/logs" "$DIR/run" "$DIR/nginx/tmp"
  chmod 700 "$DIR"
  cluster_env

  say "1/6 database: $DATABASE_URL"
  name="${DATABASE_URL##*/}"
  if ! "$BIN/python" - "$PG_ADMIN_URL" "$name" <<'PY'
import sys
import psycopg
admin, name = sys.argv[1:3]
with psycopg.connect(admin, autocommit=True) as conn:
    if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
        conn.execute(f'CREATE DATABASE "{name}"')  # the name is the operator's own setting, quoted
PY
  then echo "PostgreSQL is not reachable at $PG_ADMIN_URL (start it: pg_ctlcluster 15 main start)" >&2; exit 1; fi
  "$BIN/python" -c "import redis,sys; redis.Redis.from_url(sys.argv[1]).ping()" "$REDIS_URL" \
    || { echo "Redis is not reachable at $REDIS_URL" >&2; exit 1; }

  say "2/6 schema and demo data (once)"
  "$BIN/flask" db upgrade >"$DIR/logs/upgrade.log" 2>&1
  if [ ! -f "$DIR/run/demo-loaded" ]; then
    "$BIN/flask" demo load >"$DIR/logs/demo.log" 2>&1 && touch "$DIR/run/demo-loaded"
  fi

  say "3/6 certificate for 127.0.0.1 (self-signed, .cluster/nginx/)"
  if [ ! -f "$DIR/nginx/cert.pem" ]; then
    openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=127.0.0.1" \
      -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
      -keyout "$DIR/nginx/key.pem" -out "$DIR/nginx/cert.pem" >/dev/null 2>&1
    chmod 600 "$DIR/nginx/key.pem"
  fi

  say "4/6 application servers on ${APP_PORTS[*]}"
  for port in "${APP_PORTS[@]}"; do
    pidfile="$DIR/run/app-$port.pid"
    if running "$pidfile"; then say "  app $port already runs"; continue; fi
    "$BIN/gunicorn" --workers "$WORKERS_PER_SERVER" --bind "127.0.0.1:$port" --umask 0077 \
      --pid "$pidfile" --daemon --access-logfile "$DIR/logs/app-$port.access.log" \
      --error-logfile "$DIR/logs/app-$port.log" --graceful-timeout 10 'app:create_app()'
  done

  say "5/6 worker"
  if "$BIN/flask" worker --help >/dev/null 2>&1; then
    if ! running "$DIR/run/worker.pid"; then
      nohup "$BIN/flask" worker >"$DIR/logs/worker.log" 2>&1 &
      echo $! >"$DIR/run/worker.pid"
    fi
  else
    echo "this version has no 'flask worker' command" >&2; exit 1
  fi

  say "6/6 nginx on https://127.0.0.1:$HTTPS_PORT"
  upstream=""
  for port in "${APP_PORTS[@]}"; do upstream+="    server 127.0.0.1:$port max_fails=1 fail_timeout=5s;"$'\n'; done
  user_line=""
  [ "$(id -u)" = "0" ] && user_line="user root;  # a local cluster started as root (a container); production: deploy/nginx/"
  "$BIN/python" - deploy/nginx/cluster.conf.in "$DIR" "$HTTPS_PORT" "$user_line" "$upstream" \
    >"$DIR/nginx/nginx.conf" <<'PY'
import sys
template, folder, port, user, upstream = sys.argv[1:6]
text = open(template, encoding="utf-8").read()
for key, value in {"@DIR@": folder, "@HTTPS_PORT@": port, "@USER@": user, "@UPSTREAM@": upstream.rstrip()}.items():
    text = text.replace(key, value)
print(text)
PY
  if running "$DIR/run/nginx.pid"; then
    "$NGINX" -c "$DIR/nginx/nginx.conf" -p "$DIR/nginx" -s reload
  else
    "$NGINX" -c "$DIR/nginx/nginx.conf" -p "$DIR/nginx"
  fi

  for _ in $(seq 1 50); do
    if curl -ksf "https://127.0.0.1:$HTTPS_PORT/healthz" >/dev/null 2>&1; then break; fi
    sleep 0.2
  done
  status
  "$BIN/flask" demo accounts 2>/dev/null || true
  say "Open https://127.0.0.1:$HTTPS_PORT (the certificate is self-signed); logs in .cluster/logs/."
  say "The demo accounts' current codes: bash deploy/cluster.sh codes. Stop with: make cluster-stop"
}

stop() {
  NGINX="$(find_nginx || true)"
  if [ -n "$NGINX" ] && running "$DIR/run/nginx.pid"; then
    "$NGINX" -c "$DIR/nginx/nginx.conf" -p "$DIR/nginx" -s quit || true
  fi
  for pidfile in "$DIR"/run/app-*.pid "$DIR/run/worker.pid"; do
    [ -f "$pidfile" ] || continue
    if running "$pidfile"; then kill -TERM "$(cat "$pidfile")" 2>/dev/null || true; fi
    rm -f "$pidfile"
  done
  say "stopped (the database and .cluster/ stay; remove .cluster/ and the database to start afresh)"
}

status() {
  for pidfile in "$DIR"/run/app-*.pid "$DIR/run/worker.pid" "$DIR/run/nginx.pid"; do
    [ -f "$pidfile" ] || continue
    name="$(basename "$pidfile" .pid)"
    if running "$pidfile"; then say "  $name: running (pid $(cat "$pidfile"))"; else say "  $name: not running"; fi
  done
  if curl -ksf "https://127.0.0.1:$HTTPS_PORT/healthz" >/dev/null 2>&1; then
    say "  https://127.0.0.1:$HTTPS_PORT/healthz answers"
  else
    say "  https://127.0.0.1:$HTTPS_PORT/healthz does not answer"
  fi
}

codes() {
  cluster_env
  "$BIN/flask" demo codes
}

case "${1:-start}" in
  start) start ;;
  codes) codes ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start|stop|status|codes" >&2; exit 2 ;;
esac
