#!/usr/bin/python3
"""bench/sending.py - email delivery figures (issue #11), printed, never asserted.

  * SEND_MESSAGES (10,000) personalised messages (merge tags, an unsubscribe
    link and token per recipient, tracking on: an open pixel and wrapped
    links) delivered by adcraft-worker through the email-sending queue to a
    local SMTP sink (tests/smtp/scripted-server.mjs, a real smtp-server
    that accepts everything and discards the bytes), from approve to the send
    being `sent`: messages per second, and the worker processes' peak RSS;
  * beside it, in the same run, the sink's own acceptance rate: one
    pre-rendered message of the same size sent SEND_BASELINE times over one
    kept-open connection by a plain client (Python's smtplib), which renders
    nothing, writes no database row and keeps no state.
Targets: >= 1,000 messages/s, and >= 0.5x the sink's own rate.
"""

import io
import os
import smtplib
import subprocess
import sys
import tempfile
import time

import requests

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
from helpers import RELAXED_LIMITS, Stack, free_ports  # noqa: E402
from results import record  # noqa: E402

N = int(os.environ.get("SEND_MESSAGES", "10000"))
BASELINE = int(os.environ.get("SEND_BASELINE", "3000"))
SMTP_DIR = os.path.join(HERE, "..", "tests", "smtp")


def start_sink():
    port = free_ports(1)[0]
    log = tempfile.NamedTemporaryFile(prefix="adcraft-sink-", suffix=".log", delete=False).name
    proc = subprocess.Popen(["node", os.path.join(SMTP_DIR, "scripted-server.mjs"), "--port", str(port)],
                            stdout=open(log, "w"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 15
    while '"listening"' not in open(log).read():
        assert proc.poll() is None and time.monotonic() < deadline, open(log).read()
        time.sleep(0.05)
    return proc, port, log


def worker_peak_rss_kib(stack):
    master = int(open(os.path.join(stack.dir, "run", "worker.pid")).read())
    kids = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True).stdout.split()
    peaks = []
    for pid in kids:
        for line in open(f"/proc/{pid}/status"):
            if line.startswith("VmHWM:"):
                peaks.append(int(line.split()[1]))
    return max(peaks) if peaks else 0


def main():
    sink, port, sink_log = start_sink()
    try:
        env = dict(RELAXED_LIMITS, ADCRAFT_SMTP_SERVERS=f"smtp://127.0.0.1:{port} starttls=off per_conn=100000 "
                                                         f"rate=100000")
        with Stack.start(env) as s:
            _, token, _ = s.register_user()
            h = {"Authorization": f"Bearer {token}"}
            http = requests.Session()
            http.headers.update(h)

            def ok(method, path, body=None, **kw):
                r = http.request(method, s.url(path), json=body, timeout=120, **kw)
                assert r.status_code in (200, 201, 202), (path, r.status_code, r.text)
                return r.json() if r.text else None

            c = ok("POST", "/api/campaigns", {"name": "Bench", "objective": "conversion"})
            item = ok("POST", f"/api/campaigns/{c['id']}/content", {
                "contentType": "email", "platform": "email", "subjectLine": "{{firstName}}, your week, planned",
                "preheader": "Five minutes on Monday saves hours by Friday. Here is how.",
                "contentBody": "Hi {{firstName}},\n\nPlanning a week should take five minutes, not a whole "
                               "morning. Acme Planner puts every task, owner and deadline on one page.\n\n"
                               "Teams like yours save four hours a week. See how at https://acme.example/tour.",
                "callToAction": "Start planning"})
            lst = ok("POST", "/api/lists", {"name": "Bench list"})
            csv = io.StringIO()
            csv.write("email,firstName,lastName,plan\n")
            for i in range(N):
                csv.write(f"r{i}@bench.example,Ann{i},Lee,pro\n")
            r = http.post(s.url(f"/api/contacts/import?listId={lst['id']}"), data=csv.getvalue().encode(),
                          headers={"Content-Type": "text/csv"}, timeout=120)
            assert r.status_code == 202, r.text
            job = r.json()["job"]["id"]
            while ok("GET", f"/api/jobs/data-exports/{job}")["state"] not in ("completed", "failed"):
                time.sleep(0.2)
            send = ok("POST", f"/api/campaigns/{c['id']}/sends", {"contentId": item["id"], "listId": lst["id"]})

            # the sink's own rate: a pre-rendered message about the size of adcraft's (6 KB) over one connection
            msg = ("From: bench@adcraft.local\r\nTo: sink@bench.example\r\nSubject: baseline\r\n"
                   "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
                   + ("y" * 74 + "\r\n") * 78)
            t0 = time.monotonic()
            with smtplib.SMTP("127.0.0.1", port) as smtp:
                for i in range(BASELINE):
                    smtp.sendmail("bench@adcraft.local", [f"b{i}@bench.example"], msg.encode())
            sink_rate = BASELINE / (time.monotonic() - t0)

            t0 = time.monotonic()
            ok("POST", f"/api/sends/{send['id']}/approve")
            while True:
                st = ok("GET", f"/api/sends/{send['id']}")
                if st["status"] not in ("approved", "scheduled", "sending"):
                    break
                time.sleep(0.05)
            wall = time.monotonic() - t0
            rss = worker_peak_rss_kib(s)
        rate = st["counts"]["sent"] / wall
        print(f"\nadcraft bench/sending.sh  {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}  "
              f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}")
        print(f"  delivery: {st['counts']['sent']} of {N} sent ({st['status']}; failed {st['counts']['failed']}, "
              f"deferred {st['counts']['deferred']}) in {wall:.2f} s = {rate:,.0f} messages/s "
              f"(target >= 1,000: {'met' if rate >= 1000 else 'MISSED'})")
        print(f"  sink's own rate, pre-rendered {len(msg)} bytes over one connection (smtplib): "
              f"{sink_rate:,.0f} messages/s")
        print(f"  ratio: {rate / sink_rate:.2f}x the sink's own rate (target >= 0.5: "
              f"{'met' if rate / sink_rate >= 0.5 else 'MISSED'})")
        print(f"  worker peak RSS (VmHWM, largest process): {rss / 1024:.1f} MiB")
        record("email delivery vs the sink's own rate", rate, "msg/s", "sink msg/s", sink_rate,
               "value >= 1000 && ratio >= 0.5")
        record("worker peak RSS during sending", rss / 1024, "MiB", "-", "-", "value <= 16")
    finally:
        sink.terminate()
        sink.wait(10)
        os.unlink(sink_log)


if __name__ == "__main__":
    main()
