#!/usr/bin/env bash
# Idempotent: installs Debian's chromium (the browser the experiments dashboard spec drives with
# playwright-core at /usr/bin/chromium) when it is missing. Nothing is downloaded at test time.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  echo "chromium ready: $(/usr/bin/chromium --version 2>/dev/null || echo /usr/bin/chromium)"
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends chromium fonts-liberation >/dev/null
/usr/bin/chromium --version
