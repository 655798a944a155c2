#!/usr/bin/env bash
# bench/queue.sh: job queue throughput and pickup latency of adcraft-worker,
# next to graphile-worker (from npm, pinned in bench/graphile/) and a raw
# one-job-per-transaction SKIP LOCKED baseline (pgbench), all run by the same
# script on the same PostgreSQL cluster with the same settings.
#
#   bench/queue.sh [--no-build] [--keep] [--pg-stats]
#
# Starts a private stack (./dev up --no-build --no-demo in a temp dir, free
# ports; fsync on, as the dev cluster has it) and stops its worker, then:
#   1. baseline: BASELINE_JOBS noop jobs enqueued, pgbench with BASELINE_CLIENTS
#      clients each claiming one job (UPDATE ... WHERE id = (SELECT ... FOR
#      UPDATE SKIP LOCKED LIMIT 1)) and completing it in a second transaction;
#   2. adcraft-worker: for every WORKER_PROCESSES x WORKER_BATCHES pair,
#      QUEUE_JOBS noop jobs enqueued in one transaction, then the worker
#      started with $DIR/worker.conf; time from its start until the last job
#      is completed (finished rows are kept, as in production);
#   3. graphile-worker 0.18 (bench/graphile/run.mjs, `npm ci` into
#      bench/graphile/node_modules), before each adcraft round and after the last, in
#      its own database of the same cluster: QUEUE_JOBS no-op jobs, one pool
#      tuned as its performance docs say (localQueue.size GRAPHILE_LOCAL_QUEUE,
#      completeJobBatchDelay/failJobBatchDelay GRAPHILE_BATCH_DELAY ms,
#      concurrency GRAPHILE_CONCURRENCY); time from the pool's start until its
#      job table is empty (it deletes completed jobs; adcraft keeps them);
#   4. pickup latency: PICKUP_JOBS sequential jobs into an idle worker, from
#      the enqueue transaction's clock_timestamp() to the job's started_at
#      (both the database server's clock), each completed before the next:
#      first with DEAD_ROWS (200000) dead row versions in jobs, made by
#      DEAD_ROWS/2 jobs inserted, claimed and completed by two UPDATEs (as the
#      worker does) with autovacuum of jobs held off meanwhile (then restored:
#      it runs as configured during the measurement), then again after
#      VACUUM jobs (no dead rows);
#   5. finished jobs kept: RETAINED_JOBS (1000000) completed jobs inserted as
#      production keeps them for job_retention_days, VACUUM (ANALYZE) jobs
#      timed (what every autovacuum of jobs then reads: vacuum_index_cleanup
#      is on), then graphile-worker, adcraft's best configuration once more
#      and graphile-worker again, and pickup latency again: whether claims
#      pay for the finished rows that stay in jobs (issue #14 §3);
# and prints one table: jobs/s or ms, target, ratio to the baseline, and the
# figures for bench/run-all.sh (bench_result): adcraft's best round vs the
# best graphile-worker run (target ratio >= 1.2), pickup median and p99, and
# the same ratio and pickup p99 with RETAINED_JOBS finished jobs kept.
#
# Options: --no-build  do not run meson/ninja first
#          --keep      keep the temp dir (dev logs, worker logs, pgbench
#                      output); it is also kept when the script fails
#          --pg-stats  load pg_stat_statements in the private cluster and
#                      print the statements the worker rounds spent time in
# Environment (defaults): QUEUE_JOBS (20000), PICKUP_JOBS (200),
#   WORKER_PROCESSES ("2 4"), WORKER_BATCHES ("100 500"), BASELINE_CLIENTS (2),
#   PICKUP_PROCESSES (2), BASELINE_JOBS (4000), DEAD_ROWS (200000), RETAINED_JOBS (1000000),
#   GRAPHILE_CONCURRENCY (32),
#   GRAPHILE_LOCAL_QUEUE (500), GRAPHILE_BATCH_DELAY (0), ADCRAFT_BUILD_DIR (repo/build).
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
# shellcheck source=bench/lib.sh
. "$BENCH_DIR/lib.sh"

QUEUE_JOBS=${QUEUE_JOBS:-20000}
PICKUP_JOBS=${PICKUP_JOBS:-200}
WORKER_PROCESSES=${WORKER_PROCESSES:-"2 4"}
WORKER_BATCHES=${WORKER_BATCHES:-"100 500"}
BASELINE_CLIENTS=${BASELINE_CLIENTS:-2}
BASELINE_JOBS=${BASELINE_JOBS:-4000}
PICKUP_PROCESSES=${PICKUP_PROCESSES:-2}
PICKUP_WARMUP=5
DEAD_ROWS=${DEAD_ROWS:-200000}
RETAINED_JOBS=${RETAINED_JOBS:-1000000}
GRAPHILE_CONCURRENCY=${GRAPHILE_CONCURRENCY:-32}
GRAPHILE_LOCAL_QUEUE=${GRAPHILE_LOCAL_QUEUE:-500}
GRAPHILE_BATCH_DELAY=${GRAPHILE_BATCH_DELAY:-0}
QUEUE=analytics-processing
TARGET_RATIO=1.2 TARGET_P50_MS=1 TARGET_P99_MS=5
# The API is not measured here: few processes leave the CPUs to the queue.
export ADCRAFT_DEV_PROCESSES=${ADCRAFT_DEV_PROCESSES:-2}

DO_BUILD=true KEEP=false PG_STATS=false
for arg in "$@"; do
	case $arg in
	--no-build) DO_BUILD=false ;;
	--keep) KEEP=true ;;
	--pg-stats) PG_STATS=true ;;
	-h | --help) sed -n '2,/^set -euo/p' "$0" | sed -e '/^set -euo/d' -e 's/^# \{0,1\}//'; exit 0 ;;
	*) die "unknown option $arg (try --help)" ;;
	esac
done
for v in QUEUE_JOBS PICKUP_JOBS BASELINE_JOBS BASELINE_CLIENTS PICKUP_PROCESSES DEAD_ROWS RETAINED_JOBS GRAPHILE_CONCURRENCY GRAPHILE_LOCAL_QUEUE; do
	[[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive number, got '${!v}'"
done
for v in $WORKER_PROCESSES $WORKER_BATCHES; do
	[[ $v =~ ^[1-9][0-9]*$ ]] || die "WORKER_PROCESSES and WORKER_BATCHES must list positive numbers, got '$v'"
done
[[ $GRAPHILE_BATCH_DELAY =~ ^(-1|0|[1-9][0-9]*)$ ]] || die "GRAPHILE_BATCH_DELAY must be -1 or a number of ms, got '$GRAPHILE_BATCH_DELAY'"
command -v pgbench >/dev/null || die "pgbench is not installed (Debian: postgresql-client-15)"
command -v node >/dev/null && command -v npm >/dev/null || die "node and npm are needed for graphile-worker (Debian: nodejs npm)"

BENCH_TMP=$(mktemp -d /tmp/adcraft-bench-queue.XXXXXX)
chmod 755 "$BENCH_TMP" # the postgres user walks through it to its data dir
WORKER_PID=
FAILED=true

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	worker_stop
	psql_close
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

# ---------------------------------------------------------------- database

PSQL_ARGS=() PSQL_PID='' PSQL_IN='' PSQL_OUT=

# One psql session for the whole run (a process per query would steal CPU
# from what is measured), talked to through two FIFOs so that $(q ...) works
# in subshells too: q SQL prints the first line of the answer.
psql_open() {
	PSQL_ARGS=(-h "$ADCRAFT_DEV_DIR/pg-socket" -p "$ADCRAFT_DEV_PG_PORT" -U postgres -d adcraft)
	rm -f "$BENCH_TMP/psql.in" "$BENCH_TMP/psql.out"
	mkfifo "$BENCH_TMP/psql.in" "$BENCH_TMP/psql.out"
	psql "${PSQL_ARGS[@]}" -XAtq -v ON_ERROR_STOP=1 <"$BENCH_TMP/psql.in" >"$BENCH_TMP/psql.out" 2>&1 &
	PSQL_PID=$!
	exec {PSQL_IN}>"$BENCH_TMP/psql.in" {PSQL_OUT}<"$BENCH_TMP/psql.out"
}

psql_close() {
	[ -n "$PSQL_PID" ] || return 0
	{ echo '\q' >&"$PSQL_IN"; } 2>/dev/null || true
	exec {PSQL_IN}>&- {PSQL_OUT}<&-
	wait "$PSQL_PID" 2>/dev/null || true
	PSQL_PID=
}

q() {
	local line first='' n=0
	printf '%s;\n\\echo @@end\n' "$1" >&"$PSQL_IN"
	while IFS= read -r -t 120 line <&"$PSQL_OUT" || die "psql gave no answer to: $1"; do
		case $line in
		@@end) break ;;
		ERROR:* | FATAL:* | psql:*) die "psql: $line (in: $1)" ;;
		esac
		[ $((n++)) -eq 0 ] && first=$line
	done
	printf '%s\n' "$first"
}

# psql_run SQL: a separate psql, for statements that return several lines.
psql_run() {
	psql "${PSQL_ARGS[@]}" -X -v ON_ERROR_STOP=1 -c "$1"
}

# enqueue N: N noop jobs in one transaction (one INSERT ... SELECT through enqueue()),
# then ANALYZE, outside the timed part, so that every run is planned with the same
# statistics (autovacuum would analyze the table at some unknown point).
enqueue() {
	q "SELECT count(enqueue('$QUEUE', 'noop')) FROM generate_series(1, $1)" >/dev/null
	q "ANALYZE jobs" >/dev/null
}

# 0 when no noop job is queued or running. Through the claim and rescue indexes: a
# count(*) over the growing table would take CPU from the worker being measured.
# (noop only: the stack's worker, stopped just after its start, may have released
# its analytics-partitions job.)
unfinished() {
	q "SELECT (SELECT count(*) FROM (SELECT FROM jobs WHERE state = 'queued' AND kind = 'noop' ORDER BY priority DESC, run_at, id LIMIT 1) AS a)
	        + (SELECT count(*) FROM (SELECT FROM jobs WHERE state = 'running' AND kind = 'noop' ORDER BY heartbeat_at LIMIT 1) AS b)"
}

# ---------------------------------------------------------------- the worker

# worker_start PROCESSES BATCH LOG: adcraft-worker with the stack's worker.conf.
worker_start() {
	ADCRAFT_WORKER_PROCESSES=$1 ADCRAFT_WORKER_BATCH=$2 \
		"$BUILD/adcraft-worker" --config "$ADCRAFT_DEV_DIR/worker.conf" >>"$3" 2>&1 </dev/null &
	WORKER_PID=$!
}

worker_stop() {
	[ -n "$WORKER_PID" ] || return 0
	kill -TERM "$WORKER_PID" 2>/dev/null || true
	wait "$WORKER_PID" 2>/dev/null || true
	WORKER_PID=
}

# The stack's own worker is not this script's child: stop it and wait until it is gone.
stack_worker_stop() {
	local pid i
	read -r pid <"$ADCRAFT_DEV_DIR/run/worker.pid" || die "no $ADCRAFT_DEV_DIR/run/worker.pid"
	kill -TERM "$pid"
	for ((i = 0; i < 150; i++)); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	die "the stack's adcraft-worker (pid $pid) did not stop within 15 s"
}

# ---------------------------------------------------------------- steps

# jobs/s of the raw pattern: one job per transaction to claim, another to complete.
baseline() {
	local per=$((BASELINE_JOBS / BASELINE_CLIENTS)) script=$BENCH_TMP/baseline.sql out=$BENCH_TMP/pgbench.txt
	[ "$per" -gt 0 ] || die "BASELINE_JOBS must be at least BASELINE_CLIENTS"
	cat >"$script" <<-EOF
	UPDATE jobs SET state = 'running', attempts = attempts + 1, locked_by = 'pgbench', heartbeat_at = now(),
	       started_at = coalesce(started_at, now())
	 WHERE id = (SELECT id FROM jobs WHERE state = 'queued' AND run_at <= now() AND queue = '$QUEUE' AND kind = 'noop'
	              ORDER BY priority DESC, run_at, id LIMIT 1 FOR UPDATE SKIP LOCKED)
	RETURNING id \gset
	UPDATE jobs SET state = 'completed', finished_at = now(), locked_by = NULL, heartbeat_at = NULL,
	       result = '{"ok": true}', progress = progress || '{"percent": 100}'
	 WHERE id = :id AND locked_by = 'pgbench';
	EOF
	enqueue $((per * BASELINE_CLIENTS))
	say "baseline: pgbench, $BASELINE_CLIENTS clients x $per jobs, one job per transaction to claim and one to complete"
	pgbench "${PSQL_ARGS[@]}" -n -M prepared -f "$script" -c "$BASELINE_CLIENTS" -j "$BASELINE_CLIENTS" -t "$per" \
		>"$out" 2>&1 || { cat "$out" >&2; die "pgbench failed"; }
	[ "$(unfinished)" = 0 ] || die "pgbench left jobs unfinished"
	BASE_JOBS_S=$(awk '/^tps = / { print $3; exit }' "$out")
	[ -n "$BASE_JOBS_S" ] || { cat "$out" >&2; die "could not read pgbench's tps"; }
}

# worker_round PROCESSES BATCH: sets RATE (jobs/s from the worker's start to the last
# completion) and INNER (jobs/s from its first claim to the last completion).
worker_round() {
	local procs=$1 batch=$2 t0 done0 left n=0 res lsn0 fpi0
	done0=$(q "SELECT count(*) FROM jobs WHERE state = 'completed'")
	enqueue "$QUEUE_JOBS"
	q "CHECKPOINT" >/dev/null # every round starts with the same full-page-image debt
	t0=$(q "SELECT clock_timestamp()")
	lsn0=$(q "SELECT pg_current_wal_lsn()")
	fpi0=$(q "SELECT wal_fpi FROM pg_stat_wal")
	worker_start "$procs" "$batch" "$BENCH_TMP/worker-$procs-$batch.log"
	while left=$(unfinished) && [ "$left" != 0 ]; do
		n=$((n + 1))
		[ "$n" -lt 1200 ] || die "worker $procs x $batch: jobs still unfinished after 60 s"
		sleep 0.05
	done
	worker_stop
	# WAL written by the round, and full-page images (the first change of a page after a
	# checkpoint): the pages a claim and a finish dirty. The worker's backends flushed their
	# statistics when they exited.
	WAL_JOB=$(q "SELECT round(pg_wal_lsn_diff(pg_current_wal_lsn(), '$lsn0') / $QUEUE_JOBS)")
	FPI_JOB=$(q "SELECT round((wal_fpi - $fpi0)::numeric / $QUEUE_JOBS, 3) FROM pg_stat_wal")
	res=$(q "SELECT count(*), count(*) FILTER (WHERE state <> 'completed'),
	                round($QUEUE_JOBS / extract(epoch FROM max(finished_at) - '$t0'::timestamptz)),
	                round($QUEUE_JOBS / extract(epoch FROM max(finished_at) - min(started_at)))
	           FROM jobs WHERE started_at >= '$t0'")
	IFS='|' read -r n left RATE INNER <<<"$res"
	if [ "$n" != "$QUEUE_JOBS" ] || [ "$left" != 0 ]; then
		die "worker $procs x $batch: $n jobs ran, $left not completed (expected $QUEUE_JOBS completed)"
	fi
	[ "$(q "SELECT count(*) FROM jobs WHERE state = 'completed'")" = $((done0 + QUEUE_JOBS)) ] ||
		die "worker $procs x $batch: completed count did not grow by $QUEUE_JOBS"
}

# Pickup latency into an idle worker; sets P50 P90 P99 (ms) and DEAD (dead rows in jobs at the start).
pickup() {
	local i id state started res
	started=$(q "SELECT clock_timestamp()")
	worker_start "$PICKUP_PROCESSES" 100 "$BENCH_TMP/worker-pickup.log"
	for ((i = 0; i < 100; i++)); do
		[ "$(q "SELECT count(*) FROM workers WHERE started_at >= '$started' AND stopped_at IS NULL")" -ge "$PICKUP_PROCESSES" ] && break
		sleep 0.05
	done
	sleep 0.3 # idle: every process is waiting in poll()
	DEAD=$(q "SELECT n_dead_tup FROM pg_stat_user_tables WHERE relid = 'jobs'::regclass")
	q "CREATE TEMP TABLE IF NOT EXISTS pickup (id uuid, enqueued_at timestamptz, warmup bool)" >/dev/null
	q "TRUNCATE pickup" >/dev/null
	for ((i = 0; i < PICKUP_WARMUP + PICKUP_JOBS; i++)); do
		id=$(q "WITH j AS (INSERT INTO pickup SELECT enqueue('$QUEUE', 'noop'), clock_timestamp(), $i < $PICKUP_WARMUP RETURNING id) SELECT id FROM j")
		while state=$(q "SELECT state FROM jobs WHERE id = '$id'") && [ "$state" != completed ]; do
			[ "$state" = queued ] || [ "$state" = running ] || die "pickup job $id ended $state"
			sleep 0.002
		done
	done
	worker_stop
	res=$(q "SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 2),
	                round(percentile_cont(0.9) WITHIN GROUP (ORDER BY ms)::numeric, 2),
	                round(percentile_cont(0.99) WITHIN GROUP (ORDER BY ms)::numeric, 2), count(*)
	           FROM (SELECT extract(epoch FROM j.started_at - p.enqueued_at) * 1000 AS ms
	                   FROM pickup p JOIN jobs j USING (id) WHERE NOT p.warmup) AS x")
	IFS='|' read -r P50 P90 P99 i <<<"$res"
	[ "$i" = "$PICKUP_JOBS" ] || die "pickup: $i of $PICKUP_JOBS jobs measured"
}

# ---------------------------------------------------------------- graphile-worker

GRAPHILE_DIR=$BENCH_DIR/graphile

# npm ci into bench/graphile/node_modules (ignored by git) unless it already
# holds exactly what package-lock.json pins.
graphile_install() {
	if ! cmp -s "$GRAPHILE_DIR/package-lock.json" "$GRAPHILE_DIR/node_modules/.adcraft-lock" 2>/dev/null; then
		say "npm ci in $GRAPHILE_DIR (graphile-worker, pinned)"
		(cd "$GRAPHILE_DIR" && npm ci --no-audit --no-fund --ignore-scripts) >"$BENCH_TMP/npm.log" 2>&1 ||
			{ show_log "$BENCH_TMP/npm.log"; die "npm ci failed in $GRAPHILE_DIR"; }
		cp "$GRAPHILE_DIR/package-lock.json" "$GRAPHILE_DIR/node_modules/.adcraft-lock"
	fi
	GRAPHILE_VERSION=$(node -p 'require(process.argv[1]).version' "$GRAPHILE_DIR/node_modules/graphile-worker/package.json")
	q "CREATE DATABASE graphile" >/dev/null
}

# graphile_round: sets GRATE (jobs/s from the pool's start until its job table is empty).
graphile_round() {
	q "CHECKPOINT" >/dev/null # as before adcraft's rounds
	local url="postgres://postgres@/graphile?host=$ADCRAFT_DEV_DIR/pg-socket&port=$ADCRAFT_DEV_PG_PORT"
	local out=$BENCH_TMP/graphile.txt
	node "$GRAPHILE_DIR/run.mjs" "$url" "$QUEUE_JOBS" "$GRAPHILE_CONCURRENCY" "$GRAPHILE_LOCAL_QUEUE" \
		"$GRAPHILE_BATCH_DELAY" >"$out" 2>&1 </dev/null || { cat "$out" >&2; die "graphile-worker run failed"; }
	GRATE=$(awk '$1 == "jobs_s" { print $2 }' "$out")
	[ -n "$GRATE" ] || { cat "$out" >&2; die "could not read graphile-worker's jobs/s"; }
}

# make_dead_rows: DEAD_ROWS dead row versions in jobs, as the worker leaves them (a job
# inserted queued, claimed, completed), with autovacuum of jobs held off until they exist.
make_dead_rows() {
	local n=$((DEAD_ROWS / 2))
	q "ALTER TABLE jobs SET (autovacuum_enabled = off)" >/dev/null
	q "SELECT count(enqueue('$QUEUE', 'noop', run_at => now() + interval '1 hour')) FROM generate_series(1, $n)" >/dev/null
	q "UPDATE jobs SET state = 'running', attempts = 1, locked_by = 'bench', heartbeat_at = now(), started_at = now()
	    WHERE state = 'queued' AND run_at > now() + interval '50 minutes'" >/dev/null
	q "UPDATE jobs SET state = 'completed', finished_at = now(), locked_by = NULL, heartbeat_at = NULL,
	           result = '{\"ok\": true}' WHERE state = 'running' AND locked_by = 'bench'" >/dev/null
	q "ALTER TABLE jobs RESET (autovacuum_enabled)" >/dev/null
	q "SELECT pg_stat_force_next_flush()" >/dev/null
}

# keep_finished N: N completed noop jobs, as job_retention_days keeps them (the state, times
# and result a worker leaves), in one INSERT; then VACUUM (ANALYZE) jobs, as autovacuum would
# after it, timed into VACUUM_S (every vacuum of jobs reads all of its indexes: 0022).
keep_finished() {
	local t0
	q "INSERT INTO jobs (queue, kind, state, attempts, created_at, run_at, started_at, finished_at, result, progress)
	   SELECT '$QUEUE', 'noop', 'completed', 1, t, t, t, t + interval '2 ms', '{\"ok\": true}',
	          '{\"done\": 0, \"total\": 0, \"percent\": 100}'
	     FROM (SELECT now() - interval '7 days' + i * interval '500 ms' AS t FROM generate_series(1, $1) AS i) AS g" >/dev/null
	t0=$(q "SELECT clock_timestamp()")
	q "VACUUM (ANALYZE) jobs" >/dev/null
	VACUUM_S=$(q "SELECT round(extract(epoch FROM clock_timestamp() - '$t0'::timestamptz)::numeric, 2)")
	KEPT=$(q "SELECT count(*) FROM jobs WHERE finished_at IS NOT NULL")
	JOBS_MB=$(q "SELECT round(pg_total_relation_size('jobs') / 1048576.0)")
}

enable_pg_stats() {
	say "loading pg_stat_statements and auto_explain (plans over 20 ms) in the private cluster (restarts it)"
	q "ALTER SYSTEM SET shared_preload_libraries = pg_stat_statements, auto_explain" >/dev/null
	q "LOAD 'auto_explain'" >/dev/null # makes its settings known to ALTER SYSTEM
	q "ALTER SYSTEM SET auto_explain.log_min_duration = '20ms'" >/dev/null
	q "ALTER SYSTEM SET auto_explain.log_analyze = on" >/dev/null
	q "ALTER SYSTEM SET auto_explain.log_buffers = on" >/dev/null
	q "ALTER SYSTEM SET auto_explain.log_timing = off" >/dev/null
	psql_close
	"$DEV" pg stop >>"$BENCH_TMP/dev-up.log" 2>&1 || die "./dev pg stop failed"
	"$DEV" pg start >>"$BENCH_TMP/dev-up.log" 2>&1 || { show_log "$BENCH_TMP/dev-up.log"; die "./dev pg start failed"; }
	psql_open
	q "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" >/dev/null
}

# print_pg_stats WHAT: the worker's statements since the last reset, by total time.
print_pg_stats() {
	echo
	echo "Statements of $1 (pg_stat_statements, by total time):"
	psql_run "SELECT calls, round(total_exec_time) AS total_ms, round(mean_exec_time::numeric, 3) AS mean_ms,
	                 rows, round(100 * shared_blks_hit::numeric / nullif(shared_blks_hit + shared_blks_read, 0), 1) AS hit_pct,
	                 wal_bytes, left(regexp_replace(query, '\s+', ' ', 'g'), 70) AS query
	            FROM pg_stat_statements WHERE userid = 'adcraft_worker'::regrole
	           ORDER BY total_exec_time DESC LIMIT 8"
}

# ---------------------------------------------------------------- run

START=$(date +%s)
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
if $DO_BUILD; then build_tree; fi
for b in adcraft adcraft-api adcraft-worker; do
	[ -x "$BUILD/$b" ] || die "$BUILD/$b is missing: build first (or drop --no-build)"
done
stack_up
stack_worker_stop
psql_open
$PG_STATS && enable_pg_stats
[ "$(q "SHOW fsync")" = on ] || die "fsync is off in the private cluster: the numbers would not compare"

graphile_install
baseline
say "baseline: $(fmt_int "$BASE_JOBS_S") jobs/s"

GRATES=()
# graphile_turn: one graphile-worker run, between adcraft's rounds (as many runs as they have, plus one).
graphile_turn() {
	say "graphile-worker $GRAPHILE_VERSION: concurrency $GRAPHILE_CONCURRENCY, localQueue $GRAPHILE_LOCAL_QUEUE, batch delay $GRAPHILE_BATCH_DELAY ms, $QUEUE_JOBS jobs"
	graphile_round
	GRATES+=("$GRATE")
	say "  $GRATE jobs/s"
}

$PG_STATS && q "SELECT pg_stat_statements_reset()" >/dev/null
ROWS=() BEST=0
for procs in $WORKER_PROCESSES; do
	for batch in $WORKER_BATCHES; do
		graphile_turn
		say "adcraft-worker: $procs processes, batch $batch, $QUEUE_JOBS jobs"
		worker_round "$procs" "$batch"
		say "  $RATE jobs/s from start ($INNER jobs/s from the first claim); WAL $WAL_JOB bytes, $FPI_JOB full-page images a job"
		ROWS+=("$procs $batch $RATE $INNER $WAL_JOB $FPI_JOB")
		[ "$RATE" -gt "$BEST" ] && BEST=$RATE BEST_WHAT="$procs proc x batch $batch" BEST_PROCS=$procs BEST_BATCH=$batch
	done
done
$PG_STATS && STATS=$(print_pg_stats "the worker rounds") && q "SELECT pg_stat_statements_reset()" >/dev/null

graphile_turn
GBEST=$(printf '%s\n' "${GRATES[@]}" | sort -n | tail -n 1)

say "making $DEAD_ROWS dead rows in jobs ($((DEAD_ROWS / 2)) jobs inserted, claimed and completed by UPDATEs)"
make_dead_rows
say "pickup latency: $PICKUP_JOBS sequential jobs into an idle worker ($PICKUP_PROCESSES processes)"
pickup
PICKUP=("$P50" "$P90" "$P99" "$DEAD")
say "  median $P50 ms, p90 $P90 ms, p99 $P99 ms ($DEAD dead rows in jobs)"
$PG_STATS && STATS+=$(print_pg_stats "the pickup run") && q "SELECT pg_stat_statements_reset()" >/dev/null
# The same once VACUUM has removed the index entries of finished jobs (autovacuum
# would, some time after the rounds): how much of the latency is that.
q "VACUUM jobs" >/dev/null
say "pickup latency again after VACUUM jobs"
pickup
say "  median $P50 ms, p90 $P90 ms, p99 $P99 ms ($DEAD dead rows in jobs)"
$PG_STATS && STATS+=$(print_pg_stats "the pickup run after VACUUM")
KEPT_P=("$P50" "$P90" "$P99" "$DEAD")

# Finished jobs kept: the best configuration again, between two graphile-worker runs.
say "keeping $RETAINED_JOBS finished jobs in jobs (one INSERT), then VACUUM (ANALYZE) jobs"
keep_finished "$RETAINED_JOBS"
say "  $KEPT finished jobs kept, jobs $JOBS_MB MB with its indexes; VACUUM took $VACUUM_S s"
NG=${#GRATES[@]}
graphile_turn
say "adcraft-worker: $BEST_WHAT, $QUEUE_JOBS jobs, $KEPT finished jobs kept"
worker_round "$BEST_PROCS" "$BEST_BATCH"
KEPT_RATE=$RATE KEPT_WAL=$WAL_JOB KEPT_FPI=$FPI_JOB
say "  $RATE jobs/s from start ($INNER jobs/s from the first claim); WAL $WAL_JOB bytes, $FPI_JOB full-page images a job"
graphile_turn
GRATES_KEPT=("${GRATES[@]:NG}")
GRATES=("${GRATES[@]:0:NG}")
GBEST_KEPT=$(printf '%s\n' "${GRATES_KEPT[@]}" | sort -n | tail -n 1)
say "pickup latency with $KEPT finished jobs kept"
pickup
say "  median $P50 ms, p90 $P90 ms, p99 $P99 ms ($DEAD dead rows in jobs)"
if $PG_STATS; then
	# auto_explain's plans of the worker's statements slower than 20 ms: the first one of each kind.
	SLOW=$(awk '/^20[0-9][0-9]-/ { if (keep && !seen[key]++) printf "%s", buf
	                                buf = ""; key = ""; keep = $0 ~ /adcraft_worker@adcraft LOG:  duration: / }
	            keep { buf = buf $0 "\n"; if (key == "" && $0 ~ /Query Text:/) key = substr($0, index($0, "Query Text:") + 12, 40) }
	            END { if (keep && !seen[key]++) printf "%s", buf }' "$ADCRAFT_DEV_DIR/log/pg.log" | head -c 8000)
	cp "$ADCRAFT_DEV_DIR/log/pg.log" "$BENCH_TMP/pg.log"
fi

LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
echo
echo "Job queue, $QUEUE_JOBS noop jobs per run, fsync on, finished rows kept ($(nproc) CPUs; load before $LOAD_BEFORE, after $LOAD_AFTER)"
printf '%-50s %14s %12s %8s\n' "what" "jobs/s or ms" "target" "vs base"
printf '%-50s %14s %12s %8s\n' "baseline: pgbench x$BASELINE_CLIENTS, 1 job/tx claim + 1 complete" \
	"$(fmt_int "$BASE_JOBS_S")/s" "-" "1.00x"
for rate in "${GRATES[@]}"; do
	printf '%-50s %14s %12s %8s\n' "graphile-worker $GRAPHILE_VERSION (c$GRAPHILE_CONCURRENCY, lq $GRAPHILE_LOCAL_QUEUE, delay $GRAPHILE_BATCH_DELAY)" \
		"$rate/s" "-" "$(awk -v a="$rate" -v b="$BASE_JOBS_S" 'BEGIN { printf "%.2fx", a / b }')"
done
for row in "${ROWS[@]}"; do
	read -r procs batch rate inner wal fpi <<<"$row"
	printf '%-50s %14s %12s %8s\n' "adcraft-worker ${procs} proc x batch $batch (start->done)" "$rate/s" \
		"-" "$(awk -v a="$rate" -v b="$BASE_JOBS_S" 'BEGIN { printf "%.2fx", a / b }')"
	printf '%-50s %14s %12s %8s\n' "  same, first claim->done" "$inner/s" "" \
		"$(awk -v a="$inner" -v b="$BASE_JOBS_S" 'BEGIN { printf "%.2fx", a / b }')"
	printf '%-50s %14s\n' "  WAL a job, full-page images a job" "$wal B, $fpi"
done
printf '%-50s %14s %12s %8s\n' "adcraft best ($BEST_WHAT) vs graphile best" "$BEST/s" ">= ${TARGET_RATIO}x" \
	"$(awk -v a="$BEST" -v b="$GBEST" 'BEGIN { printf "%.2fx", a / b }')"
printf '%-50s %14s %12s %8s\n' "pickup median ($PICKUP_JOBS jobs, idle worker, dead rows)" "${PICKUP[0]} ms" "<= $TARGET_P50_MS ms" "-"
printf '%-50s %14s %12s %8s\n' "pickup p90" "${PICKUP[1]} ms" "-" "-"
printf '%-50s %14s %12s %8s\n' "pickup p99 (${PICKUP[3]} dead rows in jobs)" "${PICKUP[2]} ms" "<= $TARGET_P99_MS ms" "-"
printf '%-50s %14s %12s %8s\n' "pickup median after VACUUM jobs" "${KEPT_P[0]} ms" "<= $TARGET_P50_MS ms" "-"
printf '%-50s %14s %12s %8s\n' "pickup p90 after VACUUM" "${KEPT_P[1]} ms" "-" "-"
printf '%-50s %14s %12s %8s\n' "pickup p99 after VACUUM (${KEPT_P[3]} dead rows)" "${KEPT_P[2]} ms" "<= $TARGET_P99_MS ms" "-"
echo "With $KEPT finished jobs kept (jobs $JOBS_MB MB with its indexes; VACUUM (ANALYZE) jobs took $VACUUM_S s):"
for rate in "${GRATES_KEPT[@]}"; do
	printf '%-50s %14s %12s %8s\n' "  graphile-worker (its table empty)" "$rate/s" "-" \
		"$(awk -v a="$rate" -v b="$BASE_JOBS_S" 'BEGIN { printf "%.2fx", a / b }')"
done
printf '%-50s %14s %12s %8s\n' "  adcraft $BEST_WHAT vs graphile best of these" "$KEPT_RATE/s" ">= ${TARGET_RATIO}x" \
	"$(awk -v a="$KEPT_RATE" -v b="$GBEST_KEPT" 'BEGIN { printf "%.2fx", a / b }')"
printf '%-50s %14s %12s %8s\n' "  adcraft $BEST_WHAT vs its round without them" "$KEPT_RATE/s" "-" \
	"$(awk -v a="$KEPT_RATE" -v b="$BEST" 'BEGIN { printf "%.2fx", a / b }')"
printf '%-50s %14s\n' "  WAL a job, full-page images a job" "$KEPT_WAL B, $KEPT_FPI"
printf '%-50s %14s %12s %8s\n' "  pickup median" "$P50 ms" "<= $TARGET_P50_MS ms" "-"
printf '%-50s %14s %12s %8s\n' "  pickup p99 ($DEAD dead rows)" "$P99 ms" "<= $TARGET_P99_MS ms" "-"
[ -n "${STATS:-}" ] && echo "$STATS"
bench_result "no-op jobs/s vs graphile-worker" "$BEST" "jobs/s" "graphile-worker $GRAPHILE_VERSION" "$GBEST" "ratio >= $TARGET_RATIO"
bench_result "pickup median, idle worker" "${KEPT_P[0]}" "ms" - - "value <= $TARGET_P50_MS"
bench_result "pickup p99, idle worker, after dead rows" "${PICKUP[2]}" "ms" - - "value <= $TARGET_P99_MS"
bench_result "pickup p99, idle worker, no dead rows" "${KEPT_P[2]}" "ms" - - "value <= $TARGET_P99_MS"
bench_result "no-op jobs/s, $RETAINED_JOBS more finished jobs kept, vs graphile-worker" "$KEPT_RATE" "jobs/s" \
	"graphile-worker $GRAPHILE_VERSION" "$GBEST_KEPT" "ratio >= $TARGET_RATIO"
bench_result "pickup p99, idle worker, $RETAINED_JOBS more finished jobs kept" "$P99" "ms" - - "value <= $TARGET_P99_MS"
[ -n "${SLOW:-}" ] && printf '\nSlow plans of the worker (auto_explain, first of each statement; all in pg.log):\n%s\n' "$SLOW"
echo
echo "took $(($(date +%s) - START)) s"
FAILED=false
