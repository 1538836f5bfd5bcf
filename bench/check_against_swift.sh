#!/usr/bin/env bash
# Cross-check `cssdbg eval` against the PyTorch reference (bench/torch_reference.py --check).
#
#   bench/check_against_swift.sh [--model vgg-tiny] [--data N] [--calib N] [--keep] [-- extra eval flags]
#
# Environment: VENV (default: the tooling venv of scripts/pyenv.sh), CSSDBG (default .build/release/cssdbg,
# falling back to .build/debug/cssdbg), NUMPY_REF=0 to skip the Float64 NumPy reference column.
#
# 1. exports the built-in model (ONNX opset 17 + state dict) and N(0,1) data.npy / calib.npy into a
#    temporary bundle;
# 2. runs the torch reference on it (--check), then writes the torch SNN predictions as the
#    bundle's labels.npy, so `cssdbg eval`'s snn_accuracy IS the prediction agreement with torch;
# 3. runs `cssdbg eval BUNDLE --json` (and tools/reference/reference_sim.py when onnx is importable);
# 4. fails (exit 1) unless every layer's spikes_positive / spikes_negative agree within 1% relative
#    and ≥ 99% of the SNN predictions agree. Residual p99.9, overflow and coupling are printed;
#    residual p99.9 beyond 5% relative only warns (ties at thresholds may flip spikes, docs/numerics.md §9).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"

MODEL=vgg-tiny
NDATA=200
NCALIB=100
KEEP=0
EXTRA=()
while [ $# -gt 0 ]; do
    case "$1" in
        --model) MODEL="$2"; shift 2 ;;
        --data) NDATA="$2"; shift 2 ;;
        --calib) NCALIB="$2"; shift 2 ;;
        --keep) KEEP=1; shift ;;
        --) shift; EXTRA=("$@"); break ;;
        -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
        *) echo "unknown argument $1" >&2; exit 2 ;;
    esac
done

if [ -z "${VENV:-}" ]; then VENV="$(dirname "$(dirname "$("$ROOT/scripts/pyenv.sh")")")"; fi
PY="$VENV/bin/python"
if [ ! -x "$PY" ]; then
    echo "no Python at $PY: run bench/side_by_side.sh --install, or set VENV=/path/to/venv" >&2
    exit 2
fi
CSSDBG="${CSSDBG:-.build/release/cssdbg}"
if [ ! -x "$CSSDBG" ] && [ -x .build/debug/cssdbg ]; then
    echo "note: $CSSDBG not built, using .build/debug/cssdbg" >&2
    CSSDBG=.build/debug/cssdbg
fi
if [ ! -x "$CSSDBG" ]; then
    echo "cssdbg binary not found ($CSSDBG): swift build -c release --product cssdbg, or set CSSDBG" >&2
    exit 2
fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/cssdbg-check.XXXXXX")"
BUNDLE="$WORK/$MODEL"
if [ "$KEEP" = 1 ]; then echo "bundle kept in $BUNDLE" >&2; else trap 'rm -rf "$WORK"' EXIT; fi
mkdir -p "$BUNDLE"

echo "+ exporting $MODEL ($NDATA data, $NCALIB calib samples)" >&2
"$PY" bench/torch_reference.py --model "$MODEL" --export "$BUNDLE/model.onnx" --data "$NDATA" --calib "$NCALIB"
echo "+ torch reference --check" >&2
"$PY" bench/torch_reference.py --check "$BUNDLE" "${EXTRA[@]}" > "$WORK/torch.json"
"$PY" - "$WORK/torch.json" "$BUNDLE/labels.npy" <<'EOF'
import json, sys
import numpy as np
np.save(sys.argv[2], np.array(json.load(open(sys.argv[1]))["snn_predictions"], dtype=np.int64))
EOF
echo "+ $CSSDBG eval $BUNDLE --json ${EXTRA[*]}" >&2
"$CSSDBG" eval "$BUNDLE" --json "${EXTRA[@]}" > "$WORK/swift.json"
NUMPY_JSON=""
if [ "${NUMPY_REF:-1}" != 0 ] && "$PY" -c "import onnx" 2>/dev/null; then
    echo "+ tools/reference/reference_sim.py (Float64 NumPy)" >&2
    "$PY" tools/reference/reference_sim.py "$BUNDLE" "${EXTRA[@]}" > "$WORK/numpy.json"
    NUMPY_JSON="$WORK/numpy.json"
fi

"$PY" - "$WORK/torch.json" "$WORK/swift.json" "$NUMPY_JSON" <<'EOF'
import json, sys

torch_r = json.load(open(sys.argv[1]))
swift = json.load(open(sys.argv[2]))
others = [("cssdbg", swift)]
if sys.argv[3]:
    others.append(("numpy-f64", json.load(open(sys.argv[3]))))

def rel(a, b):
    return abs(a - b) / max(abs(a), abs(b), 1)

ok = True
for label, other in others:
    print(f"\n## torch reference vs {label}  ({torch_r['model']}, {torch_r['samples']} samples, "
          f"T={torch_r['config']['T']} β={torch_r['config']['beta']} L={torch_r['config']['silent']})\n")
    if len(other["layers"]) != len(torch_r["layers"]):
        print(f"FAIL: {len(torch_r['layers'])} spiking layers in torch, {len(other['layers'])} in {label}")
        ok = False
        continue
    print("| layer | spikes + (torch / other) | spikes − (torch / other) | residual p99.9 | overflow | coupling | status |")
    print("|---|---|---|---|---|---|---|")
    for t, o in zip(torch_r["layers"], other["layers"]):
        bad = []
        for key in ("spikes_positive", "spikes_negative"):
            if rel(t[key], o[key]) > 0.01:
                bad.append(key)
        if t["neurons"] != o["neurons"]:
            bad.append("neurons")
        warn = rel(t["residual_p999"], o["residual_p999"]) > 0.05
        status = ("FAIL " + ",".join(bad)) if bad else ("ok (residual differs)" if warn else "ok")
        ok &= not bad
        print(f"| {o['name']} | {t['spikes_positive']} / {o['spikes_positive']} | "
              f"{t['spikes_negative']} / {o['spikes_negative']} | "
              f"{t['residual_p999']:.4f} / {o['residual_p999']:.4f} | {t['overflow']} / {o['overflow']} | "
              f"{t['coupling']} / {o['coupling']} | {status} |")
    line = f"\nANN–SNN agreement: torch {torch_r['agreement']:.4f}, {label} {other['agreement']:.4f}"
    if label == "cssdbg":
        # labels.npy holds the torch SNN predictions, so snn_accuracy = prediction agreement
        agree = other.get("snn_accuracy")
        if agree is None:
            print(line + "\nFAIL: cssdbg reported no snn_accuracy (labels.npy not read?)")
            ok = False
        else:
            line += f"; SNN prediction agreement torch vs cssdbg: {agree:.4f} (need ≥ 0.99)"
            if agree < 0.99:
                ok = False
                line += "  FAIL"
    elif abs(torch_r["agreement"] - other["agreement"]) > 0.01:
        ok = False
        line += "  FAIL (differs by more than 1 point)"
    print(line)

print("\nRESULT:", "PASS" if ok else "FAIL")
sys.exit(0 if ok else 1)
EOF
