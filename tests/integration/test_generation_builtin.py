"""The builtin generator (issue #5), on a stack with no LLM configured: every
content type x platform x variant within the platform limits (also for a brief
that fills every field to its maximum), same inputs -> same output, variations
that differ, copy that uses the brief, usage rows, and a whole-campaign job."""

import time

import pytest

from generation_helpers import ALL_PAIRS, PROMPT_VERSION, GenUser, is_problem, limit_violations, \
    stored_content, usage_rows
from helpers import RELAXED_LIMITS, Stack, assert_json

VOLATILE = ("id", "createdAt", "updatedAt")


@pytest.fixture(scope="module")
def stack():
    with Stack.start(RELAXED_LIMITS) as s:
        yield s


@pytest.fixture
def user(stack):
    return GenUser(stack)


def batch(user, body, pairs_variants):
    """batch-generate in chunks of 20; returns the items (asserting none is a problem)."""
    out = []
    for i in range(0, len(pairs_variants), 20):
        chunk = pairs_variants[i:i + 20]
        r = user.post("/api/content/batch-generate", dict(body, items=[
            {"contentType": t, "platform": p, "variant": v} for t, p, v in chunk]))
        items = assert_json(r, 200)["items"]
        assert len(items) == len(chunk), items
        for (t, p, v), it in zip(chunk, items):
            assert not is_problem(it), (t, p, v, it)
            assert it["contentType"] == t and it["platform"] == p, (t, p, it)
        out += items
    return out


def text_of(item):
    return " ".join(filter(None, [item.get("subjectLine"), item.get("preheader"), item.get("contentBody"),
                                  item.get("callToAction"), " ".join(item.get("headlines") or []),
                                  " ".join(item.get("descriptions") or []),
                                  " ".join(item.get("hashtags") or [])]))


def strip(item):
    item = {k: v for k, v in item.items() if k not in VOLATILE}
    item["metadata"] = {k: v for k, v in item["metadata"].items() if k != "generatedAt"}
    return item


ALL_VARIANTS = [(t, p, v) for t, p in ALL_PAIRS for v in range(5)]


@pytest.fixture
def brief(user):
    persona = user.persona(name="Ops Olivia", painPoints=["scattered to-do lists"],
                           goals=["ship projects on time"], interests=["productivity"])
    camp = user.campaign(name="Q3 internal push", product="Acme Planner", personaId=persona["id"],
                         keywords="team planner, save time", tone="friendly")
    return {"campaignId": camp["id"]}


def test_ai_status_reports_builtin(user):
    s = assert_json(user.req("GET", "/api/content/ai-status"), 200)
    assert s["provider"] == "builtin" and s["model"] == "builtin", s
    assert s["promptVersion"] == PROMPT_VERSION and s["available"] is True, s
    assert s["usage"]["limitReached"] is False, s


def test_every_type_platform_and_variant_within_limits(user, brief):
    items = batch(user, brief, ALL_VARIANTS)
    assert len(items) == 50
    for (t, p, v), it in zip(ALL_VARIANTS, items):
        assert not limit_violations(it), (t, p, v, limit_violations(it), it)
        md = it["metadata"]
        assert md["generatedBy"] == "builtin" and md["model"] == "builtin", md
        assert md["promptVersion"] == PROMPT_VERSION, md
        if t == "email":
            assert it["subjectLine"] and len(it["subjectLine"]) <= 78, it
            assert 40 <= len(it["preheader"]) <= 130, it["preheader"]
        if p == "twitter":
            assert len(it["contentBody"]) <= 280, it
        if t == "social_post":
            assert it["hashtags"], (t, p, v, it)
        if p == "google_ads":
            assert it["contentBody"] == it["descriptions"][0], it


def test_limits_hold_for_a_brief_at_every_maximum(user):
    persona = user.persona(
        name="P" * 200, description="Very detailed persona. " * 200, occupation="o" * 200,
        location="l" * 200, ageRange="35-44 years old and then some more words to reach fifty"[:50],
        painPoints=[f"pain point {i} " + "w" * 180 for i in range(50)],
        goals=[f"goal {i} " + "g" * 190 for i in range(50)],
        interests=[f"interest{i}" for i in range(50)])
    camp = user.campaign(name="N" * 200, description="A long description sentence. " * 170,
                         tone="t" * 100, personaId=persona["id"],
                         keywords=", ".join(f"keyword{i:03d}" for i in range(45))[:500])
    body = {"campaignId": camp["id"], "product": "Q" * 200, "customInstructions": "c" * 2000,
            "tone": "T" * 100}
    items = batch(user, body, ALL_VARIANTS)
    for (t, p, v), it in zip(ALL_VARIANTS, items):
        assert not limit_violations(it), (t, p, v, limit_violations(it))


def test_same_inputs_same_output(user, brief):
    sel = [(t, p, v) for t, p in ALL_PAIRS for v in (0, 3)]
    a = batch(user, brief, sel)
    b = batch(user, brief, sel)
    for x, y, key in zip(a, b, sel):
        assert strip(x) == strip(y), key
    e1 = assert_json(user.post("/api/content/generate-email", brief), 200)["content"]
    e2 = assert_json(user.post("/api/content/generate-email", dict(brief, save=True)), 201)["content"]
    for k in ("subjectLine", "preheader", "contentBody", "callToAction"):
        assert e1[k] == e2[k], k
    # variant 0 of the batch is the single-item endpoint's answer
    assert e1["contentBody"] == a[0]["contentBody"]


def test_variants_differ(user, brief):
    items = batch(user, brief, ALL_VARIANTS)
    clashes = []
    for t, p in ALL_PAIRS:
        group = [it for (tt, pp, _), it in zip(ALL_VARIANTS, items) if (tt, pp) == (t, p)]
        for i in range(5):
            for j in range(i + 1, 5):
                if group[i]["contentBody"] == group[j]["contentBody"]:
                    same = "whole item" if text_of(group[i]) == text_of(group[j]) else "contentBody"
                    clashes.append(f"{t}/{p} variants {i} and {j}: same {same}")
    assert not clashes, "variants that do not differ:\n" + "\n".join(clashes)


def test_generate_variations_differ(user, brief):
    clashes = []
    for t, p in [("email", "email"), ("social_post", "twitter"), ("social_post", "linkedin"),
                 ("ad_copy", "google_ads"), ("ad_copy", "facebook")]:
        r = user.post("/api/content/generate-variations",
                      dict(brief, contentType=t, platform=p, count=5))
        b = assert_json(r, 200)
        v = b["variations"]
        assert len(v) == 5 and b["errors"] == [], b
        for i in v:
            assert not limit_violations(i), limit_violations(i)
        bodies = [i["contentBody"] for i in v]
        if len(set(bodies)) < 5:
            clashes.append(f"{t}/{p}: {5 - len(set(bodies))} of 5 variations repeat a body")
    assert not clashes, "\n".join(clashes)


def test_copy_uses_the_brief(user, brief):
    items = batch(user, brief, [(t, p, 0) for t, p in ALL_PAIRS])
    persona_terms = ("scattered to-do lists", "ship projects on time", "productivity")
    for (t, p), it in zip(ALL_PAIRS, items):
        text = text_of(it).lower()
        assert "acme planner" in text, (t, p, text)
        assert any(term in text for term in persona_terms), (t, p, text)
    # the keywords show up across the campaign's copy
    everything = " ".join(text_of(i).lower() for i in items)
    assert "team planner" in everything and "save time" in everything, everything[:500]


def test_copy_reads_whole_and_never_uses_the_campaign_name(user, brief):
    items = batch(user, brief, ALL_VARIANTS)
    for (t, p, v), it in zip(ALL_VARIANTS, items):
        assert "q3 internal push" not in text_of(it).lower(), (t, p, v, it)
        bd = it["qualityBreakdown"]
        assert bd["truncation"]["score"] == 100 and bd["grammar"]["score"] == 100, (t, p, v, bd, it)
        assert "..." not in text_of(it), (t, p, v, it)


def test_custom_instructions_are_honoured(user, brief, stack):
    cid = brief["campaignId"]
    user.req("PATCH", f"/api/campaigns/{cid}", json={"generationSettings": {
        "customInstructions": 'Mention the 14-day free trial. Close with "No credit card required"'}})
    for t, p in [("email", "email"), ("social_post", "linkedin"), ("social_post", "facebook")]:
        (it,) = batch(user, brief, [(t, p, 0)])
        text = text_of(it)
        assert "the 14-day free trial" in text and "No credit card required." in text, (t, p, text)
    # a request's own instructions win over the campaign's
    (it,) = batch(user, dict(brief, customInstructions="Mention our spring pricing"), [("email", "email", 0)])
    assert "our spring pricing" in it["contentBody"] and "14-day" not in it["contentBody"], it


def test_objective_changes_the_copy(user, brief):
    pairs = [(t, p, 0) for t, p in ALL_PAIRS]
    aw = batch(user, dict(brief, objective="awareness"), pairs)
    co = batch(user, dict(brief, objective="conversion"), pairs)
    same = [(t, p) for (t, p, _), a, c in zip(pairs, aw, co) if text_of(a) == text_of(c)]
    assert not same, f"identical copy for awareness and conversion: {same}"


def test_builtin_usage_is_recorded_and_free(user, brief, stack):
    batch(user, brief, [("email", "email", 0), ("social_post", "twitter", 1)])
    rows = usage_rows(stack, user.id)
    assert len(rows) == 2, rows
    for r in rows:
        assert r["provider"] == "builtin" and r["model"] == "builtin", r
        assert r["outcome"] == "ok" and r["http_status"] is None and r["prompt_tokens"] == 0, r
        # builtin calls use no tokens and cost nothing (issue #10; they used to count 4 characters a token)
        assert r["completion_tokens"] == 0 and r["cost"] == 0 and r["currency"] == "USD", r
        assert str(r["campaign_id"]) == brief["campaignId"], r
    with stack.db() as conn:
        assert conn.execute("SELECT llm_tokens_today(%s)", [user.id]).fetchone()[0] == 0
    s = assert_json(user.req("GET", "/api/content/ai-status"), 200)
    assert s["usage"]["tokensToday"] == 0 and s["available"] is True, s
    assert s["usage"]["costToday"] == 0 and s["usage"]["limitReached"] is False, s
    assert s["price"] == {"inputPerMillion": 0, "outputPerMillion": 0, "currency": "USD"}, s
    u = assert_json(user.req("GET", "/api/usage?groupBy=model"), 200)
    assert u["items"] == [{"key": "builtin", "calls": 2, "promptTokens": 0, "completionTokens": 0, "cost": 0,
                           "currency": "USD", "unpricedCalls": 0}], u
    assert (u["total"]["calls"], u["total"]["cost"], u["total"]["currency"]) == (2, 0, "USD"), u


def test_builtin_campaign_job(user, brief, stack):
    cid = brief["campaignId"]
    t0 = time.monotonic()
    r = user.req("POST", f"/api/jobs/campaigns/{cid}/generate",
                 json={"contentTypes": ["email", "social_post", "ad_copy"],
                       "platforms": ["email", "linkedin", "twitter", "google_ads"], "variations": 2})
    job = assert_json(r, 202)["job"]
    done = user.wait_job(job["id"], timeout=15)
    assert done["state"] == "completed", done
    assert time.monotonic() - t0 < 5
    assert done["result"]["generated"] == 12 and done["progress"]["total"] == 12, done
    items = stored_content(stack, cid)
    assert len(items) == 12
    for it in items:
        assert it["metadata"]["generatedBy"] == "builtin" and it["metadata"]["jobId"] == job["id"], it
        assert not limit_violations(it), limit_violations(it)
    # the job's items match what the sync endpoint writes for the same slot
    it = next(i for i in items if i["metadata"]["slot"] == "social_post/twitter/1")
    (same,) = batch(user, brief, [("social_post", "twitter", 1)])
    assert same["contentBody"] == it["contentBody"]


def test_batch_save_creates_201_only_when_something_was_stored(user, stack):
    """batch-generate with save: 201 when an item was appended; when every item is a pair no platform
    takes, nothing is stored and the answer is 200 with a problem in each place (it was 201)."""
    camp = user.campaign()
    body = {"campaignId": camp["id"], "save": True}
    r = user.post("/api/content/batch-generate", dict(body, items=[
        {"contentType": "email", "platform": "twitter"}, {"contentType": "ad_copy", "platform": "email"}]))
    items = assert_json(r, 200)["items"]
    assert len(items) == 2 and all(is_problem(i) and i["status"] == 422 for i in items), items
    r = user.post("/api/content/batch-generate", dict(body, items=[
        {"contentType": "email", "platform": "twitter"}, {"contentType": "email", "platform": "email"}]))
    items = assert_json(r, 201)["items"]
    assert is_problem(items[0]) and not is_problem(items[1]), items
    stored = assert_json(user.req("GET", f"/api/campaigns/{camp['id']}/content"), 200)
    assert [i["id"] for i in stored["items"]] == [items[1]["id"]], stored
