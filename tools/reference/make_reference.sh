#!/usr/bin/env bash
# Regenerates Tests/Fixtures/reference/*.json with the Float64 reference (tools/reference/reference_sim.py):
# every sample model for T ∈ {6, 8, 10, 12} × L ∈ {0, 1, 2} × negative spikes on/off at β = 1.5
# (NAME-T{T}-L{L}-{neg,noneg}.json; the coupling example with its theta.json), plus the coupling
# example at its own T = 2, β = 2 (coupling-L0.json, coupling-L1.json), and digits-mlp at large T
# up to the limit of docs/numerics.md §10 (digits-mlp-beta{β}-T{T}-L{L}.json).
# `tools/reference/make_reference.sh large-t` regenerates only the large-T files;
# `tools/reference/make_reference.sh find` only the `cssdbg find` and `cssdbg sweep` references
# (find-*.json: hits with the θ they were found with; sweep-*.json: sweep points), from
# tools/reference/reference_find.py.
# `tools/reference/make_reference.sh attribution` regenerates only the eval reports with --attribution
# (attr-NAME-T{T}-L{L}-{neg,noneg}.json: css-spec §10-§12 fields), `tools/reference/make_reference.sh doctor`
# only the lowest-latency lossless conversions (doctor-NAME.json, reference_doctor.py at tolerance 0.5
# with --table-latency auto, so its "tried" list answers every tolerance; capped at latency DOCTOR_CAP).
# Run after scripts/make_samples.py. Python comes from scripts/pyenv.sh; one process for all runs.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
py="$("$root/scripts/pyenv.sh")"
"$py" - "$root" "${1:-all}" <<'PY'
import json, os, sys, tempfile, time
from pathlib import Path
root = Path(sys.argv[1])
sys.path.insert(0, str(root / "tools" / "reference"))
import reference_sim as rs

out = root / "Tests" / "Fixtures" / "reference"
out.mkdir(parents=True, exist_ok=True)

def save(name, doc):
    fd, tmp = tempfile.mkstemp(dir=out, prefix=f".{name}.", suffix=".tmp")
    with os.fdopen(fd, "w") as f:
        f.write(json.dumps(doc, indent=1) + "\n")
    os.chmod(tmp, 0o644)
    os.replace(tmp, out / f"{name}.json")

def write(name, bundle, T, beta, L, negative, theta=None, attribution=False):
    cfg = rs.Config(T=T, beta=beta, silent=L, negative=negative, percentile=99.99)
    t0 = time.perf_counter()
    doc = rs.evaluate(root / "samples" / bundle, cfg, theta, None, 0, model_name=bundle, attribution=attribution)
    save(name, doc)
    print(name, f"{time.perf_counter() - t0:.1f} s", flush=True)

SAMPLES = ("digits-mlp", "digits-cnn", "digits-resnet", "coupling")
coupling_theta = json.loads((root / "samples" / "coupling" / "theta.json").read_text())["theta"]

def attribution():
    for sample in SAMPLES:
        theta = coupling_theta if sample == "coupling" else None
        for T, L, negative in ((10, 0, False), (8, 0, True), (8, 1, True), (6, 1, False)):
            write(f"attr-{sample}-T{T}-L{L}-{'neg' if negative else 'noneg'}", sample, T, 1.5, L, negative, theta,
                  attribution=True)

DOCTOR_CAP = 16  # the highest latency a doctor fixture visits (its "search" says when that was short)

def doctor():
    import reference_doctor as rd
    for sample in SAMPLES:
        t0 = time.perf_counter()
        doc = rd.doctor(root / "samples" / sample, tolerance=0.5, table_latency="auto", max_latency=DOCTOR_CAP,
                        model_name=sample)
        save(f"doctor-{sample}", doc)
        b = doc["best"]
        print(f"doctor-{sample}", f"{time.perf_counter() - t0:.1f} s", len(doc["tried"]), "configs, best",
              {k: b[k] for k in ("T", "silent", "negative", "rounds", "latency", "snn_accuracy")} if b else None,
              "ann", doc["ann_accuracy"], "capped" if doc["search"]["capped"] else "", flush=True)

def large_t():
    # T = 16, 32 where accepted, and the largest accepted T, for each β (docs/numerics.md §10)
    for beta, Ts in ((1.25, (16, 32, 43)), (1.5, (16, 25)), (2.0, (8, 16))):
        for T in Ts:
            for L in (0, 1):
                write(f"digits-mlp-beta{beta:g}-T{T}-L{L}", "digits-mlp", T, beta, L, True)

def find_and_sweep():
    import reference_find as rf
    coupling = json.loads((root / "samples" / "coupling" / "theta.json").read_text())["theta"]
    # (file, bundle, T, β, L, negative, θ, limit, conditions): LAYER by index (the reference's
    # names are tensor names; cssdbg resolves indices the same way).
    finds = [
        ("find-digits-mlp", "digits-mlp", 10, 1.5, 1, True, None, 60,
         ["coupling", "overflow", "violation 1", "spike 0 5 +", "spike 1 3", "margin 0 < 0.5", "residual > 0.6",
          "flip", "wrong", "disagree"]),
        ("find-digits-cnn", "digits-cnn", 4, 1.5, 0, False, None, 40,
         ["coupling", "overflow 1", "spike 0 100 +", "margin 2 < 0.25", "residual 1 > 0.9", "flip", "wrong",
          "disagree"]),
        ("find-digits-resnet", "digits-resnet", 6, 1.5, 1, False, None, 30,
         ["violation", "spike 2 17", "margin < -2", "residual > 1.5", "flip", "wrong", "disagree"]),
        ("find-coupling", "coupling", 2, 2.0, 0, True, coupling, None,
         ["coupling", "spike 0 0", "margin 0 < 1", "residual > 0.5", "flip", "disagree"]),
    ]
    for name, bundle, T, beta, L, negative, theta, limit, conds in finds:
        cfg = rs.Config(T=T, beta=beta, silent=L, negative=negative, percentile=99.99)
        doc = rf.find(root / "samples" / bundle, cfg, conds, theta, limit, model_name=bundle)
        (out / f"{name}.json").write_text(json.dumps(doc, indent=1) + "\n")
        print(name, len(doc["hits"]), "hits", flush=True)
    sweeps = [
        ("sweep-digits-mlp", "digits-mlp", (4, 6, 8), (1.5,), (0, 1), (True, False), 0, None),
        ("sweep-digits-cnn", "digits-cnn", (6,), (1.5, 2.0), (1,), (True, False), 1, 100),
    ]
    for name, bundle, Ts, betas, Ls, negs, rounds, limit in sweeps:
        doc = rf.sweep(root / "samples" / bundle, Ts, betas, Ls, negs, rounds, limit, model_name=bundle)
        (out / f"{name}.json").write_text(json.dumps(doc, indent=1) + "\n")
        print(name, len(doc["points"]), "points", flush=True)

if sys.argv[2] == "large-t":
    large_t()
    sys.exit(0)
if sys.argv[2] == "find":
    find_and_sweep()
    sys.exit(0)
if sys.argv[2] == "attribution":
    attribution()
    sys.exit(0)
if sys.argv[2] == "doctor":
    doctor()
    sys.exit(0)

for sample in SAMPLES:
    theta = coupling_theta if sample == "coupling" else None
    for T in (6, 8, 10, 12):
        for L in (0, 1, 2):
            for negative in (True, False):
                write(f"{sample}-T{T}-L{L}-{'neg' if negative else 'noneg'}", sample, T, 1.5, L, negative, theta)
write("coupling-L0", "coupling", 2, 2.0, 0, True, coupling_theta)
write("coupling-L1", "coupling", 2, 2.0, 1, True, coupling_theta)
large_t()
find_and_sweep()
attribution()
doctor()
PY
