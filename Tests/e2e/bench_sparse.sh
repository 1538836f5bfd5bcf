#!/usr/bin/env bash
# The event-driven convolution's bench flags, end to end: off by default, --sparse-density reaches
# the JSON and the profile, a bad density is a one-line error with a non-zero exit.
. "$(dirname "$0")/lib.sh"
e2e_init bench_sparse "$@"

start bench --batch 1 -T 2 --iters 1 --profile
check "default: bench exits" wait_dead
check "default: exit status 0" test "$(exit_status)" = 0
# conv3's row ends with its input density and no event share: the event path is off by default.
check "default: no event-driven columns" wait_re 'conv3 .*[0-9] +[0-9.]+% *$'

start bench --batch 1 -T 2 --iters 1 --profile --sparse-density 1.01
check "--sparse-density 1.01: bench exits" wait_dead
check "--sparse-density 1.01: exit status 0" test "$(exit_status)" = 0
check "profile shows the event column" wait_re 'SNN in nz +event'
# Every column of conv3 (64 channels of spikes) is forced onto the event path.
check "forced density sends all of conv3's columns to the event path" wait_re 'conv3 .*% +100% *$'

start bench --sparse-density 5
check "bad --sparse-density: exits" wait_dead
check "bad --sparse-density: non-zero status" test "$(exit_status)" != 0
check "bad --sparse-density: one-line error naming the flag" \
    test "$(stderr_text)" = "cssdbg: --sparse-density must be between 0 and 1.01, not 5.0"

finish
