#!/usr/bin/env bash
# Recovery time after kill -9 of a node holding many item rows (BENCHMARKS.md, "Recovery after
# kill -9"). Builds a county node with `quanze bench ingest` (N item.add ops, BATCH per entry,
# the real signing and write path), serves it, kills it with SIGKILL in the middle of a large
# import, then times: restart → /healthz answers → a list page answers, and `quanze log verify`
# (offline, every entry's hash, signature and chain).
#
# Usage: deploy/bench-recovery.sh [N=1000000] [BATCH=1000] [DIR]
#   QUANZE_BIN — the binary (default target/release/quanze; build it with
#   `cargo build --release -p quanze-node --bin quanze`).
set -euo pipefail
N=${1:-1000000}
BATCH=${2:-1000}
WORK=${3:-$(mktemp -d)}
BIN=${QUANZE_BIN:-target/release/quanze}
DIR="$WORK/node"
PORT=$(( 20000 + RANDOM % 20000 ))
URL="https://127.0.0.1:$PORT"
export QUANZE_LOG=warn

now() { date +%s.%N; }
since() { echo "$(now) - $1" | bc; }
curl_node() { curl -s --cacert "$DIR/tls/cert.pem" -H "Authorization: Bearer $(cat "$DIR/operator.token")" "$@"; }
wait_healthy() { until curl -s -o /dev/null -f --cacert "$DIR/tls/cert.pem" "$URL/healthz"; do sleep 0.02; done; }

echo "building a node with $N item rows ($BATCH per entry) in $DIR" >&2
t=$(now)
"$BIN" bench ingest --ops "$N" --batch "$BATCH" --dir "$DIR" >/dev/null
echo "built in $(since "$t") s; database $(du -sh "$DIR" | cut -f1)" >&2

"$BIN" serve --data-dir "$DIR" --listen "127.0.0.1:$PORT" >/dev/null 2>&1 &
PID=$!
wait_healthy

# A large write in flight: an import of 2 000 rows (one entry), killed 0.3 s after it starts.
CSV="$WORK/import.csv"
echo "事项编码,事项名称,职权类别,设定依据,实施主体,法定办结时限,承诺办结时限" >"$CSV"
for i in $(seq 0 1999); do
  printf 'XK9%04d000,公共场所卫生许可（第%d项）,行政许可,《公共场所卫生管理条例》第八条,泸县卫生健康局,20,15\n' "$i" "$i" >>"$CSV"
done
curl_node -o /dev/null -X POST -H 'Content-Type: text/csv' --data-binary "@$CSV" "$URL/api/v1/import?format=csv" &
sleep 0.3
kill -9 "$PID"
wait "$PID" 2>/dev/null || true
echo "killed with SIGKILL during an import" >&2

t=$(now)
"$BIN" serve --data-dir "$DIR" --listen "127.0.0.1:$PORT" >/dev/null 2>&1 &
PID=$!
wait_healthy
healthy=$(since "$t")
curl_node -f -o /dev/null "$URL/api/v1/items?limit=50"
listed=$(since "$t")
kill -TERM "$PID"
wait "$PID" 2>/dev/null || true

t=$(now)
"$BIN" log verify --offline --data-dir "$DIR" >/dev/null
verified=$(since "$t")
printf 'rows %s  entries %s  restart→healthz %.2f s  restart→list page %.2f s  log verify %.2f s\n' \
  "$N" "$(( (N + BATCH - 1) / BATCH ))" "$healthy" "$listed" "$verified"
