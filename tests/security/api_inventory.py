"""The API's route table, read from the two places that define it: the
dispatch table in src/api/routes.c and the paths of docs/openapi.yaml.

The abuse tests are driven from these lists, so a route added to routes.c
without a case in the tests (or without an entry in the OpenAPI file) makes
them fail instead of going untested.
"""

import os
import re

from helpers import SOURCE_DIR

ROUTES_C = os.path.join(SOURCE_DIR, "src", "api", "routes.c")
OPENAPI = os.path.join(SOURCE_DIR, "docs", "openapi.yaml")

_ROUTE_RE = re.compile(r'^\s*\{\s*"([A-Z]+)"\s*,\s*"([^"]+)"\s*,\s*(\w+)\s*,\s*([^}]*)\}', re.M)
_HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


class Route:
    def __init__(self, method, path, handler="", flags=""):
        self.method, self.path, self.handler = method, path, handler
        self.flags = {f.strip() for f in flags.split("|") if f.strip() and f.strip() != "0"}

    @property
    def key(self):
        return f"{self.method} {self.path}"

    @property
    def params(self):
        return re.findall(r":(\w+)", self.path)

    @property
    def public(self):
        return "PUBLIC" in self.flags

    @property
    def body(self):
        return bool({"BODY", "BODY_OPT"} & self.flags)

    def __repr__(self):
        return self.key


def routes_c(internal=False):
    """Every route of the dispatch table clients reach through nginx's /api/,
    in table order, as Route objects with :name parameters. With internal,
    every route: also the ROUTE_INTERNAL ones nginx alone calls (its /events/
    auth_request subrequest), which no client can reach, and the public links
    of sent email outside /api/ (/u/, /t/: HTML pages, a GIF and redirects
    keyed by signed tokens, tested in tests/integration/test_mail_public.py),
    which the JSON API's abuse cases do not fit."""
    with open(ROUTES_C) as f:
        text = f.read()
    table = text[text.index("api_routes[]"):]
    routes = [Route(*m.groups()) for m in _ROUTE_RE.finditer(table)]
    assert len(routes) >= 30, f"parsed only {len(routes)} routes from {ROUTES_C}"
    return [r for r in routes if internal or ("ROUTE_INTERNAL" not in r.flags and r.path.startswith("/api/"))]


def openapi_operations():
    """{"METHOD /path/:param"} for every operation under `paths:` in the
    OpenAPI file. Parsed by indentation (two spaces per level) rather than with
    a YAML library, so the suite needs nothing beyond Debian's pytest."""
    ops = set()
    in_paths, path = False, None
    with open(OPENAPI) as f:
        for line in f:
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            indent = len(line) - len(line.lstrip(" "))
            if indent == 0:
                in_paths = line.startswith("paths:")
                path = None
                continue
            if not in_paths:
                continue
            m = re.match(r"^  (/[^:\s]*):\s*$", line)
            if m:
                path = re.sub(r"\{(\w+)\}", r":\1", m.group(1))
                continue
            m = re.match(r"^    ([a-z]+):\s*$", line)
            if path and m and m.group(1) in _HTTP_METHODS:
                ops.add(f"{m.group(1).upper()} {path}")
    assert len(ops) >= 30, f"parsed only {len(ops)} operations from {OPENAPI}"
    return ops
