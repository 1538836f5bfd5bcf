#!/usr/bin/env bash
# The cssdbg-torch package's tests: installs python/ into the tooling venv (scripts/pyenv.sh) as a
# user would (`pip install ./python`) and runs pytest on python/tests against the installed
# package, with the cssdbg binary from $CSSDBG (default .build/debug/cssdbg) for the parity tests.
#
#   scripts/test-python.sh [PYTEST ARGS...]
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 1
PY=$(scripts/pyenv.sh) || exit 1
export CSSDBG=${CSSDBG:-$root/.build/debug/cssdbg}
"$PY" -m pip install -q --no-deps --no-build-isolation ./python || { echo "pip install ./python failed" >&2; exit 1; }
rm -rf python/build python/*.egg-info
# The installed package, not the checkout's python/ (run from elsewhere so the cwd does not shadow it).
(cd / && "$PY" -c 'import cssdbg_torch, sys; sys.exit(0 if "site-packages" in cssdbg_torch.__file__ else 1)') \
  || { echo "cssdbg_torch is not importable from the venv after pip install ./python" >&2; exit 1; }
"$PY" -m pytest -q -p no:cacheprovider python/tests "$@"
rc=$?
# Exit status 5: no tests collected, which must not pass.
[ $rc -eq 5 ] && echo "pytest collected no tests in python/tests" >&2
exit $rc
