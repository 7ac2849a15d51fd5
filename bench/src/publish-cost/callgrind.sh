#!/bin/sh
# Counts the instructions redis-server spends per EVALSHA of the publish script (deterministic, unlike time on
# a shared machine): a private redis-server under callgrind, the publish-script-cost mix, then the inclusive
# instruction count of evalShaCommand divided by its calls. Usage: callgrind.sh [tasks] (default 100).
set -eu
TASKS=${1:-100}
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=$(mktemp -d)
PORT=$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
valgrind --tool=callgrind --callgrind-out-file="$OUT/cg.out" redis-server --port "$PORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$OUT" >"$OUT/redis.log" 2>&1 &
VG=$!
trap 'kill $VG 2>/dev/null || true; rm -rf "$OUT"' EXIT
i=0; until redis-cli -p "$PORT" ping >/dev/null 2>&1; do i=$((i+1)); [ $i -gt 100 ] && { cat "$OUT/redis.log"; exit 1; }; sleep 0.2; done
PUBLISH_COST_REDIS_URL="redis://127.0.0.1:$PORT" npx tsx "$HERE/publish-script-cost.ts" "$TASKS" 1 64 >/dev/null
redis-cli -p "$PORT" shutdown nosave >/dev/null 2>&1 || true
wait $VG || true
CALLS=$(( TASKS * 32 + 1 ))
callgrind_annotate --inclusive=yes "$OUT/cg.out" 2>/dev/null | awk -v calls="$CALLS" '/evalShaCommand/ { gsub(",", "", $1); printf "evalShaCommand: %d instructions per call over %d calls\n", $1 / calls, calls; exit }'
