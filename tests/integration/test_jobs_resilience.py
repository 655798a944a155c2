"""Job queue resilience (issue #4) on a stack of its own with fast heartbeats
(1 s) and a 3 s stale limit: kill -9 of a worker mid-job, a worker frozen past
the stale limit (fenced completion), a PostgreSQL restart mid-run, and SIGTERM
with jobs in flight.
"""

import os
import signal
import time
import uuid

import pytest
from psycopg.rows import dict_row

from helpers import Stack, _alive
from jobs_helpers import children, enqueue, holder_pid, job_row, log_events, wait_for, wait_state, worker_log

FAST_RESCUE = {
    "ADCRAFT_DEV_JOB_HEARTBEAT": "1",
    "ADCRAFT_DEV_JOB_STALE": "3",
    "ADCRAFT_DEV_WORKERS": "2",
}


@pytest.fixture(scope="module")
def stack():
    with Stack.start(FAST_RESCUE) as s:
        yield s


# --- helpers -----------------------------------------------------------------

def worker_master(stack):
    return int(stack.read_file("run/worker.pid").split()[0])


def ensure_workers(stack, n=2, timeout=10):
    """The stack's worker master runs n live children (restarts it if needed)."""
    try:
        master = worker_master(stack)
        ok = _alive(master)
    except (OSError, ValueError):
        ok = False
    if not ok:
        stack.dev("up", "--no-build", "--no-demo", timeout=120)
        master = worker_master(stack)
    kids = wait_for(lambda: (lambda c: c if len(c) == n else None)(children(master)), timeout)
    assert kids, f"worker master {master} has children {children(master)}\n{worker_log(stack)}"
    return master, kids


def idle_queues(conn, timeout=20):
    """Nothing due is queued or running (earlier tests' leftovers are finished)."""
    ok = wait_for(lambda: conn.execute("SELECT count(*) FROM jobs WHERE state = 'running'"
                                       " OR (state = 'queued' AND run_at <= now())").fetchone()[0] == 0,
                  timeout, 0.1)
    assert ok, conn.execute("SELECT id, state, attempts, locked_by FROM jobs WHERE state IN"
                            " ('queued', 'running')").fetchall()


def register(stack):
    """A new user, for a test's set-up: one retry on 503 (an API child may still hold
    a connection from before an earlier PostgreSQL restart: see
    test_jobs_api_usable_right_after_postgres_restart)."""
    try:
        return stack.register_user()
    except AssertionError:
        time.sleep(0.2)
        return stack.register_user()


def setup_request(stack, *args, **kw):
    r = stack.api(*args, **kw)
    if r.status_code == 503:
        time.sleep(0.2)
        r = stack.api(*args, **kw)
    return r


# --- kill -9 ---------------------------------------------------------------------

def test_kill9_worker_mid_job_is_rescued_and_completed_once(stack, db):
    master, kids = ensure_workers(stack)
    idle_queues(db)
    jid = enqueue(db, "email-sending", payload={"sleepMs": 3000})
    row = wait_state(stack, db, jid, ("running",), timeout=3)
    victim = holder_pid(row["locked_by"])
    assert victim in kids, f"job held by pid {victim}, not a child of {master} ({kids})"
    dead_id = row["locked_by"]
    time.sleep(0.3)
    os.kill(victim, signal.SIGKILL)
    t_kill = time.monotonic()

    row = wait_state(stack, db, jid, ("completed", "failed", "cancelled"), timeout=20)
    took = time.monotonic() - t_kill
    assert row["state"] == "completed", row
    assert row["attempts"] == 2, f"expected one rescued retry: {row}"
    assert row["last_error"] and "stopped heartbeating" in row["last_error"], row
    assert dead_id in row["last_error"], row
    assert row["locked_by"] is None and row["result"] == {"ok": True}, row
    # stale 3 s + rescue tick 1 s + the 3 s rerun, with slack
    assert took < 12, f"rescue and rerun took {took:.1f}s"
    # exactly one completion: the job stays completed at attempt 2
    time.sleep(1.5)
    again = job_row(db, jid)
    assert (again["state"], again["attempts"], again["finished_at"]) == \
        ("completed", 2, row["finished_at"]), again
    # the dead worker's row shows no clean stop; the supervisor replaced it
    assert db.execute("SELECT stopped_at FROM workers WHERE id = %s", [dead_id]).fetchone()[0] is None
    kids_after = wait_for(lambda: (lambda c: c if len(c) == 2 and victim not in c else None)(children(master)), 10)
    assert kids_after, children(master)


def test_frozen_worker_cannot_complete_a_rescued_job(stack, db):
    """SIGSTOP the holder past the stale limit: the job is rescued and completed by
    another worker (attempt 2); when the frozen one resumes, its attempt-1 result is
    fenced off and the job stays as the second worker left it."""
    master, kids = ensure_workers(stack)
    idle_queues(db)
    jid = enqueue(db, "analytics-processing", payload={"sleepMs": 1500})
    row = wait_state(stack, db, jid, ("running",), timeout=3)
    frozen = holder_pid(row["locked_by"])
    frozen_id = row["locked_by"]
    assert frozen in kids
    os.kill(frozen, signal.SIGSTOP)
    try:
        done = wait_state(stack, db, jid, ("completed", "failed", "cancelled"), timeout=15)
        assert done["state"] == "completed" and done["attempts"] == 2, done
        assert frozen_id in (done["last_error"] or ""), done
    finally:
        os.kill(frozen, signal.SIGCONT)
    # the resumed worker finds the job is no longer its own (heartbeat, <= 1 s) and gives up
    resumed = wait_for(lambda: [e for e in log_events(stack, jid) if e.get("pid") == frozen], 5)
    assert resumed, f"resumed worker {frozen} logged nothing about {jid}\n{worker_log(stack)}"
    time.sleep(0.5)
    final = job_row(db, jid)
    assert (final["state"], final["attempts"], final["finished_at"], final["locked_by"]) == \
        ("completed", 2, done["finished_at"], None), final
    assert _alive(frozen), "the resumed worker died"


# --- PostgreSQL restart ---------------------------------------------------------------

def test_postgres_restart_mid_run(stack, db):
    master, kids = ensure_workers(stack)
    idle_queues(db)
    tag = uuid.uuid4().hex
    try:
        check_postgres_restart(stack, db, master, kids, tag)
    finally:
        with stack.db() as conn:  # whatever is left must not hold up the next tests
            conn.execute("UPDATE jobs SET state = 'cancelled', finished_at = now(), locked_by = NULL,"
                         " heartbeat_at = NULL WHERE payload->>'tag' = %s AND state IN ('queued', 'running')",
                         [tag])


def check_postgres_restart(stack, db, master, kids, tag):
    # 2,000 noop jobs, three in four sleeping 5 ms: ~4 s of work for two workers
    n = db.execute(
        "SELECT count(enqueue(CASE WHEN g %% 2 = 0 THEN 'email-sending' ELSE 'data-exports' END, 'noop',"
        "       jsonb_build_object('tag', %s::text, 'n', g, 'sleepMs', CASE WHEN g %% 4 = 0 THEN 0 ELSE 5 END)))"
        "  FROM generate_series(1, 2000) g", [tag]).fetchone()[0]
    assert n == 2000

    def count_done(conn):
        return conn.execute("SELECT count(*) FROM jobs WHERE payload->>'tag' = %s AND state = 'completed'",
                            [tag]).fetchone()[0]
    assert wait_for(lambda: count_done(db) >= 200, 10), count_done(db)
    before = count_done(db)
    db.close()
    assert before < 2000, "all jobs finished before the restart: make them slower"

    stack.pg_stop()
    t_down = time.monotonic()
    time.sleep(1.5)  # long enough for the batches in flight to end while it is down
    stack.pg_start()
    print(f"\nPostgreSQL down for {time.monotonic() - t_down:.2f}s with {before}/2000 completed")

    with stack.db() as conn:
        # every job ends completed, exactly one row per job, nothing left running
        finished = wait_for(lambda: count_done(conn) == 2000, 20, interval=0.2)
        stats = conn.execute(
            "SELECT count(*), count(DISTINCT payload->>'n'), count(*) FILTER (WHERE state = 'completed'),"
            "       count(*) FILTER (WHERE state IN ('failed', 'cancelled')), max(attempts),"
            "       count(*) FILTER (WHERE locked_by IS NOT NULL), count(*) FILTER (WHERE attempts > 1)"
            "  FROM jobs WHERE payload->>'tag' = %s", [tag]).fetchone()
        stuck = conn.execute(
            "SELECT locked_by, count(*), max(heartbeat_at) FROM jobs WHERE payload->>'tag' = %s"
            " AND state = 'running' GROUP BY 1", [tag]).fetchall()
        assert finished, (f"not all completed 20 s after the restart: (total, distinct, completed, failed or "
                          f"cancelled, max attempts, locked, retried) = {stats}; still running per worker "
                          f"(locked_by, count, last heartbeat): {stuck}\n{worker_log(stack, 12)}")
        total, distinct_n, completed, bad, max_attempts, locked, retried = stats
        assert (total, distinct_n, completed, bad, locked) == (2000, 2000, 2000, 0, 0), stats
        assert max_attempts <= 3, stats
        print(f"{retried} job(s) needed a second attempt after the restart")
        # both workers are back: fresh heartbeats, and new jobs run
        alive = conn.execute("SELECT count(*) FROM workers WHERE pid = ANY(%s) AND stopped_at IS NULL"
                             " AND heartbeat_at > now() - interval '3 seconds'", [kids]).fetchone()[0]
        assert alive == 2, worker_log(stack)
        after = enqueue(conn, "analytics-processing")
        assert wait_state(stack, conn, after, ("completed", "failed"), 3)["state"] == "completed"
    assert children(master) == kids, "workers were restarted instead of reconnecting"


def test_job_enqueued_right_after_postgres_restart_is_picked_up_at_once(stack, db):
    """Idle workers lose PostgreSQL (restart): a job enqueued as soon as it is back is
    started within a second (NOTIFY re-LISTENed, or the poll after reconnecting)."""
    master, kids = ensure_workers(stack)
    idle_queues(db)
    db.close()
    stack.pg_stop()
    stack.pg_start()
    t_up = time.monotonic()
    with stack.db() as conn:
        t0 = time.monotonic()
        probe = enqueue(conn, "email-sending", payload={"probe": True})
        started = wait_for(lambda: (lambda r: r if r["started_at"] else None)(job_row(conn, probe)), 10,
                           interval=0.01)
        latency = time.monotonic() - t0
        assert started, f"probe job not started within 10 s after the restart\n{worker_log(stack)}"
        assert latency < 1.0, (f"probe job started {latency:.2f}s after enqueue (PostgreSQL back "
                               f"{t0 - t_up:.2f}s before it)\n{worker_log(stack)}")
        assert wait_state(stack, conn, probe, ("completed", "failed"), 5)["state"] == "completed"
        # and the next one, through NOTIFY on the new connections
        time.sleep(0.5)
        t0 = time.monotonic()
        nxt = enqueue(conn, "data-exports")
        wait_state(stack, conn, nxt, ("completed",), 3)
        assert time.monotonic() - t0 < 1.0
    assert children(master) == kids, "workers were restarted instead of reconnecting"


def test_jobs_api_usable_right_after_postgres_restart(stack, db):
    """PostgreSQL restarts while the API is idle; once it is back, the first
    POST /api/jobs/campaigns/:id/generate-single requests are served (202), not
    answered 503 by API children still holding their dead connections."""
    _, token, _ = register(stack)
    cids = []
    for _ in range(3):
        r = setup_request(stack, "POST", "/api/campaigns", token=token,
                          json={"name": "After restart", "objective": "awareness"})
        assert r.status_code == 201, r.text
        cids.append(r.json()["id"])
    db.close()
    stack.pg_stop()
    stack.pg_start()
    time.sleep(1.0)  # PostgreSQL has been accepting connections for a second
    got = []
    for cid in cids:
        r = stack.api("POST", f"/api/jobs/campaigns/{cid}/generate-single", token=token,
                      json={"contentType": "email", "platform": "email"})
        got.append((r.status_code, r.text[:120]))
    r = stack.api("GET", "/api/jobs/user/recent", token=token)
    got.append((r.status_code, r.text[:120]))
    assert [g[0] for g in got] == [202, 202, 202, 200], got


# --- SIGTERM ------------------------------------------------------------------------------

def test_sigterm_with_jobs_in_flight(stack, db):
    """Worker A runs a 30 s job; worker B has claimed a batch of 50 jobs of 200 ms;
    20 more are queued. SIGTERM the master: B finishes the job it is in and releases
    the rest of its batch, A gives its job 8 s then releases it (attempt not
    counted), queued jobs stay queued, every process exits within ~10 s and marks
    its workers row stopped."""
    master, kids = ensure_workers(stack)
    idle_queues(db)
    user, token, _ = register(stack)
    tag = uuid.uuid4().hex
    try:
        long_id = enqueue(db, "data-exports", payload={"tag": tag, "sleepMs": 30000})
        long_row = wait_state(stack, db, long_id, ("running",), timeout=3)
        a = holder_pid(long_row["locked_by"])
        db.execute("SELECT enqueue('email-sending', 'noop', jsonb_build_object('tag', %s::text, 'batch', g,"
                   " 'sleepMs', 200)) FROM generate_series(1, 50) g", [tag])

        def batch_claimed():
            r = db.execute("SELECT count(*), min(locked_by), max(locked_by) FROM jobs"
                           " WHERE payload->>'tag' = %s AND payload ? 'batch' AND state = 'running'",
                           [tag]).fetchone()
            return r if r[0] >= 45 else None
        claimed = wait_for(batch_claimed, 3)
        assert claimed and claimed[1] == claimed[2], f"batch not claimed by one worker: {claimed}"
        b = holder_pid(claimed[1])
        assert {a, b} == set(kids), (a, b, kids)
        db.execute("SELECT enqueue('email-sending', 'noop', jsonb_build_object('tag', %s::text, 'waiting', g))"
                   " FROM generate_series(1, 20) g", [tag])
        time.sleep(0.5)

        t0 = time.monotonic()
        os.kill(master, signal.SIGTERM)
        # B: its in-flight 200 ms job, then the rest released, so it leaves at once
        assert wait_for(lambda: not _alive(b), 3), f"worker B ({b}) still running 3 s after SIGTERM"
        b_took = time.monotonic() - t0
        gone = wait_for(lambda: not _alive(master) and not _alive(a), 14, interval=0.05)
        took = time.monotonic() - t0
        assert gone, f"adcraft-worker still running {took:.1f}s after SIGTERM\n{worker_log(stack)}"
        assert took < 11, f"adcraft-worker took {took:.1f}s to exit"
        assert took > 7, f"the running job was not given its grace period ({took:.1f}s)"
        print(f"\nSIGTERM: worker B exited after {b_took:.2f}s, all after {took:.2f}s")

        cur = db.cursor(row_factory=dict_row)
        long_row = job_row(db, long_id)
        assert long_row["state"] == "queued", long_row
        assert long_row["attempts"] == 0, f"a released attempt must not count: {long_row}"
        assert long_row["locked_by"] is None and long_row["heartbeat_at"] is None, long_row
        assert long_row["finished_at"] is None, long_row

        batch = cur.execute("SELECT state, attempts, locked_by FROM jobs WHERE payload->>'tag' = %s"
                            " AND payload ? 'batch'", [tag]).fetchall()
        assert len(batch) == 50
        states = {}
        for r in batch:
            states[r["state"]] = states.get(r["state"], 0) + 1
            assert r["locked_by"] is None, r
            if r["state"] == "completed":
                assert r["attempts"] == 1, r
            else:
                assert r["state"] == "queued" and r["attempts"] == 0, r
        assert states.get("queued", 0) >= 30, f"unstarted batch jobs were not released: {states}"

        waiting = cur.execute("SELECT state, attempts, locked_by, started_at FROM jobs"
                              " WHERE payload->>'tag' = %s AND payload ? 'waiting'", [tag]).fetchall()
        assert len(waiting) == 20
        assert all(r["state"] == "queued" and r["attempts"] == 0 and r["started_at"] is None
                   for r in waiting), waiting

        rows = cur.execute("SELECT pid, stopped_at FROM workers WHERE pid = ANY(%s)", [kids]).fetchall()
        assert len(rows) == 2 and all(r["stopped_at"] is not None for r in rows), rows
        assert not os.path.exists(os.path.join(stack.dir, "run", "worker.pid"))
        released = [e for e in log_events(stack, long_id) if e.get("event") == "released for another worker"]
        assert released, worker_log(stack)

        # with no worker left, the jobs health says so: to anyone, and with the workers to an operator
        health = stack.api("GET", "/api/jobs/health", token=token)
        assert health.status_code == 200, health.text
        h = health.json()
        assert h["status"] == "degraded" and h["database"] == "ok" and "workers" not in h, h
        db.execute("UPDATE users SET is_operator = true WHERE id = %s", [user["id"]])
        h = stack.api("GET", "/api/jobs/health", token=token).json()
        assert h["status"] == "degraded" and h["scope"] == "system", h
        assert not any(w["alive"] for w in h["workers"]), h["workers"]
    finally:
        # drop this test's leftovers (every test here starts with ensure_workers())
        db.execute("UPDATE jobs SET state = 'cancelled', finished_at = now(), locked_by = NULL,"
                   " heartbeat_at = NULL WHERE payload->>'tag' = %s AND state IN ('queued', 'running')", [tag])
