#!/bin/sh
# start|stop the embedded cluster of a store for inspection: $1 = start|stop, $2 = store dir
D=$2/pg
case $1 in
start) su postgres -s /bin/sh -c "pg_ctl start -w -D $D/data -l $D/postgres.log -o \"-c listen_addresses= -c unix_socket_directories=$D/run -c fsync=on -c max_connections=200\"" ;;
stop) su postgres -s /bin/sh -c "pg_ctl stop -w -D $D/data -m fast" ;;
esac
