#!/usr/bin/env bash
# Where an append's time goes, server-side: the raw baseline insert, a bare insert into the store's
# events table, and the store's append function, each by pgbench on the same server.
# Usage: bench/decompose/run.sh <libpq URL of a server where you may create databases>
set -euo pipefail
url=${1:?usage: $0 postgres://user@host/postgres}
here=$(cd "$(dirname "$0")" && pwd)
base=${url%%\?*}; query=${url#"$base"}
db() { echo "${base%/*}/$1$query"; }
for name in decompose_baseline decompose_store; do
  psql -q "$url" -c "drop database if exists $name" -c "create database $name"
done
psql -q "$(db decompose_baseline)" -f "$here/../schema.sql"
psql -q "$(db decompose_store)" -f "$here/../../migrations/0001_event_store.sql"
for clients in 1 4; do
  printf 'clients %s  baseline insert:      ' "$clients"
  pgbench -n -M prepared -c "$clients" -j 2 -T 10 -f "$here/../append1.sql" "$(db decompose_baseline)" | grep -o 'tps = [0-9.]*'
  printf 'clients %s  insert into events:   ' "$clients"
  pgbench -n -M prepared -c "$clients" -j 2 -T 10 -f "$here/events-insert.sql" "$(db decompose_store)" | grep -o 'tps = [0-9.]*'
  printf 'clients %s  eventstore_append():  ' "$clients"
  pgbench -n -M prepared -c "$clients" -j 2 -T 10 -f "$here/append-function.sql" "$(db decompose_store)" | grep -o 'tps = [0-9.]*'
done
