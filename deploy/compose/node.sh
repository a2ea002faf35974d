#!/bin/sh
# Entrypoint of one Quanze node in the four-tier compose federation (compose.yaml).
#
# First start: the province makes itself the root of trust; every other node waits for the
# invite its parent leaves in the shared invites directory, then joins with it. Every start:
# serve, wait until the node answers, then write a one-time invite for each child named in
# NODE_CHILDREN that has none yet. SIGTERM is passed on to the node, which drains and stops.
#
# Environment:
#   NODE_TIER, NODE_DIVISION, NODE_NAME   this node (province | city | county | township)
#   NODE_CHILDREN   children to invite, space separated: tier:division:name (names without spaces)
#   NODE_HOST       the host name the children reach this node at (default: hostname)
#   NODE_PORT       the HTTPS port (default 7443)
#   INVITES_DIR     directory shared with the children (default /invites)
#   QUANZE_DATA_DIR the data directory (default /var/lib/quanze)
#   QUANZE_DATABASE_URL  postgres://… for a PostgreSQL node; unset: SQLite in the data directory
#   QUANZE_BIN      the quanze binary (default: quanze on PATH)
#
# The invites directory holds one-time join tokens: it stands in for the secure channel (a
# letter, a phone call) that carries an invite between two real offices.
set -eu

: "${NODE_TIER:?NODE_TIER is required}"
: "${NODE_DIVISION:?NODE_DIVISION is required}"
: "${NODE_NAME:?NODE_NAME is required}"
QUANZE_DATA_DIR=${QUANZE_DATA_DIR:-/var/lib/quanze}
export QUANZE_DATA_DIR
NODE_HOST=${NODE_HOST:-$(hostname)}
NODE_PORT=${NODE_PORT:-7443}
INVITES_DIR=${INVITES_DIR:-/invites}
QUANZE_BIN=${QUANZE_BIN:-quanze}
NODE_CHILDREN=${NODE_CHILDREN:-}
# Client commands reach the node on loopback, whatever the listen address.
QUANZE_NODE_URL="https://127.0.0.1:$NODE_PORT"
export QUANZE_NODE_URL

log() {
    echo "[quanze-node $NODE_DIVISION] $*" >&2
}

# Wait up to $2 seconds for a file to appear.
wait_for_file() {
    waited=0
    while [ ! -s "$1" ]; do
        [ "$waited" -lt "$2" ] || { log "gave up waiting for $1"; return 1; }
        sleep 1
        waited=$((waited + 1))
    done
}

if [ ! -f "$QUANZE_DATA_DIR/quanze.toml" ]; then
    if [ "$NODE_TIER" = province ]; then
        log "creating the province, root of trust"
        "$QUANZE_BIN" init --tier province --division "$NODE_DIVISION" --name "$NODE_NAME" \
            --listen "0.0.0.0:$NODE_PORT" --public-url "https://$NODE_HOST:$NODE_PORT" --san "$NODE_HOST"
    else
        invite_file="$INVITES_DIR/$NODE_DIVISION.invite"
        log "waiting for the parent's invite in $invite_file"
        wait_for_file "$invite_file" 600
        log "joining the federation"
        "$QUANZE_BIN" init --join "$(tail -n 1 "$invite_file")" \
            --listen "0.0.0.0:$NODE_PORT" --public-url "https://$NODE_HOST:$NODE_PORT" --san "$NODE_HOST"
        rm -f "$invite_file"
    fi
fi

"$QUANZE_BIN" serve &
node_pid=$!
stopping=no
trap 'stopping=yes; kill -TERM "$node_pid" 2>/dev/null' TERM INT

ready=no
for _ in $(seq 1 120); do
    if "$QUANZE_BIN" status >/dev/null 2>&1; then
        ready=yes
        break
    fi
    kill -0 "$node_pid" 2>/dev/null || break
    sleep 1
done
if [ "$ready" != yes ] && [ "$stopping" = yes ]; then
    # Asked to stop before the first status answered: a requested stop, not a failure.
    status=0
    wait "$node_pid" || status=$?
    exit "$status"
fi
if [ "$ready" != yes ]; then
    log "the node did not come up"
    kill -TERM "$node_pid" 2>/dev/null || true
    wait "$node_pid" || true
    exit 1
fi
log "serving on https://$NODE_HOST:$NODE_PORT"

for child in $NODE_CHILDREN; do
    tier=${child%%:*}
    rest=${child#*:}
    division=${rest%%:*}
    name=${rest#*:}
    # A child that has joined appears in this node's status; invite only the others, once.
    if "$QUANZE_BIN" status 2>/dev/null | grep -q "^  $division "; then
        continue
    fi
    [ -s "$INVITES_DIR/$division.invite" ] && continue
    log "inviting $name ($division, $tier)"
    "$QUANZE_BIN" child invite --division "$division" --tier "$tier" --name "$name" \
        >"$INVITES_DIR/.$division.invite.tmp"
    mv "$INVITES_DIR/.$division.invite.tmp" "$INVITES_DIR/$division.invite"
done

# `wait` returns early when a trapped signal arrives; wait again for the node's own exit code.
status=0
wait "$node_pid" || status=$?
if kill -0 "$node_pid" 2>/dev/null; then
    status=0
    wait "$node_pid" || status=$?
fi
exit "$status"
