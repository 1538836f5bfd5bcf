#!/usr/bin/env bash
# End-to-end test of the watch pane on the real binary under tmux (Tests/e2e/lib.sh):
#   A. :watch a neuron; n steps and the watched values change with g; a bad :watch is one line
#   B. the watch is saved in the session file and comes back when the session is restored
# Every step waits for a state on the screen (no sleeps).
set -uo pipefail
. "$(dirname "$0")/lib.sh"
e2e_init watch

watch_row() { settled_screen | grep -E '^│1  relu1' | head -1; }   # the first watch's row
title_g() { settled_screen | grep -oE 'Watch 1/16 · g [0-9]+' | head -1; }
row_changed() { [ "$(watch_row)" != "$1" ]; }

m="$E2E_TMP/m"
cp -r samples/digits-mlp "$m"
rm -f "$m/.cssdbg-session.json"

# A. watch and step
start "$m"
check "A: debugger up" wait_for "hotspots"
cmd "watch relu1 3"
check "A: the watch pane shows the neuron" wait_re 'Watch 1/16 · g 0'
row0=$(watch_row)
check "A: its row at g 0" test -n "$row0"
keys n n n
check "A: n n n moves the watch pane to g 3" wait_re 'Watch 1/16 · g 3'
row3=$(watch_row)
check "A: the watched values changed with g" test "$row0" != "$row3"
keys G
check "A: G: the end of the window" wait_until row_changed "$row3"
check "A: the row reads 'end' in the k column at the end" bash -c "grep -qE '^│1  relu1 +3 +end' <<<'$(watch_row)'"
cmd "watch relu1 99999"
check "A: a neuron out of range is a one-line error" wait_re ':watch: neuron 99999 out of range 0 to [0-9]+ in relu1'
cmd "unwatch 5"
check "A: :unwatch of a missing watch is an error" wait_for ":unwatch: watch 5 out of range 1 to 1"

# B. saved in the session, restored with it at start (the start offers a session whose θ differs)
check "B: the session file holds the watch" wait_until grep -q '"watches"' "$m/.cssdbg-session.json"
cmd "theta relu1 0.02"
check "B: a θ change" wait_for "θ relu1 = 0.02"
keys q
check "B: q exits and restores the terminal" all wait_dead restored
start "$m"
check "B: the restore offer" wait_re 'restore|Restore'
keys y
check "B: the watch is back after restoring" wait_re 'Watch 1/16'
keys q
check "B: q exits" all wait_dead restored
finish
