"""adcraft-api process lifecycle: SIGHUP replaces children without dropping
requests, SIGTERM lets an in-flight request finish before the master exits.

A slow request is needed for the drain test; the API's only slow path is
generation, so this module points the stack at a tiny OpenAI-compatible
server of its own that answers after a delay."""

import json
import os
import signal
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from helpers import RELAXED_LIMITS, Stack

DELAY = 2.0


class SlowLLM(BaseHTTPRequestHandler):
    def do_POST(self):
        length = int(self.headers.get("Content-Length", 0))
        self.rfile.read(length)
        time.sleep(DELAY)
        content = json.dumps({"contentBody": "Slow but steady wins the race. Start your free trial today.",
                              "callToAction": "Start your free trial", "hashtags": ["#growth"]})
        body = json.dumps({"choices": [{"index": 0, "finish_reason": "stop",
                                        "message": {"role": "assistant", "content": content}}],
                           "usage": {"prompt_tokens": 10, "completion_tokens": 20}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def llm():
    server = ThreadingHTTPServer(("127.0.0.1", 0), SlowLLM)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()


@pytest.fixture(scope="module")
def stack(llm):
    env = dict(RELAXED_LIMITS)
    env.update({"ADCRAFT_DEV_LLM_BASE_URL": f"http://127.0.0.1:{llm}/v1", "ADCRAFT_DEV_LLM_API_KEY": "k"})
    with Stack.start(env) as s:
        yield s


def test_sighup_replaces_children_without_failed_requests(stack):
    _, token, _ = stack.register_user()
    before = set(stack.api_children())
    assert before
    failures, done = [], threading.Event()

    def hammer():
        while not done.is_set():
            r = stack.api("GET", "/api/auth/me", token=token)
            if r.status_code != 200:
                failures.append(r.status_code)

    threads = [threading.Thread(target=hammer) for _ in range(4)]
    for t in threads:
        t.start()
    time.sleep(0.3)
    os.kill(stack.api_master_pid(), signal.SIGHUP)
    deadline = time.time() + 10
    while time.time() < deadline and set(stack.api_children()) & before:
        time.sleep(0.1)
    time.sleep(0.3)
    done.set()
    for t in threads:
        t.join()
    after = set(stack.api_children())
    assert after and not (after & before), "every child was replaced"
    assert failures == [], f"requests failed during the reload: {failures[:10]}"


def test_sigterm_drains_in_flight_request(stack):
    _, token, _ = stack.register_user()
    result = {}

    def slow():
        result["r"] = requests.post(stack.url("/api/content/generate-social"),
                                    headers={"Authorization": f"Bearer {token}"},
                                    json={"platform": "linkedin", "product": "Drain"}, timeout=30)

    t = threading.Thread(target=slow)
    t.start()
    time.sleep(DELAY / 2)  # the request is now inside a child, waiting on the LLM
    master = stack.api_master_pid()
    start = time.time()
    os.kill(master, signal.SIGTERM)
    t.join(timeout=20)
    r = result.get("r")
    assert r is not None and r.status_code == 200, r.text if r is not None else "no answer"
    assert r.json()["content"]["contentBody"].startswith("Slow but steady")
    while time.time() - start < 12:
        try:
            os.kill(master, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        pytest.fail("adcraft-api master still running 12 s after SIGTERM")
    assert time.time() - start < 11
