#!/usr/bin/python3
"""A small OpenAI-compatible chat-completions server for the generation tests.

Run:  /usr/bin/python3 tests/fake/fake_llm.py [--host 127.0.0.1] [--port 0]
It binds, prints "PORT <n>" on the first line of stdout, and serves until
SIGTERM/SIGINT. Python standard library only.

Endpoints
  POST /v1/chat/completions   answers according to the script (below); by default
                              valid structured output for the schema named in
                              response_format.json_schema.name (email, social_post,
                              search_ad, social_ad), with usage numbers.
  POST /v1/images/generations an images endpoint: {"data": [{"b64_json": <PNG>}]} with a
                              real PNG of the requested size (one colour), or what the
                              rule's "image" says (below); only rules with
                              match.endpoint "images" answer it
  POST /control               {"script": [rule, ...], "clearLog": true}: replaces the
                              script (and clears the request log unless clearLog is false)
  POST /reset                 empty script, empty log
  GET  /requests              every request received, in arrival order (see below)
  GET  /health                {"status": "ok"}

Script: an ordered list of rules. For each completion request the first rule
whose "match" fits and whose "times" is not used up decides the answer; a rule
without "times" applies forever; no rule = {"mode": "ok"}. Rule keys:
  match       {"schema": name, "contains": text in any message (images: in the prompt), "repair": bool
               (user message starts with "Shorten this copy" or, for a brand repair, "Rewrite this copy"),
               "endpoint": "chat" (the default) | "images"}
  times       how many requests this rule answers (absent = unlimited)
  latencyMs   wait before answering (cut short when the client hangs up)
  mode        ok | long | schema | malformed | length | refusal | http | stall | huge | drop
  status      HTTP status for mode http (default 500); body: raw body for mode http
  headers     extra response headers, e.g. {"Retry-After": "2"}
  fields      dict merged into the generated answer (ok/long/length)
  content     raw string returned as choices[0].message.content (ok), overrides all
  usage       {"prompt_tokens": n, "completion_tokens": n} (default derived from sizes)
  longChars   contentBody length for mode long (default 600; search_ad: long headlines)
  schemaBreak missing | extra | type | notjson | notobject (mode schema, default missing)
  stallSeconds how long a stall lasts (default 30; ends early when the client leaves)
  sizeBytes   body size for mode huge (default 50 MiB), streamed in 64 KiB chunks
  refusal     refusal text (mode refusal)
  image       images endpoint, mode ok: png (default) | svg | garbage | pngheader (PNG magic, then
              garbage) | bomb (a PNG header claiming 20000x20000) | big (a real 2000x2000 PNG of
              noise, about 12 MB: over the default upload limit) | notb64 | url (data[0].url
              instead of b64_json) | empty (data: [])
  imageSize   "WxH" of the PNG (default: the request's size)

Request log entries: {seq, method, path, headers (lower-case names), body (parsed
JSON or null), raw (text, first 64 KiB), t (time.time() at arrival), mono
(time.monotonic() at arrival), rule (index or null), mode, status, bytesSent,
done (answer finished), doneMono, clientGone (the client hung up before the
answer was finished), clientGoneMono}. GET /requests also reports maxInFlight
(the most completion requests handled at once since the last reset).
"""

import argparse
import base64
import json
import os
import re
import select
import signal
import socket
import struct
import sys
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SCHEMAS = ("email", "social_post", "search_ad", "social_ad")

OPENINGS = [
    "Your week should not run you.",
    "What if planning took five minutes instead of fifty?",
    "Busy teams lose hours to scattered to-do lists.",
    "Picture Monday morning with every task already in its place.",
    "Small teams deserve big-team focus.",
    "Deadlines are easier when the plan builds itself.",
]


AD_LINES = [
    "Plan every task in one place and get an hour back each day.",
    "One shared plan for the whole team. Set it up in five minutes.",
    "Stop juggling lists. See the whole week at a glance.",
    "Deadlines, tasks and meetings in one calm view.",
    "Built for small teams that need big-team focus.",
    "Your plan keeps itself current when priorities change.",
]


class State:
    def __init__(self):
        self.lock = threading.Lock()
        self.script = []
        self.used = []
        self.log = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.stopping = threading.Event()

    def reset(self, script=None, clear_log=True):
        with self.lock:
            self.script = list(script or [])
            self.used = [0] * len(self.script)
            if clear_log:
                self.log = []
                self.max_in_flight = 0

    def pick(self, body, endpoint="chat"):
        """The first rule that fits this request (and counts it), or (None, default)."""
        with self.lock:
            for i, rule in enumerate(self.script):
                times = rule.get("times")
                if times is not None and self.used[i] >= times:
                    continue
                if not matches(rule.get("match"), body, endpoint):
                    continue
                self.used[i] += 1
                return i, rule
        return None, {"mode": "ok"}


def messages_text(body):
    parts = []
    for m in (body or {}).get("messages") or []:
        if isinstance(m, dict) and isinstance(m.get("content"), str):
            parts.append(m["content"])
    return "\n".join(parts)


def user_message(body):
    for m in reversed((body or {}).get("messages") or []):
        if isinstance(m, dict) and m.get("role") == "user" and isinstance(m.get("content"), str):
            return m["content"]
    return ""


def schema_name(body):
    try:
        return body["response_format"]["json_schema"]["name"]
    except (KeyError, TypeError):
        return None


def is_repair(body):
    return user_message(body).startswith(("Shorten this copy", "Rewrite this copy"))


def matches(match, body, endpoint="chat"):
    if (match or {}).get("endpoint", "chat") != endpoint:
        return False
    if not match:
        return True
    if "schema" in match and schema_name(body) != match["schema"]:
        return False
    text = messages_text(body) if endpoint == "chat" else str((body or {}).get("prompt", ""))
    if "contains" in match and match["contains"] not in text:
        return False
    if "repair" in match and bool(match["repair"]) != is_repair(body):
        return False
    return True


def variation_of(body):
    m = re.search(r"This is variation (\d+)", user_message(body))
    return int(m.group(1)) if m else 1


def platform_of(body):
    m = re.search(r"Write one [a-z ]+ for (\w+)\.", messages_text(body))
    return m.group(1) if m else "linkedin"


def answer_for(body, rule):
    """The structured answer (a dict) for the request's schema."""
    name = schema_name(body) or "social_post"
    v = variation_of(body)
    opening = OPENINGS[(v - 1) % len(OPENINGS)]
    platform = platform_of(body)
    tag = f"v{v}"
    if name == "email":
        ans = {
            "subjectLine": f"Plan your week in minutes ({tag})",
            "preheader": "A calmer Monday starts with one shared plan for the whole team.",
            "contentBody": (f"{opening} Acme Planner gathers every task, deadline and meeting in one "
                            "place, so your team spends its mornings doing the work instead of "
                            "sorting it. Set priorities once and the plan keeps itself current. "
                            "Teams like yours get back about an hour a day."),
            "callToAction": "Start your free trial",
        }
    elif name == "social_post":
        ans = {
            "contentBody": (f"{opening} Acme Planner keeps every task and deadline in one calm "
                            f"place for your team. Try it this week ({tag} on {platform})."),
            "callToAction": "Try it free",
            "hashtags": ["#planning", "#productivity"],
        }
    elif name == "search_ad":
        ans = {
            "headlines": [f"Plan Your Week Fast {tag}", "One Calm Team Planner", "Try Acme Planner Free"],
            "descriptions": [AD_LINES[(v - 1) % len(AD_LINES)],
                             "Set priorities once. Your plan keeps itself current."],
            "callToAction": "Start free",
        }
    else:  # social_ad
        ans = {
            "subjectLine": f"Plan smarter ({tag})",
            "contentBody": f"{opening} Acme Planner puts your whole week in one calm view on {platform}.",
            "callToAction": "Learn more",
        }
    if rule.get("mode") == "long":
        n = int(rule.get("longChars", 600))
        if name == "search_ad":
            ans["headlines"] = ["This headline is far too long for a search ad " * 2] * 3
            ans["descriptions"] = [long_text(n)] * 2
        else:
            ans["contentBody"] = long_text(n)
    ans.update(rule.get("fields") or {})
    return ans


def long_text(n):
    """n characters of whole sentences (so a trim can cut at a sentence end)."""
    sentences = ["Acme Planner brings every task into one place.",
                 "Your team sees the whole week at a glance.",
                 "Priorities stay clear when plans change.",
                 "Meetings shrink because everyone already knows the plan."]
    out, i = [], 0
    while len(" ".join(out)) < n:
        out.append(sentences[i % len(sentences)])
        i += 1
    text = " ".join(out)
    return text[:n]


def break_schema(ans, how):
    if how == "extra":
        ans = dict(ans, bonusField="not allowed")
        return json.dumps(ans)
    if how == "type":
        ans = dict(ans)
        ans["callToAction"] = 42
        return json.dumps(ans)
    if how == "notjson":
        return "Sure! Here is your copy: " + json.dumps(ans)[:40]
    if how == "notobject":
        return json.dumps([ans])
    ans = dict(ans)
    ans.pop("callToAction", None)
    return json.dumps(ans)


def completion(body, content, usage, finish_reason="stop", refusal=None):
    msg = {"role": "assistant", "content": content}
    if refusal is not None:
        msg["refusal"] = refusal
    return {
        "id": "chatcmpl-fake-%d" % int(time.time() * 1000),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": (body or {}).get("model", "fake"),
        "choices": [{"index": 0, "message": msg, "finish_reason": finish_reason}],
        "usage": usage,
    }


def png_bytes(width, height, rgb=(0x25, 0x63, 0xeb)):
    """A real PNG: width x height pixels of one colour (8-bit RGB)."""
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff))
    row = b"\x00" + bytes(rgb) * width
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(row * height, 9))
            + chunk(b"IEND", b""))


def bomb_png():
    """A PNG whose header claims 20000 x 20000 pixels (400 MP) with a few rows of data."""
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff))
    ihdr = struct.pack(">IIBBBBB", 20000, 20000, 8, 2, 0, 0, 0)
    rows = (b"\x00" + b"\xff" * 60000) * 4
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def noise_png(width, height):
    """A real PNG that does not compress: width x height pixels of random RGB."""
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff))
    raw = b"".join(b"\x00" + os.urandom(3 * width) for _ in range(height))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw, 1)) + chunk(b"IEND", b"")


def image_answer(body, rule):
    """The images endpoint's answer (a dict) for mode ok."""
    kind = rule.get("image", "png")
    size = rule.get("imageSize") or str((body or {}).get("size") or "1024x1024")
    m = re.fullmatch(r"(\d{1,4})x(\d{1,4})", size)
    w, h = (int(m.group(1)), int(m.group(2))) if m else (64, 64)
    raw = {
        "png": lambda: png_bytes(max(w, 1), max(h, 1)),
        "svg": lambda: b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="64" height="64">'
                       b'<rect width="64" height="64" fill="red"/></svg>',
        "garbage": lambda: b"this is not an image, only words pretending " * 20,
        "pngheader": lambda: b"\x89PNG\r\n\x1a\n" + b"garbage after a PNG signature " * 20,
        "bomb": bomb_png,
        "big": lambda: noise_png(2000, 2000),
    }
    created = int(time.time())
    if kind == "notb64":
        return {"created": created, "data": [{"b64_json": "not base64 at all!"}]}
    if kind == "url":
        return {"created": created, "data": [{"url": "http://127.0.0.1:9/image.png"}]}
    if kind == "empty":
        return {"created": created, "data": []}
    return {"created": created, "data": [{"b64_json": base64.b64encode(raw[kind]()).decode()}]}


def default_usage(body, content):
    p = max(1, len(messages_text(body)) // 4)
    c = max(1, len(content or "") // 4)
    return {"prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-llm/1"

    def log_message(self, fmt, *args):  # quiet
        pass

    # --- plumbing ----------------------------------------------------------
    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def send_json(self, status, obj, headers=None):
        data = json.dumps(obj).encode()
        self.send_raw(status, data, headers, "application/json")

    def send_raw(self, status, data, headers=None, ctype="application/json"):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, str(v))
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()

    def client_gone(self, timeout):
        """Waits up to timeout seconds; True as soon as the client hangs up."""
        deadline = time.monotonic() + timeout
        st = self.server.state
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or st.stopping.is_set():
                return False
            try:
                r, _, _ = select.select([self.connection], [], [], min(left, 0.05))
            except (OSError, ValueError):
                return True
            if r:
                try:
                    data = self.connection.recv(1, socket.MSG_PEEK)
                except OSError:
                    return True
                if not data:
                    return True
                # a pipelined request: not a hang-up; keep waiting without spinning
                time.sleep(min(left, 0.05))

    # --- routes ------------------------------------------------------------
    def do_GET(self):
        st = self.server.state
        if self.path == "/health":
            return self.send_json(200, {"status": "ok"})
        if self.path == "/requests":
            with st.lock:
                log = json.loads(json.dumps(st.log))
                mx = st.max_in_flight
            return self.send_json(200, {"requests": log, "maxInFlight": mx})
        self.send_json(404, {"error": {"message": "not found"}})

    def do_POST(self):
        st = self.server.state
        arrived_t, arrived_mono = time.time(), time.monotonic()
        raw = self.read_body()
        if self.path == "/reset":
            st.reset()
            return self.send_json(200, {"ok": True})
        if self.path == "/control":
            try:
                ctl = json.loads(raw or b"{}")
                st.reset(ctl.get("script") or [], clear_log=ctl.get("clearLog", True))
            except (ValueError, AttributeError) as e:
                return self.send_json(400, {"error": str(e)})
            return self.send_json(200, {"ok": True, "rules": len(st.script)})
        path = self.path.rstrip("/")
        endpoint = {"/v1/chat/completions": "chat", "/chat/completions": "chat",
                    "/v1/images/generations": "images", "/images/generations": "images"}.get(path)
        if endpoint is None:
            return self.send_json(404, {"error": {"message": f"no route {self.path}"}})
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        idx, rule = st.pick(body, endpoint)
        entry = {
            "method": "POST", "path": self.path,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body": body, "raw": raw[:65536].decode("utf-8", "replace"),
            "t": arrived_t, "mono": arrived_mono, "rule": idx, "mode": rule.get("mode", "ok"),
            "status": None, "bytesSent": 0, "done": False, "doneMono": None,
            "clientGone": False, "clientGoneMono": None,
        }
        with st.lock:
            entry["seq"] = len(st.log)
            st.log.append(entry)
            st.in_flight += 1
            st.max_in_flight = max(st.max_in_flight, st.in_flight)
        try:
            self.answer(body, rule, entry)
        except (BrokenPipeError, ConnectionResetError, socket.timeout):
            self.gone(entry)
            self.close_connection = True
        finally:
            with st.lock:
                st.in_flight -= 1
                if not entry["clientGone"]:
                    entry["done"] = True
                    entry["doneMono"] = time.monotonic()

    def gone(self, entry):
        with self.server.state.lock:
            entry["clientGone"] = True
            entry["clientGoneMono"] = time.monotonic()

    def answer(self, body, rule, entry):
        mode = rule.get("mode", "ok")
        headers = rule.get("headers") or {}
        latency = float(rule.get("latencyMs", 0)) / 1000.0
        if latency and self.client_gone(latency):
            self.gone(entry)
            self.close_connection = True
            return
        if mode == "stall":
            if self.client_gone(float(rule.get("stallSeconds", 30))):
                self.gone(entry)
                self.close_connection = True
                return
            mode = "ok"
        if mode == "drop":
            self.gone(entry)  # we hang up: recorded as not done
            self.close_connection = True
            return
        if mode == "http":
            status = int(rule.get("status", 500))
            data = rule.get("body")
            if data is None:
                data = json.dumps({"error": {"message": f"fake error {status}", "type": "fake",
                                             "code": status}})
            entry["status"] = status
            entry["bytesSent"] = len(data.encode())
            return self.send_raw(status, data.encode(), headers)
        if mode == "malformed":
            data = b'{"id": "chatcmpl-broken", "choices": [{"message": {"content": "{\\"subj'
            entry["status"] = 200
            entry["bytesSent"] = len(data)
            return self.send_raw(200, data, headers)
        if mode == "huge":
            return self.send_huge(int(rule.get("sizeBytes", 50 * 1024 * 1024)), headers, entry)
        if body is None:
            entry["status"] = 400
            return self.send_json(400, {"error": {"message": "request body is not JSON"}})
        if entry["path"].rstrip("/").endswith("/images/generations"):
            data = json.dumps(image_answer(body, rule)).encode()
            entry["status"] = 200
            entry["bytesSent"] = len(data)
            return self.send_raw(200, data, headers)
        ans = answer_for(body, rule)
        finish = "stop"
        refusal = None
        if "content" in rule:
            content = rule["content"]
        elif mode == "schema":
            content = break_schema(ans, rule.get("schemaBreak", "missing"))
        elif mode == "length":
            content = json.dumps(ans)[: max(10, len(json.dumps(ans)) // 2)]
            finish = "length"
        elif mode == "refusal":
            content = None
            refusal = rule.get("refusal", "I'm sorry, but I can't help with that request.")
        else:
            content = json.dumps(ans)
        usage = rule.get("usage") or default_usage(body, content)
        usage = dict(usage)
        usage.setdefault("total_tokens", usage.get("prompt_tokens", 0) + usage.get("completion_tokens", 0))
        obj = completion(body, content, usage, finish, refusal)
        data = json.dumps(obj).encode()
        entry["status"] = 200
        entry["bytesSent"] = len(data)
        self.send_raw(200, data, headers)

    def send_huge(self, size, headers, entry):
        """A valid completion of `size` bytes, streamed; stops when the client hangs up."""
        head = b'{"id":"chatcmpl-huge","object":"chat.completion","choices":[{"index":0,' \
               b'"finish_reason":"stop","message":{"role":"assistant","content":"'
        tail = b'"}}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}'
        fill = size - len(head) - len(tail)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(size))
        for k, v in headers.items():
            self.send_header(k, str(v))
        self.end_headers()
        entry["status"] = 200
        self.wfile.write(head)
        entry["bytesSent"] = len(head)
        chunk = b"x" * 65536
        while fill > 0:
            n = min(fill, len(chunk))
            self.wfile.write(chunk[:n])
            fill -= n
            entry["bytesSent"] += n
        self.wfile.write(tail)
        entry["bytesSent"] += len(tail)
        self.wfile.flush()


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


srv_ref = []  # the running server(s), for callers that serve() in a thread


def serve(host="127.0.0.1", port=0, sock=None, out=sys.stdout):
    """Serves until SIGTERM/SIGINT. sock: an already bound TCP socket to use
    instead of binding (host, port), e.g. one the test picked itself."""
    srv = Server((host, port), Handler, bind_and_activate=sock is None)
    if sock is not None:
        srv.socket.close()
        srv.socket = sock
        srv.server_address = sock.getsockname()
        sock.listen(srv.request_queue_size)
    srv.state = State()
    print(f"PORT {srv.server_address[1]}", file=out, flush=True)

    def stop(*_):
        srv.state.stopping.set()
        threading.Thread(target=srv.shutdown, daemon=True).start()

    try:
        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
    except ValueError:  # not the main thread: the caller stops us
        pass
    srv_ref.append(srv)
    try:
        srv.serve_forever(poll_interval=0.1)
    finally:
        srv.server_close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    a = ap.parse_args()
    serve(a.host, a.port)


if __name__ == "__main__":
    main()
