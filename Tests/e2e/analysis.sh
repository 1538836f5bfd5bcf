#!/usr/bin/env bash
# End-to-end test of :attribution, :doctor and :anytime on the real binary under tmux
# (Tests/e2e/lib.sh): an attribution runs with progress and Esc cancels it; a second one shows the
# layers, Enter jumps to the selected layer's worst hotspot; :doctor runs, Esc cancels it, a
# second run proposes the lowest-latency lossless conversion, Enter adopts it as one change and
# u undoes it; :anytime charts the report. Every step waits for the screen.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
e2e_init analysis

start samples/digits-resnet --silent 0 --no-negative --no-session
check "debugger up at T 10 L 0 without negative spikes" wait_re 'T 10 β 1.50 L 0 neg off'
check "the data-set report is in" wait_re 'SNN 20\.0%'
cmd "attribution"
check "the attribution runs with progress" wait_re ':attribution … [0-9]+% \(Esc cancels\)'
keys Escape
check "Esc cancels it and says so" wait_for ':attribution cancelled; θ and config unchanged'
cmd "attribution"
check "the attribution view opens" wait_re 'Attribution — which layer costs the accuracy · 360 samples'
check "stem.2 is the culprit of 107 samples" wait_re 'stem\.2 +5919 +50\.0 +\+30\.0 +49\.7 +\+29\.7 +107'
check "the message names the costliest layer" wait_for 'attribution: stem.2 loses the most (29.7 points; culprit of 107 samples)'
keys Down Enter
check "Enter jumps to block1.relu1's worst hotspot" wait_re 'hotspot 1: (overflow|coupling) in block1\.relu1'
cmd "anytime"
check ":anytime charts accuracy against the global step" wait_re 'Anytime accuracy against the global step · 360 samples'
check "the final accuracy and where the curve gets there" wait_re 'final 20\.00 % at g 9'
keys Escape
keys q
check "q exits and restores the terminal" all wait_dead restored

start samples/digits-cnn --no-session
check "debugger up at T 10 L 1" wait_re 'T 10 β 1.50 L 1 neg on'
check "the data-set report is in" wait_re 'SNN 98\.9%'
cmd "doctor"
check "the doctor runs with progress" wait_re ':doctor … [0-9]+% \(Esc cancels\)'
keys Escape
check "Esc cancels it and says so" wait_for ':doctor cancelled; θ and config unchanged'
check "the config is as it was" shows_re 'T 10 β 1.50 L 1 neg on'
cmd "doctor"
check "the doctor view opens" wait_re 'Doctor — 360 samples · [0-9]+ configurations evaluated'
check "the recommendation is latency 4: T 4, L 0, negative on, 3 A.3 rounds" wait_re 'recommended +4 +4 +1\.50 +0 +on +3 +98\.89%'
check "the message says so" wait_for 'doctor: lossless at latency 4 (T 4, L 0, negative on, 3 A.3 rounds)'
keys Enter
check "Enter adopts it: T 4 L 0" wait_re 'T 4 β 1.50 L 0 neg on'
check "as one change" wait_re 'tuning: 1 change'
keys u
check "u undoes it in one step" wait_re 'T 10 β 1.50 L 1 neg on'
keys q
check "q exits and restores the terminal" all wait_dead restored
finish
