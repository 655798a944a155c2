"""Email sends (issue #11 sections 2 and 3): the approval gate, snapshots,
test deliveries, delivery through the email-sending queue to the stack's
real SMTP server (maildev), suppression, counts and status moves."""

import email
import email.policy
import time

import pytest
import requests

from helpers import assert_problem

BODY = ("Hi {{firstName}}, planning a week should take five minutes, not a whole morning. "
        "Acme Planner puts every task, owner and deadline on one page.")


def inbox(stack):
    r = requests.get(f"{stack.mail_ui_url}/email", timeout=10)
    assert r.status_code == 200, r.text
    return r.json()


def messages_to(stack, addr):
    return [m for m in inbox(stack) if any(t["address"] == addr for t in m["to"])]


def source(stack, mail):
    r = requests.get(f"{stack.mail_ui_url}/email/{mail['id']}/source", timeout=10)
    assert r.status_code == 200
    return email.message_from_bytes(r.content, policy=email.policy.default)


def wait(pred, timeout=20.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.1)
    raise AssertionError(f"{what} not met within {timeout}s")


class Owner:
    def __init__(self, stack):
        self.stack = stack
        u, self.token, _ = stack.register_user()
        self.id = u["id"]
        self.tag = self.id[:8]

    def req(self, method, path, json=None):
        return self.stack.api(method, path, token=self.token, json=json)

    def ok(self, method, path, json=None, status=200):
        r = self.req(method, path, json)
        assert r.status_code == status, (method, path, r.status_code, r.text)
        return r.json() if r.text else None

    def setup(self, n=3, unsubscribed=1):
        c = self.ok("POST", "/api/campaigns", {"name": "Spring send", "objective": "awareness"}, 201)
        item = self.ok("POST", f"/api/campaigns/{c['id']}/content", {
            "contentType": "email", "platform": "email", "subjectLine": "Your week, planned {{firstName}}",
            "preheader": "Five minutes on Monday saves hours by Friday. Here is how.",
            "contentBody": BODY, "callToAction": "Start planning"}, 201)
        lst = self.ok("POST", "/api/lists", {"name": "Customers"}, 201)
        ids, addrs = [], []
        for i in range(n + unsubscribed):
            addr = f"r{i}-{self.tag}@example.com"
            body = {"email": addr, "firstName": f"Ann{i}", "lastName": "Lee"}
            con = self.ok("POST", "/api/contacts", body, 201)
            if i >= n:
                self.ok("PATCH", f"/api/contacts/{con['id']}", {"status": "unsubscribed"})
            ids.append(con["id"])
            addrs.append(addr)
        self.ok("POST", f"/api/lists/{lst['id']}/members", {"contactIds": ids})
        return c["id"], item["id"], lst["id"], addrs


@pytest.fixture
def owner(stack):
    return Owner(stack)


def test_create_snapshots_and_waits_for_approval(stack, owner):
    cid, item, lst, addrs = owner.setup()
    s = owner.ok("POST", f"/api/campaigns/{cid}/sends", {"contentId": item, "listId": lst}, 201)
    assert s["status"] == "pending_approval" and s["approvedAt"] is None and s["jobId"] is None
    assert s["subject"] == "Your week, planned {{firstName}}" and len(s["snapshotHash"]) == 64
    assert s["counts"]["recipients"] == 0
    # editing the item afterwards changes nothing the send will deliver
    owner.ok("PATCH", f"/api/campaigns/{cid}/content/{item}", {"subjectLine": "Changed after the send"})
    again = owner.ok("GET", f"/api/sends/{s['id']}")
    assert again["subject"] == s["subject"] and again["snapshotHash"] == s["snapshotHash"]
    # nothing is delivered without approval
    time.sleep(1.5)
    assert not any(messages_to(stack, a) for a in addrs)
    lst_ = owner.ok("GET", f"/api/campaigns/{cid}/sends")
    assert [x["id"] for x in lst_["items"]] == [s["id"]]


def test_create_validation(stack, owner):
    cid, item, lst, _ = owner.setup(n=1, unsubscribed=0)
    ad = owner.ok("POST", f"/api/campaigns/{cid}/content", {
        "contentType": "ad_copy", "platform": "linkedin", "subjectLine": "Plan faster",
        "contentBody": "Acme Planner puts every task on one page."}, 201)
    for body, field in (({"contentId": ad["id"], "listId": lst}, "contentId"),
                        ({"contentId": "00000000-0000-4000-8000-000000000001", "listId": lst}, "contentId"),
                        ({"contentId": item, "listId": "00000000-0000-4000-8000-000000000001"}, "listId"),
                        ({"contentId": item, "listId": lst, "scheduledAt": "tomorrow"}, "scheduledAt"),
                        ({"contentId": item}, "listId")):
        r = owner.req("POST", f"/api/campaigns/{cid}/sends", body)
        b = assert_problem(r, 422)
        assert field in {e["field"] for e in b["errors"]}, b
    other = Owner(stack)
    _, _, their_list, _ = other.setup(n=1, unsubscribed=0)
    r = owner.req("POST", f"/api/campaigns/{cid}/sends", {"contentId": item, "listId": their_list})
    assert_problem(r, 422)
    r = other.req("POST", f"/api/campaigns/{cid}/sends", {"contentId": item, "listId": their_list})
    assert_problem(r, 404)
    assert owner.stack.scalar("SELECT count(*) FROM sends WHERE campaign_id = %s", [cid]) == 0


def test_test_delivery(stack, owner):
    cid, item, lst, _ = owner.setup(n=1, unsubscribed=0)
    s = owner.ok("POST", f"/api/campaigns/{cid}/sends", {"contentId": item, "listId": lst}, 201)
    to = f"qa-{owner.tag}@example.com"
    r = owner.req("POST", f"/api/sends/{s['id']}/test", {"to": [to]})
    assert r.status_code == 202, r.text
    mail = wait(lambda: messages_to(stack, to), what="the test message")[0]
    msg = source(stack, mail)
    assert msg["Subject"].startswith("[TEST] Your week, planned"), msg["Subject"]
    assert owner.ok("GET", f"/api/sends/{s['id']}")["status"] == "pending_approval"
    for bad in ({"to": []}, {"to": ["a@example.com"] * 6}, {"to": ["not-an-address"]}):
        assert_problem(owner.req("POST", f"/api/sends/{s['id']}/test", bad), 422)


def test_approve_delivers_to_subscribed_contacts_once(stack, owner):
    cid, item, lst, addrs = owner.setup(n=3, unsubscribed=1)
    s = owner.ok("POST", f"/api/campaigns/{cid}/sends", {"contentId": item, "listId": lst}, 201)
    a = owner.ok("POST", f"/api/sends/{s['id']}/approve")
    assert a["status"] == "approved" and a["approvedBy"] == owner.id and a["approvedAt"] and a["jobId"]
    assert a["counts"]["recipients"] == 4 and a["counts"]["suppressed"] == 1
    assert_problem(owner.req("POST", f"/api/sends/{s['id']}/approve"), 409)
    done = wait(lambda: (lambda x: x if x["status"] == "sent" else None)(owner.ok("GET", f"/api/sends/{s['id']}")),
                what="the send to finish")
    assert done["counts"]["sent"] == 3 and done["counts"]["suppressed"] == 1 and done["counts"]["queued"] == 0
    for i, addr in enumerate(addrs[:3]):
        got = messages_to(stack, addr)
        assert len(got) == 1, (addr, len(got))
        msg = source(stack, got[0])
        assert msg["Subject"] == f"Your week, planned Ann{i}"
        assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert "/u/" in msg["List-Unsubscribe"]
        text = msg.get_body(preferencelist=("plain",)).get_content()
        assert f"Hi Ann{i}," in text
    assert not messages_to(stack, addrs[3]), "the unsubscribed contact got mail"
    rec = owner.ok("GET", f"/api/sends/{s['id']}/recipients?status=sent")
    assert len(rec["items"]) == 3 and all(r["messageId"] and r["sentAt"] for r in rec["items"])
    sup = owner.ok("GET", f"/api/sends/{s['id']}/recipients?status=suppressed")["items"]
    assert [r["email"] for r in sup] == [addrs[3]] and "unsubscribed" in sup[0]["lastError"]
    r = owner.stack.api("GET", f"/api/sends/{s['id']}/recipients?status=nope", token=owner.token)
    assert_problem(r, 400)


def test_status_moves(stack, owner):
    cid, item, lst, _ = owner.setup(n=1, unsubscribed=0)
    s = owner.ok("POST", f"/api/campaigns/{cid}/sends", {"contentId": item, "listId": lst,
                                                        "scheduledAt": "2099-01-01T00:00:00Z"}, 201)
    assert_problem(owner.req("POST", f"/api/sends/{s['id']}/resume"), 409)
    a = owner.ok("POST", f"/api/sends/{s['id']}/approve")
    assert a["status"] == "scheduled"
    p = owner.ok("POST", f"/api/sends/{s['id']}/pause")
    assert p["status"] == "paused" and p["pauseReason"]
    assert_problem(owner.req("POST", f"/api/sends/{s['id']}/pause"), 409)
    c = owner.ok("POST", f"/api/sends/{s['id']}/cancel")
    assert c["status"] == "cancelled"
    for action in ("approve", "pause", "resume", "cancel"):
        assert_problem(owner.req("POST", f"/api/sends/{s['id']}/{action}"), 409)
    other = Owner(stack)
    for action in ("approve", "pause", "resume", "cancel"):
        assert_problem(other.req("POST", f"/api/sends/{s['id']}/{action}"), 404)
    assert_problem(other.req("GET", f"/api/sends/{s['id']}"), 404)
    assert_problem(other.req("GET", f"/api/sends/{s['id']}/recipients"), 404)
