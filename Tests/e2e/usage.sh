#!/usr/bin/env bash
# Issue 14 bug 5 on the real binary: every usage error is one line `cssdbg: …` on stderr that
# names the flag, with exit status 64 (EX_USAGE); file errors keep exit status 1; help exits 0.
set -uo pipefail
BIN=${CSSDBG:-${1:-.build/debug/cssdbg}}
cd "$(dirname "$0")/../.."
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0; fail=0
ok()  { pass=$((pass+1)); echo "ok   $1"; }
bad() { fail=$((fail+1)); echo "FAIL $1"; }

expect() { # expect NAME STATUS PATTERN ARGS...: exit STATUS, one stderr line matching PATTERN
  local name=$1 status=$2 pattern=$3; shift 3
  "$BIN" "$@" >"$tmp/out" 2>"$tmp/err" </dev/null; local rc=$?
  if [ $rc -eq "$status" ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q '^cssdbg: ' "$tmp/err" \
     && grep -qF -- "$pattern" "$tmp/err"; then ok "$name"
  else bad "$name (rc=$rc, want $status: $(head -c 300 "$tmp/err"))"; fi
}
m=samples/digits-mlp
expect "--silent -1 is a value out of range, not a missing one" 64 "--silent -1: silent period L must be" eval $m --silent -1
expect "-T 0 names -T" 64 "-T 0: T must be" eval $m -T 0
expect "--beta 9 names --beta" 64 "--beta 9: beta must be" eval $m --beta 9
expect "--percentile 0 names --percentile" 64 "--percentile 0:" eval $m --percentile 0
expect "--rate --beta 2 is refused" 64 "--rate sets β = 1" eval $m --rate --beta 2
expect "--rate --silent 1 is refused" 64 "--silent 1" eval $m --rate --silent 1
expect "--threads 0" 64 "--threads 0: must be 1 or more" eval $m --threads 0
expect "--limit -5" 64 "--limit -5: must be 1 or more" eval $m --limit -5
expect "tune --rounds 0 like :adjust all 0" 64 "--rounds 0: must be between 1 and 100" tune $m --rounds 0 --out "$tmp/t.json"
expect "tune --rounds 101" 64 "--rounds 101" tune $m --rounds 101 --out "$tmp/t.json"
expect "--sample beyond the data says 0 to 359" 64 "--sample 360: out of range 0 to 359" $m --sample 360
expect "--sample -1" 64 "--sample -1: must be 0 or more" $m --sample -1
expect "unknown flag" 64 "Unknown option '--frobnicate'" eval $m --frobnicate
expect "missing model" 64 "Missing expected argument '<model>'" eval
expect "missing value" 64 "Missing value for '-T <T>'" eval $m -T
expect "not a number" 64 "'x' is invalid for '--beta" eval $m --beta x
expect "bench --model NAME lists the built-in models" 64 "not a built-in model (vgg16, resnet18, resnet18-imagenet)" bench --model vgg19
expect "bench --conv fft" 64 "--conv fft: must be one of auto, winograd4, winograd, im2col" bench --conv fft
expect "eval --conv fft" 64 "--conv fft: must be one of auto, winograd4, winograd, im2col" eval $m --conv fft
expect "sweep --conv fft" 64 "--conv fft: must be one of auto, winograd4, winograd, im2col" sweep $m --conv fft
expect "bench -T 0" 64 "-T 0: T must be" bench --model samples/digits-mlp -T 0
expect "a mistyped subcommand suggests the closest one" 64 "did you mean 'eval'" evl $m
expect "a mistyped subcommand alone suggests too" 64 "did you mean 'eval'" evl
expect "a missing file is not a usage error" 1 "nope: no such file" eval nope
"$BIN" --help >"$tmp/out" 2>"$tmp/err"; rc=$?
if [ $rc -eq 0 ] && grep -q "exit status 64" "$tmp/out" && [ ! -s "$tmp/err" ]; then ok "--help exits 0 on stdout and documents 64"
else bad "--help (rc=$rc)"; fi
"$BIN" eval --help >"$tmp/out" 2>&1; rc=$?
if [ $rc -eq 0 ] && grep -q -- "--silent" "$tmp/out"; then ok "eval --help"; else bad "eval --help (rc=$rc)"; fi

# The eval table's "violations by k0" block has a k0 header row over its columns.
"$BIN" eval samples/digits-resnet --silent 0 --limit 40 >"$tmp/out" 2>/dev/null </dev/null
if grep -A1 "violations by k0" "$tmp/out" | grep -qE '^  k0 +0 +1 +2 .* end$'; then ok "eval: the violations block has a k0 header"
else bad "eval: no k0 header ($(grep -A2 'violations by k0' "$tmp/out"))"; fi

echo "usage: $pass passed, $fail failed"
[ $fail -eq 0 ]
