#!/usr/bin/env bash
# bench/exports.sh: one CSV export of EXPORT_ROWS content rows by
# adcraft-worker (POST /api/exports, the export job's COPY streamed to a file)
# next to `psql \copy` of the same query to a file, in the same run on the
# same database; with the worker's peak RSS.
#
#   bench/exports.sh [--no-build] [--keep]
#
# Starts a private stack (./dev up --no-build --no-demo in a temp dir, free
# ports, one worker process), registers a user and gives it EXPORT_ROWS
# content items (EXPORT_ROWS / 500 campaigns of 500 items, made in SQL), then:
#   1. baseline: psql \copy (SELECT * FROM export_content(user, '{}', true))
#      TO file (FORMAT csv, HEADER) as the superuser: once to warm the cache,
#      then timed;
#   2. adcraft-worker: POST /api/exports {kind: content, format: csv}, timed
#      from the request to `ready` (polling GET /api/exports/:id every 100 ms),
#      and from the job's start to the export's finish (the database's clock);
#   3. the file the worker wrote must be byte for byte the baseline's.
# Peak RSS: VmHWM of the worker process (/proc/PID/status) after the export.
# Targets (issue #13): worker time <= 1.5x the baseline, peak RSS <= 32 MiB.
#
# Options: --no-build  do not run meson/ninja first
#          --keep      keep the temp dir (dev logs, both files); also kept when
#                      the script fails
# Environment (defaults): EXPORT_ROWS (1000000, a multiple of 500),
#   ADCRAFT_BUILD_DIR (repo/build).
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
# shellcheck source=bench/lib.sh
. "$BENCH_DIR/lib.sh"

EXPORT_ROWS=${EXPORT_ROWS:-1000000}
TARGET_RATIO=1.5 TARGET_RSS_MIB=32
export ADCRAFT_DEV_PROCESSES=${ADCRAFT_DEV_PROCESSES:-2}
export ADCRAFT_DEV_WORKERS=1

bench_options "$@"
[[ $EXPORT_ROWS =~ ^[1-9][0-9]*$ ]] && [ $((EXPORT_ROWS % 500)) -eq 0 ] ||
	die "EXPORT_ROWS must be a positive multiple of 500, got '$EXPORT_ROWS'"

BENCH_TMP=$(mktemp -d /tmp/adcraft-bench-exports.XXXXXX)
chmod 755 "$BENCH_TMP" # the postgres user walks through it to its data dir
FAILED=true

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	stack_down
	if $KEEP || { $FAILED && [ "$rc" -ne 130 ] && [ "$rc" -ne 143 ]; }; then
		say "kept $BENCH_TMP"
	else
		rm -rf "$BENCH_TMP"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

now_ms() { date +%s%3N; }

START=$(date +%s)
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
if $DO_BUILD; then build_tree; fi
[ -x "$BUILD/adcraft-worker" ] || die "$BUILD/adcraft-worker is not built"
stack_up

status=$(api_request POST /api/auth/register \
	'{"email":"bench-exports@example.com","password":"correct horse battery staple","name":"Bench"}')
[ "$status" = 201 ] || die "register: HTTP $status: $(cat "$BENCH_TMP/response.json")"
TOKEN=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["accessToken"])' "$BENCH_TMP/response.json")
USER_ID=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["user"]["id"])' "$BENCH_TMP/response.json")

say "making $EXPORT_ROWS content items ($((EXPORT_ROWS / 500)) campaigns of 500)"
psql_q -c "INSERT INTO campaigns (user_id, name, objective, content)
	SELECT '$USER_ID', 'Campaign ' || g, 'awareness',
	       (SELECT jsonb_agg(jsonb_build_object(
	            'id', gen_random_uuid(), 'contentType', 'social_post', 'platform', 'linkedin',
	            'subjectLine', 'Plan less, do more #' || i,
	            'contentBody', 'Meet the planner that saves you an hour a day, item ' || i || ' of campaign ' || g
	                           || '. Learn more today, and tell a friend.',
	            'callToAction', 'Learn more', 'hashtags', jsonb_build_array('#planning', '#focus'),
	            'qualityScore', 72, 'metadata', jsonb_build_object('generatedBy', 'manual'),
	            'createdAt', now(), 'updatedAt', now()))
	          FROM generate_series(1, 500) AS i)
	  FROM generate_series(1, $((EXPORT_ROWS / 500))) AS g" >/dev/null
psql_q -c "VACUUM ANALYZE campaigns" >/dev/null
ROWS=$(psql_q -c "SELECT count(*) FROM campaign_content WHERE user_id = '$USER_ID'")
[ "$ROWS" = "$EXPORT_ROWS" ] || die "made $ROWS content rows, not $EXPORT_ROWS"

QUERY="SELECT * FROM export_content('$USER_ID'::uuid, '{}'::jsonb, true)"
say "baseline: psql \\copy ($QUERY) (warm-up, then timed)"
psql_q -c "\\copy ($QUERY) TO '$BENCH_TMP/baseline.csv' (FORMAT csv, HEADER)" >/dev/null
t0=$(now_ms)
psql_q -c "SET TimeZone = 'UTC'" -c "SET DateStyle = 'ISO, YMD'" \
	-c "\\copy ($QUERY) TO '$BENCH_TMP/baseline.csv' (FORMAT csv, HEADER)" >/dev/null
BASE_MS=$(($(now_ms) - t0))

read -r WORKER_MASTER <"$ADCRAFT_DEV_DIR/run/worker.pid"
WORKER_CHILD=$(pgrep -P "$WORKER_MASTER" | head -1)
[ -n "$WORKER_CHILD" ] || die "no adcraft-worker child process"
RSS_BEFORE=$(awk '/^VmRSS:/ { print $2 }' "/proc/$WORKER_CHILD/status")

say "adcraft-worker: POST /api/exports {kind: content, format: csv}"
t0=$(now_ms)
status=$(api_request POST /api/exports '{"kind":"content","format":"csv"}' "$TOKEN")
[ "$status" = 202 ] || die "POST /api/exports: HTTP $status: $(cat "$BENCH_TMP/response.json")"
EXPORT_ID=$(json_field id)
# Polled every 100 ms with grep, not a JSON parser: the poller shares the 2 CPUs with what it measures.
while :; do
	status=$(api_request GET "/api/exports/$EXPORT_ID" "" "$TOKEN")
	[ "$status" = 200 ] || die "GET /api/exports/$EXPORT_ID: HTTP $status"
	grep -q '"status" *: *"ready"' "$BENCH_TMP/response.json" && break
	grep -q '"status" *: *"\(queued\|running\)"' "$BENCH_TMP/response.json" ||
		die "the export ended: $(cat "$BENCH_TMP/response.json")"
	[ $(($(now_ms) - t0)) -lt 600000 ] || die "the export did not finish in 10 minutes"
	sleep 0.1
done
WORKER_MS=$(($(now_ms) - t0))
JOB_MS=$(psql_q -c "SELECT round(extract(epoch FROM e.finished_at - j.started_at) * 1000)
	FROM exports e JOIN jobs j ON j.id = e.job_id WHERE e.id = '$EXPORT_ID'")
PEAK_KIB=$(awk '/^VmHWM:/ { print $2 }' "/proc/$WORKER_CHILD/status")
EXPORT_FILE=$ADCRAFT_DEV_DIR/exports/$EXPORT_ID.csv
cmp -s "$EXPORT_FILE" "$BENCH_TMP/baseline.csv" ||
	die "the worker's file differs from psql's ($EXPORT_FILE, $BENCH_TMP/baseline.csv)"
$KEEP && cp "$EXPORT_FILE" "$BENCH_TMP/worker.csv"
BYTES=$(stat -c %s "$EXPORT_FILE")

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", a / b }'; }
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
echo
echo "CSV export of $EXPORT_ROWS content rows, $(fmt_mib $((BYTES / 1024))) ($(nproc) CPUs; load before $LOAD_BEFORE, after $LOAD_AFTER)"
printf '%-52s %12s %12s %8s\n' "what" "time or RSS" "target" "vs base"
printf '%-52s %12s %12s %8s\n' "baseline: psql \\copy of the same query to a file" "$BASE_MS ms" "-" "1.00x"
printf '%-52s %12s %12s %8s\n' "adcraft-worker: POST -> ready (API, queue, COPY)" "$WORKER_MS ms" \
	"<= ${TARGET_RATIO}x" "$(ratio "$WORKER_MS" "$BASE_MS")"
printf '%-52s %12s %12s %8s\n' "  job start -> export finished (db clock)" "$JOB_MS ms" "" "$(ratio "$JOB_MS" "$BASE_MS")"
printf '%-52s %12s %12s %8s\n' "worker process RSS before the export" "$(fmt_mib "$RSS_BEFORE")" "-" "-"
printf '%-52s %12s %12s %8s\n' "worker process peak RSS (VmHWM)" "$(fmt_mib "$PEAK_KIB")" "<= $TARGET_RSS_MIB MiB" "-"
echo "the worker's file is byte for byte psql's ($BYTES bytes)"
bench_result "CSV export, POST to ready, vs psql \\copy" "$WORKER_MS" ms "psql ms" "$BASE_MS" "ratio <= $TARGET_RATIO"
bench_result "export worker peak RSS" "$(awk -v k="$PEAK_KIB" 'BEGIN { printf "%.1f", k / 1024 }')" MiB - - "value <= $TARGET_RSS_MIB"
echo
echo "took $(($(date +%s) - START)) s"
FAILED=false
