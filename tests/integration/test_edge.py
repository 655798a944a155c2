"""The edge: what adcraft-api accepts from whom, and what nginx answers itself.

- Every FastCGI request must carry nginx's edge secret (ADCRAFT_EDGE_SECRET,
  ./dev writes it to edge.key and nginx's edge-secret.conf); without it the
  answer is 403 problem+json and the sender's REQUEST_ID is not echoed.
- The loopback TCP listener serves ROUTE_INTERNAL routes only (nginx's
  authorization subrequest for /events/): every other request there is 403,
  with the right secret too.
- One bearer token is one rate-limit bucket whatever the scheme's spelling;
  requests without a token are counted per address; the app accepts only
  "Bearer <token>".
- Everything nginx answers itself is problem+json with the security headers
  and a request id: 400, 404, 405 (TRACE), 413, 414, 429, 501, 505, 503.

Two stacks: the shared one (relaxed limits) and one with a tiny API limit.
"""

import http.client
import json
import os
import signal
import socket
import struct
import time

import pytest
import requests

from helpers import (REQUEST_ID_RE, RELAXED_LIMITS, Stack, assert_json, assert_problem,
                     check_request_id)

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
}


@pytest.fixture(scope="module")
def stack():
    with Stack.start(RELAXED_LIMITS) as s:
        yield s


# --- a minimal FastCGI client (one request per connection) ------------------

FCGI_BEGIN, FCGI_END, FCGI_PARAMS, FCGI_STDIN, FCGI_STDOUT, FCGI_STDERR = 1, 3, 4, 5, 6, 7


def _record(rtype, content, req_id=1):
    return struct.pack(">BBHHBx", 1, rtype, req_id, len(content), 0) + content


def _nv(name, value):
    out = b""
    for x in (name, value):
        n = len(x)
        out += bytes([n]) if n < 128 else struct.pack(">I", n | 0x80000000)
    return out + name + value


class FcgiResponse:
    def __init__(self, raw):
        head, _, body = raw.partition(b"\r\n\r\n")
        self.headers = {}
        for line in head.decode("latin-1").split("\r\n"):
            k, _, v = line.partition(":")
            self.headers.setdefault(k.strip().lower(), []).append(v.strip())
        self.status = int(self.headers["status"][0].split()[0])
        self.body = body

    def header(self, name):
        v = self.headers.get(name.lower())
        assert v is None or len(v) == 1, (name, v)
        return v[0] if v else None


def fcgi_request(address, params, body=b""):
    """Sends one FastCGI request to address (a unix path or (host, port))."""
    family = socket.AF_UNIX if isinstance(address, str) else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.settimeout(15)
        s.connect(address)
        pairs = b"".join(_nv(k.encode(), v.encode()) for k, v in params.items())
        msg = _record(FCGI_BEGIN, struct.pack(">HB5x", 1, 0))  # responder, close after
        msg += _record(FCGI_PARAMS, pairs) + _record(FCGI_PARAMS, b"")
        if body:
            msg += _record(FCGI_STDIN, body)
        msg += _record(FCGI_STDIN, b"")
        s.sendall(msg)
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    out, pos = b"", 0
    while pos + 8 <= len(data):
        _, rtype, _, clen, plen = struct.unpack(">BBHHB", data[pos:pos + 7])
        content = data[pos + 8:pos + 8 + clen]
        if rtype == FCGI_STDOUT:
            out += content
        pos += 8 + clen + plen
    return FcgiResponse(out)


def edge_secret(stack):
    return stack.read_file("edge.key").decode().strip()


def params_for(method, uri, **extra):
    p = {"REQUEST_METHOD": method, "REQUEST_URI": uri, "QUERY_STRING": "",
         "REMOTE_ADDR": "127.0.0.1", "SERVER_PROTOCOL": "HTTP/1.1", "CONTENT_LENGTH": "",
         "CONTENT_TYPE": ""}
    p.update(extra)
    return p


def assert_fcgi_problem(resp, status):
    assert resp.status == status, (resp.status, resp.body[:300])
    assert resp.header("Content-Type") == "application/problem+json", resp.headers
    body = json.loads(resp.body)
    assert body["status"] == status and body["title"] and body["detail"], body
    return body


def unix_socket(stack):
    return os.path.join(stack.dir, "run", "api.sock")


def tcp_address(stack):
    return ("127.0.0.1", stack.api_port)


# --- the edge secret and the TCP listener -----------------------------------

def test_unix_socket_with_secret_is_served(stack):
    """The client above works, and the secret is what nginx sends: the health
    check answers over the unix socket when the secret is present."""
    r = fcgi_request(unix_socket(stack), params_for("GET", "/api/health",
                                                    ADCRAFT_EDGE_SECRET=edge_secret(stack),
                                                    REQUEST_ID="0123456789abcdef0123456789abcdef"))
    assert r.status == 200, r.body
    assert r.header("X-Request-Id") == "0123456789abcdef0123456789abcdef"


@pytest.mark.parametrize("where", ["unix", "tcp"])
@pytest.mark.parametrize("secret", ["absent", "empty", "wrong", "prefix", "longer"])
def test_request_without_the_secret_is_403_and_its_id_not_echoed(stack, where, secret):
    real = edge_secret(stack)
    extra = {"REQUEST_ID": "attacker-chosen-id"}
    if secret != "absent":
        extra["ADCRAFT_EDGE_SECRET"] = {
            "empty": "", "wrong": real[:-1] + ("0" if real[-1] != "0" else "1"),
            "prefix": real[:-1], "longer": real + "0"}[secret]
    addr = unix_socket(stack) if where == "unix" else tcp_address(stack)
    for method, uri in (("GET", "/api/health"), ("POST", "/api/auth/login"), ("GET", "/api/nope")):
        r = fcgi_request(addr, params_for(method, uri, **extra))
        assert_fcgi_problem(r, 403)
        rid = r.header("X-Request-Id")
        assert rid != "attacker-chosen-id" and REQUEST_ID_RE.match(rid), rid


@pytest.mark.parametrize("method,uri", [
    ("GET", "/api/health"), ("GET", "/api/auth/me"), ("POST", "/api/auth/login"),
    ("GET", "/api/campaigns"), ("GET", "/api/nope"), ("OPTIONS", "/api/campaigns"), ("GET", "/"),
])
def test_tcp_listener_serves_no_route_even_with_the_secret(stack, method, uri):
    """Only ROUTE_INTERNAL routes are served on TCP."""
    r = fcgi_request(tcp_address(stack), params_for(
        method, uri, ADCRAFT_EDGE_SECRET=edge_secret(stack),
        HTTP_ORIGIN="http://localhost:5173", HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET"))
    assert_fcgi_problem(r, 403)


def test_tcp_listener_serves_the_events_authorization(stack):
    """The one internal route answers there (401: no credentials), and only with the secret."""
    r = fcgi_request(tcp_address(stack), params_for(
        "GET", "/_adcraft/events/auth", ADCRAFT_EDGE_SECRET=edge_secret(stack),
        ADCRAFT_EVENTS_URI="/events/user"))
    assert_fcgi_problem(r, 401)
    assert r.header("X-Adcraft-Status") == "401", r.headers
    r = fcgi_request(tcp_address(stack), params_for(
        "GET", "/_adcraft/events/auth", ADCRAFT_EVENTS_URI="/events/user"))
    assert_fcgi_problem(r, 403)


def test_unsafe_request_id_is_replaced(stack):
    """Even with the secret, a REQUEST_ID that is not a plain token never
    reaches a header: it is replaced by a fresh id."""
    r = fcgi_request(unix_socket(stack), params_for(
        "GET", "/api/health", ADCRAFT_EDGE_SECRET=edge_secret(stack),
        REQUEST_ID="x\r\nSet-Cookie: a=b"))
    assert r.status == 200
    assert "set-cookie" not in r.headers, r.headers
    assert REQUEST_ID_RE.match(r.header("X-Request-Id")), r.headers


@pytest.mark.parametrize("length", ["12abc", "-5", "+5", " 5", "5 ", "0x10", "99999999999999999999999"])
def test_content_length_with_junk_is_400(stack, length):
    """CONTENT_LENGTH is digits only (nginx never sends anything else)."""
    r = fcgi_request(unix_socket(stack), params_for(
        "POST", "/api/auth/login", ADCRAFT_EDGE_SECRET=edge_secret(stack),
        CONTENT_LENGTH=length, CONTENT_TYPE="application/json"), body=b'{"email":"a"}')
    assert_fcgi_problem(r, 400)


def test_tcp_requests_are_logged_with_a_fresh_id(stack):
    r = fcgi_request(tcp_address(stack), params_for("GET", "/api/health",
                                                    REQUEST_ID="attacker-chosen-id"))
    assert_fcgi_problem(r, 403)
    log = stack.log_with("log/api.log", r.header("X-Request-Id"))
    assert "attacker-chosen-id" not in log


# --- bearer spelling --------------------------------------------------------

@pytest.mark.parametrize("template", [
    "bearer {}", "BEARER {}", "Bearer  {}", "Bearer\t{}", "Bearer {} x", "Bearer\u00a0{}",
])
def test_only_exact_bearer_spelling_is_accepted(stack, template):
    _, access, _ = stack.register_user()
    assert_json(stack.api("GET", "/api/auth/me", headers={"Authorization": f"Bearer {access}"}), 200)
    try:
        value = template.format(access).encode("latin-1")
    except UnicodeEncodeError:
        pytest.skip("not encodable")
    body = assert_problem(stack.api("GET", "/api/auth/me", headers={"Authorization": value}), 401)
    assert "Bearer <token>" in body["detail"], body


# --- nginx's own answers ------------------------------------------------------

def check_nginx_problem(r, status, title):
    body = assert_problem(r, status)
    assert body["type"] == "about:blank" and body["title"] == title, body
    for k, v in SECURITY_HEADERS.items():
        assert r.headers.get(k) == v, (k, dict(r.headers))
    assert r.headers.get("Cache-Control") == "no-store", dict(r.headers)
    server = r.headers.get("Server", "")
    assert not any(ch.isdigit() for ch in server), server
    return body


@pytest.mark.parametrize("method,path", [
    ("TRACE", "/api/campaigns"), ("TRACE", "/"), ("TRACE", "/api/health"),
])
def test_trace_is_405_problem(stack, method, path):
    r = stack.api(method, path)
    check_nginx_problem(r, 405, "Method Not Allowed")
    assert "TRACE" not in r.headers.get("Allow", "TRACE"), dict(r.headers)


@pytest.mark.parametrize("path", [
    "/", "/events/abc", "/events/", "/index.html", "/favicon.ico", "/apix", "/API/health",
    "/_adcraft/error/400", "/_adcraft/error/503", "/_adcraft/events/auth", "/_adcraft/error/events-403",
    "/pub/user.00000000-0000-0000-0000-000000000000",
])
def test_paths_outside_the_api_are_404_problem(stack, path):
    for method in ("GET", "POST", "DELETE", "HEAD"):
        r = stack.api(method, path)
        if method == "HEAD":
            assert r.status_code == 404 and r.headers.get("Content-Type") == "application/problem+json"
            check_request_id(r)
            continue
        check_nginx_problem(r, 404, "Not Found")


def test_body_over_1mib_is_413_problem(stack):
    _, access, _ = stack.register_user()
    r = stack.api("POST", "/api/campaigns", token=access, data=b"x" * (1024 * 1024 + 1),
                  headers={"Content-Type": "application/json"})
    check_nginx_problem(r, 413, "Content Too Large")


def test_long_uri_is_414_problem(stack):
    check_nginx_problem(stack.api("GET", "/api/" + "a" * 20000), 414, "URI Too Long")


def raw_http(stack, data):
    """Sends raw bytes to nginx; returns a requests-like object for the answer."""
    with socket.create_connection(("127.0.0.1", stack.port), timeout=10) as s:
        s.sendall(data)
        out = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
    head, _, body = out.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = requests.structures.CaseInsensitiveDict()
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip()] = v.strip()
    r = requests.Response()
    r.status_code = int(lines[0].split()[1])
    r.headers = headers
    r._content = body
    r.request = requests.Request("RAW", f"http://127.0.0.1:{stack.port}/").prepare()
    return r


@pytest.mark.parametrize("data,status,title", [
    (b"GET /api/%00 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 400, "Bad Request"),
    (b"GET /api/health HTTP/1.1\r\nConnection: close\r\n\r\n", 400, "Bad Request"),  # no Host
    (b"POST /api/campaigns HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\nConnection: close\r\n\r\n",
     501, "Not Implemented"),
    (b"GET /api/health HTTP/2.0\r\nHost: x\r\nConnection: close\r\n\r\n", 505, "HTTP Version Not Supported"),
])
def test_malformed_requests_are_problem(stack, data, status, title):
    check_nginx_problem(raw_http(stack, data), status, title)


# --- a stack with a tiny API limit: buckets, 429, and the API going away ----

@pytest.fixture(scope="module")
def limited():
    with Stack.start({"ADCRAFT_DEV_API_RATE": "1r/m", "ADCRAFT_DEV_API_BURST": "5"}) as s:
        yield s


def get_from(stack, path, headers, source):
    """GET through nginx from a chosen loopback source address (each address
    has its own bucket); a requests.Response for the helpers."""
    conn = http.client.HTTPConnection("127.0.0.1", stack.port, timeout=10, source_address=(source, 0))
    try:
        conn.request("GET", path, headers=headers)
        resp = conn.getresponse()
        r = requests.Response()
        r.status_code = resp.status
        r.headers = requests.structures.CaseInsensitiveDict(resp.getheaders())
        r._content = resp.read()
        r.request = requests.Request("GET", stack.url(path)).prepare()
        return r
    finally:
        conn.close()


def statuses(stack, headers, n, source="127.0.0.1"):
    out = []
    for _ in range(n):
        r = get_from(stack, "/api/personas", headers, source)
        out.append(r.status_code)
        if r.status_code == 429:
            check_nginx_problem(r, 429, "Too Many Requests")
    return out


def test_one_token_is_one_bucket_whatever_the_spelling(limited):
    """1 request a minute plus a burst of 5: six requests pass per bucket. Ten
    requests with one token spelled four ways must hit 429 (four buckets
    would let all ten through); another token still has its own bucket."""
    _, token_a, _ = limited.register_user()
    _, token_b, _ = limited.register_user()
    spellings = [f"Bearer {token_a}", f"bearer {token_a}", f"BEARER {token_a}", f"bEaReR   {token_a}"]
    got = []
    for i in range(10):
        got += statuses(limited, {"Authorization": spellings[i % 4]}, 1)
    assert got.count(429) >= 4, got
    assert got[:6].count(429) == 0, got
    assert set(got) <= {200, 401, 429}, got
    assert statuses(limited, {"Authorization": f"Bearer {token_b}"}, 1) == [200]


def test_requests_without_a_token_are_limited_by_address(limited):
    got = statuses(limited, {}, 8, source="127.0.0.2")
    assert got.count(429) >= 2 and 429 not in got[:6], got
    # garbage that is not a bearer token is counted by address, like no token
    assert statuses(limited, {"Authorization": "Basic dXNlcjpwYXNz"}, 1, source="127.0.0.2") == [429]
    assert statuses(limited, {"Authorization": "Bearerxyz"}, 1, source="127.0.0.2") == [429]
    # another address has its own bucket
    assert statuses(limited, {}, 1, source="127.0.0.3") == [401]
    # nginx's 429 carries CORS headers for a listed origin (./dev's default list)
    r = get_from(limited, "/api/personas", {"Origin": "http://127.0.0.1:5173"}, "127.0.0.2")
    check_nginx_problem(r, 429, "Too Many Requests")
    assert r.headers.get("Access-Control-Allow-Origin") == "http://127.0.0.1:5173", dict(r.headers)
    assert "Retry-After" in r.headers.get("Access-Control-Expose-Headers", ""), dict(r.headers)


def test_api_down_is_503_problem(limited):
    """Last in the module: adcraft-api stopped (SIGTERM to its master, which
    removes its socket), nginx answers 503 itself."""
    pid = limited.api_master_pid()
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and os.path.exists(f"/proc/{pid}"):
        time.sleep(0.1)
    r = get_from(limited, "/api/health", {"Origin": "http://localhost:5173"}, "127.0.0.4")
    body = check_nginx_problem(r, 503, "Service Unavailable")
    assert "unavailable" in body["detail"], body
    assert r.headers.get("Retry-After") == "1", dict(r.headers)
    assert r.headers.get("Access-Control-Allow-Origin") == "http://localhost:5173", dict(r.headers)
