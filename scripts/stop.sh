#!/usr/bin/env bash
# Stop what scripts/serve.sh (`make serve`) started, and nothing else: the PIDs it recorded in
# $URBANREPORT_HOME/prefect/serve.pids, their process groups and their descendants (flow runs
# the worker launched). The worker goes first: a worker whose server vanished keeps retrying and
# logging errors, and a flow run cut off from its server cannot record its final state.
set -euo pipefail

PROJECT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HOME_DIR="${URBANREPORT_HOME:-$PROJECT_DIR/var}"
PID_FILE="$HOME_DIR/prefect/serve.pids"
GRACE_SECONDS="${URBANREPORT_STOP_GRACE_SECONDS:-20}"
REPEAT_AFTER_SECONDS=5

if [ ! -f "$PID_FILE" ]; then
    echo "Nothing to stop (no $PID_FILE)."
    exit 0
fi

alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }

# All descendants of a PID (children first found, then theirs), from one `ps` snapshot.
descendants() {
    ps -e -o pid=,ppid= | awk -v root="$1" '
        { parent[$1] = $2 }
        END {
            for (p in parent) {
                q = parent[p]
                while (q != "" && q != 0 && q != 1) {
                    if (q == root) { print p; break }
                    q = parent[q]
                }
            }
        }'
}

# Only signal a PID that still runs a prefect command: a PID recorded before a reboot may have
# been reused by an unrelated process.
is_ours() {
    alive "$1" && tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -q prefect
}

stop_one() {
    local name=$1 pid=$2
    if ! is_ours "$pid"; then
        echo "$name (PID $pid) is not running."
        return 0
    fi
    local pids
    pids="$pid $(descendants "$pid" | tr '\n' ' ')"
    echo "Stopping $name (PID $pid)"
    # The process group first (setsid made the PID its leader), then any descendant that moved
    # to a session of its own.
    kill -TERM -- "-$pid" 2>/dev/null || true
    # shellcheck disable=SC2086
    kill -TERM $pids 2>/dev/null || true
    local repeat_at=$((SECONDS + REPEAT_AFTER_SECONDS)) deadline=$((SECONDS + GRACE_SECONDS)) left
    while :; do
        left=""
        for p in $pids; do alive "$p" && left="$left $p"; done
        [ -z "$left" ] && break
        if [ "$repeat_at" -gt 0 ] && [ "$SECONDS" -ge "$repeat_at" ]; then
            # A Prefect worker that has run a flow may sit on the first signal; a second one
            # makes it kill itself (Prefect's own escalation).
            kill -TERM "$pid" 2>/dev/null || true
            repeat_at=0
        fi
        if [ "$SECONDS" -ge "$deadline" ]; then
            echo "$name did not stop within ${GRACE_SECONDS}s; killing:$left"
            kill -KILL -- "-$pid" 2>/dev/null || true
            # shellcheck disable=SC2086
            kill -KILL $left 2>/dev/null || true
            break
        fi
        sleep 0.2
    done
}

for name in worker server; do
    while read -r entry pid; do
        if [ "$entry" = "$name" ]; then
            stop_one "$name" "$pid"
        fi
    done <"$PID_FILE"
done
rm -f "$PID_FILE"
echo "Stopped."
