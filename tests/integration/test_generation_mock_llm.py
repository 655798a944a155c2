"""The openai provider against an OpenAI-compatible mock server we did not
write: @dwmkerr/mock-llm from npm (https://github.com/dwmkerr/mock-llm).

The package is installed at test time into a cache under the build dir
(<build>/test-cache/npm-mock-llm, reused by later runs) and started on a free
loopback port with a rules file generated here (config_yaml):
rules match the schema name the client sends (response_format.json_schema.name)
and answer a fixed structured completion with usage numbers; other rules,
selected by a marker in customInstructions, answer 401, plain text (breaks
the schema), or mock-llm's own default echo rule.

Skipped only when npm (or node) is not installed."""

import json
import os
import shutil
import subprocess
import time

import pytest
import requests

from generation_helpers import FAKE_MODEL, TEST_KEY, GenUser, is_problem, limit_violations, \
    stored_content, usage_rows
from helpers import BUILD_DIR, RELAXED_LIMITS, Stack, assert_json, assert_problem, free_ports

PACKAGE = "@dwmkerr/mock-llm"
VERSION = "0.1.29"
CACHE = os.path.join(BUILD_DIR, "test-cache", "npm-mock-llm")
MAIN = os.path.join(CACHE, "node_modules", "@dwmkerr", "mock-llm", "dist", "main.js")

ANSWERS = {
    "email": {"subjectLine": "Your calmer week starts here",
              "preheader": "One shared plan for the whole team, set up in five minutes flat.",
              "contentBody": "Hi there,\n\nAcme Planner puts every task and deadline in one place. "
                             "Set priorities once and the plan keeps itself current.\n\nCheers,\nAcme",
              "callToAction": "Start your free trial"},
    "social_post": {"contentBody": "Mock says: one calm plan for your whole team. Try Acme Planner.",
                    "callToAction": "Try it free", "hashtags": ["#planning", "#mockllm"]},
    "search_ad": {"headlines": ["Plan Your Week Fast", "One Calm Team Planner", "Try Acme Planner"],
                  "descriptions": ["Every task and deadline in one calm place.",
                                   "Set it up in five minutes."],
                  "callToAction": "Start free"},
    "social_ad": {"subjectLine": "Plan smarter with Acme", "callToAction": "Learn more",
                  "contentBody": "Mock ad: Acme Planner keeps the whole week in one view."},
}
USAGE = {"prompt_tokens": 42, "completion_tokens": 17, "total_tokens": 59}


def completion(content):
    return json.dumps({
        "id": "chatcmpl-{{timestamp}}", "object": "chat.completion",
        "model": "{{jmes request body.model}}",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                     "finish_reason": "stop"}],
        "usage": USAGE,
    })


def config_yaml():
    """mock-llm rules (last match wins), as YAML. JSON is valid YAML, but the
    response templates must be strings, so each is a JSON document in a string."""
    rules = [{
        # mock-llm's own default: echo the last user message
        "path": "/v1/chat/completions", "method": "POST", "match": "@",
        "response": {"status": 200, "content": '{"id": "chatcmpl-{{timestamp}}", "object": '
                     '"chat.completion", "model": "{{jmes request body.model}}", "choices": [{'
                     '"message": {"role": "assistant", "content": '
                     '"{{jmes request body.messages[-1].content}}"}, "finish_reason": "stop"}]}'},
    }]
    for name, ans in ANSWERS.items():
        rules.append({"path": "/v1/chat/completions", "method": "POST",
                      "match": f"body.response_format.json_schema.name == '{name}'",
                      "response": {"status": 200, "content": completion(json.dumps(ans))}})
    rules.append({"path": "/v1/chat/completions", "method": "POST",
                  "match": "contains(body.messages[-1].content, 'mock-plain-text')",
                  "response": {"status": 200,
                               "content": completion("Sure! Here is a great post about planning.")}})
    rules.append({"path": "/v1/chat/completions", "method": "POST",
                  "match": "contains(body.messages[-1].content, 'mock-echo')",
                  "response": rules[0]["response"]})
    rules.append({"path": "/v1/chat/completions", "method": "POST",
                  "match": "contains(body.messages[-1].content, 'mock-error-401')",
                  "response": {"status": 401, "content": json.dumps({"error": {
                      "message": "Incorrect API key provided.", "type": "invalid_request_error",
                      "param": None, "code": "invalid_api_key"}})}})
    # also: only requests that carry our bearer key get answers at all
    for r in rules:
        r["match"] = f"({r['match']}) && headers.authorization == 'Bearer {TEST_KEY}'" \
            if r["match"] != "@" else f"headers.authorization == 'Bearer {TEST_KEY}'"
    return json.dumps({"rules": rules}, indent=1)


def install():
    npm, node = shutil.which("npm"), shutil.which("node")
    if not npm or not node:
        pytest.skip(f"npm/node not installed (npm={npm}, node={node}): cannot run {PACKAGE}")
    pkg = os.path.join(os.path.dirname(os.path.dirname(MAIN)), "package.json")
    try:
        with open(pkg) as f:
            if json.load(f).get("version") == VERSION and os.path.exists(MAIN):
                return node
    except (OSError, ValueError):
        pass
    os.makedirs(CACHE, exist_ok=True)
    p = subprocess.run([npm, "install", "--prefix", CACHE, "--no-audit", "--no-fund",
                        "--loglevel=error", f"{PACKAGE}@{VERSION}"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=300)
    assert p.returncode == 0 and os.path.exists(MAIN), \
        f"npm install {PACKAGE}@{VERSION} failed ({p.returncode}):\n{p.stdout[-3000:]}"
    return node


class MockLLM:
    def __init__(self, node, workdir):
        self.port = free_ports(1)[0]
        self.url = f"http://127.0.0.1:{self.port}"
        cfg = os.path.join(workdir, "mock-llm.yaml")
        with open(cfg, "w") as f:
            f.write(config_yaml())
        self.log_path = os.path.join(workdir, "mock-llm.log")
        self.log = open(self.log_path, "w")
        env = dict(os.environ, PORT=str(self.port), HOST="127.0.0.1")
        self.proc = subprocess.Popen([node, MAIN, "--config", cfg], cwd=workdir, env=env,
                                     stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while True:
            try:
                if requests.get(self.url + "/health", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise AssertionError(f"mock-llm did not start:\n{self.output()}")
            time.sleep(0.1)

    def output(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def completions(self):
        """How many chat-completion requests mock-llm has logged."""
        return sum(1 for line in self.output().splitlines()
                   if line.strip() == "POST /v1/chat/completions")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.log.close()


@pytest.fixture(scope="module")
def mock(tmp_path_factory):
    node = install()
    m = MockLLM(node, str(tmp_path_factory.mktemp("mock-llm")))
    yield m
    m.stop()


@pytest.fixture(scope="module")
def stack(mock):
    env = dict(RELAXED_LIMITS)
    env.update({"ADCRAFT_DEV_LLM_BASE_URL": mock.url + "/v1", "ADCRAFT_DEV_LLM_API_KEY": TEST_KEY,
                "ADCRAFT_DEV_LLM_MODEL": FAKE_MODEL, "ADCRAFT_LLM_TIMEOUT_SECONDS": "5"})
    with Stack.start(env) as s:
        yield s


@pytest.fixture
def user(stack):
    return GenUser(stack)


PAIRS = [("email", "email", "email"), ("social_post", "twitter", "social_post"),
         ("ad_copy", "google_ads", "search_ad"), ("ad_copy", "linkedin", "social_ad")]


def test_generation_succeeds_against_mock_llm(user, mock, stack):
    camp = user.campaign()
    before = mock.completions()
    r = user.post("/api/content/batch-generate", {
        "campaignId": camp["id"], "save": True,
        "items": [{"contentType": t, "platform": p} for t, p, _ in PAIRS]})
    items = assert_json(r, 201)["items"]
    assert mock.completions() - before == 4, mock.output()[-2000:]
    for (t, p, schema), it in zip(PAIRS, items):
        assert not is_problem(it), (t, p, it)
        assert it["contentType"] == t and it["platform"] == p, it
        assert not limit_violations(it), limit_violations(it)
        ans = ANSWERS[schema]
        for k, v in ans.items():
            assert it[k] == v, (schema, k, it[k], v)
        assert it["metadata"]["generatedBy"] == "ai" and it["metadata"]["tokens"] == 59, it["metadata"]
    assert len(stored_content(stack, camp["id"])) == 4
    rows = usage_rows(stack, user.id)
    assert len(rows) == 4, rows
    for row in rows:
        assert (row["provider"], row["outcome"], row["http_status"]) == ("openai", "ok", 200), row
        assert (row["prompt_tokens"], row["completion_tokens"]) == (42, 17), row


def test_single_endpoints_against_mock_llm(user, mock):
    e = assert_json(user.post("/api/content/generate-email", {"product": "Acme Planner"}), 200)
    assert e["content"]["subjectLine"] == ANSWERS["email"]["subjectLine"], e
    s = assert_json(user.post("/api/content/generate-social", {"platform": "instagram"}), 200)
    assert s["content"]["hashtags"] == ANSWERS["social_post"]["hashtags"], s
    a = assert_json(user.post("/api/content/generate-ad-copy", {"platform": "google_ads"}), 200)
    assert a["content"]["headlines"] == ANSWERS["search_ad"]["headlines"], a


def test_campaign_job_against_mock_llm(user, mock, stack):
    camp = user.campaign()
    r = user.req("POST", f"/api/jobs/campaigns/{camp['id']}/generate",
                 json={"contentTypes": ["email", "social_post", "ad_copy"],
                       "platforms": ["email", "linkedin", "google_ads"], "variations": 1})
    job = assert_json(r, 202)["job"]
    done = user.wait_job(job["id"], timeout=30)
    assert done["state"] == "completed", done
    # email/email, social_post/linkedin, ad_copy/linkedin, ad_copy/google_ads
    assert done["result"]["generated"] == 4 and done["result"]["failed"] == 0, done
    items = stored_content(stack, camp["id"])
    assert len(items) == 4 and all(i["metadata"]["jobId"] == job["id"] for i in items)


def test_mock_401_is_not_retried(user, mock, stack):
    before = mock.completions()
    r = user.post("/api/content/generate-social",
                  {"platform": "linkedin", "customInstructions": "mock-error-401"})
    body = assert_problem(r, 502)
    assert "401" in body["detail"], body
    assert mock.completions() - before == 1
    assert [(u["outcome"], u["http_status"]) for u in usage_rows(stack, user.id)] == [("error", 401)]


def test_plain_text_answer_fails_the_schema_cleanly(user, mock, stack):
    before = mock.completions()
    r = user.post("/api/content/batch-generate", {
        "customInstructions": "mock-plain-text",
        "items": [{"contentType": "social_post", "platform": "linkedin"}]})
    (p,) = assert_json(r, 200)["items"]
    assert is_problem(p) and p["status"] == 503, p
    assert "JSON" in p["detail"], p
    assert mock.completions() - before == 4
    assert [u["outcome"] for u in usage_rows(stack, user.id)] == ["schema"] * 4
    assert_json(user.req("GET", "/api/content/ai-status"), 200)


def test_mock_default_echo_rule_fails_cleanly(user, mock, stack):
    """mock-llm's default rule echoes the prompt unescaped into its JSON template;
    our multi-line prompt makes that invalid, and mock-llm answers 500 itself.
    The client must treat it as a server error: retried (4 attempts), then a
    503 problem with Retry-After, one usage row per call, no 500 from us."""
    before = mock.completions()
    r = user.post("/api/content/generate-social",
                  {"platform": "linkedin", "customInstructions": "mock-echo"})
    body = assert_problem(r, 503)
    assert r.headers.get("Retry-After", "").isdigit(), r.headers
    assert "500" in body["detail"], body
    assert mock.completions() - before == 4
    rows = usage_rows(stack, user.id)
    assert [(u["outcome"], u["http_status"]) for u in rows] == [("retry", 500)] * 4, rows


def test_requests_without_our_key_get_nothing_from_the_mock(mock):
    """The rules only answer our bearer key: proof the client sent it (the tests above pass)."""
    r = requests.post(mock.url + "/v1/chat/completions", timeout=5,
                      json={"model": "x", "messages": [{"role": "user", "content": "hi"}],
                            "response_format": {"type": "json_schema",
                                                "json_schema": {"name": "email"}}})
    assert r.status_code == 404, r.text
    r = requests.post(mock.url + "/v1/chat/completions", timeout=5,
                      headers={"Authorization": f"Bearer {TEST_KEY}"},
                      json={"model": "x", "messages": [{"role": "user", "content": "hi"}],
                            "response_format": {"type": "json_schema",
                                                "json_schema": {"name": "email"}}})
    assert r.status_code == 200, r.text
    assert json.loads(r.json()["choices"][0]["message"]["content"]) == ANSWERS["email"]
