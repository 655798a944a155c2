"""contract.py, the check every integration response goes through, on
responses made up here (no stack): what it must let through and what it
must refuse, with the message naming method, path template and status."""

import json

import pytest
import requests

import contract

C = contract.Contract()
UUID = "4a04310f-1d3e-4b26-a1de-e04e0269da70"
PROBLEM = {"type": "about:blank", "title": "Not Found", "status": 404, "detail": "no such campaign"}


def response(method, path, status, body=None, ctype="application/json", headers=None):
    req = requests.Request(method, "http://127.0.0.1:8080" + path, headers=headers or {}).prepare()
    r = requests.Response()
    r.request, r.status_code, r.url = req, status, req.url
    r._content = b"" if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    if body is not None:
        r.headers["Content-Type"] = ctype
    return r


def health(**kw):
    return dict({"status": "ok", "version": "0.1.0", "database": "ok", "uptimeSeconds": 3}, **kw)


@pytest.mark.parametrize("r", [
    response("GET", "/api/health", 200, health()),
    response("GET", f"/api/campaigns/{UUID}", 404, PROBLEM, "application/problem+json"),
    response("GET", "/api/campaigns/not-a-uuid", 404, PROBLEM, "application/problem+json"),
    response("GET", "/api/nothing", 404, PROBLEM, "application/problem+json"),
    response("GET", "/api/auth/login", 405, dict(PROBLEM, status=405, title="Method Not Allowed"),
             "application/problem+json"),
    response("POST", "/api/campaigns", 429, dict(PROBLEM, status=429, title="Too Many Requests"),
             "application/problem+json"),
    response("DELETE", f"/api/campaigns/{UUID}", 204),
    response("OPTIONS", "/api/campaigns", 204,
             headers={"Origin": "http://localhost:5173", "Access-Control-Request-Method": "POST"}),
], ids=lambda r: f"{r.request.method} {r.request.path_url} {r.status_code}")
def test_allowed(r):
    assert C.check(r) is None


@pytest.mark.parametrize("r, expect", [
    (response("GET", "/api/health", 200, health(status="fine")),
     "GET /api/health -> 200: the body does not match /paths/~1api~1health/get/responses/200"
     " (application/json) at $.status: 'fine' is not one of"),
    (response("GET", "/api/health", 200, health(), "text/plain"),
     "GET /api/health -> 200: content type 'text/plain' is not one of ['application/json']"),
    (response("GET", "/api/campaigns/stats", 418, PROBLEM, "application/problem+json"),
     "GET /api/campaigns/stats -> 418: undocumented status"),
    (response("GET", "/api/campaigns/stats", 404, PROBLEM, "application/problem+json"),
     "GET /api/campaigns/stats -> 404: undocumented status"),
    (response("DELETE", f"/api/campaigns/{UUID}", 204, {"x": 1}),
     "DELETE /api/campaigns/{id} -> 204: no body is documented"),
    (response("GET", f"/api/campaigns/{UUID}", 404, PROBLEM, "application/json"),
     "GET /api/campaigns/{id} -> 404: content type 'application/json' is not one of"),
    (response("GET", "/api/nothing", 200, {}),
     "GET /api/nothing -> 200: undocumented path"),
    (response("PUT", "/api/health", 200, health()),
     "PUT /api/health -> 200: method PUT is not documented"),
    (response("GET", "/api/auth/login", 405, {"status": 405}, "application/problem+json"),
     "GET /api/auth/login -> 405: the body does not match"),
], ids=lambda x: x if isinstance(x, str) else f"{x.request.method} {x.request.path_url} {x.status_code}")
def test_refused(r, expect):
    err = C.check(r)
    assert err is not None and expect in err, err


def test_a_violation_fails_the_request_that_made_it(monkeypatch):
    monkeypatch.setattr(contract, "active", True)
    monkeypatch.setattr(contract, "ENABLED", True)
    with pytest.raises(contract.ContractViolation, match=r"GET /api/health -> 200"):
        contract.check_response(response("GET", "/api/health", 200, health(status="fine")))
