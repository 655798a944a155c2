#!/usr/bin/python3
"""bench/generation.py - content generation figures (issue #5), printed, never asserted.

  * a 12-item campaign job against a fake OpenAI-compatible LLM answering in
    500 ms, wall time from POST .../generate to job completed (target <= 1.5 s),
    beside the ideal for the configured concurrency (ceil(12/6) x 0.5 s) and
    the sequential time (12 x 0.5 s), both computed for the same latency;
  * synchronous generate-social latency with the builtin provider, without
    and with a brand profile applied (forbidden terms, competitors,
    preferred terms, two disclaimers, no emoji), beside GET /api/health
    measured in the same run (the HTTP floor);
  * peak RSS of the worker processes (VmHWM);
  * builtin copy quality over tests/fixtures/builtin-briefs.json (every
    content type x platform x 3 variants per brief, through the API): the
    share of items passing every check (each part of qualityBreakdown >= 60),
    the share free of truncation and grammar failures, and the scores.
Each stack is started with ./dev in its own temp dir and stopped at the end.
"""

import json
import math
import os
import statistics
import subprocess
import sys
import time

import requests

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
from helpers import RELAXED_LIMITS, Stack  # noqa: E402
from results import record  # noqa: E402

LATENCY_MS = int(os.environ.get("GEN_LATENCY_MS", "500"))
ROUNDS = int(os.environ.get("GEN_ROUNDS", "5"))
SYNC_REQUESTS = int(os.environ.get("GEN_SYNC_REQUESTS", "300"))
CONCURRENCY = 6

SETTINGS = {"contentTypes": ["email", "social_post", "ad_copy"],
            "platforms": ["email", "linkedin", "twitter", "google_ads"], "variations": 2}  # 6 valid pairs x 2


def start_fake():
    p = subprocess.Popen(["/usr/bin/python3", os.path.join(HERE, "..", "tests", "fake", "fake_llm.py"), "--port", "0"],
                         stdout=subprocess.PIPE, text=True)
    port = int(p.stdout.readline().split()[1])
    requests.post(f"http://127.0.0.1:{port}/control", json={"script": [{"mode": "ok", "latencyMs": LATENCY_MS}]})
    return p, port


def campaign(stack, token, persona=None):
    r = stack.api("POST", "/api/campaigns", token=token, json={
        "name": "Bench launch", "objective": "conversion", "keywords": "automation, CRM",
        "description": "Automates follow-ups.", "generationSettings": SETTINGS, **({"personaId": persona} if persona else {})})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def run_job(stack, token, cid):
    t0 = time.monotonic()
    r = stack.api("POST", f"/api/jobs/campaigns/{cid}/generate", token=token)
    assert r.status_code == 202, r.text
    job = r.json()["job"]["id"]
    while True:
        j = stack.api("GET", f"/api/jobs/content-generation/{job}", token=token).json()
        if j["state"] in ("completed", "failed", "cancelled"):
            break
        time.sleep(0.01)
    wall = time.monotonic() - t0
    assert j["state"] == "completed" and j["result"]["generated"] == 12, j
    return wall


def worker_peak_rss_kib(stack):
    master = int(open(os.path.join(stack.dir, "run", "worker.pid")).read())
    kids = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True).stdout.split()
    peaks = []
    for pid in kids:
        for line in open(f"/proc/{pid}/status"):
            if line.startswith("VmHWM:"):
                peaks.append(int(line.split()[1]))
    return max(peaks) if peaks else 0, sum(peaks), len(peaks)


FIXTURES = os.path.join(HERE, "..", "tests", "fixtures", "builtin-briefs.json")
PAIRS = [("email", "email")] + [("social_post", p) for p in ("linkedin", "twitter", "facebook", "instagram")] + \
    [("ad_copy", p) for p in ("google_ads", "facebook", "linkedin", "instagram", "twitter")]


def builtin_quality(stack, token):
    """Items of every fixture brief, as the API returns them (scored by the server)."""
    items = []
    for i, fx in enumerate(json.load(open(FIXTURES))):
        persona = {k: v for k, v in fx["persona"].items() if v is not None}
        r = stack.api("POST", "/api/personas", token=token, json=persona)
        assert r.status_code == 201, r.text
        settings = {"creativityLevel": fx["creativityLevel"]}
        if fx.get("customInstructions"):
            settings["customInstructions"] = fx["customInstructions"]
        body = {"name": f"Bench brief {i}", "objective": fx["objective"], "personaId": r.json()["id"],
                "generationSettings": settings}
        for k in ("product", "tone", "keywords", "description"):
            if fx.get(k):
                body[k] = fx[k]
        r = stack.api("POST", "/api/campaigns", token=token, json=body)
        assert r.status_code == 201, r.text
        cid = r.json()["id"]
        slots = [{"contentType": t, "platform": p, "variant": v} for t, p in PAIRS for v in range(3)]
        for k in range(0, len(slots), 20):
            r = stack.api("POST", "/api/content/batch-generate", token=token,
                          json={"campaignId": cid, "items": slots[k:k + 20]})
            assert r.status_code == 200, r.text
            items += r.json()["items"]
    return items


def pct(values, q):
    s = sorted(values)
    return s[min(len(s) - 1, int(math.ceil(q * len(s))) - 1)]


def main():
    fake, port = start_fake()
    rows = []
    try:
        env = dict(RELAXED_LIMITS, ADCRAFT_DEV_LLM_BASE_URL=f"http://127.0.0.1:{port}/v1",
                   ADCRAFT_DEV_LLM_API_KEY="bench", ADCRAFT_DEV_TOKEN_LIMIT="0")
        with Stack.start(env) as s:
            _, token, _ = s.register_user()
            walls = [run_job(s, token, campaign(s, token)) for _ in range(ROUNDS)]
            peak, total, n = worker_peak_rss_kib(s)
        ideal = math.ceil(12 / CONCURRENCY) * LATENCY_MS / 1000
        sequential = 12 * LATENCY_MS / 1000
        med = statistics.median(walls)
        rows.append(("12-item campaign job, fake LLM %d ms" % LATENCY_MS, f"{med:.3f} s median",
                     f"min {min(walls):.3f} / max {max(walls):.3f}", f"<= 1.5 s: {'met' if med <= 1.5 else 'MISSED'}",
                     f"{med / ideal:.2f}x ideal ({ideal:.1f} s), {sequential / med:.1f}x faster than sequential"))
        rows.append(("worker peak RSS (VmHWM)", f"{peak / 1024:.1f} MiB largest", f"{total / 1024:.1f} MiB over {n}", "", ""))
        record("12-item generation job vs ideal", med, "s", "ideal s", ideal, "value <= 1.5")
        record("worker peak RSS during generation", peak / 1024, "MiB", "-", "-", "value <= 16")

        with Stack.start(dict(RELAXED_LIMITS)) as s:
            _, token, _ = s.register_user()
            session = requests.Session()
            h = {"Authorization": f"Bearer {token}"}

            def timed(method, path, body=None):
                out = []
                for _ in range(SYNC_REQUESTS):
                    t0 = time.perf_counter()
                    r = session.request(method, s.url(path), json=body, headers=h)
                    out.append((time.perf_counter() - t0) * 1000)
                    assert r.status_code == 200, r.text
                return out

            health = timed("GET", "/api/health")
            social = {"platform": "linkedin", "product": "Acme Flow", "keywords": "automation, CRM"}
            gen = timed("POST", "/api/content/generate-social", social)
            r = session.post(s.url("/api/brand-profiles"), headers=h, json={
                "name": "Acme voice", "voice": "Plain, warm and confident. Short sentences.", "formality": 2,
                "emojiPolicy": "none", "readingLevel": {"maxGrade": 8},
                "preferredTerms": [{"term": "affordable", "replaces": ["cheap", "inexpensive"]},
                                   {"term": "customers", "replaces": ["clients"]}],
                "forbiddenTerms": ["cheap", "guaranteed"], "competitors": ["Trello", "Monday.com"],
                "requiredDisclaimers": [{"text": "Terms apply."},
                                        {"text": "Unsubscribe anytime.", "contentTypes": ["email"]}],
                "examples": ["Your week, planned in five minutes."]})
            assert r.status_code == 201, r.text
            branded = timed("POST", "/api/content/generate-social", dict(social, brandProfileId=r.json()["id"]))
            batch = timed("POST", "/api/content/batch-generate", {"product": "Acme Flow", "items": [
                {"contentType": t, "platform": p} for t, p in [("email", "email"), ("social_post", "linkedin"),
                                                               ("social_post", "twitter"), ("ad_copy", "google_ads")]]})
            quality = builtin_quality(s, token)
        for name, v in (("GET /api/health (floor)", health), ("generate-social, builtin", gen),
                        ("generate-social, builtin + brand profile", branded),
                        ("batch-generate 4 items, builtin", batch)):
            rows.append((name, f"p50 {statistics.median(v):.2f} ms", f"p99 {pct(v, 0.99):.2f} ms",
                         f"{1000 / statistics.mean(v):.0f} req/s sequential",
                         f"{statistics.median(v) / statistics.median(health):.1f}x health p50"))
        scores = [it["qualityScore"] for it in quality]
        every = sum(all(p["score"] >= 60 for p in it["qualityBreakdown"].values()) for it in quality)
        whole = sum(it["qualityBreakdown"]["truncation"]["score"] == 100 and
                    it["qualityBreakdown"]["grammar"]["score"] == 100 for it in quality)
        rows.append((f"builtin quality, {len(quality)} items", f"{100 * every / len(quality):.1f}% pass every check",
                     f"{100 * whole / len(quality):.1f}% whole and grammatical",
                     f"score mean {statistics.mean(scores):.1f}",
                     f"min {min(scores)} / median {statistics.median(scores):.0f} / max {max(scores)}"))
    finally:
        fake.terminate()
    record("builtin copy passing every check", 100 * every / len(quality), "%")
    print("\nadcraft bench/generation.sh  %s  %d CPUs" % (time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), os.cpu_count()))
    width = max(len(r[0]) for r in rows)
    for r in rows:
        print(f"{r[0]:<{width}}  {r[1]:<18} {r[2]:<26} {r[3]:<26} {r[4]}")


if __name__ == "__main__":
    main()
