#!/usr/bin/env bash
# End-to-end test of the interactive debugger under tmux.
#
#   Tests/e2e/tui.sh [BINARY [MODEL_DIR]]
#   CSSDBG=.build/debug/cssdbg CSSDBG_MODEL=samples/digits-cnn Tests/e2e/tui.sh
#
# Starts the real binary at 160×48 (Tests/e2e/lib.sh), waits for states on the screen (never
# fixed sleeps), drives it with keys (step, select layer, Shift-Tab, filter and open a hotspot,
# help, command line, quit) and checks that the alternate screen is gone afterwards, after q and
# after SIGTERM. CSSDBG_ARGS adds options; CSSDBG_E2E_TERM sets TERM (default xterm-256color;
# e.g. vt220 has no kcbt, so cssdbg decodes Shift-Tab itself).
set -uo pipefail
CSSDBG=${CSSDBG:-${CSSDBG_BIN:-}}
MODEL=${2:-${CSSDBG_MODEL:-samples/digits-cnn}}
[ -e "$MODEL" ] && MODEL=$(cd "$(dirname "$MODEL")" && pwd)/$(basename "$MODEL")
. "$(dirname "$0")/lib.sh"
e2e_init tui
[ -e "$MODEL" ] || { echo "tui: model '$MODEL' not found"; exit 1; }
read -r -a EXTRA_ARGS <<<"${CSSDBG_ARGS:-}"
E2E_TERM=${CSSDBG_E2E_TERM:-xterm-256color}

run() { start ${EXTRA_ARGS[@]+"${EXTRA_ARGS[@]}"} "$MODEL"; }

# The layer the membrane pane shows (its title), from a settled screen.
membrane_layer() { settled_screen | grep -m1 -oE 'Membrane o/v · [^ ]+' | sed 's/Membrane o\/v · //'; }
membrane_moved_from() { local now; now=$(membrane_layer); [ -n "$now" ] && [ "$now" != "$1" ]; }

echo "1. start-up screen"
run
check "1: status line" wait_for "cssdbg"
check "1: layer list" wait_for "Layers"
check "1: step 0" wait_re "g 0/[0-9]+"
check "1: encoder row" wait_for "encoder"
check "1: output row" wait_for "output"

echo "2. step with n (and back with b)"
keys n
check "2: step 1 after n" wait_re "g 1/[0-9]+"
keys n n
check "2: step 3 after n n" wait_re "g 3/[0-9]+"
keys b
check "2: step 2 after b" wait_re "g 2/[0-9]+"

echo "3. select the next layer with j"
wait_re 'Membrane o/v · [^ ]+'
first_layer=$(settled_screen | grep -m1 -E '[▸>][^ ]' | sed -E 's/.*[▸>]([^ ]+).*/\1/')
if [ -n "$first_layer" ]; then ok "3: a selected layer in the layer list ($first_layer)"; else bad "3: no selected layer in the layer list"; fi
keys j
if wait_until membrane_moved_from "$first_layer"; then ok "3: j changed the layer ($first_layer -> $(membrane_layer))"
else bad "3: j did not change the layer ($first_layer)"; fi

echo "4. wait for the data-set report, filter the hotspots and open the first one"
check "4: coupling pane" wait_for "Coupling map"
check "4: hotspot list (report finished)" wait_re "hotspots: worst [0-9]+ of"
hotspots=$(settled_screen | grep -oE 'hotspots: worst [0-9]+' | head -1 | awk '{print $3}')
# Shift-Tab (ESC [ Z) cycles backwards: layers → coupling; the focused pane's title is marked.
keys BTab
check "4: focus on the coupling pane after Shift-Tab" wait_for "▶ Coupling map"
if [ "${hotspots:-0}" -gt 0 ]; then
    keys c
    check "4: coupling-only hotspot list" wait_re "hotspots coupling: worst [0-9]+ of"
    keys o
    check "4: overflow-only hotspot list" wait_re "hotspots overflow: worst [0-9]+ of"
    keys a
    check "4: unfiltered hotspot list" wait_for "hotspots: worst $hotspots of"
    line=$(settled_screen | grep -m1 -E '[▸>](ovf|cpl) ')
    sample=$(echo "$line" | grep -oE ' s [0-9]+' | awk '{print $2}')
    neuron=$(echo "$line" | grep -oE ' n [0-9]+' | awk '{print $2}')
    if [ -n "$sample" ] && [ -n "$neuron" ]; then ok "4: the selected hotspot names sample $sample, neuron $neuron"
    else bad "4: no selected hotspot line ('$line')"; fi
    keys Enter
    check "4: hotspot jump message" wait_for "hotspot 1:"
    check "4: sample $sample after the jump" wait_re "sample $sample(/| )"
    check "4: inspector on neuron $neuron" wait_for "Neuron $neuron "
else
    echo "   (no hotspots in this model; filter and jump skipped)"
fi
keys BTab
check "4: focus on the histogram after Shift-Tab" wait_for "▶ Residual u[T]"
keys Tab Tab
check "4: focus back on the layer list after Tab Tab" wait_for "▶ Layers"

echo "5. help overlay"
keys '?'
check "5: help overlay" wait_for "Help"
check "5: command list in help" wait_for ":sample N"
keys Escape
check "5: Esc closes the help" wait_gone "Help — keys and commands"

echo "6. command line"
cmd "step 4"
check "6: step 4 after :step 4" wait_re "g 4/[0-9]+"
cmd "hotspots c"
check "6: coupling filter after :hotspots c" wait_re "hotspots coupling"
cmd "nope"
check "6: error line for an unknown command" wait_for "unknown command :nope"

echo "7. quit"
keys q
check "7: cssdbg exits after q" wait_dead
check "7: terminal off the alternate screen after quitting" restored
status=$(exit_status)
if [ "$status" = 0 ]; then ok "7: exit status 0"; else bad "7: cssdbg exited with status '$status'"; fi

echo "8. SIGTERM restores the terminal too"
run
check "8: layer list after restart" wait_for "Layers"
kill -TERM "$(pane_pid)"
check "8: cssdbg exits on SIGTERM" wait_dead
check "8: terminal off the alternate screen after SIGTERM" restored

finish
