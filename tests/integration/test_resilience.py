"""Resilience on a stack of its own: kill -9 an adcraft-api child under load;
stop and restart PostgreSQL under a running adcraft-api."""

import os
import re
import signal
import threading
import time

import pytest
import requests

from helpers import RELAXED_LIMITS, Stack, assert_json, assert_problem


@pytest.fixture(scope="module")
def stack():
    with Stack.start(RELAXED_LIMITS) as s:
        yield s


def wait_for(pred, timeout, interval=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(interval)
    return None


class Load:
    """Threads sending requests in a loop; records (start, end, status|exception)."""

    def __init__(self, stack, token, threads=2):
        self.stack, self.token = stack, token
        self.stop = threading.Event()
        self.results = []
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self.run, args=(i,), daemon=True)
                        for i in range(threads)]

    def run(self, i):
        n = 0
        while not self.stop.is_set():
            n += 1
            if n % 2:
                method, path, h = "GET", "/api/health", {}
            else:
                method, path, h = "GET", "/api/auth/me", {"Authorization": f"Bearer {self.token}"}
            t0 = time.monotonic()
            try:
                r = requests.request(method, self.stack.url(path), headers=h, timeout=10)
                outcome = r.status_code
            except requests.RequestException as e:
                outcome = repr(e)
            with self.lock:
                self.results.append((t0, time.monotonic(), outcome, path))

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join(15)
        return False


def test_kill_child_under_load(stack):
    _, access, _ = stack.register_user()
    master = stack.api_master_pid()
    before = stack.api_children()
    assert len(before) >= 2, f"expected several api children, got {before}"
    victim = before[0]
    with Load(stack, access) as load:
        time.sleep(1.0)
        os.kill(victim, signal.SIGKILL)
        t_kill = time.monotonic()
        new = wait_for(lambda: set(stack.api_children()) - set(before), timeout=10)
        t_respawn = time.monotonic()
        assert new, f"no new child within 10 s of killing {victim} (children {stack.api_children()})"
        # keep the load on until enough requests ran after the respawn
        wait_for(lambda: sum(1 for r in load.results if r[0] > t_respawn) >= 300, timeout=20)
        time.sleep(0.5)
    results = list(load.results)
    assert stack.api_master_pid() == master
    after = stack.api_children()
    assert victim not in after
    assert len(after) == len(before), (before, after)

    ok = [r for r in results if r[2] == 200]
    failed = [r for r in results if r[2] != 200]
    assert len(results) >= 300, f"too few requests to judge: {len(results)}"
    assert len(ok) / len(results) >= 0.99, \
        f"{len(failed)} of {len(results)} failed: {sorted({str(r[2]) for r in failed})}"
    after_respawn = [r for r in results if r[0] > t_respawn]
    bad_after = [r for r in after_respawn if r[2] != 200]
    assert after_respawn, "no request after the respawn"
    assert not bad_after, f"{len(bad_after)} of {len(after_respawn)} failed after respawn " \
        f"(first: {bad_after[0][2]} {bad_after[0][3]} at +{bad_after[0][0] - t_kill:.3f}s)"
    stack.wait_healthy()


def test_kill_child_is_logged(stack):
    before = stack.api_children()
    os.kill(before[-1], signal.SIGKILL)
    assert wait_for(lambda: len(stack.api_children()) == len(before)
                    and before[-1] not in stack.api_children(), timeout=10)
    log = stack.read_file("log/api.log").decode("utf-8", "replace")
    assert str(before[-1]) in log, "the crashed child's pid is not in the api log"


def configured_processes(stack):
    """Both pools' children: processes, and slow_processes when listen_slow is set."""
    conf = stack.read_file("adcraft.conf").decode()
    n = int(re.search(r"^processes = (\d+)$", conf, re.M).group(1))
    if re.search(r"^listen_slow = \S", conf, re.M):
        n += int(re.search(r"^slow_processes = (\d+)$", conf, re.M).group(1))
    return n


def test_postgres_stop_503_then_start_200_without_restart(stack):
    _, access, _ = stack.register_user()
    master = stack.api_master_pid()
    # The kill tests above leave a child respawning (after a backoff when it
    # lived under a second): snapshot once every configured child is up.
    want = configured_processes(stack)
    assert wait_for(lambda: len(stack.api_children()) == want, timeout=15), stack.api_children()
    children = stack.api_children()
    # make every child hold a live database connection first
    for _ in range(4 * len(children)):
        assert_json(stack.api("GET", "/api/auth/me", token=access), 200)

    stack.pg_stop()
    try:
        # every child must notice: more requests than children, none may hang or 500
        for i in range(3 * len(children)):
            t0 = time.monotonic()
            h = stack.api("GET", "/api/health", timeout=15)
            assert h.status_code == 503, (i, h.status_code, h.text)
            hb = h.json()
            assert set(hb) >= {"status", "version", "database", "uptimeSeconds"}, hb
            assert h.headers.get("X-Request-Id")
            m = stack.api("GET", "/api/auth/me", token=access, timeout=15)
            assert_problem(m, 503)
            assert time.monotonic() - t0 < 10, "503 took too long"
        for path, body in (("/api/auth/login", {"email": "x@example.com", "password": "whatever1"}),
                           ("/api/auth/register", {"email": "y@example.com",
                                                   "password": "whatever1", "name": "Y"}),
                           ("/api/auth/refresh", {"refreshToken": "whatever"})):
            assert_problem(stack.api("POST", path, json=body, timeout=15), 503)
    finally:
        stack.pg_start()

    first = wait_for(lambda: stack.api("GET", "/api/health").status_code == 200, timeout=5)
    assert first, "health not 200 within 5 s of PostgreSQL start"
    for _ in range(3 * len(children)):
        assert_json(stack.api("GET", "/api/health"), 200)
        assert_json(stack.api("GET", "/api/auth/me", token=access), 200)
    assert_problem(stack.api("POST", "/api/auth/login",
                             json={"email": "nobody@example.com", "password": "whatever1"}), 401)
    stack.register_user()
    assert stack.api_master_pid() == master, "adcraft-api master was restarted"
    assert stack.api_children() == children, \
        f"children were replaced (before {children}, after {stack.api_children()})"
