"""OWASP API4:2023 Unrestricted Resource Consumption.

Every body route (from src/api/routes.c) refuses bodies over the limit (413)
and nesting beyond the depth limit (400) without losing a process; oversize
lists, strings and batches are 422s; a body of ~100k unknown keys gets a
small 422 (error list capped: issue #8 §1.12, test named *_error_list_capped*);
one generation job per campaign at a time; every paginated list caps
`limit` at 100; oversize URLs and headers are refused by nginx as problems.
"""

import concurrent.futures
import json
import time

import pytest
import requests

from api_inventory import routes_c
from campaign_helpers import User, Unchanged, q, q1
from helpers import assert_json, assert_problem, check_request_id

BODY_ROUTES = [r for r in routes_c() if r.body]
GHOST = "00000000-0000-4000-8000-00000000f00d"
MIB = 1024 * 1024


@pytest.fixture(scope="module")
def user(stack):
    return User(stack, "Greedy")


def concrete(route, ids=None):
    path = route.path
    for p in route.params:
        path = path.replace(f":{p}", (ids or {}).get(p, GHOST), 1)
    return path


def post_raw(stack, route, data, token, headers=None):
    h = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    h.update(headers or {})
    r = requests.request(route.method, stack.url(concrete(route)), data=data, headers=h, timeout=60)
    check_request_id(r)
    return r


@pytest.fixture
def same_processes(stack):
    """The test must not kill (and so restart) any adcraft-api child."""
    before = stack.api_children()
    yield
    assert stack.api_children() == before, "an adcraft-api child died during the test"


@pytest.mark.parametrize("route", BODY_ROUTES, ids=[r.key for r in BODY_ROUTES])
def test_body_over_limit_413(stack, user, route, same_processes):
    big = json.dumps({"name": "x" * (MIB + 10)}).encode()
    with Unchanged(stack, user):
        assert_problem(post_raw(stack, route, big, user.token), 413)
        assert_problem(post_raw(stack, route, b"{" + b" " * (4 * MIB) + b"}", user.token), 413)


@pytest.mark.parametrize("route", BODY_ROUTES, ids=[r.key for r in BODY_ROUTES])
def test_deep_nesting_400(stack, user, route, same_processes):
    with Unchanged(stack, user):
        for depth in (33, 1000, 100000):
            body = '{"name":' + "[" * depth + "]" * depth + "}"
            assert_problem(post_raw(stack, route, body.encode(), user.token), 400)
            body = '{"a":' * depth + "1" + "}" * depth
            assert_problem(post_raw(stack, route, body.encode(), user.token), 400)


def unknown_keys_body(target=MIB - 64):
    parts, size, i = [], 2, 0
    while True:
        entry = f'"{i:x}":0'
        if size + len(entry) + 1 > target:
            break
        parts.append(entry)
        size += len(entry) + 1
        i += 1
    return ("{" + ",".join(parts) + "}").encode(), i


def test_many_unknown_keys_error_list_capped(stack, user, same_processes):
    """issue #8 §1.12: a 1 MiB body of ~100k unknown keys answers a small 422
    (at most 50 errors listed, with the total count), not a 4 MB one."""
    body, n = unknown_keys_body()
    assert len(body) <= MIB and n > 90000, (len(body), n)
    route = next(r for r in BODY_ROUTES if r.key == "POST /api/personas")
    with Unchanged(stack, user):
        t0 = time.monotonic()
        r = post_raw(stack, route, body, user.token)
        elapsed = time.monotonic() - t0
    assert r.status_code == 422, (r.status_code, r.text[:300])
    assert len(r.content) < 64 * 1024, f"422 of {len(r.content)} bytes for {n} unknown keys"
    b = assert_problem(r, 422)
    assert len(b["errors"]) <= 50, len(b["errors"])
    assert str(n + 1) in r.text or str(n) in r.text, \
        f"the 422 does not say how many fields were refused ({n} unknown + name): {r.text[:500]}"
    assert elapsed < 10, elapsed


def test_many_unknown_keys_other_routes_do_not_crash(stack, user, same_processes):
    body, _ = unknown_keys_body(256 * 1024)
    for route in BODY_ROUTES:
        r = post_raw(stack, route, body, user.token)
        assert r.status_code in (401, 404, 422), (route.key, r.status_code, r.text[:200])


# --- oversize lists, strings and batches ------------------------------------------

OVERSIZE = [
    ("POST", "/api/personas", {"name": "x" * 201}, "name"),
    ("POST", "/api/personas", {"name": "x" * 500000}, "name"),
    ("POST", "/api/personas", {"name": "x", "interests": [f"i{i}" for i in range(51)]}, "interests"),
    ("POST", "/api/personas", {"name": "x", "interests": [f"i{i}" for i in range(50000)]}, "interests"),
    ("POST", "/api/personas", {"name": "x", "goals": ["g" * 201]}, "goals[0]"),
    ("POST", "/api/personas", {"name": "x", "description": "d" * 5001}, "description"),
    ("POST", "/api/campaigns", {"name": "c", "objective": "awareness", "keywords": "k" * 501},
     "keywords"),
    ("POST", "/api/campaigns", {"name": "c", "objective": "awareness",
                                "abTests": [{"testName": f"t{i}", "testType": "subject_line"}
                                            for i in range(21)]}, "abTests"),
    ("POST", "/api/campaigns", {"name": "c", "objective": "awareness",
                                "generationSettings": {"variations": 6}},
     "generationSettings.variations"),
    ("POST", "/api/campaigns", {"name": "c", "objective": "awareness",
                                "generationSettings": {"customInstructions": "c" * 100000}},
     "generationSettings.customInstructions"),
    ("POST", "/api/content/batch-generate",
     {"product": "p", "items": [{"contentType": "social_post", "platform": "twitter"}] * 21}, "items"),
    ("POST", "/api/content/batch-generate", {"product": "p", "items": []}, "items"),
    ("POST", "/api/content/generate-variations",
     {"product": "p", "contentType": "social_post", "platform": "twitter", "count": 6}, "count"),
    ("POST", "/api/content/generate-variations",
     {"product": "p", "contentType": "social_post", "platform": "twitter", "count": 1000000}, "count"),
    ("POST", "/api/content/generate-email", {"product": "p", "customInstructions": "c" * 2001},
     "customInstructions"),
    ("POST", "/api/content/generate-email", {"product": "p" * 201}, "product"),
    ("POST", "/api/content/generate-email", {"product": "p", "creativityLevel": 11}, "creativityLevel"),
    ("POST", "/api/contacts", {"email": "a@b.co", "firstName": "x" * 500000}, "firstName"),
    ("POST", "/api/contacts", {"email": "a@b.co", "attributes": {f"k{i}": "v" for i in range(50000)}},
     "attributes"),
    ("POST", "/api/contacts", {"email": "a@b.co", "attributes": {"k": "v" * 100000}}, "attributes.k"),
    ("POST", "/api/lists", {"name": "x" * 201}, "name"),
    ("POST", f"/api/lists/{GHOST}/members", {"contactIds": [GHOST] * 1001}, "contactIds"),
    ("POST", f"/api/campaigns/{GHOST}/ab-tests", {"name": "t", "metric": "open_rate",
                                                  "variants": [{"contentId": GHOST}] * 6}, "variants"),
    ("POST", f"/api/campaigns/{GHOST}/ab-tests", {"name": "t", "metric": "open_rate",
                                                  "variants": [{"contentId": GHOST}] * 10000}, "variants"),
    ("POST", f"/api/campaigns/{GHOST}/ab-tests", {"name": "x" * 100000, "metric": "open_rate",
                                                  "variants": [{"contentId": GHOST}] * 2}, "name"),
    ("POST", f"/api/ab-tests/{GHOST}/winner", {"variant": "A", "reason": "r" * 100000}, "reason"),
]


@pytest.mark.parametrize("method,path,body,field", OVERSIZE,
                         ids=[f"{m} {p} {f}" for m, p, _, f in OVERSIZE])
def test_oversize_values_422(stack, user, method, path, body, field, same_processes):
    with Unchanged(stack, user):
        usage = q1(stack, "SELECT count(*) FROM llm_usage")
        r = user.req(method, path, json=body, timeout=60)
        assert_problem(r, 422, [field])
        assert len(r.content) < 64 * 1024
        assert q1(stack, "SELECT count(*) FROM llm_usage") == usage


@pytest.mark.parametrize("body,field", [
    ({"variations": 6}, "variations"),
    ({"variations": 100000}, "variations"),
    ({"platforms": ["email", "linkedin", "twitter", "facebook", "instagram", "google_ads",
                    "email"]}, "platforms"),
    ({"contentTypes": ["email"] * 4}, "contentTypes"),
    ({"idempotencyKey": "k" * 201}, "idempotencyKey"),
])
def test_generation_job_sizes_422(stack, user, body, field):
    c = user.campaign()
    with Unchanged(stack, user):
        assert_problem(user.req("POST", f"/api/jobs/campaigns/{c['id']}/generate", json=body),
                       422, [field])


def test_batch_at_the_limit_is_served(stack, user, same_processes):
    """Control for the 21-item refusal: 20 items are generated (builtin provider)."""
    r = user.req("POST", "/api/content/batch-generate", timeout=120, json={
        "product": "Planner", "items": [{"contentType": "social_post", "platform": "twitter"}] * 20})
    assert len(assert_json(r, 200)["items"]) == 20


# --- one generation at a time per campaign ---------------------------------------------


def test_concurrent_generation_of_one_campaign_runs_one_job_at_a_time(stack, user):
    """Twelve racing starts: each is a 202 or a 409, and no two of the jobs they
    made were ever unfinished at the same time (the builtin provider is fast,
    so a later start may legitimately follow a finished job)."""
    c = user.campaign()
    path = f"/api/jobs/campaigns/{c['id']}/generate"
    with concurrent.futures.ThreadPoolExecutor(12) as ex:
        rs = list(ex.map(lambda i: user.req("POST", path, json={"idempotencyKey": f"k{i}"}),
                         range(12)))
    codes = sorted(r.status_code for r in rs)
    assert 202 in codes and set(codes) <= {202, 409}, codes
    for r in rs:
        if r.status_code == 409:
            assert_problem(r, 409)
    made = [r.json()["job"]["id"] for r in rs if r.status_code == 202]
    deadline = time.monotonic() + 30
    while q1(stack, "SELECT count(*) FROM jobs WHERE campaign_id = %s AND finished_at IS NULL",
             (c["id"],)) and time.monotonic() < deadline:
        time.sleep(0.05)
    rows = q(stack, "SELECT id::text, created_at, finished_at FROM jobs WHERE campaign_id = %s "
                    "ORDER BY created_at", (c["id"],))
    assert sorted(r[0] for r in rows) == sorted(made), (rows, made)
    for prev, nxt in zip(rows, rows[1:]):
        assert prev[2] is not None and nxt[1] >= prev[2], f"overlapping generation jobs: {rows}"


# --- pagination --------------------------------------------------------------------


def paginated_routes(stack, user):
    """GET routes whose answer has a nextCursor (found by asking each)."""
    c = user.campaign()
    out = []
    for route in routes_c():
        if route.method != "GET":
            continue
        path = concrete(route, {"id": c["id"]})
        r = user.req("GET", path)
        json_answer = r.headers.get("Content-Type", "").startswith("application/json")  # not /api/metrics' text
        if r.status_code == 200 and json_answer and isinstance(r.json(), dict) and "nextCursor" in r.json():
            out.append(path)
    return out


def test_every_paginated_list_caps_limit(stack, user):
    lists = paginated_routes(stack, user)
    assert {"/api/personas", "/api/campaigns", "/api/jobs/user/recent"} <= set(lists), lists
    for path in lists:
        assert_json(user.req("GET", path + "?limit=100"), 200)
        assert_json(user.req("GET", path + "?limit=1"), 200)
        for bad in ("101", "1000000", "99999999999999999999", "0", "-1", "abc", "1e3", "10.5",
                    "", "%00"):
            r = user.req("GET", f"{path}?limit={bad}")
            assert r.status_code in (400, 422), (path, bad, r.status_code, r.text[:200])
            assert_problem(r, r.status_code)
        for cursor in ("x" * 5000, "%00", "AAAA", "eyJhIjoxfQ", "'; DROP TABLE users; --"):
            r = user.req("GET", f"{path}?cursor={cursor}")
            assert r.status_code in (400, 422), (path, cursor, r.status_code, r.text[:200])


def test_default_page_is_20(stack):
    u = User(stack, "Many")
    for i in range(25):
        u.persona(name=f"P{i}")
    page = assert_json(u.req("GET", "/api/personas"), 200)
    assert len(page["items"]) == 20 and page["nextCursor"], len(page["items"])


# --- oversize request lines and headers (nginx) ------------------------------------------


def test_oversize_url_is_a_problem(stack, user):
    r = user.req("GET", "/api/personas?q=" + "a" * 20000)
    assert r.status_code in (400, 414), r.status_code
    assert_problem(r, r.status_code)


def test_oversize_header_is_a_problem(stack, user):
    r = user.req("GET", "/api/personas", headers={"X-Junk": "j" * 20000})
    assert r.status_code in (400, 431), r.status_code
    assert_problem(r, r.status_code)


def test_many_headers_do_not_crash(stack, user, same_processes):
    r = user.req("GET", "/api/personas", headers={f"X-H{i}": "v" for i in range(300)})
    assert r.status_code in (200, 400, 431), r.status_code


@pytest.mark.parametrize("path,staging", [("/api/contacts/import", "contact_imports"),
                                          ("/api/analytics/import", "analytics_imports")])
def test_csv_import_over_20_mib_413(stack, user, same_processes, path, staging):
    """The CSV imports take up to 20 MiB of text/csv (nginx and the app
    agree); one byte more is a 413 problem, and nothing is staged."""
    h = {"Content-Type": "text/csv", "Authorization": f"Bearer {user.token}"}
    body = b"email\n" + b"x" * (20 * MIB - 5)
    with Unchanged(stack, user):
        r = requests.post(stack.url(path), data=body, headers=h, timeout=120)
        check_request_id(r)
        assert_problem(r, 413)
        r = requests.post(stack.url(path), data=b"{" + b" " * (2 * MIB) + b"}",
                          headers=dict(h, **{"Content-Type": "application/json"}), timeout=60)
        assert_problem(r, 415)
    assert q1(stack, f"SELECT count(*) FROM {staging}") == 0
