"""Routing through nginx: unknown paths 404 problem+json, wrong methods 405 with Allow."""

import json
import time

import pytest

from helpers import assert_problem


@pytest.mark.parametrize("path", [
    "/api/nope", "/api/auth", "/api/auth/", "/api/auth/registerx", "/api/auth/me/extra",
    "/api/health/x", "/api/", "/api", "/api/auth/ME", "/api/health%2Fx",
])
def test_unknown_path_404(stack, path):
    assert_problem(stack.api("GET", path), 404)


def test_unknown_path_404_with_token_and_body(stack):
    _, access, _ = stack.register_user()
    assert_problem(stack.api("POST", "/api/definitely/not/here", json={"a": 1}, token=access), 404)


def allow_set(r):
    return {m.strip().upper() for m in r.headers.get("Allow", "").split(",") if m.strip()}


@pytest.mark.parametrize("method,path,allowed", [
    ("GET", "/api/auth/register", {"POST"}),
    ("PUT", "/api/auth/login", {"POST"}),
    ("DELETE", "/api/auth/refresh", {"POST"}),
    ("GET", "/api/auth/logout", {"POST"}),
    ("POST", "/api/auth/me", {"GET"}),
    ("DELETE", "/api/auth/me", {"GET"}),
    ("POST", "/api/health", {"GET"}),
    ("PATCH", "/api/health", {"GET"}),
])
def test_wrong_method_405_with_allow(stack, method, path, allowed):
    r = stack.api(method, path, json={} if method in ("POST", "PUT", "PATCH") else None)
    assert_problem(r, 405)
    got = allow_set(r)
    assert got, f"405 without Allow header: {dict(r.headers)}"
    assert allowed <= got, got
    assert not ({"POST", "PUT", "PATCH", "DELETE"} - allowed) & got, got


def test_405_wins_over_auth(stack):
    """A wrong method on an authenticated route is 405, not 401."""
    assert_problem(stack.api("PUT", "/api/auth/me"), 405)


def test_query_string_does_not_change_route(stack):
    r = stack.api("GET", "/api/health?x=1&y=%20")
    assert r.status_code == 200, r.text


def test_request_ids_are_unique(stack):
    ids = {stack.api("GET", "/api/health").headers["X-Request-Id"] for _ in range(20)}
    assert len(ids) == 20


def test_client_request_id_is_not_trusted_blindly(stack):
    """The id is nginx's $request_id, so a client cannot inject its own."""
    r = stack.api("GET", "/api/health", headers={"X-Request-Id": "client-chosen-id"})
    assert r.headers["X-Request-Id"] != "client-chosen-id"


def test_security_headers_on_success_and_error(stack):
    for r in (stack.api("GET", "/api/health"), stack.api("GET", "/api/nope")):
        assert r.headers.get("X-Content-Type-Options", "").lower() == "nosniff", dict(r.headers)
        server = r.headers.get("Server", "")
        assert not any(ch.isdigit() for ch in server), f"server_tokens not off: {server!r}"


def test_nginx_400_is_problem_json(stack):
    """An error nginx raises itself (NUL in the path) is problem+json with a request id."""
    assert_problem(stack.api("GET", "/api/%00"), 400)


def test_request_is_logged_with_its_id(stack):
    """One JSON log line per request on adcraft-api's stderr, keyed by the request id."""
    r = stack.api("GET", "/api/nope?secret=1")
    rid = r.headers["X-Request-Id"]
    deadline = time.monotonic() + 5
    line = None
    while line is None and time.monotonic() < deadline:
        for raw in stack.read_file("log/api.log").decode("utf-8", "replace").splitlines():
            if rid in raw:
                line = raw
                break
        else:
            time.sleep(0.1)
    assert line, f"request {rid} not in log/api.log"
    entry = json.loads(line)
    assert entry.get("status") == 404, entry
    assert entry.get("method") == "GET", entry
    assert entry.get("path", "").startswith("/api/nope"), entry
    assert "time" in entry, entry
