"""CORS (cors_origins): ./dev allows http://localhost:5173 and
http://127.0.0.1:5173, exactly those.

- A preflight (OPTIONS with Origin and Access-Control-Request-Method) from a
  listed origin to any /api/ path: 204 with Allow-Origin (that origin),
  Allow-Methods, Allow-Headers, Max-Age and Vary: Origin.
- From any other origin: 403 problem+json without CORS headers.
- Actual responses to a listed origin, errors included (the app's and
  nginx's own), carry Allow-Origin and Expose-Headers; credentials are
  allowed on no route today (only cookie routes, none yet).
- With cors_origins empty nothing is allowed.
"""

import pytest

from helpers import RELAXED_LIMITS, Stack, assert_json, assert_problem

ALLOWED = ["http://localhost:5173", "http://127.0.0.1:5173"]
NOT_ALLOWED = ["http://evil.example", "http://localhost:5174", "https://localhost:5173",
               "http://LOCALHOST:5173", "http://localhost:5173/", "null",
               "http://localhost:5173.evil.example"]
EXPOSED = {"x-request-id", "retry-after", "location"}


@pytest.fixture(scope="module")
def stack():
    with Stack.start(RELAXED_LIMITS) as s:
        yield s


def cors_headers(r):
    return {k: v for k, v in r.headers.items() if k.lower().startswith("access-control-")}


def csv_set(value):
    return {x.strip().lower() for x in (value or "").split(",") if x.strip()}


def preflight(stack, path, origin, method="POST",
              headers="authorization, content-type, idempotency-key"):
    return stack.api("OPTIONS", path, headers={
        "Origin": origin, "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": headers})


def assert_actual_cors(r, origin):
    assert r.headers.get("Access-Control-Allow-Origin") == origin, dict(r.headers)
    assert csv_set(r.headers.get("Access-Control-Expose-Headers")) >= EXPOSED, dict(r.headers)
    assert "Access-Control-Allow-Credentials" not in r.headers, dict(r.headers)


@pytest.mark.parametrize("origin", ALLOWED)
@pytest.mark.parametrize("path,method", [
    ("/api/campaigns", "POST"), ("/api/campaigns", "GET"),
    ("/api/personas/8a6e0804-2bd0-4672-b79d-d97027f9071b", "DELETE"),
    ("/api/auth/login", "POST"), ("/api/health", "GET"),
    ("/api/no/such/path", "PUT"), ("/api/campaigns", "PATCH"),
])
def test_preflight_from_listed_origin_204(stack, origin, path, method):
    r = preflight(stack, path, origin, method)
    assert r.status_code == 204, (r.status_code, r.text)
    assert r.content == b""
    assert r.headers.get("Access-Control-Allow-Origin") == origin, dict(r.headers)
    assert csv_set(r.headers.get("Access-Control-Allow-Methods")) >= \
        {"get", "post", "put", "patch", "delete"}, dict(r.headers)
    assert csv_set(r.headers.get("Access-Control-Allow-Headers")) >= \
        {"authorization", "content-type", "idempotency-key"}, dict(r.headers)
    max_age = r.headers.get("Access-Control-Max-Age", "")
    assert max_age.isdigit() and int(max_age) > 0, dict(r.headers)
    assert "origin" in csv_set(r.headers.get("Vary")), dict(r.headers)
    assert "Access-Control-Allow-Credentials" not in r.headers, dict(r.headers)
    assert r.headers.get("X-Content-Type-Options") == "nosniff", dict(r.headers)


@pytest.mark.parametrize("origin", NOT_ALLOWED)
def test_preflight_from_other_origin_403_without_cors(stack, origin):
    r = preflight(stack, "/api/campaigns", origin)
    assert_problem(r, 403)
    assert not cors_headers(r), cors_headers(r)


def test_options_without_preflight_headers_is_routed(stack):
    """A plain OPTIONS (no Access-Control-Request-Method) is not a preflight:
    405 with Allow, as for any method no route has."""
    r = stack.api("OPTIONS", "/api/health", headers={"Origin": ALLOWED[0]})
    assert_problem(r, 405)
    assert "GET" in r.headers.get("Allow", ""), dict(r.headers)
    assert_actual_cors(r, ALLOWED[0])


@pytest.mark.parametrize("origin", ALLOWED)
def test_actual_success_responses_carry_cors(stack, origin):
    r = stack.api("GET", "/api/health", headers={"Origin": origin})
    assert_json(r, 200)
    assert_actual_cors(r, origin)
    assert "origin" in csv_set(r.headers.get("Vary")), dict(r.headers)
    user, access, _ = stack.register_user()
    r = stack.api("POST", "/api/campaigns", token=access, headers={"Origin": origin},
                  json={"name": "cors", "objective": "awareness"})
    assert_json(r, 201)
    assert_actual_cors(r, origin)


def test_app_errors_carry_cors(stack):
    origin = ALLOWED[0]
    h = {"Origin": origin}
    _, access, _ = stack.register_user()
    cases = [
        (stack.api("GET", "/api/auth/me", headers=h), 401),
        (stack.api("GET", "/api/nope", headers=h), 404),
        (stack.api("DELETE", "/api/health", headers=h), 405),
        (stack.api("POST", "/api/campaigns", token=access, headers=h, json={"name": ""}), 422),
        (stack.api("POST", "/api/campaigns", token=access, headers={**h, "Content-Type": "text/plain"},
                   data=b"{}"), 415),
        (stack.api("POST", "/api/campaigns", token=access, headers={**h, "Content-Type": "application/json"},
                   data=b"{"), 400),
    ]
    for r, status in cases:
        assert_problem(r, status)
        assert_actual_cors(r, origin)


def test_nginx_errors_carry_cors(stack):
    origin = ALLOWED[1]
    h = {"Origin": origin}
    _, access, _ = stack.register_user()
    cases = [
        (stack.api("GET", "/", headers=h), 404),
        (stack.api("GET", "/events/x", headers=h), 404),
        (stack.api("TRACE", "/api/campaigns", headers=h), 405),
        (stack.api("POST", "/api/campaigns", token=access, headers={**h, "Content-Type": "application/json"},
                   data=b"x" * (1024 * 1024 + 10)), 413),
    ]
    for r, status in cases:
        assert_problem(r, status)
        assert_actual_cors(r, origin)
    # A request line too long to parse (414) or malformed (400) is answered
    # before nginx reads any header, Origin included: no CORS there.


@pytest.mark.parametrize("origin", NOT_ALLOWED)
def test_other_origins_get_no_cors_headers(stack, origin):
    h = {"Origin": origin}
    for r in (stack.api("GET", "/api/health", headers=h), stack.api("GET", "/api/nope", headers=h),
              stack.api("GET", "/", headers=h), stack.api("TRACE", "/api/health", headers=h)):
        assert not cors_headers(r), (r.status_code, cors_headers(r))


def test_no_origin_no_cors_headers(stack):
    for r in (stack.api("GET", "/api/health"), stack.api("GET", "/api/nope"), stack.api("GET", "/")):
        assert not cors_headers(r), cors_headers(r)


def test_no_route_allows_credentials(stack):
    """Credentials only where a cookie is used (ROUTE_CREDENTIALS); no route
    reads a cookie yet, so no answer allows them."""
    _, access, _ = stack.register_user()
    for method, path in (("POST", "/api/auth/login"), ("POST", "/api/auth/refresh"), ("GET", "/api/auth/me"),
                         ("GET", "/api/campaigns"), ("GET", "/api/events/session")):
        r = preflight(stack, path, ALLOWED[0], method)
        assert r.status_code == 204 and "Access-Control-Allow-Credentials" not in r.headers, dict(r.headers)
        r = stack.api(method, path, token=access, headers={"Origin": ALLOWED[0]},
                      json={} if method == "POST" else None)
        assert "Access-Control-Allow-Credentials" not in r.headers, dict(r.headers)


def test_cors_off_when_no_origins_are_listed():
    env = dict(RELAXED_LIMITS, ADCRAFT_DEV_CORS_ORIGINS="")
    with Stack.start(env) as s:
        r = preflight(s, "/api/campaigns", ALLOWED[0])
        assert_problem(r, 403)
        assert not cors_headers(r)
        for r in (s.api("GET", "/api/health", headers={"Origin": ALLOWED[0]}),
                  s.api("GET", "/", headers={"Origin": ALLOWED[0]})):
            assert not cors_headers(r), cors_headers(r)
            assert "Vary" not in r.headers or "origin" not in csv_set(r.headers.get("Vary"))
