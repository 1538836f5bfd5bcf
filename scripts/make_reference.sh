#!/usr/bin/env bash
# Regenerates Tests/Fixtures/reference/*.json with the Float64 reference (scripts/reference_sim.py).
# Run after scripts/make_samples.py. PYTHON defaults to the project venv.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
py="${PYTHON:-/work/venv/bin/python}"
out="$root/Tests/Fixtures/reference"
mkdir -p "$out"
sim() { "$py" "$root/scripts/reference_sim.py" --indent 1 "$@"; }
for s in digits-mlp digits-cnn digits-resnet; do
    sim "$root/samples/$s" > "$out/$s-default.json"
    sim "$root/samples/$s" --silent 0 --no-negative > "$out/$s-L0-noneg.json"
done
theta="$root/samples/coupling/theta.json"
sim "$root/samples/coupling" --theta "$theta" -T 2 --beta 2 --silent 0 > "$out/coupling-L0.json"
sim "$root/samples/coupling" --theta "$theta" -T 2 --beta 2 --silent 1 > "$out/coupling-L1.json"
ls -l "$out"
