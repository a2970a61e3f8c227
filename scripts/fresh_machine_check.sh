#!/usr/bin/env bash
# Run the README's commands as a user would on a genuinely fresh Debian 12 machine: a
# podman container made from a bare debootstrap, on podman's default bridge network (so
# this machine's RabbitMQ and PostgreSQL on 127.0.0.1 are invisible inside), with this
# machine's pip configuration and the folders it names mounted read-only, its extra CA
# certificates and apt sources copied in. The repository's committed HEAD is cloned inside.
#
#   scripts/fresh_machine_check.sh "make test" ["make demo" ...]
#
# Needs root (rootful podman with runc; installs podman, runc, debootstrap and nftables
# when missing). About 2 minutes of set-up, then 20-40 minutes per command. Logs go to a
# fresh temporary folder; the container, its image and storage, and the nftables tables
# podman's bridge created are removed at the end. Exit status: 0 when every command
# succeeded, 1 when one failed, 2 when the set-up failed.
set -uo pipefail

[ $# -ge 1 ] || { echo "usage: $0 \"make test\" [\"make demo\" ...]" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "$0 needs root (rootful podman)" >&2; exit 2; }
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/fresh-machine-check.XXXXXX)
out=$work/logs
mkdir -p "$out"
name=fresh-machine-check-$$
image=localhost/fresh-bookworm-$$
podman_() {
  podman --root "$work/storage" --runroot "$work/runroot" --runtime runc "$@"
}
log() { printf '[fresh-machine] %s\n' "$*"; }

nft_tables() { nft list tables 2>/dev/null | sed 's/^table //' | sort; }
exec 3>&1 4>&2   # the script's own output, for the clean-up (see there)
cleanup() {
  trap '' INT TERM   # a second signal must not cut the clean-up short
  # a signal can land while a command's output is redirected to its log: write to ours
  exec 1>&3 2>&4
  podman_ rm -f "$name" >/dev/null 2>&1
  podman_ rmi -f "$image" >/dev/null 2>&1
  rm -rf "$work/storage" "$work/runroot" "$work/rootfs" "$work/rootfs.tar" "$work/src" "$work/inner-podman"
  # podman's bridge leaves nftables tables behind: drop those it created (netavark's
  # chains), never a table that was there before the check started
  if [ -f "$work/nft-before.txt" ]; then
    nft_tables | comm -13 "$work/nft-before.txt" - | while read -r family table; do
      listing=$(nft list table "$family" "$table" 2>/dev/null)   # (no grep -q: pipefail)
      if [[ $listing == *NETAVARK* ]]; then
        nft delete table "$family" "$table" && log "removed nftables table $family $table"
      fi
    done
  fi
  log "logs: $out"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- tools ------------------------------------------------------------------------------
missing=()
for tool in podman runc debootstrap nft; do command -v "$tool" >/dev/null || missing+=("$tool"); done
# podman's --init runs catatonit, a package of its own that podman only recommends
[ -x /usr/libexec/podman/catatonit ] || missing+=(catatonit)
if [ ${#missing[@]} -gt 0 ]; then
  log "installing podman runc debootstrap nftables catatonit"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman runc debootstrap nftables catatonit \
    >"$out/apt-host.log" 2>&1 || { echo "could not install the tools; see $out/apt-host.log" >&2; exit 2; }
fi
nft_tables >"$work/nft-before.txt"

# --- a bare Debian 12 image -------------------------------------------------------------
mirror=$(grep -rhE '^(URIs:|deb )' /etc/apt/sources.list /etc/apt/sources.list.d/*.sources \
  /etc/apt/sources.list.d/*.list 2>/dev/null | grep -oE 'https?://[^ ]+/debian/?$' | head -n 1)
[ -n "$mirror" ] || { echo "no Debian mirror found in /etc/apt/sources*" >&2; exit 2; }
log "debootstrap bookworm from $mirror"
debootstrap --variant=minbase bookworm "$work/rootfs" "$mirror" >"$out/debootstrap.log" 2>&1 \
  || { echo "debootstrap failed; see $out/debootstrap.log" >&2; exit 2; }
tar -C "$work/rootfs" -cf "$work/rootfs.tar" . \
  && podman_ import "$work/rootfs.tar" "$image" >"$out/import.log" 2>&1 \
  || { echo "podman import failed; see $out/import.log" >&2; exit 2; }
rm -rf "$work/rootfs" "$work/rootfs.tar"

# --- the container ----------------------------------------------------------------------
# The committed HEAD, cloned on this side first (a git worktree's .git points outside it).
git clone -q --no-hardlinks "$repo" "$work/src" || { echo "git clone of $repo failed" >&2; exit 2; }
# Every pip configuration file this machine has and the folders and files they name, at the
# same paths, read-only: packages (torch's CPU wheel) resolve inside as they do here.
mounts=()
pip_=(python3 -m pip)
command -v pip >/dev/null && pip_=(pip)
while read -r f; do mounts+=(-v "$f:$f:ro"); done < <(
  "${pip_[@]}" config debug 2>/dev/null | sed -n 's/^ *\(\/[^ ]*\), exists: True$/\1/p')
while read -r d; do
  d=${d%/}
  [[ $d == */simple ]] && d=$(dirname "$d")   # a local index links to ../../files/ next to it
  [[ -e $d && $d != /etc/ssl* ]] && mounts+=(-v "$d:$d:ro")
done < <("${pip_[@]}" config list 2>/dev/null | grep -oE "(file://)?/[^' ]+" | sed 's|^file://||' | sort -u)
[ -d /etc/xdg/pip ] && mounts+=(-v /etc/xdg/pip:/etc/xdg/pip:ro)
# ulimits: podman's defaults ask for more than some sandboxes allow; --init: a PID 1 that
# forwards signals. Default bridge network: nothing of this machine answers on 127.0.0.1.
# The container tests run rootful podman inside (debootstrap's device nodes, image builds):
# --privileged, and their image store on a folder of this machine, since an overlay file
# system cannot hold another overlay store.
mkdir -p "$work/inner-podman"
podman_ run -d --name "$name" --init --privileged \
  --ulimit nofile=20000:20000 --ulimit nproc=32768:32768 \
  -v "$work/inner-podman:/root/.cache/ai-migration-kit/podman" \
  -v "$work/src:/src:ro" "${mounts[@]}" "$image" sleep infinity >/dev/null \
  || { echo "podman run failed" >&2; exit 2; }
# apt's sources as here (debootstrap's own sources.list would name the mirror twice)
[ -e /etc/apt/sources.list ] || podman_ exec "$name" rm -f /etc/apt/sources.list
podman_ cp /etc/apt/. "$name:/etc/apt/" 2>/dev/null
# (the folder update-ca-certificates reads; minbase has no ca-certificates package yet)
podman_ exec "$name" mkdir -p /usr/local/share/ca-certificates
for cert in /usr/local/share/ca-certificates/*; do
  [ -f "$cert" ] && podman_ cp "$cert" "$name:/usr/local/share/ca-certificates/"
done
log "preparing the container (python3, make, git; nothing else)"
podman_ exec "$name" bash -c '
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq python3 python3-venv python3-pip make git \
    ca-certificates curl >/dev/null && update-ca-certificates || exit 1
  for port in 5672 5432; do
    if (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null; then
      echo "CONTAMINATED: something answers on 127.0.0.1:$port inside"; exit 1
    fi
  done
  echo "extra CA certificates: $(ls /usr/local/share/ca-certificates | tr "\n" " ")"
  git config --global --add safe.directory "*"
  mkdir -p /work && git clone -q /src /work/repo && cd /work/repo && git log -1 --oneline
' >"$out/setup.log" 2>&1 || { echo "container set-up failed; see $out/setup.log" >&2; tail -5 "$out/setup.log" >&2; exit 2; }
log "checking out $(tail -n 1 "$out/setup.log")"

# --- the README's commands --------------------------------------------------------------
status=0
for cmd in "$@"; do
  logfile="$out/$(printf '%s' "$cmd" | tr -c 'A-Za-z0-9._-' '-').log"
  log "running '$cmd' (log: $logfile)"
  SECONDS=0
  podman_ exec "$name" bash -c "cd /work/repo && CI=true $cmd" >"$logfile" 2>&1
  rc=$?
  [ $rc -eq 0 ] || status=1
  echo "$cmd: rc=$rc in ${SECONDS}s"
  grep -vE '^WARNING' "$logfile" | grep -E '(passed|failed|error)[^/]* in [0-9.]+s|phase [0-9]: |^(FAILED|ERROR) ' \
    | tail -n 12 | sed 's/^/  /' | cut -c1-220
done
exit $status
