"""Content generation (issue #5) through the openai provider against the fake
OpenAI-compatible server (tests/fake/fake_llm.py): one test per upstream
behaviour (latency, 429 + Retry-After, 500s, malformed JSON, schema breaks,
over-long copy and its repair, finish_reason length, refusal, 4xx, stall,
50 MB body), what lands in llm_usage, what the requests look like, and the
synchronous endpoints (ai-status, generate-*, variations, batch).

The stack's request timeout is 2 s (ADCRAFT_LLM_TIMEOUT_SECONDS) so the stall
tests stay quick. Every test gets a fresh user and a fresh fake script."""

import email.utils
import time
import uuid

import pytest

from generation_helpers import (FAKE_MODEL, PROMPT_VERSION, TEST_KEY, GenUser,
                                is_problem, limit_violations, schema_for, stored_content,
                                system_text, usage_rows, user_text)
from helpers import Stack, assert_json, assert_problem

SCHEMA_FIELDS = {
    "email": {"subjectLine", "preheader", "contentBody", "callToAction"},
    "social_post": {"contentBody", "callToAction", "hashtags"},
    "search_ad": {"headlines", "descriptions", "callToAction"},
    "social_ad": {"subjectLine", "contentBody", "callToAction"},
}


@pytest.fixture(scope="module")
def stack(fake):
    # synchronous generation runs in the slow pool (server.c): enough children there for the
    # concurrency tests below (two of one account, a third refused, another account's)
    with Stack.start(fake.env(ADCRAFT_DEV_SLOW_PROCESSES="4")) as s:
        yield s


@pytest.fixture
def user(stack, fake):
    fake.reset()
    return GenUser(stack)


def social(user, platform="twitter", **body):
    body = dict({"platform": platform}, **body)
    t0 = time.monotonic()
    r = user.post("/api/content/generate-social", body)
    return r, time.monotonic() - t0


def gaps(reqs):
    return [b["mono"] - a["mono"] for a, b in zip(reqs, reqs[1:])]


def outcomes(stack, user):
    return [(u["purpose"], u["outcome"], u["http_status"]) for u in usage_rows(stack, user.id)]


# --- provider and request shape ------------------------------------------------

def test_ai_status_reports_openai(user, fake):
    s = assert_json(user.req("GET", "/api/content/ai-status"), 200)
    assert s["provider"] == "openai", s
    assert s["model"] == FAKE_MODEL, s
    assert s["promptVersion"] == PROMPT_VERSION, s
    assert s["available"] is True, s
    assert s["usage"]["tokensToday"] == 0 and s["usage"]["limitReached"] is False, s
    assert isinstance(s["usage"]["dailyTokenLimit"], int), s
    fake.script({"usage": {"prompt_tokens": 70, "completion_tokens": 30}})
    r, _ = social(user)
    assert r.status_code == 200, r.text
    s = assert_json(user.req("GET", "/api/content/ai-status"), 200)
    assert s["usage"]["tokensToday"] == 100, s
    assert fake.requests() and len(fake.requests()) == 1


@pytest.mark.parametrize("path,body,ctype,platform", [
    ("/api/content/generate-email", {}, "email", "email"),
    ("/api/content/generate-social", {"platform": "linkedin"}, "social_post", "linkedin"),
    ("/api/content/generate-ad-copy", {"platform": "google_ads"}, "ad_copy", "google_ads"),
    ("/api/content/generate-ad-copy", {"platform": "facebook"}, "ad_copy", "facebook"),
])
def test_request_carries_auth_model_schema_and_brief(user, fake, path, body, ctype, platform):
    persona = user.persona(painPoints=["scattered to-do lists"], goals=["ship projects on time"])
    camp = user.campaign(personaId=persona["id"], tone="playful", keywords="team planner, save time")
    body = dict(body, campaignId=camp["id"], product="Acme Planner", creativityLevel=10,
                customInstructions="Mention the 14-day trial.")
    r = user.post(path, body)
    item = assert_json(r, 200)["content"]
    assert item["contentType"] == ctype and item["platform"] == platform, item
    reqs = fake.requests()
    assert len(reqs) == 1, [q["mode"] for q in reqs]
    q = reqs[0]
    assert q["path"] == "/v1/chat/completions", q["path"]
    assert q["headers"].get("authorization") == f"Bearer {TEST_KEY}", q["headers"]
    assert q["headers"].get("content-type", "").startswith("application/json"), q["headers"]
    b = q["body"]
    assert b["model"] == FAKE_MODEL, b
    assert b["temperature"] == pytest.approx(0.2 + 0.08 * 10), b["temperature"]
    assert [m["role"] for m in b["messages"]] == ["system", "user"], b["messages"]
    rf = b["response_format"]
    assert rf["type"] == "json_schema", rf
    js = rf["json_schema"]
    name = schema_for(ctype, platform)
    assert js["name"] == name and js["strict"] is True, js
    sch = js["schema"]
    assert sch["type"] == "object" and sch["additionalProperties"] is False, sch
    assert set(sch["required"]) == set(sch["properties"]) == SCHEMA_FIELDS[name], sch
    text = system_text(q) + "\n" + user_text(q)
    for needle in ("Acme Planner", "playful", "team planner, save time", "scattered to-do lists",
                   "Mention the 14-day trial.", platform):
        assert needle in text, f"{needle!r} not in the prompt:\n{text}"
    assert item["metadata"]["model"] == FAKE_MODEL and item["metadata"]["generatedBy"] == "ai", item
    assert item["metadata"]["promptVersion"] == PROMPT_VERSION, item["metadata"]


@pytest.mark.parametrize("level,expected", [(1, 0.28), (5, 0.6), (None, 0.6), (10, 1.0)])
def test_temperature_follows_creativity_level(user, fake, level, expected):
    body = {"platform": "linkedin"}
    if level is not None:
        body["creativityLevel"] = level
    r = user.post("/api/content/generate-social", body)
    assert r.status_code == 200, r.text
    (q,) = fake.requests()
    assert q["body"]["temperature"] == pytest.approx(expected, abs=0.001), q["body"]["temperature"]


def test_campaign_creativity_level_is_used(user, fake):
    camp = user.campaign(generationSettings={"contentTypes": ["email"], "platforms": ["email"],
                                             "creativityLevel": 2})
    r = user.post("/api/content/generate-email", {"campaignId": camp["id"]})
    assert r.status_code == 200, r.text
    (q,) = fake.requests()
    assert q["body"]["temperature"] == pytest.approx(0.36, abs=0.001), q["body"]["temperature"]


@pytest.mark.parametrize("path,base", [
    ("/api/content/generate-email", {}),
    ("/api/content/generate-social", {"platform": "twitter"}),
    ("/api/content/generate-ad-copy", {"platform": "google_ads"}),
    ("/api/content/generate-variations", {"contentType": "email", "platform": "email"}),
    ("/api/content/batch-generate", {"items": [{"contentType": "email", "platform": "email"}]}),
])
@pytest.mark.parametrize("field", ["baseUrl", "llmBaseUrl"])
def test_base_url_cannot_come_from_a_request(user, fake, path, base, field):
    body = dict(base, **{field: f"http://127.0.0.1:{fake.port}/evil/v1"})
    r = user.post(path, body)
    assert_problem(r, 422, [field])
    assert fake.requests() == [], "a refused request reached the LLM"


# --- upstream behaviours ---------------------------------------------------------

def test_latency_is_waited_for(user, fake, stack):
    fake.script({"latencyMs": 1200})
    r, took = social(user)
    item = assert_json(r, 200)["content"]
    assert not limit_violations(item), limit_violations(item)
    assert 1.2 <= took < 2.5, took
    assert len(fake.requests()) == 1
    (row,) = usage_rows(stack, user.id)
    assert row["outcome"] == "ok" and row["http_status"] == 200, row
    assert 1200 <= row["latency_ms"] < 2000, row["latency_ms"]


def test_429_retry_after_seconds_is_honoured(user, fake, stack):
    fake.script({"mode": "http", "status": 429, "headers": {"Retry-After": "2"}, "times": 1},
                {"mode": "http", "status": 429, "headers": {"Retry-After": "1"}, "times": 1})
    r, took = social(user)
    assert_json(r, 200)
    reqs = fake.requests()
    assert [q["status"] for q in reqs] == [429, 429, 200], [q["status"] for q in reqs]
    g = gaps(reqs)
    assert g[0] >= 2.0, f"retry {g[0]:.3f}s after 'Retry-After: 2'"
    assert g[1] >= 1.0, f"retry {g[1]:.3f}s after 'Retry-After: 1'"
    assert g[0] < 3.0 and g[1] < 2.0, f"waited far longer than Retry-After: {g}"
    assert sorted(outcomes(stack, user)) == sorted([("generate", "retry", 429)] * 2
                                                   + [("generate", "ok", 200)])


def test_retry_after_http_date_is_honoured(user, fake):
    when = email.utils.formatdate(time.time() + 3, usegmt=True)
    fake.script({"mode": "http", "status": 503, "headers": {"Retry-After": when}, "times": 1})
    r, _ = social(user)
    assert_json(r, 200)
    reqs = fake.requests()
    assert [q["status"] for q in reqs] == [503, 200]
    # the date has whole seconds: the retry may come up to 1 s before now+3
    assert gaps(reqs)[0] >= 2.0, f"retried {gaps(reqs)[0]:.3f}s after a Retry-After date 3 s ahead"


def test_500s_are_retried_with_backoff_then_succeed(user, fake, stack):
    fake.script({"mode": "http", "status": 500, "times": 2})
    r, _ = social(user)
    item = assert_json(r, 200)["content"]
    assert item["contentBody"], item
    reqs = fake.requests()
    assert [q["status"] for q in reqs] == [500, 500, 200]
    g = gaps(reqs)
    # 500 ms * 2^(n-1), +/- 25 %
    assert 0.375 <= g[0] < 1.5 and 0.75 <= g[1] < 2.5, g
    assert sorted(outcomes(stack, user)) == sorted([("generate", "retry", 500)] * 2
                                                   + [("generate", "ok", 200)])


def test_500s_that_persist_end_in_503_after_4_attempts(user, fake):
    fake.script({"mode": "http", "status": 502})
    r, took = social(user)
    body = assert_problem(r, 503)
    assert r.headers.get("Retry-After", "").isdigit(), r.headers
    assert "502" in body["detail"], body
    assert len(fake.requests()) == 4
    assert took < 10, took


def test_malformed_json_body_is_retried(user, fake, stack):
    fake.script({"mode": "malformed", "times": 1})
    r, _ = social(user)
    assert_json(r, 200)
    assert [q["mode"] for q in fake.requests()] == ["malformed", "ok"]
    assert sorted(o for _, o, _ in outcomes(stack, user)) == ["ok", "schema"]


@pytest.mark.parametrize("how", ["missing", "extra", "type", "notjson", "notobject"])
def test_schema_breaking_answer_is_retried(user, fake, stack, how):
    fake.script({"mode": "schema", "schemaBreak": how, "times": 1})
    r = user.post("/api/content/generate-email", {})
    item = assert_json(r, 200)["content"]
    assert item["callToAction"] == "Start your free trial", item
    assert "bonusField" not in item, item
    assert [q["mode"] for q in fake.requests()] == ["schema", "ok"]
    assert sorted(o for _, o, _ in outcomes(stack, user)) == ["ok", "schema"]


def test_schema_breaks_that_persist_end_in_503(user, fake, stack):
    fake.script({"mode": "schema"})
    r, _ = social(user)
    assert_problem(r, 503)
    assert len(fake.requests()) == 4
    assert [o for _, o, _ in outcomes(stack, user)] == ["schema"] * 4


def test_overlong_copy_gets_one_shorten_request(user, fake, stack):
    camp = user.campaign()
    fake.script({"mode": "long", "longChars": 600, "match": {"repair": False}, "times": 1})
    r, _ = social(user, "twitter", campaignId=camp["id"], save=True)
    item = assert_json(r, 201)["content"]
    reqs = fake.requests()
    assert len(reqs) == 2, [user_text(q)[:40] for q in reqs]
    first, repair = reqs
    assert not user_text(first).startswith("Shorten this copy")
    assert user_text(repair).startswith("Shorten this copy"), user_text(repair)[:200]
    assert "280" in user_text(repair), user_text(repair)[:300]
    assert repair["body"]["response_format"]["json_schema"]["name"] == "social_post"
    assert repair["body"]["model"] == FAKE_MODEL
    # the answer is the repaired (short) copy, not a trimmed long one
    assert len(item["contentBody"]) <= 280, len(item["contentBody"])
    assert item["contentBody"].endswith("(v1 on twitter)."), item["contentBody"]
    stored = [i for i in stored_content(stack, camp["id"]) if i["id"] == item["id"]]
    assert len(stored) == 1 and stored[0]["contentBody"] == item["contentBody"], stored
    assert sorted(p for p, _, _ in outcomes(stack, user)) == ["generate", "repair"]


def test_overlong_repair_is_trimmed_at_a_sentence(user, fake, stack):
    camp = user.campaign()
    fake.script({"mode": "long", "longChars": 700})
    r, _ = social(user, "twitter", campaignId=camp["id"], save=True)
    item = assert_json(r, 201)["content"]
    reqs = fake.requests()
    assert len(reqs) == 2, "expected the first request and exactly one shorten request"
    assert user_text(reqs[1]).startswith("Shorten this copy")
    body = item["contentBody"]
    assert 0 < len(body) <= 280, len(body)
    assert body[-1] in ".!?", f"not cut at a sentence end: {body!r}"
    assert body.startswith("Acme Planner brings every task into one place."), body
    stored = [i for i in stored_content(stack, camp["id"]) if i["id"] == item["id"]]
    assert len(stored) == 1 and len(stored[0]["contentBody"]) <= 280, stored


def test_overlong_search_ad_is_trimmed_within_limits(user, fake):
    fake.script({"mode": "long", "longChars": 200})
    r = user.post("/api/content/generate-ad-copy", {"platform": "google_ads"})
    item = assert_json(r, 200)["content"]
    assert len(fake.requests()) == 2
    assert not limit_violations(item), limit_violations(item)
    assert all(len(h) <= 30 for h in item["headlines"]), item["headlines"]
    assert all(len(d) <= 90 for d in item["descriptions"]), item["descriptions"]
    assert item["contentBody"] == item["descriptions"][0], item
    # the ad's title is its first headline, so it obeys the 30-character headline limit too
    assert item["subjectLine"] == item["headlines"][0], \
        f"subjectLine {item['subjectLine']!r} ({len(item['subjectLine'])} chars) " \
        f"is not the trimmed first headline {item['headlines'][0]!r}"


def test_finish_reason_length_is_retried(user, fake, stack):
    fake.script({"mode": "length", "times": 1})
    r, _ = social(user)
    assert_json(r, 200)
    assert [q["mode"] for q in fake.requests()] == ["length", "ok"]
    assert sorted(o for _, o, _ in outcomes(stack, user)) == ["length", "ok"]


def test_refusal_is_not_retried_and_is_502(user, fake, stack):
    fake.script({"mode": "refusal", "refusal": "I can't write that."})
    r, _ = social(user)
    body = assert_problem(r, 502)
    assert "refused" in body["detail"], body
    assert len(fake.requests()) == 1
    assert outcomes(stack, user) == [("generate", "refused", 200)]


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
def test_client_errors_are_not_retried(user, fake, stack, status):
    fake.script({"mode": "http", "status": status})
    r, took = social(user)
    body = assert_problem(r, 502)
    assert str(status) in body["detail"], body
    assert "Retry-After" not in r.headers, r.headers
    assert len(fake.requests()) == 1, f"HTTP {status} was retried"
    assert took < 1.0, took
    assert outcomes(stack, user) == [("generate", "error", status)]


def test_upstream_failure_problem_title(user, fake):
    fake.script({"mode": "http", "status": 401})
    r, _ = social(user)
    body = assert_problem(r, 502)
    assert body["title"] == "Bad Gateway", body


def test_stall_times_out_and_is_retried(user, fake, stack):
    fake.script({"mode": "stall", "stallSeconds": 30, "times": 1})
    r, took = social(user)
    assert_json(r, 200)
    reqs = fake.requests()
    assert [q["mode"] for q in reqs] == ["stall", "ok"], [q["mode"] for q in reqs]
    first = reqs[0]
    assert first["clientGone"], first
    waited = first["clientGoneMono"] - first["mono"]
    assert 1.8 <= waited <= 3.0, f"the client gave up after {waited:.2f}s (timeout is 2 s)"
    assert 2.0 <= took < 6, took
    rows = sorted((o, h) for _, o, h in outcomes(stack, user))
    assert rows == [("ok", 200), ("timeout", None)], rows


def test_stall_that_persists_ends_in_503(user, fake, stack):
    fake.script({"mode": "stall", "stallSeconds": 30})
    r, took = social(user)
    assert_problem(r, 503)
    assert r.headers.get("Retry-After", "").isdigit(), r.headers
    reqs = fake.requests()
    assert len(reqs) == 4, f"{len(reqs)} attempts"
    assert all(q["clientGone"] for q in reqs), reqs
    # 4 x 2 s timeouts + backoff (0.5 + 1 + 2 s, +/- 25 %)
    assert 8.0 <= took < 16, took
    assert [o for _, o, _ in outcomes(stack, user)] == ["timeout"] * 4


def test_50mb_body_is_aborted_and_not_retried(user, fake, stack):
    fake.script({"mode": "huge", "sizeBytes": 50 * 1024 * 1024})
    r, took = social(user)
    body = assert_problem(r, 502)
    assert "1 MiB" in body["detail"] or "large" in body["detail"], body
    reqs = fake.requests()
    assert len(reqs) == 1, f"{len(reqs)} requests: a too-large answer was retried"
    (q,) = reqs
    assert q["clientGone"], "the client read the whole 50 MB body"
    assert q["bytesSent"] < 16 * 1024 * 1024, q["bytesSent"]
    assert took < 5, took
    assert outcomes(stack, user) == [("generate", "error", 200)]


def test_dropped_connection_is_retried(user, fake):
    fake.script({"mode": "drop", "times": 1})
    r, _ = social(user)
    assert_json(r, 200)
    assert [q["mode"] for q in fake.requests()] == ["drop", "ok"]


# --- llm_usage ---------------------------------------------------------------------

def test_usage_numbers_land_in_llm_usage(user, fake, stack):
    camp = user.campaign()
    fake.script({"mode": "http", "status": 500, "times": 1},
                {"usage": {"prompt_tokens": 321, "completion_tokens": 123}})
    r = user.post("/api/content/generate-email", {"campaignId": camp["id"], "save": True})
    item = assert_json(r, 201)["content"]
    assert item["metadata"]["tokens"] == 444, item["metadata"]
    rows = usage_rows(stack, user.id)
    assert len(rows) == 2, rows
    for row in rows:
        assert row["provider"] == "openai" and row["model"] == FAKE_MODEL, row
        assert str(row["campaign_id"]) == camp["id"] and row["job_id"] is None, row
        assert row["content_type"] == "email" and row["platform"] == "email", row
        assert row["purpose"] == "generate", row
    by_status = {row["http_status"]: row for row in rows}
    assert set(by_status) == {500, 200}, rows
    assert by_status[500]["outcome"] == "retry", rows
    assert (by_status[500]["prompt_tokens"], by_status[500]["completion_tokens"]) == (0, 0)
    ok = by_status[200]
    assert ok["outcome"] == "ok" and (ok["prompt_tokens"], ok["completion_tokens"]) == (321, 123), ok
    with stack.db() as conn:
        assert conn.execute("SELECT llm_tokens_today(%s)", [user.id]).fetchone()[0] == 444


def test_usage_rows_follow_call_order(user, fake, stack):
    fake.script({"mode": "http", "status": 429, "headers": {"Retry-After": "1"}, "times": 1},
                {"mode": "long", "match": {"repair": False}, "times": 1})
    r, _ = social(user)
    assert_json(r, 200)
    rows = usage_rows(stack, user.id)
    got = [(u["purpose"], u["http_status"], u["outcome"]) for u in rows]
    assert got == [("generate", 429, "retry"), ("generate", 200, "ok"), ("repair", 200, "ok")], \
        f"llm_usage rows by id are not in call order: {got}"
    stamps = [u["created_at"] for u in rows]
    assert stamps == sorted(stamps) and stamps[0] < stamps[-1], \
        f"created_at ('when the call finished') is the same for calls > 1 s apart: {stamps}"


# --- synchronous endpoints -----------------------------------------------------------

def test_generate_email_save_stores_the_item(user, fake, stack):
    camp = user.campaign()
    r = user.post("/api/content/generate-email", {"campaignId": camp["id"]})
    unsaved = assert_json(r, 200)["content"]
    assert stored_content(stack, camp["id"]) == []
    r = user.post("/api/content/generate-email", {"campaignId": camp["id"], "save": True})
    item = assert_json(r, 201)["content"]
    for k in ("subjectLine", "preheader", "contentBody", "callToAction"):
        assert item[k] == unsaved[k], k
    assert item["id"] and item["createdAt"], item
    md = item["metadata"]
    assert md["generatedBy"] == "ai" and md["model"] == FAKE_MODEL, md
    assert md["promptVersion"] == PROMPT_VERSION and md["generatedAt"], md
    assert md["tokens"] > 0 and md["jobId"] is None, md
    assert isinstance(item["qualityScore"], int) and 0 <= item["qualityScore"] <= 100, item
    got = user.get_campaign(camp["id"])["content"]
    assert [i["id"] for i in got] == [item["id"]], got
    assert got[0]["contentBody"] == item["contentBody"]


def test_generate_social_and_ad_copy(user, fake):
    camp = user.campaign()
    r = user.post("/api/content/generate-social",
                  {"campaignId": camp["id"], "platform": "instagram", "save": True})
    post = assert_json(r, 201)["content"]
    assert post["contentType"] == "social_post" and post["platform"] == "instagram", post
    assert post["hashtags"] == ["#planning", "#productivity"], post
    r = user.post("/api/content/generate-ad-copy", {"campaignId": camp["id"], "platform": "google_ads",
                                                    "save": True})
    ad = assert_json(r, 201)["content"]
    assert ad["contentType"] == "ad_copy" and ad["platform"] == "google_ads", ad
    assert len(ad["headlines"]) == 3 and len(ad["descriptions"]) == 2, ad
    assert ad["contentBody"] == ad["descriptions"][0] and ad["subjectLine"] == ad["headlines"][0], ad
    assert not ad.get("hashtags"), ad
    r = user.post("/api/content/generate-ad-copy", {"platform": "linkedin"})
    sad = assert_json(r, 200)["content"]
    assert sad["subjectLine"] and sad["contentBody"] and not sad["headlines"], sad
    names = [q["body"]["response_format"]["json_schema"]["name"] for q in fake.requests()]
    assert names == ["social_post", "search_ad", "social_ad"], names
    ids = {i["id"] for i in user.get_campaign(camp["id"])["content"]}
    assert ids == {post["id"], ad["id"]}
    for item in (post, ad, sad):
        assert not limit_violations(item), limit_violations(item)


@pytest.mark.parametrize("path,body,field", [
    ("/api/content/generate-social", {}, "platform"),
    ("/api/content/generate-social", {"platform": "email"}, "platform"),
    ("/api/content/generate-social", {"platform": "google_ads"}, "platform"),
    ("/api/content/generate-ad-copy", {}, "platform"),
    ("/api/content/generate-ad-copy", {"platform": "email"}, "platform"),
    ("/api/content/generate-email", {"platform": "twitter"}, "platform"),
    ("/api/content/generate-email", {"creativityLevel": 11}, "creativityLevel"),
    ("/api/content/generate-email", {"campaignId": "not-a-uuid"}, "campaignId"),
])
def test_generate_validation(user, fake, path, body, field):
    assert_problem(user.post(path, body), 422, [field])
    assert fake.requests() == []


def test_variations_differ(user, fake):
    r = user.post("/api/content/generate-variations",
                  {"contentType": "social_post", "platform": "linkedin", "count": 3})
    b = assert_json(r, 200)
    items = b["variations"]
    assert len(items) == 3 and b["errors"] == [], b
    bodies = [i["contentBody"] for i in items]
    assert len(set(bodies)) == 3, bodies
    reqs = fake.requests()
    assert len(reqs) == 3
    angles = sorted(int(user_text(q).split("This is variation ")[1].split(":")[0]) for q in reqs
                    if "This is variation " in user_text(q))
    assert angles == [2, 3, 4], [user_text(q)[-120:] for q in reqs]
    for i in items:
        assert i["contentType"] == "social_post" and i["platform"] == "linkedin", i


def test_variations_of_a_stored_item_are_saved(user, fake, stack):
    camp = user.campaign()
    src = assert_json(user.post("/api/content/generate-ad-copy",
                                {"campaignId": camp["id"], "platform": "google_ads", "save": True}),
                      201)["content"]
    fake.reset()
    r = user.post("/api/content/generate-variations",
                  {"campaignId": camp["id"], "contentId": src["id"], "count": 2, "save": True})
    b = assert_json(r, 201)
    assert len(b["variations"]) == 2, b
    for v in b["variations"]:
        assert v["contentType"] == "ad_copy" and v["platform"] == "google_ads" and v["id"], v
    assert [q["body"]["response_format"]["json_schema"]["name"] for q in fake.requests()] \
        == ["search_ad", "search_ad"]
    assert len(stored_content(stack, camp["id"])) == 3


def test_variations_report_failures_in_place(user, fake):
    fake.script({"match": {"contains": "This is variation 3"}, "mode": "http", "status": 401})
    r = user.post("/api/content/generate-variations",
                  {"contentType": "email", "platform": "email", "count": 3})
    b = assert_json(r, 200)
    assert len(b["variations"]) == 2 and len(b["errors"]) == 1, b
    assert b["errors"][0]["status"] == 502, b["errors"]
    assert len(fake.requests()) == 3


def test_batch_mixes_items_and_in_place_problems(user, fake, stack):
    camp = user.campaign()
    # the search ad fails at the LLM (401: not retried); everything else works
    fake.script({"match": {"schema": "search_ad"}, "mode": "http", "status": 401})
    pairs = [("email", "email", 0), ("social_post", "google_ads", 0), ("ad_copy", "google_ads", 0),
             ("social_post", "twitter", 2), ("email", "linkedin", 0), ("ad_copy", "instagram", 1)]
    r = user.post("/api/content/batch-generate", {
        "campaignId": camp["id"], "save": True,
        "items": [{"contentType": t, "platform": p, "variant": v} for t, p, v in pairs]})
    b = assert_json(r, 201)
    out = b["items"]
    assert len(out) == len(pairs), b
    for (t, p, v), x in zip(pairs, out):
        if (t, p) in (("social_post", "google_ads"), ("email", "linkedin")):
            assert is_problem(x) and x["status"] == 422, (t, p, x)
            assert p in x["detail"], x
        elif (t, p) == ("ad_copy", "google_ads"):
            assert is_problem(x) and x["status"] == 502, (t, p, x)
        else:
            assert not is_problem(x), (t, p, x)
            assert x["contentType"] == t and x["platform"] == p and x["id"], x
            assert not limit_violations(x), limit_violations(x)
    reqs = fake.requests()
    assert len(reqs) == 4, f"{len(reqs)} LLM requests for 4 possible items (401 must not be retried)"
    stored = stored_content(stack, camp["id"])
    assert sorted(i["id"] for i in stored) == sorted(x["id"] for x in out if not is_problem(x))
    # variants reach the prompt
    assert any("This is variation 3" in user_text(q) for q in reqs), [user_text(q)[-80:] for q in reqs]


def test_batch_runs_items_concurrently(user, fake):
    fake.script({"latencyMs": 600})
    items = [{"contentType": "social_post", "platform": "linkedin", "variant": i % 5} for i in range(6)]
    t0 = time.monotonic()
    r = user.post("/api/content/batch-generate", {"items": items})
    took = time.monotonic() - t0
    b = assert_json(r, 200)
    assert len(b["items"]) == 6 and not any(is_problem(x) for x in b["items"]), b
    assert took < 1.5, f"6 items at 600 ms took {took:.2f}s: not concurrent"
    assert fake.log()["maxInFlight"] >= 2


@pytest.mark.parametrize("items", [[], [{"contentType": "email", "platform": "email"}] * 21,
                                   [{"contentType": "email", "platform": "email", "variant": 5}],
                                   [{"contentType": "tweet", "platform": "twitter"}]])
def test_batch_validation(user, fake, items):
    assert_problem(user.post("/api/content/batch-generate", {"items": items}), 422)
    assert fake.requests() == []


def test_foreign_or_missing_campaign_and_persona_are_404(user, fake, stack):
    other = GenUser(stack)
    theirs = other.campaign()
    their_persona = other.persona()
    cases = [
        ("/api/content/generate-email", {"campaignId": theirs["id"]}),
        ("/api/content/generate-email", {"campaignId": str(uuid.uuid4())}),
        ("/api/content/generate-email", {"personaId": their_persona["id"]}),
        ("/api/content/generate-social", {"platform": "twitter", "campaignId": theirs["id"], "save": True}),
        ("/api/content/generate-ad-copy", {"platform": "google_ads", "campaignId": theirs["id"]}),
        ("/api/content/generate-variations", {"campaignId": theirs["id"], "contentType": "email",
                                              "platform": "email"}),
        ("/api/content/batch-generate", {"campaignId": theirs["id"],
                                         "items": [{"contentType": "email", "platform": "email"}]}),
    ]
    for path, body in cases:
        assert_problem(user.post(path, body), 404)
    assert fake.requests() == []
    assert stored_content(stack, theirs["id"]) == []


@pytest.mark.parametrize("path,body", [
    ("/api/content/generate-email", {}),
    ("/api/content/generate-social", {"platform": "linkedin"}),
    ("/api/content/generate-ad-copy", {"platform": "twitter"}),
    ("/api/content/generate-variations", {"contentType": "email", "platform": "email"}),
    ("/api/content/batch-generate", {"items": [{"contentType": "email", "platform": "email"}]}),
])
def test_save_without_campaign_is_422(user, fake, path, body):
    assert_problem(user.post(path, dict(body, save=True)), 422, ["save"])
    assert fake.requests() == []


def test_generation_needs_a_token(stack, fake):
    fake.reset()
    r = stack.api("POST", "/api/content/generate-email", json={})
    assert_problem(r, 401)
    r = stack.api("GET", "/api/content/ai-status")
    assert_problem(r, 401)
    assert fake.requests() == []


# --- per-account concurrency (issue #8: resource consumption) ---------------

def test_sync_generation_slots_per_account(user, fake, stack):
    """generation_concurrency_per_user (2 here): a third concurrent request of
    the same account gets 429 with Retry-After and costs no LLM call; another
    account is not affected; finished requests free their slots."""
    from concurrent.futures import ThreadPoolExecutor
    fake.script({"latencyMs": 1500})
    other = GenUser(stack)
    with ThreadPoolExecutor(4) as pool:
        mine = [pool.submit(social, user) for _ in range(2)]
        time.sleep(0.5)  # both hold their slots (they wait on the fake LLM)
        third = pool.submit(social, user).result()[0]
        theirs = pool.submit(social, other).result()[0]
        results = [f.result()[0] for f in mine]
    assert_problem(third, 429)
    assert int(third.headers["Retry-After"]) > 0
    assert "already running" in third.json()["detail"]
    assert [r.status_code for r in results] == [200, 200], [r.text for r in results]
    assert theirs.status_code == 200, theirs.text
    assert len(fake.requests()) == 3  # the refused request made no call
    fake.script()
    for _ in range(3):  # slots were given back: sequential requests all run
        r, _ = social(user)
        assert r.status_code == 200, r.text
