#!/usr/bin/env bash
# Install the browser of earshot's real-browser tests: Debian's `chromium` package (apt-get),
# driven by the playwright-core devDependency with executablePath=/usr/bin/chromium. No browser
# download from anywhere else (`npx playwright install` is never used). Idempotent: does nothing
# when /usr/bin/chromium (or $EARSHOT_CHROMIUM) is already there. Needs root or sudo for apt-get.
# Exit status: 0 when chromium is available afterwards, 1 when it could not be installed.
set -uo pipefail
BIN="${EARSHOT_CHROMIUM:-/usr/bin/chromium}"
if [ -x "$BIN" ]; then
  echo "install-chromium: $BIN is installed ($("$BIN" --version 2>/dev/null | head -n1))"
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo -n"; else
    echo "install-chromium: $BIN is missing and this user cannot run apt-get (not root, no passwordless sudo)." >&2
    echo "install-chromium: install it with: sudo apt-get install chromium   (or set EARSHOT_SKIP_BROWSER=1 to skip the browser tests knowingly)" >&2
    exit 1
  fi
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-chromium: $BIN is missing and apt-get is not available (not a Debian/Ubuntu system); install Chromium and set EARSHOT_CHROMIUM=/path/to/chromium" >&2
  exit 1
fi
echo "install-chromium: installing Debian's chromium with apt-get…"
export DEBIAN_FRONTEND=noninteractive
if ! $SUDO apt-get update -qq; then echo "install-chromium: apt-get update failed" >&2; exit 1; fi
if ! $SUDO apt-get install -y -qq --no-install-recommends chromium; then echo "install-chromium: apt-get install chromium failed" >&2; exit 1; fi
if [ -x "$BIN" ]; then
  echo "install-chromium: installed $("$BIN" --version 2>/dev/null | head -n1)"
  exit 0
fi
echo "install-chromium: apt-get finished but $BIN is still missing" >&2
exit 1
