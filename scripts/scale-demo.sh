#!/usr/bin/env bash
# scripts/scale-demo.sh: adcraft on two hosts, for real (./dev scale-demo, docs/scaling.md).
#
#   scripts/scale-demo.sh [--check] [--keep] [--stay]
#
# Builds two "hosts" out of network namespaces on this machine and runs the
# whole product on them:
#
#   root namespace, bridge acs<N>br 10.77.<N>.1/24
#     PostgreSQL 15   10.77.<N>.1  (scram passwords for adcraft_api/adcraft_worker)
#     redis-server    10.77.<N>.1  (requirepass)       <- nchan_redis_pass on both hosts
#     maildev SMTP    10.77.<N>.1  (web UI/REST on 127.0.0.1)
#   netns acs<N>-a, hostname host-a, eth0 10.77.<N>.2 (veth acs<N>a on the bridge)
#     nginx (nchan on Redis) :8080, adcraft-api, adcraft-worker
#   netns acs<N>-b, hostname host-b, eth0 10.77.<N>.3 (veth acs<N>b on the bridge)
#     the same
#
# Each host has its own nginx, sockets, logs and configuration; the hosts
# share only what production hosts share: the database, Redis, the SMTP
# relay, the secrets (JWT, edge, mail and export-link keys) and one storage
# directory for media and exports (standing in for NFS or an S3 mount).
# scripts/scale-demo.py then drives the scenario through both nginx servers
# and prints what happened; with --check it exits non-zero on any failure
# (tests/integration/test_scale_out.py runs it that way).
#
# Everything it creates (namespaces, bridge, veths, processes, the run
# directory under /tmp) is removed by a trap on exit, whatever happens;
# --keep keeps the run directory (logs, configs) and prints its path;
# --stay leaves the hosts running after the scenario until Ctrl-C (try
# `ip netns exec acs<N>-a curl ...`, or the URLs it prints).
#
# Needs root (ip netns), redis-server, maildev (tests/smtp: ./dev scale-demo
# installs both) and a build (ADCRAFT_BUILD_DIR, default repo/build).
#
# Internal: `scripts/scale-demo.sh ctl RUN_DIR worker start|stop a|b` starts
# or stops one host's adcraft-worker; the scenario calls it.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
BUILD=$(realpath -m "${ADCRAFT_BUILD_DIR:-$REPO/build}")
PGBIN=/usr/lib/postgresql/15/bin
NGINX_MODULE=/usr/lib/nginx/modules/ngx_nchan_module.so
MAILDEV=$REPO/tests/smtp/node_modules/maildev/bin/maildev
HOSTS=(a b)
declare -A ADDR=() # host -> its address on the bridge
WORKER_PROCESSES=2
API_PROCESSES=2

say() { printf 'scale: %s\n' "$*"; }
die() { printf 'scale: error: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------- processes

# alive PID: exists and is not a zombie.
alive() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	[ -n "$stat" ] && [ "${stat:0:1}" != Z ]
}

# group_alive PGID: a live process is in the group.
group_alive() {
	local p
	for p in $(pgrep -g "$1" 2>/dev/null); do
		alive "$p" && return 0
	done
	return 1
}

# stop_pid FILE [group]: SIGTERM the pid in FILE (and wait for its process
# group with "group"), SIGKILL after 10 s. Only pids this script recorded.
stop_pid() {
	local file=$1 group=${2:-} pid i
	[ -s "$file" ] || return 0
	read -r pid <"$file" || true
	rm -f "$file"
	[[ ${pid:-} =~ ^[0-9]+$ ]] || return 0
	kill -TERM "$pid" 2>/dev/null || return 0
	for ((i = 0; i < 500; i++)); do
		if ! alive "$pid"; then
			[ "$group" = group ] && group_alive "$pid" || return 0
		fi
		sleep 0.02
	done
	say "warning: pid $pid did not stop within 10 s: killing it"
	if [ "$group" = group ]; then kill -KILL -- "-$pid" 2>/dev/null || true; fi
	kill -KILL "$pid" 2>/dev/null || true
}

# in_host H CMD...: runs CMD in host H's network namespace, with H's own
# hostname (a UTS namespace: worker ids read host-a:pid:nonce).
in_host() {
	local h=$1
	shift
	# shellcheck disable=SC2016 # the inner sh expands them
	ip netns exec "$NS_PREFIX-$h" unshare --uts sh -c 'hostname "$0" && exec "$@"' "host-$h" "$@"
}

# daemon NAME H PIDFILE CMD...: starts CMD in host H in its own session, waits for PIDFILE.
daemon() {
	local name=$1 h=$2 pidfile=$3 pid i
	shift 3
	rm -f "$pidfile"
	# shellcheck disable=SC2016 # as in in_host
	setsid nohup ip netns exec "$NS_PREFIX-$h" unshare --uts sh -c 'hostname "$0" && exec "$@"' "host-$h" "$@" \
		</dev/null >>"$RUN/host-$h/log/$name.log" 2>&1 &
	pid=$!
	for ((i = 0; i < 150; i++)); do
		[ -s "$pidfile" ] && return 0
		alive "$pid" || { tail -n 20 "$RUN/host-$h/log/$name.log" >&2; die "$name on host-$h exited at start"; }
		sleep 0.1
	done
	echo "$pid" >"$pidfile"
	die "$name on host-$h wrote no pid file in 15 s"
}

worker_start() {
	local h=$1
	daemon worker "$h" "$RUN/host-$h/run/worker.pid" \
		"$BUILD/adcraft-worker" --config "$RUN/host-$h/worker.conf" --pidfile "$RUN/host-$h/run/worker.pid"
}

worker_stop() {
	stop_pid "$RUN/host-$1/run/worker.pid" group
}

# ---------------------------------------------------------------- network

# pick_net: the first N (1..200) whose namespace name is free; creating the
# two namespaces is the lock against a parallel run.
pick_net() {
	local n
	for ((n = 1; n <= 200; n++)); do
		ip -o -4 addr show | grep -q " 10\.77\.$n\." && continue
		ip link show "acs${n}br" >/dev/null 2>&1 && continue
		ip netns add "acs$n-a" 2>/dev/null || continue
		if ! ip netns add "acs$n-b" 2>/dev/null; then
			ip netns del "acs$n-a"
			continue
		fi
		N=$n
		return 0
	done
	die "no free 10.77.N.0/24 network (N 1..200)"
}

net_up() {
	local h i=2
	pick_net
	NS_PREFIX=acs$N
	NET=10.77.$N
	BR=acs${N}br
	echo "N=$N" >"$RUN/net.env"
	ip link add "$BR" type bridge
	ip addr add "$NET.1/24" dev "$BR"
	ip link set "$BR" up
	for h in "${HOSTS[@]}"; do
		ip link add "acs$N$h" type veth peer name "acs$N$h-p"
		ip link set "acs$N$h" master "$BR" up
		ip link set "acs$N$h-p" netns "$NS_PREFIX-$h"
		ip -n "$NS_PREFIX-$h" link set "acs$N$h-p" name eth0
		ip -n "$NS_PREFIX-$h" addr add "$NET.$i/24" dev eth0
		ip -n "$NS_PREFIX-$h" link set eth0 up
		ip -n "$NS_PREFIX-$h" link set lo up
		ADDR[$h]=$NET.$i
		i=$((i + 1))
	done
	say "network: bridge $BR $NET.1/24; host-a ${ADDR[a]} (netns $NS_PREFIX-a), host-b ${ADDR[b]} (netns $NS_PREFIX-b)"
}

net_down() {
	local h
	[ -n "${N:-}" ] || return 0
	for h in "${HOSTS[@]}"; do
		ip netns del "acs$N-$h" 2>/dev/null || true # its end of the veth pair goes with it
		ip link del "acs$N$h" 2>/dev/null || true
	done
	ip link del "acs${N}br" 2>/dev/null || true
}

# free_port ADDR: a port the kernel says is free on ADDR.
free_port() {
	/usr/bin/python3 -c 'import socket, sys
s = socket.socket(); s.bind((sys.argv[1], 0)); print(s.getsockname()[1])' "$1"
}

# ---------------------------------------------------------------- shared services

secret() { (umask 077 && "$BUILD/adcraft" gen-secret >"$1"); }

secrets() {
	local name
	mkdir -p "$RUN/secrets"
	for name in jwt edge mail-token mail-webhook export-link db-api db-worker redis; do
		secret "$RUN/secrets/$name.key"
	done
}

pg_up() {
	PG_PORT=$(free_port "$NET.1")
	mkdir -p "$RUN/pg" "$RUN/pg-socket"
	chmod 700 "$RUN/pg" "$RUN/pg-socket"
	chown postgres:postgres "$RUN/pg" "$RUN/pg-socket"
	runuser -u postgres -- "$PGBIN/initdb" -D "$RUN/pg" --auth-local=trust --auth-host=reject -U postgres \
		-E UTF8 --locale=C.UTF-8 >"$RUN/log/initdb.log" 2>&1 || { cat "$RUN/log/initdb.log" >&2; die "initdb failed"; }
	cat >>"$RUN/pg/postgresql.conf" <<-EOF
	# scale demo: the hosts connect over the bridge
	listen_addresses = '$NET.1'
	port = $PG_PORT
	unix_socket_directories = '$RUN/pg-socket'
	password_encryption = 'scram-sha-256'
	timezone = 'UTC'
	log_timezone = 'UTC'
	EOF
	cat >"$RUN/pg/pg_hba.conf" <<-EOF
	# scale demo: postgres over the unix socket (migrations, the scenario's
	# checks); the two programs' roles from the hosts' network, with passwords
	local  all      postgres                                 trust
	host   adcraft  adcraft_api,adcraft_worker  $NET.0/24   scram-sha-256
	EOF
	touch "$RUN/log/pg.log"
	chown postgres:postgres "$RUN/log/pg.log"
	runuser -u postgres -- "$PGBIN/pg_ctl" -D "$RUN/pg" -l "$RUN/log/pg.log" -w -t 60 start >/dev/null ||
		{ tail -n 20 "$RUN/log/pg.log" >&2; die "postgresql did not start"; }
	psql_pg postgres -c "CREATE DATABASE adcraft" >/dev/null
	cat >"$RUN/migrate.conf" <<-EOF
	migrate_database_url = host=$RUN/pg-socket port=$PG_PORT dbname=adcraft user=postgres
	database_url = host=$RUN/pg-socket port=$PG_PORT dbname=adcraft user=postgres
	jwt_secret_file = $RUN/secrets/jwt.key
	sql_dir = $REPO/sql
	EOF
	"$BUILD/adcraft" --config "$RUN/migrate.conf" migrate >"$RUN/log/migrate.log" 2>&1 ||
		{ cat "$RUN/log/migrate.log" >&2; die "adcraft migrate failed"; }
	psql_pg adcraft -v api="$(cat "$RUN/secrets/db-api.key")" -v worker="$(cat "$RUN/secrets/db-worker.key")" <<-'SQL' >/dev/null
	ALTER ROLE adcraft_api PASSWORD :'api';
	ALTER ROLE adcraft_worker PASSWORD :'worker';
	SQL
	# The scenario's instrument, not part of the product: one row per claim of
	# a job (which worker, which attempt), so "each job ran exactly once, and
	# where" is read from the database rather than from logs.
	psql_pg adcraft >/dev/null <<-'SQL'
	CREATE SCHEMA scale_demo;
	CREATE TABLE scale_demo.claims (job_id uuid, queue text, kind text, payload jsonb, worker text,
	                                attempt int, at timestamptz DEFAULT clock_timestamp());
	CREATE FUNCTION scale_demo.record_claim() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog AS $$
	BEGIN
	    INSERT INTO scale_demo.claims (job_id, queue, kind, payload, worker, attempt)
	    VALUES (NEW.id, NEW.queue, NEW.kind, NEW.payload, NEW.locked_by, NEW.attempts);
	    RETURN NULL;
	END $$;
	CREATE TRIGGER scale_demo_claim AFTER UPDATE OF locked_by ON jobs FOR EACH ROW
	    WHEN (NEW.locked_by IS NOT NULL AND NEW.locked_by IS DISTINCT FROM OLD.locked_by)
	    EXECUTE FUNCTION scale_demo.record_claim();
	SQL
	say "postgresql: $NET.1:$PG_PORT (and $RUN/pg-socket), database adcraft migrated"
}

psql_pg() {
	local db=$1
	shift
	"$PGBIN/psql" -h "$RUN/pg-socket" -p "$PG_PORT" -U postgres -d "$db" -X -q -v ON_ERROR_STOP=1 "$@"
}

pg_down() {
	[ -f "$RUN/pg/postmaster.pid" ] || return 0
	runuser -u postgres -- "$PGBIN/pg_ctl" -D "$RUN/pg" -m fast -w -t 30 stop >/dev/null 2>&1 || true
}

redis_up() {
	local i
	REDIS_PORT=$(free_port "$NET.1")
	mkdir -p "$RUN/redis"
	# requirepass on a file-less command line would show in ps: a config file (0600)
	(umask 077 && cat >"$RUN/redis/redis.conf" <<-EOF
	bind $NET.1
	port $REDIS_PORT
	requirepass $(cat "$RUN/secrets/redis.key")
	save ""
	appendonly no
	dir $RUN/redis
	daemonize no
	EOF
	)
	setsid nohup redis-server "$RUN/redis/redis.conf" </dev/null >>"$RUN/log/redis.log" 2>&1 &
	echo $! >"$RUN/run/redis.pid"
	for ((i = 0; i < 100; i++)); do
		(exec 3<>"/dev/tcp/$NET.1/$REDIS_PORT") 2>/dev/null && { say "redis: $NET.1:$REDIS_PORT"; return 0; }
		sleep 0.05
	done
	tail -n 20 "$RUN/log/redis.log" >&2
	die "redis-server did not listen on $NET.1:$REDIS_PORT"
}

maildev_up() {
	local i
	[ -f "$MAILDEV" ] || die "maildev is missing ($MAILDEV): run ./dev scale-demo (it installs it) or npm ci in tests/smtp"
	SMTP_PORT=$(free_port "$NET.1")
	MAIL_UI_PORT=$(free_port 127.0.0.1)
	mkdir -p "$RUN/maildev"
	# adcraft sends in clear only to a loopback relay: this one is across the
	# network, so it speaks SMTPS with a certificate for its address, which the
	# hosts trust through smtp_servers' ca_file.
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj /CN=scale-relay \
		-addext "subjectAltName=IP:$NET.1" -keyout "$RUN/secrets/relay.key" -out "$RUN/relay.crt" 2>/dev/null
	setsid nohup node "$MAILDEV" --smtp "$SMTP_PORT" --ip "$NET.1" --web "$MAIL_UI_PORT" --web-ip 127.0.0.1 \
		--incoming-secure --incoming-cert "$RUN/relay.crt" --incoming-key "$RUN/secrets/relay.key" \
		--mail-directory "$RUN/maildev" </dev/null >>"$RUN/log/maildev.log" 2>&1 &
	echo $! >"$RUN/run/maildev.pid"
	# ready: its log says so, then one whole SMTPS session (a bare TCP probe
	# that closes before the TLS handshake makes maildev 2.2.1 exit)
	for ((i = 0; i < 150; i++)); do
		grep -q 'SMTP Server running' "$RUN/log/maildev.log" &&
			curl -fsS -o /dev/null --max-time 1 "http://127.0.0.1:$MAIL_UI_PORT/email" 2>/dev/null && break
		sleep 0.1
	done
	/usr/bin/python3 -c 'import smtplib, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[3])
s = smtplib.SMTP_SSL(sys.argv[1], int(sys.argv[2]), context=ctx, timeout=5)
s.noop()
s.quit()' "$NET.1" "$SMTP_PORT" "$RUN/relay.crt" 2>>"$RUN/log/maildev.log" &&
		{ say "maildev: SMTPS $NET.1:$SMTP_PORT (certificate $RUN/relay.crt), http://127.0.0.1:$MAIL_UI_PORT"; return 0; }
	tail -n 20 "$RUN/log/maildev.log" >&2
	die "maildev did not listen on $NET.1:$SMTP_PORT"
}

# ---------------------------------------------------------------- one host

# host_config H: adcraft.conf and worker.conf of host H. The same secrets on
# both hosts (a token issued by one is valid on the other; an export link
# signed by one is honoured by the other's nginx); everything else is local.
host_config() {
	local h=$1 d=$RUN/host-$1 role
	mkdir -p "$d/run" "$d/log" "$d/nginx-temp" "$d/adcraft"
	for role in api worker; do
		cat >"$d/$role.conf" <<-EOF
		# host-$h's adcraft-$role configuration, written by scripts/scale-demo.sh
		database_url = host=$NET.1 port=$PG_PORT dbname=adcraft user=adcraft_$role
		database_password_file = $RUN/secrets/db-$role.key
		listen = $d/run/api.sock
		listen_slow = $d/run/api-slow.sock
		slow_processes = 2
		listen_tcp = 127.0.0.1:9001
		processes = $API_PROCESSES
		jwt_secret_file = $RUN/secrets/jwt.key
		sql_dir = $REPO/sql
		log_level = info
		worker_processes = $WORKER_PROCESSES
		worker_batch = 1
		edge_secret_file = $RUN/secrets/edge.key
		events_publish_socket = $d/run/nchan.sock
		smtp_servers = smtps://$NET.1:$SMTP_PORT ca_file=$RUN/relay.crt max_conns=4 per_conn=100 rate=40
		mail_from = news@adcraft.local
		mail_from_name = adcraft scale demo
		mail_reply_to = reply@adcraft.local
		mail_unsubscribe_mailto = unsubscribe@adcraft.local
		mail_public_base_url = http://${ADDR[a]}:8080
		mail_token_key_file = $RUN/secrets/mail-token.key
		mail_webhook_secret_file = $RUN/secrets/mail-webhook.key
		media_dir = $RUN/shared/media
		exports_dir = $RUN/shared/exports
		export_link_key_file = $RUN/secrets/export-link.key
		EOF
	done
	host_nginx "$h" "${ADDR[$h]}"
}

# host_nginx H ADDR: host H's nginx.conf: the repo's locations and publisher,
# every nchan location on the shared Redis (adcraft/events-store.conf).
host_nginx() {
	local h=$1 addr=$2 d=$RUN/host-$1 f name
	for f in "$REPO"/nginx/*.conf; do
		name=${f##*/}
		case $name in adcraft.conf | dev.conf.in | limit-*.conf | cors-origins.conf | events-store.conf) continue ;; esac
		ln -sfn "$f" "$d/adcraft/$name"
	done
	echo 'limit_req  zone=adcraft_auth_ip burst=1000;' >"$d/adcraft/limit-auth.conf"
	echo 'limit_req  zone=adcraft_api burst=5000 nodelay;' >"$d/adcraft/limit-api.conf"
	echo '# no cross-origin callers in the demo' >"$d/adcraft/cors-origins.conf"
	# every nchan location on the shared Redis (nginx/events-store.conf)
	echo 'nchan_redis_pass  adcraft_redis;' >"$d/adcraft/events-store.conf"
	(umask 077 && printf 'fastcgi_param  ADCRAFT_EDGE_SECRET  "%s";\n' "$(cat "$RUN/secrets/edge.key")" \
		>"$d/adcraft/edge-secret.conf")
	(umask 077 && cat >"$d/nginx.conf" <<-EOF
	# host-$h's nginx, written by scripts/scale-demo.sh
	user root root;
	worker_processes 1;
	daemon on;
	pid "$d/run/nginx.pid";
	error_log "$d/log/nginx-error.log" notice;
	load_module $NGINX_MODULE;
	events { worker_connections 1024; }
	http {
	    server_tokens off;
	    default_type application/octet-stream;
	    sendfile on;
	    tcp_nodelay on;
	    log_format adcraft '\$remote_addr [\$time_iso8601] "\$request" \$status \$body_bytes_sent rid=\$request_id';
	    access_log "$d/log/nginx-access.log" adcraft;
	    client_body_temp_path "$d/nginx-temp/client_body";
	    proxy_temp_path "$d/nginx-temp/proxy";
	    fastcgi_temp_path "$d/nginx-temp/fastcgi";
	    uwsgi_temp_path "$d/nginx-temp/uwsgi";
	    scgi_temp_path "$d/nginx-temp/scgi";

	    include adcraft/maps.conf;
	    map \$host \$adcraft_exports_dir { default "$RUN/shared/exports"; }
	    limit_req_zone \$binary_remote_addr zone=adcraft_auth_ip:10m rate=1000r/s;
	    limit_req_zone \$adcraft_api_client zone=adcraft_api:10m rate=1000r/s;

	    # Every nginx host shares the channels: messages, buffers and message
	    # ids live in Redis (nchan's distributed mode), so a subscriber on one
	    # host hears what the other host's programs publish, and resumes there.
	    # adcraft/events-store.conf puts every nchan location on it.
	    upstream adcraft_redis {
	        nchan_redis_server redis://$NET.1:$REDIS_PORT;
	        nchan_redis_password $(cat "$RUN/secrets/redis.key");
	    }

	    upstream adcraft_api { server "unix:$d/run/api.sock"; keepalive 16; }
	    # the routes that can take long (ROUTE_SLOW: locations.conf), never kept
	    upstream adcraft_api_slow { server "unix:$d/run/api-slow.sock"; }
	    # adcraft-api's TCP listener on this host's own loopback (its netns's lo)
	    upstream adcraft_auth { server 127.0.0.1:9001; }

	    server {
	        listen $addr:8080;
	        server_name _;
	        include adcraft/locations.conf;
	        location /media/ {
	            alias "$RUN/shared/media/";
	            include adcraft/media-files.conf;
	        }
	    }
	    server {
	        listen "unix:$d/run/nchan.sock";
	        include adcraft/events-publisher.conf;
	    }
	}
	EOF
	)
}

host_up() {
	local h=$1 d=$RUN/host-$1 i addr=${ADDR[$1]}
	in_host "$h" nginx -p "$d" -c "$d/nginx.conf" -e "$d/log/nginx-error.log" -t -q \
		>"$d/log/nginx-start.log" 2>&1 || { cat "$d/log/nginx-start.log" >&2; die "host-$h: nginx rejects $d/nginx.conf"; }
	in_host "$h" nginx -p "$d" -c "$d/nginx.conf" -e "$d/log/nginx-error.log" </dev/null \
		>>"$d/log/nginx-start.log" 2>&1 || { tail -n 20 "$d/log/nginx-error.log" >&2; die "host-$h: nginx did not start"; }
	daemon api "$h" "$d/run/api.pid" "$BUILD/adcraft-api" --config "$d/api.conf" --pidfile "$d/run/api.pid"
	for ((i = 0; i < 100; i++)); do
		curl -fsS -o /dev/null --max-time 2 "http://$addr:8080/api/health" 2>/dev/null && return 0
		sleep 0.1
	done
	curl -sS --max-time 2 "http://$addr:8080/api/health" >&2 || true
	tail -n 20 "$d/log/api.log" "$d/log/nginx-error.log" >&2
	die "host-$h: GET http://$addr:8080/api/health did not answer 200 within 10 s"
}

host_down() {
	local d=$RUN/host-$1
	[ -d "$d/run" ] || return 0
	worker_stop "$1"
	stop_pid "$d/run/api.pid" group
	stop_pid "$d/run/nginx.pid"
}

# ---------------------------------------------------------------- the run

cleanup() {
	local rc=$? h
	trap - EXIT INT TERM
	set +e
	stop_pid "$RUN/run/scenario.pid"
	stop_pid "$RUN/run/sleep.pid"
	for h in "${HOSTS[@]}"; do host_down "$h"; done
	stop_pid "$RUN/run/maildev.pid"
	stop_pid "$RUN/run/redis.pid"
	pg_down
	net_down
	if $KEEP; then
		say "kept $RUN (logs in log/ and host-*/log/)"
	else
		rm -rf "$RUN"
	fi
	exit "$rc"
}

main() {
	local check=false stay=false h arg rc=0
	KEEP=false
	for arg in "$@"; do
		case $arg in
		--check) check=true ;;
		--keep) KEEP=true ;;
		--stay) stay=true ;;
		*) die "usage: scripts/scale-demo.sh [--check] [--keep] [--stay]" ;;
		esac
	done
	[ "$(id -u)" -eq 0 ] || die "the scale demo needs root (ip netns, veth pairs, a bridge)"
	for arg in adcraft adcraft-api adcraft-worker; do
		[ -x "$BUILD/$arg" ] || die "$BUILD/$arg is missing: ./dev build"
	done
	command -v redis-server >/dev/null || die "redis-server is missing: apt-get install redis-server (./dev scale-demo does)"
	[ -f "$NGINX_MODULE" ] || die "$NGINX_MODULE is missing: apt-get install libnginx-mod-nchan"

	RUN=$(mktemp -d /tmp/adcraft-scale-XXXXXX)
	chmod 755 "$RUN" # postgres must reach its data directory
	mkdir -p "$RUN/log" "$RUN/run" "$RUN/shared/media" "$RUN/shared/exports"
	trap cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM

	local t0=$SECONDS
	net_up
	secrets
	pg_up
	redis_up
	maildev_up
	for h in "${HOSTS[@]}"; do host_config "$h"; done
	cat >"$RUN/scale.env" <<-EOF
	N=$N
	NET=$NET
	ADDR_a=${ADDR[a]}
	ADDR_b=${ADDR[b]}
	PG_PORT=$PG_PORT
	REDIS_PORT=$REDIS_PORT
	SMTP_PORT=$SMTP_PORT
	MAIL_UI_PORT=$MAIL_UI_PORT
	EOF
	for h in "${HOSTS[@]}"; do host_up "$h"; done
	# host-b's worker only: the first job has nowhere else to run
	worker_start b
	say "up in $((SECONDS - t0)) s: host-a http://${ADDR[a]}:8080 (nginx, api), host-b http://${ADDR[b]}:8080 (nginx, api, worker)"

	local args=(--run "$RUN" --ctl "$REPO/scripts/scale-demo.sh")
	$check && args+=(--check)
	# in the background, so that a signal runs the trap at once (bash runs
	# traps only between foreground commands)
	/usr/bin/python3 "$REPO/scripts/scale-demo.py" "${args[@]}" &
	echo $! >"$RUN/run/scenario.pid"
	wait $! || rc=$?
	rm -f "$RUN/run/scenario.pid"
	if $stay; then
		say "the hosts stay up until Ctrl-C: $RUN, PostgreSQL: psql -h $RUN/pg-socket -p $PG_PORT -U postgres adcraft"
		say "start/stop a worker: $REPO/scripts/scale-demo.sh ctl $RUN worker start|stop a|b"
		while :; do
			sleep 3600 &
			echo $! >"$RUN/run/sleep.pid"
			wait $!
		done
	fi
	return "$rc"
}

# ctl RUN worker start|stop a|b: the scenario's handle on one host's worker.
ctl() {
	local what=$2 verb=$3 h=$4
	RUN=$1
	[ -f "$RUN/scale.env" ] || die "ctl: $RUN is not a running scale demo"
	# shellcheck disable=SC1091
	. "$RUN/scale.env"
	NS_PREFIX=acs$N
	[[ " ${HOSTS[*]} " == *" $h "* ]] || die "ctl: unknown host '$h'"
	case $what/$verb in
	worker/start) worker_start "$h" ;;
	worker/stop) worker_stop "$h" ;;
	*) die "ctl: unknown command $what $verb" ;;
	esac
}

if [ "${1:-}" = ctl ]; then
	shift
	[ $# -eq 4 ] || die "usage: scripts/scale-demo.sh ctl RUN_DIR worker start|stop a|b"
	ctl "$@"
else
	main "$@"
fi
