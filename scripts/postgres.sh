#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the DuckLake catalog (tests, benchmarks, demos).
#
#   scripts/postgres.sh start DIR   initdb into DIR/data (first time), start it on 127.0.0.1 (on
#                                   the port of its previous start if that is free, else on a
#                                   free one), create the database, print the port
#   scripts/postgres.sh createdb DIR NAME   one more database in the running cluster of DIR
#   scripts/postgres.sh stop DIR    stop exactly the cluster of DIR/data
#
# It listens on 127.0.0.1 only (no Unix socket, no other address). Authentication is trust on
# loopback, or scram-sha-256 when URBANREPORT_CATALOG_PASSWORD is set at the first start (that
# password is then the superuser's; it is handed to initdb in a file of DIR removed at once,
# never on a command line). The superuser is `urbanreport`, the database $URBANREPORT_PG_DB
# (default urbanreport_lake).
#
# PostgreSQL refuses to run as root: as root the cluster belongs to the `postgres` system user
# (created by Debian's package) or, without it, to `nobody`; DIR is given to that user.
#
# Binaries: $PG_BINDIR, else the newest /usr/lib/postgresql/*/bin (Debian), else initdb on PATH.
# Exit status 3 = PostgreSQL is not installed (with how to install it on stderr).
set -euo pipefail

ACTION="${1:-}"
DIR="${2:-}"
USAGE="usage: $0 start DIR | createdb DIR NAME | stop DIR"
if [[ -z "$ACTION" || -z "$DIR" ]]; then
  echo "$USAGE" >&2
  exit 2
fi
mkdir -p "$DIR"
DIR="$(cd "$DIR" && pwd)"
DATA="$DIR/data"
DB="${URBANREPORT_PG_DB:-urbanreport_lake}"
[[ "$ACTION" = createdb ]] && DB="${3:-}"
SUPERUSER=urbanreport
if [[ ! "$DB" =~ ^[a-z_][a-z0-9_]*$ ]]; then
  echo "数据库名须为小写字母、数字和下划线 (a plain lower-case database name): '$DB'" >&2
  exit 2
fi

find_bindir() {
  if [[ -n "${PG_BINDIR:-}" ]]; then
    echo "$PG_BINDIR"
    return
  fi
  local newest
  newest="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
  if [[ -n "$newest" && -x "$newest/initdb" ]]; then
    echo "$newest"
    return
  fi
  if command -v initdb >/dev/null 2>&1; then
    dirname "$(command -v initdb)"
  fi
}

BINDIR="$(find_bindir)"
if [[ -z "$BINDIR" || ! -x "$BINDIR/initdb" || ! -x "$BINDIR/pg_ctl" ]]; then
  echo "未找到 PostgreSQL（initdb / pg_ctl）。安装：sudo apt-get install -y postgresql（或以 root 运行 make postgres）" >&2
  echo "PostgreSQL is not installed: sudo apt-get install -y postgresql (or, as root, make postgres)" >&2
  exit 3
fi

# Who owns and runs the cluster.
if [[ "$(id -u)" = 0 ]]; then
  if id postgres >/dev/null 2>&1; then OWNER=postgres; else OWNER=nobody; fi
  as_owner() { runuser -u "$OWNER" -- "$@"; }
else
  OWNER="$(id -un)"
  as_owner() { "$@"; }
fi

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

is_running() {
  [[ -f "$DATA/postmaster.pid" ]] && as_owner "$BINDIR/pg_ctl" -D "$DATA" status >/dev/null 2>&1
}

init_cluster() {
  if [[ "$(id -u)" = 0 ]]; then
    chown "$OWNER" "$DIR"
    chmod 700 "$DIR"
  fi
  if ! as_owner test -w "$DIR"; then
    echo "$DIR 对用户 $OWNER 不可写（其上级目录须允许进入）(user $OWNER cannot write $DIR)" >&2
    exit 1
  fi
  local auth=trust pwfile=""
  if [[ -n "${URBANREPORT_CATALOG_PASSWORD:-}" ]]; then
    auth=scram-sha-256
    pwfile="$DIR/.pwfile"
    (umask 077 && printf '%s\n' "$URBANREPORT_CATALOG_PASSWORD" >"$pwfile")
    [[ "$(id -u)" = 0 ]] && chown "$OWNER" "$pwfile"
  fi
  if ! as_owner "$BINDIR/initdb" -D "$DATA" -U "$SUPERUSER" -A "$auth" ${pwfile:+--pwfile="$pwfile"} \
      -E UTF8 --no-locale --no-instructions >"$DIR/initdb.log" 2>&1; then
    rm -f "$pwfile"
    echo "initdb 失败，见 $DIR/initdb.log (initdb failed)" >&2
    exit 1
  fi
  rm -f "$pwfile"
}

start() {
  if is_running; then
    cat "$DIR/port"
    return
  fi
  [[ -f "$DATA/PG_VERSION" ]] || init_cluster
  local owner
  owner="$(stat -c %U "$DATA")"
  if [[ "$owner" != "$OWNER" ]]; then
    echo "$DATA 属于 $owner，而集群须由 $OWNER 运行 (the data folder belongs to $owner, not $OWNER)" >&2
    exit 1
  fi
  # The port of the previous start first (so a configuration written then still works), then
  # free ports chosen at random.
  local port attempt previous=""
  [[ -f "$DIR/port" ]] && previous="$(cat "$DIR/port")"
  for attempt in 1 2 3 4; do
    if [[ "$attempt" = 1 && -n "$previous" ]]; then port="$previous"; else port="$(free_port)"; fi
    if as_owner "$BINDIR/pg_ctl" -D "$DATA" -l "$DIR/postgres.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=''" \
        start >/dev/null; then
      echo "$port" >"$DIR/port"
      create_database "$port"
      echo "$port"
      return
    fi
  done
  echo "PostgreSQL 未能启动，见 $DIR/postgres.log (the server did not start)" >&2
  exit 1
}

create_database() {
  local port="$1"
  export PGPASSWORD="${URBANREPORT_CATALOG_PASSWORD:-}"
  local exists
  exists="$("$BINDIR/psql" -h 127.0.0.1 -p "$port" -U "$SUPERUSER" -d postgres -XtAq \
    -c "SELECT 1 FROM pg_database WHERE datname = '$DB'")"
  if [[ "$exists" != 1 ]]; then
    "$BINDIR/createdb" -h 127.0.0.1 -p "$port" -U "$SUPERUSER" "$DB"
  fi
}

stop() {
  if is_running; then
    as_owner "$BINDIR/pg_ctl" -D "$DATA" -w -t 60 -m fast stop >/dev/null
  fi
}

case "$ACTION" in
  start) start ;;
  createdb)
    if ! is_running; then
      echo "$DIR 的集群未运行 (the cluster of $DIR is not running)" >&2
      exit 1
    fi
    create_database "$(cat "$DIR/port")"
    ;;
  stop) stop ;;
  *)
    echo "$USAGE" >&2
    exit 2
    ;;
esac
