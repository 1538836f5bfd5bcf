#!/usr/bin/env bash
# End-to-end checks of `cssdbg find` and `cssdbg sweep` on the real binary: the JSON of issue 12
# exactly, hits in data order then step order, the coupling example's hit where docs/numerics.md
# §8 puts it, sweep --svg writing a well-formed SVG, and bad input → one line, exit 64.
set -u
. "$(dirname "$0")/lib.sh"
e2e_init find_sweep
tmp=$E2E_TMP

expect_usage() { # name pattern args...: exit 64 and exactly one line on stderr matching pattern
  local name=$1 pattern=$2; shift 2
  "$BIN" "$@" >"$tmp/out" 2>"$tmp/err"; local rc=$?
  if [ $rc -eq 64 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q -- "$pattern" "$tmp/err"; then ok "$name"
  else bad "$name (rc=$rc: $(head -c 300 "$tmp/err"))"; fi
}

# find --json: schema, order, the coupling example (its theta.json: T = 2, β = 2, L = 0); LAYER by
# tensor name, the condition shown with the display name (relu1)
"$BIN" find samples/coupling --break coupling --break 'spike hidden 0 +' --break flip --json >"$tmp/c.json" 2>"$tmp/err"
check "find --json exits 0" test $? -eq 0
check "find --json: the coupling example's first violation at g = 1 (docs/numerics.md §8)" python3 - "$tmp/c.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert list(d) == ["model", "hits"], list(d)
assert d["model"] == "coupling"
hits = d["hits"]
for h in hits:
    assert list(h) == ["break", "condition", "sample", "step", "layer", "tensor", "neuron"], list(h)
assert [(h["break"], h["condition"], h["sample"], h["step"], h["tensor"], h["neuron"]) for h in hits] == [
    (1, "coupling", 0, 1, "hidden", 0), (2, "spike relu1 0 +", 0, 1, "hidden", 0)], hits
PY

"$BIN" find samples/digits-cnn --limit 12 --break coupling --break flip --break 'residual > 0.9' --json >"$tmp/d.json" 2>"$tmp/err"
check "find --json on digits-cnn exits 0" test $? -eq 0
check "find: hits in data order, then step order; flip has neuron -1 and the output" python3 - "$tmp/d.json" <<'PY'
import json, sys
hits = json.load(open(sys.argv[1]))["hits"]
assert hits, "no hits"
keys = [(h["sample"], h["step"]) for h in hits]
assert keys == sorted(keys), keys[:20]
for h in hits:
    if h["condition"] == "flip":
        assert h["neuron"] == -1 and h["layer"] == "output", h
    else:
        assert h["neuron"] >= 0 and h["layer"] != "output", h
assert {h["break"] for h in hits} >= {1, 3}, {h["break"] for h in hits}
PY
"$BIN" find samples/digits-cnn --limit 12 --break coupling >"$tmp/table" 2>&1
check "find table names the breakpoint and its hit count" grep -q "^break 1: coupling  — [0-9]* hits\?$" "$tmp/table"

expect_usage "find: a neuron missing" "^cssdbg: --break 'spike hidden': needs a neuron" find samples/coupling --break 'spike hidden'
expect_usage "find: unknown condition" "^cssdbg: --break cuopling: unknown condition 'cuopling'" find samples/coupling --break cuopling
expect_usage "find: unknown layer" "^cssdbg: --break 'coupling conv9': no spiking layer named 'conv9'" find samples/digits-cnn --break 'coupling conv9'
expect_usage "find: margin without a value" "needs a value after '<'" find samples/coupling --break 'margin hidden <'
expect_usage "find: no --break" "^cssdbg: --break: give at least one condition" find samples/coupling
expect_usage "find: wrong without labels" "needs labels and the data has none" find samples/coupling --break wrong

# sweep --json and --svg
"$BIN" sweep samples/digits-mlp --limit 40 -T 4,6 --silent 0,1 --negative on,off --svg "$tmp/s.svg" --json >"$tmp/s.json" 2>"$tmp/err"
check "sweep exits 0" test $? -eq 0
check "sweep --json schema, every combination, a Pareto front" python3 - "$tmp/s.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert list(d) == ["model", "samples", "pareto_criteria", "points"] and d["samples"] == 40, list(d)
assert d["pareto_criteria"] == "latency"
keys = ["T", "beta", "silent", "negative", "rounds", "latency", "ann_accuracy", "snn_accuracy", "agreement",
        "residual_p999_max", "overflow", "coupling", "synaptic_ops", "energy_pj", "pareto"]
for p in d["points"]:
    assert list(p) == keys, list(p)
assert [(p["T"], p["silent"], p["negative"]) for p in d["points"]] == [
    (T, L, n) for T in (4, 6) for L in (0, 1) for n in (True, False)]
assert any(p["pareto"] for p in d["points"])
PY
check "sweep --svg writes a well-formed SVG with a legend" python3 - "$tmp/s.svg" <<'PY'
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
assert root.tag.endswith("svg"), root.tag
text = " ".join(t.text or "" for t in root.iter() if t.tag.endswith("text"))
for want in ("latency", "SNN accuracy", "L = 0, negative on", "L = 1, negative off", "Pareto front"):
    assert want in text, (want, text)
# No point hides another: the points (r 4, the legend's excepted) sit at distinct places, and
# points that share a latency and score say so.
dots = [(c.get("cx"), c.get("cy")) for c in root.iter() if c.tag.endswith("circle") and c.get("r") == "4"
        and any(t.tag.endswith("title") for t in c)]
assert len(dots) == 8 and len(set(dots)) == len(dots), dots
PY
check "sweep leaves no temporary file next to the SVG" test "$(ls -a "$tmp" | grep -c '\.tmp-')" -eq 0

expect_usage "sweep: T beyond the limit of its β" "^cssdbg: -T 40: T must be at most 25 for beta 1.5" sweep samples/digits-mlp -T 6,40
expect_usage "sweep: β not above 1" "^cssdbg: --beta 1,2: β must be more than 1" sweep samples/digits-mlp --beta 1,2
expect_usage "sweep: L below 0" "^cssdbg: --silent -1: silent period L must be between 0 and 16" sweep samples/digits-mlp --silent -1
expect_usage "sweep: not a number" "^cssdbg: -T 4,x: 'x' is not a whole number" sweep samples/digits-mlp -T 4,x
expect_usage "sweep: negative neither on nor off" "^cssdbg: --negative maybe: 'maybe' is not on or off" sweep samples/digits-mlp --negative maybe
expect_usage "sweep: a value twice" "'4' is listed twice" sweep samples/digits-mlp -T 4,4
expect_usage "sweep: --rounds out of range" "^cssdbg: --rounds 0: must be between 1 and 100" sweep samples/digits-mlp --rounds 0

"$BIN" sweep samples/digits-mlp --limit 40 -T 3,4 --silent 0 --pareto energy --chart-x energy --svg "$tmp/e.svg" --json >"$tmp/e.json" 2>"$tmp/err"
check "sweep --pareto energy --chart-x energy: the front weighs energy, the chart's axis is the SNN's energy" python3 - "$tmp/e.json" "$tmp/e.svg" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["pareto_criteria"] == "energy"
pts = d["points"]
for p in pts:
    dominated = any(q["snn_accuracy"] >= p["snn_accuracy"] and q["synaptic_ops"] <= p["synaptic_ops"]
                    and (q["snn_accuracy"] > p["snn_accuracy"] or q["synaptic_ops"] < p["synaptic_ops"]) for q in pts)
    assert p["pareto"] == (not dominated), p
assert "SNN energy per sample (nJ" in open(sys.argv[2]).read()
PY
expect_usage "sweep: --chart-x not an axis" "^cssdbg: --chart-x time: must be latency or energy" sweep samples/digits-mlp --chart-x time
expect_usage "sweep: --pareto not a criterion" "^cssdbg: --pareto speed: must be one of latency, energy, latency,energy" sweep samples/digits-mlp --pareto speed

finish
