"""The jobs API (issue #4) through nginx on the shared stack: health, queue
status, one job, the caller's recent jobs, cancel (queued, running, finished,
foreign), and the campaign generation entry points.

Tests that need a job to stay queued occupy every worker process first with
long cancellable noop jobs (`busy_workers`), so nothing is claimed meanwhile.
"""

import os
import subprocess
import time
import uuid

import psycopg
import pytest

from helpers import BUILD_DIR, RFC3339_UTC_RE, UUID_RE, assert_json, assert_problem
from jobs_helpers import enqueue, holder_pid, job_row, log_events, wait_for, wait_state, worker_log

JOB_FIELDS = {"id", "queue", "kind", "state", "progress", "attempts", "maxAttempts", "priority",
              "campaignId", "runAt", "createdAt", "startedAt", "finishedAt", "result", "error"}
FINISHED = ("completed", "failed", "cancelled")
QUEUES = ["analytics-processing", "content-generation", "data-exports", "email-sending"]


# --- helpers -----------------------------------------------------------------

def worker_children(stack):
    master = int(stack.read_file("run/worker.pid").split()[0])
    p = subprocess.run(["pgrep", "-P", str(master)], stdout=subprocess.PIPE, text=True)
    return sorted(int(x) for x in p.stdout.split())


def check_job(job):
    assert set(job) == JOB_FIELDS, f"job fields {sorted(job)}"
    assert UUID_RE.match(job["id"]), job
    assert job["queue"] in QUEUES and job["state"] in ("queued", "running") + FINISHED, job
    assert set(job["progress"]) >= {"done", "total", "percent"}, job
    for k in ("runAt", "createdAt"):
        assert RFC3339_UTC_RE.match(job[k]), job
    for k in ("startedAt", "finishedAt"):
        assert job[k] is None or RFC3339_UTC_RE.match(job[k]), job
    assert (job["finishedAt"] is not None) == (job["state"] in FINISHED), job
    return job


class User:
    def __init__(self, stack):
        self.stack = stack
        user, self.token, _ = stack.register_user()
        self.id, self.email = user["id"], user["email"]

    def req(self, method, path, json=None, **kw):
        return self.stack.api(method, path, json=json, token=self.token, **kw)

    def campaign(self, status=None):
        c = assert_json(self.req("POST", "/api/campaigns",
                                 json={"name": "Jobs " + uuid.uuid4().hex[:6], "objective": "awareness"}), 201)
        if status:
            r = self.req("PATCH", f"/api/campaigns/{c['id']}", json={"status": status})
            assert r.status_code == 200 and r.json()["status"] == status, r.text
        return c["id"]

    def campaign_status(self, cid):
        return assert_json(self.req("GET", f"/api/campaigns/{cid}"), 200)["status"]


@pytest.fixture
def alice(stack):
    return User(stack)


@pytest.fixture
def bob(stack):
    return User(stack)


def set_operator(stack, email, on):
    """`adcraft user set-operator EMAIL on|off`, the only way to make an operator."""
    return subprocess.run([os.path.join(BUILD_DIR, "adcraft"), "--config", os.path.join(stack.dir, "adcraft.conf"),
                           "user", "set-operator", email, "on" if on else "off"],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=30)


@pytest.fixture
def operator(stack):
    u = User(stack)
    p = set_operator(stack, u.email, True)
    assert p.returncode == 0 and "operator=on" in p.stdout, p.stdout
    return u


class Blockers:
    """Occupies `count` worker processes with a 60 s cancellable noop job each (none
    of them claims anything else meanwhile); release() cancels them, and the workers
    are free again within about a second."""

    def __init__(self, stack, db, count):
        self.stack, self.db, self.count = stack, db, count
        self.owner = User(stack)
        self.ids = []

    def __enter__(self):
        try:
            for _ in range(self.count):
                jid = enqueue(self.db, "email-sending", payload={"sleepMs": 60000, "blocker": True},
                              user_id=self.owner.id)
                wait_state(self.stack, self.db, jid, ("running",), timeout=5)
                self.ids.append(jid)
            holders = {job_row(self.db, j)["locked_by"] for j in self.ids}
            assert len(holders) == self.count, f"blockers share a worker: {holders}"
        except BaseException:
            self.release()
            raise
        return self.ids

    def release(self):
        for jid in self.ids:
            self.owner.req("DELETE", f"/api/jobs/email-sending/{jid}/cancel")
        for jid in self.ids:
            wait_for(lambda: any(e.get("event") == "cancelled" for e in log_events(self.stack, jid)), 6)

    def __exit__(self, *exc):
        self.release()


@pytest.fixture
def busy_workers(stack, db):
    """Every worker process is busy: a job enqueued meanwhile stays queued."""
    kids = worker_children(stack)
    assert kids, worker_log(stack)
    with Blockers(stack, db, len(kids)) as ids:
        yield ids


# --- health and status -------------------------------------------------------------

def test_jobs_health(stack, operator):
    assert_problem(stack.api("GET", "/api/jobs/health"), 401)
    body = assert_json(operator.req("GET", "/api/jobs/health"), 200)
    assert body["status"] == "ok" and body["database"] == "ok" and body["scope"] == "system", body
    kids = worker_children(stack)
    alive = [w for w in body["workers"] if w["alive"]]
    assert sorted(w["pid"] for w in alive) == kids, (body["workers"], kids)
    for w in body["workers"]:
        assert set(w) == {"id", "hostname", "pid", "startedAt", "heartbeatAt", "jobsDone", "alive"}, w
        assert w["id"] == f"{w['hostname']}:{w['pid']}:" + w["id"].rsplit(":", 1)[1], w
        assert RFC3339_UTC_RE.match(w["startedAt"]) and RFC3339_UTC_RE.match(w["heartbeatAt"]), w
        assert isinstance(w["jobsDone"], int) and w["jobsDone"] >= 0, w
    # queues keyed by name (API.md: `queues: {...}`), the counts of /queues/status
    assert isinstance(body["queues"], dict) and sorted(body["queues"]) == QUEUES, body["queues"]
    for name, q in body["queues"].items():
        assert set(q) == {"queued", "running", "completed", "failed", "cancelled", "oldestQueuedSeconds"}, q
        assert all(isinstance(v, int) and v >= 0 for v in q.values()), q


def queue_status(user, scope="system"):
    body = assert_json(user.req("GET", "/api/jobs/queues/status"), 200)
    assert body["scope"] == scope, body
    qs = body["queues"]
    assert [q["name"] for q in qs] == QUEUES, qs
    for q in qs:
        assert set(q) == {"name", "queued", "running", "completed", "failed", "cancelled",
                          "oldestQueuedSeconds"}, q
        assert all(isinstance(q[k], int) and q[k] >= 0 for k in q if k != "name"), q
    return {q["name"]: q for q in qs}


def test_queue_status_counts(stack, db, operator, busy_workers):
    alice = operator  # system jobs: whole-system counts
    assert_problem(stack.api("GET", "/api/jobs/queues/status"), 401)
    before = queue_status(alice)
    assert before["email-sending"]["running"] >= len(busy_workers), before
    # two scheduled for later, one due now (nobody is free to take it)
    later = [enqueue(db, "data-exports", run_at="2099-01-01T00:00:00Z") for _ in range(2)]
    due = enqueue(db, "data-exports")
    time.sleep(1.2)
    after = queue_status(alice)
    de_b, de_a = before["data-exports"], after["data-exports"]
    assert de_a["queued"] == de_b["queued"] + 3, (de_b, de_a)
    assert de_a["oldestQueuedSeconds"] >= 1, de_a
    assert de_a["running"] == de_b["running"], (de_b, de_a)
    db.execute("UPDATE jobs SET state = 'cancelled', finished_at = now() WHERE id = ANY(%s::uuid[])",
               [later + [due]])
    final = queue_status(alice)["data-exports"]
    assert final["queued"] == de_b["queued"] and final["cancelled"] == de_b["cancelled"] + 3, final


def test_queue_status_counts_finished_jobs(stack, db, operator):
    alice = operator
    before = queue_status(alice)["analytics-processing"]
    ok = enqueue(db, "analytics-processing")
    bad = enqueue(db, "analytics-processing", payload={"fail": "nope"})
    wait_state(stack, db, ok, FINISHED, 5)
    wait_state(stack, db, bad, FINISHED, 5)
    after = queue_status(alice)["analytics-processing"]
    assert after["completed"] == before["completed"] + 1, (before, after)
    assert after["failed"] == before["failed"] + 1, (before, after)


# --- one job, recent jobs ---------------------------------------------------------------

def test_job_by_id_owner_only(stack, db, alice, bob):
    jid = enqueue(db, "email-sending", payload={"x": 1}, user_id=alice.id)
    wait_state(stack, db, jid, FINISHED, 5)
    job = check_job(assert_json(alice.req("GET", f"/api/jobs/email-sending/{jid}"), 200))
    assert job["id"] == jid and job["queue"] == "email-sending" and job["kind"] == "noop", job
    assert job["state"] == "completed" and job["attempts"] == 1 and job["maxAttempts"] == 5, job
    assert job["result"] == {"ok": True} and job["error"] is None and job["campaignId"] is None, job
    assert job["progress"]["percent"] == 100, job

    assert_problem(bob.req("GET", f"/api/jobs/email-sending/{jid}"), 404)
    assert_problem(alice.req("GET", f"/api/jobs/data-exports/{jid}"), 404)      # wrong queue
    assert_problem(alice.req("GET", f"/api/jobs/no-such-queue/{jid}"), 404)     # unknown queue
    assert_problem(alice.req("GET", "/api/jobs/email-sending/not-a-uuid"), 404)
    assert_problem(alice.req("GET", f"/api/jobs/email-sending/{uuid.uuid4()}"), 404)
    assert_problem(stack.api("GET", f"/api/jobs/email-sending/{jid}"), 401)
    # a system job (no owner) is nobody's
    sys_id = enqueue(db, "email-sending")
    assert_problem(alice.req("GET", f"/api/jobs/email-sending/{sys_id}"), 404)


def test_recent_jobs_order_and_pagination(stack, db, alice, bob):
    ids = []
    for i in range(5):  # one transaction each: distinct created_at
        ids.append(enqueue(db, "data-exports", payload={"i": i}, user_id=alice.id,
                           run_at="2099-01-01T00:00:00Z"))
    enqueue(db, "data-exports", user_id=bob.id, run_at="2099-01-01T00:00:00Z")
    enqueue(db, "data-exports", run_at="2099-01-01T00:00:00Z")
    try:
        body = assert_json(alice.req("GET", "/api/jobs/user/recent"), 200)
        assert set(body) == {"items", "nextCursor"}, body
        assert [j["id"] for j in body["items"]] == ids[::-1], body
        assert body["nextCursor"] is None
        for j in body["items"]:
            check_job(j)

        seen, cursor, pages = [], None, 0
        while True:
            path = "/api/jobs/user/recent?limit=2" + (f"&cursor={cursor}" if cursor else "")
            page = assert_json(alice.req("GET", path), 200)
            pages += 1
            assert len(page["items"]) <= 2, page
            seen += [j["id"] for j in page["items"]]
            cursor = page["nextCursor"]
            if cursor is None:
                break
            assert isinstance(cursor, str) and cursor, page
            assert pages < 10
        assert seen == ids[::-1] and pages == 3, (seen, pages)

        created = [j["createdAt"] for j in body["items"]]
        assert created == sorted(created, reverse=True), created
        assert assert_json(bob.req("GET", "/api/jobs/user/recent"), 200)["items"][0]["id"] not in ids
    finally:
        db.execute("UPDATE jobs SET state = 'cancelled', finished_at = now()"
                   " WHERE payload ? 'i' AND user_id = %s AND state = 'queued'", [alice.id])


@pytest.mark.parametrize("query", ["limit=0", "limit=101", "limit=abc", "cursor=garbage!",
                                   "status=queued", "limit=2&limit=3"])
def test_recent_jobs_bad_query(stack, alice, query):
    assert_problem(alice.req("GET", f"/api/jobs/user/recent?{query}"), 400)


def test_recent_jobs_requires_auth(stack):
    assert_problem(stack.api("GET", "/api/jobs/user/recent"), 401)


# --- cancel ------------------------------------------------------------------------------------

def test_cancel_queued_job(stack, db, alice):
    jid = enqueue(db, "email-sending", user_id=alice.id, run_at="2099-01-01T00:00:00Z")
    r = alice.req("DELETE", f"/api/jobs/email-sending/{jid}/cancel")
    body = assert_json(r, 200)
    job = check_job(body["job"])
    assert job["id"] == jid and job["state"] == "cancelled" and job["finishedAt"], job
    assert job["attempts"] == 0 and job["startedAt"] is None, job
    row = job_row(db, jid)
    assert row["state"] == "cancelled" and row["finished_at"] is not None and row["locked_by"] is None, row
    assert check_job(assert_json(alice.req("GET", f"/api/jobs/email-sending/{jid}"), 200))["state"] == \
        "cancelled"
    # cancelling again: it already ended
    assert_problem(alice.req("DELETE", f"/api/jobs/email-sending/{jid}/cancel"), 409)


def test_cancel_running_job_stops_its_worker(stack, db, alice):
    jid = enqueue(db, "email-sending", payload={"sleepMs": 20000}, user_id=alice.id)
    row = wait_state(stack, db, jid, ("running",), timeout=5)
    holder = holder_pid(row["locked_by"])
    time.sleep(0.3)

    t0 = time.monotonic()
    body = assert_json(alice.req("DELETE", f"/api/jobs/email-sending/{jid}/cancel"), 200)
    assert body["job"]["id"] == jid and body["job"]["state"] == "cancelled", body
    assert body["job"]["attempts"] == 1, body

    stopped = wait_for(lambda: [e for e in log_events(stack, jid) if e.get("event") == "cancelled"], 3)
    took = time.monotonic() - t0
    assert stopped, f"no 'cancelled' event from the worker for {jid}\n{worker_log(stack)}"
    assert stopped[0]["pid"] == holder, stopped
    assert took < 1.5, f"the worker stopped {took:.2f}s after the cancel"
    time.sleep(0.3)  # the worker's finish statement must not undo the cancel
    row = job_row(db, jid)
    assert row["state"] == "cancelled" and row["locked_by"] is None and row["heartbeat_at"] is None, row
    assert row["attempts"] == 1 and row["finished_at"] is not None, row
    assert row["last_error"] and "cancel" in row["last_error"], row

    # the workers keep taking jobs
    nxt = enqueue(db, "email-sending", user_id=alice.id)
    assert wait_state(stack, db, nxt, FINISHED, 2)["state"] == "completed"


def test_cancel_finished_foreign_and_unknown(stack, db, alice, bob):
    done = enqueue(db, "analytics-processing", user_id=alice.id)
    wait_state(stack, db, done, FINISHED, 5)
    body = assert_problem(alice.req("DELETE", f"/api/jobs/analytics-processing/{done}/cancel"), 409)
    assert "completed" in body["detail"], body
    assert job_row(db, done)["state"] == "completed"

    failed = enqueue(db, "analytics-processing", payload={"fail": "x"}, user_id=alice.id)
    wait_state(stack, db, failed, FINISHED, 5)
    assert_problem(alice.req("DELETE", f"/api/jobs/analytics-processing/{failed}/cancel"), 409)

    queued = enqueue(db, "analytics-processing", user_id=alice.id, run_at="2099-01-01T00:00:00Z")
    assert_problem(bob.req("DELETE", f"/api/jobs/analytics-processing/{queued}/cancel"), 404)
    assert job_row(db, queued)["state"] == "queued", "another user's cancel changed the job"
    assert_problem(alice.req("DELETE", f"/api/jobs/email-sending/{queued}/cancel"), 404)   # wrong queue
    assert_problem(alice.req("DELETE", f"/api/jobs/nope/{queued}/cancel"), 404)
    assert_problem(alice.req("DELETE", "/api/jobs/analytics-processing/1234/cancel"), 404)
    assert_problem(alice.req("DELETE", f"/api/jobs/analytics-processing/{uuid.uuid4()}/cancel"), 404)
    assert_problem(stack.api("DELETE", f"/api/jobs/analytics-processing/{queued}/cancel"), 401)
    assert job_row(db, queued)["state"] == "queued"
    assert_json(alice.req("DELETE", f"/api/jobs/analytics-processing/{queued}/cancel"), 200)


# --- generation entry points ----------------------------------------------------------------

def test_generate_campaign(stack, db, alice, busy_workers):
    cid = alice.campaign(status="active")
    r = alice.req("POST", f"/api/jobs/campaigns/{cid}/generate")
    body = assert_json(r, 202)
    assert set(body) == {"job", "eventsUrl"}, body
    job = check_job(body["job"])
    assert job["queue"] == "content-generation" and job["kind"] == "generate-campaign", job
    assert job["state"] == "queued" and job["campaignId"] == cid and job["attempts"] == 0, job
    assert body["eventsUrl"] == f"/events/campaigns/{cid}", body
    assert r.headers.get("Location") == f"/api/jobs/content-generation/{job['id']}", r.headers
    assert alice.campaign_status(cid) == "generating"
    got = check_job(assert_json(alice.req("GET", r.headers["Location"]), 200))
    assert got["id"] == job["id"]
    assert job["id"] in [j["id"] for j in assert_json(alice.req("GET", "/api/jobs/user/recent"), 200)["items"]]

    # a second generation of the same campaign, whole or single, is refused
    assert_problem(alice.req("POST", f"/api/jobs/campaigns/{cid}/generate", json={"variations": 2}), 409)
    assert_problem(alice.req("POST", f"/api/jobs/campaigns/{cid}/generate-single",
                             json={"contentType": "email", "platform": "email"}), 409)
    assert db.execute("SELECT count(*) FROM jobs WHERE campaign_id = %s", [cid]).fetchone()[0] == 1
    # while generating the client cannot move the campaign
    assert_problem(alice.req("PATCH", f"/api/campaigns/{cid}", json={"status": "draft"}), 409)
    assert alice.campaign_status(cid) == "generating"


def test_generation_job_end_restores_campaign_status(stack, db, alice):
    """Whatever the generation job's fate (until issue #5 it fails as unsupported),
    once it ends the campaign leaves "generating" for its previous status."""
    cid = alice.campaign(status="active")
    r = alice.req("POST", f"/api/jobs/campaigns/{cid}/generate",
                  json={"contentTypes": ["social_post"], "platforms": ["linkedin"], "variations": 1})
    job = assert_json(r, 202)["job"]
    row = wait_state(stack, db, job["id"], FINISHED, 60)
    status = alice.campaign_status(cid)
    assert status != "generating", (row, status)
    if row["state"] != "completed":
        assert status == "active", (row["state"], status)
    final = check_job(assert_json(alice.req("GET", f"/api/jobs/content-generation/{job['id']}"), 200))
    assert final["state"] == row["state"] and final["finishedAt"], final
    # and it can generate again
    again = alice.req("POST", f"/api/jobs/campaigns/{cid}/generate-single",
                      json={"contentType": "social_post", "platform": "twitter"})
    j2 = assert_json(again, 202)["job"]
    assert j2["kind"] == "generate-single" and j2["id"] != job["id"], j2
    wait_state(stack, db, j2["id"], FINISHED, 60)
    assert alice.campaign_status(cid) != "generating"


def test_cancel_generation_restores_campaign_status(stack, db, alice, busy_workers):
    cid = alice.campaign()  # draft
    r = alice.req("POST", f"/api/jobs/campaigns/{cid}/generate-single",
                  json={"contentType": "ad_copy", "platform": "google_ads"})
    job = assert_json(r, 202)["job"]
    assert job["kind"] == "generate-single" and job["state"] == "queued", job
    assert r.headers.get("Location") == f"/api/jobs/content-generation/{job['id']}"
    assert alice.campaign_status(cid) == "generating"
    body = assert_json(alice.req("DELETE", f"/api/jobs/content-generation/{job['id']}/cancel"), 200)
    assert body["job"]["state"] == "cancelled", body
    assert alice.campaign_status(cid) == "draft"


@pytest.mark.parametrize("body, fields", [
    ({"contentType": "email"}, ["platform"]),
    ({"platform": "email"}, ["contentType"]),
    ({"contentType": "video", "platform": "email"}, ["contentType"]),
    ({"contentType": "email", "platform": "myspace"}, ["platform"]),
    ({"contentType": "email", "platform": "email", "idempotencyKey": ""}, ["idempotencyKey"]),
    ({"contentType": "email", "platform": "email", "extra": 1}, ["extra"]),
])
def test_generate_single_validation(stack, db, alice, body, fields):
    cid = alice.campaign()
    assert_problem(alice.req("POST", f"/api/jobs/campaigns/{cid}/generate-single", json=body), 422, fields)
    assert alice.campaign_status(cid) == "draft"
    assert db.execute("SELECT count(*) FROM jobs WHERE campaign_id = %s", [cid]).fetchone()[0] == 0


@pytest.mark.parametrize("body, fields", [
    ({"variations": 6}, ["variations"]),
    ({"variations": 0}, ["variations"]),
    ({"contentTypes": []}, ["contentTypes"]),
    ({"contentTypes": ["email", "email"]}, ["contentTypes"]),
    ({"platforms": ["email", "fax"]}, ["platforms[1]"]),
    ({"tone": "loud"}, ["tone"]),
])
def test_generate_validation(stack, db, alice, body, fields):
    cid = alice.campaign()
    r = alice.req("POST", f"/api/jobs/campaigns/{cid}/generate", json=body)
    b = assert_problem(r, 422)
    got = {e["field"] for e in b.get("errors", [])}
    # an item error may be reported on the item ("platforms[1]") or on the array
    assert {g.split("[")[0] for g in got} >= {f.split("[")[0] for f in fields}, b
    assert alice.campaign_status(cid) == "draft"


def test_generate_body_rules(stack, db, alice):
    cid = alice.campaign()
    path = f"/api/jobs/campaigns/{cid}/generate-single"
    assert_problem(alice.req("POST", path), 400)   # the body is required
    assert_problem(alice.req("POST", path, data="contentType=email",
                             headers={"Content-Type": "application/x-www-form-urlencoded"}), 415)
    assert_problem(alice.req("POST", path, data='{"contentType": "email",',
                             headers={"Content-Type": "application/json"}), 400)
    assert alice.campaign_status(cid) == "draft"


def test_generate_foreign_or_missing_campaign(stack, db, alice, bob):
    cid = bob.campaign()
    for kind, body in (("generate", None), ("generate-single", {"contentType": "email", "platform": "email"})):
        assert_problem(alice.req("POST", f"/api/jobs/campaigns/{cid}/{kind}", json=body), 404)
        assert_problem(alice.req("POST", f"/api/jobs/campaigns/{uuid.uuid4()}/{kind}", json=body), 404)
        assert_problem(alice.req("POST", f"/api/jobs/campaigns/not-a-uuid/{kind}", json=body), 404)
        assert_problem(stack.api("POST", f"/api/jobs/campaigns/{cid}/{kind}", json=body), 401)
    assert bob.campaign_status(cid) == "draft"
    assert db.execute("SELECT count(*) FROM jobs WHERE campaign_id = %s", [cid]).fetchone()[0] == 0


def test_generate_repeated_idempotency_key_keeps_campaign_usable(stack, db, alice):
    """Repeating a generate request with the idempotency key of a job that already
    ended must not leave the campaign stuck in "generating" with no job to release
    it; the replay answers the same job (202) or a conflict (409)."""
    cid = alice.campaign(status="active")
    key = "gen-" + uuid.uuid4().hex[:8]
    first = assert_json(alice.req("POST", f"/api/jobs/campaigns/{cid}/generate",
                                  json={"idempotencyKey": key}), 202)["job"]
    wait_state(stack, db, first["id"], FINISHED, 60)
    assert wait_for(lambda: alice.campaign_status(cid) != "generating", 5)
    before = alice.campaign_status(cid)

    r = alice.req("POST", f"/api/jobs/campaigns/{cid}/generate", json={"idempotencyKey": key})
    assert r.status_code in (200, 202, 409), (r.status_code, r.text)
    if r.status_code in (200, 202):
        assert r.json()["job"]["id"] == first["id"], r.text
    assert db.execute("SELECT count(*) FROM jobs WHERE campaign_id = %s", [cid]).fetchone()[0] == 1
    live = db.execute("SELECT count(*) FROM jobs WHERE campaign_id = %s AND state IN ('queued', 'running')",
                      [cid]).fetchone()[0]
    status = alice.campaign_status(cid)
    assert status == before or live == 1, \
        f"campaign is {status!r} (was {before!r}) with no live job to release it; replay answered " \
        f"{r.status_code} {r.text}"


# --- who sees what (issue #8, finding 8) -------------------------------------------------

def test_users_see_their_own_job_counts_and_no_workers(stack, db, alice, bob):
    mine = [enqueue(db, "data-exports", user_id=alice.id, run_at="2099-01-01T00:00:00Z") for _ in range(2)]
    theirs = [enqueue(db, "data-exports", user_id=bob.id, run_at="2099-01-01T00:00:00Z") for _ in range(3)]
    others = [enqueue(db, "data-exports", run_at="2099-01-01T00:00:00Z") for _ in range(4)]
    done = enqueue(db, "analytics-processing", user_id=alice.id)
    wait_state(stack, db, done, FINISHED, 5)
    try:
        for user, n in ((alice, 2), (bob, 3)):
            qs = queue_status(user, scope="own")
            assert qs["data-exports"]["queued"] == n, qs
            assert qs["email-sending"]["running"] == 0, qs
            health = assert_json(user.req("GET", "/api/jobs/health"), 200)
            assert set(health) == {"status", "database", "scope", "queues"}, health
            assert health["scope"] == "own" and health["status"] in ("ok", "degraded"), health
            assert health["queues"]["data-exports"]["queued"] == n, health
            text = user.req("GET", "/api/jobs/health").text
            assert "hostname" not in text and "pid" not in text, text
        assert queue_status(alice, scope="own")["analytics-processing"]["completed"] == 1
        assert queue_status(bob, scope="own")["analytics-processing"]["completed"] == 0
        # a new account: all zero, though the system is busy
        carol = User(stack)
        for q in queue_status(carol, scope="own").values():
            assert all(q[k] == 0 for k in q if k != "name"), q
    finally:
        db.execute("UPDATE jobs SET state = 'cancelled', finished_at = now() WHERE id = ANY(%s::uuid[])",
                   [mine + theirs + others])


def test_operator_is_read_from_the_database_on_every_request(stack, db, alice):
    assert assert_json(alice.req("GET", "/api/jobs/health"), 200)["scope"] == "own"
    p = set_operator(stack, alice.email, True)
    assert p.returncode == 0, p.stdout
    body = assert_json(alice.req("GET", "/api/jobs/health"), 200)   # the same token
    assert body["scope"] == "system" and isinstance(body["workers"], list) and body["workers"], body
    assert queue_status(alice)["data-exports"]["queued"] >= 0
    p = set_operator(stack, alice.email, False)
    assert p.returncode == 0 and "operator=off" in p.stdout, p.stdout
    assert "workers" not in assert_json(alice.req("GET", "/api/jobs/health"), 200)
    assert set_operator(stack, "nobody-" + uuid.uuid4().hex + "@example.com", True).returncode == 1


# --- cancel notifications are hints (issue #8, finding 4) ----------------------------------

def test_a_forged_cancel_notification_does_not_cancel(stack, db, alice):
    jid = enqueue(db, "email-sending", payload={"sleepMs": 1500}, user_id=alice.id)
    wait_state(stack, db, jid, ("running",), timeout=5)
    with psycopg.connect(host=stack.pg_socket_dir, port=stack.pg_port, dbname="adcraft",
                         user="adcraft_analyst", autocommit=True, connect_timeout=10) as an:
        for _ in range(3):
            an.execute("SELECT pg_notify('adcraft_cancel', %s)", [jid])
            an.execute(f"NOTIFY adcraft_cancel, '{jid}'")
            time.sleep(0.1)
    row = wait_state(stack, db, jid, FINISHED, 5)
    assert row["state"] == "completed", (row, worker_log(stack))
    assert not [e for e in log_events(stack, jid) if e.get("event") == "cancelled"]


def test_a_real_cancel_still_stops_the_job_at_once(stack, db, alice):
    jid = enqueue(db, "email-sending", payload={"sleepMs": 20000}, user_id=alice.id)
    wait_state(stack, db, jid, ("running",), timeout=5)
    with psycopg.connect(host=stack.pg_socket_dir, port=stack.pg_port, dbname="adcraft",
                         user="adcraft_analyst", autocommit=True, connect_timeout=10) as an:
        an.execute(f"NOTIFY adcraft_cancel, '{jid}'")      # a forged one first: ignored
    time.sleep(0.3)
    assert job_row(db, jid)["state"] == "running"
    t0 = time.monotonic()
    assert_json(alice.req("DELETE", f"/api/jobs/email-sending/{jid}/cancel"), 200)
    stopped = wait_for(lambda: [e for e in log_events(stack, jid) if e.get("event") == "cancelled"], 3)
    assert stopped and time.monotonic() - t0 < 1.0, (time.monotonic() - t0, worker_log(stack))
    assert job_row(db, jid)["state"] == "cancelled"


def test_idempotency_key_reused_for_another_request_is_422(stack, db, alice):
    """A key names one request: used again for another campaign or another kind it is 422 (it answered
    the first campaign's job, with the second campaign's eventsUrl), and nothing is queued."""
    first_c, second_c = alice.campaign(status="active"), alice.campaign(status="active")
    key = "reuse-" + uuid.uuid4().hex[:8]
    first = assert_json(alice.req("POST", f"/api/jobs/campaigns/{first_c}/generate",
                                  json={"idempotencyKey": key}), 202)["job"]
    for path, body in ((f"/api/jobs/campaigns/{second_c}/generate", {"idempotencyKey": key}),
                       (f"/api/jobs/campaigns/{first_c}/generate-single",
                        {"contentType": "email", "platform": "email", "idempotencyKey": key})):
        prob = assert_problem(alice.req("POST", path, json=body), 422, ["idempotencyKey"])
        assert first["id"] in prob["errors"][0]["message"], prob
    assert alice.campaign_status(second_c) == "active"
    assert db.execute("SELECT count(*) FROM jobs WHERE idempotency_key = %s", [key]).fetchone()[0] == 1


def test_idempotency_key_header(stack, db, alice):
    """The Idempotency-Key header (which CORS allows) works as the body's idempotencyKey, bare or as a
    quoted string; a bad one, or one the body contradicts, is 422 and queues nothing."""
    cid = alice.campaign(status="active")
    key = "hdr-" + uuid.uuid4().hex[:8]
    path = f"/api/jobs/campaigns/{cid}/generate"
    first = assert_json(alice.req("POST", path, headers={"Idempotency-Key": key}), 202)["job"]
    again = assert_json(alice.req("POST", path, headers={"Idempotency-Key": f'"{key}"'}), 200)["job"]
    assert again["id"] == first["id"]
    same = assert_json(alice.req("POST", path, json={"idempotencyKey": key}), 200)["job"]
    assert same["id"] == first["id"]
    other = alice.campaign(status="active")
    for headers, body in (({"Idempotency-Key": "x" * 201}, None), ({"Idempotency-Key": "caf\u00e9"}, None),
                          ({"Idempotency-Key": key}, {"idempotencyKey": key + "-other"})):
        assert_problem(alice.req("POST", f"/api/jobs/campaigns/{other}/generate", headers=headers, json=body),
                       422, ["Idempotency-Key"])
    assert alice.campaign_status(other) == "active"
    assert db.execute("SELECT count(*) FROM jobs WHERE campaign_id = %s", [other]).fetchone()[0] == 0
