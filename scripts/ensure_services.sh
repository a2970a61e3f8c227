#!/usr/bin/env bash
# Make sure the outside components the kit talks to are installed and running on this
# machine: RabbitMQ (with its management plugin, which nameko's test helpers need),
# PostgreSQL (database `test`) and Debian's chromium (the migration report's browser test).
# Idempotent and quick when everything is already up.
set -euo pipefail

log() { printf '\033[36m[services]\033[0m %s\n' "$*"; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

apt_updated=0
apt_install() {
  if [ "$apt_updated" -eq 0 ]; then as_root apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null
}

# --- RabbitMQ ---------------------------------------------------------------------------
if ! command -v rabbitmq-server >/dev/null 2>&1; then
  log "installing rabbitmq-server"
  apt_install rabbitmq-server
fi
if ! rabbitmq-diagnostics -q ping >/dev/null 2>&1; then
  log "starting RabbitMQ (rabbitmq-server -detached)"
  as_root rabbitmq-server -detached >/dev/null 2>&1 || true
  for _ in $(seq 1 60); do
    rabbitmq-diagnostics -q ping >/dev/null 2>&1 && break
    sleep 1
  done
  rabbitmq-diagnostics -q ping >/dev/null 2>&1 || { echo "RabbitMQ did not start; see /var/log/rabbitmq" >&2; exit 1; }
fi
if ! rabbitmq-plugins list -e -m 2>/dev/null | grep -qx rabbitmq_management; then
  log "enabling rabbitmq_management"
  as_root rabbitmq-plugins enable rabbitmq_management >/dev/null
fi
log "RabbitMQ is up at 127.0.0.1:5672"

# --- PostgreSQL -------------------------------------------------------------------------
if ! command -v pg_ctlcluster >/dev/null 2>&1; then
  log "installing postgresql"
  apt_install postgresql
fi
if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  log "starting PostgreSQL ${version}"
  as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi
pg_isready -q -h 127.0.0.1 -p 5432 || { echo "PostgreSQL is not accepting connections on 127.0.0.1:5432" >&2; exit 1; }
if ! as_root su postgres -c "psql -tAc \"select 1 from pg_database where datname='test'\"" 2>/dev/null | grep -q 1; then
  log "creating database test"
  as_root su postgres -c "createdb test" || true
fi
log "PostgreSQL is up at 127.0.0.1:5432 (database test)"

# --- Chromium (headless, for tests/e2e/report) --------------------------------------------
if [ ! -x /usr/bin/chromium ]; then
  log "installing chromium"
  apt_install --no-install-recommends chromium fonts-liberation
fi
