"""Helpers shared by the persona / campaign / content / stats / DBA tests
(issue #3): users, resource factories, and SQL snapshots used to prove that a
refused request wrote or changed nothing."""

import json as jsonlib
import struct
import time
import uuid
import zlib
from decimal import Decimal

from helpers import assert_json, assert_problem

PLATFORMS = ["email", "linkedin", "twitter", "facebook", "instagram", "google_ads"]
CONTENT_TYPES = ["email", "social_post", "ad_copy"]
STATUSES = ["draft", "active", "generating", "completed"]
OBJECTIVES = ["awareness", "consideration", "conversion"]


class User:
    """A registered user: .id, .email, .token, plus request shortcuts."""

    def __init__(self, stack, name="Test User"):
        self.stack = stack
        user, self.token, self.refresh = stack.register_user(name=name)
        self.id, self.email = user["id"], user["email"]

    def req(self, method, path, json=None, **kw):
        return self.stack.api(method, path, json=json, token=self.token, **kw)

    # --- factories (assert success) --------------------------------------
    def persona(self, **fields):
        body = {"name": "Persona " + uuid.uuid4().hex[:6]}
        body.update(fields)
        return assert_json(self.req("POST", "/api/personas", json=body), 201)

    def campaign(self, **fields):
        body = {"name": "Campaign " + uuid.uuid4().hex[:6], "objective": "awareness"}
        body.update(fields)
        return dec(assert_json(self.req("POST", "/api/campaigns", json=body), 201))

    def content(self, campaign_id, **fields):
        body = {"contentType": "social_post", "platform": "linkedin",
                "contentBody": "Meet the planner that saves you an hour a day. Learn more today."}
        body.update(fields)
        return assert_json(self.req("POST", f"/api/campaigns/{campaign_id}/content", json=body), 201)

    def asset(self, rgb=(200, 30, 60)):
        """Uploads tiny_png(rgb) and waits until its renditions job is done, so
        this user's jobs no longer change."""
        asset = assert_json(self.req("POST", "/api/assets", data=tiny_png(rgb),
                                     headers={"Content-Type": "image/png"}), 201)
        for _ in range(300):
            if assert_json(self.req("GET", f"/api/assets/{asset['id']}"), 200)["renditions"] is not None:
                break
            time.sleep(0.05)
        return asset

    def move(self, campaign_id, *statuses):
        """Moves a campaign through allowed statuses with PATCH."""
        for s in statuses:
            r = self.req("PATCH", f"/api/campaigns/{campaign_id}", json={"status": s})
            assert r.status_code == 200, (s, r.status_code, r.text)
            assert r.json()["status"] == s


def tiny_png(rgb=(200, 30, 60)):
    """A 2x2 PNG of one colour, written by hand (a different colour is a different file)."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    raw = b"".join(b"\0" + bytes(rgb) * 2 for _ in range(2))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def dec(obj_or_response):
    """JSON with numbers as Decimal (budgets are exact decimals)."""
    if hasattr(obj_or_response, "text"):
        return jsonlib.loads(obj_or_response.text, parse_float=Decimal)
    return jsonlib.loads(jsonlib.dumps(obj_or_response), parse_float=Decimal)


def json_body(r, status):
    assert_json(r, status)
    return dec(r)


def problem(r, status, *fields):
    """assert_problem: a problem+json error with this status naming at least
    these errors[].field (tests compare the exact set with error_fields)."""
    return assert_problem(r, status, list(fields) or None)


def error_fields(r):
    return {e["field"] for e in r.json().get("errors", [])}


# --- SQL -----------------------------------------------------------------

_CONNS = {}


def sql(stack):
    """One cached autocommit superuser connection per stack (a new connection
    per check costs ~40 ms; the snapshots run before and after every request)."""
    conn = _CONNS.get(id(stack))
    if conn is None or conn.closed or conn.broken:
        conn = _CONNS[id(stack)] = stack.db()
    return conn


def q(stack, query, params=None):
    return sql(stack).execute(query, params).fetchall()


def q1(stack, query, params=None):
    r = sql(stack).execute(query, params).fetchone()
    return None if r is None else r[0]


def row(stack, table, id_):
    """The whole row as a dict (jsonb), or None."""
    assert table in ("personas", "campaigns", "users", "jobs")
    return q1(stack, f"SELECT to_jsonb(t) FROM {table} t WHERE id = %s", (id_,))


def user_snapshot(stack, user_id):
    """Every persona and campaign row of a user, in full, plus global counts."""
    return sql(stack).execute(
        """SELECT (SELECT coalesce(jsonb_agg(to_jsonb(p) ORDER BY p.id), '[]')
                     FROM personas p WHERE p.user_id = %(u)s),
                  (SELECT coalesce(jsonb_agg(to_jsonb(c) ORDER BY c.id), '[]')
                     FROM campaigns c WHERE c.user_id = %(u)s),
                  (SELECT count(*) FROM personas),
                  (SELECT count(*) FROM campaigns),
                  (SELECT coalesce(sum(jsonb_array_length(content)), 0) FROM campaigns),
                  (SELECT count(*) FROM jobs)""",
        {"u": user_id}).fetchone()


class Unchanged:
    """`with Unchanged(stack, user_a, user_b): ...` asserts that the block
    changed no persona or campaign row of these users (full rows compared) and
    wrote no persona, campaign, content item or job anywhere."""

    def __init__(self, stack, *users):
        self.stack = stack
        self.ids = [u.id if isinstance(u, User) else u for u in users]

    def __enter__(self):
        self.before = [user_snapshot(self.stack, u) for u in self.ids]
        return self

    def __exit__(self, *exc):
        if exc[0] is None:
            after = [user_snapshot(self.stack, u) for u in self.ids]
            for b, a in zip(self.before, after):
                assert a[0] == b[0], f"persona rows changed:\n{b[0]}\n->\n{a[0]}"
                assert a[1] == b[1], f"campaign rows changed:\n{b[1]}\n->\n{a[1]}"
                assert a[2:] == b[2:], \
                    f"(personas, campaigns, content items, jobs) counts changed {b[2:]} -> {a[2:]}"
        return False


def content_items(stack, campaign_id):
    return q1(stack, "SELECT content FROM campaigns WHERE id = %s", (campaign_id,))
