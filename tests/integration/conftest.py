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

import contract  # noqa: E402
from helpers import BUILD_DIR, RELAXED_LIMITS, Stack  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def pytest_sessionstart(session):
    api = os.path.join(BUILD_DIR, "adcraft-api")
    if not os.access(api, os.X_OK):
        pytest.exit(f"{api} not built (set ADCRAFT_BUILD_DIR or run ninja)", returncode=1)


@pytest.fixture(scope="session")
def stack():
    with Stack.start(RELAXED_LIMITS) as s:
        yield s


@pytest.fixture(scope="module")
def fake():
    """The fake OpenAI-compatible LLM (generation_helpers.FakeLLM), one per test file;
    a file starts its stack with fake.env() to use it."""
    from generation_helpers import FakeLLM
    f = FakeLLM()
    yield f
    f.stop()


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


def pytest_collection_modifyitems(session, config, items):
    """The OpenAPI contract (contract.py) is checked when every test collected
    is one of this directory's (the security suite, which reuses this file,
    probes with requests outside the contract on purpose)."""
    contract.active = bool(items) and all(
        os.path.dirname(str(item.fspath)) == HERE for item in items)


def pytest_terminal_summary(terminalreporter):
    if contract.active and contract.stats["responses"]:
        terminalreporter.write_line(
            "openapi contract: {responses} responses checked in {seconds:.3f} s".format(**contract.stats))


@pytest.fixture(autouse=True)
def _openapi_contract():
    """Every response Stack.api receives is checked against docs/openapi.yaml
    (contract.py): a violation fails the test that made the request, at the
    request, or at the test's end when another thread made it."""
    contract.take_pending()
    yield
    pending = contract.take_pending()
    if pending:
        pytest.fail(f"{len(pending)} response(s) broke the contract:\n" + "\n".join(pending[:10]),
                    pytrace=False)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """On failure, attach the tails of the stack's logs to the report."""
    outcome = yield
    rep = outcome.get_result()
    if rep.when == "call" and rep.failed:
        s = item.funcargs.get("stack")
        if isinstance(s, Stack):
            rep.sections.append(("adcraft stack logs", s.diagnostics()))
