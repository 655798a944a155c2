/*
 * server.c - pre-fork master and child accept loop.
 *
 * Children wait on every listening socket with one epoll set each; the
 * sockets are registered EPOLLEXCLUSIVE, so a connection wakes one child,
 * not all of them. The listening sockets are non-blocking: a child that loses
 * the race gets EAGAIN from libfcgi's accept and goes back to waiting. The
 * same epoll set holds the connections nginx keeps (fastcgi_keep_conn) and
 * the child's PostgreSQL socket: see "kept connections" and db_watch below.
 *
 * Pools: with a slow listener (listen_slow, or a systemd socket named
 * "slow"), the children form two pools. The fast pool (`processes`
 * children) waits on the other listeners and keeps the connections nginx
 * keeps; the slow pool (`slow_processes` more) waits on the slow listener
 * only and closes every connection after its response.
 * nginx sends the routes that can take long (ROUTE_SLOW: argon2, synchronous
 * LLM calls, uploads, imports) to the slow socket without keep_conn, so no
 * request ever waits on a kept connection behind one of them. Without a
 * slow listener one pool serves everything.
 */
#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcgiapp.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"
#include "dispatch.h"
#include "log.h"
#include "generate.h"
#include "metrics.h"
#include "password.h"
#include "supervisor.h"

#define MAX_LISTEN 8
#define DRAIN_SECONDS 10

enum pool { POOL_FAST, POOL_SLOW };

struct listener {
	int fd;
	const char *unix_path; /* unlinked at exit when we created it */
	bool tcp;	       /* an IP socket: serves ROUTE_INTERNAL routes only */
	enum pool pool;
};

static struct listener listeners[MAX_LISTEN];
static int nlisteners;
static int npools = 1; /* 2 once a slow listener exists */
static volatile sig_atomic_t child_stop;

/* ---- sockets ---------------------------------------------------------- */

static int set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	return fl < 0 ? -errno : (fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 ? -errno : 0);
}

static int open_unix(const char *path, mode_t mode)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	unlink(path); /* a stale socket from a previous run */
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod(path, mode) < 0 || listen(fd, 1024) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	return fd;
}

static int open_tcp(const char *hostport)
{
	char host[256];
	int port;
	if (config_parse_hostport(hostport, host, sizeof(host), &port) < 0)
		return -EINVAL;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	if (inet_pton(AF_INET, strcmp(host, "localhost") == 0 ? "127.0.0.1" : host, &sa.sin_addr) != 1)
		return -EINVAL;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 1024) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	return fd;
}

static bool is_listening_socket(int fd)
{
	int v = 0;
	socklen_t len = sizeof(v);
	return getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &v, &len) == 0 && v;
}

/* AF_INET or AF_INET6, whoever opened it (us or systemd). */
static int is_ip_socket(int fd, bool *ret)
{
	struct sockaddr_storage sa;
	socklen_t len = sizeof(sa);
	if (getsockname(fd, (struct sockaddr *)&sa, &len) < 0)
		return -errno;
	*ret = sa.ss_family == AF_INET || sa.ss_family == AF_INET6;
	return 0;
}

static int add_listener(int fd, const char *unix_path, enum pool pool)
{
	if (nlisteners == MAX_LISTEN)
		return -EMFILE;
	bool tcp = false;
	int r = set_nonblock(fd);
	if (r < 0 || (r = is_ip_socket(fd, &tcp)) < 0)
		return r;
	listeners[nlisteners].fd = fd;
	listeners[nlisteners].unix_path = unix_path;
	listeners[nlisteners].tcp = tcp;
	listeners[nlisteners].pool = pool;
	nlisteners++;
	if (pool == POOL_SLOW)
		npools = 2;
	return 0;
}

/* The i-th name in LISTEN_FDNAMES ("a:b:c", FileDescriptorName=) is "slow". */
static bool fd_named_slow(const char *names, int i)
{
	for (; names && i > 0; i--) {
		names = strchr(names, ':');
		names = names ? names + 1 : NULL;
	}
	return names && strncmp(names, "slow", 4) == 0 && (names[4] == ':' || names[4] == '\0');
}

/* The sockets systemd passed (LISTEN_PID, LISTEN_FDS), all of them or none;
 * those LISTEN_FDNAMES names "slow" go to the slow pool. */
static int add_systemd_listeners(const char *fds, const char *names)
{
	char *end;
	errno = 0;
	long n = strtol(fds, &end, 10);
	if (errno || *end || end == fds || n < 1) {
		log_msg(LOG_ERROR, "LISTEN_FDS=\"%s\" is not a positive number", fds);
		return -EINVAL;
	}
	if (n > MAX_LISTEN) {
		log_msg(LOG_ERROR, "systemd passed %ld sockets; adcraft-api serves at most %d", n, MAX_LISTEN);
		return -EMFILE;
	}
	for (int fd = 3; fd < 3 + n; fd++) {
		enum pool pool = fd_named_slow(names, fd - 3) ? POOL_SLOW : POOL_FAST;
		int r = fcntl(fd, F_SETFD, FD_CLOEXEC) < 0 ? -errno : add_listener(fd, NULL, pool);
		if (r < 0) {
			log_msg(LOG_ERROR, "systemd socket fd %d: %s", fd, strerror(-r));
			return r;
		}
	}
	return 0;
}

static int open_listeners(const struct config *cfg)
{
	int fd, r;
	if (*cfg->listen) {
		if ((fd = open_unix(cfg->listen, (mode_t)cfg->listen_mode)) < 0 ||
		    (r = add_listener(fd, cfg->listen, POOL_FAST)) < 0) {
			r = fd < 0 ? fd : r;
			log_msg(LOG_ERROR, "listen %s: %s", cfg->listen, strerror(-r));
			return r;
		}
	}
	if (*cfg->listen_tcp) {
		if ((fd = open_tcp(cfg->listen_tcp)) < 0 || (r = add_listener(fd, NULL, POOL_FAST)) < 0) {
			r = fd < 0 ? fd : r;
			log_msg(LOG_ERROR, "listen_tcp %s: %s", cfg->listen_tcp, strerror(-r));
			return r;
		}
	}
	if (*cfg->listen_slow) {
		if ((fd = open_unix(cfg->listen_slow, (mode_t)cfg->listen_mode)) < 0 ||
		    (r = add_listener(fd, cfg->listen_slow, POOL_SLOW)) < 0) {
			r = fd < 0 ? fd : r;
			log_msg(LOG_ERROR, "listen_slow %s: %s", cfg->listen_slow, strerror(-r));
			return r;
		}
	}
	if (nlisteners)
		return 0;

	/* systemd socket activation, then the FastCGI fd-0 convention */
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
	if (pid && fds && atol(pid) == (long)getpid()) {
		if ((r = add_systemd_listeners(fds, getenv("LISTEN_FDNAMES"))) < 0)
			return r;
		unsetenv("LISTEN_PID");
		unsetenv("LISTEN_FDS");
		unsetenv("LISTEN_FDNAMES");
	} else if (is_listening_socket(0)) {
		if ((r = add_listener(0, NULL, POOL_FAST)) < 0) {
			log_msg(LOG_ERROR, "fd 0: %s", strerror(-r));
			return r;
		}
	}
	if (!nlisteners) {
		log_msg(LOG_ERROR, "nothing to listen on: set listen or listen_tcp, or start from systemd sockets");
		return -EINVAL;
	}
	if (nlisteners == 1 && npools == 2) {
		log_msg(LOG_ERROR, "only a slow socket to listen on: the fast pool needs listen or listen_tcp");
		return -EINVAL;
	}
	return 0;
}

/* ---- child ------------------------------------------------------------ */

static void on_child_stop(int sig)
{
	(void)sig;
	child_stop = 1;
}

/*
 * The child's PostgreSQL socket sits in its epoll set beside the listeners
 * (db_watch): a server that closes the connection while the child is idle
 * is noticed by the epoll_wait the child makes anyway, instead of by a
 * poll(2) before every request. A reconnect (new generation) re-registers.
 */
#define DB_EVENT UINT32_MAX

struct db_watch {
	int fd;
	unsigned generation;
};

static void watch_db(int ep, db *d, struct db_watch *w)
{
	int fd = db_socket(d);
	if (fd == w->fd && db_generation(d) == w->generation)
		return;
	if (w->fd >= 0)
		epoll_ctl(ep, EPOLL_CTL_DEL, w->fd, NULL); /* fails harmlessly once the fd was closed */
	struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP, .data.u32 = DB_EVENT };
	w->fd = fd >= 0 && epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == 0 ? fd : -1;
	w->generation = db_generation(d);
}

/* The idle connection's socket is readable: a notice, or the server going away. */
static void db_idle_input(int ep, db *d, struct db_watch *w)
{
	db_input(d);
	if (db_socket(d) >= 0)
		return;
	if (w->fd >= 0)
		epoll_ctl(ep, EPOLL_CTL_DEL, w->fd, NULL); /* a broken connection's fd stays readable */
	w->fd = -1;
	db_ensure(d); /* reconnect now, while idle; a failure is retried by the next request */
	watch_db(ep, d, w);
}

/*
 * Kept connections: those nginx keeps (fastcgi_keep_conn on, upstream keepalive).
 * libfcgi serves one connection per FCGX_Request, blocking on it between
 * requests, so a kept connection would stall a child that nginx has no
 * reason to use: requests on other connections waited in the backlog (p99
 * of 2 s in PERF-NOTES). Here every kept connection is in the child's epoll
 * set beside the listeners, and libfcgi is only asked to read one that is
 * readable: a child never waits on an idle connection. A request on a kept
 * connection waits at most for the request the child is serving. Without
 * FCGI_KEEP_CONN (nginx's default) libfcgi closes the connection after the
 * response and nothing is kept. Slot MAX_KEPT serves, and then closes, a
 * connection accepted while every other slot is taken. A slow-pool child
 * (keep_conns false) closes every connection after its response, even one
 * nginx asked to keep: nothing may wait behind its long requests.
 */
#define MAX_KEPT 64
#define KEPT_EVENT 0x10000u
#define MAX_EVENTS 32

struct conn {
	FCGX_Request req; /* req.ipcFd >= 0: a kept connection, in the epoll set */
	bool tcp;	  /* accepted on the loopback TCP listener */
};

static struct conn conns[MAX_KEPT + 1];
static bool keep_conns = true; /* false in a slow-pool child */

/* One request read by FCGX_Accept_r, answered, and the response released. */
static void serve(struct app *app, arena *a, struct conn *c)
{
	/* notifications go out before the response is released, so a client that
	 * sends its requests one after the other sees their events in that order */
	struct pending_event *later = dispatch(app, &c->req, a, c->tcp);
	dispatch_publish(app, later, a);
	FCGX_Finish_r(&c->req); /* closes the connection unless nginx asked to keep it */
	dispatch_after(app, later, a);
	arena_reset(a);
}

static struct conn *free_slot(void)
{
	for (int s = 0; s < MAX_KEPT; s++)
		if (conns[s].req.ipcFd < 0)
			return &conns[s];
	return &conns[MAX_KEPT];
}

/* A listener is readable: accept (unless another child was quicker), serve, keep. */
static void accept_one(int ep, struct app *app, arena *a, int l)
{
	struct conn *c = free_slot();
	FCGX_InitRequest(&c->req, listeners[l].fd, FCGI_FAIL_ACCEPT_ON_INTR);
	c->tcp = listeners[l].tcp;
	if (FCGX_Accept_r(&c->req) < 0)
		return; /* another child took it, or the peer left */
	/* Never accept through this slot again: when a kept connection ends, libfcgi's
	 * FCGX_Accept_r would accept a new one in its place, unknown to the epoll set. */
	c->req.listen_sock = -1;
	serve(app, a, c);
	if (c->req.ipcFd < 0)
		return;
	if (!keep_conns) {
		FCGX_Free(&c->req, 1);
		return;
	}
	struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP,
				  .data.u32 = KEPT_EVENT + (uint32_t)(c - conns) };
	if (c == &conns[MAX_KEPT] || epoll_ctl(ep, EPOLL_CTL_ADD, c->req.ipcFd, &ev) < 0)
		FCGX_Free(&c->req, 1); /* closes it: nginx opens another */
}

/* A kept connection is readable: nginx's next request, or nginx closing it. */
static void kept_readable(int ep, struct app *app, arena *a, struct conn *c, uint32_t events)
{
	(void)ep; /* a closed fd leaves the epoll set by itself */
	if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
		FCGX_Free(&c->req, 1);
		return;
	}
	if (FCGX_Accept_r(&c->req) < 0)
		return; /* it ended: libfcgi closed it (ipcFd is -1) */
	serve(app, a, c);
}

static void __attribute__((noreturn)) child_main(const struct config *cfg, const char *dummy_hash,
						 int64_t started_at, enum pool pool)
{
	struct sigaction sa = { .sa_handler = on_child_stop };
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);

	struct app app = {
		.cfg = cfg,
		.keys = { cfg->jwt_secret, cfg->jwt_secret_len, cfg->jwt_issuer, cfg->jwt_audience,
			  cfg->access_token_ttl },
		.db = db_new(cfg->database_url, cfg->database_password, true),
		.dummy_hash = dummy_hash,
		.started_at = started_at,
		.events_keys = { cfg->jwt_secret, cfg->jwt_secret_len, cfg->jwt_issuer, cfg->events_audience,
				 cfg->events_cookie_ttl },
		.warn_slow_route = npools == 2 && pool == POOL_FAST,
	};
	keep_conns = pool == POOL_FAST;
	/* the fast pool's request lines go out in batches (log.h); a slow-pool
	 * child can wait seconds on the LLM, so its lines go out at once */
	if (pool == POOL_FAST)
		log_buffer_lines((int)cfg->log_flush_ms);
	if (events_init(&app.events, cfg) < 0) {
		log_msg(LOG_ERROR, "out of memory setting up the event publisher");
		_exit(1);
	}
	if (!db_connected(app.db))
		log_msg(LOG_WARN, "database not reachable yet: %s", db_error(app.db));

	int ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0) {
		log_msg(LOG_ERROR, "epoll_create1: %s", strerror(errno));
		_exit(1);
	}
	FCGX_Init();
	for (int i = 0; i < nlisteners; i++) {
		if (listeners[i].pool != pool)
			continue;
		struct epoll_event ev = { .events = EPOLLIN | EPOLLEXCLUSIVE, .data.u32 = (uint32_t)i };
		if (epoll_ctl(ep, EPOLL_CTL_ADD, listeners[i].fd, &ev) < 0) {
			log_msg(LOG_ERROR, "epoll_ctl on listener fd %d: %s", listeners[i].fd, strerror(errno));
			_exit(1);
		}
	}
	for (int s = 0; s <= MAX_KEPT; s++)
		FCGX_InitRequest(&conns[s].req, -1, 0);
	arena *a = arena_new(32768);
	struct db_watch dw = { .fd = -1 };
	db_watch(app.db);
	watch_db(ep, app.db, &dw);
	while (!child_stop) {
		struct epoll_event ev[MAX_EVENTS];
		int n = epoll_wait(ep, ev, MAX_EVENTS, log_flush_timeout_ms());
		log_flush_due();
		/* the connection first: a request must not meet a connection the server closed */
		for (int i = 0; i < n; i++)
			if (ev[i].data.u32 == DB_EVENT)
				db_idle_input(ep, app.db, &dw);
		for (int i = 0; i < n && !child_stop; i++) {
			uint32_t tag = ev[i].data.u32;
			if (tag == DB_EVENT)
				continue;
			if (tag >= KEPT_EVENT)
				kept_readable(ep, &app, a, &conns[tag - KEPT_EVENT], ev[i].events);
			else
				accept_one(ep, &app, a, (int)tag);
			watch_db(ep, app.db, &dw);
		}
	}
	events_close(&app.events);
	db_free(app.db);
	log_flush();
	daemon_child_exit(0);
}

/* ---- master ----------------------------------------------------------- */

struct master {
	struct config *cfg;
	const struct daemon_options *opt;
	char dummy_hash[PASSWORD_HASH_MAX];
	int64_t started_at;
};

/* The fast pool (or the only one): processes, or 4 per core. */
static int fast_children(const struct config *cfg)
{
	if (cfg->processes > 0)
		return (int)cfg->processes;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	return (int)(cpus > 0 ? cpus : 1) * 4; /* libpq calls block: ~4 per core (PERF-NOTES) */
}

static int wanted_children(void *ctx, int pool)
{
	const struct config *cfg = ((struct master *)ctx)->cfg;
	return pool == POOL_SLOW ? (int)cfg->slow_processes : fast_children(cfg);
}

static void child_entry(void *ctx, int pool)
{
	struct master *m = ctx;
	child_main(m->cfg, m->dummy_hash, m->started_at, (enum pool)pool);
}

static int reload(void *ctx)
{
	struct master *m = ctx;
	struct config *fresh;
	char err[512];
	if (daemon_load_config(m->opt->config_path, "api", &fresh, err, sizeof(err)) < 0) {
		log_msg(LOG_ERROR, "reload refused, keeping the running configuration: %s", err);
		return -1;
	}
	if (!fresh->edge_secret) {
		log_msg(LOG_ERROR, "reload refused, keeping the running configuration: edge_secret_file is not set");
		config_free(fresh);
		return -1;
	}
	if (strcmp(fresh->listen, m->cfg->listen) || strcmp(fresh->listen_tcp, m->cfg->listen_tcp) ||
	    strcmp(fresh->listen_slow, m->cfg->listen_slow))
		log_msg(LOG_WARN, "listen addresses changed: they take effect on restart, not reload");
	config_free(m->cfg);
	m->cfg = fresh;
	if (metrics_here)
		gen_metrics_register(metrics_here, fresh); /* a model the reload named */
	return 0;
}

int server_run(struct config *cfg, const struct daemon_options *opt)
{
	struct master m = { .cfg = cfg, .opt = opt, .started_at = time(NULL) };
	if (dispatch_init() < 0) {
		log_msg(LOG_ERROR, "route table is invalid");
		return 1;
	}
	if (!cfg->edge_secret) {
		log_msg(LOG_ERROR, "edge_secret_file is not set: nginx's requests could not be told from any "
				   "other local process's (generate one with: adcraft gen-secret; see docs/operations.md)");
		return 1;
	}
	if (open_listeners(cfg) < 0)
		return 1;
	/* One argon2 hash, computed before fork: unknown emails are verified against it. */
	struct password_cost cost = { (uint32_t)cfg->argon2_memory_kib, (uint32_t)cfg->argon2_iterations };
	if (password_hash(&cost, "adcraft-timing-equaliser", 24, m.dummy_hash) < 0) {
		log_msg(LOG_ERROR, "argon2 self-test failed");
		return 1;
	}
	/* Before fork: every child counts into it, and it outlives them (metrics.h). */
	struct metrics_region *counters;
	int mr = metrics_create_anon("api", &counters);
	if (mr < 0)
		log_msg(LOG_WARN, "shared counters: %s; GET /api/metrics shows the worker's only", strerror(-mr));
	else {
		metrics_here = counters;
		gen_metrics_register(counters, cfg);
	}
	int pr = opt->pidfile ? daemon_write_pidfile(opt->pidfile) : 0;
	if (pr < 0)
		log_msg(LOG_WARN, "pidfile %s: %s", opt->pidfile, strerror(-pr));

	struct supervisor sup = {
		.name = "adcraft-api",
		.drain_seconds = DRAIN_SECONDS,
		.ctx = &m,
		.npools = npools,
		.wanted = wanted_children,
		.child_main = child_entry,
		.reload = reload,
	};
	int status = supervisor_run(&sup);
	for (int i = 0; i < nlisteners; i++)
		if (listeners[i].unix_path)
			unlink(listeners[i].unix_path);
	if (opt->pidfile)
		unlink(opt->pidfile);
	config_free(m.cfg);
	log_msg(LOG_INFO, "stopped");
	return status;
}
