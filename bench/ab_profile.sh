#!/usr/bin/env bash
# Two cssdbg binaries side by side, node by node: alternated `cssdbg bench --profile` runs, the
# median over the rounds of every node's SNN and ANN time and of the samples/s, and B's time as a
# share of A's. For levers that change kernels: build A from the commit before, B from after.
#
#   bench/ab_profile.sh [--rounds 3] [--threads 2] [--pair] A_BINARY B_BINARY [bench options...]
#   e.g. bench/ab_profile.sh /tmp/before/cssdbg .build/release/cssdbg --model resnet18-imagenet --batch 16
#
# --pair runs A and B at the same time, each on one thread pinned to its own core (taskset), the
# cores swapped every round: on a machine whose speed drifts over tens of seconds both sides see
# the same drift, where alternated runs each see their own. It needs 2 cores and measures
# single-threaded kernels (the two runs share the L3 cache and the memory bandwidth).
#
# Runs without the environment's OpenBLAS core pin (env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE),
# as every benchmark here does.
set -euo pipefail
ROUNDS=3
THREADS=2
PAIR=0
while [ $# -gt 0 ]; do
    case $1 in
        --rounds) ROUNDS=$2; shift 2 ;;
        --threads) THREADS=$2; shift 2 ;;
        --pair) PAIR=1; THREADS=1; shift ;;
        -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
        *) break ;;
    esac
done
[ $# -ge 2 ] || { echo "usage: bench/ab_profile.sh [--rounds N] [--threads N] [--pair] A B [bench options...]" >&2; exit 2; }
A=$1 B=$2
shift 2
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
run() {  # run SIDE ROUND [taskset core]
    local bin=$A; [ "$1" = B ] && bin=$B
    local pin=(); [ $# -ge 3 ] && pin=(taskset -c "$3")
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "${pin[@]}" "$bin" bench --threads "$THREADS" --iters 1 --profile \
        "${bench[@]}" > "$out/$1.$2" 2>&1 || { echo "$bin failed:" >&2; cat "$out/$1.$2" >&2; return 1; }
}
bench=("$@")
for r in $(seq 1 "$ROUNDS"); do
    if [ "$PAIR" = 1 ]; then
        run A "$r" $((r % 2)) & pa=$!
        run B "$r" $((1 - r % 2)) & pb=$!
        wait "$pa" && wait "$pb"
    else
        run A "$r"
        run B "$r"
    fi
done
mode="alternated"; [ "$PAIR" = 1 ] && mode="simultaneous, one pinned core each,"
echo "load average $(cut -d' ' -f1-3 /proc/loadavg) after $ROUNDS $mode rounds, $THREADS threads"
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
    /^total/ { table = 0; val[side, "total (ms)", round] = $2; val[side, "ann total (ms)", round] = $4; keys["total (ms)"] = 1; next }
    table && NF >= 5 {
        # name op [op...] output SNN_ms % ANN_ms [nz]: the SNN time is the 3rd number from the end
        # when a density column follows, else the 3rd to last field.
        n = NF; if ($n ~ /%$/ && $(n - 1) !~ /%$/) n = NF - 1
        ms = $(n - 2)
        if (!($1 in order)) { order[$1] = ++count; names[count] = $1 }
        val[side, $1, round] = ms
        val[side, "ann " $1, round] = $n
    }
    # key, then SNN A, B, B/A and (where the profile has them) ANN A, B, B/A
    function row(label, k,   a, b, a2, b2) {
        a = median(k, "A"); b = median(k, "B"); a2 = median("ann " k, "A"); b2 = median("ann " k, "B")
        if (a < 0 || b < 0) return
        printf "%-26s %10.2f %10.2f %6.2f×", label, a, b, (a > 0 ? b / a : 0)
        if (a2 >= 0 && b2 >= 0) printf " %10.2f %10.2f %6.2f×", a2, b2, (a2 > 0 ? b2 / a2 : 0)
        printf "\n"
    }
    END {
        printf "%-26s %10s %10s %7s %10s %10s %7s\n", "", "A", "B", "B / A", "ANN A", "ANN B", "B / A"
        for (k in keys) if (k != "total (ms)") row(k, k)
        row("total (ms)", "total (ms)")
        for (i = 1; i <= count; i++) row(names[i], names[i])
    }' "$out"/A.* "$out"/B.*
