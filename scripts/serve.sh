#!/usr/bin/env bash
# Serve epigrid and its background worker together; stopping one (Ctrl-C) stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT="${PORT:-8000}"
.venv/bin/epigrid worker --only-worker &
worker=$!
trap 'kill "$worker" 2>/dev/null || true' EXIT INT TERM
echo "epigrid: serving http://127.0.0.1:${PORT}/ (worker pid ${worker}); Ctrl-C stops both"
.venv/bin/gunicorn epigrid.wsgi --config gunicorn.conf.py --bind "127.0.0.1:${PORT}" --access-logfile - --log-level warning
