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
row() {  # label, command...
    local label=$1; shift
    printf '%-34s %s\n' "$label" "$("$@" | awk '{printf "%13s", $2}')"
}
printf '%-34s' "GFLOP/s, 1 thread, M×N×K:"
"$work/openblas" | awk '{printf "%13s", $1}'
echo
row "OpenBLAS, no pin" env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS=1 "$work/openblas"
row "OpenBLAS, CORETYPE=${OPENBLAS_CORETYPE:-Haswell}" env OPENBLAS_CORETYPE="${OPENBLAS_CORETYPE:-Haswell}" OPENBLAS_NUM_THREADS=1 "$work/openblas"
blis=$(ls /usr/lib/*-linux-gnu/libblis.so.4 2>/dev/null | head -1 || true)
if [ -n "$blis" ]; then
    gcc -O2 "$here/gemm_rates.c" -o "$work/blis" "$blis"
    picked=$(BLIS_ARCH_DEBUG=1 BLIS_NUM_THREADS=1 "$work/blis" 2>&1 >/dev/null | sed -n "s/.*sub-configuration '\(.*\)'.*/\1/p" | head -1)
    row "BLIS, its own pick (${picked:-?})" env BLIS_NUM_THREADS=1 "$work/blis"
    for arch in haswell zen3 skx; do
        row "BLIS, BLIS_ARCH_TYPE=$arch" env BLIS_ARCH_TYPE=$arch BLIS_NUM_THREADS=1 "$work/blis"
    done
else
    echo "(BLIS not installed: apt-get install libblis-dev for its rows)"
fi
