"""owner_summary / owner_budget (sql/0021_owner_summary.sql, issue #14 §2):
the per-owner tallies (striped over up to 8 slots per owner) that GET /api/campaigns/stats and /dashboard read are
kept by statement triggers on campaigns. Several threads write one owner's
campaigns at once through the API (creates, edits of status, objective,
budget and currency, content added, edited and deleted, deletes) while
generation jobs add content in the worker and another connection writes in
SQL; then the summary must equal a full recount of campaigns, and the API's
stats and dashboard must show the recount."""

import json
import random
import threading
import time
import uuid
from decimal import Decimal

import psycopg

from campaign_helpers import User, dec, q, q1

TYPES = ["email", "social_post", "ad_copy"]
PLATFORMS = ["email", "linkedin", "twitter", "facebook", "instagram", "google_ads"]
CURRENCIES = ["USD", "EUR", "GBP"]
BODY = "Plan your week in five minutes. Our planner gives you back the hours lost to busywork."

# The recount, straight from campaigns and their content arrays (not through
# content_tally nor any server function), in the shape the API returns.
RECOUNT = """
WITH mine AS (SELECT * FROM campaigns WHERE user_id = %(u)s),
     items AS (SELECT e FROM mine, jsonb_array_elements(mine.content) e)
SELECT json_build_object(
  'total', (SELECT count(*) FROM mine),
  'byStatus', json_build_object(
      'draft', (SELECT count(*) FROM mine WHERE status = 'draft'),
      'active', (SELECT count(*) FROM mine WHERE status = 'active'),
      'generating', (SELECT count(*) FROM mine WHERE status = 'generating'),
      'completed', (SELECT count(*) FROM mine WHERE status = 'completed')),
  'byObjective', json_build_object(
      'awareness', (SELECT count(*) FROM mine WHERE objective = 'awareness'),
      'consideration', (SELECT count(*) FROM mine WHERE objective = 'consideration'),
      'conversion', (SELECT count(*) FROM mine WHERE objective = 'conversion')),
  'budget', (SELECT coalesce(json_agg(json_build_object('currency', currency, 'total', total)
                                      ORDER BY currency), '[]')
               FROM (SELECT currency, sum(budget) AS total FROM mine WHERE budget IS NOT NULL
                      GROUP BY currency) b),
  'content', json_build_object(
      'total', (SELECT count(*) FROM items),
      'byType', json_build_object(
          'email', (SELECT count(*) FROM items WHERE e->>'contentType' = 'email'),
          'social_post', (SELECT count(*) FROM items WHERE e->>'contentType' = 'social_post'),
          'ad_copy', (SELECT count(*) FROM items WHERE e->>'contentType' = 'ad_copy')),
      'byPlatform', json_build_object(
          'email', (SELECT count(*) FROM items WHERE e->>'platform' = 'email'),
          'linkedin', (SELECT count(*) FROM items WHERE e->>'platform' = 'linkedin'),
          'twitter', (SELECT count(*) FROM items WHERE e->>'platform' = 'twitter'),
          'facebook', (SELECT count(*) FROM items WHERE e->>'platform' = 'facebook'),
          'instagram', (SELECT count(*) FROM items WHERE e->>'platform' = 'instagram'),
          'google_ads', (SELECT count(*) FROM items WHERE e->>'platform' = 'google_ads')),
      'averageQualityScore', (SELECT round(avg((e->>'qualityScore')::numeric), 1) FROM items)))::text
"""

SUMMARY_VS_RECOUNT = """
SELECT (SELECT CASE WHEN count(*) > 0 THEN
                   row(sum(s.campaigns), sum(s.draft), sum(s.active), sum(s.generating), sum(s.completed),
                       sum(s.awareness), sum(s.consideration), sum(s.conversion), sum(s.items), sum(s.email),
                       sum(s.social_post), sum(s.ad_copy), sum(s.p_email), sum(s.linkedin), sum(s.twitter),
                       sum(s.facebook), sum(s.instagram), sum(s.google_ads), sum(s.scored), sum(s.score_sum))::text
                   END
          FROM owner_summary s WHERE s.user_id = %(u)s),
       (SELECT row(count(*), count(*) FILTER (WHERE status = 'draft'), count(*) FILTER (WHERE status = 'active'),
                   count(*) FILTER (WHERE status = 'generating'), count(*) FILTER (WHERE status = 'completed'),
                   count(*) FILTER (WHERE objective = 'awareness'),
                   count(*) FILTER (WHERE objective = 'consideration'),
                   count(*) FILTER (WHERE objective = 'conversion'),
                   coalesce(sum(n.items), 0), coalesce(sum(n.email), 0), coalesce(sum(n.social_post), 0),
                   coalesce(sum(n.ad_copy), 0), coalesce(sum(n.p_email), 0), coalesce(sum(n.linkedin), 0),
                   coalesce(sum(n.twitter), 0), coalesce(sum(n.facebook), 0), coalesce(sum(n.instagram), 0),
                   coalesce(sum(n.google_ads), 0), coalesce(sum(n.scored), 0), coalesce(sum(n.score_sum), 0))::text
          FROM campaigns c
          CROSS JOIN LATERAL (
              SELECT count(*) AS items, count(*) FILTER (WHERE e->>'contentType' = 'email') AS email,
                     count(*) FILTER (WHERE e->>'contentType' = 'social_post') AS social_post,
                     count(*) FILTER (WHERE e->>'contentType' = 'ad_copy') AS ad_copy,
                     count(*) FILTER (WHERE e->>'platform' = 'email') AS p_email,
                     count(*) FILTER (WHERE e->>'platform' = 'linkedin') AS linkedin,
                     count(*) FILTER (WHERE e->>'platform' = 'twitter') AS twitter,
                     count(*) FILTER (WHERE e->>'platform' = 'facebook') AS facebook,
                     count(*) FILTER (WHERE e->>'platform' = 'instagram') AS instagram,
                     count(*) FILTER (WHERE e->>'platform' = 'google_ads') AS google_ads,
                     count(e->'qualityScore') AS scored,
                     coalesce(sum((e->>'qualityScore')::numeric), 0) AS score_sum
                FROM jsonb_array_elements(c.content) e) n
         WHERE c.user_id = %(u)s),
       (SELECT coalesce(string_agg(format('%%s %%s %%s', currency, budgets, total), ', ' ORDER BY currency), '')
          FROM (SELECT currency, sum(budgets) AS budgets, sum(total) AS total FROM owner_budget
                 WHERE user_id = %(u)s GROUP BY currency HAVING sum(budgets) > 0) b),
       (SELECT coalesce(string_agg(format('%%s %%s %%s', currency, n, total), ', ' ORDER BY currency), '')
          FROM (SELECT currency, count(*) AS n, sum(budget) AS total FROM campaigns
                 WHERE user_id = %(u)s AND budget IS NOT NULL GROUP BY currency) b)
"""


def assert_consistent(stack, user):
    summary, recount, budgets, budget_recount = q(stack, SUMMARY_VS_RECOUNT, {"u": user.id})[0]
    if summary is None:  # an owner who never had a campaign has no row
        summary = "(" + ",".join(["0"] * 20) + ")"
    assert summary == recount, f"owner_summary {summary} != recount {recount}"
    assert budgets == budget_recount, f"owner_budget {budgets} != recount {budget_recount}"
    want = json.loads(q1(stack, RECOUNT, {"u": user.id}), parse_float=Decimal)
    stats = dec(user.req("GET", "/api/campaigns/stats"))
    assert stats == want
    dash = dec(user.req("GET", "/api/campaigns/dashboard"))
    assert {k: dash[k] for k in want} == want
    # top content: every item of the owner sorted, not the index-ordered shortcut the server takes
    top = q(stack, """SELECT c.id::text, c.name, e->>'id' FROM campaigns c, jsonb_array_elements(c.content) e
                       WHERE c.user_id = %s AND jsonb_typeof(e) = 'object' AND e->>'qualityScore' IS NOT NULL
                       ORDER BY (e->>'qualityScore')::int DESC, e->>'createdAt' COLLATE "C" DESC LIMIT 5""",
            (user.id,))
    scores = [i["qualityScore"] for i in dash["topContent"]]
    assert scores == sorted(scores, reverse=True)
    assert [(i["campaignId"], i["campaignName"], i["id"]) for i in dash["topContent"]] == [tuple(t) for t in top]
    return want


def writer(stack, user, seed, rounds, errors):
    """One client: random creates, edits, content and deletes on the user's campaigns."""
    rnd = random.Random(seed)
    mine = []
    try:
        for _ in range(rounds):
            op = rnd.random()
            if op < 0.3 or not mine:
                body = {"name": f"C{seed}-{uuid.uuid4().hex[:6]}",
                        "objective": rnd.choice(["awareness", "consideration", "conversion"])}
                if rnd.random() < 0.7:
                    body["budget"] = round(rnd.uniform(0, 5000), 2)
                    body["currency"] = rnd.choice(CURRENCIES)
                r = user.req("POST", "/api/campaigns", json=body)
                assert r.status_code == 201, r.text
                mine.append(r.json()["id"])
            elif op < 0.45:
                cid = rnd.choice(mine)
                r = user.req("PATCH", f"/api/campaigns/{cid}",
                             json={"status": rnd.choice(["active", "draft", "completed"])})
                assert r.status_code in (200, 409), r.text  # 409: a move the machine refuses
            elif op < 0.6:
                cid = rnd.choice(mine)
                patch = rnd.choice([{"budget": None}, {"budget": round(rnd.uniform(0, 900), 2)},
                                    {"currency": rnd.choice(CURRENCIES)},
                                    {"objective": rnd.choice(["awareness", "conversion"])},
                                    {"name": "renamed"}])
                r = user.req("PATCH", f"/api/campaigns/{cid}", json=patch)
                assert r.status_code in (200, 409), r.text  # 409: generating
            elif op < 0.8:
                cid = rnd.choice(mine)
                r = user.req("POST", f"/api/campaigns/{cid}/content",
                             json={"contentType": "social_post",
                                   "platform": rnd.choice(["linkedin", "twitter", "facebook", "instagram"]),
                                   "contentBody": BODY})
                assert r.status_code in (201, 404, 409), r.text
            elif op < 0.88:
                cid = rnd.choice(mine)
                items = user.req("GET", f"/api/campaigns/{cid}").json().get("content") or []
                if items:
                    it = rnd.choice(items)
                    if rnd.random() < 0.5:
                        r = user.req("DELETE", f"/api/campaigns/{cid}/content/{it['id']}")
                        assert r.status_code in (204, 404, 409), r.text
                    else:
                        r = user.req("PATCH", f"/api/campaigns/{cid}/content/{it['id']}",
                                     json={"contentBody": BODY + " Try it free."})
                        assert r.status_code in (200, 404, 409), r.text
            else:
                cid = mine.pop(rnd.randrange(len(mine)))
                r = user.req("DELETE", f"/api/campaigns/{cid}")
                assert r.status_code in (204, 409), r.text
    except Exception as e:  # noqa: BLE001 - reported by the main thread
        errors.append(e)


def generator(stack, user, cids, errors):
    """Generation jobs (the worker appends content and moves status) on some campaigns."""
    try:
        for cid in cids:
            r = user.req("POST", f"/api/jobs/campaigns/{cid}/generate",
                         json={"contentTypes": ["email", "ad_copy"], "platforms": ["email", "google_ads"],
                               "variations": 1})
            assert r.status_code in (202, 404, 409), r.text
    except Exception as e:  # noqa: BLE001
        errors.append(e)


def sql_writer(stack, user, errors):
    """Another connection writes campaigns in SQL, several rows per statement."""
    try:
        with stack.db() as conn:
            for i in range(10):
                conn.execute("INSERT INTO campaigns (user_id, name, objective, budget, currency)"
                             " SELECT %s, 'sql ' || g, 'conversion', g * 10.5, 'EUR' FROM generate_series(1, 3) g",
                             (user.id,))
                conn.execute("UPDATE campaigns SET budget = budget + 1 WHERE user_id = %s AND name LIKE 'sql %%'"
                             " AND status <> 'generating'", (user.id,))
                if i % 3 == 2:
                    conn.execute("DELETE FROM campaigns WHERE id IN (SELECT id FROM campaigns WHERE user_id = %s"
                                 " AND name LIKE 'sql %%' LIMIT 2)", (user.id,))
    except Exception as e:  # noqa: BLE001
        errors.append(e)


def wait_jobs_done(stack, user, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if q1(stack, "SELECT count(*) FROM jobs WHERE user_id = %s AND state IN ('queued', 'running')",
              (user.id,)) == 0:
            return
        time.sleep(0.05)
    raise AssertionError("generation jobs did not finish")


def test_backfill_and_empty_owner(stack):
    u = User(stack, "Empty")
    # no campaign ever: no row, zeros from the API
    assert q1(stack, "SELECT count(*) FROM owner_summary WHERE user_id = %s", (u.id,)) == 0
    want = assert_consistent(stack, u)
    assert want["total"] == 0 and want["budget"] == [] and want["content"]["averageQualityScore"] is None
    # every owner's campaign count equals the recount, whoever wrote them (earlier tests of this stack)
    # (an owner's summary is up to 8 slot rows: sum them)
    assert q1(stack, """SELECT count(*) FROM (SELECT user_id, sum(campaigns) AS n FROM owner_summary GROUP BY user_id) s
                          FULL JOIN (SELECT user_id, count(*) AS n FROM campaigns GROUP BY user_id) c USING (user_id)
                         WHERE coalesce(s.n, 0) <> coalesce(c.n, 0)""") == 0


def test_concurrent_writes_match_recount(stack):
    u, other = User(stack, "Busy"), User(stack, "Other")
    other.campaign(name="other", budget=5, currency="USD")
    seeds = [u.campaign(name=f"gen {i}", objective="conversion", budget=100, currency="GBP")["id"]
             for i in range(6)]
    errors = []
    threads = [threading.Thread(target=writer, args=(stack, u, s, 40, errors)) for s in range(4)]
    threads.append(threading.Thread(target=generator, args=(stack, u, seeds, errors)))
    threads.append(threading.Thread(target=sql_writer, args=(stack, u, errors)))
    threads.append(threading.Thread(target=writer, args=(stack, other, 99, 15, errors)))
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    wait_jobs_done(stack, u)
    want = assert_consistent(stack, u)
    assert want["total"] > 10 and want["content"]["total"] > 6, want
    assert want["content"]["byType"]["email"] > 0, want  # the worker's items are counted
    assert_consistent(stack, other)
    # deleting campaigns by cascade (the user goes) takes the summary with it
    q(stack, "DELETE FROM users WHERE id = %s RETURNING id", (other.id,))
    assert q1(stack, "SELECT count(*) FROM owner_summary WHERE user_id = %s", (other.id,)) == 0
    assert q1(stack, "SELECT count(*) FROM owner_budget WHERE user_id = %s", (other.id,)) == 0


def test_summary_not_writable_by_api_role(stack):
    """Only the triggers write the summary (SECURITY DEFINER): the API's role can read, not write."""
    with stack.db() as conn:
        conn.execute("SET ROLE adcraft_api")
        for stmt in ("UPDATE owner_summary SET campaigns = 0",
                     "SELECT owner_summary_add(ARRAY[]::owner_tally[])"):
            try:
                conn.execute(stmt)
            except psycopg.errors.InsufficientPrivilege:
                continue
            raise AssertionError(f"adcraft_api could run {stmt}")


def test_moves_between_owners_and_currencies(stack):
    """Trigger paths the API's one-row writes do not take (sql/0026): a campaign moved to another owner
    (out of one owner's slot, into the other's), a budgeted campaign changing currency (two budget rows
    in one statement), a budget removed and set again, a content-only change, an update that changes
    nothing tallied; checked against the recount for both owners after each step."""
    a, b = User(stack, "Mover A"), User(stack, "Mover B")
    ids = [a.campaign(name=f"mover {i}", objective="consideration", budget=7.25 * i, currency="EUR")["id"]
           for i in (1, 2, 3)]
    for cid in ids:
        a.content(cid)
        a.content(cid, contentType="email", platform="email")
    q(stack, "UPDATE campaigns SET status = 'active', content = jsonb_set(content, '{0,qualityScore}', '91')"
             " WHERE id = ANY(%s::uuid[]) RETURNING id", (ids,))
    steps = [
        "UPDATE campaigns SET user_id = %(b)s WHERE id = %(c0)s",
        "UPDATE campaigns SET currency = 'GBP' WHERE id = %(c1)s",
        "UPDATE campaigns SET user_id = %(b)s, currency = 'USD', budget = 3, status = 'completed'"
        " WHERE id = %(c1)s",
        "UPDATE campaigns SET budget = NULL WHERE id = %(c2)s",
        "UPDATE campaigns SET budget = 12.5, currency = 'USD' WHERE id = %(c2)s",
        "UPDATE campaigns SET content = content - 0 WHERE id = %(c2)s",
        "UPDATE campaigns SET content = '[]' WHERE id = %(c0)s",
        "UPDATE campaigns SET name = 'renamed', budget = budget WHERE id = %(c2)s",
        "UPDATE campaigns SET user_id = %(a)s WHERE id = %(c0)s",
        "DELETE FROM campaigns WHERE id = %(c1)s",
    ]
    for stmt in steps:
        q(stack, stmt + " RETURNING id", {"a": a.id, "b": b.id, "c0": ids[0], "c1": ids[1], "c2": ids[2]})
        assert_consistent(stack, a)
        assert_consistent(stack, b)


def test_empty_content_shortcut_matches_the_query(stack):
    """content_tally, content_top_score and content_top_created answer an empty array without their query
    (sql/0027): the same keys, all zero, and NULLs, as the query gives for no items."""
    item = '[{"contentType": "email", "platform": "email", "qualityScore": 80, "createdAt": "2026-01-01T00:00:00Z"}]'
    row = q(stack, """SELECT content_tally('[]'),
                             (SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(content_tally('[]')) k),
                             (SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(content_tally(%s::jsonb)) k),
                             content_top_score('[]'), content_top_created('[]'),
                             content_top_score(%s::jsonb), content_top_created(%s::jsonb)""", (item, item, item))[0]
    tally, empty_keys, keys, top, top_created, one_top, one_created = row
    assert empty_keys == keys and set(tally.values()) == {0}, tally
    assert top is None and top_created is None
    assert one_top == 80 and one_created == "2026-01-01T00:00:00Z"


def test_inserts_of_every_kind_match_recount(stack):
    """The insert trigger (sql/0031, campaigns_owner_summary_insert): rows inserted in SQL with content of every
    type and platform, scored and unscored items, every status and objective, budgets in several currencies and
    none, several rows per statement, into an owner with no slot row yet (the first write inserts it) and then
    into existing slots; the summary equals the recount after each statement, and a concurrent transaction of
    the same owner takes another slot."""
    u = User(stack, "Inserter")
    base = u.content(u.campaign(name="api")["id"])  # a complete item, as the API stores it
    kinds = [("email", "email", 71), ("social_post", "linkedin", 88), ("social_post", "twitter", 40),
             ("ad_copy", "google_ads", 64), ("social_post", "facebook", 90), ("social_post", "instagram", 55)]
    items = [dict(base, id=str(uuid.uuid4()), contentType=t, platform=p, qualityScore=score,
                  createdAt=f"2026-0{i + 1}-01T00:00:00Z") for i, (t, p, score) in enumerate(kinds)]
    content = json.dumps(items)
    steps = [
        ("INSERT INTO campaigns (user_id, name, objective, status, content) VALUES (%(u)s, 'first', 'awareness',"
         " 'active', %(c)s::jsonb)"),
        ("INSERT INTO campaigns (user_id, name, objective, status, budget, currency, content)"
         " SELECT %(u)s, 'multi ' || g, (ARRAY['awareness','consideration','conversion'])[g %% 3 + 1],"
         " (ARRAY['draft','active','generating','completed'])[g %% 4 + 1], CASE WHEN g %% 5 = 0 THEN NULL ELSE g * 3.25 END,"
         " (ARRAY['USD','EUR','GBP','JPY'])[g %% 4 + 1],"
         " (SELECT coalesce(jsonb_agg(e || jsonb_build_object('id', gen_random_uuid(),"
         "                                                      'createdAt', format('2026-0%%s-%%sT00:00:00Z', n, g + 10))),"
         "                  '[]')"
         "    FROM jsonb_array_elements(%(c)s::jsonb) WITH ORDINALITY x(e, n)"
         "   WHERE n <= g %% 7)"
         " FROM generate_series(1, 12) g"),
        "INSERT INTO campaigns (user_id, name, objective, budget, currency) VALUES (%(u)s, 'new currency', 'conversion', 0, 'CHF')",
        "INSERT INTO campaigns (user_id, name, objective) VALUES (%(u)s, 'bare', 'consideration')",
    ]
    for stmt in steps:
        q(stack, stmt + " RETURNING id", {"u": u.id, "c": content})
        assert_consistent(stack, u)
    want = assert_consistent(stack, u)
    assert want["total"] == 16 and want["content"]["total"] > 30, want
    assert {b["currency"] for b in want["budget"]} == {"USD", "EUR", "GBP", "JPY", "CHF"}, want
    assert all(want["byStatus"][s] > 0 for s in ("draft", "active", "generating", "completed")), want

    # Two open transactions inserting for one owner write two different slots, not one after the other.
    with stack.db() as a, stack.db() as b:
        for conn in (a, b):
            conn.execute("SET lock_timeout = '5s'")  # one slot for both would block b on a's row: fail, not hang
            conn.execute("BEGIN")
        for conn in (a, b):
            conn.execute("INSERT INTO campaigns (user_id, name, objective, budget, currency)"
                         " VALUES (%s, 'concurrent', 'awareness', 1, 'USD')", (u.id,))
        slots = {conn.execute("SELECT objid FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()"
                              ).fetchone()[0] for conn in (a, b)}
        assert len(slots) == 2, slots
        a.execute("COMMIT")
        b.execute("COMMIT")
    assert assert_consistent(stack, u)["total"] == 18


def test_content_item_keys_sort_like_score_then_created(stack):
    """content_item_keys (sql/0040), the dashboard's ranking: any integer score in order, newest first among
    equal scores, no key for an element that is not an object or has no score."""
    items = [{"id": "neg", "qualityScore": -5, "createdAt": "2026-01-01T00:00:00.000Z"},
             {"id": "old7", "qualityScore": 7, "createdAt": "2026-01-01T00:00:00.000Z"},
             "a string is no item",
             {"id": "unscored", "createdAt": "2026-03-01T00:00:00.000Z"},
             {"id": "new7", "qualityScore": 7, "createdAt": "2026-02-01T00:00:00.000Z"},
             {"id": "max", "qualityScore": 2147483647, "createdAt": "2025-01-01T00:00:00.000Z"},
             {"id": "min", "qualityScore": -2147483648, "createdAt": "2027-01-01T00:00:00.000Z"},
             {"id": "zero", "qualityScore": 0}]
    ranked = q(stack, """SELECT x.e->>'id', x.k IS NULL FROM unnest(content_item_keys(%(c)s::jsonb),
                                    ARRAY(SELECT jsonb_array_elements(%(c)s::jsonb))) AS x (k, e)
                          ORDER BY x.k COLLATE "C" DESC NULLS LAST""", {"c": json.dumps(items)})
    assert [r[0] for r in ranked if not r[1]] == ["max", "new7", "old7", "zero", "neg", "min"]
    assert sorted((r[0] or "") for r in ranked if r[1]) == ["", "unscored"]


def test_top_content_ranks_by_score_then_newest(stack):
    """The dashboard's top content in the order of the items' stored keys: equal scores newest first."""
    u = User(stack, "Ranker")
    c = u.campaign(name="Ranked", objective="awareness")
    made = [u.content(c["id"], contentType="ad_copy", platform="google_ads", contentBody=f"Copy {n}")
            for n in range(4)]
    scores = {made[0]["id"]: (70, "2026-01-01T00:00:00.000Z"), made[1]["id"]: (90, "2025-01-01T00:00:00.000Z"),
              made[2]["id"]: (70, "2026-02-01T00:00:00.000Z"), made[3]["id"]: (10, "2027-01-01T00:00:00.000Z")}
    for item_id, (score, created) in scores.items():
        q1(stack, """UPDATE campaigns SET content = (
                         SELECT jsonb_agg(CASE WHEN e->>'id' = %s
                                               THEN e || jsonb_build_object('qualityScore', %s::int, 'createdAt', %s::text)
                                               ELSE e END ORDER BY n)
                           FROM jsonb_array_elements(content) WITH ORDINALITY AS x (e, n))
                     WHERE id = %s RETURNING 1""", (item_id, score, created, c["id"]))
    dash = dec(u.req("GET", "/api/campaigns/dashboard"))
    assert [i["id"] for i in dash["topContent"]] == [made[1]["id"], made[2]["id"], made[0]["id"], made[3]["id"]]
    assert all(i["campaignId"] == c["id"] and i["campaignName"] == "Ranked" for i in dash["topContent"])
