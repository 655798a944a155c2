#!/usr/bin/python3
"""scripts/scale-demo.py: the scenario of the scale-out demo (docs/scaling.md).

scripts/scale-demo.sh starts two hosts (network namespaces host-a and
host-b, each with nginx + adcraft-api, and host-b's adcraft-worker) on one
PostgreSQL and one Redis, then runs this with --run RUN_DIR. Everything goes
through the two nginx servers, as a browser or a load balancer would:

1. Events across hosts: a subscriber on host-a (SSE through host-a's nginx)
   hears the generation job that host-b's worker runs (host-a has no worker
   yet), and the API notifications of both hosts, with `seq` unbroken.
2. Work spread across hosts: sends and exports are queued while no worker
   runs, then both hosts' workers start; each job is claimed exactly once
   (scale_demo.claims, a trigger the demo adds), each recipient is mailed
   exactly once (maildev, which also names the SMTP client: the host), and
   each export file is downloaded through the other host's nginx (shared
   storage).
3. Resume on the other host: a subscriber that reconnects to host-b with the
   last id it saw on host-a gets exactly the messages it missed (nchan's
   buffer is in Redis).

Every check prints "ok" or "FAIL"; the exit status is 1 if any failed.
--check prints only the checks and the split (what the test reads).
"""

import argparse
import collections
import json
import subprocess
import sys
import threading
import time
import uuid

import psycopg
import requests

SENDS = 8            # email sends, one deliver-send job each
RECIPIENTS = 3       # contacts per send (a list each)
EXPORTS = 8          # CSV exports, one data-exports job each
PASSWORD = "scale demo password 1"


class Run:
    def __init__(self, args):
        self.run = args.run
        self.ctl_script = args.ctl
        self.quiet = args.check
        env = {}
        with open(f"{self.run}/scale.env") as f:
            for line in f:
                k, _, v = line.strip().partition("=")
                env[k] = v
        self.addr = {"a": env["ADDR_a"], "b": env["ADDR_b"]}
        self.base = {h: f"http://{a}:8080" for h, a in self.addr.items()}
        self.host_of_addr = {a: f"host-{h}" for h, a in self.addr.items()}
        self.pg = dict(host=f"{self.run}/pg-socket", port=int(env["PG_PORT"]), dbname="adcraft",
                       user="postgres", autocommit=True)
        self.mail_ui = f"http://127.0.0.1:{env['MAIL_UI_PORT']}"
        self.failures = []
        self.token = None

    # --- output ----------------------------------------------------------
    def say(self, text):
        if not self.quiet:
            print(text, flush=True)

    def check(self, cond, what, detail=""):
        print(f"  {'ok  ' if cond else 'FAIL'}  {what}" + (f": {detail}" if detail and not cond else ""),
              flush=True)
        if not cond:
            self.failures.append(what)
        return cond

    # --- HTTP through one host's nginx -------------------------------------
    def api(self, host, method, path, body=None, want=(200, 201, 202), token=True):
        h = {"Authorization": f"Bearer {self.token}"} if token and self.token else {}
        r = requests.request(method, self.base[host] + path, json=body, headers=h, timeout=30)
        if r.status_code not in want:
            raise RuntimeError(f"host-{host}: {method} {path} answered {r.status_code}: {r.text[:300]}")
        return r.json() if r.content and r.headers.get("Content-Type", "").endswith("json") else r

    def ctl(self, verb, *hosts):
        """Starts or stops the workers of hosts, all at once."""
        procs = [subprocess.Popen([self.ctl_script, "ctl", self.run, "worker", verb, h]) for h in hosts]
        for h, p in zip(hosts, procs):
            if p.wait(timeout=60) != 0:
                raise RuntimeError(f"worker {verb} on host-{h} failed")

    def db(self):
        return psycopg.connect(**self.pg)


class SSE:
    """An EventSource client reading in a thread: (id, message) in arrival order."""

    def __init__(self, url, token, last_event_id=None):
        self.url = url
        self.headers = {"Accept": "text/event-stream", "Authorization": f"Bearer {token}"}
        if last_event_id:
            self.headers["Last-Event-ID"] = last_event_id
        self.events = []
        self.status = None
        self.error = ""
        self.lock = threading.Lock()
        self.ready = threading.Event()
        self.resp = None
        threading.Thread(target=self._read, daemon=True).start()
        if not self.ready.wait(10):
            raise RuntimeError(f"no answer from {url}")
        if self.status != 200:
            raise RuntimeError(f"{url} answered {self.status} {self.error}")

    def _read(self):
        try:
            self.resp = requests.get(self.url, headers=self.headers, stream=True, timeout=(5, 120))
            self.status = self.resp.status_code
            if self.status != 200:
                self.error = self.resp.text[:300]
                return
            data, msgid = [], None
            for raw in self.resp.iter_lines(chunk_size=1):
                line = raw.decode()
                if line.startswith(":"):
                    self.ready.set()
                elif line.startswith("id: "):
                    msgid = line[4:]
                elif line.startswith("data: "):
                    data.append(line[6:])
                elif line == "" and data:
                    with self.lock:
                        self.events.append((msgid, json.loads("\n".join(data))))
                    data, msgid = [], None
        except (requests.RequestException, AttributeError, ValueError):
            pass
        finally:
            self.ready.set()

    def messages(self):
        with self.lock:
            return [m for _, m in self.events]

    def wait(self, pred, timeout, what):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if pred(self.messages()):
                return True
            time.sleep(0.02)
        raise RuntimeError(f"{what}: not seen within {timeout} s on {self.url}")

    def close(self):
        try:
            self.resp.raw._fp.fp.raw._sock.shutdown(2)
        except Exception:
            pass
        self.resp.close()


def host_of_worker(worker_id):
    """host-a:pid:nonce -> host-a (the worker's hostname is its host's)."""
    return worker_id.split(":", 1)[0]


def consecutive(seqs):
    return bool(seqs) and seqs == list(range(seqs[0], seqs[0] + len(seqs)))


def wait_until(pred, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.1)
    raise RuntimeError(f"{what}: not within {timeout} s")


# ---------------------------------------------------------------- 1. events

def events_across_hosts(r):
    r.say("\n== 1. a subscriber on host-a hears a job run by host-b's worker ==")
    email = f"owner-{uuid.uuid4().hex[:8]}@example.com"
    r.token = r.api("a", "POST", "/api/auth/register",
                    {"email": email, "password": PASSWORD, "name": "Scale Demo"}, token=False)["accessToken"]
    me = r.api("b", "GET", "/api/auth/me", want=(200, 401), token=True)
    r.check(isinstance(me, dict) and me.get("email") == email,
            "a token issued by host-a is accepted by host-b (one jwt_secret_file)")
    campaign = r.api("b", "POST", "/api/campaigns", {
        "name": "Scale demo", "objective": "awareness", "keywords": "scale, hosts",
        "generationSettings": {"contentTypes": ["email", "social_post"], "platforms": ["email", "linkedin"],
                               "variations": 1}})["id"]
    sub = SSE(f"{r.base['a']}/events/user?campaign={campaign}", r.token)
    r.say(f"  subscribed on host-a: GET {r.base['a']}/events/user?campaign={campaign} (SSE)")
    r.api("a", "PATCH", f"/api/campaigns/{campaign}", {"description": "edited through host-a"})
    r.api("b", "PATCH", f"/api/campaigns/{campaign}", {"description": "edited through host-b"})
    job = r.api("a", "POST", f"/api/jobs/campaigns/{campaign}/generate")["job"]["id"]
    r.say(f"  POST /api/jobs/campaigns/{campaign}/generate through host-a: job {job}")
    sub.wait(lambda ms: any(m["type"] == "campaign:generation:completed" for m in ms), 60,
             "campaign:generation:completed")
    with r.db() as c:
        claims = c.execute("SELECT worker FROM scale_demo.claims WHERE job_id = %s", (job,)).fetchall()
    workers = [w for (w,) in claims]
    r.check(len(workers) == 1 and host_of_worker(workers[0]) == "host-b",
            "the generation job was claimed once, by host-b's worker", f"claims {workers}")
    msgs = sub.messages()
    kinds = collections.Counter(m["type"] for m in msgs if m["channel"] == "campaign")
    notes = [m["data"].get("kind") for m in msgs if m["type"] == "notification"]
    r.say(f"  host-a's subscriber got: {dict(kinds)} on the campaign channel, notifications {notes}")
    done = next(m for m in msgs if m["type"] == "campaign:generation:completed")
    generated = done["data"]["result"]["generated"]
    r.check(generated > 0 and kinds["content:generation:completed"] == generated,
            f"every stored item arrived on host-a ({generated} content:generation:completed)",
            f"{kinds}")
    r.check(notes.count("campaign.updated") >= 2,
            "the notifications published by host-a's and host-b's adcraft-api both arrived", f"{notes}")
    return sub, campaign, job


# ---------------------------------------------------------------- 2. work spread

def spread_work(r, sub, campaign, gen_job):
    r.say(f"\n== 2. {SENDS} sends x {RECIPIENTS} recipients and {EXPORTS} exports over both hosts' workers ==")
    r.ctl("stop", "b")
    r.say("  stopped host-b's worker; queueing the work through both hosts' APIs while no worker runs")
    item = next(i for i in r.api("a", "GET", f"/api/campaigns/{campaign}")["content"]
                if i["contentType"] == "email")
    tag = uuid.uuid4().hex[:6]
    sends, exports, addresses = [], [], set()
    for s in range(SENDS):
        via = "ab"[s % 2]
        ids = []
        for k in range(RECIPIENTS):
            addr = f"r{s}-{k}-{tag}@example.com"
            addresses.add(addr)
            ids.append(r.api(via, "POST", "/api/contacts", {"email": addr, "firstName": f"R{s}{k}"})["id"])
        lst = r.api(via, "POST", "/api/lists", {"name": f"scale {tag} {s}"})["id"]
        r.api(via, "POST", f"/api/lists/{lst}/members", {"contactIds": ids})
        sid = r.api(via, "POST", f"/api/campaigns/{campaign}/sends", {"contentId": item["id"], "listId": lst})["id"]
        r.api("ba"[s % 2], "POST", f"/api/sends/{sid}/approve")
        sends.append(sid)
    for e in range(EXPORTS):
        exports.append(r.api("ab"[e % 2], "POST", "/api/exports",
                             {"kind": "content", "format": "csv", "filters": {"campaignId": campaign}}))
    t0 = time.monotonic()
    r.ctl("start", "a", "b")
    r.say("  started the workers of host-a and host-b together")

    def all_done():
        st = [r.api("ab"[i % 2], "GET", f"/api/sends/{sid}")["status"] for i, sid in enumerate(sends)]
        ex = [r.api("ab"[i % 2], "GET", f"/api/exports/{e['id']}")["status"] for i, e in enumerate(exports)]
        if any(s in ("failed", "paused", "cancelled") for s in st) or "failed" in ex:
            raise RuntimeError(f"sends {st}, exports {ex}")
        return all(s == "sent" for s in st) and all(s == "ready" for s in ex)
    wait_until(all_done, 60, "every send sent and every export ready")
    r.say(f"  all {SENDS} sends sent and {EXPORTS} exports ready {time.monotonic() - t0:.1f} s after the workers started")
    export_jobs = {e["jobId"] for e in exports}
    with r.db() as c:
        claims = c.execute("SELECT job_id::text, queue, payload->>'sendId', worker, attempt FROM scale_demo.claims"
                           " WHERE job_id <> %s ORDER BY at", (gen_job,)).fetchall()
    send_claims = [cl for cl in claims if cl[1] == "email-sending"]
    export_claims = [cl for cl in claims if cl[0] in export_jobs]
    job_ids = {cl[0] for cl in send_claims} | export_jobs
    sub.wait(lambda ms: job_ids <= {m["jobId"] for m in ms if m["type"] == "job:completed"}, 20,
             "job:completed of every send and export job on host-a")
    r.ctl("stop", "a", "b")  # a clean stop records each process's jobs_done

    # each job claimed exactly once
    per_send = collections.Counter(cl[2] for cl in send_claims)
    per_export = collections.Counter(cl[0] for cl in export_claims)
    r.check(sorted(per_send) == sorted(sends) and set(per_send.values()) == {1},
            f"each of the {SENDS} deliver-send jobs was claimed exactly once", f"{per_send}")
    r.check(len(per_export) == EXPORTS and set(per_export.values()) == {1},
            f"each of the {EXPORTS} export jobs was claimed exactly once", f"{per_export}")
    r.check(all(cl[4] == 1 for cl in send_claims + export_claims), "no job needed a second attempt")

    # each recipient mailed exactly once, and by the host whose worker claimed its send
    mails = requests.get(f"{r.mail_ui}/email", timeout=10).json()
    by_addr = collections.defaultdict(list)
    for m in mails:
        peer = m.get("envelope", {}).get("remoteAddress", "").replace("::ffff:", "")
        for to in m.get("envelope", {}).get("to", []):
            by_addr[to["address"]].append(r.host_of_addr.get(peer, peer))
    r.check(set(by_addr) == addresses and all(len(v) == 1 for v in by_addr.values()),
            f"maildev received exactly one message for each of the {len(addresses)} recipients",
            f"{len(mails)} messages, duplicates {[a for a, v in by_addr.items() if len(v) > 1][:5]}")
    send_host = {cl[2]: host_of_worker(cl[3]) for cl in send_claims}
    agree = all(by_addr.get(f"r{s}-{k}-{tag}@example.com", [None])[0] == send_host.get(sid)
                for s, sid in enumerate(sends) for k in range(RECIPIENTS))
    r.check(agree, "each message came from the host whose worker claimed its send (SMTP peer = claim)")
    recipients_ok = True
    for i, sid in enumerate(sends):
        rec = r.api("ba"[i % 2], "GET", f"/api/sends/{sid}/recipients")["items"]
        recipients_ok &= len(rec) == RECIPIENTS and all(x["status"] == "sent" and x["attempts"] == 1 for x in rec)
    r.check(recipients_ok, "every recipient row is sent after exactly 1 attempt (GET /api/sends/:id/recipients)")

    # each export file, written by one host, downloads through the other host's nginx
    export_host = {cl[0]: host_of_worker(cl[3]) for cl in export_claims}
    downloads_ok, rows = True, None
    for e in exports:
        other = "b" if export_host.get(e["jobId"]) == "host-a" else "a"
        ex = r.api(other, "GET", f"/api/exports/{e['id']}")
        got = requests.get(r.base[other] + ex["downloadUrl"], timeout=10)
        rows = ex["rows"]
        downloads_ok &= got.status_code == 200 and got.text.count("\n") >= rows + 1
    r.check(downloads_ok, "every export file downloads through the nginx of the host that did not write it "
            "(shared exports_dir, X-Accel-Redirect)")

    split = collections.defaultdict(lambda: collections.Counter())
    for cl in send_claims:
        split[host_of_worker(cl[3])]["sends"] += 1
    for cl in export_claims:
        split[host_of_worker(cl[3])]["exports"] += 1
    for addr, hosts in by_addr.items():
        split[hosts[0]]["recipients"] += 1
    with r.db() as c:
        for host, done in c.execute("SELECT hostname, sum(jobs_done) FROM workers GROUP BY hostname"):
            split[host]["jobs_done"] = int(done)
    print(f"\n  {'':8} {'sends':>6} {'recipients':>11} {'exports':>8}   workers.jobs_done (every kind, maintenance too)")
    for host in sorted(split):
        s = split[host]
        print(f"  {host:8} {s['sends']:>6} {s['recipients']:>11} {s['exports']:>8}   {s['jobs_done']}")
    print(f"  {'total':8} {sum(s['sends'] for s in split.values()):>6} "
          f"{sum(s['recipients'] for s in split.values()):>11} {sum(s['exports'] for s in split.values()):>8}\n")
    both = [h for h in ("host-a", "host-b") if split[h]["sends"] + split[h]["exports"] > 0]
    r.check(len(both) == 2, "both hosts' workers took part", f"only {both}")


# ---------------------------------------------------------------- 3. resume elsewhere

def resume_elsewhere(r, sub, campaign):
    r.say("\n== 3. seq, and a resume on the other host ==")
    msgs = sub.messages()
    seqs = collections.defaultdict(list)
    for m in msgs:
        seqs[m["channel"]].append(m["seq"])
    for ch in sorted(seqs):
        r.check(consecutive(seqs[ch]),
                f"{ch} channel: seq {seqs[ch][0]}..{seqs[ch][-1]} without a gap or repeat on host-a "
                f"({len(seqs[ch])} messages)", f"{seqs[ch]}")
    with sub.lock:
        events = list(sub.events)
    k = len(events) // 2
    later = [(m["channel"], m["seq"]) for _, m in events[k + 1:]]
    r.say(f"  resuming on host-b from message {k + 1} of {len(events)}: Last-Event-ID {events[k][0]}")
    again = SSE(f"{r.base['b']}/events/user?campaign={campaign}", r.token, last_event_id=events[k][0])
    try:
        again.wait(lambda ms: len(ms) >= len(later), 15, f"{len(later)} buffered messages")
        time.sleep(0.3)  # anything extra would show now
        got = [(m["channel"], m["seq"]) for m in again.messages()]
    finally:
        again.close()
    r.check(got == later, f"reconnecting to host-b with host-a's Last-Event-ID {events[k][0]} replays exactly "
            f"the {len(later)} messages after it", f"got {got[:6]}... want {later[:6]}...")
    sub.close()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--run", required=True)
    p.add_argument("--ctl", required=True)
    p.add_argument("--check", action="store_true")
    r = Run(p.parse_args())
    t0 = time.monotonic()
    try:
        sub, campaign, job = events_across_hosts(r)
        spread_work(r, sub, campaign, job)
        resume_elsewhere(r, sub, campaign)
    except (RuntimeError, requests.RequestException, psycopg.Error, KeyError, StopIteration) as e:
        r.check(False, "the scenario ran to its end", f"{type(e).__name__}: {e}")
    print(f"scale: scenario {time.monotonic() - t0:.1f} s, "
          f"{'all checks passed' if not r.failures else f'{len(r.failures)} check(s) FAILED'}", flush=True)
    return 1 if r.failures else 0


if __name__ == "__main__":
    sys.exit(main())
