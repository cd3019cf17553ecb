#!/usr/bin/env bash
# Debian packages the bulletin and the tests need (run by `make setup`, so by `make demo`/`make test`):
#   fonts-noto-cjk            free CJK fallbacks for 仿宋/小标宋/黑体 (Noto Serif/Sans CJK SC)
#   fonts-arphic-ukai         楷体 fallback (AR PL UKai) for （一） headings
#   libharfbuzz-subset0       fast font subsetting for WeasyPrint (without it one PDF takes ~45 s)
#   libreoffice-writer-nogui  the Word file opened as the office opens it (tests convert it to PDF)
#   fonts-liberation2         Liberation Serif, metric-compatible with the Word file's Latin font
#                             (Times New Roman): without it LibreOffice sets digits in a wider
#                             fallback and the layout tests see a different page than the office
#   chromium                  the HTML bulletin, Data Docs and dashboards seen in a real browser
#   poppler-utils             pdftoppm/pdftotext: PDF pages as pictures and text in tests
#   docker-compose            `docker-compose config -q` validates the compose file (no engine needed)
# Installs what is missing when run as root with apt-get; otherwise prints the command to run.
# MFG_SKIP_TEST_PACKAGES=1 limits it to what the bulletin itself needs (e.g. `make demo` on a server).
set -euo pipefail
need=()
# Capture first: `fc-list | grep -q` under pipefail fails when grep exits early (SIGPIPE).
families=$(fc-list : family 2>/dev/null || true)
libs=$(ldconfig -p 2>/dev/null || true)
grep -q "Noto Serif CJK SC" <<<"$families" || need+=(fonts-noto-cjk)
grep -q "AR PL UKai" <<<"$families" || need+=(fonts-arphic-ukai)
grep -q "libharfbuzz-subset.so.0" <<<"$libs" || need+=(libharfbuzz-subset0)
if [ "${MFG_SKIP_TEST_PACKAGES:-0}" != "1" ]; then
  command -v soffice >/dev/null || need+=(libreoffice-writer-nogui)
  grep -q "Liberation Serif" <<<"$families" || need+=(fonts-liberation2)
  command -v chromium >/dev/null || need+=(chromium)
  command -v pdftoppm >/dev/null || need+=(poppler-utils)
  command -v docker-compose >/dev/null || need+=(docker-compose)
fi
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
  echo "Installing ${need[*]} (Debian) ..."
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null 2>&1; then
    apt-get update -q >/dev/null
    apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null
  fi
  fc-cache -f >/dev/null 2>&1 || true
else
  echo "WARNING: missing ${need[*]}; install them: sudo apt-get install ${need[*]}" >&2
fi
