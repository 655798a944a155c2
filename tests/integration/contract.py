"""The API contract, checked on every response: docs/openapi.yaml against what
the integration tests' HTTP client (helpers.Stack.api) receives.

check(response) finds the operation (method + path template) the request
was for and answers None when the response is one the document allows, or a
message naming method, path template, status and what does not match:

- a documented status: its content type must be one the response lists (no
  body when it lists none), and a JSON body must validate against the
  schema (jsonschema, draft 2020-12 as OpenAPI 3.1 uses it, with formats);
- the statuses docs/openapi.yaml's introduction states for every route
  instead of per operation ("Conventions that hold for every route"): 404 for
  an unknown path (or a path parameter that is not a UUID), 405 for a known
  path with another method, OPTIONS preflights (204, or 403 for an origin
  not listed), 500, and nginx's own 400, 413, 414, 429, 501, 503 and 505;
  each must be application/problem+json matching the Problem schema;
- anything else is an undocumented status.

Paths outside the document's reach (/events/, /media/, /demo/: nginx and
nchan, docs/events.md and docs/media.md) are checked only when their answer
is a problem+json error. The check is on unless ADCRAFT_CONTRACT=0 (used
once to measure what it costs).
"""

import functools
import hashlib
import json
import os
import re
import threading
import time
from urllib.parse import urlsplit

import jsonschema
import yaml

SOURCE_DIR = os.environ.get("ADCRAFT_SOURCE_DIR") or os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OPENAPI = os.path.join(SOURCE_DIR, "docs", "openapi.yaml")
BUILD_DIR = os.environ.get("ADCRAFT_BUILD_DIR") or os.path.join(SOURCE_DIR, "build")
# the parsed document as JSON, keyed by the YAML's hash: json loads it in a
# tenth of the time YAML takes, once per test file
CACHE = os.path.join(BUILD_DIR, "openapi-contract.json")

ENABLED = os.environ.get("ADCRAFT_CONTRACT", "1") != "0"
METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
# Stated once in the introduction of docs/openapi.yaml, not per operation.
NGINX_STATUSES = {400, 413, 414, 429, 501, 503, 505}
PROBLEM_TYPE = "application/problem+json"
# Served by nginx/nchan, documented outside the OpenAPI document.
OUTSIDE_PREFIXES = ("/events/", "/media/", "/demo/")
# nginx's internal locations (error pages, the events authorization, export
# files): a client asking for them directly gets nginx's 404.
INTERNAL_PREFIX = "/_adcraft/"


class ContractViolation(AssertionError):
    pass


class Contract:
    def __init__(self, path=OPENAPI):
        self.doc = load_document(path)
        self.resolver = jsonschema.RefResolver.from_schema(self.doc)
        self.templates = []  # (regex, template, literal segment count)
        for template in self.doc["paths"]:
            parts = template.strip("/").split("/")
            rx = "/".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts)
            literal = sum(1 for p in parts if not p.startswith("{"))
            self.templates.append((re.compile("^/" + rx + "$"), template, literal))
        # literal segments first: /api/campaigns/stats before /api/campaigns/{id}
        self.templates.sort(key=lambda t: -t[2])
        self.format_checker = jsonschema.Draft202012Validator.FORMAT_CHECKER

    def deref(self, obj):
        while isinstance(obj, dict) and "$ref" in obj:
            _, obj = self.resolver.resolve(obj["$ref"])
        return obj

    def template_for(self, path):
        for rx, template, _ in self.templates:
            if rx.match(path):
                return template
        return None

    @functools.lru_cache(maxsize=None)
    def validator(self, pointer):
        """A validator for the schema at this JSON pointer of the document."""
        _, schema = self.resolver.resolve("#" + pointer)
        return jsonschema.Draft202012Validator(schema, resolver=self.resolver,
                                               format_checker=self.format_checker)

    def problem_error(self, r):
        return self.body_error(r, "the Problem schema", PROBLEM_TYPE, "/components/schemas/Problem")

    def body_error(self, r, where, ctype, schema_pointer):
        """None if r's body (of type ctype) validates against the schema at
        schema_pointer. A HEAD response has no body: its type is all there is."""
        if not ctype.endswith("json") or ctype == "application/x-ndjson" or r.request.method == "HEAD":
            return None
        try:
            body = json.loads(r.content)
        except ValueError as e:
            return f"the body is not JSON ({e}): {r.text[:200]!r}"
        v = self.validator(schema_pointer)
        err = jsonschema.exceptions.best_match(v.iter_errors(body))
        if err is None:
            return None
        at = "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in err.absolute_path)
        schema_at = "/".join(str(p) for p in err.absolute_schema_path)
        return (f"the body does not match {where} ({ctype}) at {at}: {err.message} "
                f"[schema {schema_pointer}/{schema_at}]")

    def response_error(self, r, pointer, response):
        """None if r matches the response object (at JSON pointer `pointer`)."""
        if "$ref" in response:
            pointer = response["$ref"][1:]
            response = self.deref(response)
        ctype = r.headers.get("Content-Type", "").split(";")[0].strip().lower()
        content = response.get("content") or {}
        if not content:
            if r.content and r.request.method != "HEAD":
                return f"no body is documented, got {len(r.content)} bytes of {ctype or 'no type'}"
            return None
        # A documented type with parameters (text/plain; version=0.0.4; ...) must be sent with them.
        keys = {k.split(";")[0].strip().lower(): k for k in content}
        key = keys.get(ctype)
        full = ";".join(p.strip() for p in r.headers.get("Content-Type", "").lower().split(";"))
        if key is None or (";" in key and ";".join(p.strip() for p in key.lower().split(";")) != full):
            return f"content type {r.headers.get('Content-Type') or '(none)'!r} is not one of {sorted(content)}"
        media = content[key]
        if "schema" not in media:
            return None
        schema_pointer = f"{pointer}/content/{escape(key)}/schema"
        if "$ref" in media["schema"]:
            schema_pointer = media["schema"]["$ref"][1:]
        return self.body_error(r, pointer, ctype, schema_pointer)

    def generic_error(self, r, reason):
        """Statuses the introduction states for every route: problem+json only."""
        ctype = r.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if ctype != PROBLEM_TYPE:
            return f"{reason}: content type {ctype or '(none)'!r}, not {PROBLEM_TYPE}"
        return self.problem_error(r)

    def check(self, r):
        """None, or what about this response the document does not allow."""
        method = r.request.method.upper()
        path = urlsplit(r.request.url).path
        status = r.status_code
        template = None if path.startswith(INTERNAL_PREFIX) else self.template_for(path)
        what = f"{method} {template or path} -> {status}"
        err = self._check(r, method, path, template, status)
        return None if err is None else f"contract (docs/openapi.yaml): {what}: {err}"

    def _check(self, r, method, path, template, status):
        if method == "OPTIONS" and r.request.headers.get("Origin") \
                and r.request.headers.get("Access-Control-Request-Method"):
            if status == 204:
                return None if not r.content else "a preflight's 204 has a body"
            if status == 403:
                return self.generic_error(r, "refused preflight")
        if method == "TRACE" and status == 405:
            return self.generic_error(r, "TRACE")
        if template is None:
            if path.startswith(OUTSIDE_PREFIXES) and status < 400:
                return None
            if status in NGINX_STATUSES | {404, 500} or path.startswith(OUTSIDE_PREFIXES):
                return self.generic_error(r, "unknown path")
            return "undocumented path (only 404 and the statuses every route may answer)"
        item = self.doc["paths"][template]
        op = item.get(method.lower())
        if op is None:
            if status == 405:
                return self.generic_error(r, "method not served")
            if status in NGINX_STATUSES | {500} or (status == 404 and "{" in template):
                return self.generic_error(r, "method not served")
            return f"method {method} is not documented for {template} (only 405 and the statuses every route may answer)"
        responses = op.get("responses", {})
        key = str(status)
        pointer = f"/paths/{escape(template)}/{method.lower()}/responses"
        if key in responses:
            return self.response_error(r, f"{pointer}/{key}", responses[key])
        range_key = f"{status // 100}XX"
        if range_key in responses:
            return self.response_error(r, f"{pointer}/{range_key}", responses[range_key])
        if status in NGINX_STATUSES | {500} or (status == 404 and "{" in template):
            return self.generic_error(r, "a status every route may answer")
        if "default" in responses:
            return self.response_error(r, f"{pointer}/default", responses["default"])
        return f"undocumented status (documented: {', '.join(sorted(responses))})"


def load_document(path):
    with open(path, "rb") as f:
        raw = f.read()
    digest = hashlib.sha256(raw).hexdigest()
    try:
        with open(CACHE) as f:
            cached = json.load(f)
        if cached.get("sha256") == digest:
            return cached["document"]
    except (OSError, ValueError):
        pass
    doc = yaml.load(raw, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    # a round trip through JSON, as the cache gives it (YAML dates become strings)
    doc = json.loads(json.dumps(doc, default=str))
    try:
        tmp = f"{CACHE}.{os.getpid()}"
        with open(tmp, "w") as f:
            json.dump({"sha256": digest, "document": doc}, f)
        os.replace(tmp, CACHE)
    except OSError:
        pass
    return doc


def escape(s):
    """A JSON pointer token (RFC 6901)."""
    return s.replace("~", "~0").replace("/", "~1")


_contract = None
_lock = threading.Lock()
# jsonschema's RefResolver keeps a scope stack: one check at a time
_check_lock = threading.Lock()
# violations seen outside the main thread (where raising may be swallowed),
# reported by the conftest fixture at the end of the test
pending = []


def contract():
    global _contract
    with _lock:
        if _contract is None:
            t = time.perf_counter()
            _contract = Contract()
            stats["seconds"] += time.perf_counter() - t
        return _contract


active = False  # set by tests/integration/conftest.py when it collected only its own tests
# what the checks cost: responses checked, seconds spent (loading the document,
# jsonschema's import aside, included)
stats = {"responses": 0, "seconds": 0.0}


def check_response(r):
    """Raises ContractViolation when r breaks the contract (main thread), or
    records it for the end of the test (other threads)."""
    if not (ENABLED and active):
        return
    c = contract()
    with _check_lock:
        t = time.perf_counter()
        err = c.check(r)
    with _lock:
        stats["responses"] += 1
        stats["seconds"] += time.perf_counter() - t
    if err is None:
        return
    if threading.current_thread() is threading.main_thread():
        raise ContractViolation(err)
    with _lock:
        pending.append(err)


def take_pending():
    with _lock:
        out = pending[:]
        pending.clear()
        return out
