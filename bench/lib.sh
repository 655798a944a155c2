# bench/lib.sh: helpers shared by the bench/ scripts (sourced, not run).
# shellcheck shell=bash
#
# A bench script sets BENCH_TMP (its private temp dir) and then uses:
#   build_tree                     meson setup (first time) + ninja in $BUILD
#   free_ports N                   N distinct free TCP ports on 127.0.0.1
#   stack_up / stack_down          its own `./dev up --no-build --no-demo` in $BENCH_TMP/dev
#                                  (with a snapshot of ./dev, see snapshot_dev)
#   api_request METHOD PATH [BODY] [TOKEN]   one curl through the stack's nginx
#   psql_q ARGS...                 psql as postgres on the stack's database (-XAtq, ON_ERROR_STOP)
#   wrk_run OUT URL METHOD [BODY_FILE] [TOKEN]   one wrk run, parsed into $OUT.kv
#   proc_mem PID...                "RSS_KIB PSS_KIB MAX_RSS_KIB" over the pids
#   median / fmt_us / fmt_int      number formatting
#   bench_traps [FUNC...]          the exit trap: FUNC..., stack_down, the temp dir kept on failure
#   bench_result FIGURE VALUE UNIT BASELINE_LABEL BASELINE_VALUE TARGET
#                                  one row of bench/run-all.sh's table (see below)

BENCH_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
BUILD=$(realpath -m "${ADCRAFT_BUILD_DIR:-$BENCH_REPO/build}")
PY=/usr/bin/python3
IS_ROOT=false
[ "$(id -u)" -eq 0 ] && IS_ROOT=true

say() { printf 'bench: %s\n' "$*" >&2; }
die() { printf 'bench: error: %s\n' "$*" >&2; exit 1; }

show_log() {
	[ -s "$1" ] || return 0
	printf -- '--- last lines of %s ---\n' "$1" >&2
	tail -n "${2:-25}" "$1" >&2
}

# ---------------------------------------------------------------- tools

ensure_wrk() {
	command -v wrk >/dev/null && return 0
	$IS_ROOT || die "wrk is not installed: sudo apt-get install wrk"
	say "installing wrk"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends wrk >/dev/null ||
		{ apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends wrk >/dev/null; } ||
		die "could not install wrk"
}

build_tree() {
	if [ ! -f "$BUILD/meson-private/coredata.dat" ]; then
		say "meson setup $BUILD"
		meson setup "$BUILD" "$BENCH_REPO" >"$BENCH_TMP/build.log" 2>&1 ||
			{ show_log "$BENCH_TMP/build.log" 40; die "meson setup failed"; }
	fi
	say "ninja -C $BUILD"
	ninja -C "$BUILD" >>"$BENCH_TMP/build.log" 2>&1 ||
		{ show_log "$BENCH_TMP/build.log" 40; die "build failed"; }
}

# free_ports N: prints N distinct ports that were free a moment ago.
free_ports() {
	"$PY" - "$1" <<-'EOF'
	import socket, sys
	socks = []
	for _ in range(int(sys.argv[1])):
	    s = socket.socket()
	    s.bind(("127.0.0.1", 0))
	    socks.append(s)
	print(" ".join(str(s.getsockname()[1]) for s in socks))
	EOF
}

# ---------------------------------------------------------------- the stack

# Everything ./dev needs to run a private stack; set by stack_env.
stack_env() {
	local ports
	read -r -a ports <<<"$(free_ports 3)"
	export ADCRAFT_DEV_DIR=$BENCH_TMP/dev
	export ADCRAFT_DEV_PORT=${ports[0]}
	export ADCRAFT_DEV_API_PORT=${ports[1]}
	export ADCRAFT_DEV_PG_PORT=${ports[2]}
	export ADCRAFT_BUILD_DIR=$BUILD
	export ADCRAFT_DEV_PROCESSES=${ADCRAFT_DEV_PROCESSES:-8}
	# Rate limits far above anything wrk reaches on this machine.
	export ADCRAFT_DEV_AUTH_RATE=${ADCRAFT_DEV_AUTH_RATE:-100000r/s}
	export ADCRAFT_DEV_AUTH_BURST=${ADCRAFT_DEV_AUTH_BURST:-100000}
	export ADCRAFT_DEV_API_RATE=${ADCRAFT_DEV_API_RATE:-100000r/s}
	export ADCRAFT_DEV_API_BURST=${ADCRAFT_DEV_API_BURST:-100000}
	# One access token must outlive a long run with many targets (max 1 day).
	export ADCRAFT_ACCESS_TOKEN_TTL=${ADCRAFT_ACCESS_TOKEN_TTL:-86400}
	STACK_URL=http://127.0.0.1:$ADCRAFT_DEV_PORT
	STACK_UP=false
}

# bash reads a script while it runs it, so editing ./dev during a run breaks
# it. The stack is driven by a copy of ./dev taken at start, in a directory of
# links to the rest of the repo (./dev finds the repo from its own location);
# `up` and the `down` at exit run the same copy.
snapshot_dev() {
	local f i
	DEV=$BENCH_TMP/repo/dev
	mkdir -p "$BENCH_TMP/repo"
	for f in "$BENCH_REPO"/* "$BENCH_REPO"/.[!.]*; do
		[ -e "$f" ] && [ "${f##*/}" != dev ] && ln -sfn "$f" "$BENCH_TMP/repo/${f##*/}"
	done
	for ((i = 0; i < 10; i++)); do
		cp "$BENCH_REPO/dev" "$DEV"
		bash -n "$DEV" 2>/dev/null && return 0
		sleep 1 # caught in the middle of an edit
	done
	die "$BENCH_REPO/dev does not parse"
}

stack_up() {
	stack_env
	snapshot_dev
	say "starting a private stack in $ADCRAFT_DEV_DIR (nginx :$ADCRAFT_DEV_PORT, $ADCRAFT_DEV_PROCESSES api processes)"
	STACK_UP=true
	"$DEV" up --no-build --no-demo >"$BENCH_TMP/dev-up.log" 2>&1 ||
		{ show_log "$BENCH_TMP/dev-up.log" 40; die "./dev up failed"; }
}

stack_down() {
	$STACK_UP || return 0
	STACK_UP=false
	"$DEV" down >"$BENCH_TMP/dev-down.log" 2>&1 ||
		{ show_log "$BENCH_TMP/dev-down.log"; say "warning: ./dev down failed"; }
}

# The master pid of the stack's adcraft-api and its children.
stack_api_pids() {
	local master
	read -r master <"$ADCRAFT_DEV_DIR/run/api.pid" || return 1
	echo "$master"
	pgrep -P "$master" || true
}

# nginx worker_processes of the stack (the ceiling nginx copies it).
stack_nginx_workers() {
	awk '$1 == "worker_processes" { sub(/;.*/, "", $2); print $2; exit }' "$ADCRAFT_DEV_DIR/nginx.conf"
}

# api_request METHOD PATH [BODY] [TOKEN]: prints the HTTP status; the response
# body goes to $BENCH_TMP/response.json.
api_request() {
	local args=(-sS -o "$BENCH_TMP/response.json" -w '%{http_code}' --max-time 10 -X "$1" "$STACK_URL$2")
	[ -n "${3:-}" ] && args+=(-H 'Content-Type: application/json' --data-binary "$3")
	[ -n "${4:-}" ] && args+=(-H "Authorization: Bearer $4")
	curl "${args[@]}" || echo 000
}

# The options of a bench script that takes only --no-build, --keep and --help:
# sets DO_BUILD and KEEP, prints the script's header comment for --help.
bench_options() {
	DO_BUILD=true KEEP=false
	for arg in "$@"; do
		case $arg in
		--no-build) DO_BUILD=false ;;
		--keep) KEEP=true ;;
		-h | --help) sed -n '2,/^set -euo/p' "$0" | sed -e '/^set -euo/d' -e 's/^# \{0,1\}//'; exit 0 ;;
		*) die "unknown option $arg (try --help)" ;;
		esac
	done
}

# psql_q ARGS...: psql as postgres on the stack's database, unaligned tuples only,
# stopping at the first error.
psql_q() {
	psql -h "$ADCRAFT_DEV_DIR/pg-socket" -p "$ADCRAFT_DEV_PG_PORT" -U postgres -d adcraft -XAtq \
		-v ON_ERROR_STOP=1 "$@"
}

json_field() {
	"$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$BENCH_TMP/response.json" "$1"
}

# ---------------------------------------------------------------- wrk

WRK_THREADS=${BENCH_THREADS:-2}
WRK_CONNECTIONS=${BENCH_CONNECTIONS:-32}

# wrk_run OUT URL METHOD DURATION [BODY_FILE] [TOKEN]: one wrk run; raw output
# in OUT.txt, and OUT.kv holds "key value" lines: requests, duration_us, rps,
# status_errors (responses >= 400), connect/read/write/timeout (socket errors),
# p50_us, p99_us.
wrk_run() {
	local out=$1 url=$2 method=$3 duration=$4 body=${5:-} token=${6:-}
	local lua=$out.lua
	{
		printf 'wrk.method = "%s"\n' "$method"
		[ -n "$token" ] && printf 'wrk.headers["Authorization"] = "Bearer %s"\n' "$token"
		if [ -n "$body" ]; then
			printf 'wrk.headers["Content-Type"] = "application/json"\n'
			printf 'local f = assert(io.open("%s", "rb"))\nwrk.body = f:read("*a")\nf:close()\n' "$body"
		fi
		cat <<-'EOF'
		done = function(summary, latency, requests)
		  local e = summary.errors
		  io.write(string.format(
		    "BENCH requests %d\nBENCH duration_us %d\nBENCH status_errors %d\n" ..
		    "BENCH connect %d\nBENCH read %d\nBENCH write %d\nBENCH timeout %d\n" ..
		    "BENCH p50_us %.0f\nBENCH p99_us %.0f\n",
		    summary.requests, summary.duration, e.status, e.connect, e.read, e.write,
		    e.timeout, latency:percentile(50), latency:percentile(99)))
		end
		EOF
	} >"$lua"
	# In the background so that a signal to this script runs its traps at once
	# (bash defers them while a foreground child runs); wrk_stop ends it.
	wrk -t"$WRK_THREADS" -c"$WRK_CONNECTIONS" -d"$duration" --timeout 10s --latency -s "$lua" "$url" \
		>"$out.txt" 2>&1 </dev/null &
	WRK_PID=$!
	wait "$WRK_PID" || { WRK_PID=; cat "$out.txt" >&2; die "wrk failed on $url"; }
	WRK_PID=
	awk '$1 == "BENCH" { print $2, $3; if ($2 == "requests") r = $3; if ($2 == "duration_us") d = $3 }
	     END { if (d > 0) printf "rps %.1f\n", r * 1000000 / d }' "$out.txt" >"$out.kv"
	grep -q '^rps ' "$out.kv" || { cat "$out.txt" >&2; die "could not parse wrk output for $url"; }
}

wrk_stop() {
	[ -n "${WRK_PID:-}" ] || return 0
	kill -TERM "$WRK_PID" 2>/dev/null || true
	wait "$WRK_PID" 2>/dev/null || true
	WRK_PID=
}

# kv FILE KEY
kv() { awk -v k="$2" '$1 == k { print $2; exit }' "$1"; }

# ---------------------------------------------------------------- numbers

median() {
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
		if (NR == 0) exit 1
		if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

fmt_us() {
	awk -v u="$1" 'BEGIN { if (u < 1000) printf "%dus", u; else if (u < 1000000) printf "%.2fms", u / 1000; else printf "%.2fs", u / 1000000 }'
}

fmt_int() { awk -v n="$1" 'BEGIN { printf "%.0f", n }'; }

# proc_mem PID...: "RSS_KIB PSS_KIB MAX_RSS_KIB": RSS and PSS summed from
# /proc/PID/smaps_rollup, and the largest RSS of one process.
proc_mem() {
	local pid rss=0 pss=0 max=0 k v
	for pid in "$@"; do
		[ -r "/proc/$pid/smaps_rollup" ] || continue
		while read -r k v _; do
			case $k in
			Rss:) rss=$((rss + v)); [ "$v" -gt "$max" ] && max=$v ;;
			Pss:) pss=$((pss + v)) ;;
			esac
		done <"/proc/$pid/smaps_rollup"
	done
	echo "$rss $pss $max"
}

# ---------------------------------------------------------------- CPU

# cpu_ticks: "BUSY TOTAL" clock ticks of the whole machine since boot.
cpu_ticks() {
	awk '$1 == "cpu" { busy = $2 + $3 + $4 + $7 + $8 + $9; print busy, busy + $5 + $6; exit }' /proc/stat
}

# proc_ticks PID...: CPU ticks used by the pids and their reaped children.
proc_ticks() {
	local pid line t=0
	for pid in "$@"; do
		line=$(cat "/proc/$pid/stat" 2>/dev/null) || continue
		line=${line##*) }
		# shellcheck disable=SC2086 # split the fields
		set -- $line
		t=$((t + ${12} + ${13} + ${14} + ${15}))
	done
	echo "$t"
}

# pid_tree PID...: the pids and all their descendants.
pid_tree() {
	local pid
	for pid in "$@"; do
		[ -d "/proc/$pid" ] || continue
		echo "$pid"
		# shellcheck disable=SC2046 # one pid per word
		pid_tree $(pgrep -P "$pid")
	done
}

fmt_mib() { awk -v k="$1" 'BEGIN { printf "%.1f MiB", k / 1024 }'; }

# ---------------------------------------------------------------- exit

# bench_traps [FUNC...]: on exit, INT or TERM, runs FUNC... (the script's own
# stops: wrk, a ceiling, a worker), then stack_down, then removes $BENCH_TMP
# unless $KEEP is true or the script failed (it is kept then, so the logs can
# be read; not when interrupted: 130, 143). Exits with the script's status.
bench_traps() {
	BENCH_STOPS=("$@")
	trap bench_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

bench_cleanup() {
	local rc=$? stop
	trap - EXIT INT TERM
	for stop in "${BENCH_STOPS[@]}"; do "$stop"; done
	stack_down
	if ${KEEP:-false} || { [ "$rc" -ne 0 ] && [ "$rc" -ne 130 ] && [ "$rc" -ne 143 ]; }; then
		say "kept $BENCH_TMP (logs in dev/log/)"
	else
		rm -rf "$BENCH_TMP"
	fi
	exit "$rc"
}

# ---------------------------------------------------------------- results
#
# bench_result FIGURE VALUE UNIT BASELINE_LABEL BASELINE_VALUE TARGET
#   Records one figure for bench/run-all.sh's table: a TSV line appended to
#   $BENCH_RESULTS when that is set (run-all sets it), nothing otherwise.
#   BASELINE_LABEL/BASELINE_VALUE name the same-run baseline ("-" "-" when the
#   figure has none); ratio = VALUE / BASELINE_VALUE. TARGET is an awk
#   condition over `value` and `ratio`, e.g. "ratio >= 0.75",
#   "value <= 10", "value >= 2000 && ratio >= 0.4"; "-" for a figure that is
#   only reported.
bench_result() {
	[ -n "${BENCH_RESULTS:-}" ] || return 0
	[ "$#" -eq 6 ] || die "bench_result: 6 arguments, got $#: $*"
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(basename "$0")" "$1" "$2" "$3" "$4" "$5" "$6" >>"$BENCH_RESULTS"
}
