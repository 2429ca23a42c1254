#!/bin/sh
# Exports the items' tables of a rebuilt store ($1, cluster started with pg.sh) as binary COPY
# files into /work/stores/rebuild-floor, which floor.sql loads back with no Go work
# (BENCHMARKS.md, "Rebuild at the read ceiling"). floor.sql names that directory.
S=$1; mkdir -p /work/stores/rebuild-floor && chown postgres /work/stores/rebuild-floor
for t in pj_delta_buckets pj_group_all_sums pj_group_current pj_group_delta_sums pj_group_deltas pj_group_money \
  pj_group_open_end pj_group_open_sums pj_item_current pj_item_current_money pj_item_facts pj_items pj_money_all_sums \
  pj_money_delta_sums pj_money_deltas pj_money_open_sums; do
  "$(dirname "$0")/psql.sh" "$S" -qc "copy public.$t to '/work/stores/rebuild-floor/$t.bin' (format binary)"
done
