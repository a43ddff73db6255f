#!/usr/bin/env bash
# Start the scheduled side of urbanreport (`make serve`): a Prefect server on 127.0.0.1, the
# process work pool, the deployments of prefect.yaml and the worker(s). With a city file
# ($URBANREPORT_HOME/city.toml or $URBANREPORT_CITY) also one monthly deployment per district
# and the city rollup, generated from it (`urbanreport city-deployments`), with each district's
# concurrency limit. `make stop` stops exactly these processes again, using the PIDs recorded here.
#
# Everything Prefect keeps (database, logs, PIDs) lives in $URBANREPORT_HOME/prefect, so the
# scheduler's state travels with the data directory and never mixes with another checkout's.
#
# Settings (environment):
#   URBANREPORT_HOME          data directory (default: <project>/var)
#   URBANREPORT_PREFECT_PORT  server port on 127.0.0.1 (default: 4200)
#   VENV                      virtualenv holding prefect (default: <project>/.venv)
#   URBANREPORT_WORKERS       process workers on the pool (default: 1; a city: 2 or more)
#   URBANREPORT_WORKER_RUNS   flow runs one worker runs at once (default: no limit); 1 spreads
#                             a city's districts over the workers, one run each
set -euo pipefail

PROJECT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HOME_DIR="${URBANREPORT_HOME:-$PROJECT_DIR/var}"
mkdir -p "$HOME_DIR"
export URBANREPORT_HOME="$(cd "$HOME_DIR" && pwd)"
# Read by the pull step of prefect.yaml: flow runs start in the project, wherever it is checked out.
export URBANREPORT_PROJECT_DIR="$PROJECT_DIR"

VENV_DIR="${VENV:-.venv}"
case "$VENV_DIR" in /*) ;; *) VENV_DIR="$PROJECT_DIR/$VENV_DIR" ;; esac
PREFECT="$VENV_DIR/bin/prefect"
PYTHON="$VENV_DIR/bin/python"
URBANREPORT="$VENV_DIR/bin/urbanreport"
WORKERS="${URBANREPORT_WORKERS:-1}"
WORKER_RUNS="${URBANREPORT_WORKER_RUNS:-}"
CITY_FILE="${URBANREPORT_CITY:-$URBANREPORT_HOME/city.toml}"

HOST=127.0.0.1
PORT="${URBANREPORT_PREFECT_PORT:-4200}"
POOL=urbanreport-pool
STATE_DIR="$URBANREPORT_HOME/prefect"
PID_FILE="$STATE_DIR/serve.pids"
CITY_YAML="$STATE_DIR/city-deployments.yaml"
HEALTH_TIMEOUT_SECONDS=120

export PREFECT_HOME="$STATE_DIR"
export PREFECT_API_URL="http://$HOST:$PORT/api"
export PREFECT_SERVER_API_HOST="$HOST"
export PREFECT_SERVER_API_PORT="$PORT"
export PREFECT_SERVER_ANALYTICS_ENABLED=false

mkdir -p "$STATE_DIR"

alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }

if [ -f "$PID_FILE" ]; then
    while read -r name pid; do
        if [ "$name" = server ] || [ "$name" = worker ]; then
            if alive "$pid"; then
                echo "Prefect ($name, PID $pid) is already running for $URBANREPORT_HOME;" \
                    "run 'make stop' first." >&2
                exit 1
            fi
        fi
    done < "$PID_FILE"
    rm -f "$PID_FILE"   # left over from processes that are gone (e.g. after a reboot)
fi

if "$PYTHON" - "$HOST" "$PORT" <<'PY'
import socket, sys
with socket.socket() as s:
    s.settimeout(1)
    sys.exit(0 if s.connect_ex((sys.argv[1], int(sys.argv[2]))) == 0 else 1)
PY
then
    echo "Port $PORT on $HOST is already in use; set URBANREPORT_PREFECT_PORT to a free port." >&2
    exit 1
fi

# Undo a half-finished start: whatever was already recorded is stopped again.
cleanup_on_error() {
    echo "Start failed; stopping what was started. Logs: $STATE_DIR/*.log" >&2
    "$PROJECT_DIR/scripts/stop.sh" >&2 || true
}
trap cleanup_on_error ERR

# Each process gets its own session (setsid), so stop.sh can signal its whole process group.
start_background() {
    local name=$1 log=$2
    shift 2
    setsid "$@" >"$log" 2>&1 </dev/null &
    STARTED_PID=$!
    echo "$name $STARTED_PID" >>"$PID_FILE"
}

echo "Starting Prefect server on http://$HOST:$PORT (PREFECT_HOME=$PREFECT_HOME)"
start_background server "$STATE_DIR/server.log" \
    "$PREFECT" server start --host "$HOST" --port "$PORT" --analytics-off
SERVER_PID=$STARTED_PID

deadline=$((SECONDS + HEALTH_TIMEOUT_SECONDS))
until "$PYTHON" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' \
    "$PREFECT_API_URL/health" 2>/dev/null; do
    if ! alive "$SERVER_PID"; then
        echo "The Prefect server exited; last lines of $STATE_DIR/server.log:" >&2
        tail -n 20 "$STATE_DIR/server.log" >&2
        false
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
        echo "The Prefect server was not healthy after ${HEALTH_TIMEOUT_SECONDS}s." >&2
        false
    fi
    sleep 0.5
done
echo "Server healthy after ${SECONDS}s"

if ! "$PREFECT" work-pool inspect "$POOL" >/dev/null 2>&1; then
    "$PREFECT" work-pool create "$POOL" --type process >/dev/null
    echo "Created work pool $POOL"
fi

# The entrypoints in prefect.yaml are relative to the project root. URBANREPORT_PROJECT_DIR is
# hidden from `prefect deploy`, which would otherwise resolve the pull step's placeholder now and
# store this checkout's absolute path in the deployment; left unresolved, each flow run reads it
# from the worker's environment.
(cd "$PROJECT_DIR" && env -u URBANREPORT_PROJECT_DIR "$PREFECT" deploy --all --no-prompt) \
    >"$STATE_DIR/deploy.log" 2>&1 || {
    echo "prefect deploy failed; last lines of $STATE_DIR/deploy.log:" >&2
    tail -n 30 "$STATE_DIR/deploy.log" >&2
    false
}
echo "Deployed prefect.yaml (monthly, fiscal-year-rerun)"

# A city: its districts' deployments and the rollup, generated from the city file, and each
# district's concurrency limit (one slot) on the server.
if [ -f "$CITY_FILE" ]; then
    "$URBANREPORT" city-deployments --output "$CITY_YAML" --create-limits \
        >"$STATE_DIR/city-deploy.log" 2>&1 || {
        echo "urbanreport city-deployments failed; see $STATE_DIR/city-deploy.log" >&2
        tail -n 30 "$STATE_DIR/city-deploy.log" >&2
        false
    }
    (cd "$PROJECT_DIR" && env -u URBANREPORT_PROJECT_DIR "$PREFECT" deploy --all --no-prompt \
        --prefect-file "$CITY_YAML") >>"$STATE_DIR/city-deploy.log" 2>&1 || {
        echo "prefect deploy of the city failed; last lines of $STATE_DIR/city-deploy.log:" >&2
        tail -n 30 "$STATE_DIR/city-deploy.log" >&2
        false
    }
    echo "Deployed the city's districts and rollup ($CITY_YAML)"
fi

# Workers: one log each (worker.log, worker-2.log, …); each picks up whichever run is due.
WORKER_PIDS=""
for n in $(seq 1 "$WORKERS"); do
    if [ "$n" = 1 ]; then log="$STATE_DIR/worker.log"; else log="$STATE_DIR/worker-$n.log"; fi
    start_background worker "$log" \
        "$PREFECT" worker start --pool "$POOL" --type process --name "urbanreport-worker-$n" \
        ${WORKER_RUNS:+--limit "$WORKER_RUNS"}
    WORKER_PIDS="$WORKER_PIDS $STARTED_PID"
    deadline=$((SECONDS + 60))
    until grep -q "started" "$log" 2>/dev/null; do
        if ! alive "$STARTED_PID"; then
            echo "Worker $n exited; last lines of $log:" >&2
            tail -n 20 "$log" >&2
            false
        fi
        if [ "$SECONDS" -ge "$deadline" ]; then
            echo "Worker $n did not report as started within 60s." >&2
            false
        fi
        sleep 0.5
    done
done
WORKER_PID="${WORKER_PIDS# }"
trap - ERR

cat <<TXT
$WORKERS worker(s) started on pool $POOL (PID $WORKER_PID); server PID $SERVER_PID. PIDs: $PID_FILE

Prefect UI:  http://$HOST:$PORT
Run a month by hand:
  PREFECT_API_URL=$PREFECT_API_URL $PREFECT deployment run 'monthly-run/monthly' -p period=2023-11
Redo a fiscal year:
  PREFECT_API_URL=$PREFECT_API_URL $PREFECT deployment run 'fiscal-year-rerun/fiscal-year-rerun' -p fiscal_year=2023
Stop everything: make stop
TXT
