#!/usr/bin/env bash
# Two cssdbg binaries side by side, node by node: alternated `cssdbg bench --profile` runs, the
# median over the rounds of every node's SNN time and of the SNN samples/s, and B's time as a
# share of A's. For levers that change kernels: build A from the commit before, B from after.
#
#   bench/ab_profile.sh [--rounds 3] [--threads 2] A_BINARY B_BINARY [bench options...]
#   e.g. bench/ab_profile.sh /tmp/before/cssdbg .build/release/cssdbg --model resnet18-imagenet --batch 16
#
# Runs without the environment's OpenBLAS core pin (env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE),
# as every benchmark here does.
set -euo pipefail
ROUNDS=3
THREADS=2
while [ $# -gt 0 ]; do
    case $1 in
        --rounds) ROUNDS=$2; shift 2 ;;
        --threads) THREADS=$2; shift 2 ;;
        -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
        *) break ;;
    esac
done
[ $# -ge 2 ] || { echo "usage: bench/ab_profile.sh [--rounds N] [--threads N] A B [bench options...]" >&2; exit 2; }
A=$1 B=$2
shift 2
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for r in $(seq 1 "$ROUNDS"); do
    for side in A B; do
        bin=$A; [ $side = B ] && bin=$B
        env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$bin" bench --threads "$THREADS" --iters 1 --profile "$@" \
            > "$out/$side.$r" 2>&1 || { echo "$bin failed:" >&2; cat "$out/$side.$r" >&2; exit 1; }
    done
done
echo "load average $(cut -d' ' -f1-3 /proc/loadavg) after $ROUNDS alternated rounds, $THREADS threads"
awk -v rounds="$ROUNDS" '
    function median(key, side,   n, i, j, v, t) {
        n = 0
        for (i = 1; i <= rounds; i++) if ((side, key, i) in val) v[++n] = val[side, key, i]
        for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
        return n ? v[int((n + 1) / 2)] : -1
    }
    FNR == 1 { split(FILENAME, parts, "/"); split(parts[length(parts)], sr, "."); side = sr[1]; round = sr[2] }
    /^SNN simulation/ { val[side, "SNN samples/s", round] = $3; keys["SNN samples/s"] = 1 }
    /^ANN forward/ { val[side, "ANN samples/s", round] = $3; keys["ANN samples/s"] = 1 }
    /^node / { table = 1; next }
    /^total/ { table = 0; val[side, "total (ms)", round] = $2; keys["total (ms)"] = 1; next }
    table && NF >= 5 {
        # name op [op...] output SNN_ms % ANN_ms [nz]: the SNN time is the 3rd number from the end
        # when a density column follows, else the 3rd to last field.
        n = NF; if ($n ~ /%$/ && $(n - 1) !~ /%$/) n = NF - 1
        ms = $(n - 2)
        if (!($1 in order)) { order[$1] = ++count; names[count] = $1 }
        val[side, $1, round] = ms
    }
    END {
        printf "%-26s %12s %12s %8s\n", "", "A", "B", "B / A"
        for (k in keys) { a = median(k, "A"); b = median(k, "B"); printf "%-26s %12.2f %12.2f %7.2f×\n", k, a, b, (a > 0 ? b / a : 0) }
        for (i = 1; i <= count; i++) {
            k = names[i]; a = median(k, "A"); b = median(k, "B")
            if (a >= 0 && b >= 0) printf "%-26s %12.2f %12.2f %7.2f×\n", k, a, b, (a > 0 ? b / a : 0)
        }
    }' "$out"/A.* "$out"/B.*
