"""A deployment from the installed tree (issue #15 section 2), without systemd as PID 1.

`meson install --destdir` lays the build out; the test then does what an
operator and systemd would: creates the system users from the installed
sysusers.d file (systemd-sysusers, on this machine), the directories from the
installed tmpfiles.d file, the secrets with the installed `adcraft gen-secret`,
/etc/adcraft/adcraft.conf from the installed example, and starts

  adcraft-migrate.service  (oneshot, to completion),
  adcraft-api.service      (its Sockets=: adcraft-api.socket, adcraft-api-slow.socket),
  adcraft-worker.service,

each with exactly the command line, user, group, umask, environment and
credentials its installed unit file gives: ExecStart=, User=, Group=, UMask=,
Environment= (%d expanded), LoadCredential= copied into a private
$CREDENTIALS_DIRECTORY, StateDirectory= made and owned as systemd would,
ListenStream= sockets passed as LISTEN_FDS/LISTEN_PID/LISTEN_FDNAMES
(FileDescriptorName=) with the socket unit's owner and mode, NOTIFY_SOCKET and WATCHDOG_USEC (WatchdogSec=) on a datagram
socket of the test's, where READY=1 must arrive. nginx (workers as www-data)
serves the installed production site and snippets. Paths a package would have
(/usr/bin, /etc/adcraft, /etc/nginx/adcraft, /usr/share/adcraft, /var/lib/adcraft,
/run/adcraft, PostgreSQL's socket) are mapped into the test's tree; nothing
else in the files is changed. The sandboxing directives (ProtectSystem= and
the rest) are not emulated: test_install.py rates them.

Then, through nginx: /api/health is 200, one image uploaded by a user is served
under /media/ (nginx's workers are www-data, the API is adcraft_api: the
upload must not depend on reading nginx's temporary files), and one email of an
approved send reaches the SMTP server (maildev). On SIGTERM each master says
STOPPING=1 and exits 0. Needs root (users, setpriv).
"""

import grp
import os
import pwd
import re
import shlex
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time
import zlib

import pytest
import requests

from deploy_helpers import Unit, install, seconds
from helpers import SOURCE_DIR, _alive, free_ports, sanitizer_reports

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root: system users, setpriv, nginx user")

NCHAN = "/usr/lib/nginx/modules/ngx_nchan_module.so"
MAILDEV = os.path.join(SOURCE_DIR, "tests/smtp/node_modules/maildev/bin/maildev")
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
PASS_THROUGH = ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS")  # a sanitized build's settings


def png(width, height, seed):
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    rows = b"".join(b"\0" + bytes((seed + x + y) % 256 for x in range(width * 3)) for y in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b""))


class Deployment:
    def __init__(self):
        self.root = tempfile.mkdtemp(prefix="adcraft-deploy-", dir="/tmp")
        os.chmod(self.root, 0o755)
        self.port, self.api_tcp_port, self.pg_port, self.smtp_port, self.ui_port = free_ports(5)
        self.procs = {}  # name -> Popen
        self.notify = {}  # name -> datagram socket
        self.pg_env = dict(os.environ, ADCRAFT_DEV_DIR=self.p("dev"), ADCRAFT_DEV_PG_PORT=str(self.pg_port))
        self.pg_sock = self.p("dev", "pg-socket")

    def p(self, *parts):
        return os.path.join(self.root, *parts)

    def log(self, name):
        return self.p("log", name + ".log")

    # --- the operator's part ---------------------------------------------------
    def install(self):
        os.makedirs(self.p("log"))
        self.tree = install(self.p("dest"))
        t = self.tree
        t.add_map("/var/lib/adcraft", self.p("var/lib/adcraft"))
        t.add_map("/run/adcraft", self.p("run/adcraft"))
        t.add_map("/var/log/nginx/", self.p("log") + "/")
        t.add_map("/var/run/postgresql", f"{self.pg_sock} port={self.pg_port}")
        t.add_map("127.0.0.1:9001", f"127.0.0.1:{self.api_tcp_port}")
        self.etc = t.remap("/etc/adcraft/")
        self.nginx_dir = os.path.dirname(t.remap("/etc/nginx/adcraft/").rstrip("/"))

    def users_and_directories(self):
        users = self.tree.path(self.tree.prefix, "lib", "sysusers.d", "adcraft.conf")
        subprocess.run(["systemd-sysusers", users], check=True, timeout=30)
        text = open(self.tree.path(self.tree.prefix, "lib", "tmpfiles.d", "adcraft.conf")).read()
        mapped = self.p("tmpfiles.conf")
        with open(mapped, "w") as f:
            f.write(self.tree.remap(text))
        for line in open(mapped):  # everything it makes is in the test's tree
            assert line.startswith("#") or not line.strip() or line.split()[1].startswith(self.root), line
        subprocess.run(["systemd-tmpfiles", "--create", mapped], check=True, timeout=30)
        for d in ("var", "var/lib", "run"):
            os.chmod(self.p(d), 0o755)

    def secrets_and_config(self):
        os.makedirs(self.etc, mode=0o755, exist_ok=True)
        adcraft = self.tree.remap("/usr/bin/adcraft")
        for name in ("jwt", "edge", "export-link", "mail-token"):
            key = subprocess.run([adcraft, "gen-secret"], stdout=subprocess.PIPE, check=True, text=True).stdout
            path = os.path.join(self.etc, name + ".key")
            with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as f:
                f.write(key)
        edge = open(os.path.join(self.etc, "edge.key")).read().strip()
        nginx_secret = os.path.join(self.nginx_dir, "adcraft", "edge-secret.conf")
        with open(os.open(nginx_secret, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as f:
            f.write(f'fastcgi_param  ADCRAFT_EDGE_SECRET  "{edge}";\n')
        example = open(self.tree.remap("/usr/share/adcraft/adcraft.conf.example")).read()
        conf = self.tree.remap(example) + f"""
# ---- this deployment (the operator's edits; the defaults' paths mapped into the test's tree) ----
migrate_database_url = "host={self.pg_sock} port={self.pg_port} dbname=adcraft user=postgres"
processes = 2
worker_processes = 1
media_dir = {self.tree.remap("/var/lib/adcraft/media")}
exports_dir = {self.tree.remap("/var/lib/adcraft/exports")}
smtp_servers = smtp://127.0.0.1:{self.smtp_port} starttls=off
mail_from = news@adcraft.example
mail_public_base_url = http://127.0.0.1:{self.port}
"""
        with open(os.path.join(self.etc, "adcraft.conf"), "w") as f:
            f.write(conf)
        os.chmod(os.path.join(self.etc, "adcraft.conf"), 0o644)

    def postgres_and_smtp(self):
        assert os.path.exists(MAILDEV), "tests/smtp: run ./dev test or ./dev up once (npm ci) first"
        self.procs["maildev"] = subprocess.Popen(
            ["node", MAILDEV, "--smtp", str(self.smtp_port), "--web", str(self.ui_port), "--ip", "127.0.0.1",
             "--web-ip", "127.0.0.1", "--mail-directory", self.p("maildev")],
            stdout=open(self.log("maildev"), "ab"), stderr=subprocess.STDOUT, start_new_session=True)
        subprocess.run([os.path.join(SOURCE_DIR, "dev"), "pg", "start"], env=self.pg_env, check=True,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
        os.chmod(self.pg_sock, 0o2775)  # as Debian's /var/run/postgresql: every local user may connect
        deadline = time.monotonic() + 20
        while True:  # maildev listens on both ports once its web UI answers
            assert self.procs["maildev"].poll() is None, self.tail("maildev")
            try:
                if requests.get(f"http://127.0.0.1:{self.ui_port}/email", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                pass
            assert time.monotonic() < deadline, f"maildev not up within 20 s:\n{self.tail('maildev')}"
            time.sleep(0.1)

    # --- systemd's part ----------------------------------------------------------
    def unit(self, name):
        return Unit(os.path.join(self.tree.unitdir, name))

    def listen_sockets(self, socket_unit):
        """ListenStream= of the socket unit, bound, owned and moded as it says."""
        u = self.unit(socket_unit)
        mode = int(u.get("SocketMode", "0666", section="Socket"), 8)
        owner = pwd.getpwnam(u.get("SocketUser", "root", section="Socket")).pw_uid
        group = grp.getgrnam(u.get("SocketGroup", "root", section="Socket")).gr_gid
        socks = []
        for addr in u.all("ListenStream", section="Socket"):
            addr = self.tree.remap(addr)
            if addr.startswith("/"):
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.bind(addr)
                os.chown(addr, owner, group)
                os.chmod(addr, mode)
            else:
                host, port = addr.rsplit(":", 1)
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                s.bind((host, int(port)))
            s.listen(128)
            socks.append(s)
        return socks

    def service_sockets(self, service):
        """Sockets= of the service: every socket unit's sockets, in order, and their names
        (FileDescriptorName=, else the socket unit's name), as systemd passes them."""
        socks, names = [], []
        for unit in self.unit(service).get("Sockets").split():
            s = self.listen_sockets(unit)
            socks += s
            names += [self.unit(unit).get("FileDescriptorName", unit, section="Socket")] * len(s)
        return {"sockets": socks, "fdnames": names}

    def credentials(self, u, user):
        creds = self.p("credentials", u.name)
        os.makedirs(creds)
        for ident, path in u.credentials():
            dst = os.path.join(creds, ident)
            shutil.copyfile(self.tree.remap(path), dst)
            os.chown(dst, user.pw_uid, user.pw_gid)
            os.chmod(dst, 0o400)
        os.chown(creds, user.pw_uid, user.pw_gid)
        os.chmod(creds, 0o500)
        return creds

    def state_directories(self, u, user, group):
        mode = int(u.get("StateDirectoryMode", "0755"), 8)
        dirs = []
        for d in (u.get("StateDirectory") or "").split():
            path = self.p("var/lib", d)
            os.makedirs(path, exist_ok=True)
            os.chown(path, user.pw_uid, group.gr_gid)
            os.chmod(path, mode)
            dirs.append(path)
        return dirs

    def start(self, name, sockets=(), fdnames=()):
        """Starts NAME.service as its unit says; returns its Popen (oneshot: waited for)."""
        u = self.unit(name + ".service")
        user = pwd.getpwnam(u.get("User", "root"))
        group = grp.getgrnam(u.get("Group", user.pw_name))
        creds = self.credentials(u, user)
        env = {"PATH": SYSTEM_PATH, "LANG": "C.UTF-8", "USER": user.pw_name, "LOGNAME": user.pw_name,
               "HOME": user.pw_dir, "SHELL": user.pw_shell, "CREDENTIALS_DIRECTORY": creds}
        env.update(self.sanitizer_env())
        env.update(u.environment({"%d": creds}))
        env = {k: self.tree.remap(v) for k, v in env.items()}
        dirs = self.state_directories(u, user, group)
        if dirs:
            env["STATE_DIRECTORY"] = ":".join(dirs)
        if u.get("Type") == "notify":
            path = self.p(f"notify-{name}.sock")
            n = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            n.bind(path)
            os.chmod(path, 0o666)
            n.settimeout(0.2)
            self.notify[name] = n
            env["NOTIFY_SOCKET"] = path
            if u.get("WatchdogSec"):
                env["WATCHDOG_USEC"] = str(int(seconds(u.get("WatchdogSec")) * 1_000_000))
        argv = [self.tree.remap(a) for a in shlex.split(u.get("ExecStart"))]
        fds = list(range(3, 3 + len(sockets)))
        if sockets:
            env["LISTEN_FDS"] = str(len(sockets))
        if fdnames:
            env["LISTEN_FDNAMES"] = ":".join(fdnames)
        # setpriv: the unit's user, group and the user's groups, as systemd's User=/Group= give;
        # sh: the unit's UMask=, and LISTEN_PID, which must be the pid that execs the daemon.
        script = f'umask {u.get("UMask", "0022")}; [ -n "${{LISTEN_FDS:-}}" ] && export LISTEN_PID=$$; exec "$@"'
        cmd = ["setpriv", f"--reuid={user.pw_uid}", f"--regid={group.gr_gid}", "--init-groups", "--",
               "/bin/sh", "-c", script, "sh", *argv]

        def pass_sockets():
            for fd, s in zip(fds, sockets):
                os.dup2(s.fileno(), fd)
        proc = subprocess.Popen(cmd, env=env, cwd="/", stdin=subprocess.DEVNULL, stdout=open(self.log(name), "ab"),
                                stderr=subprocess.STDOUT, pass_fds=fds, preexec_fn=pass_sockets,
                                start_new_session=True)
        if u.get("Type") == "oneshot":
            assert proc.wait(timeout=120) == 0, f"{name} failed:\n{self.tail(name)}"
            return proc
        self.procs[name] = proc
        return proc

    def sanitizer_env(self):
        """A sanitized build's settings, with LeakSanitizer's suppressions file copied where the
        services' users can read it (the source tree may not be readable to them)."""
        env = {k: os.environ[k] for k in PASS_THROUGH if k in os.environ}
        opts = env.get("LSAN_OPTIONS", "").split(":")
        for i, opt in enumerate(opts):
            if opt.startswith("suppressions="):
                copy = self.p("lsan.supp")
                shutil.copyfile(opt[len("suppressions="):], copy)
                os.chmod(copy, 0o644)
                opts[i] = "suppressions=" + copy
        if "LSAN_OPTIONS" in env:
            env["LSAN_OPTIONS"] = ":".join(opts)
        return env

    def wait_notify(self, name, want, timeout=30):
        deadline = time.monotonic() + timeout
        got = []
        while time.monotonic() < deadline:
            assert self.procs[name].poll() is None, f"{name} exited:\n{self.tail(name)}"
            try:
                msg = self.notify[name].recv(4096).decode()
            except socket.timeout:
                continue
            got.append(msg)
            if want in msg.split("\n"):
                return got
        raise AssertionError(f"{name}: no {want} within {timeout}s (got {got}):\n{self.tail(name)}")

    def nginx(self):
        site = self.tree.remap(open(self.tree.remap("/etc/nginx/adcraft/adcraft.conf")).read())
        # the site's plain-HTTP listener on the test's port (IPv6 dropped: not every CI host has it)
        site = re.sub(r"listen\s+\[::\]:80\b[^;]*;", "", site)
        site, n = re.subn(r"listen\s+(0\.0\.0\.0:)?80\b[^;]*;", f"listen 127.0.0.1:{self.port};", site)
        assert n >= 1, "the installed site has no `listen 80` server"
        os.makedirs(os.path.join(self.nginx_dir, "sites-enabled"))
        with open(os.path.join(self.nginx_dir, "sites-enabled", "adcraft.conf"), "w") as f:
            f.write(site)
        os.makedirs(self.p("nginx-temp"))
        conf = os.path.join(self.nginx_dir, "nginx.conf")
        with open(conf, "w") as f:
            f.write(f"""# Debian's /etc/nginx/nginx.conf, reduced to what the site needs
user www-data;
worker_processes 1;
pid {self.p('run', 'nginx.pid')};
load_module {NCHAN};
events {{ worker_connections 256; }}
http {{
    include /etc/nginx/mime.types;
    client_body_temp_path {self.p('nginx-temp', 'body')};
    proxy_temp_path {self.p('nginx-temp', 'proxy')};
    fastcgi_temp_path {self.p('nginx-temp', 'fastcgi')};
    uwsgi_temp_path {self.p('nginx-temp', 'uwsgi')};
    scgi_temp_path {self.p('nginx-temp', 'scgi')};
    include {self.nginx_dir}/sites-enabled/*;
}}
""")
        cmd = ["nginx", "-p", self.nginx_dir + "/", "-c", conf, "-e", self.log("nginx-error")]
        p = subprocess.run(cmd + ["-t", "-q"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        assert p.returncode == 0, p.stdout
        subprocess.run(cmd, check=True, timeout=30)

    # --- checks and teardown -------------------------------------------------------
    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def tail(self, name, n=40):
        try:
            return "\n".join(open(self.log(name), errors="replace").read().splitlines()[-n:])
        except OSError as e:
            return str(e)

    def stop(self):
        errors = []
        for name in ("adcraft-api", "adcraft-worker"):
            proc = self.procs.pop(name, None)
            if proc and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    self.wait_notify_after_exit(name, proc)
                except AssertionError as e:
                    errors.append(str(e))
                try:
                    rc = proc.wait(timeout=15)
                    if rc != 0:
                        errors.append(f"{name} exited {rc} on SIGTERM:\n{self.tail(name)}")
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    errors.append(f"{name} did not stop within 15 s")
        try:
            pid = int(open(self.p("run", "nginx.pid")).read())
            os.kill(pid, signal.SIGQUIT)
            for _ in range(100):
                if not _alive(pid):  # a zombie counts as gone: init may reap it late
                    break
                time.sleep(0.05)
        except (OSError, ValueError):
            pass
        proc = self.procs.pop("maildev", None)
        if proc:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=10)
        subprocess.run([os.path.join(SOURCE_DIR, "dev"), "pg", "stop"], env=self.pg_env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120)
        for name in ("adcraft-api", "adcraft-worker", "adcraft-migrate"):
            for report in sanitizer_reports(self.log(name)):
                errors.append(f"sanitizer report in {name}.log:\n{report}")
        return errors

    def wait_notify_after_exit(self, name, proc):
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                if "STOPPING=1" in self.notify[name].recv(4096).decode().split("\n"):
                    return
            except socket.timeout:
                if proc.poll() is not None:
                    break
        raise AssertionError(f"{name}: no STOPPING=1 on SIGTERM")


@pytest.fixture(scope="module")
def deployment():
    d = Deployment()
    errors = []
    try:
        d.install()
        d.users_and_directories()
        d.secrets_and_config()
        d.postgres_and_smtp()
        yield d
    finally:
        errors = d.stop()
        if os.environ.get("ADCRAFT_TEST_KEEP") != "1":
            shutil.rmtree(d.root, ignore_errors=True)
    assert not errors, "\n".join(errors)


def test_migrate_api_worker_start_from_the_tree_and_say_ready(deployment):
    d = deployment
    d.start("adcraft-migrate")
    assert "migrations:" in d.tail("adcraft-migrate"), d.tail("adcraft-migrate")
    d.start("adcraft-api", **d.service_sockets("adcraft-api.service"))
    d.start("adcraft-worker")
    for name in ("adcraft-api", "adcraft-worker"):
        d.wait_notify(name, "READY=1")
        # WatchdogSec= asks for pings; the master's loop sends the first at once, then every 15 s
        d.wait_notify(name, "WATCHDOG=1", timeout=5)
    # the socket named "slow" (FileDescriptorName=, LISTEN_FDNAMES) has its own pool
    assert "in 2 pools" in d.tail("adcraft-api"), d.tail("adcraft-api")
    # the processes run as the units' users; the worker got no JWT key
    for name, user in (("adcraft-api", "adcraft_api"), ("adcraft-worker", "adcraft_worker")):
        st = os.stat(f"/proc/{d.procs[name].pid}")
        assert st.st_uid == pwd.getpwnam(user).pw_uid, name
    assert os.listdir(d.p("credentials", "adcraft-worker.service")) == ["mail-token.key"]
    d.nginx()


def test_health_through_nginx(deployment):
    d = deployment
    r = None
    for _ in range(100):
        r = requests.get(d.url("/api/health"), timeout=5)
        if r.status_code == 200:
            break
        time.sleep(0.1)
    assert r.status_code == 200 and r.json()["database"] == "ok", r.text


def test_reload_reads_the_credentials_again_and_says_ready(deployment):
    d = deployment
    d.procs["adcraft-api"].send_signal(signal.SIGHUP)  # ExecReload=/bin/kill -HUP $MAINPID
    got = d.wait_notify("adcraft-api", "READY=1", timeout=15)
    assert any("RELOADING=1" in m.split("\n") for m in got), got
    assert "reloaded; generation 2" in d.tail("adcraft-api"), d.tail("adcraft-api")
    assert requests.get(d.url("/api/health"), timeout=5).status_code == 200


def register(d):
    r = requests.post(d.url("/api/auth/register"), json={"email": "ops@adcraft.example",
                                                        "password": "correct horse battery staple",
                                                        "name": "Ops"}, timeout=10)
    assert r.status_code == 201, r.text
    return {"Authorization": f"Bearer {r.json()['accessToken']}"}


@pytest.fixture(scope="module")
def auth(deployment):
    return register(deployment)


def test_an_uploaded_image_is_served_under_media(deployment, auth):
    d = deployment
    data = png(64, 48, 7)
    r = requests.post(d.url("/api/assets"), files={"file": ("deploy.png", data, "image/png")}, headers=auth,
                      timeout=30)
    assert r.status_code == 201, f"{r.status_code} {r.text}\n{d.tail('adcraft-api')}"
    asset = r.json()
    served = requests.get(d.url(asset["url"]), timeout=10)
    assert served.status_code == 200, (asset["url"], served.status_code)
    assert served.headers["Content-Type"] == "image/png" and served.content[:8] == b"\x89PNG\r\n\x1a\n"
    path = os.path.join(d.p("var/lib/adcraft/media"), asset["url"][len("/media/"):])
    st = os.stat(path)
    assert st.st_uid == pwd.getpwnam("adcraft_api").pw_uid and st.st_gid == grp.getgrnam("adcraft").gr_gid


def test_one_email_reaches_the_smtp_server(deployment, auth):
    d = deployment

    def ok(method, path, body=None, status=200):
        r = requests.request(method, d.url(path), json=body, headers=auth, timeout=30)
        assert r.status_code == status, (method, path, r.status_code, r.text)
        return r.json()
    c = ok("POST", "/api/campaigns", {"name": "Deploy check", "objective": "awareness"}, 201)
    item = ok("POST", f"/api/campaigns/{c['id']}/content", {
        "contentType": "email", "platform": "email", "subjectLine": "Deployed, {{firstName}}",
        "preheader": "One message from the installed tree, through the worker.",
        "contentBody": "Hi {{firstName}}, this message left adcraft-worker as installed by meson.",
        "callToAction": "Read more"}, 201)
    lst = ok("POST", "/api/lists", {"name": "Deploy"}, 201)
    con = ok("POST", "/api/contacts", {"email": "ann@example.com", "firstName": "Ann", "lastName": "Lee"}, 201)
    ok("POST", f"/api/lists/{lst['id']}/members", {"contactIds": [con["id"]]})
    send = ok("POST", f"/api/campaigns/{c['id']}/sends", {"contentId": item["id"], "listId": lst["id"]}, 201)
    ok("POST", f"/api/sends/{send['id']}/approve")
    mails = []
    for _ in range(200):
        mails = requests.get(f"http://127.0.0.1:{d.ui_port}/email", timeout=10).json()
        if mails:
            break
        time.sleep(0.1)
    assert len(mails) == 1, f"{mails}\n{d.tail('adcraft-worker')}"
    assert mails[0]["subject"] == "Deployed, Ann" and mails[0]["to"][0]["address"] == "ann@example.com"
