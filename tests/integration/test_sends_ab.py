"""Email A/B sends (issue #12 section 3): a send with {abTestId, testFraction,
winnerAfter} delivers each variant's email to its share of a stable random
test fraction of the list (a hash of the test and the contact, split by
weights) and holds the rest; the winner (manual here, or the best observed
rate when winnerAfter passes) goes to the held recipients. Deliveries and
opens reach analytics with the variant's content item."""

import hashlib
import re

import pytest

from helpers import assert_problem
from test_sends import Owner, inbox, source, wait

N = 80


def bucket(test_id, contact_id):
    """sql/0016's ab_bucket, written again: the first 52 bits of md5(test:contact) / 2^52."""
    return int(hashlib.md5(f"{test_id}:{contact_id}".encode()).hexdigest()[:13], 16) / 2 ** 52


def expected_variant(test_id, contact_id, fraction, weights):
    u = bucket(test_id, contact_id)
    if u >= fraction:
        return None
    u, total, upto = u / fraction, sum(weights), 0
    for key, w in zip("ABCDE", weights):
        upto += w
        if u * total < upto:
            return key


class AbOwner(Owner):
    def ab_setup(self, n=N, weights=(1, 1)):
        c = self.ok("POST", "/api/campaigns", {"name": "A/B send", "objective": "awareness"}, 201)
        items = []
        for key in "AB"[:len(weights)]:
            items.append(self.ok("POST", f"/api/campaigns/{c['id']}/content", {
                "contentType": "email", "platform": "email", "subjectLine": f"Subject {key} {self.tag}",
                "contentBody": "Hi {{firstName}}, planning a week should take five minutes.",
                "callToAction": "Start planning"}, 201)["id"])
        lst = self.ok("POST", "/api/lists", {"name": "Everyone"}, 201)
        ids = [self.ok("POST", "/api/contacts", {"email": f"ab{i}-{self.tag}@example.com", "firstName": "Ann"},
                       201)["id"] for i in range(n)]
        self.ok("POST", f"/api/lists/{lst['id']}/members", {"contactIds": ids})
        t = self.ok("POST", f"/api/campaigns/{c['id']}/ab-tests", {
            "name": "Subjects", "metric": "open_rate",
            "variants": [{"contentId": i, "weight": w} for i, w in zip(items, weights)]}, 201)
        return c["id"], items, lst["id"], t["id"], ids

    def recipients(self, sid):
        out, cursor = [], None
        while True:
            page = self.ok("GET", f"/api/sends/{sid}/recipients?limit=100" + (f"&cursor={cursor}" if cursor else ""))
            out += page["items"]
            cursor = page["nextCursor"]
            if not cursor:
                return out


@pytest.fixture
def owner(stack):
    return AbOwner(stack)


def subjects_to(stack, tag):
    """{address: [subjects]} of the messages maildev holds for this owner's contacts."""
    out = {}
    for m in inbox(stack):
        for t in m["to"]:
            if tag in t["address"]:
                out.setdefault(t["address"], []).append(m["subject"])
    return out


def test_create_validation(stack, owner):
    cid, items, lst, tid, _ = owner.ab_setup(n=1)
    base = {"abTestId": tid, "listId": lst, "testFraction": 0.2, "winnerAfter": 3600}
    for body, field in ((dict(base, testFraction=0.6), "testFraction"),
                        (dict(base, testFraction=0.01), "testFraction"),
                        (dict(base, winnerAfter=59), "winnerAfter"),
                        ({k: v for k, v in base.items() if k != "winnerAfter"}, "winnerAfter"),
                        (dict(base, contentId=items[0]), "contentId"),
                        ({"contentId": items[0], "listId": lst, "testFraction": 0.2}, "testFraction"),
                        (dict(base, abTestId="00000000-0000-4000-8000-000000000001"), "abTestId")):
        b = assert_problem(owner.req("POST", f"/api/campaigns/{cid}/sends", body), 422)
        assert field in {e["field"] for e in b["errors"]}, (body, b)
    # a test whose variants are not all emails
    social = owner.ok("POST", f"/api/campaigns/{cid}/content", {
        "contentType": "social_post", "platform": "linkedin", "contentBody": "Plan your week in five minutes."}, 201)
    t2 = owner.ok("POST", f"/api/campaigns/{cid}/ab-tests", {
        "name": "mixed", "metric": "click_rate", "variants": [{"contentId": items[0]}, {"contentId": social["id"]}]},
        201)
    b = assert_problem(owner.req("POST", f"/api/campaigns/{cid}/sends", dict(base, abTestId=t2["id"])), 422)
    assert {e["field"] for e in b["errors"]} == {"abTestId"}
    assert stack.scalar("SELECT count(*) FROM sends WHERE campaign_id = %s", [cid]) == 0
    s = owner.ok("POST", f"/api/campaigns/{cid}/sends", base, 201)
    assert (s["abTestId"], s["testFraction"], s["winnerAfter"], s["winnerDueAt"]) == (tid, 0.2, 3600, None)
    assert s["contentId"] == items[0] and s["subject"] == f"Subject A {owner.tag}"
    # one send per test, and a test a send uses is kept
    assert_problem(owner.req("POST", f"/api/campaigns/{cid}/sends", base), 409)
    assert_problem(owner.req("DELETE", f"/api/ab-tests/{tid}"), 409)
    # the approval gate still applies: nothing assigned, the test still a draft
    assert owner.ok("GET", f"/api/ab-tests/{tid}")["status"] == "draft"
    assert stack.scalar("SELECT count(*) FROM send_recipients WHERE send_id = %s", [s["id"]]) == 0


def test_split_is_stable_and_the_winner_goes_to_the_rest(stack, owner):
    weights = (1, 3)
    cid, items, lst, tid, contacts = owner.ab_setup(weights=weights)
    s = owner.ok("POST", f"/api/campaigns/{cid}/sends",
                 {"abTestId": tid, "listId": lst, "testFraction": 0.5, "winnerAfter": 86400}, 201)
    approved = owner.ok("POST", f"/api/sends/{s['id']}/approve")
    assert approved["winnerDueAt"]
    assert owner.ok("GET", f"/api/ab-tests/{tid}")["status"] == "running"
    rows = owner.recipients(s["id"])
    assert len(rows) == N
    by_contact = {r["contactId"]: r for r in rows}
    expected = {c: expected_variant(tid, c, 0.5, weights) for c in contacts}
    content = {"A": items[0], "B": items[1], None: None}
    for c in contacts:
        got = by_contact[c]
        assert got["variant"] == expected[c], (c, got)
        assert got["contentId"] == content[expected[c]]
    held = [c for c in contacts if expected[c] is None]
    test_part = [c for c in contacts if expected[c] is not None]
    # a fair hash: about half in the test, and B about three times A there (binomial, 4-sigma bounds)
    assert abs(len(test_part) - N / 2) <= 4 * (N * 0.25) ** 0.5
    nb = sum(1 for c in test_part if expected[c] == "B")
    assert abs(nb - 0.75 * len(test_part)) <= 4 * (len(test_part) * 0.1875) ** 0.5 + 1
    # the test part gets its variants' subjects; the held rest nothing yet
    email_of = {r["contactId"]: r["email"] for r in rows}
    wait(lambda: owner.ok("GET", f"/api/sends/{s['id']}")["counts"]["sent"] == len(test_part), 30, "test part sent")
    got = subjects_to(stack, owner.tag)
    for c in test_part:
        assert got.get(email_of[c]) == [f"Subject {expected[c]} {owner.tag}"], c
    assert not any(email_of[c] in got for c in held)
    counts = owner.ok("GET", f"/api/sends/{s['id']}")["counts"]
    assert counts["held"] == len(held)
    assert owner.ok("GET", f"/api/sends/{s['id']}")["status"] == "sending"
    # deliveries are impressions of each variant's item, with its key
    wait(lambda: stack.scalar("SELECT count(*) FROM analytics_events WHERE campaign_id = %s AND type = 'impression'",
                              [cid]) == len(test_part), 10, "impressions")
    per = dict(stack.db().execute(
        "SELECT variant || ':' || content_id, count(*) FROM analytics_events WHERE campaign_id = %s"
        " GROUP BY 1", [cid]).fetchall())
    assert per == {f"{k}:{content[k]}": sum(1 for c in test_part if expected[c] == k)
                   for k in "AB" if any(expected[c] == k for c in test_part)}
    # a manual winner (A, though B got more of the test) goes to everyone held
    owner.ok("POST", f"/api/ab-tests/{tid}/winner", {"variant": "A", "reason": "the brand team chose it"})
    wait(lambda: owner.ok("GET", f"/api/sends/{s['id']}")["status"] == "sent", 30, "the rest sent")
    got = subjects_to(stack, owner.tag)
    for c in held:
        assert got.get(email_of[c]) == [f"Subject A {owner.tag}"], c
    for c in test_part:
        assert len(got[email_of[c]]) == 1, "nobody gets two copies"
    rows = {r["contactId"]: r for r in owner.recipients(s["id"])}
    assert all(rows[c]["variant"] == "A" and rows[c]["contentId"] == items[0] and rows[c]["status"] == "sent"
               for c in held)


def test_timeout_sends_the_best_observed_rate(stack, owner):
    cid, items, lst, tid, contacts = owner.ab_setup(n=40)
    s = owner.ok("POST", f"/api/campaigns/{cid}/sends",
                 {"abTestId": tid, "listId": lst, "testFraction": 0.5, "winnerAfter": 60}, 201)
    owner.ok("POST", f"/api/sends/{s['id']}/approve")
    rows = owner.recipients(s["id"])
    test_part = [r for r in rows if r["variant"]]
    held = [r for r in rows if r["status"] == "held"]
    assert test_part and held and any(r["variant"] == "B" for r in test_part)
    wait(lambda: owner.ok("GET", f"/api/sends/{s['id']}")["counts"]["sent"] == len(test_part), 30, "test part sent")
    # B's recipients open (the tracking pixel of the message they got), A's do not
    base = re.escape(stack.base_url)
    b_mails = {r["email"] for r in test_part if r["variant"] == "B"}
    opened = 0
    for m in inbox(stack):
        if any(t["address"] in b_mails for t in m["to"]):
            html = [p for p in source(stack, m).iter_parts()][1].get_content()
            token = re.search(r'<img src="' + base + r'/t/o/([A-Za-z0-9_-]+)"', html).group(1)
            assert stack.api("GET", f"/t/o/{token}").status_code == 200
            opened += 1
    assert opened == len(b_mails)
    # the opens are rolled up, and the test keeps running: too few samples to decide
    wait(lambda: stack.scalar("SELECT coalesce(sum(unique_opens), 0) FROM analytics_hourly WHERE campaign_id = %s",
                              [cid]) == opened, 20, "opens rolled up")
    assert owner.ok("GET", f"/api/ab-tests/{tid}")["status"] == "running"
    # winnerAfter passes (moved forward rather than waited for)
    db = stack.db()
    db.execute("UPDATE jobs SET run_at = now() WHERE kind = 'ab-send-winner' AND payload->>'sendId' = %s", [s["id"]])
    db.execute("NOTIFY adcraft_jobs, 'analytics-processing'")
    db.close()
    wait(lambda: owner.ok("GET", f"/api/ab-tests/{tid}")["status"] == "completed", 20, "timeout decided")
    t = owner.ok("GET", f"/api/ab-tests/{tid}")
    assert (t["winner"], t["winnerReason"]) == ("B", "timeout")
    wait(lambda: owner.ok("GET", f"/api/sends/{s['id']}")["status"] == "sent", 30, "the rest sent")
    got = subjects_to(stack, owner.tag)
    for r in held:
        assert got.get(r["email"]) == [f"Subject B {owner.tag}"], r


def test_a_cancelled_send_leaves_its_test_running(stack, owner):
    cid, items, lst, tid, _ = owner.ab_setup(n=4)
    s = owner.ok("POST", f"/api/campaigns/{cid}/sends",
                 {"abTestId": tid, "listId": lst, "testFraction": 0.5, "winnerAfter": 60}, 201)
    owner.ok("POST", f"/api/sends/{s['id']}/approve")
    owner.ok("POST", f"/api/sends/{s['id']}/cancel")
    db = stack.db()
    job = db.execute("UPDATE jobs SET run_at = now() WHERE kind = 'ab-send-winner' AND payload->>'sendId' = %s"
                     " RETURNING id", [s["id"]]).fetchone()[0]
    db.execute("NOTIFY adcraft_jobs, 'analytics-processing'")
    db.close()
    wait(lambda: stack.scalar("SELECT state FROM jobs WHERE id = %s", [job]) == "completed", 20, "the job ran")
    assert "cancelled" in stack.scalar("SELECT result->>'state' FROM jobs WHERE id = %s", [job])
    t = owner.ok("GET", f"/api/ab-tests/{tid}")
    assert (t["status"], t["winner"]) == ("running", None)
    assert owner.ok("GET", f"/api/sends/{s['id']}")["status"] == "cancelled"
