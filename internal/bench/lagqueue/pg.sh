#!/bin/sh
# start|stop a store's embedded cluster by hand with serve's settings plus pg_stat_statements: $1 = start|stop, $2 = store dir
D=$2/pg
case $1 in
start) su postgres -s /bin/sh -c "pg_ctl start -w -D $D/data -l $D/postgres.log -o \"-c listen_addresses= -c unix_socket_directories=$D/run -c fsync=on -c synchronous_commit=on -c full_page_writes=on -c max_connections=200 -c shared_buffers=512MB -c huge_pages=off -c checkpoint_timeout=15min -c max_wal_size=4GB -c wal_compression=on -c bgwriter_delay=50ms -c bgwriter_lru_maxpages=400 -c shared_preload_libraries=pg_stat_statements -c track_wal_io_timing=on -c track_io_timing=on -c log_checkpoints=on -c pg_stat_statements.track=all\"" ;;
stop) su postgres -s /bin/sh -c "pg_ctl stop -w -D $D/data -m fast" ;;
esac
