#!/usr/bin/env bash
# Make sure the outside components the kit talks to are installed and running on this
# machine: RabbitMQ (with its management plugin, which nameko's test helpers need),
# PostgreSQL (with the kit's own role and databases) and Debian's chromium (the migration
# report's browser test).
# Idempotent and quick when everything is already up.
set -euo pipefail

log() { printf '\033[36m[services]\033[0m %s\n' "$*"; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

apt_updated=0
# Every apt-get holds the set-up's lock: `make setup` runs this script beside pip, whose
# recipe may install python3-venv (the Makefile's APT_LOCKED).
APT_LOCK=/tmp/ai-migration-kit-apt.lock
apt_install() {
  if [ "$apt_updated" -eq 0 ]; then as_root flock "$APT_LOCK" apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive as_root flock "$APT_LOCK" apt-get install -y -qq "$@" >/dev/null
}

# --- RabbitMQ ---------------------------------------------------------------------------
if ! command -v rabbitmq-server >/dev/null 2>&1; then
  log "installing rabbitmq-server"
  apt_install rabbitmq-server
fi
rabbit_running() { as_root rabbitmq-diagnostics -q check_running >/dev/null 2>&1; }
wait_rabbit() {
  for _ in $(seq 1 90); do rabbit_running && return 0; sleep 1; done
  return 1
}
management_enabled() { rabbitmq-plugins list -e -m 2>/dev/null | grep -qx rabbitmq_management; }
if ! rabbit_running; then
  # Enable the management plugin before the node boots: enabling it on a node that is
  # still booting restarts the broker mid-boot, which crashed it once on a fresh Debian 12
  # (file_handle_cache badarg; the node was gone a minute later).
  if ! management_enabled; then
    log "enabling rabbitmq_management (offline)"
    as_root rabbitmq-plugins enable --offline rabbitmq_management >/dev/null
  fi
  if ! as_root rabbitmq-diagnostics -q ping >/dev/null 2>&1; then
    log "starting RabbitMQ (rabbitmq-server -detached)"
    as_root rabbitmq-server -detached >/dev/null 2>&1 || true
  fi
  # check_running, not ping: ping answers as soon as the Erlang node is up, before the
  # broker application has finished booting
  wait_rabbit || { echo "RabbitMQ did not start; see /var/log/rabbitmq" >&2; exit 1; }
fi
if ! management_enabled; then
  log "enabling rabbitmq_management"
  as_root rabbitmq-plugins enable rabbitmq_management >/dev/null
  wait_rabbit || { echo "RabbitMQ stopped while enabling its management plugin; see /var/log/rabbitmq" >&2; exit 1; }
fi
management_up() {
  python3 - <<'PY' 2>/dev/null
import base64, urllib.request
request = urllib.request.Request("http://127.0.0.1:15672/api/overview")
request.add_header("Authorization", "Basic " + base64.b64encode(b"guest:guest").decode())
urllib.request.urlopen(request, timeout=3).read()
PY
}
for _ in $(seq 1 60); do management_up && break; sleep 1; done
management_up || { echo "RabbitMQ's management API does not answer on 127.0.0.1:15672; see /var/log/rabbitmq" >&2; exit 1; }
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

# The kit's own role and databases. Debian's pg_hba.conf asks for a password
# (scram-sha-256) on 127.0.0.1 and pg_isready says "up" without logging in, so the kit
# logs in as its own role with a random password; pg_hba.conf is never touched. The URLs
# go to a per-user file outside the repository (0600) that every clone of the kit on this
# machine shares: a password that works is kept, never rotated under another clone's feet.
PG_ROLE=aikit
PG_DATABASES=(aikit_test aikit_demo)
cred_dir="${XDG_CONFIG_HOME:-$HOME/.config}/ai-migration-kit"
cred_file="$cred_dir/postgres.env"
mkdir -p "$cred_dir" && chmod 700 "$cred_dir"
exec 9>"$cred_dir/.postgres.lock"
flock 9   # two clones setting up at once must not set two different passwords

pg_login() {  # pg_login PASSWORD DATABASE: a real password login over TCP; prints the error
  PGPASSWORD="$1" PGCONNECT_TIMEOUT=5 psql -X -q -tA -h 127.0.0.1 -p 5432 -U "$PG_ROLE" -d "$2" \
    -c 'select 1' 2>&1 >/dev/null
}
pg_superuser() {  # SQL on stdin, as the postgres OS user over the unix socket (peer auth)
  as_root su postgres -c 'cd / && exec psql -X -q -tA -v ON_ERROR_STOP=1 -d postgres'
}
pg_url() { printf 'postgresql://%s:%s@127.0.0.1:5432/%s' "$PG_ROLE" "$1" "$2"; }

password=""
if [ -f "$cred_file" ]; then
  password=$(sed -n "s|^TEST_POSTGRES_URL=postgresql://$PG_ROLE:\([^@]*\)@.*|\1|p" "$cred_file")
fi
password_ok=0
missing=()
if [ -n "$password" ] && pg_login "$password" postgres >/dev/null; then
  password_ok=1
  for db in "${PG_DATABASES[@]}"; do pg_login "$password" "$db" >/dev/null || missing+=("$db"); done
fi
if [ "$password_ok" -eq 0 ] || [ "${#missing[@]}" -gt 0 ]; then
  role_exists=$(echo "select 1 from pg_roles where rolname = '$PG_ROLE'" | pg_superuser)
  if [ "$password_ok" -eq 0 ]; then
    password=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')   # hex: safe in a URL
    if [ "$role_exists" = 1 ]; then
      log "setting a new password for PostgreSQL role $PG_ROLE (stored one missing or refused)"
      verb=ALTER
    else
      log "creating PostgreSQL role $PG_ROLE"
      verb=CREATE
    fi
    # echo is a builtin: the password never shows up in a process list
    echo "$verb ROLE $PG_ROLE WITH LOGIN CREATEDB PASSWORD '$password'" | pg_superuser
  fi
  for db in "${PG_DATABASES[@]}"; do
    owner=$(echo "select pg_get_userbyid(datdba) from pg_database where datname = '$db'" | pg_superuser)
    if [ -z "$owner" ]; then
      log "creating database $db (owner $PG_ROLE)"
      echo "CREATE DATABASE $db OWNER $PG_ROLE" | pg_superuser
    elif [ "$owner" != "$PG_ROLE" ]; then
      log "database $db: owner $owner -> $PG_ROLE"
      echo "ALTER DATABASE $db OWNER TO $PG_ROLE" | pg_superuser
    fi
  done
fi
wanted="# The ai-migration-kit's own PostgreSQL role; written by scripts/ensure_services.sh.
KIT_POSTGRES_URL=$(pg_url "$password" aikit_demo)
TEST_POSTGRES_URL=$(pg_url "$password" aikit_test)"
if [ ! -f "$cred_file" ] || [ "$(cat "$cred_file")" != "$wanted" ]; then
  (umask 077 && printf '%s\n' "$wanted" > "$cred_file.tmp") && mv -f "$cred_file.tmp" "$cred_file"
  log "wrote $cred_file"
fi
chmod 600 "$cred_file"
for db in "${PG_DATABASES[@]}"; do
  if ! error=$(pg_login "$password" "$db"); then
    {
      echo "PostgreSQL refused the kit's password login (role $PG_ROLE, database $db, 127.0.0.1:5432):"
      echo "  $error"
      echo "pg_hba.conf needs a 'host' line for 127.0.0.1/32 that accepts a password (Debian's"
      echo "default: scram-sha-256); the kit never changes it. The credentials are in"
      echo "  $cred_file"
      echo "(delete that file and run \`make services\` again to set a new password)."
    } >&2
    exit 1
  fi
done
exec 9>&-
log "PostgreSQL is up at 127.0.0.1:5432 (role $PG_ROLE, databases ${PG_DATABASES[*]}; credentials in $cred_file)"

# --- Chromium (headless, for tests/e2e/report) --------------------------------------------
if [ ! -x /usr/bin/chromium ]; then
  log "installing chromium"
  apt_install --no-install-recommends chromium fonts-liberation
fi

# --- Podman (the container tests, tests/e2e/compose) --------------------------------------
# Only when the container tests will run (`make test` sets KIT_CONTAINER_TOOLS=1): rootful
# podman with runc (crun cannot set the sandbox's rlimits) and debootstrap, which makes the
# tests' local base image (no image registry is reachable from the test machines).
if [ "${KIT_CONTAINER_TOOLS:-0}" = 1 ]; then
  missing_tools=()
  for tool in podman runc debootstrap; do
    command -v "$tool" >/dev/null 2>&1 || [ -x "/usr/sbin/$tool" ] || missing_tools+=("$tool")
  done
  # `podman run --init` runs catatonit, a package podman only recommends
  [ -x /usr/libexec/podman/catatonit ] || missing_tools+=(catatonit)
  if [ "${#missing_tools[@]}" -gt 0 ]; then
    log "installing ${missing_tools[*]} (the container tests)"
    apt_install --no-install-recommends "${missing_tools[@]}"
  fi
  log "podman $(podman --version 2>/dev/null | awk '{print $3}') with runc is installed"
  # The container tests' local base image (debootstrap, then Debian's Python): built once
  # per machine, here rather than in the tests, so that `make setup` builds it while pip
  # installs the venv. The standard library is all tests/podman_support.py needs.
  # Only as root: the container tests use rootful podman (tests/podman_support.py).
  if [ "$(id -u)" -eq 0 ]; then
    repo=$(cd "$(dirname "$0")/.." && pwd)
    log "the container tests' base image (the first time: about two minutes)"
    (cd "$repo" && python3 -c 'from tests.podman_support import ensure_base_image; print(ensure_base_image())') \
      || echo "[services] could not build the container tests' base image now; the container tests try again and say why" >&2
  fi
fi
