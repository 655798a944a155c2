"""GET /api/campaigns/stats and /api/campaigns/dashboard (issue #3): a varied
data set is built through the API, then every number is recomputed in SQL by
the test (straight from campaigns / campaign content / jobs, not through the
server's functions) and compared with the responses exactly."""

from decimal import Decimal

import pytest

from campaign_helpers import User, json_body, problem, q, q1

TYPES = ["email", "social_post", "ad_copy"]
PLATFORMS = ["email", "linkedin", "twitter", "facebook", "instagram", "google_ads"]
STATS_KEYS = {"total", "byStatus", "byObjective", "budget", "content"}

LONG = ("Plan your week in five minutes. Our planner finds the hours you lose to busywork "
        "and gives them back. Teams that plan on Monday ship more by Friday. ")


def expected_stats(stack, uid):
    """The stats of one user, recomputed in SQL from the tables."""
    by_status = dict.fromkeys(["draft", "active", "generating", "completed"], 0)
    by_status.update({s: n for s, n in q(
        stack, "SELECT status, count(*) FROM campaigns WHERE user_id = %s GROUP BY status", (uid,))})
    by_obj = dict.fromkeys(["awareness", "consideration", "conversion"], 0)
    by_obj.update({o: n for o, n in q(
        stack, "SELECT objective, count(*) FROM campaigns WHERE user_id = %s GROUP BY objective",
        (uid,))})
    budget = [{"currency": c, "total": t} for c, t in q(
        stack, "SELECT currency, sum(budget) FROM campaigns WHERE user_id = %s "
               "AND budget IS NOT NULL GROUP BY currency ORDER BY currency", (uid,))]
    items = q(stack, """SELECT e->>'contentType', e->>'platform', (e->>'qualityScore')::int
                          FROM campaigns c, jsonb_array_elements(c.content) e
                         WHERE c.user_id = %s""", (uid,))
    avg = q1(stack, """SELECT round(avg((e->>'qualityScore')::numeric), 1)
                         FROM campaigns c, jsonb_array_elements(c.content) e
                        WHERE c.user_id = %s""", (uid,))
    return {
        "total": q1(stack, "SELECT count(*) FROM campaigns WHERE user_id = %s", (uid,)),
        "byStatus": by_status,
        "byObjective": by_obj,
        "budget": budget,
        "content": {
            "total": len(items),
            "byType": {t: sum(1 for i in items if i[0] == t) for t in TYPES},
            "byPlatform": {p: sum(1 for i in items if i[1] == p) for p in PLATFORMS},
            "averageQualityScore": avg,
        },
    }


def stats_of(user):
    return json_body(user.req("GET", "/api/campaigns/stats"), 200)


def dashboard_of(user):
    return json_body(user.req("GET", "/api/campaigns/dashboard"), 200)


def check_stats(stack, user, got, hand=None):
    want = expected_stats(stack, user.id)
    assert {k: got[k] for k in STATS_KEYS} == want
    # exact key sets: no missing zero buckets
    assert set(got["byStatus"]) == {"draft", "active", "generating", "completed"}
    assert set(got["content"]["byType"]) == set(TYPES)
    assert set(got["content"]["byPlatform"]) == set(PLATFORMS)
    if hand:
        for path, value in hand.items():
            cur = got
            for part in path.split("."):
                cur = cur[part]
            assert cur == value, (path, cur, value)
    return want


@pytest.fixture(scope="module")
def dataset(stack):
    """Two users: `u` with a varied data set, `noise` with data that must never
    show up in u's numbers."""
    u, noise = User(stack, "Stats"), User(stack, "Noise")
    p = u.persona(name="Buyer", interests=["planning", "productivity"], painPoints=["busywork"])
    c = {}
    c["alpha"] = u.campaign(name="Alpha", objective="awareness", budget=1000.50, currency="USD",
                            personaId=p["id"], keywords="planner, productivity")
    c["beta"] = u.campaign(name="Beta", objective="consideration", budget=250.25, currency="EUR")
    c["gamma"] = u.campaign(name="Gamma", objective="conversion", budget=99.99)  # USD default
    c["delta"] = u.campaign(name="Delta", objective="conversion", currency="GBP")  # no budget
    c["eps"] = u.campaign(name="Epsilon", objective="awareness", budget=0, currency="EUR")
    c["zeta"] = u.campaign(name="Zeta", objective="consideration", budget=10, currency="CHF")
    c["eta"] = u.campaign(name="Eta", objective="awareness", budget=5.05, currency="EUR")
    u.move(c["beta"]["id"], "active")
    u.move(c["gamma"]["id"], "active", "completed")
    u.move(c["delta"]["id"], "active")
    u.move(c["zeta"]["id"], "active")
    u.move(c["eta"]["id"], "active", "draft")
    # "generating" is set by the system only
    q(stack, "UPDATE campaigns SET status = 'generating', status_before_generation = status "
             "WHERE id = %s RETURNING id", (c["zeta"]["id"],))

    def add(key, ctype, platform, body, **kw):
        return u.content(c[key]["id"], contentType=ctype, platform=platform, contentBody=body, **kw)

    items = [
        add("alpha", "email", "email", LONG * 4, subjectLine="Plan your week",
            preheader="Five minutes on Monday saves you hours by Friday, every week.",
            callToAction="Start free trial"),
        add("alpha", "social_post", "twitter", "Busywork? Plan smarter. #productivity",
            hashtags=["planner"]),
        add("beta", "social_post", "linkedin", LONG * 2, callToAction="Learn more",
            hashtags=["productivity", "planning", "teams"]),
        add("beta", "ad_copy", "google_ads", "Plan your week in five minutes. Try it free.",
            headlines=["Weekly planner"], descriptions=["Free for 14 days."]),
        add("gamma", "ad_copy", "facebook", "FREE!!! BUY NOW!!! LIMITED OFFER!!! ACT NOW!!!"),
        add("gamma", "social_post", "instagram", LONG, hashtags=["plan"]),
        add("gamma", "email", "email", "Hi.", subjectLine="x"),
        add("zeta", "ad_copy", "linkedin", LONG, callToAction="Book a demo"),
        add("eta", "social_post", "facebook", LONG * 3),
    ]
    # noise: another user's campaigns, budgets, content and jobs
    n1 = noise.campaign(name="Noise", objective="conversion", budget=777.77, currency="USD")
    noise.move(n1["id"], "active", "completed")
    for _ in range(3):
        noise.content(n1["id"], contentType="email", platform="email", contentBody=LONG * 4,
                      subjectLine="Plan your week", callToAction="Start free trial")
    q1(stack, "SELECT enqueue('analytics-processing', 'noop', '{}', %s, NULL, 0, "
              "now() + interval '1 hour')", (noise.id,))
    return {"u": u, "noise": noise, "campaigns": c, "items": items, "persona": p}


def test_stats_match_sql(stack, dataset):
    u = dataset["u"]
    got = stats_of(u)
    assert set(got) == STATS_KEYS
    check_stats(stack, u, got, hand={
        "total": 7,
        "byStatus": {"draft": 3, "active": 2, "generating": 1, "completed": 1},
        "byObjective": {"awareness": 3, "consideration": 2, "conversion": 2},
        "budget": [{"currency": "CHF", "total": Decimal("10")},
                   {"currency": "EUR", "total": Decimal("255.30")},
                   {"currency": "USD", "total": Decimal("1100.49")}],
        "content.total": 9,
        "content.byType": {"email": 2, "social_post": 4, "ad_copy": 3},
        "content.byPlatform": {"email": 2, "linkedin": 2, "twitter": 1, "facebook": 2,
                               "instagram": 1, "google_ads": 1},
    })
    scores = [i["qualityScore"] for i in dataset["items"]]
    assert len(set(scores)) >= 4, f"data set should have varied scores: {scores}"
    want_avg = (Decimal(sum(scores)) / len(scores)).quantize(Decimal("0.1"), rounding="ROUND_HALF_UP")
    assert got["content"]["averageQualityScore"] == want_avg


def test_stats_follow_changes(stack, dataset):
    """Move things around and recompute: the numbers follow."""
    u, c = dataset["u"], dataset["campaigns"]
    extra = u.campaign(name="Theta", objective="conversion", budget=12.34, currency="EUR")
    item = u.content(extra["id"], contentType="social_post", platform="twitter", contentBody="Short.")
    before = stats_of(u)
    check_stats(stack, u, before)
    json_body(u.req("PATCH", f"/api/campaigns/{extra['id']}",
                    json={"budget": 1.5, "currency": "JPY", "objective": "awareness"}), 200)
    json_body(u.req("PATCH", f"/api/campaigns/{extra['id']}/content/{item['id']}",
                    json={"platform": "linkedin", "contentBody": LONG}), 200)
    u.move(c["beta"]["id"], "completed")
    after = stats_of(u)
    check_stats(stack, u, after)
    assert after["byStatus"]["completed"] == before["byStatus"]["completed"] + 1
    assert after["byStatus"]["active"] == before["byStatus"]["active"] - 1
    assert after["byObjective"]["awareness"] == before["byObjective"]["awareness"] + 1
    assert {"currency": "JPY", "total": Decimal("1.50")} in after["budget"]
    assert after["content"]["byPlatform"]["linkedin"] == before["content"]["byPlatform"]["linkedin"] + 1
    assert u.req("DELETE", f"/api/campaigns/{extra['id']}").status_code == 204
    final = stats_of(u)
    check_stats(stack, u, final)
    assert final["total"] == before["total"] - 1
    assert "JPY" not in [b["currency"] for b in final["budget"]]
    assert final["content"]["total"] == before["content"]["total"] - 1


def test_stats_empty_user(stack):
    u = User(stack, "Empty")
    got = stats_of(u)
    assert got == {
        "total": 0,
        "byStatus": {"draft": 0, "active": 0, "generating": 0, "completed": 0},
        "byObjective": {"awareness": 0, "consideration": 0, "conversion": 0},
        "budget": [],
        "content": {"total": 0, "byType": {t: 0 for t in TYPES},
                    "byPlatform": {p: 0 for p in PLATFORMS}, "averageQualityScore": None},
    }
    d = dashboard_of(u)
    assert {k: d[k] for k in STATS_KEYS} == got
    assert (d["recentCampaigns"], d["recentJobs"], d["activeJobs"], d["topContent"]) == ([], [], [], [])


def test_stats_noise_user_sees_only_own(stack, dataset):
    noise = dataset["noise"]
    got = stats_of(noise)
    check_stats(stack, noise, got, hand={
        "total": 1, "budget": [{"currency": "USD", "total": Decimal("777.77")}],
        "content.total": 3, "byStatus": {"draft": 0, "active": 0, "generating": 0, "completed": 1}})


def _jobs_fixture(stack, u):
    """12 queued (due in an hour, so no worker takes them) and 3 finished jobs,
    each in its own transaction so created_at differs."""
    ids = []
    for i in range(12):
        ids.append(str(q1(stack, "SELECT enqueue('analytics-processing', 'noop', %s, %s, NULL, "
                                 "0, now() + interval '1 hour')",
                          (f'{{"n": {i}}}', u.id))))
    for state in ("completed", "failed", "cancelled"):
        ids.append(str(q1(stack, "INSERT INTO jobs (queue, kind, user_id, state, finished_at) "
                                 "VALUES ('data-exports', 'noop', %s, %s, now()) RETURNING id",
                          (u.id, state))))
    return ids


def test_dashboard_matches_sql(stack, dataset):
    u = dataset["u"]
    _jobs_fixture(stack, u)
    d = dashboard_of(u)
    assert STATS_KEYS | {"recentCampaigns", "recentJobs", "activeJobs", "topContent"} <= set(d)
    # the stats part: same as SQL and as /stats
    check_stats(stack, u, d)
    assert {k: d[k] for k in STATS_KEYS} == stats_of(u)

    # recentCampaigns: the 5 newest, as list summaries
    want = [str(r[0]) for r in q(stack, "SELECT id FROM campaigns WHERE user_id = %s "
                                        "ORDER BY created_at DESC, id DESC LIMIT 5", (u.id,))]
    assert [c["id"] for c in d["recentCampaigns"]] == want
    lst = json_body(u.req("GET", "/api/campaigns?limit=5"), 200)["items"]
    assert d["recentCampaigns"] == lst

    # recentJobs: the 10 newest of the user's jobs
    want = [str(r[0]) for r in q(stack, "SELECT id FROM jobs WHERE user_id = %s "
                                        "ORDER BY created_at DESC, id DESC LIMIT 10", (u.id,))]
    assert [j["id"] for j in d["recentJobs"]] == want
    states = dict((str(i), s) for i, s in q(stack, "SELECT id, state FROM jobs WHERE user_id = %s",
                                             (u.id,)))
    for j in d["recentJobs"]:
        assert j["state"] == states[j["id"]]
        assert j["queue"] in ("analytics-processing", "data-exports") and j["kind"] == "noop"

    # activeJobs: every queued or running job of the user
    want = {str(r[0]) for r in q(stack, "SELECT id FROM jobs WHERE user_id = %s "
                                        "AND state IN ('queued', 'running')", (u.id,))}
    assert len(want) == 12
    assert {j["id"] for j in d["activeJobs"]} == want
    assert len(d["activeJobs"]) == 12
    assert all(j["state"] in ("queued", "running") for j in d["activeJobs"])

    # topContent: the 5 best-scored items, with their campaign added
    rows = q(stack, """SELECT e, c.id::text, c.name FROM campaigns c, jsonb_array_elements(c.content) e
                        WHERE c.user_id = %s ORDER BY (e->>'qualityScore')::int DESC""", (u.id,))
    assert len(d["topContent"]) == 5
    assert [t["qualityScore"] for t in d["topContent"]] == [r[0]["qualityScore"] for r in rows[:5]]
    by_id = {r[0]["id"]: r for r in rows}
    for t in d["topContent"]:
        item, cid, cname = by_id[t["id"]]
        assert t["campaignId"] == cid and t["campaignName"] == cname
        assert {k: v for k, v in t.items() if k not in ("campaignId", "campaignName")} == item


def test_dashboard_other_user_isolated(stack, dataset):
    noise, u = dataset["noise"], dataset["u"]
    d = dashboard_of(noise)
    check_stats(stack, noise, d)
    u_campaigns = {str(r[0]) for r in q(stack, "SELECT id FROM campaigns WHERE user_id = %s", (u.id,))}
    assert [c["name"] for c in d["recentCampaigns"]] == ["Noise"]
    assert all(t["campaignId"] not in u_campaigns for t in d["topContent"])
    assert len(d["topContent"]) == 3
    own_jobs = {str(r[0]) for r in q(stack, "SELECT id FROM jobs WHERE user_id = %s", (noise.id,))}
    assert {j["id"] for j in d["recentJobs"]} == own_jobs and len(own_jobs) == 1
    assert {j["id"] for j in d["activeJobs"]} == own_jobs


@pytest.mark.parametrize("path", ["/api/campaigns/stats", "/api/campaigns/dashboard"])
def test_stats_requires_token(stack, path):
    problem(stack.api("GET", path), 401)


def test_dashboard_top_content_spliced_text_is_the_item(stack):
    """topContent splices each item's stored text after its campaign's id and name (sql/0029): a name
    and an item that need JSON escapes come out as written, and a non-object element that a direct
    write put in a content array is no item."""
    u = User(stack, "Splice")
    name = 'Say "hi" \\ to ünïcode\ttabs'
    c = u.campaign(name=name)
    item = u.content(c["id"], contentType="social_post", platform="linkedin",
                     contentBody='Line one\nline "two" \\ three \u2014 done', hashtags=["#ünï_2"])
    q(stack, "UPDATE campaigns SET content = content || '[42]' WHERE id = %s RETURNING id", (c["id"],))
    d = dashboard_of(u)
    assert len(d["topContent"]) == 1
    top = d["topContent"][0]
    assert (top.pop("campaignId"), top.pop("campaignName")) == (c["id"], name)
    assert top == item
