"""Delivery against a scripted real SMTP server (tests/smtp/scripted-server.mjs):
5xx bounces, 4xx deferrals that keep a send from looking finished, a pause
after consecutive failures, and kill -9 of the worker mid-send: nobody gets
two copies, nobody is skipped but the one recipient whose SMTP transaction
was cut (docs/sending.md, "Delivery guarantees")."""

import email
import email.policy
import glob
import os
import signal
import subprocess
import tempfile
import time

import pytest

from helpers import RELAXED_LIMITS, Stack, free_ports
from test_mail_smtp import SMTP_DIR, Server, tmp  # noqa: F401  (the scripted server and its fixture)
from test_sends import Owner, wait


class PlainServer(Server):
    """The scripted server on loopback without TLS or AUTH (starttls=off in the stack's smtp_servers)."""

    def __init__(self, tmp):  # noqa: F811
        self.port = free_ports(1)[0]
        self.out = tempfile.mkdtemp(dir=tmp)
        self.log = os.path.join(self.out, "events.jsonl")
        self.proc = subprocess.Popen(["node", os.path.join(SMTP_DIR, "scripted-server.mjs"), "--port",
                                      str(self.port), "--out", self.out],
                                     stdout=open(self.log, "w"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 15
        while not any(e["event"] == "listening" for e in self.events()):
            assert self.proc.poll() is None, open(self.log).read()
            assert time.monotonic() < deadline, "scripted server did not start"
            time.sleep(0.05)


@pytest.fixture(scope="module")
def server(tmp):  # noqa: F811
    s = PlainServer(tmp)
    yield s
    s.stop()


@pytest.fixture(scope="module")
def stack(server):
    env = dict(RELAXED_LIMITS, ADCRAFT_SMTP_SERVERS=f"smtp://127.0.0.1:{server.port} starttls=off rate=150",
               ADCRAFT_DEV_JOB_HEARTBEAT="1", ADCRAFT_DEV_JOB_STALE="4")
    with Stack.start(env) as s:
        yield s


def delivered(server):
    """{recipient address: copies} the scripted server accepted."""
    out = {}
    for path in glob.glob(os.path.join(server.out, "*.eml")):
        with open(path, "rb") as f:
            msg = email.message_from_bytes(f.read(), policy=email.policy.default)
        to = msg["To"].addresses[0].addr_spec
        out[to] = out.get(to, 0) + 1
    return out


def make_send(owner, addrs):
    c = owner.ok("POST", "/api/campaigns", {"name": "Delivery", "objective": "awareness"}, 201)
    item = owner.ok("POST", f"/api/campaigns/{c['id']}/content", {
        "contentType": "email", "platform": "email", "subjectLine": "Hello {{firstName}}",
        "contentBody": "Hi {{firstName}}, a short note from Acme.", "callToAction": "Read more"}, 201)
    lst = owner.ok("POST", "/api/lists", {"name": "L"}, 201)
    ids = [owner.ok("POST", "/api/contacts", {"email": a, "firstName": "Ann"}, 201)["id"] for a in addrs]
    for i in range(0, len(ids), 500):
        owner.ok("POST", f"/api/lists/{lst['id']}/members", {"contactIds": ids[i:i + 500]})
    s = owner.ok("POST", f"/api/campaigns/{c['id']}/sends", {"contentId": item["id"], "listId": lst["id"]}, 201)
    return s["id"]


def status_of(owner, sid):
    return owner.ok("GET", f"/api/sends/{sid}")


def test_bounce_marks_the_contact_and_the_rest_goes_out(stack, server):
    o = Owner(stack)
    addrs = [f"bounce-{o.tag}@example.com", f"ok1-{o.tag}@example.com", f"ok2-{o.tag}@example.com"]
    sid = make_send(o, addrs)
    o.ok("POST", f"/api/sends/{sid}/approve")
    s = wait(lambda: (lambda x: x if x["status"] == "sent" else None)(status_of(o, sid)), what="sent")
    assert s["counts"]["sent"] == 2 and s["counts"]["bounced"] == 1, \
        (s["counts"], o.ok("GET", f"/api/sends/{sid}/recipients")["items"])
    got = delivered(server)
    assert got.get(addrs[1]) == 1 and got.get(addrs[2]) == 1 and addrs[0] not in got
    bounced = o.ok("GET", f"/api/sends/{sid}/recipients?status=bounced")["items"]
    assert [r["email"] for r in bounced] == [addrs[0]] and "550" in bounced[0]["lastError"]
    assert stack.scalar("SELECT status FROM contacts WHERE email = %s", [addrs[0]]) == "bounced"


def test_deferral_keeps_the_send_open_and_retries(stack, server):
    o = Owner(stack)
    addrs = [f"defer-{o.tag}@example.com", f"ok-{o.tag}@example.com"]
    sid = make_send(o, addrs)
    o.ok("POST", f"/api/sends/{sid}/approve")
    wait(lambda: status_of(o, sid)["counts"]["deferred"] == 1, what="a deferral")
    time.sleep(0.5)
    s = status_of(o, sid)
    assert s["status"] == "sending", "a send with a deferred recipient is not finished"
    assert s["counts"]["sent"] == 1
    rec = o.ok("GET", f"/api/sends/{sid}/recipients?status=deferred")["items"][0]
    assert rec["attempts"] == 1 and "451" in rec["lastError"]
    follow = stack.scalar("SELECT count(*) FROM jobs WHERE kind = 'deliver-send' AND state = 'queued'"
                          " AND payload->>'sendId' = %s AND run_at > now() + interval '50 seconds'", [sid])
    assert follow == 1, "a follow-up job waits for the deferred recipient"
    # make the retry due now: the same job delivers it again (deferred a second time)
    with stack.db() as conn:
        conn.execute("UPDATE send_recipients SET next_attempt_at = now() WHERE send_id = %s", [sid])
        conn.execute("UPDATE jobs SET run_at = now() WHERE kind = 'deliver-send' AND state = 'queued'"
                     " AND payload->>'sendId' = %s", [sid])
    def attempts():
        items = o.ok("GET", f"/api/sends/{sid}/recipients?status=deferred")["items"]
        return items and items[0]["attempts"] == 2
    wait(attempts, what="the second attempt")


def test_consecutive_failures_pause_the_send(stack, server):
    o = Owner(stack)
    addrs = [f"defer{i}-{o.tag}@example.com" for i in range(22)]
    sid = make_send(o, addrs)
    o.ok("POST", f"/api/sends/{sid}/approve")
    s = wait(lambda: (lambda x: x if x["status"] == "paused" else None)(status_of(o, sid)), what="paused")
    assert "20 consecutive" in s["pauseReason"]
    assert s["counts"]["deferred"] == 20 and s["counts"]["queued"] == 2


def test_kill_9_mid_send_no_copy_twice_none_skipped(stack, server):
    o = Owner(stack)
    n = 400
    addrs = [f"k{i}-{o.tag}@example.com" for i in range(n)]
    sid = make_send(o, addrs)
    o.ok("POST", f"/api/sends/{sid}/approve")
    wait(lambda: status_of(o, sid)["counts"]["sent"] >= 60, what="delivery under way")
    locked = stack.scalar("SELECT locked_by FROM jobs WHERE kind = 'deliver-send' AND state = 'running'"
                          " AND payload->>'sendId' = %s", [sid])
    assert locked, "the delivery job is running"
    pid = int(locked.split(":")[1])
    os.kill(pid, signal.SIGKILL)
    s = wait(lambda: (lambda x: x if x["status"] == "sent" else None)(status_of(o, sid)), timeout=60,
             what="the rescued job to finish the send")
    got = {a: c for a, c in delivered(server).items() if a.endswith(f"-{o.tag}@example.com")}
    twice = {a: c for a, c in got.items() if c > 1}
    assert not twice, f"recipients with two copies: {twice}"
    failed = o.ok("GET", f"/api/sends/{sid}/recipients?status=failed&limit=100")["items"]
    assert len(failed) <= 1, failed
    assert all("interrupted" in r["lastError"] for r in failed)
    skipped = [a for a in addrs if a not in got and a not in {r["email"] for r in failed}]
    assert not skipped, f"{len(skipped)} recipients never delivered: {skipped[:5]}"
    assert s["counts"]["sent"] + len(failed) == n


def test_max_conns_is_shared_by_every_process(stack, server):
    """While other processes hold all max_conns connection slots of the only
    server (2 by default), a send waits (its job retries); it goes out once a
    slot is free."""
    o = Owner(stack)
    addrs = [f"slot{i}-{o.tag}@example.com" for i in range(3)]
    sid = make_send(o, addrs)
    url = f"smtp://127.0.0.1:{server.port}"
    holder = stack.db()
    try:
        got = holder.execute("SELECT pg_try_advisory_lock(hashtext('adcraft.smtp:' || %s), 1),"
                             "       pg_try_advisory_lock(hashtext('adcraft.smtp:' || %s), 2)", [url, url]).fetchone()
        assert got == (True, True)
        o.ok("POST", f"/api/sends/{sid}/approve")
        wait(lambda: stack.scalar("SELECT last_error FROM jobs WHERE kind = 'deliver-send' AND payload->>'sendId' = %s",
                                  [sid]) or None, what="the job to wait for a slot")
        err = stack.scalar("SELECT last_error FROM jobs WHERE kind = 'deliver-send' AND payload->>'sendId' = %s", [sid])
        assert "max_conns" in err, err
        assert status_of(o, sid)["counts"]["sent"] == 0
    finally:
        holder.close()  # the session ends: its locks go with it
    with stack.db() as conn:
        conn.execute("UPDATE jobs SET run_at = now() WHERE kind = 'deliver-send' AND payload->>'sendId' = %s"
                     " AND state = 'queued'", [sid])
    s = wait(lambda: (lambda x: x if x["status"] == "sent" else None)(status_of(o, sid)), what="sent")
    assert s["counts"]["sent"] == 3
