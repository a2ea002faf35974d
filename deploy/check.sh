#!/usr/bin/env bash
# Checks the deployment files: the systemd units (syntax, and a sandbox exposure level of at
# most 2.0 by `systemd-analyze security`, whose threshold counts tenths), the compose file,
# and the compose entrypoint run for real for all four tiers on loopback (compose/smoke.sh).
#
# Usage: deploy/check.sh [path/to/quanze]   (needs systemd-analyze, python3 with PyYAML, psql
# and QUANZE_TEST_DATABASE_URL for the smoke run)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
bin=$(realpath "${1:-$here/../target/debug/quanze}")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for unit in "$here"/systemd/*.service; do
    name=$(basename "$unit")
    # verify checks that ExecStart's program exists: point it at the binary under test.
    sed "s#/usr/local/bin/quanze#$bin#" "$unit" >"$work/$name"
    systemd-analyze verify "$work/$name"
    systemd-analyze security --offline=true --threshold=20 "$work/$name" | tail -n 1
    echo "ok: $name"
done

python3 - "$here/compose/compose.yaml" <<'PY'
import sys, yaml
doc = yaml.safe_load(open(sys.argv[1]))
services = doc["services"]
nodes = [n for n in ("province", "city", "county", "township") if n in services]
assert nodes == ["province", "city", "county", "township"], nodes
assert "QUANZE_DATABASE_URL" in services["province"]["environment"], "the province runs on PostgreSQL"
for n in nodes:
    env = services[n]["environment"]
    assert env["NODE_TIER"] == n, (n, env["NODE_TIER"])
    assert any(v.endswith(":/var/lib/quanze") for v in services[n]["volumes"]), n
print("ok: compose.yaml")
PY
sh -n "$here/compose/node.sh"

"$here/compose/smoke.sh" "$bin"
