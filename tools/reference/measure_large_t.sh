#!/usr/bin/env bash
# Where Float32 stops being exact: `cssdbg eval --json` against the Float64 reference
# (tools/reference/reference_sim.py) for large T, per β and L, counting the report fields outside
# docs/numerics.md §9 (tools/reference/compare_reports.py). This is the measurement behind the T limit
# of docs/numerics.md §10.
#
#   tools/reference/measure_large_t.sh [BUNDLE] [--limit N]
#
# BUNDLE defaults to samples/digits-mlp; --limit N evaluates the first N samples (default all).
# BETAS, LS and TS (space-separated) choose the grid. CSSDBG names the binary (default: the
# debug build). Prints one line per (β, L, T); a T above the limit shows cssdbg's refusal.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bundle=$root/samples/digits-mlp
limit=()
while [ $# -gt 0 ]; do
  case $1 in
    --limit) limit=(--limit "$2"); shift 2 ;;
    *) bundle=$1; shift ;;
  esac
done
PY=$("$root/scripts/pyenv.sh")
bin=${CSSDBG:-$(cd "$root" && swift build --show-bin-path)/cssdbg}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf '%-5s %-2s %-3s %-10s %-9s %-9s %s\n' beta L T "fields-off" "cpl-ours" "cpl-ref" "worst field"
for beta in ${BETAS:-1.25 1.5 2}; do
  for L in ${LS:-0 1}; do
    for T in ${TS:-16 20 24 28 32 40}; do
      if ! "$bin" eval "$bundle" -T "$T" --beta "$beta" --silent "$L" "${limit[@]}" --json > "$tmp/ours.json" 2> "$tmp/err"; then
        printf '%-5s %-2s %-3s refused: %s\n' "$beta" "$L" "$T" "$(head -1 "$tmp/err")"
        continue
      fi
      "$PY" "$root/tools/reference/reference_sim.py" "$bundle" -T "$T" --beta "$beta" --silent "$L" "${limit[@]}" > "$tmp/ref.json"
      n=$("$PY" "$root/tools/reference/compare_reports.py" "$tmp/ours.json" "$tmp/ref.json" > "$tmp/cmp" && echo 0 || tail -1 "$tmp/cmp" | cut -d' ' -f1)
      cpl() { "$PY" -c 'import json,sys; print(sum(l["coupling"] for l in json.load(open(sys.argv[1]))["layers"]))' "$1"; }
      printf '%-5s %-2s %-3s %-10s %-9s %-9s %s\n' "$beta" "$L" "$T" "$n" "$(cpl "$tmp/ours.json")" "$(cpl "$tmp/ref.json")" "$(head -1 "$tmp/cmp")"
    done
  done
done
