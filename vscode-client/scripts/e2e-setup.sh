#!/usr/bin/env bash
# Install code-server 4.100.3 (VS Code 1.100.3, the newest release that runs on Node 20) into
# vscode-client/.e2e (git-ignored) for the end-to-end test. Idempotent: a no-op when installed.
# Needs: apt packages for its native modules (installed here when missing and we are root),
# ripgrep (its @vscode/ripgrep postinstall would download a binary; we seed its cache with rg).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
e2e="$here/.e2e"
version="4.100.3"
bin="$e2e/node_modules/.bin/code-server"

# code-server writes a config file into $HOME even for --version: keep that out of the real home
# (only for code-server itself: npm must keep reading the user's ~/.npmrc).
cs_version() {
  mkdir -p "$e2e/home"
  HOME="$e2e/home" XDG_CONFIG_HOME="$e2e/home/.config" XDG_DATA_HOME="$e2e/home/.local/share" \
    "$bin" --version 2>/dev/null
}
export npm_config_update_notifier=false
if [ -x "$bin" ] && cs_version | grep -q "^$version "; then
  echo "e2e-setup: code-server $version already in $e2e"
  exit 0
fi

pkgs=(libkrb5-dev libxkbfile-dev libsecret-1-dev build-essential python3)
command -v rg >/dev/null 2>&1 || pkgs+=(ripgrep)
command -v chromium >/dev/null 2>&1 || pkgs+=(chromium)
missing=()
for p in "${pkgs[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != "0" ]; then
    echo "e2e-setup: missing apt packages: ${missing[*]} (run: sudo apt-get install -y ${missing[*]})" >&2
    exit 2
  fi
  echo "e2e-setup: apt-get install ${missing[*]}"
  apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null
fi

mkdir -p "$e2e/tmp"
# @vscode/ripgrep's postinstall downloads rg from the internet; give it the system rg instead.
for cache in vscode-ripgrep-cache-1.15.11 vscode-ripgrep-cache-1.15.9; do
  mkdir -p "$e2e/tmp/$cache"
  for rgv in v13.0.0-10 v13.0.0-4; do
    tar czf "$e2e/tmp/$cache/ripgrep-$rgv-x86_64-unknown-linux-musl.tar.gz" -C "$(dirname "$(command -v rg)")" rg
  done
done
cd "$e2e"
[ -f package.json ] || printf '{"name": "harness-e2e", "private": true}\n' > package.json
# npm's machine config says yes=false, which breaks node-pty's postinstall; root needs unsafe-perm.
# Native modules (argon2, node-pty, kerberos, ...) fall back to node-gyp builds when their prebuilt
# binaries cannot be downloaded: point node-gyp at the system's Node headers instead of the internet.
if [ -z "${npm_config_nodedir:-}" ] && [ -f /usr/include/node/node_api.h ]; then
  export npm_config_nodedir=/usr
fi
TMPDIR="$e2e/tmp" npm_config_yes=true npm_config_unsafe_perm=true \
  npm install --no-audit --no-fund --loglevel=error "code-server@$version"
cs_version | head -1
