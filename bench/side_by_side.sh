#!/usr/bin/env bash
# cssdbg bench vs the PyTorch eager-CPU reference, same settings, one Markdown table.
#
#   bench/side_by_side.sh [--install] [--model vgg16|resnet18] [--batch 16] [-T 10] [--beta 1.5]
#                         [--silent 1] [--threads 2] [--iters 5] [--torch-only]
#
# Environment: VENV (a venv with torch and numpy; default: the tooling venv of scripts/pyenv.sh,
# $CSSDBG_VENV or .venv/, created from tools/requirements.txt), CSSDBG (default .build/release/cssdbg).
# --install (with VENV set) creates $VENV if needed and pip-installs torch, numpy and onnx from PyPI.
# --torch-only skips cssdbg (table shows n/a for it).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"

INSTALL=0
TORCH_ONLY=0
MODEL=vgg16
BATCH=16
T=10
BETA=1.5
SILENT=1
THREADS=2
ITERS=5
while [ $# -gt 0 ]; do
    case "$1" in
        --install) INSTALL=1; shift ;;
        --torch-only) TORCH_ONLY=1; shift ;;
        --model) MODEL="$2"; shift 2 ;;
        --batch) BATCH="$2"; shift 2 ;;
        -T) T="$2"; shift 2 ;;
        --beta) BETA="$2"; shift 2 ;;
        --silent) SILENT="$2"; shift 2 ;;
        --threads) THREADS="$2"; shift 2 ;;
        --iters) ITERS="$2"; shift 2 ;;
        -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
        *) echo "unknown argument $1" >&2; exit 2 ;;
    esac
done

if [ -z "${VENV:-}" ]; then
    PY="$("$ROOT/scripts/pyenv.sh")"
    VENV="$(dirname "$(dirname "$PY")")"
    INSTALL=0
fi
PY="$VENV/bin/python"
if [ "$INSTALL" = 1 ]; then
    [ -x "$PY" ] || python3 -m venv "$VENV"
    "$PY" -m pip install --upgrade pip >&2
    "$PY" -m pip install torch numpy onnx >&2
fi
if [ ! -x "$PY" ] || ! "$PY" -c "import torch, numpy" 2>/dev/null; then
    echo "no usable venv at $VENV (needs torch + numpy): rerun with --install, or set VENV=/path/to/venv" >&2
    exit 2
fi
CSSDBG="${CSSDBG:-.build/release/cssdbg}"
if [ "$TORCH_ONLY" = 0 ] && [ ! -x "$CSSDBG" ]; then
    echo "cssdbg binary not found at $CSSDBG: swift build -c release --product cssdbg, set CSSDBG, or pass --torch-only" >&2
    exit 2
fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/cssdbg-bench.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

# (ii) NumPy float32 matmul peak: 1024^3, best of 10; the OpenBLAS overrides of this environment
# are removed for this command only.
echo "+ numpy float32 matmul peak (1024^3, best of 10)" >&2
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$PY" - > "$WORK/peak.json" <<'EOF'
import json, time, os
import numpy as np
a = np.random.default_rng(0).standard_normal((1024, 1024), dtype=np.float32)
b = np.random.default_rng(1).standard_normal((1024, 1024), dtype=np.float32)
a @ b
best = float("inf")
for _ in range(10):
    t0 = time.perf_counter()
    a @ b
    best = min(best, time.perf_counter() - t0)
print(json.dumps({"gflops": 2 * 1024 ** 3 / best / 1e9, "cpus": os.cpu_count()}))
EOF

ARGS=(--model "$MODEL" --batch "$BATCH" -T "$T" --beta "$BETA" --silent "$SILENT" --threads "$THREADS")
OURS_CMD="$CSSDBG bench ${ARGS[*]} --iters $ITERS --json"
TORCH_CMD="$PY bench/torch_reference.py ${ARGS[*]} --iters $ITERS --json"
if [ "$TORCH_ONLY" = 0 ]; then
    # Like the NumPy peak, with this environment's OpenBLAS overrides removed (they force AVX2
    # kernels on AVX-512 machines); a second run keeps the environment as it is.
    echo "+ env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE $OURS_CMD" >&2
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$CSSDBG" bench "${ARGS[@]}" --iters "$ITERS" --json > "$WORK/ours.out"
    echo "+ $OURS_CMD   (environment as is: OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset})" >&2
    "$CSSDBG" bench "${ARGS[@]}" --iters "$ITERS" --json > "$WORK/ours_env.out"
    # What Winograd buys: the same run with every convolution on the plain im2col + GEMM path.
    echo "+ env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE $OURS_CMD --conv im2col" >&2
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$CSSDBG" bench "${ARGS[@]}" --iters "$ITERS" --json --conv im2col \
        > "$WORK/ours_im2col.out"
else
    echo '{}' > "$WORK/ours.out"
    echo '{}' > "$WORK/ours_env.out"
    echo '{}' > "$WORK/ours_im2col.out"
fi
echo "+ $TORCH_CMD" >&2
"$PY" bench/torch_reference.py "${ARGS[@]}" --iters "$ITERS" --json > "$WORK/torch.out"

"$PY" - "$WORK/peak.json" "$WORK/ours.out" "$WORK/torch.out" "env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE $OURS_CMD" "$TORCH_CMD" "$TORCH_ONLY" "$WORK/ours_env.out" "${OPENBLAS_CORETYPE:-unset}" "$WORK/ours_im2col.out" <<'EOF'
import json, sys

def last_json(path):
    lines = [l for l in open(path).read().splitlines() if l.strip().startswith("{")]
    return json.loads(lines[-1]) if lines else {}

peak = json.load(open(sys.argv[1]))
ours, ref = last_json(sys.argv[2]), last_json(sys.argv[3])
ours_cmd, torch_cmd, torch_only = sys.argv[4], sys.argv[5], sys.argv[6] == "1"
flops = ref["ann_flops_per_sample"]  # 2 x MACs of conv/linear per sample (same net both sides)
T = ref["T"]

def f(v, d=2):
    return "n/a" if v is None else f"{v:,.{d}f}"

def ratio(a, b):
    return None if a is None or b in (None, 0) else a / b

def x(v):
    return "" if v is None else "×"

def p(v):
    return "" if v is None else "%"

def pct(g):
    return None if g is None else 100 * g / peak["gflops"]

o_snn, o_ann = ours.get("snn_samples_per_s"), ours.get("ann_samples_per_s")
t_snn, t_ann = ref["snn_samples_per_s"], ref["ann_samples_per_s"]
o_gf = ours.get("dense_gflops")
t_gf = ref["dense_gflops"]
o_ann_gf = None if o_ann is None else flops * o_ann / 1e9
t_ann_gf = flops * t_ann / 1e9

print(f"### {ref['model']}, batch {ref['batch']}, T={T}, L={ref['silent']}, {ref['threads']} threads\n")
print("| | cssdbg | PyTorch eager | cssdbg / PyTorch |")
print("|---|---:|---:|---:|")
print(f"| SNN samples/s | {f(o_snn)} | {f(t_snn)} | {f(ratio(o_snn, t_snn))}{x(o_snn)} |")
print(f"| ANN samples/s | {f(o_ann)} | {f(t_ann)} | {f(ratio(o_ann, t_ann))}{x(o_ann)} |")
print(f"| SNN dense-equivalent GFLOP/s | {f(o_gf, 1)} | {f(t_gf, 1)} | {f(ratio(o_gf, t_gf))}{x(o_gf)} |")
print(f"| SNN % of matmul peak | {f(pct(o_gf), 1)}{p(o_gf)} | {f(pct(t_gf), 1)}{p(t_gf)} | |")
print(f"| ANN GFLOP/s | {f(o_ann_gf, 1)} | {f(t_ann_gf, 1)} | {f(ratio(o_ann_gf, t_ann_gf))}{x(o_ann_gf)} |")
print(f"| ANN % of matmul peak | {f(pct(o_ann_gf), 1)}{p(o_ann_gf)} | {f(pct(t_ann_gf), 1)}{p(t_ann_gf)} | |")
print(f"| peak RSS (MB) | {f(ours.get('peak_rss_mb'), 0)} | {f(ref.get('peak_rss_mb'), 0)} | |")
env_run = last_json(sys.argv[7])
if env_run:
    e_snn, e_ann = env_run.get("snn_samples_per_s"), env_run.get("ann_samples_per_s")
    print(f"| SNN / ANN samples/s with OPENBLAS_CORETYPE={sys.argv[8]} kept | {f(e_snn)} / {f(e_ann)} | | "
          f"{f(ratio(e_snn, t_snn))}{x(e_snn)} / {f(ratio(e_ann, t_ann))}{x(e_ann)} |")
plain = last_json(sys.argv[9])
if plain:
    i_snn, i_ann = plain.get("snn_samples_per_s"), plain.get("ann_samples_per_s")
    print(f"| SNN / ANN samples/s with `--conv im2col` (no Winograd) | {f(i_snn)} / {f(i_ann)} | | "
          f"{f(ratio(i_snn, t_snn))}{x(i_snn)} / {f(ratio(i_ann, t_ann))}{x(i_ann)} |")
print()
print(f"NumPy float32 matmul peak (1024³, best of 10, {peak['cpus']} CPUs, all BLAS threads): "
      f"{peak['gflops']:.1f} GFLOP/s")
print(f"Dense-equivalent = ANN conv/linear FLOPs per sample ({flops / 1e6:.1f} MFLOP) × T × samples/s "
      f"(cssdbg's own dense_gflops for cssdbg). PyTorch peak RSS includes the Python/torch runtime.")
print()
print("Commands:")
print(f"- `{ours_cmd}`" + ("  (skipped: --torch-only)" if torch_only else ""))
print(f"- `{torch_cmd}`")
EOF
