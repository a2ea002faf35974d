#!/usr/bin/env bash
# Runs the compose federation's entrypoint (node.sh) for all four tiers on loopback, without
# containers: the province on PostgreSQL, the others on SQLite, each joining with the invite its
# parent leaves in a shared directory. Passes when every parent lists its child, the township's
# log reaches the province, and every node stops cleanly on SIGTERM.
#
# Usage: deploy/compose/smoke.sh [path/to/quanze]
# Needs QUANZE_TEST_DATABASE_URL (postgres://user:pass@host:port/db, a role that may create
# databases); the province gets a fresh database quanze_compose_smoke beside it.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
bin=$(realpath "${1:-$here/../../target/debug/quanze}")
[ -x "$bin" ] || { echo "error: no quanze binary at $bin" >&2; exit 1; }
: "${QUANZE_TEST_DATABASE_URL:?set QUANZE_TEST_DATABASE_URL to a PostgreSQL URL}"

work=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/invites"

# A fresh database for the province, next to the one in QUANZE_TEST_DATABASE_URL.
base=${QUANZE_TEST_DATABASE_URL%/*}
admin_url=$QUANZE_TEST_DATABASE_URL
psql -X -q -v ON_ERROR_STOP=1 "$admin_url" -c "DROP DATABASE IF EXISTS quanze_compose_smoke WITH (FORCE)"
psql -X -q -v ON_ERROR_STOP=1 "$admin_url" -c "CREATE DATABASE quanze_compose_smoke"
province_db="$base/quanze_compose_smoke"

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start TIER DIVISION NAME CHILDREN [DATABASE_URL]
start() {
    local port
    port=$(free_port)
    echo "$port" >"$work/$2.port"
    (
        export NODE_TIER=$1 NODE_DIVISION=$2 NODE_NAME=$3 NODE_CHILDREN=$4
        export NODE_HOST=127.0.0.1 NODE_PORT=$port INVITES_DIR="$work/invites"
        export QUANZE_DATA_DIR="$work/$2" QUANZE_BIN="$bin" QUANZE_LOG=warn
        if [ -n "${5:-}" ]; then export QUANZE_DATABASE_URL=$5; fi
        exec "$here/node.sh"
    ) >"$work/$2.log" 2>&1 &
    pids+=($!)
}

status_of() {
    QUANZE_DATA_DIR="$work/$1" QUANZE_NODE_URL="https://127.0.0.1:$(cat "$work/$1.port")" "$bin" status 2>/dev/null
}

# wait_for WHAT SECONDS COMMAND…
wait_for() {
    local what=$1 limit=$2
    shift 2
    for _ in $(seq 1 "$limit"); do
        if "$@"; then echo "ok: $what"; return 0; fi
        sleep 1
    done
    echo "error: timed out waiting for: $what" >&2
    for f in "$work"/*.log; do echo "--- $f"; tail -n 20 "$f"; done >&2
    exit 1
}

lists_child() { status_of "$1" | grep -q "^  $2 "; }
# holds_log NODE ORIGIN SEQ: NODE holds ORIGIN's log up to #SEQ ("  510521100 #3 …" in status).
holds_log() { status_of "$1" | awk -v o="$2" -v s="#$3" '$1 == o && $2 == s { found = 1 } END { exit !found }'; }

start province 510000 四川省 "city:510500:泸州市" "$province_db"
start city 510500 泸州市 "county:510521:泸县"
start county 510521 泸县 "township:510521100:福集镇"
start township 510521100 福集镇 ""

wait_for "四川省 lists 泸州市" 180 lists_child 510000 510500
wait_for "泸州市 lists 泸县" 180 lists_child 510500 510521
wait_for "泸县 lists 福集镇" 180 lists_child 510521 510521100

wait_for "福集镇 serves" 120 status_of 510521100 >/dev/null

# The township writes one item; its log travels up to the province.
QUANZE_DATA_DIR="$work/510521100" QUANZE_NODE_URL="https://127.0.0.1:$(cat "$work/510521100.port")" \
    "$bin" item add --code CF00122001 --name 对未取得食品经营许可从事食品经营活动的处罚 \
    --category 行政处罚 --basis "《中华人民共和国食品安全法》第一百二十二条" \
    --body 福集镇人民政府 >/dev/null
seq=$(status_of 510521100 | awk '$1 == "510521100" { sub("#", "", $2); print $2 }')
[ -n "$seq" ] || { echo "error: 福集镇 does not list its own log" >&2; exit 1; }
wait_for "四川省 holds 福集镇's log to #$seq" 180 holds_log 510000 510521100 "$seq"

for pid in "${pids[@]}"; do kill -TERM "$pid"; done
for pid in "${pids[@]}"; do
    if ! wait "$pid"; then
        echo "error: a node did not stop cleanly" >&2
        for f in "$work"/*.log; do echo "--- $f"; tail -n 20 "$f"; done >&2
        exit 1
    fi
done
pids=()
echo "compose smoke test passed: four tiers joined, the township's log reached the province"
