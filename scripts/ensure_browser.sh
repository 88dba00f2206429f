#!/usr/bin/env bash
# The simulator's browser test drives Debian's Chromium through Playwright (never a browser
# download). Install it from the system package manager when it is missing; fail, never skip,
# when it cannot be had.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
echo "Chromium is missing: installing Debian's package"
if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium fonts-noto-color-emoji >/dev/null
[ -x /usr/bin/chromium ] || { echo "FATAL: Chromium could not be installed" >&2; exit 1; }
