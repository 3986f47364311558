#!/usr/bin/env bash
# Before `npm start`: npm modules and the UI bundle, if missing (no root needed).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "== installing npm modules (npm ci)"
  npm ci --no-audit --no-fund
fi
if [ -f renderer/vite.config.ts ] && [ ! -f renderer/dist/index.html ]; then
  echo "== building the UI"
  npm run --silent build:ui
fi
