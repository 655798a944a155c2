#!/usr/bin/env bash
# bench/sending.sh: personalised email delivery through the email-sending queue (see sending.py).
# Environment: SEND_MESSAGES (10000), SEND_BASELINE (3000), ADCRAFT_BUILD_DIR.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
[ -x "${ADCRAFT_BUILD_DIR:-build}/adcraft-worker" ] || { meson setup "${ADCRAFT_BUILD_DIR:-build}" >/dev/null && ninja -C "${ADCRAFT_BUILD_DIR:-build}" >/dev/null; }
[ -d tests/smtp/node_modules/smtp-server ] || (cd tests/smtp && npm ci --silent)
exec /usr/bin/python3 bench/sending.py "$@"
