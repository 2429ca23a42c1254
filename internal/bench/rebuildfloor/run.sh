#!/bin/sh
# One timed run: uptime, bench read (1M events), then a rebuild with binary $1, same store, one lock.
B=$1; S=/work/stores/rebuild-a; tag=$2
exec flock /work/bench.lock sh -c "
echo \"== $tag \$(date -u +%H:%M:%S) \$(uptime | sed 's/.*load/load/')\"
/work/bin/rebuild-dxledger bench read --data-dir $S --events 1000000 2>/dev/null | grep -i 'events/s\|read' | head -3
/usr/bin/time -v $B rebuild --data-dir $S 2>/work/stores/rebuild-$tag.err
grep -E 'Elapsed|Maximum resident|User time|System time' /work/stores/rebuild-$tag.err
"
