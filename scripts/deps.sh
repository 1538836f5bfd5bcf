#!/usr/bin/env bash
# Installs the system packages cssdbg builds and tests against (Debian): OpenBLAS for the
# window GEMMs, ncursesw for the debugger, tmux for the end-to-end tests. Idempotent.
set -euo pipefail
need=()
for p in libopenblas-dev libncurses-dev tmux; do
  dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "installing: ${need[*]}" >&2
  $SUDO apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
