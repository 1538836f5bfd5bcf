#!/usr/bin/env bash
# Samples/s of `cssdbg eval --json` and `python -m cssdbg_torch eval --json` on one bundle, start-up
# and calibration excluded: each is timed on the first LO and the first HI samples (same
# calibration), rate = (HI − LO) / (t_HI − t_LO). Runs alternate, REPS times. Small bundles can
# be tiled (TILE copies of data.npy and labels.npy, in a temporary bundle) so the difference is
# long enough to time. Both run without the environment's OpenBLAS pin.
#
#   bench/torch_eval_rate.sh BUNDLE [TORCH EVAL ARGS...]
#   env: CSSDBG (binary, default .build/release/cssdbg), VENV (default $HOME/.cache/cssdbg/venv),
#        THREADS (2), LO (16), HI (all samples), TILE (1), REPS (2), PKG (python/, the package)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bundle=$1; name=$(basename "$bundle"); shift
CSSDBG=${CSSDBG:-$root/.build/release/cssdbg}
VENV=${VENV:-$HOME/.cache/cssdbg/venv}
PKG=${PKG:-$root/python}
THREADS=${THREADS:-2}; LO=${LO:-16}; TILE=${TILE:-1}; REPS=${REPS:-2}
E=(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE)
if [ "$TILE" -gt 1 ]; then
  tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
  cp "$bundle"/* "$tmp"/
  "$VENV/bin/python" - "$bundle" "$tmp" "$TILE" <<'PY'
import sys, numpy as np
src, dst, k = sys.argv[1], sys.argv[2], int(sys.argv[3])
for f in ("data.npy", "labels.npy"):
    try:
        np.save(f"{dst}/{f}", np.concatenate([np.load(f"{src}/{f}")] * k))
    except FileNotFoundError:
        pass
PY
  bundle=$tmp
fi
HI=${HI:-$("$VENV/bin/python" -c "import numpy as np,sys; print(len(np.load(sys.argv[1], mmap_mode='r')))" "$bundle/data.npy")}
secs() { local s e; s=$(date +%s.%N); "$@" > /dev/null; e=$(date +%s.%N); echo "$e - $s" | bc; }
c() { secs "${E[@]}" "$CSSDBG" eval "$bundle" --json --threads "$THREADS" --limit "$1"; }
p() { local n=$1; shift; secs "${E[@]}" PYTHONPATH="$PKG" "$VENV/bin/python" -m cssdbg_torch eval "$bundle" --json \
        --threads "$THREADS" --limit "$n" "$@"; }
rate() { echo "scale=2; ($HI - $LO) / ($2 - $1)" | bc; }
for r in $(seq "$REPS"); do
  c_lo=$(c "$LO"); p_lo=$(p "$LO" "$@"); c_hi=$(c "$HI"); p_hi=$(p "$HI" "$@")
  echo "$name run $r: cssdbg $(rate "$c_lo" "$c_hi") samples/s, cssdbg-torch $(rate "$p_lo" "$p_hi") samples/s" \
       "(t$LO/t$HI: cssdbg $c_lo/$c_hi s, torch $p_lo/$p_hi s; load $(cut -d' ' -f1-3 /proc/loadavg))"
done
