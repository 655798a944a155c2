"""Generation jobs (issue #5) through the worker against the fake LLM: a
12-item campaign at 500 ms per answer within 2 s, cancelling a running job,
generate-single, the campaign's generationSettings, an LLM that refuses every
call, and the per-user daily token limit (sync 429 + Retry-After, jobs fail).

The stack's daily token limit is small (ADCRAFT_DEV_TOKEN_LIMIT=20000); the
fake's default usage numbers (~200 tokens a call) keep the other tests far
below it, and every test has its own user."""

import time

import pytest

from generation_helpers import FAKE_MODEL, GenUser, limit_violations, stored_content, \
    usage_rows
from helpers import Stack, assert_json, assert_problem

TOKEN_LIMIT = 20000
TWELVE = {"contentTypes": ["email", "social_post", "ad_copy"],
          "platforms": ["email", "linkedin", "twitter", "google_ads"], "variations": 2}
# email->email, social_post->linkedin|twitter, ad_copy->linkedin|twitter|google_ads: 6 pairs x 2
TWELVE_SLOTS = {f"{t}/{p}/{v}" for t, p in [("email", "email"), ("social_post", "linkedin"),
                                            ("social_post", "twitter"), ("ad_copy", "linkedin"),
                                            ("ad_copy", "twitter"), ("ad_copy", "google_ads")]
                for v in (0, 1)}


@pytest.fixture(scope="module")
def stack(fake):
    # Concurrent requests of one account race for the token limit here, not
    # for its synchronous generation slots (test_generation_llm covers those).
    with Stack.start(fake.env(ADCRAFT_DEV_TOKEN_LIMIT=str(TOKEN_LIMIT),
                              ADCRAFT_GENERATION_CONCURRENCY_PER_USER="16")) as s:
        yield s


@pytest.fixture
def user(stack, fake):
    fake.reset()
    return GenUser(stack)


def start_job(user, campaign_id, body=None, path="generate"):
    r = user.req("POST", f"/api/jobs/campaigns/{campaign_id}/{path}", json=body)
    b = assert_json(r, 202)
    job = b["job"]
    assert r.headers.get("Location") == f"/api/jobs/content-generation/{job['id']}", r.headers
    assert job["campaignId"] == campaign_id, job
    return job


def test_twelve_item_campaign_at_500ms_completes_within_2s(user, fake, stack):
    fake.script({"latencyMs": 500})
    camp = user.campaign()
    t0 = time.monotonic()
    job = start_job(user, camp["id"], TWELVE)
    done = user.wait_job(job["id"], timeout=20, interval=0.01)
    took = time.monotonic() - t0
    assert done["state"] == "completed", done
    print(f"12-item campaign: {took:.3f}s")
    assert took < 2.0, f"12 items at 500 ms each took {took:.2f}s from POST to completed"
    assert done["progress"] == {"done": 12, "total": 12, "percent": 100}, done["progress"]
    res = done["result"]
    assert (res["total"], res["generated"], res["failed"], res["cancelled"]) == (12, 12, 0, False), res
    assert res["errors"] == [] and len(res["itemIds"]) == 12, res
    items = stored_content(stack, camp["id"])
    assert sorted(i["id"] for i in items) == sorted(res["itemIds"])
    assert {i["metadata"]["slot"] for i in items} == TWELVE_SLOTS
    for i in items:
        md = i["metadata"]
        assert md["jobId"] == job["id"] and md["generatedBy"] == "ai" and md["model"] == FAKE_MODEL, md
        assert md["generatedAt"] and md["tokens"] > 0, md
        assert not limit_violations(i), (i["metadata"]["slot"], limit_violations(i))
    reqs = fake.requests()
    assert len(reqs) == 12, len(reqs)
    assert 2 <= fake.log()["maxInFlight"] <= 6, fake.log()["maxInFlight"]
    assert user.get_campaign(camp["id"])["status"] == "draft"
    rows = usage_rows(stack, user.id)
    assert len(rows) == 12 and all(str(r["job_id"]) == job["id"] for r in rows), rows
    assert all(r["outcome"] == "ok" and r["http_status"] == 200 for r in rows), rows


def test_progress_is_reported_after_every_item(user, fake, stack):
    # one request at a time would be too slow; stagger answers so items finish one by one
    fake.script(*[{"latencyMs": 150 * (i + 1), "times": 1} for i in range(6)])
    camp = user.campaign()
    job = start_job(user, camp["id"], {"contentTypes": ["social_post"],
                                       "platforms": ["linkedin", "twitter", "facebook"],
                                       "variations": 2})
    seen = []
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        j = user.job(job["id"])
        seen.append((j["progress"]["done"], len(stored_content(stack, camp["id"]))))
        if j["state"] in ("completed", "failed", "cancelled"):
            break
        time.sleep(0.02)
    assert j["state"] == "completed", j
    dones = [d for d, _ in seen]
    assert dones == sorted(dones), dones
    partial = {d for d, _ in seen if 0 < d < 6}
    assert len(partial) >= 3, f"progress seen only at {sorted(set(dones))}"
    # items are appended as they finish: stored count keeps up with progress
    assert any(0 < n < 6 for _, n in seen), seen


def test_cancel_running_job_keeps_finished_items(user, fake, stack):
    fake.script({"latencyMs": 0, "times": 2}, {"latencyMs": 3000})
    camp = user.campaign()
    user.req("PATCH", f"/api/campaigns/{camp['id']}", json={"status": "active"})
    job = start_job(user, camp["id"], TWELVE)
    user.wait_job(job["id"], states=("running",), pred=lambda j: j["progress"]["done"] >= 2,
                  timeout=10)
    fake.wait_requests(8, timeout=5)
    time.sleep(0.2)
    assert user.get_campaign(camp["id"])["status"] == "generating"
    t_cancel = time.monotonic()
    r = user.req("DELETE", f"/api/jobs/content-generation/{job['id']}/cancel")
    assert assert_json(r, 200)["job"]["state"] == "cancelled", r.text
    j = user.wait_job(job["id"], states=("cancelled",), pred=lambda j: j["result"] is not None,
                      timeout=5, interval=0.02)
    stopped = time.monotonic() - t_cancel
    assert stopped < 1.5, f"the worker took {stopped:.2f}s to stop after the cancel"
    res = j["result"]
    assert res["cancelled"] is True and res["generated"] == 2 and len(res["itemIds"]) == 2, res
    items = stored_content(stack, camp["id"])
    assert sorted(i["id"] for i in items) == sorted(res["itemIds"]), items
    assert all(i["metadata"]["jobId"] == job["id"] for i in items)
    assert user.get_campaign(camp["id"])["status"] == "active"
    reqs = fake.requests()
    slow = [q for q in reqs if q["rule"] == 1]
    assert slow and all(q["clientGone"] for q in slow), "in-flight LLM requests were not aborted"
    gone_after = max(q["clientGoneMono"] for q in slow)
    # fake and test share the machine's monotonic clock
    assert gone_after - t_cancel < 1.5, f"transfers aborted {gone_after - t_cancel:.2f}s after cancel"
    n = len(reqs)
    time.sleep(1.0)
    assert len(fake.requests()) == n, "requests kept coming after the cancel"
    assert len(stored_content(stack, camp["id"])) == 2
    outcomes = [u["outcome"] for u in usage_rows(stack, user.id)]
    assert outcomes.count("ok") == 2 and outcomes.count("cancelled") == len(slow), outcomes


def test_generate_single(user, fake, stack):
    camp = user.campaign()
    job = start_job(user, camp["id"], {"contentType": "ad_copy", "platform": "google_ads"},
                    path="generate-single")
    assert job["kind"] == "generate-single", job
    done = user.wait_job(job["id"], timeout=15)
    assert done["state"] == "completed", done
    assert done["result"]["generated"] == 1 and done["progress"]["done"] == 1, done
    (item,) = stored_content(stack, camp["id"])
    assert item["contentType"] == "ad_copy" and item["platform"] == "google_ads", item
    assert item["metadata"]["jobId"] == job["id"] and item["metadata"]["slot"] == "ad_copy/google_ads/0"
    assert not limit_violations(item), limit_violations(item)
    (q,) = fake.requests()
    assert q["body"]["response_format"]["json_schema"]["name"] == "search_ad"


def test_generate_single_validation(user, fake, stack):
    camp = user.campaign()
    for body in ({}, {"contentType": "email"}, {"contentType": "email", "platform": "fax"}):
        r = user.req("POST", f"/api/jobs/campaigns/{camp['id']}/generate-single", json=body)
        assert r.status_code in (400, 422), (body, r.status_code, r.text)
    r = user.req("POST", f"/api/jobs/campaigns/{camp['id']}/generate-single",
                 json={"contentType": "email", "platform": "twitter"})
    assert_problem(r, 422, ["platform"])
    r = user.req("POST", f"/api/jobs/campaigns/{camp['id']}/generate",
                 json={"contentTypes": ["email"], "platforms": ["twitter", "google_ads"]})
    assert_problem(r, 422, ["platforms"])
    assert user.get_campaign(camp["id"])["status"] == "draft"
    with stack.db() as conn:
        assert conn.execute("SELECT count(*) FROM jobs WHERE campaign_id = %s",
                            [camp["id"]]).fetchone()[0] == 0
    assert fake.requests() == []


def test_idempotent_generate_replays_the_job(user, fake, stack):
    camp = user.campaign()
    body = {"contentTypes": ["email"], "platforms": ["email"], "idempotencyKey": "gen-once"}
    job = start_job(user, camp["id"], body)
    done = user.wait_job(job["id"], timeout=15)
    assert done["state"] == "completed", done
    r = user.req("POST", f"/api/jobs/campaigns/{camp['id']}/generate", json=body)
    again = assert_json(r, 200)["job"]
    assert again["id"] == job["id"], (again, job)
    time.sleep(0.5)
    assert user.get_campaign(camp["id"])["status"] == "draft", "the replay left the campaign generating"
    assert len(stored_content(stack, camp["id"])) == 1
    assert len(fake.requests()) == 1


def test_job_uses_campaign_generation_settings(user, fake, stack):
    camp = user.campaign(generationSettings={"contentTypes": ["social_post"],
                                             "platforms": ["twitter", "instagram"], "variations": 1,
                                             "creativityLevel": 9})
    job = start_job(user, camp["id"])
    done = user.wait_job(job["id"], timeout=15)
    assert done["state"] == "completed" and done["result"]["generated"] == 2, done
    slots = {i["metadata"]["slot"] for i in stored_content(stack, camp["id"])}
    assert slots == {"social_post/twitter/0", "social_post/instagram/0"}, slots
    temps = {q["body"]["temperature"] for q in fake.requests()}
    assert len(fake.requests()) == 2 and all(abs(t - 0.92) < 1e-6 for t in temps), temps


def test_job_whose_every_call_fails_fails_cleanly(user, fake, stack):
    fake.script({"mode": "http", "status": 401})
    camp = user.campaign()
    job = start_job(user, camp["id"], {"contentTypes": ["email"], "platforms": ["email"],
                                       "variations": 2})
    done = user.wait_job(job["id"], timeout=15)
    assert done["state"] == "failed", done
    assert "401" in (done["error"] or ""), done
    assert done["attempts"] == 1, "a non-retryable LLM error was retried as a job"
    assert stored_content(stack, camp["id"]) == []
    assert len(fake.requests()) == 2
    assert user.get_campaign(camp["id"])["status"] == "draft"


def test_job_with_some_failures_completes_and_reports_them(user, fake, stack):
    fake.script({"match": {"schema": "search_ad"}, "mode": "refusal"})
    camp = user.campaign()
    job = start_job(user, camp["id"], {"contentTypes": ["ad_copy"],
                                       "platforms": ["google_ads", "facebook"], "variations": 1})
    done = user.wait_job(job["id"], timeout=15)
    assert done["state"] == "completed", done
    res = done["result"]
    assert res["generated"] == 1 and res["failed"] == 1, res
    (err,) = res["errors"]
    assert (err["contentType"], err["platform"], err["variant"]) == ("ad_copy", "google_ads", 0), err
    assert "refused" in err["error"], err
    (item,) = stored_content(stack, camp["id"])
    assert item["platform"] == "facebook"


def test_daily_token_limit(user, fake, stack):
    fake.script({"usage": {"prompt_tokens": 15000, "completion_tokens": 6000}, "times": 1})
    r = user.post("/api/content/generate-social", {"platform": "linkedin"})
    assert_json(r, 200)  # the limit is checked before a call: this one may overshoot it
    s = assert_json(user.req("GET", "/api/content/ai-status"), 200)
    u = s["usage"]
    assert (u["tokensToday"], u["dailyTokenLimit"], u["limitReached"], u["exceededLimit"]) == \
        (21000, TOKEN_LIMIT, True, "daily_tokens"), s
    assert s["available"] is False, s
    for path, body in [("/api/content/generate-social", {"platform": "linkedin"}),
                       ("/api/content/generate-email", {}),
                       ("/api/content/generate-variations", {"contentType": "email", "platform": "email"}),
                       ("/api/content/batch-generate",
                        {"items": [{"contentType": "email", "platform": "email"}]})]:
        r = user.post(path, body)
        b = assert_problem(r, 429)
        ra = r.headers.get("Retry-After", "")
        assert ra.isdigit() and 1 <= int(ra) <= 86400, (path, r.headers)
        assert "daily token limit" in b["detail"], b
    camp = user.campaign()
    job = start_job(user, camp["id"], {"contentTypes": ["email"], "platforms": ["email"]})
    done = user.wait_job(job["id"], timeout=15)
    assert done["state"] == "failed", done
    assert "daily token limit" in done["error"] and "used up" in done["error"], done
    assert stored_content(stack, camp["id"]) == []
    assert len(fake.requests()) == 1, "calls were made past the daily limit"
    # the limit is per user
    other = GenUser(stack)
    assert_json(other.post("/api/content/generate-social", {"platform": "linkedin"}), 200)


# --- token reservations (issue #8, finding 9) -----------------------------------------------
# Each external call reserves llm_token_estimate (2000 by default) before it starts; the fake
# answers 1800 tokens a call, within the estimate, so the limit holds exactly: at most
# 11 calls (19800 tokens) fit in 20000.

CALL_USAGE = {"prompt_tokens": 1200, "completion_tokens": 600}
PER_CALL = 1800


def openai_tokens(stack, user_id):
    return sum(r["prompt_tokens"] + r["completion_tokens"] for r in usage_rows(stack, user_id)
               if r["provider"] == "openai")


def open_reservations(stack, user_id):
    return stack.scalar("SELECT count(*) FROM llm_reservations WHERE user_id = %s", [user_id])


def test_concurrent_requests_never_pass_the_daily_limit(user, fake, stack):
    from concurrent.futures import ThreadPoolExecutor
    fake.script({"usage": CALL_USAGE, "latencyMs": 300})
    with ThreadPoolExecutor(max_workers=12) as ex:
        rs = list(ex.map(lambda _: user.post("/api/content/generate-social", {"platform": "linkedin"}), range(16)))
    ok = [r for r in rs if r.status_code == 200]
    refused = [r for r in rs if r.status_code != 200]
    for r in refused:
        b = assert_problem(r, 429)
        assert "daily token limit" in b["detail"], b
        assert r.headers.get("Retry-After", "").isdigit(), r.headers
    used = openai_tokens(stack, user.id)
    assert used <= TOKEN_LIMIT, (used, len(ok))
    assert len(ok) >= 9 and used == PER_CALL * len(ok), (used, len(ok))
    assert len(fake.requests()) == len(ok), "a call was made that the limit had no room for"
    assert open_reservations(stack, user.id) == 0


def test_a_batch_stops_at_the_daily_limit(user, fake, stack):
    fake.script({"usage": CALL_USAGE, "latencyMs": 100})
    items = [{"contentType": "social_post", "platform": p, "variant": v}
             for p in ("linkedin", "twitter", "facebook", "instagram") for v in range(5)]
    b = assert_json(user.post("/api/content/batch-generate", {"items": items}), 200)
    assert len(b["items"]) == 20
    done = [i for i in b["items"] if "contentBody" in i]
    limited = [i for i in b["items"] if i.get("status") == 429]
    assert len(done) + len(limited) == 20, b["items"]
    assert len(done) == 11, len(done)   # the batch waits for its own calls to settle
    for p in limited:
        assert p["title"] == "Too Many Requests" and "daily token limit" in p["detail"], p
    used = openai_tokens(stack, user.id)
    assert used == PER_CALL * len(done) and used <= TOKEN_LIMIT, used
    assert len(fake.requests()) == len(done)
    assert open_reservations(stack, user.id) == 0
    # under the limit, but without room for one more call: refused before calling
    s = assert_json(user.req("GET", "/api/content/ai-status"), 200)
    assert s["usage"]["tokensToday"] == used, s
    r = user.post("/api/content/generate-social", {"platform": "linkedin"})
    assert "daily token limit" in assert_problem(r, 429)["detail"]
    assert r.headers.get("Retry-After", "").isdigit(), r.headers
    camp = user.campaign()
    job = start_job(user, camp["id"], {"contentTypes": ["email"], "platforms": ["email"]})
    failed = user.wait_job(job["id"], timeout=15)
    assert failed["state"] == "failed" and "daily token limit" in failed["error"], failed
    assert len(fake.requests()) == len(done), "calls were made past the daily limit"
    assert openai_tokens(stack, user.id) <= TOKEN_LIMIT


def test_a_job_reserves_before_every_call(user, fake, stack):
    fake.script({"usage": CALL_USAGE, "latencyMs": 100})
    camp = user.campaign()
    job = start_job(user, camp["id"], TWELVE)
    done = user.wait_job(job["id"], timeout=30)
    assert done["state"] == "completed", done
    res = done["result"]
    assert res["generated"] == 11 and res["failed"] == 1, res
    assert all("daily token limit" in e["error"] for e in res["errors"]), res
    assert openai_tokens(stack, user.id) == PER_CALL * res["generated"] <= TOKEN_LIMIT
    assert open_reservations(stack, user.id) == 0


def test_a_dead_callers_reservation_expires(user, fake, stack):
    fake.script({"usage": CALL_USAGE})
    stack.scalar("INSERT INTO llm_reservations (user_id, tokens, created_at, expires_at)"
                 " VALUES (%s, 19000, now() - interval '10 minutes', now() - interval '1 minute') RETURNING id",
                 [user.id])
    stack.scalar("INSERT INTO llm_reservations (user_id, tokens, expires_at)"
                 " VALUES (%s, 18500, now() + interval '1 minute') RETURNING id", [user.id])
    assert_problem(user.post("/api/content/generate-social", {"platform": "linkedin"}), 429)  # 18500 held
    stack.scalar("DELETE FROM llm_reservations WHERE user_id = %s AND tokens = 18500 RETURNING 1", [user.id])
    assert_json(user.post("/api/content/generate-social", {"platform": "linkedin"}), 200)    # expired one ignored
    assert open_reservations(stack, user.id) == 0


def test_no_item_is_stored_after_its_job_ended(stack, user):
    """job_append_item stores a finished item only while its job is still running and ours: a cancel
    that committed first stores nothing (before, the item was appended anyway and the worker learnt of
    the cancel after it: an item created after the job's finishedAt), and a cancel in progress waits
    for the item's commit. Run as the worker runs it, on a job row of its own (no worker involved)."""
    import threading
    import psycopg
    from test_dba import _statements
    sql = next(s for name, _, s in _statements() if name == "job_append_item")
    camp = user.campaign()
    item = '{"contentType":"ad_copy","platform":"google_ads","contentBody":"x","metadata":{}}'

    def append(conn, job, done):
        return conn.execute("EXECUTE append(%s, %s, %s, %s, 1, 'w:1:test', %s, 3)",
                            [user.id, camp["id"], item, job, done]).fetchone()

    def connect():
        # EXECUTE takes no bound parameters: the client binds them
        conn = psycopg.connect(host=stack.pg_socket_dir, port=stack.pg_port, dbname="adcraft", user="postgres",
                               autocommit=True, cursor_factory=psycopg.ClientCursor)
        conn.execute("PREPARE append(uuid, uuid, jsonb, uuid, int, text, int, int) AS " + sql)
        return conn

    def new_job(conn):
        return str(conn.execute(
            "INSERT INTO jobs (queue, kind, state, attempts, locked_by, heartbeat_at, user_id, campaign_id)"
            " VALUES ('content-generation', 'generate-campaign', 'running', 1, 'w:1:test', now(), %s, %s)"
            " RETURNING id", [user.id, camp["id"]]).fetchone()[0])

    cancel = ("UPDATE jobs SET state = 'cancelled', finished_at = now(), locked_by = NULL, heartbeat_at = NULL"
              " WHERE id = %s")
    with connect() as worker, connect() as api:
        job = new_job(worker)
        stored, ours = append(worker, job, 1)
        assert stored is not None and ours is True
        assert len(stored_content(stack, camp["id"])) == 1

        api.execute(cancel, [job])
        assert append(worker, job, 2) == (None, False), "a cancelled job stores nothing"
        assert len(stored_content(stack, camp["id"])) == 1

        # a cancel that has the job's row when the item comes: the item waits, then stores nothing
        job = new_job(worker)
        with api.transaction():
            api.execute(cancel, [job])
            got = []
            t = threading.Thread(target=lambda: got.append(append(worker, job, 1)))
            t.start()
            time.sleep(0.3)
            assert t.is_alive(), "the append waits for the cancel's commit"
        t.join(10)
        assert got == [(None, False)], got
        assert len(stored_content(stack, camp["id"])) == 1


def test_deleting_a_campaign_while_its_job_stores_an_item_does_not_deadlock(stack, user):
    """A job locks its row, then its campaign's, to store an item; the delete took the campaign first and
    reached the job through the cascade: each waited for the other until PostgreSQL killed one. Here the
    job holds its row when the DELETE comes, then stores: the delete waits, then deletes."""
    import threading
    import psycopg
    from test_dba import _statements
    sql = next(s for name, _, s in _statements() if name == "job_append_item")
    camp = user.campaign()
    item = '{"contentType":"ad_copy","platform":"google_ads","contentBody":"x","metadata":{}}'
    with psycopg.connect(host=stack.pg_socket_dir, port=stack.pg_port, dbname="adcraft", user="postgres",
                         cursor_factory=psycopg.ClientCursor) as worker:
        worker.execute("PREPARE append(uuid, uuid, jsonb, uuid, int, text, int, int) AS " + sql)
        job = str(worker.execute(
            "INSERT INTO jobs (queue, kind, state, attempts, locked_by, heartbeat_at, user_id, campaign_id)"
            " VALUES ('content-generation', 'generate-campaign', 'running', 1, 'w:1:test', now(), %s, %s)"
            " RETURNING id", [user.id, camp["id"]]).fetchone()[0])
        worker.commit()
        worker.execute("SELECT 1 FROM jobs WHERE id = %s FOR NO KEY UPDATE", [job])  # the job's own lock
        got = []
        t = threading.Thread(target=lambda: got.append(user.req("DELETE", f"/api/campaigns/{camp['id']}")))
        t.start()
        time.sleep(0.5)
        assert t.is_alive(), "the delete waits for the job's row"
        stored, ours = worker.execute("EXECUTE append(%s, %s, %s, %s, 1, 'w:1:test', 1, 3)",
                                      [user.id, camp["id"], item, job]).fetchone()
        assert stored is not None and ours is True
        worker.commit()
        t.join(15)
    assert got and got[0].status_code == 204, got and got[0].text
    assert user.req("GET", f"/api/campaigns/{camp['id']}").status_code == 404
