"""adcraft-api's two pools (issue #14 §1, src/api/server.c): nginx keeps its
FastCGI connections only to the fast pool, and every route that can take long
(ROUTE_SLOW in src/api/routes.c: argon2, synchronous generation, uploads,
imports) goes to the slow pool's socket without keep_conn, so no request waits
on a kept connection behind a slow one.

- nginx's slow locations are exactly the ROUTE_SLOW routes, each with
  fastcgi_keep_conn off; the slow upstream has no keepalive.
- While synchronous generations wait on a slow LLM (1.5 s), GET /api/auth/me
  through nginx is never held behind them (a behaviour bound, max < 1.0 s,
  not a speed benchmark).
- A slow-pool child closes a connection after its response even when the
  FastCGI request asks to keep it.
- A slow route that reaches the fast pool is logged (nginx misconfigured).
"""

import os
import re
import socket
import struct
import threading
import time

import pytest
import requests

from generation_helpers import GenUser
from helpers import Stack

REPO = os.environ.get("ADCRAFT_SOURCE_DIR") or os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
LLM_LATENCY_MS = 1500


def read(rel):
    with open(os.path.join(REPO, rel)) as f:
        return f.read()


# --- one source of truth: routes.c's SLOW routes, nginx's slow locations ----

def slow_routes():
    """The paths of routes.c's rows flagged SLOW."""
    rows = re.findall(r'\{\s*"[A-Z]+",\s*"([^"]+)",\s*\w+,\s*([^}]*)\}', read("src/api/routes.c"))
    return {path for path, flags in rows if re.search(r"\bSLOW\b|\bROUTE_SLOW\b", flags)}


def nginx_locations():
    """Every `location = PATH { ... }` of the files locations.conf includes: path -> body."""
    out = {}
    for name in ("nginx/locations.conf", "nginx/media.conf", "nginx/metrics.conf"):
        for path, body in re.findall(r"location\s+=\s+(\S+)\s*\{([^{}]*)\}", read(name)):
            out[path] = body
    return out


def test_nginx_slow_locations_are_the_slow_routes():
    routes = slow_routes()
    assert {"/api/auth/login", "/api/auth/register", "/api/assets",
            "/api/contacts/import", "/api/analytics/import"} <= routes, routes
    locs = nginx_locations()
    slow = {p for p, body in locs.items() if re.search(r"fastcgi_pass\s+adcraft_api_slow;", body)}
    assert slow == routes, f"only in routes.c: {routes - slow}; only in nginx: {slow - routes}"
    for p in slow:
        assert re.search(r"fastcgi_keep_conn\s+off;", locs[p]), f"location = {p} keeps connections"
    every = "".join(read(f"nginx/{n}") for n in os.listdir(os.path.join(REPO, "nginx")))
    assert every.count("adcraft_api_slow;") == len(slow), "adcraft_api_slow used outside the slow locations"


@pytest.mark.parametrize("name", ["nginx/adcraft.conf", "nginx/dev.conf.in", "nginx/adcraft-site.conf.example"])
def test_slow_upstream_keeps_no_connection(name):
    m = re.search(r"upstream\s+adcraft_api_slow\s*\{([^}]*)\}", read(name))
    assert m, f"{name} defines no upstream adcraft_api_slow"
    assert "keepalive" not in m.group(1), m.group(1)


# --- the running stack ---------------------------------------------------------

@pytest.fixture(scope="module")
def stack(fake):
    with Stack.start(fake.env()) as s:
        yield s


def test_me_never_waits_behind_slow_generations(stack, fake):
    """Four generations (two slow children busy, two queued behind them) hold the slow
    pool for about 3 s; meanwhile 50 GET /api/auth/me on one kept client connection,
    which nginx sends over its kept connections to the fast pool, each return at once."""
    fake.reset()
    fake.script({"latencyMs": LLM_LATENCY_MS})
    users = [GenUser(stack, name=f"Slow {i}") for i in range(4)]
    me = GenUser(stack, name="Reader")
    results = []

    def generate(u):
        r = u.post("/api/content/generate-social", {"platform": "twitter"})
        results.append((r, time.monotonic()))

    threads = [threading.Thread(target=generate, args=(u,)) for u in users]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    time.sleep(0.3)  # the generations have reached the API
    times = []
    with requests.Session() as s:
        s.headers["Authorization"] = f"Bearer {me.token}"
        for _ in range(50):
            t = time.monotonic()
            r = s.get(stack.url("/api/auth/me"), timeout=30)
            times.append(time.monotonic() - t)
            assert r.status_code == 200, r.text
            time.sleep(0.02)
    reads_done = time.monotonic()
    for t in threads:
        t.join(60)
    assert [r.status_code for r, _ in results] == [200] * 4, [r.text[:200] for r, _ in results]
    assert max(times) < 1.0, f"a request waited behind a slow one: max {max(times):.3f} s"
    # the reads overlapped the generations: the last one ended after them
    assert reads_done < max(done for _, done in results), (reads_done - t0, [d - t0 for _, d in results])


def fcgi_keep_request(path, params):
    """One FastCGI request that asks to keep the connection (FCGI_KEEP_CONN); returns
    (stdout bytes, whether the server closed the connection after the response)."""
    def rec(rtype, content):
        return struct.pack(">BBHHBx", 1, rtype, 1, len(content), 0) + content

    def nv(k, v):
        return bytes([len(k)]) + bytes([len(v)]) + k + v
    pairs = b"".join(nv(k.encode(), v.encode()) for k, v in params.items())
    msg = rec(1, struct.pack(">HB5x", 1, 1)) + rec(4, pairs) + rec(4, b"") + rec(5, b"")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(1)
        s.connect(path)
        s.sendall(msg)
        data, ended = b"", False
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    return data, True
                data += chunk
                ended = ended or b"\x01\x03\x00\x01" in data  # FCGI_END_REQUEST
        except socket.timeout:
            assert ended, data[:200]
            return data, False


def params(stack, method, uri):
    return {"REQUEST_METHOD": method, "REQUEST_URI": uri, "QUERY_STRING": "", "REMOTE_ADDR": "127.0.0.1",
            "SERVER_PROTOCOL": "HTTP/1.1", "CONTENT_LENGTH": "", "CONTENT_TYPE": "",
            "ADCRAFT_EDGE_SECRET": stack.read_file("edge.key").decode().strip()}


def test_slow_pool_closes_kept_connections_and_fast_pool_keeps_them(stack):
    slow = os.path.join(stack.dir, "run", "api-slow.sock")
    fast = os.path.join(stack.dir, "run", "api.sock")
    out, closed = fcgi_keep_request(slow, params(stack, "GET", "/api/health"))
    assert b"Status: 200" in out and closed, (out[:200], closed)
    out, closed = fcgi_keep_request(fast, params(stack, "GET", "/api/health"))
    assert b"Status: 200" in out and not closed, (out[:200], closed)


def test_slow_route_on_the_fast_pool_is_logged(stack):
    fast = os.path.join(stack.dir, "run", "api.sock")
    out, _ = fcgi_keep_request(fast, params(stack, "POST", "/api/auth/login"))
    assert b"Status: 400" in out or b"Status: 415" in out, out[:300]
    deadline = time.monotonic() + 5
    log = ""
    while "came to the fast pool" not in log and time.monotonic() < deadline:
        log = stack.read_file("log/api.log").decode(errors="replace")
        time.sleep(0.05)
    assert "POST /api/auth/login may take long but came to the fast pool" in log
    assert "in 2 pools" in log, "adcraft-api did not start two pools"
