#!/usr/bin/env bash
# Prints the Python interpreter of the tooling venv, creating or updating the venv first.
#
#   PY=$(scripts/pyenv.sh)        # then: "$PY" tools/reference/reference_sim.py ...
#
# Location: $CSSDBG_VENV if set (CI keeps it outside the clone, so torch installs once per
# machine), else .venv/ at the repository root (git-ignored). Requirements: tools/requirements.txt;
# the venv is reinstalled when that file changes. Progress goes to stderr, the path to stdout.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv=${CSSDBG_VENV:-$root/.venv}
req=$root/tools/requirements.txt
want=$(sha256sum "$req" | cut -d' ' -f1)
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$venv/.requirements.sha256" 2>/dev/null)" != "$want" ]; then
  echo "pyenv: installing tools/requirements.txt into $venv" >&2
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install -q -r "$req" >&2
  echo "$want" > "$venv/.requirements.sha256"
fi
echo "$venv/bin/python"
