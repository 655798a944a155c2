#!/usr/bin/python3
"""Counts the test cases of the last `meson test` run in one or more build
directories, plus fuzzing results; `./dev test` prints this.

Usage: tests/summary.py BUILD_DIR... [--fuzz RESULTS_DIR] [--failed WHAT]...

  --fuzz DIR    ./dev fuzz's results: DIR/<target>.json, each one case
                (passed when the target ran its time and found nothing)
  --failed WHAT one failed case that no file shows (e.g. a build that failed)

Sources in each BUILD_DIR, all written by that run:
  BUILD_DIR/meson-logs/testlog.json        one line per meson test: name, result, command
  BUILD_DIR/meson-logs/testlog.junit.xml   meson's junit: TAP subtests appear as testcases
  BUILD_DIR/pytest-junit/*.xml             pytest's own junit, one file per pytest meson test

Every meson test counts once, through exactly one source:
  - a pytest run (its command mentions pytest, or a junit file of its name
    exists): the testcases of its pytest junit file. With no such file
    (pytest crashed or was killed) it counts as 1 failed, or 1 passed if meson
    says it passed;
  - a TAP test: its subtests from meson's junit;
  - anything else: 1.
A meson test that failed (FAIL, TIMEOUT, ERROR, ...) while none of its cases
failed (a crash after the last subtest, a bad exit status) adds 1 failed.
Skipped cases and tests count neither way.

The last line printed is exactly "N passed, N failed". Exit status 0 only if
nothing failed and at least one case passed.
"""

import json
import os
import re
import sys
import xml.etree.ElementTree as ET

BAD = {"FAIL", "TIMEOUT", "INTERRUPT", "UNEXPECTEDPASS", "ERROR"}
JUNIT_ARG = re.compile(r"^--junit-?xml(?:=(.*))?$")


def load_testlog(path):
    tests = []
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    tests.append(json.loads(line))
    except FileNotFoundError:
        pass
    return tests


def case_outcome(case):
    """'failed', 'skipped' or 'passed' for one junit <testcase>."""
    tags = {child.tag for child in case}
    if tags & {"failure", "error"}:
        return "failed"
    if "skipped" in tags:
        return "skipped"
    return "passed"


def count_cases(cases):
    passed, failed, failed_names = 0, 0, []
    for case in cases:
        outcome = case_outcome(case)
        if outcome == "passed":
            passed += 1
        elif outcome == "failed":
            failed += 1
            cls = case.get("classname", "")
            failed_names.append(f"{cls}::{case.get('name', '?')}" if cls else case.get("name", "?"))
    return passed, failed, failed_names


def is_pytest(command):
    for i, arg in enumerate(command):
        base = os.path.basename(arg)
        if base in ("pytest", "pytest-3", "py.test") or base.startswith("pytest-3."):
            return True
        if arg == "pytest" and i > 0 and command[i - 1] == "-m":
            return True
    return False


def junit_path(test, build_dir):
    """The pytest junit file of a meson test, from its command, else by name."""
    command = test.get("command") or []
    for i, arg in enumerate(command):
        m = JUNIT_ARG.match(arg)
        if m:
            path = m.group(1) if m.group(1) is not None else (
                command[i + 1] if i + 1 < len(command) else None)
            if path:
                return path if os.path.isabs(path) else os.path.join(build_dir, path)
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", test["name"])
    for name in (test["name"], safe):
        path = os.path.join(build_dir, "pytest-junit", name + ".xml")
        if os.path.exists(path):
            return path
    return None


def parse_args(argv):
    build_dirs, fuzz_dirs, failed = [], [], []
    i = 0
    while i < len(argv):
        if argv[i] in ("--fuzz", "--failed") and i + 1 < len(argv):
            (fuzz_dirs if argv[i] == "--fuzz" else failed).append(argv[i + 1])
            i += 2
        elif argv[i].startswith("--"):
            return None
        else:
            build_dirs.append(os.path.abspath(argv[i]))
            i += 1
    if not (build_dirs or fuzz_dirs or failed):
        return None
    return build_dirs, fuzz_dirs, failed


def fuzz_rows(results_dir):
    """(name, result, source, passed, failed) per fuzz target, and failure lines."""
    rows, failures = [], []
    try:
        names = sorted(n for n in os.listdir(results_dir) if n.endswith(".json"))
    except FileNotFoundError:
        names = []
    if not names:
        return [("fuzz", "ERROR", "no results", 0, 1)], [f"fuzz: no results in {results_dir}"]
    for name in names:
        try:
            with open(os.path.join(results_dir, name), encoding="utf-8") as f:
                r = json.load(f)
        except (OSError, ValueError):
            r = {"target": name[:-5], "result": "unreadable", "executions": 0}
        ok = r.get("result") == "ok"
        label = f"fuzz-{r.get('target')}"
        rows.append((label, "OK" if ok else "FAIL", f"{r.get('executions', 0)} executions", int(ok), int(not ok)))
        if not ok:
            failures.append(f"{label}: {r.get('result')} {r.get('artifact') or ''}".rstrip())
    return rows, failures


def build_rows(build_dir, prefix):
    """(name, result, source, passed, failed) per meson test of one build dir, and failure lines."""
    logs = os.path.join(build_dir, "meson-logs")
    tests = load_testlog(os.path.join(logs, "testlog.json"))

    meson_suites = {}
    try:
        for suite in ET.parse(os.path.join(logs, "testlog.junit.xml")).getroot().iter("testsuite"):
            meson_suites[suite.get("name")] = suite.findall("testcase")
    except (FileNotFoundError, ET.ParseError):
        pass
    project = "adcraft"
    try:
        with open(os.path.join(build_dir, "meson-info", "intro-projectinfo.json")) as f:
            project = json.load(f).get("descriptive_name") or project
    except (OSError, ValueError):
        pass

    failures = []
    rows = []
    for test in tests:
        name, result = test["name"], test.get("result", "?")
        command = test.get("command") or []
        jpath = junit_path(test, build_dir)
        passed = failed = 0
        cases = []
        if result == "SKIP":
            source = "skipped"
        elif (jpath and os.path.exists(jpath)) or is_pytest(command):
            counted = None
            if jpath and os.path.exists(jpath):
                try:
                    counted = count_cases(ET.parse(jpath).getroot().iter("testcase"))
                except ET.ParseError:
                    pass
            if counted is not None:
                source = "pytest"
                passed, failed, cases = counted
            else:
                source = "pytest, no junit"
                passed, failed = (1, 0) if result == "OK" else (0, 1)
        elif f"{project}.{name}" in meson_suites:
            source = "tap"
            passed, failed, cases = count_cases(meson_suites[f"{project}.{name}"])
        else:
            source = "exit status"
            passed, failed = (0, 1) if result in BAD else (1, 0)
        if result in BAD and failed == 0:
            failed = 1
        name = prefix + name
        if failed:
            failures += [f"{name}: {c}" for c in cases] or [f"{name} (meson: {result})"]
        rows.append((name, result, source, passed, failed))
    return rows, failures


def main():
    args = parse_args(sys.argv[1:])
    if args is None:
        print(__doc__.strip().splitlines()[3], file=sys.stderr)
        return 2
    build_dirs, fuzz_dirs, failed_parts = args
    rows, failures = [], []
    for build_dir in build_dirs:
        prefix = os.path.basename(build_dir) + ": " if len(build_dirs) + len(fuzz_dirs) > 1 else ""
        r, f = build_rows(build_dir, prefix)
        rows += r
        failures += f
    for results_dir in fuzz_dirs:
        r, f = fuzz_rows(results_dir)
        rows += r
        failures += f
    for what in failed_parts:
        rows.append((what, "FAIL", "reported by ./dev", 0, 1))
        failures.append(what)
    total_passed = sum(r[3] for r in rows)
    total_failed = sum(r[4] for r in rows)

    print()
    print("Test summary (test cases)")
    if rows:
        width = max(len(r[0]) for r in rows)
        for name, result, source, passed, failed in rows:
            print(f"  {name:<{width}}  {result:<8} {passed:>5} passed {failed:>4} failed  ({source})")
    else:
        print("  no meson test ran")
    if failures:
        print("Failed:")
        for f in failures[:100]:
            print(f"  {f}")
        if len(failures) > 100:
            print(f"  ... and {len(failures) - 100} more")
    print(f"{total_passed} passed, {total_failed} failed")
    return 0 if total_failed == 0 and total_passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
