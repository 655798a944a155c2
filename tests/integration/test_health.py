"""GET /api/health through nginx."""

from helpers import assert_json, check_request_id


def test_health_200(stack):
    r = stack.api("GET", "/api/health")
    b = assert_json(r, 200)
    assert set(b) >= {"status", "version", "database", "uptimeSeconds"}, b
    assert isinstance(b["status"], str) and b["status"], b
    assert isinstance(b["version"], str) and b["version"], b
    assert isinstance(b["database"], str) and b["database"], b
    assert isinstance(b["uptimeSeconds"], (int, float)) and b["uptimeSeconds"] >= 0, b
    assert not isinstance(b["uptimeSeconds"], bool)


def test_health_needs_no_token_and_ignores_a_bad_one(stack):
    r = stack.api("GET", "/api/health", headers={"Authorization": "Bearer garbage"})
    assert_json(r, 200)


def test_health_not_cached(stack):
    r = stack.api("GET", "/api/health")
    check_request_id(r)
    cc = r.headers.get("Cache-Control", "")
    assert "max-age=" not in cc or "max-age=0" in cc, cc


def test_head_health(stack):
    r = stack.api("HEAD", "/api/health")
    assert r.status_code in (200, 405), r.status_code
