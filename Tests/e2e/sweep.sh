#!/usr/bin/env bash
# End-to-end test of :sweep on the real binary under tmux (Tests/e2e/lib.sh): the sweep runs,
# the pane shows the table, Enter reconverts to the selected point (the status bar shows its T
# and L), u goes back in one step; a bad option is one line. Every step waits for the screen.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
e2e_init sweep

start samples/digits-mlp --no-session
check "debugger up at T 10 L 1" wait_re 'T 10 β 1.50 L 1 neg on'
cmd "sweep -T 4,8 --silent 0,1 --negative on"
check "the sweep pane opens" wait_re 'Sweep — SNN accuracy against latency · 4 points'
check "the table has the T 4 L 0 row" wait_re '● +4 +1\.50 +0 +on +4 +96'
check "the table has the T 8 L 1 row" wait_re '▲ +8 +1\.50 +1 +on +11 +96'
keys j j
keys Enter
check "Enter reconverts: the status bar shows T 8 L 0" wait_re 'T 8 β 1.50 L 0 neg on'
check "one change in the history" wait_re 'tuning: 1 change'
keys u
check "u: back to T 10 L 1 in one step" wait_re 'T 10 β 1.50 L 1 neg on'
check "u: nothing left to undo" wait_re 'tuning: 0 changes, 1 undone'
cmd "sweep -T x"
check "a bad option is one line" wait_for ":sweep: -T x: 'x' is not a whole number"
cmd "sweep"
check ":sweep reopens the last result" wait_re 'Sweep — SNN accuracy against latency · 4 points'
keys Escape
keys q
check "q exits and restores the terminal" all wait_dead restored
finish
