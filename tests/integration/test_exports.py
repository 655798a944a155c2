"""Data exports (issue #13 section 1) through nginx: every kind in every
format parsed back (csv module, json, ndjson), the BOM option, spreadsheet
safety (a campaign named =HYPERLINK(...) gets a leading '), the download
through nginx's internal location with its headers, refused links (tampered,
another user's, malformed: 404 like a missing export; expired: 410; deleted:
404), filters naming another user's objects refused (422), DELETE removing
the file at once, the worker's expiry sweep, filters validated per kind
(422, nothing written), keyset paging, and another user's exports invisible.

The module runs its own stack with export_ttl = EXPORT_TTL seconds
(ADCRAFT_EXPORT_TTL), so expiry can be watched happen: every download is
made right after its export is ready."""

import csv
import datetime
import io
import json
import os
import re
import time
import uuid

import pytest

from helpers import RELAXED_LIMITS, UUID_RE, Stack, assert_json, assert_problem, unique_email

EXPORT_TTL = 6
HYPERLINK = '=HYPERLINK("http://x","y")'
KINDS_FORMATS = [(k, f) for k in ("campaigns", "content", "contacts", "sends", "usage", "analytics")
                 for f in ("csv", "ndjson", "json")]
TYPES = {"csv": "text/csv; charset=utf-8", "ndjson": "application/x-ndjson; charset=utf-8",
         "json": "application/json; charset=utf-8"}


@pytest.fixture(scope="module")
def stack():
    env = dict(RELAXED_LIMITS)
    env["ADCRAFT_EXPORT_TTL"] = str(EXPORT_TTL)
    with Stack.start(env) as s:
        yield s


class User:
    def __init__(self, stack):
        self.stack = stack
        user, self.token, _ = stack.register_user()
        self.id = user["id"]

    def req(self, method, path, json=None, **kw):
        return self.stack.api(method, path, json=json, token=self.token, **kw)

    def export(self, kind, fmt, **extra):
        body = {"kind": kind, "format": fmt}
        body.update(extra)
        r = self.req("POST", "/api/exports", json=body)
        e = assert_json(r, 202)
        assert r.headers["Location"] == f"/api/exports/{e['id']}"
        return e

    def wait(self, export_id, states=("ready", "failed"), timeout=60):
        deadline = time.monotonic() + timeout
        while True:
            e = assert_json(self.req("GET", f"/api/exports/{export_id}"), 200)
            if e["status"] in states:
                return e
            assert time.monotonic() < deadline, e
            time.sleep(0.05)


def download(stack, url, **kw):
    return stack.api("GET", url, **kw)


@pytest.fixture(scope="module")
def owner(stack):
    """A user with two campaigns (one named like a formula), content, contacts, a send with
    recipients and usage rows."""
    u = User(stack)
    c1 = assert_json(u.req("POST", "/api/campaigns", json={"name": HYPERLINK, "objective": "awareness"}), 201)
    c2 = assert_json(u.req("POST", "/api/campaigns", json={"name": "Plain, \"quoted\"\nname",
                                                             "objective": "conversion"}), 201)
    for i in range(3):
        assert_json(u.req("POST", f"/api/campaigns/{c1['id']}/content", json={
            "contentType": "social_post", "platform": "linkedin",
            "contentBody": f"-{i} starts with a minus, has a comma, and a\nnewline"}), 201)
    email_item = assert_json(u.req("POST", f"/api/campaigns/{c2['id']}/content", json={
        "contentType": "email", "platform": "email", "subjectLine": "@channel hello",
        "contentBody": "Hello there. Read more today."}), 201)
    contacts = []
    for i in range(4):
        contacts.append(assert_json(u.req("POST", "/api/contacts", json={
            "email": unique_email("x"), "firstName": "+Plus" if i == 0 else f"Name{i}",
            "attributes": {"tier": i}}), 201))
    with stack.db() as db:
        send_id = db.execute(
            "INSERT INTO sends (user_id, campaign_id, content_id, snapshot, snapshot_hash, from_name, from_email)"
            " VALUES (%s, %s, %s, '{}', repeat('a', 64), 'n', 'news@example.com') RETURNING id",
            (u.id, c2["id"], email_item["id"])).fetchone()[0]
        for c in contacts[:3]:
            db.execute("INSERT INTO send_recipients (send_id, contact_id, email, status)"
                       " VALUES (%s, %s, %s, 'sent')", (send_id, c["id"], c["email"]))
        for day, variant in (("2026-11-01", "A"), ("2026-11-02", "-B")):
            db.execute("INSERT INTO analytics_daily (bucket, user_id, campaign_id, variant, impressions, clicks,"
                       " spend) VALUES (%s, %s, %s, %s, 100, 7, 1.5)", (day, u.id, c1["id"], variant))
        db.execute("INSERT INTO analytics_hourly (bucket, user_id, campaign_id, variant, impressions)"
                   " VALUES ('2026-11-01T10:00:00Z', %s, %s, 'A', 40)", (u.id, c1["id"]))
        for i in range(2):
            db.execute("INSERT INTO llm_usage (user_id, campaign_id, provider, model, outcome, prompt_tokens)"
                       " VALUES (%s, %s, 'builtin', 'builtin', 'ok', %s)", (u.id, c1["id"], i))
    u.campaigns = [c1, c2]
    u.contacts = contacts
    u.send_id = str(send_id)
    return u


EXPECTED_ROWS = {"campaigns": 2, "content": 4, "contacts": 4, "sends": 3, "usage": 2, "analytics": 2}


def parse(fmt, body):
    text = body.decode("utf-8")
    if fmt == "csv":
        return list(csv.DictReader(io.StringIO(text, newline="")))
    if fmt == "ndjson":
        assert text.endswith("\n")
        return [json.loads(line) for line in text.splitlines()]
    return json.loads(text)


def test_every_kind_and_format_parses_back(stack, owner):
    exports = {(k, f): owner.export(k, f) for k, f in KINDS_FORMATS}
    for e in exports.values():
        assert UUID_RE.match(e["id"]) and e["status"] == "queued" and e["downloadUrl"] is None, e
    for (kind, fmt), e in exports.items():
        done = owner.wait(e["id"])
        assert done["status"] == "ready", done
        r = download(stack, done["downloadUrl"])
        assert r.status_code == 200, (kind, fmt, r.status_code, r.text)
        assert r.headers["Content-Type"] == TYPES[fmt]
        assert re.fullmatch(rf'attachment; filename="{kind}-\d{{4}}-\d\d-\d\d\.{fmt}"',
                            r.headers["Content-Disposition"]), r.headers
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert "no-store" in r.headers["Cache-Control"]
        rows = parse(fmt, r.content)
        assert len(rows) == EXPECTED_ROWS[kind] == done["rows"], (kind, fmt, rows)
        assert done["bytes"] == len(r.content)
        if kind == "campaigns":
            names = sorted(row["name"] for row in rows)
            # CSV cells that a spreadsheet would run get a leading '; JSON keeps the text as it is
            want = "'" + HYPERLINK if fmt == "csv" else HYPERLINK
            assert names == sorted([want, 'Plain, "quoted"\nname']), names
        if kind == "content":
            bodies = [row["content_body"] for row in rows if row["content_type"] == "social_post"]
            assert all(b.startswith("'-" if fmt == "csv" else "-") for b in bodies), bodies
            subjects = [row["subject_line"] for row in rows if row["content_type"] == "email"]
            assert subjects == ["'@channel hello" if fmt == "csv" else "@channel hello"]
        if kind == "contacts":
            firsts = sorted(row["first_name"] for row in rows)
            assert ("'+Plus" if fmt == "csv" else "+Plus") in firsts
        if kind == "sends":
            assert {row["send_id"] for row in rows} == {owner.send_id}
            assert {row["status"] for row in rows} == {"sent"}
        if kind == "usage":
            assert sorted(int(row["prompt_tokens"]) for row in rows) == [0, 1]
        if kind == "analytics":
            assert [row["variant"] for row in rows] == ["A", "'-B" if fmt == "csv" else "-B"]
            assert [int(row["clicks"]) for row in rows] == [7, 7]
            assert {float(row["spend"]) for row in rows} == {1.5}


def test_json_and_ndjson_types(stack, owner):
    e = owner.wait(owner.export("contacts", "json")["id"])
    rows = parse("json", download(stack, e["downloadUrl"]).content)
    assert all(isinstance(row["attributes"], dict) for row in rows), rows
    assert sorted(row["attributes"]["tier"] for row in rows) == [0, 1, 2, 3]


def test_bom_option(stack, owner):
    with_bom = owner.wait(owner.export("campaigns", "csv", bom=True)["id"])
    without = owner.wait(owner.export("campaigns", "csv")["id"])
    a = download(stack, with_bom["downloadUrl"]).content
    b = download(stack, without["downloadUrl"]).content
    assert a.startswith(b"\xef\xbb\xbf") and not b.startswith(b"\xef\xbb\xbf")
    assert with_bom["bom"] is True and with_bom["bytes"] == without["bytes"] + 3
    header = a[3:].split(b"\r\n" if b"\r\n" in a else b"\n")[0]
    assert header.startswith(b"id,name,description,objective,status")


def test_filters(stack, owner):
    c1 = owner.campaigns[0]["id"]
    e = owner.wait(owner.export("content", "ndjson", filters={"campaignId": c1})["id"])
    rows = parse("ndjson", download(stack, e["downloadUrl"]).content)
    assert len(rows) == 3 and {r["campaign_id"] for r in rows} == {c1}
    e = owner.wait(owner.export("campaigns", "json", filters={"objective": "conversion"})["id"])
    assert e["filters"] == {"objective": "conversion"} and e["rows"] == 1
    future = "2999-01-01T00:00:00Z"
    e = owner.wait(owner.export("usage", "csv", filters={"from": future})["id"])
    body = download(stack, e["downloadUrl"]).content
    assert e["rows"] == 0 and parse("csv", body) == [] and body.startswith(b"created_at,")
    e = owner.wait(owner.export("analytics", "json", filters={"interval": "hour"})["id"])
    rows = download(stack, e["downloadUrl"]).json()
    assert [(r["bucket"], r["impressions"]) for r in rows] == [("2026-11-01T10:00:00+00:00", 40)]
    e = owner.wait(owner.export("sends", "json", filters={"status": "bounced"})["id"])
    assert e["rows"] == 0 and download(stack, e["downloadUrl"]).json() == []


@pytest.mark.parametrize("body,field", [
    ({"kind": "everything", "format": "csv"}, "kind"),
    ({"kind": "campaigns", "format": "xlsx"}, "format"),
    ({"format": "csv"}, "kind"),
    ({"kind": "campaigns", "format": "csv", "filters": {"listId": str(uuid.uuid4())}}, "filters.listId"),
    ({"kind": "contacts", "format": "csv", "filters": {"campaignId": str(uuid.uuid4())}}, "filters.campaignId"),
    ({"kind": "content", "format": "csv", "filters": {"campaignId": "nope"}}, "filters.campaignId"),
    ({"kind": "usage", "format": "csv", "filters": {"from": "yesterday"}}, "filters.from"),
    ({"kind": "usage", "format": "csv",
      "filters": {"from": "2026-02-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"}}, "filters.to"),
    ({"kind": "sends", "format": "csv", "filters": {"status": "opened"}}, "filters.status"),
    ({"kind": "analytics", "format": "csv", "filters": {"interval": "week"}}, "filters.interval"),
    ({"kind": "campaigns", "format": "json", "bom": True}, "bom"),
    ({"kind": "campaigns", "format": "csv", "filters": []}, "filters"),
    ({"kind": "campaigns", "format": "csv", "extra": 1}, "extra"),
])
def test_invalid_requests_are_422_and_write_nothing(stack, owner, body, field):
    before = stack.scalar("SELECT (SELECT count(*) FROM exports) + (SELECT count(*) FROM jobs)")
    r = owner.req("POST", "/api/exports", json=body)
    assert_problem(r, 422, fields=[field])
    assert stack.scalar("SELECT (SELECT count(*) FROM exports) + (SELECT count(*) FROM jobs)") == before


def test_refused_links(stack, owner):
    e = owner.wait(owner.export("contacts", "csv")["id"])
    url = e["downloadUrl"]
    m = re.fullmatch(r"/api/exports/([0-9a-f-]{36})/download\?exp=(\d+)&sig=([0-9a-f]{64})", url)
    assert m and m.group(1) == e["id"], url
    exp, sig = m.group(2), m.group(3)
    flipped = sig[:-1] + ("0" if sig[-1] != "0" else "1")
    for bad in (f"/api/exports/{e['id']}/download?exp={exp}&sig={flipped}",        # tampered signature
                f"/api/exports/{e['id']}/download?exp={int(exp) + 1}&sig={sig}",   # a later expiry
                f"/api/exports/{e['id']}/download?exp={exp}",                      # no signature
                f"/api/exports/{e['id']}/download?exp={exp}&sig={sig}&x=1",        # more than the link
                f"/api/exports/{e['id']}/download?exp=0{exp}&sig={sig}",           # another spelling
                f"/api/exports/{e['id']}/download"):
        assert_problem(download(stack, bad), 404)
    # the internal location cannot be reached from outside
    assert download(stack, f"/_adcraft/exports/{e['id']}.csv").status_code == 404
    # the link needs no login, and works
    assert download(stack, url).status_code == 200


def test_another_users_exports_are_invisible(stack, owner):
    mine = owner.wait(owner.export("campaigns", "csv")["id"])
    other = User(stack)
    theirs = other.wait(other.export("campaigns", "csv")["id"])
    assert theirs["rows"] == 0
    assert_problem(other.req("GET", f"/api/exports/{mine['id']}"), 404)
    assert_problem(other.req("DELETE", f"/api/exports/{mine['id']}"), 404)
    listed = assert_json(other.req("GET", "/api/exports"), 200)
    assert [x["id"] for x in listed["items"]] == [theirs["id"]]
    # their own valid signature does not open my export
    sig_part = theirs["downloadUrl"].split("?", 1)[1]
    assert_problem(download(stack, f"/api/exports/{mine['id']}/download?{sig_part}"), 404)
    # filters may name only the caller's own objects: another user's is refused like a missing one
    for kind, field, value in (("content", "campaignId", owner.campaigns[0]["id"]),
                               ("sends", "sendId", owner.send_id),
                               ("sends", "campaignId", str(uuid.uuid4()))):
        r = other.req("POST", "/api/exports", json={"kind": kind, "format": "csv", "filters": {field: value}})
        assert_problem(r, 422, fields=[f"filters.{field}"])
    assert download(stack, mine["downloadUrl"]).status_code == 200


def test_list_is_keyset_paginated(stack):
    u = User(stack)
    ids = [u.export("campaigns", "json")["id"] for _ in range(3)]
    page1 = assert_json(u.req("GET", "/api/exports?limit=2"), 200)
    assert [x["id"] for x in page1["items"]] == ids[::-1][:2] and page1["nextCursor"]
    page2 = assert_json(u.req("GET", f"/api/exports?limit=2&cursor={page1['nextCursor']}"), 200)
    assert [x["id"] for x in page2["items"]] == [ids[0]] and page2["nextCursor"] is None
    assert_problem(u.req("GET", "/api/exports?kind=csv"), 400)


def test_delete_removes_the_file_at_once(stack, owner):
    e = owner.wait(owner.export("contacts", "ndjson")["id"])
    path = os.path.join(stack.dir, "exports", f"{e['id']}.ndjson")
    assert os.path.exists(path)
    r = owner.req("DELETE", f"/api/exports/{e['id']}")
    assert r.status_code == 204, r.text
    assert not os.path.exists(path)
    assert_problem(owner.req("GET", f"/api/exports/{e['id']}"), 404)
    assert_problem(download(stack, e["downloadUrl"]), 404)
    assert_problem(owner.req("DELETE", f"/api/exports/{e['id']}"), 404)


def test_delete_before_the_job_runs_cancels_it(stack, owner):
    e = owner.export("content", "json")
    r = owner.req("DELETE", f"/api/exports/{e['id']}")
    assert r.status_code == 204, r.text
    deadline = time.monotonic() + 30
    while True:
        job = assert_json(owner.req("GET", f"/api/jobs/data-exports/{e['jobId']}"), 200)
        if job["state"] in ("completed", "failed", "cancelled"):
            break
        assert time.monotonic() < deadline, job
        time.sleep(0.05)
    # cancelled before it ran, or it found the export gone; either way no file is left
    assert job["state"] in ("cancelled", "failed"), job
    time.sleep(0.2)
    assert not [f for f in os.listdir(os.path.join(stack.dir, "exports")) if e["id"] in f]


def test_progress_is_recorded_on_the_job(stack, owner):
    e = owner.wait(owner.export("contacts", "csv")["id"])
    job = assert_json(owner.req("GET", f"/api/jobs/data-exports/{e['jobId']}"), 200)
    assert job["kind"] == "export" and job["state"] == "completed", job
    assert job["result"] == {"exportId": e["id"], "rows": 4, "bytes": e["bytes"]}
    assert job["progress"]["done"] == job["progress"]["total"] == 4


def test_expired_exports_are_410_and_swept(stack, owner):
    e = owner.wait(owner.export("campaigns", "ndjson")["id"])
    path = os.path.join(stack.dir, "exports", f"{e['id']}.ndjson")
    assert os.path.exists(path)
    assert download(stack, e["downloadUrl"]).status_code == 200
    # past expires_at the export says expired and its link is 410, even before the sweep
    time.sleep(max(0.0, (datetime.datetime.fromisoformat(e["expiresAt"].replace("Z", "+00:00"))
                         - datetime.datetime.now(datetime.timezone.utc)).total_seconds()) + 0.1)
    late = assert_json(owner.req("GET", f"/api/exports/{e['id']}"), 200)
    assert late["status"] == "expired" and late["downloadUrl"] is None, late
    assert_problem(download(stack, e["downloadUrl"]), 410)
    deadline = time.monotonic() + EXPORT_TTL + 20
    while os.path.exists(path):
        assert time.monotonic() < deadline, "the worker did not delete the expired file"
        time.sleep(0.2)
    gone = assert_json(owner.req("GET", f"/api/exports/{e['id']}"), 200)
    assert gone["status"] == "expired" and gone["downloadUrl"] is None, gone
    assert_problem(download(stack, e["downloadUrl"]), 410)
    assert not [f for f in os.listdir(os.path.join(stack.dir, "exports")) if f.startswith(".")]
