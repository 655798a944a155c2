"""OWASP API1:2023 Broken Object Level Authorization.

Two users, A and B. A owns a persona, a campaign using it, a content item in
that campaign and a finished generation job. B tries every route of the API
on A's objects: every route with a path parameter (read from src/api/routes.c,
so a new route without a case here fails test_every_route_has_a_case), every
route that takes an object id in its body or query, and every list or summary
route. B must get exactly what B gets for an id that does not exist (404, the
same problem), A's objects must not show up anywhere in B's answers, and
nothing may change in the database.
"""

import datetime
import json
import re
import time

import pytest

from api_inventory import routes_c
from campaign_helpers import User, Unchanged, q, q1, tiny_png
from helpers import assert_json, assert_problem

GHOST = "00000000-0000-4000-8000-00000000dead"
NOW = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

# Bodies for the routes with a path parameter that read a body: valid bodies,
# so a refusal can only come from ownership, not from validation.
PATH_BODIES = {
    "PUT /api/brand-profiles/:id": {"name": "B was here"},
    "PATCH /api/brand-profiles/:id": {"name": "B was here", "forbiddenTerms": ["takeover"]},
    "PUT /api/personas/:id": {"name": "B was here"},
    "PATCH /api/personas/:id": {"name": "B was here", "interests": ["takeover"]},
    "PUT /api/campaigns/:id": {"name": "B was here", "objective": "awareness"},
    "PATCH /api/campaigns/:id": {"name": "B was here", "status": "active"},
    "POST /api/campaigns/:id/content": {"contentType": "social_post", "platform": "twitter",
                                        "contentBody": "B's copy in A's campaign"},
    "PATCH /api/campaigns/:id/content/:contentId": {"contentBody": "B rewrote A's copy"},
    "POST /api/jobs/campaigns/:id/generate": {},
    "POST /api/jobs/campaigns/:id/generate-single": {"contentType": "social_post",
                                                      "platform": "linkedin"},
    "PATCH /api/contacts/:id": {"firstName": "B was here", "status": "subscribed"},
    "PATCH /api/lists/:id": {"name": "B was here"},
    "POST /api/lists/:id/members": {"contactIds": [GHOST]},
    "POST /api/campaigns/:id/sends": {"contentId": GHOST, "listId": GHOST},
    "POST /api/sends/:id/test": {"to": ["b-was-here@example.com"]},
    "POST /api/campaigns/:id/ab-tests": {"name": "B's test", "metric": "open_rate",
                                         "variants": [{"contentId": GHOST}, {"contentId": "00000000-0000-4000-8000-00000000beef"}]},
    "PATCH /api/ab-tests/:id": {"name": "B was here"},
    "POST /api/ab-tests/:id/winner": {"variant": "B", "reason": "B was here"},
}

# Routes whose body or query names another object: (method, path, body) with
# {persona} {campaign} {content} {job} {queue} placeholders for A's ids.
REF_CASES = {
    "POST /api/content/generate-email": [
        ("POST", "/api/content/generate-email", {"campaignId": "{campaign}"}),
        ("POST", "/api/content/generate-email", {"personaId": "{persona}", "product": "x"}),
        ("POST", "/api/content/generate-email", {"campaignId": "{campaign}", "save": True}),
    ],
    "POST /api/content/generate-social": [
        ("POST", "/api/content/generate-social", {"campaignId": "{campaign}", "platform": "linkedin"}),
        ("POST", "/api/content/generate-social", {"personaId": "{persona}", "platform": "twitter",
                                                  "product": "x"}),
        ("POST", "/api/content/generate-social", {"brandProfileId": "{brand}", "platform": "twitter",
                                                  "product": "x"}),
    ],
    "POST /api/content/generate-ad-copy": [
        ("POST", "/api/content/generate-ad-copy", {"campaignId": "{campaign}",
                                                   "platform": "google_ads"}),
        ("POST", "/api/content/generate-ad-copy", {"personaId": "{persona}", "platform": "facebook",
                                                   "product": "x"}),
    ],
    "POST /api/content/generate-variations": [
        ("POST", "/api/content/generate-variations", {"contentId": "{content}",
                                                      "campaignId": "{campaign}", "count": 2}),
        ("POST", "/api/content/generate-variations", {"contentId": "{content}",
                                                      "campaignId": "{campaign}", "count": 2,
                                                      "save": True}),
    ],
    "POST /api/content/batch-generate": [
        ("POST", "/api/content/batch-generate", {"campaignId": "{campaign}", "save": True,
                                                 "items": [{"contentType": "social_post",
                                                            "platform": "linkedin"}]}),
    ],
    # B's own campaign pointing at A's persona
    "POST /api/campaigns": [
        ("POST", "/api/campaigns", {"name": "B", "objective": "awareness",
                                    "personaId": "{persona}"}),
        ("POST", "/api/campaigns", {"name": "B", "objective": "awareness",
                                    "brandProfileId": "{brand}"}),
    ],
    "GET /api/campaigns": [
        ("GET", "/api/campaigns?personaId={persona}", None),
    ],
    "GET /api/contacts": [
        ("GET", "/api/contacts?listId={list}", None),
    ],
    # a str body is sent as text/csv: B importing into A's list
    "POST /api/contacts/import": [
        ("POST", "/api/contacts/import?listId={list}", "email\nb-was-here@example.com\n"),
    ],
    # B's export filtered by A's objects (filters may name only the caller's own)
    "POST /api/exports": [
        ("POST", "/api/exports", {"kind": "content", "format": "csv", "filters": {"campaignId": "{campaign}"}}),
        ("POST", "/api/exports", {"kind": "contacts", "format": "json", "filters": {"listId": "{list}"}}),
        ("POST", "/api/exports", {"kind": "sends", "format": "ndjson", "filters": {"sendId": "{send}"}}),
    ],
    # B's events for A's campaign are refused in place, like events for a campaign nobody has
    "POST /api/analytics/events": [
        ("POST", "/api/analytics/events", {"events": [{"type": "click", "campaignId": "{campaign}",
                                                       "occurredAt": NOW}]}),
    ],
    # B logging out with A's refresh token must not revoke it
    "POST /api/auth/logout": [
        ("POST", "/api/auth/logout", {"refreshToken": "{refresh}"}),
    ],
}

# Routes that name no object of another user; B's answer must not mention A's.
NO_REF_GETS = {
    "GET /api/health", "GET /api/auth/me", "GET /api/personas", "GET /api/brand-profiles", "GET /api/campaigns",
    "GET /api/campaigns/stats", "GET /api/campaigns/dashboard", "GET /api/content/ai-status",
    "GET /api/jobs/health", "GET /api/jobs/queues/status", "GET /api/jobs/user/recent",
    "GET /api/usage", "GET /api/lists", "GET /api/assets", "GET /api/exports",
    "GET /api/analytics/overview",
    "GET /api/metrics",  # counts by route template, model and queue: no object of anyone's
}
# Routes that queue a job reading objects named in an upload: the job refuses
# another user's objects line by line, exactly like missing ones
# (test_imports_naming_other_users_objects_store_nothing).
JOB_REF_CASES = {
    "POST /api/analytics/import": "date,contentId,impressions\n{day},{content},7\n",
}
# Credential routes: they act on what the caller proves it holds (a password, a
# refresh token, its access token for an events cookie, the cookie it clears, the
# webhook key whose HMAC signs the body: test_mail_public covers that one).
CREDENTIAL_ROUTES = {"POST /api/auth/register", "POST /api/auth/login", "POST /api/auth/refresh",
                     "POST /api/events/session", "DELETE /api/events/session", "POST /api/webhooks/email-events"}
# Routes that create an object from a body naming no other object: what they
# create belongs to the caller (test_created_objects_belong_to_the_caller).
OWN_CREATES = {"POST /api/personas": ("/api/personas", {"name": "B's own"}, "personas"),
               "POST /api/brand-profiles": ("/api/brand-profiles", {"name": "B's own"}, "brand_profiles"),
               "POST /api/contacts": ("/api/contacts", {"email": "b-own@example.com"}, "contacts"),
               "POST /api/lists": ("/api/lists", {"name": "B's own"}, "lists")}
# Uploads (no JSON body): what they create belongs to the caller (test_uploads_belong_to_the_caller).
OWN_UPLOADS = {"POST /api/assets"}

# Which of A's objects a path parameter stands for, by the path before it.
PARAM_OBJECT = [
    (r"^/api/personas/:id", "id", "persona"),
    (r"^/api/brand-profiles/:id", "id", "brand"),
    (r"^/api/campaigns/:id", "id", "campaign"),
    (r"^/api/jobs/campaigns/:id", "id", "campaign"),
    (r"^/api/contacts/:id", "id", "contact"),
    (r"^/api/lists/:id", "id", "list"),
    (r"^/api/sends/:id", "id", "send"),
    (r"^/api/assets/:id", "id", "asset"),
    (r"^/api/exports/:id", "id", "export"),
    (r"^/api/ab-tests/:id", "id", "abtest"),
    (r".*", "contactId", "contact"),
    (r".*", "contentId", "content"),
    (r".*", "queue", "queue"),
    (r".*", "jobId", "job"),
]


def object_for(route, param):
    for prefix, name, obj in PARAM_OBJECT:
        if name == param and re.match(prefix, route.path):
            return obj
    raise AssertionError(f"{route}: no idea which object :{param} names; add it to PARAM_OBJECT")


def concrete(route, ids):
    path = route.path
    for p in route.params:
        path = path.replace(f":{p}", ids[object_for(route, p)], 1)
    return path


def fill(template, ids):
    if template is None:
        return None
    if isinstance(template, str):
        for k, v in ids.items():
            template = template.replace("{" + k + "}", v)
        return template
    if isinstance(template, list):
        return [fill(x, ids) for x in template]
    if isinstance(template, dict):
        return {k: fill(v, ids) for k, v in template.items()}
    return template


# --- fixtures -------------------------------------------------------------------


@pytest.fixture(scope="module")
def world(stack):
    """A with one of everything (and a finished job), B with a campaign of B's own."""
    a, b = User(stack, "Alice"), User(stack, "Bob")
    persona = a.persona(interests=["planning"])
    brand = assert_json(a.req("POST", "/api/brand-profiles", json={"name": "A's voice", "forbiddenTerms": ["cheap"]}),
                        201)
    campaign = a.campaign(personaId=persona["id"], brandProfileId=brand["id"])
    item = a.content(campaign["id"])
    r = a.req("POST", f"/api/jobs/campaigns/{campaign['id']}/generate-single",
              json={"contentType": "email", "platform": "email"})
    job = assert_json(r, 202)["job"]
    for _ in range(300):
        j = assert_json(a.req("GET", f"/api/jobs/{job['queue']}/{job['id']}"), 200)
        if j["state"] in ("completed", "failed", "cancelled"):
            break
        time.sleep(0.05)
    assert j["state"] == "completed", j
    for _ in range(100):
        if q1(stack, "SELECT status FROM campaigns WHERE id = %s", (campaign["id"],)) != "generating":
            break
        time.sleep(0.05)
    contact = assert_json(a.req("POST", "/api/contacts", json={"email": "a-contact@example.com"}), 201)
    lst = assert_json(a.req("POST", "/api/lists", json={"name": "A's list"}), 201)
    assert_json(a.req("POST", f"/api/lists/{lst['id']}/members", json={"contactIds": [contact["id"]]}), 200)
    mail = a.content(campaign["id"], contentType="email", platform="email", subjectLine="A's news",
                     contentBody="Hi {{firstName}}, here is what is new at Acme this week.")
    send = assert_json(a.req("POST", f"/api/campaigns/{campaign['id']}/sends",
                             json={"contentId": mail["id"], "listId": lst["id"]}), 201)
    abtest = assert_json(a.req("POST", f"/api/campaigns/{campaign['id']}/ab-tests",
                               json={"name": "A's test", "metric": "open_rate",
                                     "variants": [{"contentId": item["id"]}, {"contentId": mail["id"]}]}), 201)
    asset = a.asset()
    export = assert_json(a.req("POST", "/api/exports", json={"kind": "campaigns", "format": "csv"}), 202)
    for _ in range(300):
        export = assert_json(a.req("GET", f"/api/exports/{export['id']}"), 200)
        if export["status"] in ("ready", "failed"):
            break
        time.sleep(0.05)
    assert export["status"] == "ready", export
    ids = {"persona": persona["id"], "campaign": campaign["id"], "content": item["id"],
           "job": job["id"], "queue": job["queue"], "refresh": a.refresh, "user": a.id, "brand": brand["id"],
           "contact": contact["id"], "list": lst["id"], "send": send["id"], "asset": asset["id"], "export": export["id"], "abtest": abtest["id"],
           "download": export["downloadUrl"]}
    ghost = dict(ids, persona=GHOST, campaign=GHOST, content=GHOST, job=GHOST, brand=GHOST,
                 contact=GHOST, list=GHOST, send=GHOST, asset=GHOST, export=GHOST, abtest=GHOST, refresh="r" * 43)
    return a, b, ids, ghost


def a_state(stack, a_id):
    """Everything of A's outside personas/campaigns (which Unchanged covers)."""
    return (q(stack, "SELECT to_jsonb(j) FROM jobs j WHERE user_id = %s ORDER BY id", (a_id,)),
            q(stack, "SELECT to_jsonb(t) FROM refresh_tokens t WHERE user_id = %s ORDER BY id",
              (a_id,)),
            q(stack, "SELECT to_jsonb(u) FROM users u WHERE id = %s", (a_id,)),
            q(stack, "SELECT to_jsonb(b) FROM brand_profiles b WHERE user_id = %s ORDER BY id", (a_id,)),
            q(stack, "SELECT to_jsonb(c) FROM contacts c WHERE user_id = %s ORDER BY id", (a_id,)),
            q(stack, "SELECT to_jsonb(l) FROM lists l WHERE user_id = %s ORDER BY id", (a_id,)),
            q(stack, "SELECT to_jsonb(m) FROM list_members m WHERE user_id = %s ORDER BY list_id, contact_id",
              (a_id,)),
            q(stack, "SELECT to_jsonb(s) FROM sends s WHERE user_id = %s ORDER BY id", (a_id,)),
            q(stack, "SELECT to_jsonb(x) FROM assets x WHERE user_id = %s ORDER BY id", (a_id,)),
            q(stack, "SELECT to_jsonb(e) FROM exports e WHERE user_id = %s ORDER BY id", (a_id,)),
            q(stack, "SELECT to_jsonb(t) FROM ab_tests t WHERE user_id = %s ORDER BY id", (a_id,)),
            q1(stack, "SELECT count(*) FROM send_recipients"),
            q1(stack, "SELECT count(*) FROM contact_imports"),
            q1(stack, "SELECT count(*) FROM analytics_events WHERE user_id = %s", (a_id,)),
            q1(stack, "SELECT count(*) FROM llm_usage"),
            q1(stack, "SELECT count(*) FROM refresh_tokens"))


def same_refusal(r_a, r_ghost, ids, ghost):
    """B's answer on A's object is the answer on a missing object, ids aside."""
    assert r_a.status_code == r_ghost.status_code, (r_a.status_code, r_a.text, r_ghost.text)
    ba, bg = r_a.json(), r_ghost.json()
    for k in ("type", "title", "status"):
        assert ba.get(k) == bg.get(k), (ba, bg)
    da, dg = ba.get("detail", ""), bg.get("detail", "")
    for k in ("persona", "campaign", "content", "job", "brand", "contact", "list", "asset"):
        da, dg = da.replace(ids[k], "<id>"), dg.replace(ghost[k], "<id>")
    assert da == dg, (ba, bg)
    assert ba.get("errors") == bg.get("errors") or \
        [e["field"] for e in ba.get("errors", [])] == [e["field"] for e in bg.get("errors", [])], \
        (ba, bg)


# --- the route table is covered ----------------------------------------------------


def test_every_route_has_a_case():
    missing = []
    for route in routes_c():
        if route.params:
            for p in route.params:
                object_for(route, p)
            if route.body and route.key not in PATH_BODIES:
                missing.append(f"{route}: path route with a body but no PATH_BODIES entry")
        elif not any(route.key in s for s in (REF_CASES, NO_REF_GETS, CREDENTIAL_ROUTES,
                                              OWN_CREATES, OWN_UPLOADS, JOB_REF_CASES)):
            missing.append(f"{route}: not in REF_CASES, NO_REF_GETS, CREDENTIAL_ROUTES, "
                           "OWN_CREATES, OWN_UPLOADS or JOB_REF_CASES")
    stale = (set(PATH_BODIES) | set(REF_CASES) | NO_REF_GETS | CREDENTIAL_ROUTES |
             set(OWN_CREATES) | OWN_UPLOADS | set(JOB_REF_CASES)) - \
        {r.key for r in routes_c()}
    assert not missing, "routes without an object-authorization case:\n" + "\n".join(missing)
    assert not stale, f"cases for routes that no longer exist: {stale}"


# --- B on A's objects ----------------------------------------------------------------


PATH_ROUTES = [r for r in routes_c() if r.params]


@pytest.mark.parametrize("route", PATH_ROUTES, ids=[r.key for r in PATH_ROUTES])
def test_path_route_on_other_users_object_is_404(stack, world, route):
    a, b, ids, ghost = world
    body = PATH_BODIES.get(route.key) if route.body else None
    before = a_state(stack, a.id)
    with Unchanged(stack, a, b):
        r = b.req(route.method, concrete(route, ids), json=body)
        assert_problem(r, 404)
        # indistinguishable from an id that exists for nobody
        r_ghost = b.req(route.method, concrete(route, ghost), json=body)
        assert_problem(r_ghost, 404)
        same_refusal(r, r_ghost, ids, ghost)
    assert a_state(stack, a.id) == before
    for k in ("persona", "campaign", "content", "job", "brand", "contact", "list", "asset"):
        assert ids[k] not in r.text, r.text


@pytest.mark.parametrize("route", [r for r in PATH_ROUTES if len(r.params) == 2],
                         ids=[r.key for r in PATH_ROUTES if len(r.params) == 2])
def test_other_users_child_under_own_parent_is_404(stack, world, route):
    """A's content item (or job) reached through B's own campaign (or a queue)."""
    a, b, ids, ghost = world
    own = b.campaign()
    mixed = dict(ids, campaign=own["id"])
    body = PATH_BODIES.get(route.key) if route.body else None
    if "queue" in route.params:
        mixed = dict(ids, queue="email-sending")
    with Unchanged(stack, a, b):
        assert_problem(b.req(route.method, concrete(route, mixed), json=body), 404)


@pytest.mark.parametrize("key", sorted(REF_CASES))
def test_body_or_query_reference_to_other_users_object(stack, world, key):
    a, b, ids, ghost = world
    before = a_state(stack, a.id)
    with Unchanged(stack, a, b):
        for method, path, body in REF_CASES[key]:
            if isinstance(body, str):
                kw = {"data": body.encode(), "headers": {"Content-Type": "text/csv"}}
                r = b.req(method, fill(path, ids), timeout=60, **kw)
                r_ghost = b.req(method, fill(path, ghost), timeout=60, **kw)
            else:
                r = b.req(method, fill(path, ids), json=fill(body, ids), timeout=60)
                r_ghost = b.req(method, fill(path, ghost), json=fill(body, ghost), timeout=60)
            if method == "GET":
                # a filter by A's id finds nothing, exactly like a filter by a missing id
                assert assert_json(r, 200) == assert_json(r_ghost, 200)
                assert assert_json(r, 200)["items"] == []
            elif key == "POST /api/auth/logout":
                assert r.status_code == r_ghost.status_code, (r.text, r_ghost.text)
            else:
                assert r.status_code in (404, 422), (method, path, body, r.status_code, r.text)
                assert_problem(r, r.status_code)
                same_refusal(r, r_ghost, ids, ghost)
            for k in ("persona", "campaign", "content", "job", "brand", "contact", "list"):
                assert ids[k] not in r.text or r.status_code == 422 and \
                    ids[k] not in r.json().get("detail", ""), r.text
    assert a_state(stack, a.id) == before
    # A's refresh token still works after B's logout attempt (checked last: it rotates)
    if key == "POST /api/auth/logout":
        r = a.stack.api("POST", "/api/auth/refresh", json={"refreshToken": a.refresh})
        body = assert_json(r, 200)
        a.refresh, ids["refresh"] = body["refreshToken"], body["refreshToken"]


@pytest.mark.parametrize("key", sorted(JOB_REF_CASES))
def test_imports_naming_other_users_objects_store_nothing(stack, world, key):
    a, b, ids, ghost = world
    method, path = key.split(" ", 1)
    day = NOW[:10]
    results = []
    for which in (ids, ghost):
        before = a_state(stack, a.id)
        body = JOB_REF_CASES[key].replace("{day}", day).replace("{content}", which["content"])
        r = b.req(method, path, data=body.encode(), headers={"Content-Type": "text/csv"})
        job = assert_json(r, 202)["job"]
        for _ in range(400):
            j = assert_json(b.req("GET", f"/api/jobs/{job['queue']}/{job['id']}"), 200)
            if j["state"] in ("completed", "failed"):
                break
            time.sleep(0.05)
        assert j["state"] == "completed", j
        results.append(j["result"])
        assert a_state(stack, a.id) == before
    assert results[0] == results[1], results
    assert results[0]["events"] == 0 and results[0]["skipped"][0]["line"] == 2, results
    assert ids["content"] not in json.dumps(results[0])


@pytest.mark.parametrize("key", sorted(NO_REF_GETS))
def test_lists_and_summaries_show_nothing_of_other_users(stack, world, key):
    a, b, ids, _ = world
    path = key.split(" ", 1)[1]
    with Unchanged(stack, a, b):
        for suffix in ("", "?limit=100"):
            if suffix and path not in ("/api/personas", "/api/campaigns", "/api/jobs/user/recent", "/api/contacts",
                                       "/api/lists", "/api/assets"):
                continue
            r = b.req("GET", path + suffix)
            assert r.status_code == 200, (key, r.status_code, r.text)
            for k in ("persona", "campaign", "content", "job", "user", "brand", "contact", "list", "asset"):
                assert ids[k] not in r.text, f"{key} shows A's {k} {ids[k]} to B: {r.text[:800]}"


@pytest.mark.parametrize("key", sorted(OWN_CREATES))
def test_created_objects_belong_to_the_caller(stack, world, key):
    a, b, _, _ = world
    path, body, table = OWN_CREATES[key]
    created = assert_json(b.req("POST", path, json=body), 201)
    assert q1(stack, f"SELECT user_id::text FROM {table} WHERE id = %s", (created["id"],)) == b.id
    assert_problem(a.req("GET", f"{path}/{created['id']}"), 404)


@pytest.mark.parametrize("key", sorted(OWN_UPLOADS))
def test_uploads_belong_to_the_caller(stack, world, key):
    a, b, ids, _ = world
    created = assert_json(b.req("POST", "/api/assets", data=tiny_png(), headers={"Content-Type": "image/png"}), 201)
    assert created["id"] != ids["asset"]  # the same bytes as A's: B gets an asset of B's own
    assert q1(stack, "SELECT user_id::text FROM assets WHERE id = %s", (created["id"],)) == b.id
    assert_problem(a.req("GET", f"/api/assets/{created['id']}"), 404)


def test_lists_show_a_its_own_objects(stack, world):
    """The negative checks above mean something: the same routes show A's ids to A."""
    a, _, ids, _ = world
    assert ids["persona"] in a.req("GET", "/api/personas?limit=100").text
    assert ids["brand"] in a.req("GET", "/api/brand-profiles?limit=100").text
    assert ids["campaign"] in a.req("GET", "/api/campaigns?limit=100").text
    assert ids["job"] in a.req("GET", "/api/jobs/user/recent?limit=100").text
    assert ids["contact"] in a.req("GET", "/api/contacts?limit=100").text
    assert ids["list"] in a.req("GET", "/api/lists?limit=100").text
    assert ids["asset"] in a.req("GET", "/api/assets?limit=100").text
    for route in PATH_ROUTES:
        if route.method == "GET" and not route.public:
            assert_json(a.req("GET", concrete(route, ids)), 200)
    # the one public path route, a download, needs its signed link (test_exports covers it)
    assert a.stack.api("GET", ids["download"]).status_code == 200


def test_stats_count_only_own_objects(stack, world):
    """B's totals are B's: a user with nothing sees zeros while A has content."""
    a, _, _, _ = world
    c = User(stack, "Carol")
    stats = assert_json(c.req("GET", "/api/campaigns/stats"), 200)
    assert stats["total"] == 0 and stats["content"]["total"] == 0, stats
    assert assert_json(a.req("GET", "/api/campaigns/stats"), 200)["total"] >= 1
    recent = assert_json(c.req("GET", "/api/jobs/user/recent"), 200)
    assert recent["items"] == [], recent


@pytest.mark.parametrize("bad", ["not-a-uuid", "1", GHOST.upper(), "%2e%2e", "' OR '1'='1"])
def test_malformed_ids_are_404_not_500(stack, world, bad):
    _, b, ids, _ = world
    for route in PATH_ROUTES:
        path = concrete(route, dict(ids, persona=bad, campaign=bad, content=bad, job=bad, contact=bad, list=bad,
                                    asset=bad))
        body = PATH_BODIES.get(route.key) if route.body else None
        r = b.req(route.method, path, json=body)
        assert r.status_code in (400, 404), (route.key, path, r.status_code, r.text)
        assert_problem(r, r.status_code)
