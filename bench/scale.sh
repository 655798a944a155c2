#!/usr/bin/env bash
# bench/scale.sh: stats, dashboard and the campaign list of a user who owns
# 10k campaigns among many (issue #14 §2: "user with 10k campaigns among 1M").
#
#   bench/scale.sh [--full] [--no-build] [--keep]
#
# Starts a private stack (./dev up in a temp dir, free ports), seeds it with
# `adcraft seed` (seed-1 owns BENCH_SCALE_HEAVY campaigns, every other user
# 1,000), then measures as seed-1:
#   - single client (wrk -c1): p50 of GET /api/campaigns/stats, /dashboard and
#     /api/campaigns?limit=20;
#   - under wrk (-c32): req/s of stats and dashboard next to GET one campaign
#     in the same run, in BENCH_ROUNDS round-robin rounds: each ratio is the
#     median of its rounds' ratios (each round's rate over campaign get's rate
#     in the same round: the machine's speed drifts by up to 20% between
#     minutes), and the req/s shown are the medians of the rounds.
# Everything it started is stopped on exit.
#
# Options: --full      991 users: 990 x 1,000 + 10,000 = 1M campaigns (the
#                      issue's size; seeding takes minutes, see docs/performance.md)
#          --no-build  do not run meson/ninja first
#          --keep      keep the temp dir (logs, raw wrk output)
# Environment (defaults): BENCH_SCALE_USERS (91: 100k campaigns; --full: 991),
#   BENCH_SCALE_HEAVY (10000), BENCH_DURATION (10s), BENCH_SINGLE_DURATION (5s), BENCH_ROUNDS (3),
#   BENCH_CONNECTIONS (32), BENCH_THREADS (2), ADCRAFT_DEV_PROCESSES (8).
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
# shellcheck source=bench/lib.sh
. "$BENCH_DIR/lib.sh"

USERS=${BENCH_SCALE_USERS:-91}
HEAVY=${BENCH_SCALE_HEAVY:-10000}
DURATION=${BENCH_DURATION:-10s}
SINGLE=${BENCH_SINGLE_DURATION:-5s}
ROUNDS=${BENCH_ROUNDS:-3}
DO_BUILD=true
KEEP=false
for arg in "$@"; do
	case $arg in
	--full) USERS=${BENCH_SCALE_USERS:-991} ;;
	--no-build) DO_BUILD=false ;;
	--keep) KEEP=true ;;
	-h | --help) sed -n '2,/^set -euo/p' "$0" | sed 's/^# \{0,1\}//; /^set -euo/d'; exit 0 ;;
	*) die "unknown option $arg (try --help)" ;;
	esac
done
[[ $USERS =~ ^[1-9][0-9]*$ ]] || die "BENCH_SCALE_USERS must be a positive number"
[[ $HEAVY =~ ^[1-9][0-9]*$ ]] || die "BENCH_SCALE_HEAVY must be a positive number"
[[ $DURATION =~ [smh]$ ]] || DURATION=${DURATION}s
[[ $SINGLE =~ [smh]$ ]] || SINGLE=${SINGLE}s

BENCH_TMP=$(mktemp -d /tmp/adcraft-scale.XXXXXX)
STARTED=$SECONDS

bench_traps wrk_stop

ensure_wrk
if $DO_BUILD; then build_tree; fi
stack_up

total=$(((USERS - 1) * 1000 + HEAVY))
say "seeding $USERS users, $total campaigns (seed-1: $HEAVY)"
seed_start=$SECONDS
"$BUILD/adcraft" --config "$ADCRAFT_DEV_DIR/adcraft.conf" seed --users "$USERS" --campaigns 1000 \
	--heavy-user-campaigns "$HEAVY" >"$BENCH_TMP/seed.log" 2>&1 ||
	{ show_log "$BENCH_TMP/seed.log"; die "seed failed"; }
SEED_S=$((SECONDS - seed_start))

status=$(api_request POST /api/auth/login '{"email":"seed-1@adcraft.test","password":"seed-password-123"}')
[ "$status" = 200 ] || die "login as seed-1 answered $status"
TOKEN=$(json_field accessToken)
status=$(api_request GET "/api/campaigns?limit=1" "" "$TOKEN")
[ "$status" = 200 ] || die "GET /api/campaigns answered $status"
CAMPAIGN=$("$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["items"][0]["id"])' "$BENCH_TMP/response.json")

# name path: the targets, all as seed-1
TARGETS=(
	"campaign_get /api/campaigns/$CAMPAIGN"
	"stats /api/campaigns/stats"
	"dashboard /api/campaigns/dashboard"
	"list /api/campaigns?limit=20"
)
for t in "${TARGETS[@]}"; do
	read -r name path <<<"$t"
	status=$(api_request GET "$path" "" "$TOKEN")
	[ "$status" = 200 ] || die "$name: GET $path answered $status"
done

mkdir -p "$BENCH_TMP/wrk"
say "warm-up"
for t in "${TARGETS[@]}"; do
	read -r name path <<<"$t"
	wrk_run "$BENCH_TMP/wrk/warm.$name" "$STACK_URL$path" GET 2s "" "$TOKEN"
done

say "single client: $SINGLE per target"
declare -A P50 RPS RATIO
saved_c=$WRK_CONNECTIONS saved_t=$WRK_THREADS
WRK_CONNECTIONS=1 WRK_THREADS=1
for t in "${TARGETS[@]}"; do
	read -r name path <<<"$t"
	wrk_run "$BENCH_TMP/wrk/single.$name" "$STACK_URL$path" GET "$SINGLE" "" "$TOKEN"
	P50[$name]=$(kv "$BENCH_TMP/wrk/single.$name.kv" p50_us)
done
WRK_CONNECTIONS=$saved_c WRK_THREADS=$saved_t

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.4f", (b > 0 ? a / b : 0) }'; }
declare -A ROUND_RPS RATIOS
for ((round = 1; round <= ROUNDS; round++)); do
	say "under wrk -c$WRK_CONNECTIONS, round $round/$ROUNDS: $DURATION per target"
	for t in "${TARGETS[@]}"; do
		read -r name path <<<"$t"
		wrk_run "$BENCH_TMP/wrk/load.$round.$name" "$STACK_URL$path" GET "$DURATION" "" "$TOKEN"
		ROUND_RPS[$name]+=" $(kv "$BENCH_TMP/wrk/load.$round.$name.kv" rps)"
		errs=$(kv "$BENCH_TMP/wrk/load.$round.$name.kv" status_errors)
		[ "${errs:-0}" -eq 0 ] || say "warning: $name: $errs non-2xx responses"
	done
	get=$(kv "$BENCH_TMP/wrk/load.$round.campaign_get.kv" rps)
	for t in "${TARGETS[@]}"; do
		read -r name _ <<<"$t"
		RATIOS[$name]+=" $(ratio "$(kv "$BENCH_TMP/wrk/load.$round.$name.kv" rps)" "$get")"
	done
done
for t in "${TARGETS[@]}"; do
	read -r name _ <<<"$t"
	# shellcheck disable=SC2086 # one value per word
	RPS[$name]=$(median ${ROUND_RPS[$name]})
	# shellcheck disable=SC2086
	RATIO[$name]=$(median ${RATIOS[$name]})
done

ms() { awk -v u="$1" 'BEGIN { printf "%.2f", u / 1000 }'; }

echo
echo "adcraft bench/scale.sh  $(date -u +%Y-%m-%dT%H:%M:%SZ)  $(git -C "$BENCH_REPO" rev-parse --short HEAD 2>/dev/null || echo '?')  $(nproc) CPUs"
echo "$total campaigns of $USERS users (seed-1: $HEAVY), seeded in ${SEED_S} s; adcraft-api x$ADCRAFT_DEV_PROCESSES"
printf '\n%-14s %12s %12s %10s  %s\n' target 'p50 (1 conn)' "req/s (-c$WRK_CONNECTIONS)" 'vs get' \
	"rounds (req/s; vs get)"
for t in "${TARGETS[@]}"; do
	read -r name _ <<<"$t"
	printf '%-14s %9s ms %12s %10.2f  %s;%s\n' "$name" "$(ms "${P50[$name]}")" "$(fmt_int "${RPS[$name]}")" \
		"${RATIO[$name]}" "$(for v in ${ROUND_RPS[$name]}; do fmt_int "$v"; printf ' '; done)" "${RATIOS[$name]}"
done
echo "took $((SECONDS - STARTED)) s (plus teardown)"

size="$((HEAVY / 1000))k of $(awk -v n="$total" 'BEGIN { if (n >= 1000000) printf "%gM", n / 1000000; else printf "%gk", n / 1000 }')"
bench_result "stats p50, $size campaigns" "$(ms "${P50[stats]}")" ms - - "value <= 10"
bench_result "dashboard p50, $size" "$(ms "${P50[dashboard]}")" ms - - "value <= 20"
bench_result "list page p50, $size" "$(ms "${P50[list]}")" ms - - "-"
# The targets: the median over the rounds of each round's ratio to campaign get (same round);
# the medians of the raw rates are reported beside them.
for n in stats dashboard; do
	bench_result "$n under wrk vs campaign get, median of $ROUNDS rounds" "${RATIO[$n]}" "x get" - - "value >= 0.3"
	bench_result "$n under wrk, median req/s" "$(fmt_int "${RPS[$n]}")" req/s "campaign get" \
		"$(fmt_int "${RPS[campaign_get]}")" "-"
done
