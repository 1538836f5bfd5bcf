#!/usr/bin/env bash
# End-to-end checks of the headless commands on the real binary: JSON schema, exit codes,
# one-line errors naming the file, atomic θ writes, θ round trip.
# Uses the shared harness (Tests/e2e/lib.sh) for the binary, the counts and the summary line.
set -u
. "$(dirname "$0")/lib.sh"
e2e_init cli
tmp=$E2E_TMP

# eval --json: schema on every sample
for s in digits-mlp digits-cnn digits-resnet coupling; do
  "$BIN" eval "samples/$s" --json >"$tmp/$s.json" 2>"$tmp/err"
  check "eval --json $s exits 0" test $? -eq 0
  check "eval --json $s schema" python3 - "$tmp/$s.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
top = ["model","config","theta_source","theta_file","samples","latency","ann_accuracy","snn_accuracy","agreement","layers",
       "anytime_accuracy","anytime_agreement","settled_by_slot","macs","synaptic_ops","neuron_steps","e_mac_pj","e_ac_pj",
       "energy_pj","output"]
assert list(d) == top, list(d)
T = d["config"]["T"]
assert len(d["anytime_agreement"]) == T and len(d["settled_by_slot"]) == T and d["settled_by_slot"][-1] == d["samples"]
assert d["anytime_agreement"][-1] == d["agreement"]
assert d["energy_pj"]["ann"] == d["macs"] * 4.6 and abs(d["energy_pj"]["snn"] - d["synaptic_ops"] * 0.9) < 1e-6
assert d["macs"] == sum(l["macs"] for l in d["layers"]) + d["output"]["macs"]
assert set(d["config"]) == {"T","beta","silent","negative","percentile"}
T, L = d["config"]["T"], d["config"]["silent"]
keys = ["name","tensor","neurons","window_start","theta","residual_p999","residual_max","over_one","overflow",
        "coupling","violations_by_step","first_violation_by_step","spikes_positive","spikes_negative","activation_rmse",
        "macs","synaptic_ops","neuron_steps"]
for l in d["layers"]:
    assert list(l) == keys, list(l)
    assert len(l["violations_by_step"]) == T + L + 1
    assert sum(l["first_violation_by_step"]) == l["overflow"] + l["coupling"]
PY
done
check "coupling sample reports its coupling case" python3 -c "
import json; d=json.load(open('$tmp/coupling.json')); l=d['layers'][0]
assert (l['coupling'], l['overflow'], l['first_violation_by_step']) == (1, 0, [0,1,0]), l"

# readable table
"$BIN" eval samples/digits-mlp --limit 20 >"$tmp/table" 2>&1
check "eval table" grep -q "SNN accuracy" "$tmp/table"

# determinism: byte-identical output across runs and thread counts
"$BIN" eval samples/digits-cnn --limit 50 --json --threads 1 >"$tmp/a.json"
"$BIN" eval samples/digits-cnn --limit 50 --json --threads 2 >"$tmp/b.json"
check "eval --json identical across thread counts" cmp -s "$tmp/a.json" "$tmp/b.json"

# tune writes a θ file that eval reads back; the θ file reproduces tune's "after"
"$BIN" tune samples/digits-cnn --silent 0 --no-negative --rounds 2 --limit 60 --out "$tmp/theta.json" --json >"$tmp/tune.json"
check "tune exits 0 and writes θ" test -s "$tmp/theta.json"
check "θ file format" python3 -c "
import json; d=json.load(open('$tmp/theta.json')); assert d['format']=='cssdbg-theta/1'; assert d['config']['silent']==0 and d['config']['negative'] is False; assert 'input' in d['theta'] and len(d['theta'])==4"
"$BIN" eval samples/digits-cnn --limit 60 --theta "$tmp/theta.json" --json >"$tmp/after.json"
check "eval --theta reproduces tune's result" python3 -c "
import json; t=json.load(open('$tmp/tune.json')); e=json.load(open('$tmp/after.json'))
assert abs(t['after']['snn_accuracy']-e['snn_accuracy'])<1e-12, (t['after'], e['snn_accuracy'])
assert t['after']['coupling']==sum(l['coupling'] for l in e['layers'])
assert e['config']['silent']==0"

# bench: the JSON names scripts depend on, the convolution switch, the per-node profile
"$BIN" bench --model samples/digits-cnn --batch 2 --iters 1 --json >"$tmp/bench.json" 2>"$tmp/err"
check "bench --json schema" python3 -c "
import json; d = json.load(open('$tmp/bench.json'))
for k in ['model','batch','T','silent','threads','snn_samples_per_s','ann_samples_per_s','dense_gflops','peak_rss_mb']:
    assert k in d, k
assert d['conv'] == 'winograd' and d['batch'] == 2 and d['snn_samples_per_s'] > 0
assert d['model'] == 'digits-cnn', d['model']"
"$BIN" bench --model samples/digits-cnn --batch 2 --iters 1 --json --conv im2col >"$tmp/bench.json" 2>"$tmp/err"
check "bench --conv im2col" python3 -c "
import json; assert json.load(open('$tmp/bench.json'))['conv'] == 'im2col'"
"$BIN" bench --model samples/digits-cnn --batch 2 --iters 1 --json --ui >"$tmp/bench.json" 2>"$tmp/err"
check "bench --ui: latencies and the memory plan, the trace cache's cost" python3 -c "
import json; d = json.load(open('$tmp/bench.json'))
for k in ['ui_trace_ms','ui_retrace_last_layer_ms','ui_retrace_first_layer_ms','memory_batch','memory_trace_cache']:
    assert k in d, k
assert d['memory_trace_cache'] is True and d['memory_trace_cache_mib'] > 0, d"
"$BIN" bench --model samples/digits-cnn --batch 2 --iters 1 --profile >"$tmp/profile" 2>"$tmp/err"
check "bench --profile marks Winograd convs and totals" sh -c "grep -q 'Conv (W2)' '$tmp/profile' && grep -q '^total' '$tmp/profile'"
check "bench --profile has a row for the input encoder" grep -q '^(encoder) *Encode' "$tmp/profile"

# eval --conv: F(4×4) and im2col run (different rounding from the default F(2×2), so not the same
# bits) and stay within docs/numerics.md §9 of it on digits-cnn
"$BIN" eval samples/digits-cnn --limit 100 --json >"$tmp/w2.json"
for c in auto im2col; do
  "$BIN" eval samples/digits-cnn --limit 100 --json --conv $c >"$tmp/$c.json"
  check "eval --conv $c exits 0" test $? -eq 0
  check "eval --conv $c takes another path than the default" sh -c "! cmp -s '$tmp/$c.json' '$tmp/w2.json'"
  check "eval --conv $c within §9 of the default" python3 tools/reference/compare_reports.py "$tmp/$c.json" "$tmp/w2.json" --quiet
done

# bad input: one line, names the file, non-zero exit, no crash
expect_error() { # name pattern args...
  local name=$1 pattern=$2; shift 2
  "$BIN" "$@" >"$tmp/out" 2>"$tmp/err"; local rc=$?
  if [ $rc -ne 0 ] && [ $rc -lt 128 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q -- "$pattern" "$tmp/err"; then ok "$name"
  else bad "$name (rc=$rc: $(head -c 300 "$tmp/err"))"; fi
}
expect_error "missing model" "nope: no such file" eval nope
printf 'garbage' >"$tmp/model.onnx"
expect_error "garbage onnx" "model.onnx" eval "$tmp/model.onnx" --data samples/digits-mlp/data.npy
expect_error "refused operator" "MaxPool" eval Tests/Fixtures/onnx/refuse-maxpool.onnx --data Tests/Fixtures/onnx/flatten.input.npy
expect_error "data shape mismatch" "data.npy" eval samples/digits-mlp --data samples/digits-cnn/data.npy
expect_error "labels mismatch" "labels.npy" eval samples/digits-cnn --data samples/digits-cnn/calib.npy
head -c 100 samples/digits-mlp/data.npy >"$tmp/trunc.npy"
expect_error "truncated npy" "trunc.npy" eval samples/digits-mlp --data "$tmp/trunc.npy"
echo '{"format":"cssdbg-theta/1","theta":{"input":1}}' >"$tmp/wrong-theta.json"
expect_error "θ file for another model" "wrong-theta.json" eval samples/digits-mlp --theta "$tmp/wrong-theta.json"
echo 'not json' >"$tmp/broken-theta.json"
expect_error "broken θ file" "broken-theta.json: not valid JSON" eval samples/digits-mlp --theta "$tmp/broken-theta.json"
expect_error "bad config" "T must be" eval samples/digits-mlp -T 0
expect_error "T above the Float32 limit" "T must be at most 25 for beta 1.5" eval samples/digits-mlp -T 40
expect_error "T above 64: the β's limit at once" "T must be at most 25 for beta 1.5" eval samples/digits-mlp -T 99
expect_error "a small budget echoed as given" "a memory budget of 1 KiB is too small.*the runtime takes" eval samples/coupling --memory 1K
expect_error "bad --conv" "--conv fft: must be one of auto, winograd4, winograd, im2col" bench --conv fft
# An event log that cannot be opened is said before the terminal is touched.
CSSDBG_EVENT_LOG=/nonexistent-dir/events.log expect_error "unwritable CSSDBG_EVENT_LOG" \
  "CSSDBG_EVENT_LOG: /nonexistent-dir/events.log: cannot open the event log" samples/digits-mlp --no-session

# atomic θ writes: an unwritable target directory leaves the old file alone
mkdir -p "$tmp/ro"; cp "$tmp/theta.json" "$tmp/ro/theta.json"; chmod 555 "$tmp/ro"
if [ "$(id -u)" -ne 0 ]; then
  expect_error "failed θ write" "theta.json" tune samples/digits-mlp --rounds 1 --limit 5 --out "$tmp/ro/theta.json" --force
  check "previous θ intact" cmp -s "$tmp/theta.json" "$tmp/ro/theta.json"
fi
chmod 755 "$tmp/ro"
mkdir -p "$tmp/isdir"
expect_error "θ target is a directory" "isdir" tune samples/digits-mlp --rounds 1 --limit 5 --out "$tmp/isdir"

# θ files are never lost or silently replaced (issue 14 "Work that is kept")
abs_bin=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN"); root=$(pwd)
mkdir -p "$tmp/work"
(cd "$tmp/work" && "$abs_bin" tune "$root/samples/digits-mlp" --rounds 1 --limit 5 >"$tmp/out" 2>"$tmp/err")
check "tune without --out writes MODEL.theta.json in the current directory" python3 -c "
import json; d=json.load(open('$tmp/work/digits-mlp.theta.json')); assert d['model']=='digits-mlp'"
check "tune without --out says where it wrote" grep -q "^wrote digits-mlp.theta.json$" "$tmp/out"
check "tune without --out leaves the bundle's theta.json alone" test ! -e samples/digits-mlp/theta.json
(cd "$tmp/work" && "$abs_bin" tune "$root/samples/digits-mlp" --rounds 1 --limit 5 >"$tmp/out" 2>"$tmp/err")
check "tune again, same model and config: replaced and said so" grep -q "replaced the θ it held for this model and config" "$tmp/out"
cp "$tmp/work/digits-mlp.theta.json" "$tmp/work/digits-cnn.theta.json"
(cd "$tmp/work" && "$abs_bin" tune "$root/samples/digits-cnn" --rounds 1 --limit 5 >"$tmp/out" 2>"$tmp/err"); rc=$?
check "tune refuses to overwrite another model's θ file (exit 1, one line)" test $rc -eq 1 -a "$(wc -l <"$tmp/err")" -eq 1
check "the refusal names the file and the other model" grep -q "digits-cnn.theta.json: holds θ of model 'digits-mlp', not 'digits-cnn'; pass --force to replace it" "$tmp/err"
check "the refused file is intact" cmp -s "$tmp/work/digits-mlp.theta.json" "$tmp/work/digits-cnn.theta.json"
expect_error "tune refuses a θ file of another config" "holds θ for L=1, not L=0; pass --force" tune samples/digits-mlp --silent 0 --rounds 1 --limit 5 --out "$tmp/work/digits-mlp.theta.json"
echo '{"some": "notes"}' >"$tmp/work/notes.json"
expect_error "tune refuses to overwrite a file that is not a θ file" "notes.json: exists and is not a cssdbg-theta/1 file" tune samples/digits-mlp --rounds 1 --limit 5 --out "$tmp/work/notes.json"
(cd "$tmp/work" && "$abs_bin" tune "$root/samples/digits-cnn" --rounds 1 --limit 5 --force >"$tmp/out" 2>"$tmp/err"); rc=$?
check "tune --force replaces it" python3 -c "
import json; d=json.load(open('$tmp/work/digits-cnn.theta.json')); assert $rc==0 and d['model']=='digits-cnn' and len(d['theta'])==4"
check "tune --force says what it replaced" grep -q "(--force: it holds θ of model 'digits-mlp', not 'digits-cnn')" "$tmp/out"
mkdir -p "$tmp/bundle"; cp samples/digits-mlp/model.onnx samples/digits-mlp/data.npy "$tmp/bundle/"
"$BIN" tune "$tmp/bundle" --rounds 1 --limit 20 --out "$tmp/bundle/theta.json" >"$tmp/out" 2>&1
check "tune into a bundle's theta.json says eval of the bundle now uses it" grep -q "is a bundle's theta.json: eval and the debugger of that bundle now start from this θ" "$tmp/out"
"$BIN" eval "$tmp/bundle" --limit 20 >"$tmp/out" 2>&1
check "eval table names the bundle's theta.json in use" grep -q "^theta  $tmp/bundle/theta.json (the bundle's" "$tmp/out"
"$BIN" eval "$tmp/bundle" --limit 20 --json >"$tmp/b.json"
check "eval --json names the bundle's theta.json in use" python3 -c "
import json; d=json.load(open('$tmp/b.json')); assert d['theta_source']=='bundle' and d['theta_file']=='$tmp/bundle/theta.json', d"
check "eval --json of a calibrated model says so" python3 -c "
import json; d=json.load(open('$tmp/digits-mlp.json')); assert d['theta_source']=='calibration' and d['theta_file'] is None, d"
"$BIN" eval samples/digits-mlp --limit 20 --theta "$tmp/bundle/theta.json" --json >"$tmp/b.json"
check "eval --json with --theta" python3 -c "
import json; d=json.load(open('$tmp/b.json')); assert d['theta_source']=='--theta' and d['theta_file']=='$tmp/bundle/theta.json', d"

# tune with calibration data only (issue 10 §4)
python3 -c "
import numpy as np; np.save('$tmp/calib.npy', np.load('samples/digits-mlp/data.npy')[:40])" 2>/dev/null \
  || cp samples/digits-mlp/data.npy "$tmp/calib.npy"
cp samples/digits-mlp/model.onnx "$tmp/mlp.onnx"
"$BIN" tune "$tmp/mlp.onnx" --calib "$tmp/calib.npy" --rounds 2 --out "$tmp/calib-theta.json" >"$tmp/out" 2>"$tmp/err"
check "tune MODEL --calib C.npy runs with nothing else" test $? -eq 0 -a -s "$tmp/calib-theta.json"
check "tune on calibration only reports agreement on the calibration set" grep -q "^on the calibration set (.* samples, no data given" "$tmp/out"
check "tune on calibration only reports no accuracy" python3 -c "
import sys; t=open('$tmp/out').read(); assert 'accuracy' not in t.split('on the calibration set')[1].split('\n',1)[1], t"
"$BIN" tune "$tmp/mlp.onnx" --calib "$tmp/calib.npy" --rounds 2 --out "$tmp/calib-theta.json" --json >"$tmp/t.json" 2>"$tmp/err"
check "tune --json on calibration only" python3 -c "
import json; d=json.load(open('$tmp/t.json')); assert d['evaluated_on']=='calibration' and d['before']['snn_accuracy'] is None and d['replaced']=='same model and config', d"
"$BIN" tune "$tmp/mlp.onnx" --calib "$tmp/calib.npy" --data samples/digits-mlp/data.npy --labels samples/digits-mlp/labels.npy --rounds 1 --limit 30 --out "$tmp/calib-theta.json" --json >"$tmp/t.json" 2>"$tmp/err"
check "tune --calib with --data/--labels reports accuracy on the data" python3 -c "
import json; d=json.load(open('$tmp/t.json')); assert d['evaluated_on']=='data' and d['samples']==30 and d['before']['snn_accuracy'] is not None, d"
expect_error "tune without data or calibration" "mlp.onnx: no input data; put data.npy or calib.npy in the bundle, or pass --data X.npy or --calib C.npy" tune "$tmp/mlp.onnx"
expect_error "eval still needs data" "mlp.onnx: no input data; put data.npy in the bundle or pass --data X.npy" eval "$tmp/mlp.onnx" --calib "$tmp/calib.npy"

finish
