"""The route table (src/api/routes.c) and docs/openapi.yaml's paths agree
both ways: every (method, path template) adcraft-api routes is an operation
of the document, and every operation of the document is a route.

The table is read from the C source: each entry begins
`{ "METHOD", "/path/:param", ...`; a `:name` parameter is OpenAPI's `{name}`.
Internal routes (ROUTE_INTERNAL: nginx's authorization subrequest on the
loopback listener) are documented too, marked internal in their summary.
No stack: it starts no server.
"""

import os
import re

import yaml

from helpers import SOURCE_DIR

ROUTES_C = os.path.join(SOURCE_DIR, "src", "api", "routes.c")
OPENAPI = os.path.join(SOURCE_DIR, "docs", "openapi.yaml")
ENTRY_RE = re.compile(r'^\s*\{\s*"([A-Z]+)"\s*,\s*"(/[^"]*)"\s*,\s*\w+\s*,\s*([^}]*)\}', re.M)
METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")


def route_table():
    """{(METHOD, template)} of routes.c: all of them, and the internal ones."""
    with open(ROUTES_C) as f:
        src = re.sub(r"/\*.*?\*/", "", f.read(), flags=re.S)
    routes, internal = set(), set()
    for method, path, flags in ENTRY_RE.findall(src):
        template = re.sub(r":([A-Za-z_][A-Za-z0-9_]*)", r"{\1}", path)
        routes.add((method, template))
        if "ROUTE_INTERNAL" in flags:
            internal.add((method, template))
    return routes, internal


def openapi_operations():
    with open(OPENAPI, "rb") as f:
        doc = yaml.load(f, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    return {(m.upper(), path) for path, item in doc["paths"].items() for m in item if m in METHODS}


def fmt(ops):
    return "\n".join(f"  {m} {p}" for p, m in sorted((p, m) for m, p in ops))


def test_route_table_parses():
    routes, internal = route_table()
    with open(ROUTES_C) as f:
        entries = len(re.findall(r'^\s*\{\s*"[A-Z]+"', f.read(), re.M))
    # a format change in routes.c must not make the comparison vacuous
    assert entries >= 90 and len(routes) == entries, \
        f"{len(routes)} of {entries} route entries parsed from {ROUTES_C}: has the table's format changed?"
    assert ("GET", "/api/health") in routes
    assert ("GET", "/_adcraft/events/auth") in internal


def test_every_route_is_documented():
    routes, _ = route_table()
    missing = routes - openapi_operations()
    assert not missing, ("routes in src/api/routes.c that docs/openapi.yaml does not document:\n"
                         + fmt(missing))


def test_every_documented_operation_is_routed():
    routes, _ = route_table()
    extra = openapi_operations() - routes
    assert not extra, ("operations in docs/openapi.yaml that src/api/routes.c does not route:\n"
                       + fmt(extra))


def test_internal_routes_say_so():
    _, internal = route_table()
    with open(OPENAPI, "rb") as f:
        doc = yaml.load(f, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    for method, path in internal:
        summary = doc["paths"][path][method.lower()].get("summary", "")
        assert "(internal)" in summary, f"{method} {path} is ROUTE_INTERNAL: its summary must say (internal)"
