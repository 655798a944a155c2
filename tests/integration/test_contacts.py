"""Contacts and lists (issue #11 section 1) through nginx: contact CRUD,
emails unique per owner ignoring case (409), validation (422, nothing
written), the list filters (status, listId, q) and keyset paging, lists with
contactCount, members (only the caller's contacts, idempotent), ownership
(another user's ids are 404), and CSV imports run by the import-contacts job:
BOM, quoted commas and newlines, bad lines reported by line number and never
half-imported, no resubscribing, list membership, the 20 MiB limit (413),
the content type (415), and an upload with only bad lines importing nothing."""

import time
import uuid

import pytest

from helpers import RFC3339_UTC_RE, UUID_RE, assert_json, assert_problem, unique_email

CSV = {"Content-Type": "text/csv"}


class User:
    def __init__(self, stack, name):
        self.stack = stack
        user, self.token, _ = stack.register_user(name=name)
        self.id = user["id"]

    def req(self, method, path, json=None, **kw):
        return self.stack.api(method, path, json=json, token=self.token, timeout=120, **kw)

    def contact(self, **fields):
        body = {"email": unique_email("c")}
        body.update(fields)
        return assert_json(self.req("POST", "/api/contacts", json=body), 201)

    def list(self, **fields):
        body = {"name": "Newsletter " + uuid.uuid4().hex[:6]}
        body.update(fields)
        return assert_json(self.req("POST", "/api/lists", json=body), 201)

    def import_csv(self, text, list_id=None, headers=CSV):
        path = "/api/contacts/import" + (f"?listId={list_id}" if list_id else "")
        data = text.encode() if isinstance(text, str) else text
        return self.req("POST", path, data=data, headers=headers)

    def imported(self, text, list_id=None):
        """Imports text and waits for the job; returns the finished job."""
        b = assert_json(self.import_csv(text, list_id), 202)
        job = b["job"]
        assert job["queue"] == "data-exports" and job["kind"] == "import-contacts", job
        deadline = time.monotonic() + 60
        while True:
            j = assert_json(self.req("GET", f"/api/jobs/data-exports/{job['id']}"), 200)
            if j["state"] in ("completed", "failed", "cancelled"):
                return j
            assert time.monotonic() < deadline, j
            time.sleep(0.05)

    def all_contacts(self, query=""):
        items, cursor = [], None
        while True:
            sep = "&" if query else ""
            path = f"/api/contacts?{query}{sep}limit=100" + (f"&cursor={cursor}" if cursor else "")
            b = assert_json(self.req("GET", path), 200)
            items += b["items"]
            cursor = b["nextCursor"]
            if not cursor:
                return items

    def by_email(self):
        return {c["email"].lower(): c for c in self.all_contacts()}


@pytest.fixture(scope="module")
def alice(stack):
    return User(stack, "Alice")


@pytest.fixture(scope="module")
def bob(stack):
    return User(stack, "Bob")


@pytest.fixture
def fresh(stack):
    return User(stack, "Fresh")


def count(stack, table, user_id):
    return stack.scalar(f"SELECT count(*) FROM {table} WHERE user_id = %s", (user_id,))


# ---- contacts --------------------------------------------------------------

def test_create_get_patch_delete(alice, stack):
    email = unique_email("Ann")
    c = alice.contact(email=email, firstName="Ann", lastName="Lee", attributes={"plan": "pro", "seats": 3},
                      consentSource="signup form", consentAt="2026-11-30T10:00:00Z")
    assert UUID_RE.match(c["id"])
    assert c["email"] == email and c["firstName"] == "Ann" and c["lastName"] == "Lee"
    assert c["attributes"] == {"plan": "pro", "seats": 3}
    assert c["status"] == "subscribed" and c["consentSource"] == "signup form"
    assert c["consentAt"] == "2026-11-30T10:00:00.000Z"
    for k in ("createdAt", "updatedAt"):
        assert RFC3339_UTC_RE.match(c[k]), c
    assert assert_json(alice.req("GET", f"/api/contacts/{c['id']}"), 200) == c

    p = assert_json(alice.req("PATCH", f"/api/contacts/{c['id']}", json={"status": "unsubscribed",
                                                                          "lastName": None}), 200)
    assert p["status"] == "unsubscribed" and p["lastName"] == "" and p["firstName"] == "Ann"
    assert p["attributes"] == c["attributes"]
    row = stack.db().execute("SELECT status, status_changed_at > created_at FROM contacts WHERE id = %s",
                             (c["id"],)).fetchone()
    assert row == ("unsubscribed", True)

    assert alice.req("DELETE", f"/api/contacts/{c['id']}").status_code == 204
    assert_problem(alice.req("GET", f"/api/contacts/{c['id']}"), 404)
    assert_problem(alice.req("DELETE", f"/api/contacts/{c['id']}"), 404)


def test_defaults(alice):
    c = alice.contact()
    assert c["firstName"] == "" and c["lastName"] == "" and c["attributes"] == {}
    assert c["status"] == "subscribed" and c["consentSource"] is None and c["consentAt"] is None


def test_duplicate_email_is_409_ignoring_case(alice, bob, stack):
    email = unique_email("Dup")
    alice.contact(email=email)
    before = count(stack, "contacts", alice.id)
    assert_problem(alice.req("POST", "/api/contacts", json={"email": email.upper()}), 409)
    assert count(stack, "contacts", alice.id) == before
    other = alice.contact()
    assert_problem(alice.req("PATCH", f"/api/contacts/{other['id']}", json={"email": email.lower()}), 409)
    # another owner may have the same address
    bob.contact(email=email)


@pytest.mark.parametrize("body,field", [
    ({}, "email"),
    ({"email": "not-an-address"}, "email"),
    ({"email": "a@b.co", "status": "deleted"}, "status"),
    ({"email": "a@b.co", "firstName": "x" * 201}, "firstName"),
    ({"email": "a@b.co", "attributes": []}, "attributes"),
    ({"email": "a@b.co", "attributes": {"nested": {"a": 1}}}, "attributes.nested"),
    ({"email": "a@b.co", "attributes": {"k": "v" * 1001}}, "attributes.k"),
    ({"email": "a@b.co", "attributes": {f"k{i}": i for i in range(51)}}, "attributes"),
    ({"email": "a@b.co", "consentAt": "yesterday"}, "consentAt"),
    ({"email": "a@b.co", "consentAt": "2026-02-30T10:00:00Z"}, "consentAt"),
    ({"email": "a@b.co", "userId": str(uuid.uuid4())}, "userId"),
    ({"email": "a@b.co", "id": str(uuid.uuid4())}, "id"),
])
def test_validation_writes_nothing(alice, stack, body, field):
    before = count(stack, "contacts", alice.id)
    assert_problem(alice.req("POST", "/api/contacts", json=body), 422, [field])
    assert count(stack, "contacts", alice.id) == before


def test_filters_and_paging(fresh):
    lst = fresh.list()
    made = []
    for i in range(7):
        c = fresh.contact(email=f"p{i}-{uuid.uuid4().hex[:6]}@example.com", firstName=f"Name{i}",
                          lastName="Zed" if i == 3 else "Young",
                          status="unsubscribed" if i % 3 == 0 else "subscribed")
        made.append(c)
    assert_json(fresh.req("POST", f"/api/lists/{lst['id']}/members",
                          json={"contactIds": [made[1]["id"], made[2]["id"]]}), 200)
    # pages of 3 are newest first and cover everything once
    seen, cursor, pages = [], None, 0
    while True:
        b = assert_json(fresh.req("GET", "/api/contacts?limit=3" + (f"&cursor={cursor}" if cursor else "")), 200)
        seen += [c["id"] for c in b["items"]]
        pages += 1
        cursor = b["nextCursor"]
        if not cursor:
            break
    assert seen == [c["id"] for c in reversed(made)] and pages == 3
    ids = lambda q: {c["id"] for c in fresh.all_contacts(q)}  # noqa: E731
    assert ids("status=unsubscribed") == {made[i]["id"] for i in (0, 3, 6)}
    assert ids(f"listId={lst['id']}") == {made[1]["id"], made[2]["id"]}
    assert ids(f"listId={lst['id']}&status=unsubscribed") == set()
    assert ids("q=zed") == {made[3]["id"]}
    assert ids("q=" + made[5]["email"][:8].upper()) == {made[5]["id"]}
    assert ids("q=name2%20young") == {made[2]["id"]}
    assert ids("q=%25") == set()  # a literal percent sign, not a wildcard
    assert_problem(fresh.req("GET", "/api/contacts?status=gone"), 400)
    assert_problem(fresh.req("GET", "/api/contacts?listId=nope"), 400)
    assert_problem(fresh.req("GET", "/api/contacts?colour=red"), 400)
    assert ids(f"listId={uuid.uuid4()}") == set()  # like a list of another user's: nothing


def test_another_users_contacts_are_404(alice, bob, stack):
    c = alice.contact()
    assert_problem(bob.req("GET", f"/api/contacts/{c['id']}"), 404)
    assert_problem(bob.req("PATCH", f"/api/contacts/{c['id']}", json={"firstName": "Mallory"}), 404)
    assert_problem(bob.req("DELETE", f"/api/contacts/{c['id']}"), 404)
    assert c["id"] not in {x["id"] for x in bob.all_contacts()}
    assert assert_json(alice.req("GET", f"/api/contacts/{c['id']}"), 200) == c


# ---- lists -----------------------------------------------------------------

def test_list_crud_members_and_count(alice, bob, stack):
    lst = alice.list(name="VIPs", description="Best customers")
    assert lst["contactCount"] == 0 and lst["name"] == "VIPs" and lst["description"] == "Best customers"
    a, b = alice.contact(), alice.contact()
    path = f"/api/lists/{lst['id']}/members"
    assert assert_json(alice.req("POST", path, json={"contactIds": [a["id"], b["id"]]}), 200) == {"added": 2}
    assert assert_json(alice.req("POST", path, json={"contactIds": [a["id"], a["id"]]}), 200) == {"added": 0}
    assert assert_json(alice.req("GET", f"/api/lists/{lst['id']}"), 200)["contactCount"] == 2

    # another user's contact (or none at all): 422 naming it, nothing added
    theirs = bob.contact()
    c = alice.contact()
    body = assert_problem(alice.req("POST", path, json={"contactIds": [c["id"], theirs["id"], str(uuid.uuid4())]}),
                          422, ["contactIds[1]", "contactIds[2]"])
    assert "contactIds[0]" not in {e["field"] for e in body["errors"]}
    assert assert_json(alice.req("GET", f"/api/lists/{lst['id']}"), 200)["contactCount"] == 2
    assert_problem(alice.req("POST", path, json={"contactIds": ["x"]}), 422, ["contactIds[0]"])
    assert_problem(alice.req("POST", path, json={"contactIds": []}), 422, ["contactIds"])

    assert alice.req("DELETE", f"{path}/{a['id']}").status_code == 204
    assert_problem(alice.req("DELETE", f"{path}/{a['id']}"), 404)
    assert assert_json(alice.req("GET", f"/api/lists/{lst['id']}"), 200)["contactCount"] == 1
    # deleting a contact takes it off its lists
    assert alice.req("DELETE", f"/api/contacts/{b['id']}").status_code == 204
    assert assert_json(alice.req("GET", f"/api/lists/{lst['id']}"), 200)["contactCount"] == 0

    p = assert_json(alice.req("PATCH", f"/api/lists/{lst['id']}", json={"name": "VIP"}), 200)
    assert p["name"] == "VIP" and p["description"] == "Best customers"
    assert_problem(alice.req("PATCH", f"/api/lists/{lst['id']}", json={"name": ""}), 422, ["name"])
    assert lst["id"] in {x["id"] for x in assert_json(alice.req("GET", "/api/lists?limit=100"), 200)["items"]}

    # ownership
    assert_problem(bob.req("GET", f"/api/lists/{lst['id']}"), 404)
    assert_problem(bob.req("PATCH", f"/api/lists/{lst['id']}", json={"name": "mine"}), 404)
    assert_problem(bob.req("POST", path, json={"contactIds": [theirs["id"]]}), 404)
    assert_problem(bob.req("DELETE", f"{path}/{c['id']}"), 404)
    assert_problem(bob.req("DELETE", f"/api/lists/{lst['id']}"), 404)
    assert_problem(bob.req("POST", f"/api/contacts/import?listId={lst['id']}", data=b"email\nx@y.io\n",
                           headers=CSV), 404)

    assert alice.req("DELETE", f"/api/lists/{lst['id']}").status_code == 204
    assert_problem(alice.req("GET", f"/api/lists/{lst['id']}"), 404)
    assert stack.scalar("SELECT count(*) FROM list_members WHERE list_id = %s", (lst["id"],)) == 0


def test_list_validation(alice, stack):
    before = count(stack, "lists", alice.id)
    assert_problem(alice.req("POST", "/api/lists", json={}), 422, ["name"])
    assert_problem(alice.req("POST", "/api/lists", json={"name": "x", "contactCount": 3}), 422, ["contactCount"])
    assert count(stack, "lists", alice.id) == before


# ---- imports ---------------------------------------------------------------

def test_import_bom_quotes_names_attributes_and_list(fresh, stack):
    lst = fresh.list()
    text = ("\ufeffEmail,First_Name,lastName,Company,Note\r\n"
            "ann@example.com,Ann,Lee,\"Acme, Inc.\",\"two\r\nlines\"\r\n"
            "BOB@example.com,Bob,,Initech,\r\n"
            "\r\n"
            "carl@example.com,\"Carl \"\"C\"\"\",Cole,,\"x\"\r\n")
    j = fresh.imported(text, lst["id"])
    assert j["state"] == "completed", j
    assert j["result"] == {"imported": 3, "updated": 0, "skipped": [], "skippedCount": 0}
    got = fresh.by_email()
    assert got["ann@example.com"]["attributes"] == {"Company": "Acme, Inc.", "Note": "two\r\nlines"}
    assert got["ann@example.com"]["firstName"] == "Ann" and got["ann@example.com"]["lastName"] == "Lee"
    assert got["bob@example.com"]["email"] == "BOB@example.com"
    assert got["bob@example.com"]["attributes"] == {"Company": "Initech"}
    assert got["carl@example.com"]["firstName"] == 'Carl "C"'
    for c in got.values():
        assert c["status"] == "subscribed" and c["consentSource"] == "import" and c["consentAt"]
    assert assert_json(fresh.req("GET", f"/api/lists/{lst['id']}"), 200)["contactCount"] == 3
    assert stack.scalar("SELECT count(*) FROM contact_imports WHERE user_id = %s", (fresh.id,)) == 0


def test_import_reports_bad_lines_and_never_resubscribes(fresh, stack):
    gone = fresh.contact(email="gone@example.com", firstName="Old", attributes={"tier": "gold"})
    assert_json(fresh.req("PATCH", f"/api/contacts/{gone['id']}", json={"status": "unsubscribed"}), 200)
    bounced = fresh.contact(email="bounced@example.com")
    stack.db().execute("UPDATE contacts SET status = 'bounced' WHERE id = %s", (bounced["id"],))
    lst = fresh.list()
    text = ("email,firstName,city\n"                      # 1
            "GONE@example.com,New,Paris\n"                 # 2 existing, unsubscribed
            "not-an-email,X,Y\n"                           # 3 bad address
            "ok1@example.com,Ok,Rome\n"                    # 4
            "short@example.com,Only two\n"                 # 5 field count
            "q@example.com,\"unterminated\"x,Z\n"          # 6 text after a closing quote
            "ok1@EXAMPLE.com,Again,Oslo\n"                 # 7 repeats line 4
            "bounced@example.com,,\n"                      # 8 existing, bounced
            ",Nobody,Nowhere\n"                            # 9 empty email
            "ok2@example.com,\"multi\nline\",Lima\n"       # 10-11
            "last@example.com,L,M")                        # 12, no final newline
    j = fresh.imported(text, lst["id"])
    assert j["state"] == "completed", j
    r = j["result"]
    assert r["imported"] == 3 and r["updated"] == 2, r
    assert [(s["line"]) for s in r["skipped"]] == [3, 5, 6, 7, 9] and r["skippedCount"] == 5, r
    reasons = {s["line"]: s["reason"] for s in r["skipped"]}
    assert "address" in reasons[3] and "fields" in reasons[5] and "quote" in reasons[6]
    assert "line 4" in reasons[7] and "empty" in reasons[9]
    got = fresh.by_email()
    assert "not-an-email" not in got and "short@example.com" not in got and "q@example.com" not in got
    assert got["gone@example.com"]["status"] == "unsubscribed"          # never resubscribed
    assert got["gone@example.com"]["firstName"] == "New"
    assert got["gone@example.com"]["attributes"] == {"tier": "gold", "city": "Paris"}
    assert got["bounced@example.com"]["status"] == "bounced"
    assert got["ok1@example.com"]["firstName"] == "Ok"
    assert got["ok2@example.com"]["firstName"] == "multi\nline"
    members = {c["email"].lower() for c in fresh.all_contacts(f"listId={lst['id']}")}
    assert members == {"gone@example.com", "ok1@example.com", "bounced@example.com", "ok2@example.com",
                       "last@example.com"}


def test_import_with_only_bad_lines_imports_nothing(fresh, stack):
    j = fresh.imported("email,firstName\nnope,A\nalso nope,B\n\"x@y.io\",\"C\"\"\n")
    assert j["state"] == "completed", j
    assert j["result"]["imported"] == 0 and j["result"]["updated"] == 0
    assert [s["line"] for s in j["result"]["skipped"]] == [2, 3, 4]
    assert count(stack, "contacts", fresh.id) == 0


def test_import_upload_checks(fresh, stack):
    assert_problem(fresh.import_csv("email\na@b.io\n", headers={"Content-Type": "application/json"}), 415)
    assert_problem(fresh.import_csv("email\na@b.io\n", headers={"Content-Type": "text/plain"}), 415)
    assert_problem(fresh.import_csv(b"", headers=CSV), 400)
    assert_problem(fresh.import_csv("name,city\nAnn,Rome\n"), 422)
    assert_problem(fresh.import_csv("email,Email\na@b.io,c@d.io\n"), 422)
    assert_problem(fresh.import_csv(b"email\n\xff\xfe@x.io\n"), 422)
    assert_problem(fresh.import_csv("\"email\n"), 422)
    assert_problem(fresh.import_csv("email\na@b.io\n", list_id="not-a-uuid"), 400)
    assert_problem(fresh.import_csv("email\na@b.io\n", list_id=str(uuid.uuid4())), 404)
    assert_problem(fresh.req("GET", "/api/contacts/import"), 405)
    assert stack.scalar("SELECT count(*) FROM jobs WHERE user_id = %s", (fresh.id,)) == 0
    assert stack.scalar("SELECT count(*) FROM contact_imports WHERE user_id = %s", (fresh.id,)) == 0


def test_import_size_limit(fresh, stack):
    line = "someone-%07d@example.com,First,Last,attribute value here\n"
    header = "email,firstName,lastName,note\n"
    rows = []
    size = len(header)
    i = 0
    while size < 20 * 1024 * 1024 - 200:
        s = line % i
        rows.append(s)
        size += len(s)
        i += 1
    text = header + "".join(rows)
    assert len(text) <= 20 * 1024 * 1024
    j = fresh.imported(text)
    assert j["state"] == "completed", j
    assert j["result"]["imported"] == i and j["result"]["skippedCount"] == 0, j["result"]
    assert count(stack, "contacts", fresh.id) == i

    over = header + "x" * (20 * 1024 * 1024 - len(header) + 1)
    assert_problem(fresh.import_csv(over), 413)
    assert stack.scalar("SELECT count(*) FROM contact_imports WHERE user_id = %s", (fresh.id,)) == 0


def test_a_second_run_of_an_import_changes_nothing(fresh, stack):
    """The staging row goes in the transaction that loads the contacts: a job
    that runs again (crash between commit and finish) fails and loads nothing."""
    j = fresh.imported("email\nonce@example.com\n")
    assert j["result"]["imported"] == 1
    stack.db().execute("UPDATE jobs SET state = 'queued', run_at = now(), finished_at = NULL WHERE id = %s",
                       (j["id"],))
    deadline = time.monotonic() + 30
    while True:
        again = assert_json(fresh.req("GET", f"/api/jobs/data-exports/{j['id']}"), 200)
        if again["state"] == "failed":
            break
        assert time.monotonic() < deadline, again
        time.sleep(0.05)
    assert "gone" in again["error"]
    assert count(stack, "contacts", fresh.id) == 1


def test_a_long_load_is_not_rescued_from_under_itself():
    """The load is one transaction without heartbeats; job_extend moves the
    heartbeat ahead first. Here the load is held up (contacts locked against
    writes, so the upsert waits) for several stale periods: the job must not be
    rescued and run again, and it completes in its first attempt."""
    from helpers import RELAXED_LIMITS, Stack
    env = dict(RELAXED_LIMITS, ADCRAFT_DEV_JOB_HEARTBEAT="1", ADCRAFT_DEV_JOB_STALE="3")
    with Stack.start(env) as s:
        u = User(s, "Slow")
        lst = u.list()
        with s.db() as locker:
            locker.execute("BEGIN")
            locker.execute("LOCK TABLE contacts IN SHARE MODE")
            job = assert_json(u.import_csv("email\nslow@example.com\n", lst["id"]), 202)["job"]
            deadline = time.monotonic() + 20
            while s.scalar("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'") == 0:
                assert time.monotonic() < deadline, "the import never waited for the lock"
                time.sleep(0.1)
            time.sleep(8)  # well past job_stale_seconds and a few rescue passes
            row = s.db().execute("SELECT state, attempts FROM jobs WHERE id = %s", (job["id"],)).fetchone()
            assert row == ("running", 1), row
            locker.execute("ROLLBACK")
        deadline = time.monotonic() + 20
        while True:
            j = assert_json(u.req("GET", f"/api/jobs/data-exports/{job['id']}"), 200)
            if j["state"] != "running":
                break
            assert time.monotonic() < deadline, j
            time.sleep(0.05)
        assert j["state"] == "completed" and j["attempts"] == 1, j
        assert j["result"]["imported"] == 1
        assert assert_json(u.req("GET", f"/api/lists/{lst['id']}"), 200)["contactCount"] == 1


def test_skipped_lines_are_listed_up_to_1000_and_all_counted(fresh, stack):
    lines = ["email"] + [f"bad-{i}" if i % 2 else f"good-{i}@example.com" for i in range(3000)]
    j = fresh.imported("\n".join(lines) + "\n")
    assert j["state"] == "completed", j
    r = j["result"]
    assert r["imported"] == 1500 and r["skippedCount"] == 1500, {k: r[k] for k in ("imported", "skippedCount")}
    assert len(r["skipped"]) == 1000
    assert [s["line"] for s in r["skipped"]] == [i + 2 for i in range(1, 2000, 2)]  # the first 1000, in order
