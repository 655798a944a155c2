"""A/B tests as a resource (issue #12 section 3): CRUD, validation refusals
that change nothing, the status machine, the manual winner, results on
known counts (analytics events through the API) against scipy/statsmodels,
the automatic decision after a rollup with its abtest:completed event, and
the campaign's abTests array in the seed's shape."""

import math
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from scipy import integrate
from scipy import stats as sps
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import proportion_confint, proportion_effectsize
from statsmodels.stats.multitest import multipletests

from events_helpers import SSE
from helpers import assert_problem

GHOST = "00000000-0000-4000-8000-000000000001"


class Owner:
    def __init__(self, stack):
        self.stack = stack
        u, self.token, _ = stack.register_user()
        self.id = u["id"]

    def req(self, method, path, json=None):
        return self.stack.api(method, path, token=self.token, json=json)

    def ok(self, method, path, json=None, status=200):
        r = self.req(method, path, json)
        assert r.status_code == status, (method, path, r.status_code, r.text)
        return r.json() if r.text else None

    def campaign(self, items=3, content_type="email"):
        c = self.ok("POST", "/api/campaigns", {"name": "A/B", "objective": "conversion"}, 201)
        ids = []
        for i in range(items):
            body = {"contentType": content_type, "platform": "email" if content_type == "email" else "linkedin",
                    "subjectLine": f"Variant {i}: plan your week",
                    "contentBody": "Acme Planner puts every task, owner and deadline on one page.",
                    "callToAction": "Start planning"}
            ids.append(self.ok("POST", f"/api/campaigns/{c['id']}/content", body, 201)["id"])
        return c["id"], ids

    def test(self, cid, items, status=201, **fields):
        body = {"name": "Subject lines", "metric": "open_rate",
                "variants": [{"contentId": i} for i in items]}
        body.update(fields)
        return self.ok("POST", f"/api/campaigns/{cid}/ab-tests", body, status)


@pytest.fixture
def owner(stack):
    return Owner(stack)


def required_n(baseline, mde, alpha, power, comparisons):
    """stats_msprt_sample_size from its formula (abstats.h): the smallest n at which the mSPRT's last look
    (alpha split over the comparisons, tau = baseline x mde) detects baseline -> baseline x (1 + mde) with this
    power: P(|d| >= t_n), t_n^2 = V0 (1 + V0/tau2) (2 log(m/alpha) + log(1 + tau2/V0)), V0 = 2 pbar (1 - pbar)/n,
    d ~ N(effect, (p0 q0 + p1 q1)/n)."""
    p0, p1 = baseline, baseline * (1 + mde)
    tau2, a = (baseline * mde) ** 2, alpha / comparisons

    def power_at(n):
        m = (p0 + p1) / 2
        v0, v1 = 2 * m * (1 - m) / n, (p0 * (1 - p0) + p1 * (1 - p1)) / n
        t = math.sqrt((1 + v0 / tau2) * (2 * math.log(1 / a) + math.log1p(tau2 / v0)) * v0)
        d, s1 = abs(p1 - p0), math.sqrt(v1)
        return sps.norm.cdf((d - t) / s1) + sps.norm.cdf((-d - t) / s1)

    lo, hi = 1, 2 ** 53
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if power_at(mid) >= power else (mid, hi)
    n = hi
    # about twice the fixed-horizon sample of the same plan (statsmodels), as abstats.h says
    h = abs(proportion_effectsize(p1, p0))
    fixed = NormalIndPower().solve_power(h, alpha=a, power=power, ratio=1)
    assert 1.3 * fixed < n < 3 * fixed, (n, fixed)
    return n


def test_create_defaults_and_required_sample(stack, owner):
    cid, items = owner.campaign()
    t = owner.test(cid, items[:2])
    assert t["status"] == "draft" and t["campaignId"] == cid and t["metric"] == "open_rate"
    assert t["variants"] == [{"key": "A", "contentId": items[0], "weight": 1},
                             {"key": "B", "contentId": items[1], "weight": 1}]
    assert (t["confidenceLevel"], t["minimumDetectableEffect"], t["power"], t["baselineRate"]) == (0.95, 0.1, 0.8, 0.2)
    assert t["requiredSamplePerVariant"] == required_n(0.2, 0.1, 0.05, 0.8, 1)
    assert t["winner"] is None and t["startedAt"] is None and t["endedAt"] is None
    # three variants: two comparisons, Bonferroni-split alpha; click_rate's default baseline
    t3 = owner.test(cid, items, metric="click_rate", confidenceLevel=0.9, minimumDetectableEffect=0.25, power=0.9)
    assert t3["baselineRate"] == 0.03
    assert t3["requiredSamplePerVariant"] == required_n(0.03, 0.25, 0.1, 0.9, 2)
    assert [v["key"] for v in t3["variants"]] == ["A", "B", "C"]
    assert owner.ok("GET", f"/api/ab-tests/{t['id']}") == t
    listed = owner.ok("GET", f"/api/campaigns/{cid}/ab-tests")["items"]
    assert [x["id"] for x in listed] == [t3["id"], t["id"]]
    assert [x["id"] for x in owner.ok("GET", f"/api/campaigns/{cid}/ab-tests?status=running")["items"]] == []


def test_validation_refusals_change_nothing(stack, owner):
    cid, items = owner.campaign(items=2)
    other_cid, other_items = owner.campaign(items=1)
    before = stack.scalar("SELECT count(*) FROM ab_tests")
    cases = [
        ({"metric": "open_rate", "variants": [{"contentId": items[0]}, {"contentId": items[1]}]}, {"name"}),
        ({"name": "t", "metric": "ctr", "variants": [{"contentId": items[0]}, {"contentId": items[1]}]}, {"metric"}),
        ({"name": "t", "metric": "open_rate", "variants": [{"contentId": items[0]}]}, {"variants"}),
        ({"name": "t", "metric": "open_rate", "variants": [{"contentId": items[0]}] * 6}, {"variants"}),
        ({"name": "t", "metric": "open_rate", "variants": [{"contentId": items[0]}, {"contentId": items[0]}]},
         {"variants[1].contentId"}),
        ({"name": "t", "metric": "open_rate", "variants": [{"contentId": items[0]}, {"contentId": other_items[0]}]},
         {"variants[1].contentId"}),
        ({"name": "t", "metric": "open_rate", "variants": [{"contentId": items[0]}, {"contentId": "nope"}]},
         {"variants[1].contentId"}),
        ({"name": "t", "metric": "open_rate", "variants": [{"contentId": items[0], "weight": 0},
                                                           {"contentId": items[1]}]}, {"variants[0].weight"}),
        ({"name": "t", "metric": "open_rate", "variants": [{"key": "B", "contentId": items[0]},
                                                           {"contentId": items[1]}]}, {"variants[0].key"}),
        ({"name": "t", "metric": "open_rate", "variants": [{"contentId": items[0]},
                                                           {"key": "BB", "contentId": items[1]}]}, {"variants[1].key"}),
        ({"name": "t", "metric": "open_rate", "variants": [{"contentId": items[0], "key": "Z"},
                                                           {"contentId": items[1]}]}, {"variants[0].key"}),
        ({"name": "t", "metric": "open_rate", "variants": [{"contentId": items[0]}, {"contentId": items[1]}],
          "confidenceLevel": 0.999}, {"confidenceLevel"}),
        ({"name": "t", "metric": "open_rate", "variants": [{"contentId": items[0]}, {"contentId": items[1]}],
          "power": "0.8"}, {"power"}),
        ({"name": "t", "metric": "open_rate", "variants": [{"contentId": items[0]}, {"contentId": items[1]}],
          "baselineRate": 0.6, "minimumDetectableEffect": 1}, {"baselineRate"}),
        ({"name": "t", "metric": "open_rate", "variants": [{"contentId": items[0]}, {"contentId": items[1]}],
          "winner": "A"}, {"winner"}),
    ]
    for body, fields in cases:
        b = assert_problem(owner.req("POST", f"/api/campaigns/{cid}/ab-tests", body), 422)
        assert {e["field"] for e in b["errors"]} == fields, (body, b)
    assert_problem(owner.req("POST", f"/api/campaigns/{GHOST}/ab-tests",
                             {"name": "t", "metric": "open_rate",
                              "variants": [{"contentId": items[0]}, {"contentId": items[1]}]}), 404)
    intruder = Owner(stack)
    assert_problem(intruder.req("POST", f"/api/campaigns/{cid}/ab-tests",
                                {"name": "t", "metric": "open_rate",
                                 "variants": [{"contentId": items[0]}, {"contentId": items[1]}]}), 404)
    assert stack.scalar("SELECT count(*) FROM ab_tests") == before
    t = owner.test(cid, items)
    for path in (f"/api/ab-tests/{t['id']}", f"/api/ab-tests/{t['id']}/results"):
        assert_problem(intruder.req("GET", path), 404)
    assert_problem(intruder.req("POST", f"/api/ab-tests/{t['id']}/start"), 404)
    assert_problem(intruder.req("DELETE", f"/api/ab-tests/{t['id']}"), 404)
    assert owner.ok("GET", f"/api/ab-tests/{t['id']}")["status"] == "draft"


def test_variants_sent_back_as_a_test_shows_them(stack, owner):
    """API.md shows variants as {key, contentId, weight}: a client that sends them back that way (keys
    A, B in order) is understood; the server keys them by place either way."""
    cid, items = owner.campaign(items=2)
    t = owner.test(cid, items, variants=[{"key": "A", "contentId": items[0], "weight": 2},
                                         {"key": "B", "contentId": items[1].upper()}])
    assert [(v["key"], v["contentId"], v["weight"]) for v in t["variants"]] == \
        [("A", items[0], 2), ("B", items[1], 1)], t["variants"]
    again = owner.ok("PATCH", f"/api/ab-tests/{t['id']}", {"variants": t["variants"]}, 200)
    assert again["variants"] == t["variants"]


def test_patch_only_in_draft_and_recomputes(stack, owner):
    cid, items = owner.campaign()
    t = owner.test(cid, items[:2])
    p = owner.ok("PATCH", f"/api/ab-tests/{t['id']}", {"minimumDetectableEffect": 0.2, "name": "Renamed"})
    assert p["name"] == "Renamed" and p["metric"] == "open_rate" and p["variants"] == t["variants"]
    assert p["requiredSamplePerVariant"] == required_n(0.2, 0.2, 0.05, 0.8, 1)
    p = owner.ok("PATCH", f"/api/ab-tests/{t['id']}", {"metric": "conversion_rate"})
    assert p["baselineRate"] == 0.02 and p["requiredSamplePerVariant"] == required_n(0.02, 0.2, 0.05, 0.8, 1)
    p = owner.ok("PATCH", f"/api/ab-tests/{t['id']}",
                 {"variants": [{"contentId": items[2]}, {"contentId": items[0], "weight": 3}]})
    assert p["variants"] == [{"key": "A", "contentId": items[2], "weight": 1},
                             {"key": "B", "contentId": items[0], "weight": 3}]
    b = assert_problem(owner.req("PATCH", f"/api/ab-tests/{t['id']}", {"name": ""}), 422)
    assert {e["field"] for e in b["errors"]} == {"name"}
    owner.ok("POST", f"/api/ab-tests/{t['id']}/start")
    assert_problem(owner.req("PATCH", f"/api/ab-tests/{t['id']}", {"name": "late"}), 409)
    assert owner.ok("GET", f"/api/ab-tests/{t['id']}")["name"] == "Renamed"
    # the design's bounds survive a PATCH of something else; ids are stored in lower case
    b = owner.test(cid, items[:2], baselineRate=0.9999, minimumDetectableEffect=0.01, status=422)
    assert {e["field"] for e in b["errors"]} == {"baselineRate"}
    edge = owner.test(cid, [items[0].upper(), items[1]], confidenceLevel=0.8, power=0.5, baselineRate=0.0001,
                      minimumDetectableEffect=10)
    assert edge["variants"][0]["contentId"] == items[0]
    again = owner.ok("PATCH", f"/api/ab-tests/{edge['id']}", {"name": "Edges"})
    assert {k: again[k] for k in ("confidenceLevel", "power", "baselineRate", "minimumDetectableEffect",
                                  "requiredSamplePerVariant")} == \
        {"confidenceLevel": 0.8, "power": 0.5, "baselineRate": 0.0001, "minimumDetectableEffect": 10,
         "requiredSamplePerVariant": edge["requiredSamplePerVariant"]}


def test_state_machine_and_manual_winner(stack, owner):
    cid, items = owner.campaign()
    t = owner.test(cid, items)
    tid = t["id"]
    assert_problem(owner.req("POST", f"/api/ab-tests/{tid}/stop"), 409)
    assert_problem(owner.req("POST", f"/api/ab-tests/{tid}/winner", {"variant": "B"}), 409)
    s = owner.ok("POST", f"/api/ab-tests/{tid}/start")
    assert s["status"] == "running" and s["startedAt"] and s["endedAt"] is None
    assert_problem(owner.req("POST", f"/api/ab-tests/{tid}/start"), 409)
    assert_problem(owner.req("DELETE", f"/api/ab-tests/{tid}"), 409)
    b = assert_problem(owner.req("POST", f"/api/ab-tests/{tid}/winner", {"variant": "D"}), 422)
    assert {e["field"] for e in b["errors"]} == {"variant"}
    assert owner.ok("GET", f"/api/ab-tests/{tid}")["status"] == "running"
    # any variant may be promoted by hand, with the owner's reason
    w = owner.ok("POST", f"/api/ab-tests/{tid}/winner", {"variant": "C", "reason": "brand team prefers it"})
    assert (w["status"], w["winner"], w["winnerReason"], w["winnerNote"]) == \
        ("completed", "C", "manual", "brand team prefers it")
    assert w["endedAt"]
    assert_problem(owner.req("POST", f"/api/ab-tests/{tid}/winner", {"variant": "A"}), 409)
    assert_problem(owner.req("POST", f"/api/ab-tests/{tid}/stop"), 409)
    r = owner.ok("GET", f"/api/ab-tests/{tid}/results")
    assert (r["decision"], r["winner"], r["winnerReason"]) == ("winner", "C", "manual")
    # stop, then a manual winner after the stop
    t2 = owner.test(cid, items[:2])
    owner.ok("POST", f"/api/ab-tests/{t2['id']}/start")
    st = owner.ok("POST", f"/api/ab-tests/{t2['id']}/stop")
    assert st["status"] == "stopped" and st["winner"] is None and st["endedAt"]
    assert owner.ok("POST", f"/api/ab-tests/{t2['id']}/winner", {"variant": "A"})["winnerReason"] == "manual"
    # a completed or draft test may be deleted
    owner.ok("DELETE", f"/api/ab-tests/{t2['id']}", status=204)
    assert_problem(owner.req("GET", f"/api/ab-tests/{t2['id']}"), 404)
    # the table refuses what the API would never write
    with pytest.raises(Exception):
        stack.db().execute("UPDATE ab_tests SET status = 'draft' WHERE id = %s", [tid])


def test_campaign_abtests_seed_shape_and_read_only(stack, owner):
    cid, items = owner.campaign()
    t = owner.test(cid, items[:2], name="Subject A vs B")
    c = owner.ok("GET", f"/api/campaigns/{cid}")
    assert c["abTests"] == [{
        "id": t["id"], "testName": "Subject A vs B", "testType": "content", "status": "draft",
        "variantA": {"contentId": items[0], "description": "Variant A", "content": None},
        "variantB": {"contentId": items[1], "description": "Variant B", "content": None},
        "variants": t["variants"], "metric": "open_rate", "winner": None, "startDate": None, "endDate": None}]
    owner.ok("POST", f"/api/ab-tests/{t['id']}/start")
    owner.ok("POST", f"/api/ab-tests/{t['id']}/winner", {"variant": "B"})
    c = owner.ok("GET", f"/api/campaigns/{cid}")
    today = time.strftime("%Y-%m-%d", time.gmtime())
    assert (c["abTests"][0]["status"], c["abTests"][0]["winner"], c["abTests"][0]["startDate"]) == \
        ("completed", "B", today)
    summary = [x for x in owner.ok("GET", "/api/campaigns")["items"] if x["id"] == cid][0]
    assert summary["abTestCount"] == 1
    # clients may no longer write abTests: a clear 422 naming the resource, nothing changed
    for method in ("PATCH", "PUT"):
        body = {"abTests": c["abTests"]}
        if method == "PUT":
            body.update(name=c["name"], objective=c["objective"])
        b = assert_problem(owner.req(method, f"/api/campaigns/{cid}", body), 422)
        err = [e for e in b["errors"] if e["field"] == "abTests"]
        assert err and "/api/campaigns/:id/ab-tests" in err[0]["message"], b
    assert owner.ok("GET", f"/api/campaigns/{cid}") == c
    # a PUT without abTests keeps the tests (they are not the campaign row's)
    put = owner.ok("PUT", f"/api/campaigns/{cid}", {"name": "Renamed", "objective": "conversion"})
    assert put["abTests"] == c["abTests"]
    # deleting the campaign deletes its tests
    owner.ok("DELETE", f"/api/campaigns/{cid}", status=204)
    assert stack.scalar("SELECT count(*) FROM ab_tests WHERE id = %s", [t["id"]]) == 0


COUNTS_DIFFER = """SELECT count(*) FROM campaigns c
                    WHERE c.ab_test_rows <> (SELECT count(*) FROM ab_tests t WHERE t.campaign_id = c.id)"""


def test_campaign_counts_its_ab_tests_rows(stack, owner):
    """campaigns.ab_test_rows (sql/0033), which GET /api/campaigns/:id and the list read instead of probing
    ab_tests, equals the campaign's rows after creates, deletes, a test moved in SQL, and TRUNCATE; GET
    shows the tests exactly while there are some, and abTestCount follows."""
    cid, items = owner.campaign()
    other, other_items = owner.campaign()

    def shown(c):
        return ([t["id"] for t in owner.ok("GET", f"/api/campaigns/{c}")["abTests"]],
                [x["abTestCount"] for x in owner.ok("GET", "/api/campaigns")["items"] if x["id"] == c][0])

    assert shown(cid) == ([], 0)
    t1 = owner.test(cid, items[:2])["id"]
    t2 = owner.test(cid, items[1:])["id"]
    assert stack.scalar("SELECT ab_test_rows FROM campaigns WHERE id = %s", [cid]) == 2
    assert sorted(shown(cid)[0]) == sorted([t1, t2]) and shown(cid)[1] == 2
    owner.ok("DELETE", f"/api/ab-tests/{t1}", status=204)
    assert shown(cid) == ([t2], 1)
    assert stack.scalar(COUNTS_DIFFER) == 0
    # moved to another campaign of the owner (a DBA's UPDATE; the variants name items of both)
    with stack.db() as conn:
        conn.execute("ALTER TABLE ab_tests DISABLE TRIGGER ab_tests_items")
        try:
            conn.execute("UPDATE ab_tests SET campaign_id = %s WHERE id = %s", (other, t2))
        finally:
            conn.execute("ALTER TABLE ab_tests ENABLE TRIGGER ab_tests_items")
    assert shown(cid) == ([], 0) and shown(other) == ([t2], 1)
    assert stack.scalar(COUNTS_DIFFER) == 0
    t3 = owner.test(other, other_items[:2])["id"]
    assert sorted(shown(other)[0]) == sorted([t2, t3])
    # the campaign goes, its tests with it; the other campaigns' counts stay
    third, third_items = owner.campaign()
    owner.test(third, third_items[:2])
    owner.ok("DELETE", f"/api/campaigns/{other}", status=204)
    assert stack.scalar(COUNTS_DIFFER) == 0
    assert shown(third)[1] == 1
    # four tests created at once on one campaign: all counted
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda _: owner.test(third, third_items[1:]), range(4)))
    assert shown(third)[1] == 5 and stack.scalar(COUNTS_DIFFER) == 0
    # TRUNCATE ab_tests zeroes every count (rolled back: other tests' rows stay)
    with stack.db() as conn:
        with conn.transaction(force_rollback=True):
            conn.execute("TRUNCATE ab_tests CASCADE")  # (sends reference tests)
            assert conn.execute("SELECT count(*) FROM campaigns WHERE ab_test_rows <> 0").fetchone()[0] == 0
    assert shown(third)[1] == 5


# --- results and decisions (analytics events through the API) -------------

def post_events(owner, events):
    for i in range(0, len(events), 1000):
        r = owner.req("POST", "/api/analytics/events", {"events": events[i:i + 1000]})
        assert r.status_code == 202, r.text
        assert r.json()["accepted"] == len(events[i:i + 1000]), r.text


def arm_events(cid, item, key, n, k, metric_type="open"):
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    ev = [{"eventId": str(uuid.uuid4()), "type": "impression", "campaignId": cid, "contentId": item,
           "variant": key, "occurredAt": now} for _ in range(n)]
    ev += [{"eventId": str(uuid.uuid4()), "type": metric_type, "campaignId": cid, "contentId": item,
            "variant": key, "occurredAt": now} for _ in range(k)]
    return ev


def rolled_up(stack, cid, n):
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        got = stack.scalar("SELECT coalesce(sum(impressions), 0) FROM analytics_hourly WHERE campaign_id = %s", [cid])
        if got >= n:
            return
        time.sleep(0.1)
    raise AssertionError("the rollup did not count the events")


def msprt_p(nc, kc, nv, kv, tau2):
    """abstats.h's mixture SPRT p-value, written from its formula."""
    if nc == 0 or nv == 0:
        return 1.0
    p = (kc + kv) / (nc + nv)
    v = p * (1 - p) * (1 / nv + 1 / nc)
    if v == 0:
        return 1.0
    d = kv / nv - kc / nc
    lam = math.sqrt(v / (v + tau2)) * math.exp(tau2 * d * d / (2 * v * (v + tau2)))
    return min(1.0, 1 / lam)


def p_beat(nc, kc, nv, kv):
    """P(p_variant > p_control) under Beta(1 + k, 1 + n - k) posteriors: the integral of f_V F_C."""
    v, c = sps.beta(1 + kv, 1 + nv - kv), sps.beta(1 + kc, 1 + nc - kc)
    return integrate.quad(lambda x: v.pdf(x) * c.cdf(x), 0, 1, limit=200, epsabs=1e-12)[0]


def test_results_match_the_references(stack, owner):
    cid, items = owner.campaign()
    t = owner.test(cid, items, baselineRate=0.3, minimumDetectableEffect=0.5, confidenceLevel=0.9)
    tid = t["id"]
    owner.ok("POST", f"/api/ab-tests/{tid}/start")
    counts = {"A": (120, 30), "B": (110, 41), "C": (100, 0)}
    ev = []
    for (key, (n, k)), item in zip(counts.items(), items):
        ev += arm_events(cid, item, key, n, k)
    post_events(owner, ev)
    rolled_up(stack, cid, 330)
    r = owner.ok("GET", f"/api/ab-tests/{tid}/results")
    assert (r["metric"], r["method"], r["requiredSamplePerVariant"]) == ("open_rate", "msprt",
                                                                          t["requiredSamplePerVariant"])
    for v, item in zip(r["variants"], items):
        n, k = counts[v["key"]]
        lo, hi = proportion_confint(k, n, alpha=0.1, method="wilson")
        assert (v["contentId"], v["samples"], v["conversions"]) == (item, n, k)
        assert v["rate"] == pytest.approx(k / n, rel=1e-12)
        assert v["ci"] == pytest.approx([lo, hi], rel=1e-9, abs=1e-12)
    tau2 = (0.3 * 0.5) ** 2
    nc, kc = counts["A"]
    ps = [msprt_p(nc, kc, *counts[c["variant"]], tau2) for c in r["comparisons"]]
    reject, adjusted, _, _ = multipletests(ps, alpha=0.1, method="holm")
    for c, p, adj, rej in zip(r["comparisons"], ps, adjusted, reject):
        nv, kv = counts[c["variant"]]
        assert c["control"] == "A"
        assert c["pValue"] == pytest.approx(p, rel=1e-9)
        assert c["pAdjusted"] == pytest.approx(adj, rel=1e-9)
        assert c["significant"] == bool(rej)
        assert c["probabilityToBeatControl"] == pytest.approx(p_beat(nc, kc, nv, kv), abs=1e-6)
    b = r["comparisons"][0]
    assert b["lift"] == pytest.approx((41 / 110) / (30 / 120) - 1, rel=1e-9)
    # samples are below the required size: keep going whatever the p-values say
    assert r["decision"] == "continue" and r["winner"] is None


def test_decision_after_a_rollup_publishes_abtest_completed(stack, owner):
    cid, items = owner.campaign(items=2)
    t = owner.test(cid, items, baselineRate=0.3, minimumDetectableEffect=1.0)
    need = t["requiredSamplePerVariant"]
    assert need < 100
    tid = t["id"]
    owner.ok("POST", f"/api/ab-tests/{tid}/start")
    user_sub = SSE(stack.url("/events/user"), headers={"Authorization": f"Bearer {owner.token}"}).start()
    camp_sub = SSE(stack.url(f"/events/campaigns/{cid}"), headers={"Authorization": f"Bearer {owner.token}"}).start()
    try:
        post_events(owner, arm_events(cid, items[0], "A", 150, 30) + arm_events(cid, items[1], "B", 150, 90))
        for sub in (user_sub, camp_sub):
            msgs = sub.wait_type("abtest:completed", timeout=25)
            m = [x for x in msgs if x["type"] == "abtest:completed"][0]
            assert m["campaignId"] == cid
            assert m["data"] == {"abTestId": tid, "campaignId": cid, "decision": "winner", "winner": "B",
                                 "winnerReason": "significant"}
    finally:
        user_sub.close()
        camp_sub.close()
    done = owner.ok("GET", f"/api/ab-tests/{tid}")
    assert (done["status"], done["winner"], done["winnerReason"]) == ("completed", "B", "significant")
    r = owner.ok("GET", f"/api/ab-tests/{tid}/results")
    assert r["decision"] == "winner" and r["winner"] == "B" and r["comparisons"][0]["significant"]
    stored = stack.scalar("SELECT min_p_values[1] FROM ab_tests WHERE id = %s", [tid])
    assert stored == pytest.approx(msprt_p(150, 30, 150, 90, 0.09), rel=1e-9)


def test_no_difference_when_the_sample_is_reached(stack, owner):
    cid, items = owner.campaign(items=2)
    t = owner.test(cid, items, baselineRate=0.3, minimumDetectableEffect=1.0)
    owner.ok("POST", f"/api/ab-tests/{t['id']}/start")
    post_events(owner, arm_events(cid, items[0], "A", 120, 36) + arm_events(cid, items[1], "B", 120, 37))
    deadline = time.monotonic() + 25
    while owner.ok("GET", f"/api/ab-tests/{t['id']}")["status"] == "running":
        assert time.monotonic() < deadline, "not decided"
        time.sleep(0.2)
    done = owner.ok("GET", f"/api/ab-tests/{t['id']}")
    assert (done["status"], done["winner"], done["winnerReason"]) == ("completed", None, None)
    assert owner.ok("GET", f"/api/ab-tests/{t['id']}/results")["decision"] == "no_difference"
