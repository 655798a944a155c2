"""Clients of /events/ for the tests: EventSource (SSE) and WebSocket, each
reading in a background thread into a list of parsed messages."""

import asyncio
import json
import threading
import time

import requests
import websockets


class Subscriber:
    """Common part: messages (parsed JSON, in arrival order) and waiting."""

    def __init__(self):
        self.messages = []
        self.ids = []          # SSE ids (nchan message ids), parallel to messages
        self.status = None     # HTTP status of the subscription
        self.error_body = None
        self.connected = threading.Event()
        self.closed = threading.Event()
        self.lock = threading.Lock()

    def _add(self, data, msgid=None):
        with self.lock:
            self.messages.append(json.loads(data))
            self.ids.append(msgid)

    def wait(self, pred, timeout=15.0):
        """Waits until pred(messages) is true; returns the messages."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                msgs = list(self.messages)
            if pred(msgs):
                return msgs
            if self.closed.is_set() and not pred(msgs):
                break
            time.sleep(0.01)
        with self.lock:
            msgs = list(self.messages)
        assert pred(msgs), f"condition not met within {timeout}s; got {[m['type'] for m in msgs]}"
        return msgs

    def wait_type(self, type_, timeout=15.0):
        return self.wait(lambda ms: any(m["type"] == type_ for m in ms), timeout)

    def types(self):
        with self.lock:
            return [m["type"] for m in self.messages]


class SSE(Subscriber):
    """GET url with Accept: text/event-stream. Waits for nchan's ": hi" line
    (subscribed) or a refusal before returning from start()."""

    def __init__(self, url, headers=None, cookies=None, session=None):
        super().__init__()
        self.url = url
        self.headers = {"Accept": "text/event-stream", **(headers or {})}
        self.cookies = cookies
        self.http = session or requests.Session()
        self.resp = None

    def start(self, timeout=10.0):
        t = threading.Thread(target=self._run, daemon=True)
        t.start()
        assert self.connected.wait(timeout), f"no answer from {self.url} within {timeout}s"
        return self

    def _run(self):
        try:
            self.resp = self.http.get(self.url, headers=self.headers, cookies=self.cookies, stream=True,
                                      timeout=(5, 60))
            self.status = self.resp.status_code
            if self.status != 200:
                self.error_body = self.resp.text
                self.connected.set()
                return
            data, msgid = [], None
            for raw in self.resp.iter_lines(chunk_size=1, decode_unicode=False):
                line = raw.decode("utf-8")
                if line.startswith(":"):
                    self.connected.set()
                elif line.startswith("id: "):
                    msgid = line[4:]
                elif line.startswith("data: "):
                    data.append(line[6:])
                elif line == "" and data:
                    self._add("\n".join(data), msgid)
                    data, msgid = [], None
        except (requests.RequestException, AttributeError, ValueError):
            pass
        finally:
            self.connected.set()
            self.closed.set()

    def close(self):
        if self.resp is not None:
            try:
                self.resp.raw._fp.fp.raw._sock.shutdown(2)  # wake iter_lines
            except Exception:
                pass
            self.resp.close()
        self.closed.wait(5)


class WS(Subscriber):
    """A WebSocket subscriber (nchan's plain protocol: one message per frame)."""

    def __init__(self, url, headers=None):
        super().__init__()
        self.url = url.replace("http://", "ws://")
        self.headers = headers or {}
        self.loop = None
        self.ws = None

    def start(self, timeout=10.0):
        t = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)
        t.start()
        assert self.connected.wait(timeout), f"no answer from {self.url} within {timeout}s"
        return self

    async def _run(self):
        self.loop = asyncio.get_running_loop()
        try:
            async with websockets.connect(self.url, extra_headers=self.headers, open_timeout=5) as ws:
                self.ws = ws
                self.status = 101
                self.connected.set()
                async for msg in ws:
                    self._add(msg)
        except websockets.exceptions.InvalidStatusCode as e:
            self.status = e.status_code
        except (OSError, websockets.exceptions.WebSocketException):
            pass
        finally:
            self.connected.set()
            self.closed.set()

    def close(self):
        if self.ws is not None and self.loop is not None:
            asyncio.run_coroutine_threadsafe(self.ws.close(), self.loop)
        self.closed.wait(5)


def events_session(stack, token):
    """POST /api/events/session; returns (response, requests.Session holding the cookie)."""
    s = requests.Session()
    r = s.post(stack.url("/api/events/session"), headers={"Authorization": f"Bearer {token}"}, timeout=10)
    return r, s


def seqs_by_channel(messages):
    out = {}
    for m in messages:
        out.setdefault(m["channel"], []).append(m["seq"])
    return out


def assert_consecutive(seqs):
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), seqs
