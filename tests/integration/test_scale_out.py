"""Scale-out on real engines (issue #15 §5, docs/scaling.md): runs
`scripts/scale-demo.sh --check`, two hosts in network namespaces (nginx with
nchan on Redis, adcraft-api, adcraft-worker each) on one PostgreSQL, one
Redis and one SMTP relay, and fails on any of its checks:

- a subscriber on host-a hears a generation job run by host-b's worker and
  the notifications of both hosts' APIs, with `seq` unbroken per channel;
- 8 sends (24 recipients) and 8 exports queued through both APIs are
  claimed exactly once each, by the workers of both hosts; maildev gets each
  recipient exactly once, from the host whose worker claimed its send; each
  export downloads through the other host's nginx;
- a subscriber that reconnects to host-b with an id seen on host-a gets
  exactly the messages after it (nchan's buffer is in Redis).

Then every daemon log of both hosts is checked for sanitizer reports (the
sanitized CI build), and nothing the demo created may be left: namespaces,
links, processes, its run directory.

It needs root (ip netns, veth, a bridge), redis-server and maildev (./dev
test installs both). Without them it skips, except under CI, where it fails.
About 25 s on the development machine.
"""

import glob
import os
import re
import shutil
import subprocess

import pytest

from helpers import BUILD_DIR, SOURCE_DIR, sanitizer_reports

SCRIPT = os.path.join(SOURCE_DIR, "scripts", "scale-demo.sh")
MAILDEV = os.path.join(SOURCE_DIR, "tests", "smtp", "node_modules", "maildev", "bin", "maildev")


def is_ci():
    return os.environ.get("CI", "") not in ("", "false", "0")


def missing():
    why = []
    if os.geteuid() != 0:
        why.append("not root (ip netns needs it)")
    if not shutil.which("redis-server"):
        why.append("no redis-server (apt-get install redis-server, or ./dev build)")
    if not os.path.exists(MAILDEV):
        why.append(f"{MAILDEV} is missing (npm ci in tests/smtp, or ./dev test)")
    if not why:
        probe = f"adcraft-probe-{os.getpid()}"
        p = subprocess.run(["ip", "netns", "add", probe], stderr=subprocess.PIPE, text=True)
        if p.returncode != 0:
            why.append(f"cannot create a network namespace: {p.stderr.strip()}")
        else:
            subprocess.run(["ip", "netns", "del", probe])
    return why


@pytest.fixture(scope="module", autouse=True)
def can_run():
    why = missing()
    if why and is_ci():
        pytest.fail("the scale-out test cannot run under CI: " + "; ".join(why), pytrace=False)
    if why:
        pytest.skip("; ".join(why))


def netns_and_links():
    ns = subprocess.run(["ip", "netns", "list"], stdout=subprocess.PIPE, text=True).stdout
    links = subprocess.run(["ip", "-o", "link", "show"], stdout=subprocess.PIPE, text=True).stdout
    return ({line.split()[0] for line in ns.splitlines() if line.strip()},
            {line.split(":")[1].strip().split("@")[0] for line in links.splitlines()})


def test_two_hosts_share_events_and_work_exactly_once():
    ns_before, links_before = netns_and_links()
    env = dict(os.environ, ADCRAFT_BUILD_DIR=BUILD_DIR)
    p = subprocess.run([SCRIPT, "--check", "--keep"], cwd=SOURCE_DIR, env=env, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=240)
    out = p.stdout.decode("utf-8", "replace")
    kept = re.search(r"^scale: kept (\S+)", out, re.M)
    run_dir = kept.group(1) if kept else None
    try:
        assert p.returncode == 0 and "all checks passed" in out, out
        assert "FAIL" not in out, out
        # the split table: both hosts' rows, 8 sends, 24 recipients, 8 exports in all
        assert re.search(r"^\s+total\s+8\s+24\s+8\s*$", out, re.M), out
        reports = []
        for log in glob.glob(os.path.join(run_dir, "host-*", "log", "*.log")):
            for report in sanitizer_reports(log):
                reports.append(f"--- {log} ---\n{report}")
        assert not reports, "\n".join(reports[:5])
    finally:
        if run_dir:
            shutil.rmtree(run_dir, ignore_errors=True)
    # nothing left behind: the namespaces, bridge and veths of this run, its processes
    ns_after, links_after = netns_and_links()
    assert not {n for n in ns_after - ns_before if n.startswith("acs")}, ns_after - ns_before
    assert not {n for n in links_after - links_before if n.startswith("acs")}, links_after - links_before
    left = subprocess.run(["pgrep", "-f", run_dir or "/nonexistent"], stdout=subprocess.PIPE, text=True).stdout
    assert not left.strip(), f"processes of the demo still running: {left}"
