"""Campaigns (issue #3) through nginx: CRUD success paths, list filters,
keyset pagination under concurrent inserts, every validation rule (422 naming
the field, nothing written), mass assignment, the status machine, and
ownership between two users on every campaign, content and generation route."""

import json
import threading
import time
import uuid
from decimal import Decimal

import pytest

from campaign_helpers import (Unchanged, User, dec, error_fields, json_body, problem, q, q1,
                              row, sql)
from helpers import RFC3339_UTC_RE, UUID_RE


@pytest.fixture(scope="module")
def alice(stack):
    return User(stack, "Alice")


@pytest.fixture(scope="module")
def bob(stack):
    return User(stack, "Bob")


@pytest.fixture
def fresh(stack):
    return User(stack, "Fresh")


FULL_KEYS = {"id", "userId", "personaId", "brandProfileId", "name", "product", "description", "objective",
             "status", "budget", "currency", "startDate", "endDate", "tone", "keywords", "content", "abTests",
             "generationSettings", "createdAt", "updatedAt"}
SUMMARY_KEYS = FULL_KEYS - {"content", "abTests"} | {"contentCount", "abTestCount"}

GEN = {"contentTypes": ["email", "social_post"], "platforms": ["email", "linkedin", "twitter"],
       "creativityLevel": 7, "includeVisuals": False, "customInstructions": "No jargon.",
       "variations": 3}
# an abTests entry as clients wrote them before A/B tests became a resource (sql/0016_ab_tests.sql):
# stored rows stay visible, read-only
AB = {"testName": "Subject A/B", "testType": "subject_line", "status": "draft",
      "variantA": {"contentId": "6f1c1f59-2a1c-4e53-9d7e-7b1f0c0c0001", "description": "short",
                   "content": "Save an hour"},
      "variantB": None, "winner": None, "startDate": "2025-03-01", "endDate": "2025-03-10"}


def full_body(persona_id=None):
    return {"name": "Spring launch", "product": "Acme Planner", "description": "Launch of the planner app.",
            "objective": "conversion", "status": "draft", "personaId": persona_id,
            "budget": 1234.5, "currency": "EUR", "startDate": "2025-03-01", "endDate": "2025-03-31",
            "tone": "friendly, confident", "keywords": "planner, productivity",
            "generationSettings": GEN}


def db_campaign(stack, cid):
    """Typed columns of the row, to compare with an API campaign."""
    r = sql(stack).execute(
        """SELECT user_id::text, persona_id::text, name, description, objective, status, budget,
                  currency, start_date, end_date, tone, keywords, content, ab_tests,
                  generation_settings, product FROM campaigns WHERE id = %s""", (cid,)).fetchone()
    return r


def check_campaign_row(stack, c):
    r = db_campaign(stack, c["id"])
    assert r is not None
    (user_id, persona_id, name, description, objective, status, budget, currency, start,
     end, tone, keywords, content, ab_tests, gen, product) = r
    assert user_id == c["userId"]
    assert persona_id == c["personaId"]
    assert (name, description, objective, status) == \
        (c["name"], c["description"], c["objective"], c["status"])
    assert budget == (None if c["budget"] is None else Decimal(str(c["budget"])))
    assert currency == c["currency"]
    assert (start.isoformat() if start else None) == c["startDate"]
    assert (end.isoformat() if end else None) == c["endDate"]
    assert (tone, keywords, product) == (c["tone"], c["keywords"], c["product"])
    if "content" in c:
        assert [i["id"] for i in content] == [i["id"] for i in c["content"]]
        assert dec(ab_tests) == c["abTests"]
    assert dec(gen) == c["generationSettings"]


# --- success paths ------------------------------------------------------

def test_campaign_crud(stack, fresh):
    u = fresh
    persona = u.persona(name="Founder")
    body = full_body(persona["id"])
    c = json_body(u.req("POST", "/api/campaigns", json=body), 201)
    assert set(c) == FULL_KEYS
    assert UUID_RE.match(c["id"]) and c["userId"] == u.id
    for k in ("name", "product", "description", "objective", "status", "personaId", "currency", "startDate",
              "endDate", "tone", "keywords"):
        assert c[k] == body[k], k
    assert c["budget"] == Decimal("1234.50")
    assert c["generationSettings"] == dec(GEN)
    assert c["content"] == [] and c["abTests"] == []
    # an entry written before 0016 (the API no longer writes the column) is shown as stored
    ab = dict(AB, id=str(uuid.uuid4()))
    sql(stack).execute("UPDATE campaigns SET ab_tests = %s::jsonb WHERE id = %s", (json.dumps([ab]), c["id"]))
    c = json_body(u.req("GET", f"/api/campaigns/{c['id']}"), 200)
    assert c["abTests"] == [dec(ab)]
    assert RFC3339_UTC_RE.match(c["createdAt"]) and c["createdAt"] == c["updatedAt"]
    check_campaign_row(stack, c)

    assert json_body(u.req("GET", f"/api/campaigns/{c['id']}"), 200) == c

    lst = json_body(u.req("GET", "/api/campaigns"), 200)
    assert lst["nextCursor"] is None and len(lst["items"]) == 1
    s = lst["items"][0]
    assert set(s) == SUMMARY_KEYS
    assert s["contentCount"] == 0 and s["abTestCount"] == 1
    for k in SUMMARY_KEYS - {"contentCount", "abTestCount"}:
        assert s[k] == c[k], k

    # PATCH: only the given fields change (abTests is read-only: test_ab_tests.py)
    p = json_body(u.req("PATCH", f"/api/campaigns/{c['id']}",
                        json={"name": "Spring launch v2", "budget": 99.99}), 200)
    assert p["name"] == "Spring launch v2" and p["budget"] == Decimal("99.99")
    for k in ("product", "description", "objective", "status", "personaId", "currency", "startDate",
              "endDate", "tone", "keywords", "generationSettings", "createdAt", "id", "userId"):
        assert p[k] == c[k], k
    assert p["updatedAt"] > c["updatedAt"]
    assert p["abTests"] == c["abTests"]
    check_campaign_row(stack, p)

    # PUT: absent optional fields go back to their defaults; status and the read-only abTests kept
    u.move(c["id"], "active")
    put = json_body(u.req("PUT", f"/api/campaigns/{c['id']}",
                          json={"name": "Replaced", "objective": "awareness"}), 200)
    assert put["name"] == "Replaced" and put["objective"] == "awareness"
    assert put["status"] == "active"
    assert (put["personaId"], put["budget"], put["currency"], put["startDate"], put["endDate"],
            put["tone"], put["keywords"], put["abTests"], put["description"]) == \
        (None, None, "USD", None, None, None, None, c["abTests"], "")
    assert put["generationSettings"] in ({}, None)
    assert put["id"] == c["id"] and put["createdAt"] == c["createdAt"]
    check_campaign_row(stack, put)

    # DELETE removes the campaign and its jobs
    job = q1(stack, "SELECT enqueue('analytics-processing', 'noop', '{}', %s, %s, 0, "
                    "now() + interval '1 hour')", (u.id, c["id"]))
    r = u.req("DELETE", f"/api/campaigns/{c['id']}")
    assert r.status_code == 204 and r.content == b""
    assert row(stack, "campaigns", c["id"]) is None
    assert row(stack, "jobs", job) is None
    problem(u.req("GET", f"/api/campaigns/{c['id']}"), 404)
    problem(u.req("DELETE", f"/api/campaigns/{c['id']}"), 404)
    # the persona is free again
    assert u.req("DELETE", f"/api/personas/{persona['id']}").status_code == 204


def test_campaign_minimal_defaults(stack, alice):
    c = json_body(alice.req("POST", "/api/campaigns",
                            json={"name": "M", "objective": "awareness", "description": None}), 201)
    assert (c["status"], c["currency"], c["budget"], c["personaId"], c["description"],
            c["startDate"], c["endDate"], c["tone"], c["keywords"], c["abTests"], c["content"]) == \
        ("draft", "USD", None, None, "", None, None, None, None, [], [])
    check_campaign_row(stack, c)


def test_campaign_product_is_optional_and_patchable(stack, alice):
    c = json_body(alice.req("POST", "/api/campaigns", json={"name": "Q3 push", "objective": "awareness"}), 201)
    assert c["product"] is None
    p = json_body(alice.req("PATCH", f"/api/campaigns/{c['id']}", json={"product": "Acme Planner"}), 200)
    assert p["product"] == "Acme Planner" and p["name"] == "Q3 push"
    check_campaign_row(stack, p)
    p = json_body(alice.req("PATCH", f"/api/campaigns/{c['id']}", json={"product": None}), 200)
    assert p["product"] is None


def test_include_visuals_is_stored(stack, alice):
    body = {"name": "Visual", "objective": "awareness", "generationSettings": {"includeVisuals": True}}
    c = json_body(alice.req("POST", "/api/campaigns", json=body), 201)
    assert c["generationSettings"]["includeVisuals"] is True
    check_campaign_row(stack, c)


def test_campaign_boundaries_accepted(stack, alice):
    body = {"name": "n" * 200, "product": "p" * 100, "objective": "consideration", "description": "d" * 5000,
            "budget": 999999999999.99, "currency": "JPY", "startDate": "2024-02-29",
            "endDate": "2024-02-29", "tone": "t" * 100, "keywords": "k" * 500,
            "generationSettings": {"contentTypes": ["email", "social_post", "ad_copy"],
                                   "platforms": ["email", "linkedin", "twitter", "facebook",
                                                 "instagram", "google_ads"],
                                   "creativityLevel": 10, "includeVisuals": False,
                                   "customInstructions": "c" * 2000, "variations": 5}}
    c = json_body(alice.req("POST", "/api/campaigns", json=body), 201)
    assert c["budget"] == Decimal("999999999999.99")
    check_campaign_row(stack, c)
    c0 = json_body(alice.req("POST", "/api/campaigns",
                             json={"name": "zero", "objective": "awareness", "budget": 0,
                                   "generationSettings": {"creativityLevel": 1, "variations": 1}}),
                   201)
    assert c0["budget"] == Decimal("0")
    check_campaign_row(stack, c0)


def test_campaign_generation_settings_null_accepted(stack, alice):
    """API-IMPL: generationSettings is nullable, on create, PUT and PATCH."""
    r = alice.req("POST", "/api/campaigns",
                  json={"name": "G", "objective": "awareness", "generationSettings": None})
    assert r.status_code == 201, r.text
    c = alice.campaign(generationSettings=GEN)
    r = alice.req("PATCH", f"/api/campaigns/{c['id']}", json={"generationSettings": None})
    assert r.status_code == 200, r.text
    assert r.json()["generationSettings"] in (None, {})


# --- list filters -------------------------------------------------------

def ids_sql(stack, user_id, where="", params=()):
    return [str(r[0]) for r in q(
        stack, f"SELECT id FROM campaigns WHERE user_id = %s {where} "
               "ORDER BY created_at DESC, id DESC", (user_id, *params))]


def list_all(user, query, limit=3):
    out, cursor = [], None
    for _ in range(100):
        path = f"/api/campaigns?limit={limit}&{query}" + (f"&cursor={cursor}" if cursor else "")
        page = json_body(user.req("GET", path), 200)
        assert len(page["items"]) <= limit
        for it in page["items"]:
            assert set(it) == SUMMARY_KEYS, set(it) ^ SUMMARY_KEYS
        out += page["items"]
        cursor = page["nextCursor"]
        if cursor is None:
            return out
    raise AssertionError("too many pages")


def test_campaign_list_filters(stack, fresh, bob):
    u = fresh
    p1, p2 = u.persona(name="P1"), u.persona(name="P2")
    made = []
    specs = [("Summer Sale", "awareness", None, []), ("100% off", "conversion", p1, ["active"]),
             ("a_b test", "consideration", p1, ["active", "completed"]),
             ("summer_2", "awareness", p2, ["active"]), ("Winter", "conversion", None, []),
             ("abc", "consideration", p2, []), ("SUMMER big", "conversion", p1, ["active", "draft"]),
             ("back\\slash", "awareness", None, [])]
    for name, obj, persona, moves in specs:
        c = u.campaign(name=name, objective=obj, personaId=persona and persona["id"])
        u.move(c["id"], *moves)
        made.append(c["id"])
    gen = u.campaign(name="Generating one", objective="awareness")
    q(stack, "UPDATE campaigns SET status = 'generating', status_before_generation = 'draft' "
             "WHERE id = %s RETURNING id", (gen["id"],))
    # noise: another user's campaigns with matching names and the same filters
    bob.campaign(name="Summer Sale", objective="awareness")

    cases = [
        ("", "", ()),
        ("status=draft", "AND status = %s", ("draft",)),
        ("status=active", "AND status = %s", ("active",)),
        ("status=completed", "AND status = %s", ("completed",)),
        ("status=generating", "AND status = %s", ("generating",)),
        ("objective=conversion", "AND objective = %s", ("conversion",)),
        ("objective=awareness", "AND objective = %s", ("awareness",)),
        (f"personaId={p1['id']}", "AND persona_id = %s", (p1["id"],)),
        (f"personaId={p2['id']}", "AND persona_id = %s", (p2["id"],)),
        (f"personaId={uuid.uuid4()}", "AND false", ()),
        ("q=summer", "AND name ILIKE %s", ("%summer%",)),
        ("q=SUMMER", "AND name ILIKE %s", ("%summer%",)),
        ("q=%25", "AND name LIKE %s", ("%\\%%",)),             # literal %
        ("q=_", "AND name LIKE %s", ("%\\_%",)),               # literal _
        ("q=a_b", "AND name LIKE %s", ("%a\\_b%",)),
        ("q=%5C", "AND name LIKE %s", ("%\\\\%",)),         # literal backslash
        ("q=k%5Cs", "AND name LIKE %s", ("%k\\\\s%",)),
        ("q=nothing-matches", "AND false", ()),
        ("status=draft&objective=conversion", "AND status = %s AND objective = %s",
         ("draft", "conversion")),
        (f"status=active&personaId={p2['id']}&q=sum", "AND status = %s AND persona_id = %s "
         "AND name ILIKE %s", ("active", p2["id"], "%sum%")),
    ]
    for query, where, params in cases:
        got = [x["id"] for x in list_all(u, query)]
        expect = ids_sql(stack, u.id, where, params)
        assert got == expect, (query, got, expect)
    # sanity of the expectations themselves
    assert len(ids_sql(stack, u.id, "AND name LIKE %s", ("%\\%%",))) == 1
    assert len(ids_sql(stack, u.id, "AND name LIKE %s", ("%\\_%",))) == 2
    assert len(ids_sql(stack, u.id, "AND name LIKE %s", ("%k\\\\s%",))) == 1
    assert len(ids_sql(stack, u.id, "AND name ILIKE %s", ("%summer%",))) == 3
    # summaries carry counts, not the arrays
    u.content(made[0])
    u.content(made[0])
    s = [x for x in list_all(u, "q=Summer+Sale") if x["id"] == made[0]][0]
    assert s["contentCount"] == 2 and s["abTestCount"] == 0


@pytest.mark.parametrize("query", [
    "limit=0", "limit=101", "limit=abc", "limit=-1", "limit=", "limit=2.0",
    "cursor=zzz", "cursor=", "cursor=!!!!", "foo=1", "limit=1&limit=2", "status=draft&status=active",
    "status=bogus", "status=", "objective=fun", "personaId=not-a-uuid", "contentType=email",
    # cursors of the right shape whose date or time does not exist (PostgreSQL refused them: 422)
    "cursor=MjAyNi0xMy00NSA5OTo5OTo5OSswMCwwMDAwMDAwMC0wMDAwLTQwMDAtODAwMC0wMDAwMDAwMDAwMDA", "cursor=MjAyNi0wMi0zMCAwMDowMDowMCswMCwwMDAwMDAwMC0wMDAwLTQwMDAtODAwMC0wMDAwMDAwMDAwMDA", "cursor=MDAwMC0wMC0wMFQwMDowMDowMFosMDAwMDAwMDAtMDAwMC00MDAwLTgwMDAtMDAwMDAwMDAwMDAw",
    "limit=+5", "limit=%205",
])
def test_campaign_list_bad_query_400(stack, alice, query):
    alice.campaign()
    problem(alice.req("GET", f"/api/campaigns?{query}"), 400)


def test_campaign_list_limit_bounds(stack, fresh):
    for i in range(3):
        fresh.campaign(name=f"c{i}")
    assert len(json_body(fresh.req("GET", "/api/campaigns?limit=1"), 200)["items"]) == 1
    page = json_body(fresh.req("GET", "/api/campaigns?limit=100"), 200)
    assert len(page["items"]) == 3 and page["nextCursor"] is None
    page = json_body(fresh.req("GET", "/api/campaigns"), 200)
    assert len(page["items"]) == 3


def test_pagination_under_concurrent_inserts(stack, fresh):
    u = fresh
    for i in range(40):
        u.campaign(name=f"seed {i}", objective=("conversion" if i % 3 == 0 else "awareness"))
    initial_all = set(ids_sql(stack, u.id))
    initial_conv = set(ids_sql(stack, u.id, "AND objective = %s", ("conversion",)))
    assert len(initial_all) == 40 and len(initial_conv) == 14

    stop = threading.Event()
    inserted, errors = [], []

    def inserter():
        n = 0
        while not stop.is_set():
            r = u.req("POST", "/api/campaigns",
                      json={"name": f"new {n}", "objective": ("conversion", "awareness")[n % 2]})
            if r.status_code != 201:
                errors.append((r.status_code, r.text))
                return
            inserted.append(r.json()["id"])
            n += 1

    t = threading.Thread(target=inserter, daemon=True)
    t.start()
    try:
        results = {}
        for query, limit in (("", 6), ("objective=conversion", 4)):
            seen, cursor, pages = [], None, 0
            while True:
                # make sure rows really are being inserted between the pages
                n0, deadline = len(inserted), time.monotonic() + 5
                while len(inserted) == n0 and time.monotonic() < deadline and not errors:
                    time.sleep(0.002)
                path = f"/api/campaigns?limit={limit}&{query}" + \
                    (f"&cursor={cursor}" if cursor else "")
                page = json_body(u.req("GET", path), 200)
                pages += 1
                seen += [x["id"] for x in page["items"]]
                cursor = page["nextCursor"]
                if cursor is None:
                    break
                assert pages < 200
            results[query] = (seen, pages)
    finally:
        stop.set()
        t.join(30)
    assert not errors, errors
    assert len(inserted) >= 10, f"only {len(inserted)} concurrent inserts"

    for query, initial in (("", initial_all), ("objective=conversion", initial_conv)):
        seen, pages = results[query]
        assert len(seen) == len(set(seen)), f"{query}: duplicates across pages"
        missing = initial - set(seen)
        assert not missing, f"{query}: {len(missing)} rows that existed at the start were missed"
        # every row seen is the user's, matches the filter, and pages keep keyset order
        rows = {str(r[0]): (r[1], str(r[0]), r[2], r[3]) for r in q(
            stack, "SELECT id, created_at, objective, user_id::text FROM campaigns "
                   "WHERE id = ANY(%s::uuid[])", (seen,))}
        assert len(rows) == len(seen)
        keys = [rows[i][:2] for i in seen]
        assert keys == sorted(keys, reverse=True), f"{query}: not newest first"
        assert all(rows[i][3] == u.id for i in seen)
        if query:
            assert all(rows[i][2] == "conversion" for i in seen)


# --- validation ---------------------------------------------------------

INVALID = [
    ({"name": None}, {"name"}),
    ({"name": ""}, {"name"}),
    ({"name": "x" * 201}, {"name"}),
    ({"name": 12}, {"name"}),
    ({"description": "d" * 5001}, {"description"}),
    ({"objective": "sales"}, {"objective"}),
    ({"objective": None}, {"objective"}),
    ({"status": "paused"}, {"status"}),
    ({"personaId": "nope"}, {"personaId"}),
    ({"personaId": str(uuid.uuid4())}, {"personaId"}),
    ({"budget": -0.01}, {"budget"}),
    ({"budget": 1.234}, {"budget"}),
    ({"budget": 1234567890123}, {"budget"}),
    ({"budget": "100"}, {"budget"}),
    ({"budget": True}, {"budget"}),
    ({"currency": "usd"}, {"currency"}),
    ({"currency": "XYZ"}, {"currency"}),
    ({"currency": "EURO"}, {"currency"}),
    ({"currency": 978}, {"currency"}),
    ({"startDate": "2023-02-29"}, {"startDate"}),
    ({"startDate": "2024-3-1"}, {"startDate"}),
    ({"startDate": "2024-03-01T00:00:00Z"}, {"startDate"}),
    ({"endDate": "2024-13-01"}, {"endDate"}),
    ({"startDate": "2024-03-10", "endDate": "2024-03-09"}, {"endDate"}),
    ({"tone": "t" * 101}, {"tone"}),
    ({"keywords": "k" * 501}, {"keywords"}),
    ({"generationSettings": []}, {"generationSettings"}),
    ({"generationSettings": {"contentTypes": []}}, {"generationSettings.contentTypes"}),
    ({"generationSettings": {"contentTypes": ["fax"]}}, {"generationSettings.contentTypes[0]"}),
    ({"generationSettings": {"contentTypes": ["email", "email"]}},
     {"generationSettings.contentTypes[1]"}),
    ({"generationSettings": {"platforms": []}}, {"generationSettings.platforms"}),
    ({"generationSettings": {"platforms": ["email", "tiktok"]}}, {"generationSettings.platforms[1]"}),
    ({"generationSettings": {"platforms": ["twitter", "twitter"]}},
     {"generationSettings.platforms[1]"}),
    ({"generationSettings": {"creativityLevel": 0}}, {"generationSettings.creativityLevel"}),
    ({"generationSettings": {"creativityLevel": 11}}, {"generationSettings.creativityLevel"}),
    ({"generationSettings": {"includeVisuals": "yes"}}, {"generationSettings.includeVisuals"}),
    ({"product": ""}, {"product"}),
    ({"product": "p" * 101}, {"product"}),
    ({"product": 7}, {"product"}),
    ({"generationSettings": {"customInstructions": "c" * 2001}},
     {"generationSettings.customInstructions"}),
    ({"generationSettings": {"variations": 0}}, {"generationSettings.variations"}),
    ({"generationSettings": {"variations": 6}}, {"generationSettings.variations"}),
    ({"generationSettings": {"tone": "x"}}, {"generationSettings.tone"}),
    # lists that make no pair a job could write (email only on email; the job failed on them)
    ({"generationSettings": {"contentTypes": ["email"], "platforms": ["twitter"]}},
     {"generationSettings.platforms"}),
    ({"generationSettings": {"contentTypes": ["ad_copy", "social_post"], "platforms": ["email"]}},
     {"generationSettings.platforms"}),
    # A/B tests are their own resource now: any abTests is refused, whatever it holds
    ({"abTests": []}, {"abTests"}),
    ({"abTests": [{"testName": "t", "testType": "content"}]}, {"abTests"}),
    ({"abTests": {}, "name": ""}, {"abTests", "name"}),
    # every bad field is listed at once
    ({"name": "", "objective": "x", "budget": -1, "currency": "usd", "tone": "t" * 101,
      "generationSettings": {"variations": 9}},
     {"name", "objective", "budget", "currency", "tone", "generationSettings.variations"}),
    # ... including the cross-field date rule next to a per-field error
    ({"name": "", "startDate": "2024-03-10", "endDate": "2024-03-09"}, {"name", "endDate"}),
]


def _ids(cases):
    return [",".join(sorted(f)) + f"-{i}" for i, (_, f) in enumerate(cases)]


@pytest.mark.parametrize("patch,fields", INVALID, ids=_ids(INVALID))
def test_campaign_create_invalid(stack, alice, patch, fields):
    body = {"name": "Valid", "objective": "awareness"}
    body.update(patch)
    with Unchanged(stack, alice):
        r = alice.req("POST", "/api/campaigns", json=body)
        problem(r, 422, *fields)
        assert error_fields(r) == fields


@pytest.mark.parametrize("body,fields", [({"objective": "awareness"}, {"name"}),
                                         ({"name": "x"}, {"objective"}),
                                         ({}, {"name", "objective"})])
def test_campaign_create_required(stack, alice, body, fields):
    with Unchanged(stack, alice):
        r = alice.req("POST", "/api/campaigns", json=body)
        problem(r, 422, *fields)
        assert error_fields(r) == fields


PATCH_INVALID = [c for c in INVALID if c[0] != {"status": "paused"}] + [
    ({"endDate": "2025-02-01"}, {"endDate"}),        # before the stored startDate
    ({"startDate": "2025-04-01"}, {"endDate"}),      # after the stored endDate
    ({"status": "paused"}, {"status"}),
]


@pytest.mark.parametrize("patch,fields", PATCH_INVALID, ids=_ids(PATCH_INVALID))
def test_campaign_patch_invalid(stack, alice, patch, fields):
    p = alice.persona()
    c = alice.campaign(**full_body(p["id"]))
    with Unchanged(stack, alice):
        r = alice.req("PATCH", f"/api/campaigns/{c['id']}", json=patch)
        problem(r, 422, *fields)
        assert error_fields(r) == fields


@pytest.mark.parametrize("patch,fields", INVALID[::3] + [({"name": None, "objective": None},
                                                          {"name", "objective"})],
                         ids=_ids(INVALID[::3] + [({}, {"name", "objective"})]))
def test_campaign_put_invalid(stack, alice, patch, fields):
    c = alice.campaign(**full_body())
    body = {"name": "Valid", "objective": "awareness"}
    body.update(patch)
    for k in [k for k, v in body.items() if v is None and k in ("name", "objective")]:
        del body[k]   # PUT without its required fields
    with Unchanged(stack, alice):
        r = alice.req("PUT", f"/api/campaigns/{c['id']}", json=body)
        problem(r, 422, *fields)
        assert error_fields(r) == fields


# --- mass assignment ----------------------------------------------------

FORBIDDEN = {
    "id": str(uuid.uuid4()), "userId": None, "content": [], "qualityScore": 90,
    "qualityBreakdown": {}, "metadata": {"generatedBy": "ai"}, "createdAt": "2020-01-01T00:00:00Z",
    "updatedAt": "2020-01-01T00:00:00Z", "contentCount": 3, "abTestCount": 1,
    "statusBeforeGeneration": "draft",
}


@pytest.mark.parametrize("field", sorted(FORBIDDEN))
@pytest.mark.parametrize("verb", ["POST", "PUT", "PATCH"])
def test_campaign_mass_assignment_422(stack, alice, bob, verb, field):
    c = alice.campaign(**full_body())
    value = bob.id if field == "userId" else FORBIDDEN[field]
    if field == "content":
        value = [{"contentType": "email", "platform": "email", "contentBody": "hi"}]
    path = "/api/campaigns" if verb == "POST" else f"/api/campaigns/{c['id']}"
    with Unchanged(stack, alice, bob):
        r = alice.req(verb, path, json={"name": "Hijack", "objective": "awareness", field: value})
        problem(r, 422, field)
        assert error_fields(r) == {field}


def test_campaign_status_generating_refused(stack, alice):
    c = alice.campaign()
    with Unchanged(stack, alice):
        r = alice.req("POST", "/api/campaigns",
                      json={"name": "G", "objective": "awareness", "status": "generating"})
        problem(r, 422, "status")
        problem(alice.req("PATCH", f"/api/campaigns/{c['id']}", json={"status": "generating"}), 409)
        problem(alice.req("PUT", f"/api/campaigns/{c['id']}",
                          json={"name": "G", "objective": "awareness", "status": "generating"}),
                409)
        for s in ("active", "completed"):
            r = alice.req("POST", "/api/campaigns",
                          json={"name": "G", "objective": "awareness", "status": s})
            problem(r, 422, "status")


# --- status machine -----------------------------------------------------

PATH_TO = {"draft": [], "active": ["active"], "completed": ["active", "completed"]}
ALLOWED = {("draft", "active"), ("active", "draft"), ("active", "completed"),
           ("draft", "draft"), ("active", "active"), ("completed", "completed")}


@pytest.mark.parametrize("verb", ["PATCH", "PUT"])
@pytest.mark.parametrize("to", ["draft", "active", "completed", "generating"])
@pytest.mark.parametrize("frm", ["draft", "active", "completed"])
def test_status_transition(stack, alice, frm, to, verb):
    c = alice.campaign(name="Machine", objective="conversion", budget=10)
    alice.move(c["id"], *PATH_TO[frm])
    body = {"status": to} if verb == "PATCH" else \
        {"name": "Machine 2", "objective": "conversion", "status": to}
    if (frm, to) in ALLOWED:
        before = row(stack, "campaigns", c["id"])
        got = json_body(alice.req(verb, f"/api/campaigns/{c['id']}", json=body), 200)
        assert got["status"] == to
        assert q1(stack, "SELECT status FROM campaigns WHERE id = %s", (c["id"],)) == to
        if verb == "PUT":
            assert got["name"] == "Machine 2" and got["budget"] is None
        else:
            after = row(stack, "campaigns", c["id"])
            # json_head is derived from status and updated_at (sql/0027)
            moved = ("status", "updated_at", "json_head")
            assert {k: v for k, v in after.items() if k not in moved} == \
                {k: v for k, v in before.items() if k not in moved}
    else:
        with Unchanged(stack, alice):
            b = problem(alice.req(verb, f"/api/campaigns/{c['id']}", json=body), 409)
        if to != "generating":
            assert frm in b["detail"] and to in b["detail"], b


@pytest.mark.parametrize("to", ["draft", "active", "completed", "generating"])
def test_no_status_change_while_generating(stack, alice, to):
    c = alice.campaign()
    alice.move(c["id"], "active")
    q(stack, "UPDATE campaigns SET status = 'generating', status_before_generation = 'active' "
             "WHERE id = %s RETURNING id", (c["id"],))
    with Unchanged(stack, alice):
        problem(alice.req("PATCH", f"/api/campaigns/{c['id']}", json={"status": to}), 409)
        problem(alice.req("PUT", f"/api/campaigns/{c['id']}",
                          json={"name": "x", "objective": "awareness", "status": to}), 409)
    assert q1(stack, "SELECT status FROM campaigns WHERE id = %s", (c["id"],)) == "generating"


# --- ownership ----------------------------------------------------------

def test_campaign_ownership_every_route(stack, alice, bob):
    pa = alice.persona(name="Alice's persona")
    ca = alice.campaign(**full_body(pa["id"]))
    item = alice.content(ca["id"])
    cb = bob.campaign(name="Bob's")
    item_b = bob.content(cb["id"])
    ghost = str(uuid.uuid4())
    cid, iid = ca["id"], item["id"]
    new_item = {"contentType": "social_post", "platform": "twitter", "contentBody": "pwned"}
    routes = [
        ("GET", f"/api/campaigns/{cid}", None),
        ("PUT", f"/api/campaigns/{cid}", {"name": "pwned", "objective": "awareness"}),
        ("PATCH", f"/api/campaigns/{cid}", {"name": "pwned"}),
        ("PATCH", f"/api/campaigns/{cid}", {"status": "active"}),
        ("DELETE", f"/api/campaigns/{cid}", None),
        ("POST", f"/api/campaigns/{cid}/content", new_item),
        ("GET", f"/api/campaigns/{cid}/content", None),
        ("GET", f"/api/campaigns/{cid}/content/{iid}", None),
        ("PATCH", f"/api/campaigns/{cid}/content/{iid}", {"contentBody": "pwned"}),
        ("DELETE", f"/api/campaigns/{cid}/content/{iid}", None),
        # A's item id under B's own campaign
        ("GET", f"/api/campaigns/{cb['id']}/content/{iid}", None),
        ("PATCH", f"/api/campaigns/{cb['id']}/content/{iid}", {"contentBody": "pwned"}),
        ("DELETE", f"/api/campaigns/{cb['id']}/content/{iid}", None),
        ("POST", f"/api/jobs/campaigns/{cid}/generate", None),
        ("POST", f"/api/jobs/campaigns/{cid}/generate-single",
         {"contentType": "email", "platform": "email"}),
    ]
    before_a, before_b = row(stack, "campaigns", cid), row(stack, "campaigns", cb["id"])
    a_view = json_body(alice.req("GET", f"/api/campaigns/{cid}"), 200)
    assert [i["id"] for i in a_view["content"]] == [iid]
    with Unchanged(stack, alice, bob):
        for verb, path, body in routes:
            b = problem(bob.req(verb, path, json=body), 404)
            ghost_path = path.replace(cid, ghost).replace(iid, ghost)
            if ghost_path != path:
                b2 = problem(bob.req(verb, ghost_path, json=body), 404)
                assert b["detail"] == b2["detail"], (verb, path, b, b2)
        # B's list, filtered by A's persona, shows nothing of A's
        lst = json_body(bob.req("GET", f"/api/campaigns?personaId={pa['id']}"), 200)
        assert lst["items"] == []
        assert cid not in [x["id"] for x in json_body(bob.req("GET", "/api/campaigns?limit=100"),
                                                        200)["items"]]
        # B cannot attach A's persona to B's campaigns
        for verb, path, body in (
                ("POST", "/api/campaigns", {"name": "b", "objective": "awareness",
                                            "personaId": pa["id"]}),
                ("PATCH", f"/api/campaigns/{cb['id']}", {"personaId": pa["id"]}),
                ("PUT", f"/api/campaigns/{cb['id']}", {"name": "b", "objective": "awareness",
                                                       "personaId": pa["id"]})):
            r = bob.req(verb, path, json=body)
            problem(r, 422, "personaId")
            assert error_fields(r) == {"personaId"}
    assert row(stack, "campaigns", cid) == before_a
    assert row(stack, "campaigns", cb["id"]) == before_b
    assert json_body(alice.req("GET", f"/api/campaigns/{cid}"), 200) == a_view
    assert json_body(bob.req("GET", f"/api/campaigns/{cb['id']}/content/{item_b['id']}"), 200) \
        == item_b


@pytest.mark.parametrize("cid", ["not-a-uuid", "1234", "00000000-0000-0000-0000-00000000000g"])
def test_campaign_non_uuid_path_404(stack, alice, cid):
    c = alice.campaign()
    with Unchanged(stack, alice):
        for verb, path, body in (("GET", f"/api/campaigns/{cid}", None),
                                 ("PATCH", f"/api/campaigns/{cid}", {"name": "x"}),
                                 ("PUT", f"/api/campaigns/{cid}", {"name": "x", "objective": "awareness"}),
                                 ("DELETE", f"/api/campaigns/{cid}", None),
                                 ("GET", f"/api/campaigns/{cid}/content", None),
                                 ("GET", f"/api/campaigns/{c['id']}/content/{cid}", None),
                                 ("DELETE", f"/api/campaigns/{c['id']}/content/{cid}", None)):
            problem(alice.req(verb, path, json=body), 404)


MINIMAL = {"name": "x", "objective": "awareness"}


@pytest.mark.parametrize("verb,path,body", [
    ("GET", "/api/campaigns", None), ("POST", "/api/campaigns", MINIMAL),
    ("GET", "/api/campaigns/stats", None), ("GET", "/api/campaigns/dashboard", None),
    ("GET", "/api/campaigns/{id}", None), ("PUT", "/api/campaigns/{id}", MINIMAL),
    ("PATCH", "/api/campaigns/{id}", {"name": "x"}), ("DELETE", "/api/campaigns/{id}", None),
    ("POST", "/api/campaigns/{id}/content",
     {"contentType": "email", "platform": "email", "contentBody": "x"}),
    ("GET", "/api/campaigns/{id}/content", None),
])
def test_campaign_requires_token(stack, alice, verb, path, body):
    c = alice.campaign()
    with Unchanged(stack, alice):
        problem(stack.api(verb, path.format(id=c["id"]), json=body), 401)


# --- body rules and methods on the new routes ----------------------------

def _body_routes(u):
    c = u.campaign(name="Body rules")
    item = u.content(c["id"])
    return [("POST", "/api/personas"), ("POST", "/api/campaigns"),
            ("PATCH", f"/api/campaigns/{c['id']}"), ("PUT", f"/api/campaigns/{c['id']}"),
            ("POST", f"/api/campaigns/{c['id']}/content"),
            ("PATCH", f"/api/campaigns/{c['id']}/content/{item['id']}")]


@pytest.mark.parametrize("data,ctype,status", [
    (b'{"name": "x", "objective": "awareness", "contentType": "email"', "application/json", 400),
    (b'{"name": "a", "name": "b", "objective": "awareness"}', "application/json", 400),
    (b'{"name": "x", "objective": "awareness"} trailing', "application/json", 400),
    (b'{"name": "\xff", "objective": "awareness"}', "application/json", 400),
    (b'[1, 2]', "application/json", 422),
    (b'{"name": "x", "objective": "awareness"}', "text/plain", 415),
    (b'{"name": "x", "objective": "awareness"}', None, 415),
])
def test_body_rules_on_new_routes(stack, alice, data, ctype, status):
    routes = _body_routes(alice)
    headers = {"Authorization": f"Bearer {alice.token}"}
    if ctype:
        headers["Content-Type"] = ctype
    with Unchanged(stack, alice):
        for verb, path in routes:
            r = stack.api(verb, path, data=data, headers=headers)
            if status == 422:
                # a non-object body: refused as invalid or as malformed
                assert r.status_code in (400, 422), (verb, path, r.status_code, r.text)
                problem(r, r.status_code)
            else:
                problem(r, status)


@pytest.mark.parametrize("verb,path,allow", [
    ("POST", "/api/campaigns/{c}", {"GET", "PUT", "PATCH", "DELETE"}),
    ("PUT", "/api/campaigns", {"GET", "POST"}),
    ("DELETE", "/api/campaigns", {"GET", "POST"}),
    ("POST", "/api/campaigns/stats", {"GET"}),
    ("DELETE", "/api/campaigns/dashboard", {"GET"}),
    ("PUT", "/api/campaigns/{c}/content", {"GET", "POST"}),
    ("PUT", "/api/campaigns/{c}/content/{i}", {"GET", "PATCH", "DELETE"}),
    ("POST", "/api/personas/{p}", {"GET", "PUT", "PATCH", "DELETE"}),
    ("PATCH", "/api/personas", {"GET", "POST"}),
])
def test_method_not_allowed_405(stack, alice, verb, path, allow):
    c = alice.campaign()
    i = alice.content(c["id"])
    p = alice.persona()
    with Unchanged(stack, alice):
        r = alice.req(verb, path.format(c=c["id"], i=i["id"], p=p["id"]), json={"name": "x"})
        problem(r, 405)
        got = {m.strip() for m in r.headers.get("Allow", "").split(",") if m.strip()}
        assert allow <= got, (got, allow)
