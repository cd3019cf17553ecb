#!/usr/bin/env bash
# Make sure a free CJK font family is installed (the bulletin's fallback for 仿宋/小标宋/黑体).
# Installs Debian's fonts-noto-cjk when missing and we are root; otherwise says what to run.
set -euo pipefail
if fc-list 2>/dev/null | grep -q "Noto Serif CJK SC"; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
  echo "Installing CJK fonts (Debian fonts-noto-cjk) for the bulletin..."
  (apt-get install -y -q fonts-noto-cjk >/dev/null 2>&1) || {
    apt-get update -q >/dev/null && apt-get install -y -q fonts-noto-cjk >/dev/null; }
  fc-cache -f >/dev/null 2>&1 || true
else
  echo "WARNING: no CJK font found. Install one: sudo apt-get install fonts-noto-cjk" >&2
fi
