"""The events demo page (web/events-demo) in a real browser: Debian's chromium
driven by playwright-core (tests/browser, npm ci by ./dev test; nothing
downloads a browser). The page logs in, opens one EventSource on the user's
and the campaign's channels, starts a generation, and shows a progress bar and
each item as it arrives; the test compares what the page shows with the job's
result and the campaign's content over REST, and keeps a screenshot in the
meson test log directory. Then, in the same page, its two recoveries: seq
numbers skipped on the campaign's channel (what a failed publish leaves) make
it refetch over REST on the next generation; the campaign's channel deleted
from nchan makes the browser's resume be refused (409: nothing buffered), and
the page opens a new session and stream and refetches.

Without chromium, node or tests/browser/node_modules the test skips, except
under CI (CI=true), where it fails.
"""

import http.client
import json
import os
import shutil
import socket
import subprocess
import threading
import time

import pytest

from helpers import BUILD_DIR, PASSWORD, SOURCE_DIR, assert_json

BROWSER_DIR = os.path.join(SOURCE_DIR, "tests", "browser")
SCRIPT = os.path.join(BROWSER_DIR, "events-demo.mjs")
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


def is_ci():
    return os.environ.get("CI", "") not in ("", "false", "0")


def missing_browser():
    """Why the browser cannot run here, or []."""
    why = []
    if not os.access(CHROMIUM, os.X_OK):
        why.append(f"{CHROMIUM} is missing (apt-get install chromium)")
    if not shutil.which("node"):
        why.append("node is missing (apt-get install nodejs)")
    if not os.path.isdir(os.path.join(BROWSER_DIR, "node_modules", "playwright-core")):
        why.append(f"{BROWSER_DIR}/node_modules is missing (npm ci there, or ./dev test)")
    return why


# session scope: checked before the stack starts
@pytest.fixture(scope="session", autouse=True)
def browser_available():
    why = missing_browser()
    if why and is_ci():
        pytest.fail("the browser test cannot run under CI: " + "; ".join(why), pytrace=False)
    if why:
        pytest.skip("; ".join(why))


def screenshot_path():
    """The meson test log directory of this build (kept after the run)."""
    d = os.path.join(BUILD_DIR, "meson-logs")
    os.makedirs(d, exist_ok=True)
    return os.path.join(d, "test_events_browser.png")


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("localhost", timeout=10)
        self.unix_path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(10)
        self.sock.connect(self.unix_path)


def skip_seqs(stack, msg):
    """Uses up three numbers of the campaign's channel, as failed publishes do."""
    with stack.db() as conn:
        cur = conn.execute("UPDATE event_channels SET seq = seq + 3 WHERE channel = %s RETURNING seq - 3",
                           (f"campaign.{msg['campaignId']}",))
        assert cur.fetchone()[0] == msg["lastSeq"], msg


def delete_channel(stack, msg):
    """Deletes the campaign's channel in nchan (publisher socket): its
    subscribers are disconnected and its buffered messages are gone."""
    conn = UnixHTTPConnection(os.path.join(stack.dir, "run", "nchan.sock"))
    conn.request("DELETE", f"/pub/campaign.{msg['campaignId']}", headers={"Accept": "application/json"})
    r = conn.getresponse()
    body = r.read()
    conn.close()
    assert r.status in (200, 202), (r.status, body)


STEPS = {"gap": skip_seqs, "close": delete_channel}


def run_page(stack, email):
    """Runs the script with --recovery, doing each step it asks for; returns its result."""
    shot = screenshot_path()
    if os.path.exists(shot):
        os.unlink(shot)
    env = dict(os.environ, PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD="1", CHROMIUM=CHROMIUM)
    p = subprocess.Popen(["node", SCRIPT, stack.base_url, email, PASSWORD, shot, "--recovery"],
                         cwd=BROWSER_DIR, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    timer = threading.Timer(240, p.kill)
    timer.start()
    lines, steps = [], []
    try:
        for line in p.stdout:
            lines.append(line)
            msg = json.loads(line)
            if "step" in msg:
                steps.append(msg["step"])
                STEPS[msg["step"]](stack, msg)
                p.stdin.write("ok\n")
                p.stdin.flush()
        err = p.stderr.read()
        rc = p.wait()
    finally:
        timer.cancel()
        if p.poll() is None:
            p.kill()
            p.wait()
    print(f"screenshot: {shot}")
    assert rc == 0 and lines, f"the browser script exited {rc}:\n{''.join(lines)[-4000:]}\n{err[-4000:]}"
    assert steps == ["gap", "close"], steps
    result = json.loads(lines[-1])
    result["screenshotPath"] = shot
    return result


@pytest.fixture(scope="module")
def session(stack):
    """One user's run of the page: (page result, access token)."""
    user, token, _ = stack.register_user()
    return run_page(stack, user["email"]), token


def rest_content(stack, token, campaign):
    items = assert_json(stack.api("GET", f"/api/campaigns/{campaign}/content?limit=100", token=token),
                        200)["items"]
    return items


def by_channel(events):
    out = {}
    for e in events:
        out.setdefault(e["channel"], []).append(e)
    return out


def test_page_shows_a_generation_live(stack, session):
    page, token = session
    shot = page["screenshotPath"]
    assert page["error"] is None, page
    assert page["phase"] == "completed", page
    assert page["streamState"] == "open", page
    assert os.path.getsize(shot) > 0

    # the job the page started, as the API reports it
    campaign = page["campaignId"]
    job_id = page["requestedJobId"]
    assert job_id and page["completedJobId"] == job_id, page
    job = None
    for _ in range(50):
        job = assert_json(stack.api("GET", f"/api/jobs/content-generation/{job_id}", token=token), 200)
        if job["state"] == "completed":
            break
        time.sleep(0.1)
    assert job["state"] == "completed", job
    result = job["result"]  # the first job's
    assert result["generated"] > 0 and result["failed"] == 0, result

    # the progress bar and the items, against the job and the content over REST
    assert page["progress"] == 100 and page["progressText"] == "100%", page
    assert page["status"] == f"completed: {result['generated']} generated, 0 failed", page
    items = page["items"]
    assert len(items) == result["generated"], (len(items), result)
    content = [c for c in rest_content(stack, token, campaign) if c["id"] in result["itemIds"]]
    assert sorted(i["id"] for i in items) == sorted(c["id"] for c in content)
    assert sorted(i["id"] for i in items) == sorted(result["itemIds"])
    by_id = {c["id"]: c for c in content}
    for i in items:
        c = by_id[i["id"]]
        assert (i["platform"], i["contentType"]) == (c["platform"], c["contentType"]), (i, c)
        assert i["headline"] and i["headline"] in i["text"], i
        assert c["contentBody"].split("\n")[0] in i["text"], (i, c)
    assert sorted(i["platform"] for i in items) == sorted(c["platform"] for c in content)

    # what the EventSource delivered: per channel, seq strictly increasing
    # (one by one: nothing was lost, so the page never had to resync)
    assert page["resynced"] is None, page
    events = page["events"]
    channels = by_channel(events)
    assert set(channels) == {"user", "campaign"}, events
    for channel, evs in channels.items():
        seqs = [e["seq"] for e in evs]
        assert all(b == a + 1 for a, b in zip(seqs, seqs[1:])), (channel, seqs)
    campaign_types = [e["type"] for e in channels["campaign"]]
    assert campaign_types[0] == "campaign:generation:started", campaign_types
    assert campaign_types[-1] == "campaign:generation:completed", campaign_types
    assert campaign_types.count("content:generation:completed") == result["generated"], campaign_types
    assert "campaign:generation:progress" in campaign_types, campaign_types
    user_types = [e["type"] for e in channels["user"]]
    assert "job:started" in user_types and "job:completed" in user_types, user_types
    print(json.dumps({k: page[k] for k in ("progress", "status", "campaignId")}),
          f"{len(items)} items on {sorted({i['platform'] for i in items})}",
          {c: [e["seq"] for e in evs] for c, evs in channels.items()})


def test_page_recovers_from_a_gap_and_a_closed_stream(stack, session):
    result, token = session
    campaign = result["campaignId"]
    first = by_channel(result["events"])["campaign"][-1]["seq"]

    # three seq numbers skipped: the next generation's first message jumps by 4
    gap = result["gap"]
    assert gap["error"] is None and gap["phase"] == "completed", gap
    assert gap["resyncCount"] == 1, gap
    assert gap["resynced"].startswith(f"resynced over REST (gap: campaign seq {first} -> {first + 4})"), gap
    campaign_seqs = [e["seq"] for e in by_channel(gap["events"])["campaign"]]
    assert first + 4 in campaign_seqs and first + 1 not in campaign_seqs, campaign_seqs

    # the channel deleted in nchan: the stream ends, the resume is refused, the
    # page opens a new session and stream and refetches
    closed = result["closed"]
    assert closed["error"] is None and closed["streamState"] == "open", closed
    assert closed["resyncCount"] == 2, closed
    assert closed["resynced"].startswith("resynced over REST (the stream was closed and reopened)"), closed

    # (the browser's own resume with Last-Event-ID was the refused request)
    refused = f'"GET /events/user?campaign={campaign} HTTP/1.1" 409 '
    access = ""
    deadline = time.monotonic() + 5  # nginx writes its access log once a second (buffer=32k flush=1s)
    while refused not in access and time.monotonic() < deadline:
        access = stack.read_file("log/nginx-access.log").decode("utf-8", "replace")
        time.sleep(0.1)
    assert refused in access, access[-3000:]
    assert "exited on signal" not in stack.read_file("log/nginx-error.log").decode("utf-8", "replace")

    # the new stream carries the next generation, in order, without a gap
    after = result["after"]
    assert after["error"] is None and after["phase"] == "completed", after
    assert after["completedJobId"] == after["requestedJobId"] != result["requestedJobId"], after
    assert after["resyncCount"] == 2, after
    assert after["progress"] == 100, after
    new_events = after["events"][len(closed["events"]):]
    new_campaign = [e for e in new_events if e["channel"] == "campaign"]
    assert new_campaign and new_campaign[-1]["type"] == "campaign:generation:completed", new_events
    seqs = [e["seq"] for e in new_campaign]
    assert all(b == a + 1 for a, b in zip(seqs, seqs[1:])), seqs
    assert seqs[0] > campaign_seqs[-1], (seqs, campaign_seqs)

    # what the page shows is the campaign's content over REST
    content = rest_content(stack, token, campaign)
    assert sorted(i["id"] for i in after["items"]) == sorted(c["id"] for c in content)
    print(f"gap: {gap['resynced']}; closed: {closed['resynced']}; after: {after['status']}, "
          f"{len(after['items'])} items, campaign seqs {seqs}")
