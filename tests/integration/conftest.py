"""pytest fixtures: a fresh dev stack (PostgreSQL + adcraft-api + nginx) per session.

`stack` is session-scoped and shared by the well-behaved tests; a module that
breaks things (stops PostgreSQL, kills children, needs other limits) overrides
`stack` with its own module-scoped one via `Stack.start(...)`.
Set ADCRAFT_TEST_KEEP=1 to keep the temp dirs (logs) after the run.
"""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from helpers import BUILD_DIR, RELAXED_LIMITS, Stack  # noqa: E402


def pytest_sessionstart(session):
    api = os.path.join(BUILD_DIR, "adcraft-api")
    if not os.access(api, os.X_OK):
        pytest.exit(f"{api} not built (set ADCRAFT_BUILD_DIR or run ninja)", returncode=1)


@pytest.fixture(scope="session")
def stack():
    with Stack.start(RELAXED_LIMITS) as s:
        yield s


@pytest.fixture
def api(stack):
    return stack.api


@pytest.fixture
def register_user(stack):
    return stack.register_user


@pytest.fixture
def db(stack):
    conn = stack.db()
    yield conn
    conn.close()


@pytest.fixture
def base_url(stack):
    return stack.base_url


@pytest.fixture
def api_pid_file(stack):
    return stack.api_pid_file


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """On failure, attach the tails of the stack's logs to the report."""
    outcome = yield
    rep = outcome.get_result()
    if rep.when == "call" and rep.failed:
        s = item.funcargs.get("stack")
        if isinstance(s, Stack):
            rep.sections.append(("adcraft stack logs", s.diagnostics()))
