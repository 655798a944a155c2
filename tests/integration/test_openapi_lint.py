"""docs/openapi.yaml passes `redocly lint` (@redocly/cli, pinned in
tests/openapi/package-lock.json, installed by ./dev test) with the recommended
ruleset: zero errors and zero warnings. The configuration and the few
locations a rule does not apply to (each with its reason) are in
tests/openapi/redocly.yaml and tests/openapi/.redocly.lint-ignore.yaml.

Without node or tests/openapi/node_modules the test skips, except under CI
(CI=true), where it fails. No stack: it starts no server.
"""

import json
import os
import shutil
import subprocess

import pytest

from helpers import SOURCE_DIR

OPENAPI_DIR = os.path.join(SOURCE_DIR, "tests", "openapi")
REDOCLY = os.path.join(OPENAPI_DIR, "node_modules", ".bin", "redocly")


def under_ci():
    return os.environ.get("CI", "") not in ("", "false", "0")


def test_openapi_lint_has_no_errors_and_no_warnings():
    why = []
    if shutil.which("node") is None:
        why.append("no node on PATH")
    if not os.access(REDOCLY, os.X_OK):
        why.append(f"{REDOCLY} is missing (./dev test runs npm ci in tests/openapi)")
    if why:
        if under_ci():
            pytest.fail("the OpenAPI lint cannot run under CI: " + "; ".join(why), pytrace=False)
        pytest.skip("; ".join(why))
    p = subprocess.run([REDOCLY, "lint", "docs/openapi.yaml",
                        "--config", os.path.join(OPENAPI_DIR, "redocly.yaml"), "--format=json"],
                       cwd=SOURCE_DIR, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=120, env=dict(os.environ, REDOCLY_TELEMETRY="off",
                                             REDOCLY_SUPPRESS_UPDATE_NOTICE="true"))
    try:
        report = json.loads(p.stdout)
    except ValueError:
        pytest.fail(f"redocly lint exited {p.returncode} without a JSON report:\n"
                    f"{p.stdout.decode(errors='replace')[-2000:]}\n{p.stderr.decode(errors='replace')[-2000:]}")
    problems = [f"{x['severity']} {x['ruleId']}: {x['message']} at "
                f"{', '.join(loc.get('pointer', '?') for loc in x.get('location', []))}"
                for x in report.get("problems", [])]
    totals = report["totals"]
    assert totals["errors"] == 0 and totals["warnings"] == 0 and not problems, \
        f"redocly lint docs/openapi.yaml: {totals}\n" + "\n".join(problems)
    assert p.returncode == 0, p.stderr.decode(errors="replace")[-2000:]
