"""Helpers for the content-generation tests (issue #5): the fake OpenAI-compatible
server (tests/fake/fake_llm.py) run as a child process, a user with request
shortcuts, job polling, llm_usage rows and the platform limits every generated
item must respect."""

import json
import os
import subprocess
import sys
import time
import uuid

import requests
from psycopg.rows import dict_row

from helpers import RELAXED_LIMITS, SOURCE_DIR, assert_json

FAKE_LLM = os.path.join(SOURCE_DIR, "tests", "fake", "fake_llm.py")
PYTHON = "/usr/bin/python3" if os.access("/usr/bin/python3", os.X_OK) else sys.executable
TEST_KEY = "test-key"
FAKE_MODEL = "fake-model-1"
PROMPT_VERSION = "adcraft-prompts/1"

# type -> platforms it can be published on (API-IMPL.md "Content items")
PAIRS = {
    "email": ["email"],
    "social_post": ["linkedin", "twitter", "facebook", "instagram"],
    "ad_copy": ["google_ads", "facebook", "linkedin", "instagram", "twitter"],
}
ALL_PAIRS = [(t, p) for t, ps in PAIRS.items() for p in ps]
BODY_MAX = {"email": 50000, "linkedin": 3000, "twitter": 280, "facebook": 63206,
            "instagram": 2200, "google_ads": 90}
HASHTAGS_MAX = {"email": 0, "linkedin": 30, "twitter": 10, "facebook": 30, "instagram": 30,
                "google_ads": 0}


def schema_for(content_type, platform):
    if content_type in ("email", "social_post"):
        return content_type
    return "search_ad" if platform == "google_ads" else "social_ad"


# --- the fake LLM ------------------------------------------------------------

class FakeLLM:
    """tests/fake/fake_llm.py in a child process on a kernel-picked loopback port."""

    def __init__(self):
        self.proc = subprocess.Popen([PYTHON, FAKE_LLM, "--host", "127.0.0.1", "--port", "0"],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        line = self.proc.stdout.readline()
        if not line.startswith("PORT "):
            self.proc.kill()
            raise RuntimeError(f"fake LLM did not start: {line!r} {self.proc.stdout.read()}")
        self.port = int(line.split()[1])
        self.url = f"http://127.0.0.1:{self.port}"
        self.base_url = self.url + "/v1"

    def env(self, **extra):
        """./dev environment pointing the stack's daemons at this fake."""
        env = dict(RELAXED_LIMITS)
        env.update({
            "ADCRAFT_DEV_LLM_BASE_URL": self.base_url,
            "ADCRAFT_DEV_LLM_API_KEY": TEST_KEY,
            "ADCRAFT_DEV_LLM_MODEL": FAKE_MODEL,
            "ADCRAFT_LLM_TIMEOUT_SECONDS": "2",
        })
        env.update(extra)
        return env

    def script(self, *rules):
        """Replaces the script and clears the request log."""
        r = requests.post(self.url + "/control", json={"script": list(rules)}, timeout=5)
        assert r.status_code == 200, r.text

    def reset(self):
        self.script()

    def log(self):
        r = requests.get(self.url + "/requests", timeout=10)
        assert r.status_code == 200, r.text
        return r.json()

    def requests(self):
        """Completion requests received since the last script()/reset(), in arrival order."""
        return [e for e in self.log()["requests"] if e["path"].endswith("/chat/completions")]

    def wait_requests(self, n, timeout=10):
        deadline = time.monotonic() + timeout
        while True:
            got = self.requests()
            if len(got) >= n or time.monotonic() > deadline:
                return got
            time.sleep(0.02)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc.stdout.close()


def user_text(req):
    for m in reversed(req["body"]["messages"]):
        if m["role"] == "user":
            return m["content"]
    return ""


def system_text(req):
    return "\n".join(m["content"] for m in req["body"]["messages"] if m["role"] == "system")


# --- API user -----------------------------------------------------------------

class GenUser:
    """A registered user with request shortcuts (asserting factories)."""

    def __init__(self, stack, name="Gen User"):
        self.stack = stack
        user, self.token, _ = stack.register_user(name=name)
        self.id = user["id"]

    def req(self, method, path, json=None, timeout=60, **kw):
        return self.stack.api(method, path, json=json, token=self.token, timeout=timeout, **kw)

    def post(self, path, body, timeout=60):
        return self.req("POST", path, json=body, timeout=timeout)

    def persona(self, **fields):
        body = {"name": "Ops Olivia", "occupation": "Operations manager",
                "painPoints": ["scattered to-do lists", "missed deadlines"],
                "goals": ["ship projects on time"], "interests": ["productivity"],
                "preferredChannels": ["email", "linkedin"]}
        body.update(fields)
        return assert_json(self.req("POST", "/api/personas", json=body), 201)

    def campaign(self, **fields):
        body = {"name": "Spring planner launch " + uuid.uuid4().hex[:6], "objective": "conversion",
                "description": "Acme Planner: one calm plan for small teams.",
                "tone": "friendly", "keywords": "team planner, save time"}
        body.update(fields)
        return assert_json(self.req("POST", "/api/campaigns", json=body), 201)

    def get_campaign(self, cid):
        return assert_json(self.req("GET", f"/api/campaigns/{cid}"), 200)

    def job(self, jid, queue="content-generation"):
        return assert_json(self.req("GET", f"/api/jobs/{queue}/{jid}"), 200)

    def wait_job(self, jid, states=("completed", "failed", "cancelled"), timeout=30, interval=0.02,
                 pred=None):
        deadline = time.monotonic() + timeout
        while True:
            j = self.job(jid)
            if j["state"] in states and (pred is None or pred(j)):
                return j
            if time.monotonic() > deadline:
                raise AssertionError(f"job {jid} not in {states} within {timeout}s: {j}\n"
                                     f"{worker_log(self.stack)}")
            time.sleep(interval)


def worker_log(stack, n=30):
    try:
        with open(os.path.join(stack.dir, "log", "worker.log"), "rb") as f:
            lines = f.read().decode("utf-8", "replace").splitlines()
        return "--- worker.log ---\n" + "\n".join(lines[-n:])
    except OSError as e:
        return f"<worker.log: {e}>"


# --- database -------------------------------------------------------------------

def usage_rows(stack, user_id):
    with stack.db() as conn:
        cur = conn.cursor(row_factory=dict_row)
        return cur.execute("SELECT * FROM llm_usage WHERE user_id = %s ORDER BY id",
                           [user_id]).fetchall()


def stored_content(stack, campaign_id):
    with stack.db() as conn:
        v = conn.execute("SELECT content FROM campaigns WHERE id = %s", [campaign_id]).fetchone()
    return None if v is None else (json.loads(v[0]) if isinstance(v[0], str) else v[0])


# --- limits ---------------------------------------------------------------------

def limit_violations(item):
    """Every hard limit the item breaks, as strings (empty list = fine)."""
    bad = []
    t, p = item.get("contentType"), item.get("platform")
    body = item.get("contentBody")
    if p not in PAIRS.get(t, []):
        bad.append(f"{t} on {p}")
    if not isinstance(body, str) or not body.strip():
        bad.append("empty contentBody")
    elif len(body) > BODY_MAX.get(p, 0):
        bad.append(f"contentBody {len(body)} > {BODY_MAX.get(p)} on {p}")
    subj = item.get("subjectLine")
    if subj is not None and len(subj) > 78:
        bad.append(f"subjectLine {len(subj)} > 78")
    cta = item.get("callToAction")
    if cta is not None and len(cta) > 200:
        bad.append(f"callToAction {len(cta)} > 200")
    pre = item.get("preheader")
    if pre is not None and len(pre) > 130:
        bad.append(f"preheader {len(pre)} > 130")
    if pre and t != "email":
        bad.append("preheader on a non-email")
    tags = item.get("hashtags") or []
    if len(tags) > HASHTAGS_MAX.get(p, 0):
        bad.append(f"{len(tags)} hashtags on {p}")
    for h in tags:
        w = h[1:] if h.startswith("#") else h
        if not w or not all(c.isalnum() or c == "_" for c in w):
            bad.append(f"hashtag {h!r}")
    heads, descs = item.get("headlines") or [], item.get("descriptions") or []
    if p == "google_ads":
        if not 3 <= len(heads) <= 15:
            bad.append(f"{len(heads)} headlines")
        if not 2 <= len(descs) <= 4:
            bad.append(f"{len(descs)} descriptions")
        bad += [f"headline {len(h)} > 30: {h!r}" for h in heads if len(h) > 30]
        bad += [f"description {len(d)} > 90: {d!r}" for d in descs if len(d) > 90]
    elif heads or descs:
        bad.append(f"headlines/descriptions on {p}")
    q = item.get("qualityScore")
    if not isinstance(q, int) or not 0 <= q <= 100:
        bad.append(f"qualityScore {q!r}")
    return bad


def is_problem(x):
    return isinstance(x, dict) and "status" in x and "title" in x and "contentBody" not in x
