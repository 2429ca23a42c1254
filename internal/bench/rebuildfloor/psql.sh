#!/bin/sh
S=$1; shift
psql -h $S/pg/run -U dxledger -d $(psql -h $S/pg/run -U dxledger -d postgres -Atc "select datname from pg_database where datname not in ('postgres','template0','template1') limit 1") "$@"
