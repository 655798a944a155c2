"""OWASP API5:2023 Broken Function Level Authorization.

- Operator views: /api/jobs/health and /api/jobs/queues/status show a regular
  user only that user's own job counts, and no worker ids, host names or pids
  (issue #8 §1.8; the tests named *_operator_view_* need that change).
- A user cannot act on another user's jobs (cancel, read), queued or finished.
- Claims a client might add to a token (role, scope, admin) change nothing.
- What only the operator's command line does (adcraft migrate, check-config,
  gen-secret, user add, token, seed) and other admin functions have no HTTP
  route: every method on every plausible path is a 404 or 405.
"""

import socket
import time
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from campaign_helpers import User
from helpers import assert_json, assert_problem, jwt_find_key, jwt_make, jwt_parts
from jobs_helpers import children, enqueue, job_row

QUEUES = ["analytics-processing", "content-generation", "data-exports", "email-sending"]
COUNTS = ("queued", "running", "completed", "failed", "cancelled")


@pytest.fixture(scope="module")
def users(stack):
    """A with queued, finished and failed jobs in several queues; B with none."""
    a, b = User(stack, "Alice"), User(stack, "Bob")
    later = datetime.now(timezone.utc) + timedelta(hours=1)
    with stack.db() as conn:
        queued = [enqueue(conn, q, payload={}, user_id=a.id, run_at=later.isoformat())
                  for q in ("email-sending", "data-exports", "analytics-processing")]
    return a, b, queued


def worker_identities(stack):
    master = int(stack.read_file("run/worker.pid").split()[0])
    return [master] + children(master)


def assert_no_worker_identity(stack, body_text, where):
    for pid in worker_identities(stack):
        assert f'"pid":{pid}' not in body_text.replace(" ", ""), f"{where} shows worker pid {pid}"
    host = socket.gethostname()
    for shown in (f'"{host}"', f'"{host}:'):
        assert shown not in body_text.replace(" ", ""), f"{where} shows the host name {host!r}"
    for key in ('"hostname"', '"pid"', '"workers"', '"lockedBy"', '"locked_by"'):
        assert key not in body_text, f"{where} has {key}: {body_text[:500]}"


def test_operator_view_jobs_health_hides_workers_from_users(stack, users):
    _, b, _ = users
    r = b.req("GET", "/api/jobs/health")
    body = assert_json(r, 200)
    assert body.get("status") in ("ok", "degraded"), body
    assert_no_worker_identity(stack, r.text, "GET /api/jobs/health")


def test_operator_view_queue_status_counts_only_own_jobs(stack, users):
    """B has no jobs while A has three queued: B's figures are all zero."""
    a, b, _ = users
    r = b.req("GET", "/api/jobs/queues/status")
    body = assert_json(r, 200)
    for q in body["queues"]:
        assert all(q.get(k, 0) == 0 for k in COUNTS), f"B sees others' jobs: {q}"
    assert_no_worker_identity(stack, r.text, "GET /api/jobs/queues/status")
    # and A sees A's own three queued jobs, so the zeros above mean something
    mine = {q["name"]: q for q in assert_json(a.req("GET", "/api/jobs/queues/status"), 200)["queues"]}
    for name in ("email-sending", "data-exports", "analytics-processing"):
        assert mine[name]["queued"] >= 1, mine


def test_operator_view_health_queue_counts_only_own_jobs(stack, users):
    _, b, _ = users
    body = assert_json(b.req("GET", "/api/jobs/health"), 200)
    queues = body.get("queues", {})
    items = queues.values() if isinstance(queues, dict) else queues
    for q in items:
        assert all(q.get(k, 0) == 0 for k in COUNTS), f"B sees others' jobs in health: {q}"


def test_cannot_cancel_or_read_other_users_queued_jobs(stack, users):
    a, b, queued = users
    with stack.db() as conn:
        for jid in queued:
            row = job_row(conn, jid)
            before = dict(row)
            for method, path in (("GET", f"/api/jobs/{row['queue']}/{jid}"),
                                 ("DELETE", f"/api/jobs/{row['queue']}/{jid}/cancel")):
                b_answer = assert_problem(b.req(method, path), 404)
                ghost = path.replace(jid, str(uuid.uuid4()))
                assert assert_problem(b.req(method, ghost), 404)["title"] == b_answer["title"]
            assert dict(job_row(conn, jid)) == before, "B's attempts changed A's job"
    # control: A may cancel A's own queued job
    q0 = job_row(stack.db(), queued[0])["queue"]
    assert assert_json(a.req("DELETE", f"/api/jobs/{q0}/{queued[0]}/cancel"), 200)["job"]["state"] \
        == "cancelled"


def test_jobs_without_owner_are_nobodys(stack, users):
    """System jobs (user_id NULL) are not readable or cancellable by users."""
    _, b, _ = users
    later = (datetime.now(timezone.utc) + timedelta(hours=1)).isoformat()
    with stack.db() as conn:
        jid = enqueue(conn, "analytics-processing", payload={}, run_at=later)
        for method, path in (("GET", f"/api/jobs/analytics-processing/{jid}"),
                             ("DELETE", f"/api/jobs/analytics-processing/{jid}/cancel")):
            assert_problem(b.req(method, path), 404)
        assert job_row(conn, jid)["state"] == "queued"
    assert jid not in b.req("GET", "/api/jobs/user/recent?limit=100").text


@pytest.mark.parametrize("claims", [
    {"role": "admin"}, {"roles": ["admin", "operator"]}, {"scope": "admin operator"},
    {"admin": True}, {"isAdmin": True}, {"operator": True},
])
def test_privilege_claims_in_token_change_nothing(stack, users, claims):
    """A token carrying admin-looking claims (signed with the real key, the
    worst case) gets exactly the regular user's view."""
    _, b, _ = users
    key = jwt_find_key(stack, b.token)
    assert key is not None
    header, base, _ = jwt_parts(b.token)
    now = int(time.time())
    tok = jwt_make(header, dict(base, iat=now, exp=now + 300, **claims), key)
    for path in ("/api/jobs/queues/status", "/api/jobs/user/recent", "/api/campaigns/stats"):
        plain = assert_json(b.req("GET", path), 200)
        r = stack.api("GET", path, token=tok)
        if r.status_code == 401:
            continue  # refusing unknown claims outright is fine too
        assert assert_json(r, 200) == plain, (claims, path)


# --- command-line-only and admin functions have no HTTP route ---------------------------

ADMIN_PATHS = [
    "/api/admin", "/api/admin/users", "/api/admin/jobs", "/api/users", "/api/users/me",
    f"/api/users/{uuid.uuid4()}", "/api/migrate", "/api/migrations", "/api/config",
    "/api/check-config", "/api/gen-secret", "/api/secret", "/api/token", "/api/auth/token",
    "/api/auth/users", "/api/seed", "/api/jobs", "/api/jobs/email-sending",
    "/api/jobs/content-generation", "/api/jobs/queues", "/api/jobs/workers", "/api/workers",
    "/api/jobs/enqueue", f"/api/jobs/email-sending/{uuid.uuid4()}/retry",
    "/api/jobs/queues/status/all", "/api/debug", "/api/internal", "/api/metrics/all",
    "/api/auth/impersonate", "/api/auth/register/admin", "/api/llm", "/api/llm/usage",
    "/api/usage/all", "/api/campaigns/all", "/api/personas/all",
]
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


@pytest.mark.parametrize("path", ADMIN_PATHS)
def test_no_admin_or_cli_function_over_http(stack, users, path):
    _, b, _ = users
    counts = stack.scalar("SELECT (SELECT count(*) FROM users) || '/' || (SELECT count(*) FROM jobs)")
    for method in METHODS:
        body = {"email": "x@example.com", "name": "x", "password": "p" * 12} \
            if method in ("POST", "PUT", "PATCH") else None
        r = b.req(method, path, json=body)
        assert r.status_code in (404, 405), (method, path, r.status_code, r.text[:300])
        assert_problem(r, r.status_code)
    assert stack.scalar("SELECT (SELECT count(*) FROM users) || '/' || (SELECT count(*) FROM jobs)") \
        == counts
