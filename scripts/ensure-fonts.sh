#!/usr/bin/env bash
# System packages the bulletin needs, from Debian (run by `make setup`, so by `make demo`/`make test`):
#   fonts-noto-cjk      free CJK fallbacks for 仿宋/小标宋/黑体 (Noto Serif/Sans CJK SC)
#   fonts-arphic-ukai   楷体 fallback (AR PL UKai) for （一） headings
#   libharfbuzz-subset0 fast font subsetting for WeasyPrint (without it one PDF takes ~45 s)
# Installs what is missing when run as root with apt-get; otherwise prints the command to run.
set -euo pipefail
need=()
# Capture first: `fc-list | grep -q` under pipefail fails when grep exits early (SIGPIPE).
families=$(fc-list : family 2>/dev/null || true)
libs=$(ldconfig -p 2>/dev/null || true)
grep -q "Noto Serif CJK SC" <<<"$families" || need+=(fonts-noto-cjk)
grep -q "AR PL UKai" <<<"$families" || need+=(fonts-arphic-ukai)
grep -q "libharfbuzz-subset.so.0" <<<"$libs" || need+=(libharfbuzz-subset0)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
  echo "Installing ${need[*]} (Debian) for the bulletin ..."
  if ! apt-get install -y -q "${need[@]}" >/dev/null 2>&1; then
    apt-get update -q >/dev/null
    apt-get install -y -q "${need[@]}" >/dev/null
  fi
  fc-cache -f >/dev/null 2>&1 || true
else
  echo "WARNING: missing ${need[*]}; install them: sudo apt-get install ${need[*]}" >&2
fi
