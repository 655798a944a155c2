"""The events demo page (web/events-demo) in a real browser: Debian's chromium
driven by playwright-core (tests/browser, npm ci by ./dev test; nothing
downloads a browser). The page logs in, opens one EventSource on the user's
and the campaign's channels, starts a generation, and shows a progress bar and
each item as it arrives; the test compares what the page shows with the job's
result and the campaign's content over REST, and keeps a screenshot in the
meson test log directory.

Without chromium, node or tests/browser/node_modules the test skips, except
under CI (CI=true), where it fails.
"""

import json
import os
import shutil
import subprocess
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


@pytest.fixture(scope="module", autouse=True)
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


def run_page(stack, email):
    shot = screenshot_path()
    if os.path.exists(shot):
        os.unlink(shot)
    env = dict(os.environ, PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD="1", CHROMIUM=CHROMIUM)
    p = subprocess.run(["node", SCRIPT, stack.base_url, email, PASSWORD, shot], cwd=BROWSER_DIR,
                       env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       timeout=180)
    print(f"screenshot: {shot}")
    lines = p.stdout.strip().splitlines()
    assert p.returncode == 0 and lines, \
        f"the browser script exited {p.returncode}:\n{p.stdout[-4000:]}\n{p.stderr[-4000:]}"
    return json.loads(lines[-1]), shot


def test_page_shows_a_generation_live(stack):
    user, token, _ = stack.register_user()
    page, shot = run_page(stack, user["email"])
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
    result = job["result"]
    assert result["generated"] > 0 and result["failed"] == 0, result

    # the progress bar and the items, against the job and the content over REST
    assert page["progress"] == 100 and page["progressText"] == "100%", page
    assert page["status"] == f"completed: {result['generated']} generated, 0 failed", page
    items = page["items"]
    assert len(items) == result["generated"], (len(items), result)
    content = assert_json(stack.api("GET", f"/api/campaigns/{campaign}/content?limit=100",
                                    token=token), 200)["items"]
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
    by_channel = {}
    for e in events:
        by_channel.setdefault(e["channel"], []).append(e)
    assert set(by_channel) == {"user", "campaign"}, events
    for channel, evs in by_channel.items():
        seqs = [e["seq"] for e in evs]
        assert all(b == a + 1 for a, b in zip(seqs, seqs[1:])), (channel, seqs)
    campaign_types = [e["type"] for e in by_channel["campaign"]]
    assert campaign_types[0] == "campaign:generation:started", campaign_types
    assert campaign_types[-1] == "campaign:generation:completed", campaign_types
    assert campaign_types.count("content:generation:completed") == result["generated"], campaign_types
    assert "campaign:generation:progress" in campaign_types, campaign_types
    user_types = [e["type"] for e in by_channel["user"]]
    assert "job:started" in user_types and "job:completed" in user_types, user_types
    print(json.dumps({k: page[k] for k in ("progress", "status", "campaignId")}),
          f"{len(items)} items on {sorted({i['platform'] for i in items})}",
          {c: [e["seq"] for e in evs] for c, evs in by_channel.items()})
