"""Job queue core (issue #4) on a stack of its own: NOTIFY wake-ups, enqueue()
from psql with idempotency keys, outcomes, retries with backoff, max attempts,
cancel of a job claimed in a batch, clean stops (jobs_done, SIGTERM during a
database call), and 8 worker processes draining 5,000 jobs with no duplicates
and none lost.

The stack's workers heartbeat only every 60 s and poll every 300 s, so a job
that completes within a second can only have been woken by NOTIFY. Tests that
run their own adcraft-worker (build/adcraft-worker with the stack's
worker.conf) stop the stack's worker first and start it again afterwards.
"""

import json
import os
import signal
import statistics
import subprocess
import threading
import time
import uuid

import psycopg
import pytest
from psycopg.rows import dict_row

from helpers import BUILD_DIR, Stack, _alive, _tail
from jobs_helpers import children, enqueue, job_row, log_events, wait_for, wait_state, worker_log

NOTIFY_ONLY = {
    "ADCRAFT_DEV_JOB_HEARTBEAT": "60",   # idle workers wake at most once a minute...
    "ADCRAFT_DEV_JOB_STALE": "120",
    "ADCRAFT_JOB_POLL_SECONDS": "300",   # ...and poll every 5 minutes (config key via env)
}


@pytest.fixture(scope="module")
def stack():
    with Stack.start(NOTIFY_ONLY) as s:
        yield s


# --- helpers -----------------------------------------------------------------

def wake_workers(conn, queue):
    """What the insert/requeue triggers send; used after moving run_at by hand."""
    conn.execute("SELECT pg_notify('adcraft_jobs', %s)", [queue])


def stop_stack_worker(stack, timeout=15):
    pid = int(stack.read_file("run/worker.pid").split()[0])
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(pid), f"the stack's adcraft-worker (pid {pid}) ignored SIGTERM for {timeout}s"


def restart_stack_worker(stack):
    stack.dev("up", "--no-build", "--no-demo", timeout=120)


class OwnWorker:
    """build/adcraft-worker with the stack's worker.conf and env overrides."""

    def __init__(self, stack, env):
        self.stack = stack
        self.log_path = os.path.join(stack.dir, "log", f"worker-own-{uuid.uuid4().hex[:6]}.log")
        e = dict(os.environ)
        e.update(env)
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [os.path.join(BUILD_DIR, "adcraft-worker"), "--config",
             os.path.join(stack.dir, "worker.conf")],
            env=e, stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log,
            start_new_session=True)

    def children(self):
        return children(self.proc.pid)

    def tail(self):
        return _tail(self.log_path, 40)

    def stop(self, timeout=15):
        """SIGTERM the master; returns seconds it took to exit (kills it if it did not)."""
        t0 = time.monotonic()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
                raise AssertionError(f"adcraft-worker did not exit {timeout}s after SIGTERM\n{self.tail()}")
        self.log.close()
        return time.monotonic() - t0

    def kill(self):
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait(5)
        self.log.close()


# --- NOTIFY --------------------------------------------------------------------

def test_enqueue_completes_through_notify_without_poll_delay(stack, db):
    """Each noop job, enqueued while the workers sit idle, is completed in well under
    a second; with 60 s heartbeats and a 300 s poll, only NOTIFY can do that."""
    time.sleep(0.5)  # let both workers finish their start-up claim and go idle
    latencies = []
    for i in range(10):
        t0 = time.monotonic()
        jid = enqueue(db, "email-sending", payload={"probe": i})
        row = wait_state(stack, db, jid, ("completed", "failed"), timeout=3)
        latencies.append(time.monotonic() - t0)
        assert row["state"] == "completed", row
        assert row["attempts"] == 1, row
        assert row["result"] == {"ok": True}, row
        assert (row["finished_at"] - row["created_at"]).total_seconds() < 1.0, row
        time.sleep(0.05 + 0.03 * i)  # idle again, at varying phases
    assert max(latencies) < 1.0, f"enqueue -> completed latencies (s): {latencies}"
    assert statistics.median(latencies) < 0.25, f"enqueue -> completed latencies (s): {latencies}"


# --- enqueue() from psql ---------------------------------------------------------

def psql(stack, sql):
    out = stack.dev("psql", "-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1", "-c", sql)
    return [line for line in out.splitlines() if line.strip()]


def test_enqueue_from_psql_with_idempotency_key(stack, db):
    key = f"psql-{uuid.uuid4().hex[:8]}"
    sql = (f"SELECT enqueue('analytics-processing', 'noop', '{{\"from\": \"psql\"}}', "
           f"idempotency_key => '{key}')")
    first = psql(stack, sql)
    second = psql(stack, sql)
    assert len(first) == 1 and len(second) == 1, (first, second)
    jid = first[0].strip()
    uuid.UUID(jid)
    assert second[0].strip() == jid, f"same idempotency key gave two ids: {first} {second}"
    assert db.execute("SELECT count(*) FROM jobs WHERE idempotency_key = %s", [key]).fetchone()[0] == 1

    row = wait_state(stack, db, jid, ("completed", "failed"), timeout=3)
    assert row["state"] == "completed" and row["attempts"] == 1, row
    assert row["queue"] == "analytics-processing" and row["payload"] == {"from": "psql"}, row
    assert row["user_id"] is None, row
    # the key still maps to the finished job: no second run
    assert psql(stack, sql)[0].strip() == jid
    assert job_row(db, jid)["attempts"] == 1

    # idempotency keys are per owner: the same key for a user is another job
    uid = stack.register_user()[0]["id"]
    other = psql(stack, sql[:-1] + f", user_id => '{uid}')")[0].strip()
    assert other != jid
    assert psql(stack, sql[:-1] + f", user_id => '{uid}')")[0].strip() == other


def test_enqueue_is_transactional(stack, db):
    """enqueue() runs in the caller's transaction: a rolled-back job never exists
    and is never run."""
    key = f"rb-{uuid.uuid4().hex[:8]}"
    out = psql(stack, f"BEGIN; SELECT enqueue('data-exports', 'noop', idempotency_key => '{key}'); ROLLBACK;")
    assert len(out) == 1, out
    uuid.UUID(out[0].strip())
    time.sleep(0.3)
    assert db.execute("SELECT count(*) FROM jobs WHERE id = %s OR idempotency_key = %s",
                      [out[0].strip(), key]).fetchone()[0] == 0


def test_enqueue_rejects_unknown_queue(stack, db):
    import psycopg
    with pytest.raises(psycopg.errors.ForeignKeyViolation):
        enqueue(db, "no-such-queue")


# --- outcomes, retries, backoff ------------------------------------------------------

def test_unsupported_kind_fails_at_once(stack, db):
    jid = enqueue(db, "email-sending", kind="no-such-kind", max_attempts=5)
    row = wait_state(stack, db, jid, ("completed", "failed"), timeout=3)
    assert row["state"] == "failed", row
    assert row["attempts"] == 1, f"an unsupported kind must not be retried: {row}"
    assert row["last_error"] == 'unsupported job kind "no-such-kind" on queue "email-sending"', row
    assert row["finished_at"] is not None and row["locked_by"] is None, row


def test_fail_for_good_is_not_retried(stack, db):
    jid = enqueue(db, "data-exports", payload={"fail": "bad input: no rows"}, max_attempts=5)
    row = wait_state(stack, db, jid, ("completed", "failed"), timeout=3)
    assert row["state"] == "failed" and row["attempts"] == 1, row
    assert row["last_error"] == "bad input: no rows", row
    assert row["finished_at"] is not None, row


@pytest.fixture
def audit(stack, db):
    """A test-only trigger recording every state change of jobs whose payload has
    "audit", with now() of the changing transaction: the same now() the worker's
    `run_at = now() + backoff` uses, so run_at - at is the exact delay chosen."""
    db.execute("""
        CREATE TABLE IF NOT EXISTS test_job_audit (
            job_id uuid, attempts int, state text, run_at timestamptz, at timestamptz,
            last_error text, seq bigserial);
        GRANT INSERT ON test_job_audit TO adcraft_worker, adcraft_api;
        GRANT USAGE ON SEQUENCE test_job_audit_seq_seq TO adcraft_worker, adcraft_api;
        CREATE OR REPLACE FUNCTION test_job_audit_fn() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO test_job_audit (job_id, attempts, state, run_at, at, last_error)
            VALUES (NEW.id, NEW.attempts, NEW.state, NEW.run_at, now(), NEW.last_error);
            RETURN NULL;
        END $$;
        DROP TRIGGER IF EXISTS test_job_audit ON jobs;
        CREATE TRIGGER test_job_audit AFTER UPDATE ON jobs FOR EACH ROW
            WHEN (NEW.payload ? 'audit' AND OLD.state IS DISTINCT FROM NEW.state)
            EXECUTE FUNCTION test_job_audit_fn();
    """)
    yield
    db.execute("DROP TRIGGER IF EXISTS test_job_audit ON jobs")


def audit_rows(conn, jid):
    cur = conn.cursor(row_factory=dict_row)
    return cur.execute("SELECT *, extract(epoch FROM run_at - at)::float8 AS delay FROM test_job_audit"
                       " WHERE job_id = %s ORDER BY seq", [jid]).fetchall()


def wait_audit(stack, conn, jid, attempts, state, timeout=5):
    def find():
        for r in audit_rows(conn, jid):
            if r["attempts"] == attempts and r["state"] == state:
                return r
        return None
    r = wait_for(find, timeout)
    assert r, (f"job {jid}: no transition to {state} at attempt {attempts} within {timeout}s; "
               f"audit {audit_rows(conn, jid)}\n--- worker.log ---\n{worker_log(stack)}")
    return r


def bring_forward(conn, jid, queue):
    """Skip the backoff wait: the job becomes due now, and the workers hear of it."""
    n = conn.execute("UPDATE jobs SET run_at = now() WHERE id = %s AND state = 'queued'", [jid]).rowcount
    assert n == 1, job_row(conn, jid)
    wake_workers(conn, queue)


def test_backoff_schedule(stack, db, audit):
    """failTimes 2, max_attempts 5: attempt 1 fails -> due 2 s * [0.75, 1.25] later,
    attempt 2 fails -> 4 s * [0.75, 1.25]; attempt 3 completes."""
    jid = enqueue(db, "data-exports", payload={"failTimes": 2, "audit": True}, max_attempts=5)

    r1 = wait_audit(stack, db, jid, 1, "queued")
    assert 2 * 0.75 <= r1["delay"] <= 2 * 1.25, f"backoff after attempt 1: {r1['delay']:.3f}s"
    assert r1["last_error"] == "planned failure 1 of 2", r1
    row = job_row(db, jid)
    assert row["state"] == "queued" and row["attempts"] == 1, row
    assert row["finished_at"] is None and row["locked_by"] is None, row
    # not claimed before it is due (the minimum delay is 1.5 s)
    time.sleep(1.0)
    row = job_row(db, jid)
    assert row["state"] == "queued" and row["attempts"] == 1, f"retried before run_at: {row}"

    bring_forward(db, jid, "data-exports")
    r2 = wait_audit(stack, db, jid, 2, "queued", timeout=2)
    assert 4 * 0.75 <= r2["delay"] <= 4 * 1.25, f"backoff after attempt 2: {r2['delay']:.3f}s"
    assert r2["last_error"] == "planned failure 2 of 2", r2

    bring_forward(db, jid, "data-exports")
    row = wait_state(stack, db, jid, ("completed", "failed"), timeout=2)
    assert row["state"] == "completed" and row["attempts"] == 3, row
    assert row["result"] == {"ok": True}, row
    states = [(r["attempts"], r["state"]) for r in audit_rows(db, jid)]
    assert states == [(1, "running"), (1, "queued"), (2, "running"), (2, "queued"),
                      (3, "running"), (3, "completed")], states


def test_backoff_jitter_varies(stack, db, audit):
    """The ±25% jitter is real: ten jobs failing once do not all get the same delay."""
    ids = [enqueue(db, "email-sending", payload={"failTimes": 1, "audit": True}) for _ in range(10)]
    delays = [wait_audit(stack, db, j, 1, "queued")["delay"] for j in ids]
    for d in delays:
        assert 1.5 <= d <= 2.5, delays
    assert max(delays) - min(delays) > 0.05, f"no jitter: {delays}"
    db.execute("UPDATE jobs SET state = 'cancelled', finished_at = now() WHERE id = ANY(%s::uuid[])"
               " AND state = 'queued'", [ids])


def test_max_attempts_then_failed(stack, db, audit):
    """failTimes 10, max_attempts 2: attempt 2 fails for good; the last error is kept."""
    jid = enqueue(db, "analytics-processing", payload={"failTimes": 10, "audit": True}, max_attempts=2)
    r1 = wait_audit(stack, db, jid, 1, "queued")
    assert 1.5 <= r1["delay"] <= 2.5, r1
    bring_forward(db, jid, "analytics-processing")
    row = wait_state(stack, db, jid, ("completed", "failed"), timeout=2)
    assert row["state"] == "failed", row
    assert row["attempts"] == 2, row
    assert row["last_error"] == "planned failure 2 of 10", row
    assert row["finished_at"] is not None and row["locked_by"] is None, row
    # and it stays failed: nothing claims it again
    wake_workers(db, "analytics-processing")
    time.sleep(0.5)
    again = job_row(db, jid)
    assert again["state"] == "failed" and again["attempts"] == 2, again


# --- cancel -------------------------------------------------------------------------

def test_cancel_reaches_a_claimed_job_not_yet_started(stack, db):
    """One worker is busy; the other claims two 6 s jobs in one batch (both "running"
    in the table). Cancelling both through the API must stop both within about a
    second - the job the handler is in, and the one waiting its turn in the batch,
    whose cancel notice arrives while the other one is current. (Heartbeats are a
    minute apart on this stack, so only the notification can stop it in time.)"""
    user, token, _ = stack.register_user()
    owner = user["id"]
    blocker = enqueue(db, "data-exports", payload={"sleepMs": 60000})
    wait_state(stack, db, blocker, ("running",), timeout=5)
    try:
        ids = [str(r[0]) for r in db.execute(
            "SELECT enqueue('email-sending', 'noop', jsonb_build_object('sleepMs', 6000, 'n', g), %s::uuid)"
            "  FROM generate_series(1, 2) g", [owner]).fetchall()]
        rows = wait_for(lambda: (lambda rs: rs if all(r["state"] == "running" for r in rs) else None)(
            [job_row(db, j) for j in ids]), 5)
        assert rows, [job_row(db, j) for j in ids]
        assert rows[0]["locked_by"] == rows[1]["locked_by"], "not claimed in one batch"
        assert rows[0]["locked_by"] != job_row(db, blocker)["locked_by"]
        time.sleep(0.3)

        t0 = time.monotonic()
        for jid in ids:
            r = stack.api("DELETE", f"/api/jobs/email-sending/{jid}/cancel", token=token)
            assert r.status_code == 200 and r.json()["job"]["state"] == "cancelled", r.text
        seen = {}

        def both_stopped():
            for jid in ids:
                if jid not in seen and any(e.get("event") == "cancelled" for e in log_events(stack, jid)):
                    seen[jid] = round(time.monotonic() - t0, 3)
            return len(seen) == 2
        wait_for(both_stopped, 8)
        after = [job_row(db, j) for j in ids]
        assert len(seen) == 2 and max(seen.values()) < 1.5, (
            f"seconds from cancel to the worker stopping, per job: {seen} (of {ids}); rows after "
            f"8 s: {[(str(r['id']), r['state'], r['result']) for r in after]}\n{worker_log(stack)}")
        for r in after:
            assert r["state"] == "cancelled" and r["locked_by"] is None, r
    finally:
        db.execute("UPDATE jobs SET state = 'cancelled', finished_at = now(), locked_by = NULL,"
                   " heartbeat_at = NULL WHERE id = %s AND state = 'running'", [blocker])
        wait_for(lambda: any(e.get("event") == "cancelled" for e in log_events(stack, blocker)), 3)


# --- many workers ------------------------------------------------------------------

def test_clean_stop_records_jobs_done(stack, db):
    """A worker that exits on SIGTERM leaves stopped_at and its final jobs_done in its
    workers row (here it finished its jobs between two heartbeats)."""
    assert db.execute("SELECT count(*) FROM jobs WHERE state IN ('queued', 'running')"
                      " AND run_at <= now()").fetchone()[0] == 0
    stop_stack_worker(stack)
    w = OwnWorker(stack, {"ADCRAFT_WORKER_PROCESSES": "1"})
    try:
        kids = wait_for(lambda: (lambda c: c if len(c) == 1 else None)(w.children()), 5)
        assert kids, w.tail()
        pid = kids[0]
        assert wait_for(lambda: db.execute("SELECT count(*) FROM workers WHERE pid = %s AND stopped_at IS NULL",
                                           [pid]).fetchone()[0] == 1, 5), w.tail()
        tag = uuid.uuid4().hex
        db.execute("SELECT enqueue('email-sending', 'noop', jsonb_build_object('tag', %s::text, 'n', g))"
                   " FROM generate_series(1, 10) g", [tag])
        assert wait_for(lambda: db.execute("SELECT count(*) FROM jobs WHERE payload->>'tag' = %s"
                                           " AND state = 'completed'", [tag]).fetchone()[0] == 10, 5)
        w.stop()
    finally:
        w.kill()
        restart_stack_worker(stack)
    row = db.cursor(row_factory=dict_row).execute(
        "SELECT * FROM workers WHERE pid = %s ORDER BY started_at DESC LIMIT 1", [pid]).fetchone()
    assert row["stopped_at"] is not None, row
    assert row["jobs_done"] == 10, f"workers row after a clean stop: {row}"


def test_sigterm_during_a_database_call_is_not_lost(stack, db):
    """An idle worker child gets SIGTERM while it waits on PostgreSQL (here: its rescue
    statement, held up by a row lock). Once the statement returns it must exit at
    once and cleanly (workers.stopped_at), not go back to sleep until its next poll
    and be SIGKILLed by the master's 10 s drain."""
    import psycopg
    stop_stack_worker(stack)
    ghost = str(db.execute(
        "INSERT INTO jobs (queue, kind, state, attempts, locked_by, heartbeat_at)"
        " VALUES ('data-exports', 'noop', 'running', 1, 'ghost:1:000000', now() - interval '1 hour')"
        " RETURNING id").fetchone()[0])
    locker = psycopg.connect(host=stack.pg_socket_dir, port=stack.pg_port, dbname="adcraft", user="postgres")
    w = None
    try:
        locker.execute("SELECT 1 FROM jobs WHERE id = %s FOR UPDATE", [ghost])  # transaction stays open
        w = OwnWorker(stack, {"ADCRAFT_WORKER_PROCESSES": "1", "ADCRAFT_JOB_POLL_SECONDS": "300",
                              "ADCRAFT_JOB_HEARTBEAT_SECONDS": "60", "ADCRAFT_JOB_STALE_SECONDS": "120"})
        blocked = wait_for(lambda: db.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE usename = 'adcraft_worker' AND wait_event_type = 'Lock'"
            ).fetchone()[0] == 1, 10)
        assert blocked, f"the worker's rescue did not wait on the locked row\n{w.tail()}"
        kids = w.children()
        assert len(kids) == 1, kids
        t0 = time.monotonic()
        w.proc.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        locker.execute("UPDATE jobs SET state = 'cancelled', finished_at = now(), locked_by = NULL,"
                       " heartbeat_at = NULL WHERE id = %s", [ghost])
        locker.commit()
        try:
            w.proc.wait(15)
        except subprocess.TimeoutExpired:
            pass
        took = time.monotonic() - t0
        row = db.execute("SELECT stopped_at FROM workers WHERE pid = %s", [kids[0]]).fetchone()
        assert took < 3, f"adcraft-worker exited {took:.1f}s after SIGTERM (idle child)\n{w.tail()}"
        assert row and row[0] is not None, f"child {kids[0]} did not stop cleanly: {row}\n{w.tail()}"
    finally:
        locker.close()
        if w:
            w.kill()
        restart_stack_worker(stack)


def test_8_workers_5000_jobs_no_duplicates_none_lost(stack, db):
    assert db.execute("SELECT count(*) FROM jobs WHERE state IN ('queued', 'running')"
                      " AND run_at <= now()").fetchone()[0] == 0
    stop_stack_worker(stack)
    w = OwnWorker(stack, {"ADCRAFT_WORKER_PROCESSES": "8", "ADCRAFT_JOB_HEARTBEAT_SECONDS": "1",
                          "ADCRAFT_JOB_STALE_SECONDS": "30"})
    try:
        kids = wait_for(lambda: (lambda c: c if len(c) == 8 else None)(w.children()), 10)
        assert kids, f"expected 8 worker processes, got {w.children()}\n{w.tail()}"
        registered = wait_for(lambda: db.execute(
            "SELECT count(*) FROM workers WHERE pid = ANY(%s) AND stopped_at IS NULL",
            [kids]).fetchone()[0] == 8, 5)
        assert registered, w.tail()

        tag = uuid.uuid4().hex
        t0 = time.monotonic()
        n = db.execute(
            "SELECT count(enqueue((ARRAY['email-sending', 'analytics-processing', 'data-exports'])[g %% 3 + 1],"
            "                     'noop', jsonb_build_object('tag', %s::text, 'n', g)))"
            "  FROM generate_series(1, 5000) g", [tag]).fetchone()[0]
        assert n == 5000

        def done():
            return db.execute("SELECT count(*) FROM jobs WHERE payload->>'tag' = %s AND state = 'completed'",
                              [tag]).fetchone()[0] == 5000
        finished = wait_for(done, 90, interval=0.1)
        elapsed = time.monotonic() - t0
        stats = db.execute(
            "SELECT count(*), count(DISTINCT id), count(DISTINCT payload->>'n'),"
            "       count(*) FILTER (WHERE state = 'completed'), count(*) FILTER (WHERE attempts = 1),"
            "       max(attempts), count(*) FILTER (WHERE locked_by IS NOT NULL),"
            "       count(*) FILTER (WHERE result = '{\"ok\": true}'::jsonb)"
            "  FROM jobs WHERE payload->>'tag' = %s", [tag]).fetchone()
        assert finished, f"not all completed after {elapsed:.1f}s: {stats}\n{w.tail()}"
        total, distinct_ids, distinct_n, completed, once, max_attempts, locked, ok = stats
        assert (total, distinct_ids, distinct_n) == (5000, 5000, 5000), stats
        assert completed == 5000, stats
        assert once == 5000 and max_attempts == 1, f"some job was claimed twice: {stats}"
        assert locked == 0 and ok == 5000, stats

        # per-process completions, as recorded in workers.jobs_done at heartbeats (1 s)
        def per_worker():
            rows = db.execute("SELECT pid, jobs_done FROM workers WHERE pid = ANY(%s) AND stopped_at IS NULL",
                              [kids]).fetchall()
            return rows if sum(r[1] for r in rows) >= 5000 else None
        rows = wait_for(per_worker, 5, interval=0.1)
        assert rows, db.execute("SELECT pid, jobs_done FROM workers WHERE pid = ANY(%s)", [kids]).fetchall()
        assert sum(r[1] for r in rows) == 5000, f"jobs_done per worker: {rows}"
        busy = [r for r in rows if r[1] > 0]
        assert len(busy) >= 2, f"the jobs were not spread over the workers: {rows}"
        print(f"\n8 workers x 5000 noop jobs: {elapsed:.2f}s, jobs_done per worker {sorted(r[1] for r in rows)}")
        took = w.stop()
        assert took < 10, f"adcraft-worker took {took:.1f}s to stop while idle"
        stopped = db.execute("SELECT count(*) FROM workers WHERE pid = ANY(%s) AND stopped_at IS NOT NULL",
                             [kids]).fetchone()[0]
        assert stopped == 8, w.tail()
    finally:
        w.kill()
        restart_stack_worker(stack)


# --- job_finish_claim (0022): batch N finished and N+1 claimed in one round trip ----

def test_finish_claim_is_one_transaction_and_fenced(stack, db):
    """The worker's one statement per batch, called as adcraft_worker with the stack's
    worker stopped: the finished job and the newly claimed one change in the same
    transaction; an outcome for another attempt or another worker changes nothing;
    n = 0 finishes without claiming (release gives the attempt back, retry backs off)."""
    stop_stack_worker(stack)
    try:
        ids = [enqueue(db, "data-exports", payload={"n": i}, priority=32000) for i in range(3)]
        w = psycopg.connect(host=stack.pg_socket_dir, port=stack.pg_port, dbname="adcraft",
                            user="adcraft_worker", autocommit=True, connect_timeout=10)
        with w:
            me = "test-host:1:aaaaaa"

            def call(outcomes, n):
                return w.execute("SELECT id::text, attempts FROM job_finish_claim(%s, %s::jsonb, %s::text[], %s)",
                                 [me, json.dumps(outcomes) if outcomes is not None else None,
                                  "{data-exports}", n]).fetchall()

            first = call(None, 2)
            assert [r[0] for r in first] == ids[:2] and all(r[1] == 1 for r in first), first
            second = call([{"id": ids[0], "attempt": 1, "outcome": "completed", "result": {"ok": True}},
                           {"id": ids[1], "attempt": 2, "outcome": "completed"}], 5)
            assert [r[0] for r in second] == [ids[2]], second
            done, fenced, claimed = (job_row(db, j) for j in ids)
            assert done["state"] == "completed" and done["result"] == {"ok": True}, done
            assert done["progress"]["percent"] == 100 and done["locked_by"] is None, done
            assert fenced["state"] == "running" and fenced["locked_by"] == me, fenced
            assert claimed["state"] == "running" and claimed["attempts"] == 1, claimed
            xmins = db.execute("SELECT id::text, xmin::text FROM jobs WHERE id = ANY(%s::uuid[])",
                               [[ids[0], ids[2]]]).fetchall()
            assert len({x for _, x in xmins}) == 1, f"finish and claim in two transactions: {xmins}"

            other = w.execute("SELECT count(*) FROM job_finish_claim('other:2:bbbbbb', %s::jsonb, '{data-exports}', 0)",
                              [json.dumps([{"id": ids[1], "attempt": 1, "outcome": "failed", "error": "x"}])]).fetchone()
            assert other == (0,) and job_row(db, ids[1])["state"] == "running"

            assert call([{"id": ids[1], "attempt": 1, "outcome": "release"},
                         {"id": ids[2], "attempt": 1, "outcome": "retry", "error": "planned"}], 0) == []
            released, retried = job_row(db, ids[1]), job_row(db, ids[2])
            assert released["state"] == "queued" and released["attempts"] == 0, released
            assert retried["state"] == "queued" and retried["attempts"] == 1, retried
            assert retried["last_error"] == "planned" and retried["run_at"] > retried["created_at"], retried
    finally:
        db.execute("DELETE FROM jobs WHERE payload ? 'n' AND priority = 32000")
        restart_stack_worker(stack)


def test_finish_decides_on_the_row_a_cancel_left(stack, db):
    """A cancel committed while the worker's finish waits for the row: the finish records the
    partial result on the cancelled row and leaves it cancelled (0035). Before, the next state was
    decided from the statement's snapshot ('running') and a completed outcome overwrote the cancel."""
    stop_stack_worker(stack)
    try:
        jid = enqueue(db, "data-exports", payload={"n": 0}, priority=32000)
        me = "test-host:1:cccccc"
        w = psycopg.connect(host=stack.pg_socket_dir, port=stack.pg_port, dbname="adcraft",
                            user="adcraft_worker", autocommit=True, connect_timeout=10)
        canceller = psycopg.connect(host=stack.pg_socket_dir, port=stack.pg_port, dbname="adcraft",
                                    user="postgres", connect_timeout=10)
        with w, canceller:
            claimed = w.execute("SELECT id::text FROM job_finish_claim(%s, NULL, '{data-exports}', 1)",
                                [me]).fetchall()
            assert claimed == [(jid,)], claimed
            canceller.execute("UPDATE jobs SET state = 'cancelled', locked_by = NULL, finished_at = now()"
                              " WHERE id = %s", [jid])  # not committed yet: the row stays locked
            pid = w.info.backend_pid
            outcome = [{"id": jid, "attempt": 1, "outcome": "completed", "result": {"partial": True}}]
            done = []
            t = threading.Thread(target=lambda: done.append(w.execute(
                "SELECT count(*) FROM job_finish_claim(%s, %s::jsonb, '{data-exports}', 0)",
                [me, json.dumps(outcome)]).fetchone()))
            t.start()
            assert wait_for(lambda: db.execute("SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = %s",
                                               [pid]).fetchone()[0], timeout=10), "the finish never waited for the row"
            canceller.commit()
            t.join(10)
            assert done == [(0,)], done
        row = job_row(db, jid)
        assert row["state"] == "cancelled", row
        assert row["result"] == {"partial": True} and row["locked_by"] is None, row
        assert row["progress"]["percent"] != 100, row
    finally:
        db.execute("DELETE FROM jobs WHERE payload ? 'n' AND priority = 32000")
        restart_stack_worker(stack)
