"""GET /api/metrics (issue #15 section 1, docs/operations.md#metrics): the
Prometheus text format, parsed with prometheus_client's own parser, moved by
real work through the whole stack (requests of several statuses, a generation
job through the fake LLM, an email send over SMTP to maildev, an upload, an
export, a failed job), counters that survive their children being killed, the
loopback/operator-token rule seen from a non-loopback REMOTE_ADDR on the API's
FastCGI socket, and docs/grafana-dashboard.json naming only exported metrics."""

import json
import os
import re
import secrets
import signal
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from generation_helpers import FAKE_MODEL, GenUser, usage_rows
from helpers import SOURCE_DIR, Stack, assert_json
from jobs_helpers import children, enqueue, wait_state
from test_assets import unique_png, upload
from test_edge import edge_secret, fcgi_request, params_for, unix_socket
from test_sends import Owner as SendOwner, wait

TOKEN = secrets.token_hex(32)
TEXT_FORMAT = "text/plain; version=0.0.4; charset=utf-8"
PRICE_IN, PRICE_OUT = "0.15", "0.60"  # llm_prices for the fake model, per million tokens


@pytest.fixture(scope="module")
def stack(fake, tmp_path_factory):
    token_file = tmp_path_factory.mktemp("metrics") / "metrics.token"
    token_file.write_text(TOKEN + "\n")
    env = fake.env(ADCRAFT_METRICS_TOKEN_FILE=str(token_file),
                   ADCRAFT_LLM_PRICES=f"{FAKE_MODEL} {PRICE_IN} {PRICE_OUT}")
    with Stack.start(env) as s:
        yield s


class Scrape:
    """One parsed scrape: samples by name, with their labels."""

    def __init__(self, text):
        self.text = text
        self.families = list(text_string_to_metric_families(text))
        self.types = {}
        for line in text.splitlines():
            if line.startswith("# TYPE "):
                _, _, name, kind = line.split(" ")
                assert name not in self.types, f"family {name} declared twice"
                self.types[name] = kind
        self.samples = [s for f in self.families for s in f.samples]

    def value(self, name, **labels):
        """The sum of the samples called name whose labels include these (0 when none)."""
        return sum(s.value for s in self.samples
                   if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()))

    def series(self, name, **labels):
        return [s for s in self.samples
                if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())]


def scrape(stack):
    r = requests.get(stack.url("/api/metrics"), timeout=10)
    assert r.status_code == 200, (r.status_code, r.text[:300])
    assert r.headers["Content-Type"] == TEXT_FORMAT, r.headers
    return Scrape(r.text)


def scrape_until_ok(stack, timeout=10):
    deadline = time.monotonic() + timeout
    while True:
        r = requests.get(stack.url("/api/metrics"), timeout=10)
        if r.status_code == 200 and "adcraft_database_up 1" in r.text:
            return Scrape(r.text)
        assert time.monotonic() < deadline, (r.status_code, r.text[-300:])
        time.sleep(0.1)


def scrape_when(stack, pred, timeout=10):
    """A scrape once pred(scrape) holds: the worker counts a job's attempt just after the
    handler returns, which may be a moment after the row it wrote says the work is done."""
    deadline = time.monotonic() + timeout
    while True:
        s = scrape(stack)
        if pred(s):
            return s
        assert time.monotonic() < deadline, "the counters did not move in time"
        time.sleep(0.05)


def delta(before, after, name, **labels):
    return after.value(name, **labels) - before.value(name, **labels)


def check_histogram(s, name, **labels):
    """Cumulative buckets never decrease, +Inf equals _count; returns _count."""
    buckets = s.series(name + "_bucket", **labels)
    assert buckets, (name, labels)
    les = [(float(b.labels["le"]), b.value) for b in buckets]
    assert les == sorted(les, key=lambda x: x[0]), les
    values = [v for _, v in les]
    assert values == sorted(values), f"buckets of {name}{labels} not monotone: {les}"
    count = s.value(name + "_count", **labels)
    assert les[-1][0] == float("inf") and les[-1][1] == count, (les[-1], count)
    assert s.value(name + "_sum", **labels) >= 0
    return count


def test_format_parses_and_every_family_is_declared_once(stack):
    s = scrape(stack)
    for fam in ("adcraft_http_requests_total", "adcraft_http_request_duration_seconds",
                "adcraft_db_errors_total", "adcraft_db_reconnects_total", "adcraft_jobs_total",
                "adcraft_job_duration_seconds", "adcraft_llm_calls_total", "adcraft_llm_tokens_total",
                "adcraft_llm_cost_total", "adcraft_llm_call_duration_seconds", "adcraft_emails_total",
                "adcraft_event_publish_failures_total", "adcraft_uploads_total", "adcraft_exports_ready_total",
                "adcraft_queue_jobs", "adcraft_queue_oldest_due_seconds", "adcraft_database_up",
                "adcraft_worker_metrics_available"):
        assert fam in s.types, f"{fam} missing from:\n{s.text[:2000]}"
    assert s.value("adcraft_worker_metrics_available") == 1
    assert s.value("adcraft_database_up") == 1
    queues = {x.labels["queue"] for x in s.series("adcraft_queue_oldest_due_seconds")}
    assert queues == {"content-generation", "email-sending", "analytics-processing", "data-exports"}, queues
    assert all(x.value >= 0 for x in s.series("adcraft_queue_oldest_due_seconds"))


def test_requests_count_by_route_and_status(stack):
    before = scrape(stack)
    for _ in range(5):
        assert stack.api("GET", "/api/health").status_code == 200
    for _ in range(3):
        assert stack.api("GET", "/api/no-such-thing").status_code == 404
    for _ in range(2):
        assert stack.api("GET", "/api/auth/me").status_code == 401
    after = scrape(stack)
    health = {"method": "GET", "route": "/api/health"}
    assert delta(before, after, "adcraft_http_requests_total", status="200", **health) == 5
    assert delta(before, after, "adcraft_http_requests_total", route="none", status="404") == 3
    assert delta(before, after, "adcraft_http_requests_total", route="/api/auth/me", status="401") == 2
    # the first scrape itself was counted once it was answered
    assert delta(before, after, "adcraft_http_requests_total", route="/api/metrics", status="200") == 1
    n0 = check_histogram(before, "adcraft_http_request_duration_seconds", status_class="2xx", **health)
    n1 = check_histogram(after, "adcraft_http_request_duration_seconds", status_class="2xx", **health)
    assert n1 - n0 == 5
    assert check_histogram(after, "adcraft_http_request_duration_seconds", route="/api/auth/me",
                           status_class="4xx") >= 2


def served_by(stack, request_ids):
    """The pids of the adcraft-api children whose log lines name these request ids."""
    pids = set()
    for line in stack.log_with("log/api.log", *request_ids).splitlines():
        try:
            o = json.loads(line)
        except ValueError:
            continue
        if o.get("requestId") in request_ids:
            pids.add(o["pid"])
    return pids


def test_children_serving_at_once_add_to_the_same_counters(stack, fake):
    """Four synchronous generations held 400 ms by the LLM occupy four children at
    once; the counters the scrape reads (whichever child serves it) have all four."""
    fake.reset()
    fake.script({"latencyMs": 400})
    users = [GenUser(stack) for _ in range(4)]
    before = scrape(stack)
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda u: u.post("/api/content/generate-social", {"platform": "linkedin"}),
                                users))
    fake.reset()
    assert [r.status_code for r in answers] == [200] * 4, [r.text[:200] for r in answers]
    assert len(served_by(stack, {r.headers["X-Request-Id"] for r in answers})) >= 2
    after = scrape(stack)
    route = {"method": "POST", "route": "/api/content/generate-social"}
    assert delta(before, after, "adcraft_http_requests_total", status="200", **route) == 4
    assert delta(before, after, "adcraft_llm_calls_total", program="api", model=FAKE_MODEL, outcome="ok") == 4
    n0 = before.value("adcraft_http_request_duration_seconds_count", status_class="2xx", **route)
    assert check_histogram(after, "adcraft_http_request_duration_seconds", status_class="2xx", **route) - n0 == 4
    # each took the LLM's 400 ms: none is in a bucket below 0.25 s
    below = after.value("adcraft_http_request_duration_seconds_bucket", le="0.25", status_class="2xx", **route) - \
        before.value("adcraft_http_request_duration_seconds_bucket", le="0.25", status_class="2xx", **route)
    assert below == 0


def test_generation_job_counts_llm_calls_tokens_cost_and_the_job(stack, fake):
    fake.reset()
    user = GenUser(stack)
    camp = user.campaign()
    before = scrape(stack)
    r = user.req("POST", f"/api/jobs/campaigns/{camp['id']}/generate-single",
                 json={"contentType": "ad_copy", "platform": "google_ads"})
    job = assert_json(r, 202)["job"]
    assert user.wait_job(job["id"], timeout=20)["state"] == "completed"
    after = scrape(stack)
    calls = len(fake.requests())
    assert calls >= 1
    model = {"program": "worker", "model": FAKE_MODEL}
    assert delta(before, after, "adcraft_llm_calls_total", outcome="ok", **model) == calls
    rows = usage_rows(stack, user.id)
    assert len(rows) == calls, rows
    pt = sum(u["prompt_tokens"] for u in rows)
    ct = sum(u["completion_tokens"] for u in rows)
    assert pt > 0 and ct > 0
    assert delta(before, after, "adcraft_llm_tokens_total", type="prompt", **model) == pt
    assert delta(before, after, "adcraft_llm_tokens_total", type="completion", **model) == ct
    cost = delta(before, after, "adcraft_llm_cost_total", **model)
    assert cost == pytest.approx(float(sum(u["cost"] for u in rows)), abs=1e-9)
    assert cost == pytest.approx((pt * float(PRICE_IN) + ct * float(PRICE_OUT)) / 1e6, abs=1e-9)
    kind = {"queue": "content-generation", "kind": "generate-single"}
    assert delta(before, after, "adcraft_jobs_total", outcome="completed", **kind) == 1
    n0 = before.value("adcraft_job_duration_seconds_count", **kind)
    assert check_histogram(after, "adcraft_job_duration_seconds", **kind) - n0 == 1
    assert check_histogram(after, "adcraft_llm_call_duration_seconds", **model) >= calls


def test_failed_job_counts_as_failed(stack):
    before = scrape(stack)
    with stack.db() as conn:
        jid = enqueue(conn, "data-exports", "noop", {"fail": "planned failure for the metrics test"})
        wait_state(stack, conn, jid, ("failed",), 20)
    after = scrape(stack)
    assert delta(before, after, "adcraft_jobs_total", queue="data-exports", kind="noop", outcome="failed") == 1
    assert delta(before, after, "adcraft_jobs_total", queue="data-exports", kind="noop", outcome="completed") == 0


def test_scheduled_job_shows_in_the_queue_gauge(stack):
    before = scrape(stack)
    with stack.db() as conn:
        jid = enqueue(conn, "analytics-processing", "noop", run_at="2999-01-01T00:00:00Z")
        try:
            after = scrape(stack)
        finally:
            conn.execute("DELETE FROM jobs WHERE id = %s", [jid])
    assert delta(before, after, "adcraft_queue_jobs", queue="analytics-processing", state="scheduled") == 1


def test_email_send_counts_sent(stack):
    owner = SendOwner(stack)
    cid, item, lst, addrs = owner.setup(n=2, unsubscribed=1)
    before = scrape(stack)
    s = owner.ok("POST", f"/api/campaigns/{cid}/sends", {"contentId": item, "listId": lst}, 201)
    owner.ok("POST", f"/api/sends/{s['id']}/approve")
    wait(lambda: owner.ok("GET", f"/api/sends/{s['id']}")["status"] == "sent", 30, "the send to finish")
    after = scrape_when(stack, lambda a: delta(before, a, "adcraft_jobs_total", queue="email-sending",
                                               kind="deliver-send", outcome="completed") >= 1)
    assert delta(before, after, "adcraft_emails_total", program="worker", outcome="sent") == 2
    assert delta(before, after, "adcraft_emails_total", outcome="bounced") == 0
    assert delta(before, after, "adcraft_jobs_total", queue="email-sending", kind="deliver-send",
                 outcome="completed") >= 1


def test_upload_and_export_count(stack):
    user = GenUser(stack)
    before = scrape(stack)
    r = upload(user, unique_png(64, 48))
    asset = assert_json(r, 201)
    r = user.req("POST", "/api/exports", json={"kind": "contacts", "format": "csv"})
    export = assert_json(r, 202)
    deadline = time.monotonic() + 30
    while export["status"] not in ("ready", "failed"):
        assert time.monotonic() < deadline, export
        time.sleep(0.05)
        export = assert_json(user.req("GET", f"/api/exports/{export['id']}"), 200)
    assert export["status"] == "ready", export
    after = scrape_when(stack, lambda a: delta(before, a, "adcraft_jobs_total", queue="data-exports",
                                               kind="export", outcome="completed") >= 1)
    assert delta(before, after, "adcraft_uploads_total", program="api") == 1
    assert delta(before, after, "adcraft_upload_bytes_total", program="api") == asset["bytes"]
    assert delta(before, after, "adcraft_exports_created_total", program="api") == 1
    assert delta(before, after, "adcraft_exports_ready_total", program="worker") == 1
    assert delta(before, after, "adcraft_export_bytes_total", program="worker") == export["bytes"]
    assert delta(before, after, "adcraft_jobs_total", queue="data-exports", kind="export", outcome="completed") == 1


def test_reconnects_are_counted_per_program(stack):
    """PostgreSQL drops every adcraft connection: each program's children reconnect, and say so."""
    before = scrape(stack)
    with stack.db() as conn:
        n = conn.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                         " WHERE usename IN ('adcraft_api', 'adcraft_worker')").fetchone()[0]
    assert n >= 2
    deadline = time.monotonic() + 20
    while True:
        # the child that meets a connection killed a moment ago answers 503 once, then reconnects
        assert stack.api("GET", "/api/health").status_code in (200, 503)
        after = scrape_until_ok(stack)
        if all(delta(before, after, "adcraft_db_reconnects_total", program=p) >= 1 for p in ("api", "worker")):
            break
        assert time.monotonic() < deadline, after.series("adcraft_db_reconnects_total")
        time.sleep(0.2)
    assert after.value("adcraft_database_up") == 1


def test_counters_survive_their_children_being_killed(stack):
    before = scrape(stack)
    for _ in range(10):
        assert stack.api("GET", "/api/health").status_code == 200
    old = stack.api_children()
    for pid in old:
        os.kill(pid, signal.SIGKILL)
    worker_pid = int(stack.read_file("run/worker.pid").split()[0])
    for pid in children(worker_pid):
        os.kill(pid, signal.SIGKILL)
    served = 10  # 200s adcraft-api answered (nginx's own 503s never reach it)
    deadline = time.monotonic() + 20
    while True:
        r = stack.api("GET", "/api/health")
        if r.status_code == 200:
            served += 1
            if not set(stack.api_children()) & set(old):
                break
        assert time.monotonic() < deadline, "children were not replaced"
        time.sleep(0.1)
    after = scrape(stack)
    health = {"route": "/api/health", "status": "200"}
    assert delta(before, after, "adcraft_http_requests_total", **health) == served
    # the worker's counters live in its master's region too: none went back
    assert after.value("adcraft_jobs_total") >= before.value("adcraft_jobs_total") > 0
    for name in ("adcraft_llm_calls_total", "adcraft_emails_total", "adcraft_db_errors_total"):
        assert after.value(name, program="worker") >= before.value(name, program="worker"), name


# --- who may read it ------------------------------------------------------------

def metrics_via_fcgi(stack, remote_addr, token=None):
    extra = {"ADCRAFT_EDGE_SECRET": edge_secret(stack), "REMOTE_ADDR": remote_addr}
    if token is not None:
        extra["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return fcgi_request(unix_socket(stack), params_for("GET", "/api/metrics", **extra))


@pytest.mark.parametrize("addr", ["203.0.113.7", "10.0.0.1", "::ffff:203.0.113.7", "2001:db8::1", "128.0.0.1"])
def test_outside_without_the_token_is_the_same_404_as_no_route(stack, addr):
    for token in (None, "x" * 64, TOKEN[:-1], TOKEN + "0"):
        r = metrics_via_fcgi(stack, addr, token)
        assert r.status == 404, (addr, token, r.status, r.body[:200])
        assert r.header("Content-Type") == "application/problem+json"
        nothing = fcgi_request(unix_socket(stack), params_for(
            "GET", "/api/no-such-route", ADCRAFT_EDGE_SECRET=edge_secret(stack), REMOTE_ADDR=addr))
        assert json.loads(r.body)["detail"] == json.loads(nothing.body)["detail"]
        assert b"adcraft_" not in r.body


@pytest.mark.parametrize("addr,token", [("203.0.113.7", TOKEN), ("127.0.0.1", None), ("127.8.9.10", None),
                                        ("::1", None), ("::ffff:127.0.0.1", None)])
def test_loopback_or_the_operator_token_is_served(stack, addr, token):
    r = metrics_via_fcgi(stack, addr, token)
    assert r.status == 200, (addr, r.status, r.body[:200])
    assert r.header("Content-Type") == TEXT_FORMAT
    Scrape(r.body.decode())


def test_through_nginx_from_loopback_a_wrong_token_does_not_matter(stack):
    """nginx passes the client's address (REMOTE_ADDR), here loopback: served whatever the token."""
    r = stack.api("GET", "/api/metrics", token="wrong")
    assert r.status_code == 200


# --- the example dashboard --------------------------------------------------------

def dashboard_metric_names():
    with open(os.path.join(SOURCE_DIR, "docs", "grafana-dashboard.json")) as f:
        dash = json.load(f)
    exprs = []

    def walk(x):
        if isinstance(x, dict):
            for k, v in x.items():
                if k in ("expr", "query", "definition") and isinstance(v, str):
                    exprs.append(v)
                walk(v)
        elif isinstance(x, list):
            for v in x:
                walk(v)
    walk(dash)
    assert exprs, "the dashboard has no queries"
    return {n for e in exprs for n in re.findall(r"\badcraft_[a-z_]+", e)}


def test_every_metric_the_dashboard_uses_is_exported(stack):
    s = scrape(stack)
    names = dashboard_metric_names()
    assert len(names) >= 10, names
    exported = set(s.types)
    for kind_suffixes in (("histogram", ("_bucket", "_sum", "_count")),):
        kind, suffixes = kind_suffixes
        exported |= {n + suf for n, t in s.types.items() if t == kind for suf in suffixes}
    missing = sorted(names - exported)
    assert not missing, f"the dashboard uses metrics /api/metrics does not export: {missing}"
