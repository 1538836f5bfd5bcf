#!/usr/bin/env bash
# End-to-end checks of `cssdbg doctor` and `eval --attribution` on the real binary: the JSON
# schema, the recommendation, the θ file it writes (atomically, refusing another model's without
# --force), --budget and Ctrl-C keeping the best found so far, and one-line errors for bad input.
set -u
. "$(dirname "$0")/lib.sh"
e2e_init doctor
tmp=$E2E_TMP

expect_error() { # name rc pattern args...: exit rc and exactly one line on stderr matching pattern
  local name=$1 want=$2 pattern=$3; shift 3
  "$BIN" "$@" >"$tmp/out" 2>"$tmp/err"; local rc=$?
  if [ $rc -eq "$want" ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q -- "$pattern" "$tmp/err"; then ok "$name"
  else bad "$name (rc=$rc: $(head -c 300 "$tmp/err"))"; fi
}

"$BIN" doctor samples/digits-mlp --json --out "$tmp/mlp.theta.json" >"$tmp/d.json" 2>"$tmp/err"
check "doctor exits 0" test $? -eq 0
check "doctor --json: schema, the recommendation latency 5 (T 5, L 0, negative on), lossless" python3 - "$tmp/d.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for k in ["model", "samples", "ann_accuracy", "tolerance", "diagnosis", "recommended", "stop", "not_visited", "tried", "pareto", "reproduce"]:
    assert k in d, k
r = d["recommended"]
assert (r["T"], r["silent"], r["negative"], r["latency"]) == (5, 0, True, 5), r
assert r["snn_accuracy"] >= d["ann_accuracy"] - 0.005 and d["stop"] == "found"
assert r["theta_file"].endswith("mlp.theta.json")
for k in ["T", "beta", "silent", "negative", "rounds", "latency", "snn_accuracy", "agreement", "synaptic_ops",
          "energy_pj", "lossless", "pruned_by", "note"]:
    assert all(k in t for t in d["tried"]), k
# latency orders the search: nothing tried above the recommendation's latency, every lower one tried and not lossless
assert max(t["latency"] for t in d["tried"]) == 5
assert not any(t["lossless"] for t in d["tried"] if t["latency"] < 5)
assert d["diagnosis"]["findings"] and all("text" in f for f in d["diagnosis"]["findings"])
PY
check "the θ file holds the recommended config" python3 -c "
import json; t = json.load(open('$tmp/mlp.theta.json'))
assert t['format'] == 'cssdbg-theta/1' and t['model'] == 'digits-mlp'
assert t['config']['T'] == 5 and t['config']['silent'] == 0, t['config']"
"$BIN" eval samples/digits-mlp --theta "$tmp/mlp.theta.json" --json >"$tmp/e.json" 2>"$tmp/err"
check "eval --theta of the doctor's θ reproduces its accuracy" python3 -c "
import json; e = json.load(open('$tmp/e.json')); d = json.load(open('$tmp/d.json'))
assert e['snn_accuracy'] == d['recommended']['snn_accuracy'] and e['latency'] == 5, (e['snn_accuracy'], d['recommended'])"
expect_error "doctor refuses another model's θ file without --force" 1 "holds θ of model 'digits-mlp', not 'digits-cnn'" doctor samples/digits-cnn --out "$tmp/mlp.theta.json" --max-T 3
check "and leaves it as it was" python3 -c "
import json; assert json.load(open('$tmp/mlp.theta.json'))['model'] == 'digits-mlp'"

"$BIN" doctor samples/digits-resnet --silent 0 --no-negative >"$tmp/t.txt" 2>"$tmp/err"
check "doctor table: the diagnosis names coupling and its remedy" grep -q "coupling in every layer costs up to 79.4 points.*negative spikes or L ≥ 1 remove it" "$tmp/t.txt"
check "doctor table: the overflow finding with A.3's factor" grep -q "block1.relu1 overflows in 9 cases: θ is too small (A.3 raises it ×1.22)" "$tmp/t.txt"
check "doctor table: recommended latency 5 (was 10)" grep -q "latency 5 (was 10), SNN accuracy 99.17 % (was 20.00 %)" "$tmp/t.txt"
check "doctor table: the reproduce lines" grep -q "python -m cssdbg_torch eval samples/digits-resnet --theta THETA.json" "$tmp/t.txt"

"$BIN" doctor samples/digits-mlp --pareto latency,energy --json >"$tmp/p.json" 2>"$tmp/err"
check "doctor --pareto latency,energy: the front weighs synaptic operations too" python3 -c "
import json; d = json.load(open('$tmp/p.json')); assert d['pareto_criteria'] == 'latency,energy'
done = [t for t in d['tried'] if t['snn_accuracy'] is not None]
front = lambda c: [t for t in done if not any(q['snn_accuracy'] >= t['snn_accuracy'] and q['latency'] <= t['latency'] and q['synaptic_ops'] <= t['synaptic_ops'] and (q['snn_accuracy'] > t['snn_accuracy'] or q['latency'] < t['latency'] or q['synaptic_ops'] < t['synaptic_ops']) for q in done)]
assert sorted((t['T'], t['silent'], t['negative'], t['rounds']) for t in d['pareto']) == sorted((t['T'], t['silent'], t['negative'], t['rounds']) for t in front(0))"
"$BIN" doctor samples/digits-cnn --budget 0.001 --json >"$tmp/b.json" 2>"$tmp/err"
check "--budget stops early and says so" python3 -c "
import json; d = json.load(open('$tmp/b.json')); assert d['stop'] == 'budget' and d['not_visited'] > 0, d['stop']"

# Ctrl-C during the search: the best found so far, and why it stopped.
"$BIN" doctor samples/digits-resnet --json >"$tmp/i.json" 2>"$tmp/err" &
pid=$!
sleep 8
kill -INT $pid
wait $pid; rc=$?
check "Ctrl-C ends the search with exit 0" test $rc -eq 0
check "Ctrl-C keeps what was found and says it was interrupted" python3 -c "
import json; d = json.load(open('$tmp/i.json')); assert d['stop'] in ('interrupted', 'found'), d['stop']; assert d['tried']"

expect_error "doctor: tolerance out of range" 64 "^cssdbg: --tolerance -1: must be between 0 and 100" doctor samples/digits-mlp --tolerance -1
mkdir -p "$tmp/bare" && cp samples/digits-mlp/model.onnx "$tmp/bare/" && cp samples/digits-mlp/data.npy "$tmp/bare/inputs.npy"
expect_error "doctor: no labels and no calibration set" 1 "has no labels and no calibration set of its own" doctor "$tmp/bare/model.onnx" --data "$tmp/bare/inputs.npy"
expect_error "doctor: --max-rounds out of range" 64 "^cssdbg: --max-rounds 99: must be between 0 and 20" doctor samples/digits-mlp --max-rounds 99
expect_error "eval --attribution that does not fit --memory names the budget it needs" 1 "too small for this model and data.*use --memory [0-9]*MiB or more" eval samples/digits-resnet --attribution --memory 10M
expect_error "doctor that does not fit --memory names the budget it needs" 1 "too small for this model and data.*use --memory [0-9]*MiB or more" doctor samples/digits-resnet --memory 10M
expect_error "eval: --e-mac not positive" 64 "^cssdbg: --e-mac -1: must be a positive number of pJ" eval samples/digits-mlp --e-mac -1
expect_error "eval: --e-ac not a number" 64 "e-ac" eval samples/digits-mlp --e-ac x

"$BIN" eval samples/coupling --attribution >"$tmp/a.txt" 2>"$tmp/err"
check "eval --attribution without labels says it reports agreement" grep -q "no labels: the attribution reports agreement with the ANN instead of accuracy" "$tmp/err"
"$BIN" eval samples/digits-resnet --silent 0 --no-negative --attribution --json --e-ac 0.5 >"$tmp/a.json" 2>"$tmp/err"
check "eval --attribution --json: culprits and the exact-prefix curve" python3 -c "
import json; d = json.load(open('$tmp/a.json'))
assert [l['culprit_samples'] for l in d['layers']][:3] == [107, 97, 76], [l['culprit_samples'] for l in d['layers']]
assert len(d['exact_prefix_accuracy']) == len(d['layers']) + 1 and d['culprit_basis'] == 'accuracy'
assert d['e_ac_pj'] == 0.5 and abs(d['energy_pj']['snn'] - 0.5 * d['synaptic_ops']) < 1e-6"
finish
