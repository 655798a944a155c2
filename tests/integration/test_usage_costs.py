"""Costs in money and per-user budgets (issue #10 section 5) against the fake
LLM: the cost of every call in llm_usage (llm_prices), GET /api/usage and its
groupings and validation, the daily and monthly limits in tokens and money
(429 + Retry-After on sync endpoints, a failed job), per-user overrides set
with `adcraft user limits`, and ai-status's figures.

The fake model costs 1.50 per million input tokens and 2.00 per million
output tokens (USD). A reservation holds llm_token_estimate (2000) tokens at
the higher price: 0.004. Builtin calls (cost 0, 0 tokens) are covered in
test_generation_builtin.py, whose stack has no LLM."""

import calendar
import datetime as dt
import json
import os
import subprocess
import time
from collections import defaultdict
from decimal import Decimal

import pytest

from generation_helpers import FAKE_MODEL, GenUser, usage_rows
from helpers import BUILD_DIR, Stack, assert_json, assert_problem

PRICES = f"{FAKE_MODEL} 1.50 2.00 USD, other-model 9 9"
PRICE_IN, PRICE_OUT = Decimal("1.50"), Decimal("2.00")
DEFAULTS = {"ADCRAFT_DEV_TOKEN_LIMIT": "5000000", "ADCRAFT_MONTHLY_TOKEN_LIMIT": "90000000",
            "ADCRAFT_DAILY_COST_LIMIT": "5", "ADCRAFT_MONTHLY_COST_LIMIT": "120.50",
            "ADCRAFT_LLM_PRICES": PRICES, "ADCRAFT_GENERATION_CONCURRENCY_PER_USER": "8"}


@pytest.fixture(scope="module")
def stack(fake):
    with Stack.start(fake.env(**DEFAULTS)) as s:
        yield s


@pytest.fixture
def user(stack, fake):
    fake.reset()
    return GenUser(stack)


def cost_of(prompt, completion):
    return (prompt * PRICE_IN + completion * PRICE_OUT) / 1000000


def limits_cli(stack, email, *args):
    """`adcraft user limits EMAIL ...` with the stack's configuration (and its ADCRAFT_* overrides)."""
    env = dict(os.environ)
    env.update(DEFAULTS)
    env["ADCRAFT_DAILY_TOKEN_LIMIT"] = DEFAULTS["ADCRAFT_DEV_TOKEN_LIMIT"]
    return subprocess.run([os.path.join(BUILD_DIR, "adcraft"), "--config", os.path.join(stack.dir, "adcraft.conf"),
                           "user", "limits", email, *args], env=env, capture_output=True, text=True, timeout=30)


def set_limits(stack, user, *args):
    email = user_email(stack, user)
    p = limits_cli(stack, email, *args)
    assert p.returncode == 0, (p.returncode, p.stdout, p.stderr)
    return json.loads(p.stdout)


def user_email(stack, user):
    return stack.scalar("SELECT email FROM users WHERE id = %s", [user.id])


def social(user, **body):
    return user.post("/api/content/generate-social", dict({"platform": "linkedin"}, **body))


def seconds_until(period):
    now = dt.datetime.now(dt.timezone.utc)
    if period == "day":
        end = (now + dt.timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    else:
        y, m = (now.year + 1, 1) if now.month == 12 else (now.year, now.month + 1)
        end = dt.datetime(y, m, 1, tzinfo=dt.timezone.utc)
    return (end - now).total_seconds()


def assert_limited(r, limit, period):
    b = assert_problem(r, 429)
    assert limit in b["detail"] and "used up" in b["detail"], b
    ra = r.headers.get("Retry-After", "")
    assert ra.isdigit(), r.headers
    assert abs(int(ra) - seconds_until(period)) <= 5, (ra, seconds_until(period))
    return b


# --- cost per call -------------------------------------------------------------------

def test_every_call_records_its_cost(user, fake, stack):
    fake.script({"usage": {"prompt_tokens": 1000, "completion_tokens": 500}})
    assert_json(social(user), 200)
    assert_json(user.post("/api/content/generate-email", {}), 200)
    rows = usage_rows(stack, user.id)
    assert len(rows) == 2, rows
    for r in rows:
        assert (r["prompt_tokens"], r["completion_tokens"]) == (1000, 500), r
        assert r["cost"] == Decimal("0.0025") == cost_of(1000, 500), r
        assert r["currency"] == "USD" and r["model"] == FAKE_MODEL, r
    # calls that fail are priced by the tokens the provider reported: none for a 500
    fake.script({"mode": "http", "status": 500, "times": 1}, {"usage": {"prompt_tokens": 7, "completion_tokens": 3}})
    assert_json(social(user), 200)
    rows = usage_rows(stack, user.id)[2:]
    assert [(r["http_status"], r["cost"]) for r in rows] == [(500, 0), (200, cost_of(7, 3))], rows
    assert stack.scalar("SELECT count(*) FROM llm_reservations WHERE user_id = %s", [user.id]) == 0


# --- GET /api/usage ------------------------------------------------------------------

def expected_groups(rows, key):
    groups = defaultdict(lambda: {"calls": 0, "promptTokens": 0, "completionTokens": 0, "cost": Decimal(0)})
    for r in rows:
        g = groups[key(r)]
        g["calls"] += 1
        g["promptTokens"] += r["prompt_tokens"]
        g["completionTokens"] += r["completion_tokens"]
        g["cost"] += r["cost"]
    return groups


def as_groups(items):
    out = {}
    for i in items:
        assert i["currency"] == "USD" and i["unpricedCalls"] == 0, i
        out[i["key"]] = {"calls": i["calls"], "promptTokens": i["promptTokens"],
                         "completionTokens": i["completionTokens"], "cost": Decimal(str(i["cost"]))}
    return out


def test_usage_groupings_and_totals_match_the_rows(user, fake, stack):
    fake.script({"usage": {"prompt_tokens": 321, "completion_tokens": 123}})
    camp_a, camp_b = user.campaign(), user.campaign()
    assert_json(social(user), 200)
    assert_json(social(user, campaignId=camp_a["id"]), 200)
    assert_json(user.post("/api/content/batch-generate", {"campaignId": camp_b["id"], "items": [
        {"contentType": "email", "platform": "email"}, {"contentType": "social_post", "platform": "twitter"}]}), 200)
    job = assert_json(user.req("POST", f"/api/jobs/campaigns/{camp_a['id']}/generate",
                               json={"contentTypes": ["email"], "platforms": ["email"]}), 202)["job"]
    assert user.wait_job(job["id"], timeout=20)["state"] == "completed"
    # a row of yesterday (UTC), and another user's rows, to see the range and the owner applied
    with stack.db() as conn:
        conn.execute("INSERT INTO llm_usage (user_id, provider, model, prompt_tokens, completion_tokens, outcome,"
                     " cost, currency, created_at) VALUES (%s, 'openai', 'old-model', 10, 20, 'ok', 0.5, 'USD',"
                     " date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' - interval '1 hour')",
                     [user.id])
    other = GenUser(stack)
    assert_json(social(other), 200)

    rows = usage_rows(stack, user.id)
    today = dt.datetime.now(dt.timezone.utc).date()
    todays = [r for r in rows if r["created_at"].astimezone(dt.timezone.utc).date() == today]
    assert len(todays) == 5 and len(rows) == 6, rows

    # default range: the first of this month to today
    u = assert_json(user.req("GET", "/api/usage"), 200)
    assert u["groupBy"] == "day" and u["to"] == today.isoformat(), u
    assert u["from"] == today.replace(day=1).isoformat(), u

    yesterday = today - dt.timedelta(days=1)
    q = f"from={yesterday.isoformat()}&to={today.isoformat()}"
    for group_by, key in [("day", lambda r: r["created_at"].astimezone(dt.timezone.utc).date().isoformat()),
                          ("model", lambda r: r["model"]),
                          ("campaign", lambda r: None if r["campaign_id"] is None else str(r["campaign_id"]))]:
        u = assert_json(user.req("GET", f"/api/usage?{q}&groupBy={group_by}"), 200)
        assert as_groups(u["items"]) == expected_groups(rows, key), (group_by, u)
        t = u["total"]
        assert t["calls"] == len(rows) == sum(i["calls"] for i in u["items"]), u
        assert t["promptTokens"] == sum(r["prompt_tokens"] for r in rows), u
        assert t["completionTokens"] == sum(r["completion_tokens"] for r in rows), u
        assert Decimal(str(t["cost"])) == sum(r["cost"] for r in rows) and t["currency"] == "USD", u
    u = assert_json(user.req("GET", f"/api/usage?from={today.isoformat()}&to={today.isoformat()}&groupBy=campaign"),
                    200)
    keys = [i["key"] for i in u["items"]]
    assert keys[-1] is None and set(keys) == {camp_a["id"], camp_b["id"], None}, u
    by = {i["key"]: i for i in u["items"]}
    assert by[camp_a["id"]]["calls"] == 2 and by[camp_b["id"]]["calls"] == 2 and by[None]["calls"] == 1, u
    assert by[camp_b["id"]]["cost"] == float(2 * cost_of(321, 123)), u
    # a range with nothing in it
    u = assert_json(user.req("GET", "/api/usage?from=2020-01-01&to=2020-01-31&groupBy=model"), 200)
    assert u["items"] == [] and u["total"] == {"calls": 0, "promptTokens": 0, "completionTokens": 0, "cost": 0,
                                               "currency": "USD", "unpricedCalls": 0}, u


@pytest.mark.parametrize("query, word", [
    ("from=2026-13-01", "from"), ("from=2026-02-30", "from"), ("to=yesterday", "to"), ("from=2026-1-1", "from"),
    ("to=2026-01-01T00:00:00Z", "to"), ("from=", "from"), ("from=%2B2026-01-1", "from"),
    ("from=2026-03-02&to=2026-03-01", "after"), ("from=2025-01-01&to=2026-01-02", "366"),
    ("groupBy=week", "groupBy"), ("groupBy=day&groupBy=model", "repeated"), ("bogus=1", "bogus"),
    ("limit=10", "not paginated"), ("groupBy=day&cursor=abc", "not paginated"),
    ("%6cimit=5", "not paginated"), ("to=2026-01-01T00:00:00Z", "YYYY-MM-DD"),
])
def test_usage_validation(user, query, word):
    b = assert_problem(user.req("GET", f"/api/usage?{query}"), 400)
    assert word in b["detail"], b


def test_usage_allows_a_366_day_range_and_needs_a_token(user, stack):
    assert_json(user.req("GET", "/api/usage?from=2024-01-01&to=2024-12-31"), 200)  # a leap year: 366 days
    assert_problem(stack.api("GET", "/api/usage"), 401)


# --- limits in money -------------------------------------------------------------------

def test_daily_cost_limit_refuses_sync_calls_with_retry_after(user, fake, stack):
    # 0.006: the first call (reserving 0.004) fits; it costs 0.005; the next reservation (0.004) does not fit
    set_limits(stack, user, "--daily-cost", "0.006")
    fake.script({"usage": {"prompt_tokens": 2000, "completion_tokens": 1000}})
    assert_json(social(user), 200)
    assert_limited(social(user), "daily cost limit", "day")
    assert len(fake.requests()) == 1, "a call was made that the money limit had no room for"
    s = assert_json(user.req("GET", "/api/content/ai-status"), 200)["usage"]
    assert (s["costToday"], s["dailyCostLimit"], s["limitReached"]) == (0.005, 0.006, False), s
    # now the limit itself is reached: refused before anything starts, on every sync endpoint
    set_limits(stack, user, "--daily-cost", "0.005")
    s = assert_json(user.req("GET", "/api/content/ai-status"), 200)
    assert s["available"] is False and s["usage"]["limitReached"] is True, s
    assert s["usage"]["exceededLimit"] == "daily_cost", s
    for path, body in [("/api/content/generate-email", {}),
                       ("/api/content/batch-generate", {"items": [{"contentType": "email", "platform": "email"}]})]:
        assert_limited(user.post(path, body), "daily cost limit", "day")
    assert len(fake.requests()) == 1
    assert stack.scalar("SELECT count(*) FROM llm_reservations WHERE user_id = %s", [user.id]) == 0


def test_monthly_cost_limit_retry_after_is_the_end_of_the_month(user, fake, stack):
    set_limits(stack, user, "--monthly-cost", "0.003")  # below one reservation (0.004)
    assert_limited(social(user), "monthly cost limit", "month")
    assert fake.requests() == []


def test_a_job_over_the_money_limit_fails_clearly(user, fake, stack):
    set_limits(stack, user, "--daily-cost", "0.001")
    camp = user.campaign()
    job = assert_json(user.req("POST", f"/api/jobs/campaigns/{camp['id']}/generate",
                               json={"contentTypes": ["email"], "platforms": ["email"]}), 202)["job"]
    done = user.wait_job(job["id"], timeout=20)
    assert done["state"] == "failed", done
    assert "daily cost limit" in done["error"] and "used up" in done["error"], done
    assert done["result"]["generated"] == 0, done
    assert fake.requests() == []


# --- per-user overrides (adcraft user limits) -------------------------------------------

def test_cli_overrides_and_clears_a_users_limits(user, fake, stack):
    out = set_limits(stack, user)
    assert out["effective"] == {"dailyTokens": 5000000, "monthlyTokens": 90000000, "dailyCost": 5,
                                "monthlyCost": 120.5}, out
    assert out["overrides"] == {"dailyTokens": None, "monthlyTokens": None, "dailyCost": None,
                                "monthlyCost": None}, out
    assert out["currency"] == "USD", out
    out = set_limits(stack, user, "--monthly-tokens", "1500", "--daily-cost", "0.25")
    assert out["effective"] == {"dailyTokens": 5000000, "monthlyTokens": 1500, "dailyCost": 0.25,
                                "monthlyCost": 120.5}, out
    out = set_limits(stack, user, "--daily-tokens", "0")  # 0: no limit for this user; the others stay
    assert out["effective"]["dailyTokens"] == 0 and out["effective"]["monthlyTokens"] == 1500, out
    s = assert_json(user.req("GET", "/api/content/ai-status"), 200)["usage"]
    assert (s["dailyTokenLimit"], s["monthlyTokenLimit"], s["dailyCostLimit"]) == (0, 1500, 0.25), s
    # a reservation of 2000 tokens does not fit a monthly limit of 1500
    assert_limited(social(user), "monthly token limit", "month")
    assert fake.requests() == []
    # another user keeps the defaults
    other = GenUser(stack)
    assert assert_json(other.req("GET", "/api/content/ai-status"), 200)["usage"]["monthlyTokenLimit"] == 90000000
    out = set_limits(stack, user, "--clear")
    assert out["effective"]["monthlyTokens"] == 90000000 and out["overrides"]["monthlyTokens"] is None, out
    assert_json(social(user), 200)
    # bad input changes nothing
    email = user_email(stack, user)
    for args in (["--daily-tokens", "-1"], ["--daily-cost", "1.2.3"], ["--daily-cost", "0.0000001"],
                 ["--weekly", "1"], ["--daily-tokens"]):
        p = limits_cli(stack, email, *args)
        assert p.returncode == 2 and ("adcraft user limits" in p.stderr or "usage" in p.stderr), (args, p)
    p = limits_cli(stack, "nobody@example.invalid", "--daily-tokens", "5")
    assert p.returncode == 1 and "no user" in p.stderr, p
    assert set_limits(stack, user)["overrides"]["dailyTokens"] is None


# --- ai-status -------------------------------------------------------------------------

def test_ai_status_shows_today_and_this_month_against_the_limits(user, fake, stack):
    fake.script({"usage": {"prompt_tokens": 400, "completion_tokens": 100}})
    assert_json(social(user), 200)
    assert_json(social(user), 200)
    with stack.db() as conn:  # an earlier day of this month, when today is not the first
        conn.execute("INSERT INTO llm_usage (user_id, provider, model, prompt_tokens, completion_tokens, outcome,"
                     " cost, currency, created_at) VALUES (%s, 'openai', %s, 1000, 0, 'ok', 0.0015, 'USD',"
                     " greatest(date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC',"
                     "          now() - interval '1 day'))", [user.id, FAKE_MODEL])
    first_of_month = dt.datetime.now(dt.timezone.utc).day == 1
    s = assert_json(user.req("GET", "/api/content/ai-status"), 200)
    u = s["usage"]
    today_cost = 2 * cost_of(400, 100)
    assert u["tokensThisMonth"] == 2000 and Decimal(str(u["costThisMonth"])) == today_cost + Decimal("0.0015"), u
    if not first_of_month:
        assert u["tokensToday"] == 1000 and Decimal(str(u["costToday"])) == today_cost, u
    assert (u["dailyTokenLimit"], u["monthlyTokenLimit"], u["dailyCostLimit"], u["monthlyCostLimit"]) == \
        (5000000, 90000000, 5, 120.5), u
    assert u["currency"] == "USD" and u["limitReached"] is False and u["exceededLimit"] is None, u
    assert u["reservedTokens"] == 0 and u["reservedCost"] == 0, u
    now = time.time()
    assert 0 < calendar.timegm(time.strptime(u["dayResetsAt"], "%Y-%m-%dT%H:%M:%SZ")) - now <= 86400, u
    assert calendar.timegm(time.strptime(u["monthResetsAt"], "%Y-%m-%dT%H:%M:%SZ")) > now, u
    assert s["price"] == {"inputPerMillion": 1.5, "outputPerMillion": 2, "currency": "USD"}, s
    assert s["available"] is True, s


def test_check_config_lists_prices_and_limits(stack):
    env = dict(os.environ)
    env.update(DEFAULTS)
    p = subprocess.run([os.path.join(BUILD_DIR, "adcraft"), "--config", os.path.join(stack.dir, "adcraft.conf"),
                        "check-config"], env=env, capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p
    assert f"llm_prices = {PRICES}\n" in p.stdout and "daily_cost_limit = 5\n" in p.stdout, p.stdout
    assert "monthly_cost_limit = 120.5\n" in p.stdout and "warning" not in p.stderr, p
    env["ADCRAFT_LLM_PRICES"] = "other-model 1 1"
    p = subprocess.run([os.path.join(BUILD_DIR, "adcraft"), "--config", os.path.join(stack.dir, "adcraft.conf"),
                        "check-config"], env=env, capture_output=True, text=True, timeout=30)
    assert p.returncode != 0 and FAKE_MODEL in p.stderr and "daily_cost_limit" in p.stderr, p
    env["ADCRAFT_DAILY_COST_LIMIT"] = env["ADCRAFT_MONTHLY_COST_LIMIT"] = "0"
    p = subprocess.run([os.path.join(BUILD_DIR, "adcraft"), "--config", os.path.join(stack.dir, "adcraft.conf"),
                        "check-config"], env=env, capture_output=True, text=True, timeout=30)
    assert p.returncode == 0 and "warning" in p.stderr and FAKE_MODEL in p.stderr, p
