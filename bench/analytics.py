#!/usr/bin/python3
"""bench/analytics.py - analytics ingestion, rollup and report figures (issue #12), printed, never asserted.

  * ANALYTICS_EVENTS (1,000,000) events through POST /api/analytics/events in
    batches of 1,000 by ANALYTICS_CLIENTS (4) concurrent clients, every event
    with its own eventId (so deduplication is paid), spread over 10 content
    items, 5 types, 2 variants and the last 30 days: events per second;
  * beside it, in the same run, a plain COPY of the same rows into
    analytics_events (one COPY, superuser, no validation, no deduplication,
    no rollup queue): rows per second, and the ratio (target >= 0.3x);
  * rollup lag: from the last batch's answer until nothing is pending and
    no rollup job waits, and the rollup rate over that time;
  * report latency over those 1M events: ANALYTICS_REPORTS (100) requests
    each of the campaign report (daily 30 days, hourly 7 days, per content,
    per platform, per variant, daily in America/New_York), the overview and
    the dashboard, one at a time: p50 and p95 (target p50 <= 20 ms).
"""

import io
import json
import os
import random
import statistics
import sys
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone

import psycopg
import requests

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
from helpers import Stack  # noqa: E402
from results import record  # noqa: E402

N = int(os.environ.get("ANALYTICS_EVENTS", "1000000"))
CLIENTS = int(os.environ.get("ANALYTICS_CLIENTS", "4"))
REPORTS = int(os.environ.get("ANALYTICS_REPORTS", "100"))
BATCH = 1000
TYPES = ["impression"] * 6 + ["open", "click", "click", "conversion", "spend"]
PLATFORMS = ["google_ads", "facebook", "linkedin", "twitter", "instagram"]
NOW = datetime.now(timezone.utc)


def batch_events(campaign, items, n, rng):
    """n events: (eventId, type, contentId, platform, variant, occurredAt, value)."""
    out = []
    for _ in range(n):
        t = rng.choice(TYPES)
        item, platform = rng.choice(items)
        when = NOW - timedelta(seconds=rng.randrange(30 * 86400))
        value = round(rng.uniform(0.1, 80), 2) if t in ("conversion", "spend") else None
        out.append((uuid.uuid4().hex, t, item, platform, rng.choice("AB"), when, value))
    return out


def body(campaign, events):
    return json.dumps({"events": [
        {"eventId": e[0], "type": e[1], "campaignId": campaign, "contentId": e[2], "variant": e[4],
         "occurredAt": e[5].strftime("%Y-%m-%dT%H:%M:%S.%fZ"), **({"value": e[6]} if e[6] is not None else {})}
        for e in events]}).encode()


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def main():
    env = {"ADCRAFT_DEV_API_RATE": "100000r/s", "ADCRAFT_DEV_API_BURST": "100000",
           "ADCRAFT_DEV_AUTH_RATE": "1000r/s", "ADCRAFT_DEV_AUTH_BURST": "5000",
           "ADCRAFT_DEV_PROCESSES": os.environ.get("ADCRAFT_DEV_PROCESSES", "4")}
    with Stack.start(env) as s:
        user, token, _ = s.register_user()
        http = requests.Session()
        http.headers.update({"Authorization": f"Bearer {token}"})

        def ok(method, path, payload=None, **kw):
            r = http.request(method, s.url(path), json=payload, timeout=120, **kw)
            assert r.status_code in (200, 201, 202), (path, r.status_code, r.text[:500])
            return r.json()

        camp = ok("POST", "/api/campaigns", {"name": "Bench analytics", "objective": "conversion"})["id"]
        items = []
        for i in range(10):
            p = PLATFORMS[i % len(PLATFORMS)]
            ctype = "ad_copy" if p in ("google_ads", "facebook") else "social_post"
            it = ok("POST", f"/api/campaigns/{camp}/content",
                    {"contentType": ctype, "platform": p, "contentBody": f"Plan less, do more. Variant {i}."})
            items.append((it["id"], p))
        copy_camp = ok("POST", "/api/campaigns", {"name": "Bench COPY", "objective": "conversion"})["id"]

        # ---- ingestion through the API
        batches = N // BATCH
        next_batch = [0]
        lock = threading.Lock()
        failures = []
        latencies = []

        # the bodies are made before the clock starts, as COPY's rows are: the clients share the CPUs
        rng = random.Random(1)
        bodies = [body(camp, batch_events(camp, items, BATCH, rng)) for _ in range(batches)]

        def client(k):
            sess = requests.Session()
            sess.headers.update({"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
            while True:
                with lock:
                    if next_batch[0] >= batches:
                        return
                    data = bodies[next_batch[0]]
                    next_batch[0] += 1
                t0 = time.monotonic()
                r = sess.post(s.url("/api/analytics/events"), data=data, timeout=120)
                dt = time.monotonic() - t0
                with lock:
                    latencies.append(dt)
                    if r.status_code != 202 or r.json()["accepted"] != BATCH:
                        failures.append((r.status_code, r.text[:300]))

        threads = [threading.Thread(target=client, args=(k,)) for k in range(CLIENTS)]
        t0 = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        api_wall = time.monotonic() - t0
        api_done = time.monotonic()
        del bodies

        # ---- rollup lag
        db = psycopg.connect(host=s.pg_socket_dir, port=s.pg_port, dbname="adcraft", user="postgres",
                             autocommit=True)
        while db.execute("SELECT EXISTS (SELECT FROM analytics_pending) OR EXISTS (SELECT FROM jobs"
                         " WHERE kind = 'analytics-rollup' AND state IN ('queued', 'running'))").fetchone()[0]:
            time.sleep(0.05)
        lag = time.monotonic() - api_done
        stored = db.execute("SELECT count(*) FROM analytics_events WHERE campaign_id = %s", (camp,)).fetchone()[0]
        rolled = db.execute("SELECT sum(impressions + opens + clicks + conversions) FROM analytics_daily"
                            " WHERE campaign_id = %s", (camp,)).fetchone()[0]
        spend_events = db.execute("SELECT count(*) FROM analytics_events WHERE campaign_id = %s AND type = 'spend'",
                                  (camp,)).fetchone()[0]

        # ---- the same rows with a plain COPY
        rng = random.Random(99)
        rows = io.StringIO()
        for _ in range(batches):
            for e in batch_events(copy_camp, items, BATCH, rng):
                rows.write("\t".join([user["id"], copy_camp, e[2], e[4], e[3], e[1], "1",
                                      "\\N" if e[6] is None else str(e[6]), e[5].isoformat(), "api", e[0]]) + "\n")
        data = rows.getvalue()
        t0 = time.monotonic()
        with db.cursor() as cur:
            with cur.copy("COPY analytics_events (user_id, campaign_id, content_id, variant, platform, type,"
                          " quantity, value, occurred_at, source, event_id) FROM STDIN") as cp:
                cp.write(data)
        copy_wall = time.monotonic() - t0

        # ---- reports
        today = NOW.date()
        f30, f7 = today - timedelta(days=29), today - timedelta(days=6)
        targets = [
            ("campaign, daily, 30 days", f"/api/campaigns/{camp}/analytics?from={f30}&to={today}"),
            ("campaign, hourly, 7 days", f"/api/campaigns/{camp}/analytics?from={f7}&to={today}&interval=hour"),
            ("campaign, daily, per content", f"/api/campaigns/{camp}/analytics?groupBy=content"),
            ("campaign, daily, per platform", f"/api/campaigns/{camp}/analytics?groupBy=platform"),
            ("campaign, daily, per variant", f"/api/campaigns/{camp}/analytics?groupBy=variant"),
            ("campaign, daily, America/New_York", f"/api/campaigns/{camp}/analytics?tz=America/New_York"),
            ("overview, 30 days", f"/api/analytics/overview?from={f30}&to={today}"),
            ("dashboard", "/api/campaigns/dashboard"),
        ]
        report_rows = []
        for name, path in targets:
            ok("GET", path)
            ms = []
            for _ in range(REPORTS):
                t0 = time.monotonic()
                r = http.get(s.url(path), timeout=60)
                ms.append((time.monotonic() - t0) * 1000)
                assert r.status_code == 200, (path, r.status_code, r.text[:300])
            report_rows.append((name, statistics.median(ms), pct(ms, 95), len(r.content)))
        sizes = db.execute("SELECT pg_size_pretty(pg_total_relation_size('analytics_hourly')),"
                           " pg_size_pretty(pg_total_relation_size('analytics_daily')),"
                           " (SELECT count(*) FROM analytics_hourly), (SELECT count(*) FROM analytics_daily)").fetchone()
        db.close()

    api_rate = stored / api_wall
    copy_rate = N / copy_wall
    print(f"\nadcraft bench/analytics.sh  {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}  "
          f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}, {CLIENTS} clients, "
          f"{env['ADCRAFT_DEV_PROCESSES']} api processes")
    print(f"  API ingestion: {stored:,} of {N:,} events stored in {api_wall:.1f} s = {api_rate:,.0f} events/s"
          f" ({batches} batches of {BATCH}; batch latency p50 {statistics.median(latencies) * 1000:.0f} ms,"
          f" p95 {pct(latencies, 95) * 1000:.0f} ms; {len(failures)} failed batches)")
    if failures:
        print(f"    first failure: {failures[0]}")
    print(f"  plain COPY of the same rows: {N:,} rows in {copy_wall:.1f} s = {copy_rate:,.0f} rows/s")
    print(f"  ratio: {api_rate / copy_rate:.2f}x COPY (target >= 0.3: {'met' if api_rate / copy_rate >= 0.3 else 'MISSED'})")
    print(f"  rollup lag after the last batch: {lag:.1f} s; rollups hold {rolled + spend_events:,} events"
          f" ({sizes[2]:,} hourly rows, {sizes[0]}; {sizes[3]:,} daily rows, {sizes[1]})")
    print(f"  report latency, {REPORTS} requests each, one at a time:")
    for name, p50, p95, size in report_rows:
        print(f"    {name:<36} p50 {p50:6.1f} ms  p95 {p95:6.1f} ms  ({size:,} bytes)")
    worst = max(r[1] for r in report_rows)
    print(f"  worst p50 {worst:.1f} ms (target <= 20 ms: {'met' if worst <= 20 else 'MISSED'})")
    record("analytics events/s vs plain COPY", api_rate, "events/s", "COPY rows/s", copy_rate, "ratio >= 0.3")
    record("analytics rollup lag after last batch", lag, "s")
    record("analytics report p50, worst report", worst, "ms", "-", "-", "value <= 20")


if __name__ == "__main__":
    main()
