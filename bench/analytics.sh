#!/usr/bin/env bash
# bench/analytics.sh: analytics ingestion vs COPY, rollup lag, report latency (see analytics.py).
# Environment: ANALYTICS_EVENTS (1000000), ANALYTICS_CLIENTS (4), ANALYTICS_REPORTS (100),
# ADCRAFT_DEV_PROCESSES (4), ADCRAFT_BUILD_DIR.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
[ -x "${ADCRAFT_BUILD_DIR:-build}/adcraft-worker" ] || { meson setup "${ADCRAFT_BUILD_DIR:-build}" >/dev/null && ninja -C "${ADCRAFT_BUILD_DIR:-build}" >/dev/null; }
exec /usr/bin/python3 bench/analytics.py "$@"
