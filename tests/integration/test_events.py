"""Real-time events through nginx nchan (docs/events.md).

Subscribers (SSE, WebSocket, long-poll) of /events/user, /events/user?campaign=ID
and /events/campaigns/ID; authorization by nginx auth_request to adcraft-api's
loopback TCP listener (bearer token or the events cookie); seq per channel kept
in PostgreSQL; resume with Last-Event-ID / last_event_id only when adcraft-api
has checked the id (nchan 1.3.6 crashes on some ids), otherwise 409.
"""

import os
import re
import signal
import subprocess
import time

import pytest
import requests

from events_helpers import SSE, WS, assert_consecutive, events_session, seqs_by_channel
from helpers import RELAXED_LIMITS, Stack, assert_problem, jwt_find_key, jwt_make, jwt_parts

SETTINGS = {"contentTypes": ["email", "social_post", "ad_copy"], "platforms": ["email", "linkedin", "twitter"],
            "variations": 1}


@pytest.fixture(scope="module")
def user(stack):
    u, access, _ = stack.register_user()
    return {"id": u["id"], "token": access}


def auth(token):
    return {"Authorization": f"Bearer {token}"}


def new_campaign(stack, user, settings=SETTINGS, name="Events launch"):
    r = stack.api("POST", "/api/campaigns", token=user["token"],
                  json={"name": name, "objective": "awareness", "keywords": "automation, CRM",
                        "generationSettings": settings})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def start_job(stack, user, campaign_id):
    r = stack.api("POST", f"/api/jobs/campaigns/{campaign_id}/generate", token=user["token"])
    assert r.status_code == 202, r.text
    body = r.json()
    assert body["eventsUrl"] == f"/events/campaigns/{campaign_id}"
    return body["job"]["id"]


def done(messages):
    return any(m["type"] in ("campaign:generation:completed", "campaign:generation:failed") for m in messages)


def nginx_error_log(stack):
    return stack.read_file("log/nginx-error.log").decode("utf-8", "replace")


def nginx_workers(stack):
    master = int(stack.read_file("run/nginx.pid").split()[0])
    out = subprocess.run(["pgrep", "-P", str(master)], stdout=subprocess.PIPE, text=True).stdout
    return sorted(int(x) for x in out.split())


def check_generation_sequence(stack, user, campaign_id, job_id, msgs):
    """The campaign channel's messages of one generation job, as a UI needs them."""
    camp = [m for m in msgs if m["channel"] == "campaign"]
    types = [m["type"] for m in camp]
    assert types[0] == "campaign:generation:started", types
    assert types[-1] == "campaign:generation:completed", types
    assert "campaign:generation:progress" in types, types
    assert_consecutive([m["seq"] for m in camp])
    for m in camp:
        assert m["campaignId"] == campaign_id and m["userId"] == user["id"] and m["jobId"] == job_id, m
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", m["at"]), m["at"]
    result = camp[-1]["data"]["result"]
    items = [m["data"]["item"] for m in camp if m["type"] == "content:generation:completed"]
    assert len(items) == result["generated"] > 0, (len(items), result)
    assert [i["id"] for i in items] == result["itemIds"]
    total = camp[0]["data"]["total"]
    assert [m["data"]["done"] for m in camp if m["type"] == "content:generation:completed"] == \
        list(range(1, len(items) + 1))
    last_progress = [m for m in camp if m["type"] == "campaign:generation:progress"][-1]["data"]
    assert last_progress["done"] == last_progress["total"] == total and last_progress["percent"] == 100
    rest = stack.api("GET", f"/api/campaigns/{campaign_id}/content?limit=100", token=user["token"]).json()
    assert sorted(i["id"] for i in rest["items"]) == sorted(result["itemIds"])
    assert {i["id"]: i for i in rest["items"]} == {i["id"]: i for i in items}, "event items differ from REST"


# ---- whole sequences ---------------------------------------------------------


def test_sse_with_the_events_cookie_receives_the_whole_generation(stack, user):
    r, session = events_session(stack, user["token"])
    assert r.status_code == 200 and r.json()["expiresIn"] == 300, r.text
    cid = new_campaign(stack, user)
    sub = SSE(stack.url(f"/events/campaigns/{cid}"), session=session).start()
    assert sub.status == 200, sub.error_body
    job = start_job(stack, user, cid)
    msgs = sub.wait(done)
    sub.close()
    check_generation_sequence(stack, user, cid, job, msgs)
    assert all(m["channel"] == "campaign" for m in msgs), "a campaign stream carries only its channel"
    assert all(i and re.fullmatch(r"\d+:\d+", i) for i in sub.ids), sub.ids


def test_websocket_multiplexed_user_and_campaign_channels(stack, user):
    cid = new_campaign(stack, user)
    sub = WS(stack.url(f"/events/user?campaign={cid}"), headers=auth(user["token"])).start()
    assert sub.status == 101
    job = start_job(stack, user, cid)
    msgs = sub.wait(lambda ms: done(ms) and any(m["type"] == "job:completed" for m in ms))
    sub.close()
    check_generation_sequence(stack, user, cid, job, msgs)
    mine = [m for m in msgs if m["channel"] == "user" and m["jobId"] == job]
    assert [m["type"] for m in mine][0] == "job:started"
    assert [m["type"] for m in mine][-1] == "job:completed"
    assert mine[-1]["data"]["queue"] == "content-generation" and mine[-1]["data"]["result"]["generated"] > 0
    for seqs in seqs_by_channel(msgs).values():
        assert_consecutive(seqs)
    # job:completed comes after the job's row says so: a client that refetches sees it finished
    r = stack.api("GET", f"/api/jobs/content-generation/{job}", token=user["token"])
    assert r.json()["state"] == "completed"


def test_longpoll_returns_the_next_message(stack, user):
    cid = new_campaign(stack, user)
    import threading
    got = {}

    def poll():
        got["r"] = requests.get(stack.url("/events/user"), headers=auth(user["token"]), timeout=20)
    t = threading.Thread(target=poll)
    t.start()
    time.sleep(0.5)
    r = stack.api("PATCH", f"/api/campaigns/{cid}", token=user["token"], json={"name": "Long-polled"})
    assert r.status_code == 200
    t.join(20)
    lp = got["r"]
    assert lp.status_code == 200, lp.text
    m = lp.json()
    assert m["type"] == "notification" and m["data"]["kind"] == "campaign.updated" and m["data"]["name"] == "Long-polled"
    assert lp.headers.get("Last-Modified") and lp.headers.get("Etag"), lp.headers


def test_progress_is_throttled_to_ten_a_second(stack, user):
    cid = new_campaign(stack, user, {"contentTypes": ["social_post", "ad_copy"],
                                     "platforms": ["linkedin", "twitter", "facebook", "instagram"],
                                     "variations": 3})
    sub = SSE(stack.url(f"/events/campaigns/{cid}"), headers=auth(user["token"])).start()
    start_job(stack, user, cid)
    msgs = sub.wait(done)
    sub.close()
    progress = [m for m in msgs if m["type"] == "campaign:generation:progress"]
    items = [m for m in msgs if m["type"] == "content:generation:completed"]
    assert len(items) >= 12
    assert len(progress) < len(items), "progress is throttled, items are not"

    def ms(m):
        return time.mktime(time.strptime(m["at"][:19], "%Y-%m-%dT%H:%M:%S")) * 1000 + int(m["at"][20:23])
    for a, b in zip(progress, progress[1:-1]):
        assert ms(b) - ms(a) >= 99, (a["at"], b["at"])
    assert progress[-1]["data"]["done"] == progress[-1]["data"]["total"]


# ---- notifications from the API ---------------------------------------------


def test_api_changes_notify_the_owner_after_the_response(stack, user):
    cid = new_campaign(stack, user)
    sub = SSE(stack.url("/events/user"), headers=auth(user["token"])).start()
    tok = user["token"]
    item = stack.api("POST", f"/api/campaigns/{cid}/content", token=tok,
                     json={"contentType": "social_post", "platform": "twitter",
                           "contentBody": "Hello from the test"}).json()
    stack.api("PATCH", f"/api/campaigns/{cid}/content/{item['id']}", token=tok, json={"contentBody": "Edited body"})
    stack.api("DELETE", f"/api/campaigns/{cid}/content/{item['id']}", token=tok)
    stack.api("PATCH", f"/api/campaigns/{cid}", token=tok, json={"status": "active"})
    stack.api("DELETE", f"/api/campaigns/{cid}", token=tok)
    msgs = sub.wait(lambda ms: any(m["data"].get("kind") == "campaign.deleted" for m in ms))
    sub.close()
    notes = [m for m in msgs if m["type"] == "notification" and m["campaignId"] == cid]
    kinds = [m["data"]["kind"] for m in notes]
    assert kinds == ["content.created", "content.updated", "content.deleted", "campaign.status", "campaign.deleted"], kinds
    assert notes[0]["data"]["item"]["id"] == item["id"] and notes[0]["data"]["contentId"] == item["id"]
    assert notes[1]["data"]["item"]["contentBody"] == "Edited body"
    assert notes[2]["data"]["contentId"] == item["id"] and "item" not in notes[2]["data"]
    assert notes[3]["data"]["status"] == "active"
    assert all(m["channel"] == "user" and m["userId"] == user["id"] and m["jobId"] is None for m in notes)
    assert_consecutive([m["seq"] for m in msgs])


def test_failed_requests_notify_nothing(stack, user):
    cid = new_campaign(stack, user)
    sub = SSE(stack.url("/events/user"), headers=auth(user["token"])).start()
    r = stack.api("POST", f"/api/campaigns/{cid}/content", token=user["token"], json={"contentType": "nonsense"})
    assert r.status_code == 422
    r = stack.api("PATCH", f"/api/campaigns/{cid}", token=user["token"], json={"status": "generating"})
    assert r.status_code == 409
    stack.api("PATCH", f"/api/campaigns/{cid}", token=user["token"], json={"name": "marker"})
    msgs = sub.wait(lambda ms: any(m["data"].get("name") == "marker" for m in ms))
    sub.close()
    assert [m["data"]["kind"] for m in msgs] == ["campaign.updated"], msgs


# ---- who may listen ----------------------------------------------------------


def test_another_users_campaign_is_403_and_hears_nothing(stack, user):
    cid = new_campaign(stack, user)
    _, other, _ = stack.register_user()
    for url in (f"/events/campaigns/{cid}", f"/events/user?campaign={cid}"):
        r = requests.get(stack.url(url), headers={**auth(other), "Accept": "text/event-stream"}, timeout=10)
        assert_problem(r, 403)
        ws = WS(stack.url(url), headers=auth(other)).start()
        assert ws.status == 403 and not ws.messages
    missing = "00000000-0000-4000-8000-000000000000"
    r = requests.get(stack.url(f"/events/campaigns/{missing}"), headers=auth(other), timeout=10)
    assert_problem(r, 403)  # no existence oracle


@pytest.mark.parametrize("headers,detail", [
    ({}, "credentials are required"),
    ({"Authorization": "Bearer nope"}, "invalid"),
    ({"Authorization": "Basic dXNlcjpwYXNz"}, "invalid"),
    ({"Cookie": "adcraft_events=nope"}, "invalid"),
])
def test_missing_or_bad_credentials_are_401(stack, headers, detail):
    r = requests.get(stack.url("/events/user"), headers={**headers, "Accept": "text/event-stream"}, timeout=10)
    body = assert_problem(r, 401)
    assert detail in body["detail"], body
    assert r.headers["WWW-Authenticate"].startswith("Bearer")


def test_expired_or_misused_tokens_are_401(stack, user):
    r, session = events_session(stack, user["token"])
    cookie = session.cookies["adcraft_events"]
    key = jwt_find_key(stack, user["token"])
    header, payload = jwt_parts(cookie)[:2]
    now = int(time.time())
    expired = jwt_make(header, {**payload, "iat": now - 600, "nbf": now - 600, "exp": now - 60}, key)
    r = requests.get(stack.url("/events/user"), cookies={"adcraft_events": expired}, timeout=10)
    assert "expired" in assert_problem(r, 401)["detail"]
    # the events cookie is not an access token, and an access token is not an events cookie
    r = requests.get(stack.url("/events/user"), headers=auth(cookie), timeout=10)
    assert_problem(r, 401)
    r = stack.api("GET", "/api/auth/me", token=cookie)
    assert r.status_code == 401
    r = requests.get(stack.url("/events/user"), cookies={"adcraft_events": user["token"]}, timeout=10)
    assert_problem(r, 401)


def test_events_session_cookie_attributes(stack, user):
    r, _ = events_session(stack, user["token"])
    sc = r.headers["Set-Cookie"]
    assert sc.startswith("adcraft_events=") and "; Path=/events/" in sc and "; HttpOnly" in sc
    assert "; SameSite=Strict" in sc and "; Max-Age=300" in sc and "Secure" not in sc, sc
    assert r.headers["Cache-Control"].startswith("no-store")
    r = stack.api("POST", "/api/events/session")
    assert r.status_code == 401
    r = requests.delete(stack.url("/api/events/session"), timeout=10)
    assert r.status_code == 204 and "Max-Age=0" in r.headers["Set-Cookie"]


def test_events_session_cookie_is_secure_over_tls(stack, user):
    """With nginx's HTTPS parameter set (TLS), the cookie is Secure."""
    from test_edge import edge_secret, fcgi_request, params_for, unix_socket
    r = fcgi_request(unix_socket(stack), params_for(
        "POST", "/api/events/session", ADCRAFT_EDGE_SECRET=edge_secret(stack), HTTPS="on",
        HTTP_AUTHORIZATION=f"Bearer {user['token']}"))
    assert r.status == 200
    assert "; Secure" in r.header("Set-Cookie"), r.headers


def test_origins(stack, user):
    headers = {**auth(user["token"]), "Accept": "text/event-stream"}
    r = requests.get(stack.url("/events/user"), headers={**headers, "Origin": "https://evil.example"}, timeout=10)
    assert_problem(r, 403)
    ws = WS(stack.url("/events/user"), headers={**auth(user["token"]), "Origin": "https://evil.example"}).start()
    assert ws.status == 403
    listed = "http://localhost:5173"
    sub = SSE(stack.url("/events/user"), headers={**auth(user["token"]), "Origin": listed}).start()
    assert sub.status == 200
    assert sub.resp.headers["Access-Control-Allow-Origin"] == listed
    assert sub.resp.headers["Access-Control-Allow-Credentials"] == "true"
    sub.close()
    r = stack.api("POST", "/api/events/session", token=user["token"], headers={"Origin": listed})
    assert r.headers["Access-Control-Allow-Origin"] == listed
    assert r.headers["Access-Control-Allow-Credentials"] == "true"


def test_unknown_streams_and_parameters(stack, user):
    h = auth(user["token"])
    for url, status in (("/events/users", 404), ("/events/campaigns/not-a-uuid", 404),
                        ("/events/campaigns/x/y", 404), ("/events/user?foo=1", 400),
                        ("/events/user?campaign=nope", 400), ("/events/user?last_event_id=%00", 400)):
        r = requests.get(stack.url(url), headers=h, timeout=10)
        assert_problem(r, status)


def test_methods_other_than_get_are_405_at_once(stack, user):
    """nchan took HEAD and PATCH with a valid token for a long-poll that never answered, and a POST,
    PUT or DELETE for a publish it refused with a bare 403: 405 problem+json, Allow: GET, OPTIONS."""
    cid = new_campaign(stack, user)
    h = auth(user["token"])
    for method in ("HEAD", "PATCH", "POST", "PUT", "DELETE"):
        for url in ("/events/user", f"/events/campaigns/{cid}"):
            r = requests.request(method, stack.url(url), headers=h, data=b"{}", timeout=10)
            assert r.status_code == 405, (method, url, r.status_code, r.text)
            assert r.headers["Allow"] == "GET, OPTIONS", (method, r.headers)
            if method != "HEAD":
                assert_problem(r, 405)
    r = requests.request("PATCH", stack.url("/events/user"), timeout=10)
    assert r.status_code == 405, "without credentials too"


# ---- resume ------------------------------------------------------------------


def notify(stack, user, cid, n, prefix="n"):
    for i in range(n):
        r = stack.api("PATCH", f"/api/campaigns/{cid}", token=user["token"], json={"name": f"{prefix}{i}"})
        assert r.status_code == 200


def test_reconnect_with_last_event_id_gets_exactly_what_was_missed(stack, user):
    cid = new_campaign(stack, user)
    sub = SSE(stack.url("/events/user"), headers=auth(user["token"])).start()
    notify(stack, user, cid, 2, "before")
    sub.wait(lambda ms: len(ms) >= 2)
    sub.close()
    last_seq, last_id = sub.messages[-1]["seq"], sub.ids[-1]
    notify(stack, user, cid, 3, "missed")
    for how in ("header", "query"):
        if how == "header":
            again = SSE(stack.url("/events/user"), headers={**auth(user["token"]), "Last-Event-ID": last_id})
        else:
            again = SSE(stack.url(f"/events/user?last_event_id={requests.utils.quote(last_id)}"),
                        headers=auth(user["token"]))
        again.start()
        assert again.status == 200, again.error_body
        msgs = again.wait(lambda ms: len(ms) >= 3)
        time.sleep(0.3)
        again.close()
        assert [m["seq"] for m in again.messages] == [last_seq + 1, last_seq + 2, last_seq + 3], how
        assert [m["data"]["name"] for m in msgs] == ["missed0", "missed1", "missed2"]


def test_multiplexed_resume(stack, user):
    cid = new_campaign(stack, user)
    url = stack.url(f"/events/user?campaign={cid}")
    sub = SSE(url, headers=auth(user["token"])).start()
    start_job(stack, user, cid)
    sub.wait(lambda ms: done(ms) and any(m["type"] == "job:completed" for m in ms))  # the job's last message
    sub.close()
    mid = len(sub.messages) // 2
    missed = sub.messages[mid + 1:]
    again = SSE(url, headers={**auth(user["token"]), "Last-Event-ID": sub.ids[mid]}).start()
    assert again.status == 200, again.error_body
    again.wait(lambda ms: len(ms) >= len(missed))
    time.sleep(0.3)
    again.close()
    # each channel's missed messages, in order, none twice (nchan sends one channel's backlog first)
    assert seqs_by_channel(again.messages) == seqs_by_channel(missed)


def test_crashing_resume_sequences_are_refused_and_no_worker_dies(stack, user):
    """nchan 1.3.6 crashes a worker on message ids for channels without
    buffered messages, among others; every such request is refused (409, or
    400 for a malformed query) before nchan sees it."""
    workers = nginx_workers(stack)
    busy = new_campaign(stack, user)
    notify(stack, user, busy, 1)
    quiet = new_campaign(stack, user)        # its channel has never carried a message
    now = int(time.time())
    h = auth(user["token"])
    # a subscriber makes the quiet channel exist in nchan (with no message): the crashing case
    holder = SSE(stack.url(f"/events/campaigns/{quiet}"), headers=h).start()
    assert holder.status == 200
    cases = [
        (f"/events/campaigns/{quiet}", {"Last-Event-ID": f"{now}:0"}, 409),
        (f"/events/campaigns/{quiet}?last_event_id={now}:0", {}, 409),
        (f"/events/campaigns/{quiet}", {"If-None-Match": "0"}, 409),
        (f"/events/campaigns/{quiet}", {"If-Modified-Since": "Thu, 03 Dec 2026 10:00:00 GMT"}, 409),
        (f"/events/campaigns/{quiet}", {"If-Modified-Since": "Thu, 03 Dec 2026 10:00:00 GMT",
                                        "If-None-Match": "0"}, 409),
        ("/events/user", {"If-None-Match": "1"}, 409),
        ("/events/user", {"Last-Event-ID": f"{now - 700}:0"}, 409),           # older than the buffer
        ("/events/user", {"Last-Event-ID": f"{now + 3600}:0"}, 409),          # the future
        ("/events/user", {"Last-Event-ID": "1:0"}, 409),
        ("/events/user", {"Last-Event-ID": f"{now}:[0],-1"}, 409),            # two tags, one channel
        ("/events/user", {"Last-Event-ID": f"{now}:0,0"}, 409),
        ("/events/user", {"Last-Event-ID": "garbage"}, 409),
        ("/events/user", {"Last-Event-ID": f"{now}:99999"}, 409),
        (f"/events/user?campaign={quiet}", {"Last-Event-ID": f"{now}:[0],-1"}, 409),  # user live, campaign not
        (f"/events/user?campaign={quiet}", {"Last-Event-ID": f"{now}:0"}, 409),       # one tag, two channels
        (f"/events/user?last_event_id={now}:[0]", {}, 409),
        (f"/events/user?last_event_id={now}%3A0%2C1", {}, 409),
        ("/events/user?last_event_id=1&last_event_id=2", {}, 400),
        (f"/events/campaigns/{busy}", {"Last-Event-ID": f"{now}:0"}, 409),     # busy's channel is campaign.*: empty
    ]
    for url, extra, status in cases:
        for accept in ("text/event-stream", "*/*"):
            r = requests.get(stack.url(url), headers={**h, **extra, "Accept": accept}, timeout=10)
            assert_problem(r, status)
        ws = WS(stack.url(url), headers={**h, **extra}).start()
        assert ws.status == status, (url, extra, ws.status)
    time.sleep(0.5)
    log = nginx_error_log(stack)
    assert "exited on signal" not in log, log[-3000:]
    assert nginx_workers(stack) == workers, "an nginx worker was replaced"
    # and the server still works: the holder still hears its channel
    assert not holder.closed.is_set()
    start_job(stack, user, quiet)
    holder.wait(done)
    holder.close()


# ---- nginx reload: the buffer is gone, seq shows the gap ---------------------


@pytest.fixture(scope="module")
def own_stack():
    with Stack.start(RELAXED_LIMITS) as s:
        yield s


def add_item(stack, user, cid, text):
    r = stack.api("POST", f"/api/campaigns/{cid}/content", token=user["token"],
                  json={"contentType": "social_post", "platform": "twitter", "contentBody": text})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def test_reload_loses_the_buffer_and_seq_shows_the_gap(own_stack):
    """A message the client missed was in nginx's buffer when nginx reloaded:
    resuming cannot deliver it, but the next message's seq shows the gap, and
    the client refetches over REST."""
    stack = own_stack
    u, token, _ = stack.register_user()
    user = {"id": u["id"], "token": token}
    cid = new_campaign(stack, user)
    sub = SSE(stack.url("/events/user"), headers=auth(token)).start()
    seen = add_item(stack, user, cid, "seen")
    sub.wait(lambda ms: len(ms) >= 1)
    last_seq, last_id = sub.messages[-1]["seq"], sub.ids[-1]
    sub.close()
    missed = add_item(stack, user, cid, "missed")   # buffered while the client is away

    master = int(stack.read_file("run/nginx.pid").split()[0])
    old = nginx_workers(stack)
    live = SSE(stack.url("/events/user"), headers=auth(token)).start()
    os.kill(master, signal.SIGHUP)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and (nginx_workers(stack) == old or not live.closed.is_set()):
        time.sleep(0.05)
    assert live.closed.is_set(), "a reload ends open subscriptions"

    # right after the reload the channel holds nothing: resuming is refused
    r = requests.get(stack.url("/events/user"), headers={**auth(token), "Last-Event-ID": last_id},
                     timeout=10)
    assert_problem(r, 409)
    # nchan's ids are TIME:TAG and its tags restart after a reload: a message in the same
    # second as the client's last id would look already seen (seq still tells, one message later)
    time.sleep(max(0.0, int(last_id.split(":")[0]) + 1.05 - time.time()))
    probe = SSE(stack.url("/events/user"), headers=auth(token)).start()   # notifications follow the response:
    after = add_item(stack, user, cid, "after")                            # wait until it is out
    probe.wait(lambda ms: len(ms) >= 1)
    probe.close()
    # with a message buffered again the resume is accepted, and seq shows what the buffer lost
    again = SSE(stack.url("/events/user"), headers={**auth(token), "Last-Event-ID": last_id}).start()
    assert again.status == 200, again.error_body
    msgs = again.wait(lambda ms: len(ms) >= 1)
    again.close()
    assert msgs[0]["seq"] == last_seq + 2 and msgs[0]["data"]["contentId"] == after, (last_seq, msgs[0])
    # ... so the client refetches over REST and finds what it missed
    items = stack.api("GET", f"/api/campaigns/{cid}/content", token=token).json()["items"]
    assert {seen, missed, after} <= {i["id"] for i in items}
    assert "exited on signal" not in nginx_error_log(stack)


def test_a_failed_publish_never_fails_a_job(own_stack):
    stack = own_stack
    u, token, _ = stack.register_user()
    user = {"id": u["id"], "token": token}
    cid = new_campaign(stack, user)
    master = int(stack.read_file("run/nginx.pid").split()[0])
    os.kill(master, signal.SIGQUIT)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and os.path.exists(os.path.join(stack.dir, "run", "nchan.sock")):
        time.sleep(0.05)
    try:
        # the API is unreachable through nginx now: enqueue in SQL
        with stack.db() as conn:
            job = conn.execute("SELECT enqueue(queue => 'content-generation', kind => 'generate-campaign', "
                               "payload => '{}'::jsonb, user_id => %s::uuid, campaign_id => %s::uuid)",
                               [user["id"], cid]).fetchone()[0]
            deadline = time.monotonic() + 20
            state = None
            while time.monotonic() < deadline:
                state = conn.execute("SELECT state FROM jobs WHERE id = %s", [job]).fetchone()[0]
                if state in ("completed", "failed"):
                    break
                time.sleep(0.1)
            assert state == "completed", state
            seq = conn.execute("SELECT seq FROM event_channels WHERE channel = %s", [f"campaign.{cid}"]).fetchone()
            assert seq and seq[0] > 2, "the numbers were taken: subscribers will see the gap"
        log = stack.read_file("log/worker.log").decode()
        assert "event not published" in log and "publishFailures" in log, log[-2000:]
    finally:
        stack.up()
    stack.wait_healthy()
    sub = SSE(stack.url(f"/events/campaigns/{cid}"), headers=auth(token)).start()
    assert sub.status == 200
    sub.close()


def test_a_deleted_accounts_token_is_401(stack):
    u, token, _ = stack.register_user()
    with stack.db() as conn:
        conn.execute("DELETE FROM users WHERE id = %s", [u["id"]])
    r = requests.get(stack.url("/events/user"), headers=auth(token), timeout=10)
    assert "no longer exists" in assert_problem(r, 401)["detail"]
    r = stack.api("POST", "/api/events/session", token=token)
    assert r.status_code == 401
