"""OWASP API10:2023 Unsafe Consumption of APIs.

The LLM's answer is untrusted input: adcraft parses it with the same JSON
code that reads client bodies (issue #8 §1.1). The fake OpenAI-compatible
server (tests/fake/fake_llm.py) answers with hostile output, every time
(retries and repairs included): huge, malformed, single-quoted JSON (the
key from §1.1 among them), deep nesting, NUL bytes, lone surrogates, script
in the copy, wrong types, wrong shapes, a garbage Retry-After. (A huge
Retry-After is capped at 60 s in src/gen/generate.c, so it holds a
synchronous request for its whole 50 s budget: too slow to test here.) For each, a synchronous generation
and a generation job either fail cleanly (problem+json 502/503; job failed
with an error) or produce valid, in-limit content; no adcraft-api or
adcraft-worker process dies, and the campaign is left usable.
"""

import json
import time

import pytest

from generation_helpers import GenUser, limit_violations, stored_content
from helpers import Stack, assert_json, assert_problem
from jobs_helpers import children

DEEP = 100000
HOSTILE = {
    "huge_20MiB": {"mode": "huge", "sizeBytes": 20 * 1024 * 1024},
    "malformed_body": {"mode": "malformed"},
    "truncated_length": {"mode": "length"},
    "refusal": {"mode": "refusal"},
    "single_quoted": {"content": "{'contentBody': 'Plan less.', 'callToAction': 'Go', 'hashtags': []}"},
    "single_quoted_brackets_key": {"content": "{']]]]][':1}"},
    "single_quoted_nested": {"content": "{\"contentBody\": {'a': [[[']]]]]']]]}}"},
    "deep_arrays": {"content": '{"contentBody":' + "[" * DEEP + "]" * DEEP + "}"},
    "deep_objects": {"content": '{"a":' * DEEP + "1" + "}" * DEEP},
    "unbalanced_closers": {"content": "]]]]]]]]}}}}}}}" * 1000},
    "unbalanced_openers": {"content": "[[[[{{{{" * 10000},
    "nul_escaped": {"fields": {"contentBody": "Plan\u0000 less, do more.", "callToAction": "Go\u0000"}},
    "nul_raw_in_json_text": {"content": '{"contentBody":"Plan less.\x00","callToAction":"Go","hashtags":[]}'},
    "lone_surrogate": {"content": '{"contentBody":"Plan \\ud800 less","callToAction":"Go","hashtags":[]}'},
    "script_in_copy": {"fields": {"contentBody": "<script>alert(document.cookie)</script> Plan less.",
                                  "callToAction": "<img src=x onerror=alert(1)>",
                                  "hashtags": ["<script>", "ok"]}},
    "wrong_types": {"fields": {"contentBody": 12345, "callToAction": ["x"], "hashtags": "notalist"}},
    "nulls": {"fields": {"contentBody": None, "callToAction": None, "hashtags": [None, "a"]}},
    "hashtag_flood": {"fields": {"hashtags": [f"tag{i}" for i in range(100000)]}},
    "huge_string_field": {"fields": {"contentBody": "x" * (4 * 1024 * 1024)}},
    "json_null": {"content": "null"},
    "json_array": {"content": "[]"},
    "json_string": {"content": '"just a string"'},
    "huge_number": {"content": '{"contentBody": 1e999999, "callToAction": -1e999999}'},
    "duplicate_keys": {"content": '{"contentBody":"a","contentBody":"b","callToAction":"Go","hashtags":[]}'},
    "trailing_garbage": {"content": '{"contentBody":"Plan less.","callToAction":"Go","hashtags":[]} trailing'},
    "empty": {"content": ""},
    "http_200_html": {"mode": "http", "status": 200, "body": "<html><body>gateway</body></html>"},
    "http_200_wrong_shape": {"mode": "http", "status": 200, "body": '{"choices": "x"}'},
    "http_200_content_not_string": {"mode": "http", "status": 200,
                                    "body": '{"choices":[{"message":{"content":5}}],"usage":{}}'},
    "http_200_negative_usage": {"mode": "http", "status": 200, "body": json.dumps({
        "choices": [{"finish_reason": "stop", "message": {"role": "assistant", "content": json.dumps(
            {"contentBody": "Plan less.", "callToAction": "Go", "hashtags": []})}}],
        "usage": {"prompt_tokens": -5, "completion_tokens": -99999999999, "total_tokens": "x"}})},
    "http_500_huge_error": {"mode": "http", "status": 500, "body": "e" * (2 * 1024 * 1024)},
    "retry_after_garbage": {"mode": "http", "status": 429, "headers": {"Retry-After": "-1; DROP"}},
}

for _rule in HOSTILE.values():
    # small usage figures: the tests are about parsing, not the daily token limit
    if _rule.get("mode") not in ("http", "huge", "malformed"):
        _rule.setdefault("usage", {"prompt_tokens": 50, "completion_tokens": 50})

# The job runs the same parser in the worker: a representative subset keeps the
# file's run time reasonable (each hostile answer costs four attempts with backoff).
JOB_CASES = ["single_quoted_brackets_key", "deep_arrays", "nul_raw_in_json_text", "script_in_copy",
             "huge_20MiB"]
SYNC_BUDGET_S = 50  # src/api/generation.c SYNC_BUDGET_MS


@pytest.fixture(scope="module")
def stack(fake):
    # retries back off from 20 ms instead of 500 ms: every hostile answer is
    # retried and repaired the same number of times, just sooner
    with Stack.start(fake.env(ADCRAFT_LLM_RETRY_BASE_MS="20")) as s:
        yield s


def processes(stack):
    api = int(stack.read_file("run/api.pid").split()[0])
    worker = int(stack.read_file("run/worker.pid").split()[0])
    return {"api": children(api), "worker": children(worker)}


def clean_text(item):
    """Copy that reached the client: no NUL, valid strings, within limits."""
    assert not limit_violations(item), (limit_violations(item), item)
    for k, v in item.items():
        if isinstance(v, str):
            assert "\x00" not in v, (k, v)
            v.encode("utf-8")  # no lone surrogates
    return item


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_llm_answer_sync(stack, fake, name):
    fake.script(HOSTILE[name])
    user = GenUser(stack)
    before = processes(stack)
    t0 = time.monotonic()
    r = user.post("/api/content/generate-social", {"platform": "twitter", "product": "Planner"},
                  timeout=120)
    assert time.monotonic() - t0 < SYNC_BUDGET_S + 5, "the synchronous budget was not kept"
    assert r.status_code in (200, 429, 502, 503, 504), (name, r.status_code, r.text[:300])
    if r.status_code == 200:
        clean_text(assert_json(r, 200)["content"])
    else:
        body = assert_problem(r, r.status_code)
        assert len(r.content) < 16 * 1024, len(r.content)
        assert "<script" not in body["detail"] and "\x00" not in body["detail"], body
    assert r.headers.get("Content-Type", "").split(";")[0] in ("application/json",
                                                               "application/problem+json")
    assert processes(stack) == before, f"{name}: a process died: {before} -> {processes(stack)}"
    fake.reset()  # the stack answers normally again
    assert_json(user.post("/api/content/generate-social", {"platform": "twitter"}, timeout=60), 200)


@pytest.mark.parametrize("name", JOB_CASES)
def test_hostile_llm_answer_job(stack, fake, name):
    fake.script(HOSTILE[name])
    user = GenUser(stack)
    campaign = user.campaign()
    before = processes(stack)
    r = user.post(f"/api/jobs/campaigns/{campaign['id']}/generate-single",
                  {"contentType": "social_post", "platform": "linkedin"})
    job = assert_json(r, 202)["job"]
    done = user.wait_job(job["id"], timeout=120, interval=0.1)
    assert done["state"] in ("completed", "failed"), done
    if done["state"] == "failed":
        assert done["error"], done
        assert "\x00" not in json.dumps(done["error"]), done
    for item in stored_content(stack, campaign["id"]) or []:
        clean_text(item)
    assert processes(stack) == before, f"{name}: a process died: {before} -> {processes(stack)}"
    fake.reset()
    # the campaign is usable again
    deadline = time.monotonic() + 10
    while user.get_campaign(campaign["id"])["status"] == "generating" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert user.get_campaign(campaign["id"])["status"] != "generating"
    again = assert_json(user.post(f"/api/jobs/campaigns/{campaign['id']}/generate-single",
                                  {"contentType": "social_post", "platform": "linkedin"}), 202)["job"]
    assert user.wait_job(again["id"], timeout=60)["state"] == "completed"
