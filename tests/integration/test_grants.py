"""Least privilege (issue #8, finding 10): every privilege adcraft_api,
adcraft_worker and adcraft_analyst hold in schema public, compared with the
table below (what their statements in src/core/statements.c use), and every
object of the schema owned by adcraft_owner, a role that is neither a
superuser nor able to log in. Changing a grant means changing EXPECTED here,
on purpose."""

import psycopg
import pytest

ROLES = ("adcraft_api", "adcraft_worker", "adcraft_analyst")

S, I, U, D = "SELECT", "INSERT", "UPDATE", "DELETE"

# table/view/sequence -> privileges, per role; anything not listed: none at all
EXPECTED = {
    "adcraft_api": {
        "users": {S},                                   # + INSERT on three columns, below
        "refresh_tokens": {S, I, U},                    # issue, rotate, revoke: never DELETE
        "login_failures": {S, I, U, D},
        "personas": {S, I, U, D},
        "brand_profiles": {S, I, U, D},
        "campaigns": {S, I, U, D},
        "campaign_status_transitions": {S},
        "jobs": {S, I, U},
        "job_queues": {S},
        "job_queue_status": {S},
        "workers": {S},
        "llm_usage": {S, I},
        "llm_reservations": {S, I, D},
        "event_channels": {S, I, U},
        "user_limits": {S},                             # llm_reserve(), ai-status
        "contacts": {S, I, U, D},
        "lists": {S, I, U, D},
        "list_members": {S, I, D},
        "contact_imports": {S, I},                      # upload (RETURNING reads it)
        "sends": {S, I, U},
        "send_recipients": {S, I, U},                   # send_approve(); U: a test's end releases held ones
        "email_events": {S, I},                         # /u/, /t/ and the webhook record them
        "assets": {S, I, D},                            # upload, list, delete (0018)
        "asset_renditions": {S},                        # asset_json; the delete cascade runs as owner
        "exports": {S, I, D},                           # create (with its job), list, delete
        "analytics_events": {I},                        # ingestion; email opens/clicks (trigger)
        "analytics_pending": {I},
        "analytics_event_keys": {S, I},                 # eventId dedup (RETURNING reads it)
        "analytics_imports": {S, I},                    # upload (RETURNING reads it)
        "analytics_hourly": {S}, "analytics_daily": {S},  # reports
        "analytics_campaign_hourly": {S},               # reports without groupBy (0020)
        "ab_tests": {S, I, U, D},
        "ab_test_status_transitions": {S},
        "owner_summary": {S}, "owner_budget": {S},      # stats, dashboard (0021; written by triggers)
    },
    "adcraft_worker": {
        "jobs": {S, I, U, D},                           # I: follow-up deliver-send jobs
        "workers": {S, I, U},
        "campaigns": {S, U},
        "personas": {S},
        "brand_profiles": {S},                          # generation context
        "llm_usage": {S, I},
        "llm_reservations": {S, I, D},
        "event_channels": {S, I, U},
        "user_limits": {S},
        "contacts": {S, I, U},                          # import upsert
        "list_members": {S, I},                         # import adds to the list
        "contact_imports": {S, U, D},                   # read, lock, delete once loaded
        "sends": {S, U},
        "send_recipients": {S, U},
        "email_events": {S},
        "assets": {S, I},                               # renditions job; generated visuals (asset_store)
        "asset_renditions": {S, I, D},                  # a retry replaces them
        "exports": {S, U},                              # the export job and the expiry sweep
        "campaign_content": {S},                        # export kind content
        "analytics_events": {I},                        # deliveries (trigger), imports
        "analytics_pending": {S, I, D},                 # rollups delete what they count
        "analytics_event_keys": {S, I, D},              # imports; keys past the window pruned
        "analytics_imports": {S, D},                    # read, deleted once loaded
        "analytics_hourly": {S, I, U}, "analytics_daily": {S, I, U}, "analytics_uniques": {S, I, U},
        "analytics_campaign_hourly": {S, I, U},         # analytics_hourly's statement triggers
        "ab_tests": {S, U},                             # re-evaluation, timeouts
        "ab_test_status_transitions": {S},
    },
    "adcraft_analyst": {
        "personas": {S}, "brand_profiles": {S}, "campaigns": {S}, "campaign_status_transitions": {S}, "jobs": {S},
        "job_queues": {S}, "workers": {S}, "llm_usage": {S}, "llm_reservations": {S},
        "campaign_content": {S}, "campaign_summary": {S}, "job_queue_status": {S}, "llm_usage_daily": {S},
        "event_channels": {S},
        "user_limits": {S},
        "contacts": {S}, "lists": {S}, "list_members": {S},
        "sends": {S}, "send_recipients": {S}, "email_events": {S},
        "assets": {S}, "asset_renditions": {S},
        "exports": {S},
        "analytics_events": {S}, "analytics_event_keys": {S}, "analytics_pending": {S}, "analytics_hourly": {S},
        "analytics_daily": {S}, "analytics_uniques": {S}, "analytics_imports": {S}, "analytics_campaign_hourly": {S},
        "ab_tests": {S}, "ab_test_status_transitions": {S},
        "owner_summary": {S}, "owner_budget": {S},
    },
}

# explicit column grants: (role, table, privilege) -> columns
EXPECTED_COLUMNS = {
    ("adcraft_api", "users", I): {"email", "name", "password_hash"},
    ("adcraft_analyst", "users", S): {"id", "email", "name", "is_operator", "created_at", "updated_at"},
}

# functions not executable by PUBLIC, and who may run them; every other function is PUBLIC's
RESTRICTED_FUNCTIONS = {
    "auth_rotate_refresh(text,text,integer)": {"adcraft_api"},
    "login_attempt(text)": {"adcraft_api"},
    "login_succeeded(text)": {"adcraft_api"},
    "llm_reserve(uuid,integer,numeric,bigint,bigint,numeric,numeric,integer)": {"adcraft_api", "adcraft_worker"},
    "enqueue(text,text,jsonb,uuid,uuid,integer,timestamp with time zone,integer,text)": set(),
    "adcraft_claim_ownership()": set(),
    "contact_import_begin()": {"adcraft_worker"},
    "contact_import_apply(uuid,uuid)": {"adcraft_worker"},
    "mail_unsubscribe(uuid,uuid,uuid,text)": {"adcraft_api"},
    "email_events_apply(jsonb)": {"adcraft_api"},
    "asset_store(uuid,text,text,text,text,bigint,integer,integer,bigint)": {"adcraft_api", "adcraft_worker"},
    "asset_delete(uuid,uuid)": {"adcraft_api"},
    "exports_expire(integer)": {"adcraft_worker"},
    "analytics_rollup(integer)": {"adcraft_worker"},
    "analytics_partitions_ensure(integer,integer)": {"adcraft_worker"},
    "analytics_rollup_request()": {"adcraft_api", "adcraft_worker"},
    "ab_test_move(uuid,uuid,text)": {"adcraft_api"},
    "ab_test_promote(uuid,uuid,text,text)": {"adcraft_api"},
    "ab_test_complete(uuid,text,text)": {"adcraft_worker"},
    "send_create_ab(uuid,uuid,uuid,uuid,timestamp with time zone,text,text,text,numeric,integer)": {"adcraft_api"},
    "owner_summary_add(owner_tally[])": set(),                   # only campaigns' triggers (0021)
    "owner_summary_slot(uuid)": set(),                           # only campaigns' triggers (0031)
    "job_finish_claim(text,jsonb,text[],integer)": {"adcraft_worker"},
}

# The only SECURITY DEFINER functions: adding a partition takes the parent table's
# owner, and the worker that makes them ahead must own nothing. Its body makes
# partition names from dates only and runs with a fixed search_path.
# campaigns' row triggers (0021, 0031 for inserts) write owner_summary/owner_budget,
# which the API and worker may only read; a trigger function cannot be called directly.
SECURITY_DEFINER = {"analytics_partitions_ensure(integer,integer)", "campaigns_owner_summary()",
                    "campaigns_owner_summary_insert()", "campaigns_owner_summary_truncate()"}

TABLE_PRIVS = ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER")
SEQ_PRIVS = ("USAGE", "SELECT", "UPDATE")
NOT_EXTENSION = """NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = %s::regclass AND d.objid = {oid}
                                                  AND d.deptype = 'e')"""


def connect(stack, role):
    return psycopg.connect(host=stack.pg_socket_dir, port=stack.pg_port, dbname="adcraft", user=role,
                           autocommit=True, connect_timeout=10)


def relations(db):
    return db.execute(
        "SELECT c.oid, c.relname, c.relkind FROM pg_class c"
        " WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')"
        "   AND " + NOT_EXTENSION.format(oid="c.oid") + " ORDER BY c.relname", ("pg_class",)).fetchall()


def functions(db):
    return db.execute(
        "SELECT p.oid, p.oid::regprocedure::text, p.prosecdef FROM pg_proc p"
        " WHERE p.pronamespace = 'public'::regnamespace AND " + NOT_EXTENSION.format(oid="p.oid")
        + " ORDER BY 2", ("pg_proc",)).fetchall()


def test_every_table_privilege_matches_the_expected_table(db):
    actual = {r: {} for r in ROLES}
    for oid, name, kind in relations(db):
        for role in ROLES:
            if kind == "S":
                privs = {p for p in SEQ_PRIVS
                         if db.execute("SELECT has_sequence_privilege(%s, %s::oid, %s)", (role, oid, p)).fetchone()[0]}
            else:
                privs = {p for p in TABLE_PRIVS
                         if db.execute("SELECT has_table_privilege(%s, %s::oid, %s)", (role, oid, p)).fetchone()[0]}
            if privs:
                actual[role][name] = privs
    assert actual == EXPECTED


def test_column_grants_match_the_expected_table(db):
    rows = db.execute(
        "SELECT g.rolname, c.relname, a.privilege_type, array_agg(att.attname::text)"
        "  FROM pg_class c JOIN pg_attribute att ON att.attrelid = c.oid AND att.attnum > 0 AND att.attacl IS NOT NULL"
        "  CROSS JOIN LATERAL aclexplode(att.attacl) a JOIN pg_roles g ON g.oid = a.grantee"
        " WHERE c.relnamespace = 'public'::regnamespace AND g.rolname = ANY(%s)"
        " GROUP BY 1, 2, 3", (list(ROLES),)).fetchall()
    actual = {(r, t, p): set(cols) for r, t, p, cols in rows}
    assert actual == EXPECTED_COLUMNS
    # the API may read password hashes (it checks them) but neither role may write is_operator
    for role in ROLES:
        assert not db.execute("SELECT has_column_privilege(%s, 'users', 'is_operator', 'UPDATE')"
                              " OR has_column_privilege(%s, 'users', 'is_operator', 'INSERT')",
                              (role, role)).fetchone()[0], role
    assert not db.execute("SELECT has_column_privilege('adcraft_analyst', 'users', 'password_hash', 'SELECT')"
                          ).fetchone()[0]


def test_function_execute_matches_the_expected_table(db):
    names = set()
    for oid, sig, secdef in functions(db):
        names.add(sig)
        assert secdef == (sig in SECURITY_DEFINER), f"{sig} is SECURITY DEFINER: it would run with adcraft_owner's rights"
        if secdef:
            config = db.execute("SELECT proconfig FROM pg_proc WHERE oid = %s", (oid,)).fetchone()[0]
            assert config == ["search_path=pg_catalog, public"], (sig, config)
        allowed = {r for r in ROLES
                   if db.execute("SELECT has_function_privilege(%s, %s::oid, 'EXECUTE')", (r, oid)).fetchone()[0]}
        assert allowed == RESTRICTED_FUNCTIONS.get(sig, set(ROLES)), sig
    assert set(RESTRICTED_FUNCTIONS) <= names, set(RESTRICTED_FUNCTIONS) - names


def test_schema_objects_are_owned_by_adcraft_owner(db):
    owner = db.execute("SELECT rolsuper, rolcanlogin, rolcreaterole, rolcreatedb FROM pg_roles"
                       " WHERE rolname = 'adcraft_owner'").fetchone()
    assert owner == (False, False, False, False), owner
    rels = db.execute(
        "SELECT c.relname, c.relkind, pg_get_userbyid(c.relowner) FROM pg_class c"
        " WHERE c.relnamespace = 'public'::regnamespace AND c.relkind NOT IN ('t')"
        "   AND " + NOT_EXTENSION.format(oid="c.oid"), ("pg_class",)).fetchall()
    assert len(rels) > 40, rels  # tables, views, sequences, indexes
    assert [r for r in rels if r[2] != "adcraft_owner"] == []
    fns = db.execute(
        "SELECT p.oid::regprocedure::text, pg_get_userbyid(p.proowner) FROM pg_proc p"
        " WHERE p.pronamespace = 'public'::regnamespace AND " + NOT_EXTENSION.format(oid="p.oid"),
        ("pg_proc",)).fetchall()
    assert len(fns) > 20, fns
    assert [f for f in fns if f[1] != "adcraft_owner"] == []
    # standalone types (row and array types follow their table or element type)
    types = db.execute(
        "SELECT t.typname, pg_get_userbyid(t.typowner) FROM pg_type t"
        " WHERE t.typnamespace = 'public'::regnamespace AND NOT EXISTS (SELECT FROM pg_depend d"
        "       WHERE d.classid = 'pg_type'::regclass AND d.objid = t.oid AND d.deptype IN ('e', 'i'))").fetchall()
    assert [t for t in types if t[1] != "adcraft_owner"] == []
    for role in ROLES:
        assert db.execute("SELECT has_schema_privilege(%s, 'public', 'USAGE')"
                          " AND NOT has_schema_privilege(%s, 'public', 'CREATE')", (role, role)).fetchone()[0], role


WRITES = [
    "UPDATE campaigns SET name = 'x'",
    "DELETE FROM personas",
    "INSERT INTO jobs (queue, kind) VALUES ('data-exports', 'noop')",
    "UPDATE jobs SET state = 'cancelled', finished_at = now(), locked_by = NULL WHERE state = 'running'",
    "SELECT enqueue('data-exports', 'noop')",
    "SELECT login_attempt('victim@example.com')",
    "SELECT llm_reserve(gen_random_uuid(), 1, 0, 10, 0, 0, 0, 60)",
    "INSERT INTO user_limits (user_id, daily_tokens) SELECT id, 0 FROM users",
    "SELECT email, password_hash FROM users",
    "SELECT * FROM refresh_tokens",
    "SELECT * FROM login_failures",
    "CREATE TABLE mine (x int)",
]


@pytest.mark.parametrize("sql", WRITES)
def test_the_analyst_cannot_write_or_read_secrets(stack, sql):
    with connect(stack, "adcraft_analyst") as an:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            an.execute(sql)


@pytest.mark.parametrize("role,sql", [
    ("adcraft_api", "UPDATE users SET is_operator = true"),
    ("adcraft_api", "UPDATE users SET name = 'x'"),
    ("adcraft_api", "DELETE FROM users"),
    ("adcraft_api", "DELETE FROM refresh_tokens"),
    ("adcraft_api", "INSERT INTO users (email, name, password_hash, is_operator)"
                    " VALUES ('op@example.com', 'x', '$argon2id$x', true)"),
    ("adcraft_api", "DELETE FROM jobs"),
    ("adcraft_api", "TRUNCATE llm_usage"),
    ("adcraft_worker", "SELECT email FROM users"),
    ("adcraft_worker", "DELETE FROM sends"),
    ("adcraft_worker", "INSERT INTO sends (user_id) SELECT id FROM users"),
    ("adcraft_worker", "DELETE FROM campaigns"),
    ("adcraft_worker", "SELECT login_attempt('victim@example.com')"),
])
def test_the_app_roles_cannot_do_what_no_statement_does(stack, role, sql):
    with connect(stack, role) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(sql)
