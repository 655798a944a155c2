#!/usr/bin/env bash
# bench/generation.sh: generation wall time, sync latency and worker memory (see generation.py).
# Environment: GEN_LATENCY_MS (500), GEN_ROUNDS (5), GEN_SYNC_REQUESTS (300), ADCRAFT_BUILD_DIR.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
[ -x "${ADCRAFT_BUILD_DIR:-build}/adcraft-worker" ] || { meson setup "${ADCRAFT_BUILD_DIR:-build}" >/dev/null && ninja -C "${ADCRAFT_BUILD_DIR:-build}" >/dev/null; }
exec /usr/bin/python3 bench/generation.py "$@"
