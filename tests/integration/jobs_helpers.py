"""Helpers shared by the job queue tests (test_jobs_*.py)."""

import json
import os
import re
import subprocess
import time

from psycopg.rows import dict_row

from helpers import _tail

CASTS = {"user_id": "uuid", "campaign_id": "uuid", "priority": "int", "run_at": "timestamptz",
         "max_attempts": "int", "idempotency_key": "text"}


def enqueue(conn, queue, kind="noop", payload=None, **kw):
    """SELECT enqueue(...) with named arguments; returns the job id (str)."""
    args = ["queue => %s", "kind => %s", "payload => %s::jsonb"]
    params = [queue, kind, json.dumps(payload or {})]
    for k, v in kw.items():
        args.append(f"{k} => %s::{CASTS[k]}")
        params.append(v)
    return str(conn.execute(f"SELECT enqueue({', '.join(args)})", params).fetchone()[0])


def job_row(conn, jid):
    cur = conn.cursor(row_factory=dict_row)
    return cur.execute("SELECT * FROM jobs WHERE id = %s", [jid]).fetchone()


def wait_for(pred, timeout, interval=0.01):
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() >= deadline:
            return v
        time.sleep(interval)


def worker_log(stack, n=40):
    return _tail(os.path.join(stack.dir, "log", "worker.log"), n)


def wait_state(stack, conn, jid, states, timeout):
    row = wait_for(lambda: (lambda r: r if r and r["state"] in states else None)(job_row(conn, jid)),
                   timeout)
    assert row, (f"job {jid} not in {states} within {timeout}s: {job_row(conn, jid)}\n"
                 f"--- worker.log ---\n{worker_log(stack)}")
    return row


def holder_pid(locked_by):
    m = re.fullmatch(r"[^:]+:(\d+):[0-9a-f]+", locked_by or "")
    assert m, f"locked_by {locked_by!r} is not host:pid:nonce"
    return int(m.group(1))

def children(pid):
    p = subprocess.run(["pgrep", "-P", str(pid)], stdout=subprocess.PIPE, text=True)
    return sorted(int(x) for x in p.stdout.split())

def log_events(stack, job_id):
    out = []
    for line in _tail(os.path.join(stack.dir, "log", "worker.log"), 100000).splitlines():
        try:
            o = json.loads(line)
        except ValueError:
            continue
        if o.get("jobId") == job_id:
            out.append(o)
    return out
