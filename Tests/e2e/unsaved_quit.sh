#!/usr/bin/env bash
# Issue 14 "work that is kept" on the real binary under tmux: with --no-session, q with θ changes
# that no :w wrote asks first; n stays, :w writes them and then q quits; :q! never asks.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
e2e_init unsaved_quit

start samples/digits-mlp --no-session --limit 64
check "starts" wait_for "hotspots"
keys q
check "q without changes quits at once" wait_dead

start samples/digits-mlp --no-session --limit 64
check "starts again" wait_for "hotspots"
cmd "scale 0 1.2"
check "a change" wait_for "tuning: 1 change"
keys q
check "q with an unsaved change asks" wait_for "Quit without saving?"
keys n
check "n closes the question" wait_gone "Quit without saving?"
check "and the debugger stays" pane_alive
cmd "w $E2E_TMP/theta.json"
check ":w writes θ" wait_for "wrote θ to"
[ -s "$E2E_TMP/theta.json" ] && ok "the θ file exists" || bad "no θ file"
keys q
check "after :w, q quits" wait_dead

start samples/digits-mlp --no-session --limit 64
check "starts a third time" wait_for "hotspots"
cmd "scale 0 1.2"
check "another change" wait_for "tuning: 1 change"
cmd "q!"
check ":q! quits without asking" all wait_dead restored

finish
