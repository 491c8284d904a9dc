#!/usr/bin/env bash
# The database's own ceiling for signatures: pgbench with a one-row insert shaped like the signature
# table, and with the sign view's whole transaction, at 4 and 16 clients for SECONDS each.
#   bench/pgbench/run.sh [postgres://campaign:campaign@127.0.0.1:5432/campaign_pgbench] [seconds]
set -euo pipefail
cd "$(dirname "$0")"
url=${1:-postgres://campaign:campaign@127.0.0.1:5432/campaign_pgbench}
seconds=${2:-20}
name=${url##*/}
psql "${url%/*}/postgres" -qc "DROP DATABASE IF EXISTS \"$name\" WITH (FORCE)" -c "CREATE DATABASE \"$name\""
psql "$url" -q -f schema.sql
for script in insert sign; do
  for clients in 4 16; do
    tps=$(pgbench -n -c "$clients" -j 2 -T "$seconds" -f "$script.sql" "$url" 2>/dev/null \
      | sed -n 's/^tps = \([0-9.]*\).*/\1/p')
    echo "$script clients=$clients tps=$tps"
  done
done
psql "$url" -Atc "SHOW synchronous_commit" -c "SHOW fsync" | paste -sd' ' | sed 's/^/synchronous_commit fsync: /'
