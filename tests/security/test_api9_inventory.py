"""OWASP API9:2023 Improper Inventory Management.

No route answers that docs/openapi.yaml does not list:
- the dispatch table (src/api/routes.c) and the OpenAPI paths agree, method
  and path, both ways;
- every documented operation is routed (never the router's 404 or a 405);
- every method a documented path does not list is a 405 whose Allow is the
  documented set;
- plausible undocumented paths (admin, debug, versions, users, docs, files,
  dot segments, case and slash variants) answer 404/405/400, never 2xx.
"""

import http.client
import posixpath
import re
import uuid
from urllib.parse import unquote

import pytest

from api_inventory import openapi_operations, routes_c

GHOST = "00000000-0000-4000-8000-00000000abcd"
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
ROUTER_404 = "no such resource"  # dispatch.c's answer when no route matches


def client_operations():
    """The documented operations clients can call (not nginx's internal /_adcraft/ ones)."""
    return {op for op in openapi_operations() if not op.split(" ", 1)[1].startswith("/_adcraft/")}


def documented_paths():
    paths = {}
    for op in client_operations():
        method, path = op.split(" ", 1)
        paths.setdefault(path, set()).add(method)
    return paths


def concrete(path):
    return re.sub(r":(\w+)", lambda m: "content-generation" if m.group(1) == "queue" else GHOST, path)


def raw(stack, method, path, token=None, body=None):
    """http.client sends the path exactly as given (no dot-segment removal)."""
    conn = http.client.HTTPConnection("127.0.0.1", stack.port, timeout=30)
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        conn.request(method, path, body=body, headers=headers)
        r = conn.getresponse()
        return r.status, dict(r.getheaders()), r.read().decode("utf-8", "replace")
    finally:
        conn.close()


@pytest.fixture(scope="module")
def token(stack):
    return stack.register_user()[1]


def test_routes_c_and_openapi_agree():
    code = {r.key for r in routes_c(internal=True)}
    spec = openapi_operations()
    assert not code - spec, f"routed but not documented in docs/openapi.yaml: {sorted(code - spec)}"
    assert not spec - code, f"documented but not routed in src/api/routes.c: {sorted(spec - code)}"


def test_openapi_parse_matches_yaml_library_when_available():
    """The hand parser of api_inventory reads what a YAML parser reads."""
    yaml = pytest.importorskip("yaml")
    from api_inventory import OPENAPI
    with open(OPENAPI) as f:
        doc = yaml.safe_load(f)
    ops = {f"{m.upper()} " + re.sub(r"\{(\w+)\}", r":\1", p)
           for p, item in doc["paths"].items() for m in item
           if m in ("get", "put", "post", "delete", "patch", "options", "head", "trace")}
    assert ops == openapi_operations()


@pytest.mark.parametrize("op", sorted(client_operations()))
def test_every_documented_operation_is_routed(stack, token, op):
    method, path = op.split(" ", 1)
    status, headers, text = raw(stack, method, concrete(path), token, "{}")
    assert status != 405, (op, status, text[:200])
    assert not (status == 404 and ROUTER_404 in text), f"{op} is documented but not routed"
    assert status < 500, (op, status, text[:200])


@pytest.mark.parametrize("path,methods", sorted(documented_paths().items()),
                         ids=sorted(documented_paths()))
def test_undocumented_methods_are_405(stack, token, path, methods):
    for method in METHODS:
        if method in methods:
            continue
        status, headers, text = raw(stack, method, concrete(path), token, "{}")
        assert status == 405, (method, path, status, text[:200])
        allow = {m.strip() for m in headers.get("Allow", "").split(",") if m.strip()}
        assert allow - {"HEAD", "OPTIONS"} == methods, (method, path, headers.get("Allow"), methods)


UNDOCUMENTED = [
    "/api/admin", "/api/admin/", "/api/debug", "/api/debug/vars", "/api/status", "/api/info",
    "/api/version", "/api/users", f"/api/users/{GHOST}", "/api/user", "/api/me",
    "/api/v1/personas", "/api/v2/campaigns", "/api/v0/health", "/v1/api/personas",
    "/api/openapi.yaml", "/api/openapi.json", "/api/swagger.json", "/api/docs", "/api/graphql",
    "/api/.git/config", "/api/.env", "/api/config", "/api/server-status", "/api/nginx_status",
    "/api/personas/", "/api/campaigns/", "/api/health/", "/api//personas", "/api/Personas",
    "/API/personas", "/api/personas.json", "/api/personas;jsessionid=1",
    f"/api/campaigns/{GHOST}/..", f"/api/campaigns/{GHOST}/../..", "/api/campaigns/%2e%2e",
    f"/api/campaigns/{GHOST}/%2e%2e/%2e%2e", f"/api/campaigns/{GHOST}/content/{GHOST}/extra",
    f"/api/campaigns/{GHOST}/abTests", f"/api/campaigns/{GHOST}/stats", f"/api/personas/{GHOST}/campaigns",
    "/api/jobs", "/api/jobs/content-generation", f"/api/jobs/content-generation/{GHOST}/retry",
    f"/api/jobs/content-generation/{GHOST}/cancel/now", "/api/content", "/api/content/generate",
    "/api/content/templates", "/api/auth", "/api/auth/", "/api/auth/reset-password",
    "/api/auth/forgot-password", "/api/auth/verify", "/api/auth/users", "/api/auth/token",
    "/api/events", "/api/metrics/../health/..", "/api/%2e%2e/etc/passwd",
]


@pytest.mark.parametrize("path", UNDOCUMENTED)
def test_undocumented_paths_never_answer(stack, token, path):
    documented = {concrete(p) for p in documented_paths()}
    for method in METHODS:
        status, headers, text = raw(stack, method, path, token, "{}")
        assert status in (400, 404, 405), (method, path, status, text[:200])
        inside = posixpath.normpath(unquote(path.split(";")[0])).startswith("/api/")
        if inside:  # what nginx answers outside /api/ is test_api8's business
            assert headers.get("Content-Type", "").startswith("application/problem+json"), \
                (method, path, status, headers.get("Content-Type"), text[:200])
        if status == 405 and inside:
            # only a documented path (after normalisation) may answer 405
            assert any(d.rstrip("/") == path.rstrip("/") for d in documented), (method, path)


def test_unknown_api_path_is_the_routers_404(stack, token):
    for path in ("/api/" + uuid.uuid4().hex, "/api/personas/" + GHOST + "/x"):
        status, _, text = raw(stack, "GET", path, token)
        assert status == 404 and ROUTER_404 in text, (path, status, text)


# --- operator-only routes ----------------------------------------------------------

# Routes documented for the operator and answered only to loopback clients (or
# an operator token): from anywhere else they must look like no route at all.
OPERATOR_ONLY = {"GET /api/metrics"}


def test_operator_only_routes_are_documented_and_hidden_from_outside(stack):
    from test_edge import edge_secret, fcgi_request, params_for, unix_socket
    assert OPERATOR_ONLY <= openapi_operations()
    for op in sorted(OPERATOR_ONLY):
        method, path = op.split(" ", 1)
        outside = fcgi_request(unix_socket(stack), params_for(
            method, path, ADCRAFT_EDGE_SECRET=edge_secret(stack), REMOTE_ADDR="198.51.100.20"))
        assert outside.status == 404 and ROUTER_404 in outside.body.decode(), (op, outside.status)
        inside = fcgi_request(unix_socket(stack), params_for(
            method, path, ADCRAFT_EDGE_SECRET=edge_secret(stack), REMOTE_ADDR="127.0.0.1"))
        assert inside.status == 200, (op, inside.status)
