"""bench/events.py: real-time events through nchan, run by bench/events.sh on
its private stack (see bench/README.md). Prints figures and same-run ratios;
asserts no timing.

1. Latency. Rounds alternate: one generation job (builtin generator) on a
   fresh campaign whose channel an SSE subscriber (through nginx, Bearer) is
   reading, then as many messages published straight to nchan's publisher
   socket (run/nchan.sock, POST /pub/campaign.ID) to another fresh
   campaign's subscriber. Each message's latency is receive time minus its
   "at" (the publisher's wall clock, ISO 8601 truncated to the millisecond in
   both cases, so both rows carry the same 0..1 ms truncation); the direct
   messages also carry their exact send time (a third row).
2. Fan-out: EVENTS_SUBSCRIBERS SSE subscribers (asyncio, raw sockets) on one
   campaign channel, EVENTS_MESSAGES messages published back to back; time
   until every subscriber has them all, and nginx's RSS (master and workers,
   /proc/PID/smaps_rollup) before, with the subscribers, and after.

The subscribers and the publisher run in this process on the same 2 CPUs as
nginx, adcraft and PostgreSQL: the client's cost is part of every figure, the
same in both rows of the latency table.
"""

import argparse
import asyncio
import calendar
import http.client
import json
import os
import resource
import socket
import statistics
import sys
import threading
import time

import requests

from results import record  # noqa: E402  (bench/results.py)

ENV = {
    "EVENTS_ROUNDS": 20,           # latency rounds (one job + one direct burst each)
    "EVENTS_VARIATIONS": 5,        # variations per platform: 6 x this items per job
    "EVENTS_DIRECT_GAP_US": 1000,  # pause between two direct publishes
    "EVENTS_SUBSCRIBERS": 1000,
    "EVENTS_MESSAGES": 100,
    "EVENTS_CONNECT_CONCURRENCY": 100,
}
# EVENTS_QUICKACK=1: the latency subscribers ACK at once (TCP_QUICKACK) instead
# of delaying ACKs as browsers do. nginx leaves Nagle on for a plain-HTTP SSE
# stream (tcp_nodelay applies to keep-alive, TLS, WebSocket), so a message
# written while the previous one is unacknowledged waits for the delayed ACK
# (up to 40 ms on Linux): with 1 the p99 shows what is left without that.
QUICKACK = os.environ.get("EVENTS_QUICKACK", "0") == "1"
SETTINGS = {
    "contentTypes": ["email", "social_post", "ad_copy"],
    "platforms": ["email", "linkedin", "twitter", "google_ads"],
}


def knob(name):
    v = os.environ.get(name, str(ENV[name]))
    if not v.isdigit() or int(v) < 1:
        sys.exit(f"bench: error: {name} must be a positive number, got {v!r}")
    return int(v)


def say(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- the API

class Api:
    def __init__(self, url):
        self.url = url
        self.http = requests.Session()
        self.token = None

    def call(self, method, path, body=None, expect=(200,)):
        h = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        r = self.http.request(method, self.url + path, json=body, headers=h, timeout=30)
        if r.status_code not in expect:
            sys.exit(f"bench: error: {method} {path} answered {r.status_code}: {r.text[:300]}")
        return r.json() if r.text else None

    def register(self):
        b = self.call("POST", "/api/auth/register", {
            "email": f"events-{os.getpid()}-{time.time_ns()}@bench.adcraft.local",
            "password": "bench-password-events", "name": "Events bench"}, expect=(201,))
        self.token = b["accessToken"]

    def campaign(self, variations):
        return self.call("POST", "/api/campaigns", {
            "name": "Events bench", "objective": "awareness", "keywords": "automation",
            "generationSettings": dict(SETTINGS, variations=variations)}, expect=(201,))["id"]


# ---------------------------------------------------------------- nchan's publisher

class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("localhost", timeout=10)
        self.unix_path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(10)
        self.sock.connect(self.unix_path)


class Publisher:
    """One keep-alive connection to nchan's publisher server (events-publisher.conf)."""

    def __init__(self, path):
        self.conn = UnixHTTPConnection(path)

    def request(self, method, channel, body=None, accept="application/json"):
        self.conn.request(method, f"/pub/{channel}", body=body,
                          headers={"Accept": accept, "Content-Type": "application/json"})
        r = self.conn.getresponse()
        data = r.read()
        if r.status >= 300:
            sys.exit(f"bench: error: {method} /pub/{channel} answered {r.status}: {data[:200]!r}")
        return data

    def post(self, channel, body):
        self.request("POST", channel, body)

    def subscribers(self, channel):
        return json.loads(self.request("GET", channel))["subscribers"]


def iso_ms(ns):
    """Wall clock ns as events.c writes "at": UTC, truncated to the millisecond."""
    s, rest = divmod(ns, 1_000_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(s)) + f".{rest // 1_000_000:03d}Z"


def at_ms(at):
    """"2026-12-03T11:59:10.123Z" -> ms since the epoch."""
    secs = calendar.timegm(time.strptime(at[:19], "%Y-%m-%dT%H:%M:%S"))
    return secs * 1000 + int(at[20:23])


# ---------------------------------------------------------------- one SSE subscriber (thread)

def sse_request(host, port, path, token):
    s = socket.create_connection((host, port), timeout=10)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.settimeout(None)  # a quiet stream is not an error; close() ends the reader
    s.sendall((f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAccept: text/event-stream\r\n"
               f"Authorization: Bearer {token}\r\n\r\n").encode())
    return s


class SseReader(threading.Thread):
    """Reads one EventSource stream; stamps each chunk with time.time_ns() as
    it returns from recv; keeps (received_ns, data) per message."""

    def __init__(self, host, port, path, token, stop_type=None):
        super().__init__(daemon=True)
        self.sock = sse_request(host, port, path, token)
        self.stop_type = stop_type
        self.messages = []
        self.ready = threading.Event()
        self.done = threading.Event()
        self.error = None

    def run(self):
        buf = b""
        head = True
        try:
            while not self.done.is_set():
                chunk = self.sock.recv(65536)
                now = time.time_ns()
                if QUICKACK:  # re-armed after every read (the kernel clears it)
                    self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
                if not chunk:
                    raise ConnectionError("the stream closed")
                buf += chunk
                if head:
                    end = buf.find(b"\r\n\r\n")
                    if end < 0:
                        continue
                    status = buf.split(b"\r\n", 1)[0]
                    if b" 200 " not in status:
                        raise ConnectionError(f"subscribe answered {status!r}: {buf[end:end + 300]!r}")
                    buf, head = buf[end + 4:], False
                *frames, buf = buf.split(b"\n\n")
                for f in frames:
                    if f.startswith(b":"):
                        self.ready.set()  # nchan's ": hi": subscribed
                        continue
                    for line in f.split(b"\n"):
                        if line.startswith(b"data: "):
                            self.messages.append((now, line[6:]))
                            if self.stop_type and b'"type":"%s"' % self.stop_type.encode() in line:
                                self.done.set()
        except Exception as e:  # reported by the caller
            self.error = e
            self.ready.set()
            self.done.set()

    def close(self):
        self.done.set()
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        self.join(5)


def subscribe(host, port, campaign, token, stop_type=None):
    r = SseReader(host, port, f"/events/campaigns/{campaign}", token, stop_type)
    r.start()
    if not r.ready.wait(10) or r.error:
        sys.exit(f"bench: error: subscribing to campaign {campaign}: {r.error or 'no answer in 10 s'}")
    return r


# ---------------------------------------------------------------- numbers

def pct(values, p):
    """Nearest-rank percentile."""
    v = sorted(values)
    return v[max(0, min(len(v) - 1, -(-len(v) * p // 100) - 1))]


def summary(values):
    return len(values), statistics.median(values), pct(values, 99)


def nginx_pids(dev_dir):
    with open(os.path.join(dev_dir, "run", "nginx.pid")) as f:
        master = int(f.read().split()[0])
    pids = [master]
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == master:
                        pids.append(int(d))
            except (OSError, ValueError, IndexError):
                pass
    return pids


def nginx_rss_kib(dev_dir):
    """(RSS summed over nginx's master and workers, the largest one), KiB."""
    total = largest = 0
    for pid in nginx_pids(dev_dir):
        try:
            with open(f"/proc/{pid}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Rss:"):
                        kib = int(line.split()[1])
                        total += kib
                        largest = max(largest, kib)
        except OSError:
            pass
    return total, largest


def mib(kib):
    return f"{kib / 1024:.1f} MiB"


# ---------------------------------------------------------------- 1. latency

def job_round(api, host, port, variations):
    campaign = api.campaign(variations)
    sub = subscribe(host, port, campaign, api.token, stop_type="campaign:generation:completed")
    api.call("POST", f"/api/jobs/campaigns/{campaign}/generate", expect=(202,))
    finished = sub.done.wait(120)
    sub.close()
    if not finished or sub.error:
        sys.exit(f"bench: error: job on campaign {campaign}: {sub.error or 'no completion in 120 s'}")
    lat, types = [], {}
    sizes = [len(data) for _, data in sub.messages]
    for recv_ns, data in sub.messages:
        m = json.loads(data)
        ms = recv_ns / 1e6 - at_ms(m["at"])
        lat.append(ms)
        types.setdefault(m["type"], []).append(ms)
    return lat, types, sizes


def direct_round(api, pub, host, port, sizes, gap_us):
    """As many messages as the job sent, each as long as the job's message of the same rank."""
    count = len(sizes)
    campaign = api.campaign(1)
    channel = f"campaign.{campaign}"
    sub = subscribe(host, port, campaign, api.token, stop_type="bench:last")
    for i in range(count):
        time.sleep(gap_us / 1e6)
        sent = time.time_ns()
        kind = "bench:last" if i == count - 1 else "bench:direct"
        msg = json.dumps({"type": kind, "seq": i + 1, "at": iso_ms(sent), "sentNs": sent,
                          "channel": "campaign", "campaignId": campaign, "pad": ""}, separators=(",", ":"))
        pub.post(channel, msg[:-2] + "x" * max(0, sizes[i] - len(msg)) + msg[-2:])
    finished = sub.done.wait(30)
    sub.close()
    if not finished or sub.error or len(sub.messages) != count:
        sys.exit(f"bench: error: direct publish: {len(sub.messages)} of {count} received ({sub.error})")
    at, exact = [], []
    for recv_ns, data in sub.messages:
        m = json.loads(data)
        at.append(recv_ns / 1e6 - at_ms(m["at"]))
        exact.append((recv_ns - m["sentNs"]) / 1e6)
    return at, exact


def latency(api, pub, host, port):
    rounds, variations, gap = knob("EVENTS_ROUNDS"), knob("EVENTS_VARIATIONS"), knob("EVENTS_DIRECT_GAP_US")
    say(f"latency: {rounds} rounds of one generation job ({6 * variations} items) and a direct burst")
    job, direct, exact, types, per_round, all_sizes = [], [], [], {}, [], []
    for r in range(rounds):
        j, t, sizes = job_round(api, host, port, variations)
        all_sizes += sizes
        d, e = direct_round(api, pub, host, port, sizes, gap)
        job += j
        direct += d
        exact += e
        for k, v in t.items():
            types.setdefault(k, []).extend(v)
        per_round.append((statistics.median(j), statistics.median(d)))
    rows = [("job events (worker -> nchan -> SSE)", job),
            ("direct publish (run/nchan.sock -> SSE)", direct)]
    print("\n1. publish -> SSE subscriber latency, ms (receive time - \"at\", both truncated to the ms;"
          f" messages of {min(all_sizes)}..{max(all_sizes)} bytes, median {statistics.median(all_sizes):.0f},"
          " the direct ones padded to the job's)")
    print(f"  {'':42} {'n':>6} {'median':>8} {'p99':>8}")
    for name, values in rows:
        n, med, p99 = summary(values)
        print(f"  {name:42} {n:6d} {med:8.2f} {p99:8.2f}")
    n, jm, jp = summary(job)
    _, dm, dp = summary(direct)
    print(f"  {'difference (job - direct)':42} {'':6} {jm - dm:+8.2f} {jp - dp:+8.2f}"
          f"   target: median within 0.5 ms -> {'yes' if abs(jm - dm) <= 0.5 else 'NO'}")
    n, em, ep = summary(exact)
    print(f"  {'direct, exact send time (no truncation)':42} {n:6d} {em:8.2f} {ep:8.2f}")
    record("event latency added by adcraft's publishing (median job - direct)", jm - dm, "ms",
           "-", "-", "value <= 0.5 && value >= -0.5")
    print(f"  subscriber TCP_QUICKACK (EVENTS_QUICKACK): {'on' if QUICKACK else 'off, as browsers'}")
    print("  per round, median job / direct: "
          + "  ".join(f"{a:.2f}/{b:.2f}" for a, b in per_round))
    print("  job events by type (n, median, p99, max):")
    for k, v in sorted(types.items()):
        n, med, p99 = summary(v)
        print(f"    {k:34} {n:5d} {med:8.2f} {p99:8.2f} {max(v):8.2f}")


# ---------------------------------------------------------------- 2. fan-out

async def fan_subscriber(host, port, path, token, want, ready, t0_box, done_times, sem):
    """One subscriber: subscribes (sem bounds how many at once), counts in ready[0], sets
    ready[1] when all are in, then reads until it has `want` messages."""
    async with sem:
        reader, writer = await asyncio.open_connection(host, port)
        writer.write((f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAccept: text/event-stream\r\n"
                      f"Authorization: Bearer {token}\r\n\r\n").encode())
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        if b" 200 " not in head.split(b"\r\n", 1)[0]:
            raise ConnectionError(f"subscribe answered {head[:200]!r}")
        await reader.readuntil(b"\n\n")  # ": hi"
    ready[0] += 1
    if ready[0] == ready[2]:
        ready[1].set()
    got, buf = 0, b""
    try:
        while got < want:
            chunk = await reader.read(65536)
            if not chunk:
                raise ConnectionError(f"the stream closed after {got} messages")
            buf += chunk
            *frames, buf = buf.split(b"\n\n")
            got += sum(1 for f in frames if b"\ndata: " in f or f.startswith(b"data: "))
        done_times.append(time.perf_counter() - t0_box[0])
    finally:
        writer.close()


async def fan_out_async(api, pub, host, port, dev_dir):
    n, m = knob("EVENTS_SUBSCRIBERS"), knob("EVENTS_MESSAGES")
    campaign = api.campaign(1)
    channel = f"campaign.{campaign}"
    path = f"/events/campaigns/{campaign}"
    rss_before = nginx_rss_kib(dev_dir)
    say(f"fan-out: connecting {n} SSE subscribers to {channel}")
    ready = [0, asyncio.Event(), n]
    sem = asyncio.Semaphore(knob("EVENTS_CONNECT_CONCURRENCY"))
    t0_box, done_times = [0.0], []
    t_connect = time.perf_counter()
    tasks = [asyncio.create_task(fan_subscriber(host, port, path, api.token, m, ready, t0_box, done_times, sem))
             for _ in range(n)]
    waiter = asyncio.create_task(ready[1].wait())
    finished, _ = await asyncio.wait({waiter, *tasks}, timeout=120, return_when=asyncio.FIRST_COMPLETED)
    if waiter not in finished:  # a subscriber ended early: it failed
        failed = [t for t in finished if t.exception()]
        for t in [waiter, *tasks]:
            t.cancel()
        raise SystemExit(f"bench: error: fan-out: {ready[0]} of {n} subscribed; "
                         f"{failed[0].exception() if failed else 'timeout'}")
    connect_s = time.perf_counter() - t_connect
    loop = asyncio.get_running_loop()
    subscribed = await loop.run_in_executor(None, pub.subscribers, channel)
    rss_subscribed = nginx_rss_kib(dev_dir)

    body = json.dumps({"type": "bench:fanout", "at": iso_ms(time.time_ns()), "data": {"pad": "x" * 120}},
                      separators=(",", ":"))

    def publish_all():
        t = time.perf_counter()
        for _ in range(m):
            pub.post(channel, body)
        return time.perf_counter() - t

    say(f"fan-out: publishing {m} messages")
    t0_box[0] = time.perf_counter()
    publish_s = await loop.run_in_executor(None, publish_all)
    results = await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), timeout=300)
    errors = [r for r in results if isinstance(r, Exception)]
    total_s = max(done_times) if done_times else float("nan")
    rss_after = nginx_rss_kib(dev_dir)

    print(f"\n2. fan-out: {n} SSE subscribers on one channel x {m} messages "
          f"({len(body)} bytes of JSON each, published back to back on run/nchan.sock)")
    print(f"  subscribers connected in {connect_s:.2f} s (nchan counts {subscribed})")
    print(f"  publishing {m} messages took {publish_s * 1000:.1f} ms")
    if errors:
        print(f"  !! {len(errors)} subscribers failed: {errors[0]!r}")
    print(f"  every subscriber had all {m} after {total_s * 1000:.1f} ms "
          f"(median subscriber {statistics.median(done_times) * 1000:.1f} ms); "
          f"{len(done_times) * m / total_s:,.0f} deliveries/s")
    print(f"  nginx RSS (master + workers): before {mib(rss_before[0])}, "
          f"with {n} subscribers {mib(rss_subscribed[0])}, after the messages {mib(rss_after[0])} "
          f"(largest process {mib(rss_after[1])})")
    per_sub = (rss_subscribed[0] - rss_before[0]) / n
    print(f"  RSS per subscriber: {per_sub:.1f} KiB")
    record(f"SSE fan-out deliveries/s, {n} subscribers", len(done_times) * m / total_s, "msg/s")
    record("nginx RSS per SSE subscriber", per_sub, "KiB")


def raise_nofile(n):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, max(soft, n)) if hard != resource.RLIM_INFINITY else max(soft, n)
    if want > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def nginx_problems(dev_dir):
    try:
        with open(os.path.join(dev_dir, "log", "nginx-error.log"), errors="replace") as f:
            lines = f.read().splitlines()
    except OSError:
        return []
    return [line for line in lines if any(w in line for w in ("[alert]", "[crit]", "[emerg]", "exited on signal",
                                                                   "worker_connections are not enough"))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--dev-dir", required=True)
    ap.add_argument("--skip", choices=["latency", "fanout"])
    a = ap.parse_args()
    sys.stdout.reconfigure(line_buffering=True)
    host, port = a.url.split("//", 1)[1].rsplit(":", 1)
    port = int(port)
    nofile = raise_nofile(knob("EVENTS_SUBSCRIBERS") + 256)
    if nofile < knob("EVENTS_SUBSCRIBERS") + 64:
        sys.exit(f"bench: error: the open-file limit is {nofile}: too low for "
                 f"{knob('EVENTS_SUBSCRIBERS')} subscribers (ulimit -n)")
    api = Api(a.url)
    api.register()
    pub = Publisher(os.path.join(a.dev_dir, "run", "nchan.sock"))
    if a.skip != "latency":
        latency(api, pub, host, port)
    if a.skip != "fanout":
        asyncio.run(fan_out_async(api, Publisher(os.path.join(a.dev_dir, "run", "nchan.sock")),
                                  host, port, a.dev_dir))
    problems = nginx_problems(a.dev_dir)
    print(f"\nnginx error log: {len(problems)} alert/crit/emerg lines"
          + "".join(f"\n  {p[:200]}" for p in problems[:5]))


if __name__ == "__main__":
    main()
