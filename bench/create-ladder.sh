#!/usr/bin/env bash
# bench/create-ladder.sh: what a create's INSERT costs PostgreSQL, feature by
# feature (issue #14 §2, create). The API's prepared campaign_insert, run by
# pgbench with the bench's body as parameters (fsync on), into campaigns and
# into copies of it that lose one feature after another, next to the API's
# campaign get run the same way:
#
#   api        campaigns, the API's statement (RETURNING campaign_text(...))
#   all        campaigns, RETURNING id
#   notrigger  the same with the owner-summary insert trigger disabled
#   nofk       LIKE campaigns INCLUDING ALL: no trigger, no foreign keys
#   pkonly     the same with the primary key only (no list, filter, search,
#              top-content or content index)
#   nogen      the same without the generated columns (json_head, content
#              tallies, keys and texts)
#   bare       three columns (id, user_id, doc jsonb), primary key only
#   get        the API's campaign_get of one campaign (the reads' scale)
#
# and, into campaigns with everything on, what sharing would buy (inserts/s
# are the transactions' rate times the campaigns each one inserts):
#
#   tx8        eight of the API's statements in one transaction (one commit)
#   rows4      the API's statement inserting 4 campaigns (one statement)
#   rows8      the same with 8
#
# Every figure is reported, none is a target: the ladder shows which features
# a create at 0.4x campaign get (bench/api.sh) would have to give up, and
# what batching concurrent creates into one statement would buy instead.
#
#   bench/create-ladder.sh [--no-build] [--keep]
#
# Environment (defaults): LADDER_ROUNDS (2, round-robin, median shown),
#   LADDER_DURATION (8 s), LADDER_CLIENTS (8), ADCRAFT_BUILD_DIR (repo/build).
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
# shellcheck source=bench/lib.sh
. "$BENCH_DIR/lib.sh"

ROUNDS=${LADDER_ROUNDS:-2}
DURATION=${LADDER_DURATION:-8}
CLIENTS=${LADDER_CLIENTS:-8}
export ADCRAFT_DEV_PROCESSES=${ADCRAFT_DEV_PROCESSES:-2}

bench_options "$@"
for v in ROUNDS DURATION CLIENTS; do
	[[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "LADDER_$v must be a positive number"
done
command -v pgbench >/dev/null || die "pgbench is not installed (Debian: postgresql-client-15)"

trigger() { psql_q -c "ALTER TABLE campaigns $1 TRIGGER campaigns_owner_summary_insert" >/dev/null; }
enable_trigger() { if "${STACK_UP:-false}"; then trigger ENABLE || true; fi; }

BENCH_TMP=$(mktemp -d /tmp/adcraft-bench-ladder.XXXXXX)
chmod 755 "$BENCH_TMP" # the postgres user walks through it to its data dir
bench_traps enable_trigger

if $DO_BUILD; then build_tree; fi
[ -x "$BUILD/tests/unit/dump-statements" ] || die "$BUILD/tests/unit/dump-statements is not built"
stack_up

status=$(api_request POST /api/auth/register \
	"{\"email\":\"ladder-$$@bench.adcraft.local\",\"password\":\"bench-password-$RANDOM\",\"name\":\"Ladder\"}")
[ "$status" = 201 ] || die "register: HTTP $status: $(cat "$BENCH_TMP/response.json")"
USER_ID=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["user"]["id"])' "$BENCH_TMP/response.json")
TOKEN=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["accessToken"])' "$BENCH_TMP/response.json")
status=$(api_request POST /api/campaigns "$(cat "$BENCH_DIR/campaign.json")" "$TOKEN")
[ "$status" = 201 ] || die "create: HTTP $status: $(cat "$BENCH_TMP/response.json")"
CAMPAIGN_ID=$(json_field id)

# The statements as the API prepares them, with pgbench variables for $1, $2,
# so that they stay parameters (-M prepared) and nothing is folded at plan time.
statement() {
	"$BUILD/tests/unit/dump-statements" | awk -F'\t' -v n="$1" '$1 == n { print $3 }'
}
INSERT=$(statement campaign_insert)
GET=$(statement campaign_get)
if [ -z "$INSERT" ] || [ -z "$GET" ]; then die "dump-statements has no campaign_insert or campaign_get"; fi
INSERT=${INSERT//\$1/:u}
INSERT=${INSERT//\$2/:b}
GET=${GET//\$1/:u}
GET=${GET//\$2/:c}
case $INSERT in "INSERT INTO campaigns AS c "*" RETURNING "*) ;; *) die "unexpected campaign_insert: $INSERT" ;; esac
into() { # into TABLE RETURNING: the API's insert into TABLE
	local body=${INSERT#INSERT INTO campaigns AS c }
	printf 'INSERT INTO %s AS c %s RETURNING %s;\n' "$1" "${body% RETURNING *}" "$2"
}

say "making the copies of campaigns"
psql_q <<-'EOF'
	CREATE TABLE ladder_nofk (LIKE campaigns INCLUDING ALL);
	CREATE TABLE ladder_pkonly (LIKE campaigns INCLUDING DEFAULTS INCLUDING GENERATED INCLUDING CONSTRAINTS,
	                            PRIMARY KEY (id));
	CREATE TABLE ladder_nogen (LIKE campaigns INCLUDING DEFAULTS INCLUDING CONSTRAINTS, PRIMARY KEY (id));
	CREATE TABLE ladder_bare (id uuid PRIMARY KEY DEFAULT uuid_v7(), user_id uuid NOT NULL, doc jsonb NOT NULL);
EOF
VARIANTS=(api all notrigger nofk pkonly nogen bare tx8 rows4 rows8 get)
declare -A ROWS=([tx8]=8 [rows4]=4 [rows8]=8) # campaigns a transaction inserts, when not 1
into campaigns "${INSERT##* RETURNING }" >"$BENCH_TMP/api.sql"
{ echo "BEGIN;"; for ((i = 0; i < 8; i++)); do cat "$BENCH_TMP/api.sql"; done; echo "COMMIT;"; } >"$BENCH_TMP/tx8.sql"
for n in 4 8; do
	rows=$(sed "s/ AS b) AS input / AS b FROM generate_series(1, $n)) AS input /" "$BENCH_TMP/api.sql")
	[ "$rows" != "$(cat "$BENCH_TMP/api.sql")" ] || die "campaign_insert has no ') AS input': cannot make rows$n"
	echo "$rows" >"$BENCH_TMP/rows$n.sql"
done
into campaigns id >"$BENCH_TMP/all.sql"
cp "$BENCH_TMP/all.sql" "$BENCH_TMP/notrigger.sql"
for t in nofk pkonly nogen; do into "ladder_$t" id >"$BENCH_TMP/$t.sql"; done
echo "INSERT INTO ladder_bare (user_id, doc) VALUES (:u::uuid, :b::jsonb) RETURNING id;" >"$BENCH_TMP/bare.sql"
echo "$GET;" >"$BENCH_TMP/get.sql"

# pgbench_tps VARIANT: one run's transactions per second.
pgbench_tps() {
	local out=$BENCH_TMP/$1.out
	pgbench -n -M prepared -c "$CLIENTS" -j 2 -T "$DURATION" -D "u=$USER_ID" -D "c=$CAMPAIGN_ID" \
		-D "b=$(cat "$BENCH_DIR/campaign.json")" -f "$BENCH_TMP/$1.sql" \
		-h "$ADCRAFT_DEV_DIR/pg-socket" -p "$ADCRAFT_DEV_PG_PORT" -U postgres adcraft >"$out" 2>&1 ||
		{ show_log "$out"; die "pgbench $1 failed"; }
	awk -v n="${ROWS[$1]:-1}" '/^tps = / { printf "%.0f\n", $3 * n; exit }' "$out"
}

say "pgbench -M prepared -c $CLIENTS -T $DURATION, $ROUNDS round(s) round-robin, fsync on"
declare -A TPS
for ((round = 1; round <= ROUNDS; round++)); do
	for v in "${VARIANTS[@]}"; do
		# Statistics as autovacuum would keep them: the inserts grow campaigns by
		# tens of thousands of rows a run, and a generic plan made on the
		# one-row table of the start scans it.
		psql_q -c "ANALYZE campaigns" >/dev/null
		[ "$v" = notrigger ] && trigger DISABLE
		tps=$(pgbench_tps "$v")
		[ "$v" = notrigger ] && trigger ENABLE
		TPS[$v]="${TPS[$v]:-} $tps"
		say "round $round: $v $tps/s"
	done
done

# shellcheck disable=SC2086 # the rounds, one per word
get=$(median ${TPS[get]})
printf '\n%-10s %12s %12s  %s\n' variant "median/s" "vs get" rounds
for v in "${VARIANTS[@]}"; do
	# shellcheck disable=SC2086
	m=$(median ${TPS[$v]})
	ratio=$(awk -v a="$m" -v b="$get" 'BEGIN { printf "%.3f", a / b }')
	printf '%-10s %12s %12s %s\n' "$v" "$m" "$ratio" "${TPS[$v]}"
	[ "$v" = get ] || bench_result "create ladder: $v inserts/s vs campaign get (pgbench)" "$m" "inserts/s" \
		"campaign get (pgbench)" "$get" "-"
done
