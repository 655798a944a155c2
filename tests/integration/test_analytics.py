"""Analytics (issue #12 sections 1 and 2): events in through POST
/api/analytics/events, email deliveries, opens and clicks, and ad-platform
CSV imports; hourly and daily rollups kept by the analytics-processing queue;
reports out (campaign series, overview, dashboard), against the real stack.

The rollups are checked against a recount of the raw events in SQL, which
applies the counting rules of the brief (unique opens and clicks: the first
per campaign, content item and contact; events without a contact are each
unique) independently of analytics_rollup()."""

import datetime as dt
import json
import time
import uuid
from decimal import Decimal

import pytest

from campaign_helpers import User, q, q1
from helpers import assert_json, assert_problem, unique_email
from test_mail_public import token

NOW = dt.datetime.now(dt.timezone.utc)


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def day(t):
    return t.strftime("%Y-%m-%d")


def at(days_ago, hour, minute=0):
    """A UTC time days_ago days before today, at hour:minute."""
    d = (NOW - dt.timedelta(days=days_ago)).date()
    return dt.datetime(d.year, d.month, d.day, hour, minute, tzinfo=dt.timezone.utc)


def post(user, events):
    return user.req("POST", "/api/analytics/events", json={"events": events})


def settled(stack, timeout=20):
    """Waits until no event is pending and no rollup job is queued or running."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if q1(stack, "SELECT NOT EXISTS (SELECT FROM analytics_pending) AND NOT EXISTS (SELECT FROM jobs"
                     " WHERE kind = 'analytics-rollup' AND state IN ('queued', 'running'))"):
            return
        time.sleep(0.05)
    raise AssertionError("rollups did not catch up: %s pending" % q1(stack, "SELECT count(*) FROM analytics_pending"))


RECOUNT = """
WITH e AS (
    SELECT ev.*, row_number() OVER (PARTITION BY campaign_id, content_id, contact_id, type
                                   ORDER BY occurred_at) AS nth
      FROM analytics_events ev WHERE campaign_id = %(c)s
), b AS (
    SELECT date_trunc(%(unit)s, occurred_at, 'UTC') AS bucket, content_id, variant, platform,
           coalesce(sum(quantity) FILTER (WHERE type = 'impression'), 0) AS impressions,
           coalesce(sum(quantity) FILTER (WHERE type = 'open'), 0) AS opens,
           coalesce(sum(quantity) FILTER (WHERE type = 'open' AND (contact_id IS NULL OR nth = 1)), 0) AS uo,
           coalesce(sum(quantity) FILTER (WHERE type = 'click'), 0) AS clicks,
           coalesce(sum(quantity) FILTER (WHERE type = 'click' AND (contact_id IS NULL OR nth = 1)), 0) AS uc,
           coalesce(sum(quantity) FILTER (WHERE type = 'conversion'), 0) AS conversions,
           coalesce(sum(value) FILTER (WHERE type = 'spend'), 0) AS spend,
           coalesce(sum(value) FILTER (WHERE type = 'conversion'), 0) AS revenue
      FROM e GROUP BY 1, 2, 3, 4
)
SELECT bucket, content_id, variant, platform, impressions, opens, uo, clicks, uc, conversions, spend, revenue
  FROM b ORDER BY 1, 2 NULLS FIRST, 3 NULLS FIRST, 4 NULLS FIRST"""


def rollup_rows(stack, table, campaign):
    return q(stack, f"""SELECT bucket, content_id, variant, platform, impressions, opens, unique_opens, clicks,
                               unique_clicks, conversions, spend, revenue
                          FROM {table} WHERE campaign_id = %s
                         ORDER BY 1, 2 NULLS FIRST, 3 NULLS FIRST, 4 NULLS FIRST""", (campaign,))


def assert_rollups_match_recount(stack, campaign):
    for table, unit in (("analytics_hourly", "hour"), ("analytics_daily", "day")):
        # rows whose counts all went back to zero (a moved unique) are equal to no row
        got = [r for r in rollup_rows(stack, table, campaign) if any(r[4:])]
        want = q(stack, RECOUNT, {"c": campaign, "unit": unit})
        assert got == want, (table, got, want)
    # the per-campaign hours (0020's triggers) are analytics_hourly summed
    per_hour = q(stack, """SELECT bucket, impressions, opens, unique_opens, clicks, unique_clicks, conversions,
                                  spend, revenue FROM analytics_campaign_hourly WHERE campaign_id = %s
                            ORDER BY bucket""", (campaign,))
    summed = q(stack, """SELECT bucket, sum(impressions), sum(opens), sum(unique_opens), sum(clicks),
                                sum(unique_clicks), sum(conversions), sum(spend), sum(revenue)
                           FROM analytics_hourly WHERE campaign_id = %s GROUP BY bucket ORDER BY bucket""",
               (campaign,))
    assert per_hour == summed, (per_hour, summed)


@pytest.fixture(scope="module")
def world(stack):
    a, b = User(stack, "Ana Lytics"), User(stack, "Bo Other")
    c = a.campaign(name="Spring ads")
    ad = a.content(c["id"], contentType="ad_copy", platform="google_ads", contentBody="Plan your week in minutes.")
    post_item = a.content(c["id"])  # a linkedin social post
    foreign = b.campaign()
    return {"a": a, "b": b, "c": c["id"], "ad": ad["id"], "post": post_item["id"], "foreign": foreign["id"]}


# --- ingestion ------------------------------------------------------------------------------------------------


def test_a_batch_reports_bad_events_in_place_and_keeps_the_good(stack, world):
    a, c = world["a"], world["c"]
    eid = "evt-" + uuid.uuid4().hex
    events = [
        {"type": "impression", "campaignId": c, "contentId": world["ad"], "occurredAt": iso(at(1, 9))},   # 0 ok
        {"eventId": eid, "type": "click", "campaignId": c, "contentId": world["ad"],
         "occurredAt": iso(at(1, 9, 5))},                                                                  # 1 ok
        {"eventId": eid, "type": "click", "campaignId": c, "occurredAt": iso(at(1, 9, 6))},             # 2 dup
        {"type": "view", "campaignId": c, "occurredAt": iso(at(1, 9))},                                  # 3
        {"type": "click", "campaignId": world["foreign"], "occurredAt": iso(at(1, 9))},                  # 4
        {"type": "click", "campaignId": c, "contentId": str(uuid.uuid4()), "occurredAt": iso(at(1, 9))}, # 5
        {"type": "spend", "campaignId": c, "occurredAt": iso(at(1, 9))},                                 # 6
        {"type": "click", "campaignId": c, "value": 3, "occurredAt": iso(at(1, 9))},                     # 7
        {"type": "click", "campaignId": c, "occurredAt": "yesterday"},                                    # 8
        {"type": "click", "campaignId": c, "occurredAt": iso(NOW + dt.timedelta(days=3))},               # 9
        {"type": "click", "campaignId": c, "occurredAt": "1999-01-01T00:00:00Z"},                         # 10
        {"type": "conversion", "campaignId": c, "contentId": world["ad"], "variant": "B", "value": 49.5,
         "occurredAt": iso(at(1, 10))},                                                                    # 11 ok
        {"type": "spend", "campaignId": c, "contentId": world["ad"], "value": 12.25,
         "occurredAt": iso(at(1, 10))},                                                                    # 12 ok
        {"type": "click", "campaignId": c, "occurredAt": iso(at(1, 9)), "userId": world["b"].id},        # 13
        "not an object",                                                                                   # 14
    ]
    before = q1(stack, "SELECT count(*) FROM analytics_events WHERE user_id = %s", (a.id,))
    r = post(a, events)
    body = assert_json(r, 202)
    assert (body["accepted"], body["duplicates"]) == (4, 1), body
    problems = {e["index"]: e["problem"] for e in body["errors"]}
    assert sorted(problems) == [3, 4, 5, 6, 7, 8, 9, 10, 13, 14], body
    assert problems[3].startswith("type:")
    assert problems[4] == "campaignId: no such campaign"       # another user's: as if it did not exist
    assert problems[5] == "contentId: not a content item of this campaign"
    assert problems[6].startswith("value:") and problems[7].startswith("value:")
    assert problems[8].startswith("occurredAt:") and "future" in problems[9] and "oldest month" in problems[10]
    assert problems[13].startswith("userId:")
    assert [e["index"] for e in body["errors"]] == sorted(problems)  # in order
    assert q1(stack, "SELECT count(*) FROM analytics_events WHERE user_id = %s", (a.id,)) == before + 4
    # nothing at all for the other user's campaign
    assert q1(stack, "SELECT count(*) FROM analytics_events WHERE campaign_id = %s", (world["foreign"],)) == 0
    # the platform is the item's at ingest; the variant is kept
    assert q(stack, "SELECT type, platform, variant, value FROM analytics_events WHERE campaign_id = %s"
                    " AND type IN ('conversion', 'spend') ORDER BY type", (c,)) == \
        [("conversion", "google_ads", "B", Decimal("49.5")), ("spend", "google_ads", None, Decimal("12.25"))]

    # the same batch again: the eventId is a duplicate now, the events without one are stored again
    body = assert_json(post(a, events), 202)
    assert (body["accepted"], body["duplicates"]) == (3, 2), body
    assert q1(stack, "SELECT count(*) FROM analytics_event_keys WHERE user_id = %s AND event_id = %s",
              (a.id, eid)) == 1


@pytest.mark.parametrize("body,field", [
    ({"events": []}, "events"),
    ({}, "events"),
    ({"events": {"type": "click"}}, "events"),
    ({"events": [], "userId": "x"}, "userId"),
])
def test_malformed_batches_are_422(stack, world, body, field):
    r = world["a"].req("POST", "/api/analytics/events", json=body)
    assert_problem(r, 422, [field])


def test_1001_events_are_422_and_nothing_is_stored(stack, world):
    a, c = world["a"], world["c"]
    before = q1(stack, "SELECT count(*) FROM analytics_events")
    ev = {"type": "impression", "campaignId": c, "occurredAt": iso(at(2, 8))}
    r = post(a, [ev] * 1001)
    assert_problem(r, 422, ["events"])
    assert "1001" in r.json()["errors"][0]["message"]
    assert assert_json(post(a, [ev] * 1000), 202)["accepted"] == 1000
    assert q1(stack, "SELECT count(*) FROM analytics_events") == before + 1000


def test_a_batch_without_a_good_event_is_422(stack, world):
    a = world["a"]
    before = q1(stack, "SELECT count(*) FROM analytics_events")
    r = post(a, [{"type": "click", "campaignId": world["foreign"], "occurredAt": iso(at(1, 1))},
                 {"type": "nope", "campaignId": world["c"], "occurredAt": iso(at(1, 1))}])
    assert r.status_code == 422 and r.headers["Content-Type"] == "application/problem+json", r.text
    body = r.json()
    assert body["status"] == 422 and body["accepted"] == 0 and body["duplicates"] == 0
    assert [e["index"] for e in body["errors"]] == [0, 1]
    assert body["errors"][0]["problem"] == "campaignId: no such campaign"
    assert q1(stack, "SELECT count(*) FROM analytics_events") == before
    # only duplicates is not a failure: they were accepted before
    eid = "once-" + uuid.uuid4().hex
    ev = {"eventId": eid, "type": "click", "campaignId": world["c"], "occurredAt": iso(at(1, 1))}
    assert_json(post(a, [ev]), 202)
    assert assert_json(post(a, [ev]), 202) == {"accepted": 0, "duplicates": 1, "errors": []}


# --- rollups --------------------------------------------------------------------------------------------------


def test_rollups_equal_a_recount_and_a_rerun_changes_nothing(stack, world):
    a = world["a"]
    c = a.campaign(name="Recount")["id"]
    item = a.content(c, contentType="ad_copy", platform="facebook", contentBody="Plan less, do more.")["id"]
    events = []
    for i in range(60):
        t = at(i % 3, i % 24, i % 60)
        kind = ["impression", "impression", "click", "open", "conversion", "spend"][i % 6]
        ev = {"type": kind, "campaignId": c, "occurredAt": iso(t), "variant": "AB"[i % 2]}
        if i % 4:
            ev["contentId"] = item
        if kind in ("conversion", "spend"):
            ev["value"] = round(1.25 * i, 2)
        events.append(ev)
    assert assert_json(post(a, events), 202)["accepted"] == 60
    settled(stack)
    assert_rollups_match_recount(stack, c)
    hourly = rollup_rows(stack, "analytics_hourly", c)
    # a second rollup job, and the function itself: nothing left to count
    job = q1(stack, "INSERT INTO jobs (queue, kind) VALUES ('analytics-processing', 'analytics-rollup')"
                    " RETURNING id::text")
    deadline = time.monotonic() + 20
    while q1(stack, "SELECT state FROM jobs WHERE id = %s", (job,)) != "completed" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert q1(stack, "SELECT result->'rounds' FROM jobs WHERE id = %s", (job,)) == 0
    with stack.db() as conn:
        conn.execute("SET ROLE adcraft_worker")
        assert conn.execute("SELECT analytics_rollup(1000)").fetchone()[0] == []
    assert rollup_rows(stack, "analytics_hourly", c) == hourly


def test_unique_opens_move_to_an_earlier_first_rolled_up_later(stack, world):
    """An open that happened before the one already rolled up takes the unique count with it."""
    a = world["a"]
    c = a.campaign(name="Late opens")["id"]
    contact = str(uuid.uuid4())
    ins = ("WITH e AS (INSERT INTO analytics_events (user_id, campaign_id, contact_id, type, occurred_at, source)"
           "           VALUES (%(u)s, %(c)s, %(k)s, 'open', %(t)s, 'email'))"
           "INSERT INTO analytics_pending (user_id, campaign_id, contact_id, type, quantity, occurred_at)"
           " VALUES (%(u)s, %(c)s, %(k)s, 'open', 1, %(t)s)")
    with stack.db() as conn:
        for t in (at(1, 15), at(1, 18)):
            conn.execute(ins, {"u": a.id, "c": c, "k": contact, "t": t})
        conn.execute("SELECT analytics_rollup(1000)")
        conn.execute(ins, {"u": a.id, "c": c, "k": contact, "t": at(2, 7)})
        conn.execute("SELECT analytics_rollup(1000)")
    assert_rollups_match_recount(stack, c)
    daily = {r[0].astimezone(dt.timezone.utc).date(): (r[5], r[6]) for r in rollup_rows(stack, "analytics_daily", c)}
    assert daily == {at(2, 0).date(): (1, 1), at(1, 0).date(): (2, 0)}


# --- email ----------------------------------------------------------------------------------------------------


def test_email_deliveries_opens_and_clicks_become_events(stack, world):
    a = world["a"]
    c = a.campaign(name="Newsletter")["id"]
    mail = a.content(c, contentType="email", platform="email", subjectLine="Spring news",
                     contentBody="Hello {{firstName}}, our spring offer is here.", callToAction="Shop now")
    snapshot = dict(mail, ctaUrl="https://shop.example/spring")
    rows = []
    with stack.db() as conn:
        send = str(conn.execute(
            "INSERT INTO sends (user_id, campaign_id, content_id, status, snapshot, snapshot_hash, from_name,"
            " from_email, approved_at, approved_by)"
            " VALUES (%s, %s, %s, 'sending', %s, repeat('a', 64), 'Shop', 'news@shop.example', now(), %s)"
            " RETURNING id", (a.id, c, mail["id"], json.dumps(snapshot), a.id)).fetchone()[0])
        for i in range(3):
            e = unique_email("reader")
            contact = str(conn.execute("INSERT INTO contacts (user_id, email) VALUES (%s, %s) RETURNING id",
                                       (a.id, e)).fetchone()[0])
            rid = str(conn.execute("INSERT INTO send_recipients (send_id, contact_id, email) VALUES (%s, %s, %s)"
                                   " RETURNING id", (send, contact, e)).fetchone()[0])
            rows.append((rid, contact))
        # what the worker's delivery_result does for an accepted message; one deferred
        for rid, _ in rows[:2]:
            conn.execute("UPDATE send_recipients SET status = 'sent', sent_at = now() WHERE id = %s", (rid,))
        conn.execute("UPDATE send_recipients SET status = 'deferred' WHERE id = %s", (rows[2][0],))
    tok = lambda kind, i, link=None: token(stack, kind, rows[i][0], send, rows[i][1], link)  # noqa: E731
    for i in (0, 0, 0, 1):
        assert stack.api("GET", f"/t/o/{tok('o', i)}").status_code == 200
    for i in (0, 0):
        assert stack.api("GET", f"/t/c/{tok('c', i, 0)}").status_code == 302
    deadline = time.monotonic() + 10
    while q1(stack, "SELECT count(*) FROM analytics_events WHERE campaign_id = %s AND type = 'click'",
             (c,)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert q(stack, "SELECT type, count(*), count(DISTINCT contact_id), min(platform), min(content_id::text),"
                    " min(source) FROM analytics_events WHERE campaign_id = %s GROUP BY type ORDER BY type", (c,)) == [
        ("click", 2, 1, "email", mail["id"], "email"),
        ("impression", 2, 2, "email", mail["id"], "email"),
        ("open", 4, 2, "email", mail["id"], "email"),
    ]
    settled(stack)
    assert_rollups_match_recount(stack, c)
    t = assert_json(a.req("GET", f"/api/campaigns/{c}/analytics"), 200)["totals"]
    assert (t["impressions"], t["opens"], t["uniqueOpens"], t["clicks"], t["uniqueClicks"]) == (2, 4, 2, 2, 1)
    assert (t["openRate"], t["ctr"], t["conversionRate"]) == (1.0, 0.5, 0.0)
    assert (t["cpc"], t["cpa"], t["roas"]) == (0.0, None, None)
    # the send's own counts agree
    counts = assert_json(a.req("GET", f"/api/sends/{send}"), 200)["counts"]
    assert (counts["sent"], counts["opened"], counts["clicked"]) == (2, 2, 1)


# --- imports --------------------------------------------------------------------------------------------------


def import_csv(user, text):
    r = user.req("POST", "/api/analytics/import", data=text.encode(), headers={"Content-Type": "text/csv"})
    job = assert_json(r, 202)["job"]
    assert job["queue"] == "analytics-processing" and job["kind"] == "import-analytics"
    for _ in range(400):
        j = assert_json(user.req("GET", f"/api/jobs/analytics-processing/{job['id']}"), 200)
        if j["state"] in ("completed", "failed"):
            return j
        time.sleep(0.05)
    raise AssertionError(j)


def test_import_google_ads_and_meta_reports(stack, world):
    a = world["a"]
    c = a.campaign(name="Imported")["id"]
    g = a.content(c, contentType="ad_copy", platform="google_ads", contentBody="Plan less, do more.")["id"]
    m = a.content(c, contentType="ad_copy", platform="facebook", contentBody="Plan less, do more.")["id"]
    d1, d2 = day(at(3, 0)), day(at(2, 0))
    google = (f"Ad performance report\n\"{d1} - {d2}\"\n"
              "Day,Campaign,Ad name,Currency code,Impr.,Clicks,Conversions,Cost,Conv. value\n"
              f"{d1},Spring,{g},USD,\"1,200\",30,2.5,45.10,120.00\n"
              f"{d2},Spring,{g.upper()},USD,800,--,0,12.00,0\n"
              f"{d2},Spring,not-an-id,USD,5,1,0,1.00,0\n"
              f"{d2},Spring,{uuid.uuid4()},USD,5,1,0,1.00,0\n"
              "Total: Account,,,,\"2,005\",31,2.5,58.10,120.00\n")
    j = import_csv(a, google)
    assert j["state"] == "completed", j
    res = j["result"]
    assert res["dialect"] == "google_ads"
    assert (res["lines"], res["events"], res["duplicates"]) == (2, 6, 0), res
    assert res["skipped"] == [
        {"line": 6, "reason": "contentId must be an adcraft content id (a UUID)"},
        {"line": 7, "reason": "contentId: no such content item"},
        {"line": 8, "reason": "a totals line, not a day"}], res
    assert res["skippedCount"] == 3
    meta = ("Reporting starts,Reporting ends,Ad name,Impressions,Link clicks,Results,Amount spent (USD),"
            "Purchases conversion value\n"
            f"{d1},{d1},{m},1000,25,3,30.5,90\n"
            f"{d2},{d2},{m},,,,,\n")
    j = import_csv(a, meta)
    res = j["result"]
    assert res["dialect"] == "meta" and (res["lines"], res["events"]) == (1, 4), res
    assert res["skipped"] == [{"line": 3, "reason": "no figures: every count and amount is zero"}]
    settled(stack)
    assert_rollups_match_recount(stack, c)
    rep = assert_json(a.req("GET", f"/api/campaigns/{c}/analytics?from={d1}&to={d2}&groupBy=platform"), 200)
    series = {s["key"]: s["points"] for s in rep["series"]}
    assert set(series) == {"google_ads", "facebook"}
    g1 = series["google_ads"][0]
    assert g1["t"] == d1 and (g1["impressions"], g1["clicks"], g1["conversions"]) == (1200, 30, 3)
    assert (Decimal(str(g1["spend"])), Decimal(str(g1["revenue"]))) == (Decimal("45.1"), Decimal("120"))
    assert series["google_ads"][1]["impressions"] == 800 and series["google_ads"][1]["clicks"] == 0
    f1 = series["facebook"][0]
    assert (f1["impressions"], f1["clicks"], f1["conversions"], f1["spend"], f1["revenue"]) == (1000, 25, 3, 30.5, 90)
    assert f1["roas"] == round(90 / 30.5, 4) and f1["cpc"] == round(30.5 / 25, 4) and f1["cpa"] == round(30.5 / 3, 4)
    # the same report again: every line a duplicate, nothing counted twice
    j = import_csv(a, meta)
    assert (j["result"]["events"], j["result"]["duplicates"]) == (0, 4)
    settled(stack)
    again = assert_json(a.req("GET", f"/api/campaigns/{c}/analytics?from={d1}&to={d2}&groupBy=platform"), 200)
    assert again["totals"] == rep["totals"]


@pytest.mark.parametrize("text,why", [
    ("email,name\nx@example.com,X\n", "date column"),
    ("date,impressions\n2026-01-01,3\n", "content id"),
    ("date,contentId,campaign\n2026-01-01,x,y\n", "none of impressions"),
    ("Day,Cost,Spend,contentId\n", "both mean cost"),
    ("\n\n", "date column"),
])
def test_import_with_an_unusable_header_is_422_and_queues_nothing(stack, world, text, why):
    a = world["a"]
    jobs = q1(stack, "SELECT count(*) FROM jobs WHERE user_id = %s", (a.id,))
    r = a.req("POST", "/api/analytics/import", data=text.encode(), headers={"Content-Type": "text/csv"})
    assert_problem(r, 422)
    assert why in r.json()["detail"], r.json()
    assert q1(stack, "SELECT count(*) FROM jobs WHERE user_id = %s", (a.id,)) == jobs


# --- reports --------------------------------------------------------------------------------------------------


def test_day_buckets_follow_the_time_zone(stack, world):
    a = world["a"]
    c = a.campaign(name="Zones")["id"]
    late = at(5, 3)    # 03:00 UTC is the evening before in New York
    noon = at(5, 15)
    assert_json(post(a, [{"type": "impression", "campaignId": c, "occurredAt": iso(late)},
                         {"type": "impression", "campaignId": c, "occurredAt": iso(noon)},
                         {"type": "impression", "campaignId": c, "occurredAt": iso(noon)}]), 202)
    settled(stack)
    prev, d = day(at(6, 0)), day(at(5, 0))
    utc = assert_json(a.req("GET", f"/api/campaigns/{c}/analytics?from={prev}&to={d}&interval=day"), 200)
    ny = assert_json(a.req("GET", f"/api/campaigns/{c}/analytics?from={prev}&to={d}&interval=day"
                                  "&tz=America/New_York"), 200)
    assert [(p["t"], p["impressions"]) for p in utc["series"][0]["points"]] == [(prev, 0), (d, 3)]
    assert [(p["t"], p["impressions"]) for p in ny["series"][0]["points"]] == [(prev, 1), (d, 2)]
    assert utc["tz"] == "UTC" and ny["tz"] == "America/New_York" and utc["series"][0]["key"] == "all"
    hours = assert_json(a.req("GET", f"/api/campaigns/{c}/analytics?from={d}&to={d}&interval=hour"), 200)
    points = hours["series"][0]["points"]
    assert len(points) == 24 and points[3]["t"] == iso(late) and points[3]["impressions"] == 1
    assert points[15]["impressions"] == 2 and sum(p["impressions"] for p in points) == 3


def test_rates_are_null_over_zero(stack, world):
    a = world["a"]
    c = a.campaign(name="Rates")["id"]
    empty = assert_json(a.req("GET", f"/api/campaigns/{c}/analytics"), 200)
    t = empty["totals"]
    assert (t["impressions"], t["spend"]) == (0, 0)
    for k in ("openRate", "ctr", "conversionRate", "cpc", "cpa", "roas"):
        assert t[k] is None, (k, t)
    assert len(empty["series"]) == 1 and len(empty["series"][0]["points"]) == 30
    ev = [{"type": "impression", "campaignId": c, "occurredAt": iso(at(1, 12))}] * 8 + \
         [{"type": "click", "campaignId": c, "occurredAt": iso(at(1, 12))}] * 2 + \
         [{"type": "spend", "campaignId": c, "value": 5, "occurredAt": iso(at(1, 12))}]
    assert_json(post(a, ev), 202)
    settled(stack)
    t = assert_json(a.req("GET", f"/api/campaigns/{c}/analytics"), 200)["totals"]
    assert (t["ctr"], t["cpc"], t["conversionRate"], t["openRate"]) == (0.25, 2.5, 0.0, 0.0)
    assert (t["cpa"], t["roas"]) == (None, 0.0)
    # the overview has this campaign's row, and the dashboard the last 30 days' headline figures
    ov = assert_json(a.req("GET", f"/api/analytics/overview?from={day(at(2, 0))}&to={day(NOW)}"), 200)
    row = next(r for r in ov["campaigns"] if r["campaignId"] == c)
    assert (row["name"], row["impressions"], row["clicks"], row["spend"]) == ("Rates", 8, 2, 5)
    assert ov["totals"]["impressions"] >= 8
    dash = assert_json(a.req("GET", "/api/campaigns/dashboard"), 200)
    assert {"recentCampaigns", "recentJobs", "activeJobs", "topContent", "total"} <= set(dash)
    assert dash["analytics"]["to"] == day(NOW) and dash["analytics"]["totals"]["impressions"] >= 8
    # another user's figures are not in it
    other = assert_json(world["b"].req("GET", "/api/campaigns/dashboard"), 200)["analytics"]["totals"]
    assert other["impressions"] == 0 and other["ctr"] is None


@pytest.mark.parametrize("query", [
    "tz=Mars/Olympus", "tz=america/new_york", "tz=", "interval=week", "groupBy=persona",
    "from=2026-02-30", "from=yesterday", "to=2026-1-1",
    "from=2025-01-01&to=2026-06-30", "interval=hour&from=2026-01-01&to=2026-02-15",
    "from=2026-03-02&to=2026-03-01", "limit=5", "color=blue",
])
def test_bad_report_parameters_are_400(stack, world, query):
    r = world["a"].req("GET", f"/api/campaigns/{world['c']}/analytics?{query}")
    assert_problem(r, 400)


@pytest.mark.parametrize("query,detail", [
    ("from=2026-12-01T00:00:00Z", "query parameter from must be a date (YYYY-MM-DD)"),
    ("%6cimit=5", "not paginated"), ("cursor=x", "not paginated"),
])
def test_report_refusals_say_why(stack, world, query, detail):
    """A timestamp for from said "empty or too long", and a percent-encoded limit got past the check."""
    for path in (f"/api/campaigns/{world['c']}/analytics", "/api/analytics/overview"):
        prob = assert_problem(world["a"].req("GET", f"{path}?{query}"), 400)
        assert detail in prob["detail"], (path, prob)


def test_reports_of_other_users_campaigns_are_404(stack, world):
    r = world["b"].req("GET", f"/api/campaigns/{world['c']}/analytics")
    assert_problem(r, 404)
    ov = assert_json(world["b"].req("GET", "/api/analytics/overview"), 200)
    assert world["c"] not in json.dumps(ov)
    assert_problem(world["a"].req("GET", "/api/analytics/overview?from=2024-01-01&to=2026-01-01"), 400)
