"""Per-IP rate limit on /api/auth/ (nginx limit_req) -> 429 problem+json with
Retry-After. Runs on its own stack with the dev defaults (20r/s, burst 40) and
sends from 127.0.0.2 so the limit cannot hurt requests from 127.0.0.1."""

import http.client
import json
import threading
import uuid

import pytest

from helpers import REQUEST_ID_RE, Stack, assert_problem


@pytest.fixture(scope="module")
def stack():
    # the dev defaults for the limits: nothing overridden
    with Stack.start({}) as s:
        yield s


class Resp:
    """Just enough of a requests.Response for assert_problem."""

    def __init__(self, resp, body, url):
        self.status_code = resp.status
        self.headers = _CaseInsensitive(dict(resp.getheaders()))
        self.content = body
        self.text = body.decode("utf-8", "replace")
        self.url = url

        class _Req:
            method = "POST"
        self.request = _Req()

    def json(self):
        return json.loads(self.text)


class _CaseInsensitive(dict):
    def __init__(self, d):
        super().__init__({k.lower(): v for k, v in d.items()})

    def get(self, k, default=None):
        return super().get(k.lower(), default)

    def __getitem__(self, k):
        return super().__getitem__(k.lower())

    def __contains__(self, k):
        return super().__contains__(k.lower())


def login_from(stack, source_ip, body=None):
    conn = http.client.HTTPConnection("127.0.0.1", stack.port, timeout=30,
                                      source_address=(source_ip, 0))
    try:
        # a new email each time: the per-account throttle (test_login_throttle.py) stays out of it
        data = json.dumps(body or {"email": f"nobody-{uuid.uuid4().hex[:12]}@example.com",
                                   "password": "not the password"}).encode()
        conn.request("POST", "/api/auth/login", body=data,
                     headers={"Content-Type": "application/json"})
        r = conn.getresponse()
        return Resp(r, r.read(), "/api/auth/login")
    finally:
        conn.close()


def test_login_rate_limited_429(stack):
    limit_hit = threading.Event()
    lock = threading.Lock()
    results = []
    budget = [400]  # at most ~400 requests in all

    def worker():
        while not limit_hit.is_set():
            with lock:
                if budget[0] <= 0:
                    return
                budget[0] -= 1
            r = login_from(stack, "127.0.0.2")
            with lock:
                results.append(r)
            if r.status_code == 429:
                limit_hit.set()

    # Concurrency beyond the burst, so the limit bites whether or not nginx
    # delays excess requests (limit_req without nodelay) or refuses them.
    threads = [threading.Thread(target=worker, daemon=True) for _ in range(60)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)

    statuses = [r.status_code for r in results]
    limited = [r for r in results if r.status_code == 429]
    assert limited, f"no 429 after {len(results)} requests: {sorted(set(statuses))}"
    assert set(statuses) <= {401, 429}, sorted(set(statuses))
    r = limited[0]
    assert_problem(r, 429)
    assert REQUEST_ID_RE.match(r.headers.get("X-Request-Id", "")), r.headers
    retry = r.headers.get("Retry-After")
    assert retry is not None, f"429 without Retry-After: {dict(r.headers)}"
    assert retry.strip().isdigit() and int(retry) >= 1, retry

    # the limit is per IP: 127.0.0.1 is unaffected
    other = login_from(stack, "127.0.0.1")
    assert other.status_code == 401, other.text


def test_health_is_not_limited_by_auth_zone(stack):
    """The per-IP auth zone covers /api/auth/ only."""
    for _ in range(60):
        conn = http.client.HTTPConnection("127.0.0.1", stack.port, timeout=10,
                                          source_address=("127.0.0.3", 0))
        conn.request("GET", "/api/health")
        r = conn.getresponse()
        r.read()
        conn.close()
        assert r.status == 200, r.status
