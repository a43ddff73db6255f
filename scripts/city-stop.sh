#!/usr/bin/env bash
# `make city-stop`: stop what `make city-demo` started, and nothing else: the Prefect server and
# workers recorded in $URBANREPORT_HOME/prefect/serve.pids (scripts/stop.sh), then the
# PostgreSQL cluster of $URBANREPORT_HOME/postgres (by its postmaster.pid, scripts/postgres.sh).
# The data, the lake, the reports and the configuration stay.
set -euo pipefail

PROJECT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HOME_DIR="${URBANREPORT_HOME:-$PROJECT_DIR/var}"
export URBANREPORT_HOME="$HOME_DIR"

"$PROJECT_DIR/scripts/stop.sh"
if [ -f "$HOME_DIR/postgres/data/postmaster.pid" ]; then
    "$PROJECT_DIR/scripts/postgres.sh" stop "$HOME_DIR/postgres"
    echo "Stopped PostgreSQL ($HOME_DIR/postgres)."
else
    echo "PostgreSQL of $HOME_DIR/postgres is not running."
fi
