#!/usr/bin/env bash
# Build, check, test and package the VS Code extension (vscode-client/dist/harness-ls.vsix).
# Called by .ci/run and `make vsix`. Steps: npm ci, tsc --noEmit, eslint, esbuild bundle, node:test
# unit tests, the server bundle (scripts/bundle_server.py: wheels into bundled/), vsce package,
# protocol tests (the bundle installed as on first start; the real harness-ls), and - with
# HARNESS_E2E_VSCODE=1 - the end-to-end test in a real VS Code (code-server + chromium).
# Env: HARNESS_LS_COMMAND (server for the protocol test; default: the repo's .venv/bin/harness-ls,
# else whatever the extension's launcher finds), PYTHON (for the e2e; default the repo's .venv).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
repo="$(cd "$here/.." && pwd)"
cd "$here"
export npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "ci.sh: node and npm are required (Node >= 20); install them (e.g. apt-get install nodejs npm)" >&2
  exit 2
fi
node_major="$(node -p 'process.versions.node.split(".")[0]')"
if [ "$node_major" -lt 20 ]; then
  echo "ci.sh: Node >= 20 is required, found $(node --version)" >&2
  exit 2
fi

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
secs() { local ms=$(( $(now_ms) - $1 )); printf '%d.%01ds' $(( ms / 1000 )) $(( ms % 1000 / 100 )); }
total_start=$(now_ms)
step() {
  local name="$1"; shift
  local t0; t0=$(now_ms)
  echo "== ci.sh: $name"
  "$@"
  echo "ci.sh: $name done in $(secs "$t0")"
}

step "npm ci" npm ci --no-audit --no-fund --prefer-offline --loglevel=error
step "approval types current" python3 scripts/gen_approval_types.py --check
step "tsc --noEmit" npx --no-install tsc --noEmit -p .
step "eslint" npx --no-install eslint --max-warnings 0 .
step "esbuild bundle" node scripts/build.mjs
rm -rf out
step "compile tests" npx --no-install tsc -p tsconfig.test.json
step "unit tests" node --test out/test/unit/
# The server goes inside the .vsix: harness-ls's wheel and its runtime dependencies' wheels
# (scripts/bundle_server.py), installed into a venv on first start; no PyPI package needed.
bundle_py="${PYTHON:-}"
if [ -z "$bundle_py" ]; then
  if [ -x "$repo/.venv/bin/python" ]; then bundle_py="$repo/.venv/bin/python"; else bundle_py="python3"; fi
fi
step "bundle the server" "$bundle_py" scripts/bundle_server.py
step "vsce package" npx --no-install vsce package --no-dependencies --allow-missing-repository -o dist/harness-ls.vsix
vsix_kb=$(( $(stat -c %s dist/harness-ls.vsix) / 1024 ))
echo "ci.sh: dist/harness-ls.vsix is ${vsix_kb} KiB"

if [ -z "${HARNESS_LS_COMMAND:-}" ] && [ -x "$repo/.venv/bin/harness-ls" ]; then
  export HARNESS_LS_COMMAND="$repo/.venv/bin/harness-ls"
fi
# A protocol test that skips (no harness-ls found) must fail the build, not pass it silently.
protocol_tests() {
  local log; log="$(mktemp)"
  node --test --test-reporter=tap out/test/protocol/ | tee "$log"
  if grep -Eq '^# skipped [1-9]' "$log"; then
    echo "ci.sh: protocol tests were skipped: harness-ls was not found; run 'make setup' or set HARNESS_LS_COMMAND" >&2
    rm -f "$log"; return 1
  fi
  rm -f "$log"
}
step "protocol test (real harness-ls)" protocol_tests

if [ "${HARNESS_E2E_VSCODE:-0}" = "1" ]; then
  py="${PYTHON:-$repo/.venv/bin/python}"
  step "e2e: setup code-server" bash scripts/e2e-setup.sh
  step "e2e: code-server + chromium" env HARNESS_E2E_VSCODE=1 "$py" -m pytest "$repo/tests/vscode" -q -p no:cacheprovider
else
  echo "ci.sh: e2e in code-server skipped (set HARNESS_E2E_VSCODE=1 to run it)"
fi
echo "ci.sh: all done in $(secs "$total_start"), vsix: $here/dist/harness-ls.vsix"
