#!/bin/sh
# floor.sh STORE [DIR]: PostgreSQL's own floor for a rebuild, generated from what the store holds.
# Exports every projection table (pj_*) of a rebuilt store as binary COPY files into DIR
# (default /work/stores/rebuild-floor), and writes DIR/floor.sql, which loads them back with
# psql alone — empty tables LIKE the live ones, one COPY each, the same indexes built
# CONCURRENTLY, VACUUM (ANALYZE) of each — so no Go work is in the timing. It follows whatever
# tables and indexes the store has (stop 21's fixed floor.sql and export.sh named tables that
# migrations 00041 and 00053 dropped, and are gone).
# Then, in the lock:  psql.sh STORE -f DIR/floor.sql   (\timing per statement; pg.sh start first)
set -e
S=$1; D=${2:-/work/stores/rebuild-floor}; P="$(dirname "$0")/psql.sh"
mkdir -p "$D" && chown postgres "$D"
T=$("$P" "$S" -Atc "select c.relname from pg_class c join pg_namespace n on n.oid=c.relnamespace
  where n.nspname='public' and c.relkind='r' and c.relname like 'pj\_%' and c.reltuples > 0 order by 1")
{
  printf '%s\n' '\timing on'
  echo "set maintenance_work_mem = '256MB';  -- as the rebuild's connection (projections/projector/runner.go)"
  echo 'drop schema if exists floor cascade; create schema floor;'
  for t in $T; do echo "create table floor.$t (like public.$t including all excluding indexes);"; done
  echo 'select clock_timestamp() as load_start;'
  for t in $T; do echo "copy floor.$t from '$D/$t.bin' (format binary);"; done
  echo 'select clock_timestamp() as index_start;'
  for t in $T; do
    "$P" "$S" -Atc "select replace(indexdef, 'INDEX ', 'INDEX CONCURRENTLY ') || ';' from pg_indexes
      where schemaname='public' and tablename='$t'" | sed 's/ ON public\./ ON floor./'
  done
  echo 'select clock_timestamp() as vacuum_start;'
  for t in $T; do echo "vacuum (analyze) floor.$t;"; done
  echo 'select clock_timestamp() as end_;'
  echo 'drop schema floor cascade;'
} > "$D/floor.sql"
for t in $T; do "$P" "$S" -qc "copy public.$t to '$D/$t.bin' (format binary)"; done
echo "$D/floor.sql: $(echo $T | wc -w) tables"
