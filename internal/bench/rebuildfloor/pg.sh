#!/bin/sh
# start|stop the embedded cluster of a store for inspection: $1 = start|stop, $2 = store dir.
# Same settings as the product gives its cluster (internal/pgcluster storeSettings), so a floor
# measured here is measured on the rebuild's own terms.
D=$2/pg
case $1 in
start) su postgres -s /bin/sh -c "pg_ctl start -w -D $D/data -l $D/postgres.log -o \"-c listen_addresses= -c unix_socket_directories=$D/run -c fsync=on -c max_connections=200 -c shared_buffers=512MB -c huge_pages=off -c checkpoint_timeout=15min -c max_wal_size=4GB -c wal_compression=on -c bgwriter_delay=50ms -c bgwriter_lru_maxpages=400\"" ;;
stop) su postgres -s /bin/sh -c "pg_ctl stop -w -D $D/data -m fast" ;;
esac
