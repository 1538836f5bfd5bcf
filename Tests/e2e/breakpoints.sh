#!/usr/bin/env bash
# End-to-end test of breakpoints in the debugger (issue 12) on the real binary under tmux:
#   A. --break 'coupling LAYER' on digits-resnet (--silent 0): c twice stops at the first two
#      stops `cssdbg find --json` (same model and options) reports, C goes back to the first
#   B. a search that never hits over 14 400 samples (must simulate), cancelled with Esc: the message says so, the
#      position did not move, q exits 0
#   C. a bad --break: one-line error naming --break, exit 64
# Every step waits for text on the screen (lib.sh), never fixed sleeps.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
e2e_init breakpoints
MODEL=samples/digits-resnet
LAYER=${BREAK_LAYER:-block1.relu1}
OPTS=(--silent 0 --limit 32)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

# A. The expected stops from the headless engine.
"$BIN" find "$MODEL" "${OPTS[@]}" --break "coupling $LAYER" --json >"$tmp/f.json" 2>"$tmp/err"
check "find --json exits 0" test $? -eq 0
python3 - "$tmp/f.json" "$LAYER" >"$tmp/expected" <<'PY'
import json, sys
hits = json.load(open(sys.argv[1]))["hits"]
stops = []
for h in hits:
    at = (h["sample"], h["step"])
    if at > (0, 0) and (not stops or stops[-1][0] != at):
        stops.append((at, h))
for (s, g), h in stops[:2]:
    print(f"break 1: coupling {sys.argv[2]} — {h['layer']} neuron {h['neuron']}, sample {s}, g {g}")
PY
check "find reports two coupling stops in $LAYER" test "$(wc -l <"$tmp/expected")" -eq 2
first=$(sed -n 1p "$tmp/expected"); second=$(sed -n 2p "$tmp/expected")

start --no-session "${OPTS[@]}" --break "coupling $LAYER" "$MODEL"
check "A: debugger up" wait_re "hotspots"
keys c
check "A: c stops at find's first stop ($first)" wait_for "$first"
keys c
check "A: c again stops at find's second stop ($second)" wait_for "$second"
keys C
check "A: C goes back to the first stop" wait_for "$first"
cmd breaks
check "A: :breaks lists the hit count" wait_re "1 +enabled +3 +coupling $LAYER"
keys q
check "A: q closes the list" wait_gone "Esc closes · c/C continue"
keys q
check "A: q exits 0" wait_dead
check "A: exit status 0" test "$(exit_status)" = 0

# B. A long search cancelled with Esc: a margin condition that never hits (the data-set report
# cannot answer margins, so every sample is simulated) over the samples tiled 40× (14 400).
PY=$(scripts/pyenv.sh) || { echo "breakpoints: no Python tooling venv (scripts/pyenv.sh failed)"; exit 1; }
"$PY" - "$MODEL" "$tmp" <<'PY'
import sys, numpy as np
model, out = sys.argv[1], sys.argv[2]
np.save(f"{out}/many.npy", np.tile(np.load(f"{model}/data.npy"), (40, 1, 1, 1)))
np.save(f"{out}/many-labels.npy", np.tile(np.load(f"{model}/labels.npy"), 40))
PY
start --no-session --data "$tmp/many.npy" --labels "$tmp/many-labels.npy" --break "margin $LAYER < -1e9" "$MODEL"
check "B: debugger up" wait_re "hotspots"
before=$(settled_screen | sed -n 1p)
keys c
check "B: progress shown" wait_re ":continue … [0-9]+% \(Esc cancels\)"
keys Escape
check "B: Esc cancels the search" wait_for "c: search cancelled; nothing moved"
check "B: the position did not move" test "$(settled_screen | sed -n 1p)" = "$before"
keys c
check "B: a second search runs" wait_re ":continue … [0-9]+%"
keys q
check "B: q during a search exits" wait_dead
check "B: exit status 0" test "$(exit_status)" = 0

# C. A bad --break never touches the terminal.
"$BIN" --no-session --break "spike $LAYER 99999999" "$MODEL" >"$tmp/out" 2>"$tmp/err" </dev/null
code=$?
check "C: bad --break exits 64" test "$code" -eq 64
check "C: the error names --break" grep -q -- --break "$tmp/err"
check "C: one line" test "$(wc -l <"$tmp/err")" -eq 1
finish
