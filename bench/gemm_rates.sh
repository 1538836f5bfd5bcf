#!/usr/bin/env bash
# Single-threaded SGEMM GFLOP/s at cssdbg's hot shapes (M×N×K), for OpenBLAS without and with the
# environment's core pin and, where Debian's libblis-dev is installed (`apt-get install
# libblis-dev`), for BLIS with the sub-configuration it picks itself and with each one forced.
# Answers: do the hot GEMMs have to depend on OPENBLAS_CORETYPE? (docs/performance.md)
#
#   bench/gemm_rates.sh            needs gcc and libopenblas-dev (scripts/deps.sh)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
gcc -O2 "$here/gemm_rates.c" -o "$work/openblas" -lopenblas
row() {  # label, rates as printed by gemm_rates.c
    printf '%-34s %s\n' "$1" "$(awk '{printf "%13s", $2}' <<<"$2")"
}
printf '%-34s %s\n' "GFLOP/s, 1 thread, M×N×K:" "$("$work/openblas" --shapes | awk '{printf "%13s", $1}')"
row "OpenBLAS, no pin" "$(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS=1 "$work/openblas")"
row "OpenBLAS, CORETYPE=${OPENBLAS_CORETYPE:-Haswell}" \
    "$(env OPENBLAS_CORETYPE="${OPENBLAS_CORETYPE:-Haswell}" OPENBLAS_NUM_THREADS=1 "$work/openblas")"
blis=$(ls /usr/lib/*-linux-gnu/libblis.so.4 2>/dev/null | head -1 || true)
if [ -n "$blis" ]; then
    gcc -O2 "$here/gemm_rates.c" -o "$work/blis" "$blis"
    # One run gives both the rates (stdout) and the sub-configuration BLIS picked (stderr).
    rates=$(BLIS_ARCH_DEBUG=1 BLIS_NUM_THREADS=1 "$work/blis" 2>"$work/picked")
    picked=$(sed -n "s/.*sub-configuration '\(.*\)'.*/\1/p" "$work/picked" | head -1)
    row "BLIS, its own pick (${picked:-?})" "$rates"
    for arch in haswell zen3 skx; do
        row "BLIS, BLIS_ARCH_TYPE=$arch" "$(env BLIS_ARCH_TYPE=$arch BLIS_NUM_THREADS=1 "$work/blis")"
    done
else
    echo "(BLIS not installed: apt-get install libblis-dev for its rows)"
fi
