"""OWASP API3:2023 Broken Object Property Level Authorization.

Mass assignment: every route of src/api/routes.c that reads a body refuses
each server-owned property (ids, owner, timestamps, scores, job bookkeeping,
versions, roles...) with a 422 naming exactly that field, at the top level
and inside nested objects, and nothing changes in the database. A new body
route without a case here fails test_every_body_route_has_a_case.

Excessive exposure: no response carries a server-internal property
(password hashes, token hashes, another user's id, lock holders, worker
pids/hosts...).
"""

import datetime
import time
import uuid

import pytest

from api_inventory import routes_c
from campaign_helpers import User, Unchanged, q, q1
from helpers import PASSWORD, assert_json, assert_problem, unique_email

NOW = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

# Properties only the server may set. Each is sent with a plausible value.
INTERNAL = {
    "id": lambda ctx: str(uuid.uuid4()),
    "userId": lambda ctx: ctx["other_user"],
    "user_id": lambda ctx: ctx["other_user"],
    "ownerId": lambda ctx: ctx["other_user"],
    "owner": lambda ctx: ctx["other_user"],
    "createdAt": lambda ctx: "2001-01-01T00:00:00Z",
    "updatedAt": lambda ctx: "2001-01-01T00:00:00Z",
    "qualityScore": lambda ctx: 100,
    "qualityBreakdown": lambda ctx: {"total": 100},
    "metadata": lambda ctx: {"generatedBy": "ai", "model": "gpt-9"},
    "jobId": lambda ctx: str(uuid.uuid4()),
    "version": lambda ctx: 99,
    "role": lambda ctx: "admin",
    "isAdmin": lambda ctx: True,
    "passwordHash": lambda ctx: "$argon2id$v=19$m=65536,t=3,p=4$AAAA$AAAA",
    "lockedBy": lambda ctx: "evil:1:abc",
    "attempts": lambda ctx: 0,
    "priority": lambda ctx: -1000,
    "maxAttempts": lambda ctx: 1000,
    "state": lambda ctx: "completed",
    "content": lambda ctx: [],
    "__proto__": lambda ctx: {"isAdmin": True},
}

def brand_body():
    return {"name": "B", "readingLevel": {"maxGrade": 8},
            "preferredTerms": [{"term": "customers", "replaces": ["clients"]}],
            "requiredDisclaimers": [{"text": "Terms apply."}]}


# A valid body for every body route (so the only fault is the added field),
# and where nested objects can smuggle properties: (path to a dict in the body).
BODIES = {
    "POST /api/auth/register": lambda c: {"email": unique_email("mass"), "password": PASSWORD,
                                          "name": "Mass"},
    "POST /api/auth/login": lambda c: {"email": c["email"], "password": PASSWORD},
    "POST /api/auth/refresh": lambda c: {"refreshToken": c["refresh"]},
    "POST /api/auth/logout": lambda c: {"refreshToken": c["refresh"]},
    "POST /api/personas": lambda c: {"name": "P"},
    "PUT /api/personas/:id": lambda c: {"name": "P"},
    "PATCH /api/personas/:id": lambda c: {"name": "P"},
    "POST /api/brand-profiles": lambda c: brand_body(),
    "PUT /api/brand-profiles/:id": lambda c: brand_body(),
    "PATCH /api/brand-profiles/:id": lambda c: brand_body(),
    "POST /api/campaigns": lambda c: {"name": "C", "objective": "awareness",
                                      "generationSettings": {"variations": 1}},
    "PUT /api/campaigns/:id": lambda c: {"name": "C", "objective": "awareness",
                                         "generationSettings": {"variations": 1}},
    "PATCH /api/campaigns/:id": lambda c: {"name": "C", "generationSettings": {"variations": 1}},
    "POST /api/campaigns/:id/content": lambda c: {"contentType": "social_post", "platform": "twitter",
                                                  "contentBody": "Plan less, do more."},
    "PATCH /api/campaigns/:id/content/:contentId": lambda c: {"contentBody": "Plan less."},
    "POST /api/content/generate-email": lambda c: {"product": "Planner"},
    "POST /api/content/generate-social": lambda c: {"product": "Planner", "platform": "twitter"},
    "POST /api/content/generate-ad-copy": lambda c: {"product": "Planner", "platform": "facebook"},
    "POST /api/content/generate-variations": lambda c: {"product": "Planner", "contentType": "social_post",
                                                        "platform": "twitter", "count": 2},
    "POST /api/content/batch-generate": lambda c: {"product": "Planner", "items": [
        {"contentType": "social_post", "platform": "twitter"}]},
    "POST /api/jobs/campaigns/:id/generate": lambda c: {"contentTypes": ["email"], "platforms": ["email"]},
    "POST /api/jobs/campaigns/:id/generate-single": lambda c: {"contentType": "email", "platform": "email"},
    "POST /api/contacts": lambda c: {"email": unique_email("mass"), "attributes": {"plan": "pro"}},
    "PATCH /api/contacts/:id": lambda c: {"firstName": "Ann", "attributes": {"plan": "pro"}},
    "POST /api/lists": lambda c: {"name": "L"},
    "PATCH /api/lists/:id": lambda c: {"name": "L"},
    "POST /api/lists/:id/members": lambda c: {"contactIds": [c["contact"]]},
    "POST /api/campaigns/:id/sends": lambda c: {"contentId": c["mail"], "listId": c["list"]},
    "POST /api/sends/:id/test": lambda c: {"to": ["qa@example.com"]},
    "POST /api/exports": lambda c: {"kind": "content", "format": "csv", "filters": {"campaignId": c["campaign"]}},
    "POST /api/analytics/events": lambda c: {"events": [{"type": "impression", "campaignId": c["campaign"],
                                                        "occurredAt": NOW}]},
    "POST /api/campaigns/:id/ab-tests": lambda c: {"name": "T", "metric": "open_rate",
                                                   "variants": [{"contentId": c["content"]}, {"contentId": c["mail"]}]},
    "PATCH /api/ab-tests/:id": lambda c: {"name": "T", "variants": [{"contentId": c["content"]},
                                                                     {"contentId": c["mail"], "weight": 2}]},
    "POST /api/ab-tests/:id/winner": lambda c: {"variant": "A", "reason": "chosen"},
}
NESTED = {
    "POST /api/brand-profiles": [("readingLevel",), ("preferredTerms", 0), ("requiredDisclaimers", 0)],
    "PUT /api/brand-profiles/:id": [("readingLevel",), ("preferredTerms", 0), ("requiredDisclaimers", 0)],
    "PATCH /api/brand-profiles/:id": [("readingLevel",), ("preferredTerms", 0), ("requiredDisclaimers", 0)],
    "POST /api/campaigns": [("generationSettings",)],
    "PUT /api/campaigns/:id": [("generationSettings",)],
    "PATCH /api/campaigns/:id": [("generationSettings",)],
    "POST /api/content/batch-generate": [("items", 0)],
    "POST /api/exports": [("filters",)],
    "POST /api/campaigns/:id/ab-tests": [("variants", 0)],
    "PATCH /api/ab-tests/:id": [("variants", 1)],
}
# Fields a route legitimately accepts although they are in INTERNAL.
ACCEPTED = {}

# Routes whose caller signs the body (HMAC) instead of holding a bearer token:
# their mass-assignment cases (unknown properties are 422, with the signature
# right) are in tests/integration/test_mail_public.py.
SIGNED = {"POST /api/webhooks/email-events"}

BODY_ROUTES = [r for r in routes_c() if r.body and r.key not in SIGNED]


@pytest.fixture(scope="module")
def ctx(stack):
    a, other = User(stack, "Alice"), User(stack, "Mallory")
    persona = a.persona()
    campaign = a.campaign(personaId=persona["id"])
    item = a.content(campaign["id"])
    brand = assert_json(a.req("POST", "/api/brand-profiles", json={"name": "Voice"}), 201)
    contact = assert_json(a.req("POST", "/api/contacts", json={"email": unique_email("contact")}), 201)
    lst = assert_json(a.req("POST", "/api/lists", json={"name": "List"}), 201)
    mail = a.content(campaign["id"], contentType="email", platform="email", subjectLine="News",
                     contentBody="Hi {{firstName}}, here is what is new this week.")
    send = assert_json(a.req("POST", f"/api/campaigns/{campaign['id']}/sends",
                             json={"contentId": mail["id"], "listId": lst["id"]}), 201)
    abtest = assert_json(a.req("POST", f"/api/campaigns/{campaign['id']}/ab-tests",
                               json={"name": "T", "metric": "click_rate",
                                     "variants": [{"contentId": item["id"]}, {"contentId": mail["id"]}]}), 201)
    asset = a.asset(rgb=(20, 130, 60))
    export = assert_json(a.req("POST", "/api/exports", json={"kind": "campaigns", "format": "json"}), 202)
    return {"a": a, "other": other, "other_user": other.id, "email": a.email, "refresh": a.refresh,
            "persona": persona["id"], "campaign": campaign["id"], "content": item["id"], "brand": brand["id"],
            "contact": contact["id"], "list": lst["id"], "mail": mail["id"], "send": send["id"],
            "abtest": abtest["id"], "asset": asset["id"], "export": export["id"]}


def concrete(route, c):
    path = route.path.replace(":contentId", c["content"]).replace(":contactId", c["contact"])
    if path.startswith("/api/contacts/"):
        return path.replace(":id", c["contact"])
    if path.startswith("/api/lists/"):
        return path.replace(":id", c["list"])
    if path.startswith("/api/personas/"):
        return path.replace(":id", c["persona"])
    if path.startswith("/api/brand-profiles/"):
        return path.replace(":id", c["brand"])
    if path.startswith("/api/sends/"):
        return path.replace(":id", c["send"])
    if path.startswith("/api/ab-tests/"):
        return path.replace(":id", c["abtest"])
    return path.replace(":id", c["campaign"])


def totals(stack):
    return q(stack, """SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM refresh_tokens),
                              (SELECT count(*) FROM refresh_tokens WHERE revoked_at IS NOT NULL),
                              (SELECT count(*) FROM llm_usage), (SELECT count(*) FROM jobs)""")


def test_every_body_route_has_a_case():
    keys = {r.key for r in BODY_ROUTES}
    assert not keys - set(BODIES), f"body routes without a mass-assignment case: {keys - set(BODIES)}"
    assert not set(BODIES) - keys, f"cases for routes that are gone: {set(BODIES) - keys}"


def test_base_bodies_are_accepted(stack, ctx):
    """Control: each base body alone passes validation (no 422), so the 422s
    below are about the added field."""
    a = ctx["a"]
    for route in BODY_ROUTES:
        if route.key in ("POST /api/auth/refresh", "POST /api/auth/logout"):
            continue  # they would spend the refresh token the other cases use
        r = a.req(route.method, concrete(route, ctx), json=BODIES[route.key](ctx), timeout=60)
        assert r.status_code < 400 or r.status_code == 409, (route.key, r.status_code, r.text[:300])
        if route.key.startswith("POST /api/jobs/"):
            job = r.json()["job"]
            for _ in range(200):
                if a.req("GET", f"/api/jobs/{job['queue']}/{job['id']}").json()["state"] in \
                        ("completed", "failed", "cancelled"):
                    break
                time.sleep(0.05)
            for _ in range(100):
                if q1(stack, "SELECT status FROM campaigns WHERE id = %s", (ctx["campaign"],)) \
                        != "generating":
                    break
                time.sleep(0.05)


def with_field(body, where, name, value):
    target = body
    for step in where:
        target = target[step]
    target[name] = value
    out = ""
    for step in where + (name,):
        out += f"[{step}]" if isinstance(step, int) else (f".{step}" if out else step)
    return out


CASES = [(r, f) for r in BODY_ROUTES for f in sorted(INTERNAL)]


@pytest.mark.parametrize("route,field", CASES, ids=[f"{r.key} {f}" for r, f in CASES])
def test_internal_property_refused(stack, ctx, route, field):
    a = ctx["a"]
    for where in [()] + NESTED.get(route.key, []):
        body = BODIES[route.key](ctx)
        name = with_field(body, where, field, INTERNAL[field](ctx))
        if name in ACCEPTED.get(route.key, set()):
            continue
        before = totals(stack)
        with Unchanged(stack, a, ctx["other"]):
            r = a.req(route.method, concrete(route, ctx), json=body, timeout=60)
            assert_problem(r, 422, [name])
            fields = {e["field"] for e in r.json()["errors"]}
            assert fields == {name}, (route.key, name, r.json())
        assert totals(stack) == before, (route.key, name)


@pytest.mark.parametrize("status", ["generating", "completed", "active"])
def test_create_cannot_choose_a_later_status(stack, ctx, status):
    a = ctx["a"]
    with Unchanged(stack, a):
        r = a.req("POST", "/api/campaigns", json={"name": "C", "objective": "awareness",
                                                  "status": status})
        assert r.status_code in (409, 422), (status, r.status_code, r.text)
        assert_problem(r, r.status_code, ["status"] if r.status_code == 422 else None)


@pytest.mark.parametrize("verb", ["PATCH", "PUT"])
def test_clients_cannot_set_generating_or_skip_states(stack, ctx, verb):
    a = ctx["a"]
    fresh = a.campaign()
    base = {"name": fresh["name"], "objective": "awareness"} if verb == "PUT" else {}
    with Unchanged(stack, a):
        for status in ("generating", "completed"):  # draft -> completed is not allowed either
            r = a.req(verb, f"/api/campaigns/{fresh['id']}", json=dict(base, status=status))
            assert_problem(r, 409)


def test_content_item_owner_fields_not_writable_through_generation(stack, ctx):
    """The batch answer is generated by the server: metadata/scores in the
    request items are refused, not copied into what is saved."""
    a = ctx["a"]
    with Unchanged(stack, a):
        r = a.req("POST", "/api/content/batch-generate", json={
            "campaignId": ctx["campaign"], "save": True,
            "items": [{"contentType": "social_post", "platform": "twitter",
                       "metadata": {"generatedBy": "manual"}, "qualityScore": 100}]})
        assert_problem(r, 422, ["items[0].metadata", "items[0].qualityScore"])


# --- responses carry no internal properties ------------------------------------------

SECRET_KEYS = {"password", "passwordHash", "password_hash", "hash", "tokenHash", "token_hash",
               "refreshTokenHash", "familyId", "family_id", "user_id", "lockedBy", "locked_by",
               "lockedAt", "locked_at", "workerPid", "worker_pid", "heartbeatAt", "payload",
               "idempotencyKey", "idempotency_key", "secret", "apiKey", "api_key"}


def walk(obj, path=""):
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield f"{path}.{k}", k, v
            yield from walk(v, f"{path}.{k}")
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from walk(v, f"{path}[{i}]")


def no_internal(body, own_id, where):
    for path, key, value in walk(body):
        assert key not in SECRET_KEYS, f"{where}: internal property {path} = {value!r}"
        if key in ("userId", "ownerId"):
            assert value in (own_id, None), f"{where}: {path} is another user's id {value!r}"
        if isinstance(value, str):
            assert not value.startswith("$argon2"), f"{where}: {path} is a password hash"


def test_no_internal_properties_in_any_get(stack, ctx):
    """Every GET route of routes.c (jobs health/queue status aside: API5)
    answered for a user who owns one of everything, with a finished job."""
    a = ctx["a"]
    r = a.req("POST", f"/api/jobs/campaigns/{ctx['campaign']}/generate-single",
              json={"contentType": "social_post", "platform": "linkedin"})
    if r.status_code == 202:
        job = r.json()["job"]
    else:  # a generation from test_base_bodies_are_accepted is still running
        job = assert_json(a.req("GET", "/api/jobs/user/recent"), 200)["items"][0]
    for _ in range(300):
        job = assert_json(a.req("GET", f"/api/jobs/{job['queue']}/{job['id']}"), 200)
        if job["state"] in ("completed", "failed", "cancelled"):
            break
        time.sleep(0.05)
    ids = {"id": ctx["campaign"], "contentId": ctx["content"], "queue": job["queue"],
           "jobId": job["id"]}
    seen = 0
    for route in routes_c():
        if route.method != "GET" or route.path in ("/api/jobs/health", "/api/jobs/queues/status"):
            continue
        if route.path == "/api/metrics":
            continue  # Prometheus text for the operator, not JSON (test_api9, test_metrics.py)
        path = route.path
        if path.startswith("/api/personas/"):
            path = path.replace(":id", ctx["persona"])
        if path.startswith("/api/brand-profiles/"):
            path = path.replace(":id", ctx["brand"])
        if path.startswith("/api/contacts/"):
            path = path.replace(":id", ctx["contact"])
        if path.startswith("/api/lists/"):
            path = path.replace(":id", ctx["list"])
        if path.startswith("/api/sends/"):
            path = path.replace(":id", ctx["send"])
        if path.startswith("/api/assets/"):
            path = path.replace(":id", ctx["asset"])
        if path == "/api/exports/:id/download":
            continue  # a file behind a signed link, not JSON (test_exports checks it)
        if path.startswith("/api/exports/"):
            path = path.replace(":id", ctx["export"])
        if path.startswith("/api/ab-tests/"):
            path = path.replace(":id", ctx["abtest"])
        for p in route.params:
            path = path.replace(f":{p}", ids[p])
        r = a.req("GET", path)
        assert r.status_code == 200, (route.key, r.status_code, r.text[:300])
        no_internal(r.json(), a.id, route.key)
        seen += 1
    assert seen >= 12, seen


def test_no_internal_properties_in_write_answers(stack):
    """What register/login/refresh and the creating routes send back."""
    email = unique_email("expose")
    r = stack.api("POST", "/api/auth/register", json={"email": email, "password": PASSWORD,
                                                      "name": "E"})
    body = assert_json(r, 201)
    no_internal(body, body["user"]["id"], "register")
    uid = body["user"]["id"]
    body = assert_json(stack.api("POST", "/api/auth/login",
                                 json={"email": email, "password": PASSWORD}), 200)
    no_internal(body, uid, "login")
    body = assert_json(stack.api("POST", "/api/auth/refresh",
                                 json={"refreshToken": body["refreshToken"]}), 200)
    no_internal(body, uid, "refresh")
    tok = body["accessToken"]
    p = assert_json(stack.api("POST", "/api/personas", json={"name": "P"}, token=tok), 201)
    no_internal(p, uid, "create persona")
    c = assert_json(stack.api("POST", "/api/campaigns", token=tok,
                              json={"name": "C", "objective": "awareness", "personaId": p["id"]}), 201)
    no_internal(c, uid, "create campaign")
    item = assert_json(stack.api("POST", f"/api/campaigns/{c['id']}/content", token=tok, json={
        "contentType": "email", "platform": "email", "subjectLine": "Hi",
        "contentBody": "Plan less, do more."}), 201)
    no_internal(item, uid, "add content")
    g = assert_json(stack.api("POST", "/api/content/generate-email", token=tok,
                              json={"campaignId": c["id"], "save": True}, timeout=60), 201)
    no_internal(g, uid, "generate-email")
    j = assert_json(stack.api("POST", f"/api/jobs/campaigns/{c['id']}/generate-single", token=tok,
                              json={"contentType": "email", "platform": "email"}), 202)
    no_internal(j, uid, "generate-single")
