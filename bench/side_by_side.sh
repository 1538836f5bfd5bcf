#!/usr/bin/env bash
# cssdbg bench vs the PyTorch reference of the same simulation, eager and torch.compile, same
# settings, one Markdown table per model.
#
#   bench/side_by_side.sh [--model vgg16|resnet18|resnet18-imagenet]... [--rounds 3] [--batch 16]
#                         [-T 10] [--beta 1.5] [--silent 1] [--threads 2] [--iters 5] [--variants]
#                         [--torch-only] [--no-compile]
#
# Default models: vgg16 resnet18 resnet18-imagenet. Each round runs, per model, cssdbg (its default
# convolutions, then `--conv auto`, a row of its own), PyTorch eager and torch.compile one after
# the other; every figure is the median over the rounds, so
# drifting machine load hits all three alike. --variants adds cssdbg rows without Winograd
# (--conv im2col) and with the environment's OpenBLAS settings kept. Python: $VENV/bin/python when VENV is set, else scripts/pyenv.sh (the
# repository's tooling venv). CSSDBG: the binary (default .build/release/cssdbg). torch.compile
# needs a C++ compiler (g++) at run time.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"

TORCH_ONLY=0
COMPILE=1
VARIANTS=0
MODELS=()
ROUNDS=3
BATCH=16
T=10
BETA=1.5
SILENT=1
THREADS=2
ITERS=5
while [ $# -gt 0 ]; do
    case "$1" in
        --torch-only) TORCH_ONLY=1; shift ;;
        --no-compile) COMPILE=0; shift ;;
        --variants) VARIANTS=1; shift ;;
        --model) MODELS+=("$2"); shift 2 ;;
        --rounds) ROUNDS="$2"; shift 2 ;;
        --batch) BATCH="$2"; shift 2 ;;
        -T) T="$2"; shift 2 ;;
        --beta) BETA="$2"; shift 2 ;;
        --silent) SILENT="$2"; shift 2 ;;
        --threads) THREADS="$2"; shift 2 ;;
        --iters) ITERS="$2"; shift 2 ;;
        -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
        *) echo "side_by_side.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done
[ ${#MODELS[@]} -gt 0 ] || MODELS=(vgg16 resnet18 resnet18-imagenet)
case "$ROUNDS" in ''|*[!0-9]*|0) echo "side_by_side.sh: --rounds must be a positive integer, not '$ROUNDS'" >&2; exit 2 ;; esac

if [ -n "${VENV:-}" ]; then PY="$VENV/bin/python"; else PY="$(scripts/pyenv.sh)"; fi
if [ ! -x "$PY" ] || ! "$PY" -c "import torch, numpy" 2>/dev/null; then
    echo "side_by_side.sh: no usable Python at $PY (needs torch + numpy): unset VENV to use scripts/pyenv.sh" >&2
    exit 2
fi
CSSDBG="${CSSDBG:-.build/release/cssdbg}"
if [ "$TORCH_ONLY" = 0 ] && [ ! -x "$CSSDBG" ]; then
    echo "side_by_side.sh: cssdbg binary not found at $CSSDBG: swift build -c release --product cssdbg, set CSSDBG, or pass --torch-only" >&2
    exit 2
fi
for m in "${MODELS[@]}"; do
    if ! "$PY" bench/torch_reference.py --list-models | grep -qx "$m"; then
        echo "side_by_side.sh: bench/torch_reference.py has no model '$m' (it has: $("$PY" bench/torch_reference.py --list-models | tr '\n' ' '))" >&2
        exit 2
    fi
done

WORK="$(mktemp -d "${TMPDIR:-/tmp}/cssdbg-bench.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

# NumPy float32 matmul peak: 1024^3, best of 10; the OpenBLAS overrides of this environment are
# removed for this command only.
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

# run NAME CMD... : appends the command's last JSON line to $WORK/NAME.jsonl
run() {
    local name="$1"; shift
    echo "+ $*" >&2
    "$@" | grep '^{' | tail -n 1 >> "$WORK/$name.jsonl"
}

for round in $(seq 1 "$ROUNDS"); do
    for m in "${MODELS[@]}"; do
        echo "== round $round/$ROUNDS, $m" >&2
        ARGS=(--model "$m" --batch "$BATCH" -T "$T" --beta "$BETA" --silent "$SILENT" --threads "$THREADS" --iters "$ITERS" --json)
        if [ "$TORCH_ONLY" = 0 ]; then
            # Like the NumPy peak, without this environment's OpenBLAS overrides (they force AVX2
            # kernels on AVX-512 machines).
            run "$m.ours" env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$CSSDBG" bench "${ARGS[@]}"
            # F(4×4, 3×3) on maps of 4×4 and more: faster, not the default (docs/performance.md, "Winograd F(4×4, 3×3)").
            run "$m.auto" env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$CSSDBG" bench "${ARGS[@]}" --conv auto
        fi
        run "$m.eager" "$PY" bench/torch_reference.py "${ARGS[@]}"
        if [ "$COMPILE" = 1 ]; then
            run "$m.compile" "$PY" bench/torch_reference.py "${ARGS[@]}" --compile
        fi
        if [ "$TORCH_ONLY" = 0 ] && [ "$VARIANTS" = 1 ]; then
            run "$m.im2col" env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$CSSDBG" bench "${ARGS[@]}" --conv im2col
            run "$m.env" "$CSSDBG" bench "${ARGS[@]}"
        fi
    done
done

for m in "${MODELS[@]}"; do
    ARGS="--model $m --batch $BATCH -T $T --beta $BETA --silent $SILENT --threads $THREADS --iters $ITERS --json"
    "$PY" - "$WORK" "$m" "$ROUNDS" "${OPENBLAS_CORETYPE:-unset}" \
        "env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE $CSSDBG bench $ARGS" \
        "python bench/torch_reference.py $ARGS" <<'EOF'
import json, os, statistics, sys

work, model, rounds, coretype, ours_cmd, torch_cmd = sys.argv[1:7]
peak = json.load(open(os.path.join(work, "peak.json")))


def runs(kind):
    path = os.path.join(work, f"{model}.{kind}.jsonl")
    if not os.path.exists(path):
        return []
    return [json.loads(l) for l in open(path) if l.strip()]


def med(kind, key):
    vals = [r[key] for r in runs(kind) if r.get(key) is not None]
    return statistics.median(vals) if vals else None


def spread(kind, key):
    vals = [r[key] for r in runs(kind) if r.get(key) is not None]
    return f"{min(vals):,.2f}–{max(vals):,.2f}" if len(vals) > 1 else ""


def f(v, d=2):
    return "n/a" if v is None else f"{v:,.{d}f}"


def ratio(a, b):
    return None if a is None or b in (None, 0) else a / b


def r(a, b):
    v = ratio(a, b)
    return "" if v is None else f"{v:.2f}×"


ref = (runs("eager") or [{}])[-1]
flops = ref.get("ann_flops_per_sample")
Tn = ref.get("T")
o_snn, e_snn, c_snn = med("ours", "snn_samples_per_s"), med("eager", "snn_samples_per_s"), med("compile", "snn_samples_per_s")
o_ann, e_ann, c_ann = med("ours", "ann_samples_per_s"), med("eager", "ann_samples_per_s"), med("compile", "ann_samples_per_s")


def gf(rate, steps=1):
    return None if rate is None or flops is None else flops * steps * rate / 1e9


def pct(g):
    return None if g is None else 100 * g / peak["gflops"]


print(f"### {model}, batch {ref.get('batch')}, T={Tn}, L={ref.get('silent')}, {ref.get('threads')} threads "
      f"(median of {rounds} alternated rounds)\n")
print("| | cssdbg | PyTorch eager | torch.compile | cssdbg / eager | cssdbg / compile |")
print("|---|---:|---:|---:|---:|---:|")
print(f"| SNN samples/s | {f(o_snn)} | {f(e_snn)} | {f(c_snn)} | {r(o_snn, e_snn)} | {r(o_snn, c_snn)} |")
print(f"| ANN samples/s | {f(o_ann)} | {f(e_ann)} | {f(c_ann)} | {r(o_ann, e_ann)} | {r(o_ann, c_ann)} |")
print(f"| SNN range over rounds | {spread('ours', 'snn_samples_per_s')} | {spread('eager', 'snn_samples_per_s')} "
      f"| {spread('compile', 'snn_samples_per_s')} | | |")
g = [gf(v, Tn) for v in (o_snn, e_snn, c_snn)]
print(f"| SNN dense-equivalent GFLOP/s | {f(g[0], 1)} | {f(g[1], 1)} | {f(g[2], 1)} | | |")
print(f"| SNN % of matmul peak | {f(pct(g[0]), 1)} | {f(pct(g[1]), 1)} | {f(pct(g[2]), 1)} | | |")
a = [gf(v) for v in (o_ann, e_ann, c_ann)]
print(f"| ANN % of matmul peak | {f(pct(a[0]), 1)} | {f(pct(a[1]), 1)} | {f(pct(a[2]), 1)} | | |")
print(f"| peak RSS (MB) | {f(med('ours', 'peak_rss_mb'), 0)} | {f(med('eager', 'peak_rss_mb'), 0)} "
      f"| {f(med('compile', 'peak_rss_mb'), 0)} | | |")
for kind, label in (("auto", "cssdbg `--conv auto` (F(4×4) on maps ≥ 4×4)"),
                    ("im2col", "cssdbg `--conv im2col` (no Winograd)"),
                    ("env", f"cssdbg with OPENBLAS_CORETYPE={coretype} kept")):
    s, n = med(kind, "snn_samples_per_s"), med(kind, "ann_samples_per_s")
    if s is not None:
        print(f"| SNN / ANN samples/s, {label} | {f(s)} / {f(n)} | | | {r(s, e_snn)} / {r(n, e_ann)} "
              f"| {r(s, c_snn)} / {r(n, c_ann)} |")
agree = med("compile", "compiled_prediction_agreement")
compile_s = med("compile", "compile_s")
print()
print(f"NumPy float32 matmul peak (1024³, best of 10, {peak['cpus']} CPUs, all BLAS threads): {peak['gflops']:.1f} GFLOP/s. "
      f"Dense-equivalent = ANN conv/linear FLOPs per sample ({f(None if flops is None else flops / 1e6, 1)} MFLOP) × T × samples/s.")
if compile_s is not None:
    print(f"torch.compile: {compile_s:.0f} s to compile (not timed); predictions equal to eager's on "
          f"{100 * agree:.1f} % of the batch.")
print()
print("Commands (one of each per round):")
print(f"- `{ours_cmd}`")
print(f"- `{torch_cmd}` and the same with `--compile`")
print()
EOF
done
