#!/usr/bin/env bash
# The system tools the test suite drives for real (Chromium for the dashboard and diagrams, Graphviz,
# ripgrep, Node/npm for mermaid-cli and the VS Code extension, bubblewrap for the shell sandbox, and
# Emacs + eglot + markdown-mode for the push-only editor test). `make test` and `.ci/run` both call
# this script, so a fresh machine needs the same two commands as CI.
#
# What it does: detects which tools are missing; installs them with apt-get when running as root
# (one `apt-get update`, then one install); otherwise stops with the exact command to run, before
# any test starts (exit 1).
#
#   --dry-run   only report: print the missing packages and the command that would install them,
#               exit 0 when nothing is missing and 3 when something is (nothing is installed).
#
# Detection looks tools up on PATH (and eglot, markdown-mode in $HARNESS_ELPA_DIR, default Debian's
# elpa dir), so `PATH=/some/dir scripts/install-system-deps.sh --dry-run` shows what a bare machine
# would get.
set -euo pipefail

dry_run=0
case "${1:-}" in
  --dry-run) dry_run=1 ;;
  "") ;;
  -h | --help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "install-system-deps: unknown option '$1' (use --dry-run or nothing)" >&2; exit 2 ;;
esac

elpa_dir="${HARNESS_ELPA_DIR:-/usr/share/emacs/site-lisp/elpa}"
have() { command -v "$1" >/dev/null 2>&1; }
have_eglot() { compgen -G "$elpa_dir/eglot-*" >/dev/null 2>&1; }
have_markdown_mode() { compgen -G "$elpa_dir/markdown-mode-*" >/dev/null 2>&1; }

# tool check -> Debian package(s); one line each, in install order.
missing=()
have chromium || missing+=(chromium)
have dot || missing+=(graphviz)
have rg || missing+=(ripgrep)
have node || missing+=(nodejs)
have npm || missing+=(npm)
have bwrap || missing+=(bubblewrap)
have emacs || missing+=(emacs-nox)
have_eglot || missing+=(elpa-eglot)
have_markdown_mode || missing+=(elpa-markdown-mode)

if [ ${#missing[@]} -eq 0 ]; then
  [ $dry_run -eq 1 ] && echo "install-system-deps: nothing missing"
  exit 0
fi

cmd="apt-get install -y ${missing[*]}"
if [ $dry_run -eq 1 ]; then
  echo "install-system-deps: missing: ${missing[*]}"
  echo "install-system-deps: would run: apt-get update && $cmd"
  exit 3
fi

if [ "$(id -u)" -eq 0 ] && have apt-get; then
  echo "install-system-deps: installing ${missing[*]} with apt-get" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  # shellcheck disable=SC2086
  apt-get install -y -q "${missing[@]}" >/dev/null
  exit 0
fi

{
  echo "install-system-deps: the test suite needs system packages that are missing: ${missing[*]}"
  if have apt-get; then
    echo "Run this once (as root), then run the same make command again:"
    echo ""
    echo "    sudo apt-get update && sudo $cmd"
  else
    echo "This machine has no apt-get: install the equivalents of these Debian packages with your"
    echo "package manager (Chromium, Graphviz's dot, ripgrep's rg, Node.js + npm, bubblewrap's bwrap,"
    echo "Emacs + eglot), then run the same make command again."
  fi
} >&2
exit 1
