#!/usr/bin/env bash
# `make city-demo`: a whole city on one machine. A throwaway PostgreSQL (scripts/postgres.sh) as
# the DuckLake catalog, the lake's files in $URBANREPORT_HOME/lake, a city file of three 汕头
# districts each with its own streets and sample data, a Prefect server with two workers
# (scripts/serve.sh), the districts' monthly runs started at the same moment, then the city
# rollup and its report. `make city-stop` stops exactly what this started.
#
# What it leaves in $URBANREPORT_HOME (default <project>/var):
#   urbanreport.toml   the [warehouse] it used (no password), so the CLI queries the lake
#   city.toml          the districts
#   catalog.env        mode 0600: `export URBANREPORT_CATALOG_PASSWORD=…`, the catalog's
#                      password (given in the environment, else made up at the first start)
#   postgres/          the cluster (its postmaster.pid is what city-stop stops)
#   prefect/           the server's state and serve.pids (what city-stop stops)
#
# Settings (environment): URBANREPORT_HOME, VENV, URBANREPORT_PREFECT_PORT (default: a free
# port), CITY_DEMO_PERIOD (default 2023-12), CITY_DEMO_SCALE (default 1).
set -euo pipefail

PROJECT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HOME_DIR="${URBANREPORT_HOME:-$PROJECT_DIR/var}"
mkdir -p "$HOME_DIR"
export URBANREPORT_HOME="$(cd "$HOME_DIR" && pwd)"
VENV_DIR="${VENV:-.venv}"
case "$VENV_DIR" in /*) ;; *) VENV_DIR="$PROJECT_DIR/$VENV_DIR" ;; esac
export VENV="$VENV_DIR"
BIN="$VENV_DIR/bin"
PERIOD="${CITY_DEMO_PERIOD:-2023-12}"
YEAR="${PERIOD%%-*}"
SCALE="${CITY_DEMO_SCALE:-1}"
DISTRICTS=(440507 440511 440515)
unset URBANREPORT_CITY URBANREPORT_CONFIG

step() { printf '\n== %s (%ss)\n' "$1" "$SECONDS"; }

# The catalog's password: the caller's, else the one of a previous demo, else a new one. It is
# kept in catalog.env (0600), never in urbanreport.toml; every process below inherits it.
ENV_FILE="$URBANREPORT_HOME/catalog.env"
if [ -z "${URBANREPORT_CATALOG_PASSWORD:-}" ] && [ -f "$ENV_FILE" ]; then
    # shellcheck disable=SC1090
    . "$ENV_FILE"
fi
if [ -z "${URBANREPORT_CATALOG_PASSWORD:-}" ]; then
    URBANREPORT_CATALOG_PASSWORD="$("$BIN/python" -c 'import secrets; print(secrets.token_urlsafe(24))')"
fi
export URBANREPORT_CATALOG_PASSWORD
(umask 077 && printf 'export URBANREPORT_CATALOG_PASSWORD=%q\n' "$URBANREPORT_CATALOG_PASSWORD" >"$ENV_FILE")

step "PostgreSQL (catalog)"
PORT="$("$PROJECT_DIR/scripts/postgres.sh" start "$URBANREPORT_HOME/postgres")"
echo "listening on 127.0.0.1:$PORT"

step "configuration"
cat >"$URBANREPORT_HOME/urbanreport.toml" <<TOML
# Written by make city-demo: the warehouse is a DuckLake whose catalog is the demo's
# PostgreSQL. The password is not here: it comes from URBANREPORT_CATALOG_PASSWORD
# (". $ENV_FILE" sets it).
[warehouse]
backend = "ducklake"
catalog = "host=127.0.0.1 port=$PORT dbname=urbanreport_lake user=urbanreport"
data_path = "lake"
TOML
cat >"$URBANREPORT_HOME/city.toml" <<'TOML'
# Written by make city-demo: three of 汕头市's districts, each with its real streets.
[city]
code = "440500"
name = "汕头市"

[districts.440507]
name = "龙湖区"

[districts.440511]
name = "金平区"

[districts.440515]
name = "澄海区"
TOML
echo "$URBANREPORT_HOME/urbanreport.toml, $URBANREPORT_HOME/city.toml"

step "sample data ($((YEAR - 1))–$YEAR, scale $SCALE) for ${DISTRICTS[*]}"
for code in "${DISTRICTS[@]}"; do
    "$BIN/urbanreport" sample --district "$code" --years "$((YEAR - 1))-$YEAR" --scale "$SCALE" | tail -n 1
done

step "Prefect server and two workers"
if [ -z "${URBANREPORT_PREFECT_PORT:-}" ]; then
    URBANREPORT_PREFECT_PORT="$("$BIN/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
fi
export URBANREPORT_PREFECT_PORT
URBANREPORT_WORKERS=2 URBANREPORT_WORKER_RUNS=1 "$PROJECT_DIR/scripts/serve.sh" >"$URBANREPORT_HOME/serve.log" || {
    cat "$URBANREPORT_HOME/serve.log"
    exit 1
}
grep -i "started\|server healthy\|deployed" "$URBANREPORT_HOME/serve.log"
export PREFECT_API_URL="http://127.0.0.1:$URBANREPORT_PREFECT_PORT/api"

step "the districts' $PERIOD runs, all at once"
pids=()
for code in "${DISTRICTS[@]}"; do
    "$BIN/prefect" deployment run "monthly-run/monthly-$code" -p period="$PERIOD" \
        --watch --watch-interval 3 --watch-timeout 3600 >"$URBANREPORT_HOME/prefect/run-$code.log" 2>&1 &
    pids+=("$!")
done
failed=0
for i in "${!pids[@]}"; do
    if wait "${pids[$i]}"; then
        echo "${DISTRICTS[$i]}: $(grep -o "Flow run finished.*" "$URBANREPORT_HOME/prefect/run-${DISTRICTS[$i]}.log" | tail -n 1 || true)"
    else
        echo "${DISTRICTS[$i]} failed; see $URBANREPORT_HOME/prefect/run-${DISTRICTS[$i]}.log" >&2
        failed=1
    fi
done
[ "$failed" = 0 ]

step "the city rollup"
"$BIN/prefect" deployment run "city-rollup/city-rollup" -p period="$PERIOD" \
    --watch --watch-interval 3 --watch-timeout 3600 >"$URBANREPORT_HOME/prefect/run-city.log" 2>&1 || {
    echo "the city rollup failed; see $URBANREPORT_HOME/prefect/run-city.log" >&2
    exit 1
}
echo "city: $(grep -o "Flow run finished.*" "$URBANREPORT_HOME/prefect/run-city.log" | tail -n 1 || true)"

step "done"
echo "全市报告 (city reports): $URBANREPORT_HOME/reports/city/$YEAR/"
for f in "$URBANREPORT_HOME/reports/city/$YEAR"/*.pdf "$URBANREPORT_HOME/reports/city/$YEAR"/*.docx \
    "$URBANREPORT_HOME/reports/city/$YEAR"/*.xlsx; do
    echo "  $(basename "$f")"
done
cat <<TXT

Prefect UI: http://127.0.0.1:$URBANREPORT_PREFECT_PORT
The CLI now reads the lake (the password from catalog.env):
  . $ENV_FILE
  $BIN/urbanreport indicators --period $YEAR --city
  $BIN/urbanreport indicators --period $YEAR --district 440511 --json
Stop everything this started: make city-stop
TXT
