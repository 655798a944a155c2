#!/usr/bin/env bash
# bench/events.sh: real-time events through nginx nchan (bench/events.py does
# the measuring; bench/README.md explains the figures).
#
#   bench/events.sh [--quick] [--no-build] [--keep]
#
# Starts a private stack (./dev up in a temp dir, free ports, builtin
# generator, nginx with ADCRAFT_DEV_NGINX_CONNECTIONS worker connections) and
# prints:
#   1. publish -> SSE subscriber latency (median, p99) of a generation job's
#      events beside messages published straight to nchan's publisher socket,
#      in alternating rounds of the same run, and their difference;
#   2. fan-out: EVENTS_SUBSCRIBERS SSE subscribers on one channel, and the time
#      until every one has all EVENTS_MESSAGES messages; nginx's RSS before,
#      with the subscribers, and after.
# Figures only, no pass/fail on timings. Everything it started is stopped on exit.
#
# Options: --quick     2 rounds, 100 subscribers x 20 messages (smoke run)
#          --no-build  do not run meson/ninja first
#          --keep      keep the temp dir (dev logs); also kept when the script fails
# Environment (defaults): EVENTS_ROUNDS (20), EVENTS_VARIATIONS (5: 30 items a job),
#   EVENTS_DIRECT_GAP_US (1000), EVENTS_SUBSCRIBERS (1000), EVENTS_MESSAGES (100),
#   EVENTS_CONNECT_CONCURRENCY (100), EVENTS_QUICKACK (0; 1: the latency subscribers
#   ACK at once, see bench/README.md), ADCRAFT_DEV_NGINX_CONNECTIONS (4096),
#   ADCRAFT_DEV_PROCESSES (8), ADCRAFT_BUILD_DIR (repo/build).
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
# shellcheck source=bench/lib.sh
. "$BENCH_DIR/lib.sh"

DO_BUILD=true
KEEP=false
for arg in "$@"; do
	case $arg in
	--quick) export EVENTS_ROUNDS=2 EVENTS_SUBSCRIBERS=100 EVENTS_MESSAGES=20 ;;
	--no-build) DO_BUILD=false ;;
	--keep) KEEP=true ;;
	-h | --help) sed -n '2,/^set -euo/p' "$0" | sed -e '/^set -euo/d' -e 's/^# \{0,1\}//'; exit 0 ;;
	*) die "unknown option $arg (try --help)" ;;
	esac
done
SUBSCRIBERS=${EVENTS_SUBSCRIBERS:-1000}
[[ $SUBSCRIBERS =~ ^[1-9][0-9]*$ ]] || die "EVENTS_SUBSCRIBERS must be a positive number, got '$SUBSCRIBERS'"
# nginx: a subscriber is a connection (plus its auth_request upstream for a moment).
export ADCRAFT_DEV_NGINX_CONNECTIONS=${ADCRAFT_DEV_NGINX_CONNECTIONS:-4096}
[ "$ADCRAFT_DEV_NGINX_CONNECTIONS" -gt $((SUBSCRIBERS + 64)) ] ||
	die "ADCRAFT_DEV_NGINX_CONNECTIONS ($ADCRAFT_DEV_NGINX_CONNECTIONS) must exceed EVENTS_SUBSCRIBERS + 64"
# The client (one process, a socket per subscriber) and nginx (which the stack
# starts from here) need more descriptors than the usual 1024.
want=$((2 * ADCRAFT_DEV_NGINX_CONNECTIONS + 256))
ulimit -n "$want" 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
[ "$(ulimit -n)" = unlimited ] || [ "$(ulimit -n)" -ge $((SUBSCRIBERS + 256)) ] ||
	die "the open-file limit is $(ulimit -n) (hard $(ulimit -Hn)): too low for $SUBSCRIBERS subscribers"

# sun_path is 108 bytes: keep the dir short (./dev checks <= 80).
BENCH_TMP=$(mktemp -d /tmp/adcraft-bench-events.XXXXXX)
chmod 755 "$BENCH_TMP" # the postgres user walks through it to its data dir
STACK_UP=false
STARTED=$SECONDS
LOAD_BEFORE=$(cut -d' ' -f1 /proc/loadavg)

bench_traps

$DO_BUILD && build_tree
[ -x "$BUILD/adcraft-worker" ] || die "$BUILD/adcraft-worker is missing (run without --no-build)"
# The builtin generator: no LLM in the measured path.
unset ADCRAFT_DEV_LLM_API_KEY ADCRAFT_DEV_LLM_BASE_URL
stack_up

echo "bench/events.sh  $(date -u '+%Y-%m-%d %H:%M UTC')  $(nproc) CPUs, load $LOAD_BEFORE, open files $(ulimit -n)"
echo "stack: nginx worker_processes $(stack_nginx_workers), worker_connections $ADCRAFT_DEV_NGINX_CONNECTIONS, $ADCRAFT_DEV_PROCESSES api processes, builtin generator"
# In the background so that a signal runs the traps at once.
"$PY" "$BENCH_DIR/events.py" --url "$STACK_URL" --dev-dir "$ADCRAFT_DEV_DIR" &
wait $! || die "events.py failed"
echo "load after: $(cut -d' ' -f1 /proc/loadavg); took $((SECONDS - STARTED)) s"
