#!/usr/bin/env bash
# Installs the Node-based tools the tests and `make diagrams` use into .tools/ (git-ignored).
# Without npm it explains what is missing and exits 0: the tests that need the tool skip
# locally with that reason (in CI, CI=true turns a missing tool into a failure).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v npm >/dev/null 2>&1; then
  echo "note: npm not found; diagram rendering tests will skip (install Node.js 20+ and npm)" >&2
  exit 0
fi
if [ -x .tools/node_modules/.bin/mmdc ]; then
  exit 0
fi
mkdir -p .tools
echo "installing @mermaid-js/mermaid-cli@11 into .tools/ (no browser download; uses /usr/bin/chromium)" >&2
PUPPETEER_SKIP_DOWNLOAD=1 npm install --prefix .tools --no-audit --no-fund --loglevel=error @mermaid-js/mermaid-cli@11 >&2
