"""pytest set-up for the abuse tests: the integration suite's harness, reused.

tests/integration goes onto sys.path (so `helpers`, `campaign_helpers`,
`generation_helpers` and `jobs_helpers` import as they do there) and its
conftest's fixtures and hooks are re-exported here: each file of this
directory starts its own real stack (PostgreSQL, adcraft-api, adcraft-worker,
nginx with nchan) exactly as an integration test file does.
"""

import importlib.util
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
INTEGRATION = os.path.join(os.path.dirname(HERE), "integration")
sys.path.insert(0, HERE)
sys.path.insert(0, INTEGRATION)


def _load_integration_conftest():
    # Loaded under its own name: both files are "conftest" to pytest.
    spec = importlib.util.spec_from_file_location("integration_conftest",
                                                  os.path.join(INTEGRATION, "conftest.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


_it = _load_integration_conftest()

pytest_sessionstart = _it.pytest_sessionstart
pytest_runtest_makereport = _it.pytest_runtest_makereport
stack = _it.stack
fake = _it.fake
api = _it.api
register_user = _it.register_user
db = _it.db
base_url = _it.base_url
api_pid_file = _it.api_pid_file
