"""The installed tree and its systemd units, for test_install.py and test_deploy.py.

`install(destdir)` runs `meson install --destdir` on the build under test and
says where things went. `Unit` reads an installed unit file the way systemd
does for the keys the tests need (sections, repeated keys, `Environment=`
quoting). `Layout.remap()` turns the absolute paths a unit or the nginx site
names (written for a package installed with prefix /usr, sysconfdir /etc) into
paths of the test's tree: the installed files under destdir, the state and
runtime directories under the test's own root. Nothing else is rewritten.
"""

import json
import os
import shlex
import subprocess

from helpers import BUILD_DIR, SOURCE_DIR


class Layout:
    def __init__(self, destdir, options):
        self.destdir = destdir
        self.prefix = options["prefix"]
        self.sysconfdir = os.path.join(self.prefix, options["sysconfdir"])  # absolute stays absolute
        self.bindir = os.path.join(self.prefix, options["bindir"])
        self.datadir = os.path.join(self.prefix, options["datadir"])
        self.maps = []  # (system path prefix, test path prefix), longest first

    def path(self, *parts):
        """An installed path (absolute, as meson names it) inside destdir."""
        return os.path.join(self.destdir, os.path.join(*parts).lstrip("/"))

    @property
    def unitdir(self):
        return self.path(self.prefix, "lib", "systemd", "system")

    def add_map(self, system, test):
        self.maps.append((system, test))
        self.maps.sort(key=lambda m: -len(m[0]))

    def install_maps(self):
        """Where a package's paths are in this tree."""
        self.add_map("/usr/bin/", self.path(self.bindir) + "/")
        self.add_map("/usr/share/adcraft/", self.path(self.datadir, "adcraft") + "/")
        self.add_map("/etc/adcraft/", self.path(self.sysconfdir, "adcraft") + "/")
        self.add_map("/etc/nginx/adcraft/", self.path(self.sysconfdir, "nginx", "adcraft") + "/")

    def remap(self, text):
        out, i = [], 0
        while i < len(text):
            for system, test in self.maps:
                if text.startswith(system, i):
                    out.append(test)
                    i += len(system)
                    break
            else:
                out.append(text[i])
                i += 1
        return "".join(out)


def build_options():
    p = subprocess.run(["meson", "introspect", BUILD_DIR, "--buildoptions"], stdout=subprocess.PIPE,
                       check=True, text=True)
    return {o["name"]: o["value"] for o in json.loads(p.stdout)}


def install(destdir):
    """meson install into destdir (no rebuild: the suite runs on a built tree)."""
    p = subprocess.run(["meson", "install", "-C", BUILD_DIR, "--destdir", destdir, "--no-rebuild",
                        "--quiet"], cwd=SOURCE_DIR, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, timeout=120)
    assert p.returncode == 0, p.stdout
    layout = Layout(destdir, build_options())
    layout.install_maps()
    return layout


class Unit:
    """A unit file: {section: [(key, value), ...]} in file order."""

    def __init__(self, path):
        self.path = path
        self.name = os.path.basename(path)
        self.sections = {}
        section = None
        with open(path) as f:
            lines = f.read().split("\n")
        i = 0
        while i < len(lines):
            line = lines[i].strip()
            i += 1
            while line.endswith("\\") and i < len(lines):  # continuation lines
                line = line[:-1] + " " + lines[i].strip()
                i += 1
            if not line or line[0] in "#;":
                continue
            if line.startswith("[") and line.endswith("]"):
                section = line[1:-1]
                self.sections.setdefault(section, [])
                continue
            assert section, f"{path}: assignment outside a section: {line}"
            key, _, value = line.partition("=")
            self.sections[section].append((key.strip(), value.strip()))

    def all(self, key, section="Service"):
        """Every value of key; an empty assignment resets the list, as systemd does."""
        values = []
        for k, v in self.sections.get(section, []):
            if k == key:
                values = [] if v == "" else values + [v]
        return values

    def get(self, key, default=None, section="Service"):
        values = self.all(key, section)
        return values[-1] if values else default

    def environment(self, specifiers):
        """Environment= as systemd reads it: space-separated assignments, double quotes
        around one; specifiers (%d) expanded."""
        env = {}
        for value in self.all("Environment"):
            for word in shlex.split(value):
                for spec, repl in specifiers.items():
                    word = word.replace(spec, repl)
                k, _, v = word.partition("=")
                env[k] = v
        return env

    def credentials(self):
        """LoadCredential=ID:PATH as [(id, path)]."""
        return [tuple(v.split(":", 1)) for v in self.all("LoadCredential")]


def seconds(value):
    """A systemd time span in the forms the units use: 30s, 15, 2min, 500ms."""
    for suffix, factor in (("ms", 0.001), ("min", 60), ("s", 1)):
        if value.endswith(suffix):
            return float(value[:-len(suffix)]) * factor
    return float(value)
