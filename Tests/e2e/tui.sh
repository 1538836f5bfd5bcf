#!/usr/bin/env bash
# End-to-end test of the interactive debugger under tmux.
#
#   Tests/e2e/tui.sh [BINARY [MODEL_DIR]]
#   CSSDBG_BIN=.build/debug/cssdbg CSSDBG_MODEL=samples/digits-cnn Tests/e2e/tui.sh
#
# Starts the real binary in a detached 160x48 tmux session, polls the screen for expected
# text (never fixed sleeps), drives it with keys (step, select layer, Shift-Tab, filter and open
# a hotspot, help, command line, quit) and checks that the alternate screen is gone afterwards.
set -euo pipefail

BIN=${1:-${CSSDBG_BIN:-.build/debug/cssdbg}}
MODEL=${2:-${CSSDBG_MODEL:-samples/digits-cnn}}
EXTRA_ARGS=${CSSDBG_ARGS:-}
TIMEOUT=${CSSDBG_E2E_TIMEOUT:-60}      # seconds to wait for any one expectation
TERM_NAME=${CSSDBG_E2E_TERM:-xterm-256color}  # e.g. vt220: no kcbt, Shift-Tab decoded by cssdbg
SESSION="cssdbg-e2e-$$"
W=160 H=48

command -v tmux >/dev/null || { echo "SKIP: tmux not installed"; exit 77; }
[ -x "$BIN" ] || { echo "FAIL: binary '$BIN' not found or not executable"; exit 1; }
[ -e "$MODEL" ] || { echo "FAIL: model '$MODEL' not found"; exit 1; }
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")

LOG=$(mktemp -t cssdbg-e2e.XXXXXX)
cleanup() {
    tmux kill-session -t "$SESSION" 2>/dev/null || true
    rm -f "$LOG"
}
trap cleanup EXIT

screen() { tmux capture-pane -p -t "$SESSION" 2>/dev/null || true; }

fail() {
    echo "FAIL: $*"
    echo "----- screen -----"
    screen
    echo "------------------"
    exit 1
}

# wait_for TEXT [DESCRIPTION]: polls the pane until TEXT (fixed string) appears.
wait_for() {
    local text=$1 what=${2:-$1} deadline=$((SECONDS + TIMEOUT))
    while (( SECONDS < deadline )); do
        if screen | grep -qF -- "$text"; then return 0; fi
        if ! tmux has-session -t "$SESSION" 2>/dev/null; then fail "session ended while waiting for $what"; fi
        sleep 0.1
    done
    fail "timed out waiting for $what"
}

# wait_for_re REGEX [DESCRIPTION]
wait_for_re() {
    local re=$1 what=${2:-$1} deadline=$((SECONDS + TIMEOUT))
    while (( SECONDS < deadline )); do
        if screen | grep -qE -- "$re"; then return 0; fi
        if ! tmux has-session -t "$SESSION" 2>/dev/null; then fail "session ended while waiting for $what"; fi
        sleep 0.1
    done
    fail "timed out waiting for $what"
}

wait_gone() {
    local text=$1 deadline=$((SECONDS + TIMEOUT))
    while (( SECONDS < deadline )); do
        if ! screen | grep -qF -- "$text"; then return 0; fi
        sleep 0.1
    done
    fail "'$text' did not go away"
}

keys() { tmux send-keys -t "$SESSION" "$@"; }

# The pane stays open after the program exits (remain-on-exit) so we can inspect the
# terminal state and the exit status.
tmux new-session -d -s "$SESSION" -x "$W" -y "$H" \
    "exec env TERM=$TERM_NAME LANG=${LANG:-C.UTF-8} '$BIN' $EXTRA_ARGS '$MODEL' 2>'$LOG'"
tmux set-option -t "$SESSION" remain-on-exit on >/dev/null

echo "1. start-up screen"
wait_for "cssdbg" "status line"
wait_for "Layers" "layer list"
wait_for_re "g 0/[0-9]+" "step 0"
wait_for "encoder" "encoder row"
wait_for "output" "output row"

echo "2. step with n (and back with b)"
keys n
wait_for_re "g 1/[0-9]+" "step 1 after n"
keys n n
wait_for_re "g 3/[0-9]+" "step 3 after n n"
keys b
wait_for_re "g 2/[0-9]+" "step 2 after b"

echo "3. select the next layer with j"
first_layer=$(screen | grep -m1 -E '[▸>][^ ]' | sed -E 's/.*[▸>]([^ ]+).*/\1/' || true)
[ -n "$first_layer" ] || fail "no selected layer in the layer list"
keys j
deadline=$((SECONDS + TIMEOUT)); second_layer=$first_layer
while (( SECONDS < deadline )) && [ "$second_layer" = "$first_layer" ]; do
    second_layer=$(screen | grep -m1 -oE 'Membrane o/v · [^ ]+' | sed 's/Membrane o\/v · //' || true)
    sleep 0.1
done
[ -n "$second_layer" ] && [ "$second_layer" != "$first_layer" ] || fail "j did not change the layer ($first_layer)"
echo "   $first_layer -> $second_layer"

echo "4. wait for the data-set report, filter the hotspots and open the first one"
wait_for "Coupling map" "coupling pane"
wait_for_re "hotspots: worst [0-9]+ of" "hotspot list (report finished)"
hotspots=$(screen | grep -oE 'hotspots: worst [0-9]+' | head -1 | awk '{print $3}')
# Shift-Tab (ESC [ Z) cycles backwards: layers → coupling; the focused pane's title is marked.
keys BTab
wait_for "▶ Coupling map" "focus on the coupling pane after Shift-Tab"
if [ "${hotspots:-0}" -gt 0 ]; then
    keys c
    wait_for_re "hotspots coupling: worst [0-9]+ of" "coupling-only hotspot list"
    keys o
    wait_for_re "hotspots overflow: worst [0-9]+ of" "overflow-only hotspot list"
    keys a
    wait_for "hotspots: worst $hotspots of" "unfiltered hotspot list"
    line=$(screen | grep -m1 -E '[▸>](ovf|cpl) ')
    sample=$(echo "$line" | grep -oE ' s [0-9]+' | awk '{print $2}')
    neuron=$(echo "$line" | grep -oE ' n [0-9]+' | awk '{print $2}')
    keys Enter
    wait_for "hotspot 1:" "hotspot jump message"
    wait_for_re "sample $sample(/| )" "sample $sample after the jump"
    wait_for "Neuron $neuron" "inspector on neuron $neuron"
    echo "   jumped to sample $sample neuron $neuron"
else
    echo "   (no hotspots in this model; filter and jump skipped)"
fi
keys BTab
wait_for "▶ Residual u[T]" "focus on the histogram after Shift-Tab"
keys Tab Tab
wait_for "▶ Layers" "focus back on the layer list after Tab Tab"

echo "5. help overlay"
keys '?'
wait_for "Help" "help overlay"
wait_for ":sample N" "command list in help"
keys Escape
wait_gone "Help — keys and commands"

echo "6. command line"
keys : 's' 't' 'e' 'p' ' ' '4' Enter
wait_for_re "g 4/[0-9]+" "step 4 after :step 4"
keys : 'h' 'o' 't' 's' 'p' 'o' 't' 's' ' ' 'c' Enter
wait_for_re "hotspots coupling" "coupling filter after :hotspots c"
keys : 'n' 'o' 'p' 'e' Enter
wait_for "unknown command :nope" "error line for an unknown command"

echo "7. quit"
keys q
deadline=$((SECONDS + TIMEOUT))
while (( SECONDS < deadline )); do
    dead=$(tmux display-message -p -t "$SESSION" '#{pane_dead}' 2>/dev/null || echo 1)
    [ "$dead" = "1" ] && break
    sleep 0.1
done
[ "$dead" = "1" ] || fail "cssdbg did not exit after q"
status=$(tmux display-message -p -t "$SESSION" '#{pane_dead_status}')
alt=$(tmux display-message -p -t "$SESSION" '#{alternate_on}')
[ "$alt" = "0" ] || fail "terminal still on the alternate screen after quitting"
[ "${status:-0}" = "0" ] || { cat "$LOG"; fail "cssdbg exited with status $status"; }

echo "8. SIGTERM restores the terminal too"
tmux respawn-pane -k -t "$SESSION" \
    "exec env TERM=$TERM_NAME LANG=${LANG:-C.UTF-8} '$BIN' $EXTRA_ARGS '$MODEL' 2>'$LOG'"
wait_for "Layers" "layer list after restart"
pid=$(tmux display-message -p -t "$SESSION" '#{pane_pid}')
kill -TERM "$pid"
deadline=$((SECONDS + TIMEOUT))
while (( SECONDS < deadline )); do
    dead=$(tmux display-message -p -t "$SESSION" '#{pane_dead}' 2>/dev/null || echo 1)
    [ "$dead" = "1" ] && break
    sleep 0.1
done
[ "$dead" = "1" ] || fail "cssdbg did not exit on SIGTERM"
alt=$(tmux display-message -p -t "$SESSION" '#{alternate_on}')
[ "$alt" = "0" ] || fail "terminal still on the alternate screen after SIGTERM"

echo "PASS: tui e2e"
