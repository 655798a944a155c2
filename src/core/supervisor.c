/*
 * supervisor.c - fork, reap, respawn with backoff, reload, drain.
 *
 * Signals are blocked in the master and taken synchronously with
 * sigtimedwait(), so there is no handler state to reason about.
 *
 * Under systemd (Type=notify) the master tells the manager READY=1 once the
 * first children are forked, RELOADING=1 and READY=1 around a reload,
 * STOPPING=1 when the drain starts, and WATCHDOG=1 every WatchdogSec/2 from
 * this loop: a master stuck anywhere stops pinging and systemd restarts it.
 */
#include "supervisor.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "sdnotify.h"

#define MAX_CHILDREN 256

struct child {
	pid_t pid;
	int generation;
	int pool;
	int64_t started_ms;
};

struct state {
	const struct supervisor *s;
	struct child children[MAX_CHILDREN];
	int generation;
	int64_t backoff_ms;
	int64_t respawn_at; /* monotonic ms; 0 = nothing pending */
	bool stopping;
	sigset_t blocked;
	struct sdnotify notify;
	int64_t watchdog_ms;	  /* interval between WATCHDOG=1 pings; 0 = none */
	int64_t watchdog_next_ms; /* monotonic ms of the next ping */
};

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int count_children(const struct state *st, int generation, int pool)
{
	int n = 0;
	for (int i = 0; i < MAX_CHILDREN; i++) {
		const struct child *c = &st->children[i];
		n += c->pid > 0 && c->generation == generation && c->pool == pool;
	}
	return n;
}

static void spawn_one(struct state *st, int pool)
{
	int slot = 0;
	while (slot < MAX_CHILDREN && st->children[slot].pid > 0)
		slot++;
	if (slot == MAX_CHILDREN)
		return;
	pid_t pid = fork();
	if (pid < 0) {
		log_msg(LOG_ERROR, "fork: %s", strerror(errno));
		return;
	}
	if (pid == 0) {
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		st->s->child_main(st->s->ctx, pool);
		_exit(0);
	}
	st->children[slot] = (struct child){ pid, st->generation, pool, mono_ms() };
}

/* Every pool's children of the current generation, up to what it wants (the
 * table's MAX_CHILDREN slots bound the sum: spawn_one stops when they are full). */
static void spawn_missing(struct state *st)
{
	for (int pool = 0; pool < st->s->npools; pool++) {
		int want = st->s->wanted(st->s->ctx, pool);
		for (int n = count_children(st, st->generation, pool); n < want && n < MAX_CHILDREN; n++)
			spawn_one(st, pool);
	}
}

static int wanted_total(const struct supervisor *s)
{
	int n = 0;
	for (int pool = 0; pool < s->npools; pool++)
		n += s->wanted(s->ctx, pool);
	return n;
}

static void signal_children(struct state *st, int sig, int generation /* 0: all */)
{
	for (int i = 0; i < MAX_CHILDREN; i++)
		if (st->children[i].pid > 0 && (!generation || st->children[i].generation == generation))
			kill(st->children[i].pid, sig);
}

static void reap(struct state *st)
{
	int status;
	pid_t pid;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (int i = 0; i < MAX_CHILDREN; i++) {
			struct child *c = &st->children[i];
			if (c->pid != pid)
				continue;
			c->pid = 0;
			bool clean = WIFEXITED(status) && WEXITSTATUS(status) == 0;
			if (st->stopping || (c->generation != st->generation && clean))
				break;
			int64_t lived = mono_ms() - c->started_ms;
			log_msg(LOG_ERROR, "%s child %d %s %d after %lld ms; replacing it", st->s->name, (int)pid,
				WIFSIGNALED(status) ? "killed by signal" : "exited with status",
				WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status), (long long)lived);
			st->backoff_ms = lived < 1000 ? (st->backoff_ms ? st->backoff_ms * 2 : 100) : 0;
			if (st->backoff_ms > 5000)
				st->backoff_ms = 5000;
			st->respawn_at = mono_ms() + st->backoff_ms;
			break;
		}
	}
}

static bool any_children(const struct state *st)
{
	for (int i = 0; i < MAX_CHILDREN; i++)
		if (st->children[i].pid > 0)
			return true;
	return false;
}

static void drain(struct state *st)
{
	st->stopping = true;
	signal_children(st, SIGTERM, 0);
	int64_t deadline = mono_ms() + (int64_t)st->s->drain_seconds * 1000;
	while (any_children(st) && mono_ms() < deadline) {
		struct timespec wait = { 0, 20 * 1000000 };
		sigtimedwait(&st->blocked, NULL, &wait); /* SIGCHLD, or a repeated SIGTERM */
		reap(st);
	}
	if (any_children(st)) {
		log_msg(LOG_WARN, "%s children still busy after %d s: killing them", st->s->name, st->s->drain_seconds);
		signal_children(st, SIGKILL, 0);
		while (waitpid(-1, NULL, 0) > 0)
			;
	}
}

/* Sends one message to systemd; a refusal is logged and the service goes on. */
static void notify(struct state *st, const char *message)
{
	int r = sdnotify_send(&st->notify, message);
	if (r < 0)
		log_msg(LOG_WARN, "%s: NOTIFY_SOCKET refused \"%.20s\": %s", st->s->name, message, strerror(-r));
}

/* Sends WATCHDOG=1 when it is due; returns ms until the next one (INT64_MAX: none). */
static int64_t watchdog(struct state *st)
{
	if (!st->watchdog_ms)
		return INT64_MAX;
	int64_t now = mono_ms();
	if (now >= st->watchdog_next_ms) {
		notify(st, "WATCHDOG=1");
		st->watchdog_next_ms = now + st->watchdog_ms;
	}
	return st->watchdog_next_ms - now;
}

int supervisor_run(const struct supervisor *s)
{
	static struct state st; /* large; one per process */
	memset(&st, 0, sizeof(st));
	st.s = s;
	st.generation = 1;
	sigemptyset(&st.blocked);
	sigaddset(&st.blocked, SIGCHLD);
	sigaddset(&st.blocked, SIGTERM);
	sigaddset(&st.blocked, SIGINT);
	sigaddset(&st.blocked, SIGHUP);
	sigprocmask(SIG_BLOCK, &st.blocked, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (sdnotify_open(&st.notify) < 0)
		log_msg(LOG_WARN, "%s: NOTIFY_SOCKET or WATCHDOG_USEC is malformed: not notifying systemd", s->name);
	st.watchdog_ms = (int64_t)(sdnotify_watchdog_interval(&st.notify) / 1000);

	spawn_missing(&st);
	log_msg(LOG_INFO, "%s %s running %d processes in %d pool%s", s->name, ADCRAFT_VERSION, wanted_total(s),
		s->npools, s->npools == 1 ? "" : "s");
	notify(&st, "READY=1\nSTATUS=running");
	for (;;) {
		int64_t left = 1000, until_ping = watchdog(&st);
		if (st.respawn_at) {
			left = st.respawn_at - mono_ms();
			left = left < 0 ? 0 : left;
		}
		left = until_ping < left ? until_ping : left;
		struct timespec wait = { left / 1000, (left % 1000) * 1000000 };
		int sig = sigtimedwait(&st.blocked, NULL, &wait);
		if (sig == SIGTERM || sig == SIGINT)
			break;
		if (sig == SIGHUP) {
			notify(&st, "RELOADING=1\nSTATUS=reloading");
			if (s->reload(s->ctx) == 0) {
				int old = st.generation++;
				spawn_missing(&st);
				signal_children(&st, SIGTERM, old);
				log_msg(LOG_INFO, "%s reloaded; generation %d replaces %d", s->name, st.generation, old);
			}
			notify(&st, "READY=1\nSTATUS=running");
		}
		reap(&st);
		if (!st.respawn_at || mono_ms() >= st.respawn_at) {
			st.respawn_at = 0;
			spawn_missing(&st);
		}
	}
	log_msg(LOG_INFO, "%s stopping: draining children (up to %d s)", s->name, s->drain_seconds);
	notify(&st, "STOPPING=1\nSTATUS=draining");
	drain(&st);
	return 0;
}
