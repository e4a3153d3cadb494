#!/usr/bin/env bash
# Installs the Node-based tools the tests and `make diagrams` use into .tools/ (git-ignored).
# npm comes from scripts/install-system-deps.sh (`make test` runs it first); without npm this
# stops with what to do.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v npm >/dev/null 2>&1; then
  echo "install-tools: npm not found: run scripts/install-system-deps.sh (apt-get install -y nodejs npm)" >&2
  exit 1
fi
if [ -x .tools/node_modules/.bin/mmdc ]; then
  exit 0
fi
mkdir -p .tools
echo "installing @mermaid-js/mermaid-cli@11 into .tools/ (no browser download; uses /usr/bin/chromium)" >&2
PUPPETEER_SKIP_DOWNLOAD=1 npm install --prefix .tools --no-audit --no-fund --loglevel=error @mermaid-js/mermaid-cli@11 >&2
