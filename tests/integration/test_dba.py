"""The DBA side of issue #3: the analyst role reads the views and tables and
writes nothing, never sees password hashes, and every table, view and column
of the public schema carries a COMMENT."""

import datetime
import os
import time
from decimal import Decimal

import psycopg
import pytest

from campaign_helpers import User, q, q1, row

LONG = ("Plan your week in five minutes. Our planner finds the hours you lose to busywork "
        "and gives them back. ")


def _ts(s):
    return datetime.datetime.fromisoformat(s.replace("Z", "+00:00"))


def analyst(stack):
    return psycopg.connect(host=stack.pg_socket_dir, port=stack.pg_port, dbname="adcraft",
                           user="adcraft_analyst", autocommit=True, connect_timeout=10)


@pytest.fixture(scope="module")
def an(stack):
    conn = analyst(stack)
    yield conn
    conn.close()


@pytest.fixture(scope="module")
def data(stack):
    u = User(stack, "Dana DBA")
    p = u.persona(name="Ops lead")
    c = u.campaign(name="DBA view check", objective="consideration", budget=321.09, currency="EUR",
                   personaId=p["id"], startDate="2025-05-01", endDate="2025-05-31")
    u.move(c["id"], "active")
    items = [
        u.content(c["id"], contentType="email", platform="email", subjectLine="Hello ops",
                  contentBody=LONG * 3, callToAction="Book a demo"),
        u.content(c["id"], contentType="social_post", platform="instagram", contentBody=LONG,
                  hashtags=["#ops", "planning"]),
        u.content(c["id"], contentType="ad_copy", platform="google_ads",
                  contentBody="Plan your week in five minutes."),
    ]
    # two A/B tests: an entry written before sql/0016 (read-only since) and one of the ab_tests resource
    q1(stack, """UPDATE campaigns SET ab_tests = '[{"id": "6f1c1f59-2a1c-4e53-9d7e-7b1f0c0c0002", "testName": "t1",
                  "testType": "content"}]' WHERE id = %s RETURNING 1""", (c["id"],))
    r = u.req("POST", f"/api/campaigns/{c['id']}/ab-tests",
              json={"name": "t2", "metric": "click_rate",
                    "variants": [{"contentId": items[0]["id"]}, {"contentId": items[1]["id"]}]})
    assert r.status_code == 201, r.text
    empty = u.campaign(name="Empty one", objective="awareness")
    job = q1(stack, "SELECT enqueue('data-exports', 'noop', '{}', %s, %s, 0, now() + interval '1 hour')",
             (u.id, c["id"]))
    return {"u": u, "persona": p, "campaign": c, "items": items, "empty": empty, "job": str(job)}


def test_analyst_reads_campaign_content(stack, an, data):
    c, items = data["campaign"], data["items"]
    rows = an.execute(
        """SELECT campaign_id::text, user_id::text, campaign_name, objective, campaign_status,
                  content_id::text, position, content_type, platform, subject_line, content_body,
                  call_to_action, hashtags, quality_score, generated_by, model, job_id,
                  generated_at, created_at, updated_at
             FROM campaign_content WHERE campaign_id = %s ORDER BY position""",
        (c["id"],)).fetchall()
    assert len(rows) == 3
    for pos, (r, it) in enumerate(zip(rows, items), start=1):
        (cid, uid, cname, obj, cstatus, iid, position, ctype, platform, subject, body, cta,
         tags, score, gen_by, model, job_id, gen_at, created, updated) = r
        assert (cid, uid, cname, obj, cstatus) == (c["id"], data["u"].id, "DBA view check",
                                                  "consideration", "active")
        assert (iid, position, ctype, platform) == (it["id"], pos, it["contentType"], it["platform"])
        assert (subject, body, cta) == (it["subjectLine"], it["contentBody"], it["callToAction"])
        assert tags == it["hashtags"]
        assert score == it["qualityScore"] and isinstance(score, int)
        assert (gen_by, model, job_id) == ("manual", None, None)
        assert gen_at is not None and created is not None and updated is not None
        assert gen_at == _ts(it["metadata"]["generatedAt"])
        assert created == _ts(it["createdAt"]) and updated == _ts(it["updatedAt"])
    # no rows for a campaign without content
    assert an.execute("SELECT count(*) FROM campaign_content WHERE campaign_id = %s",
                      (data["empty"]["id"],)).fetchone()[0] == 0


def test_analyst_reads_campaign_summary(stack, an, data):
    c, items = data["campaign"], data["items"]
    r = an.execute(
        """SELECT user_id::text, owner_email, name, objective, status, budget, currency, start_date,
                  end_date, persona_name, content_items, average_quality_score, ab_tests
             FROM campaign_summary WHERE campaign_id = %s""", (c["id"],)).fetchone()
    avg = (Decimal(sum(i["qualityScore"] for i in items)) / 3).quantize(Decimal("0.1"),
                                                                          rounding="ROUND_HALF_UP")
    assert r[:7] == (data["u"].id, data["u"].email, "DBA view check", "consideration", "active",
                     Decimal("321.09"), "EUR")
    assert (r[7].isoformat(), r[8].isoformat()) == ("2025-05-01", "2025-05-31")
    assert r[9:] == ("Ops lead", 3, avg, 2)
    e = an.execute("SELECT persona_name, content_items, average_quality_score, ab_tests, budget "
                   "FROM campaign_summary WHERE campaign_id = %s", (data["empty"]["id"],)).fetchone()
    assert e == (None, 0, None, 0, None)
    # one row per campaign, the same as the table
    assert an.execute("SELECT count(*) FROM campaign_summary").fetchone()[0] == \
        q1(stack, "SELECT count(*) FROM campaigns")


def test_analyst_reads_job_queue_status_and_tables(stack, an, data):
    rows = {r[0]: r[1:] for r in an.execute(
        "SELECT queue, queued, running, completed, failed, cancelled, oldest_queued_seconds "
        "FROM job_queue_status").fetchall()}
    assert set(rows) >= {"content-generation", "email-sending", "analytics-processing",
                         "data-exports"}
    for queue, counts in rows.items():
        want = tuple(q1(stack, "SELECT count(*) FROM jobs WHERE queue = %s AND state = %s",
                        (queue, s)) for s in ("queued", "running", "completed", "failed", "cancelled"))
        assert counts[:5] == want, queue
    assert rows["data-exports"][0] >= 1
    # the tables an analyst is meant to read
    for sql in ("SELECT count(*) FROM analytics_events", "SELECT count(*) FROM analytics_hourly",
                "SELECT count(*) FROM analytics_daily", "SELECT count(*) FROM analytics_event_keys",
                "SELECT count(*) FROM personas", "SELECT count(*) FROM campaigns",
                "SELECT count(*) FROM jobs", "SELECT count(*) FROM campaign_status_transitions",
                "SELECT count(id), count(email), count(name), count(created_at), count(updated_at) "
                "FROM users"):
        an.execute(sql).fetchone()
    assert an.execute("SELECT email FROM users WHERE id = %s", (data["u"].id,)).fetchone()[0] == \
        data["u"].email
    assert an.execute("SELECT name FROM personas WHERE id = %s",
                      (data["persona"]["id"],)).fetchone()[0] == "Ops lead"
    assert str(an.execute("SELECT id FROM jobs WHERE id = %s", (data["job"],)).fetchone()[0]) == \
        data["job"]


@pytest.mark.parametrize("sql", [
    "SELECT password_hash FROM users",
    "SELECT * FROM users",
    "SELECT count(*) FROM users WHERE password_hash LIKE '$argon2%%'",
    "SELECT * FROM refresh_tokens",
])
def test_analyst_cannot_read_secrets(stack, sql):
    with analyst(stack) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(sql)


@pytest.mark.parametrize("sql", [
    "INSERT INTO campaigns (user_id, name, objective) VALUES (%(u)s, 'x', 'awareness')",
    "UPDATE campaigns SET name = 'hacked' WHERE id = %(c)s",
    "UPDATE campaigns SET content = '[]' WHERE id = %(c)s",
    "DELETE FROM campaigns WHERE id = %(c)s",
    "TRUNCATE campaigns",
    "INSERT INTO personas (user_id, name) VALUES (%(u)s, 'x')",
    "UPDATE personas SET name = 'hacked' WHERE user_id = %(u)s",
    "DELETE FROM personas WHERE user_id = %(u)s",
    "UPDATE users SET name = 'hacked' WHERE id = %(u)s",
    "DELETE FROM users WHERE id = %(u)s",
    "UPDATE jobs SET state = 'cancelled', finished_at = now() WHERE id = %(j)s",
    "DELETE FROM jobs WHERE id = %(j)s",
    "SELECT enqueue('data-exports', 'noop', '{}', %(u)s)",
    "CREATE TABLE analyst_was_here (x int)",
    "INSERT INTO analytics_events (user_id, campaign_id, type, occurred_at, source)"
    " SELECT user_id, id, 'click', now(), 'api' FROM campaigns WHERE id = %(c)s",
    "DELETE FROM analytics_pending",
    "UPDATE analytics_daily SET clicks = clicks + 1",
    "SELECT analytics_rollup(10)",
    "SELECT analytics_partitions_ensure(1)",
    "ALTER TABLE analytics_events DETACH PARTITION analytics_events_y2025m01",
])
def test_analyst_writes_refused(stack, data, sql):
    c = data["campaign"]
    params = {"u": data["u"].id, "c": c["id"], "j": data["job"]}
    before = (row(stack, "campaigns", c["id"]), row(stack, "personas", data["persona"]["id"]),
              row(stack, "users", data["u"].id), row(stack, "jobs", data["job"]),
              q1(stack, "SELECT count(*) FROM campaigns"), q1(stack, "SELECT count(*) FROM jobs"))
    with analyst(stack) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(sql, params)
    after = (row(stack, "campaigns", c["id"]), row(stack, "personas", data["persona"]["id"]),
             row(stack, "users", data["u"].id), row(stack, "jobs", data["job"]),
             q1(stack, "SELECT count(*) FROM campaigns"), q1(stack, "SELECT count(*) FROM jobs"))
    assert after == before


def test_every_table_view_and_column_has_a_comment(stack):
    rels = q(stack, """SELECT c.oid, c.relname, c.relkind, obj_description(c.oid, 'pg_class')
                         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                        WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
                          AND NOT EXISTS (SELECT 1 FROM pg_depend d
                                           WHERE d.objid = c.oid AND d.deptype = 'e')
                        ORDER BY c.relname""")
    names = {r[1] for r in rels}
    assert {"users", "personas", "campaigns", "jobs", "campaign_content", "campaign_summary",
            "job_queue_status"} <= names, names
    missing = [f"{r[1]} ({'view' if r[2] in 'vm' else 'table'})" for r in rels
               if not (r[3] or "").strip()]
    assert not missing, f"no COMMENT on: {missing}"
    cols = q(stack, """SELECT c.relname, a.attname, col_description(c.oid, a.attnum)
                         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                         JOIN pg_attribute a ON a.attrelid = c.oid
                        WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
                          AND a.attnum > 0 AND NOT a.attisdropped
                          AND NOT EXISTS (SELECT 1 FROM pg_depend d
                                           WHERE d.objid = c.oid AND d.deptype = 'e')""")
    assert len(cols) > 50
    missing = [f"{t}.{c}" for t, c, d in cols if not (d or "").strip()]
    assert not missing, f"columns without a COMMENT: {missing}"
    # the views in particular
    for v in ("campaign_content", "campaign_summary", "job_queue_status"):
        assert (q1(stack, "SELECT obj_description(%s::regclass, 'pg_class')", (v,)) or "").strip(), v


def test_analyst_role_is_login_and_not_privileged(stack):
    r = q(stack, "SELECT rolcanlogin, rolsuper, rolcreaterole, rolcreatedb, rolbypassrls "
                 "FROM pg_roles WHERE rolname = 'adcraft_analyst'")
    assert r == [(True, False, False, False, False)]


def test_role_settings(stack):
    """The API role's settings (0020 jit, 0028 generic plans) reach its sessions; the worker's claim keeps
    PostgreSQL's default plan choice."""
    with stack.db() as conn:
        rows = dict(conn.execute("""SELECT r.rolname, s.setconfig FROM pg_db_role_setting s
                                      JOIN pg_roles r ON r.oid = s.setrole
                                     WHERE r.rolname IN ('adcraft_api', 'adcraft_worker')""").fetchall())
    assert set(rows.get("adcraft_api") or []) >= {"jit=off", "plan_cache_mode=force_generic_plan"}, rows
    assert not any(c.startswith("plan_cache_mode=") for c in rows.get("adcraft_worker") or []), rows
    # what a login as the API role gets (the stack's own API sessions log in the same way)
    with psycopg.connect(host=stack.pg_socket_dir, port=stack.pg_port, dbname="adcraft", user="adcraft_api",
                         autocommit=True, connect_timeout=10) as conn:
        assert conn.execute("SHOW plan_cache_mode").fetchone()[0] == "force_generic_plan"


# Scalar SQL functions the hot statements call per row or per request. PostgreSQL inlines such a
# function into the caller's plan only when its body has no subquery and is no more volatile than
# its declaration; otherwise the SQL-function executor parses and plans the body at every statement
# (analytics_metrics, IMMUTABLE over the STABLE jsonb_build_object, until 0030).
INLINED = ["analytics_metrics", "rfc3339", "job_json", "campaign_document", "campaign_text", "campaign_ab_tests_doc",
           "json_object_tail", "json_object_open",
           "campaign_summary_text", "campaign_summary_json"]


def test_hot_sql_functions_are_inlined(stack):
    checked = []
    with stack.db() as conn:
        fns = conn.execute("""SELECT p.proname, p.oid::regprocedure::text,
                                     array(SELECT format_type(t, NULL) FROM unnest(p.proargtypes) t)
                                FROM pg_proc p
                               WHERE p.pronamespace = 'public'::regnamespace AND p.proname = ANY(%s)
                                 AND p.prolang = (SELECT oid FROM pg_language WHERE lanname = 'sql')""",
                           (INLINED,)).fetchall()
        for name, sig, types in fns:
            # arguments from a subquery the planner keeps (OFFSET 0), so nothing is folded to a constant
            cols = ", ".join(f"NULL::{t} AS a{i}" for i, t in enumerate(types))
            args = ", ".join(f"s.a{i}" for i in range(len(types)))
            plan = [r[0] for r in conn.execute(
                f"EXPLAIN VERBOSE SELECT {name}({args}) FROM (SELECT {cols} OFFSET 0) s").fetchall()]
            top = next(line for line in plan if "Output:" in line)
            assert f"{name}(" not in top, f"{sig} is not inlined: {top.strip()}"
            checked.append(name)
    assert {"analytics_metrics", "rfc3339", "job_json", "campaign_document", "campaign_text",
            "campaign_ab_tests_doc", "json_object_tail", "json_object_open"} <= set(checked), checked


def test_campaign_values_are_lz4(stack):
    """sql/0032: campaigns' large values are compressed with lz4 (GET reads content_items: pglz's
    decompression was 4% of PostgreSQL's time on that route); a campaign with content shows it."""
    u = User(stack, "Compressed")
    cid = u.campaign(name="lz4")["id"]
    for i in range(3):
        u.content(cid, contentBody=f"Item {i}: " + "Plan your week in five minutes and get back the hours. " * 8)
    with stack.db() as conn:
        cols = dict(conn.execute("""SELECT attname, attcompression FROM pg_attribute
                                     WHERE attrelid = 'campaigns'::regclass
                                       AND attname IN ('content', 'content_items', 'json_head')""").fetchall())
        assert cols == {"content": "l", "content_items": "l", "json_head": "l"}, cols
        got = conn.execute("SELECT pg_column_compression(content), pg_column_compression(content_items)"
                           " FROM campaigns WHERE id = %s", (cid,)).fetchone()
        assert got == ("lz4", "lz4"), got


def test_job_ids_are_time_ordered(stack):
    """sql/0036: a job's id is a UUID version 7 whose first 48 bits are its creation time in
    milliseconds, so jobs made later sort after (the primary-key entries of live jobs stay together)."""
    with stack.db() as conn:
        ids = []
        for _ in range(3):
            ids.append(conn.execute("SELECT enqueue('data-exports', 'noop', run_at => now() + interval '1 day')"
                                    ).fetchone()[0])
            time.sleep(0.003)
        try:
            rows = conn.execute("""SELECT id::text, extract(epoch FROM created_at) * 1000
                                     FROM jobs WHERE id = ANY(%s) ORDER BY created_at""", (ids,)).fetchall()
            assert [r[0] for r in rows] == sorted(str(i) for i in ids), rows
            for text, created_ms in rows:
                assert text[14] == "7" and text[19] in "89ab", text
                assert abs(int(text[:8] + text[9:13], 16) - float(created_ms)) < 1000, (text, created_ms)
            assert conn.execute("SELECT count(DISTINCT uuid_v7()) FROM generate_series(1, 10000)").fetchone() == (10000,)
        finally:
            conn.execute("DELETE FROM jobs WHERE id = ANY(%s)", (ids,))


def test_growing_tables_take_time_ordered_ids(stack):
    """sql/0037: the tables that grow by thousands of rows default their id to uuid_v7(), and a
    campaign made through the API has one (its first 48 bits are its created_at, in ms)."""
    with stack.db() as conn:
        tables = {r[0] for r in conn.execute("""SELECT c.relname FROM pg_attrdef d
                                                   JOIN pg_class c ON c.oid = d.adrelid
                                                  WHERE pg_get_expr(d.adbin, d.adrelid) = 'uuid_v7()'""")}
        assert tables == {"jobs", "campaigns", "contacts", "send_recipients", "email_events"}, tables
        u = User(stack, "Ordered")
        cid = u.campaign(name="v7")["id"]
        created_ms = conn.execute("SELECT extract(epoch FROM created_at) * 1000 FROM campaigns WHERE id = %s",
                                  (cid,)).fetchone()[0]
        assert cid[14] == "7" and abs(int(cid[:8] + cid[9:13], 16) - float(created_ms)) < 1000, (cid, created_ms)


# Statements that call a SQL function PostgreSQL cannot inline, so the SQL-function executor parses
# and plans its body at every call (per row in a list). Each is known and why; anything else that
# appears fails test_statements_run_no_sql_function_executor. The campaign routes, stats, the
# dashboard, jobs and the queue are not here.
NOT_INLINED = {
    "user_register": {"token_digest"}, "refresh_issue": {"token_digest"},          # logins: argon2 dwarfs it
    "refresh_revoke": {"token_digest"},
    "persona_insert": {"jsonb_text_array"}, "persona_update": {"jsonb_text_array"},  # a subquery per call
    "brand_profile_insert": {"jsonb_text_array"}, "brand_profile_update": {"jsonb_text_array"},
    "campaign_update": {"campaign_ab_tests"},                                      # one per update
    "login_succeeded": {"login_succeeded"}, "export_expire": {"exports_expire"},  # the statement is the call
    "ab_test_complete": {"ab_test_complete"}, "analytics_ingest": {"analytics_retained_from"},
    "send_list": {"send_json"}, "send_get": {"send_json"},                         # counts by subquery
    "list_insert": {"list_json"}, "list_list": {"list_json"}, "list_get": {"list_json"},
    "list_update": {"list_json"},
    "asset_list": {"asset_json"}, "asset_get": {"asset_json"},
    "export_insert": {"export_json"}, "export_list": {"export_json"}, "export_get": {"export_json"},
}


def _statements():
    """[name, nparams, sql] of every statement of src/core/statements.c (build/tests/unit/dump-statements)."""
    import subprocess
    from helpers import BUILD_DIR
    out = subprocess.run([os.path.join(BUILD_DIR, "tests", "unit", "dump-statements")], capture_output=True,
                         text=True, check=True).stdout
    return [line.split("\t") for line in out.splitlines()]


def test_statements_run_no_sql_function_executor(stack):
    """Every statement of src/core/statements.c (printed by build/tests/unit/dump-statements), planned
    generic as the API's role plans it: the SQL functions of this schema it still calls after inlining
    are exactly NOT_INLINED's. 0034's json_object_open, which reads its argument twice, was not inlined
    around campaign_stats() (an argument PostgreSQL will not evaluate twice), and the dashboard planned
    its body at every request; this finds such a call wherever it appears."""
    import re
    rows = _statements()
    assert len(rows) > 100, rows[:3]
    found = {}
    with psycopg.connect(host=stack.pg_socket_dir, port=stack.pg_port, dbname="adcraft", user="postgres",
                         autocommit=True, prepare_threshold=None) as conn:
        names = [r[0] for r in conn.execute(
            "SELECT DISTINCT proname FROM pg_proc WHERE pronamespace = 'public'::regnamespace"
            " AND prolang = (SELECT oid FROM pg_language WHERE lanname = 'sql')")]
        call = re.compile(r"\b(" + "|".join(map(re.escape, names)) + r")\(")
        conn.execute("SET plan_cache_mode = force_generic_plan")
        for name, nparams, sql in rows:
            conn.execute(f"PREPARE s AS {sql}")
            args = "(" + ", ".join(["NULL"] * int(nparams)) + ")" if int(nparams) else ""
            plan = "\n".join(r[0] for r in conn.execute(f"EXPLAIN VERBOSE EXECUTE s{args}"))
            conn.execute("DEALLOCATE s")
            calls = set(call.findall(plan))
            if calls:
                found[name] = calls
    assert found == NOT_INLINED


def test_dashboard_top_content_reads_each_array_once(stack, data):
    """The dashboard's top content expands the five picked campaigns' content arrays with two
    set-returning functions in a select list (one ProjectSet). As a LATERAL function scan per campaign
    the generic plan could put a Memoize keyed on both arrays above it: it detoasted and hashed every
    array to never hit (a quarter of the statement's instructions with 10k campaigns, callgrind)."""
    with stack.db() as conn:
        conn.execute("SET plan_cache_mode = force_generic_plan")
        conn.execute("PREPARE dash AS " + next(sql for name, _, sql in _statements() if name == "dashboard"))
        plan = "\n".join(r[0] for r in conn.execute("EXPLAIN EXECUTE dash(NULL)"))
        conn.execute("DEALLOCATE dash")
    assert "ProjectSet" in plan, plan
    assert "Function Scan on e" not in plan and "Memoize" not in plan, plan


@pytest.mark.parametrize("column, value, constraint", [
    ("name", "", "campaigns_name_check"),
    ("name", "n" * 201, "campaigns_name_check"),
    ("product", "", "campaigns_product_check"),
    ("product", "p" * 101, "campaigns_product_check"),
    ("description", "d" * 5001, "campaigns_description_check"),
    ("objective", "sales", "campaigns_objective_check"),
    ("status", "archived", "campaigns_status_check"),
    ("status_before_generation", "generating", "campaigns_status_before_generation_check"),
    ("currency", "usd", "campaigns_currency_check"),
    ("tone", "t" * 101, "campaigns_tone_check"),
    ("keywords", "k" * 501, "campaigns_keywords_check"),
    ("budget", "-0.01", "campaigns_budget_check"),
    ("ab_tests", "{}", "jsonb_array_check"),
    ("generation_settings", "[]", "jsonb_object_check"),
    ("content", "[" + ", ".join(["{}"] * 501) + "]", "campaigns_content_check"),
    ("end_date", "1999-12-31", "campaigns_dates_check"),
])
def test_campaign_rules_hold_for_sql_writes(stack, data, column, value, constraint):
    """Every rule on a campaign's columns refuses a write that breaks it, whoever writes: since 0039 the
    one-column rules are domains (PostgreSQL 15 parsed the 14 table CHECKs at every statement), named as
    the table's checks were; the row is unchanged."""
    cid = data["campaign"]["id"]
    with stack.db() as conn:
        before = conn.execute("SELECT c::text FROM campaigns c WHERE id = %s", (cid,)).fetchone()[0]
        with pytest.raises(psycopg.errors.CheckViolation) as e:
            conn.execute(f"UPDATE campaigns SET {column} = %s WHERE id = %s", (value, cid))
        assert e.value.diag.constraint_name == constraint
        assert conn.execute("SELECT c::text FROM campaigns c WHERE id = %s", (cid,)).fetchone()[0] == before
    row = {"user_id": data["u"].id, "name": "Rule", "objective": "awareness", column: value}
    if column == "end_date":
        row["start_date"] = "2000-01-01"
    with stack.db() as conn, pytest.raises(psycopg.errors.CheckViolation) as e:
        conn.execute(f"INSERT INTO campaigns ({', '.join(row)}) VALUES ({', '.join(['%s'] * len(row))})",
                     list(row.values()))
    assert e.value.diag.constraint_name == constraint


def test_owner_slots_stay_in_range(stack, data):
    with stack.db() as conn:
        for table in ("owner_summary", "owner_budget"):
            with pytest.raises(psycopg.errors.CheckViolation) as e:
                conn.execute(f"UPDATE {table} SET slot = 8 WHERE user_id = %s", (data["u"].id,))
            assert e.value.diag.constraint_name == "owner_slot_check"
