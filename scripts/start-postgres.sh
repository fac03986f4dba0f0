#!/usr/bin/env bash
# Start a private PostgreSQL cluster for the registry tests and benchmark.
#
# It listens on 127.0.0.1 only, on its own port, with its own data directory, so it clashes
# neither with a system cluster nor with another checkout. Idempotent: a second run finds the
# cluster running and only prints the URL. Runs as root (CI: the server runs as `postgres`) or
# as an ordinary user who owns the data directory.
#
#   eval "$(scripts/start-postgres.sh)"      # exports PLAINCLAIM_TEST_PG_URL
#   scripts/start-postgres.sh --stop
#
# Settings (environment): PLAINCLAIM_PG_PORT (54329), PLAINCLAIM_PG_DATA
# (/var/tmp/plainclaim-pg-$PORT). The role and database are both `plainclaim`, password
# `plainclaim`: a throwaway test credential, reachable from this machine only.
set -euo pipefail

port="${PLAINCLAIM_PG_PORT:-54329}"
data="${PLAINCLAIM_PG_DATA:-/var/tmp/plainclaim-pg-${port}}"
name=plainclaim
url="postgresql+psycopg://${name}:${name}@127.0.0.1:${port}/${name}"

log() { echo "start-postgres: $*" >&2; }

find_bindir() {
    # Debian keeps the server binaries out of PATH, one directory per major version.
    local dir
    dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
    if [[ -n "$dir" && -x "$dir/postgres" ]]; then
        echo "$dir"
    elif command -v pg_ctl >/dev/null && command -v initdb >/dev/null; then
        dirname "$(command -v pg_ctl)"
    fi
}

bindir="$(find_bindir)"
if [[ -z "$bindir" ]]; then
    if [[ $EUID -ne 0 ]]; then
        log "PostgreSQL is not installed; run as root or: apt-get install -y postgresql"
        exit 1
    fi
    log "installing PostgreSQL"
    # policy-rc.d 101: do not let the package start (or fail to start) its default cluster.
    created_policy=0
    if [[ ! -e /usr/sbin/policy-rc.d ]]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod +x /usr/sbin/policy-rc.d
        created_policy=1
    fi
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >&2
    [[ $created_policy -eq 1 ]] && rm -f /usr/sbin/policy-rc.d
    bindir="$(find_bindir)"
fi

# As root, the cluster belongs to `postgres` (the server refuses to run as root).
as_owner() {
    if [[ $EUID -eq 0 ]]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

if [[ "${1:-}" == "--stop" ]]; then
    if [[ -f "$data/postmaster.pid" ]]; then
        as_owner "$bindir/pg_ctl" -D "$data" -m fast -w stop >&2
    fi
    exit 0
fi

if [[ ! -f "$data/PG_VERSION" ]]; then
    log "creating cluster in $data"
    rm -rf "$data"
    mkdir -p "$data"
    [[ $EUID -eq 0 ]] && chown postgres: "$data"
    chmod 700 "$data"
    # Local socket: trust, but the socket lives in the 0700 data directory, so only the owner
    # (and root) can reach it. TCP: password (scram-sha-256) only.
    as_owner "$bindir/initdb" -D "$data" -U postgres -E UTF8 --locale=C.UTF-8 \
        --auth-local=trust --auth-host=scram-sha-256 >/dev/null
    cat >>"$data/postgresql.conf" <<EOF
# plainclaim test cluster
listen_addresses = '127.0.0.1'
port = ${port}
unix_socket_directories = '${data}'
max_connections = 50
shared_buffers = 64MB
EOF
fi

# A data directory left by an earlier run may belong to a postgres user since re-created with
# another uid (a reinstalled server package): give it back before starting.
if [[ $EUID -eq 0 && "$(stat -c %U "$data")" != postgres ]]; then
    chown -R postgres: "$data"
fi

if ! as_owner "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    log "starting on 127.0.0.1:${port}"
    # A stale pid file after a hard stop is handled by pg_ctl; -w waits until it accepts.
    as_owner "$bindir/pg_ctl" -D "$data" -l "$data/server.log" -w -t 60 start >/dev/null
fi

psql_admin() {
    as_owner "$bindir/psql" -h "$data" -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 \
        -qtAX "$@"
}

if [[ "$(psql_admin -c "SELECT 1 FROM pg_roles WHERE rolname = '${name}'")" != 1 ]]; then
    psql_admin -c "CREATE ROLE ${name} LOGIN PASSWORD '${name}'"
fi
if [[ "$(psql_admin -c "SELECT 1 FROM pg_database WHERE datname = '${name}'")" != 1 ]]; then
    psql_admin -c "CREATE DATABASE ${name} OWNER ${name}"
fi

echo "export PLAINCLAIM_TEST_PG_URL=${url}"
